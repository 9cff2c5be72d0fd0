//! # mirascope
//!
//! LLM observability for Rust: call models with [`llm`] and see every call as an OpenTelemetry
//! span with the GenAI semantic conventions through [`ops`].
//!
//! ```no_run
//! use mirascope::{llm, ops};
//! ```
#![warn(missing_docs)]

pub use mirascope_llm as llm;
pub use mirascope_ops as ops;
