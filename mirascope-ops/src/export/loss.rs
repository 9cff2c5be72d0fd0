//! Telemetry loss made visible: every span offered to the exporters that `configure_from_env`
//! builds is counted, and so is every span an export delivered or failed to deliver, and every
//! metrics export that failed (a collector that takes traces only answers 404 or 405). Failures are
//! reported once per kind and minute on the program's own `tracing` output (`warn!`, target
//! `mirascope_ops::export`); [`crate::OpsGuard::stats`] gives the counts, and
//! [`crate::OpsGuard::shutdown`] says how many spans were not delivered.
#![cfg_attr(
    not(any(feature = "otlp-http", feature = "otlp-grpc", feature = "console")),
    allow(dead_code)
)]

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use opentelemetry::Context;
use opentelemetry_sdk::error::OTelSdkResult;
use opentelemetry_sdk::trace::{Span, SpanData, SpanExporter, SpanProcessor};
use opentelemetry_sdk::Resource;

/// What happened to the spans of one configured export pipeline.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ExportStats {
    /// Spans that ended and were handed to the pipeline.
    pub offered: u64,
    /// Spans an exporter delivered.
    pub exported: u64,
    /// Spans in exports that failed (collector down, 4xx/5xx, timeout).
    pub failed: u64,
    /// Metrics exports that succeeded.
    pub metric_exports: u64,
    /// Metrics exports that failed (each one loses the data points of that collection).
    pub metric_exports_failed: u64,
}

impl ExportStats {
    /// Spans offered but not delivered: failed, dropped (a full batch queue), or still queued.
    pub fn undelivered(&self) -> u64 {
        self.offered.saturating_sub(self.exported)
    }

    /// The counts of two pipelines together.
    pub fn plus(&self, other: &ExportStats) -> ExportStats {
        ExportStats {
            offered: self.offered.saturating_add(other.offered),
            exported: self.exported.saturating_add(other.exported),
            failed: self.failed.saturating_add(other.failed),
            metric_exports: self.metric_exports.saturating_add(other.metric_exports),
            metric_exports_failed: self
                .metric_exports_failed
                .saturating_add(other.metric_exports_failed),
        }
    }

    /// Whether anything was lost: spans not delivered, or a metrics export that failed.
    pub fn lost_anything(&self) -> bool {
        self.undelivered() > 0 || self.metric_exports_failed > 0
    }
}

/// The counters of one pipeline, shared by its processor and exporter wrappers.
#[derive(Debug, Default)]
pub(crate) struct Counters {
    offered: AtomicU64,
    exported: AtomicU64,
    failed: AtomicU64,
    metric_exports: AtomicU64,
    metric_exports_failed: AtomicU64,
    last_warning: Mutex<Option<Instant>>,
    #[cfg_attr(
        not(any(feature = "otlp-http", feature = "otlp-grpc")),
        allow(dead_code)
    )]
    last_metrics_warning: Mutex<Option<Instant>>,
}

thread_local! {
    /// The counters of the last pipeline `Otlp::provider` / `Otlp::meter_provider` built on this
    /// thread and no `Configuration` has claimed yet.
    static LAST_BUILT: std::cell::RefCell<Option<Arc<Counters>>> = const { std::cell::RefCell::new(None) };
}

/// The counters for a pipeline built by `Otlp` on this thread (shared by a provider and a meter
/// provider built one after the other), left for the `Configuration` that installs it.
pub(crate) fn counters_for_built_pipeline() -> Arc<Counters> {
    LAST_BUILT.with(|l| l.borrow_mut().get_or_insert_with(Arc::default).clone())
}

/// Claims the counters of the pipeline last built on this thread, if any.
pub(crate) fn take_built_pipeline() -> Option<Arc<Counters>> {
    LAST_BUILT.with(|l| l.borrow_mut().take())
}

/// How often a kind of export failure is reported at most.
const WARN_EVERY: Duration = Duration::from_secs(60);

impl Counters {
    pub(crate) fn stats(&self) -> ExportStats {
        ExportStats {
            offered: self.offered.load(Ordering::Relaxed),
            exported: self.exported.load(Ordering::Relaxed),
            failed: self.failed.load(Ordering::Relaxed),
            metric_exports: self.metric_exports.load(Ordering::Relaxed),
            metric_exports_failed: self.metric_exports_failed.load(Ordering::Relaxed),
        }
    }

    #[cfg_attr(
        not(any(feature = "otlp-http", feature = "otlp-grpc")),
        allow(dead_code)
    )]
    fn warn_metrics_failure(&self, error: &dyn std::fmt::Display) {
        let mut last = self
            .last_metrics_warning
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        if last.is_none_or(|t| t.elapsed() >= WARN_EVERY) {
            *last = Some(Instant::now());
            drop(last);
            let stats = self.stats();
            tracing::warn!(
                target: "mirascope_ops::export",
                failed_total = stats.metric_exports_failed,
                "metrics export failed: {error}"
            );
            if crate::configure::subscriber_prints_nothing() {
                eprintln!(
                    "mirascope: metrics export failed ({} so far): {error}",
                    stats.metric_exports_failed
                );
            }
        }
    }

    fn warn_failure(&self, spans: usize, error: &dyn std::fmt::Display) {
        let mut last = self.last_warning.lock().unwrap_or_else(|e| e.into_inner());
        let due = last.is_none_or(|t| t.elapsed() >= WARN_EVERY);
        if due {
            *last = Some(Instant::now());
            drop(last);
            let stats = self.stats();
            tracing::warn!(
                target: "mirascope_ops::export",
                spans,
                failed_total = stats.failed,
                offered_total = stats.offered,
                "span export failed: {error}"
            );
            if crate::configure::subscriber_prints_nothing() {
                eprintln!(
                    "mirascope: span export failed ({spans} spans; {} of {} failed so far): {error}",
                    stats.failed, stats.offered
                );
            }
        }
    }
}

/// Counts the spans an exporter delivers and fails to deliver.
#[derive(Debug)]
pub(crate) struct Counted<E> {
    pub(crate) inner: E,
    pub(crate) counters: Arc<Counters>,
}

impl<E: SpanExporter> SpanExporter for Counted<E> {
    async fn export(&self, batch: Vec<SpanData>) -> OTelSdkResult {
        let n = batch.len();
        let result = self.inner.export(batch).await;
        match &result {
            Ok(()) => {
                self.counters
                    .exported
                    .fetch_add(n as u64, Ordering::Relaxed);
            }
            Err(e) => {
                self.counters.failed.fetch_add(n as u64, Ordering::Relaxed);
                self.counters.warn_failure(n, e);
            }
        }
        result
    }

    fn shutdown_with_timeout(&self, timeout: Duration) -> OTelSdkResult {
        self.inner.shutdown_with_timeout(timeout)
    }

    fn force_flush(&self) -> OTelSdkResult {
        self.inner.force_flush()
    }

    fn set_resource(&mut self, resource: &Resource) {
        self.inner.set_resource(resource)
    }
}

/// Counts the spans handed to a processor (its queue may drop some before they reach the
/// exporter: those show as undelivered).
#[derive(Debug)]
pub(crate) struct Offered<P> {
    pub(crate) inner: P,
    pub(crate) counters: Arc<Counters>,
}

impl<P: SpanProcessor> SpanProcessor for Offered<P> {
    fn on_start(&self, span: &mut Span, cx: &Context) {
        self.inner.on_start(span, cx)
    }

    fn on_end(&self, span: SpanData) {
        if span.span_context.is_sampled() {
            self.counters.offered.fetch_add(1, Ordering::Relaxed);
        }
        self.inner.on_end(span)
    }

    fn force_flush(&self) -> OTelSdkResult {
        self.inner.force_flush()
    }

    fn shutdown_with_timeout(&self, timeout: Duration) -> OTelSdkResult {
        self.inner.shutdown_with_timeout(timeout)
    }

    fn set_resource(&mut self, resource: &Resource) {
        self.inner.set_resource(resource)
    }
}

/// Counts the metrics exports that succeed and fail.
#[cfg_attr(
    not(any(feature = "otlp-http", feature = "otlp-grpc")),
    allow(dead_code)
)]
#[derive(Debug)]
pub(crate) struct CountedMetrics<E> {
    pub(crate) inner: E,
    pub(crate) counters: Arc<Counters>,
}

impl<E: opentelemetry_sdk::metrics::exporter::PushMetricExporter>
    opentelemetry_sdk::metrics::exporter::PushMetricExporter for CountedMetrics<E>
{
    async fn export(
        &self,
        metrics: &opentelemetry_sdk::metrics::data::ResourceMetrics,
    ) -> OTelSdkResult {
        let result = self.inner.export(metrics).await;
        match &result {
            Ok(()) => {
                self.counters.metric_exports.fetch_add(1, Ordering::Relaxed);
            }
            Err(e) => {
                self.counters
                    .metric_exports_failed
                    .fetch_add(1, Ordering::Relaxed);
                self.counters.warn_metrics_failure(e);
            }
        }
        result
    }

    fn force_flush(&self) -> OTelSdkResult {
        self.inner.force_flush()
    }

    fn shutdown_with_timeout(&self, timeout: Duration) -> OTelSdkResult {
        self.inner.shutdown_with_timeout(timeout)
    }

    fn temporality(&self) -> opentelemetry_sdk::metrics::Temporality {
        self.inner.temporality()
    }
}
