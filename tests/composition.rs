//! The GenAI spans in every subscriber arrangement a user may already have: `ops::configure`
//! alone, `ops::layer` in the user's registry with `fmt` and `EnvFilter`, `ops::layer` next to the
//! user's own tracing-opentelemetry layer (unfiltered, in either order, or filtered with
//! `ops::exclude_mirascope()`), and the user's layer alone with `ops::llm_filter()`. In each, the
//! user's `#[tracing::instrument]` span is the parent of the chat span and every span is exported
//! exactly once.
//!
//! Each test owns its subscriber (`with_default`) and its in-memory exporters; only
//! `configure_alone` installs the global subscriber.

mod common;

use common::{json_response, serve, Wire};
use mirascope::llm::Model;
use mirascope::ops;
use mirascope::ops::testing::{SpanData, SpanExporter};
use opentelemetry::trace::TracerProvider as _;
use tracing_subscriber::filter::{EnvFilter, LevelFilter};
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::Layer;

#[tracing::instrument(name = "handler", skip_all)]
async fn handler(model: &Model) {
    model.call("hi").await.expect("call");
}

fn finished(exporters: &[&SpanExporter]) -> Vec<SpanData> {
    exporters
        .iter()
        .flat_map(|e| e.get_finished_spans().expect("spans"))
        .collect()
}

/// The chat span of `model` and the handler span, each exported exactly once, linked as child
/// and parent in one trace.
fn assert_linked(spans: &[SpanData], model: &Model, what: &str) -> (SpanData, SpanData) {
    let chat: Vec<_> = spans
        .iter()
        .filter(|s| s.name == format!("chat {}", model.id()))
        .collect();
    let handler: Vec<_> = spans.iter().filter(|s| s.name == "handler").collect();
    assert_eq!(chat.len(), 1, "{what}: one chat span, got {spans:#?}");
    assert_eq!(handler.len(), 1, "{what}: one handler span");
    let (chat, handler) = (chat[0].clone(), handler[0].clone());
    assert_eq!(
        chat.span_context.trace_id(),
        handler.span_context.trace_id(),
        "{what}: one trace"
    );
    assert_eq!(
        chat.parent_span_id,
        handler.span_context.span_id(),
        "{what}: the handler is the parent"
    );
    assert!(
        chat.attributes
            .iter()
            .any(|kv| kv.key.as_str() == "gen_ai.provider.name"),
        "{what}: gen_ai attributes"
    );
    (chat, handler)
}

fn has_attr(span: &SpanData, key: &str) -> bool {
    span.attributes.iter().any(|kv| kv.key.as_str() == key)
}

fn text_server() -> (mirascope::llm::replay::ReplayServer, Model) {
    let wire = Wire::Completions;
    serve(wire, vec![json_response(200, wire.text_body("Hello!"))])
}

#[tokio::test]
async fn configure_alone() {
    let (provider, exporter) = ops::testing::in_memory_provider();
    let _guard = ops::configure(provider).expect("configure");
    ops::instrument_llm().expect("instrument");
    let (_server, model) = text_server();
    handler(&model).await;
    let spans = finished(&[&exporter]);
    let (chat, handler) = assert_linked(&spans, &model, "configure alone");
    assert_eq!(chat.instrumentation_scope.name(), ops::DEFAULT_TRACER_NAME);
    assert_eq!(handler.instrumentation_scope.name(), ops::APP_TRACER_NAME);
    // The array attribute set through the OpenTelemetry API (`genai/otel.rs`).
    assert!(has_attr(&chat, "gen_ai.response.finish_reasons"));
}

#[tokio::test]
async fn ops_layer_in_the_users_registry_with_fmt_and_env_filter() {
    let (provider, exporter) = ops::testing::in_memory_provider();
    let subscriber = tracing_subscriber::registry()
        .with(EnvFilter::new("info"))
        .with(tracing_subscriber::fmt::layer().with_test_writer())
        .with(ops::layer(&provider));
    let _default = tracing::subscriber::set_default(subscriber);
    ops::instrument_llm().expect("instrument");
    let (_server, model) = text_server();
    handler(&model).await;
    assert_linked(&finished(&[&exporter]), &model, "fmt + EnvFilter");
}

#[tokio::test]
async fn env_filter_at_warn_drops_genai_spans_unless_mirascope_is_named() {
    for (directive, kept) in [
        ("warn", false),
        ("warn,mirascope_llm=info,mirascope_ops=info", true),
    ] {
        let (provider, exporter) = ops::testing::in_memory_provider();
        let subscriber = tracing_subscriber::registry()
            .with(EnvFilter::new(directive))
            .with(ops::layer(&provider));
        let _default = tracing::subscriber::set_default(subscriber);
        ops::instrument_llm().expect("instrument");
        let (_server, model) = text_server();
        model.call("hi").await.expect("call");
        let chats = finished(&[&exporter])
            .into_iter()
            .filter(|s| s.name.starts_with("chat "))
            .count();
        assert_eq!(chats, usize::from(kept), "EnvFilter {directive:?}");
    }
}

/// The user's own tracing-opentelemetry layer, unfiltered, added before or after ours: no
/// panic; the provider we were given receives every GenAI span once (array attributes
/// included), the user's layer records them too (to its own provider), the user's span is left
/// to the user's layer and is the chat span's parent, and the program is told.
#[tokio::test]
async fn users_unfiltered_otel_layer_next_to_ops_layer_in_either_order() {
    for users_first in [true, false] {
        let (ours, our_exporter) = ops::testing::in_memory_provider();
        let (theirs, their_exporter) = ops::testing::in_memory_provider();
        macro_rules! users {
            () => {
                tracing_opentelemetry::layer().with_tracer(theirs.tracer("my-app"))
            };
        }
        let dispatch = if users_first {
            tracing::Dispatch::new(
                tracing_subscriber::registry()
                    .with(users!())
                    .with(ops::layer(&ours)),
            )
        } else {
            tracing::Dispatch::new(
                tracing_subscriber::registry()
                    .with(ops::layer(&ours))
                    .with(users!()),
            )
        };
        let _default = tracing::dispatcher::set_default(&dispatch);
        ops::instrument_llm().expect("instrument");
        let (_server, model) = text_server();
        handler(&model).await;
        let what = format!("user's layer first: {users_first}");
        let ours_got = finished(&[&our_exporter]);
        let chat: Vec<_> = ours_got
            .iter()
            .filter(|s| s.name == format!("chat {}", model.id()))
            .collect();
        assert_eq!(chat.len(), 1, "{what}: {ours_got:#?}");
        assert_eq!(
            chat[0].instrumentation_scope.name(),
            ops::DEFAULT_TRACER_NAME,
            "{what}"
        );
        assert!(
            has_attr(chat[0], "gen_ai.response.finish_reasons"),
            "{what}"
        );
        assert!(
            ours_got.iter().all(|s| s.name != "handler"),
            "{what}: the user's span is the user's layer's"
        );
        let theirs_got = finished(&[&their_exporter]);
        let handler = theirs_got
            .iter()
            .find(|s| s.name == "handler")
            .expect("handler");
        assert_eq!(
            chat[0].parent_span_id,
            handler.span_context.span_id(),
            "{what}"
        );
        assert!(
            theirs_got
                .iter()
                .any(|s| s.name == format!("chat {}", model.id())),
            "{what}: the user's layer records the chat span too"
        );
        assert!(ops::another_layer_records_mirascope_spans());
    }
}

/// The supported way to keep both: the user's layer filtered with `exclude_mirascope()`.
#[tokio::test]
async fn users_otel_layer_filtered_with_exclude_mirascope() {
    for users_first in [true, false] {
        let (ours, our_exporter) = ops::testing::in_memory_provider();
        let (theirs, their_exporter) = ops::testing::in_memory_provider();
        macro_rules! users {
            () => {
                tracing_opentelemetry::layer()
                    .with_tracer(theirs.tracer("my-app"))
                    .with_filter(ops::exclude_mirascope())
            };
        }
        macro_rules! ops_layer {
            () => {
                ops::LayerBuilder::new(&ours)
                    .app_spans(LevelFilter::OFF)
                    .build()
            };
        }
        let dispatch = if users_first {
            tracing::Dispatch::new(
                tracing_subscriber::registry()
                    .with(users!())
                    .with(ops_layer!()),
            )
        } else {
            tracing::Dispatch::new(
                tracing_subscriber::registry()
                    .with(ops_layer!())
                    .with(users!()),
            )
        };
        let _default = tracing::dispatcher::set_default(&dispatch);
        ops::instrument_llm().expect("instrument");
        let (_server, model) = text_server();
        handler(&model).await;
        let what = format!("exclude_mirascope, user's layer first: {users_first}");
        let spans = finished(&[&our_exporter, &their_exporter]);
        let (chat, handler) = assert_linked(&spans, &model, &what);
        assert_eq!(
            chat.instrumentation_scope.name(),
            ops::DEFAULT_TRACER_NAME,
            "{what}"
        );
        assert_eq!(handler.instrumentation_scope.name(), "my-app", "{what}");
    }
}

/// The user's layer instead of ours, with `llm_filter()`: GenAI spans (array attributes
/// included) come out through it, parented to the user's span.
#[tokio::test]
async fn users_otel_layer_alone_with_llm_filter() {
    let (theirs, their_exporter) = ops::testing::in_memory_provider();
    let users = tracing_opentelemetry::layer()
        .with_tracer(theirs.tracer("my-app"))
        .with_filter(ops::llm_filter());
    let _default = tracing::subscriber::set_default(tracing_subscriber::registry().with(users));
    ops::instrument_llm().expect("instrument");
    let (_server, model) = text_server();
    handler(&model).await;
    let spans = finished(&[&their_exporter]);
    let (chat, _) = assert_linked(&spans, &model, "user's layer alone");
    assert!(has_attr(&chat, "gen_ai.response.finish_reasons"));
}

/// An application span's `u64` fields are OpenTelemetry integers (as tracing-opentelemetry
/// records them), not their `Debug` text; one above `i64::MAX` is kept as its decimal text,
/// never wrapped to a negative number.
#[test]
fn u64_fields_of_application_spans_are_integers() {
    use opentelemetry::Value;
    let (provider, exporter) = ops::testing::in_memory_provider();
    let subscriber = tracing_subscriber::registry().with(ops::layer(&provider));
    tracing::subscriber::with_default(subscriber, || {
        let span = tracing::info_span!(
            "app",
            small = 7u64,
            huge = u64::MAX,
            later = tracing::field::Empty
        );
        span.record("later", 9u64);
    });
    drop(provider.force_flush());
    let spans = finished(&[&exporter]);
    let app = spans.iter().find(|s| s.name == "app").expect("app span");
    let attr = |key: &str| {
        app.attributes
            .iter()
            .find(|kv| kv.key.as_str() == key)
            .map(|kv| kv.value.clone())
    };
    assert_eq!(attr("small"), Some(Value::I64(7)), "{app:#?}");
    assert_eq!(attr("later"), Some(Value::I64(9)), "{app:#?}");
    assert_eq!(attr("huge"), Some(Value::from(u64::MAX.to_string())));
}
