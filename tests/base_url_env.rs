//! Base URLs from the environment: surrounding whitespace (a copy-paste artefact) is dropped,
//! anything else wrong is `Error::InvalidBaseUrl` naming the variable, before any request and
//! without retries. Its own binary: the environment is process-wide.

mod common;

use std::time::{Duration, Instant};

use common::{json_response, serve, Wire};
use mirascope::llm::{self, Error};

#[tokio::test]
async fn environment_base_urls_are_checked() {
    let wire = Wire::Completions;
    let (server, _model) = serve(wire, vec![json_response(200, wire.text_body("fine"))]);
    std::env::set_var("TOGETHER_API_KEY", "sk-test");
    // A trailing space and newline around a good URL: used without them.
    std::env::set_var(
        "TOGETHER_BASE_URL",
        format!("  {}/v1 \n", server.base_url()),
    );
    let model = llm::model("together/meta-llama/Llama-3").expect("model");
    assert_eq!(model.call("hi").await.expect("call").text(), "fine");

    // A URL without a scheme: a typed error naming the variable, at once.
    std::env::set_var("TOGETHER_BASE_URL", "127.0.0.1:18080/v1");
    let started = Instant::now();
    let err = model.call("hi").await.expect_err("not a URL");
    match &err {
        Error::InvalidBaseUrl { source_name, .. } => assert_eq!(source_name, "TOGETHER_BASE_URL"),
        other => panic!("{other:?}"),
    }
    assert!(err.to_string().contains("127.0.0.1:18080/v1"), "{err}");
    assert!(
        started.elapsed() < Duration::from_secs(1),
        "no retries with backoff: {:?}",
        started.elapsed()
    );
    std::env::remove_var("TOGETHER_BASE_URL");
}

/// Google's key from the environment as the google-genai SDK reads it (`get_env_api_key`):
/// `GOOGLE_API_KEY`, else `GEMINI_API_KEY`.
#[tokio::test]
async fn google_reads_gemini_api_key_when_google_api_key_is_unset() {
    if std::env::var_os("GOOGLE_API_KEY").is_some() {
        return; // set by the caller's environment: not ours to remove
    }
    let wire = Wire::Google;
    let (server, _model) = serve(wire, vec![json_response(200, wire.text_body("fine"))]);
    std::env::set_var("GEMINI_API_KEY", "gemini-test-key");
    std::env::set_var("GOOGLE_BASE_URL", server.base_url());
    let model = llm::model("google/gemini-2.5-flash").expect("model");
    let text = model.call("hi").await.expect("call").text();
    std::env::remove_var("GEMINI_API_KEY");
    std::env::remove_var("GOOGLE_BASE_URL");
    assert_eq!(text, "fine");
    let request = &server.requests()[0];
    assert!(
        request
            .headers
            .iter()
            .any(|(k, v)| k == "x-goog-api-key" && v == "gemini-test-key"),
        "{:?}",
        request.headers
    );
}
