//! The Chat Completions calls of an `async-openai` client (feature `async-openai`): give the
//! client `ops::openai_http_service(..)` (its usual retry stack with `ops::OpenAiLayer` on top)
//! and turn on `ops::instrument_openai()`; each call is a `chat {model}` span as Python's
//! `ops.instrument_openai()` records it. Offline, through a replay server.
//! `cargo run --example async_openai --features async-openai`
//!
//! Your own `async-openai` needs its `middleware` feature (for `with_http_service`) and the API
//! groups you call (`chat-completion` here).

use async_openai::types::chat::{
    ChatCompletionRequestUserMessageArgs, CreateChatCompletionRequestArgs,
};
#[path = "support/offline.rs"]
mod offline;

use mirascope::ops;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    // A stand-in for https://api.openai.com: one recorded answer.
    let server = offline::chat_completion_server();

    let mut guard = ops::configure_from_env()?;
    ops::instrument_openai();

    // The one line in your client's construction.
    let config = async_openai::config::OpenAIConfig::new()
        .with_api_key("sk-example")
        .with_api_base(format!("{}/v1", server.base_url()));
    let client = async_openai::Client::with_config(config)
        .with_http_service(ops::openai_http_service(reqwest::Client::new()));

    let request = CreateChatCompletionRequestArgs::default()
        .model("gpt-4o-mini")
        .messages([ChatCompletionRequestUserMessageArgs::default()
            .content("What is 4200 + 42?")
            .build()?
            .into()])
        .build()?;
    let reply = client.chat().create(request).await?;
    println!("{:?}", reply.choices[0].message.content);

    ops::uninstrument_openai();
    guard.shutdown()?;
    Ok(())
}
