use mirascope::llm;

#[llm::call("openai/gpt-4o-mini", max_tokens = "many")]
fn f() -> String {
    "hi".into()
}

fn main() {}
