//! Where spans go: OTLP (http/protobuf, http/json or gRPC; features `otlp-http`,
//! `otlp-http-json`, `otlp-grpc`), the console tree (feature `console`), or memory (feature
//! `testing`); and [`configure_from_env`], which picks one from the standard `OTEL_*` variables.

#[cfg(feature = "console")]
mod console;
pub(crate) mod loss;
mod otlp;

#[cfg(feature = "console")]
use loss::Counted;
pub use loss::ExportStats;
use loss::{Counters, Offered};
use std::sync::Arc;

use std::time::Duration;

#[cfg(feature = "console")]
pub use console::{render, ConsoleExporter, MAX_HELD_SPANS, MAX_HELD_SPANS_PER_TRACE};
use opentelemetry_sdk::error::OTelSdkResult;
use opentelemetry_sdk::trace::{SdkTracerProvider, SpanData, SpanExporter};
use opentelemetry_sdk::Resource;
pub use otlp::{Otlp, Protocol, DEFAULT_MAX_EXPORT_BATCH_SIZE, DEFAULT_MAX_QUEUE_SIZE};

use crate::configure::{Configuration, OpsGuard};
use crate::error::OpsError;

pub(crate) fn env(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.trim().is_empty())
}

/// The resource: service name and attributes from the environment.
pub fn resource() -> Resource {
    Resource::builder().build()
}

#[cfg(feature = "console")]
/// A provider that prints each finished trace as a tree to stdout (simple processor: printed as
/// soon as the root span ends).
pub fn console_provider() -> SdkTracerProvider {
    SdkTracerProvider::builder()
        .with_simple_exporter(ConsoleExporter::stdout())
        .with_resource(resource())
        .build()
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
    exporters_from_env("OTEL_TRACES_EXPORTER")
}

/// `OTEL_METRICS_EXPORTER`: `otlp` (OTLP metrics over the traces' protocol and endpoint),
/// `console` (a per-model summary printed at shutdown), `none`; unset, the same choice as the
/// traces' default (OTLP when an endpoint is set, the console otherwise).
fn metrics_exporters_from_env() -> Result<Option<Vec<TracesExporter>>, OpsError> {
    exporters_from_env("OTEL_METRICS_EXPORTER")
}

fn exporters_from_env(name: &'static str) -> Result<Option<Vec<TracesExporter>>, OpsError> {
    let Some(value) = env(name) else {
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
                    name,
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

/// The attribute value length limit of the pipelines `configure_from_env` builds when neither
/// `OTEL_SPAN_ATTRIBUTE_VALUE_LENGTH_LIMIT` nor `OTEL_ATTRIBUTE_VALUE_LENGTH_LIMIT` is set:
/// 128 Ki characters. A chat span has about six content attributes, so one span stays under
/// 1 MiB, far below the 4 MiB a gRPC collector accepts in one message.
pub const DEFAULT_VALUE_LENGTH_LIMIT: usize = 128 * 1024;

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
    Ok(counted_provider_from_env()?.map(|(provider, _)| provider))
}

/// [`provider_from_env`], with the counters of its pipelines (see [`ExportStats`]).
fn counted_provider_from_env() -> Result<Option<(SdkTracerProvider, Arc<Counters>)>, OpsError> {
    if sdk_disabled_by_env() {
        return Ok(None);
    }
    let limit = attribute_value_length_limit_from_env()?.or(Some(DEFAULT_VALUE_LENGTH_LIMIT));
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
    let counters = Arc::new(Counters::default());
    let mut builder = SdkTracerProvider::builder().with_resource(resource());
    for e in exporters {
        builder = match e {
            // The OTLP builder reads the endpoint, headers, timeout and compression variables.
            TracesExporter::Otlp => builder.with_span_processor(Offered {
                inner: Otlp::new()
                    .attribute_value_length_limit(limit)
                    .counted_batch_processor(counters.clone())?,
                counters: counters.clone(),
            }),
            TracesExporter::Console => console_processor(builder, limit, counters.clone())?,
        };
    }
    Ok(Some((builder.build(), counters)))
}

#[cfg(feature = "console")]
fn console_processor(
    builder: opentelemetry_sdk::trace::TracerProviderBuilder,
    limit: Option<usize>,
    counters: Arc<Counters>,
) -> Result<opentelemetry_sdk::trace::TracerProviderBuilder, OpsError> {
    let exporter = LengthLimited::new(
        Counted {
            inner: ConsoleExporter::stdout(),
            counters: counters.clone(),
        },
        limit,
    );
    Ok(builder.with_span_processor(Offered {
        inner: opentelemetry_sdk::trace::SimpleSpanProcessor::new(exporter),
        counters,
    }))
}

#[cfg(not(feature = "console"))]
fn console_processor(
    _: opentelemetry_sdk::trace::TracerProviderBuilder,
    _: Option<usize>,
    _: Arc<Counters>,
) -> Result<opentelemetry_sdk::trace::TracerProviderBuilder, OpsError> {
    Err(OpsError::FeatureDisabled {
        what: "the console exporter",
        feature: "console",
    })
}

/// [`crate::configure`] with the provider chosen by [`provider_from_env`] and the metrics
/// chosen by `OTEL_METRICS_EXPORTER` (unset: OTLP when an OTLP endpoint is set, else the console
/// summary). The two signals are independent, as the SDK spec says: `OTEL_TRACES_EXPORTER=none`
/// turns spans off and leaves metrics as `OTEL_METRICS_EXPORTER` says (model calls then make
/// spans that are never sampled, so that their metrics are recorded). When the environment
/// disables everything (`OTEL_SDK_DISABLED=true`, or both exporters `none`), nothing is
/// installed, model calls work as usual, [`crate::instrument_llm`] is a no-op, and the guard
/// does nothing.
///
/// Metrics over OTLP go to `OTEL_EXPORTER_OTLP_METRICS_ENDPOINT` as given (the full URL), else
/// to `OTEL_EXPORTER_OTLP_ENDPOINT` with `/v1/metrics` appended. Failed metrics exports are
/// counted like lost spans: [`crate::OpsGuard::shutdown`] reports them.
pub fn configure_from_env() -> Result<OpsGuard, OpsError> {
    if sdk_disabled_by_env() {
        crate::instrument::mark_disabled();
        return Ok(OpsGuard::disabled());
    }
    let traces = counted_provider_from_env()?;
    let metrics = match metrics_exporters_from_env()? {
        Some(list) => list,
        None => vec![if env("OTEL_EXPORTER_OTLP_METRICS_ENDPOINT")
            .or_else(|| env("OTEL_EXPORTER_OTLP_ENDPOINT"))
            .is_some()
        {
            TracesExporter::Otlp
        } else {
            TracesExporter::Console
        }],
    };
    let mut collectors = Vec::new();
    let traces_otlp = traces.is_some()
        && match traces_exporters_from_env()? {
            Some(list) => list.contains(&TracesExporter::Otlp),
            None => env("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT")
                .or_else(|| env("OTEL_EXPORTER_OTLP_ENDPOINT"))
                .is_some(),
        };
    if traces_otlp {
        collectors.extend(collector_from_env("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"));
    }
    if metrics.contains(&TracesExporter::Otlp) {
        collectors.extend(collector_from_env("OTEL_EXPORTER_OTLP_METRICS_ENDPOINT"));
    }
    let (provider, counters) = match traces {
        Some(t) => t,
        None if metrics.is_empty() => {
            crate::instrument::mark_disabled();
            return Ok(OpsGuard::disabled());
        }
        // Spans off, metrics on: calls still make (unsampled) spans, which record the metrics.
        None => (
            SdkTracerProvider::builder()
                .with_sampler(opentelemetry_sdk::trace::Sampler::AlwaysOff)
                .build(),
            Arc::new(Counters::default()),
        ),
    };
    let mut config = Configuration::new(provider);
    let mut meter = None;
    for e in metrics {
        match e {
            // The exporter reads the endpoints itself: the per-signal
            // `OTEL_EXPORTER_OTLP_METRICS_ENDPOINT` as the full URL, the base
            // `OTEL_EXPORTER_OTLP_ENDPOINT` with `/v1/metrics` appended.
            TracesExporter::Otlp => {
                meter = Some(Otlp::new().counted_meter_provider(counters.clone())?);
            }
            TracesExporter::Console => config = config.print_summary(),
        }
    }
    let meter = meter.or_else(|| {
        // The console summary alone needs a recorder, not an exporter.
        config
            .has_summary()
            .then(|| opentelemetry_sdk::metrics::SdkMeterProvider::builder().build())
    });
    if let Some(m) = meter {
        config = config.meter_provider(m);
    }
    config.install().map(|guard| {
        guard
            .with_stats(counters)
            .with_collectors(collectors, export_timeout_from_env())
    })
}

/// The host and port of the OTLP collector of one signal: its own endpoint variable, else
/// `OTEL_EXPORTER_OTLP_ENDPOINT`, else the default for the protocol (`localhost:4318` for HTTP,
/// `localhost:4317` for gRPC).
fn collector_from_env(signal_endpoint: &str) -> Option<(String, u16)> {
    let url = env(signal_endpoint).or_else(|| env("OTEL_EXPORTER_OTLP_ENDPOINT"));
    let grpc = env("OTEL_EXPORTER_OTLP_PROTOCOL").is_some_and(|p| p.trim() == "grpc");
    let default_port = if grpc { 4317 } else { 4318 };
    let Some(url) = url else {
        return Some(("localhost".to_string(), default_port));
    };
    let uri: http::Uri = url.trim().parse().ok()?;
    let port = uri.port_u16().unwrap_or(match uri.scheme_str() {
        Some("https") => 443,
        Some("http") if !grpc => 80,
        _ => default_port,
    });
    Some((uri.host()?.trim_matches(['[', ']']).to_string(), port))
}

/// `OTEL_EXPORTER_OTLP_TIMEOUT` (milliseconds; 10 s when unset or not a number), the time an
/// OTLP export may take.
fn export_timeout_from_env() -> Duration {
    env("OTEL_EXPORTER_OTLP_TIMEOUT")
        .and_then(|v| v.trim().parse::<u64>().ok())
        .map_or(Duration::from_secs(10), Duration::from_millis)
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

/// A value over the limit, limited: a JSON document (the `gen_ai.*` and `mirascope.*` JSON
/// attributes) is replaced by a JSON marker with its original length, so consumers never parse a
/// cut document; other text is cut. `None` when the value fits.
fn limited(s: &str, limit: usize) -> Option<String> {
    let cut = truncate_chars(s, limit)?;
    let json = (s.starts_with('[') || s.starts_with('{'))
        && serde_json::from_str::<serde::de::IgnoredAny>(s).is_ok();
    if json {
        let marker = format!(
            r#"{{"mirascope.truncated":{{"original_length":{}}}}}"#,
            s.chars().count()
        );
        if marker.len() <= limit {
            return Some(marker);
        }
    }
    Some(cut)
}

fn limit_value(value: &mut opentelemetry::Value, limit: usize) {
    use opentelemetry::{Array, StringValue, Value};
    match value {
        Value::String(s) => {
            if let Some(cut) = limited(s.as_str(), limit) {
                *s = StringValue::from(cut);
            }
        }
        Value::Array(Array::String(items)) => {
            for item in items.iter_mut() {
                if let Some(cut) = limited(item.as_str(), limit) {
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

/// The most bytes of attribute and event values one span keeps when a value length limit is set
/// (1 MiB): past it, the largest values are replaced by markers, so no span can make an export
/// request too large for a collector.
pub const SPAN_BYTE_BUDGET: usize = 1024 * 1024;

/// The most (estimated) bytes of spans one export request carries (3 MiB): a larger batch goes
/// out in several requests, under the 4 MiB a gRPC collector accepts by default.
pub const EXPORT_REQUEST_BYTE_BUDGET: usize = 3 * 1024 * 1024;

/// The size of a value as it goes out (strings by length, others by a small constant).
fn value_bytes(value: &opentelemetry::Value) -> usize {
    use opentelemetry::{Array, Value};
    match value {
        Value::String(s) => s.as_str().len(),
        Value::Array(Array::String(items)) => items.iter().map(|i| i.as_str().len() + 2).sum(),
        Value::Array(Array::I64(items)) => items.len() * 8,
        Value::Array(Array::F64(items)) => items.len() * 8,
        Value::Array(Array::Bool(items)) => items.len(),
        _ => 8,
    }
}

/// The estimated encoded size of a span: names, keys and values, plus fixed ids and times.
pub fn span_bytes(span: &SpanData) -> usize {
    let attrs: usize = span
        .attributes
        .iter()
        .map(|kv| kv.key.as_str().len() + value_bytes(&kv.value) + 4)
        .sum();
    let events: usize = span
        .events
        .events
        .iter()
        .map(|e| {
            e.name.len()
                + 16
                + e.attributes
                    .iter()
                    .map(|kv| kv.key.as_str().len() + value_bytes(&kv.value) + 4)
                    .sum::<usize>()
        })
        .sum();
    span.name.len() + attrs + events + 64
}

/// Keeps one span within `budget` bytes: while it is larger, its largest string value (span or
/// event attribute) is replaced by a JSON marker with the original length.
pub fn limit_span_bytes(span: &mut SpanData, budget: usize) {
    use opentelemetry::{StringValue, Value};
    let mut total = span_bytes(span);
    if total <= budget {
        return;
    }
    // (size, event index or None, attribute index), largest first.
    let mut sizes: Vec<(usize, Option<usize>, usize)> = Vec::new();
    for (i, kv) in span.attributes.iter().enumerate() {
        sizes.push((value_bytes(&kv.value), None, i));
    }
    for (e, event) in span.events.events.iter().enumerate() {
        for (i, kv) in event.attributes.iter().enumerate() {
            sizes.push((value_bytes(&kv.value), Some(e), i));
        }
    }
    sizes.sort_by_key(|s| std::cmp::Reverse(s.0));
    for (size, event, i) in sizes {
        if total <= budget {
            break;
        }
        let marker = format!(r#"{{"mirascope.truncated":{{"original_length":{size}}}}}"#);
        if marker.len() >= size {
            continue;
        }
        let slot = match event {
            None => span.attributes.get_mut(i).map(|kv| &mut kv.value),
            Some(e) => span
                .events
                .events
                .get_mut(e)
                .and_then(|ev| ev.attributes.get_mut(i))
                .map(|kv| &mut kv.value),
        };
        if let Some(v) = slot {
            total -= size - marker.len();
            *v = Value::String(StringValue::from(marker));
        }
    }
}

/// Splits a batch into runs of at most `budget` estimated bytes (a span larger than the budget
/// goes alone).
fn split_batch(batch: Vec<SpanData>, budget: usize) -> Vec<Vec<SpanData>> {
    let mut out = Vec::new();
    let mut current = Vec::new();
    let mut size = 0;
    for span in batch {
        let n = span_bytes(&span);
        if !current.is_empty() && size + n > budget {
            out.push(std::mem::take(&mut current));
            size = 0;
        }
        size += n;
        current.push(span);
    }
    if !current.is_empty() {
        out.push(current);
    }
    out
}

impl<E: SpanExporter> SpanExporter for LengthLimited<E> {
    /// Limits each value and each span, then exports the batch in requests of at most
    /// [`EXPORT_REQUEST_BYTE_BUDGET`], so one large span never costs the rest of its batch.
    async fn export(&self, mut batch: Vec<SpanData>) -> OTelSdkResult {
        if let Some(limit) = self.limit {
            for span in batch.iter_mut() {
                limit_span(span, limit);
                limit_span_bytes(span, SPAN_BYTE_BUDGET);
            }
        }
        let mut result = Ok(());
        for part in split_batch(batch, EXPORT_REQUEST_BYTE_BUDGET) {
            if let Err(e) = self.inner.export(part).await {
                result = Err(e);
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
