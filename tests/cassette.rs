//! Record/replay for users' tests: record through the cassette proxy against a "live" provider
//! (a loopback server standing in for it), then replay offline; unrecorded requests fail clearly;
//! secrets never reach the cassette file.

mod common;

use common::{json_response, Wire};
use mirascope::llm::cassette::{Cassette, Mode};
use mirascope::llm::replay::{Exchange, Matching, RecordedRequest, ReplayServer};
use mirascope::llm::{self, Error};
use serde_json::json;

#[tokio::test]
async fn record_then_replay_offline() {
    let dir = std::env::temp_dir().join(format!("mirascope-cassette-{}", std::process::id()));
    let path = dir.join("capital.json");
    let wire = Wire::Responses;

    // The "live" provider.
    let live = ReplayServer::start(
        vec![Exchange {
            request: RecordedRequest { method: "POST".into(), path: "/v1/responses".into(), json: Some(json!({"model": "gpt-4o-mini", "input": [{"content": "What is the capital of France?", "role": "user"}]})) },
            response: json_response(200, wire.text_body("Paris.")),
        }],
        Matching::ByRequest,
    )
    .unwrap();
    llm::Provider::new("openai")
        .scope("openai/")
        .api_key("sk-live-secret")
        .base_url(format!("{}/v1", live.base_url()))
        .register()
        .unwrap();

    {
        let cassette = Cassette::with_mode(&path, "openai", Mode::Record).unwrap();
        assert_eq!(cassette.mode(), Mode::Record);
        let r = llm::model("openai/gpt-4o-mini")
            .unwrap()
            .call("What is the capital of France?")
            .await
            .unwrap();
        assert_eq!(r.text(), "Paris.");
    }
    let saved = std::fs::read_to_string(&path).unwrap();
    assert!(saved.contains("What is the capital of France?"));
    assert!(
        !saved.contains("sk-live-secret") && !saved.to_ascii_lowercase().contains("authorization"),
        "no secrets in cassettes"
    );
    assert_eq!(
        live.requests()[0].header("authorization"),
        Some("Bearer sk-live-secret"),
        "the live provider got the real key"
    );
    drop(live);

    // Offline: the live server is gone; the cassette answers.
    let _cassette = Cassette::with_mode(&path, "openai", Mode::Replay).unwrap();
    let model = llm::model("openai/gpt-4o-mini")
        .unwrap()
        .with_retry(llm::RetryPolicy::none());
    let r = model.call("What is the capital of France?").await.unwrap();
    assert_eq!(r.text(), "Paris.");

    // Not recorded: a clear error naming the nearest recording and the difference.
    let err = model
        .call("What is the capital of Spain?")
        .await
        .unwrap_err();
    let Error::Api(api) = &err else {
        panic!("{err:?}")
    };
    let msg = api.message.clone().unwrap_or_default();
    assert!(
        msg.contains("no recorded exchange matches POST /v1/responses"),
        "{msg}"
    );
    assert!(
        msg.contains("nearest recorded request") && msg.contains("Spain"),
        "{msg}"
    );

    let missing =
        Cassette::with_mode(dir.join("missing.json"), "openai", Mode::Replay).unwrap_err();
    assert!(
        missing.to_string().contains("MIRASCOPE_RECORD"),
        "{missing}"
    );
    let _ = std::fs::remove_dir_all(dir);
}
