//! Export at scale: spans offered at a fixed rate through the real pipeline
//! (`ops::configure_from_env`: batch processor, OTLP exporter, loss counters) to a loopback
//! receiver that discards them, over OTLP http/protobuf and gRPC. Reports spans offered,
//! delivered and lost, and the delivered rate.
//!
//! Method: one process. The receiver runs on a tokio runtime of its own (HTTP: hyper, reads each
//! body and answers 200; gRPC: tonic's OTLP `TraceService`, decodes and answers). The calling
//! thread offers `ops::span(..)` spans in bursts every millisecond at the target rate for
//! `SECONDS` seconds (or as fast as it can for `max`), then flushes; delivered and lost counts
//! come from `OpsGuard::stats()` (the counters users see), the rate is delivered spans divided by
//! the time from the first span to the end of the flush.
//!
//! Run with `cargo bench --bench export_scale`; results and the machine are in BENCHMARKS.md.

#[path = "../tests/common/mod.rs"]
mod common;

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use mirascope::ops;
use opentelemetry_proto::tonic::collector::trace::v1::trace_service_server::{
    TraceService, TraceServiceServer,
};
use opentelemetry_proto::tonic::collector::trace::v1::{
    ExportTraceServiceRequest, ExportTraceServiceResponse,
};

const SECONDS: f64 = 2.0;

/// A gRPC receiver that answers every export and keeps nothing.
#[derive(Clone, Default)]
struct Discarding(Arc<AtomicU64>);

#[tonic::async_trait]
impl TraceService for Discarding {
    async fn export(
        &self,
        request: tonic::Request<ExportTraceServiceRequest>,
    ) -> Result<tonic::Response<ExportTraceServiceResponse>, tonic::Status> {
        let spans: usize = request
            .get_ref()
            .resource_spans
            .iter()
            .flat_map(|r| &r.scope_spans)
            .map(|s| s.spans.len())
            .sum();
        self.0.fetch_add(spans as u64, Ordering::Relaxed);
        Ok(tonic::Response::new(ExportTraceServiceResponse {
            partial_success: None,
        }))
    }
}

/// An HTTP receiver that reads each body, answers 200 and keeps nothing. Returns its address.
fn http_receiver(rt: &tokio::runtime::Runtime, requests: Arc<AtomicU64>) -> std::net::SocketAddr {
    use http_body_util::BodyExt;
    let listener = rt
        .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
        .expect("bind");
    let addr = listener.local_addr().expect("address");
    rt.spawn(async move {
        loop {
            let Ok((stream, _)) = listener.accept().await else {
                return;
            };
            let requests = requests.clone();
            tokio::spawn(async move {
                let service = hyper::service::service_fn(
                    move |req: hyper::Request<hyper::body::Incoming>| {
                        let requests = requests.clone();
                        async move {
                            let _ = req.into_body().collect().await;
                            requests.fetch_add(1, Ordering::Relaxed);
                            hyper::Response::builder()
                                .status(200)
                                .header("content-type", "application/x-protobuf")
                                .body(http_body_util::Full::new(bytes::Bytes::new()))
                        }
                    },
                );
                let _ = hyper::server::conn::http1::Builder::new()
                    .serve_connection(hyper_util::rt::TokioIo::new(stream), service)
                    .await;
            });
        }
    });
    addr
}

/// Offers spans at `rate` per second (`None`: as fast as possible) for `SECONDS`, flushes, and
/// prints one line.
fn run(protocol: &str, endpoint: &str, rate: Option<u64>) {
    std::env::set_var("OTEL_EXPORTER_OTLP_ENDPOINT", endpoint);
    std::env::set_var("OTEL_EXPORTER_OTLP_PROTOCOL", protocol);
    std::env::set_var("OTEL_METRICS_EXPORTER", "none");
    let mut guard = ops::configure_from_env().expect("configure");
    let started = Instant::now();
    let deadline = started + Duration::from_secs_f64(SECONDS);
    let mut offered = 0u64;
    let mut tick = started;
    while Instant::now() < deadline {
        match rate {
            Some(r) => {
                // One millisecond's share, then wait for the next millisecond.
                for _ in 0..(r / 1000).max(1) {
                    ops::span("load").with("n", offered).finish();
                    offered += 1;
                }
                tick += Duration::from_millis(1);
                if let Some(wait) = tick.checked_duration_since(Instant::now()) {
                    std::thread::sleep(wait);
                }
            }
            None => {
                for _ in 0..100 {
                    ops::span("load").with("n", offered).finish();
                    offered += 1;
                }
            }
        }
    }
    let offering = started.elapsed();
    let _ = guard.flush();
    let flushed = started.elapsed();
    let stats = guard.stats();
    let _ = guard.shutdown();
    let lost = stats.offered.saturating_sub(stats.exported);
    println!(
        "{protocol:<14} {:>10} {:>10.0} {:>10} {:>10} {:>8} {:>7.1}% {:>12.0}",
        rate.map_or("max".to_string(), |r| r.to_string()),
        offered as f64 / offering.as_secs_f64(),
        stats.offered,
        stats.exported,
        stats.failed,
        100.0 * lost as f64 / stats.offered.max(1) as f64,
        stats.exported as f64 / flushed.as_secs_f64(),
    );
}

fn main() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .expect("runtime");
    let http = http_receiver(&rt, Arc::default());
    let grpc = common::serve_grpc(
        &rt,
        tonic::service::Routes::new(TraceServiceServer::new(Discarding::default())),
    );
    println!(
        "{:<14} {:>10} {:>10} {:>10} {:>10} {:>8} {:>8} {:>12}",
        "protocol",
        "target/s",
        "offered/s",
        "offered",
        "delivered",
        "failed",
        "lost",
        "delivered/s"
    );
    for rate in [Some(50_000), Some(100_000), None] {
        run("http/protobuf", &format!("http://{http}"), rate);
        run("grpc", &format!("http://{grpc}"), rate);
    }
}
