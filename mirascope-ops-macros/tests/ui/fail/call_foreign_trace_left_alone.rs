// Another crate's `trace` attribute is not taken for `#[ops::trace]`: `#[llm::call]` leaves it
// in place for the compiler to resolve (here it does not exist, so the error is about it, not
// about anything of ours).
use mirascope::llm;

mod fastrace_like {}

#[llm::call("openai/gpt-4o-mini")]
#[fastrace_like::trace]
fn recommend(genre: &str) -> String {
    format!("Recommend a {genre} book")
}

fn main() {
    let _ = recommend("fantasy");
}
