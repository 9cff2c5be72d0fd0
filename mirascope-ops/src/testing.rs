//! Helpers for tests of code that uses mirascope: an in-memory exporter.

use opentelemetry_sdk::trace::{InMemorySpanExporter, SdkTracerProvider};

pub use opentelemetry_sdk::trace::{InMemorySpanExporter as SpanExporter, SpanData};

/// A provider that exports every span, as it ends, to the returned in-memory exporter.
pub fn in_memory_provider() -> (SdkTracerProvider, InMemorySpanExporter) {
    let exporter = InMemorySpanExporter::default();
    let provider = SdkTracerProvider::builder()
        .with_simple_exporter(exporter.clone())
        .build();
    (provider, exporter)
}
