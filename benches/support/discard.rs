//! The exporter the benches export to: it accepts every span and keeps none, so a figure is the
//! CPU the caller pays, not network. Shared by the benches with `#[path]`.

use mirascope::ops::sdk::error::OTelSdkResult;
use mirascope::ops::sdk::trace::{SpanData, SpanExporter};

/// Accepts every span and keeps none.
#[derive(Debug, Default)]
pub struct Discard;

impl SpanExporter for Discard {
    async fn export(&self, batch: Vec<SpanData>) -> OTelSdkResult {
        std::hint::black_box(batch);
        Ok(())
    }
}
