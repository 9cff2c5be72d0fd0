//! What instrumentation costs a model call.
//!
//! - `genai_span/*`: the GenAI span's whole life (creation, request and response attributes, JSON
//!   encoding, end, export) for a short chat, with no subscriber, with the switch off, and on
//!   (tracing-opentelemetry -> SDK -> simple processor -> a discarding exporter).
//!   `on_with_metrics` adds the GenAI client metrics (aggregated by the SDK; exported every 60 s, never during the run). The span
//!   records the call's cost (`mirascope.response.cost`, genai-prices) when the model is priced.
//! - `call/*`: a whole call against a loopback replay server, instrumentation off and on.
//!
//! Run with `cargo bench --bench overhead`; results and the machine are in BENCHMARKS.md.

use criterion::{criterion_group, criterion_main, Criterion};
use mirascope::llm::replay::{Exchange, Matching, RecordedRequest, RecordedResponse, ReplayServer};
use mirascope::{llm, ops};
use opentelemetry_sdk_discard::Discard;
use serde_json::json;

#[path = "support/discard.rs"]
mod opentelemetry_sdk_discard;

fn setup() -> (ReplayServer, llm::Model) {
    let body = json!({"id": "resp_1", "object": "response", "status": "completed", "model": "gpt-4o-mini", "output": [{"id": "msg_1", "type": "message", "status": "completed", "role": "assistant", "content": [{"type": "output_text", "text": "Hello, Kai!", "annotations": []}]}], "usage": {"input_tokens": 25, "output_tokens": 5, "total_tokens": 30}});
    let mut headers = serde_json::Map::new();
    headers.insert("content-type".into(), json!("application/json"));
    let exchanges = vec![Exchange {
        request: RecordedRequest {
            method: "POST".into(),
            path: String::new(),
            json: None,
        },
        response: RecordedResponse {
            status: 200,
            headers,
            json: Some(body),
            sse: None,
            delay_ms: None,
        },
    }];
    let server = ReplayServer::start(exchanges, Matching::Repeat).unwrap();
    llm::Provider::new("openai:responses")
        .scope("bench/")
        .api_key("sk-bench")
        .base_url(format!("{}/v1", server.base_url()))
        .register()
        .unwrap();
    (server, llm::model("bench/gpt-4o-mini").unwrap())
}

fn messages() -> Vec<llm::Message> {
    vec![
        llm::Message::system("You are a concise assistant."),
        llm::Message::user("Say hello to the user named Kai."),
    ]
}

fn benches(c: &mut Criterion) {
    let (_server, model) = setup();
    let response = model.call_blocking(messages()).unwrap();

    let mut g = c.benchmark_group("genai_span");
    g.bench_function("no_subscriber", |b| {
        b.iter(|| llm::genai::span::bench_lifecycle(&response))
    });
    let provider = ops::sdk::trace::SdkTracerProvider::builder()
        .with_simple_exporter(Discard)
        .build();
    let _guard = ops::configure(provider).unwrap();
    ops::uninstrument_llm();
    g.bench_function("off", |b| {
        b.iter(|| llm::genai::span::bench_lifecycle(&response))
    });
    ops::instrument_llm().unwrap();
    assert!(llm::genai::span::bench_lifecycle(&response));
    g.bench_function("on", |b| {
        b.iter(|| llm::genai::span::bench_lifecycle(&response))
    });
    // The same with the client metrics recorded too (the SDK aggregates every point).
    let meter = ops::sdk::metrics::SdkMeterProvider::builder()
        .with_reader(
            ops::sdk::metrics::PeriodicReader::builder(
                opentelemetry_sdk::metrics::InMemoryMetricExporter::default(),
            )
            .build(),
        )
        .build();
    let metrics = ops::metrics::install(&meter);
    g.bench_function("on_with_metrics", |b| {
        b.iter(|| llm::genai::span::bench_lifecycle(&response))
    });
    ops::metrics::uninstall();
    drop(metrics);
    g.finish();

    let mut g = c.benchmark_group("call");
    ops::uninstrument_llm();
    g.bench_function("off", |b| {
        b.iter(|| model.call_blocking(messages()).unwrap())
    });
    ops::instrument_llm().unwrap();
    g.bench_function("on", |b| {
        b.iter(|| model.call_blocking(messages()).unwrap())
    });
    g.finish();
}

criterion_group!(overhead, benches);
criterion_main!(overhead);
