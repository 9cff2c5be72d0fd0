//! End to end against a real LLM-observability backend: installs Arize Phoenix from PyPI into a
//! virtualenv (`target/phoenix-venv`, reused), starts `phoenix serve` on loopback, exports an
//! instrumented call, a stream and a traced `#[llm::call]` over OTLP http/protobuf, reads them
//! back through Phoenix's REST API and checks names, parent links and every `gen_ai.*`
//! attribute, and reads back through its GraphQL API the cost Phoenix computes for a priced model. Skips (with a message) only when Python is absent. The server it starts is stopped.

mod common;

use std::collections::HashMap;
use std::path::PathBuf;
use std::process::{Child, Command};
use std::time::{Duration, Instant};

use common::{json_response, serve, sse_response, Wire};
use mirascope::ops::export::{Otlp, Protocol};
use mirascope::{llm, ops};
use serde_json::Value;
use tracing_subscriber::layer::SubscriberExt;

const PROJECT: &str = "mirascope-e2e";

struct Server(Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn python() -> Option<String> {
    ["python3", "python"]
        .iter()
        .find(|p| {
            Command::new(p)
                .arg("--version")
                .output()
                .is_ok_and(|o| o.status.success())
        })
        .map(|p| p.to_string())
}

/// Two distinct free loopback ports (both listeners are held until both are known, so the
/// second cannot be the first one again).
fn free_ports() -> (u16, u16) {
    let a = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let b = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    (
        a.local_addr().unwrap().port(),
        b.local_addr().unwrap().port(),
    )
}

/// The Phoenix release this test was written against; a new release is a deliberate change.
const PHOENIX_VERSION: &str = "20.26.1";

/// The virtualenv with Phoenix `PHOENIX_VERSION`, installed if missing.
fn phoenix_venv(python: &str) -> PathBuf {
    let venv = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target/phoenix-venv");
    // A marker names the installed release, so a venv from another pin is brought up to date.
    let marker = venv.join(format!(".arize-phoenix-{PHOENIX_VERSION}"));
    if !marker.exists() {
        let ok = Command::new(python)
            .args(["-m", "venv"])
            .arg(&venv)
            .status()
            .expect("python -m venv")
            .success();
        assert!(ok, "creating the virtualenv failed");
        let ok = Command::new(venv.join("bin/pip"))
            .args(["install", "--quiet"])
            .arg(format!("arize-phoenix=={PHOENIX_VERSION}"))
            .status()
            .expect("pip")
            .success();
        assert!(ok, "pip install arize-phoenix failed");
        std::fs::write(&marker, "").expect("venv marker");
    }
    venv
}

/// A client for loopback only: no proxy from the environment is consulted.
fn loopback_client() -> reqwest::Client {
    reqwest::Client::builder()
        .no_proxy()
        .build()
        .expect("reqwest client")
}

fn get(url: &str) -> Option<Value> {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .ok()?;
    rt.block_on(async {
        let resp = loopback_client()
            .get(url)
            .timeout(Duration::from_secs(10))
            .send()
            .await
            .ok()?;
        if !resp.status().is_success() {
            return None;
        }
        let text = resp.text().await.ok()?;
        serde_json::from_str(&text)
            .ok()
            .or(Some(Value::String(text)))
    })
}

/// A replay server answering one OpenAI Responses call with `body`, registered for the model
/// ids starting with `scope`.
fn serve_scope(scope: &str, body: Value) -> mirascope::llm::replay::ReplayServer {
    let server = mirascope::llm::replay::ReplayServer::start(
        vec![common::answer(json_response(200, body))],
        mirascope::llm::replay::Matching::Sequential,
    )
    .unwrap();
    llm::Provider::new("openai:responses")
        .scope(scope)
        .api_key("k")
        .base_url(format!("{}/v1", server.base_url()))
        .register()
        .unwrap();
    server
}

/// Runs a GraphQL query against Phoenix.
fn graphql(base: &str, query: &str) -> Option<Value> {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .ok()?;
    rt.block_on(async {
        let resp = loopback_client()
            .post(format!("{base}/graphql"))
            .header("content-type", "application/json")
            .body(serde_json::json!({ "query": query }).to_string())
            .timeout(Duration::from_secs(10))
            .send()
            .await
            .ok()?;
        serde_json::from_str(&resp.text().await.ok()?).ok()
    })
}

/// The total cost Phoenix computed for the span named `name` of `PROJECT`, once it has one.
fn phoenix_cost(base: &str, name: &str) -> Option<f64> {
    let query = "{ projects(first: 50) { edges { node { name spans(first: 100) { edges { node \
                 { name costSummary { total { cost tokens } } } } } } } } }";
    let data = graphql(base, query)?;
    let projects = data.pointer("/data/projects/edges")?.as_array()?.clone();
    let project = projects
        .iter()
        .find(|p| p.pointer("/node/name").and_then(Value::as_str) == Some(PROJECT))?;
    project
        .pointer("/node/spans/edges")?
        .as_array()?
        .iter()
        .find(|s| s.pointer("/node/name").and_then(Value::as_str) == Some(name))?
        .pointer("/node/costSummary/total/cost")?
        .as_f64()
}

/// Flattens nested attribute objects into dotted keys.
fn flatten(prefix: &str, v: &Value, out: &mut HashMap<String, Value>) {
    match v {
        Value::Object(m) => {
            for (k, v) in m {
                let key = if prefix.is_empty() {
                    k.clone()
                } else {
                    format!("{prefix}.{k}")
                };
                flatten(&key, v, out);
            }
        }
        other => {
            out.insert(prefix.to_string(), other.clone());
        }
    }
}

/// How long a first start may take on a busy 2-core machine (it runs its database migrations;
/// about 12 s on an idle one).
const STARTUP_BOUND: Duration = Duration::from_secs(300);

/// Starts `phoenix serve` on two fresh loopback ports and waits until `/healthz` answers. Its
/// output goes to `phoenix.log` in `workdir`; when it exits before answering (a port taken
/// meanwhile, say) it is started once more on other ports, and a failure shows the log's tail.
fn start_phoenix(venv: &std::path::Path, workdir: &std::path::Path) -> (Server, String) {
    std::fs::create_dir_all(workdir).expect("Phoenix working directory");
    let log_path = workdir.join("phoenix.log");
    let log_tail = || {
        let log = std::fs::read_to_string(&log_path).unwrap_or_default();
        let lines: Vec<&str> = log.lines().collect();
        lines[lines.len().saturating_sub(40)..].join("\n")
    };
    for attempt in 1..=2 {
        let (port, grpc_port) = free_ports();
        let log = std::fs::File::create(&log_path).expect("phoenix.log");
        let child = Command::new(venv.join("bin/phoenix"))
            .arg("serve")
            .env("PHOENIX_HOST", "127.0.0.1")
            .env("PHOENIX_PORT", port.to_string())
            .env("PHOENIX_GRPC_PORT", grpc_port.to_string())
            .env("PHOENIX_WORKING_DIR", workdir)
            .env("PHOENIX_TELEMETRY_ENABLED", "false")
            .stdout(log.try_clone().expect("phoenix.log"))
            .stderr(log)
            .spawn()
            .expect("phoenix serve");
        let mut server = Server(child);
        let base = format!("http://127.0.0.1:{port}");
        let started = Instant::now();
        loop {
            if get(&format!("{base}/healthz")).is_some() {
                println!(
                    "Phoenix {PHOENIX_VERSION} answered after {:.1} s (attempt {attempt})",
                    started.elapsed().as_secs_f64()
                );
                return (server, base);
            }
            if let Ok(Some(status)) = server.0.try_wait() {
                println!(
                    "Phoenix exited ({status}) before answering (attempt {attempt}); its log:\n{}",
                    log_tail()
                );
                break;
            }
            assert!(
                started.elapsed() < STARTUP_BOUND,
                "Phoenix did not answer /healthz within {STARTUP_BOUND:?}; its log:\n{}",
                log_tail()
            );
            std::thread::sleep(Duration::from_millis(500));
        }
    }
    panic!(
        "Phoenix exited before answering, twice; its log:\n{}",
        log_tail()
    );
}

#[ops::trace(tags = ["e2e"])]
#[llm::call("phoenix/gpt-4o-mini")]
fn recommend(genre: &str) -> String {
    format!("Recommend a {genre} book.")
}

// Heavy (installs Phoenix from PyPI, starts a server): it runs when MIRASCOPE_E2E=1, as .ci/run
// sets, and is reported as ignored otherwise.
#[test]
#[cfg_attr(
    not(mirascope_e2e),
    ignore = "heavy: installs Arize Phoenix; set MIRASCOPE_E2E=1 (.ci/run does)"
)]
fn spans_round_trip_through_phoenix() {
    let Some(python) = python() else {
        println!("SKIPPED phoenix_e2e: no Python interpreter on this machine (Phoenix is a Python package)");
        return;
    };
    let venv = phoenix_venv(&python);
    let workdir = std::env::temp_dir().join(format!("phoenix-{}", std::process::id()));
    let (_server, base) = start_phoenix(&venv, &workdir);

    // Our spans go to Phoenix over OTLP http/protobuf and to memory, for comparison.
    let otlp = Otlp::new()
        .endpoint(&base)
        .protocol(Protocol::HttpProtobuf)
        .header("x-project-name", PROJECT);
    let memory = ops::testing::SpanExporter::default();
    let provider = ops::sdk::trace::SdkTracerProvider::builder()
        .with_span_processor(otlp.batch_processor().expect("otlp"))
        .with_simple_exporter(memory.clone())
        .build();
    let wire = Wire::Responses;
    let (_s1, model) = serve(
        wire,
        vec![
            json_response(200, wire.text_body("Hello from Phoenix")),
            sse_response(wire.sse_body(&["Streamed", " hello"], false)),
        ],
    );
    let _traced_server = serve_scope("phoenix/", wire.text_body("Read Dune."));
    // A call of a model Phoenix prices (its built-in table matches `gpt-4o-mini` in the model
    // name it reads from `gen_ai.request.model`).
    let _priced_server = serve_scope("priced/", wire.text_body("Priced hello"));
    let priced = llm::model("priced/gpt-4o-mini").unwrap();
    let subscriber = tracing_subscriber::registry().with(ops::layer(&provider));
    tracing::subscriber::with_default(subscriber, || {
        ops::instrument_llm().unwrap();
        model
            .call_blocking(vec![
                llm::Message::system("Be brief."),
                llm::Message::user("hello"),
            ])
            .unwrap();
        let streamed = model
            .stream_blocking("stream please")
            .unwrap()
            .finish()
            .unwrap();
        assert_eq!(streamed.text(), "Streamed hello");
        let traced = recommend("sci-fi").call_blocking().unwrap();
        assert_eq!(traced.text(), "Read Dune.");
        priced.call_blocking("price me").unwrap();
    });
    provider.force_flush().unwrap();
    let ours = memory.get_finished_spans().unwrap();
    assert_eq!(
        ours.len(),
        5,
        "two chat spans, the traced call's chat span and its trace span, the priced chat span"
    );

    // Read them back.
    let started = Instant::now();
    let stored: Vec<Value> = loop {
        let data = get(&format!("{base}/v1/projects/{PROJECT}/spans?limit=100"))
            .and_then(|v| v["data"].as_array().cloned())
            .unwrap_or_default();
        if data.len() >= ours.len() || started.elapsed() > Duration::from_secs(30) {
            break data;
        }
        std::thread::sleep(Duration::from_millis(300));
    };
    assert_eq!(stored.len(), ours.len(), "every span reached Phoenix");
    let by_id: HashMap<String, &Value> = stored
        .iter()
        .map(|s| {
            (
                s["context"]["span_id"]
                    .as_str()
                    .unwrap_or_default()
                    .to_ascii_lowercase(),
                s,
            )
        })
        .collect();
    for span in &ours {
        let id = span.span_context.span_id().to_string();
        let got = by_id
            .get(&id)
            .unwrap_or_else(|| panic!("span {} ({id}) not in Phoenix", span.name));
        assert_eq!(got["name"], span.name.as_ref());
        let parent = got["parent_id"].as_str().map(str::to_ascii_lowercase);
        let expected_parent = (span.parent_span_id != opentelemetry::trace::SpanId::INVALID)
            .then(|| span.parent_span_id.to_string());
        assert_eq!(parent, expected_parent, "{}: parent link", span.name);
        let mut attrs = HashMap::new();
        flatten("", &got["attributes"], &mut attrs);
        for kv in span
            .attributes
            .iter()
            .filter(|kv| kv.key.as_str().starts_with("gen_ai."))
        {
            let stored = attrs
                .get(kv.key.as_str())
                .unwrap_or_else(|| panic!("{}: {} missing in Phoenix", span.name, kv.key));
            let expected = match &kv.value {
                opentelemetry::Value::I64(i) => Value::from(*i),
                opentelemetry::Value::F64(f) => Value::from(*f),
                opentelemetry::Value::Bool(b) => Value::from(*b),
                opentelemetry::Value::Array(opentelemetry::Array::String(items)) => {
                    Value::from(items.iter().map(|s| s.to_string()).collect::<Vec<_>>())
                }
                other => Value::from(other.as_str().to_string()),
            };
            assert_eq!(stored, &expected, "{}: {}", span.name, kv.key);
        }
    }

    // Phoenix prices the call: 3 input and 2 output tokens of gpt-4o-mini at its built-in
    // $0.15 / $0.60 per million.
    let started = Instant::now();
    let cost = loop {
        if let Some(c) = phoenix_cost(&base, "chat priced/gpt-4o-mini") {
            break c;
        }
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "Phoenix computed no cost for the priced call"
        );
        std::thread::sleep(Duration::from_millis(300));
    };
    let expected = 3.0 * 0.15e-6 + 2.0 * 0.6e-6;
    assert!(
        (cost - expected).abs() < 1e-12,
        "Phoenix's cost {cost} != {expected}"
    );
    // Ours (genai-prices) matches what Phoenix computes from the same span.
    let priced = ours
        .iter()
        .find(|s| s.name == "chat priced/gpt-4o-mini")
        .expect("our priced span");
    let our_cost = priced
        .attributes
        .iter()
        .find(|kv| kv.key.as_str() == "mirascope.response.cost")
        .and_then(|kv| match kv.value {
            opentelemetry::Value::F64(f) => Some(f),
            _ => None,
        })
        .expect("mirascope.response.cost on the priced span");
    assert!(
        (our_cost - cost).abs() < 1e-12,
        "our cost {our_cost} != Phoenix's {cost}"
    );
    let _ = std::fs::remove_dir_all(workdir);
}
