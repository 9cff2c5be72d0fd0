use mirascope::llm;

#[llm::call("openai/gpt-4o-mini", temprature = 0.5)]
fn f() -> String {
    "hi".into()
}

fn main() {}
