//! Quickstart: the Python snippet in the README, line for line.
//!
//! ```text
//! cargo run --example quickstart
//! ```
//!
//! With `OPENAI_API_KEY` set it calls OpenAI; without it, it replays a recorded real OpenAI
//! exchange from `examples/data/quickstart.json` over a loopback server. Spans go to the console
//! as a tree, or over OTLP when `OTEL_EXPORTER_OTLP_ENDPOINT` is set.

use mirascope::{llm, ops};

#[ops::trace]
#[llm::call("openai/gpt-4o-mini")]
fn recommend_book(genre: &str) -> String {
    format!("Recommend a {genre} book.")
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let _replay = offline::replay_unless_keyed()?;

    let mut guard = ops::configure_from_env()?; // console tree, or OTLP if OTEL_EXPORTER_OTLP_ENDPOINT is set
    ops::instrument_llm()?;

    let response = recommend_book("romance").await?;
    println!("{}", response.text());

    guard.shutdown()?; // the console exporter prints the trace; OTLP sends what is pending
    Ok(())
}

/// Without `OPENAI_API_KEY`, answers from a recorded exchange on a loopback server.
mod offline {
    use mirascope::llm::{
        self,
        replay::{Exchange, Matching, ReplayServer},
    };

    pub fn replay_unless_keyed() -> Result<Option<ReplayServer>, Box<dyn std::error::Error>> {
        if std::env::var("OPENAI_API_KEY").is_ok_and(|k| !k.is_empty()) {
            return Ok(None);
        }
        println!("OPENAI_API_KEY is not set: replaying a recorded OpenAI exchange (examples/data/quickstart.json).");
        let data: serde_json::Value = serde_json::from_str(include_str!("data/quickstart.json"))?;
        let exchanges: Vec<Exchange> = serde_json::from_value(data["exchanges"].clone())?;
        let server = ReplayServer::start(exchanges, Matching::ByRequest)?;
        llm::Provider::new("openai")
            .api_key("offline-replay")
            .base_url(format!("{}/v1", server.base_url()))
            .register()?;
        Ok(Some(server))
    }
}
