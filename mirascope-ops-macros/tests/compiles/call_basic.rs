use mirascope::llm;

#[llm::call("openai/gpt-4o-mini", temperature = 0.7, max_tokens = 64, top_p = 0.9, seed = 1, stop_sequences = ["END"], frequency_penalty = 0.1, n = 1)]
fn recommend_book(genre: &str) -> String {
    format!("Recommend a {genre} book")
}

#[llm::call("anthropic/claude-haiku-4-5")]
fn literal() -> &'static str {
    "Say hi"
}

#[llm::call("google/gemini-2.5-flash")]
fn conversation(topic: String) -> Vec<llm::Message> {
    vec![llm::Message::system("Be brief."), llm::Message::user(format!("Tell me about {topic}"))]
}

fn main() {
    let call: llm::LazyCall = recommend_book("fantasy");
    assert_eq!(call.model().id(), "openai/gpt-4o-mini");
    assert_eq!(call.model().params().get_f64("temperature"), Some(0.7));
    let _ = literal().with_model(llm::model("openai/gpt-4o").unwrap());
    assert_eq!(conversation("rust".into()).prompt().unwrap().messages().len(), 2);
}
