//! Telemetry loss is visible: with the collector down, `configure_from_env`'s pipeline counts
//! every span offered and every span whose export failed, `OpsGuard::stats` reports them, and
//! `shutdown` fails saying how many spans were not delivered. Calls are never affected. Its own
//! binary: it installs the global subscriber.

mod common;

use common::{json_response, serve, Wire};
use mirascope::ops::{self, OpsError};

#[test]
fn export_failures_are_counted_and_shutdown_says_what_was_lost() {
    let closed = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    std::env::set_var(
        "OTEL_EXPORTER_OTLP_ENDPOINT",
        format!("http://127.0.0.1:{closed}"),
    );
    std::env::set_var("OTEL_EXPORTER_OTLP_TIMEOUT", "500");
    std::env::set_var("OTEL_BSP_SCHEDULE_DELAY", "20");
    let mut guard = ops::configure_from_env().expect("configure");
    ops::instrument_llm().expect("instrument");
    let wire = Wire::Completions;
    for _ in 0..3 {
        let (_server, model) = serve(wire, vec![json_response(200, wire.text_body("Hi"))]);
        assert_eq!(model.call_blocking("hi").expect("calls work").text(), "Hi");
    }
    let _ = guard.flush();
    let stats = guard.stats();
    assert_eq!(stats.offered, 3, "{stats:?}");
    assert_eq!(stats.exported, 0, "{stats:?}");
    assert_eq!(stats.failed, 3, "{stats:?}");
    match guard.shutdown() {
        Err(OpsError::Undelivered { spans, .. }) => assert_eq!(spans, 3),
        other => panic!("shutdown must say what was lost: {other:?}"),
    }
    // Idempotent: the second shutdown has nothing left to report.
    assert!(guard.shutdown().is_ok());
    for var in [
        "OTEL_EXPORTER_OTLP_ENDPOINT",
        "OTEL_EXPORTER_OTLP_TIMEOUT",
        "OTEL_BSP_SCHEDULE_DELAY",
    ] {
        std::env::remove_var(var);
    }

    // The same loss through a provider built by `Otlp` and installed with `configure`: counted
    // and reported the same way.
    let provider = ops::export::Otlp::new()
        .endpoint(format!("http://127.0.0.1:{closed}"))
        .timeout(std::time::Duration::from_millis(500))
        .provider()
        .expect("provider");
    let mut guard = ops::configure(provider).expect("configure");
    ops::instrument_llm().expect("instrument");
    for _ in 0..4 {
        let (_server, model) = serve(wire, vec![json_response(200, wire.text_body("Hi"))]);
        assert_eq!(model.call_blocking("hi").expect("calls work").text(), "Hi");
    }
    match guard.shutdown() {
        Err(OpsError::Undelivered { spans, stats }) => {
            assert_eq!(spans, 4, "{stats:?}");
            assert_eq!(stats.offered, 4, "{stats:?}");
        }
        other => panic!("shutdown must say what was lost: {other:?}"),
    }
}
