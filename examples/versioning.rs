//! Versioning (docs: "Versioning"): `#[ops::version]` records hashes of the function's code,
//! computed at compile time, on every call's span. `cargo run --example versioning`

use mirascope::ops;

/// Recommends books based on genre
#[ops::version(name = "book_recommender", tags = ["production", "ml"], metadata = {"owner": "team-ml", "ticket": "ENG-1234"})]
fn recommend_book(genre: &str) -> String {
    format!("Recommend a {genre} book")
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let (provider, exporter) = ops::testing::in_memory_provider();
    let _guard = ops::configure(provider)?;
    println!("{}", recommend_book("fantasy"));
    for span in exporter.get_finished_spans()? {
        for kv in span
            .attributes
            .iter()
            .filter(|kv| kv.key.as_str().starts_with("mirascope.version"))
        {
            println!("{} = {}", kv.key, kv.value);
        }
    }
    Ok(())
}
