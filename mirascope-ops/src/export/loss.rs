//! Telemetry loss made visible: every span offered to the exporters that `configure_from_env`
//! builds is counted, and so is every span an export delivered or failed to deliver. Failures are
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
}

impl ExportStats {
    /// Spans offered but not delivered: failed, dropped (a full batch queue), or still queued.
    pub fn undelivered(&self) -> u64 {
        self.offered.saturating_sub(self.exported)
    }
}

/// The counters of one pipeline, shared by its processor and exporter wrappers.
#[derive(Debug, Default)]
pub(crate) struct Counters {
    offered: AtomicU64,
    exported: AtomicU64,
    failed: AtomicU64,
    last_warning: Mutex<Option<Instant>>,
}

/// How often a kind of export failure is reported at most.
const WARN_EVERY: Duration = Duration::from_secs(60);

impl Counters {
    pub(crate) fn stats(&self) -> ExportStats {
        ExportStats {
            offered: self.offered.load(Ordering::Relaxed),
            exported: self.exported.load(Ordering::Relaxed),
            failed: self.failed.load(Ordering::Relaxed),
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
