//! Tracing (docs: "Tracing"): `#[ops::trace]` on plain functions and over `#[llm::call]`, nested.
//! `cargo run --example tracing`

#[path = "support/offline.rs"]
mod offline;

use mirascope::llm::replay::Matching;
use mirascope::{llm, ops};

#[ops::trace(tags = ["production", "recommendations"], metadata = {"user_id": "u-42", "team": "reco"})]
#[llm::call("openai/gpt-4o-mini")]
fn recommend(genre: &str) -> String {
    format!("Recommend a {genre} book.")
}

#[ops::trace]
async fn pipeline(genres: Vec<String>) -> Vec<String> {
    let mut picks = Vec::new();
    for g in &genres {
        match recommend(g).await {
            Ok(r) => picks.push(r.text()),
            Err(e) => picks.push(format!("error: {e}")),
        }
    }
    picks
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let _replay = offline::openai(offline::OPENAI, Matching::ByRequest);
    let mut guard = ops::configure_from_env()?;
    ops::instrument_llm()?;
    let picks = pipeline(vec!["fantasy".into(), "romance".into()]).await;
    for p in picks {
        println!("- {}", p.lines().next().unwrap_or_default());
    }
    guard.shutdown()?;
    Ok(())
}
