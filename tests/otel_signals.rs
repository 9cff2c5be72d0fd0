//! `configure_from_env` and the two signals, against a real OTLP/HTTP receiver on loopback:
//! - `OTEL_TRACES_EXPORTER=none` turns spans off and leaves metrics on (signals independent);
//! - `OTEL_EXPORTER_OTLP_METRICS_ENDPOINT` is the full URL of the metrics export;
//! - metrics exports that fail (a traces-only backend answering 405) are counted, and
//!   `shutdown()` says so;
//! - a collector that is slow but answering gets its final export (shutdown waits up to the
//!   export timeout), while one that is down does not hold exit.
//!
//! The environment and the global subscriber are process-wide: one test walks the cases in
//! order, restoring the variables after each.

mod common;

use std::sync::atomic::{AtomicU16, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use common::{json_response, serve, with_env, Wire};
use mirascope::ops::{self, OpsError};
use opentelemetry_proto::tonic::collector::metrics::v1::ExportMetricsServiceRequest;
use prost::Message;

/// Each request's path and the metric names in its body.
type Seen = Arc<Mutex<Vec<(String, Vec<String>)>>>;

/// A loopback OTLP/HTTP receiver: records each request's path and metric names, answers with a
/// settable status after a settable delay.
struct Receiver {
    addr: std::net::SocketAddr,
    seen: Seen,
    status: Arc<AtomicU16>,
    delay_ms: Arc<AtomicU64>,
    _rt: tokio::runtime::Runtime,
}

impl Receiver {
    fn start() -> Self {
        use http_body_util::BodyExt;
        let rt = tokio::runtime::Runtime::new().expect("runtime");
        let listener = rt
            .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
            .expect("bind");
        let addr = listener.local_addr().expect("addr");
        let seen: Seen = Arc::default();
        let status = Arc::new(AtomicU16::new(200));
        let delay_ms = Arc::new(AtomicU64::new(0));
        let (sink, st, delay) = (seen.clone(), status.clone(), delay_ms.clone());
        rt.spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                let (sink, st, delay) = (sink.clone(), st.clone(), delay.clone());
                tokio::spawn(async move {
                    let service = hyper::service::service_fn(
                        move |req: hyper::Request<hyper::body::Incoming>| {
                            let (sink, st, delay) = (sink.clone(), st.clone(), delay.clone());
                            async move {
                                let path = req.uri().path().to_string();
                                let body = req
                                    .into_body()
                                    .collect()
                                    .await
                                    .map(|b| b.to_bytes())
                                    .unwrap_or_default();
                                let names = ExportMetricsServiceRequest::decode(body)
                                    .map(|r| {
                                        r.resource_metrics
                                            .iter()
                                            .flat_map(|rm| &rm.scope_metrics)
                                            .flat_map(|sm| &sm.metrics)
                                            .map(|m| m.name.clone())
                                            .collect()
                                    })
                                    .unwrap_or_default();
                                let wait = delay.load(Ordering::SeqCst);
                                if wait > 0 {
                                    tokio::time::sleep(Duration::from_millis(wait)).await;
                                }
                                sink.lock().unwrap().push((path, names));
                                let mut resp = hyper::Response::new(http_body_util::Full::new(
                                    bytes::Bytes::new(),
                                ));
                                *resp.status_mut() =
                                    hyper::StatusCode::from_u16(st.load(Ordering::SeqCst))
                                        .expect("status");
                                Ok::<_, std::convert::Infallible>(resp)
                            }
                        },
                    );
                    let _ = hyper::server::conn::http1::Builder::new()
                        .serve_connection(hyper_util::rt::TokioIo::new(stream), service)
                        .await;
                });
            }
        });
        Receiver {
            addr,
            seen,
            status,
            delay_ms,
            _rt: rt,
        }
    }

    fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    fn take(&self) -> Vec<(String, Vec<String>)> {
        std::mem::take(&mut *self.seen.lock().unwrap())
    }
}

/// Configures from the environment, makes one call, shuts down: what shutdown said.
fn one_call_then_shutdown(vars: &[(&str, String)]) -> Result<(), OpsError> {
    let mut guard = with_env(vars, || ops::configure_from_env().expect("configure"));
    ops::instrument_llm().expect("instrument");
    let wire = Wire::Completions;
    let (_server, model) = serve(wire, vec![json_response(200, wire.text_body("fine"))]);
    assert_eq!(model.call_blocking("hi").expect("call").text(), "fine");
    guard.shutdown()
}

#[test]
fn signals_are_independent_and_losses_are_counted() {
    let receiver = Receiver::start();

    // Traces off, metrics on: metrics arrive, no trace export.
    one_call_then_shutdown(&[
        ("OTEL_TRACES_EXPORTER", "none".into()),
        ("OTEL_METRICS_EXPORTER", "otlp".into()),
        ("OTEL_EXPORTER_OTLP_ENDPOINT", receiver.url("")),
    ])
    .expect("shutdown");
    let seen = receiver.take();
    assert!(!seen.is_empty(), "metrics exported");
    assert!(
        seen.iter().all(|(p, _)| p == "/v1/metrics"),
        "no trace export with OTEL_TRACES_EXPORTER=none: {seen:?}"
    );
    assert!(
        seen.iter()
            .flat_map(|(_, names)| names)
            .any(|n| n == "gen_ai.client.operation.duration"),
        "the call's duration was recorded: {seen:?}"
    );

    // The per-signal endpoint is the full URL.
    one_call_then_shutdown(&[
        ("OTEL_TRACES_EXPORTER", "none".into()),
        ("OTEL_METRICS_EXPORTER", "otlp".into()),
        (
            "OTEL_EXPORTER_OTLP_METRICS_ENDPOINT",
            receiver.url("/custom/m"),
        ),
    ])
    .expect("shutdown");
    let seen = receiver.take();
    assert!(!seen.is_empty());
    assert!(
        seen.iter().all(|(p, _)| p == "/custom/m"),
        "posted to the URL as given: {seen:?}"
    );

    // A backend that takes traces only (405 on metrics): the loss is counted and reported.
    receiver.status.store(405, Ordering::SeqCst);
    let err = one_call_then_shutdown(&[
        ("OTEL_TRACES_EXPORTER", "none".into()),
        ("OTEL_METRICS_EXPORTER", "otlp".into()),
        ("OTEL_EXPORTER_OTLP_ENDPOINT", receiver.url("")),
    ])
    .expect_err("metrics were lost");
    match &err {
        OpsError::Undelivered { stats, .. } => {
            assert!(stats.metric_exports_failed >= 1, "{stats:?}")
        }
        other => panic!("expected Undelivered, got {other:?}"),
    }
    assert!(
        err.to_string().contains("metrics export(s) failed"),
        "{err}"
    );
    receiver.status.store(200, Ordering::SeqCst);
    receiver.take();

    // A slow collector (3 s per export, over the 2 s shutdown timeout) that answers: shutdown
    // waits for it, within the export timeout, and its data arrives.
    receiver.delay_ms.store(3000, Ordering::SeqCst);
    let shut = one_call_then_shutdown(&[
        ("OTEL_TRACES_EXPORTER", "otlp".into()),
        ("OTEL_METRICS_EXPORTER", "none".into()),
        ("OTEL_EXPORTER_OTLP_ENDPOINT", receiver.url("")),
        ("OTEL_EXPORTER_OTLP_TIMEOUT", "8000".into()),
    ]);
    receiver.delay_ms.store(0, Ordering::SeqCst);
    shut.expect("a slow collector gets its data; shutdown succeeds");
    let seen = receiver.take();
    assert!(
        seen.iter().any(|(p, _)| p == "/v1/traces"),
        "the spans arrived: {seen:?}"
    );

    // A collector that is down: shutdown does not wait for the export timeout.
    let down = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let down_addr = down.local_addr().expect("addr");
    drop(down);
    let started = Instant::now();
    let result = one_call_then_shutdown(&[
        ("OTEL_TRACES_EXPORTER", "otlp".into()),
        ("OTEL_METRICS_EXPORTER", "none".into()),
        ("OTEL_EXPORTER_OTLP_ENDPOINT", format!("http://{down_addr}")),
        ("OTEL_EXPORTER_OTLP_TIMEOUT", "30000".into()),
    ]);
    assert!(result.is_err(), "the loss is reported: {result:?}");
    // A liveness bound (not a speed measurement): far under the 30 s export timeout.
    assert!(
        started.elapsed() < Duration::from_secs(15),
        "a down collector does not hold exit: {:?}",
        started.elapsed()
    );
}
