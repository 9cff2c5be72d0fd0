//! What a hostile provider reports cannot panic the caller through the metrics, nor grow memory
//! or the number of metric series without bound:
//! - usage counts that add up past `u64` (three answers of `i64::MAX` input tokens) are
//!   recorded clamped, so the SDK's histogram sum cannot overflow (it panicked in debug builds
//!   and wrapped in release ones);
//! - provider-chosen model names (one per answer) are bounded on metric points (at most
//!   `MAX_RESPONSE_MODELS_PER_MODEL` per requested model, then `_OTHER`, each cut to
//!   `MAX_RESPONSE_MODEL_CHARS`), and the price cache stays within `MAX_CACHED_MODELS`.
//!
//! One test: the metrics recorder is process-wide.

mod common;

use std::collections::BTreeSet;

use common::{json_response, serve, Wire};
use mirascope::{llm, ops};
use opentelemetry_sdk::metrics::data::{AggregatedMetrics, MetricData};
use serde_json::json;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_usage_and_model_names_stay_bounded() {
    let (guard, exporter, meter_provider, _spans) = common::metrics_to_memory();
    let wire = Wire::Completions;

    // Three answers of i64::MAX input tokens for one model.
    let mut huge = wire.text_body("hi");
    huge["usage"]["prompt_tokens"] = json!(i64::MAX);
    let (_s1, greedy) = serve(wire, vec![json_response(200, huge); 3]);
    for _ in 0..3 {
        greedy.call("hi").await.expect("the call itself is fine");
    }

    // 1,100 answers, each naming another model (long names, too).
    let names = 1_100;
    let answers = (0..names)
        .map(|i| {
            let mut body = wire.text_body("hi");
            body["model"] = json!(format!("model-{i}-{}", "x".repeat(300)));
            json_response(200, body)
        })
        .collect();
    let (_s2, chatty) = serve(wire, answers);
    for _ in 0..names {
        chatty.call("hi").await.expect("call");
    }

    meter_provider.force_flush().expect("flush");
    let metrics = exporter.get_finished_metrics().expect("metrics");
    let last = metrics.last().expect("exported");
    let mut token_sum = None;
    let mut response_models = BTreeSet::new();
    for scope in last.scope_metrics() {
        for m in scope.metrics() {
            match (m.name(), m.data()) {
                ("gen_ai.client.token.usage", AggregatedMetrics::U64(MetricData::Histogram(h))) => {
                    for p in h.data_points() {
                        let of = |k: &str, v: &str| {
                            p.attributes()
                                .any(|kv| kv.key.as_str() == k && kv.value.as_str() == v)
                        };
                        if of("gen_ai.request.model", greedy.id())
                            && of("gen_ai.token.type", "input")
                        {
                            token_sum = Some((p.sum(), p.count()));
                        }
                    }
                }
                (
                    "gen_ai.client.operation.duration",
                    AggregatedMetrics::F64(MetricData::Histogram(h)),
                ) => {
                    for p in h.data_points() {
                        let ours = p.attributes().any(|kv| {
                            kv.key.as_str() == "gen_ai.request.model"
                                && kv.value.as_str() == chatty.id()
                        });
                        if ours {
                            for kv in p.attributes() {
                                if kv.key.as_str() == "gen_ai.response.model" {
                                    response_models.insert(kv.value.as_str().into_owned());
                                }
                            }
                        }
                    }
                }
                _ => {}
            }
        }
    }
    assert_eq!(
        token_sum,
        Some((3 * ops::metrics::MAX_RECORDED_TOKENS, 3)),
        "clamped, summed without overflow"
    );
    assert!(
        response_models.len() <= ops::metrics::MAX_RESPONSE_MODELS_PER_MODEL + 1,
        "{} series",
        response_models.len()
    );
    assert!(response_models.contains("_OTHER"));
    assert!(response_models
        .iter()
        .all(|m| m.chars().count() <= ops::metrics::MAX_RESPONSE_MODEL_CHARS));
    assert!(
        llm::cost::cached_models() <= llm::cost::MAX_CACHED_MODELS,
        "{}",
        llm::cost::cached_models()
    );
    drop(guard);
}
