//! Context propagation between services: W3C `tracecontext` (default), `b3`, `b3multi`, `jaeger`,
//! or all of them (`composite`), chosen by `MIRASCOPE_PROPAGATOR` or in code; plus the
//! `Mirascope-Session-Id` header. Malformed headers start a new root trace, never an error.

use std::collections::HashMap;
use std::sync::RwLock;

use opentelemetry::propagation::{
    Extractor, Injector, TextMapCompositePropagator, TextMapPropagator,
};
use opentelemetry::Context;
use opentelemetry_sdk::propagation::TraceContextPropagator;

use crate::error::OpsError;
use crate::propagators::{B3Encoding, Jaeger, B3};

use crate::session::{self, SessionGuard, SESSION_HEADER_NAME};

/// A propagation format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PropagatorFormat {
    /// W3C `traceparent` / `tracestate`.
    TraceContext,
    /// Zipkin B3, single `b3` header.
    B3,
    /// Zipkin B3, `x-b3-*` headers.
    B3Multi,
    /// Jaeger `uber-trace-id`.
    Jaeger,
    /// All of the above (inject all, extract the first that parses).
    Composite,
}

impl std::str::FromStr for PropagatorFormat {
    type Err = OpsError;
    fn from_str(s: &str) -> Result<Self, OpsError> {
        match s.trim().to_ascii_lowercase().as_str() {
            "tracecontext" => Ok(PropagatorFormat::TraceContext),
            "b3" => Ok(PropagatorFormat::B3),
            "b3multi" => Ok(PropagatorFormat::B3Multi),
            "jaeger" => Ok(PropagatorFormat::Jaeger),
            "composite" => Ok(PropagatorFormat::Composite),
            other => Err(OpsError::Configuration(format!("Invalid propagator format: {other}. Valid options: tracecontext, b3, b3multi, jaeger, composite"))),
        }
    }
}

static FORMAT: RwLock<Option<PropagatorFormat>> = RwLock::new(None);

/// Sets the format in code (overrides `MIRASCOPE_PROPAGATOR`).
pub fn set_propagator(format: PropagatorFormat) {
    *FORMAT.write().unwrap_or_else(|e| e.into_inner()) = Some(format);
}

/// The format in force: set in code, else `MIRASCOPE_PROPAGATOR`, else the standard
/// `OTEL_PROPAGATORS` list (one format, or [`PropagatorFormat::Composite`] when it names
/// several), else `tracecontext`. An invalid variable is a typed error listing the valid values.
pub fn propagator_format() -> Result<PropagatorFormat, OpsError> {
    let formats = formats_in_force()?;
    Ok(match formats.as_slice() {
        [one] => *one,
        [] => PropagatorFormat::TraceContext,
        _ => PropagatorFormat::Composite,
    })
}

/// The formats in force, in order (see [`propagator_format`]). Empty for `OTEL_PROPAGATORS=none`.
fn formats_in_force() -> Result<Vec<PropagatorFormat>, OpsError> {
    if let Some(f) = *FORMAT.read().unwrap_or_else(|e| e.into_inner()) {
        return Ok(vec![f]);
    }
    if let Ok(v) = std::env::var("MIRASCOPE_PROPAGATOR") {
        if !v.trim().is_empty() {
            return Ok(vec![v.parse()?]);
        }
    }
    match std::env::var("OTEL_PROPAGATORS") {
        Ok(v) if !v.trim().is_empty() => otel_propagators(&v),
        _ => Ok(vec![PropagatorFormat::TraceContext]),
    }
}

/// Parses the OpenTelemetry SDK's `OTEL_PROPAGATORS` (a comma-separated list of `tracecontext`,
/// `baggage`, `b3`, `b3multi`, `jaeger`, or `none`). `baggage` is accepted and not propagated
/// (mirascope carries no baggage); duplicates are dropped.
pub(crate) fn otel_propagators(value: &str) -> Result<Vec<PropagatorFormat>, OpsError> {
    let mut formats = Vec::new();
    for item in value.split(',').map(|s| s.trim().to_ascii_lowercase()) {
        let format = match item.as_str() {
            "tracecontext" => PropagatorFormat::TraceContext,
            "b3" => PropagatorFormat::B3,
            "b3multi" => PropagatorFormat::B3Multi,
            "jaeger" => PropagatorFormat::Jaeger,
            "baggage" | "" => continue,
            "none" => return Ok(Vec::new()),
            other => {
                return Err(OpsError::InvalidEnvVar {
                    name: "OTEL_PROPAGATORS",
                    value: other.to_string(),
                    expected:
                        "a comma-separated list of tracecontext, baggage, b3, b3multi, jaeger, none",
                })
            }
        };
        if !formats.contains(&format) {
            formats.push(format);
        }
    }
    Ok(formats)
}

/// The propagator of the formats in force.
fn propagator_in_force() -> Result<Box<dyn TextMapPropagator + Send + Sync>, OpsError> {
    let formats = formats_in_force()?;
    Ok(match formats.as_slice() {
        [one] => propagator(*one),
        many => Box::new(TextMapCompositePropagator::new(
            many.iter().map(|f| propagator(*f)).collect(),
        )),
    })
}

fn propagator(format: PropagatorFormat) -> Box<dyn TextMapPropagator + Send + Sync> {
    match format {
        PropagatorFormat::TraceContext => Box::new(TraceContextPropagator::new()),
        PropagatorFormat::B3 => Box::new(B3 {
            encoding: B3Encoding::Single,
        }),
        PropagatorFormat::B3Multi => Box::new(B3 {
            encoding: B3Encoding::Multi,
        }),
        PropagatorFormat::Jaeger => Box::new(Jaeger),
        PropagatorFormat::Composite => Box::new(TextMapCompositePropagator::new(vec![
            Box::new(TraceContextPropagator::new()),
            Box::new(B3 {
                encoding: B3Encoding::Single,
            }),
            Box::new(B3 {
                encoding: B3Encoding::Multi,
            }),
            Box::new(Jaeger),
        ])),
    }
}

/// A header carrier: `HashMap<String, String>` or `http::HeaderMap`. Names are matched
/// case-insensitively.
pub trait Carrier {
    /// A header's value.
    fn get_header(&self, name: &str) -> Option<String>;
    /// Sets a header.
    fn set_header(&mut self, name: &str, value: String);
}

impl Carrier for HashMap<String, String> {
    fn get_header(&self, name: &str) -> Option<String> {
        self.iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.clone())
    }
    fn set_header(&mut self, name: &str, value: String) {
        self.insert(name.to_string(), value);
    }
}

/// Through opentelemetry-http's `HeaderExtractor` / `HeaderInjector` (invalid names or values
/// are skipped, never an error).
impl Carrier for http::HeaderMap {
    fn get_header(&self, name: &str) -> Option<String> {
        opentelemetry_http::HeaderExtractor(self)
            .get(name)
            .map(str::to_string)
    }
    fn set_header(&mut self, name: &str, value: String) {
        opentelemetry_http::HeaderInjector(self).set(name, value);
    }
}

struct In<'a, C: ?Sized>(&'a mut C);
impl<C: Carrier + ?Sized> Injector for In<'_, C> {
    fn set(&mut self, key: &str, value: String) {
        // An empty value (the SDK writes `tracestate: ""`) carries nothing; Python's
        // propagators do not write it either.
        if !value.is_empty() {
            self.0.set_header(key, value);
        }
    }
}
/// Writes the current context (trace and, if any, session) into `carrier`.
pub fn inject_context<C: Carrier + ?Sized>(carrier: &mut C) -> Result<(), OpsError> {
    inject_span_context(&tracing::Span::current(), carrier)
}

/// Writes `span`'s context (and the current session) into `carrier`.
pub fn inject_span_context<C: Carrier + ?Sized>(
    span: &tracing::Span,
    carrier: &mut C,
) -> Result<(), OpsError> {
    let propagator = propagator_in_force()?;
    let cx = if span.is_disabled() {
        Context::current()
    } else {
        crate::otel_span::context(span)
    };
    propagator.inject_context(&cx, &mut In(carrier));
    if let Some(s) = session::current_session() {
        carrier.set_header(SESSION_HEADER_NAME, s.id);
    }
    Ok(())
}

/// Headers copied into an owned, lowercase-keyed map (extractors borrow from it).
struct Owned(HashMap<String, String>);
impl Extractor for Owned {
    fn get(&self, key: &str) -> Option<&str> {
        self.0.get(&key.to_ascii_lowercase()).map(String::as_str)
    }
    fn keys(&self) -> Vec<&str> {
        self.0.keys().map(String::as_str).collect()
    }
}

const HEADERS: &[&str] = &[
    "traceparent",
    "tracestate",
    "b3",
    "x-b3-traceid",
    "x-b3-spanid",
    "x-b3-sampled",
    "x-b3-flags",
    "x-b3-parentspanid",
    "uber-trace-id",
];

fn owned<C: Carrier + ?Sized>(carrier: &C) -> Owned {
    Owned(
        HEADERS
            .iter()
            .filter_map(|h| carrier.get_header(h).map(|v| (h.to_string(), v)))
            .collect(),
    )
}

/// Reads a context from `carrier`; malformed or missing headers give an empty context (a new
/// root trace), never an error.
pub fn extract_context<C: Carrier + ?Sized>(carrier: &C) -> Context {
    let propagator =
        propagator_in_force().unwrap_or_else(|_| propagator(PropagatorFormat::TraceContext));
    propagator.extract(&owned(carrier))
}

/// The session id in `carrier` (`Mirascope-Session-Id`, case-insensitive), if present and non-empty.
pub fn extract_session_id<C: Carrier + ?Sized>(carrier: &C) -> Option<String> {
    carrier
        .get_header(SESSION_HEADER_NAME)
        .or_else(|| carrier.get_header(&SESSION_HEADER_NAME.to_ascii_lowercase()))
        .filter(|s| !s.is_empty())
}

/// What a propagated context scope restores when dropped.
#[derive(Debug)]
#[must_use = "the context is current until the guard drops"]
pub struct PropagatedGuard {
    _cx: opentelemetry::ContextGuard,
    _session: Option<SessionGuard>,
}

/// Where a propagated context comes from.
#[derive(Debug)]
pub enum ContextSource<'a, C: Carrier + ?Sized> {
    /// A context you have.
    Parent(Context),
    /// Headers to extract it (and the session) from.
    ExtractFrom(&'a C),
}

/// Makes a propagated context current (its trace becomes the parent of spans opened inside, and
/// a session header enters that session) until the guard drops.
///
/// ```
/// use std::collections::HashMap;
/// use mirascope_ops as ops;
/// let mut headers = HashMap::new();
/// headers.insert("traceparent".to_string(), "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01".to_string());
/// headers.insert("Mirascope-Session-Id".to_string(), "conv-9".to_string());
/// let _g = ops::propagated_context(ops::ContextSource::ExtractFrom(&headers));
/// assert_eq!(ops::current_session().unwrap().id, "conv-9");
/// ```
pub fn propagated_context<C: Carrier + ?Sized>(source: ContextSource<'_, C>) -> PropagatedGuard {
    match source {
        ContextSource::Parent(cx) => PropagatedGuard {
            _cx: cx.attach(),
            _session: None,
        },
        ContextSource::ExtractFrom(carrier) => {
            let session = extract_session_id(carrier).map(session::session);
            PropagatedGuard {
                _cx: extract_context(carrier).attach(),
                _session: session,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn invalid_format_lists_valid_ones() {
        let err = "zipkin".parse::<PropagatorFormat>().unwrap_err();
        assert!(
            err.to_string()
                .contains("Valid options: tracecontext, b3, b3multi, jaeger, composite"),
            "{err}"
        );
    }
}
