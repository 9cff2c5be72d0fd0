//! # mirascope
//!
//! LLM observability for Rust: call OpenAI, Anthropic, Google or any OpenAI-compatible model with
//! [`llm`], and see every call as an OpenTelemetry span with the GenAI semantic conventions through
//! [`ops`] — attribute for attribute what Python Mirascope emits.
//!
//! ```no_run
//! use mirascope::{llm, ops};
//!
//! #[ops::trace(tags = ["books"])]
//! #[llm::call("openai/gpt-4o-mini", temperature = 0.7)]
//! fn recommend_book(genre: &str) -> String {
//!     format!("Recommend a {genre} book")
//! }
//!
//! #[tokio::main]
//! async fn main() -> Result<(), Box<dyn std::error::Error>> {
//!     let _guard = ops::configure_from_env()?; // OTLP if OTEL_EXPORTER_OTLP_ENDPOINT is set, else a console tree
//!     ops::instrument_llm()?;                   // model calls now emit `chat {model_id}` spans
//!
//!     let model = llm::model("anthropic/claude-haiku-4-5")?;
//!     let response = model.call("What is the capital of France?").await?;
//!     println!("{}", response.text());
//!
//!     // recommend_book.call (INTERNAL) └── chat openai/gpt-4o-mini (CLIENT)
//!     let book = recommend_book("fantasy").await?;
//!     println!("{}", book.text());
//!     Ok(())
//! }
//! ```
//!
//! Features: `axum` adds `ops::PropagationLayer`, a tower
//! layer that continues incoming requests' traces and sessions.
#![warn(missing_docs)]

pub use mirascope_llm as llm;
pub use mirascope_ops as ops;
