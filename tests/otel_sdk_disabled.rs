//! `OTEL_SDK_DISABLED=true`: `configure_from_env` installs nothing, model calls work, and the
//! instrumentation switch is a no-op. Its own binary: nothing may have configured the process.

mod common;

use common::{json_response, serve, Wire};
use mirascope::ops;

#[test]
fn otel_sdk_disabled_installs_nothing() {
    std::env::set_var("OTEL_SDK_DISABLED", "TRUE");
    let guard = ops::configure_from_env().expect("disabled is not an error");
    std::env::remove_var("OTEL_SDK_DISABLED");
    assert!(
        tracing::dispatcher::get_default(|d| d.is::<tracing::subscriber::NoSubscriber>()),
        "no global subscriber"
    );
    ops::instrument_llm().expect("a no-op, not an error");
    assert!(!ops::is_llm_instrumented());
    let wire = Wire::Anthropic;
    let (_server, model) = serve(wire, vec![json_response(200, wire.text_body("fine"))]);
    assert_eq!(model.call_blocking("hi").expect("call").text(), "fine");
    drop(guard);
}
