//! The exporter the benches export to: it accepts every span and keeps none, so a figure is the
//! CPU the caller pays, not network. Shared by the benches with `#[path]`. While
//! [`record_shapes`] is on, it also notes what each kind of span carries (attributes and their
//! bytes), so that a bench can say it compares equal work.

#![allow(dead_code)]

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Mutex;

use mirascope::ops::sdk::error::OTelSdkResult;
use mirascope::ops::sdk::trace::{SpanData, SpanExporter};

/// Accepts every span and keeps none.
#[derive(Debug, Default)]
pub struct Discard;

static RECORD: AtomicBool = AtomicBool::new(false);
static SHAPES: Mutex<BTreeMap<(String, String), (usize, usize)>> = Mutex::new(BTreeMap::new());

/// Turns the noting of span shapes on or off (off while measuring).
pub fn record_shapes(on: bool) {
    RECORD.store(on, Ordering::SeqCst);
}

/// `(scope, span name) -> (attributes, bytes of keys and values)` of the spans noted.
pub fn shapes() -> BTreeMap<(String, String), (usize, usize)> {
    SHAPES.lock().map(|s| s.clone()).unwrap_or_default()
}

fn value_bytes(v: &opentelemetry::Value) -> usize {
    match v {
        opentelemetry::Value::Array(opentelemetry::Array::String(items)) => {
            items.iter().map(|s| s.as_str().len()).sum()
        }
        other => other.as_str().len(),
    }
}

impl SpanExporter for Discard {
    async fn export(&self, batch: Vec<SpanData>) -> OTelSdkResult {
        if RECORD.load(Ordering::Relaxed) {
            if let Ok(mut shapes) = SHAPES.lock() {
                for s in &batch {
                    let bytes = s
                        .attributes
                        .iter()
                        .map(|kv| kv.key.as_str().len() + value_bytes(&kv.value))
                        .sum();
                    shapes.insert(
                        (
                            s.instrumentation_scope.name().to_string(),
                            s.name.to_string(),
                        ),
                        (s.attributes.len(), bytes),
                    );
                }
            }
        }
        std::hint::black_box(batch);
        Ok(())
    }
}
