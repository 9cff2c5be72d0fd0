use mirascope::llm;

#[llm::call(temperature = 0.5)]
fn f() -> String {
    "hi".into()
}

fn main() {}
