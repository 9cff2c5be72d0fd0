//! The first call of a process against the tenth: each process (a child of this bench, so that
//! every run is cold) configures in-memory export, then makes ten `#[ops::trace]`d calls over
//! loopback; the bench reports, per call, the chat span's and the trace span's durations.
//!
//! The target (the first-hour issue): the first call costs what later calls cost plus at most
//! 10 ms, because the HTTP client and its TLS roots are built at set-up (`configure`,
//! `Provider::register`), outside any call's span.
//!
//! Run with `cargo bench --bench first_call`; `FIRST_CALL_RUNS` sets the number of processes
//! (default 7). Results and the machine are in BENCHMARKS.md.

#[path = "../tests/common/mod.rs"]
mod common;

use std::time::Duration;

use common::{json_response, serve, Wire};
use mirascope::{llm, ops};

#[ops::trace(skip_all)]
async fn traced(model: &llm::Model) -> String {
    model.call("hi").await.expect("call").text()
}

/// One cold process: prints `chat_first chat_tenth trace_first trace_tenth` in microseconds.
fn child() {
    let (provider, exporter) = ops::testing::in_memory_provider();
    let _guard = ops::configure(provider).expect("configure");
    ops::instrument_llm().expect("instrument");
    let wire = Wire::Completions;
    let (_server, model) = serve(
        wire,
        (0..10)
            .map(|_| json_response(200, wire.text_body("fine")))
            .collect(),
    );
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    for _ in 0..10 {
        runtime.block_on(traced(&model));
    }
    let spans = exporter.get_finished_spans().expect("spans");
    let by_start = |name: &str| {
        let mut d: Vec<_> = spans
            .iter()
            .filter(|s| s.name.starts_with(name))
            .map(|s| {
                (
                    s.start_time,
                    s.end_time
                        .duration_since(s.start_time)
                        .unwrap_or(Duration::ZERO),
                )
            })
            .collect();
        d.sort();
        d.into_iter()
            .map(|(_, d)| d.as_micros())
            .collect::<Vec<_>>()
    };
    let chat = by_start("chat ");
    let trace = by_start("traced");
    println!("{} {} {} {}", chat[0], chat[9], trace[0], trace[9]);
}

fn median(mut v: Vec<u128>) -> u128 {
    v.sort();
    v[v.len() / 2]
}

fn main() {
    if std::env::var_os("FIRST_CALL_CHILD").is_some() {
        child();
        return;
    }
    let runs: usize = std::env::var("FIRST_CALL_RUNS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(7);
    let me = std::env::current_exe().expect("exe");
    let mut rows: Vec<[u128; 4]> = Vec::new();
    for _ in 0..runs {
        let out = std::process::Command::new(&me)
            .env("FIRST_CALL_CHILD", "1")
            .output()
            .expect("child");
        let text = String::from_utf8_lossy(&out.stdout);
        let Some(line) = text.lines().last() else {
            continue;
        };
        let v: Vec<u128> = line
            .split_whitespace()
            .filter_map(|x| x.parse().ok())
            .collect();
        if let [a, b, c, d] = v[..] {
            rows.push([a, b, c, d]);
        }
    }
    let col = |i: usize| median(rows.iter().map(|r| r[i]).collect());
    println!(
        "first call against the tenth, median of {} cold processes (µs):",
        rows.len()
    );
    println!("  chat span:  first {:>7}  tenth {:>7}", col(0), col(1));
    println!("  trace span: first {:>7}  tenth {:>7}", col(2), col(3));
}
