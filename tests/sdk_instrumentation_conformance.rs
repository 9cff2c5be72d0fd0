//! The case families of the SDK instrumentations, written by `tests/conformance_oracle/`:
//! - `openai_v2` (`openai_v2.py`): what Python's `ops.instrument_openai()` records for a Chat
//!   Completions call through the official SDK, against what `ReqwestMiddleware` records for the
//!   same bytes sent through a `reqwest-middleware` client, and what `OpenAiLayer` records for the
//!   same request sent by an `async-openai` client;
//! - `anthropic_instrumentor` (`anthropic_instrumentor.py`): what `ops.instrument_anthropic()`
//!   records for a Messages call through the official SDK, against `ReqwestMiddleware`;
//! - `google_genai_instrumentor` (`google_genai_instrumentor.py`): what
//!   `ops.instrument_google_genai()` records for `generate_content` calls through the official
//!   SDK, against `ReqwestMiddleware`.
//!
//! Spans (name, kind, status, attributes, exception events), content events and client metrics
//! are compared; the rules below say where we differ on purpose, each with the README's reason.
//!
//! One test: the instrumentation switch and the metrics recorder are process-wide.

use std::collections::BTreeMap;
use std::path::Path;

use mirascope::llm::replay::{Matching, RecordedResponse, ReplayServer};
use mirascope::ops;
use opentelemetry::KeyValue;
use opentelemetry_sdk::metrics::data::{AggregatedMetrics, MetricData};
use opentelemetry_sdk::metrics::{InMemoryMetricExporter, PeriodicReader, SdkMeterProvider};
use serde_json::{json, Value};

mod common;

/// A case family: where its cases are, the key they were recorded with (a recorded 401 may
/// echo it), how the key is sent, its switch, and how its requests are sent.
struct Family {
    dir: &'static str,
    key: &'static str,
    key_header: fn(&str) -> (&'static str, String),
    instrument: fn(ops::ContentCapture),
    uninstrument: fn(),
    transports: &'static [Transport],
}

const FAMILIES: [Family; 3] = [
    Family {
        dir: "openai_v2",
        key: "sk-test-key",
        key_header: |k| ("authorization", format!("Bearer {k}")),
        instrument: ops::instrument_openai_with,
        uninstrument: ops::uninstrument_openai,
        transports: &[Transport::ReqwestMiddleware, Transport::AsyncOpenAi],
    },
    Family {
        dir: "anthropic_instrumentor",
        key: "sk-ant-test-key",
        key_header: |k| ("x-api-key", k.to_string()),
        instrument: ops::instrument_anthropic_with,
        uninstrument: ops::uninstrument_anthropic,
        transports: &[Transport::ReqwestMiddleware],
    },
    Family {
        dir: "google_genai_instrumentor",
        key: "google-test-key",
        key_header: |k| ("x-goog-api-key", k.to_string()),
        instrument: ops::instrument_google_genai_with,
        uninstrument: ops::uninstrument_google_genai,
        transports: &[Transport::ReqwestMiddleware],
    },
];

/// Deliberate differences, as the README's Differences table gives them.
///
/// - `status description without capture`: with content capture off the description is the
///   SDK's message without the provider's body (`Error code: 401`), which may quote the request;
///   Python records the whole body whatever the capture setting.
/// - `API key redacted`: the key the request carried is replaced by `[REDACTED]` wherever a
///   provider echoes it; Python records it as sent back.
/// - `exception.stacktrace` is not compared (Python's is a Python traceback); `exception.message`
///   follows the status description's rules.
/// - `token usage unit`: `gen_ai.client.token.usage` is in `{token}` (semconv), where
///   opentelemetry-instrumentation-anthropic writes `token`.
/// - `numbers by value`, `tool definitions in any order`, `structured attributes as JSON text`
///   (google-genai; see [`by_value`], [`sorted_tools`] and the details event below): the request
///   does not carry the type of a config number or the caller's tool order, and span events take
///   no nested values.
/// - `content events are span events`: the instrumentor's log records (`gen_ai.*.message`,
///   `gen_ai.choice`) are events of the call's span, with the record's body as JSON text in
///   `body`; mirascope-ops has no logs pipeline (Python Mirascope's `configure()` sets no
///   logger provider either, so there they reach a no-op logger unless the user adds one).
fn expected_description(case: &Value, key: &str, description: &Value) -> Value {
    let Some(text) = description.as_str() else {
        return description.clone();
    };
    let capture = case["capture_content"].as_bool().unwrap_or(false);
    let text = text.replace(key, "[REDACTED]");
    if !capture {
        // google-genai's `{code} {status}. {details}` (after `{Class}: ` in a status).
        if let Some(at) = text.find(". {") {
            let head = &text[..at];
            if head.rsplit(": ").next().is_some_and(|h| {
                h.split(' ')
                    .next()
                    .is_some_and(|c| c.parse::<u16>().is_ok())
            }) {
                return Value::String(format!("{head}."));
            }
        }
        if let Some(rest) = text.strip_prefix("Error code: ") {
            let status = rest.split(" - ").next().unwrap_or(rest);
            return Value::String(format!("Error code: {status}"));
        }
        // The SDK's text for a non-JSON body is the body itself.
        if let Some(status) = case["responses"][0]["status"]
            .as_u64()
            .filter(|s| *s >= 400)
        {
            return Value::String(format!("Error code: {status}"));
        }
    }
    Value::String(text)
}

/// Rule `tool definitions in any order`: google-genai reorders a request's tools on the wire
/// (built-in tools before function declarations), so the caller's order is not in the request;
/// the definitions are compared sorted.
fn sorted_tools(key: &str, v: Value) -> Value {
    if key != "gen_ai.tool.definitions" {
        return v;
    }
    let sort = |mut items: Vec<Value>| {
        items.sort_by_key(|i| i.to_string());
        items
    };
    match v {
        Value::Array(items) => Value::Array(sort(items)),
        Value::String(text) => match serde_json::from_str::<Value>(&text) {
            Ok(Value::Array(items)) => {
                Value::String(serde_json::to_string(&sort(items)).unwrap_or(text))
            }
            _ => Value::String(text),
        },
        other => other,
    }
}

/// Rule `numbers by value`: an integral float is compared as the integer (google-genai writes a
/// config's `top_k` as a float on the wire, so the type the caller passed is not in the request).
fn by_value(v: Value) -> Value {
    match v {
        Value::Number(n) if n.is_f64() => match n.as_f64() {
            Some(f) if f.fract() == 0.0 && f.abs() < 9.0e15 => json!(f as i64),
            _ => Value::Number(n),
        },
        other => other,
    }
}

fn attr_map<'a>(kvs: impl Iterator<Item = &'a KeyValue>) -> BTreeMap<String, Value> {
    kvs.map(|kv| {
        let key = kv.key.to_string();
        let value = sorted_tools(&key, by_value(common::otel_value(&kv.value)));
        (key, value)
    })
    .collect()
}

/// The expected attributes with the replay server's port in place of the recording's.
fn expected_attrs(expected: &Value, port: u16) -> BTreeMap<String, Value> {
    let mut out: BTreeMap<String, Value> = expected
        .as_object()
        .map(|m| {
            m.iter()
                .map(|(k, v)| (k.clone(), sorted_tools(k, by_value(v.clone()))))
                .collect()
        })
        .unwrap_or_default();
    if out.contains_key("server.port") {
        out.insert("server.port".into(), json!(port));
    }
    out
}

fn recorded_response(v: &Value) -> RecordedResponse {
    let text = v.get("text").and_then(Value::as_str).map(str::to_string);
    RecordedResponse {
        status: v["status"].as_u64().unwrap_or(200) as u16,
        headers: v["headers"].as_object().cloned().unwrap_or_default(),
        json: v.get("json").cloned(),
        // A plain-text body is served as is, as an SSE body is.
        sse: v
            .get("sse")
            .and_then(Value::as_str)
            .map(str::to_string)
            .or(text),
        delay_ms: None,
    }
}

/// Runs one case; returns its mismatches.
/// How a case's request is sent.
#[derive(Debug, Clone, Copy)]
enum Transport {
    /// The recorded bytes, through `ops::ReqwestMiddleware` in a `reqwest-middleware` client.
    ReqwestMiddleware,
    /// The recorded JSON, through an `async-openai` client (its bring-your-own-types calls) whose
    /// HTTP service has `ops::OpenAiLayer`.
    AsyncOpenAi,
}

async fn run_case(case: &Value, family: &Family, transport: Transport) -> Vec<String> {
    let key = family.key;
    let name = format!("{} ({transport:?})", case["name"].as_str().unwrap_or("?"));
    let name = name.as_str();
    let mut problems = Vec::new();
    let responses: Vec<_> = case["responses"]
        .as_array()
        .expect("responses")
        .iter()
        .map(|r| common::answer(recorded_response(r)))
        .collect();
    let server = ReplayServer::start(responses, Matching::Sequential).expect("replay server");
    let port: u16 = server
        .base_url()
        .rsplit(':')
        .next()
        .and_then(|p| p.trim_end_matches('/').parse().ok())
        .expect("port");

    let (tracer_provider, spans) = ops::testing::in_memory_provider();
    let metrics = InMemoryMetricExporter::default();
    let meter_provider = SdkMeterProvider::builder()
        .with_reader(PeriodicReader::builder(metrics.clone()).build())
        .build();
    let guard = ops::Configuration::new(tracer_provider.clone())
        .meter_provider(meter_provider.clone())
        .install()
        .expect("configure");
    let capture = case["capture_content"].as_bool().expect("capture_content");
    (family.instrument)(if capture {
        ops::ContentCapture::Enabled
    } else {
        ops::ContentCapture::Disabled
    });

    let request = &case["request"];
    let path = request["path"].as_str().expect("path");
    let body_text = request["body"].as_str().expect("body");
    match transport {
        Transport::ReqwestMiddleware => {
            let client = reqwest_middleware::ClientBuilder::new(reqwest::Client::new())
                .with(ops::ReqwestMiddleware)
                .build();
            let url = format!("{}{path}", server.base_url().trim_end_matches('/'));
            let (header, value) = (family.key_header)(key);
            let sent = client
                .post(url)
                .header(header, value)
                .header("content-type", "application/json")
                .body(body_text.to_string())
                .send()
                .await
                .expect("send");
            let body = sent.bytes().await.expect("body");
            // The caller gets the server's bytes unchanged.
            let served = &case["responses"][0];
            let want = match (served.get("json"), served.get("sse"), served.get("text")) {
                (Some(j), _, _) => j.to_string(),
                (_, Some(s), _) | (_, _, Some(s)) => s.as_str().unwrap_or_default().to_string(),
                _ => String::new(),
            };
            if body != want.as_bytes() {
                problems.push(format!("{name}: the body reached the caller changed"));
            }
        }
        Transport::AsyncOpenAi => {
            use futures_util::StreamExt;
            use tower_layer::Layer;
            // As the Python cases: no retries (`max_retries=0`).
            let service = ops::OpenAiLayer.layer(async_openai::middleware::ReqwestService::new(
                reqwest::Client::new(),
            ));
            let config = async_openai::config::OpenAIConfig::new()
                .with_api_key(key)
                .with_api_base(format!(
                    "{}{}",
                    server.base_url().trim_end_matches('/'),
                    path.trim_end_matches("/chat/completions")
                ));
            let client = async_openai::Client::with_config(config).with_http_service(service);
            let body: Value = serde_json::from_str(body_text).expect("request JSON");
            if body["stream"] == json!(true) {
                if let Ok(mut stream) = client.chat().create_stream_byot::<Value, Value>(body).await
                {
                    while let Some(Ok(_)) = stream.next().await {}
                }
            } else {
                let _ = client.chat().create_byot::<Value, Value>(body).await;
            }
        }
    }

    (family.uninstrument)();
    tracer_provider.force_flush().expect("flush spans");
    meter_provider.force_flush().expect("flush metrics");

    // Spans.
    let ours = spans.get_finished_spans().expect("spans");
    let expected = case["expected"]["spans"].as_array().expect("spans");
    if ours.len() != expected.len() {
        problems.push(format!(
            "{name}: {} spans, expected {}",
            ours.len(),
            expected.len()
        ));
    }
    for (span, want) in ours.iter().zip(expected) {
        if span.name != want["name"].as_str().unwrap_or_default() {
            problems.push(format!(
                "{name}: span name {} != {}",
                span.name, want["name"]
            ));
        }
        let kind = format!("{:?}", span.span_kind).to_lowercase();
        if kind != want["kind"] {
            problems.push(format!("{name}: kind {kind} != {}", want["kind"]));
        }
        let (code, description) = match &span.status {
            opentelemetry::trace::Status::Unset => ("unset", Value::Null),
            opentelemetry::trace::Status::Ok => ("ok", Value::Null),
            opentelemetry::trace::Status::Error { description } => {
                ("error", json!(description.as_ref()))
            }
        };
        if code != want["status"]["code"] {
            problems.push(format!(
                "{name}: status {code} != {}",
                want["status"]["code"]
            ));
        }
        let want_description = expected_description(case, key, &want["status"]["description"]);
        if description != want_description {
            problems.push(format!(
                "{name}: status description {description} != {want_description}"
            ));
        }
        let keys: Vec<&str> = span.attributes.iter().map(|kv| kv.key.as_str()).collect();
        if keys.iter().enumerate().any(|(i, k)| keys[..i].contains(k)) {
            problems.push(format!(
                "{name}: an attribute key exported more than once: {keys:?}"
            ));
        }
        let got = attr_map(span.attributes.iter());
        let want_attrs = expected_attrs(&want["attributes"], port);
        if got != want_attrs {
            problems.push(format!(
                "{name}: attributes\n   ours     {got:?}\n   expected {want_attrs:?}"
            ));
        }
        // Exception events, compared with the span's; content events (rule: span events with
        // the body as JSON text), compared with the instrumentor's log records.
        let (exceptions, content): (Vec<_>, Vec<_>) =
            span.events.iter().partition(|e| e.name == "exception");
        let exceptions: Vec<Value> = exceptions
            .iter()
            .map(|e| json!({"name": e.name.as_ref(), "attributes": attr_map(e.attributes.iter())}))
            .collect();
        let want_exceptions: Vec<Value> = want["events"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|e| {
                let mut e = e.clone();
                if let Some(m) = e["attributes"].get("exception.message").cloned() {
                    e["attributes"]["exception.message"] = expected_description(case, key, &m);
                }
                e
            })
            .collect();
        if exceptions != want_exceptions {
            problems.push(format!(
                "{name}: exception events\n   ours     {exceptions:?}\n   expected {want_exceptions:?}"
            ));
        }
        let events: Vec<Value> = content
            .iter()
            .map(|e| {
                let attrs = attr_map(e.attributes.iter());
                if e.name == "gen_ai.client.inference.operation.details" {
                    // Rule `structured attributes as JSON text`: the log record's list
                    // attributes are JSON text on the span event.
                    let attributes: BTreeMap<String, Value> = attrs
                        .into_iter()
                        .map(
                            |(k, v)| match v.as_str().map(serde_json::from_str::<Value>) {
                                Some(Ok(parsed @ Value::Array(_))) => {
                                    let parsed = sorted_tools(&k, parsed);
                                    (k, parsed)
                                }
                                _ => (k, v),
                            },
                        )
                        .collect();
                    return json!({
                        "event_name": e.name.as_ref(),
                        "attributes": attributes,
                        "body": Value::Null,
                    });
                }
                json!({
                    "event_name": e.name.as_ref(),
                    "attributes": {"gen_ai.system": attrs.get("gen_ai.system")},
                    "body": attrs
                        .get("body")
                        .and_then(Value::as_str)
                        .map(|b| serde_json::from_str::<Value>(b).expect("body JSON"))
                        .unwrap_or(Value::Null),
                })
            })
            .collect();
        let want_events = &json!(case["expected"]["events"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|e| {
                let mut e = e.clone();
                if let Some(attrs) = e["attributes"].as_object() {
                    e["attributes"] = json!(attrs
                        .iter()
                        .map(|(k, v)| (k.clone(), sorted_tools(k, by_value(v.clone()))))
                        .collect::<BTreeMap<_, _>>());
                }
                e
            })
            .collect::<Vec<_>>());
        if &Value::Array(events.clone()) != want_events {
            problems.push(format!(
                "{name}: events\n   ours     {}\n   expected {want_events}",
                Value::Array(events)
            ));
        }
    }

    // Metrics: names, units, each point's attributes and count; token sums.
    let exported = metrics.get_finished_metrics().expect("metrics");
    let mut got: BTreeMap<String, (String, Vec<Value>)> = BTreeMap::new();
    if let Some(last) = exported.last() {
        for scope in last.scope_metrics() {
            for m in scope.metrics() {
                let entry = got
                    .entry(m.name().to_string())
                    .or_insert_with(|| (m.unit().to_string(), Vec::new()));
                match m.data() {
                    AggregatedMetrics::U64(MetricData::Histogram(h)) => {
                        for p in h.data_points() {
                            entry.1.push(json!({
                                "attributes": attr_map(p.attributes()),
                                "count": p.count(),
                                "sum": p.sum(),
                            }));
                        }
                    }
                    AggregatedMetrics::F64(MetricData::Histogram(h)) => {
                        for p in h.data_points() {
                            entry.1.push(json!({
                                "attributes": attr_map(p.attributes()),
                                "count": p.count(),
                            }));
                        }
                    }
                    AggregatedMetrics::U64(MetricData::Sum(c)) => {
                        for p in c.data_points() {
                            entry.1.push(json!({
                                "attributes": attr_map(p.attributes()),
                                "value": p.value(),
                            }));
                        }
                    }
                    _ => {}
                }
            }
        }
    }
    let sort = |points: &mut Vec<Value>| points.sort_by_key(|p| p.to_string());
    for want in case["expected"]["metrics"].as_array().expect("metrics") {
        let metric = want["name"].as_str().unwrap_or_default();
        let mut want_points: Vec<Value> = want["points"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|p| {
                let mut p = p.clone();
                p["attributes"] = json!(expected_attrs(&p["attributes"], port));
                if let Some(sum) = p.get("sum").and_then(Value::as_f64) {
                    p["sum"] = json!(sum as u64);
                }
                p
            })
            .collect();
        sort(&mut want_points);
        match got.remove(metric) {
            None => problems.push(format!("{name}: no {metric}")),
            Some((unit, mut points)) => {
                sort(&mut points);
                // Rule `token usage unit`.
                let want_unit = match (metric, want["unit"].as_str()) {
                    ("gen_ai.client.token.usage", Some("token")) => "{token}",
                    (_, u) => u.unwrap_or_default(),
                };
                if unit != want_unit {
                    problems.push(format!("{name}: {metric} unit {unit} != {}", want["unit"]));
                }
                if points != want_points {
                    problems.push(format!(
                        "{name}: {metric}\n   ours     {points:?}\n   expected {want_points:?}"
                    ));
                }
            }
        }
    }
    for extra in got.keys() {
        problems.push(format!("{name}: unexpected metric {extra}"));
    }
    drop(guard);
    let _ = meter_provider.shutdown();
    problems
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn spans_events_and_metrics_equal_the_python_instrumentors() {
    let mut problems = Vec::new();
    for family in &FAMILIES {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/fixtures")
            .join(family.dir);
        let mut files: Vec<_> = std::fs::read_dir(&dir)
            .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
            .map(|e| e.expect("entry").path())
            .filter(|p| p.extension().is_some_and(|e| e == "json"))
            .collect();
        files.sort();
        assert!(
            files.len() >= 16,
            "the {} family has {} cases",
            family.dir,
            files.len()
        );
        let before = problems.len();
        for file in &files {
            let text = std::fs::read_to_string(file).expect("case");
            let case: Value = serde_json::from_str(&text)
                .unwrap_or_else(|e| panic!("{} does not parse: {e}", file.display()));
            assert!(
                case["provenance"]
                    .as_str()
                    .is_some_and(|p| p.starts_with("synthesized: ")),
                "{}: provenance",
                file.display()
            );
            for transport in family.transports {
                problems.extend(run_case(&case, family, *transport).await);
            }
        }
        println!(
            "{} conformance: {} cases, {} mismatches",
            family.dir,
            files.len(),
            problems.len() - before
        );
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}
