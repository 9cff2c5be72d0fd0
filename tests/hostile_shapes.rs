//! The rest of the hardening matrix, through the public API (loopback replay servers):
//! - wrong-shape stream events on every wire end the stream with a `MalformedResponse` naming
//!   the field, and undocumented shapes are skipped and counted (`skipped_events`);
//! - no model name can move a request elsewhere on the server (`..` segments), while names
//!   holding `/` keep working;
//! - the console exporter does not hold the spans of a trace whose root stays open.

mod common;

use common::{serve, sse_response, Wire, ALL};
use futures_util::StreamExt;
use mirascope::llm::{self, Error};
use mirascope::ops;
use serde_json::json;

/// `wire`'s streamed answer with the first text delta's text replaced by a number.
fn wrong_type_stream(wire: Wire) -> String {
    wire.sse_body(&["Hel", "lo"], false)
        .replacen("\"Hel\"", "42", 1)
}

#[tokio::test]
async fn wrong_shapes_fail_and_unknown_shapes_are_counted_on_every_wire() {
    for wire in ALL {
        let body = wrong_type_stream(wire);
        assert!(
            body.contains("42"),
            "{wire:?}: the canned stream carries the number"
        );
        let (_server, model) = serve(wire, vec![sse_response(body)]);
        let items: Vec<_> = model.stream("hi").await.expect("head").collect().await;
        let err = items
            .iter()
            .find_map(|i| i.as_ref().err())
            .unwrap_or_else(|| panic!("{wire:?}: the stream fails"));
        assert!(
            matches!(err, Error::MalformedResponse { .. }),
            "{wire:?}: {err:?}"
        );
    }
    // An event of a shape no wire documents: skipped and counted, the answer read on.
    for wire in [
        Wire::Completions,
        Wire::Google,
        Wire::Anthropic,
        Wire::Responses,
    ] {
        let stray = match wire {
            Wire::Anthropic | Wire::Responses => json!({"type": "brand_new_event"}),
            Wire::Completions | Wire::Google => json!({"something": "else"}),
        };
        let body = format!("data: {stray}\n\n{}", wire.sse_body(&["Hel", "lo"], false));
        let (_server, model) = serve(wire, vec![sse_response(body)]);
        let mut stream = model.stream("hi").await.expect("head");
        while let Some(item) = stream.next().await {
            item.unwrap_or_else(|e| panic!("{wire:?}: {e:?}"));
        }
        assert_eq!(stream.skipped_events(), 1, "{wire:?}");
    }
}

#[test]
fn model_names_cannot_leave_their_path_segment() {
    for bad in ["google/../../escape", "google/%2e%2e/x", "openai/gpt 4o"] {
        match llm::model(bad) {
            Err(Error::InvalidModelId { .. }) => {}
            other => panic!("{bad}: {other:?}"),
        }
    }
    assert!(llm::model("openrouter/meta-llama/llama-3-70b-instruct").is_ok());
}

/// 2,000 spans under a root that never ends: the console exporter prints them in parts and
/// holds at most `MAX_HELD_SPANS_PER_TRACE` at any time.
#[test]
fn the_console_exporter_does_not_hold_an_open_trace() {
    use tracing_subscriber::layer::SubscriberExt;
    let out = common::SharedWriter::default();
    let exporter = ops::export::ConsoleExporter::new(out.clone());
    let provider = ops::sdk::trace::SdkTracerProvider::builder()
        .with_simple_exporter(exporter.clone())
        .build();
    let subscriber = tracing_subscriber::registry().with(
        ops::LayerBuilder::new(&provider)
            .llm_spans_always_on()
            .build(),
    );
    let mut most = 0;
    tracing::subscriber::with_default(subscriber, || {
        let root = tracing::info_span!("server");
        let _entered = root.enter();
        for i in 0..2_000 {
            let _child = tracing::info_span!("request", n = i).entered();
            drop(_child);
            most = most.max(exporter.held_spans());
        }
    });
    assert!(
        most < ops::export::MAX_HELD_SPANS_PER_TRACE,
        "{most} spans held"
    );
    let text = out.text();
    assert!(text.contains("part of a trace still open"));
    assert_eq!(text.matches("request (internal").count(), 2_000);
}
