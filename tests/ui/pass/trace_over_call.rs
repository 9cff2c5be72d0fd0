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
    let _: ops::TracedCall = recommend("fantasy");
    let _: ops::TracedCall = reversed("romance").with_model(llm::model("openai/gpt-4o").unwrap());
}
