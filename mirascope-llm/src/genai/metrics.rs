//! The GenAI client metrics hook: every finished model call, described once, for a recorder that
//! `mirascope-ops` installs (OpenTelemetry instruments; GenAI semconv v1.41
//! `gen_ai.client.token.usage`, `gen_ai.client.operation.duration`, `..time_to_first_chunk`,
//! `..time_per_output_chunk`, and `mirascope.client.cost`).
//!
//! A call is recorded only when its span is enabled, so the same `instrument_llm()` /
//! `uninstrument_llm()` switch turns metrics on and off; with no recorder installed, nothing is
//! computed.
//!
//! Layer: observation (the crate docs list the layers: data, wire, call, observation).

use std::sync::{Arc, OnceLock, RwLock};
use std::time::{Duration, Instant};

use crate::answer::ResponseData;
use crate::answer::Usage;
use crate::error::Error;

/// One finished model call, with bounded-cardinality attributes only (no ids, no content).
#[derive(Debug, Clone)]
pub struct CallRecord<'a> {
    /// `gen_ai.provider.name`.
    pub provider: &'a str,
    /// `gen_ai.request.model` (the Mirascope model id, as on the span).
    pub request_model: &'a str,
    /// `gen_ai.response.model`, when the provider named it.
    pub response_model: Option<&'a str>,
    /// `server.address`.
    pub server_address: Option<&'a str>,
    /// `server.port`.
    pub server_port: Option<i64>,
    /// `error.type` (Mirascope's class), on failures.
    pub error_type: Option<&'static str>,
    /// From the start of the call to its end (streams: to the last event).
    pub duration: Duration,
    /// Token usage, when reported.
    pub usage: Option<&'a Usage>,
    /// The cost in USD, when the model has a known price.
    pub cost: Option<f64>,
    /// Streams: from the start of the call to the first chunk.
    pub time_to_first_chunk: Option<Duration>,
    /// Streams: the mean time between output chunks after the first.
    pub time_per_output_chunk: Option<Duration>,
}

/// Receives every finished call (implemented by `mirascope-ops`).
pub trait MetricsRecorder: Send + Sync {
    /// Records one call.
    fn record(&self, call: &CallRecord<'_>);
}

static RECORDER: OnceLock<RwLock<Option<Arc<dyn MetricsRecorder>>>> = OnceLock::new();

/// Installs the recorder (replacing any earlier one); `None` removes it.
pub fn set_recorder(recorder: Option<Arc<dyn MetricsRecorder>>) {
    let slot = RECORDER.get_or_init(|| RwLock::new(None));
    *slot.write().unwrap_or_else(|e| e.into_inner()) = recorder;
}

/// The installed recorder, if any.
pub(crate) fn recorder() -> Option<Arc<dyn MetricsRecorder>> {
    RECORDER
        .get()?
        .read()
        .unwrap_or_else(|e| e.into_inner())
        .clone()
}

/// When a call started, and for streams when its first chunk came and how many followed.
#[derive(Debug, Clone)]
pub(crate) struct Timing {
    pub started: Instant,
    /// When the answer was complete (before spans and metrics are recorded).
    pub ended: Option<Instant>,
    pub first_chunk: Option<Instant>,
    pub last_chunk: Option<Instant>,
    pub chunks: u64,
}

impl Timing {
    /// A timing for a call whose span is `span`: `None` (and no clock read) when the span is
    /// not recorded or no recorder is installed, so the off switch costs nothing more.
    #[inline]
    pub(crate) fn start_for(span: &tracing::Span) -> Option<Self> {
        if span.is_disabled() || RECORDER.get().is_none() {
            return None;
        }
        Some(Self::start())
    }

    pub(crate) fn start() -> Self {
        Timing {
            started: Instant::now(),
            ended: None,
            first_chunk: None,
            last_chunk: None,
            chunks: 0,
        }
    }

    /// The answer is complete (or failed): the end of the operation's duration.
    pub(crate) fn end(&mut self) {
        self.ended.get_or_insert_with(Instant::now);
    }

    /// One output chunk arrived.
    pub(crate) fn chunk(&mut self) {
        let now = Instant::now();
        self.first_chunk.get_or_insert(now);
        self.last_chunk = Some(now);
        self.chunks += 1;
    }
}

/// Records one finished call with the installed recorder, if its span is enabled (the
/// `instrument_llm()` switch) and a recorder is installed.
#[inline]
pub(crate) fn record(
    span: &tracing::Span,
    base_url: &str,
    model_id: &str,
    provider_id: &str,
    timing: Option<&Timing>,
    response: Option<&ResponseData>,
    error: Option<&Error>,
) {
    // The off path: no timing was taken (span off, or metrics never configured).
    if let Some(timing) = timing {
        if !span.is_disabled() {
            record_enabled(base_url, model_id, provider_id, timing, response, error);
        }
    }
}

#[inline(never)]
fn record_enabled(
    base_url: &str,
    model_id: &str,
    provider_id: &str,
    timing: &Timing,
    response: Option<&ResponseData>,
    error: Option<&Error>,
) {
    let Some(recorder) = recorder() else {
        return;
    };
    let (server_address, server_port) = super::span::server(base_url);
    let time_to_first_chunk = timing.first_chunk.map(|t| t - timing.started);
    let time_per_output_chunk = match (timing.first_chunk, timing.last_chunk) {
        (Some(first), Some(last)) if timing.chunks > 1 => {
            Some((last - first) / u32::try_from(timing.chunks - 1).unwrap_or(u32::MAX))
        }
        _ => None,
    };
    recorder.record(&CallRecord {
        provider: provider_id,
        request_model: model_id,
        response_model: response.and_then(ResponseData::response_model),
        server_address,
        server_port,
        error_type: error.map(|e| e.class().name()),
        duration: timing
            .ended
            .map_or_else(|| timing.started.elapsed(), |e| e - timing.started),
        usage: response.and_then(ResponseData::usage),
        cost: response.and_then(ResponseData::cost),
        time_to_first_chunk,
        time_per_output_chunk,
    });
}
