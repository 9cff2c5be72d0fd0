//! Shared by the examples: with `OPENAI_API_KEY` set they call OpenAI; without it they replay
//! recorded real OpenAI exchanges from `examples/data/` over a loopback server.

use mirascope::llm;
use mirascope::llm::replay::{Exchange, Matching, ReplayServer};

/// Starts the replay unless a real key is set. Keep the returned server alive.
#[allow(dead_code)]
pub fn openai(data: &str, matching: Matching) -> Option<ReplayServer> {
    if std::env::var("OPENAI_API_KEY").is_ok_and(|k| !k.is_empty()) {
        return None;
    }
    let file: serde_json::Value = serde_json::from_str(data).expect("examples/data is JSON");
    let exchanges: Vec<Exchange> =
        serde_json::from_value(file["exchanges"].clone()).expect("exchanges");
    let server = ReplayServer::start(exchanges, matching).expect("replay server");
    llm::Provider::new("openai")
        .api_key("offline-replay")
        .base_url(format!("{}/v1", server.base_url()))
        .register()
        .expect("register");
    println!("(offline: replaying recorded OpenAI exchanges; set OPENAI_API_KEY to call OpenAI)");
    Some(server)
}

/// The recorded OpenAI exchanges most examples use.
#[allow(dead_code)]
pub const OPENAI: &str = include_str!("../data/openai.json");

/// A stand-in for https://api.openai.com that answers one Chat Completions request with a
/// recorded completion ("4242."), for the examples that bring their own HTTP client. Keep the
/// returned server alive.
#[allow(dead_code)]
pub fn chat_completion_server() -> ReplayServer {
    use mirascope::llm::replay::{RecordedRequest, RecordedResponse};
    let answer = serde_json::json!({
        "id": "chatcmpl-example", "object": "chat.completion", "created": 1764696000,
        "model": "gpt-4o-mini-2024-07-18",
        "choices": [{"index": 0, "message": {"role": "assistant", "content": "4242."},
                     "finish_reason": "stop"}],
        "usage": {"prompt_tokens": 14, "completion_tokens": 3, "total_tokens": 17}
    });
    ReplayServer::start(
        vec![Exchange {
            request: RecordedRequest {
                method: "POST".into(),
                path: "/v1/chat/completions".into(),
                json: None,
            },
            response: RecordedResponse {
                status: 200,
                headers: [(
                    "content-type".to_string(),
                    serde_json::json!("application/json"),
                )]
                .into_iter()
                .collect(),
                json: Some(answer),
                sse: None,
                delay_ms: None,
            },
        }],
        Matching::Sequential,
    )
    .expect("replay server")
}
