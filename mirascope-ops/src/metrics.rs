//! GenAI client metrics (OpenTelemetry GenAI semantic conventions v1.41) and the call cost, as
//! OpenTelemetry instruments, recorded for every model call whose span is recorded (so the same
//! [`crate::instrument_llm`] / [`crate::uninstrument_llm`] switch applies):
//!
//! | instrument | kind, unit | attributes |
//! | --- | --- | --- |
//! | `gen_ai.client.token.usage` | histogram of int, `{token}` | + `gen_ai.token.type` = `input` / `output` |
//! | `gen_ai.client.operation.duration` | histogram of double, `s` | + `error.type` on failures |
//! | `gen_ai.client.operation.time_to_first_chunk` | histogram of double, `s` (streams) | |
//! | `gen_ai.client.operation.time_per_output_chunk` | histogram of double, `s` (streams) | |
//! | `mirascope.client.cost` | counter of double, `USD` | |
//!
//! Every instrument carries `gen_ai.operation.name`, `gen_ai.provider.name`,
//! `gen_ai.request.model`, `gen_ai.response.model` (when named), `server.address` and
//! `server.port`: no ids and no content, so cardinality stays bounded. Histograms use the
//! conventions' explicit bucket boundaries.

use mirascope_llm::genai::keys;
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use mirascope_llm::genai::metrics::{set_recorder, CallRecord, Measurement, MetricsRecorder};
use mirascope_llm::genai::{anthropic_instrumentor, AttrValue};
use opentelemetry::metrics::{Counter, Histogram, Meter, MeterProvider};
use opentelemetry::KeyValue;

/// `gen_ai.client.token.usage` bucket boundaries (semconv v1.41).
pub const TOKEN_BUCKETS: [f64; 14] = [
    1.0, 4.0, 16.0, 64.0, 256.0, 1024.0, 4096.0, 16384.0, 65536.0, 262144.0, 1048576.0, 4194304.0,
    16777216.0, 67108864.0,
];

/// `gen_ai.client.operation.duration`, `..time_to_first_chunk` and `..time_per_output_chunk`
/// bucket boundaries, seconds.
pub const DURATION_BUCKETS: [f64; 14] = mirascope_llm::genai::metrics::DURATION_BUCKETS;

/// The boundaries of a server metric (`gen_ai.server.time_per_output_token`), formerly used
/// for `time_per_output_chunk` by mistake; the client metric uses [`DURATION_BUCKETS`].
#[deprecated(note = "time_per_output_chunk uses DURATION_BUCKETS, as GenAI semconv v1.41 says")]
pub const CHUNK_BUCKETS: [f64; 13] = [
    0.01, 0.025, 0.05, 0.075, 0.1, 0.15, 0.2, 0.3, 0.4, 0.5, 0.75, 1.0, 2.5,
];

/// The largest token count recorded: a larger one (a broken or hostile provider) is recorded as
/// this. No model's context comes near 4,294,967,295 tokens, and so bounded, the SDK's running
/// sum of a histogram cannot overflow in any number of calls a process makes.
pub const MAX_RECORDED_TOKENS: u64 = u32::MAX as u64;

/// The largest cost of one call that is recorded, in USD: a larger one comes from impossible
/// usage, and would make the spend totals meaningless.
pub const MAX_RECORDED_CALL_COST_USD: f64 = 100_000.0;

/// The longest `gen_ai.response.model` value on a metric point, in characters (the provider
/// chooses it; longer ones are cut).
pub const MAX_RESPONSE_MODEL_CHARS: usize = 128;

/// How many distinct `gen_ai.response.model` values one requested model may have on metric
/// points: past this, further names the provider chooses are recorded as `_OTHER`, so that a
/// provider cannot grow the number of series (and the export) without bound.
pub const MAX_RESPONSE_MODELS_PER_MODEL: usize = 32;

/// The instruments, created from one meter (scope `mirascope.llm`).
#[derive(Debug, Clone)]
pub struct GenAiMetrics {
    token_usage: Histogram<u64>,
    duration: Histogram<f64>,
    time_to_first_chunk: Histogram<f64>,
    time_per_output_chunk: Histogram<f64>,
    cost: Counter<f64>,
    /// `instrument_anthropic`'s choice counter.
    generation_choices: Counter<u64>,
    /// `instrument_anthropic`'s exception counter.
    anthropic_exceptions: Counter<u64>,
    summary: Option<Arc<Summary>>,
}

impl GenAiMetrics {
    /// The instruments of `meter`.
    pub fn new(meter: &Meter) -> Self {
        GenAiMetrics {
            token_usage: meter
                .u64_histogram(keys::GEN_AI_CLIENT_TOKEN_USAGE)
                .with_unit("{token}")
                .with_description("Number of input and output tokens used.")
                .with_boundaries(TOKEN_BUCKETS.to_vec())
                .build(),
            duration: meter
                .f64_histogram(keys::GEN_AI_CLIENT_OPERATION_DURATION)
                .with_unit("s")
                .with_description("GenAI operation duration.")
                .with_boundaries(DURATION_BUCKETS.to_vec())
                .build(),
            time_to_first_chunk: meter
                .f64_histogram(keys::GEN_AI_CLIENT_OPERATION_TIME_TO_FIRST_CHUNK)
                .with_unit("s")
                .with_description("Time to receive the first chunk of a streamed response.")
                .with_boundaries(DURATION_BUCKETS.to_vec())
                .build(),
            time_per_output_chunk: meter
                .f64_histogram(keys::GEN_AI_CLIENT_OPERATION_TIME_PER_OUTPUT_CHUNK)
                .with_unit("s")
                .with_description(
                    "Time between output chunks of a streamed response, after the first.",
                )
                .with_boundaries(DURATION_BUCKETS.to_vec())
                .build(),
            cost: meter
                .f64_counter(keys::MIRASCOPE_CLIENT_COST)
                .with_unit("USD")
                .with_description("What the calls cost, from their usage and the model's price.")
                .build(),
            generation_choices: meter
                .u64_counter(anthropic_instrumentor::GENERATION_CHOICES)
                .with_unit("choice")
                .with_description("Number of choices returned by chat completions call")
                .build(),
            anthropic_exceptions: meter
                .u64_counter(anthropic_instrumentor::COMPLETION_EXCEPTIONS)
                .with_unit("time")
                .with_description("Number of exceptions occurred during chat completions")
                .build(),
            summary: None,
        }
    }

    /// Also keeps a per-model summary for [`GenAiMetrics::summary`] (the console exporter prints
    /// it at shutdown).
    pub(crate) fn with_summary(mut self, summary: Arc<Summary>) -> Self {
        self.summary = Some(summary);
        self
    }
}

/// The attribute sets of one (provider, model, answering model, server): built once and reused
/// while a thread keeps calling the same model (the common case), so a call allocates nothing
/// for its attributes.
struct AttrSets {
    provider: String,
    request_model: String,
    response_model: Option<String>,
    server_address: Option<String>,
    server_port: Option<i64>,
    base: Arc<[KeyValue]>,
    input: Arc<[KeyValue]>,
    output: Arc<[KeyValue]>,
}

impl AttrSets {
    fn matches(&self, call: &CallRecord<'_>) -> bool {
        self.provider == call.provider
            && self.request_model == call.request_model
            && self.response_model.as_deref() == call.response_model
            && self.server_address.as_deref() == call.server_address
            && self.server_port == call.server_port
    }

    fn new(call: &CallRecord<'_>) -> Self {
        let mut base = Vec::with_capacity(7);
        base.push(KeyValue::new(keys::GEN_AI_OPERATION_NAME, "chat"));
        base.push(KeyValue::new(
            keys::GEN_AI_PROVIDER_NAME,
            call.provider.to_string(),
        ));
        base.push(KeyValue::new(
            keys::GEN_AI_REQUEST_MODEL,
            call.request_model.to_string(),
        ));
        if let Some(m) = call.response_model {
            base.push(KeyValue::new(
                keys::GEN_AI_RESPONSE_MODEL,
                bounded_response_model(call.provider, call.request_model, m),
            ));
        }
        if let Some(a) = call.server_address {
            base.push(KeyValue::new(keys::SERVER_ADDRESS, a.to_string()));
        }
        if let Some(p) = call.server_port {
            base.push(KeyValue::new(keys::SERVER_PORT, p));
        }
        let with = |kind: &'static str| {
            let mut v = base.clone();
            v.push(KeyValue::new(keys::GEN_AI_TOKEN_TYPE, kind));
            Arc::from(v)
        };
        AttrSets {
            provider: call.provider.to_string(),
            request_model: call.request_model.to_string(),
            response_model: call.response_model.map(str::to_string),
            server_address: call.server_address.map(str::to_string),
            server_port: call.server_port,
            input: with("input"),
            output: with("output"),
            base: Arc::from(base),
        }
    }
}

/// The answering model's name as recorded on metric points: cut to
/// [`MAX_RESPONSE_MODEL_CHARS`], and `_OTHER` once the requested model has had
/// [`MAX_RESPONSE_MODELS_PER_MODEL`] distinct names.
fn bounded_response_model(provider: &str, request_model: &str, name: &str) -> String {
    static SEEN: Mutex<BTreeMap<(String, String), std::collections::BTreeSet<String>>> =
        Mutex::new(BTreeMap::new());
    let name: String = name.chars().take(MAX_RESPONSE_MODEL_CHARS).collect();
    let mut seen = SEEN.lock().unwrap_or_else(|e| e.into_inner());
    // The requested models are the program's own; bound them too, in case of a program that
    // makes up model ids.
    if seen.len() >= 4 * 1024
        && !seen.contains_key(&(provider.to_string(), request_model.to_string()))
    {
        return "_OTHER".to_string();
    }
    let names = seen
        .entry((provider.to_string(), request_model.to_string()))
        .or_default();
    if names.contains(&name) || names.len() < MAX_RESPONSE_MODELS_PER_MODEL {
        names.insert(name.clone());
        name
    } else {
        "_OTHER".to_string()
    }
}

thread_local! {
    static LAST_ATTRS: std::cell::RefCell<Option<Arc<AttrSets>>> = const { std::cell::RefCell::new(None) };
}

fn attr_sets(call: &CallRecord<'_>) -> Arc<AttrSets> {
    LAST_ATTRS.with(|last| {
        let mut last = last.borrow_mut();
        match last.as_ref() {
            Some(sets) if sets.matches(call) => sets.clone(),
            _ => {
                let sets = Arc::new(AttrSets::new(call));
                *last = Some(sets.clone());
                sets
            }
        }
    })
}

/// Attributes as OpenTelemetry key-values.
fn key_values(attributes: &[(&'static str, AttrValue)]) -> Vec<KeyValue> {
    attributes
        .iter()
        .map(|(k, v)| KeyValue::new(*k, opentelemetry::Value::from(v.clone())))
        .collect()
}

impl MetricsRecorder for GenAiMetrics {
    fn record_measurement(&self, measurement: &Measurement<'_>) {
        match *measurement {
            Measurement::OperationDuration {
                seconds,
                attributes,
            } => self.duration.record(seconds, &key_values(attributes)),
            Measurement::TokenUsage { tokens, attributes } => self
                .token_usage
                .record(tokens.min(MAX_RECORDED_TOKENS), &key_values(attributes)),
            Measurement::Counter {
                name,
                value,
                attributes,
            } => {
                let counter = match name {
                    anthropic_instrumentor::GENERATION_CHOICES => &self.generation_choices,
                    anthropic_instrumentor::COMPLETION_EXCEPTIONS => &self.anthropic_exceptions,
                    _ => return,
                };
                counter.add(value.min(MAX_RECORDED_TOKENS), &key_values(attributes));
            }
        }
    }

    fn record(&self, call: &CallRecord<'_>) {
        let sets = attr_sets(call);
        match call.error_type {
            Some(e) => {
                let mut with_error = sets.base.to_vec();
                with_error.push(KeyValue::new(keys::ERROR_TYPE, e));
                self.duration
                    .record(call.duration.as_secs_f64(), &with_error);
            }
            None => self
                .duration
                .record(call.duration.as_secs_f64(), &sets.base),
        }
        if let Some(u) = call.usage {
            self.token_usage
                .record(u.input_tokens.min(MAX_RECORDED_TOKENS), &sets.input);
            self.token_usage
                .record(u.output_tokens.min(MAX_RECORDED_TOKENS), &sets.output);
        }
        if let Some(t) = call.time_to_first_chunk {
            self.time_to_first_chunk.record(t.as_secs_f64(), &sets.base);
        }
        // One value per chunk after the first (semconv), not one mean per stream.
        if let Some(gaps) = call.output_chunk_gaps {
            for gap in gaps.values() {
                self.time_per_output_chunk.record(gap, &sets.base);
            }
        }
        if let Some(c) = call
            .cost
            .filter(|c| (0.0..=MAX_RECORDED_CALL_COST_USD).contains(c))
        {
            self.cost.add(c, &sets.base);
        }
        if let Some(s) = &self.summary {
            s.add(call);
        }
    }
}

/// Records mirascope's client metrics with the meter of `provider` (scope `mirascope.llm`),
/// replacing any earlier recorder. [`crate::Configuration::meter_provider`] calls it.
pub fn install<P: MeterProvider>(provider: &P) -> GenAiMetrics {
    let metrics = GenAiMetrics::new(&provider.meter("mirascope.llm"));
    set_recorder(Some(Arc::new(metrics.clone())));
    metrics
}

/// Stops recording client metrics.
pub fn uninstall() {
    set_recorder(None);
}

/// Per-model totals for a short summary (the console exporter's, at shutdown).
#[derive(Debug, Default)]
pub struct Summary {
    by_model: Mutex<BTreeMap<String, ModelTotals>>,
}

#[derive(Debug, Default, Clone)]
struct ModelTotals {
    calls: u64,
    errors: u64,
    seconds: f64,
    input_tokens: u64,
    output_tokens: u64,
    cost: f64,
    priced: bool,
}

impl Summary {
    fn add(&self, call: &CallRecord<'_>) {
        let mut map = self.by_model.lock().unwrap_or_else(|e| e.into_inner());
        let key = if map.len() >= 1024 && !map.contains_key(call.request_model) {
            "_OTHER"
        } else {
            call.request_model
        };
        let t = map.entry(key.to_string()).or_default();
        // Remote numbers: every sum saturates, never wraps or panics.
        t.calls = t.calls.saturating_add(1);
        t.errors = t
            .errors
            .saturating_add(u64::from(call.error_type.is_some()));
        t.seconds += call.duration.as_secs_f64();
        if let Some(u) = call.usage {
            t.input_tokens = t.input_tokens.saturating_add(u.input_tokens);
            t.output_tokens = t.output_tokens.saturating_add(u.output_tokens);
        }
        if let Some(c) = call
            .cost
            .filter(|c| (0.0..=MAX_RECORDED_CALL_COST_USD).contains(c))
        {
            t.cost += c;
            t.priced = true;
        }
    }

    /// One line per model: calls, errors, mean duration, tokens and cost.
    pub fn render(&self) -> String {
        let map = self.by_model.lock().unwrap_or_else(|e| e.into_inner());
        let mut out = String::new();
        for (model, t) in map.iter() {
            let mean = if t.calls > 0 {
                t.seconds / t.calls as f64
            } else {
                0.0
            };
            let cost = if t.priced {
                format!("${:.6}", t.cost)
            } else {
                "no price".to_string()
            };
            out.push_str(&format!(
                "{model}: {} calls ({} failed), mean {:.3} s, {} input / {} output tokens, {cost}\n",
                t.calls, t.errors, mean, t.input_tokens, t.output_tokens
            ));
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use mirascope_llm::Usage;

    fn call<'a>(model: &'a str, usage: &'a Usage, cost: Option<f64>) -> CallRecord<'a> {
        CallRecord {
            provider: "openai",
            request_model: model,
            response_model: None,
            server_address: None,
            server_port: None,
            error_type: None,
            duration: std::time::Duration::from_millis(5),
            usage: Some(usage),
            cost,
            time_to_first_chunk: None,
            time_per_output_chunk: None,
            output_chunk_gaps: None,
        }
    }

    /// The metrics and cost paths under extreme usage and costs (every `i64`, NaN, infinities,
    /// huge finite values), seeded with the values hostile providers sent: recording through
    /// the real SDK and the summary never panics, and what reaches the SDK stays in bounds.
    #[test]
    fn fuzz_metrics_and_cost_with_extreme_usage() {
        use opentelemetry::metrics::MeterProvider as _;
        use proptest::prelude::*;
        let provider = opentelemetry_sdk::metrics::SdkMeterProvider::builder()
            .with_reader(
                opentelemetry_sdk::metrics::PeriodicReader::builder(
                    opentelemetry_sdk::metrics::InMemoryMetricExporter::default(),
                )
                .build(),
            )
            .build();
        let summary = Arc::new(Summary::default());
        let metrics = GenAiMetrics::new(&provider.meter("test")).with_summary(summary.clone());
        let count = prop_oneof![
            Just(u64::MAX),
            Just(i64::MAX as u64),
            Just(0u64),
            Just(u64::from(u32::MAX) + 1),
            any::<u64>()
        ];
        let cost = prop_oneof![
            Just(f64::NAN),
            Just(f64::INFINITY),
            Just(-1.0),
            Just(1.38e12),
            Just(f64::MAX),
            any::<f64>()
        ];
        let cases = std::env::var("MIRASCOPE_FUZZ_CASES")
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(256);
        let mut runner = proptest::test_runner::TestRunner::new(
            proptest::test_runner::Config::with_cases(cases),
        );
        runner
            .run(
                &(count.clone(), count.clone(), count.clone(), count, cost),
                |(input, output, read, write, cost)| {
                    let usage = Usage {
                        input_tokens: input,
                        output_tokens: output,
                        cache_read_tokens: read,
                        cache_write_tokens: write,
                        reasoning_tokens: 0,
                    };
                    // The cost path: a price applied to the usage.
                    let priced = mirascope_llm::Price::per_million_tokens(3.0, 15.0).cost(&usage);
                    let _ = priced;
                    let call = call("openai/fuzz", &usage, Some(cost));
                    metrics.record(&call);
                    let call = call_with_price(&usage, priced);
                    metrics.record(&call);
                    Ok(())
                },
            )
            .unwrap();
        provider.force_flush().unwrap();
        assert!(!summary.render().is_empty());
    }

    fn call_with_price(usage: &Usage, cost: f64) -> CallRecord<'_> {
        call("openai/fuzz-priced", usage, Some(cost))
    }

    #[test]
    fn the_summary_saturates_and_stays_bounded() {
        let summary = Summary::default();
        let usage = Usage {
            input_tokens: u64::MAX,
            output_tokens: u64::MAX,
            ..Usage::default()
        };
        for _ in 0..3 {
            summary.add(&call("openai/m", &usage, Some(1.38e12)));
        }
        let text = summary.render();
        assert!(text.contains(&format!("{} input", u64::MAX)), "{text}");
        assert!(
            text.contains("no price"),
            "an absurd cost is not summed: {text}"
        );
        for i in 0..2_000 {
            summary.add(&call(&format!("m{i}"), &Usage::default(), None));
        }
        let lines = summary.render().lines().count();
        assert!(lines <= 1_025, "{lines} models in the summary");
    }
}
