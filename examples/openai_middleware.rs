//! The Chat Completions calls your own code makes (feature `reqwest-middleware`): add
//! `ops::ReqwestMiddleware` to your `reqwest-middleware` client and turn on
//! `ops::instrument_openai()`; each call is a `chat {model}` span with the attributes, events and
//! client metrics Python's `ops.instrument_openai()` records. Offline, through a replay server.
//! `cargo run --example openai_middleware --features reqwest-middleware`

#[path = "support/offline.rs"]
mod offline;

use mirascope::ops;
use serde_json::json;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    // A stand-in for https://api.openai.com: one recorded answer.
    let server = offline::chat_completion_server();

    let mut guard = ops::configure_from_env()?;
    // The one line: content capture follows OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT
    // (off unless `true`); `instrument_openai_with(ContentCapture::Enabled)` turns it on.
    ops::instrument_openai();

    // Your client, with the middleware first in its chain.
    let client = reqwest_middleware::ClientBuilder::new(reqwest::Client::new())
        .with(ops::ReqwestMiddleware)
        .build();
    let sent = client
        .post(format!("{}/v1/chat/completions", server.base_url()))
        .bearer_auth("sk-example")
        .header("content-type", "application/json")
        .body(
            json!({
                "model": "gpt-4o-mini",
                "messages": [{"role": "user", "content": "What is 4200 + 42?"}]
            })
            .to_string(),
        )
        .send()
        .await?;
    let reply: serde_json::Value = serde_json::from_slice(&sent.bytes().await?)?;
    println!("{}", reply["choices"][0]["message"]["content"]);

    ops::uninstrument_openai();
    guard.shutdown()?;
    Ok(())
}
