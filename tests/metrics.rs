//! GenAI client metrics and cost through the real OpenTelemetry metrics SDK: a known sequence of
//! calls (a priced call, a failed call, a stream) against loopback servers, then every
//! instrument, its unit, attributes and bucket counts; the `uninstrument_llm()` switch turns
//! metrics off with the spans. One test: the recorder and the subscriber are process-wide.

mod common;

use std::collections::HashMap;

use common::{json_response, serve, sse_response, Wire};
use futures_util::StreamExt;
use mirascope::{llm, ops};
use opentelemetry::KeyValue;
use opentelemetry_sdk::metrics::data::{AggregatedMetrics, MetricData, ResourceMetrics};

/// One histogram or sum data point: its attributes, count (or value) and bucket counts.
#[derive(Debug, Clone)]
struct Point {
    attrs: HashMap<String, String>,
    count: u64,
    sum: f64,
    buckets: Vec<u64>,
    bounds: Vec<f64>,
}

fn attrs<'a>(kvs: impl Iterator<Item = &'a KeyValue>) -> HashMap<String, String> {
    kvs.map(|kv| (kv.key.to_string(), kv.value.to_string()))
        .collect()
}

/// Every data point of every instrument, by instrument name, with its unit.
fn points(all: &[ResourceMetrics]) -> HashMap<String, (String, Vec<Point>)> {
    let mut out: HashMap<String, (String, Vec<Point>)> = HashMap::new();
    let last = all.last().expect("metrics were exported");
    for scope in last.scope_metrics() {
        assert_eq!(scope.scope().name(), "mirascope.llm");
        for m in scope.metrics() {
            let entry = out
                .entry(m.name().to_string())
                .or_insert_with(|| (m.unit().to_string(), Vec::new()));
            match m.data() {
                AggregatedMetrics::U64(MetricData::Histogram(h)) => {
                    for p in h.data_points() {
                        entry.1.push(Point {
                            attrs: attrs(p.attributes()),
                            count: p.count(),
                            sum: p.sum() as f64,
                            buckets: p.bucket_counts().collect(),
                            bounds: p.bounds().collect(),
                        });
                    }
                }
                AggregatedMetrics::F64(MetricData::Histogram(h)) => {
                    for p in h.data_points() {
                        entry.1.push(Point {
                            attrs: attrs(p.attributes()),
                            count: p.count(),
                            sum: p.sum(),
                            buckets: p.bucket_counts().collect(),
                            bounds: p.bounds().collect(),
                        });
                    }
                }
                AggregatedMetrics::F64(MetricData::Sum(s)) => {
                    for p in s.data_points() {
                        entry.1.push(Point {
                            attrs: attrs(p.attributes()),
                            count: 1,
                            sum: p.value(),
                            buckets: Vec::new(),
                            bounds: Vec::new(),
                        });
                    }
                }
                other => panic!("{}: unexpected aggregation {other:?}", m.name()),
            }
        }
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn client_metrics_and_cost_through_the_sdk() {
    let (guard, exporter, meter_provider, _spans) = common::metrics_to_memory();

    let wire = Wire::Completions;
    // A priced call: 3 input and 2 output tokens at $1 / $2 per million.
    let (_s1, model) = serve(wire, vec![json_response(200, wire.text_body("hello"))]);
    llm::set_price(model.id(), llm::Price::per_million_tokens(1.0, 2.0));
    let response = model.call("hi").await.expect("call");
    assert_eq!(response.cost(), Some(7e-6));
    // A failed call.
    let (_s2, failing) = serve(wire, vec![json_response(400, wire.error_body(400, "bad"))]);
    failing.call("hi").await.expect_err("400");
    // A stream of three chunks.
    let (_s3, streaming) = serve(
        wire,
        vec![sse_response(wire.sse_body(&["a", "b", "c"], false))],
    );
    let mut stream = streaming.stream("hi").await.expect("stream");
    while let Some(item) = stream.next().await {
        item.expect("chunk");
    }
    // Switched off with the spans: this call records nothing.
    ops::uninstrument_llm();
    let (_s4, silent) = serve(wire, vec![json_response(200, wire.text_body("quiet"))]);
    silent.call("hi").await.expect("call");
    ops::instrument_llm().expect("instrument");

    meter_provider.force_flush().expect("flush");
    let all = exporter.get_finished_metrics().expect("metrics");
    let got = points(&all);

    let of = |name: &str, model_id: &str| -> Vec<Point> {
        got.get(name)
            .map(|(_, ps)| ps.clone())
            .unwrap_or_default()
            .into_iter()
            .filter(|p| p.attrs.get("gen_ai.request.model").map(String::as_str) == Some(model_id))
            .collect()
    };
    let unit = |name: &str| got.get(name).map(|(u, _)| u.clone()).unwrap_or_default();

    // Duration: one point per call, the failure with its error.type.
    assert_eq!(unit("gen_ai.client.operation.duration"), "s");
    let d = of("gen_ai.client.operation.duration", model.id());
    assert_eq!(d.len(), 1);
    assert_eq!(d[0].count, 1);
    assert_eq!(d[0].bounds.len(), 14, "the semconv duration buckets");
    for (k, v) in [
        ("gen_ai.operation.name", "chat"),
        ("gen_ai.provider.name", wire.provider_id()),
        ("gen_ai.response.model", common::ANSWERING_MODEL),
        ("server.address", "127.0.0.1"),
    ] {
        assert_eq!(d[0].attrs.get(k).map(String::as_str), Some(v), "{k}");
    }
    assert!(d[0].attrs.contains_key("server.port"));
    assert!(!d[0].attrs.contains_key("error.type"));
    let f = of("gen_ai.client.operation.duration", failing.id());
    assert_eq!(f.len(), 1);
    assert_eq!(
        f[0].attrs.get("error.type").map(String::as_str),
        Some("BadRequestError")
    );
    assert!(
        of("gen_ai.client.operation.duration", silent.id()).is_empty(),
        "switched off"
    );

    // Tokens: input and output, in the semconv buckets (3 -> the (1, 4] bucket).
    assert_eq!(unit("gen_ai.client.token.usage"), "{token}");
    let t = of("gen_ai.client.token.usage", model.id());
    assert_eq!(t.len(), 2);
    let by_type: HashMap<&str, &Point> = t
        .iter()
        .map(|p| (p.attrs["gen_ai.token.type"].as_str(), p))
        .collect();
    assert_eq!(by_type["input"].sum, 3.0);
    assert_eq!(by_type["output"].sum, 2.0);
    assert_eq!(by_type["input"].bounds[..3], [1.0, 4.0, 16.0]);
    assert_eq!(by_type["input"].buckets[1], 1, "3 tokens fall in (1, 4]");
    assert!(
        of("gen_ai.client.token.usage", failing.id()).is_empty(),
        "no usage, no tokens"
    );

    // Streams: time to first chunk, and time per output chunk after the first.
    let ttfc = of(
        "gen_ai.client.operation.time_to_first_chunk",
        streaming.id(),
    );
    assert_eq!((ttfc.len(), ttfc[0].count), (1, 1));
    let tpoc = of(
        "gen_ai.client.operation.time_per_output_chunk",
        streaming.id(),
    );
    // One value per chunk after the first (three text deltas: at least two), in the
    // duration buckets (semconv v1.41), not one mean per stream in a server metric's buckets.
    assert_eq!(tpoc.len(), 1);
    assert!(
        tpoc[0].count >= 2,
        "one value per chunk after the first: {:?}",
        tpoc[0]
    );
    assert_eq!(tpoc[0].bounds, ops::metrics::DURATION_BUCKETS.to_vec());
    assert!(of("gen_ai.client.operation.time_to_first_chunk", model.id()).is_empty());

    // Cost: a counter in USD, only for priced models.
    assert_eq!(unit("mirascope.client.cost"), "USD");
    let c = of("mirascope.client.cost", model.id());
    assert_eq!(c.len(), 1);
    assert!((c[0].sum - 7e-6).abs() < 1e-15, "{}", c[0].sum);
    assert!(
        of("mirascope.client.cost", streaming.id()).is_empty(),
        "no price, no cost"
    );

    drop(guard);
}
