//! The OTLP exporter: http/protobuf (feature `otlp-http`), http/json (`otlp-http-json`) and gRPC
//! (`otlp-grpc`). A transport whose feature is off is a typed error, never a silent fallback.

use std::collections::HashMap;
use std::time::Duration;

#[cfg(any(feature = "otlp-http", feature = "otlp-grpc"))]
use opentelemetry_sdk::trace::{BatchConfig, BatchConfigBuilder};
use opentelemetry_sdk::trace::{BatchSpanProcessor, SdkTracerProvider};

#[cfg(feature = "otlp-http")]
use opentelemetry_otlp::WithExportConfig;
use opentelemetry_sdk::error::OTelSdkResult;
#[cfg(feature = "otlp-grpc")]
use opentelemetry_sdk::trace::{SpanData, SpanExporter};
use std::sync::Arc;
#[cfg(feature = "otlp-grpc")]
use std::sync::OnceLock;

use super::loss::Counters;
#[cfg(any(feature = "otlp-http", feature = "otlp-grpc"))]
use super::loss::{Counted, CountedMetrics};
#[cfg(any(feature = "otlp-http", feature = "otlp-grpc"))]
use super::LengthLimited;
use super::{env, resource};
use crate::error::OpsError;

#[cfg(any(feature = "otlp-http", feature = "otlp-grpc"))]
fn build_error(e: opentelemetry_otlp::ExporterBuildError) -> OpsError {
    OpsError::Configuration(format!("OTLP exporter: {e}"))
}

/// The OTLP transport.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Protocol {
    /// `http/protobuf` (default; Jaeger, Tempo, Phoenix, Langfuse, Datadog accept it).
    HttpProtobuf,
    /// `http/json`.
    HttpJson,
    /// `grpc`.
    Grpc,
}

impl std::str::FromStr for Protocol {
    type Err = OpsError;
    fn from_str(s: &str) -> Result<Self, OpsError> {
        match s.trim().to_ascii_lowercase().as_str() {
            "http/protobuf" => Ok(Protocol::HttpProtobuf),
            "http/json" => Ok(Protocol::HttpJson),
            "grpc" => Ok(Protocol::Grpc),
            other => Err(OpsError::Configuration(format!(
                "unknown OTLP protocol {other:?}; valid: http/protobuf, http/json, grpc"
            ))),
        }
    }
}

/// An OTLP exporter configuration. Unset fields fall back to the standard `OTEL_EXPORTER_OTLP_*`
/// variables (per-signal `..._TRACES_...` first), then to the OpenTelemetry defaults.
///
/// ```
/// use mirascope_ops::export::{Otlp, Protocol};
/// let otlp = Otlp::new().endpoint("http://127.0.0.1:4318").protocol(Protocol::HttpProtobuf).header("x-project-name", "demo");
/// ```
#[derive(Debug, Clone, Default)]
#[cfg_attr(
    not(any(feature = "otlp-http", feature = "otlp-grpc")),
    allow(dead_code)
)]
pub struct Otlp {
    endpoint: Option<String>,
    protocol: Option<Protocol>,
    headers: HashMap<String, String>,
    timeout: Option<Duration>,
    gzip: bool,
    value_length_limit: Option<usize>,
}

impl Otlp {
    /// Defaults and environment.
    pub fn new() -> Self {
        Self::default()
    }
    /// The collector endpoint (for HTTP, the base: `/v1/traces` is appended unless the
    /// endpoint already ends with it).
    pub fn endpoint(mut self, endpoint: impl Into<String>) -> Self {
        self.endpoint = Some(endpoint.into());
        self
    }
    /// The transport.
    pub fn protocol(mut self, protocol: Protocol) -> Self {
        self.protocol = Some(protocol);
        self
    }
    /// An extra header (HTTP) or metadata entry (gRPC), e.g. an API key.
    pub fn header(mut self, key: impl Into<String>, value: impl Into<String>) -> Self {
        self.headers.insert(key.into(), value.into());
        self
    }
    /// The export timeout.
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = Some(timeout);
        self
    }
    /// Cut string attribute values to at most `limit` characters before export (`None`: no
    /// limit, the default).
    pub fn attribute_value_length_limit(mut self, limit: Option<usize>) -> Self {
        self.value_length_limit = limit;
        self
    }
    /// gzip-compress exports.
    pub fn gzip(mut self, on: bool) -> Self {
        self.gzip = on;
        self
    }

    /// The OTLP HTTP body encoding for `p` (http/json needs its feature).
    #[cfg(feature = "otlp-http")]
    fn http_wire(p: Protocol) -> Result<opentelemetry_otlp::Protocol, OpsError> {
        match p {
            #[cfg(feature = "otlp-http-json")]
            Protocol::HttpJson => Ok(opentelemetry_otlp::Protocol::HttpJson),
            #[cfg(not(feature = "otlp-http-json"))]
            Protocol::HttpJson => Err(OpsError::FeatureDisabled {
                what: "OTLP http/json",
                feature: "otlp-http-json",
            }),
            _ => Ok(opentelemetry_otlp::Protocol::HttpBinary),
        }
    }

    /// This builder's endpoint for one signal's HTTP path (`/v1/traces`, `/v1/metrics`),
    /// appended unless the endpoint already ends with it (an endpoint given for the other signal
    /// is re-pointed).
    #[cfg(feature = "otlp-http")]
    fn http_endpoint(&self, signal_path: &str) -> Option<String> {
        self.endpoint.as_ref().map(|e| {
            let e = e.trim_end_matches('/');
            let e = ["/v1/traces", "/v1/metrics"]
                .iter()
                .find_map(|p| e.strip_suffix(p))
                .unwrap_or(e);
            format!("{e}{signal_path}")
        })
    }

    /// Timeout, headers and compression: the same for every HTTP exporter.
    #[cfg(feature = "otlp-http")]
    fn http_settings<B>(&self, mut b: B, signal_path: &str) -> B
    where
        B: opentelemetry_otlp::WithExportConfig + opentelemetry_otlp::WithHttpConfig,
    {
        if let Some(e) = self.http_endpoint(signal_path) {
            b = b.with_endpoint(e);
        }
        if let Some(t) = self.timeout {
            b = b.with_timeout(t);
        }
        if !self.headers.is_empty() {
            b = b.with_headers(self.headers.clone());
        }
        if self.gzip {
            b = b.with_compression(opentelemetry_otlp::Compression::Gzip);
        }
        b
    }

    /// Endpoint, timeout, metadata and compression: the same for every gRPC exporter.
    #[cfg(feature = "otlp-grpc")]
    fn grpc_settings<B>(&self, mut b: B) -> Result<B, OpsError>
    where
        B: opentelemetry_otlp::WithExportConfig + opentelemetry_otlp::WithTonicConfig,
    {
        if let Some(e) = &self.endpoint {
            b = b.with_endpoint(e.clone());
        }
        if let Some(t) = self.timeout {
            b = b.with_timeout(t);
        }
        if !self.headers.is_empty() {
            b = b.with_metadata(tonic_metadata(&self.headers)?);
        }
        if self.gzip {
            b = b.with_compression(opentelemetry_otlp::Compression::Gzip);
        }
        Ok(b)
    }

    fn resolved_protocol(&self) -> Result<Protocol, OpsError> {
        self.resolved_protocol_for("OTEL_EXPORTER_OTLP_TRACES_PROTOCOL")
    }

    /// The protocol set on the builder, else the signal's variable (`..._TRACES_PROTOCOL`,
    /// `..._METRICS_PROTOCOL`), else `OTEL_EXPORTER_OTLP_PROTOCOL`, else http/protobuf.
    fn resolved_protocol_for(&self, signal_var: &str) -> Result<Protocol, OpsError> {
        match self.protocol {
            Some(p) => Ok(p),
            None => match env(signal_var).or_else(|| env("OTEL_EXPORTER_OTLP_PROTOCOL")) {
                Some(v) => v.parse(),
                None => Ok(Protocol::HttpProtobuf),
            },
        }
    }

    /// A tracer provider exporting through a batch processor (settings from `OTEL_BSP_*`, with
    /// our defaults for the queue and batch sizes: [`DEFAULT_MAX_QUEUE_SIZE`],
    /// [`DEFAULT_MAX_EXPORT_BATCH_SIZE`]), with
    /// the resource from `OTEL_SERVICE_NAME` / `OTEL_RESOURCE_ATTRIBUTES`.
    /// The spans it loses (failed exports, a full queue) are counted, and the `Configuration`
    /// (or `configure`) that installs it on the same thread reports them from
    /// [`crate::OpsGuard::stats`] and [`crate::OpsGuard::shutdown`].
    pub fn provider(&self) -> Result<SdkTracerProvider, OpsError> {
        let counters = super::loss::counters_for_built_pipeline();
        Ok(SdkTracerProvider::builder()
            .with_span_processor(super::loss::Offered {
                inner: self.counted_batch_processor(counters.clone())?,
                counters,
            })
            .with_resource(resource())
            .build())
    }

    /// A meter provider exporting mirascope's client metrics over OTLP with the same protocol,
    /// endpoint (`/v1/metrics` for HTTP), headers, timeout and compression as the traces; a
    /// periodic reader (every 60 s, `OTEL_METRIC_EXPORT_INTERVAL`) and a final export at shutdown.
    /// Failed exports are counted as for [`Otlp::provider`].
    pub fn meter_provider(&self) -> Result<opentelemetry_sdk::metrics::SdkMeterProvider, OpsError> {
        self.counted_meter_provider(super::loss::counters_for_built_pipeline())
    }

    /// [`Otlp::meter_provider`], its exporter counting the exports that succeed and fail into
    /// `counters`.
    pub(crate) fn counted_meter_provider(
        &self,
        counters: Arc<Counters>,
    ) -> Result<opentelemetry_sdk::metrics::SdkMeterProvider, OpsError> {
        let builder =
            opentelemetry_sdk::metrics::SdkMeterProvider::builder().with_resource(resource());
        let builder = match self.resolved_protocol_for("OTEL_EXPORTER_OTLP_METRICS_PROTOCOL")? {
            p @ (Protocol::HttpProtobuf | Protocol::HttpJson) => {
                builder.with_reader(self.http_metrics_reader(p, counters)?)
            }
            Protocol::Grpc => builder.with_reader(self.grpc_metrics_reader(counters)?),
        };
        Ok(builder.build())
    }

    #[cfg(feature = "otlp-http")]
    fn http_metrics_reader(
        &self,
        p: Protocol,
        counters: Arc<Counters>,
    ) -> Result<
        opentelemetry_sdk::metrics::PeriodicReader<
            CountedMetrics<opentelemetry_otlp::MetricExporter>,
        >,
        OpsError,
    > {
        let b = opentelemetry_otlp::MetricExporter::builder()
            .with_http()
            .with_protocol(Self::http_wire(p)?);
        let b = self.http_settings(b, "/v1/metrics");
        Ok(
            opentelemetry_sdk::metrics::PeriodicReader::builder(CountedMetrics {
                inner: b.build().map_err(build_error)?,
                counters,
            })
            .build(),
        )
    }

    #[cfg(not(feature = "otlp-http"))]
    fn http_metrics_reader(
        &self,
        _: Protocol,
        _: Arc<Counters>,
    ) -> Result<opentelemetry_sdk::metrics::PeriodicReader<NoMetrics>, OpsError> {
        Err(OpsError::FeatureDisabled {
            what: "OTLP over HTTP",
            feature: "otlp-http",
        })
    }

    #[cfg(feature = "otlp-grpc")]
    fn grpc_metrics_reader(
        &self,
        counters: Arc<Counters>,
    ) -> Result<
        opentelemetry_sdk::metrics::PeriodicReader<CountedMetrics<MetricsOnRuntime>>,
        OpsError,
    > {
        let rt = export_runtime()?;
        let _enter = rt.enter();
        let b = self.grpc_settings(opentelemetry_otlp::MetricExporter::builder().with_tonic())?;
        let exporter = MetricsOnRuntime {
            inner: b.build().map_err(build_error)?,
            runtime: rt.handle().clone(),
        };
        Ok(
            opentelemetry_sdk::metrics::PeriodicReader::builder(CountedMetrics {
                inner: exporter,
                counters,
            })
            .build(),
        )
    }

    #[cfg(not(feature = "otlp-grpc"))]
    fn grpc_metrics_reader(
        &self,
        _: Arc<Counters>,
    ) -> Result<opentelemetry_sdk::metrics::PeriodicReader<NoMetrics>, OpsError> {
        Err(OpsError::FeatureDisabled {
            what: "OTLP over gRPC",
            feature: "otlp-grpc",
        })
    }

    /// The batch processor exporting over OTLP, to add to a provider you build yourself (next to
    /// other processors).
    pub fn batch_processor(&self) -> Result<BatchSpanProcessor, OpsError> {
        self.counted_batch_processor(Arc::default())
    }

    /// The batch processor, its exporter counting delivered and failed spans into `counters`.
    pub(crate) fn counted_batch_processor(
        &self,
        counters: Arc<Counters>,
    ) -> Result<BatchSpanProcessor, OpsError> {
        match self.resolved_protocol()? {
            p @ (Protocol::HttpProtobuf | Protocol::HttpJson) => self.http_processor(p, counters),
            Protocol::Grpc => self.grpc_processor(counters),
        }
    }

    #[cfg(feature = "otlp-http")]
    fn http_processor(
        &self,
        p: Protocol,
        counters: Arc<Counters>,
    ) -> Result<BatchSpanProcessor, OpsError> {
        let b = opentelemetry_otlp::SpanExporter::builder()
            .with_http()
            .with_protocol(Self::http_wire(p)?);
        let b = self.http_settings(b, "/v1/traces");
        // Counted inside LengthLimited: each request of a split batch is counted on its own.
        Ok(BatchSpanProcessor::builder(LengthLimited::new(
            Counted {
                inner: b.build().map_err(build_error)?,
                counters,
            },
            self.value_length_limit,
        ))
        .with_batch_config(batch_config())
        .build())
    }

    #[cfg(not(feature = "otlp-http"))]
    fn http_processor(
        &self,
        _: Protocol,
        _: Arc<Counters>,
    ) -> Result<BatchSpanProcessor, OpsError> {
        Err(OpsError::FeatureDisabled {
            what: "OTLP over HTTP",
            feature: "otlp-http",
        })
    }

    #[cfg(not(feature = "otlp-grpc"))]
    fn grpc_processor(&self, _: Arc<Counters>) -> Result<BatchSpanProcessor, OpsError> {
        Err(OpsError::FeatureDisabled {
            what: "OTLP over gRPC",
            feature: "otlp-grpc",
        })
    }

    #[cfg(feature = "otlp-grpc")]
    fn grpc_processor(&self, counters: Arc<Counters>) -> Result<BatchSpanProcessor, OpsError> {
        let rt = export_runtime()?;
        let _enter = rt.enter();
        let b = self.grpc_settings(opentelemetry_otlp::SpanExporter::builder().with_tonic())?;
        let exporter = b.build().map_err(build_error)?;
        Ok(BatchSpanProcessor::builder(LengthLimited::new(
            Counted {
                inner: OnRuntime {
                    inner: Arc::new(exporter),
                    runtime: rt.handle().clone(),
                },
                counters,
            },
            self.value_length_limit,
        ))
        .with_batch_config(batch_config())
        .build())
    }
}

#[cfg(feature = "otlp-grpc")]
fn tonic_metadata(
    headers: &HashMap<String, String>,
) -> Result<tonic::metadata::MetadataMap, OpsError> {
    let mut md = tonic::metadata::MetadataMap::new();
    for (k, v) in headers {
        let key = tonic::metadata::MetadataKey::from_bytes(k.to_ascii_lowercase().as_bytes())
            .map_err(|_| OpsError::Configuration(format!("invalid gRPC metadata key {k:?}")))?;
        let value = v.parse().map_err(|_| {
            OpsError::Configuration(format!("invalid gRPC metadata value for {k:?}"))
        })?;
        md.insert(key, value);
    }
    Ok(md)
}

#[cfg(feature = "otlp-grpc")]
/// The runtime that drives gRPC exports (tonic needs tokio; the batch processor runs on its own
/// thread, so exports are handed to this runtime and awaited from there).
fn export_runtime() -> Result<&'static tokio::runtime::Runtime, OpsError> {
    static RT: OnceLock<Result<tokio::runtime::Runtime, String>> = OnceLock::new();
    RT.get_or_init(|| {
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .thread_name("mirascope-export")
            .enable_all()
            .build()
            .map_err(|e| e.to_string())
    })
    .as_ref()
    .map_err(|e| OpsError::Sdk(format!("cannot start the export runtime: {e}")))
}

#[cfg(feature = "otlp-grpc")]
/// Runs an async exporter's work on the export runtime, so it works from the batch processor's
/// thread and never blocks (or deadlocks) a user's current-thread runtime.
#[derive(Debug)]
struct OnRuntime<E> {
    inner: Arc<E>,
    runtime: tokio::runtime::Handle,
}

#[cfg(feature = "otlp-grpc")]
impl<E: SpanExporter + Send + Sync + 'static> SpanExporter for OnRuntime<E> {
    async fn export(&self, batch: Vec<SpanData>) -> OTelSdkResult {
        let inner = self.inner.clone();
        match self
            .runtime
            .spawn(async move { inner.export(batch).await })
            .await
        {
            Ok(r) => r,
            Err(e) => Err(opentelemetry_sdk::error::OTelSdkError::InternalFailure(
                format!("export task failed: {e}"),
            )),
        }
    }

    fn shutdown_with_timeout(&self, timeout: Duration) -> OTelSdkResult {
        self.inner.shutdown_with_timeout(timeout)
    }

    fn force_flush(&self) -> OTelSdkResult {
        self.inner.force_flush()
    }
}

/// A metrics exporter whose exports run on the export runtime (tonic needs tokio; the periodic
/// reader calls from a thread of its own).
#[cfg(feature = "otlp-grpc")]
#[derive(Debug)]
pub(crate) struct MetricsOnRuntime {
    inner: opentelemetry_otlp::MetricExporter,
    runtime: tokio::runtime::Handle,
}

#[cfg(feature = "otlp-grpc")]
impl opentelemetry_sdk::metrics::exporter::PushMetricExporter for MetricsOnRuntime {
    async fn export(
        &self,
        metrics: &opentelemetry_sdk::metrics::data::ResourceMetrics,
    ) -> OTelSdkResult {
        self.runtime.block_on(self.inner.export(metrics))
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

/// The reader type when a transport's feature is off (never built).
#[cfg(any(not(feature = "otlp-grpc"), not(feature = "otlp-http")))]
#[derive(Debug)]
pub(crate) struct NoMetrics;

#[cfg(any(not(feature = "otlp-grpc"), not(feature = "otlp-http")))]
impl opentelemetry_sdk::metrics::exporter::PushMetricExporter for NoMetrics {
    async fn export(&self, _: &opentelemetry_sdk::metrics::data::ResourceMetrics) -> OTelSdkResult {
        Ok(())
    }
    fn force_flush(&self) -> OTelSdkResult {
        Ok(())
    }
    fn shutdown_with_timeout(&self, _: Duration) -> OTelSdkResult {
        Ok(())
    }
    fn temporality(&self) -> opentelemetry_sdk::metrics::Temporality {
        opentelemetry_sdk::metrics::Temporality::Cumulative
    }
}

/// The batch queue's default size when `OTEL_BSP_MAX_QUEUE_SIZE` is unset (the SDK's is 2048):
/// the most ended spans waiting for export; a span offered to a full queue is dropped and counted.
/// Measured by `benches/export_scale.rs` on a 2-core VM: with 8192 and batches of 2048, 50k
/// spans/s offered lost none over http/protobuf or gRPC, where the SDK's defaults lost 1.3 % over
/// gRPC. Memory: at most this many spans, each bounded by `OTEL_ATTRIBUTE_VALUE_LENGTH_LIMIT`
/// when set.
pub const DEFAULT_MAX_QUEUE_SIZE: usize = 8192;

/// Spans per export request when `OTEL_BSP_MAX_EXPORT_BATCH_SIZE` is unset (the SDK's is 512);
/// requests are also split to stay under the exporter's byte budget.
pub const DEFAULT_MAX_EXPORT_BATCH_SIZE: usize = 2048;

/// `OTEL_BSP_*` as the SDK reads them, with our queue and batch sizes where those are unset.
#[cfg(any(feature = "otlp-http", feature = "otlp-grpc"))]
fn batch_config() -> BatchConfig {
    let mut b = BatchConfigBuilder::default();
    if env("OTEL_BSP_MAX_QUEUE_SIZE").is_none() {
        b = b.with_max_queue_size(DEFAULT_MAX_QUEUE_SIZE);
    }
    if env("OTEL_BSP_MAX_EXPORT_BATCH_SIZE").is_none() {
        b = b.with_max_export_batch_size(DEFAULT_MAX_EXPORT_BATCH_SIZE);
    }
    b.build()
}
