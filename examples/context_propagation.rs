//! Context propagation (docs: "Context Propagation"): one trace across two services. Service A
//! injects its context (and session) into HTTP headers; service B extracts them.
//! `MIRASCOPE_PROPAGATOR` picks the format (tracecontext, b3, b3multi, jaeger, composite).
//! `cargo run --example context_propagation`

use mirascope::ops::{self, ContextSource};

fn service_b(headers: &http::HeaderMap) {
    let _ctx = ops::propagated_context(ContextSource::ExtractFrom(headers));
    let span = ops::span("service-b.handle");
    println!(
        "service B: trace {} session {:?}",
        span.trace_id().unwrap_or_default(),
        ops::current_session().map(|s| s.id)
    );
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut guard = ops::configure_from_env()?;
    let _session = ops::session("checkout-77");
    let span = ops::span("service-a.request");
    let mut headers = http::HeaderMap::new();
    span.in_scope(|| ops::inject_context(&mut headers))?;
    println!(
        "service A: trace {} sends {:?}",
        span.trace_id().unwrap_or_default(),
        headers.keys().collect::<Vec<_>>()
    );
    service_b(&headers);
    span.finish();
    drop(span);
    guard.shutdown()?;
    Ok(())
}
