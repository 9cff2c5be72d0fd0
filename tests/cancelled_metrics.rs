//! Cancelled calls and streams reach the metrics: a call whose future is dropped (a timeout)
//! and a stream dropped before its end each record their duration with `error.type` =
//! `cancelled`, as many times as they happened. One test: the recorder is process-wide.

mod common;

use std::time::Duration;

use common::{json_response, serve, sse_response, Wire};
use futures_util::StreamExt;
use opentelemetry_sdk::metrics::data::{AggregatedMetrics, MetricData};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cancelled_calls_and_streams_record_their_duration() {
    let (guard, exporter, meter_provider, spans) = common::metrics_to_memory();
    let wire = Wire::Completions;

    // 20 calls cancelled by a timeout while the server takes its time.
    let mut slow = json_response(200, wire.text_body("late"));
    slow.delay_ms = Some(2_000);
    let (_s1, calls) = serve(wire, vec![slow; 20]);
    for _ in 0..20 {
        let r = tokio::time::timeout(Duration::from_millis(20), calls.call("hi")).await;
        assert!(r.is_err(), "cancelled");
    }
    // 5 streams dropped after their first chunk.
    let (_s2, streams) = serve(
        wire,
        (0..5)
            .map(|_| sse_response(wire.sse_body(&["a", "b", "c"], false)))
            .collect(),
    );
    for _ in 0..5 {
        let mut s = streams.stream("hi").await.expect("stream");
        s.next().await.expect("a chunk").expect("ok");
        drop(s);
    }

    meter_provider.force_flush().expect("flush");
    let metrics = exporter.get_finished_metrics().expect("metrics");
    let cancelled_count = |model: &str| -> u64 {
        let mut n = 0;
        for scope in metrics.last().expect("exported").scope_metrics() {
            for m in scope.metrics() {
                if m.name() != "gen_ai.client.operation.duration" {
                    continue;
                }
                if let AggregatedMetrics::F64(MetricData::Histogram(h)) = m.data() {
                    for p in h.data_points() {
                        let has = |k: &str, v: &str| {
                            p.attributes()
                                .any(|kv| kv.key.as_str() == k && kv.value.as_str() == v)
                        };
                        if has("gen_ai.request.model", model) && has("error.type", "cancelled") {
                            n += p.count();
                        }
                    }
                }
            }
        }
        n
    };
    assert_eq!(cancelled_count(calls.id()), 20, "each cancelled call");
    assert_eq!(cancelled_count(streams.id()), 5, "each dropped stream");
    // And the spans say so too.
    let events: usize = spans
        .get_finished_spans()
        .expect("spans")
        .iter()
        .flat_map(|s| s.events.iter())
        .filter(|e| e.name == "mirascope.call.cancelled" || e.name == "mirascope.stream.cancelled")
        .count();
    assert_eq!(events, 25);
    drop(guard);
}
