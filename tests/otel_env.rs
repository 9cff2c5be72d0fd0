//! The standard `OTEL_*` variables (OpenTelemetry SDK environment variable spec):
//! `OTEL_TRACES_EXPORTER`, `OTEL_TRACES_SAMPLER`, the attribute value length
//! limits and `OTEL_PROPAGATORS`. The environment is process-wide, so this binary has one test
//! that walks through the variables in order, restoring each.

mod common;

use std::collections::HashMap;

use common::{json_response, serve, with_env, Wire};
use mirascope::ops::{self, OpsError, PropagatorFormat};
use opentelemetry::trace::{TraceContextExt, Tracer, TracerProvider as _};
use tracing_subscriber::layer::SubscriberExt;

fn invalid_var(err: OpsError) -> (&'static str, String) {
    match err {
        OpsError::InvalidEnvVar { name, .. } => (name, err.to_string()),
        other => panic!("expected InvalidEnvVar, got {other:?}"),
    }
}

/// One GenAI call through `ops::layer(&provider)`, scoped to this thread; the exported spans.
fn one_call(
    provider: ops::sdk::trace::SdkTracerProvider,
    exporter: &ops::testing::SpanExporter,
) -> Vec<ops::testing::SpanData> {
    let subscriber = tracing_subscriber::registry().with(ops::layer(&provider));
    tracing::subscriber::with_default(subscriber, || {
        ops::instrument_llm().expect("instrument");
        let wire = Wire::Completions;
        let (_server, model) = serve(
            wire,
            vec![json_response(200, wire.text_body("a long answer text"))],
        );
        model.call_blocking("a long prompt text").expect("call");
    });
    exporter.get_finished_spans().expect("spans")
}

/// The chat span of one call exported through `LengthLimited` at `limit` characters.
fn chat_span_limited_to(limit: usize) -> ops::testing::SpanData {
    let exporter = ops::testing::SpanExporter::default();
    let provider = ops::sdk::trace::SdkTracerProvider::builder()
        .with_simple_exporter(ops::export::LengthLimited::new(
            exporter.clone(),
            Some(limit),
        ))
        .build();
    one_call(provider, &exporter)
        .into_iter()
        .find(|s| s.name.starts_with("chat "))
        .expect("chat span")
}

fn attr_text(span: &ops::testing::SpanData, key: &str) -> String {
    span.attributes
        .iter()
        .find(|kv| kv.key.as_str() == key)
        .map(|kv| kv.value.as_str().into_owned())
        .unwrap_or_else(|| panic!("{key} recorded"))
}

#[test]
fn standard_environment_variables() {
    // OTEL_TRACES_EXPORTER: an unknown value is a typed error listing the valid ones.
    let err = with_env(&[("OTEL_TRACES_EXPORTER", "zipkin")], || {
        ops::configure_from_env().expect_err("unknown exporter")
    });
    let (name, message) = invalid_var(err);
    assert_eq!(name, "OTEL_TRACES_EXPORTER");
    assert!(message.contains("otlp, console or none"), "{message}");
    // `none`: nothing to export.
    let provider = with_env(&[("OTEL_TRACES_EXPORTER", "none")], || {
        ops::export::provider_from_env().expect("none is valid")
    });
    assert!(provider.is_none());
    // `console`, and a list.
    for value in ["console", "console,otlp"] {
        let provider = with_env(&[("OTEL_TRACES_EXPORTER", value)], || {
            ops::export::provider_from_env().expect("valid")
        });
        assert!(provider.is_some(), "{value}");
    }
    // Nothing global was installed by any of this.
    assert!(!tracing::dispatcher::has_been_set());

    // OTEL_TRACES_SAMPLER / _ARG: honoured by the providers we build (the SDK reads them).
    for (sampler, expected) in [("always_off", 0), ("always_on", 1)] {
        let (provider, exporter) = with_env(&[("OTEL_TRACES_SAMPLER", sampler)], || {
            ops::testing::in_memory_provider()
        });
        let chats = one_call(provider, &exporter)
            .into_iter()
            .filter(|s| s.name.starts_with("chat "))
            .count();
        assert_eq!(chats, expected, "OTEL_TRACES_SAMPLER={sampler}");
    }

    // Attribute value length limits: the span-specific variable wins; a bad value is an error.
    let limit = with_env(
        &[
            ("OTEL_ATTRIBUTE_VALUE_LENGTH_LIMIT", "100"),
            ("OTEL_SPAN_ATTRIBUTE_VALUE_LENGTH_LIMIT", "12"),
        ],
        ops::export::attribute_value_length_limit_from_env,
    );
    assert_eq!(limit.expect("valid"), Some(12));
    let limit = with_env(
        &[("OTEL_ATTRIBUTE_VALUE_LENGTH_LIMIT", "7")],
        ops::export::attribute_value_length_limit_from_env,
    );
    assert_eq!(limit.expect("valid"), Some(7));
    let err = with_env(
        &[("OTEL_ATTRIBUTE_VALUE_LENGTH_LIMIT", "lots")],
        ops::configure_from_env,
    )
    .expect_err("not a number");
    assert_eq!(invalid_var(err).0, "OTEL_ATTRIBUTE_VALUE_LENGTH_LIMIT");
    // ... and the limit is applied to every string attribute and array item before export.
    let chat = chat_span_limited_to(12);
    assert_eq!(
        attr_text(&chat, "gen_ai.input.messages").chars().count(),
        12
    );
    for kv in &chat.attributes {
        if let opentelemetry::Value::String(s) = &kv.value {
            assert!(s.as_str().chars().count() <= 12, "{} not cut", kv.key);
        }
    }

    // A JSON attribute over a limit that leaves room is replaced by a JSON marker with its
    // original length (consumers never parse a cut document).
    let chat = chat_span_limited_to(60);
    let marker: serde_json::Value =
        serde_json::from_str(&attr_text(&chat, "gen_ai.output.messages")).expect("valid JSON");
    assert!(
        marker["mirascope.truncated"]["original_length"].as_u64() > Some(60),
        "{marker}"
    );

    // OTEL_PROPAGATORS: one format, a list (only the formats named are written), `none`, errors;
    // MIRASCOPE_PROPAGATOR wins.
    let format = with_env(&[("OTEL_PROPAGATORS", "b3")], ops::propagator_format);
    assert_eq!(format.expect("valid"), PropagatorFormat::B3);
    let format = with_env(
        &[
            ("OTEL_PROPAGATORS", "b3"),
            ("MIRASCOPE_PROPAGATOR", "jaeger"),
        ],
        ops::propagator_format,
    );
    assert_eq!(format.expect("valid"), PropagatorFormat::Jaeger);
    let err = with_env(
        &[("OTEL_PROPAGATORS", "tracecontext,xray")],
        ops::propagator_format,
    )
    .expect_err("xray is not supported");
    assert_eq!(invalid_var(err).0, "OTEL_PROPAGATORS");
    let (provider, _exporter) = ops::testing::in_memory_provider();
    let tracer = provider.tracer("test");
    let span = tracer.start("outgoing");
    let cx = opentelemetry::Context::current_with_span(span);
    let _attached = cx.attach();
    let headers = |list: &str| {
        with_env(&[("OTEL_PROPAGATORS", list)], || {
            let mut carrier = HashMap::<String, String>::new();
            ops::inject_context(&mut carrier).expect("inject");
            let mut keys: Vec<String> = carrier.into_keys().collect();
            keys.sort();
            keys
        })
    };
    assert_eq!(headers("tracecontext,baggage,b3"), ["b3", "traceparent"]);
    assert_eq!(
        headers("b3multi,jaeger"),
        [
            "uber-trace-id",
            "x-b3-sampled",
            "x-b3-spanid",
            "x-b3-traceid"
        ]
    );
    assert_eq!(headers("jaeger"), ["uber-trace-id"]);
    assert!(headers("none").is_empty());
}
