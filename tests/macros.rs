//! The attribute macros through the real OpenTelemetry stack and the replay server: span names,
//! kinds, parents, every `mirascope.*` attribute, errors, panics, streams dropped early, tools,
//! versions, and concurrency (parents never cross tasks).

mod common;

use common::{attr, json_response, sse_response, Wire};
use futures_util::StreamExt;
use mirascope::llm::replay::{Exchange, Matching, RecordedRequest, ReplayServer};
use mirascope::{llm, ops};
use opentelemetry::trace::{SpanKind, Status};
use serde_json::json;

type SpanData = ops::testing::SpanData;

thread_local! {
    /// The capture of the test running on this thread.
    static CAPTURE: std::cell::RefCell<Option<ops::testing::Capture>> =
        const { std::cell::RefCell::new(None) };
}

/// This test's own subscriber and exporter (`ops::testing::Capture`), the thread's default until
/// the guard drops: no test sees another's spans, whatever the order or parallelism.
fn capture() -> tracing::dispatcher::DefaultGuard {
    let capture = ops::testing::Capture::new();
    let guard = capture.enter();
    CAPTURE.with(|c| *c.borrow_mut() = Some(capture));
    guard
}

fn this_capture() -> ops::testing::Capture {
    CAPTURE.with(|c| c.borrow().clone().expect("the test calls capture() first"))
}

fn spans_named(name: &str) -> Vec<SpanData> {
    this_capture().spans_named(name)
}

fn one(name: &str) -> SpanData {
    let spans = spans_named(name);
    assert_eq!(spans.len(), 1, "exactly one span {name}");
    spans.into_iter().next().unwrap()
}

/// The span named `name` whose id `ops::traced` reported.
fn span_with_id(name: &str, span_id: Option<String>) -> SpanData {
    let span_id = span_id.expect("an enabled span has ids");
    spans_named(name)
        .into_iter()
        .find(|s| s.span_context.span_id().to_string() == span_id)
        .expect("the span")
}

fn array(span: &SpanData, key: &str) -> Option<Vec<String>> {
    span.attributes
        .iter()
        .find(|kv| kv.key.as_str() == key)
        .and_then(|kv| match &kv.value {
            opentelemetry::Value::Array(opentelemetry::Array::String(items)) => {
                Some(items.iter().map(|s| s.to_string()).collect())
            }
            _ => None,
        })
}

fn int(span: &SpanData, key: &str) -> Option<i64> {
    span.attributes
        .iter()
        .find(|kv| kv.key.as_str() == key)
        .and_then(|kv| match kv.value {
            opentelemetry::Value::I64(i) => Some(i),
            _ => None,
        })
}

#[ops::trace(tags = ["math", "demo", "math"], metadata = {"owner": "team", "user_id": "u-1"})]
fn add_numbers(a: i64, b: i64) -> i64 {
    a + b
}

#[test]
fn plain_function_span_carries_mirascope_attributes() {
    let _capture = capture();
    assert_eq!(add_numbers(40, 2), 42);
    let s = one("add_numbers");
    assert_eq!(s.span_kind, SpanKind::Internal);
    assert_eq!(s.instrumentation_scope.name(), "mirascope.ops");
    assert_eq!(s.status, Status::Unset);
    assert_eq!(attr(&s, "mirascope.type").as_deref(), Some("trace"));
    assert_eq!(
        attr(&s, "mirascope.fn.qualname").as_deref(),
        Some("add_numbers")
    );
    assert_eq!(
        attr(&s, "mirascope.fn.module").as_deref(),
        Some(module_path!())
    );
    assert_eq!(attr(&s, "mirascope.fn.is_async").as_deref(), Some("false"));
    assert_eq!(
        attr(&s, "mirascope.trace.arg_types").as_deref(),
        Some(r#"{"a":"i64","b":"i64"}"#)
    );
    assert_eq!(
        attr(&s, "mirascope.trace.arg_values").as_deref(),
        Some(r#"{"a":40,"b":2}"#)
    );
    assert_eq!(
        int(&s, "mirascope.trace.output"),
        Some(42),
        "numbers stay numbers"
    );
    assert_eq!(
        array(&s, "mirascope.trace.tags"),
        Some(vec!["demo".into(), "math".into()])
    );
    assert_eq!(array(&s, "tags"), Some(vec!["demo".into(), "math".into()]));
    assert_eq!(
        attr(&s, "mirascope.trace.metadata").as_deref(),
        Some(r#"{"owner":"team","user_id":"u-1"}"#)
    );
    assert_eq!(attr(&s, "user.id").as_deref(), Some("u-1"));
    assert_eq!(attr(&s, "metadata.owner").as_deref(), Some("team"));
}

#[derive(Debug)]
struct Opaque(#[allow(dead_code)] u8);
struct NoDebug;

#[ops::trace(skip(secret))]
fn describe(
    person: &serde_json::Value,
    opaque: Opaque,
    _no_debug: NoDebug,
    secret: &str,
) -> Vec<String> {
    vec![
        person["name"].as_str().unwrap_or_default().to_string(),
        secret.len().to_string(),
    ]
}

#[ops::trace(skip_all)]
fn login(user: &str, password: &str) -> bool {
    !user.is_empty() && !password.is_empty()
}

#[test]
fn skip_all_records_no_argument() {
    let _capture = capture();
    assert!(login("kai", "hunter2"));
    let s = one("login");
    assert_eq!(
        attr(&s, "mirascope.trace.arg_values").as_deref(),
        Some("{}")
    );
    assert_eq!(attr(&s, "mirascope.trace.arg_types").as_deref(), Some("{}"));
    let everything = format!("{:?}", s.attributes);
    assert!(!everything.contains("hunter2") && !everything.contains("kai"));
}

#[test]
fn argument_values_use_serde_then_debug_then_the_type_name() {
    let _capture = capture();
    describe(&json!({"name": "Kai"}), Opaque(7), NoDebug, "hunter2");
    let s = one("describe");
    let values: serde_json::Value =
        serde_json::from_str(&attr(&s, "mirascope.trace.arg_values").unwrap()).unwrap();
    assert_eq!(values["person"], json!({"name": "Kai"}));
    assert_eq!(values["opaque"], json!("Opaque(7)"));
    assert_eq!(values["_no_debug"], json!("macros::NoDebug"));
    assert!(values.get("secret").is_none(), "skipped");
    assert!(!attr(&s, "mirascope.trace.arg_types")
        .unwrap()
        .contains("secret"));
    assert_eq!(
        attr(&s, "mirascope.trace.output").as_deref(),
        Some(r#"["Kai","7"]"#)
    );
}

struct Account {
    balance: i64,
}

impl Account {
    #[ops::trace]
    fn deposit(&mut self, amount: i64) -> Result<i64, String> {
        if amount <= 0 {
            return Err(format!("invalid amount {amount}"));
        }
        self.balance += amount;
        Ok(self.balance)
    }
}

#[test]
fn methods_and_errors() {
    let _capture = capture();
    let mut acc = Account { balance: 1 };
    assert_eq!(acc.deposit(2), Ok(3));
    assert!(acc.deposit(-5).is_err());
    let spans = spans_named("Account::deposit");
    assert_eq!(spans.len(), 2);
    let ok = spans
        .iter()
        .find(|s| s.status == Status::Unset)
        .expect("the Ok call");
    assert_eq!(int(ok, "mirascope.trace.output"), Some(3));
    let err = spans
        .iter()
        .find(|s| matches!(s.status, Status::Error { .. }))
        .expect("the Err call");
    assert_eq!(
        attr(err, "mirascope.fn.qualname").as_deref(),
        Some("Account::deposit")
    );
    assert_eq!(attr(err, "error.type").as_deref(), Some("String"));
    assert_eq!(
        err.events.iter().filter(|e| e.name == "exception").count(),
        1
    );
    assert_eq!(attr(err, "mirascope.trace.output"), None);
}

#[ops::trace]
fn explode(n: u8) -> u8 {
    if n > 0 {
        panic!("boom {n}");
    }
    n
}

#[test]
fn panics_end_the_span_with_error_and_keep_unwinding() {
    let _capture = capture();
    let caught = std::panic::catch_unwind(|| explode(3));
    assert!(caught.is_err(), "the panic propagates");
    let s = one("explode");
    assert!(matches!(s.status, Status::Error { .. }));
    let ev = s
        .events
        .iter()
        .find(|e| e.name == "exception")
        .expect("exception event");
    assert!(ev
        .attributes
        .iter()
        .any(|kv| kv.key.as_str() == "exception.message" && kv.value.as_str() == "boom 3"));
}

#[ops::trace]
async fn inner_step(i: u32) -> u32 {
    tokio::task::yield_now().await;
    i * 2
}

#[ops::trace]
async fn outer_step(i: u32) -> u32 {
    tokio::task::yield_now().await;
    inner_step(i).await + 1
}

#[test]
fn nested_traces_nest_across_await_on_a_multi_thread_runtime() {
    let _capture = capture();
    let dispatch = this_capture().dispatch().clone();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(4)
        .enable_all()
        // The workers report to this test's capture for as long as they live.
        .on_thread_start(move || std::mem::forget(tracing::dispatcher::set_default(&dispatch)))
        .build()
        .unwrap();
    rt.block_on(async {
        let handles: Vec<_> = (0..50u32).map(|i| tokio::spawn(outer_step(i))).collect();
        for (i, h) in handles.into_iter().enumerate() {
            assert_eq!(h.await.unwrap(), i as u32 * 2 + 1);
        }
    });
    let outers = spans_named("outer_step");
    let inners = spans_named("inner_step");
    assert_eq!((outers.len(), inners.len()), (50, 50));
    for inner in &inners {
        let i: serde_json::Value =
            serde_json::from_str(&attr(inner, "mirascope.trace.arg_values").unwrap()).unwrap();
        let parent = outers
            .iter()
            .find(|o| o.span_context.span_id() == inner.parent_span_id)
            .expect("each inner span has an outer parent");
        let p: serde_json::Value =
            serde_json::from_str(&attr(parent, "mirascope.trace.arg_values").unwrap()).unwrap();
        assert_eq!(i["i"], p["i"], "parents never cross tasks");
        assert_eq!(
            attr(inner, "mirascope.fn.is_async").as_deref(),
            Some("true")
        );
    }
}

#[test]
fn traced_returns_the_span_ids() {
    let _capture = capture();
    let t = ops::traced(|| add_numbers(1, 1));
    assert_eq!(t.result, 2);
    let ids: Vec<String> = spans_named("add_numbers")
        .iter()
        .map(|s| s.span_context.span_id().to_string())
        .collect();
    assert!(
        ids.contains(t.span_id.as_ref().expect("span id")),
        "{ids:?} {t:?}"
    );
    assert_eq!(t.trace_id.as_ref().map(String::len), Some(32));
}

/// Recommends books based on genre
#[ops::version(name = "book_recommender", tags = ["production", "ml"], metadata = {"owner": "team-ml", "ticket": "ENG-1234"})]
fn recommend_book(genre: &str) -> String {
    format!("Recommend a {genre} book")
}

#[test]
fn version_attributes() {
    let _capture = capture();
    recommend_book("fantasy");
    let s = one("recommend_book");
    let hash = attr(&s, "mirascope.version.hash").unwrap();
    // SHA-256 of the canonical text (fixed spacing, no comments, no attributes, no crate path):
    // `fn recommend_book (genre : & str) -> String {format ! ("Recommend a {genre} book")}`.
    // The same value through the member crate: mirascope-ops/tests/version_hash.rs.
    assert_eq!(
        hash,
        "d0ed340a77bc8fe4394b90028d801845e5d780759be71c97423b2a680946af9a"
    );
    assert_eq!(
        attr(&s, "mirascope.version.signature_hash").as_deref(),
        Some("0a4977647a121b4d22e93969fe97156ea0bf62d7661bacc2782c9b09a7eb2938")
    );
    assert_ne!(attr(&s, "mirascope.version.signature_hash"), Some(hash));
    assert_eq!(
        attr(&s, "mirascope.version.description").as_deref(),
        Some("Recommends books based on genre")
    );
    assert_eq!(
        attr(&s, "mirascope.version.version").as_deref(),
        Some("1.0")
    );
    assert_eq!(
        attr(&s, "mirascope.version.name").as_deref(),
        Some("book_recommender")
    );
    assert_eq!(
        array(&s, "mirascope.version.tags"),
        Some(vec!["ml".into(), "production".into()])
    );
    assert_eq!(
        array(&s, "mirascope.trace.tags"),
        Some(vec!["ml".into(), "production".into()])
    );
    assert_eq!(
        attr(&s, "mirascope.version.meta.owner").as_deref(),
        Some("team-ml")
    );
    assert_eq!(
        attr(&s, "mirascope.version.meta.ticket").as_deref(),
        Some("ENG-1234")
    );
    assert_eq!(
        attr(&s, "mirascope.trace.metadata").as_deref(),
        Some(r#"{"owner":"team-ml","ticket":"ENG-1234"}"#)
    );
    assert_eq!(
        attr(&s, "mirascope.trace.output").as_deref(),
        Some("Recommend a fantasy book")
    );
}

#[ops::trace(tags = ["t1"])]
#[ops::version(tags = ["v1"])]
fn trace_over_version(x: i64) -> i64 {
    x + 1
}

#[ops::version(tags = ["v1"])]
#[ops::trace(tags = ["t1"])]
fn version_over_trace(x: i64) -> i64 {
    x + 1
}

/// `#[ops::trace]` and `#[ops::version]` stacked either way round make one span with the
/// version's attributes and both attributes' tags (README, Differences).
#[test]
fn trace_and_version_stack_into_one_span() {
    let _capture = capture();
    assert_eq!(trace_over_version(1), 2);
    assert_eq!(version_over_trace(1), 2);
    for name in ["trace_over_version", "version_over_trace"] {
        let s = one(name);
        assert_eq!(
            s.parent_span_id,
            opentelemetry::trace::SpanId::INVALID,
            "{name}"
        );
        assert_eq!(
            array(&s, "mirascope.trace.tags"),
            Some(vec!["t1".into(), "v1".into()]),
            "{name}"
        );
        assert!(attr(&s, "mirascope.version.hash").is_some(), "{name}");
    }
}

// --- #[ops::trace] over #[llm::call], against the recorded exchange of the
// trace_llm_call_tags_metadata conformance case ---

fn recorded_case(name: &str) -> serde_json::Value {
    let path = format!(
        "{}/tests/fixtures/conformance/{name}.json",
        env!("CARGO_MANIFEST_DIR")
    );
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

#[ops::trace(tags = ["production", "recommendations"], metadata = {"user_id": "u-42", "team": "reco"})]
#[llm::call("tracedcall/gpt-4o-mini")]
fn recommend(genre: &str) -> String {
    format!("Recommend a {genre} book.")
}

#[tokio::test]
async fn traced_llm_call_matches_mirascope() {
    let _capture = capture();
    let case = recorded_case("trace_llm_call_tags_metadata");
    let exchanges: Vec<Exchange> = serde_json::from_value(case["exchanges"].clone()).unwrap();
    let server = ReplayServer::start(exchanges, Matching::ByRequest).unwrap();
    llm::Provider::new("openai:responses")
        .scope("tracedcall/")
        .api_key("k")
        .base_url(format!("{}/v1", server.base_url()))
        .register()
        .unwrap();

    // Python's `.wrapped()`: the response with its trace span's ids.
    use mirascope::ops::WrappedCall;
    let traced = recommend("romance").wrapped().await;
    let response = traced.result.unwrap();
    assert!(response.text().contains("The Hating Game"));

    let expected_trace = &case["expected_spans"][1]["attributes"];
    let trace = one("recommend.call");
    assert_eq!(
        traced.span_id,
        Some(trace.span_context.span_id().to_string())
    );
    assert_eq!(
        traced.trace_id,
        Some(trace.span_context.trace_id().to_string())
    );
    let chat = one("chat tracedcall/gpt-4o-mini");
    assert_eq!(
        chat.parent_span_id,
        trace.span_context.span_id(),
        "the chat span is the trace span's child"
    );
    assert_eq!(trace.span_kind, SpanKind::Internal);
    assert_eq!(trace.instrumentation_scope.name(), "mirascope.ops");
    for key in [
        "mirascope.type",
        "mirascope.fn.qualname",
        "mirascope.trace.arg_values",
        "mirascope.trace.metadata",
        "user.id",
        "metadata.team",
        "mirascope.response.messages",
        "mirascope.response.content",
        "mirascope.response.usage",
        "mirascope.trace.output",
    ] {
        assert_eq!(
            attr(&trace, key).as_deref(),
            expected_trace[key].as_str(),
            "{key}"
        );
    }
    // Python registered `openai` on `openai/`; this test registers `openai:responses` on a
    // scope of its own (so that no other test's model reaches its server), and 2.8.2 records a
    // registered `OpenAIResponsesProvider` under its own id.
    assert_eq!(expected_trace["mirascope.response.provider_id"], "openai");
    assert_eq!(
        attr(&trace, "mirascope.response.provider_id").as_deref(),
        Some("openai:responses")
    );
    assert_eq!(
        attr(&trace, "mirascope.response.model_id").as_deref(),
        Some("tracedcall/gpt-4o-mini")
    );
    assert_eq!(
        attr(&trace, "mirascope.trace.arg_types").as_deref(),
        Some(r#"{"genre":"&str"}"#)
    );
    assert_eq!(
        array(&trace, "mirascope.trace.tags"),
        Some(vec!["production".into(), "recommendations".into()])
    );
    assert_eq!(
        attr(&chat, "mirascope.trace.tags"),
        None,
        "the chat span carries no trace attributes"
    );
}

#[llm::call("tracedstream/gpt-4o-mini")]
#[ops::trace]
fn poem(topic: &str) -> String {
    format!("A poem about {topic}")
}

#[tokio::test]
async fn traced_stream_span_outlives_its_child() {
    let _capture = capture();
    let wire = Wire::Responses;
    let responses = vec![
        sse_response(wire.sse_body(&["Roses", " are red"], false)),
        sse_response(wire.sse_body(&["Violets", " are blue"], false)),
    ];
    let server = ReplayServer::start(
        responses.into_iter().map(common::answer).collect(),
        Matching::Sequential,
    )
    .unwrap();
    llm::Provider::new("openai:responses")
        .scope("tracedstream/")
        .api_key("k")
        .base_url(format!("{}/v1", server.base_url()))
        .register()
        .unwrap();

    let stream = poem("roses").stream().await.unwrap();
    assert!(
        spans_named("poem.stream").is_empty(),
        "the trace span stays open while the stream is unread"
    );
    let response = stream.finish().await.unwrap();
    assert_eq!(response.text(), "Roses are red");
    let trace = one("poem.stream");
    let chat = spans_named("chat tracedstream/gpt-4o-mini").pop().unwrap();
    assert_eq!(chat.parent_span_id, trace.span_context.span_id());
    assert!(
        trace.end_time >= chat.end_time,
        "a child never outlives its parent"
    );
    assert_eq!(
        attr(&trace, "mirascope.trace.output").as_deref(),
        Some("Roses are red")
    );

    // Dropped after the first chunk: both spans end.
    let mut stream = poem("violets").stream().await.unwrap();
    let _ = stream.next().await;
    drop(stream);
    assert_eq!(spans_named("poem.stream").len(), 2);
    assert_eq!(spans_named("chat tracedstream/gpt-4o-mini").len(), 2);
}

/// An `async fn` prompt function whose arguments borrow: its prompt is built when the call runs.
#[llm::call("asyncprompt/gpt-4o-mini")]
async fn async_poem(topic: &str, style: &String, lines: impl std::fmt::Display + Send) -> String {
    tokio::task::yield_now().await;
    format!("A {style} poem of {lines} lines about {topic}")
}

/// The same, traced: the same type, the same methods.
#[ops::trace]
#[llm::call("asyncprompt/gpt-4o-mini")]
async fn traced_async_poem<'t, T: std::fmt::Display + Sync>(topic: &'t str, lines: &T) -> String {
    format!("A poem of {lines} lines about {topic}")
}

#[tokio::test]
async fn async_prompt_functions_are_awaited_once() {
    let _capture = capture();
    let wire = Wire::Responses;
    let answers = [
        ["Roses", " are red"],
        ["Violets", " are blue"],
        ["Sugar", " is sweet"],
    ];
    let server = ReplayServer::start(
        answers
            .iter()
            .map(|a| common::answer(sse_response(wire.sse_body(a, false))))
            .chain([common::answer(json_response(
                200,
                wire.text_body("And so are you"),
            ))])
            .collect(),
        Matching::Sequential,
    )
    .unwrap();
    llm::Provider::new("openai:responses")
        .scope("asyncprompt/")
        .api_key("k")
        .base_url(format!("{}/v1", server.base_url()))
        .register()
        .unwrap();

    let style = String::from("short");
    let topic = String::from("roses");
    // One `.await` gives the stream, then the response; the arguments are borrowed.
    let call: llm::LazyCall<'_> = async_poem(&topic, &style, 4);
    assert!(call.prompt().is_none(), "built when the call runs");
    let mut stream = call.stream().await.unwrap();
    let mut text = String::new();
    while let Some(chunk) = stream.next().await {
        if let llm::StreamChunk::TextDelta(d) = chunk.unwrap() {
            text.push_str(&d);
        }
    }
    assert_eq!(text, "Roses are red");
    let sent = String::from_utf8_lossy(&server.requests()[0].body).into_owned();
    assert!(
        sent.contains("A short poem of 4 lines about roses"),
        "{sent}"
    );

    // Traced: the same methods; the stream is the same type and keeps its trace span open.
    // It ends when the stream does, after a pause between chunks.
    let pause = std::time::Duration::from_millis(30);
    let lasted = |span: &SpanData| span.end_time.duration_since(span.start_time).unwrap();
    let mut stream: llm::StreamResponse = traced_async_poem("violets", &3).stream().await.unwrap();
    assert!(spans_named("traced_async_poem.stream").is_empty());
    stream.next().await.unwrap().unwrap();
    tokio::time::sleep(pause).await;
    assert_eq!(stream.finish().await.unwrap().text(), "Violets are blue");
    let trace = one("traced_async_poem.stream");
    assert_eq!(
        attr(&trace, "mirascope.trace.output").as_deref(),
        Some("Violets are blue")
    );
    assert!(lasted(&trace) >= pause, "{:?}", lasted(&trace));
    // Dropped before its end: the trace span ends with it.
    let mut stream = traced_async_poem("sugar", &2).stream().await.unwrap();
    let _ = stream.next().await;
    tokio::time::sleep(pause).await;
    drop(stream);
    let traces = spans_named("traced_async_poem.stream");
    assert_eq!(traces.len(), 2);
    assert!(traces.iter().all(|t| lasted(t) >= pause));
    let response = traced_async_poem("you", &1).await.unwrap();
    assert_eq!(response.text(), "And so are you");
    let trace = one("traced_async_poem.call");
    assert_eq!(
        attr(&trace, "mirascope.trace.arg_values").as_deref(),
        // `T` is known only as `Display` inside the generic function: recorded by type name.
        Some(r#"{"topic":"you","lines":"&i32"}"#)
    );
}

/// The OpenTelemetry span current (`opentelemetry::Context::current()`) where it is called.
fn current_otel_span_id() -> String {
    use opentelemetry::trace::TraceContextExt;
    opentelemetry::Context::current()
        .span()
        .span_context()
        .span_id()
        .to_string()
}

/// Reports the OpenTelemetry span current while it runs.
#[llm::tool]
async fn otel_span_in_tool(label: String) -> String {
    tokio::task::yield_now().await;
    // The application's own span, exported by another of the layer's tracers: its parent
    // crosses over through the current OpenTelemetry context.
    tracing::info_span!("inside_tool").in_scope(|| {});
    format!("{label}:{}", current_otel_span_id())
}

#[ops::trace]
async fn otel_span_in_trace() -> String {
    tokio::task::yield_now().await;
    current_otel_span_id()
}

/// OpenTelemetry-native code sees the span it runs in: a tool its `execute_tool` span (across
/// an await, and the application's spans inside take it as parent), an `#[ops::trace]`
/// function its trace span.
#[tokio::test]
async fn opentelemetry_context_is_current_where_user_code_runs() {
    let _capture = capture();
    let out = llm::Tool::of::<otel_span_in_tool>()
        .execute("call_1", r#"{"label":"x"}"#)
        .await
        .unwrap();
    let exec = one("execute_tool otel_span_in_tool");
    let llm::Part::ToolOutput { result, .. } = out else {
        panic!("a tool output: {out:?}")
    };
    assert_eq!(result, json!(format!("x:{}", exec.span_context.span_id())));
    assert_eq!(current_otel_span_id(), "0000000000000000", "restored after");
    assert_eq!(
        one("inside_tool").parent_span_id,
        exec.span_context.span_id()
    );

    let inside = otel_span_in_trace().await;
    let trace = one("otel_span_in_trace");
    assert_eq!(inside, trace.span_context.span_id().to_string());
}

/// Get the current weather for a location.
#[llm::tool]
fn get_weather(location: String) -> String {
    format!("Weather in {location}: 72°F, sunny")
}

#[llm::call("tooled/gpt-4o-mini", tools = [get_weather])]
fn weather_question(city: &str) -> String {
    format!("What's the weather in {city}?")
}

#[tokio::test]
async fn tools_execute_with_spans_and_resume() {
    let _capture = capture();
    let case = recorded_case("openai_responses_resume");
    let mut exchanges: Vec<Exchange> = serde_json::from_value(case["exchanges"].clone()).unwrap();
    for e in &mut exchanges {
        e.request = RecordedRequest {
            method: "POST".into(),
            path: String::new(),
            json: None,
        };
    }
    let server = ReplayServer::start(exchanges, Matching::Sequential).unwrap();
    llm::Provider::new("openai:responses")
        .scope("tooled/")
        .api_key("k")
        .base_url(format!("{}/v1", server.base_url()))
        .register()
        .unwrap();

    let first = weather_question("Tokyo").await.unwrap();
    assert_eq!(first.tool_calls().len(), 1);
    let outputs = first.execute_tools().await.unwrap();
    assert_eq!(
        outputs,
        vec![llm::Part::tool_output(
            "call_CeSmJnilYrx5gzGCtEYJkUwC",
            "get_weather",
            json!("Weather in Tokyo: 72°F, sunny")
        )]
    );
    let exec = one("execute_tool get_weather");
    assert_eq!(exec.span_kind, SpanKind::Internal);
    assert_eq!(
        attr(&exec, "gen_ai.operation.name").as_deref(),
        Some("execute_tool")
    );
    assert_eq!(
        attr(&exec, "gen_ai.tool.call.id").as_deref(),
        Some("call_CeSmJnilYrx5gzGCtEYJkUwC")
    );
    assert_eq!(
        attr(&exec, "gen_ai.tool.call.arguments").as_deref(),
        Some(r#"{"location":"Tokyo"}"#)
    );
    assert_eq!(
        attr(&exec, "gen_ai.tool.call.result").as_deref(),
        Some(r#""Weather in Tokyo: 72°F, sunny""#)
    );

    let second = first.resume(outputs).await.unwrap();
    assert_eq!(
        second.text(),
        "The current weather in Tokyo is 72°F and sunny."
    );
    // The tool's schema went on the wire, strict.
    let sent = server.requests()[0].json().unwrap();
    assert_eq!(sent["tools"][0]["name"], "get_weather");
    assert_eq!(sent["tools"][0]["strict"], true);
    assert_eq!(
        sent["tools"][0]["parameters"]["required"],
        json!(["location"])
    );
}

/// Counts how often a [`Probe`] is serialized: the only way `#[ops::trace]` records it.
static PROBES_SERIALIZED: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);

/// An argument and output whose recording can be counted.
#[derive(Debug)]
struct Probe;

impl serde::Serialize for Probe {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        PROBES_SERIALIZED.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        serializer.serialize_str("probe")
    }
}

#[ops::trace]
fn lazy_probe(first: Probe, second: &Probe) -> Probe {
    let _ = (first, second);
    Probe
}

fn probes() -> usize {
    PROBES_SERIALIZED.load(std::sync::atomic::Ordering::SeqCst)
}

#[test]
fn trace_records_nothing_for_a_disabled_span() {
    let _capture = capture();
    // A disabled span (no subscriber on this thread) serializes neither argument nor output.
    let before = probes();
    let out =
        tracing::subscriber::with_default(tracing::subscriber::NoSubscriber::default(), || {
            lazy_probe(Probe, &Probe)
        });
    let _ = out;
    assert_eq!(
        probes(),
        before,
        "nothing serialized while the span is disabled"
    );
    let traced = ops::traced(|| {
        tracing::subscriber::with_default(tracing::subscriber::NoSubscriber::default(), || {
            lazy_probe(Probe, &Probe)
        })
    });
    assert_eq!((traced.span_id, traced.trace_id), (None, None));

    // Enabled (the binary's subscriber), with content capture on: both arguments and the output,
    // each once.
    assert!(llm::genai::capture_content());
    let before = probes();
    let traced = ops::traced(|| lazy_probe(Probe, &Probe));
    assert_eq!(
        probes() - before,
        3,
        "two arguments and the output, once each"
    );
    let span = span_with_id("lazy_probe", traced.span_id);
    assert_eq!(
        attr(&span, "mirascope.trace.arg_values").as_deref(),
        Some(r#"{"first":"probe","second":"probe"}"#)
    );
    assert_eq!(
        attr(&span, "mirascope.trace.output").as_deref(),
        Some("probe")
    );
    assert_eq!(
        attr(&span, "mirascope.fn.qualname").as_deref(),
        Some("lazy_probe")
    );
}

/// A secret-holding type that would serialize its content if asked: recognised by its name.
#[derive(Debug, serde::Serialize)]
struct Secret<T>(T);

#[ops::trace]
fn sign_in(
    user: &str,
    #[sensitive] password: &str,
    #[ops::sensitive] pin: u32,
    token: Option<&Secret<String>>,
) -> bool {
    !user.is_empty() && !password.is_empty() && pin > 0 && token.is_some()
}

#[test]
fn sensitive_parameters_are_never_recorded() {
    let _capture = capture();
    let token = Secret("tok-123".to_string());
    let traced = ops::traced(|| sign_in("kai", "hunter2", 4242, Some(&token)));
    assert!(traced.result);
    let span = span_with_id("sign_in", traced.span_id);
    assert_eq!(
        attr(&span, "mirascope.trace.arg_values").as_deref(),
        Some(r#"{"user":"kai"}"#)
    );
    assert_eq!(
        attr(&span, "mirascope.trace.arg_types").as_deref(),
        Some(r#"{"user":"&str"}"#)
    );
    let everything = format!("{:?}", span.attributes);
    for secret in ["hunter2", "4242", "tok-123"] {
        assert!(
            !everything.contains(secret),
            "{secret} leaked: {everything}"
        );
    }
}

/// A traced function that makes a call and returns `llm::Result<T>` for a `T` of its own: a
/// failed call keeps its Mirascope class on the trace span (`error.type`, `exception.type`), as
/// the exception Python propagates through `@ops.trace` does.
#[ops::trace]
async fn summarize(model: &llm::Model, text: &str) -> llm::Result<usize> {
    let response = model.call(text).await?;
    Ok(response.text().len())
}

#[tokio::test]
async fn a_traced_function_keeps_the_class_of_a_call_error_it_returns() {
    let _capture = capture();
    let wire = Wire::Completions;
    let (_server, model) = common::serve(
        wire,
        vec![json_response(
            401,
            wire.error_body(401, "Incorrect API key provided"),
        )],
    );
    let err = summarize(&model, "hello").await.expect_err("401");
    assert!(matches!(err, llm::Error::Api(_)), "{err:?}");
    let span = one("summarize");
    assert!(
        matches!(span.status, Status::Error { .. }),
        "{:?}",
        span.status
    );
    assert_eq!(
        attr(&span, "error.type").as_deref(),
        Some("AuthenticationError")
    );
    let exception = span
        .events
        .iter()
        .find(|e| e.name == "exception")
        .expect("an exception event");
    assert!(
        exception
            .attributes
            .iter()
            .any(|kv| kv.key.as_str() == "exception.type"
                && kv.value.as_str() == "mirascope_llm::AuthenticationError"),
        "{exception:?}"
    );
}
