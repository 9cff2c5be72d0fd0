//! Sessions (docs: "Sessions"): every trace opened inside a session carries its id; GenAI spans
//! carry it as `gen_ai.conversation.id`. `cargo run --example sessions`

#[path = "support/offline.rs"]
mod offline;

use mirascope::llm::replay::Matching;
use mirascope::{llm, ops};

#[ops::trace]
#[llm::call("openai/gpt-4o-mini")]
fn recommend(genre: &str) -> String {
    format!("Recommend a {genre} book.")
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let _replay = offline::openai(offline::OPENAI, Matching::ByRequest);
    let mut guard = ops::configure_from_env()?;
    ops::instrument_llm()?;

    let session = ops::SessionContext::new("conversation-123")
        .attributes(serde_json::json!({"user": "alice"}));
    let answer = ops::in_session(session, async {
        println!(
            "session: {}",
            ops::current_session().map(|s| s.id).unwrap_or_default()
        );
        recommend("fantasy").await
    })
    .await?;
    println!("{}", answer.text().lines().next().unwrap_or_default());

    // Sync code: a guard; the outer session comes back when it drops.
    {
        let _s = ops::new_session();
        println!(
            "generated session id: {}",
            ops::current_session().unwrap().id
        );
    }
    assert!(ops::current_session().is_none());
    guard.shutdown()?;
    Ok(())
}
