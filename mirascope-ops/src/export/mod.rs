//! Where spans go: OTLP (http/protobuf, http/json or gRPC), the console tree, or memory; and
//! [`configure_from_env`], which picks one from the standard `OTEL_*` variables.

mod console;

use std::collections::HashMap;
use std::sync::{Arc, OnceLock};
use std::time::Duration;

pub use console::{render, ConsoleExporter};
use opentelemetry_otlp::{WithExportConfig, WithHttpConfig, WithTonicConfig};
use opentelemetry_sdk::error::OTelSdkResult;
use opentelemetry_sdk::trace::{BatchSpanProcessor, SdkTracerProvider, SpanData, SpanExporter};
use opentelemetry_sdk::Resource;

use crate::configure::{Configuration, OpsGuard};
use crate::error::OpsError;

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
pub struct Otlp {
    endpoint: Option<String>,
    protocol: Option<Protocol>,
    headers: HashMap<String, String>,
    timeout: Option<Duration>,
    gzip: bool,
    value_length_limit: Option<usize>,
}

fn env(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.trim().is_empty())
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

    fn resolved_protocol(&self) -> Result<Protocol, OpsError> {
        match self.protocol {
            Some(p) => Ok(p),
            None => match env("OTEL_EXPORTER_OTLP_TRACES_PROTOCOL")
                .or_else(|| env("OTEL_EXPORTER_OTLP_PROTOCOL"))
            {
                Some(v) => v.parse(),
                None => Ok(Protocol::HttpProtobuf),
            },
        }
    }

    /// A tracer provider exporting through a batch processor (settings from `OTEL_BSP_*`), with
    /// the resource from `OTEL_SERVICE_NAME` / `OTEL_RESOURCE_ATTRIBUTES`.
    pub fn provider(&self) -> Result<SdkTracerProvider, OpsError> {
        Ok(SdkTracerProvider::builder()
            .with_span_processor(self.batch_processor()?)
            .with_resource(resource())
            .build())
    }

    /// The batch processor exporting over OTLP, to add to a provider you build yourself (next to
    /// other processors).
    pub fn batch_processor(&self) -> Result<BatchSpanProcessor, OpsError> {
        let sdk = |e: opentelemetry_otlp::ExporterBuildError| {
            OpsError::Configuration(format!("OTLP exporter: {e}"))
        };
        match self.resolved_protocol()? {
            p @ (Protocol::HttpProtobuf | Protocol::HttpJson) => {
                let mut b = opentelemetry_otlp::SpanExporter::builder()
                    .with_http()
                    .with_protocol(if p == Protocol::HttpJson {
                        opentelemetry_otlp::Protocol::HttpJson
                    } else {
                        opentelemetry_otlp::Protocol::HttpBinary
                    });
                if let Some(e) = &self.endpoint {
                    let e = e.trim_end_matches('/');
                    b = b.with_endpoint(if e.ends_with("/v1/traces") {
                        e.to_string()
                    } else {
                        format!("{e}/v1/traces")
                    });
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
                Ok(BatchSpanProcessor::builder(LengthLimited::new(
                    b.build().map_err(sdk)?,
                    self.value_length_limit,
                ))
                .build())
            }
            Protocol::Grpc => {
                let rt = export_runtime()?;
                let _enter = rt.enter();
                let mut b = opentelemetry_otlp::SpanExporter::builder().with_tonic();
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
                let exporter = b.build().map_err(sdk)?;
                Ok(BatchSpanProcessor::builder(LengthLimited::new(
                    OnRuntime {
                        inner: Arc::new(exporter),
                        runtime: rt.handle().clone(),
                    },
                    self.value_length_limit,
                ))
                .build())
            }
        }
    }
}

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

/// The resource: service name and attributes from the environment.
pub fn resource() -> Resource {
    Resource::builder().build()
}

/// A provider that prints each finished trace as a tree to stdout (simple processor: printed as
/// soon as the root span ends).
pub fn console_provider() -> SdkTracerProvider {
    SdkTracerProvider::builder()
        .with_simple_exporter(ConsoleExporter::stdout())
        .with_resource(resource())
        .build()
}

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

/// Runs an async exporter's work on the export runtime, so it works from the batch processor's
/// thread and never blocks (or deadlocks) a user's current-thread runtime.
#[derive(Debug)]
struct OnRuntime<E> {
    inner: Arc<E>,
    runtime: tokio::runtime::Handle,
}

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

/// What `OTEL_TRACES_EXPORTER` names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum TracesExporter {
    Otlp,
    Console,
}

/// `OTEL_TRACES_EXPORTER`: a comma-separated list of `otlp`, `console`, `none` (OpenTelemetry SDK
/// environment variable spec). `None` when unset: OTLP if an endpoint is set, else the console.
/// An empty list means `none`.
fn traces_exporters_from_env() -> Result<Option<Vec<TracesExporter>>, OpsError> {
    let Some(value) = env("OTEL_TRACES_EXPORTER") else {
        return Ok(None);
    };
    let mut out = Vec::new();
    for item in value.split(',').map(|s| s.trim().to_ascii_lowercase()) {
        let e = match item.as_str() {
            "otlp" => TracesExporter::Otlp,
            "console" | "logging" => TracesExporter::Console,
            "none" => return Ok(Some(Vec::new())),
            "" => continue,
            _ => {
                return Err(OpsError::InvalidEnvVar {
                    name: "OTEL_TRACES_EXPORTER",
                    value: item,
                    expected: "otlp, console or none (or a comma-separated list of them)",
                })
            }
        };
        if !out.contains(&e) {
            out.push(e);
        }
    }
    Ok(Some(out))
}

/// `OTEL_SDK_DISABLED=true` (case-insensitive), as the OpenTelemetry SDK spec defines it.
pub fn sdk_disabled_by_env() -> bool {
    env("OTEL_SDK_DISABLED").is_some_and(|v| v.trim().eq_ignore_ascii_case("true"))
}

/// The attribute value length limit from `OTEL_SPAN_ATTRIBUTE_VALUE_LENGTH_LIMIT`, else
/// `OTEL_ATTRIBUTE_VALUE_LENGTH_LIMIT` (no limit when neither is set). A value that is not a
/// non-negative integer is a typed error.
pub fn attribute_value_length_limit_from_env() -> Result<Option<usize>, OpsError> {
    for name in [
        "OTEL_SPAN_ATTRIBUTE_VALUE_LENGTH_LIMIT",
        "OTEL_ATTRIBUTE_VALUE_LENGTH_LIMIT",
    ] {
        if let Some(v) = env(name) {
            return v
                .trim()
                .parse::<usize>()
                .map(Some)
                .map_err(|_| OpsError::InvalidEnvVar {
                    name,
                    value: v,
                    expected: "a non-negative integer (characters)",
                });
        }
    }
    Ok(None)
}

/// The provider `configure_from_env` would use, or `None` when the environment says to export
/// nothing (`OTEL_SDK_DISABLED=true` or `OTEL_TRACES_EXPORTER=none`).
///
/// `OTEL_TRACES_EXPORTER` picks the exporters (`otlp`, `console`, both); unset, OTLP is used when
/// `OTEL_EXPORTER_OTLP_ENDPOINT` (or `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`) is set and the console
/// tree otherwise. The attribute value length limit comes from
/// [`attribute_value_length_limit_from_env`]; the sampler from `OTEL_TRACES_SAMPLER` /
/// `OTEL_TRACES_SAMPLER_ARG` (read by the SDK). Everything is checked before anything is built.
pub fn provider_from_env() -> Result<Option<SdkTracerProvider>, OpsError> {
    if sdk_disabled_by_env() {
        return Ok(None);
    }
    let limit = attribute_value_length_limit_from_env()?;
    let exporters = match traces_exporters_from_env()? {
        Some(list) => list,
        None => {
            let endpoint = env("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT")
                .or_else(|| env("OTEL_EXPORTER_OTLP_ENDPOINT"));
            vec![if endpoint.is_some() {
                TracesExporter::Otlp
            } else {
                TracesExporter::Console
            }]
        }
    };
    if exporters.is_empty() {
        return Ok(None);
    }
    let mut builder = SdkTracerProvider::builder().with_resource(resource());
    for e in exporters {
        builder = match e {
            // The OTLP builder reads the endpoint, headers, timeout and compression variables.
            TracesExporter::Otlp => builder.with_span_processor(
                Otlp::new()
                    .attribute_value_length_limit(limit)
                    .batch_processor()?,
            ),
            TracesExporter::Console => {
                builder.with_simple_exporter(LengthLimited::new(ConsoleExporter::stdout(), limit))
            }
        };
    }
    Ok(Some(builder.build()))
}

/// [`crate::configure`] with the provider chosen by [`provider_from_env`]. When the environment
/// disables export (`OTEL_SDK_DISABLED=true`, `OTEL_TRACES_EXPORTER=none`), nothing is installed,
/// model calls work as usual, [`crate::instrument_llm`] is a no-op, and the guard does nothing.
pub fn configure_from_env() -> Result<OpsGuard, OpsError> {
    match provider_from_env()? {
        Some(provider) => Configuration::new(provider).install(),
        None => {
            crate::instrument::mark_disabled();
            Ok(OpsGuard::disabled())
        }
    }
}

/// An exporter that cuts every string attribute value (span and event attributes, string array
/// items) to at most `limit` characters before handing the batch on, as the OpenTelemetry spec's
/// attribute value length limit says.
#[derive(Debug)]
pub struct LengthLimited<E> {
    inner: E,
    limit: Option<usize>,
}

impl<E> LengthLimited<E> {
    /// Wraps `inner`; `None` passes batches through untouched.
    pub fn new(inner: E, limit: Option<usize>) -> Self {
        LengthLimited { inner, limit }
    }
}

/// Cuts `s` to at most `limit` characters (on a character boundary).
fn truncate_chars(s: &str, limit: usize) -> Option<String> {
    s.char_indices()
        .nth(limit)
        .map(|(at, _)| s[..at].to_string())
}

fn limit_value(value: &mut opentelemetry::Value, limit: usize) {
    use opentelemetry::{Array, StringValue, Value};
    match value {
        Value::String(s) => {
            if let Some(cut) = truncate_chars(s.as_str(), limit) {
                *s = StringValue::from(cut);
            }
        }
        Value::Array(Array::String(items)) => {
            for item in items.iter_mut() {
                if let Some(cut) = truncate_chars(item.as_str(), limit) {
                    *item = StringValue::from(cut);
                }
            }
        }
        _ => {}
    }
}

/// Applies the attribute value length limit to one span.
pub fn limit_span(span: &mut SpanData, limit: usize) {
    for kv in span.attributes.iter_mut() {
        limit_value(&mut kv.value, limit);
    }
    for event in span.events.events.iter_mut() {
        for kv in event.attributes.iter_mut() {
            limit_value(&mut kv.value, limit);
        }
    }
}

impl<E: SpanExporter> SpanExporter for LengthLimited<E> {
    async fn export(&self, mut batch: Vec<SpanData>) -> OTelSdkResult {
        if let Some(limit) = self.limit {
            for span in batch.iter_mut() {
                limit_span(span, limit);
            }
        }
        self.inner.export(batch).await
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
