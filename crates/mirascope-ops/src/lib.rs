//! # mirascope-ops
//!
//! OpenTelemetry export and instrumentation for `mirascope-llm`.
#![warn(missing_docs)]
