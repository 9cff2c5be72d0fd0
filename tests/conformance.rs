//! The yardstick: replays recorded real provider traffic through the real stack and compares the
//! request we send and the spans we emit with what Python Mirascope 2.8.2 sent and emitted.
//!
//! Cases come from `tests/fixtures/conformance/*.json` and, when `MIRASCOPE_CONFORMANCE_DIR` is
//! set, from that directory too (its `*.json`, or `cases/*.json`); the format is described in
//! `tests/fixtures/conformance/FORMAT.md`. Each case runs as a user would: a loopback replay
//! server answers with the recorded responses, the call goes through the public `llm` API, the
//! spans go through tracing -> tracing-opentelemetry -> an in-memory exporter.
//!
//! Prints `conformance: N passed, M failed, K skipped` and fails if any case fails.

mod common;

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Duration;

use futures_util::StreamExt;
use mirascope::llm::replay::{show_difference, show_value, Exchange, Matching, ReplayServer};
use mirascope::llm::{
    self, Format, FormatMode, Message, Params, Part, Response, RetryPolicy, Tool,
};
use mirascope::ops;
use opentelemetry::trace::{SpanKind, Status};
use serde_json::{json, Value};
use tracing_subscriber::layer::SubscriberExt;

/// Attributes we add beyond Python Mirascope (point 6 of the instrumentation issue). Only these
/// may appear on our spans without being expected.
const ALLOWED_EXTRAS: &[(&str, &str)] = &[
    ("server.address", "GenAI semconv: the provider host"),
    (
        "server.port",
        "GenAI semconv: required when server.address is set",
    ),
    (
        "gen_ai.response.id",
        "Python never records it on streams; we record the id the provider streamed",
    ),
    (
        "gen_ai.usage.cache_read.input_tokens",
        "GenAI semconv, recorded when the provider reports a non-zero count",
    ),
    (
        "gen_ai.usage.cache_creation.input_tokens",
        "GenAI semconv, recorded when the provider reports a non-zero count",
    ),
    (
        "gen_ai.usage.reasoning.output_tokens",
        "GenAI semconv, recorded when the provider reports a non-zero count",
    ),
    (
        "error.type",
        "on `#[ops::trace]` spans of a failed call: the Mirascope class of the error (OTel error recording; the issue's rule that every span of the trace carries the class), which Python leaves out there",
    ),
    (
        "mirascope.response.cost",
        "the call's cost in USD from the genai-prices dataset; Python Mirascope reserves the key and never sets it",
    ),
    (
        "openai.response.service_tier",
        "OpenAI semconv (v1.41), recorded when OpenAI returns it",
    ),
    (
        "openai.response.system_fingerprint",
        "OpenAI semconv (v1.41), recorded when OpenAI returns it",
    ),
    (
        "gen_ai.conversation.id",
        "GenAI semconv: on chat spans inside an `ops::session`, the session's id (Python records the session on trace, explicit and resume spans only)",
    ),
];

/// What a case says that the conditions of [`ALLOWED_EXTRAS`] depend on.
#[derive(Default)]
struct Conditions {
    /// A streamed call (`stream`, `resume_stream`).
    streamed: bool,
    /// The ids of the sessions the case's program opens.
    sessions: Vec<String>,
}

impl Conditions {
    fn of(case: &Value) -> Self {
        fn sessions(steps: &Value, out: &mut Vec<String>) {
            for step in steps.as_array().into_iter().flatten() {
                if step["op"] == "session" {
                    out.extend(step["id"].as_str().map(str::to_string));
                }
                sessions(&step["steps"], out);
            }
        }
        let mut ids = Vec::new();
        sessions(&case["call"]["program"]["steps"], &mut ids);
        Conditions {
            streamed: case["call"]["method"]
                .as_str()
                .is_some_and(|m| m.contains("stream")),
            sessions: ids,
        }
    }
}

/// The condition under which each of [`ALLOWED_EXTRAS`] may appear on a span (the README's
/// Differences table gives the same reasons): an extra attribute outside its condition is a
/// failure like any other unexpected attribute.
fn extra_allowed(key: &str, value: &Value, span: &Value, when: &Conditions) -> bool {
    let streamed = when.streamed;
    let attrs = &span["attributes"];
    let is_chat = span["name"]
        .as_str()
        .is_some_and(|n| n.starts_with("chat "));
    let failed = span["status"]["code"] == "ERROR";
    let positive = value.as_i64().is_some_and(|n| n > 0);
    match key {
        "server.address" => is_chat && value.as_str().is_some_and(|h| !h.is_empty()),
        "server.port" => is_chat && attrs.get("server.address").is_some() && positive,
        // Streams only: a call's id Python records itself.
        "gen_ai.response.id" => is_chat && streamed,
        "gen_ai.usage.cache_read.input_tokens"
        | "gen_ai.usage.cache_creation.input_tokens"
        | "gen_ai.usage.reasoning.output_tokens" => is_chat && positive,
        // Failed `#[ops::trace]` spans only (GenAI spans carry it as Python does).
        "error.type" => failed && attrs.get("mirascope.type") == Some(&json!("trace")),
        "mirascope.response.cost" => value.as_f64().is_some_and(|c| c.is_finite() && c >= 0.0),
        "gen_ai.conversation.id" => {
            is_chat
                && value
                    .as_str()
                    .is_some_and(|id| when.sessions.iter().any(|s| s == id))
        }
        "openai.response.service_tier" | "openai.response.system_fingerprint" => {
            is_chat
                && attrs["gen_ai.provider.name"]
                    .as_str()
                    .is_some_and(|p| p.starts_with("openai"))
        }
        _ => false,
    }
}

/// Values that are Python-specific by nature, compared by a stated rule (FORMAT.md, "Values that
/// are Python-specific").
const BY_RULE: &[(&str, &str)] = &[
    ("error.message", "Python embeds the SDK's text (`Error code: 400 - {python repr}`); ours must contain the provider's own error message"),
    ("exception.message", "as error.message"),
    ("exception.type", "Python's qualified class; ours must end with the same Mirascope class name"),
    ("exception.stacktrace", "a Python traceback; ours must be non-empty"),
    ("mirascope.fn.module", "the Python module; ours is the Rust module path, non-empty"),
    ("mirascope.trace.arg_types", "Python type names; ours are the Rust types as written, same keys"),
    ("gen_ai.response.model", "Python records the Mirascope model id; ours is the model the provider's answer names (GenAI semconv; lets backends price calls), the Mirascope id when the answer names none"),
];

/// On a chat span of a stream that broke (status ERROR on a `stream` call), Python claims the
/// stream stopped normally; we record only a finish reason the provider actually sent (the
/// hardening issue, item 9). Each key and how we differ.
const BROKEN_STREAM: &[(&str, &str)] = &[
    (
        "gen_ai.response.finish_reasons",
        "Python records [\"stop\"] for a stream that broke; we record a reason only if the provider sent one",
    ),
    (
        "gen_ai.output.messages",
        "the same: the message of a broken stream carries no assumed \"finish_reason\":\"stop\"",
    ),
];

/// Python's expected attributes of a broken stream's chat span, with its assumed `stop` taken out
/// (see [`BROKEN_STREAM`]); other spans unchanged.
fn without_assumed_stop(case: &Value, span: &Value) -> Value {
    let broken = case["call"]["method"] == "stream"
        && span["status"]["code"] == "ERROR"
        && span["kind"] == "CLIENT";
    let mut attrs = span["attributes"].clone();
    if !broken {
        return attrs;
    }
    let Some(map) = attrs.as_object_mut() else {
        return attrs;
    };
    if map.get(BROKEN_STREAM[0].0) == Some(&json!(["stop"])) {
        map.remove(BROKEN_STREAM[0].0);
    }
    if let Some(Value::String(messages)) = map.get(BROKEN_STREAM[1].0) {
        if let Ok(mut parsed) = serde_json::from_str::<Value>(messages) {
            for m in parsed.as_array_mut().into_iter().flatten() {
                if m["finish_reason"] == "stop" {
                    m.as_object_mut().map(|o| o.remove("finish_reason"));
                }
            }
            map.insert(BROKEN_STREAM[1].0.into(), Value::String(parsed.to_string()));
        }
    }
    attrs
}

/// A `#[ops::trace]` over a stream: Python ends the trace span when the function returns the
/// unread stream (empty content, empty output); ours stays open until the stream ends and records
/// what it delivered (README "Differences"). Each key and how it is compared instead.
const TRACE_OVER_STREAM: &[(&str, &str)] = &[
    (
        "mirascope.response.content",
        "Python records [] on the trace span of a stream; ours must equal the content of the stream's chat span",
    ),
    (
        "mirascope.response.usage",
        "Python records none there; ours, if any, must equal the usage of the stream's chat span",
    ),
    (
        "mirascope.trace.output",
        "Python records \"\"; ours is the finished response's text, non-empty when the stream produced text",
    ),
    (
        "status",
        "a stream that breaks fails its `{fn}.stream` span too (status, exception event and error.type as on the chat span, no response): Python ended that span before the stream was read",
    ),
];

/// Python's expected `{fn}.stream` trace span, rewritten by [`TRACE_OVER_STREAM`] from the chat
/// span it pairs with; other spans unchanged. Returns the span (marked `output_by_rule` when its
/// output is checked by the rule) and whether the output must be non-empty.
fn trace_over_stream(case: &Value, at: usize, mut span: Value) -> (Value, bool) {
    let traced_stream = case["call"]["method"] == "stream"
        && case["call"].get("trace").is_some_and(Value::is_object)
        && span["kind"] == "INTERNAL"
        && span["name"]
            .as_str()
            .is_some_and(|n| n.ends_with(".stream"));
    if !traced_stream {
        return (span, false);
    }
    // The k-th span of this name pairs with the k-th chat span under that name.
    let spans = case["expected_spans"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    let k = spans[..at]
        .iter()
        .filter(|s| s["name"] == span["name"])
        .count();
    let Some(chat) = spans
        .iter()
        .filter(|s| s["kind"] == "CLIENT" && s["parent"] == span["name"])
        .nth(k)
    else {
        return (span, false);
    };
    let had_output = span["attributes"].get(TRACE_OVER_STREAM[2].0).is_some();
    let broke = chat["status"]["code"] == "ERROR";
    let Some(map) = span["attributes"].as_object_mut() else {
        return (span, false);
    };
    map.remove(TRACE_OVER_STREAM[2].0);
    if broke {
        // TRACE_OVER_STREAM "status": the stream's failure fails the span that is still open.
        map.retain(|k, _| !k.starts_with("mirascope.response."));
        // As Python's failed trace spans: ERROR without a description.
        span["status"] = json!({"code": "ERROR", "description": null});
        span["events"] = json!(chat["events"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|ev| json!({"name": ev["name"], "attributes": mirascope_class(ev["attributes"].clone())}))
            .collect::<Vec<_>>());
        return (span, false);
    }
    for key in ["mirascope.response.content", "mirascope.response.usage"] {
        match chat["attributes"].get(key) {
            Some(v) => {
                map.insert(key.into(), v.clone());
            }
            None => {
                map.remove(key);
            }
        }
    }
    let needs_output = chat["attributes"]["mirascope.response.content"]
        .as_str()
        .is_some_and(|c| c.contains("\"type\":\"text\""));
    if had_output {
        span["output_by_rule"] = json!(true);
    }
    (span, needs_output)
}

/// Exceptions Python lets through from an SDK or the standard library, compared as the Mirascope
/// class we raise for the same failure, each with its reason.
const ERROR_CLASSES: &[(&str, &str, &str)] = &[(
    "JSONDecodeError",
    "ResponseValidationError",
    "the anthropic SDK raises `json.decoder.JSONDecodeError` for a streamed tool input that is not JSON (whitespace only, say), and Mirascope 2.8.2 lets it through; ours is the Mirascope class of a malformed answer",
)];

/// Attributes (of a span or an event) with Python's non-Mirascope exception classes named as
/// ours ([`ERROR_CLASSES`]): `error.type` by its class name, `exception.type` by its path.
fn mirascope_class(mut attrs: Value) -> Value {
    for (python, ours, _) in ERROR_CLASSES {
        if attrs["error.type"] == *python {
            attrs["error.type"] = json!(ours);
        }
        if attrs["exception.type"]
            .as_str()
            .is_some_and(|t| t.rsplit('.').next() == Some(python))
        {
            attrs["exception.type"] = json!(format!("mirascope.llm.exceptions.{ours}"));
        }
    }
    attrs
}

/// Span names compared under another name, each with its reason.
const SPAN_NAMES: &[(&str, &str)] = &[
    (
        "AsyncResponse.resume",
        "Python names the resume span by the response's class; Rust has one `Response` for async and blocking code, so an async resume is `Response.resume` too",
    ),
    (
        "AsyncStreamResponse.resume",
        "the same for streams: `StreamResponse.resume`",
    ),
];

/// A span name (or parent name) of a case as we emit it ([`SPAN_NAMES`]).
fn span_name(name: &Value) -> Value {
    match name.as_str() {
        Some(n) => match n.strip_prefix("Async") {
            Some(rest) if SPAN_NAMES.iter().any(|(python, _)| n.starts_with(python)) => {
                json!(rest)
            }
            _ => name.clone(),
        },
        None => name.clone(),
    }
}

/// How the runner calls differently from a user's default, each with its reason.
#[allow(dead_code)]
const RUNNER_OPT_OUTS: &[(&str, &str)] = &[(
    ".unchecked_params()",
    "Python Mirascope sends params outside the provider's documented range (the provider answers 400); our default refuses them before any traffic (README difference), so the runner opts out to replay what Python sent",
)];

/// Request differences we tolerate, each with its reason. (None today.)
const TOLERATED_REQUEST_DIFFS: &[(&str, &str)] = &[];

#[derive(Debug)]
struct Case {
    name: String,
    file: PathBuf,
    case: Value,
}

/// A file in a case directory that is not a case (it does not parse, or lacks `call` or
/// `exchanges`): a failure, never silently dropped.
struct NotACase {
    file: PathBuf,
    why: String,
}

fn load_dir(dir: &Path, out: &mut Vec<Case>, bad: &mut Vec<NotACase>) {
    let mut dirs = vec![dir.to_path_buf()];
    if dir.join("cases").is_dir() {
        dirs.push(dir.join("cases"));
    }
    for d in dirs {
        let Ok(entries) = std::fs::read_dir(&d) else {
            continue;
        };
        let mut files: Vec<PathBuf> = entries
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|x| x == "json"))
            .collect();
        files.sort();
        for file in files {
            let text = match std::fs::read_to_string(&file) {
                Ok(t) => t,
                Err(e) => {
                    bad.push(NotACase {
                        file,
                        why: format!("unreadable: {e}"),
                    });
                    continue;
                }
            };
            match serde_json::from_str::<Value>(&text) {
                Ok(case) if unknown_call_key(&case).is_some() => bad.push(NotACase {
                    file,
                    why: format!(
                        "`call.{}` is not a key of the format (FORMAT.md): the runner would run another call than the case's",
                        unknown_call_key(&case).unwrap_or_default()
                    ),
                }),
                Ok(case) if case.get("exchanges").is_some() && case.get("call").is_some() => {
                    let name = case["name"]
                        .as_str()
                        .map(str::to_string)
                        .unwrap_or_else(|| {
                            file.file_stem().unwrap().to_string_lossy().into_owned()
                        });
                    out.push(Case { name, file, case });
                }
                Ok(_) => bad.push(NotACase {
                    file,
                    why: "no `call` or no `exchanges`".into(),
                }),
                Err(e) => bad.push(NotACase {
                    file,
                    why: format!("not JSON: {e}"),
                }),
            }
        }
    }
}

/// The keys of a case's `call` (FORMAT.md): what the user did. Any other key would change the
/// call, so a case with one is not run.
const CALL_KEYS: &[&str] = &[
    "model",
    "method",
    "params",
    "messages",
    "tools",
    "format",
    "resume_with",
    "resumes",
    "trace",
    "program",
];

fn unknown_call_key(case: &Value) -> Option<String> {
    case["call"]
        .as_object()?
        .keys()
        .find(|k| !CALL_KEYS.contains(&k.as_str()))
        .cloned()
}

fn load_cases() -> (Vec<Case>, Vec<NotACase>) {
    let mut cases = Vec::new();
    let mut bad = Vec::new();
    load_dir(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/conformance"),
        &mut cases,
        &mut bad,
    );
    if let Ok(extra) = std::env::var("MIRASCOPE_CONFORMANCE_DIR") {
        load_dir(Path::new(&extra), &mut cases, &mut bad);
    }
    (cases, bad)
}

/// The base URL that makes our client hit the recorded path.
fn base_url(server: &ReplayServer, recorded_path: &str) -> String {
    let path = recorded_path.split('?').next().unwrap_or(recorded_path);
    let prefix = ["/chat/completions", "/responses"]
        .iter()
        .find_map(|suffix| path.strip_suffix(suffix))
        .or_else(|| path.find("/v1/messages").map(|i| &path[..i]))
        .or_else(|| path.find("/v1beta/models/").map(|i| &path[..i]))
        .unwrap_or("");
    format!("{}{}", server.base_url(), prefix)
}

/// The provider the oracle registered for a model id's scope: its first segment (`openai`,
/// whose `:completions` / `:responses` suffix picks the API, `anthropic`, `together`, ...).
fn provider_for(model_id: &str) -> &str {
    model_id.split('/').next().unwrap_or_default()
}

fn build_tools(call: &Value) -> Result<Vec<Tool>, String> {
    let mut tools = Vec::new();
    for t in call["tools"].as_array().into_iter().flatten() {
        // A provider tool (Mirascope's `WebSearchTool`): `{"name", "provider_tool"}`.
        match t["provider_tool"].as_str() {
            Some("web_search") => {
                tools.push(Tool::web_search());
                continue;
            }
            Some(other) => return Err(format!("unknown provider tool {other:?}")),
            None => {}
        }
        let mut tool = Tool::new(
            t["name"].as_str().unwrap_or_default(),
            t["description"].as_str().unwrap_or_default(),
            &t["parameters"],
        )
        .map_err(|e| e.to_string())?;
        if let Some(strict) = t["strict"].as_bool() {
            tool = tool.strict(strict);
        }
        tools.push(tool);
    }
    Ok(tools)
}

/// Traced cases the macros cannot be generated for, each with its reason.
#[allow(dead_code)]
const TRACE_FALLBACK: &[(&str, &str)] = &[(
    "traced case with tools or a format",
    "`#[llm::tool]` and `#[llm::call(format = ..)]` derive a tool's or format's schema from Rust types, so a case's JSON schema cannot be rebuilt as a macro argument; such a case runs through the runtime the macros expand to (`traced_call`), the macros' own recording being checked by the other traced cases",
)];

/// What the runner infers because the case format leaves it out, each with its reason.
#[allow(dead_code)]
const FIXTURE_INFERENCES: &[(&str, &str)] = &[(
    "format mode asked for",
    "`call.format.mode` is the mode Mirascope resolved, not whether the user named it; it matters only for tool mode, where Python adds the format tool to `gen_ai.tool.definitions` only if the user asked for tool mode, so a tool-mode case is taken as asked for exactly when its first chat span (the first call's) lists the format tool (a resumed call always does: Python resumes with the resolved format), and as a bare format (no mode, the provider's default) otherwise",
)];

fn build_format(case: &Value) -> Option<Format> {
    let f = case["call"].get("format").filter(|f| f.is_object())?;
    let mut format = Format::new(f["name"].as_str().unwrap_or_default(), f["schema"].clone());
    if let Some(d) = f["description"].as_str() {
        format = format.description(d);
    }
    let mode = match f["mode"].as_str() {
        Some("tool") => FormatMode::Tool,
        Some("json") => FormatMode::Json,
        _ => FormatMode::Strict,
    };
    // FIXTURE_INFERENCES: a tool-mode format whose first chat span lists no format tool was a
    // bare format.
    let lists_format_tool = case["expected_spans"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|s| s["kind"] == "CLIENT")
        .is_some_and(|s| {
            s["attributes"]["gen_ai.tool.definitions"]
                .as_str()
                .is_some_and(|d| d.contains("__mirascope_formatted_output_tool__"))
        });
    if mode != FormatMode::Tool || lists_format_tool {
        format = format.mode(mode);
    }
    Some(format)
}

/// What the call returned, for the response checks.
enum Outcome {
    Ok(Box<Response>),
    /// The call failed: the error's Mirascope class and its text.
    Err(&'static str, String),
}

impl From<llm::Result<Response>> for Outcome {
    fn from(r: llm::Result<Response>) -> Self {
        match r {
            Ok(r) => Outcome::Ok(Box::new(r)),
            Err(e) => Outcome::Err(e.class().name(), e.to_string()),
        }
    }
}

/// The case's model (with its params), messages, tools and format, as the runner calls them.
type Prepared = (llm::Model, Vec<Message>, Vec<Tool>, Option<Format>);

fn prepare(case: &Value) -> Result<Prepared, String> {
    let call = &case["call"];
    let model_id = call["model"].as_str().ok_or("call.model missing")?;
    let params = Params::from_json(&call["params"]).map_err(|e| e.to_string())?;
    let model = llm::model(model_id)
        .map_err(|e| e.to_string())?
        .with_params(params)
        .with_retry(
            RetryPolicy::default()
                .initial_backoff(Duration::from_millis(1))
                .max_backoff(Duration::from_millis(5)),
        )
        .with_timeout(Duration::from_secs(30));
    let messages: Vec<Message> = serde_json::from_value(call["messages"].clone())
        .map_err(|e| format!("call.messages: {e}"))?;
    let tools = build_tools(call)?;
    let format = build_format(case);
    Ok((model, messages, tools, format))
}

async fn run_call(name: &str, case: &Value) -> Result<Outcome, String> {
    let call = &case["call"];
    let (model, messages, tools, format) = prepare(case)?;
    let streamed = call["method"]
        .as_str()
        .is_some_and(|m| m.contains("stream"));
    if let Some(trace) = call.get("trace").filter(|t| t.is_object()) {
        // The case's own `#[ops::trace]` + `#[llm::call]` function (tests/trace_cases).
        return match mirascope_trace_cases::run(name, streamed).await {
            Some(result) => Ok(result.into()),
            // TRACE_FALLBACK: tools or a format.
            None if !tools.is_empty() || format.is_some() => {
                run_traced(trace, model, messages, tools, format, streamed).await
            }
            None => Err(format!(
                "no traced function was generated for {name} (tests/trace_cases/build.rs reads the case directories when the tests are built)"
            )),
        };
    }
    run_plain(model, messages, tools, format, call)
        .await
        .map(Outcome::from)
}

/// The case's call without `@ops.trace`: `call`, `stream`, or a resume chain (`resume_with`,
/// then each further entry of `resumes`).
async fn run_plain(
    model: llm::Model,
    messages: Vec<Message>,
    tools: Vec<Tool>,
    format: Option<Format>,
    call: &Value,
) -> Result<llm::Result<Response>, String> {
    let method = call["method"].as_str().unwrap_or("call");
    let streamed = method.contains("stream");
    let first = async {
        if streamed {
            let mut s = model
                .stream(messages.clone())
                .tools(tools.clone())
                .unchecked_params();
            if let Some(f) = format.clone() {
                s = s.format(f);
            }
            let mut stream = s.await?;
            while let Some(chunk) = stream.next().await {
                chunk?;
            }
            stream.response()
        } else {
            let mut c = model
                .call(messages.clone())
                .tools(tools.clone())
                .unchecked_params();
            if let Some(f) = format.clone() {
                c = c.format(f);
            }
            c.await
        }
    }
    .await;
    let mut last = match first {
        Ok(r) => r,
        Err(e) => return Ok(Err(e)),
    };
    if !method.starts_with("resume") {
        return Ok(Ok(last));
    }
    // A chain of three or more calls lists every resume's content in `resumes`; one resume
    // only in `resume_with`.
    let resumes = match call.get("resumes") {
        Some(all) => all.clone(),
        None => json!([call["resume_with"]]),
    };
    for (i, with) in resumes.as_array().into_iter().flatten().enumerate() {
        let parts: Vec<Part> =
            serde_json::from_value(with.clone()).map_err(|e| format!("call.resumes[{i}]: {e}"))?;
        let resumed = if streamed {
            match last.resume_stream(parts).await {
                Ok(stream) => stream.finish().await,
                Err(e) => Err(e),
            }
        } else {
            last.resume(parts).await
        };
        match resumed {
            Ok(r) => last = r,
            Err(e) => return Ok(Err(e)),
        }
    }
    Ok(Ok(last))
}

/// A traced case with tools or a format (which `#[llm::tool]` and `#[llm::call(format = ..)]`
/// cannot rebuild from a JSON schema, so tests/trace_cases generates no function for it): the
/// runtime `#[ops::trace]` + `#[llm::call]` expand to (`traced_call` with a `TraceInfo`), built
/// from the case's `trace` object. See `TRACE_FALLBACK`.
async fn run_traced(
    trace: &Value,
    model: llm::Model,
    messages: Vec<Message>,
    tools: Vec<Tool>,
    format: Option<Format>,
    streamed: bool,
) -> Result<Outcome, String> {
    use mirascope::ops::__private::{traced_call, TraceInfo};
    let leak = |s: String| -> &'static str { Box::leak(s.into_boxed_str()) };
    let args = trace["args"].as_object().cloned().unwrap_or_default();
    let rust_type = |v: &Value| match v {
        Value::String(_) => "&str",
        Value::Bool(_) => "bool",
        Value::Number(n) if n.is_i64() => "i64",
        Value::Number(_) => "f64",
        _ => "serde_json::Value",
    };
    let arg_types: serde_json::Map<String, Value> = args
        .iter()
        .map(|(k, v)| (k.clone(), json!(rust_type(v))))
        .collect();
    let mut tags: Vec<&'static str> = trace["tags"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .map(|t| leak(t.to_string()))
        .collect();
    tags.sort();
    tags.dedup();
    let metadata: Vec<(&'static str, &'static str)> = trace["metadata"]
        .as_object()
        .into_iter()
        .flatten()
        .map(|(k, v)| {
            (
                leak(k.clone()),
                leak(
                    v.as_str()
                        .map(str::to_string)
                        .unwrap_or_else(|| v.to_string()),
                ),
            )
        })
        .collect();
    let function = trace["function"].as_str().unwrap_or("function").to_string();
    let info: &'static TraceInfo = Box::leak(Box::new(TraceInfo {
        name: leak(function.clone()),
        span_name: None,
        module: module_path!(),
        is_async: false,
        arg_types: leak(Value::Object(arg_types).to_string()),
        tags: Box::leak(tags.into_boxed_slice()),
        metadata: Box::leak(metadata.into_boxed_slice()),
        version: None,
    }));
    let mut lazy = llm::LazyCall::new(model, messages)
        .tools(tools)
        .unchecked_params();
    if let Some(f) = format {
        lazy = lazy.format(f);
    }
    let traced = traced_call(
        lazy,
        info,
        function.into(),
        Some(Value::Object(args).to_string()),
    );
    let result = if streamed {
        match traced.stream().await {
            Ok(s) => s.finish().await,
            Err(e) => Err(e),
        }
    } else {
        traced.call().await
    };
    Ok(result.into())
}

fn kind_name(k: &SpanKind) -> &'static str {
    match k {
        SpanKind::Client => "CLIENT",
        SpanKind::Server => "SERVER",
        SpanKind::Producer => "PRODUCER",
        SpanKind::Consumer => "CONSUMER",
        SpanKind::Internal => "INTERNAL",
    }
}

/// Our spans in the fixture's shape.
fn actual_spans(spans: &[ops::testing::SpanData]) -> Vec<Value> {
    spans
        .iter()
        .map(|s| {
            let parent = spans.iter().find(|p| p.span_context.span_id() == s.parent_span_id).map(|p| json!(p.name.as_ref())).unwrap_or(Value::Null);
            let (code, description) = match &s.status {
                Status::Unset => ("UNSET", Value::Null),
                Status::Ok => ("OK", Value::Null),
                Status::Error { description } => ("ERROR", if description.is_empty() { Value::Null } else { json!(description.as_ref()) }),
            };
            let attributes: serde_json::Map<String, Value> = s.attributes.iter().map(|kv| (kv.key.to_string(), common::otel_value(&kv.value))).collect();
            // A key exported twice (OpenTelemetry wants one value a key) is a failure.
            let duplicated: Vec<String> = s.attributes.iter().enumerate().filter(|(i, kv)| s.attributes[..*i].iter().any(|p| p.key == kv.key)).map(|(_, kv)| kv.key.to_string()).collect();
            let events: Vec<Value> = s
                .events
                .iter()
                .map(|e| json!({"name": e.name.as_ref(), "attributes": e.attributes.iter().map(|kv| (kv.key.to_string(), common::otel_value(&kv.value))).collect::<serde_json::Map<_, _>>()}))
                .collect();
            json!({"name": s.name.as_ref(), "kind": kind_name(&s.span_kind), "scope": s.instrumentation_scope.name(), "status": {"code": code, "description": description}, "parent": parent, "attributes": attributes, "events": events, "duplicated_keys": duplicated})
        })
        .collect()
}

/// The provider's own error message in the recorded error answer, if any.
fn provider_error_message(case: &Value) -> Option<String> {
    for ex in case["exchanges"].as_array().into_iter().flatten().rev() {
        let resp = &ex["response"];
        if let Some(m) = resp["json"]
            .pointer("/error/message")
            .and_then(Value::as_str)
        {
            return Some(m.to_string());
        }
        if let Some(sse) = resp["sse"].as_str() {
            for line in sse.lines().filter_map(|l| l.strip_prefix("data:")) {
                if let Ok(v) = serde_json::from_str::<Value>(line.trim()) {
                    if v["type"] == "error" || v.get("error").is_some_and(Value::is_object) {
                        if let Some(m) = v
                            .pointer("/error/message")
                            .or_else(|| v.get("message"))
                            .and_then(Value::as_str)
                        {
                            return Some(m.to_string());
                        }
                    }
                }
            }
        }
    }
    None
}

/// What the recorded provider answers of a case say, for the rules.
#[derive(Default)]
struct Recorded {
    /// The provider's error message, if an answer is an error.
    error_message: Option<String>,
    /// Every model name an answer gives (`model`, `modelVersion`, at any depth).
    models: Vec<String>,
}

fn collect_models(v: &Value, out: &mut Vec<String>) {
    match v {
        Value::Object(m) => {
            for (k, v) in m {
                match (k.as_str(), v) {
                    ("model" | "modelVersion", Value::String(s)) => out.push(s.clone()),
                    _ => collect_models(v, out),
                }
            }
        }
        Value::Array(items) => items.iter().for_each(|v| collect_models(v, out)),
        _ => {}
    }
}

fn recorded(case: &Value) -> Recorded {
    let mut models = Vec::new();
    for ex in case["exchanges"].as_array().into_iter().flatten() {
        let resp = &ex["response"];
        collect_models(&resp["json"], &mut models);
        for line in resp["sse"]
            .as_str()
            .unwrap_or_default()
            .lines()
            .filter_map(|l| l.strip_prefix("data:"))
        {
            if let Ok(v) = serde_json::from_str::<Value>(line.trim()) {
                collect_models(&v, &mut models);
            }
        }
    }
    Recorded {
        error_message: provider_error_message(case),
        models,
    }
}

fn rule_ok(key: &str, expected: &Value, actual: &Value, recorded: &Recorded) -> bool {
    let a = actual.as_str().unwrap_or_default();
    let provider_msg = recorded.error_message.as_deref();
    match key {
        "gen_ai.response.model" if recorded.models.is_empty() => expected == actual,
        "gen_ai.response.model" => recorded.models.iter().any(|m| m == a),
        "error.message" | "exception.message" | "status.description" => {
            !a.is_empty() && provider_msg.is_none_or(|m| a.contains(m))
        }
        "exception.type" => expected
            .as_str()
            .and_then(|e| e.rsplit('.').next())
            .is_some_and(|class| a.ends_with(class)),
        "exception.stacktrace" | "mirascope.fn.module" => !a.is_empty(),
        "mirascope.trace.arg_types" => {
            let keys = |v: &Value| {
                v.as_str()
                    .and_then(|s| serde_json::from_str::<serde_json::Map<String, Value>>(s).ok())
                    .map(|m| m.keys().cloned().collect::<Vec<_>>())
            };
            keys(expected).is_some() && keys(expected) == keys(actual)
        }
        _ => expected == actual,
    }
}

fn compare_attrs(
    what: &str,
    expected: &Value,
    actual: &Value,
    recorded: &Recorded,
    extras_on: Option<(&Value, &Conditions)>,
    diffs: &mut Vec<String>,
) {
    let empty = serde_json::Map::new();
    let exp = expected.as_object().unwrap_or(&empty);
    let act = actual.as_object().unwrap_or(&empty);
    for (k, v) in exp {
        match act.get(k) {
            None => diffs.push(format!("{what}: missing {k} = {}", show_value(v))),
            Some(a) if BY_RULE.iter().any(|(r, _)| r == k) && !rule_ok(k, v, a, recorded) => {
                diffs.push(format!(
                    "{what}: {k} breaks its rule: expected like {}, got {}",
                    show_value(v),
                    show_value(a)
                ));
            }
            Some(_) if BY_RULE.iter().any(|(r, _)| r == k) => {}
            Some(a) if a != v => diffs.push(format!("{what}: {k}: {}", show_difference(v, a))),
            _ => {}
        }
    }
    for (k, v) in act {
        if exp.contains_key(k) {
            continue;
        }
        let listed = ALLOWED_EXTRAS.iter().any(|(x, _)| x == k);
        match extras_on {
            Some((span, when)) if listed && extra_allowed(k, v, span, when) => {}
            Some(_) if listed => diffs.push(format!(
                "{what}: {k} = {} outside its condition (see ALLOWED_EXTRAS)",
                show_value(v)
            )),
            _ => diffs.push(format!("{what}: unexpected {k} = {}", show_value(v))),
        }
    }
}

fn compare_spans(case: &Value, actual: &[Value], diffs: &mut Vec<String>) {
    let expected = case["expected_spans"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    let recorded = recorded(case);
    // Streamed calls (`stream`, `stream_async`, and resumes of streams).
    let conditions = Conditions::of(case);
    if expected.len() != actual.len() {
        diffs.push(format!(
            "expected {} spans {:?}, got {} {:?}",
            expected.len(),
            expected
                .iter()
                .map(|s| s["name"].clone())
                .collect::<Vec<_>>(),
            actual.len(),
            actual.iter().map(|s| s["name"].clone()).collect::<Vec<_>>()
        ));
    }
    // Pair spans by name and parent (export order can differ between runtimes).
    let mut used = vec![false; actual.len()];
    for (i, e) in expected.iter().enumerate() {
        let (name, parent) = (span_name(&e["name"]), span_name(&e["parent"]));
        let found = actual
            .iter()
            .enumerate()
            .position(|(j, a)| !used[j] && a["name"] == name && a["parent"] == parent);
        let Some(j) = found else {
            diffs.push(format!(
                "span #{i} {} (parent {}) not emitted",
                e["name"], e["parent"]
            ));
            continue;
        };
        used[j] = true;
        let a = &actual[j];
        let what = format!("span {}", e["name"]);
        if a["duplicated_keys"]
            .as_array()
            .is_some_and(|d| !d.is_empty())
        {
            diffs.push(format!(
                "{what}: attribute keys exported more than once: {}",
                a["duplicated_keys"]
            ));
        }
        // Python's span as we must emit it: the rules' rewrites (BROKEN_STREAM, ERROR_CLASSES,
        // TRACE_OVER_STREAM).
        let mut rewritten = e.clone();
        rewritten["attributes"] = mirascope_class(without_assumed_stop(case, e));
        let (rewritten, needs_output) = trace_over_stream(case, i, rewritten);
        let e = &rewritten;
        for key in ["kind", "scope"] {
            if a[key] != e[key] && !e[key].is_null() {
                diffs.push(format!("{what}: {key} expected {}, got {}", e[key], a[key]));
            }
        }
        if a["status"]["code"] != e["status"]["code"] {
            diffs.push(format!(
                "{what}: status expected {}, got {}",
                e["status"]["code"], a["status"]["code"]
            ));
        }
        if !e["status"]["description"].is_null()
            && !rule_ok(
                "status.description",
                &e["status"]["description"],
                &a["status"]["description"],
                &recorded,
            )
        {
            diffs.push(format!(
                "{what}: status description {} does not contain the provider message",
                a["status"]["description"]
            ));
        }
        let expected_attrs = &e["attributes"];
        let mut actual_attrs = a["attributes"].clone();
        if e.get("output_by_rule").is_some() {
            // TRACE_OVER_STREAM: the output is checked by its rule, not by value.
            let output = actual_attrs
                .as_object_mut()
                .and_then(|m| m.remove(TRACE_OVER_STREAM[2].0));
            let empty = output
                .as_ref()
                .and_then(Value::as_str)
                .is_none_or(str::is_empty);
            if needs_output && empty {
                diffs.push(format!(
                    "{what}: {} breaks its rule: empty",
                    TRACE_OVER_STREAM[2].0
                ));
            }
        }
        compare_attrs(
            &what,
            expected_attrs,
            &actual_attrs,
            &recorded,
            Some((a, &conditions)),
            diffs,
        );
        // Python records the same exception event twice on non-stream failures; we record it once.
        let mut exp_events: Vec<Value> = e["events"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|ev| json!({"name": ev["name"], "attributes": mirascope_class(ev["attributes"].clone())}))
            .collect();
        exp_events.dedup();
        let act_events = a["events"].as_array().cloned().unwrap_or_default();
        if exp_events.len() != act_events.len() {
            diffs.push(format!(
                "{what}: expected events {:?}, got {:?}",
                exp_events
                    .iter()
                    .map(|e| e["name"].clone())
                    .collect::<Vec<_>>(),
                act_events
                    .iter()
                    .map(|e| e["name"].clone())
                    .collect::<Vec<_>>()
            ));
        }
        for (ee, ae) in exp_events.iter().zip(&act_events) {
            if ee["name"] != ae["name"] {
                diffs.push(format!(
                    "{what}: event {} expected, got {}",
                    ee["name"], ae["name"]
                ));
            }
            compare_attrs(
                &format!("{what} event {}", ee["name"]),
                &ee["attributes"],
                &ae["attributes"],
                &recorded,
                None,
                diffs,
            );
        }
    }
}

fn compare_requests(case: &Value, server: &ReplayServer, diffs: &mut Vec<String>) {
    let exchanges = case["exchanges"].as_array().cloned().unwrap_or_default();
    let received = server.requests();
    if received.len() != exchanges.len() {
        diffs.push(format!(
            "expected {} requests, the server got {}",
            exchanges.len(),
            received.len()
        ));
    }
    for (i, (ex, got)) in exchanges.iter().zip(&received).enumerate() {
        let req = &ex["request"];
        if req["method"].as_str() != Some(got.method.as_str())
            || req["path"].as_str() != Some(got.path.as_str())
        {
            diffs.push(format!(
                "request #{i}: expected {} {}, got {} {}",
                req["method"], req["path"], got.method, got.path
            ));
        }
        let body = got.json().unwrap_or(Value::Null);
        for d in llm::replay::json_diff(&req["json"], &body) {
            if !TOLERATED_REQUEST_DIFFS
                .iter()
                .any(|(p, _)| d.starts_with(p))
            {
                diffs.push(format!("request #{i} body: {d}"));
            }
        }
        for secret in ["authorization", "x-api-key", "x-goog-api-key"] {
            if got
                .header(secret)
                .is_some_and(|v| !v.contains("conformance-key"))
            {
                diffs.push(format!("request #{i}: unexpected {secret} value"));
            }
        }
    }
}

fn compare_response(case: &Value, outcome: &Outcome, diffs: &mut Vec<String>) {
    let Some(chat) = case["expected_spans"]
        .as_array()
        .into_iter()
        .flatten()
        .rfind(|s| s["kind"] == "CLIENT")
    else {
        return;
    };
    let attrs = &chat["attributes"];
    match outcome {
        Outcome::Err(class, e) => {
            if chat["status"]["code"] != "ERROR" {
                diffs.push(format!("the call failed: {e}"));
            } else if mirascope_class(attrs.clone())["error.type"].as_str() != Some(class) {
                diffs.push(format!(
                    "error class: expected {}, got {class} ({e})",
                    attrs["error.type"],
                ));
            }
        }
        Outcome::Ok(r) => {
            if chat["status"]["code"] == "ERROR" {
                diffs.push(format!(
                    "the call succeeded but Python's failed with {}",
                    attrs["error.type"]
                ));
                return;
            }
            let parse = |k: &str| {
                attrs[k]
                    .as_str()
                    .and_then(|s| serde_json::from_str::<Value>(s).ok())
            };
            if let Some(content) = parse("mirascope.response.content") {
                let ours = serde_json::to_value(r.content()).unwrap();
                if ours != content {
                    diffs.push(format!(
                        "response content:\n      expected {content}\n      got      {ours}"
                    ));
                }
            }
            if let Some(u) = parse("mirascope.response.usage") {
                let ours = r.usage().map(|u| json!({"input_tokens": u.input_tokens, "output_tokens": u.output_tokens, "cache_read_tokens": u.cache_read_tokens, "cache_write_tokens": u.cache_write_tokens, "reasoning_tokens": u.reasoning_tokens, "total_tokens": u.total_tokens()}));
                if ours.as_ref() != Some(&u) {
                    diffs.push(format!("usage: expected {u}, got {ours:?}"));
                }
            }
            compare_finish_reason(case, r, attrs, diffs);
        }
    }
}

/// A case's `call.program`, run as the Rust functions tests/trace_cases/build.rs wrote from it
/// (real `#[ops::trace]`, `ops::span`, `ops::session`); its calls without a traced
/// `#[llm::call]` are the runner's own. The outcome is the program's last model call; whether
/// the program raised must match Python (its `notes` name the exception).
fn run_program(c: &Case, diffs: &mut Vec<String>) -> Result<Outcome, String> {
    let case = c.case.clone();
    mirascope_trace_cases::set_runner_call(Box::new(move || {
        let case = case.clone();
        Box::pin(async move {
            let (model, messages, tools, format) =
                prepare(&case).map_err(llm::Error::InvalidRequest)?;
            run_plain(model, messages, tools, format, &case["call"])
                .await
                .unwrap_or_else(|e| Err(llm::Error::InvalidRequest(e)))
        })
    }));
    let raised = match mirascope_trace_cases::program(&c.name) {
        None => {
            return Err(format!(
                "no program was generated for {} (tests/trace_cases/build.rs reads the case directories when the tests are built)",
                c.name
            ))
        }
        Some(result) => result.err(),
    };
    let python_raised = c.case["notes"]
        .as_str()
        .and_then(|n| n.split("Python Mirascope raised ").nth(1))
        .map(|r| r.split(':').next().unwrap_or_default().to_string());
    match (&python_raised, &raised) {
        (Some(p), None) => diffs.push(format!("Python's program raised {p}; ours returned Ok")),
        (None, Some(e)) => diffs.push(format!("our program failed ({e}); Python's returned")),
        _ => {}
    }
    match mirascope_trace_cases::take_last_call() {
        Some(Ok(r)) => Ok(Outcome::Ok(Box::new(r))),
        Some(Err((class, message))) => Ok(Outcome::Err(class, message)),
        None => Err("the program made no model call".into()),
    }
}

/// The response's finish reason: as Python's `response.finish_reason` recorded it (`outcome`),
/// or, for a case written before the oracle recorded it, through the span's mapping
/// (`OUTCOME_FROM_SPAN`).
fn compare_finish_reason(case: &Value, r: &Response, attrs: &Value, diffs: &mut Vec<String>) {
    let ours = r.finish_reason().map(llm::FinishReason::as_str);
    if let Some(outcome) = case.get("outcome") {
        if outcome["finish_reason"].as_str() != ours {
            diffs.push(format!(
                "finish reason: Python's response had {}, ours {ours:?}",
                outcome["finish_reason"]
            ));
        }
        return;
    }
    let reason = match r.finish_reason() {
        None => "stop",
        Some(llm::FinishReason::Refusal) => "content_filter",
        Some(_) => "length",
    };
    if attrs["gen_ai.response.finish_reasons"][0]
        .as_str()
        .is_some_and(|e| e != reason)
    {
        diffs.push(format!(
            "finish reason: expected {}, got {reason}",
            attrs["gen_ai.response.finish_reasons"][0]
        ));
    }
}

/// A case without `outcome` (from an oracle that does not record Python's
/// `response.finish_reason`, e.g. a `MIRASCOPE_CONFORMANCE_DIR` batch; every case of ours whose
/// call returned has one) compares the response's finish reason through the span's mapping.
#[allow(dead_code)]
const OUTCOME_FROM_SPAN: &[(&str, &str)] = &[(
    "finish reason",
    "a case without `outcome`: `None` must match a span's `stop`, `refusal` its `content_filter`, `max_tokens` and `context_length_exceeded` its `length`; cases with `outcome` compare Python's value as recorded",
)];

enum Verdict {
    Passed,
    Failed(Vec<String>),
    Skipped(String),
}

fn run_case(c: &Case) -> Verdict {
    let case = &c.case;
    let method = case["call"]["method"].as_str().unwrap_or("call");
    if !["call", "stream", "resume", "resume_stream"].contains(&method) {
        return Verdict::Skipped(format!("unknown call method {method:?} (the format defines call, stream, resume, resume_stream)"));
    }
    let exchanges: Vec<Exchange> = match serde_json::from_value(case["exchanges"].clone()) {
        Ok(e) => e,
        Err(e) => return Verdict::Failed(vec![format!("bad exchanges: {e}")]),
    };
    let server = match ReplayServer::start(exchanges, Matching::Sequential) {
        Ok(s) => s,
        Err(e) => return Verdict::Failed(vec![format!("replay server: {e}")]),
    };
    let model_id = case["call"]["model"].as_str().unwrap_or_default();
    let path = case["exchanges"][0]["request"]["path"]
        .as_str()
        .unwrap_or_default();
    let scope = format!("{}/", model_id.split('/').next().unwrap_or_default());
    if let Err(e) = llm::Provider::new(provider_for(model_id))
        .scope(scope.as_str())
        .api_key("conformance-key")
        .base_url(base_url(&server, path))
        .register()
    {
        return Verdict::Failed(vec![format!("Provider::register: {e}")]);
    }

    let (provider, exporter) = ops::testing::in_memory_provider();
    let subscriber = tracing_subscriber::registry().with(ops::layer(&provider));
    let mut diffs = Vec::new();
    let outcome = {
        let _default = tracing::subscriber::set_default(subscriber);
        ops::instrument_llm().expect("layer() configures");
        if case["call"].get("program").is_some_and(Value::is_object) {
            run_program(c, &mut diffs)
        } else {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap();
            rt.block_on(run_call(&c.name, case))
        }
    };
    let _ = provider.force_flush();
    let spans = exporter.get_finished_spans().unwrap_or_default();
    match &outcome {
        Ok(o) => compare_response(case, o, &mut diffs),
        Err(e) => diffs.push(format!("could not run the call: {e}")),
    }
    compare_requests(case, &server, &mut diffs);
    compare_spans(case, &actual_spans(&spans), &mut diffs);
    if diffs.is_empty() {
        Verdict::Passed
    } else {
        Verdict::Failed(diffs)
    }
}

#[test]
fn conformance() {
    let (cases, not_cases) = load_cases();
    assert!(!cases.is_empty(), "no conformance cases found");
    let mut counts = BTreeMap::from([("passed", 0), ("failed", 0), ("skipped", 0)]);
    for bad in &not_cases {
        *counts.get_mut("failed").unwrap() += 1;
        println!("FAILED  {}: not a case: {}", bad.file.display(), bad.why);
    }
    for c in &cases {
        match run_case(c) {
            Verdict::Passed => {
                *counts.get_mut("passed").unwrap() += 1;
                println!("ok      {}", c.name);
            }
            Verdict::Skipped(why) => {
                *counts.get_mut("skipped").unwrap() += 1;
                println!("skipped {}: {why}", c.name);
            }
            Verdict::Failed(diffs) => {
                *counts.get_mut("failed").unwrap() += 1;
                println!("FAILED  {} ({})", c.name, c.file.display());
                for d in diffs {
                    println!("    {d}");
                }
            }
        }
    }
    let summary = format!(
        "conformance: {} passed, {} failed, {} skipped",
        counts["passed"], counts["failed"], counts["skipped"]
    );
    println!("{summary}");
    // Also straight to stderr, past the test harness's capture, so CI logs always show it.
    let _ = writeln!(std::io::stderr().lock(), "{summary}");
    assert_eq!(
        counts["failed"], 0,
        "conformance cases failed (see the diffs above)"
    );
}

/// The runner is strict: an allowed extra outside its condition fails, and a file in a case
/// directory that is not a case is reported, never dropped.
#[test]
fn the_runner_is_strict() {
    let ok_span = json!({"name": "trace", "status": {"code": "UNSET"}, "attributes": {"mirascope.type": "trace"}});
    let failed_trace = json!({"name": "trace", "status": {"code": "ERROR"}, "attributes": {"mirascope.type": "trace"}});
    assert!(!extra_allowed(
        "error.type",
        &json!("X"),
        &ok_span,
        &Conditions::default()
    ));
    assert!(extra_allowed(
        "error.type",
        &json!("X"),
        &failed_trace,
        &Conditions::default()
    ));
    let chat = json!({"name": "chat m", "status": {"code": "UNSET"}, "attributes": {"gen_ai.provider.name": "anthropic"}});
    let streamed = Conditions {
        streamed: true,
        ..Conditions::default()
    };
    assert!(!extra_allowed(
        "gen_ai.response.id",
        &json!("id"),
        &chat,
        &Conditions::default()
    ));
    assert!(extra_allowed(
        "gen_ai.response.id",
        &json!("id"),
        &chat,
        &streamed
    ));
    assert!(!extra_allowed(
        "gen_ai.usage.cache_read.input_tokens",
        &json!(0),
        &chat,
        &Conditions::default()
    ));
    assert!(!extra_allowed(
        "openai.response.service_tier",
        &json!("default"),
        &chat,
        &Conditions::default()
    ));
    assert!(!extra_allowed("anything.else", &json!(1), &chat, &streamed));
    let in_session = Conditions {
        sessions: vec!["s-1".into()],
        ..Conditions::default()
    };
    assert!(extra_allowed(
        "gen_ai.conversation.id",
        &json!("s-1"),
        &chat,
        &in_session
    ));
    assert!(!extra_allowed(
        "gen_ai.conversation.id",
        &json!("s-2"),
        &chat,
        &in_session
    ));
    assert!(!extra_allowed(
        "gen_ai.conversation.id",
        &json!("s-1"),
        &ok_span,
        &in_session
    ));

    let dir = std::env::temp_dir().join(format!("mirascope-cases-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("broken.json"), "{ not json").unwrap();
    std::fs::write(dir.join("partial.json"), r#"{"call": {}}"#).unwrap();
    std::fs::write(
        dir.join("unknown.json"),
        r#"{"call": {"model": "openai/gpt-4o-mini", "retries": 3}, "exchanges": []}"#,
    )
    .unwrap();
    let (mut cases, mut bad) = (Vec::new(), Vec::new());
    load_dir(&dir, &mut cases, &mut bad);
    let _ = std::fs::remove_dir_all(&dir);
    assert!(cases.is_empty());
    assert_eq!(bad.len(), 3);
    assert!(bad.iter().any(|b| b.why.contains("`call.retries`")));
}

/// The README's "Differences from Python Mirascope" table names every key the runner compares
/// by a rule of its own, and its "Conformance" section every table of how the runner runs the
/// cases: the two say the same rules, row for row.
#[test]
fn the_readme_states_every_rule() {
    let readme = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("README.md"))
        .expect("README.md");
    let section = |from: &str, to: &str| {
        let start = readme.find(from).expect(from);
        let end = readme[start..].find(to).map_or(readme.len(), |e| start + e);
        readme[start..end].to_string()
    };
    let differences = section("## Differences from Python Mirascope", "\n## ");
    let conformance = section("## Conformance", "\n## Tests");
    let mut missing = Vec::new();
    for (table, rules) in [
        ("ALLOWED_EXTRAS", ALLOWED_EXTRAS),
        ("BY_RULE", BY_RULE),
        ("BROKEN_STREAM", BROKEN_STREAM),
        ("TRACE_OVER_STREAM", TRACE_OVER_STREAM),
        ("RUNNER_OPT_OUTS", RUNNER_OPT_OUTS),
        ("SPAN_NAMES", SPAN_NAMES),
    ] {
        for (key, _) in rules {
            if !differences.contains(&format!("`{key}`")) {
                missing.push(format!("{table}: `{key}` is not in the Differences table"));
            }
        }
    }
    for (python, ours, _) in ERROR_CLASSES {
        for class in [python, ours] {
            if !differences.contains(&format!("`{class}`")) {
                missing.push(format!(
                    "ERROR_CLASSES: `{class}` is not in the Differences table"
                ));
            }
        }
    }
    for table in [
        "ERROR_CLASSES",
        "ALLOWED_EXTRAS",
        "BY_RULE",
        "BROKEN_STREAM",
        "TRACE_OVER_STREAM",
        "RUNNER_OPT_OUTS",
        "SPAN_NAMES",
        "FIXTURE_INFERENCES",
        "TRACE_FALLBACK",
        "OUTCOME_FROM_SPAN",
    ] {
        if !conformance.contains(&format!("`{table}`")) {
            missing.push(format!("the Conformance section does not name `{table}`"));
        }
    }
    assert!(missing.is_empty(), "{}", missing.join("\n"));
}
