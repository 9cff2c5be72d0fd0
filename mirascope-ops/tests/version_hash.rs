//! `mirascope.version.hash` through the member crate (`mirascope_ops::version`, so the generated
//! code reaches the runtime as `::mirascope_ops`): the same function gives the same hash as
//! through the facade (`tests/macros.rs` in the workspace root pins the same value), and
//! formatting or comments do not change it.

use opentelemetry::Value;
use opentelemetry_sdk::trace::{InMemorySpanExporter, SdkTracerProvider};

/// Recommends books based on genre
#[mirascope_ops::version(name = "book_recommender", tags = ["production", "ml"], metadata = {"owner": "team-ml", "ticket": "ENG-1234"})]
fn recommend_book(genre: &str) -> String {
    format!("Recommend a {genre} book")
}

// rustfmt would undo the spacing under test; the skip sits on the module, outside the hashed
// function.
#[rustfmt::skip]
mod reformatted {
    /// Other docs: doc comments are not hashed.
    #[mirascope_ops::version]
    fn recommend_book( genre : &str )->String{
        // A comment, and other spacing: neither is part of the tokens.
        format!( "Recommend a {genre} book" )
    }

    pub fn call() -> String {
        recommend_book("fantasy")
    }
}

fn hashes(exporter: &InMemorySpanExporter) -> Vec<(String, String)> {
    exporter
        .get_finished_spans()
        .unwrap()
        .into_iter()
        .map(|span| {
            let get = |key: &str| {
                span.attributes
                    .iter()
                    .find(|kv| kv.key.as_str() == key)
                    .map(|kv| match &kv.value {
                        Value::String(s) => s.to_string(),
                        other => other.to_string(),
                    })
                    .unwrap_or_default()
            };
            (
                get("mirascope.version.hash"),
                get("mirascope.version.signature_hash"),
            )
        })
        .collect()
}

#[test]
fn same_hash_through_the_member_crate_and_across_formatting() {
    let exporter = InMemorySpanExporter::default();
    let provider = SdkTracerProvider::builder()
        .with_simple_exporter(exporter.clone())
        .build();
    let guard = mirascope_ops::configure(provider).expect("configure");
    recommend_book("fantasy");
    reformatted::call();
    let expected = (
        "d0ed340a77bc8fe4394b90028d801845e5d780759be71c97423b2a680946af9a".to_string(),
        "0a4977647a121b4d22e93969fe97156ea0bf62d7661bacc2782c9b09a7eb2938".to_string(),
    );
    assert_eq!(hashes(&exporter), vec![expected.clone(), expected]);
    drop(guard);
}
