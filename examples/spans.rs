//! Explicit spans (docs: "Spans"): around retrieval or any step, with attributes, events and
//! levelled messages. `cargo run --example spans`

use mirascope::ops;

fn retrieve(query: &str) -> Vec<&'static str> {
    let span = ops::span("retrieve").with("query", query);
    let docs = span.in_scope(|| vec!["doc-1", "doc-7"]);
    span.info("retrieved", [("count", docs.len())]);
    span.set_one("doc_ids", docs.as_slice());
    if docs.len() < 3 {
        span.warning("fewer documents than asked for", ops::NO_ATTRIBUTES);
    }
    span.finish();
    docs
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut guard = ops::configure_from_env()?;
    let docs = retrieve("rust observability");
    println!("retrieved {docs:?}");
    let failing = ops::span("rerank");
    failing.error("reranker unavailable", [("retryable", true)]);
    drop(failing);
    guard.shutdown()?;
    Ok(())
}
