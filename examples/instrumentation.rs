//! LLM instrumentation (docs: "LLM Instrumentation"): every model call and stream is a
//! `chat {model_id}` span once `instrument_llm()` is on; off again, calls cost nothing extra.
//! `cargo run --example instrumentation`

#[path = "support/offline.rs"]
mod offline;

use futures_util::StreamExt;
use mirascope::llm::replay::Matching;
use mirascope::{llm, ops};

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let _replay = offline::openai(offline::OPENAI, Matching::ByRequest);
    let mut guard = ops::configure_from_env()?;
    ops::instrument_llm()?;
    println!("instrumented: {}", ops::is_llm_instrumented());

    // A stream: the span stays open until the stream ends (or is dropped).
    let model = llm::model("openai/gpt-4o")?.with_params(llm::Params::new().max_tokens(64));
    let mut stream = model.stream("What is 4200 + 42?").await?;
    while let Some(chunk) = stream.next().await {
        if let llm::StreamChunk::TextDelta(d) = chunk? {
            print!("{d}");
        }
    }
    println!();

    // Content capture can be switched off at runtime (or with
    // OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT=false).
    ops::set_capture_content(false);
    ops::set_capture_content(true);

    ops::uninstrument_llm();
    println!("instrumented: {}", ops::is_llm_instrumented());
    guard.shutdown()?;
    Ok(())
}
