//! The conformance cases made with `@ops.trace` over `@llm.call`, as real `#[ops::trace]` +
//! `#[llm::call]` functions, one module a case (written by `build.rs` from
//! `tests/fixtures/conformance/` and `$MIRASCOPE_CONFORMANCE_DIR`), and [`run`], which calls the
//! one of a case: `tests/conformance.rs` compares what the macros record, not a recording the
//! runner builds itself. Test support only (not published).

#![allow(unused_variables, missing_docs, clippy::all)]

include!(concat!(env!("OUT_DIR"), "/trace_cases.rs"));
