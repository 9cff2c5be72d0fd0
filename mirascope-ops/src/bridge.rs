//! The OpenTelemetry side of what `tracing` fields cannot carry (installed into `mirascope-llm`):
//! string-array attributes, events with typed attributes, and W3C trace-context injection.

use mirascope_llm::genai::{AttrValue, OtelBridge};
use opentelemetry::propagation::{Injector, TextMapPropagator};
use opentelemetry::{Array, KeyValue, StringValue, Value};
use opentelemetry_sdk::propagation::TraceContextPropagator;
use tracing_opentelemetry::OpenTelemetrySpanExt;

fn to_value(v: AttrValue) -> Value {
    match v {
        AttrValue::Str(s) => Value::String(s.into()),
        AttrValue::I64(i) => Value::I64(i),
        AttrValue::Bool(b) => Value::Bool(b),
        AttrValue::F64(f) => Value::F64(f),
        AttrValue::StrArray(items) => Value::Array(Array::String(
            items.into_iter().map(StringValue::from).collect(),
        )),
    }
}

fn set_attribute(span: &tracing::Span, key: std::borrow::Cow<'static, str>, value: AttrValue) {
    span.set_attribute(key, to_value(value));
}

fn add_event(
    span: &tracing::Span,
    name: std::borrow::Cow<'static, str>,
    attrs: Vec<(std::borrow::Cow<'static, str>, AttrValue)>,
) {
    span.add_event(
        name,
        attrs
            .into_iter()
            .map(|(k, v)| KeyValue::new(k, to_value(v)))
            .collect(),
    );
}

struct Headers<'a>(&'a mut Vec<(String, String)>);

impl Injector for Headers<'_> {
    fn set(&mut self, key: &str, value: String) {
        self.0.push((key.to_string(), value));
    }
}

fn inject_context(span: &tracing::Span, headers: &mut Vec<(String, String)>) {
    let cx = span.context();
    TraceContextPropagator::new().inject_context(&cx, &mut Headers(headers));
}

/// Installs the bridge once per process.
pub(crate) fn install() {
    mirascope_llm::genai::install_otel_bridge(OtelBridge {
        session: || {
            crate::session::current_session().map(|s| (s.id, s.attributes.map(|a| a.to_string())))
        },
        set_attribute,
        add_event,
        inject_context,
    });
}
