//! The Chat Completions calls your own code makes (feature `reqwest-middleware`): add
//! `ops::ReqwestMiddleware` to your `reqwest-middleware` client and turn on
//! `ops::instrument_openai()`; each call is a `chat {model}` span with the attributes, events and
//! client metrics Python's `ops.instrument_openai()` records. Offline, through a replay server.
//! `cargo run --example openai_middleware --features reqwest-middleware`

use mirascope::llm::replay::{Exchange, Matching, RecordedRequest, RecordedResponse, ReplayServer};
use mirascope::ops;
use serde_json::json;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    // A stand-in for https://api.openai.com: one recorded answer.
    let answer = json!({
        "id": "chatcmpl-example", "object": "chat.completion", "model": "gpt-4o-mini-2024-07-18",
        "choices": [{"index": 0, "message": {"role": "assistant", "content": "4242."},
                     "finish_reason": "stop"}],
        "usage": {"prompt_tokens": 14, "completion_tokens": 3, "total_tokens": 17}
    });
    let server = ReplayServer::start(
        vec![Exchange {
            request: RecordedRequest {
                method: "POST".into(),
                path: "/v1/chat/completions".into(),
                json: None,
            },
            response: RecordedResponse {
                status: 200,
                headers: [("content-type".to_string(), json!("application/json"))]
                    .into_iter()
                    .collect(),
                json: Some(answer),
                sse: None,
                delay_ms: None,
            },
        }],
        Matching::Sequential,
    )?;

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
