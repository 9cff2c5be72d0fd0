use mirascope::llm;

#[llm::call("gpt-4o-mini")]
fn f() -> String {
    "hi".into()
}

fn main() {}
