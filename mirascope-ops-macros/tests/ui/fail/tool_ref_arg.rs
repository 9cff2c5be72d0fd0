use mirascope::llm;

/// Echo.
#[llm::tool]
fn echo(text: &str) -> String {
    text.to_string()
}

fn main() {}
