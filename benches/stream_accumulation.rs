//! Stream accumulation is linear: the time per chunk stays flat from 1,000 to 100,000 chunks,
//! on every wire format. Each sample streams a whole answer of N text chunks from a loopback
//! replay server through the public API (`model.stream(..)`, collected to the end), with no
//! subscriber, and reports the time per chunk (criterion's throughput in elements).
//!
//! Run with `cargo bench --bench stream_accumulation`; results are in BENCHMARKS.md.

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use futures_util::StreamExt;
use mirascope::llm;
use mirascope::llm::replay::{Matching, ReplayServer};

#[path = "../tests/common/mod.rs"]
mod common;

use common::{answer, model_at, sse_response, Wire, ALL};

/// A server that answers every request with a stream of `n` text chunks.
fn serve(wire: Wire, n: usize) -> (ReplayServer, llm::Model) {
    let pieces = vec!["word "; n];
    let exchanges = vec![answer(sse_response(wire.sse_body(&pieces, false)))];
    let server = ReplayServer::start(exchanges, Matching::Repeat).expect("replay server");
    let model = model_at(wire, &wire.base_url(&server));
    (server, model)
}

fn accumulation(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let mut group = c.benchmark_group("stream_accumulation");
    group.sample_size(10);
    for wire in ALL {
        for n in [1_000usize, 10_000, 100_000] {
            let (_server, model) = serve(wire, n);
            group.throughput(Throughput::Elements(n as u64));
            let name = format!("{wire:?}").to_lowercase();
            group.bench_with_input(BenchmarkId::new(name, n), &n, |b, &n| {
                b.iter(|| {
                    rt.block_on(async {
                        let stream = model.stream("hi").await.expect("stream");
                        let chunks = stream.count().await;
                        assert!(chunks >= n, "{chunks} chunks");
                    })
                })
            });
        }
    }
    group.finish();
}

criterion_group!(benches, accumulation);
criterion_main!(benches);
