//! The conformance cases made with `@ops.trace` over `@llm.call`, as real `#[ops::trace]` +
//! `#[llm::call]` functions, one module a case (written by `build.rs` from
//! `tests/fixtures/conformance/` and `$MIRASCOPE_CONFORMANCE_DIR`), and [`run`], which calls the
//! one of a case: `tests/conformance.rs` compares what the macros record, not a recording the
//! runner builds itself.
//!
//! A case with a `call.program` (nested traces, `ops.span`, sessions, async functions) becomes a
//! module of real `#[ops::trace]` functions, `ops::span`s and `ops::session`s (`program.rs`),
//! run by [`program`]; its model calls without a traced `#[llm::call]` go through the runner's
//! own call ([`set_runner_call`]). Test support only (not published).

#![allow(unused_variables, unreachable_code, missing_docs, clippy::all)]

use std::cell::RefCell;
use std::future::Future;
use std::pin::Pin;

use mirascope::llm;

include!(concat!(env!("OUT_DIR"), "/trace_cases.rs"));

/// What a program's `raise` step raises (Python's program raises `conformance.ProgramError`).
#[derive(Debug)]
pub struct ProgramError(pub String);

impl std::fmt::Display for ProgramError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for ProgramError {}

impl From<llm::Error> for ProgramError {
    fn from(e: llm::Error) -> Self {
        // The class goes with it: a program that can raise records this type, not the class.
        ProgramError(e.to_string())
    }
}

/// The runner's model call, for a program's `call` step without a traced `#[llm::call]`.
pub type RunnerCall = Box<dyn FnMut() -> Pin<Box<dyn Future<Output = llm::Result<llm::Response>>>>>;

/// How the last model call of a program ended: the response, or the error's class and text.
pub type LastCall = Result<llm::Response, (&'static str, String)>;

thread_local! {
    static RUNNER_CALL: RefCell<Option<RunnerCall>> = const { RefCell::new(None) };
    static LAST: RefCell<Option<LastCall>> = const { RefCell::new(None) };
    static RUNTIME: tokio::runtime::Runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a current-thread runtime");
}

/// Sets the runner's call for the programs run next on this thread, and forgets the last call.
pub fn set_runner_call(call: RunnerCall) {
    RUNNER_CALL.with(|c| *c.borrow_mut() = Some(call));
    LAST.with(|l| l.borrow_mut().take());
}

/// How the last model call of the program run on this thread ended (taken).
pub fn take_last_call() -> Option<LastCall> {
    LAST.with(|l| l.borrow_mut().take())
}

fn runner_call() -> Pin<Box<dyn Future<Output = llm::Result<llm::Response>>>> {
    let mut call = RUNNER_CALL
        .with(|c| c.borrow_mut().take())
        .expect("set_runner_call before a program");
    let fut = call();
    RUNNER_CALL.with(|c| *c.borrow_mut() = Some(call));
    fut
}

fn block_on<F: Future>(fut: F) -> F::Output {
    RUNTIME.with(|rt| rt.block_on(fut))
}

fn record(result: llm::Result<llm::Response>) -> llm::Result<()> {
    let last = match &result {
        Ok(r) => Ok(r.clone()),
        Err(e) => Err((e.class().name(), e.to_string())),
    };
    LAST.with(|l| *l.borrow_mut() = Some(last));
    result.map(|_| ())
}

fn last_response() -> llm::Response {
    LAST.with(|l| match &*l.borrow() {
        Some(Ok(r)) => r.clone(),
        _ => unreachable!("a `returns: response` step follows a call that succeeded"),
    })
}

fn last_text() -> String {
    LAST.with(|l| match &*l.borrow() {
        Some(Ok(r)) => r.text(),
        _ => String::new(),
    })
}
