//! Stream accumulation is linear: the time per chunk stays flat from 1,000 to 100,000 chunks,
//! on every wire format. Each sample streams a whole answer of N text chunks from a loopback
//! replay server through the public API (`model.stream(..)`, collected to the end), with no
//! subscriber, and reports the time per chunk (criterion's throughput in elements).
//!
//! Run with `cargo bench --bench stream_accumulation`; results are in BENCHMARKS.md.

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use futures_util::StreamExt;
use mirascope::llm;
use mirascope::llm::replay::{Exchange, Matching, RecordedRequest, RecordedResponse, ReplayServer};
use serde_json::{json, Value};

#[derive(Clone, Copy, Debug)]
enum Wire {
    Responses,
    Completions,
    Anthropic,
    Google,
}

impl Wire {
    fn provider(self) -> &'static str {
        match self {
            Wire::Responses => "openai:responses",
            Wire::Completions => "openai:completions",
            Wire::Anthropic => "anthropic",
            Wire::Google => "google",
        }
    }

    fn name(self) -> &'static str {
        match self {
            Wire::Responses => "openai_responses",
            Wire::Completions => "openai_completions",
            Wire::Anthropic => "anthropic",
            Wire::Google => "google",
        }
    }

    /// An SSE answer of `n` text chunks.
    fn sse(self, n: usize) -> String {
        let mut frames: Vec<(Option<&str>, Value)> = Vec::with_capacity(n + 4);
        match self {
            Wire::Responses => {
                frames.push((
                    Some("response.created"),
                    json!({"type": "response.created", "response": {"id": "r"}}),
                ));
                for _ in 0..n {
                    frames.push((Some("response.output_text.delta"), json!({"type": "response.output_text.delta", "item_id": "m", "delta": "word "})));
                }
                frames.push((Some("response.completed"), json!({"type": "response.completed", "response": {"id": "r", "usage": {"input_tokens": 3, "output_tokens": n}}})));
            }
            Wire::Completions => {
                for _ in 0..n {
                    frames.push((None, json!({"id": "c", "choices": [{"index": 0, "delta": {"content": "word "}, "finish_reason": null}]})));
                }
                frames.push((None, json!({"id": "c", "choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]})));
            }
            Wire::Anthropic => {
                frames.push((Some("message_start"), json!({"type": "message_start", "message": {"id": "m", "usage": {"input_tokens": 3, "output_tokens": 1}}})));
                frames.push((Some("content_block_start"), json!({"type": "content_block_start", "index": 0, "content_block": {"type": "text", "text": ""}})));
                for _ in 0..n {
                    frames.push((Some("content_block_delta"), json!({"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": "word "}})));
                }
                frames.push((
                    Some("content_block_stop"),
                    json!({"type": "content_block_stop", "index": 0}),
                ));
                frames.push((Some("message_delta"), json!({"type": "message_delta", "delta": {"stop_reason": "end_turn"}, "usage": {"output_tokens": n}})));
                frames.push((Some("message_stop"), json!({"type": "message_stop"})));
            }
            Wire::Google => {
                for i in 0..n {
                    let mut chunk = json!({"candidates": [{"content": {"parts": [{"text": "word "}], "role": "model"}}], "usageMetadata": {"promptTokenCount": 3, "candidatesTokenCount": i}});
                    if i + 1 == n {
                        chunk["candidates"][0]["finishReason"] = json!("STOP");
                    }
                    frames.push((None, chunk));
                }
            }
        }
        let mut out = String::new();
        for (event, data) in frames {
            if let Some(e) = event {
                out.push_str(&format!("event: {e}\n"));
            }
            out.push_str(&format!("data: {data}\n\n"));
        }
        if matches!(self, Wire::Completions) {
            out.push_str("data: [DONE]\n\n");
        }
        out
    }
}

fn serve(wire: Wire, n: usize) -> (ReplayServer, llm::Model) {
    let mut headers = serde_json::Map::new();
    headers.insert("content-type".into(), json!("text/event-stream"));
    let exchanges = vec![Exchange {
        request: RecordedRequest {
            method: "POST".into(),
            path: String::new(),
            json: None,
        },
        response: RecordedResponse {
            status: 200,
            headers,
            json: None,
            sse: Some(wire.sse(n)),
            delay_ms: None,
        },
    }];
    let server = ReplayServer::start(exchanges, Matching::Repeat).expect("replay server");
    let scope = format!("acc-{}-{n}/", wire.name());
    let base = match wire {
        Wire::Responses | Wire::Completions => format!("{}/v1", server.base_url()),
        Wire::Anthropic | Wire::Google => server.base_url(),
    };
    llm::register_provider(wire.provider(), Some(&scope), Some("k"), Some(&base))
        .expect("register");
    let model = llm::model(&format!("{scope}m")).expect("model");
    (server, model)
}

fn accumulation(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let mut group = c.benchmark_group("stream_accumulation");
    group.sample_size(10);
    for wire in [
        Wire::Responses,
        Wire::Completions,
        Wire::Anthropic,
        Wire::Google,
    ] {
        for n in [1_000usize, 10_000, 100_000] {
            let (_server, model) = serve(wire, n);
            group.throughput(Throughput::Elements(n as u64));
            group.bench_with_input(BenchmarkId::new(wire.name(), n), &n, |b, &n| {
                b.iter(|| {
                    rt.block_on(async {
                        let stream = model.stream("hi").await.expect("stream");
                        let chunks = stream.count().await;
                        assert!(chunks >= n, "{chunks} chunks");
                    })
                })
            });
        }
    }
    group.finish();
}

criterion_group!(benches, accumulation);
criterion_main!(benches);
