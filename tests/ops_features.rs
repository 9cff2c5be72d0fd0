//! Explicit spans, sessions and context propagation through the in-memory exporter: attributes,
//! events, status, nesting, session restore on panic, and propagation round trips across two
//! "services" (two tracer providers) in every format.

mod common;

use std::collections::HashMap;

use common::{attr, json_response, otel, serve, Wire};
use mirascope::ops::{self, AttributeValue, ContextSource, PropagatorFormat};
use opentelemetry::trace::{SpanKind, Status};
use tracing_subscriber::layer::SubscriberExt;

type SpanData = ops::testing::SpanData;

/// The propagator format is process-global: tests that set it run one at a time.
static FORMAT_LOCK: std::sync::Mutex<()> = std::sync::Mutex::new(());

fn named(name: &str) -> Vec<SpanData> {
    otel()
        .get_finished_spans()
        .unwrap()
        .into_iter()
        .filter(|s| s.name == name)
        .collect()
}

#[test]
fn explicit_spans_record_attributes_events_and_status() {
    otel();
    let span = ops::span("retrieve-docs")
        .with("query", "rust")
        .attrs([("k", 3usize)]);
    span.set([
        ("hits", AttributeValue::from(2)),
        ("scores", AttributeValue::from(vec!["0.9", "0.7"])),
    ]);
    span.info("searching", [("index", AttributeValue::from("books"))]);
    span.warning("slow shard", ops::NO_ATTRIBUTES);
    span.event("cache-miss", [("key", AttributeValue::from("q1"))]);
    let id = span.span_id().expect("span id");
    assert_eq!(id.len(), 16);
    assert_eq!(span.trace_id().unwrap().len(), 32);
    span.in_scope(|| {
        let child = ops::span("rank");
        child.finish();
    });
    span.finish();
    span.error("ignored after finish", ops::NO_ATTRIBUTES);
    drop(span);

    let s = named("retrieve-docs").pop().expect("exported");
    assert_eq!(s.span_kind, SpanKind::Internal);
    assert_eq!(
        s.status,
        Status::Unset,
        "error() after finish() does nothing"
    );
    assert_eq!(attr(&s, "mirascope.type").as_deref(), Some("trace"));
    assert_eq!(attr(&s, "query").as_deref(), Some("rust"));
    assert_eq!(attr(&s, "hits").as_deref(), Some("2"));
    let events: Vec<&str> = s.events.iter().map(|e| e.name.as_ref()).collect();
    assert_eq!(events, ["info", "warning", "cache-miss"]);
    let info = &s.events.iter().next().unwrap().attributes;
    assert!(info
        .iter()
        .any(|kv| kv.key.as_str() == "level" && kv.value.as_str() == "info"));
    assert!(info
        .iter()
        .any(|kv| kv.key.as_str() == "message" && kv.value.as_str() == "searching"));
    let child = named("rank").pop().unwrap();
    assert_eq!(
        child.parent_span_id.to_string(),
        id,
        "nested under the explicit span"
    );

    let failing = ops::span("failing-step");
    failing.critical("disk on fire", [("disk", AttributeValue::from("sda"))]);
    drop(failing);
    let f = named("failing-step").pop().unwrap();
    assert!(matches!(f.status, Status::Error { .. }));
    let crit = f.events.iter().next().unwrap();
    assert_eq!(crit.name, "critical");
    assert!(crit
        .attributes
        .iter()
        .any(|kv| kv.key.as_str() == "level" && kv.value.as_str() == "error"));
}

#[ops::trace]
fn in_session_step(n: u32) -> u32 {
    n + 1
}

#[test]
fn sessions_land_on_spans_nest_and_restore_on_panic() {
    otel();
    {
        let _outer = ops::session("outer").attributes(serde_json::json!({"user": "alice"}));
        in_session_step(1);
        {
            let _inner = ops::session("inner");
            assert_eq!(ops::current_session().unwrap().id, "inner");
            in_session_step(2);
        }
        assert_eq!(ops::current_session().unwrap().id, "outer");
        let panicked = std::panic::catch_unwind(|| {
            let _s = ops::session("doomed");
            panic!("inside a session");
        });
        assert!(panicked.is_err());
        assert_eq!(
            ops::current_session().unwrap().id,
            "outer",
            "restored after the panic"
        );
    }
    assert!(ops::current_session().is_none());
    let spans = named("in_session_step");
    let by_arg = |n: &str| {
        spans
            .iter()
            .find(|s| {
                attr(s, "mirascope.trace.arg_values").as_deref()
                    == Some(&format!(r#"{{"n":{n}}}"#) as &str)
            })
            .unwrap()
    };
    assert_eq!(
        attr(by_arg("1"), "mirascope.ops.session.id").as_deref(),
        Some("outer")
    );
    assert_eq!(
        attr(by_arg("1"), "mirascope.ops.session.attributes").as_deref(),
        Some(r#"{"user":"alice"}"#)
    );
    assert_eq!(
        attr(by_arg("2"), "mirascope.ops.session.id").as_deref(),
        Some("inner")
    );
    assert_eq!(attr(by_arg("2"), "mirascope.ops.session.attributes"), None);

    let generated = ops::new_session();
    assert_eq!(generated.context().id.len(), 36, "a UUID by default");
}

#[tokio::test]
async fn sessions_follow_futures_and_reach_genai_spans() {
    otel();
    let wire = Wire::Completions;
    let (_server, model) = serve(wire, vec![json_response(200, wire.text_body("hi"))]);
    let ctx = ops::SessionContext::new("conv-42");
    let handle = tokio::spawn(ops::in_session(ctx, async move {
        tokio::task::yield_now().await;
        assert_eq!(ops::current_session().unwrap().id, "conv-42");
        model.call("hello").await.map(|_| model.id().to_string())
    }));
    let model_id = handle.await.unwrap().unwrap();
    let chat = common::spans_of(&model_id).pop().unwrap();
    assert_eq!(
        attr(&chat, "gen_ai.conversation.id").as_deref(),
        Some("conv-42")
    );
}

/// A second "service": its own tracer provider and exporter, on this thread only.
fn service_b<R>(f: impl FnOnce() -> R) -> (R, Vec<SpanData>) {
    let (provider, exporter) = ops::testing::in_memory_provider();
    let subscriber = tracing_subscriber::registry().with(ops::layer(&provider));
    let out = tracing::subscriber::with_default(subscriber, f);
    let _ = provider.force_flush();
    (out, exporter.get_finished_spans().unwrap())
}

#[test]
fn propagation_round_trips_in_every_format() {
    let _lock = FORMAT_LOCK.lock().unwrap_or_else(|e| e.into_inner());
    otel();
    let expected_headers: &[(PropagatorFormat, &[&str])] = &[
        (PropagatorFormat::TraceContext, &["traceparent"]),
        (PropagatorFormat::B3, &["b3"]),
        (
            PropagatorFormat::B3Multi,
            &["x-b3-traceid", "x-b3-spanid", "x-b3-sampled"],
        ),
        (PropagatorFormat::Jaeger, &["uber-trace-id"]),
        (
            PropagatorFormat::Composite,
            &["traceparent", "b3", "x-b3-traceid", "uber-trace-id"],
        ),
    ];
    for (format, headers) in expected_headers {
        ops::set_propagator(*format);
        // Service A: a span, its context injected into HTTP headers, with the session.
        let span = ops::span(&format!("a-{format:?}"));
        let _session = ops::session(format!("session-{format:?}"));
        let mut carrier = http::HeaderMap::new();
        span.in_scope(|| ops::inject_context(&mut carrier)).unwrap();
        for h in *headers {
            assert!(
                carrier.contains_key(*h),
                "{format:?}: header {h} injected: {carrier:?}"
            );
        }
        assert!(carrier.contains_key("mirascope-session-id"));
        let (a_trace, a_span) = (span.trace_id().unwrap(), span.span_id().unwrap());
        drop(_session);

        // Service B: extract, then work under the propagated context.
        let (session, spans) = service_b(|| {
            let _g = ops::propagated_context(ContextSource::ExtractFrom(&carrier));
            let s = ops::span("b-handler");
            s.finish();
            ops::current_session().map(|s| s.id)
        });
        assert_eq!(
            session.as_deref(),
            Some(format!("session-{format:?}").as_str()),
            "{format:?}: session carried"
        );
        let b = spans
            .iter()
            .find(|s| s.name == "b-handler")
            .expect("B exported its span");
        assert_eq!(
            b.span_context.trace_id().to_string(),
            a_trace,
            "{format:?}: one trace across services"
        );
        assert_eq!(
            b.parent_span_id.to_string(),
            a_span,
            "{format:?}: parent is A's span"
        );
        assert!(b.parent_span_is_remote);
    }
    ops::set_propagator(PropagatorFormat::TraceContext);

    // HashMap carriers, case-insensitive session header, malformed headers -> new root trace.
    let mut map: HashMap<String, String> = HashMap::new();
    map.insert("TraceParent".into(), "00-not-a-trace-id-01".into());
    map.insert("mirascope-session-id".into(), "s-1".into());
    assert_eq!(ops::extract_session_id(&map).as_deref(), Some("s-1"));
    let (_, spans) = service_b(|| {
        let _g = ops::propagated_context(ContextSource::ExtractFrom(&map));
        ops::span("orphan").finish();
    });
    let orphan = spans.iter().find(|s| s.name == "orphan").unwrap();
    assert_eq!(
        orphan.parent_span_id,
        opentelemetry::trace::SpanId::INVALID,
        "malformed headers start a new root trace"
    );

    // An invalid MIRASCOPE_PROPAGATOR is a typed error naming the valid values.
    let err = "xray".parse::<PropagatorFormat>().unwrap_err();
    assert!(err
        .to_string()
        .contains("tracecontext, b3, b3multi, jaeger, composite"));
}

/// A handler that opens a span and reports the session it runs in.
struct Handler;

impl tower_service::Service<http::Request<()>> for Handler {
    type Response = Option<String>;
    type Error = std::convert::Infallible;
    type Future = std::pin::Pin<
        Box<
            dyn std::future::Future<Output = Result<Option<String>, std::convert::Infallible>>
                + Send,
        >,
    >;
    fn poll_ready(
        &mut self,
        _: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Result<(), Self::Error>> {
        std::task::Poll::Ready(Ok(()))
    }
    fn call(&mut self, _req: http::Request<()>) -> Self::Future {
        Box::pin(async {
            tokio::task::yield_now().await;
            ops::span("handler-work").finish();
            Ok(ops::current_session().map(|s| s.id))
        })
    }
}

#[test]
fn tower_layer_continues_the_callers_trace_and_session() {
    let _lock = FORMAT_LOCK.lock().unwrap_or_else(|e| e.into_inner());
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(tower_layer_case());
}

async fn tower_layer_case() {
    use tower_layer::Layer;
    use tower_service::Service;
    otel();
    ops::set_propagator(PropagatorFormat::TraceContext);
    let req = http::Request::builder()
        .method("POST")
        .uri("/chat")
        .header(
            "traceparent",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
        )
        .header("Mirascope-Session-Id", "caller-session")
        .body(())
        .unwrap();
    let mut svc = ops::PropagationLayer.layer(Handler);
    let session = svc.call(req).await.unwrap();
    assert_eq!(session.as_deref(), Some("caller-session"));
    let server = named("POST /chat").pop().expect("server span");
    assert_eq!(server.span_kind, SpanKind::Server);
    assert_eq!(
        server.span_context.trace_id().to_string(),
        "4bf92f3577b34da6a3ce929d0e0e4736"
    );
    assert_eq!(server.parent_span_id.to_string(), "00f067aa0ba902b7");
    let work = named("handler-work").pop().expect("handler span");
    assert_eq!(work.parent_span_id, server.span_context.span_id());
    assert_eq!(
        attr(&work, "mirascope.ops.session.id").as_deref(),
        Some("caller-session")
    );
}

#[test]
fn resume_spans_carry_the_session() {
    otel();
    let wire = Wire::Completions;
    let (_server, model) = serve(
        wire,
        vec![
            json_response(200, wire.text_body("first")),
            json_response(200, wire.text_body("second")),
        ],
    );
    let _s = ops::session("resume-session").attributes(serde_json::json!({"tier": "gold"}));
    let first = model.call_blocking("hi").unwrap();
    let second = first.resume_blocking("and more").unwrap();
    assert_eq!(second.text(), "second");
    let resume = named(&format!("Response.resume {}", model.id()))
        .pop()
        .expect("resume span");
    assert_eq!(
        attr(&resume, "mirascope.type").as_deref(),
        Some("response_resume")
    );
    assert_eq!(
        attr(&resume, "mirascope.ops.session.id").as_deref(),
        Some("resume-session")
    );
    assert_eq!(
        attr(&resume, "mirascope.ops.session.attributes").as_deref(),
        Some(r#"{"tier":"gold"}"#)
    );
    assert_eq!(
        attr(&resume, "mirascope.trace.output").as_deref(),
        Some("second")
    );
}

/// A panic in an explicit span's body fails it (status ERROR, one `exception` event) and
/// unwinds on, as Python's `Span.__exit__` records an exception: through `in_scope`, and when
/// the unwinding drops the span.
#[test]
fn a_panic_fails_an_explicit_span() {
    otel();
    let span = ops::span("panics-in-scope");
    let caught = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        span.in_scope(|| panic!("boom"))
    }));
    assert!(caught.is_err(), "the panic goes on");
    drop(span);
    let caught = std::panic::catch_unwind(|| {
        let _span = ops::span("panics-while-held");
        panic!("boom");
    });
    assert!(caught.is_err());
    // A span that ends normally is not failed by a later, unrelated panic.
    let fine = ops::span("ends-normally");
    fine.finish();
    drop(fine);
    for name in ["panics-in-scope", "panics-while-held"] {
        let spans = named(name);
        assert_eq!(spans.len(), 1, "{name}");
        let s = &spans[0];
        assert!(
            matches!(s.status, Status::Error { .. }),
            "{name}: {:?}",
            s.status
        );
        let exceptions: Vec<_> = s.events.iter().filter(|e| e.name == "exception").collect();
        assert_eq!(exceptions.len(), 1, "{name}: one exception event");
    }
    assert_eq!(named("ends-normally")[0].status, Status::Unset);
}

/// Span attributes and event attributes may be arrays of any OpenTelemetry primitive, as
/// Python's `AttributeValue` sequences.
#[test]
fn explicit_spans_take_arrays_of_every_primitive() {
    use opentelemetry::{Array, Value};
    otel();
    let span = ops::span("arrays")
        .with("ids", vec![1i64, 2, 3])
        .with("scores", [0.5f64, 0.25])
        .with("flags", [true, false]);
    span.event("ranked", [("ids", AttributeValue::from(vec![3i64, 1]))]);
    span.finish();
    drop(span);
    let s = named("arrays").pop().expect("exported");
    let value = |key: &str| {
        s.attributes
            .iter()
            .find(|kv| kv.key.as_str() == key)
            .map(|kv| kv.value.clone())
    };
    assert_eq!(value("ids"), Some(Value::Array(Array::I64(vec![1, 2, 3]))));
    assert_eq!(
        value("scores"),
        Some(Value::Array(Array::F64(vec![0.5, 0.25])))
    );
    assert_eq!(
        value("flags"),
        Some(Value::Array(Array::Bool(vec![true, false])))
    );
    let event = s.events.iter().find(|e| e.name == "ranked").expect("event");
    assert_eq!(
        event.attributes[0].value,
        Value::Array(Array::I64(vec![3, 1]))
    );
}
