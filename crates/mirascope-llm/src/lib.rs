//! # mirascope-llm
//!
//! Provider-agnostic LLM calls for Rust, the `llm` half of [Mirascope](https://mirascope.com):
//! OpenAI (Responses and Chat Completions), Anthropic Messages, Google Gemini, and any
//! OpenAI-compatible server, with one message/response model, async and blocking forms, and
//! streams. Every model call emits a `tracing` span carrying the OpenTelemetry GenAI attributes
//! (`gen_ai.*`), which `mirascope-ops` exports; with no subscriber installed they cost a few
//! nanoseconds.
//!
//! ```no_run
//! # async fn run() -> Result<(), mirascope_llm::Error> {
//! use mirascope_llm as llm;
//! let model = llm::model("openai/gpt-4o-mini")?;
//! let response = model.call("What is the capital of France?").await?;
//! println!("{}", response.text());
//!
//! // Blocking form, no runtime needed:
//! let response = model.call_blocking("And of Spain?")?;
//! # Ok(()) }
//! ```
#![warn(missing_docs)]

pub mod content;
pub mod error;
pub mod format;
pub mod genai;
pub mod model;
pub mod params;
mod provider;
pub mod pyrepr;
pub mod registry;
#[cfg(feature = "replay")]
pub mod replay;
pub mod response;
pub mod stream;
pub mod tool;

pub use content::{
    AssistantMessage, AudioSource, DocumentSource, ImageSource, Message, Part, Prompt,
    SystemMessage, Text, UserMessage,
};
pub use error::{ApiError, Error, ErrorClass, Result};
pub use format::{Format, FormatMode};
pub use model::{model, Call, Model, StreamCall};
pub use params::{Params, ThinkingConfig, ThinkingLevel};
pub use provider::retry::RetryPolicy;
pub use registry::{register_provider, reset_providers, validate_model_id, Api, ApiKey};
pub use response::{FinishReason, Response, Usage};
pub use stream::{BlockingStream, StreamChunk, StreamResponse};
pub use tool::{Tool, ToolParameters, ToolSchema, FORMAT_TOOL_NAME};
