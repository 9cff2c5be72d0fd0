use mirascope::llm;

struct S;

impl S {
    #[llm::call("openai/gpt-4o-mini")]
    fn f(&self) -> String {
        "hi".into()
    }
}

fn main() {}
