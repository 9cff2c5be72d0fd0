//! Quickstart: one instrumented model call, printed as a span tree.
//!
//! ```text
//! cargo run --example quickstart
//! ```
//!
//! With `OPENAI_API_KEY` set it calls OpenAI; without it, it replays a recorded real OpenAI
//! exchange from `examples/data/quickstart.json` over a loopback server. Spans go to the console
//! as a tree, or over OTLP when `OTEL_EXPORTER_OTLP_ENDPOINT` is set.

use mirascope::llm::replay::{Exchange, Matching, ReplayServer};
use std::future::IntoFuture;

use mirascope::{llm, ops};

fn offline_replay() -> Result<ReplayServer, Box<dyn std::error::Error>> {
    let data: serde_json::Value = serde_json::from_str(include_str!("data/quickstart.json"))?;
    let exchanges: Vec<Exchange> = serde_json::from_value(data["exchanges"].clone())?;
    let server = ReplayServer::start(exchanges, Matching::ByRequest)?;
    llm::Provider::new("openai")
        .api_key("offline-replay")
        .base_url(format!("{}/v1", server.base_url()))
        .register()?;
    Ok(server)
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let _replay = if std::env::var("OPENAI_API_KEY").is_ok_and(|k| !k.is_empty()) {
        None
    } else {
        println!("OPENAI_API_KEY is not set: replaying a recorded OpenAI exchange (examples/data/quickstart.json).");
        Some(offline_replay()?)
    };

    // Console span tree by default; OTLP when OTEL_EXPORTER_OTLP_ENDPOINT is set.
    let mut guard = ops::configure_from_env()?;
    ops::instrument_llm()?;

    // One explicit span around the work, so the trace prints (or exports) as one tree.
    let span = ops::span("quickstart");
    let model = llm::model("openai/gpt-4o-mini")?;
    let call = model.call(vec![
        llm::Message::system("You are a concise assistant."),
        llm::Message::user("Say hello to the user named Kai."),
    ]);
    let response = span.instrument(call.into_future()).await?;
    println!("{}", response.text());
    drop(span);

    // Flush: the console exporter has printed the trace; OTLP sends pending spans.
    guard.shutdown()?;
    Ok(())
}
