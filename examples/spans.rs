//! Explicit spans (docs: "Spans"): around retrieval or any step, with attributes, events and
//! levelled messages. `cargo run --example spans`

use mirascope::ops::{self, Value};

fn retrieve(query: &str) -> Vec<&'static str> {
    let span = ops::span("retrieve", [("query", Value::from(query))]);
    let docs = span.in_scope(|| vec!["doc-1", "doc-7"]);
    span.info("retrieved", [("count", Value::from(docs.len() as i64))]);
    span.set([("doc_ids", Value::from(docs.clone()))]);
    if docs.len() < 3 {
        span.warning(
            "fewer documents than asked for",
            Vec::<(&str, Value)>::new(),
        );
    }
    span.finish();
    docs
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut guard = ops::configure_from_env()?;
    let docs = retrieve("rust observability");
    println!("retrieved {docs:?}");
    let failing = ops::span("rerank", Vec::<(&str, Value)>::new());
    failing.error("reranker unavailable", [("retryable", Value::from(true))]);
    drop(failing);
    guard.shutdown()?;
    Ok(())
}
