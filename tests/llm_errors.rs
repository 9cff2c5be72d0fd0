//! Error paths of the `llm` client, over real HTTP to loopback servers: every provider's error
//! statuses, retries, `Retry-After`, truncated and malformed answers, refused connections and
//! timeouts each give the right typed error, and nothing panics or leaks a secret.

mod common;

use std::time::Duration;

use common::{json_response, serve, sse_response, Wire, ALL};
use futures_util::StreamExt;
use mirascope::llm::{self, Error, ErrorClass, RetryPolicy};
use serde_json::json;

fn expected_class(wire: Wire, status: u16) -> ErrorClass {
    match (wire, status) {
        (_, 400) => ErrorClass::BadRequest,
        (_, 401) => ErrorClass::Authentication,
        (_, 404) => ErrorClass::NotFound,
        (_, 429) => ErrorClass::RateLimit,
        (Wire::Anthropic, 529) => ErrorClass::Provider,
        (_, 500 | 529) => ErrorClass::Server,
        _ => unreachable!(),
    }
}

#[tokio::test]
async fn status_errors_are_typed_for_every_provider() {
    for wire in ALL {
        for status in [400u16, 401, 404, 429, 500, 529] {
            let message = format!("{status} from {wire:?}");
            // OpenAI and Anthropic SDKs retry twice; google-genai does not retry.
            let retried = matches!(status, 429 | 500 | 529) && wire != Wire::Google;
            let attempts = if retried { 3 } else { 1 };
            let responses = (0..attempts)
                .map(|_| json_response(status, wire.error_body(status, &message)))
                .collect();
            let (server, model) = serve(wire, responses);
            let err = model.call("hi").await.expect_err("must fail");
            let Error::Api(api) = &err else {
                panic!("{wire:?} {status}: expected Api error, got {err:?}")
            };
            assert_eq!(api.status, status);
            assert_eq!(api.provider, wire.provider_id());
            assert_eq!(
                api.message.as_deref(),
                Some(message.as_str()),
                "{wire:?} {status}"
            );
            assert!(
                api.error_type.is_some(),
                "{wire:?} {status}: provider error type parsed"
            );
            assert_eq!(
                err.class(),
                expected_class(wire, status),
                "{wire:?} {status}"
            );
            assert_eq!(
                server.requests().len(),
                attempts,
                "{wire:?} {status}: retries"
            );
            let shown = format!("{err} {err:?}");
            assert!(shown.contains(&message));
            assert!(
                !shown.contains("sk-test-secret-key"),
                "secret leaked: {shown}"
            );
        }
    }
}

#[tokio::test]
async fn retry_after_is_honoured_and_capped() {
    let wire = Wire::Responses;
    let mut limited = json_response(429, wire.error_body(429, "slow down"));
    limited.headers.insert("retry-after-ms".into(), json!("20"));
    let (server, model) = serve(
        wire,
        vec![limited.clone(), json_response(200, wire.text_body("ok"))],
    );
    let started = std::time::Instant::now();
    let response = model.call("hi").await.expect("second attempt succeeds");
    assert_eq!(response.text(), "ok");
    assert_eq!(server.requests().len(), 2);
    assert!(
        started.elapsed() >= Duration::from_millis(20),
        "waited as asked"
    );

    // A wait longer than the policy accepts ends the retries at once.
    let mut long = json_response(429, wire.error_body(429, "come back tomorrow"));
    long.headers.insert("retry-after".into(), json!("3600"));
    let (server, model) = serve(wire, vec![long.clone(), long]);
    let err = model.call("hi").await.expect_err("no retry");
    assert_eq!(err.retry_after(), Some(Duration::from_secs(3600)));
    assert_eq!(server.requests().len(), 1);

    // No retries at all with RetryPolicy::none().
    let (server, model) = serve(
        wire,
        vec![
            json_response(500, wire.error_body(500, "boom")),
            json_response(200, wire.text_body("ok")),
        ],
    );
    let err = model
        .with_retry(RetryPolicy::none())
        .call("hi")
        .await
        .expect_err("not retried");
    assert_eq!(err.class(), ErrorClass::Server);
    assert_eq!(server.requests().len(), 1);
}

#[tokio::test]
async fn truncated_streams_end_early_with_partial_content() {
    for wire in ALL {
        let (_server, model) = serve(
            wire,
            vec![sse_response(wire.sse_body(&["Hel", "lo"], true))],
        );
        let mut stream = model.stream("hi").await.expect("stream opens");
        let mut text = String::new();
        let mut error = None;
        while let Some(item) = stream.next().await {
            match item {
                Ok(llm::StreamChunk::TextDelta(d)) => text.push_str(&d),
                Ok(_) => {}
                Err(e) => error = Some(e),
            }
        }
        assert_eq!(text, "Hello", "{wire:?}");
        assert!(
            matches!(error, Some(Error::StreamEndedEarly { .. })),
            "{wire:?}: {error:?}"
        );
        assert!(stream.response().is_err(), "{wire:?}: no complete response");
    }
}

#[tokio::test]
async fn malformed_answers_are_typed_errors_with_an_excerpt() {
    for wire in ALL {
        let mut bad = json_response(200, json!(null));
        bad.json = None;
        bad.sse = Some("this is not json".into());
        let (_server, model) = serve(wire, vec![bad]);
        let err = model.call("hi").await.expect_err("malformed");
        match &err {
            Error::MalformedResponse {
                excerpt, provider, ..
            } => {
                assert!(excerpt.contains("this is not json"), "{wire:?}: {excerpt}");
                assert_eq!(provider, wire.provider_id());
            }
            other => panic!("{wire:?}: {other:?}"),
        }
        // JSON of the wrong shape.
        let (_server, model) = serve(wire, vec![json_response(200, json!({"unexpected": true}))]);
        assert!(
            matches!(model.call("hi").await, Err(Error::MalformedResponse { .. })),
            "{wire:?}"
        );
        // A stream whose events are not JSON.
        let (_server, model) = serve(wire, vec![sse_response("data: {not json\n\n".into())]);
        let mut stream = model.stream("hi").await.expect("opens");
        let first = stream.next().await.expect("an item");
        assert!(
            matches!(first, Err(Error::MalformedResponse { .. })),
            "{wire:?}: {first:?}"
        );
        assert!(stream.next().await.is_none(), "stream ends after an error");
    }
}

#[tokio::test]
async fn refused_connections_and_timeouts() {
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let model = common::model_at(Wire::Completions, &format!("http://127.0.0.1:{port}/v1"))
        .with_retry(RetryPolicy::none());
    let err = model.call("hi").await.expect_err("refused");
    assert!(matches!(err, Error::Connection { .. }), "{err:?}");
    assert_eq!(err.class(), ErrorClass::Connection);

    let wire = Wire::Anthropic;
    let mut slow = json_response(200, wire.text_body("late"));
    slow.delay_ms = Some(2_000);
    let (_server, model) = serve(wire, vec![slow.clone()]);
    let err = model
        .with_retry(RetryPolicy::none())
        .with_timeout(Duration::from_millis(150))
        .call("hi")
        .await
        .expect_err("times out");
    assert!(matches!(err, Error::Timeout { .. }), "{err:?}");

    let mut slow_stream = sse_response(wire.sse_body(&["late"], false));
    slow_stream.delay_ms = Some(2_000);
    let (_server, model) = serve(wire, vec![slow_stream]);
    let err = model
        .with_retry(RetryPolicy::none())
        .with_timeout(Duration::from_millis(150))
        .stream("hi")
        .await
        .expect_err("times out");
    assert!(matches!(err, Error::Timeout { .. }), "{err:?}");
}

#[test]
fn configuration_errors_are_typed() {
    let err = llm::model("gpt-4o-mini").expect_err("no provider prefix");
    assert!(matches!(err, Error::InvalidModelId { .. }));
    assert!(err.to_string().contains("provider/model-name"));

    // xAI needs XAI_API_KEY, which the test environment does not set.
    std::env::remove_var("XAI_API_KEY");
    let err = llm::model("xai/grok-4")
        .unwrap()
        .call_blocking("hi")
        .expect_err("no key");
    match err {
        Error::MissingApiKey { env_var, provider } => {
            assert_eq!(env_var, "XAI_API_KEY");
            assert_eq!(provider, "xai");
        }
        other => panic!("{other:?}"),
    }
    let err = llm::model("nope/model")
        .unwrap()
        .call_blocking("hi")
        .expect_err("unknown provider");
    assert!(matches!(err, Error::UnknownProvider { .. }), "{err:?}");
    let err = llm::model("openai/gpt-4o")
        .unwrap()
        .call_blocking(Vec::<llm::Message>::new())
        .expect_err("no messages");
    assert!(matches!(err, Error::InvalidRequest(_)), "{err:?}");
}

#[test]
fn blocking_calls_need_no_runtime() {
    for wire in ALL {
        let (_server, model) = serve(
            wire,
            vec![
                json_response(200, wire.text_body("blocking ok")),
                sse_response(wire.sse_body(&["a", "b"], false)),
            ],
        );
        assert_eq!(
            model.call_blocking("hi").unwrap().text(),
            "blocking ok",
            "{wire:?}"
        );
        let text: String = model
            .stream_blocking("hi")
            .unwrap()
            .text_stream()
            .map(Result::unwrap)
            .collect();
        assert_eq!(text, "ab", "{wire:?}");
    }
}

/// A model name never changes the request URL beyond its path: `?` and `#` are percent-encoded
/// (Google puts the model in the path), and control characters are refused before any traffic.
#[tokio::test]
async fn model_names_stay_in_the_url_path() {
    let wire = Wire::Google;
    let (server, model) = serve(wire, vec![json_response(200, wire.text_body("Hi"))]);
    let scope = model.id().rsplit_once('/').unwrap().0.to_string();
    let hostile = llm::model(&format!("{scope}/gemini?key=x#frag")).expect("a valid id");
    hostile.call("hi").await.expect("call");
    let path = &server.requests()[0].path;
    assert_eq!(path, "/v1beta/models/gemini%3Fkey=x%23frag:generateContent");

    for bad in [
        "google/gemini\n",
        "google/gem\u{7}ini",
        "google/\r\nHost: evil",
    ] {
        let err = llm::model(bad).expect_err("control characters");
        assert!(
            matches!(&err, Error::InvalidModelId { reason, .. } if reason.contains("control")),
            "{bad:?}: {err:?}"
        );
    }
}

/// The retry loop has a total deadline: attempts x timeout can never run past it.
#[tokio::test]
async fn retries_stop_at_the_total_deadline() {
    let wire = Wire::Completions;
    let failures = (0..11)
        .map(|_| {
            let mut r = json_response(500, wire.error_body(500, "slow failure"));
            r.delay_ms = Some(200);
            r
        })
        .collect();
    let (server, model) = serve(wire, failures);
    let err = model
        .with_retry(
            RetryPolicy::default()
                .max_retries(10)
                .initial_backoff(Duration::from_millis(1))
                .max_backoff(Duration::from_millis(1))
                .total_deadline(Duration::from_millis(500)),
        )
        .call("hi")
        .await
        .expect_err("the deadline passes");
    assert!(
        matches!(err, Error::Timeout { after, .. } if after == Duration::from_millis(500)),
        "{err:?}"
    );
    let attempts = server.requests().len();
    assert!(
        (1..11).contains(&attempts),
        "stopped by the deadline, not by the retry count: {attempts} attempts"
    );
}

/// A param outside the provider's documented range is `InvalidParam` before any traffic, unless
/// the call opts out with `unchecked_params()`.
#[tokio::test]
async fn params_outside_their_range_are_refused_before_any_traffic() {
    let wire = Wire::Anthropic;
    let (server, model) = serve(wire, vec![json_response(200, wire.text_body("ok"))]);
    let hot = model.with_params(llm::Params::new().temperature(1.5));
    let err = hot
        .call("hi")
        .await
        .expect_err("Anthropic's temperature is 0-1");
    assert!(
        matches!(&err, Error::InvalidParam { name, .. } if name == "temperature"),
        "{err:?}"
    );
    assert!(server.requests().is_empty(), "nothing was sent");
    let err = hot.stream("hi").await.expect_err("streams too");
    assert!(matches!(err, Error::InvalidParam { .. }), "{err:?}");
    assert!(server.requests().is_empty(), "nothing was sent");
    hot.call("hi").unchecked_params().await.expect("opted out");
    assert_eq!(server.requests()[0].json().unwrap()["temperature"], 1.5);
}

/// Transport settings on a provider registration apply to every model of its scope; a model's
/// own setting wins over the provider's.
#[tokio::test]
async fn provider_settings_apply_and_model_settings_win() {
    let wire = Wire::Completions;
    let mut slow = json_response(200, wire.text_body("late"));
    slow.delay_ms = Some(1_500);
    let server = llm::replay::ReplayServer::start(
        vec![common::answer(slow.clone()), common::answer(slow)],
        llm::replay::Matching::Sequential,
    )
    .expect("replay server");
    llm::Provider::new(wire.provider())
        .scope("provider-settings/")
        .api_key("k")
        .base_url(wire.base_url(&server))
        .timeout(Duration::from_millis(150))
        .retry(RetryPolicy::none())
        .register()
        .expect("register");
    let model = llm::model("provider-settings/m").expect("model");
    let err = model
        .call("hi")
        .await
        .expect_err("the provider's timeout applies");
    assert!(
        matches!(err, Error::Timeout { after, .. } if after == Duration::from_millis(150)),
        "{err:?}"
    );
    let answer = model
        .with_timeout(Duration::from_secs(30))
        .call("hi")
        .await
        .expect("the model's own timeout wins");
    assert_eq!(answer.text(), "late");
}
