//! Layer: observation. What `tracing` fields cannot carry, written through the OpenTelemetry API
//! (no SDK) on the OpenTelemetry span behind a `tracing` span: string-array attributes,
//! attributes with keys known only at run time, events with typed attributes, and the W3C trace
//! context of provider requests (feature `otel`).
//!
//! The OpenTelemetry span is found through the lookup `mirascope-ops` installs
//! ([`install_span_context_lookup`]: its layer keeps the span in the `Registry`'s span
//! extensions, which stay reachable whatever wraps the layer), and otherwise through
//! tracing-opentelemetry's [`OpenTelemetrySpanExt`] (the application's own layer, filtered with
//! `mirascope_ops::llm_filter()`).

use opentelemetry::trace::{TraceContextExt, TraceFlags};
use opentelemetry::{Array, KeyValue, StringValue, Value};
use tracing_opentelemetry::OpenTelemetrySpanExt;

use super::{AttrValue, EventAttributes};

/// Finds the OpenTelemetry context (holding the span) that a layer keeps for a `tracing` span,
/// or `None` when that layer does not record it.
pub type SpanContextLookup = fn(&tracing::Span) -> Option<opentelemetry::Context>;

static LOOKUP: std::sync::OnceLock<SpanContextLookup> = std::sync::OnceLock::new();

/// Installs the lookup of `mirascope-ops`' layer (done once by it). Returns false if one was
/// already installed.
#[doc(hidden)]
pub fn install_span_context_lookup(lookup: SpanContextLookup) -> bool {
    LOOKUP.set(lookup).is_ok()
}

/// The OpenTelemetry context of `span`: from `mirascope-ops`' layer when it records the span,
/// else from a tracing-opentelemetry layer (an empty context when neither does).
pub fn span_context(span: &tracing::Span) -> opentelemetry::Context {
    LOOKUP
        .get()
        .and_then(|lookup| lookup(span))
        .unwrap_or_else(|| span.context())
}

impl From<AttrValue> for Value {
    fn from(v: AttrValue) -> Value {
        to_value(v)
    }
}

fn to_value(v: AttrValue) -> Value {
    match v {
        AttrValue::Str(s) => Value::String(s.into()),
        AttrValue::I64(i) => Value::I64(i),
        AttrValue::Bool(b) => Value::Bool(b),
        AttrValue::F64(f) => Value::F64(f),
        AttrValue::StrArray(items) => Value::Array(Array::String(
            items.into_iter().map(StringValue::from).collect(),
        )),
        AttrValue::I64Array(items) => Value::Array(Array::I64(items)),
        AttrValue::F64Array(items) => Value::Array(Array::F64(items)),
        AttrValue::BoolArray(items) => Value::Array(Array::Bool(items)),
    }
}

pub(crate) fn set_attribute(
    span: &tracing::Span,
    key: std::borrow::Cow<'static, str>,
    value: AttrValue,
) {
    span_context(span)
        .span()
        .set_attribute(KeyValue::new(key, to_value(value)));
}

pub(crate) fn set_attributes(
    span: &tracing::Span,
    attrs: impl IntoIterator<Item = (std::borrow::Cow<'static, str>, AttrValue)>,
) {
    span_context(span).span().set_attributes(
        attrs
            .into_iter()
            .map(|(key, value)| KeyValue::new(key, to_value(value))),
    );
}

pub(crate) fn add_event(
    span: &tracing::Span,
    name: std::borrow::Cow<'static, str>,
    attrs: EventAttributes,
) {
    span_context(span).span().add_event(
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
pub(crate) fn trace_context(span: &tracing::Span) -> Option<super::TraceContext> {
    let cx = span_context(span);
    let otel_span = cx.span();
    let sc = otel_span.span_context();
    if !sc.is_valid() {
        return None;
    }
    let flags = sc.trace_flags() & TraceFlags::SAMPLED;
    let state = sc.trace_state().header();
    Some(super::TraceContext {
        traceparent: traceparent(
            sc.trace_id().to_bytes(),
            sc.span_id().to_bytes(),
            flags.to_u8(),
        ),
        tracestate: (!state.is_empty()).then_some(state),
    })
}

/// The `traceparent` value `00-{trace id}-{span id}-{flags}` in lowercase hex, as
/// `TraceContextPropagator` writes it (`{:032x}`, `{:016x}`, `{:02x}`), written byte by byte
/// into one buffer: it is built on every call, and the formatter costs ten times as much.
fn traceparent(trace_id: [u8; 16], span_id: [u8; 8], flags: u8) -> String {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    fn hex(bytes: &[u8], out: &mut Vec<u8>) {
        for b in bytes {
            out.push(HEX[usize::from(b >> 4)]);
            out.push(HEX[usize::from(b & 0xf)]);
        }
    }
    let mut out = Vec::with_capacity(55);
    out.extend_from_slice(b"00-");
    hex(&trace_id, &mut out);
    out.push(b'-');
    hex(&span_id, &mut out);
    out.push(b'-');
    hex(&[flags], &mut out);
    // Only ASCII hex digits and dashes were written.
    String::from_utf8(out).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use opentelemetry::trace::{SpanId, TraceId};

    proptest::proptest! {
        #[test]
        fn traceparent_is_what_the_formatter_writes(
            trace in proptest::prelude::any::<u128>(),
            span in proptest::prelude::any::<u64>(),
            flags in proptest::prelude::any::<u8>(),
        ) {
            let (trace_id, span_id) = (TraceId::from(trace), SpanId::from(span));
            proptest::prop_assert_eq!(
                traceparent(trace_id.to_bytes(), span_id.to_bytes(), flags),
                format!("00-{trace_id}-{span_id}-{flags:02x}")
            );
        }
    }
}
