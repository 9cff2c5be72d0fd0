use mirascope::ops;

trait Greeter {
    fn greet(&self, name: &str) -> String;
    async fn greet_async(&self, name: &str) -> String;
}

struct English;

impl Greeter for English {
    #[ops::trace]
    fn greet(&self, name: &str) -> String {
        format!("Hello, {name}")
    }

    #[ops::trace]
    async fn greet_async(&self, name: &str) -> String {
        format!("Hi, {name}")
    }
}

fn main() {
    assert_eq!(English.greet("Kai"), "Hello, Kai");
}
