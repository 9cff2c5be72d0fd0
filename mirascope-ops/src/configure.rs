//! `configure()`: the subscriber stack that turns mirascope's `tracing` spans into OpenTelemetry
//! spans, and `layer()` for users who compose their own subscriber.
//!
//! Two OpenTelemetry layers share one registry: GenAI spans (target `mirascope_llm::genai`) go to
//! the tracer `mirascope.llm` behind the instrumentation switch; Mirascope's own INTERNAL spans
//! (target `mirascope_ops`: traces, explicit spans, `Response.resume`) go to the tracer
//! `mirascope.ops`. Parent links cross the two through the activated OpenTelemetry context.

use std::sync::Mutex;

use opentelemetry_sdk::trace::SdkTracerProvider;
use tracing::Subscriber;
use tracing_subscriber::filter::{FilterExt, LevelFilter, Targets};
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::registry::LookupSpan;
use tracing_subscriber::{reload, Layer};

use crate::error::OpsError;
use crate::instrument;
use crate::tracer::{scoped_tracer, SwitchableTracer};

/// The default instrumentation scope of GenAI spans.
pub const DEFAULT_TRACER_NAME: &str = "mirascope.llm";
/// The instrumentation scope of trace, span and resume spans.
pub const OPS_TRACER_NAME: &str = "mirascope.ops";

struct Global {
    llm: SwitchableTracer,
    ops: SwitchableTracer,
}

static GLOBAL: Mutex<Option<Global>> = Mutex::new(None);

/// Configuration for [`Configuration::install`].
#[derive(Debug, Clone)]
pub struct Configuration {
    provider: SdkTracerProvider,
    tracer_name: String,
    tracer_version: Option<String>,
}

impl Configuration {
    /// Export to `provider`.
    pub fn new(provider: SdkTracerProvider) -> Self {
        Configuration {
            provider,
            tracer_name: DEFAULT_TRACER_NAME.into(),
            tracer_version: None,
        }
    }

    /// The instrumentation scope name of GenAI spans (default `mirascope.llm`).
    pub fn tracer_name(mut self, name: impl Into<String>) -> Self {
        self.tracer_name = name.into();
        self
    }

    /// The instrumentation scope version of GenAI spans.
    pub fn tracer_version(mut self, version: impl Into<String>) -> Self {
        self.tracer_version = Some(version.into());
        self
    }

    /// Installs the global subscriber (first call) or switches it to this provider (later
    /// calls), and sets the provider as OpenTelemetry's global one. The guard flushes and shuts
    /// the provider down when dropped.
    pub fn install(self) -> Result<OpsGuard, OpsError> {
        let llm = scoped_tracer(
            &self.provider,
            &self.tracer_name,
            self.tracer_version.as_deref(),
        );
        let ops = scoped_tracer(&self.provider, OPS_TRACER_NAME, None);
        opentelemetry::global::set_tracer_provider(self.provider.clone());
        crate::bridge::install();
        let mut global = GLOBAL.lock().unwrap_or_else(|e| e.into_inner());
        match global.as_ref() {
            Some(g) => {
                g.llm.replace(llm);
                g.ops.replace(ops);
            }
            None => {
                let (llm, ops) = (SwitchableTracer::new(llm), SwitchableTracer::new(ops));
                let subscriber =
                    tracing_subscriber::registry().with(build(llm.clone(), ops.clone()));
                tracing::subscriber::set_global_default(subscriber)
                    .map_err(|_| OpsError::SubscriberAlreadySet)?;
                *global = Some(Global { llm, ops });
            }
        }
        instrument::mark_configured();
        Ok(OpsGuard {
            provider: Some(self.provider),
        })
    }
}

/// Configures OpenTelemetry export of mirascope's spans to `provider` (see [`Configuration`]).
///
/// GenAI spans are produced once [`crate::instrument_llm`] is called, as in Python Mirascope.
///
/// ```
/// use mirascope_ops as ops;
/// let (provider, exporter) = ops::testing::in_memory_provider();
/// let _guard = ops::configure(provider).unwrap();
/// ops::instrument_llm().unwrap();
/// assert!(ops::is_llm_instrumented());
/// # drop(exporter);
/// ```
pub fn configure(provider: SdkTracerProvider) -> Result<OpsGuard, OpsError> {
    Configuration::new(provider).install()
}

/// The OpenTelemetry layers, for a subscriber you build yourself (with your `fmt` layer, filters,
/// ...). Calling it also counts as `configure()` for [`crate::instrument_llm`].
///
/// ```
/// use tracing_subscriber::layer::SubscriberExt;
/// let (provider, _exporter) = mirascope_ops::testing::in_memory_provider();
/// let subscriber = tracing_subscriber::registry().with(mirascope_ops::layer(&provider));
/// let _default = tracing::subscriber::set_default(subscriber);
/// ```
pub fn layer<S>(provider: &SdkTracerProvider) -> impl Layer<S> + Send + Sync + 'static
where
    S: Subscriber + for<'a> LookupSpan<'a> + Send + Sync + 'static,
{
    crate::bridge::install();
    let llm = SwitchableTracer::new(scoped_tracer(provider, DEFAULT_TRACER_NAME, None));
    let ops = SwitchableTracer::new(scoped_tracer(provider, OPS_TRACER_NAME, None));
    let layer = build(llm, ops);
    instrument::mark_configured();
    layer
}

fn otel_layer<S>(
    tracer: SwitchableTracer,
) -> tracing_opentelemetry::OpenTelemetryLayer<S, SwitchableTracer>
where
    S: Subscriber + for<'a> LookupSpan<'a>,
{
    tracing_opentelemetry::layer()
        .with_tracer(tracer)
        .with_location(false)
        .with_threads(false)
        .with_tracked_inactivity(false)
        .with_target(false)
        .with_error_events_to_exceptions(false)
        .with_error_events_to_status(false)
}

fn build<S>(llm: SwitchableTracer, ops: SwitchableTracer) -> impl Layer<S> + Send + Sync + 'static
where
    S: Subscriber + for<'a> LookupSpan<'a> + Send + Sync + 'static,
{
    let initial = if instrument::is_llm_instrumented() {
        LevelFilter::TRACE
    } else {
        LevelFilter::OFF
    };
    let (switch, handle) = reload::Layer::new(initial);
    instrument::register_switch(move |on| {
        let level = if on {
            LevelFilter::TRACE
        } else {
            LevelFilter::OFF
        };
        handle.modify(|f| *f = level).is_ok()
    });
    let genai = Targets::new().with_target(mirascope_llm::genai::TARGET, LevelFilter::TRACE);
    let internal = Targets::new().with_target(mirascope_llm::genai::OPS_TARGET, LevelFilter::TRACE);
    otel_layer(llm)
        .with_filter(genai.and(switch))
        .and_then(otel_layer(ops).with_filter(internal))
}

/// Flushes and shuts down the tracer provider when dropped (pending spans are exported).
#[must_use = "dropping the guard shuts the tracer provider down"]
#[derive(Debug)]
pub struct OpsGuard {
    provider: Option<SdkTracerProvider>,
}

impl OpsGuard {
    /// The provider.
    pub fn provider(&self) -> Option<&SdkTracerProvider> {
        self.provider.as_ref()
    }

    /// Exports pending spans now.
    pub fn flush(&self) -> Result<(), OpsError> {
        match &self.provider {
            Some(p) => p.force_flush().map_err(|e| OpsError::Sdk(e.to_string())),
            None => Ok(()),
        }
    }

    /// Flushes and shuts down now (idempotent).
    pub fn shutdown(&mut self) -> Result<(), OpsError> {
        match self.provider.take() {
            Some(p) => {
                let _ = p.force_flush();
                p.shutdown().map_err(|e| OpsError::Sdk(e.to_string()))
            }
            None => Ok(()),
        }
    }
}

impl Drop for OpsGuard {
    fn drop(&mut self) {
        let _ = self.shutdown();
    }
}
