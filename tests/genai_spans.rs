//! The GenAI span of calls and streams, through the real OpenTelemetry stack: every stream ends
//! exactly one span with the right status, whether consumed, dropped early, dropped before
//! polling, or failed mid-way; async and blocking alike.

mod common;

use common::{attr, json_response, otel, serve, spans_of, sse_response, Wire, ALL};
use futures_util::StreamExt;
use mirascope::llm;
use opentelemetry::trace::{SpanKind, Status};

fn assert_one_span(model_id: &str, what: &str) -> mirascope::ops::testing::SpanData {
    let spans = spans_of(model_id);
    assert_eq!(
        spans.len(),
        1,
        "{what}: exactly one span for {model_id}, got {}",
        spans.len()
    );
    let span = spans.into_iter().next().unwrap();
    assert_eq!(span.name, format!("chat {model_id}"), "{what}");
    assert_eq!(span.span_kind, SpanKind::Client, "{what}");
    assert_eq!(span.instrumentation_scope.name(), "mirascope.llm", "{what}");
    span
}

fn has_event(span: &mirascope::ops::testing::SpanData, name: &str) -> usize {
    span.events.iter().filter(|e| e.name == name).count()
}

#[tokio::test]
async fn calls_async_and_blocking_emit_one_complete_span() {
    otel();
    for wire in ALL {
        let (server, model) = serve(wire, vec![json_response(200, wire.text_body("Hello!"))]);
        model.call("hi").await.unwrap();
        let span = assert_one_span(model.id(), "async call");
        assert_eq!(span.status, Status::Unset);
        assert_eq!(
            attr(&span, "gen_ai.provider.name").as_deref(),
            Some(wire.provider_id())
        );
        assert_eq!(
            attr(&span, "gen_ai.usage.output_tokens").as_deref(),
            Some("2")
        );
        assert_eq!(
            attr(&span, "gen_ai.output.messages").as_deref(),
            Some(
                r#"[{"role":"assistant","parts":[{"type":"text","content":"Hello!"}],"finish_reason":"stop"}]"#
            )
        );
        assert_eq!(attr(&span, "server.address").as_deref(), Some("127.0.0.1"));
        // The provider request carries the span's trace context.
        let traceparent = server.requests()[0]
            .header("traceparent")
            .map(str::to_string)
            .expect("traceparent sent");
        assert!(
            traceparent.contains(&span.span_context.trace_id().to_string()),
            "{traceparent}"
        );
        assert_eq!(
            traceparent,
            format!(
                "00-{}-{}-01",
                span.span_context.trace_id(),
                span.span_context.span_id()
            ),
            "W3C traceparent: version, trace id, span id, sampled"
        );
        assert_eq!(
            server.requests()[0].header("tracestate"),
            None,
            "an empty trace state is not sent (as Python's propagator does)"
        );

        let (_server, model) = serve(wire, vec![json_response(200, wire.text_body("Hello!"))]);
        model.call_blocking("hi").unwrap();
        assert_one_span(model.id(), "blocking call");
    }
}

#[tokio::test]
async fn streams_consumed_fully() {
    otel();
    for wire in ALL {
        let (_server, model) = serve(
            wire,
            vec![sse_response(wire.sse_body(&["Hel", "lo"], false))],
        );
        let stream = model.stream("hi").await.unwrap();
        assert!(
            spans_of(model.id()).is_empty(),
            "{wire:?}: the span stays open while the stream is unread"
        );
        let response = stream.finish().await.unwrap();
        assert_eq!(response.text(), "Hello");
        let span = assert_one_span(model.id(), "consumed stream");
        assert_eq!(span.status, Status::Unset, "{wire:?}");
        assert_eq!(
            attr(&span, "mirascope.response.content").as_deref(),
            Some(r#"[{"type":"text","text":"Hello"}]"#),
            "{wire:?}"
        );
        assert_eq!(
            attr(&span, "gen_ai.usage.input_tokens").as_deref(),
            Some("3"),
            "{wire:?}"
        );
        assert_eq!(has_event(&span, "mirascope.stream.cancelled"), 0);

        let (_server, model) = serve(
            wire,
            vec![sse_response(wire.sse_body(&["Hel", "lo"], false))],
        );
        let chunks: Vec<_> = model.stream_blocking("hi").unwrap().collect();
        assert!(chunks.iter().all(Result::is_ok), "{wire:?}");
        let span = assert_one_span(model.id(), "consumed blocking stream");
        assert_eq!(span.status, Status::Unset);
    }
}

/// A stream's span ends when the stream does (read to its end, or dropped), not when its
/// request was sent: the span is not entered while chunks are read, so its end is set when it
/// completes.
#[tokio::test]
async fn stream_spans_end_when_the_stream_ends() {
    otel();
    let pause = std::time::Duration::from_millis(30);
    let duration = |span: &mirascope::ops::testing::SpanData| {
        span.end_time
            .duration_since(span.start_time)
            .expect("ends after it starts")
    };
    for wire in ALL {
        for how in ["read to its end", "dropped"] {
            let (_server, model) = serve(
                wire,
                vec![sse_response(wire.sse_body(&["Hel", "lo"], false))],
            );
            let mut stream = model.stream("hi").await.unwrap();
            stream.next().await.unwrap().unwrap();
            tokio::time::sleep(pause).await;
            if how == "read to its end" {
                while stream.next().await.is_some() {}
            }
            drop(stream);
            let span = assert_one_span(model.id(), how);
            assert!(
                duration(&span) >= pause,
                "{wire:?}, {how}: {:?}",
                duration(&span)
            );
        }
    }
}

#[tokio::test]
async fn streams_dropped_early_end_their_span_once() {
    otel();
    for wire in ALL {
        // After the first chunk.
        let (_server, model) = serve(
            wire,
            vec![sse_response(wire.sse_body(&["Hel", "lo", " there"], false))],
        );
        let mut stream = model.stream("hi").await.unwrap();
        let mut seen = String::new();
        while let Some(chunk) = stream.next().await {
            if let Ok(llm::StreamChunk::TextDelta(d)) = chunk {
                seen.push_str(&d);
                break;
            }
        }
        drop(stream);
        let span = assert_one_span(model.id(), "dropped after first chunk");
        assert_eq!(span.status, Status::Unset, "{wire:?}");
        assert_eq!(
            has_event(&span, "mirascope.stream.cancelled"),
            1,
            "{wire:?}"
        );
        assert_eq!(
            attr(&span, "mirascope.response.content"),
            Some(format!(r#"[{{"type":"text","text":"{seen}"}}]"#)),
            "{wire:?}: what was received"
        );

        // Before polling.
        let (_server, model) = serve(
            wire,
            vec![sse_response(wire.sse_body(&["Hel", "lo"], false))],
        );
        drop(model.stream("hi").await.unwrap());
        let span = assert_one_span(model.id(), "dropped before polling");
        assert_eq!(has_event(&span, "mirascope.stream.cancelled"), 1);
        assert_eq!(
            attr(&span, "mirascope.response.content").as_deref(),
            Some("[]")
        );

        // Blocking, after the first chunk.
        let (_server, model) = serve(
            wire,
            vec![sse_response(wire.sse_body(&["Hel", "lo"], false))],
        );
        let mut it = model.stream_blocking("hi").unwrap();
        it.next().unwrap().unwrap();
        drop(it);
        let span = assert_one_span(model.id(), "blocking dropped early");
        assert_eq!(has_event(&span, "mirascope.stream.cancelled"), 1);
    }
}

#[tokio::test]
async fn streams_failing_mid_way_record_partial_output_and_error() {
    otel();
    let wire = Wire::Responses;
    let mut body = wire.sse_body(&["Crimson", " leaves"], true);
    body.push_str("event: error\ndata: {\"type\":\"error\",\"error\":{\"type\":\"server_error\",\"message\":\"boom mid-stream\"}}\n\n");
    for blocking in [false, true] {
        let (_server, model) = serve(wire, vec![sse_response(body.clone())]);
        let items: Vec<_> = if blocking {
            model.stream_blocking("hi").unwrap().collect()
        } else {
            model.stream("hi").await.unwrap().collect().await
        };
        let err = items
            .iter()
            .find_map(|i| i.as_ref().err())
            .expect("an error item");
        assert_eq!(err.to_string(), "boom mid-stream");
        assert!(items.last().unwrap().is_err(), "the error is the last item");
        let span = assert_one_span(model.id(), "failed stream");
        assert!(
            matches!(&span.status, Status::Error { description } if description == "boom mid-stream"),
            "{:?}",
            span.status
        );
        assert_eq!(attr(&span, "error.type").as_deref(), Some("ProviderError"));
        assert_eq!(has_event(&span, "exception"), 1);
        assert_eq!(
            attr(&span, "mirascope.response.content").as_deref(),
            Some(r#"[{"type":"text","text":"Crimson leaves"}]"#)
        );
    }
}

/// `gen_ai.response.model` is the model the provider's answer names (GenAI semconv), for calls,
/// streams, and streams that broke after the provider named it; OpenAI's `service_tier` and
/// `system_fingerprint` are recorded as `openai.response.*`.
#[tokio::test]
async fn response_model_is_the_model_the_provider_named() {
    otel();
    for wire in ALL {
        let (_server, model) = serve(
            wire,
            vec![
                json_response(200, wire.text_body("Hi")),
                sse_response(wire.sse_body(&["Hel", "lo"], false)),
                sse_response(wire.sse_body(&["Hel", "lo"], true)),
            ],
        );
        model.call("hi").await.unwrap();
        let _: Vec<_> = model.stream("hi").await.unwrap().collect().await;
        let _: Vec<_> = model.stream("hi").await.unwrap().collect().await;
        let spans = spans_of(model.id());
        assert_eq!(spans.len(), 3, "{wire:?}");
        for (span, what) in spans.iter().zip(["call", "stream", "broken stream"]) {
            assert_eq!(
                attr(span, "gen_ai.response.model").as_deref(),
                Some(common::ANSWERING_MODEL),
                "{wire:?} {what}"
            );
            assert_eq!(
                attr(span, "gen_ai.request.model").as_deref(),
                Some(model.id()),
                "{wire:?} {what}: the request model stays Mirascope's id"
            );
        }
    }
    // OpenAI's service tier and system fingerprint.
    let wire = Wire::Completions;
    let mut body = wire.text_body("Hi");
    body["service_tier"] = "default".into();
    body["system_fingerprint"] = "fp_44709d6fcb".into();
    let (_server, model) = serve(wire, vec![json_response(200, body)]);
    model.call("hi").await.unwrap();
    let span = assert_one_span(model.id(), "openai details");
    assert_eq!(
        attr(&span, "openai.response.service_tier").as_deref(),
        Some("default")
    );
    assert_eq!(
        attr(&span, "openai.response.system_fingerprint").as_deref(),
        Some("fp_44709d6fcb")
    );
    // Not on other providers.
    let wire = Wire::Anthropic;
    let mut body = wire.text_body("Hi");
    body["service_tier"] = "standard".into();
    let (_server, model) = serve(wire, vec![json_response(200, body)]);
    model.call("hi").await.unwrap();
    let span = assert_one_span(model.id(), "anthropic");
    assert_eq!(attr(&span, "openai.response.service_tier"), None);
}

/// A stream that broke or was dropped does not claim it stopped: no `gen_ai.response.finish_reasons`
/// and no `finish_reason` on its output message, unless the provider sent one; and it keeps the
/// usage received so far (Anthropic's `message_start` input tokens).
#[tokio::test]
async fn partial_streams_tell_the_truth() {
    otel();
    for wire in ALL {
        // Broken: the server stops sending mid-answer.
        let (_server, model) = serve(
            wire,
            vec![sse_response(wire.sse_body(&["Crimson", " leaves"], true))],
        );
        let items: Vec<_> = model.stream("hi").await.unwrap().collect().await;
        assert!(items.last().unwrap().is_err(), "{wire:?}: ends early");
        let span = assert_one_span(model.id(), "broken stream");
        assert_eq!(
            attr(&span, "gen_ai.response.finish_reasons"),
            None,
            "{wire:?}"
        );
        let output = attr(&span, "gen_ai.output.messages").expect("output");
        assert!(!output.contains("finish_reason"), "{wire:?}: {output}");
        assert!(output.contains("Crimson leaves"), "{wire:?}: {output}");
        if wire == Wire::Anthropic {
            assert_eq!(
                attr(&span, "gen_ai.usage.input_tokens").as_deref(),
                Some("3"),
                "message_start's input tokens are kept"
            );
        }

        // Dropped after the first chunk.
        let (_server, model) = serve(
            wire,
            vec![sse_response(wire.sse_body(&["Crimson", " leaves"], false))],
        );
        let mut stream = model.stream("hi").await.unwrap();
        let _ = stream.next().await;
        drop(stream);
        let span = assert_one_span(model.id(), "dropped stream");
        assert_eq!(has_event(&span, "mirascope.stream.cancelled"), 1);
        assert_eq!(
            attr(&span, "gen_ai.response.finish_reasons"),
            None,
            "{wire:?}"
        );
    }
}
