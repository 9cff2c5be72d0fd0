// `#[llm::call]` written above `#[ops::trace]` (and `#[ops::version]`) takes them over; the
// `ops` import they were reached by is still used, so no false `unused import` warning.

use mirascope::{llm, ops};

#[llm::call("openai/gpt-4o-mini")]
#[ops::trace]
#[ops::version]
fn reversed(genre: &str) -> String {
    format!("Recommend a {genre} book")
}

fn main() {
    let _: llm::LazyCall = reversed("romance");
}
