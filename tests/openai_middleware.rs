//! `ops::ReqwestMiddleware` in an application's own `reqwest-middleware` client: the switch, the
//! requests it leaves alone, a stream the caller drops, a transport failure, and privacy (no
//! prompt, output or API key in anything recorded without content capture).
//!
//! One test: `instrument_openai()` is process-wide.

use mirascope::llm::replay::{Matching, RecordedResponse, ReplayServer};
use mirascope::ops;
use serde_json::{json, Value};

mod common;

const KEY: &str = "sk-middleware-secret-0001";
const PROMPT: &str = "my confidential prompt";
const OUTPUT: &str = "a confidential answer";

fn client() -> reqwest_middleware::ClientWithMiddleware {
    reqwest_middleware::ClientBuilder::new(reqwest::Client::new())
        .with(ops::ReqwestMiddleware)
        .build()
}

fn completion() -> Value {
    json!({
        "id": "chatcmpl-1", "object": "chat.completion", "model": "gpt-4o-mini",
        "choices": [{"index": 0, "message": {"role": "assistant", "content": OUTPUT}, "finish_reason": "stop"}],
        "usage": {"prompt_tokens": 5, "completion_tokens": 3, "total_tokens": 8}
    })
}

fn chat_body(stream: bool) -> String {
    json!({"model": "gpt-4o-mini", "messages": [{"role": "user", "content": PROMPT}], "stream": stream})
        .to_string()
}

fn server(responses: Vec<RecordedResponse>) -> ReplayServer {
    ReplayServer::start(
        responses.into_iter().map(common::answer).collect(),
        Matching::Sequential,
    )
    .expect("replay server")
}

fn json_answer(body: Value) -> RecordedResponse {
    common::json_response(200, body)
}

async fn post(base: &str, path: &str, body: String) -> reqwest::Response {
    client()
        .post(format!("{}{path}", base.trim_end_matches('/')))
        .header("authorization", format!("Bearer {KEY}"))
        .header("content-type", "application/json")
        .body(body)
        .send()
        .await
        .expect("send")
}

/// Everything a span carries, as text (name, status, attributes, events).
fn everything(span: &opentelemetry_sdk::trace::SpanData) -> String {
    format!(
        "{} {:?} {:?} {:?}",
        span.name, span.status, span.attributes, span.events
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_middleware_in_an_application_client() {
    let (provider, spans) = ops::testing::in_memory_provider();
    let _guard = ops::Configuration::new(provider.clone())
        .install()
        .expect("configure");

    // Off (the default): nothing is recorded, and the answer is the server's.
    assert!(!ops::is_openai_instrumented());
    let s = server(vec![json_answer(completion()), json_answer(completion())]);
    let resp = post(&s.base_url(), "/v1/chat/completions", chat_body(false)).await;
    assert_eq!(resp.json::<Value>().await.unwrap(), completion());
    provider.force_flush().unwrap();
    assert!(spans.get_finished_spans().unwrap().is_empty());

    // On, content capture off: one span, and no prompt, output or key anywhere in it.
    ops::instrument_openai_with(ops::ContentCapture::Disabled);
    assert!(ops::is_openai_instrumented());
    let resp = post(&s.base_url(), "/v1/chat/completions", chat_body(false)).await;
    assert_eq!(resp.url().path(), "/v1/chat/completions", "the URL is kept");
    assert_eq!(resp.json::<Value>().await.unwrap(), completion());
    provider.force_flush().unwrap();
    let done = spans.get_finished_spans().unwrap();
    assert_eq!(done.len(), 1);
    assert_eq!(done[0].name, "chat gpt-4o-mini");
    let text = everything(&done[0]);
    for secret in [PROMPT, OUTPUT, KEY] {
        assert!(!text.contains(secret), "{secret} recorded: {text}");
    }
    spans.reset();

    // Requests that are not Chat Completions calls go through untouched.
    let s = server(vec![json_answer(json!({"data": []}))]);
    let resp = post(
        &s.base_url(),
        "/v1/embeddings",
        json!({"model": "m", "input": "x"}).to_string(),
    )
    .await;
    assert_eq!(resp.json::<Value>().await.unwrap(), json!({"data": []}));
    provider.force_flush().unwrap();
    assert!(spans.get_finished_spans().unwrap().is_empty());

    // A 401 that echoes the key: the key never reaches the span, even with capture on.
    ops::uninstrument_openai();
    ops::instrument_openai_with(ops::ContentCapture::Enabled);
    let s = server(vec![common::json_response(
        401,
        json!({"error": {"message": format!("Incorrect API key provided: {KEY}."), "code": "invalid_api_key"}}),
    )]);
    let resp = post(&s.base_url(), "/v1/chat/completions", chat_body(false)).await;
    assert_eq!(resp.status(), 401);
    let body = resp.text().await.unwrap();
    assert!(
        body.contains(KEY),
        "the caller still gets the server's bytes"
    );
    provider.force_flush().unwrap();
    let done = spans.get_finished_spans().unwrap();
    assert_eq!(done.len(), 1);
    assert!(
        !everything(&done[0]).contains(KEY),
        "{}",
        everything(&done[0])
    );
    assert!(
        matches!(&done[0].status, opentelemetry::trace::Status::Error { description } if description.contains("[REDACTED]"))
    );
    spans.reset();

    // A stream the caller drops after its first bytes: its span ends, once, without an error.
    let sse = (0..50)
        .map(|i| {
            format!(
                "data: {}\n\n",
                json!({"id": "c", "model": "gpt-4o-mini", "choices": [{"index": 0, "delta": {"content": format!("w{i} ")}, "finish_reason": null}]})
            )
        })
        .collect::<String>()
        + "data: [DONE]\n\n";
    let s = server(vec![common::sse_response(sse)]);
    let mut resp = post(&s.base_url(), "/v1/chat/completions", chat_body(true)).await;
    let first = resp.chunk().await.unwrap().expect("a first chunk");
    assert!(!first.is_empty());
    drop(resp);
    provider.force_flush().unwrap();
    let done = spans.get_finished_spans().unwrap();
    assert_eq!(done.len(), 1, "one span for the dropped stream");
    assert_eq!(done[0].status, opentelemetry::trace::Status::Unset);
    spans.reset();

    // Nothing listens on the port: the SDK's `APIConnectionError`, and the caller's error.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let err = client()
        .post(format!("http://127.0.0.1:{port}/v1/chat/completions"))
        .body(chat_body(false))
        .send()
        .await;
    assert!(err.is_err());
    provider.force_flush().unwrap();
    let done = spans.get_finished_spans().unwrap();
    assert_eq!(done.len(), 1);
    let error_type = done[0]
        .attributes
        .iter()
        .find(|kv| kv.key.as_str() == "error.type")
        .map(|kv| kv.value.to_string());
    assert_eq!(error_type.as_deref(), Some("APIConnectionError"));

    spans.reset();

    // A request whose future is dropped before the answer comes (the server waits 5 s): the
    // span ends at once, and the server's late answer changes nothing.
    let mut slow = json_answer(completion());
    slow.delay_ms = Some(5_000);
    let s = server(vec![slow]);
    let base = s.base_url().to_string();
    let pending = post(&base, "/v1/chat/completions", chat_body(false));
    let timed_out = tokio::time::timeout(std::time::Duration::from_millis(200), pending).await;
    assert!(timed_out.is_err(), "the call was cancelled");
    provider.force_flush().unwrap();
    let done = spans.get_finished_spans().unwrap();
    assert_eq!(done.len(), 1, "the cancelled call's span ended");
    spans.reset();

    // Inside a traced function, the call's span is its child.
    #[ops::trace]
    async fn ask(base: String) -> usize {
        post(&base, "/v1/chat/completions", chat_body(false))
            .await
            .bytes()
            .await
            .map(|b| b.len())
            .unwrap_or(0)
    }
    let s = server(vec![json_answer(completion())]);
    assert!(ask(s.base_url().to_string()).await > 0);
    provider.force_flush().unwrap();
    let done = spans.get_finished_spans().unwrap();
    let chat = done
        .iter()
        .find(|s| s.name == "chat gpt-4o-mini")
        .expect("chat span");
    let traced = done.iter().find(|s| s.name == "ask").expect("trace span");
    assert_eq!(chat.parent_span_id, traced.span_context.span_id());
    assert_eq!(chat.span_context.trace_id(), traced.span_context.trace_id());
    spans.reset();

    // A hostile answer: not JSON, then a stream of garbage frames. The caller gets the bytes;
    // the spans end, the first with the SDK's decode error.
    let garbage = RecordedResponse {
        status: 200,
        headers: [("content-type".to_string(), json!("application/json"))]
            .into_iter()
            .collect(),
        json: None,
        sse: Some("{not json".into()),
        delay_ms: None,
    };
    let frames = "data: {\"choices\": [{\"index\": 99999999999, \"delta\": {}}]}\n\ndata: [1,2\n\n:\n\ndata: \u{0}\n\n".to_string();
    let s = server(vec![garbage, common::sse_response(frames.clone())]);
    let resp = post(&s.base_url(), "/v1/chat/completions", chat_body(false)).await;
    assert_eq!(resp.text().await.unwrap(), "{not json");
    let resp = post(&s.base_url(), "/v1/chat/completions", chat_body(true)).await;
    assert_eq!(resp.text().await.unwrap(), frames);
    provider.force_flush().unwrap();
    let done = spans.get_finished_spans().unwrap();
    assert_eq!(done.len(), 2);
    let error_type = |span: &opentelemetry_sdk::trace::SpanData| {
        span.attributes
            .iter()
            .find(|kv| kv.key.as_str() == "error.type")
            .map(|kv| kv.value.to_string())
    };
    assert_eq!(error_type(&done[0]).as_deref(), Some("JSONDecodeError"));
    assert_eq!(error_type(&done[1]), None);

    ops::uninstrument_openai();
    assert!(!ops::is_openai_instrumented());
    spans.reset();

    // Anthropic Messages through the same middleware (`instrument_anthropic`), capture off:
    // no prompt, output or key in the span; the key echoed in a 401 is redacted with capture on.
    let message = json!({
        "id": "msg_1", "type": "message", "role": "assistant", "model": "claude-haiku-4-5",
        "content": [{"type": "text", "text": OUTPUT}], "stop_reason": "end_turn",
        "usage": {"input_tokens": 5, "output_tokens": 3}
    });
    let anthropic_body = json!({"model": "claude-haiku-4-5", "max_tokens": 10,
        "messages": [{"role": "user", "content": PROMPT}]})
    .to_string();
    let send = |base: String, body: String| async move {
        client()
            .post(format!("{}/v1/messages", base.trim_end_matches('/')))
            .header("x-api-key", KEY)
            .header("content-type", "application/json")
            .body(body)
            .send()
            .await
            .expect("send")
    };
    assert!(!ops::is_anthropic_instrumented());
    let s = server(vec![
        json_answer(message.clone()),
        json_answer(message.clone()),
        common::json_response(
            401,
            json!({"type": "error", "error": {"type": "authentication_error", "message": format!("bad key {KEY}")}}),
        ),
    ]);
    let resp = send(s.base_url().to_string(), anthropic_body.clone()).await;
    assert_eq!(
        resp.json::<Value>().await.unwrap(),
        message,
        "off: untouched"
    );
    provider.force_flush().unwrap();
    assert!(spans.get_finished_spans().unwrap().is_empty());
    ops::instrument_anthropic_with(ops::ContentCapture::Disabled);
    assert!(ops::is_anthropic_instrumented());
    let resp = send(s.base_url().to_string(), anthropic_body.clone()).await;
    assert_eq!(resp.json::<Value>().await.unwrap(), message);
    provider.force_flush().unwrap();
    let done = spans.get_finished_spans().unwrap();
    assert_eq!(done.len(), 1);
    assert_eq!(done[0].name, "anthropic.chat");
    let text = everything(&done[0]);
    for secret in [PROMPT, OUTPUT, KEY] {
        assert!(!text.contains(secret), "{secret} recorded: {text}");
    }
    spans.reset();
    ops::uninstrument_anthropic();
    ops::instrument_anthropic_with(ops::ContentCapture::Enabled);
    let resp = send(s.base_url().to_string(), anthropic_body).await;
    assert_eq!(resp.status(), 401);
    drop(resp);
    provider.force_flush().unwrap();
    let done = spans.get_finished_spans().unwrap();
    assert_eq!(done.len(), 1);
    assert!(
        !everything(&done[0]).contains(KEY),
        "{}",
        everything(&done[0])
    );
    ops::uninstrument_anthropic();
    spans.reset();

    // Gemini through the same middleware (`instrument_google_genai`), capture off: no prompt,
    // output or key anywhere in the span or its details event.
    let gemini = json!({
        "candidates": [{"content": {"role": "model", "parts": [{"text": OUTPUT}]}, "finishReason": "STOP"}],
        "usageMetadata": {"promptTokenCount": 5, "candidatesTokenCount": 3}
    });
    let s = server(vec![json_answer(gemini.clone())]);
    ops::instrument_google_genai_with(ops::ContentCapture::Disabled);
    assert!(ops::is_google_genai_instrumented());
    let resp = client()
        .post(format!(
            "{}/v1beta/models/gemini-2.5-flash:generateContent",
            s.base_url().trim_end_matches('/')
        ))
        .header("x-goog-api-key", KEY)
        .header("content-type", "application/json")
        .body(json!({"contents": [{"role": "user", "parts": [{"text": PROMPT}]}]}).to_string())
        .send()
        .await
        .expect("send");
    assert_eq!(resp.json::<Value>().await.unwrap(), gemini);
    provider.force_flush().unwrap();
    let done = spans.get_finished_spans().unwrap();
    assert_eq!(done.len(), 1);
    assert_eq!(done[0].name, "generate_content gemini-2.5-flash");
    let text = everything(&done[0]);
    for secret in [PROMPT, OUTPUT, KEY] {
        assert!(!text.contains(secret), "{secret} recorded: {text}");
    }
    ops::uninstrument_google_genai();
}
