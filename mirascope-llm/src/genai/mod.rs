//! GenAI instrumentation: every model call opens one `tracing` span (target [`TARGET`]) whose
//! fields are the OpenTelemetry GenAI attributes (`gen_ai.*`) and Mirascope's
//! `mirascope.response.*` attributes.
//!
//! Where each attribute is computed:
//! - [`span`]: span creation, request params (`gen_ai.request.*`), response, usage, errors,
//!   the stream span lifecycle;
//! - [`encode`]: the `gen_ai.*` JSON (messages, system instructions, tool definitions,
//!   finish reasons);
//! - [`mirascope`]: the `mirascope.response.*` JSON.
//!
//! The spans cost a few nanoseconds when no subscriber listens: nothing is built unless the span
//! is enabled. `mirascope-ops` turns them into OpenTelemetry spans; any other `tracing`
//! subscriber sees them too.
//!
//! Layer: observation (the crate docs list the layers: data, wire, call, observation).

pub mod anthropic_instrumentor;
pub mod encode;
pub mod google_genai_instrumentor;
pub mod http_call;
pub(crate) mod in_span;
pub mod keys;
pub mod metrics;
pub mod mirascope;
pub mod openai_v2;
#[cfg(feature = "otel")]
mod otel;
pub mod resume;
pub mod span;

use std::sync::atomic::{AtomicBool, AtomicU8, Ordering};
use std::sync::OnceLock;

#[cfg(feature = "otel")]
#[doc(hidden)]
pub use otel::install_span_context_lookup;
#[cfg(feature = "otel")]
pub use otel::{span_context, SpanContextLookup};
pub use span::StreamSpan;

/// The `tracing` target of GenAI spans.
pub const TARGET: &str = "mirascope_llm::genai";

/// The `tracing` target of Mirascope's own INTERNAL spans (`Response.resume`, traces).
pub const OPS_TARGET: &str = "mirascope_ops";

/// A value of an OpenTelemetry event or array attribute.
#[derive(Debug, Clone, PartialEq)]
pub enum AttrValue {
    /// A string.
    Str(String),
    /// An integer.
    I64(i64),
    /// A boolean.
    Bool(bool),
    /// A float.
    F64(f64),
    /// A string array.
    StrArray(Vec<String>),
    /// An integer array.
    I64Array(Vec<i64>),
    /// A float array.
    F64Array(Vec<f64>),
    /// A boolean array.
    BoolArray(Vec<bool>),
}

/// Arrays of each OpenTelemetry primitive (as Python's `AttributeValue` sequences).
macro_rules! from_array {
    ($($t:ty => $variant:ident),*) => {$(
        impl From<Vec<$t>> for AttrValue {
            fn from(v: Vec<$t>) -> Self {
                AttrValue::$variant(v)
            }
        }
        impl From<&[$t]> for AttrValue {
            fn from(v: &[$t]) -> Self {
                AttrValue::$variant(v.to_vec())
            }
        }
        impl<const N: usize> From<[$t; N]> for AttrValue {
            fn from(v: [$t; N]) -> Self {
                AttrValue::$variant(v.to_vec())
            }
        }
    )*};
}
from_array!(i64 => I64Array, f64 => F64Array, bool => BoolArray);

impl From<&str> for AttrValue {
    fn from(v: &str) -> Self {
        AttrValue::Str(v.to_string())
    }
}
impl From<String> for AttrValue {
    fn from(v: String) -> Self {
        AttrValue::Str(v)
    }
}
impl From<i64> for AttrValue {
    fn from(v: i64) -> Self {
        AttrValue::I64(v)
    }
}
/// Integers that fit in an `i64`.
macro_rules! from_small_int {
    ($($t:ty),*) => {$(
        impl From<$t> for AttrValue {
            fn from(v: $t) -> Self {
                AttrValue::I64(v.into())
            }
        }
    )*};
}
from_small_int!(i8, i16, i32, u8, u16, u32);

/// Unsigned or pointer-sized integers: OpenTelemetry has no unsigned integers, so a value above
/// `i64::MAX` is recorded as its decimal string rather than wrapped.
macro_rules! from_wide_int {
    ($($t:ty),*) => {$(
        impl From<$t> for AttrValue {
            fn from(v: $t) -> Self {
                i64::try_from(v).map_or_else(|_| AttrValue::Str(v.to_string()), AttrValue::I64)
            }
        }
    )*};
}
from_wide_int!(u64, usize, isize);

impl From<f64> for AttrValue {
    fn from(v: f64) -> Self {
        AttrValue::F64(v)
    }
}
impl From<bool> for AttrValue {
    fn from(v: bool) -> Self {
        AttrValue::Bool(v)
    }
}
impl From<Vec<String>> for AttrValue {
    fn from(v: Vec<String>) -> Self {
        AttrValue::StrArray(v)
    }
}
impl From<Vec<&str>> for AttrValue {
    fn from(v: Vec<&str>) -> Self {
        AttrValue::StrArray(v.into_iter().map(str::to_string).collect())
    }
}

impl From<f32> for AttrValue {
    fn from(v: f32) -> Self {
        AttrValue::F64(v.into())
    }
}
impl From<&String> for AttrValue {
    fn from(v: &String) -> Self {
        AttrValue::Str(v.clone())
    }
}
impl From<std::borrow::Cow<'_, str>> for AttrValue {
    fn from(v: std::borrow::Cow<'_, str>) -> Self {
        AttrValue::Str(v.into_owned())
    }
}
impl From<&[&str]> for AttrValue {
    fn from(v: &[&str]) -> Self {
        AttrValue::StrArray(v.iter().map(|s| s.to_string()).collect())
    }
}
impl From<&[String]> for AttrValue {
    fn from(v: &[String]) -> Self {
        AttrValue::StrArray(v.to_vec())
    }
}
impl<const N: usize> From<[&str; N]> for AttrValue {
    fn from(v: [&str; N]) -> Self {
        AttrValue::StrArray(v.iter().map(|s| s.to_string()).collect())
    }
}

/// The attributes of an event.
pub type EventAttributes = Vec<(std::borrow::Cow<'static, str>, AttrValue)>;

/// What `mirascope-llm` asks of `mirascope-ops` (installed once by it): the current session.
/// Sessions are an `ops` concept (a stack `ops::session(..)` guards push), so the GenAI span,
/// which records the session id as `gen_ai.conversation.id`, reads it through this hook.
/// Everything else that `tracing` fields cannot carry goes through the OpenTelemetry API
/// directly (feature `otel`, `genai/otel.rs`); installed hooks also say that `mirascope-ops`'
/// layer records Mirascope's spans, so that route is taken.
#[derive(Debug, Clone, Copy)]
pub struct OpsHooks {
    /// The current session: its id (recorded on GenAI spans as `gen_ai.conversation.id`) and
    /// attributes as JSON (recorded with the id on `Response.resume` spans).
    pub session: fn() -> Option<(String, Option<String>)>,
}

static HOOKS: OnceLock<OpsHooks> = OnceLock::new();

/// Installs the hooks (done once by `mirascope-ops`). Returns false if they were already
/// installed.
#[doc(hidden)]
pub fn install_ops_hooks(hooks: OpsHooks) -> bool {
    HOOKS.set(hooks).is_ok()
}

/// The current session's id and attributes, if `mirascope-ops` is installed and one is open.
pub(crate) fn current_session() -> Option<(String, Option<String>)> {
    HOOKS.get().and_then(|h| (h.session)())
}

/// Whether typed attributes and events go through the OpenTelemetry API: when `mirascope-ops`
/// is installed (its layer records Mirascope's spans). Asking the span itself would activate
/// its OpenTelemetry span early, through whichever tracing-opentelemetry layer answers first,
/// which may not be the one that records it.
pub(crate) fn otel_records(_span: &tracing::Span) -> bool {
    cfg!(feature = "otel") && HOOKS.get().is_some()
}

/// The W3C trace-context header values of a span.
pub(crate) struct TraceContext {
    /// `traceparent`.
    pub traceparent: String,
    /// `tracestate`, when the state is not empty.
    pub tracestate: Option<String>,
}

/// The W3C trace-context headers of `span` (feature `otel`; none without it, nor when no layer
/// gives the span valid ids).
pub(crate) fn trace_context(span: &tracing::Span) -> Option<TraceContext> {
    #[cfg(feature = "otel")]
    return otel::trace_context(span);
    #[cfg(not(feature = "otel"))]
    {
        let _ = span;
        None
    }
}

/// Sets an attribute that a `tracing` field cannot carry (a string array, or a key only known at
/// run time). Without `mirascope-ops` (see [`OpsHooks`]), the value goes to a `tracing` event
/// instead.
pub fn set_attribute(
    span: &tracing::Span,
    key: impl Into<std::borrow::Cow<'static, str>>,
    value: AttrValue,
) {
    if span.is_disabled() {
        return;
    }
    let key = key.into();
    #[cfg(feature = "otel")]
    if otel_records(span) {
        otel::set_attribute(span, key, value);
        return;
    }
    tracing::event!(target: TARGET, parent: span, tracing::Level::DEBUG, attribute = %key, value = ?value)
}

/// Sets several attributes at once, as [`set_attribute`] does one (one lookup of the
/// OpenTelemetry span for all of them).
pub fn set_attributes<K>(span: &tracing::Span, attrs: Vec<(K, AttrValue)>)
where
    K: Into<std::borrow::Cow<'static, str>>,
{
    if span.is_disabled() || attrs.is_empty() {
        return;
    }
    #[cfg(feature = "otel")]
    if otel_records(span) {
        otel::set_attributes(span, attrs.into_iter().map(|(k, v)| (k.into(), v)));
        return;
    }
    for (key, value) in attrs {
        set_attribute(span, key, value);
    }
}

/// Adds an event with typed attributes to a span (an OpenTelemetry span event when
/// `mirascope-ops` is installed, a `tracing` event otherwise).
pub fn add_event<N, K>(span: &tracing::Span, name: N, attrs: Vec<(K, AttrValue)>)
where
    N: Into<std::borrow::Cow<'static, str>>,
    K: Into<std::borrow::Cow<'static, str>>,
{
    if span.is_disabled() {
        return;
    }
    let name = name.into();
    let attrs: EventAttributes = attrs.into_iter().map(|(k, v)| (k.into(), v)).collect();
    #[cfg(feature = "otel")]
    if otel_records(span) {
        otel::add_event(span, name, attrs);
        return;
    }
    tracing::event!(target: TARGET, parent: span, tracing::Level::INFO, event = %name, attributes = ?attrs)
}

const CAPTURE_UNSET: u8 = 0;
const CAPTURE_ON: u8 = 1;
const CAPTURE_OFF: u8 = 2;
static CAPTURE: AtomicU8 = AtomicU8::new(CAPTURE_UNSET);
static PROPAGATE: AtomicBool = AtomicBool::new(true);

/// Reads `OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT`: `true/1/yes/on`, `SPAN_ONLY`
/// and `SPAN_AND_EVENT` capture content on the span; `false/0/no/off`, `NO_CONTENT` and
/// `EVENT_ONLY` do not (content goes on the span only, never in events, so `EVENT_ONLY` — "not
/// on spans" in the GenAI conventions — leaves the span without it); unset or unknown keeps
/// Mirascope's default (capture).
pub fn capture_from_env_value(value: Option<&str>) -> bool {
    const OFF: [&str; 6] = ["false", "0", "no", "off", "no_content", "event_only"];
    !matches!(value.map(|v| v.trim().to_ascii_lowercase()), Some(v) if OFF.contains(&v.as_str()))
}

/// Whether message content (instructions, messages, tool arguments and results) is recorded.
/// On by default, as in Python Mirascope.
pub fn capture_content() -> bool {
    match CAPTURE.load(Ordering::Relaxed) {
        CAPTURE_ON => true,
        CAPTURE_OFF => false,
        _ => {
            let on = capture_from_env_value(
                std::env::var("OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT")
                    .ok()
                    .as_deref(),
            );
            let _ = CAPTURE.compare_exchange(
                CAPTURE_UNSET,
                if on { CAPTURE_ON } else { CAPTURE_OFF },
                Ordering::Relaxed,
                Ordering::Relaxed,
            );
            on
        }
    }
}

/// Turns content capture on or off at runtime (any thread, takes effect for calls that start
/// after it).
pub fn set_capture_content(on: bool) {
    CAPTURE.store(if on { CAPTURE_ON } else { CAPTURE_OFF }, Ordering::Relaxed);
}

/// Whether outgoing provider requests carry the span's W3C `traceparent` header (default on).
pub fn propagate_trace_context() -> bool {
    PROPAGATE.load(Ordering::Relaxed)
}

/// Turns `traceparent` injection into provider requests on or off.
pub fn set_propagate_trace_context(on: bool) {
    PROPAGATE.store(on, Ordering::Relaxed);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn capture_env_values() {
        for on in [
            None,
            Some("true"),
            Some("1"),
            Some("SPAN_ONLY"),
            Some("span_and_event"),
            Some("whatever"),
        ] {
            assert!(capture_from_env_value(on), "{on:?}");
        }
        for off in [
            "false",
            "0",
            "NO_CONTENT",
            "off",
            " No ",
            "EVENT_ONLY",
            "event_only",
        ] {
            assert!(!capture_from_env_value(Some(off)), "{off}");
        }
    }
}
