//! Cost and latency from the GenAI client metrics: a few calls (offline, replaying recorded
//! OpenAI exchanges unless `OPENAI_API_KEY` is set), then per-model cost and p50 / p95 latency
//! read from the metrics SDK's in-memory exporter (any OTLP backend computes the same from the
//! exported histograms).
//!
//! Run: `cargo run --example cost_and_latency`

#[path = "support/offline.rs"]
mod offline;

use std::collections::BTreeMap;

use futures_util::StreamExt;
use mirascope::llm::replay::Matching;
use mirascope::{llm, ops};
use opentelemetry_sdk::metrics::data::{AggregatedMetrics, MetricData};
use opentelemetry_sdk::metrics::{InMemoryMetricExporter, PeriodicReader, SdkMeterProvider};

/// The upper bound of the bucket holding the `q` quantile (what a Prometheus
/// `histogram_quantile` over the same buckets reports, without interpolation).
fn quantile(bounds: &[f64], counts: &[u64], q: f64) -> f64 {
    let total: u64 = counts.iter().sum();
    let mut seen = 0;
    for (i, c) in counts.iter().enumerate() {
        seen += c;
        if seen as f64 >= q * total as f64 {
            return bounds.get(i).copied().unwrap_or(f64::INFINITY);
        }
    }
    f64::INFINITY
}

/// The `gen_ai.request.model` of a data point.
fn model_of<'a>(mut attrs: impl Iterator<Item = &'a opentelemetry::KeyValue>) -> String {
    attrs
        .find(|kv| kv.key.as_str() == "gen_ai.request.model")
        .map(|kv| kv.value.to_string())
        .unwrap_or_default()
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let _replay = offline::openai(offline::OPENAI, Matching::ByRequest);

    let (tracer_provider, _spans) = ops::testing::in_memory_provider();
    let metrics = InMemoryMetricExporter::default();
    let meter_provider = SdkMeterProvider::builder()
        .with_reader(PeriodicReader::builder(metrics.clone()).build())
        .build();
    let _guard = ops::Configuration::new(tracer_provider)
        .meter_provider(meter_provider.clone())
        .install()?;
    ops::instrument_llm()?;

    let mini = llm::model("openai/gpt-4o-mini")?;
    mini.call(vec![
        llm::Message::system("You are a concise assistant."),
        llm::Message::user("Say hello to the user named Kai."),
    ])
    .await?;
    for genre in ["fantasy", "romance"] {
        let r = mini.call(format!("Recommend a {genre} book.")).await?;
        println!("{}: ${:.6}", r.model_id(), r.cost().unwrap_or_default());
    }
    let gpt4o = llm::model("openai/gpt-4o")?.with_params(llm::Params::new().max_tokens(64));
    let mut stream = gpt4o.stream("What is 4200 + 42?").await?;
    while let Some(chunk) = stream.next().await {
        chunk?;
    }

    meter_provider.force_flush()?;
    let exported = metrics.get_finished_metrics()?;
    let last = exported.last().ok_or("no metrics exported")?;
    let mut cost: BTreeMap<String, f64> = BTreeMap::new();
    let mut latency: BTreeMap<String, (Vec<f64>, Vec<u64>)> = BTreeMap::new();
    for scope in last.scope_metrics() {
        for m in scope.metrics() {
            match (m.name(), m.data()) {
                ("mirascope.client.cost", AggregatedMetrics::F64(MetricData::Sum(s))) => {
                    for p in s.data_points() {
                        *cost.entry(model_of(p.attributes())).or_default() += p.value();
                    }
                }
                (
                    "gen_ai.client.operation.duration",
                    AggregatedMetrics::F64(MetricData::Histogram(h)),
                ) => {
                    for p in h.data_points() {
                        let e = latency.entry(model_of(p.attributes())).or_insert_with(|| {
                            (p.bounds().collect(), vec![0; p.bounds().count() + 1])
                        });
                        for (i, c) in p.bucket_counts().enumerate() {
                            e.1[i] += c;
                        }
                    }
                }
                _ => {}
            }
        }
    }
    println!("\nper model (from the metrics):");
    for (model, (bounds, counts)) in &latency {
        let spent = cost
            .get(model)
            .map(|c| format!("${c:.6}"))
            .unwrap_or_else(|| "no price".into());
        println!(
            "  {model}: {} calls, cost {spent}, p50 <= {} s, p95 <= {} s",
            counts.iter().sum::<u64>(),
            quantile(bounds, counts, 0.5),
            quantile(bounds, counts, 0.95)
        );
    }
    Ok(())
}
