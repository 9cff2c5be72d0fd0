//! `ops::span(name)`: an explicit span (INTERNAL, `mirascope.type = "trace"`) around retrieval,
//! tool work or any step, with attributes, events and levelled messages.

use std::borrow::Cow;
use std::future::Future;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Once;

use mirascope_llm::genai;
use tracing::field::Empty;
use tracing::Instrument;

pub use mirascope_llm::genai::AttrValue as Value;

static WARN_ONCE: Once = Once::new();

/// An explicit span. Entered with [`Span::enter`] / [`Span::in_scope`], or around a future with
/// [`Span::instrument`]; ended by [`Span::finish`] or when dropped.
///
/// ```
/// use mirascope_ops as ops;
/// let span = ops::span("retrieve", [("k", ops::Value::from(3))]);
/// span.info("found documents", [("count", ops::Value::from(3))]);
/// span.in_scope(|| { /* work, nested spans go under it */ });
/// span.finish();
/// ```
#[derive(Debug)]
pub struct Span {
    span: tracing::Span,
    finished: AtomicBool,
}

/// Opens an explicit span with initial attributes, as a child of the current span. When tracing
/// is not configured it is a no-op (and says so once, as Python Mirascope does).
pub fn span<K, I>(name: &str, attributes: I) -> Span
where
    K: Into<Cow<'static, str>>,
    I: IntoIterator<Item = (K, Value)>,
{
    let span = tracing::info_span!(
        target: genai::OPS_TARGET,
        "span",
        otel.name = %name,
        otel.kind = "internal",
        otel.status_code = Empty,
        mirascope.type = "trace",
        mirascope.ops.session.id = Empty,
        mirascope.ops.session.attributes = Empty,
    );
    if span.is_disabled() {
        WARN_ONCE.call_once(|| tracing::warn!(target: "mirascope_ops", "mirascope tracing is not configured; Span('{name}') is a no-op."));
    } else {
        crate::session::record_on(&span);
        for (k, v) in attributes {
            genai::set_attribute(&span, k, v);
        }
    }
    Span {
        span,
        finished: AtomicBool::new(false),
    }
}

impl Span {
    fn live(&self) -> bool {
        !self.finished.load(Ordering::Relaxed) && !self.span.is_disabled()
    }

    /// Whether this span records nothing (tracing not configured).
    pub fn is_noop(&self) -> bool {
        self.span.is_disabled()
    }

    /// Sets attributes.
    pub fn set<K: Into<Cow<'static, str>>>(
        &self,
        attributes: impl IntoIterator<Item = (K, Value)>,
    ) {
        if self.live() {
            for (k, v) in attributes {
                genai::set_attribute(&self.span, k, v);
            }
        }
    }

    /// Adds an event.
    pub fn event<K: Into<Cow<'static, str>>>(
        &self,
        name: impl Into<Cow<'static, str>>,
        attributes: impl IntoIterator<Item = (K, Value)>,
    ) {
        if self.live() {
            genai::add_event(
                &self.span,
                name.into(),
                attributes
                    .into_iter()
                    .map(|(k, v)| (k.into(), v))
                    .collect::<Vec<(Cow<'static, str>, Value)>>(),
            );
        }
    }

    fn log<K: Into<Cow<'static, str>>>(
        &self,
        event: &'static str,
        level: &'static str,
        message: &str,
        attributes: impl IntoIterator<Item = (K, Value)>,
    ) {
        if !self.live() {
            return;
        }
        let mut attrs: Vec<(Cow<'static, str>, Value)> = vec![
            ("level".into(), Value::from(level)),
            ("message".into(), Value::from(message)),
        ];
        attrs.extend(attributes.into_iter().map(|(k, v)| (k.into(), v)));
        genai::add_event(&self.span, event, attrs);
    }

    /// A `debug` event `{level, message, ..}`.
    pub fn debug<K: Into<Cow<'static, str>>>(
        &self,
        message: &str,
        attributes: impl IntoIterator<Item = (K, Value)>,
    ) {
        self.log("debug", "debug", message, attributes);
    }
    /// An `info` event.
    pub fn info<K: Into<Cow<'static, str>>>(
        &self,
        message: &str,
        attributes: impl IntoIterator<Item = (K, Value)>,
    ) {
        self.log("info", "info", message, attributes);
    }
    /// A `warning` event.
    pub fn warning<K: Into<Cow<'static, str>>>(
        &self,
        message: &str,
        attributes: impl IntoIterator<Item = (K, Value)>,
    ) {
        self.log("warning", "warning", message, attributes);
    }
    /// An `error` event; the span's status becomes ERROR.
    pub fn error<K: Into<Cow<'static, str>>>(
        &self,
        message: &str,
        attributes: impl IntoIterator<Item = (K, Value)>,
    ) {
        self.log("error", "error", message, attributes);
        if self.live() {
            self.span.record("otel.status_code", "error");
        }
    }
    /// A `critical` event (level `error`, as Mirascope records it); status ERROR.
    pub fn critical<K: Into<Cow<'static, str>>>(
        &self,
        message: &str,
        attributes: impl IntoIterator<Item = (K, Value)>,
    ) {
        self.log("critical", "error", message, attributes);
        if self.live() {
            self.span.record("otel.status_code", "error");
        }
    }

    /// Ends the span now: its end time is this moment, whenever the handle (or a future it
    /// instruments) is dropped later. Idempotent; later calls to other methods do nothing.
    pub fn finish(&self) {
        if !self.finished.swap(true, Ordering::Relaxed) && !self.span.is_disabled() {
            // tracing-opentelemetry stamps the end time on every exit and ends the span with
            // the last stamp when it closes: one last enter/exit fixes it at this moment.
            self.span.in_scope(|| {});
        }
    }

    /// The span id (16 hex digits), `None` for a no-op span.
    pub fn span_id(&self) -> Option<String> {
        crate::trace::ids(&self.span).map(|i| i.0)
    }

    /// The trace id (32 hex digits), `None` for a no-op span.
    pub fn trace_id(&self) -> Option<String> {
        crate::trace::ids(&self.span).map(|i| i.1)
    }

    /// Makes this span current until the guard drops.
    pub fn enter(&self) -> tracing::span::Entered<'_> {
        self.span.enter()
    }

    /// Runs `f` inside this span.
    pub fn in_scope<R>(&self, f: impl FnOnce() -> R) -> R {
        self.span.in_scope(f)
    }

    /// Runs a future inside this span: the span is current whenever the future runs, across
    /// `.await` and threads. The span ends when this handle (and the future) are dropped.
    pub fn instrument<F: Future>(&self, fut: F) -> tracing::instrument::Instrumented<F> {
        fut.instrument(self.span.clone())
    }

    /// The underlying `tracing` span.
    pub fn tracing_span(&self) -> &tracing::Span {
        &self.span
    }
}

/// The current span, to add attributes and events from inside a traced function.
pub fn current_span() -> Span {
    Span {
        span: tracing::Span::current(),
        finished: AtomicBool::new(false),
    }
}

#[cfg(test)]
mod tests {
    use tracing_subscriber::layer::SubscriberExt;

    #[test]
    fn finish_ends_the_span_at_that_moment() {
        let exporter = opentelemetry_sdk::trace::InMemorySpanExporter::default();
        let provider = opentelemetry_sdk::trace::SdkTracerProvider::builder()
            .with_simple_exporter(exporter.clone())
            .build();
        let subscriber = tracing_subscriber::registry().with(crate::layer(&provider));
        tracing::subscriber::with_default(subscriber, || {
            let span = super::span("work", Vec::<(&str, super::Value)>::new());
            span.finish();
            let finished_at = std::time::SystemTime::now();
            std::thread::sleep(std::time::Duration::from_millis(20));
            span.finish(); // idempotent: does not move the end
            drop(span);
            let spans = exporter.get_finished_spans().expect("spans");
            assert_eq!(spans.len(), 1);
            assert!(
                spans[0].end_time <= finished_at,
                "the span ended at finish(), not at drop"
            );
        });
    }
}
