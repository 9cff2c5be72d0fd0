//! `configure()`: installs the global subscriber whose [`crate::OpsLayer`] turns mirascope's
//! `tracing` spans into OpenTelemetry spans (see [`crate::layer`] for composing your own).

use std::sync::Arc;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use opentelemetry_sdk::metrics::SdkMeterProvider;
use opentelemetry_sdk::trace::SdkTracerProvider;
use tracing_subscriber::filter::LevelFilter;
use tracing_subscriber::layer::SubscriberExt;

use crate::error::OpsError;
use crate::instrument;
use crate::layer::{LayerBuilder, OpsLayer, Tracers};

static GLOBAL: Mutex<Option<Tracers>> = Mutex::new(None);

/// Set once `configure` installed the global subscriber: it holds only our layer, so nothing
/// prints what mirascope warns about.
static OWN_GLOBAL: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

/// Whether warnings about lost telemetry reach no one through `tracing` (the global subscriber
/// is `configure`'s, which prints nothing): they then also go to stderr.
pub(crate) fn subscriber_prints_nothing() -> bool {
    OWN_GLOBAL.load(std::sync::atomic::Ordering::Relaxed)
}

/// The longest [`OpsGuard::shutdown`] blocks by default, for the final span and metrics exports
/// together (they run at the same time, each on a thread of its own).
pub const DEFAULT_SHUTDOWN_TIMEOUT: Duration = Duration::from_secs(2);

/// Runs `work` on a thread of its own and waits for it until `deadline`. `None` when it did not
/// finish in time (it goes on in the background) or the thread could not start (then it ran
/// nowhere: the caller's provider is dropped, as at the end of any program).
fn finish_by<R: Send + 'static>(
    name: &str,
    work: impl FnOnce() -> R + Send + 'static,
) -> Option<std::sync::mpsc::Receiver<R>> {
    let (done, wait) = std::sync::mpsc::channel();
    std::thread::Builder::new()
        .name(name.into())
        .spawn(move || {
            let _ = done.send(work());
        })
        .ok()
        .map(|_| wait)
}

fn wait_until<R>(wait: Option<&std::sync::mpsc::Receiver<R>>, deadline: Instant) -> Option<R> {
    let left = deadline.saturating_duration_since(Instant::now());
    wait?.recv_timeout(left).ok()
}

/// Configuration for [`Configuration::install`].
#[derive(Debug, Clone)]
pub struct Configuration {
    layer: LayerBuilder,
    provider: SdkTracerProvider,
    meter: Option<SdkMeterProvider>,
    summary: Option<Arc<crate::metrics::Summary>>,
    shutdown_timeout: Duration,
    /// The loss counters of pipelines built by `Otlp` for this configuration.
    counters: Vec<Arc<crate::export::loss::Counters>>,
}

impl Configuration {
    /// Export to `provider`.
    pub fn new(provider: SdkTracerProvider) -> Self {
        Configuration {
            layer: LayerBuilder::new(&provider),
            provider,
            meter: None,
            summary: None,
            shutdown_timeout: DEFAULT_SHUTDOWN_TIMEOUT,
            counters: crate::export::loss::take_built_pipeline()
                .into_iter()
                .collect(),
        }
    }

    /// Also records the GenAI client metrics and the call cost (see [`crate::metrics`]) with
    /// `provider`, switched with the spans by [`crate::instrument_llm`]. Without it there are
    /// spans and no metrics. The guard flushes and shuts it down.
    pub fn meter_provider(mut self, provider: SdkMeterProvider) -> Self {
        self.meter = Some(provider);
        if let Some(c) = crate::export::loss::take_built_pipeline() {
            if !self.counters.iter().any(|k| Arc::ptr_eq(k, &c)) {
                self.counters.push(c);
            }
        }
        self
    }

    /// Keeps a per-model summary of the calls, printed to stdout at shutdown (the console
    /// exporter's metrics output).
    pub(crate) fn print_summary(mut self) -> Self {
        self.summary = Some(Arc::default());
        self
    }

    pub(crate) fn has_summary(&self) -> bool {
        self.summary.is_some()
    }

    /// The instrumentation scope name of GenAI spans (default `mirascope.llm`).
    pub fn tracer_name(mut self, name: impl Into<String>) -> Self {
        self.layer = self.layer.tracer_name(name);
        self
    }

    /// The instrumentation scope version of GenAI spans.
    pub fn tracer_version(mut self, version: impl Into<String>) -> Self {
        self.layer = self.layer.tracer_version(version);
        self
    }

    /// The least severe level of the application's own spans that are exported (default INFO;
    /// `LevelFilter::OFF` exports only Mirascope's spans). Only the first successful
    /// `install` sets it.
    pub fn app_spans(mut self, level: LevelFilter) -> Self {
        self.layer = self.layer.app_spans(level);
        self
    }

    /// The longest [`OpsGuard::shutdown`] (and dropping the guard) blocks, for the final span
    /// and metrics exports together (default [`DEFAULT_SHUTDOWN_TIMEOUT`], 2 s). With a
    /// collector that is down or hangs, shutdown returns [`OpsError::ShutdownTimedOut`] after
    /// this long; the exports go on in the background until their own timeouts.
    pub fn shutdown_timeout(mut self, timeout: Duration) -> Self {
        self.shutdown_timeout = timeout;
        self
    }

    /// Installs the global subscriber (first call) or switches it to this provider (later
    /// calls), and sets the provider as OpenTelemetry's global one. The guard flushes and shuts
    /// the provider down when dropped.
    ///
    /// Nothing global changes when it fails: if another global subscriber is installed, the
    /// global tracer provider is left as it was.
    pub fn install(self) -> Result<OpsGuard, OpsError> {
        let (tracers, app) = self.layer.tracers();
        let mut global = GLOBAL.lock().unwrap_or_else(|e| e.into_inner());
        match global.as_ref() {
            Some(g) => g.replace(tracers),
            None => {
                let tracers = Tracers::new(tracers);
                // The only layer here, so the subscriber also disables what it does not
                // record (events other than Mirascope's, spans below the application level)
                // at their callsites.
                let filter = crate::layer::RecordedOnly { app };
                let subscriber = tracing_subscriber::registry()
                    .with(OpsLayer::new(tracers.clone(), app))
                    .with(filter);
                tracing::subscriber::set_global_default(subscriber)
                    .map_err(|_| OpsError::SubscriberAlreadySet)?;
                OWN_GLOBAL.store(true, std::sync::atomic::Ordering::Relaxed);
                *global = Some(tracers);
            }
        }
        // Only now that the subscriber is in place: the global provider, the session hook, the switch.
        opentelemetry::global::set_tracer_provider(self.provider.clone());
        crate::hooks::install();
        mirascope_llm::cost::warm_up();
        mirascope_llm::warm_up_transport();
        match &self.meter {
            Some(m) => {
                let metrics = crate::metrics::GenAiMetrics::new(
                    &opentelemetry::metrics::MeterProvider::meter(m, "mirascope.llm"),
                );
                let metrics = match &self.summary {
                    Some(s) => metrics.with_summary(s.clone()),
                    None => metrics,
                };
                mirascope_llm::genai::metrics::set_recorder(Some(Arc::new(metrics)));
            }
            None => crate::metrics::uninstall(),
        }
        instrument::mark_configured();
        Ok(OpsGuard {
            provider: Some(self.provider),
            meter: self.meter,
            summary: self.summary,
            stats: self.counters,
            shutdown_timeout: self.shutdown_timeout,
            collectors: Vec::new(),
            export_timeout: Duration::ZERO,
        })
    }
}

/// Configures OpenTelemetry export of mirascope's spans to `provider` (see [`Configuration`]).
///
/// GenAI spans are produced once [`crate::instrument_llm`] is called, as in Python Mirascope.
///
/// ```
/// use mirascope_ops as ops;
/// let provider = ops::sdk::trace::SdkTracerProvider::builder().build();
/// let _guard = ops::configure(provider).unwrap();
/// ops::instrument_llm().unwrap();
/// assert!(ops::is_llm_instrumented());
/// ```
pub fn configure(provider: SdkTracerProvider) -> Result<OpsGuard, OpsError> {
    Configuration::new(provider).install()
}

/// Flushes and shuts down the tracer provider when dropped (pending spans are exported).
#[must_use = "dropping the guard shuts the tracer provider down"]
#[derive(Debug)]
pub struct OpsGuard {
    provider: Option<SdkTracerProvider>,
    meter: Option<SdkMeterProvider>,
    summary: Option<Arc<crate::metrics::Summary>>,
    stats: Vec<std::sync::Arc<crate::export::loss::Counters>>,
    shutdown_timeout: Duration,
    /// The OTLP collectors `configure_from_env` exports to, and the exporters' timeout: a
    /// final export to a collector that answers may take that long (see [`OpsGuard::shutdown`]).
    collectors: Vec<(String, u16)>,
    export_timeout: Duration,
}

impl OpsGuard {
    /// A guard with nothing to flush (export disabled by the environment).
    pub(crate) fn disabled() -> Self {
        OpsGuard {
            provider: None,
            meter: None,
            summary: None,
            stats: Vec::new(),
            shutdown_timeout: DEFAULT_SHUTDOWN_TIMEOUT,
            collectors: Vec::new(),
            export_timeout: Duration::ZERO,
        }
    }

    /// This guard, waiting at shutdown up to `export_timeout` for a final export to one of
    /// `collectors` that accepts connections.
    pub(crate) fn with_collectors(
        mut self,
        collectors: Vec<(String, u16)>,
        export_timeout: Duration,
    ) -> Self {
        self.collectors = collectors;
        self.export_timeout = export_timeout;
        self
    }

    /// Whether one of the OTLP collectors accepts a TCP connection now (it is slow, not down).
    fn a_collector_answers(&self) -> bool {
        use std::net::{TcpStream, ToSocketAddrs};
        self.collectors.iter().any(|(host, port)| {
            (host.as_str(), *port)
                .to_socket_addrs()
                .ok()
                .into_iter()
                .flatten()
                .take(2)
                .any(|addr| TcpStream::connect_timeout(&addr, Duration::from_millis(300)).is_ok())
        })
    }

    /// Sets the longest [`OpsGuard::shutdown`] blocks (see [`Configuration::shutdown_timeout`]),
    /// e.g. on the guard `configure_from_env` returned.
    pub fn set_shutdown_timeout(&mut self, timeout: Duration) {
        self.shutdown_timeout = timeout;
    }

    /// This guard, reporting the counts of the pipelines `configure_from_env` built.
    pub(crate) fn with_stats(
        mut self,
        counters: std::sync::Arc<crate::export::loss::Counters>,
    ) -> Self {
        if !self
            .stats
            .iter()
            .any(|k| std::sync::Arc::ptr_eq(k, &counters))
        {
            self.stats.push(counters);
        }
        self
    }

    /// What happened to the spans so far: offered, exported and failed (zeros for a provider
    /// you built yourself, whose exporters mirascope does not see).
    pub fn stats(&self) -> crate::export::ExportStats {
        self.stats
            .iter()
            .map(|c| c.stats())
            .fold(crate::export::ExportStats::default(), |a, b| a.plus(&b))
    }

    /// The provider.
    pub fn provider(&self) -> Option<&SdkTracerProvider> {
        self.provider.as_ref()
    }

    /// The meter provider of the client metrics, if any.
    pub fn meter_provider(&self) -> Option<&SdkMeterProvider> {
        self.meter.as_ref()
    }

    /// Exports pending spans and metrics now (both are attempted; the first failure is returned).
    pub fn flush(&self) -> Result<(), OpsError> {
        let metrics = match &self.meter {
            Some(m) => m.force_flush().map_err(|e| OpsError::Sdk(e.to_string())),
            None => Ok(()),
        };
        let spans = match &self.provider {
            Some(p) => p.force_flush().map_err(|e| OpsError::Sdk(e.to_string())),
            None => Ok(()),
        };
        spans.and(metrics)
    }

    /// Flushes and shuts down now (idempotent), blocking at most the shutdown timeout (2 s by
    /// default, [`Configuration::shutdown_timeout`]). With the OTLP exporters of
    /// [`crate::configure_from_env`], a final export still running at that point is waited for
    /// up to the exporters' own timeout (`OTEL_EXPORTER_OTLP_TIMEOUT`, 10 s by default) if the
    /// collector accepts connections (slow but there, as a cold backend is); a collector that
    /// is down (refused, unreachable) does not hold exit past the shutdown timeout.
    ///
    /// Fails with [`OpsError::Undelivered`] when spans that ended were not delivered (export
    /// failures, a full queue, a collector still down at shutdown), saying how many, and with
    /// [`OpsError::ShutdownTimedOut`] when the final export had not finished in time (a collector
    /// that hangs): it goes on in the background, bounded by the exporter's own timeout.
    pub fn shutdown(&mut self) -> Result<(), OpsError> {
        let deadline = Instant::now() + self.shutdown_timeout;
        let meter = self.meter.take().and_then(|m| {
            crate::metrics::uninstall();
            // The SDK ignores shutdown timeouts: the final export waits for the collector up to
            // the exporter's timeout (10 s by default). Hence a thread of its own.
            finish_by("mirascope-metrics-shutdown", move || m.shutdown())
        });
        let spans = self.provider.take().and_then(|p| {
            finish_by("mirascope-trace-shutdown", move || {
                let _ = p.force_flush();
                p.shutdown()
            })
        });
        if let Some(s) = self.summary.take() {
            let text = s.render();
            if !text.is_empty() {
                println!("mirascope metrics:\n{text}");
            }
        }
        let started = Instant::now();
        let shut_anything_down = meter.is_some() || spans.is_some();
        let mut meter_done = meter.is_none();
        let mut spans_result = None;
        let mut spans_done = spans.is_none();
        let mut poll = |deadline: Instant| {
            if !meter_done {
                meter_done = wait_until(meter.as_ref(), deadline).is_some();
            }
            if !spans_done {
                if let Some(r) = wait_until(spans.as_ref(), deadline) {
                    spans_done = true;
                    spans_result = Some(r.map_err(|e| OpsError::Sdk(e.to_string())));
                }
            }
            meter_done && spans_done
        };
        let mut finished = poll(deadline);
        if !finished && !self.collectors.is_empty() && self.a_collector_answers() {
            // Slow, not down: its data is worth the exporters' own timeout.
            finished = poll(started + self.export_timeout.max(self.shutdown_timeout));
        }
        let timed_out = !finished;
        let spans = spans_result;
        if timed_out {
            tracing::warn!(
                target: "mirascope_ops::export",
                "shutdown did not finish within {:?}; the final export continues in the background",
                self.shutdown_timeout
            );
            return Err(OpsError::ShutdownTimedOut {
                waited: self.shutdown_timeout,
            });
        }
        match spans {
            Some(shut) => {
                let stats = self.stats();
                if stats.lost_anything() {
                    return Err(OpsError::Undelivered {
                        spans: stats.undelivered(),
                        stats,
                    });
                }
                shut
            }
            // Metrics only (spans off), or nothing left to shut down (a second call).
            None => {
                let stats = self.stats();
                if shut_anything_down && stats.lost_anything() {
                    return Err(OpsError::Undelivered {
                        spans: stats.undelivered(),
                        stats,
                    });
                }
                Ok(())
            }
        }
    }
}

impl Drop for OpsGuard {
    fn drop(&mut self) {
        let _ = self.shutdown();
    }
}
