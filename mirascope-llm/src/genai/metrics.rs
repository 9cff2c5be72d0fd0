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
    /// Streams: the mean time between output chunks after the first (what the console summary
    /// shows; the histogram records every gap, see `output_chunk_gaps`).
    pub time_per_output_chunk: Option<Duration>,
    /// Streams: the time between each output chunk and the one before it, for every chunk after
    /// the first (`gen_ai.client.operation.time_per_output_chunk` records one value per chunk).
    pub output_chunk_gaps: Option<&'a ChunkGaps>,
}

/// Bucket boundaries, in seconds, of `gen_ai.client.operation.duration`,
/// `..time_to_first_chunk` and `..time_per_output_chunk` (GenAI semconv v1.41: the three
/// share them).
pub const DURATION_BUCKETS: [f64; 14] = [
    0.01, 0.02, 0.04, 0.08, 0.16, 0.32, 0.64, 1.28, 2.56, 5.12, 10.24, 20.48, 40.96, 81.92,
];

/// The gaps between a stream's output chunks, kept in fixed space however long the stream:
/// a count and a sum per [`DURATION_BUCKETS`] bucket, and the exact smallest and largest gap.
/// [`ChunkGaps::values`] gives back one value per gap with the same count, sum, bucket of every
/// value, minimum and maximum, which is all a histogram keeps of them.
#[derive(Debug, Clone, Default)]
pub struct ChunkGaps {
    counts: [u64; DURATION_BUCKETS.len() + 1],
    sums: [f64; DURATION_BUCKETS.len() + 1],
    min: f64,
    max: f64,
}

impl ChunkGaps {
    /// Adds one gap, in seconds.
    pub fn add(&mut self, seconds: f64) {
        if !seconds.is_finite() || seconds < 0.0 {
            return;
        }
        // Histogram buckets are upper-inclusive: a value equal to a boundary falls below it.
        let bucket = DURATION_BUCKETS.partition_point(|&b| b < seconds);
        if self.is_empty() {
            self.min = seconds;
            self.max = seconds;
        } else {
            self.min = self.min.min(seconds);
            self.max = self.max.max(seconds);
        }
        self.counts[bucket] = self.counts[bucket].saturating_add(1);
        self.sums[bucket] += seconds;
    }

    /// How many gaps were added.
    pub fn len(&self) -> u64 {
        self.counts.iter().fold(0u64, |n, c| n.saturating_add(*c))
    }

    /// Whether no gap was added.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// One value per gap: in each bucket, its count of values summing to its sum (the smallest
    /// and largest gap exactly, the others at the mean of the rest).
    pub fn values(&self) -> impl Iterator<Item = f64> + '_ {
        let first = self.counts.iter().position(|&c| c > 0);
        let last = self.counts.iter().rposition(|&c| c > 0);
        (0..self.counts.len()).flat_map(move |b| {
            let count = self.counts[b];
            let mut exact = Vec::with_capacity(2);
            if Some(b) == first && count > 0 {
                exact.push(self.min);
            }
            if Some(b) == last && count > exact.len() as u64 {
                exact.push(self.max);
            }
            let rest = count - exact.len() as u64;
            let rest_sum = self.sums[b] - exact.iter().sum::<f64>();
            let mean = if rest > 0 {
                (rest_sum / rest as f64).max(0.0)
            } else {
                0.0
            };
            exact.into_iter().chain(std::iter::repeat_n(
                mean,
                usize::try_from(rest).unwrap_or(usize::MAX),
            ))
        })
    }
}

/// Receives every finished call (implemented by `mirascope-ops`).
pub trait MetricsRecorder: Send + Sync {
    /// Records one call.
    fn record(&self, call: &CallRecord<'_>);

    /// Records one measurement that carries its own attributes: those of an instrumentation
    /// that mirrors another library's metrics ([`super::openai_v2`]). Ignored by default.
    fn record_measurement(&self, measurement: &Measurement<'_>) {
        let _ = measurement;
    }
}

/// One measurement of a client instrument with its attributes, as another library records it.
#[derive(Debug, Clone, Copy)]
pub enum Measurement<'a> {
    /// `gen_ai.client.operation.duration`, in seconds.
    OperationDuration {
        /// The duration.
        seconds: f64,
        /// Its attributes.
        attributes: &'a [(&'static str, super::AttrValue)],
    },
    /// `gen_ai.client.token.usage`.
    TokenUsage {
        /// The tokens.
        tokens: u64,
        /// Its attributes (with `gen_ai.token.type`).
        attributes: &'a [(&'static str, super::AttrValue)],
    },
    /// A counter of another library's (`gen_ai.client.generation.choices`,
    /// `llm.anthropic.completion.exceptions`), added to.
    Counter {
        /// The counter's name.
        name: &'static str,
        /// What is added.
        value: u64,
        /// Its attributes.
        attributes: &'a [(&'static str, super::AttrValue)],
    },
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
    /// The gap before each chunk after the first.
    pub gaps: ChunkGaps,
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
            gaps: ChunkGaps::default(),
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
        if let Some(last) = self.last_chunk {
            self.gaps.add((now - last).as_secs_f64());
        }
        self.last_chunk = Some(now);
        self.chunks = self.chunks.saturating_add(1);
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
    let error_type = error.map(|e| e.class().name());
    record_outcome(
        span,
        base_url,
        model_id,
        provider_id,
        timing,
        response,
        error_type,
    );
}

/// The `error.type` of a call or stream that was cancelled (its future or stream dropped before
/// it ended): not an error class of Mirascope's, so that dashboards can tell it from failures.
pub const CANCELLED: &str = "cancelled";

/// Records one finished call with `error_type` (none for a success; [`CANCELLED`] for a call or
/// stream that was cancelled), if its span is enabled and a timing was taken.
pub(crate) fn record_outcome(
    span: &tracing::Span,
    base_url: &str,
    model_id: &str,
    provider_id: &str,
    timing: Option<&Timing>,
    response: Option<&ResponseData>,
    error_type: Option<&'static str>,
) {
    if let Some(timing) = timing {
        if !span.is_disabled() {
            record_enabled(
                base_url,
                model_id,
                provider_id,
                timing,
                response,
                error_type,
            );
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
    error_type: Option<&'static str>,
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
        error_type,
        duration: timing
            .ended
            .map_or_else(|| timing.started.elapsed(), |e| e - timing.started),
        usage: response.and_then(ResponseData::usage),
        cost: response.and_then(ResponseData::cost),
        time_to_first_chunk,
        time_per_output_chunk,
        output_chunk_gaps: (!timing.gaps.is_empty()).then_some(&timing.gaps),
    });
}

#[cfg(test)]
mod chunk_gap_tests {
    use super::*;

    #[test]
    fn values_keep_count_sum_buckets_min_and_max() {
        let gaps_in = [0.001, 0.005, 0.012, 0.013, 0.5, 0.02, 90.0, 0.01];
        let mut gaps = ChunkGaps::default();
        for g in gaps_in {
            gaps.add(g);
        }
        gaps.add(f64::NAN);
        gaps.add(-1.0);
        let out: Vec<f64> = gaps.values().collect();
        assert_eq!(out.len(), gaps_in.len());
        let sum: f64 = out.iter().sum();
        assert!((sum - gaps_in.iter().sum::<f64>()).abs() < 1e-9);
        let bucket = |v: f64| DURATION_BUCKETS.partition_point(|&b| b < v);
        let mut a: Vec<usize> = gaps_in.iter().map(|&v| bucket(v)).collect();
        let mut b: Vec<usize> = out.iter().map(|&v| bucket(v)).collect();
        a.sort();
        b.sort();
        assert_eq!(a, b, "every value stays in its bucket");
        assert_eq!(out.iter().cloned().fold(f64::MAX, f64::min), 0.001);
        assert_eq!(out.iter().cloned().fold(0.0, f64::max), 90.0);
    }

    #[test]
    fn one_gap() {
        let mut gaps = ChunkGaps::default();
        gaps.add(0.3);
        assert_eq!(gaps.values().collect::<Vec<_>>(), vec![0.3]);
    }
}
