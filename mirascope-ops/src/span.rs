//! `ops::span(name)`: an explicit span (INTERNAL, `mirascope.type = "trace"`) around retrieval,
//! tool work or any step, with attributes, events and levelled messages.

use std::borrow::Cow;
use std::future::Future;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Once;

use mirascope_llm::genai;
use tracing::field::Empty;
use tracing::Instrument;

pub use mirascope_llm::genai::AttrValue as AttributeValue;

/// The former name of [`AttributeValue`] (it clashed with `serde_json::Value` and
/// `opentelemetry::Value`).
#[deprecated(
    since = "0.1.0",
    note = "use `ops::AttributeValue`, or pass plain values to `.with`"
)]
pub type Value = AttributeValue;

/// No attributes, for an event or message that has none: `span.warning("slow", ops::NO_ATTRIBUTES)`.
pub const NO_ATTRIBUTES: [(&str, AttributeValue); 0] = [];

static WARN_ONCE: Once = Once::new();

/// An explicit span. Entered with [`Span::enter`] / [`Span::in_scope`], or around a future with
/// [`Span::instrument`]; ended by [`Span::finish`] or when dropped.
///
/// ```
/// use mirascope_ops as ops;
/// let span = ops::span("retrieve").with("k", 3).with("source", "wiki");
/// span.info("found documents", [("count", 3)]);
/// span.in_scope(|| { /* work, nested spans go under it */ });
/// span.finish();
/// ```
#[derive(Debug)]
pub struct Span {
    span: tracing::Span,
    finished: AtomicBool,
    /// Opened by [`span`] (not a handle of [`current_span`]): a panic that unwinds through it
    /// fails it, as Python's `Span.__exit__` records the exception.
    owned: bool,
    /// A panic has been recorded on it.
    failed: AtomicBool,
}

/// Opens an explicit span, as a child of the current span; add attributes with [`Span::with`] /
/// [`Span::attrs`]. When tracing is not configured it is a no-op (and says so once, as Python
/// Mirascope does).
pub fn span(name: &str) -> Span {
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
    }
    Span {
        span,
        finished: AtomicBool::new(false),
        owned: true,
        failed: AtomicBool::new(false),
    }
}

impl Drop for Span {
    /// A panic unwinding through the scope that holds the span fails it (status ERROR, one
    /// `exception` event), as `Span.__exit__` does for an exception; the payload is not known
    /// here ([`Span::in_scope`] records it).
    fn drop(&mut self) {
        if self.owned
            && std::thread::panicking()
            && !self.failed.swap(true, Ordering::Relaxed)
            && self.live()
        {
            crate::trace::record_panic(&self.span, None);
        }
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

    /// The span with one more attribute: `ops::span("retrieve").with("top_k", 5)`. Any value
    /// that converts into an [`AttributeValue`] (integers, floats, `bool`, strings, string slices
    /// and arrays).
    pub fn with(self, key: impl Into<Cow<'static, str>>, value: impl Into<AttributeValue>) -> Self {
        self.set_one(key, value);
        self
    }

    /// The span with more attributes: `ops::span("rank").attrs([("k", 3), ("n", 10)])`.
    pub fn attrs<K, V>(self, attributes: impl IntoIterator<Item = (K, V)>) -> Self
    where
        K: Into<Cow<'static, str>>,
        V: Into<AttributeValue>,
    {
        self.set(attributes);
        self
    }

    /// Sets one attribute on the open span.
    pub fn set_one(&self, key: impl Into<Cow<'static, str>>, value: impl Into<AttributeValue>) {
        if self.live() {
            genai::set_attribute(&self.span, key, value.into());
        }
    }

    /// Sets attributes on the open span.
    pub fn set<K, V>(&self, attributes: impl IntoIterator<Item = (K, V)>)
    where
        K: Into<Cow<'static, str>>,
        V: Into<AttributeValue>,
    {
        if self.live() {
            for (k, v) in attributes {
                genai::set_attribute(&self.span, k, v.into());
            }
        }
    }

    /// Adds an event.
    pub fn event<K: Into<Cow<'static, str>>, V: Into<AttributeValue>>(
        &self,
        name: impl Into<Cow<'static, str>>,
        attributes: impl IntoIterator<Item = (K, V)>,
    ) {
        if self.live() {
            genai::add_event(
                &self.span,
                name.into(),
                attributes
                    .into_iter()
                    .map(|(k, v)| (k.into(), v.into()))
                    .collect::<Vec<(Cow<'static, str>, AttributeValue)>>(),
            );
        }
    }

    fn log<K: Into<Cow<'static, str>>, V: Into<AttributeValue>>(
        &self,
        event: &'static str,
        level: &'static str,
        message: &str,
        attributes: impl IntoIterator<Item = (K, V)>,
    ) {
        if !self.live() {
            return;
        }
        let mut attrs: Vec<(Cow<'static, str>, AttributeValue)> = vec![
            ("level".into(), AttributeValue::from(level)),
            ("message".into(), AttributeValue::from(message)),
        ];
        attrs.extend(attributes.into_iter().map(|(k, v)| (k.into(), v.into())));
        genai::add_event(&self.span, event, attrs);
    }

    /// A `debug` event `{level, message, ..}`.
    pub fn debug<K: Into<Cow<'static, str>>, V: Into<AttributeValue>>(
        &self,
        message: &str,
        attributes: impl IntoIterator<Item = (K, V)>,
    ) {
        self.log("debug", "debug", message, attributes);
    }
    /// An `info` event.
    pub fn info<K: Into<Cow<'static, str>>, V: Into<AttributeValue>>(
        &self,
        message: &str,
        attributes: impl IntoIterator<Item = (K, V)>,
    ) {
        self.log("info", "info", message, attributes);
    }
    /// A `warning` event.
    pub fn warning<K: Into<Cow<'static, str>>, V: Into<AttributeValue>>(
        &self,
        message: &str,
        attributes: impl IntoIterator<Item = (K, V)>,
    ) {
        self.log("warning", "warning", message, attributes);
    }
    /// An `error` event; the span's status becomes ERROR.
    pub fn error<K: Into<Cow<'static, str>>, V: Into<AttributeValue>>(
        &self,
        message: &str,
        attributes: impl IntoIterator<Item = (K, V)>,
    ) {
        self.log("error", "error", message, attributes);
        if self.live() {
            self.span.record("otel.status_code", "error");
        }
    }
    /// A `critical` event (level `error`, as Mirascope records it); status ERROR.
    pub fn critical<K: Into<Cow<'static, str>>, V: Into<AttributeValue>>(
        &self,
        message: &str,
        attributes: impl IntoIterator<Item = (K, V)>,
    ) {
        self.log("critical", "error", message, attributes);
        if self.live() {
            self.span.record("otel.status_code", "error");
        }
    }

    /// Records an error that ends the work this span covers: status ERROR and one `exception`
    /// event (`exception.type`, `exception.message`), as Python Mirascope's `Span.__exit__`
    /// records an exception that leaves a `with ops.span(..)` block. A `mirascope_llm::Error`
    /// keeps its Mirascope class (`BadRequestError`, ...); any other error is recorded by its
    /// type name and `Display` text. With content capture off the message is the class or
    /// type name only. Recorded once; later calls, and calls after [`Span::finish`], do nothing.
    ///
    /// ```
    /// use mirascope_ops as ops;
    /// fn rank() -> Result<u32, std::num::ParseIntError> { "x".parse() }
    /// let span = ops::span("rank");
    /// if let Err(e) = span.in_scope(rank) {
    ///     span.record_error(&e);
    /// }
    /// ```
    pub fn record_error<E: std::fmt::Display + 'static>(&self, error: &E) {
        if self.live() && !self.failed.swap(true, Ordering::Relaxed) {
            crate::trace::record_failure(&self.span, crate::trace::error_to_output(error));
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
    ///
    /// A panic in `f` fails the span (status ERROR, one `exception` event, the message only
    /// with content capture on), then unwinds on, as `Span.__exit__` records an exception.
    pub fn in_scope<R>(&self, f: impl FnOnce() -> R) -> R {
        match std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| self.span.in_scope(f))) {
            Ok(r) => r,
            Err(payload) => {
                if !self.failed.swap(true, Ordering::Relaxed) && self.live() {
                    crate::trace::record_panic(&self.span, Some(&*payload));
                }
                std::panic::resume_unwind(payload)
            }
        }
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
        owned: false,
        failed: AtomicBool::new(false),
    }
}

#[cfg(test)]
mod tests {
    use opentelemetry_sdk::trace::InMemorySpanExporter;
    use tracing_subscriber::layer::SubscriberExt;

    /// An in-memory exporter, its provider (which must outlive the spans) and a subscriber
    /// exporting to it, for one test.
    fn scoped() -> (
        InMemorySpanExporter,
        opentelemetry_sdk::trace::SdkTracerProvider,
        impl tracing::Subscriber + Send + Sync,
    ) {
        let exporter = InMemorySpanExporter::default();
        let provider = opentelemetry_sdk::trace::SdkTracerProvider::builder()
            .with_simple_exporter(exporter.clone())
            .build();
        let subscriber = tracing_subscriber::registry().with(crate::layer(&provider));
        (exporter, provider, subscriber)
    }

    #[test]
    fn finish_ends_the_span_at_that_moment() {
        let (exporter, _provider, subscriber) = scoped();
        tracing::subscriber::with_default(subscriber, || {
            let span = super::span("work");
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

    #[test]
    fn an_attribute_set_again_keeps_one_value_the_last() {
        let (exporter, _provider, subscriber) = scoped();
        tracing::subscriber::with_default(subscriber, || {
            let span = super::span("x").with("k", 3).with("j", 1);
            span.set_one("k", 5);
            span.in_scope(|| span.set_one("k", 7));
            drop(span);
        });
        let spans = exporter.get_finished_spans().expect("spans");
        let ks: Vec<_> = spans[0]
            .attributes
            .iter()
            .filter(|kv| kv.key.as_str() == "k")
            .map(|kv| kv.value.clone())
            .collect();
        assert_eq!(ks, vec![opentelemetry::Value::I64(7)]);
    }

    #[test]
    fn record_error_fails_the_span_once_with_the_error_type() {
        #[derive(Debug)]
        struct RankError;
        impl std::fmt::Display for RankError {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("ranking failed")
            }
        }
        let (exporter, _provider, subscriber) = scoped();
        tracing::subscriber::with_default(subscriber, || {
            let span = super::span("rank");
            span.record_error(&RankError);
            span.record_error(&RankError); // once only
            span.finish();
            span.record_error(&RankError); // after finish: nothing
        });
        let spans = exporter.get_finished_spans().expect("spans");
        assert_eq!(spans.len(), 1);
        assert!(matches!(
            spans[0].status,
            opentelemetry::trace::Status::Error { .. }
        ));
        assert_eq!(spans[0].events.len(), 1);
        let event = &spans[0].events[0];
        assert_eq!(event.name, "exception");
        let get = |key: &str| {
            event
                .attributes
                .iter()
                .find(|kv| kv.key.as_str() == key)
                .map(|kv| kv.value.to_string())
        };
        assert!(get("exception.type").is_some_and(|t| t.ends_with("RankError")));
        // The message is the error's text with content capture on (the default); with it off,
        // tests/content_capture.rs checks that it is the type name only.
        assert!(get("exception.message").is_some());
    }

    #[test]
    fn with_and_attrs_take_plain_values() {
        use opentelemetry::{Array, StringValue, Value};
        let (exporter, _provider, subscriber) = scoped();
        tracing::subscriber::with_default(subscriber, || {
            let docs = ["doc-1", "doc-7"];
            super::span("retrieve")
                .with("count", 3usize)
                .with("query", "rust")
                .with("fresh", true)
                .with("score", 0.5)
                .with("huge", u64::MAX)
                .with("docs", docs.as_slice())
                .attrs([("k", 5u8), ("n", 10u8)])
                .finish();
        });
        let spans = exporter.get_finished_spans().expect("spans");
        let get = |key: &str| {
            spans[0]
                .attributes
                .iter()
                .find(|kv| kv.key.as_str() == key)
                .map(|kv| kv.value.clone())
        };
        assert_eq!(get("count"), Some(Value::I64(3)));
        assert_eq!(get("query"), Some(Value::from("rust")));
        assert_eq!(get("fresh"), Some(Value::Bool(true)));
        assert_eq!(get("score"), Some(Value::F64(0.5)));
        // No unsigned integers in OpenTelemetry: the decimal string, never a wrapped value.
        assert_eq!(get("huge"), Some(Value::from(u64::MAX.to_string())));
        assert_eq!(
            get("docs"),
            Some(Value::Array(Array::String(vec![
                StringValue::from("doc-1"),
                StringValue::from("doc-7")
            ])))
        );
        assert_eq!(get("k"), Some(Value::I64(5)));
        assert_eq!(get("n"), Some(Value::I64(10)));
    }
}
