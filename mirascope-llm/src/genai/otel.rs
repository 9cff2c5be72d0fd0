//! Layer: observation. What `tracing` fields cannot carry, written through tracing-opentelemetry's
//! span extension ([`OpenTelemetrySpanExt`]) and the OpenTelemetry API (no SDK): string-array
//! attributes, attributes with keys known only at run time, events with typed attributes, and
//! the W3C trace context of provider requests. It works with any tracing-opentelemetry layer of
//! the same version, mirascope-ops' or the application's own (feature `otel`).

use opentelemetry::trace::{TraceContextExt, TraceFlags};
use opentelemetry::{Array, KeyValue, StringValue, Value};
use tracing_opentelemetry::OpenTelemetrySpanExt;

use super::{AttrValue, EventAttributes};

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

pub(crate) fn set_attribute(
    span: &tracing::Span,
    key: std::borrow::Cow<'static, str>,
    value: AttrValue,
) {
    span.set_attribute(key, to_value(value));
}

pub(crate) fn add_event(
    span: &tracing::Span,
    name: std::borrow::Cow<'static, str>,
    attrs: EventAttributes,
) {
    span.add_event(
        name,
        attrs
            .into_iter()
            .map(|(k, v)| KeyValue::new(k, to_value(v)))
            .collect(),
    );
}

/// The W3C trace-context headers of `span`: `traceparent` (version `00`, trace id, span id,
/// sampled flag), and `tracestate` when the state is not empty, as OpenTelemetry's
/// `TraceContextPropagator` writes them (Python's omits an empty `tracestate`; so do we).
/// Formatted straight from the span context: no propagator lookup, no map.
pub(crate) fn trace_context_headers(span: &tracing::Span, headers: &mut Vec<(String, String)>) {
    let cx = span.context();
    let otel_span = cx.span();
    let sc = otel_span.span_context();
    if !sc.is_valid() {
        return;
    }
    let flags = sc.trace_flags() & TraceFlags::SAMPLED;
    headers.push((
        "traceparent".to_string(),
        format!(
            "00-{}-{}-{:02x}",
            sc.trace_id(),
            sc.span_id(),
            flags.to_u8()
        ),
    ));
    let state = sc.trace_state().header();
    if !state.is_empty() {
        headers.push(("tracestate".to_string(), state));
    }
}
