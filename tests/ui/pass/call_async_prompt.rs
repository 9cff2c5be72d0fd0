use mirascope::llm;

#[llm::call("openai/gpt-4o-mini")]
async fn summarize(text: String) -> String {
    format!("Summarize: {text}")
}

fn main() {
    let rt = tokio::runtime::Builder::new_current_thread().build().unwrap();
    let call = rt.block_on(summarize("a long text".into()));
    assert_eq!(call.prompt().messages().len(), 1);
}
