//! Throughput under concurrency: 256 calls in flight on a multi-thread tokio runtime (2 worker
//! threads, as many as the 2-core machine has), calls per second with instrumentation off and on.
//!
//! Method: one process. A loopback replay server on its own thread answers every request with the
//! same recorded Chat Completions body. `ops::configure` is done once, with spans through a batch
//! processor into a discarding exporter and the GenAI client metrics into an SDK meter provider
//! (aggregated on every call; its reader exports every 60 s, so never during a round). Content
//! capture is on (`OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT=true` is set here), and
//! `traceparent` is injected. Each round makes `CONCURRENT_CALLS_TOTAL` calls (default 6,000)
//! from 256 tasks that each call until the round's count is reached, and measures the wall time
//! and the process CPU (all threads: the callers, mirascope's HTTP runtime, the exporter, the
//! metrics SDK and the server). Rounds alternate off (`ops::uninstrument_llm()`) and on
//! (`ops::instrument_llm()`), `CONCURRENT_CALLS_ROUNDS` of each (default 9); the table gives each
//! side's median and the drop of the medians. The server's share is the same on both sides.
//! `CONCURRENT_CALLS_ONLY=on` (or `off`) runs one side only (for a profiler).
//!
//! Run with `cargo bench --bench concurrent_calls`; results and the machine are in BENCHMARKS.md.

#[path = "../tests/common/mod.rs"]
mod common;

#[path = "support/discard.rs"]
mod discard;

#[path = "support/cpu.rs"]
mod cpu;
use cpu::{process_cpu, setting};

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use common::{json_response, Wire};
use mirascope::llm::replay::{Matching, ReplayServer};
use mirascope::{llm, ops};

const IN_FLIGHT: usize = 256;

/// Makes `total` calls from `IN_FLIGHT` tasks; returns (wall, process CPU).
fn round(rt: &tokio::runtime::Runtime, model: &llm::Model, total: usize) -> (Duration, Duration) {
    let next = Arc::new(AtomicUsize::new(0));
    let (wall, cpu) = (Instant::now(), process_cpu());
    rt.block_on(async {
        let tasks: Vec<_> = (0..IN_FLIGHT)
            .map(|_| {
                let (model, next) = (model.clone(), next.clone());
                tokio::spawn(async move {
                    while next.fetch_add(1, Ordering::Relaxed) < total {
                        let messages = vec![
                            llm::Message::system("You are a concise assistant."),
                            llm::Message::user("Say hello to the user named Kai."),
                        ];
                        model.call(messages).await.expect("call");
                    }
                })
            })
            .collect();
        for t in tasks {
            t.await.expect("task");
        }
    });
    (wall.elapsed(), process_cpu() - cpu)
}

fn median(v: &mut [f64]) -> f64 {
    v.sort_by(|a, b| a.total_cmp(b));
    v[v.len() / 2]
}

fn main() {
    // SAFETY: set before any thread of this process reads the environment.
    std::env::set_var("OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT", "true");
    let total = setting("CONCURRENT_CALLS_TOTAL", 6_000);
    let rounds = setting("CONCURRENT_CALLS_ROUNDS", 9);
    // `CONCURRENT_CALLS_ONLY=on` (or `off`) runs one side only, for a profiler.
    let only = std::env::var("CONCURRENT_CALLS_ONLY").ok();

    let wire = Wire::Completions;
    let server = ReplayServer::start(
        vec![common::answer(json_response(
            200,
            wire.text_body("Hello, Kai!"),
        ))],
        Matching::Repeat,
    )
    .expect("replay server");
    let model = common::model_at(wire, &wire.base_url(&server));

    let spans = ops::sdk::trace::SdkTracerProvider::builder()
        .with_batch_exporter(discard::Discard)
        .build();
    let meters = ops::sdk::metrics::SdkMeterProvider::builder()
        .with_reader(
            ops::sdk::metrics::PeriodicReader::builder(
                opentelemetry_sdk::metrics::InMemoryMetricExporter::default(),
            )
            .with_interval(Duration::from_secs(60))
            .build(),
        )
        .build();
    let _guard = ops::Configuration::new(spans)
        .meter_provider(meters)
        .install()
        .expect("configure");
    assert!(llm::genai::capture_content());

    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");

    // Warm-up: connections, allocator, the price table, the metrics' attribute sets.
    ops::instrument_llm().expect("instrument");
    round(&rt, &model, total / 4);
    ops::uninstrument_llm();
    round(&rt, &model, total / 4);

    let (mut off_rate, mut on_rate, mut off_cpu, mut on_cpu) = (vec![], vec![], vec![], vec![]);
    for i in 0..rounds * 2 {
        // Alternate which side goes first in each pair, so a drift hits both alike.
        let on = match only.as_deref() {
            Some("on") => true,
            Some("off") => false,
            _ => (i % 2 == 0) == (i / 2 % 2 == 0),
        };
        if on {
            ops::instrument_llm().expect("instrument");
        } else {
            ops::uninstrument_llm();
        }
        let (wall, cpu) = round(&rt, &model, total);
        let rate = total as f64 / wall.as_secs_f64();
        let cpu_us = cpu.as_secs_f64() * 1e6 / total as f64;
        if on {
            on_rate.push(rate);
            on_cpu.push(cpu_us);
        } else {
            off_rate.push(rate);
            off_cpu.push(cpu_us);
        }
    }
    if only.is_some() {
        println!("off: {off_rate:?}\non: {on_rate:?}");
        return;
    }
    let (off, on) = (median(&mut off_rate), median(&mut on_rate));
    let (off_c, on_c) = (median(&mut off_cpu), median(&mut on_cpu));
    println!(
        "{IN_FLIGHT} calls in flight, 2 worker threads, {total} calls per round, median of {rounds} rounds each side"
    );
    println!("            calls/s   process CPU per call (µs)");
    println!("off        {off:8.0}   {off_c:8.1}");
    println!("on         {on:8.0}   {on_c:8.1}");
    println!(
        "drop: {:.1}% calls/s; CPU per call {:+.1} µs",
        (off - on) / off * 100.0,
        on_c - off_c
    );
    println!(
        "each round (calls/s), off: {:?}",
        off_rate.iter().map(|r| *r as u64).collect::<Vec<_>>()
    );
    println!(
        "each round (calls/s), on: {:?}",
        on_rate.iter().map(|r| *r as u64).collect::<Vec<_>>()
    );
    drop(server);
}
