//! Attribute macros of mirascope (proc-macros only; the runtime lives in `mirascope-ops` and
//! `mirascope-llm`).
#![warn(missing_docs)]
