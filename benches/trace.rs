//! What `#[ops::trace]` costs a function, against the same function untraced and against
//! `#[tracing::instrument]` recording the same fields through the same layer.
//!
//! - `trace_off/*`: no subscriber (mirascope-ops not configured): the untraced function, the
//!   traced one, and the `#[tracing::instrument]` one. The traced function's arguments and output
//!   are never serialized here: the span is disabled, so its closures never run.
//! - `trace_on/*`: mirascope-ops configured (tracing-opentelemetry -> SDK -> simple processor ->
//!   a discarding exporter), content capture on: `#[ops::trace]` against
//!   `#[tracing::instrument(fields(..))]` with the same attributes (name, kind, type, qualname,
//!   module, is_async, arg_types, arg_values as JSON, output).
//!
//! Run with `cargo bench --bench trace`; results and the machine are in BENCHMARKS.md.

use std::hint::black_box;

use criterion::{criterion_group, criterion_main, Criterion};
use mirascope::ops;
use tracing::field::Empty;

#[path = "support/discard.rs"]
mod discard;

#[inline(never)]
fn untraced(count: u64, label: &str) -> u64 {
    count.wrapping_mul(31) ^ label.len() as u64
}

#[ops::trace]
#[inline(never)]
fn traced(count: u64, label: &str) -> u64 {
    count.wrapping_mul(31) ^ label.len() as u64
}

/// The same span by hand: `#[tracing::instrument]` with the attributes `#[ops::trace]` records.
#[tracing::instrument(
    target = "mirascope_ops",
    name = "trace",
    skip_all,
    fields(
        otel.name = "instrumented",
        otel.kind = "internal",
        mirascope.type = "trace",
        mirascope.fn.qualname = "instrumented",
        mirascope.fn.module = module_path!(),
        mirascope.fn.is_async = false,
        mirascope.trace.arg_types = r#"{"count":"u64","label":"&str"}"#,
        mirascope.trace.arg_values = %serde_json::json!({"count": count, "label": label}),
        mirascope.trace.output = Empty,
    )
)]
#[inline(never)]
fn instrumented(count: u64, label: &str) -> u64 {
    let out = count.wrapping_mul(31) ^ label.len() as u64;
    tracing::Span::current().record("mirascope.trace.output", out);
    out
}

fn benches(c: &mut Criterion) {
    let mut g = c.benchmark_group("trace_off");
    g.bench_function("untraced", |b| {
        b.iter(|| untraced(black_box(7), black_box("books")))
    });
    g.bench_function("ops_trace", |b| {
        b.iter(|| traced(black_box(7), black_box("books")))
    });
    g.bench_function("tracing_instrument", |b| {
        b.iter(|| instrumented(black_box(7), black_box("books")))
    });
    g.finish();

    let provider = ops::sdk::trace::SdkTracerProvider::builder()
        .with_simple_exporter(discard::Discard)
        .build();
    let _guard = ops::configure(provider).expect("configure");
    assert!(ops::traced(|| traced(7, "books")).span_id.is_some());
    let mut g = c.benchmark_group("trace_on");
    g.bench_function("ops_trace", |b| {
        b.iter(|| traced(black_box(7), black_box("books")))
    });
    g.bench_function("tracing_instrument", |b| {
        b.iter(|| instrumented(black_box(7), black_box("books")))
    });
    g.finish();
}

criterion_group!(trace, benches);
criterion_main!(trace);
