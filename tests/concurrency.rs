//! 1,000 concurrent instrumented calls on a multi-thread runtime: 1,000 spans, each with its own
//! request and response (no cross-talk), each the child of its own parent span.

mod common;

use common::{attr, json_response, otel, Wire};
use mirascope::llm::replay::{Exchange, Matching, RecordedRequest, ReplayServer};
use serde_json::json;
use tracing::Instrument;

const N: usize = 1000;

#[test]
fn thousand_concurrent_calls_keep_their_own_spans() {
    let exporter = otel();
    let wire = Wire::Completions;
    let exchanges: Vec<Exchange> = (0..N)
        .map(|i| Exchange {
            request: RecordedRequest { method: "POST".into(), path: "/v1/chat/completions".into(), json: Some(json!({"model": "test-model", "messages": [{"role": "user", "content": format!("question {i}")}]})) },
            response: json_response(200, wire.text_body(&format!("answer {i}"))),
        })
        .collect();
    let server = ReplayServer::start(exchanges, Matching::ByRequest).unwrap();
    let model = common::model_at(wire, &wire.base_url(&server));

    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(4)
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let tasks: Vec<_> = (0..N)
            .map(|i| {
                let model = model.clone();
                let parent = tracing::info_span!(target: "mirascope_ops", "parent", otel.name = %format!("parent {i}"));
                tokio::spawn(
                    async move {
                        tokio::task::yield_now().await;
                        let r = model.call(format!("question {i}")).await.expect("call");
                        assert_eq!(r.text(), format!("answer {i}"));
                    }
                    .instrument(parent),
                )
            })
            .collect();
        for t in tasks {
            t.await.expect("no panic");
        }
    });

    let spans = exporter.get_finished_spans().unwrap();
    let parents: std::collections::HashMap<_, _> = spans
        .iter()
        .filter(|s| s.name.starts_with("parent "))
        .map(|s| {
            (
                s.span_context.span_id(),
                s.name.trim_start_matches("parent ").to_string(),
            )
        })
        .collect();
    let chats: Vec<_> = spans
        .iter()
        .filter(|s| s.name == format!("chat {}", model.id()))
        .collect();
    assert_eq!(parents.len(), N);
    assert_eq!(chats.len(), N);
    for chat in chats {
        let input = attr(chat, "gen_ai.input.messages").unwrap();
        let output = attr(chat, "gen_ai.output.messages").unwrap();
        let i = parents
            .get(&chat.parent_span_id)
            .expect("the chat span's parent is one of the parent spans");
        assert!(
            input.contains(&format!("\"question {i}\"")),
            "{input} under parent {i}"
        );
        assert!(
            output.contains(&format!("\"answer {i}\"")),
            "{output} under parent {i}"
        );
    }
    assert_eq!(server.requests().len(), N);
}
