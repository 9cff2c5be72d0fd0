//! The CPU a whole call costs, with instrumentation on, off and with no subscriber at all,
//! against the same request made with bare `reqwest`, bare and inside a hand-written
//! tracing-opentelemetry span with the same GenAI attributes.
//!
//! Method: one process; a loopback replay server on its own thread answers every request with
//! the same recorded body. Each row is measured in batches of `CALLS` calls, and the batches of
//! all rows are interleaved round by round (`ROUNDS` rounds), so drift and background load hit
//! every row alike. For each batch we read the CPU time of the whole process (`getrusage`,
//! user + system: the caller, mirascope's HTTP runtime threads, the exporter and the replay
//! server), of the process without the replay servers' threads (`client`: each thread's CPU
//! clock, as a harness with the server in another process measures), and of the calling thread
//! (`CLOCK_THREAD_CPUTIME_ID`); the table gives the median over rounds of CPU per call. The server's share is the same in every row, so differences
//! between rows are what the client side pays.
//!
//! Rows:
//! - `chat/{none,off,on}`: `model.call_blocking(..)`, OpenAI Responses, a short chat (system +
//!   user message, one text part). `none`: no subscriber on the calling thread; `off`:
//!   `ops::configure` done, `ops::uninstrument_llm()`; `on`: instrumentation on, content capture
//!   on, `traceparent` injected, spans through a batch processor into a discarding exporter.
//! - `stream100/{none,off,on}`: `model.stream_blocking(..)` read to its end: 100 text deltas.
//! - `trace_call/{none,off,on}`: an `#[ops::trace]` over an `#[llm::call]` function: the trace
//!   span and the chat span (`off`: the GenAI switch off, the trace span on).
//! - `tool_resume/{none,off,on}`: an `#[llm::call]` with a tool, the tool executed
//!   (`execute_tools`, its `execute_tool` span) and the call resumed with its output: two model
//!   calls, replaying the recorded `openai_responses_resume` conformance exchanges.
//! - `chat/on-no-content`, `chat/on-no-traceparent`, `chat/on-neither`: `chat/on` with content
//!   capture off, `traceparent` injection off, or both: what each part costs.
//! - `chat/on_plain_layer` (only with `CALL_CPU_PLAIN=1`, see below): `chat/on` under a plain `registry().with(tracing_opentelemetry::layer())`
//!   subscriber (scoped to the calling thread, its own batch processor and discarding exporter)
//!   instead of mirascope's layer: what our layer stack adds over tracing-opentelemetry alone.
//! - `chat_completions/{none,on}`: `chat/*` over OpenAI Chat Completions;
//!   `chat_completions/on-no-content`, `chat_completions/on-no-traceparent` and
//!   `chat_completions/on-neither`: with content capture off, `traceparent` injection off, or
//!   both.
//! - `genai/{none,on}`: the same chat over Chat Completions with the peer crate `genai` 0.7.2 and
//!   its `otel` feature (a `tracing` span with the GenAI attributes), exported by the same layer
//!   and processor. Content capture for it: `OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT`.
//!   The bench ends by printing what each kind of span carried (attributes, bytes). With the
//!   variable set, genai builds its content JSON even when no subscriber records its span (and
//!   reads the variable once per process), so `genai/none` then includes part of genai's work:
//!   its true baseline is `genai/none` in a process without the variable (BENCHMARKS.md, "round
//!   three").
//! - `openai_mw/{none,off,on}`: the same Chat Completions request sent by a `reqwest-middleware`
//!   client with `ops::ReqwestMiddleware` (`instrument_openai`: `off` switched off, `on` on with
//!   content capture; `none`: no subscriber), body read and parsed as JSON.
//! - `reqwest/bare`: the same request with `reqwest` (async client on a current-thread runtime
//!   in the calling thread), body parsed as JSON.
//! - `reqwest/hand_span`: the same inside a hand-written `tracing` span with the attributes our
//!   chat span carries (all 17: the GenAI ones, messages and instructions as JSON,
//!   `finish_reasons` as a string array through the OpenTelemetry API, and Mirascope's
//!   `mirascope.response.{messages,content,usage}`), with `traceparent` injected by the global
//!   propagator, through the same layer and exporter.
//!
//! - `reqwest/hand_span_plain` (only with `CALL_CPU_PLAIN=1`): the hand-written span under that
//!   plain subscriber. A second live subscriber changes what every other row pays (tracing's
//!   callsite interest becomes "sometimes"), so those rows are a run of their own.
//! - `reqwest/otel_span`: the same span with the OpenTelemetry SDK directly (span builder,
//!   attributes, propagator, `end`), no `tracing`: its own provider, batch processor and
//!   discarding exporter. The floor under any span built through `tracing`.
//! - `span_alone/hand_span`: the hand-written span around no request (the body already in hand),
//!   call after call: what the same span costs when nothing else runs between spans.
//!
//! `CALL_CPU_GAP_US=N` sleeps N µs before each call (outside the clock readings), as a real
//! program's calls are spaced by the model's latency; each call then starts with cold caches
//! and parked runtime threads.
//!
//! Run with `cargo bench --bench call_cpu`; results and the machine are in BENCHMARKS.md.

#[path = "../tests/common/mod.rs"]
mod common;

use std::time::Duration;

use common::{json_response, sse_response, Wire};
use mirascope::llm::replay::{Matching, ReplayServer};
use mirascope::{llm, ops};
use serde_json::{json, Value};

/// Calls per batch and rounds (`CALL_CPU_CALLS`, `CALL_CPU_ROUNDS` override them).
const CALLS: usize = 100;
const ROUNDS: usize = 21;

#[path = "support/discard.rs"]
mod discard;

#[path = "support/cpu.rs"]
mod cpu;
use cpu::{clocks_cpu, process_cpu, setting, thread_clocks_named, thread_cpu};

/// One row: a name, how to prepare the process for it, and one call.
struct Row {
    name: &'static str,
    mode: Mode,
    call: Box<dyn FnMut()>,
    process_us: Vec<f64>,
    client_us: Vec<f64>,
    thread_us: Vec<f64>,
}

impl Row {
    fn new(name: &'static str, mode: Mode, call: impl FnMut() + 'static) -> Self {
        Row {
            name,
            mode,
            call: Box::new(call),
            process_us: Vec::new(),
            client_us: Vec::new(),
            thread_us: Vec::new(),
        }
    }
}

#[derive(Clone, Copy, PartialEq)]
enum Mode {
    /// No subscriber on the calling thread.
    None,
    /// The GenAI switch off.
    Off,
    /// Instrumentation on.
    On,
    /// A plain `registry().with(tracing_opentelemetry::layer())` subscriber on the calling thread
    /// (no mirascope layer), exporting through its own batch processor into a discarding
    /// exporter: what tracing-opentelemetry alone costs on the same path.
    Plain,
}

fn server(response: mirascope::llm::replay::RecordedResponse) -> ReplayServer {
    ReplayServer::start(vec![common::answer(response)], Matching::Repeat).expect("replay server")
}

#[llm::call("cpu-bench/gpt-4o-mini")]
fn greet(name: &str) -> String {
    format!("Say hello to the user named {name}.")
}

/// Get the current weather for a location.
#[llm::tool]
fn get_weather(location: String) -> String {
    format!("Weather in {location}: 72°F, sunny")
}

#[llm::call("cpu-bench-tools/gpt-4o-mini", tools = [get_weather])]
fn weather_question(city: &str) -> String {
    format!("What's the weather in {city}?")
}

#[ops::trace]
#[llm::call("cpu-bench/gpt-4o-mini")]
fn traced_greet(name: &str) -> String {
    format!("Say hello to the user named {name}.")
}

fn messages() -> Vec<llm::Message> {
    vec![
        llm::Message::system("You are a concise assistant."),
        llm::Message::user("Say hello to the user named Kai."),
    ]
}

/// What the hand-written spans record of an answer, built as a user would: JSON through
/// `serde_json::json!`.
struct Answer {
    model: String,
    id: String,
    input_tokens: i64,
    output_tokens: i64,
    output: String,
    content: String,
    usage: String,
}

impl Answer {
    fn of(body: &Value) -> Self {
        let text = body["output"][0]["content"][0]["text"]
            .as_str()
            .unwrap_or("");
        let (input_tokens, output_tokens) = (
            body["usage"]["input_tokens"].as_i64().unwrap_or(0),
            body["usage"]["output_tokens"].as_i64().unwrap_or(0),
        );
        Answer {
            model: body["model"].as_str().unwrap_or("").to_string(),
            id: body["id"].as_str().unwrap_or("").to_string(),
            input_tokens,
            output_tokens,
            output: json!([{"role": "assistant", "parts": [{"type": "text", "content": text}], "finish_reason": "stop"}]).to_string(),
            content: json!([{"type": "text", "text": text}]).to_string(),
            usage: json!({
                "input_tokens": input_tokens,
                "output_tokens": output_tokens,
                "cache_read_tokens": 0,
                "cache_write_tokens": 0,
                "reasoning_tokens": 0,
                "total_tokens": input_tokens + output_tokens,
            })
            .to_string(),
        }
    }
}

/// The `on` call of `model` with content capture off (`traceparent` still injected), with
/// `traceparent` injection off, and with both off: what each part of the span costs. `names`:
/// the three rows, in that order.
fn part_rows(names: [&'static str; 3], model: &llm::Model) -> Vec<Row> {
    names
        .into_iter()
        .zip([(false, true), (true, false), (false, false)])
        .map(|(name, (content, propagate))| {
            let m = model.clone();
            Row::new(name, Mode::On, move || {
                llm::genai::set_capture_content(content);
                llm::genai::set_propagate_trace_context(propagate);
                let r = m.call_blocking(messages()).expect("call");
                llm::genai::set_capture_content(true);
                llm::genai::set_propagate_trace_context(true);
                std::hint::black_box(r);
            })
        })
        .collect()
}

fn main() {
    let wire = Wire::Responses;
    let chat_body = wire.text_body("Hello, Kai!");
    let chat = server(json_response(200, chat_body.clone()));
    let pieces: Vec<String> = (0..100).map(|i| format!("w{i} ")).collect();
    let pieces: Vec<&str> = pieces.iter().map(String::as_str).collect();
    let stream = server(sse_response(wire.sse_body(&pieces, false)));
    let chat_model = common::model_at(wire, &wire.base_url(&chat));
    let stream_model = common::model_at(wire, &wire.base_url(&stream));
    llm::Provider::new("openai:responses")
        .scope("cpu-bench/")
        .api_key("sk-bench")
        .base_url(wire.base_url(&chat))
        .register()
        .expect("register");

    // The recorded tool call and its answer, served in turn.
    let case: Value = serde_json::from_str(
        &std::fs::read_to_string(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/fixtures/conformance/openai_responses_resume.json"
        ))
        .expect("recorded case"),
    )
    .expect("case JSON");
    let mut exchanges: Vec<mirascope::llm::replay::Exchange> =
        serde_json::from_value(case["exchanges"].clone()).expect("exchanges");
    for e in &mut exchanges {
        e.request = mirascope::llm::replay::RecordedRequest {
            method: "POST".into(),
            path: String::new(),
            json: None,
        };
    }
    let tools = ReplayServer::start(exchanges, Matching::Repeat).expect("replay server");
    llm::Provider::new("openai:responses")
        .scope("cpu-bench-tools/")
        .api_key("sk-bench")
        .base_url(format!("{}/v1", tools.base_url()))
        .register()
        .expect("register");

    let provider = ops::sdk::trace::SdkTracerProvider::builder()
        .with_batch_exporter(discard::Discard)
        .build();
    let _guard = ops::configure(provider).expect("configure");
    ops::instrument_llm().expect("instrument");
    assert!(llm::genai::capture_content());

    // The bare baseline: reqwest on a current-thread runtime in the calling thread.
    // One runtime for both reqwest rows: pooled connections belong to the runtime that opened
    // them.
    let rt = std::rc::Rc::new(
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("runtime"),
    );
    let client = reqwest::Client::new();
    let url = format!("{}/responses", wire.base_url(&chat));
    let request_body = json!({
        "model": "gpt-4o-mini",
        "input": [
            {"role": "system", "content": "You are a concise assistant."},
            {"role": "user", "content": "Say hello to the user named Kai."}
        ]
    });
    let bare = {
        let client = client.clone();
        let url = url.clone();
        let body = request_body.clone();
        move |rt: &tokio::runtime::Runtime,
              headers: &std::collections::HashMap<String, String>|
              -> Value {
            rt.block_on(async {
                let mut request = client
                    .post(&url)
                    .bearer_auth("sk-bench")
                    .header("content-type", "application/json");
                for (k, v) in headers {
                    request = request.header(k, v);
                }
                let resp = request
                    .body(serde_json::to_vec(&body).expect("body"))
                    .send()
                    .await
                    .expect("send");
                let bytes = resp.bytes().await.expect("body");
                serde_json::from_slice::<Value>(&bytes).expect("json")
            })
        }
    };

    let mut rows: Vec<Row> = Vec::new();
    for mode in [Mode::None, Mode::Off, Mode::On] {
        let m = chat_model.clone();
        rows.push(Row::new(
            ["chat/none", "chat/off", "chat/on"][mode as usize],
            mode,
            move || {
                let r = m.call_blocking(messages()).expect("call");
                std::hint::black_box(r);
            },
        ));
    }
    for mode in [Mode::None, Mode::Off, Mode::On] {
        let m = stream_model.clone();
        rows.push(Row::new(
            ["stream100/none", "stream100/off", "stream100/on"][mode as usize],
            mode,
            move || {
                let s = m.stream_blocking(messages()).expect("stream");
                let mut n = 0;
                for chunk in s {
                    chunk.expect("chunk");
                    n += 1;
                }
                assert!(n >= 100, "{n} chunks");
            },
        ));
    }
    // What the parts of `chat/on` cost.
    rows.extend(part_rows(
        [
            "chat/on-no-content",
            "chat/on-no-traceparent",
            "chat/on-neither",
        ],
        &chat_model,
    ));
    for mode in [Mode::None, Mode::Off, Mode::On] {
        rows.push(Row::new(
            ["trace_call/none", "trace_call/off", "trace_call/on"][mode as usize],
            mode,
            move || {
                let r = traced_greet("Kai").call_blocking().expect("call");
                std::hint::black_box(r);
            },
        ));
    }
    for mode in [Mode::None, Mode::Off, Mode::On] {
        rows.push(Row::new(
            ["tool_resume/none", "tool_resume/off", "tool_resume/on"][mode as usize],
            mode,
            move || {
                let first = weather_question("Tokyo").call_blocking().expect("call");
                let outputs = first.execute_tools_blocking().expect("tools");
                assert_eq!(outputs.len(), 1);
                let second = first.resume_blocking(outputs).expect("resume");
                std::hint::black_box(second);
            },
        ));
    }
    // The same short chat over Chat Completions: through mirascope, and through the peer crate
    // `genai` 0.7.2 with its `otel` feature (its `tracing` span exported by the same layer and
    // processor, as an application span).
    let cc_wire = Wire::Completions;
    let cc_server = server(json_response(200, cc_wire.text_body("Hello, Kai!")));
    let cc_model = common::model_at(cc_wire, &cc_wire.base_url(&cc_server));
    for mode in [Mode::None, Mode::On] {
        let m = cc_model.clone();
        rows.push(Row::new(
            ["chat_completions/none", "", "chat_completions/on"][mode as usize],
            mode,
            move || {
                let r = m.call_blocking(messages()).expect("call");
                std::hint::black_box(r);
            },
        ));
    }
    // Its parts, as for `chat/*` (the peer injects no `traceparent`).
    rows.extend(part_rows(
        [
            "chat_completions/on-no-content",
            "chat_completions/on-no-traceparent",
            "chat_completions/on-neither",
        ],
        &cc_model,
    ));
    {
        use genai::adapter::AdapterKind;
        use genai::resolver::{AuthData, Endpoint, ServiceTargetResolver};
        use genai::{ModelIden, ServiceTarget};
        let endpoint = format!("{}/", cc_wire.base_url(&cc_server));
        let resolver = ServiceTargetResolver::from_resolver_fn(
            move |target: ServiceTarget| -> Result<ServiceTarget, genai::resolver::Error> {
                Ok(ServiceTarget {
                    endpoint: Endpoint::from_owned(endpoint.clone()),
                    auth: AuthData::from_single("sk-bench"),
                    model: ModelIden::new(AdapterKind::OpenAI, target.model.model_name),
                })
            },
        );
        let client = genai::Client::builder()
            .with_service_target_resolver(resolver)
            .build()
            .expect("genai client");
        let request = genai::chat::ChatRequest::new(vec![
            genai::chat::ChatMessage::system("You are a concise assistant."),
            genai::chat::ChatMessage::user("Say hello to the user named Kai."),
        ]);
        for mode in [Mode::None, Mode::On] {
            let (client, request, rt) = (client.clone(), request.clone(), rt.clone());
            rows.push(Row::new(
                ["genai/none", "", "genai/on"][mode as usize],
                mode,
                move || {
                    let r = rt
                        .block_on(client.exec_chat("gpt-4o-mini", request.clone(), None))
                        .expect("genai call");
                    std::hint::black_box(r);
                },
            ));
        }
    }
    // The same chat over Chat Completions, sent by an application's own `reqwest-middleware`
    // client with `ops::ReqwestMiddleware` (`instrument_openai()`: off in `off`, on with content
    // capture in `on`).
    {
        let mw_client = reqwest_middleware::ClientBuilder::new(reqwest::Client::new())
            .with(ops::ReqwestMiddleware)
            .build();
        let url = format!("{}/chat/completions", cc_wire.base_url(&cc_server));
        let body = serde_json::to_vec(&json!({
            "model": "gpt-4o-mini",
            "messages": [
                {"role": "system", "content": "You are a concise assistant."},
                {"role": "user", "content": "Say hello to the user named Kai."}
            ]
        }))
        .expect("body");
        for mode in [Mode::None, Mode::Off, Mode::On] {
            let (client, url, body, rt) =
                (mw_client.clone(), url.clone(), body.clone(), rt.clone());
            rows.push(Row::new(
                ["openai_mw/none", "openai_mw/off", "openai_mw/on"][mode as usize],
                mode,
                move || {
                    let v = rt.block_on(async {
                        let resp = client
                            .post(&url)
                            .bearer_auth("sk-bench")
                            .header("content-type", "application/json")
                            .body(body.clone())
                            .send()
                            .await
                            .expect("send");
                        let bytes = resp.bytes().await.expect("body");
                        serde_json::from_slice::<Value>(&bytes).expect("json")
                    });
                    std::hint::black_box(v);
                },
            ));
        }
    }
    {
        let rt2 = rt.clone();
        let bare = bare.clone();
        rows.push(Row::new("reqwest/bare", Mode::On, move || {
            std::hint::black_box(bare(&rt2, &Default::default()));
        }));
    }
    {
        let bare = bare.clone();
        let rt = rt.clone();
        // The span our chat span is: the same 17 attributes (the GenAI ones and Mirascope's
        // `mirascope.response.*`), `finish_reasons` as a string array through the OpenTelemetry
        // API, and `traceparent` injected the usual way (the global propagator into a map).
        let system = json!([{"type": "text", "content": "You are a concise assistant."}]);
        let input = json!([
            {"role": "user", "parts": [{"type": "text", "content": "Say hello to the user named Kai."}]}
        ]);
        let mirascope_messages = json!([
            {"role": "system", "content": {"type": "text", "text": "You are a concise assistant."}},
            {"role": "user", "content": [{"type": "text", "text": "Say hello to the user named Kai."}], "name": null}
        ]);
        opentelemetry::global::set_text_map_propagator(
            opentelemetry_sdk::propagation::TraceContextPropagator::new(),
        );
        let port = chat
            .base_url()
            .rsplit(':')
            .next()
            .and_then(|p| p.parse::<i64>().ok());
        let (otel_system, otel_input, otel_messages) =
            (system.clone(), input.clone(), mirascope_messages.clone());
        let hand_span = std::rc::Rc::new(
            move |fetch: &dyn Fn(&std::collections::HashMap<String, String>) -> Value| {
                use opentelemetry::trace::TraceContextExt as _;
                let span = tracing::info_span!(
                    target: "mirascope_ops",
                    "chat",
                    otel.name = "chat gpt-4o-mini",
                    otel.kind = "client",
                    gen_ai.operation.name = "chat",
                    gen_ai.provider.name = "openai",
                    gen_ai.request.model = "gpt-4o-mini",
                    gen_ai.output.type = "text",
                    gen_ai.system_instructions = %system,
                    gen_ai.input.messages = %input,
                    server.address = "127.0.0.1",
                    server.port = port,
                    gen_ai.response.model = tracing::field::Empty,
                    gen_ai.response.id = tracing::field::Empty,
                    gen_ai.usage.input_tokens = tracing::field::Empty,
                    gen_ai.usage.output_tokens = tracing::field::Empty,
                    gen_ai.output.messages = tracing::field::Empty,
                    mirascope.response.messages = tracing::field::Empty,
                    mirascope.response.content = tracing::field::Empty,
                    mirascope.response.usage = tracing::field::Empty,
                );
                let body = span.in_scope(|| {
                    let mut headers = std::collections::HashMap::new();
                    // The span's OpenTelemetry context: through mirascope's layer (its lookup),
                    // else through tracing-opentelemetry's (the plain-layer row).
                    let cx = llm::genai::span_context(&span);
                    opentelemetry::global::get_text_map_propagator(|p| {
                        p.inject_context(&cx, &mut headers)
                    });
                    fetch(&headers)
                });
                let answer = Answer::of(&body);
                llm::genai::span_context(&span)
                    .span()
                    .set_attribute(opentelemetry::KeyValue::new(
                        "gen_ai.response.finish_reasons",
                        opentelemetry::Value::Array(
                            vec![opentelemetry::StringValue::from("stop")].into(),
                        ),
                    ));
                span.record("gen_ai.response.model", answer.model.as_str());
                span.record("gen_ai.response.id", answer.id.as_str());
                span.record("gen_ai.usage.input_tokens", answer.input_tokens);
                span.record("gen_ai.usage.output_tokens", answer.output_tokens);
                span.record("gen_ai.output.messages", answer.output.as_str());
                span.record(
                    "mirascope.response.messages",
                    mirascope_messages.to_string(),
                );
                span.record("mirascope.response.content", answer.content.as_str());
                span.record("mirascope.response.usage", answer.usage.as_str());
                drop(span);
            },
        );
        let fetch = move |headers: &std::collections::HashMap<String, String>| bare(&rt, headers);
        // The same span built with the OpenTelemetry SDK directly, no `tracing` at all (its own
        // provider, batch processor and discarding exporter): the floor under any
        // tracing-based span.
        let otel_provider = ops::sdk::trace::SdkTracerProvider::builder()
            .with_batch_exporter(discard::Discard)
            .build();
        let otel_tracer = {
            use opentelemetry::trace::TracerProvider as _;
            otel_provider.tracer("call_cpu")
        };
        {
            let (fetch, system, input) = (fetch.clone(), otel_system, otel_input);
            let mirascope_messages = otel_messages;
            let _keep = otel_provider.clone();
            rows.push(Row::new("reqwest/otel_span", Mode::On, move || {
                use opentelemetry::trace::{Span as _, TraceContextExt as _, Tracer as _};
                use opentelemetry::KeyValue;
                let _ = &_keep;
                let mut span = otel_tracer
                    .span_builder("chat gpt-4o-mini")
                    .with_kind(opentelemetry::trace::SpanKind::Client)
                    .with_attributes(vec![
                        KeyValue::new("gen_ai.operation.name", "chat"),
                        KeyValue::new("gen_ai.provider.name", "openai"),
                        KeyValue::new("gen_ai.request.model", "gpt-4o-mini"),
                        KeyValue::new("gen_ai.output.type", "text"),
                        KeyValue::new("gen_ai.system_instructions", system.to_string()),
                        KeyValue::new("gen_ai.input.messages", input.to_string()),
                        KeyValue::new("server.address", "127.0.0.1"),
                        KeyValue::new("server.port", port.unwrap_or(0)),
                    ])
                    .start(&otel_tracer);
                let cx = opentelemetry::Context::new()
                    .with_remote_span_context(span.span_context().clone());
                let mut headers = std::collections::HashMap::new();
                opentelemetry::global::get_text_map_propagator(|p| {
                    p.inject_context(&cx, &mut headers)
                });
                let answer = Answer::of(&fetch(&headers));
                span.set_attributes(vec![
                    KeyValue::new(
                        "gen_ai.response.finish_reasons",
                        opentelemetry::Value::Array(
                            vec![opentelemetry::StringValue::from("stop")].into(),
                        ),
                    ),
                    KeyValue::new("gen_ai.response.model", answer.model),
                    KeyValue::new("gen_ai.response.id", answer.id),
                    KeyValue::new("gen_ai.usage.input_tokens", answer.input_tokens),
                    KeyValue::new("gen_ai.usage.output_tokens", answer.output_tokens),
                    KeyValue::new("gen_ai.output.messages", answer.output),
                    KeyValue::new(
                        "mirascope.response.messages",
                        mirascope_messages.to_string(),
                    ),
                    KeyValue::new("mirascope.response.content", answer.content),
                    KeyValue::new("mirascope.response.usage", answer.usage),
                ]);
                span.end();
            }));
        }
        let (h, f) = (hand_span.clone(), fetch.clone());
        rows.push(Row::new("reqwest/hand_span", Mode::On, move || h(&f)));
        let (h, f) = (hand_span.clone(), fetch.clone());
        rows.push(Row::new(
            "reqwest/hand_span_plain",
            Mode::Plain,
            move || h(&f),
        ));
        // The same span around no work at all: what the span costs in a hot loop, caches warm.
        let body = fetch(&Default::default());
        rows.push(Row::new("span_alone/hand_span", Mode::On, move || {
            hand_span(&|_| body.clone())
        }));
    }
    {
        let m = chat_model.clone();
        rows.push(Row::new("chat/on_plain_layer", Mode::Plain, move || {
            let r = m.call_blocking(messages()).expect("call");
            std::hint::black_box(r);
        }));
    }
    // `greet` is the untraced twin of `traced_greet`: check both work before measuring.
    greet("Kai").call_blocking().expect("warm-up call");

    // `CALL_CPU_ONLY=chat/on` measures one row (for a profiler); `chat/none,chat/on` several.
    if let Ok(only) = std::env::var("CALL_CPU_ONLY") {
        rows.retain(|r| only.split(',').any(|o| o == r.name));
    }
    if std::env::var("CALL_CPU_PLAIN").as_deref() != Ok("1") {
        rows.retain(|r| r.mode != Mode::Plain);
    }
    let (calls, rounds) = (
        setting("CALL_CPU_CALLS", CALLS),
        setting("CALL_CPU_ROUNDS", ROUNDS),
    );
    let gap = match setting("CALL_CPU_GAP_US", 0) {
        0 => None,
        us => Some(Duration::from_micros(us as u64)),
    };
    let no_subscriber = tracing::subscriber::NoSubscriber::default();
    // The plain subscriber exists only in runs that ask for it (`CALL_CPU_PLAIN=1`): a second
    // live dispatcher that is interested in every span makes tracing's cached callsite interest
    // "sometimes", which costs the `off` rows a dispatcher check per span that no real program
    // with one subscriber pays (measured: `chat/off` +12 µs, `stream100/off` +35 µs).
    let plain = rows.iter().any(|r| r.mode == Mode::Plain).then(|| {
        use opentelemetry::trace::TracerProvider as _;
        use tracing_subscriber::layer::SubscriberExt as _;
        let provider = ops::sdk::trace::SdkTracerProvider::builder()
            .with_batch_exporter(discard::Discard)
            .build();
        tracing::Dispatch::new(
            tracing_subscriber::registry()
                .with(tracing_opentelemetry::layer().with_tracer(provider.tracer("call_cpu"))),
        )
    });
    // The replay servers' threads (all started by now): their CPU is taken out of the process's
    // for the `client` column, as a harness with the server in another process measures.
    let server_clocks = thread_clocks_named("mirascope-replay");
    let server_cpu = || clocks_cpu(&server_clocks);
    for round in 0..=rounds {
        // Round 0 also notes what each span carries (attributes, bytes); its spans are flushed
        // before the measured rounds start.
        if round == 1 {
            if let Some(p) = _guard.provider() {
                let _ = p.force_flush();
            }
        }
        discard::record_shapes(round == 0);
        for row in rows.iter_mut() {
            match row.mode {
                Mode::Off => {
                    ops::uninstrument_llm();
                    ops::uninstrument_openai();
                }
                _ => {
                    ops::instrument_llm().expect("instrument");
                    ops::instrument_openai_with(ops::ContentCapture::Enabled);
                }
            }
            let run = |row: &mut Row| {
                let (mut p, mut s, mut t) = (Duration::ZERO, Duration::ZERO, Duration::ZERO);
                match gap {
                    // Back to back: one clock reading per batch.
                    None => {
                        let (p0, s0, t0) = (process_cpu(), server_cpu(), thread_cpu());
                        for _ in 0..calls {
                            (row.call)();
                        }
                        (p, s, t) = (
                            process_cpu() - p0,
                            server_cpu().saturating_sub(s0),
                            thread_cpu() - t0,
                        );
                    }
                    // An idle gap before each call, outside the clock readings.
                    Some(gap) => {
                        for _ in 0..calls {
                            std::thread::sleep(gap);
                            let (p0, s0, t0) = (process_cpu(), server_cpu(), thread_cpu());
                            (row.call)();
                            p += process_cpu() - p0;
                            s += server_cpu().saturating_sub(s0);
                            t += thread_cpu() - t0;
                        }
                    }
                }
                let per_call = |d: Duration| d.as_secs_f64() * 1e6 / calls as f64;
                (per_call(p), per_call(p.saturating_sub(s)), per_call(t))
            };
            let (p, c, t) = match row.mode {
                Mode::None => tracing::subscriber::with_default(no_subscriber, || run(row)),
                Mode::Plain => match &plain {
                    Some(plain) => tracing::dispatcher::with_default(plain, || run(row)),
                    None => unreachable!("plain rows come with their subscriber"),
                },
                Mode::Off | Mode::On => run(row),
            };
            // Round 0 warms up (connections, caches, price tables) and is not counted.
            if round > 0 {
                row.process_us.push(p);
                row.client_us.push(c);
                row.thread_us.push(t);
            }
        }
    }
    ops::instrument_llm().expect("instrument");

    let median = |v: &[f64]| {
        let mut v = v.to_vec();
        v.sort_by(|a, b| a.total_cmp(b));
        v[v.len() / 2]
    };
    println!(
        "CPU per call, median of {rounds} interleaved rounds of {calls} calls (µs; process = all \
         threads, client = all but the replay servers' threads, thread = the caller)"
    );
    println!(
        "{:<36} {:>10} {:>10} {:>10}",
        "row", "process", "client", "thread"
    );
    let mut medians = std::collections::HashMap::new();
    for row in &rows {
        let (p, c, t) = (
            median(&row.process_us),
            median(&row.client_us),
            median(&row.thread_us),
        );
        medians.insert(row.name, (p, c, t));
        println!("{:<36} {:>10.1} {:>10.1} {:>10.1}", row.name, p, c, t);
    }
    println!("added CPU per call, process (µs):");
    for (a, b) in [
        ("chat/on", "chat/none"),
        ("chat/off", "chat/none"),
        ("stream100/on", "stream100/none"),
        ("stream100/off", "stream100/none"),
        ("trace_call/on", "trace_call/none"),
        ("tool_resume/on", "tool_resume/none"),
        ("reqwest/hand_span", "reqwest/bare"),
        ("reqwest/otel_span", "reqwest/bare"),
        ("reqwest/hand_span_plain", "reqwest/bare"),
        ("chat/on_plain_layer", "chat/none"),
        ("chat/on-no-content", "chat/none"),
        ("chat/on-no-traceparent", "chat/none"),
        ("chat/on-neither", "chat/none"),
        ("chat_completions/on", "chat_completions/none"),
        ("chat_completions/on-no-content", "chat_completions/none"),
        (
            "chat_completions/on-no-traceparent",
            "chat_completions/none",
        ),
        ("chat_completions/on-neither", "chat_completions/none"),
        ("genai/on", "genai/none"),
        ("openai_mw/off", "openai_mw/none"),
        ("openai_mw/on", "openai_mw/none"),
    ] {
        let (Some((pa, ca, ta)), Some((pb, cb, tb))) = (medians.get(a), medians.get(b)) else {
            continue;
        };
        println!(
            "  {a} - {b}: {:+.1} (client {:+.1}, thread {:+.1})",
            pa - pb,
            ca - cb,
            ta - tb
        );
    }
    println!("what each span carries (noted in the warm-up round): scope, name: attributes, bytes");
    for ((scope, name), (attrs, bytes)) in discard::shapes() {
        println!("  {scope:<14} {name:<40} {attrs:>3} attributes {bytes:>6} bytes");
    }
}
