//! The trace-context header formats besides W3C `tracecontext` (the SDK's): Zipkin B3 (single
//! `b3` header, or `x-b3-*` headers) and Jaeger's `uber-trace-id`. Written to interoperate with
//! the Python OpenTelemetry propagators (`opentelemetry-propagator-b3`, `-jaeger`) that Python
//! Mirascope services use: the headers they write and read are kept as data in
//! `tests/fixtures/propagation/`.

use opentelemetry::propagation::text_map_propagator::FieldIter;
use opentelemetry::propagation::{Extractor, Injector, TextMapPropagator};
use opentelemetry::trace::{SpanContext, SpanId, TraceContextExt, TraceFlags, TraceId, TraceState};
use opentelemetry::Context;
use std::sync::LazyLock;

const B3_SINGLE: &str = "b3";
const B3_TRACE_ID: &str = "x-b3-traceid";
const B3_SPAN_ID: &str = "x-b3-spanid";
const B3_SAMPLED: &str = "x-b3-sampled";
const B3_FLAGS: &str = "x-b3-flags";
const B3_PARENT: &str = "x-b3-parentspanid";
const UBER: &str = "uber-trace-id";

/// The headers each format reads (what `TextMapPropagator::fields` reports).
static B3_FIELDS: LazyLock<Vec<String>> = LazyLock::new(|| {
    [
        B3_SINGLE,
        B3_TRACE_ID,
        B3_SPAN_ID,
        B3_SAMPLED,
        B3_FLAGS,
        B3_PARENT,
    ]
    .map(String::from)
    .to_vec()
});
static JAEGER_FIELDS: LazyLock<Vec<String>> = LazyLock::new(|| vec![UBER.to_string()]);

/// Which B3 headers a [`B3`] propagator writes. Both forms are always read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum B3Encoding {
    /// `b3: {trace}-{span}-{sampled}`.
    Single,
    /// `x-b3-traceid`, `x-b3-spanid`, `x-b3-sampled`.
    Multi,
}

/// Zipkin B3 (<https://github.com/openzipkin/b3-propagation>).
///
/// Inject, as Python's `B3SingleFormat` / `B3MultiFormat.inject`: nothing without a valid span
/// context; the single form writes only `b3`, the multi form only `x-b3-*`; the sampling state is
/// `1` or `0`.
///
/// Extract, as Python's `B3MultiFormat.extract`: the single header when present, else the
/// multi headers; 16- or 32-hex trace ids (16 are left-padded), 16-hex span ids, anything else
/// gives no parent. Sampled when the state is `1`, `true` or `d` (debug), or `x-b3-flags: 1`
/// (debug implies accept). A missing sampling state is B3's "deferred": the decision is ours, and
/// the parent is marked sampled so the local sampler's parent-based default records it, as
/// Python does for the single header (Python denies a deferred multi-header context; we treat
/// both forms alike).
#[derive(Debug, Clone, Copy)]
pub(crate) struct B3 {
    pub(crate) encoding: B3Encoding,
}

/// The B3 sampling state: `Some(accept)`, or `None` for deferred.
fn b3_sampled(state: Option<&str>, flags: Option<&str>) -> Option<bool> {
    if flags.map(str::trim) == Some("1") {
        return Some(true);
    }
    match state.map(|s| s.trim().to_ascii_lowercase()) {
        None => None,
        Some(s) if s.is_empty() => None,
        Some(s) => Some(matches!(s.as_str(), "1" | "true" | "d")),
    }
}

fn is_hex(s: &str) -> bool {
    s.bytes().all(|b| b.is_ascii_hexdigit())
}

/// A trace id of 16 or 32 hex digits (16 are left-padded with zeros), not all zeros.
fn parse_trace_id(s: &str) -> Option<TraceId> {
    let s = s.trim();
    if !(s.len() == 16 || s.len() == 32) || !is_hex(s) {
        return None;
    }
    TraceId::from_hex(&format!("{s:0>32}"))
        .ok()
        .filter(|t| *t != TraceId::INVALID)
}

/// A span id of 16 hex digits, not all zeros.
fn parse_span_id(s: &str) -> Option<SpanId> {
    let s = s.trim();
    if s.len() != 16 || !is_hex(s) {
        return None;
    }
    SpanId::from_hex(s).ok().filter(|s| *s != SpanId::INVALID)
}

fn remote(cx: &Context, trace_id: TraceId, span_id: SpanId, sampled: bool) -> Context {
    let flags = if sampled {
        TraceFlags::SAMPLED
    } else {
        TraceFlags::default()
    };
    cx.with_remote_span_context(SpanContext::new(
        trace_id,
        span_id,
        flags,
        true,
        TraceState::default(),
    ))
}

impl TextMapPropagator for B3 {
    fn inject_context(&self, cx: &Context, injector: &mut dyn Injector) {
        let span = cx.span();
        let sc = span.span_context();
        if !sc.is_valid() {
            return;
        }
        let sampled = if sc.is_sampled() { "1" } else { "0" };
        match self.encoding {
            B3Encoding::Single => injector.set(
                B3_SINGLE,
                format!("{}-{}-{sampled}", sc.trace_id(), sc.span_id()),
            ),
            B3Encoding::Multi => {
                injector.set(B3_TRACE_ID, sc.trace_id().to_string());
                injector.set(B3_SPAN_ID, sc.span_id().to_string());
                injector.set(B3_SAMPLED, sampled.to_string());
            }
        }
    }

    fn extract_with_context(&self, cx: &Context, extractor: &dyn Extractor) -> Context {
        let (trace_id, span_id, state, flags) = match extractor
            .get(B3_SINGLE)
            .filter(|v| !v.trim().is_empty())
        {
            Some(single) => {
                let fields: Vec<&str> = single.trim().splitn(4, '-').collect();
                match fields.as_slice() {
                    [t, s] => (*t, *s, None, None),
                    [t, s, state] | [t, s, state, _] => (*t, *s, Some(*state), None),
                    // `b3: 0` (or `1`, `d`) alone carries no parent.
                    _ => return cx.clone(),
                }
            }
            None => match (extractor.get(B3_TRACE_ID), extractor.get(B3_SPAN_ID)) {
                (Some(t), Some(s)) => (t, s, extractor.get(B3_SAMPLED), extractor.get(B3_FLAGS)),
                _ => return cx.clone(),
            },
        };
        match (parse_trace_id(trace_id), parse_span_id(span_id)) {
            (Some(t), Some(s)) => remote(cx, t, s, b3_sampled(state, flags).unwrap_or(true)),
            _ => cx.clone(),
        }
    }

    fn fields(&self) -> FieldIter<'_> {
        FieldIter::new(B3_FIELDS.as_slice())
    }
}

/// Jaeger's `uber-trace-id: {trace-id}:{span-id}:{parent-span-id}:{flags}` (no OpenTelemetry 0.33
/// crate exists for it).
///
/// Inject, as Python's `JaegerPropagator.inject`: 32-hex trace id, 16-hex span and parent ids
/// (parent zero), flags as two hex digits, with the debug bit (`0x02`) next to sampled (`0x01`)
/// when sampled. Extract: the four fields, trace ids of up to 32 hex digits (left-padded), sampled
/// from bit `0x01`; URL-encoded colons (`%3A`, as some Jaeger clients send) are decoded.
#[derive(Debug, Default, Clone, Copy)]
pub(crate) struct Jaeger;

const JAEGER_SAMPLED: u8 = 0x01;
const JAEGER_DEBUG: u8 = 0x02;

impl TextMapPropagator for Jaeger {
    fn inject_context(&self, cx: &Context, injector: &mut dyn Injector) {
        let span = cx.span();
        let sc = span.span_context();
        if sc.is_valid() {
            let flags = if sc.is_sampled() {
                JAEGER_SAMPLED | JAEGER_DEBUG
            } else {
                0
            };
            injector.set(
                UBER,
                format!(
                    "{}:{}:{}:{flags:02x}",
                    sc.trace_id(),
                    sc.span_id(),
                    SpanId::INVALID
                ),
            );
        }
    }

    fn extract_with_context(&self, cx: &Context, extractor: &dyn Extractor) -> Context {
        let Some(value) = extractor.get(UBER) else {
            return cx.clone();
        };
        let value = value.replace("%3A", ":").replace("%3a", ":");
        let parts: Vec<&str> = value.trim().split(':').collect();
        let [trace, span, _parent, flags] = parts.as_slice() else {
            return cx.clone();
        };
        let trace_id = (!trace.is_empty() && trace.len() <= 32 && is_hex(trace))
            .then(|| TraceId::from_hex(&format!("{trace:0>32}")).ok())
            .flatten()
            .filter(|t| *t != TraceId::INVALID);
        let span_id = (!span.is_empty() && span.len() <= 16 && is_hex(span))
            .then(|| SpanId::from_hex(&format!("{span:0>16}")).ok())
            .flatten()
            .filter(|s| *s != SpanId::INVALID);
        let flags = u8::from_str_radix(flags, 16).ok();
        match (trace_id, span_id, flags) {
            (Some(t), Some(s), Some(f)) => remote(cx, t, s, f & JAEGER_SAMPLED != 0),
            _ => cx.clone(),
        }
    }

    fn fields(&self) -> FieldIter<'_> {
        FieldIter::new(JAEGER_FIELDS.as_slice())
    }
}
