use mirascope::llm;

/// Get the current weather in a location.
#[llm::tool]
fn get_weather(location: String, unit: Option<String>) -> String {
    format!("72°{} in {location}", unit.unwrap_or_else(|| "F".into()))
}

#[derive(Debug, serde::Deserialize, schemars::JsonSchema)]
/// A book.
struct Book {
    title: String,
    author: String,
}

#[llm::call("openai/gpt-4o-mini", tools = [get_weather], format = Book)]
fn plan(city: &str) -> String {
    format!("What should I read in {city}, given the weather?")
}

fn main() {
    let _ = plan("Paris");
    let tool = llm::Tool::of::<get_weather>();
    assert_eq!(tool.schema().name, "get_weather");
    assert_eq!(tool.schema().description, "Get the current weather in a location.");
    assert_eq!(get_weather("Paris".into(), None), "72°F in Paris");
}
