//! Configuration (docs: "Configuration"): where spans go. From the environment
//! (`OTEL_EXPORTER_OTLP_*`, console otherwise), an explicit OTLP builder, or your own
//! `TracerProvider`. `cargo run --example configuration`

use mirascope::ops;
use mirascope::ops::export::{Otlp, Protocol};

#[ops::trace]
fn step(n: i64) -> i64 {
    n + 1
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    // 1. Your own provider (here: in memory, as in tests).
    let (provider, exporter) = ops::testing::in_memory_provider();
    let guard = ops::Configuration::new(provider)
        .tracer_name("my-app.llm")
        .install()?;
    step(1);
    println!(
        "in-memory provider got {} span(s)",
        exporter.get_finished_spans()?.len()
    );
    drop(guard);

    // 2. An OTLP exporter built in code (settings not given fall back to OTEL_EXPORTER_OTLP_*).
    let _otlp = Otlp::new()
        .endpoint("http://127.0.0.1:4318")
        .protocol(Protocol::HttpProtobuf)
        .header("x-project-name", "my-app");

    // 3. From the environment: OTEL_TRACES_EXPORTER, else OTLP when OTEL_EXPORTER_OTLP_ENDPOINT is
    //    set, else the console tree; nothing at all when OTEL_SDK_DISABLED=true.
    if let Some(provider) = ops::export::provider_from_env()? {
        let mut guard = ops::Configuration::new(provider).install()?;
        step(2);
        guard.shutdown()?;
    }
    Ok(())
}
