use mirascope::{llm, ops};

/// Recommends books based on genre
#[ops::version(name = "book_recommender", tags = ["production", "ml"], metadata = {"owner": "team-ml"})]
fn recommend_book(genre: &str) -> String {
    format!("Recommend a {genre} book")
}

#[ops::version]
#[llm::call("openai/gpt-4o-mini")]
fn versioned_call(genre: &str) -> String {
    format!("Recommend a {genre} book")
}

#[ops::version]
async fn versioned_async(n: u32) -> u32 {
    n + 1
}

fn main() {
    assert_eq!(recommend_book("fantasy"), "Recommend a fantasy book");
    let _: llm::LazyCall = versioned_call("fantasy");
    drop(versioned_async(1));
    let _ = llm::model("openai/x");
}
