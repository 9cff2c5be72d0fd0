//! Every supported form of the macros compiles, without a warning, and runs.
//!
//! These were trybuild `pass` cases. They are ordinary tests now: each case file is a module of
//! this test binary, built with the workspace's other tests (sharing their compiled
//! dependencies), where trybuild would rebuild every dependency in a project of its own. A case
//! that stops compiling fails this build; one that warns fails it too (`deny(warnings)`: the
//! macros must not make a user's code warn, e.g. a false `unused import: ops`). The
//! compile-fail cases stay with trybuild (`tests/ui.rs`), which compares their messages.
#![deny(warnings)]
// As trybuild does for its cases: a case may define what it does not use.
#![allow(dead_code)]

/// A case file as a module, with a test that runs its `main`.
macro_rules! case {
    ($($name:ident),* $(,)?) => {$(
        mod $name {
            include!(concat!("compiles/", stringify!($name), ".rs"));

            #[test]
            fn runs() {
                main();
            }
        }
    )*};
}

case!(
    call_async_prompt,
    call_basic,
    call_over_trace_uses_the_import,
    call_tools_format,
    call_web_search,
    futures_are_send,
    tool_async_result,
    trace_async_fn,
    trace_generic_fn,
    trace_impl_trait_return,
    trace_methods,
    trace_over_call,
    trace_result_fn,
    trace_skip_name,
    trace_sync_fn,
    trace_trait_impl,
    version_fn,
);
