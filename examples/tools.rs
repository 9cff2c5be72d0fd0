//! Tools: `#[llm::tool]` functions offered to the model, executed (each an `execute_tool` span),
//! and the results sent back with `resume`. `cargo run --example tools`

#[path = "support/offline.rs"]
mod offline;

use mirascope::llm::replay::Matching;
use mirascope::{llm, ops};

/// Get the current weather for a location.
#[llm::tool]
fn get_weather(location: String) -> String {
    format!("Weather in {location}: 72°F, sunny")
}

#[llm::call("openai/gpt-4o-mini", tools = [get_weather])]
fn weather(city: &str) -> String {
    format!("What's the weather in {city}?")
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let _replay = offline::openai(include_str!("data/tools.json"), Matching::Sequential);
    let mut guard = ops::configure_from_env()?;
    ops::instrument_llm()?;
    let response = weather("Tokyo").await?;
    for call in response.tool_calls() {
        println!("tool call {}: {}({})", call.id, call.name, call.args);
    }
    let outputs = response.execute_tools().await?;
    let answer = response.resume(outputs).await?;
    println!("{}", answer.text());
    guard.shutdown()?;
    Ok(())
}
