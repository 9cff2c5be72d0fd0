// Mirascope's `WebSearchTool` in a tool list, beside an `#[llm::tool]` function.
use mirascope::llm;

/// Get the current weather in a location.
#[llm::tool]
fn get_weather(location: String) -> String {
    format!("72°F in {location}")
}

#[llm::call("openai/gpt-4o-mini", tools = [llm::WebSearchTool, get_weather])]
fn search(question: &str) -> String {
    question.to_string()
}

fn main() {
    let _ = search("Who won the 2024 Super Bowl?");
    let tool = llm::Tool::of::<llm::WebSearchTool>();
    assert_eq!(tool.provider_tool(), Some(llm::ProviderTool::WebSearch));
}
