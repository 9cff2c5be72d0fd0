//! Helpers for tests of code that uses mirascope: an in-memory exporter, and [`Capture`], a
//! subscriber scoped to one test that collects its spans.

use opentelemetry_sdk::trace::{InMemorySpanExporter, SdkTracerProvider};

pub use opentelemetry_sdk::trace::{InMemorySpanExporter as SpanExporter, SpanData};

/// A provider that exports every span, as it ends, to the returned in-memory exporter.
pub fn in_memory_provider() -> (SdkTracerProvider, InMemorySpanExporter) {
    let exporter = InMemorySpanExporter::default();
    let provider = SdkTracerProvider::builder()
        .with_simple_exporter(exporter.clone())
        .build();
    (provider, exporter)
}

/// The spans of one test, and only of that test: a subscriber with its own in-memory exporter,
/// installed on the current thread while [`Capture::run`] runs (or while the guard of
/// [`Capture::enter`] lives). Other tests running at the same time, in any order, see nothing of
/// these spans, and these spans see nothing of theirs. GenAI spans are always on in it, whatever
/// the global [`crate::instrument_llm`] switch says.
///
/// Content capture ([`crate::set_capture_content`]) stays process-wide.
///
/// ```
/// use mirascope_ops as ops;
///
/// #[ops::trace]
/// fn double(x: i64) -> i64 { x * 2 }
///
/// let capture = ops::testing::Capture::new();
/// assert_eq!(capture.run(|| double(21)), 42);
/// let spans = capture.spans();
/// assert_eq!(spans.len(), 1);
/// assert_eq!(spans[0].name, "double");
/// ```
#[derive(Debug, Clone)]
pub struct Capture {
    exporter: InMemorySpanExporter,
    provider: SdkTracerProvider,
    dispatch: tracing::Dispatch,
}

impl Default for Capture {
    fn default() -> Self {
        Self::new()
    }
}

impl Capture {
    /// A new capture with nothing in it.
    pub fn new() -> Self {
        use tracing_subscriber::layer::SubscriberExt;
        let (provider, exporter) = in_memory_provider();
        let layer = crate::LayerBuilder::new(&provider)
            .llm_spans_always_on()
            .build();
        let dispatch = tracing::Dispatch::new(tracing_subscriber::registry().with(layer));
        Capture {
            exporter,
            provider,
            dispatch,
        }
    }

    /// Runs `f` with this capture's subscriber as the current thread's default.
    pub fn run<R>(&self, f: impl FnOnce() -> R) -> R {
        tracing::dispatcher::with_default(&self.dispatch, f)
    }

    /// Makes this capture's subscriber the current thread's default until the guard drops (for
    /// a test body that awaits on a current-thread runtime). On a multi-thread runtime, give
    /// its worker threads the subscriber with [`Capture::dispatch`] in
    /// `Builder::on_thread_start`.
    pub fn enter(&self) -> tracing::dispatcher::DefaultGuard {
        tracing::dispatcher::set_default(&self.dispatch)
    }

    /// The subscriber, for threads of your own.
    pub fn dispatch(&self) -> &tracing::Dispatch {
        &self.dispatch
    }

    /// The spans that ended so far, in the order they ended.
    pub fn spans(&self) -> Vec<SpanData> {
        let _ = self.provider.force_flush();
        self.exporter.get_finished_spans().unwrap_or_default()
    }

    /// The ended spans with this name.
    pub fn spans_named(&self, name: &str) -> Vec<SpanData> {
        self.spans()
            .into_iter()
            .filter(|s| s.name == name)
            .collect()
    }

    /// The one ended span with this name: `None` when there is none or more than one.
    pub fn span(&self, name: &str) -> Option<SpanData> {
        let mut spans = self.spans_named(name);
        (spans.len() == 1).then(|| spans.remove(0))
    }
}
