use mirascope::{llm, ops};

#[ops::trace(tags = ["books"], metadata = {"team": "reco"})]
#[llm::call("openai/gpt-4o-mini", temperature = 0.7)]
fn recommend(genre: &str) -> String {
    format!("Recommend a {genre} book")
}

#[llm::call("openai/gpt-4o-mini")]
#[ops::trace]
fn reversed(genre: &str) -> String {
    format!("Recommend a {genre} book")
}

fn main() {
    let _: llm::LazyCall = recommend("fantasy");
    let _: llm::LazyCall = reversed("romance").with_model(llm::model("openai/gpt-4o").unwrap());
}
