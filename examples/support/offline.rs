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
