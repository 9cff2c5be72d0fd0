//! # mirascope
//!
//! LLM observability for Rust: call OpenAI, Anthropic, Google or any OpenAI-compatible model with
//! [`llm`], and see every call as an OpenTelemetry span with the GenAI semantic conventions through
//! [`ops`], attribute for attribute what Python Mirascope emits.
//!
//! ## Add it to your project
//!
//! ```toml
//! [dependencies]
//! mirascope = "0.1"
//! tokio = { version = "1", features = ["macros", "rt-multi-thread"] }
//! serde = { version = "1", features = ["derive"] }  # tool arguments that are structs
//! schemars = "1"                                    # the same (1.x, not 0.8)
//! serde_json = "1"                                  # session attributes, structured outputs
//! ```
//!
//! ## A first program
//!
//! ```no_run
//! use mirascope::{llm, ops};
//!
//! /// Get the current weather for a city.
//! #[llm::tool]
//! fn get_weather(city: String) -> String {
//!     format!("Weather in {city}: sunny")
//! }
//!
//! // A prompt function: calling it calls the model. `#[ops::trace]` adds a span around it.
//! #[ops::trace(tags = ["weather"])]
//! #[llm::call("openai/gpt-4o-mini", tools = [get_weather])]
//! fn weather(city: &str) -> String {
//!     format!("What's the weather in {city}?")
//! }
//!
//! #[tokio::main]
//! async fn main() -> Result<(), Box<dyn std::error::Error>> {
//!     // Export: OTLP if OTEL_EXPORTER_OTLP_ENDPOINT is set, else a tree on the console.
//!     let mut guard = ops::configure_from_env()?;
//!     // GenAI spans on: every model call is a `chat {model_id}` CLIENT span.
//!     ops::instrument_llm()?;
//!
//!     // A call: `.await` it for the response.
//!     let model = llm::model("anthropic/claude-haiku-4-5")?;
//!     let response = model.call("What is the capital of France?").await?;
//!     println!("{}", response.text());
//!
//!     // A stream: chunks as they come, one span for the whole stream.
//!     let mut text = std::pin::pin!(model.stream("Count to three.").await?.text_stream());
//!     while let Some(piece) = llm::StreamExt::next(&mut text).await {
//!         print!("{}", piece?);
//!     }
//!
//!     // Tools: the model asks, `execute_tools` runs them (an `execute_tool` span each),
//!     // `resume` sends the outputs back. A wrong call is an output the model can read.
//!     let first = weather("Tokyo").await?;
//!     let outputs = first.execute_tools().await?;
//!     let answer = first.resume(outputs).await?;
//!     println!("{}", answer.text());
//!
//!     // Flushes what is still queued; says what was lost, if anything was.
//!     guard.shutdown()?;
//!     Ok(())
//! }
//! ```
//!
//! ## Where to look
//!
//! - [`llm`]: models ([`llm::model()`], [`llm::Model`]), providers and their registration
//!   ([`llm::Provider`]), messages and content ([`llm::Part`]), tools ([`macro@llm::tool`],
//!   [`llm::Tool`]), structured output ([`llm::Format`]), responses and streams
//!   ([`llm::Response`], [`llm::StreamResponse`]), errors ([`llm::Error`]), timeouts and
//!   retries ([`llm::RetryPolicy`]).
//! - [`ops`]: export ([`ops::configure_from_env`], [`ops::configure`], [`ops::layer`] for a
//!   subscriber of your own), the switch ([`ops::instrument_llm`]), traces ([`macro@ops::trace`]),
//!   spans ([`ops::span()`]), sessions ([`ops::session()`]), versions ([`macro@ops::version`]), context
//!   propagation ([`ops::inject_context`], [`ops::extract_context`]), metrics
//!   ([`ops::metrics`]).
//!
//! Features: `otlp-http` (default), `otlp-http-json`, `otlp-grpc`, `console` (default), `cost`
//! (default: costs in USD), `testing` (`ops::testing`, an in-memory exporter for your tests),
//! `replay` (`llm::replay`, `llm::cassette`: record and replay provider traffic), `axum`
//! (`ops::PropagationLayer`, a tower layer that continues incoming requests' traces and
//! sessions).
#![warn(missing_docs)]

/// Models, providers, messages, tools, responses and streams, each model call a GenAI span:
/// the `mirascope-llm` crate.
#[doc(inline)]
pub use mirascope_llm as llm;
/// Export, the instrumentation switch, traces, spans, sessions, versioning, propagation and
/// metrics: the `mirascope-ops` crate.
#[doc(inline)]
pub use mirascope_ops as ops;
