//! Property-based fuzzing of every decoder of provider and recorded text: each wire format's call
//! body, its SSE events, its error body, and the cassette loader. Seeds are the recorded
//! exchanges of the conformance fixtures (`tests/fixtures/conformance/`); proptest mutates them
//! three ways (bytes, JSON structure, SSE frames) and the property is that nothing panics:
//! every input ends in a value or a typed error.
//!
//! `cargo test` runs a bounded number of cases per target (64); set `MIRASCOPE_FUZZ_CASES` for
//! longer runs (e.g. `MIRASCOPE_FUZZ_CASES=100000 cargo test -p mirascope-llm fuzz`).
//!
//! Layer: test support (the crate docs list the layers: data, wire, call, observation).

use std::path::Path;
use std::sync::OnceLock;

use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};
use serde_json::{Map, Number, Value};

use crate::provider::http::api_error;
use crate::provider::{wire, DecodeContext};
use crate::registry::Api;

/// One recorded answer, with the wire format that produced it.
#[derive(Debug, Clone)]
enum Seed {
    Body(Api, Value),
    Sse(Api, String),
    Error(Api, u16, Value),
}

/// The API of a recorded request, from its path.
fn api_of(path: &str) -> Option<Api> {
    if path.contains("/responses") {
        Some(Api::OpenAiResponses)
    } else if path.contains("/chat/completions") {
        Some(Api::OpenAiCompletions)
    } else if path.contains("/messages") {
        Some(Api::Anthropic)
    } else if path.contains("enerateContent") {
        Some(Api::Google)
    } else {
        None
    }
}

fn fixtures_dir() -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/fixtures/conformance")
}

/// Every recorded answer of the conformance fixtures.
fn seeds() -> &'static [Seed] {
    static SEEDS: OnceLock<Vec<Seed>> = OnceLock::new();
    SEEDS.get_or_init(|| {
        let mut out = Vec::new();
        let Ok(entries) = std::fs::read_dir(fixtures_dir()) else {
            return out;
        };
        let mut files: Vec<_> = entries.filter_map(|e| e.ok().map(|e| e.path())).collect();
        files.sort();
        for file in files {
            let Ok(text) = std::fs::read_to_string(&file) else {
                continue;
            };
            let Ok(case) = serde_json::from_str::<Value>(&text) else {
                continue;
            };
            for ex in case["exchanges"].as_array().into_iter().flatten() {
                let Some(api) = ex["request"]["path"].as_str().and_then(api_of) else {
                    continue;
                };
                let resp = &ex["response"];
                let status = resp["status"].as_u64().unwrap_or(200) as u16;
                if let Some(sse) = resp["sse"].as_str() {
                    out.push(Seed::Sse(api, sse.to_string()));
                } else if status >= 400 {
                    out.push(Seed::Error(api, status, resp["json"].clone()));
                } else {
                    out.push(Seed::Body(api, resp["json"].clone()));
                }
            }
        }
        out
    })
}

fn cases() -> u32 {
    std::env::var("MIRASCOPE_FUZZ_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(64)
}

fn runner() -> TestRunner {
    TestRunner::new(Config {
        cases: cases(),
        failure_persistence: None,
        ..Config::default()
    })
}

/// Keys the decoders look at, so that generated objects reach their branches.
const KEYS: &[&str] = &[
    "type",
    "id",
    "model",
    "modelVersion",
    "text",
    "delta",
    "content",
    "role",
    "usage",
    "output",
    "choices",
    "message",
    "finish_reason",
    "stop_reason",
    "candidates",
    "parts",
    "finishReason",
    "usageMetadata",
    "input_tokens",
    "output_tokens",
    "prompt_tokens",
    "completion_tokens",
    "promptTokenCount",
    "candidatesTokenCount",
    "thoughtsTokenCount",
    "tool_calls",
    "function",
    "arguments",
    "name",
    "call_id",
    "functionCall",
    "args",
    "error",
    "response",
    "item",
    "content_block",
    "index",
    "status",
    "incomplete_details",
    "reason",
    "refusal",
    "thought",
    "summary",
    "cache_read_input_tokens",
    "input_tokens_details",
    "cached_tokens",
];

/// Arbitrary JSON leaning on the extremes a hostile server would send.
fn arb_json() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        Just(Value::from(u64::MAX)),
        Just(Value::from(-1)),
        any::<f64>().prop_map(|f| Number::from_f64(f).map_or(Value::Null, Value::Number)),
        Just(Value::from(1e300)),
        ".{0,12}".prop_map(Value::String),
        prop::sample::select(KEYS).prop_map(|k| Value::String(k.to_string())),
    ];
    leaf.prop_recursive(3, 24, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            prop::collection::vec((prop::sample::select(KEYS), inner), 0..5).prop_map(|kvs| {
                Value::Object(
                    kvs.into_iter()
                        .map(|(k, v)| (k.to_string(), v))
                        .collect::<Map<_, _>>(),
                )
            }),
        ]
    })
}

/// Every node of a JSON value, as a pointer.
fn pointers(v: &Value, at: String, out: &mut Vec<String>) {
    out.push(at.clone());
    match v {
        Value::Array(items) => {
            for (i, item) in items.iter().enumerate() {
                pointers(item, format!("{at}/{i}"), out);
            }
        }
        Value::Object(map) => {
            for (k, item) in map {
                let k = k.replace('~', "~0").replace('/', "~1");
                pointers(item, format!("{at}/{k}"), out);
            }
        }
        _ => {}
    }
}

/// A structural edit: replace (or, for `None`, remove) the node chosen by `pick`.
fn mutate_json(mut v: Value, edits: &[(usize, Option<Value>)]) -> Value {
    for (pick, replacement) in edits {
        let mut all = Vec::new();
        pointers(&v, String::new(), &mut all);
        let target = &all[pick % all.len()];
        match replacement {
            Some(r) => {
                if target.is_empty() {
                    v = r.clone();
                } else if let Some(node) = v.pointer_mut(target) {
                    *node = r.clone();
                }
            }
            None => {
                if let Some((parent, key)) = target.rsplit_once('/') {
                    match v.pointer_mut(parent) {
                        Some(Value::Object(m)) => {
                            m.remove(&key.replace("~1", "/").replace("~0", "~"));
                        }
                        Some(Value::Array(a)) => {
                            if let Ok(i) = key.parse::<usize>() {
                                if i < a.len() {
                                    a.remove(i);
                                }
                            }
                        }
                        _ => {}
                    }
                }
            }
        }
    }
    v
}

/// Byte edits: flip, insert, delete, or truncate at a position.
fn mutate_bytes(mut b: Vec<u8>, edits: &[(usize, u8, u8)]) -> Vec<u8> {
    for (pos, op, byte) in edits {
        if b.is_empty() {
            b.push(*byte);
            continue;
        }
        let at = pos % b.len();
        match op % 4 {
            0 => b[at] ^= byte | 1,
            1 => b.insert(at, *byte),
            2 => {
                b.remove(at);
            }
            _ => b.truncate(at),
        }
    }
    b
}

fn ctx(include_thoughts: bool) -> DecodeContext {
    DecodeContext {
        provider_id: "fuzz".into(),
        include_thoughts,
    }
}

/// Feeds one body to its decoder and, as an answer of `status`, to its error parser.
fn decode_body(api: Api, bytes: &[u8], status: u16, include_thoughts: bool) {
    let w = wire(api);
    if let Ok(v) = serde_json::from_slice::<Value>(bytes) {
        let _ = w.decode(&ctx(include_thoughts), v);
    }
    let _ = api_error(w, "fuzz", status, &http::HeaderMap::new(), bytes);
}

/// The status a seed was answered with.
fn status_of(seed: &Seed) -> u16 {
    match seed {
        Seed::Error(_, status, _) => *status,
        _ => 400,
    }
}

/// The `(event, data)` frames of an SSE text.
fn frames(sse: &str) -> Vec<(String, String)> {
    sse.split("\n\n")
        .filter(|f| !f.trim().is_empty())
        .map(|f| {
            let mut event = String::new();
            let mut data = String::new();
            for line in f.lines() {
                if let Some(e) = line.strip_prefix("event:") {
                    event = e.trim().to_string();
                } else if let Some(d) = line.strip_prefix("data:") {
                    data.push_str(d.trim_start());
                }
            }
            (event, data)
        })
        .collect()
}

/// Feeds frames to a stream decoder as the transport would, to the end or the first error.
fn decode_stream(api: Api, frames: &[(String, String)], include_thoughts: bool) {
    let mut decoder = wire(api).stream_decoder(&ctx(include_thoughts));
    let mut out = Vec::new();
    for (event, data) in frames {
        if data == "[DONE]" {
            break;
        }
        if decoder.event(event, data, &mut out).is_err() {
            break;
        }
    }
    let _ = decoder.is_done();
    let _ = decoder.response_model();
    let _ = decoder.finish();
}

fn seed_index() -> impl Strategy<Value = usize> {
    0..seeds().len().max(1)
}

#[test]
fn seeds_cover_every_wire_format_and_shape() {
    let s = seeds();
    for api in [
        Api::OpenAiResponses,
        Api::OpenAiCompletions,
        Api::Anthropic,
        Api::Google,
    ] {
        let body = s.iter().any(|x| matches!(x, Seed::Body(a, _) if *a == api));
        let stream = s.iter().any(|x| matches!(x, Seed::Sse(a, _) if *a == api));
        assert!(body, "{api:?}: a call body seed");
        assert!(stream, "{api:?}: a stream seed");
    }
}

/// Call bodies and error bodies under JSON-structure mutations.
#[test]
fn fuzz_call_bodies_structure() {
    let strategy = (
        seed_index(),
        prop::collection::vec(
            (any::<usize>(), prop::option::weighted(0.8, arb_json())),
            1..6,
        ),
        any::<bool>(),
    );
    runner()
        .run(&strategy, |(i, edits, thoughts)| {
            let (api, v) = match &seeds()[i] {
                Seed::Body(api, v) | Seed::Error(api, _, v) => (*api, v.clone()),
                Seed::Sse(api, sse) => {
                    let data = frames(sse)
                        .into_iter()
                        .find_map(|(_, d)| serde_json::from_str(&d).ok())
                        .unwrap_or(Value::Null);
                    (*api, data)
                }
            };
            let mutated = mutate_json(v, &edits);
            decode_body(
                api,
                mutated.to_string().as_bytes(),
                status_of(&seeds()[i]),
                thoughts,
            );
            Ok(())
        })
        .unwrap();
}

/// Call bodies and error bodies under byte mutations.
#[test]
fn fuzz_call_bodies_bytes() {
    let strategy = (
        seed_index(),
        prop::collection::vec((any::<usize>(), any::<u8>(), any::<u8>()), 1..8),
    );
    runner()
        .run(&strategy, |(i, edits)| {
            let (api, bytes) = match &seeds()[i] {
                Seed::Body(api, v) | Seed::Error(api, _, v) => (*api, v.to_string().into_bytes()),
                Seed::Sse(api, sse) => (*api, sse.clone().into_bytes()),
            };
            decode_body(
                api,
                &mutate_bytes(bytes, &edits),
                status_of(&seeds()[i]),
                true,
            );
            Ok(())
        })
        .unwrap();
}

/// Streams under frame mutations (drop, duplicate, swap) and JSON mutations of one frame.
#[test]
fn fuzz_stream_frames() {
    let strategy = (
        seed_index(),
        prop::collection::vec((any::<usize>(), 0u8..3, any::<usize>()), 0..5),
        any::<usize>(),
        prop::collection::vec(
            (any::<usize>(), prop::option::weighted(0.8, arb_json())),
            0..4,
        ),
        any::<bool>(),
    );
    runner()
        .run(&strategy, |(i, ops, target, edits, thoughts)| {
            let (api, mut fs) = match &seeds()[i] {
                Seed::Sse(api, sse) => (*api, frames(sse)),
                Seed::Body(api, v) | Seed::Error(api, _, v) => {
                    (*api, vec![(String::new(), v.to_string())])
                }
            };
            for (at, op, other) in ops {
                if fs.is_empty() {
                    break;
                }
                let (a, b) = (at % fs.len(), other % fs.len());
                match op {
                    0 => {
                        fs.remove(a);
                    }
                    1 => {
                        let f = fs[a].clone();
                        fs.insert(a, f);
                    }
                    _ => fs.swap(a, b),
                }
            }
            if !fs.is_empty() && !edits.is_empty() {
                let t = target % fs.len();
                if let Ok(v) = serde_json::from_str::<Value>(&fs[t].1) {
                    fs[t].1 = mutate_json(v, &edits).to_string();
                }
            }
            decode_stream(api, &fs, thoughts);
            Ok(())
        })
        .unwrap();
}

/// Streams under byte mutations of the whole SSE text.
#[test]
fn fuzz_stream_bytes() {
    let strategy = (
        seed_index(),
        prop::collection::vec((any::<usize>(), any::<u8>(), any::<u8>()), 1..8),
    );
    runner()
        .run(&strategy, |(i, edits)| {
            let (api, text) = match &seeds()[i] {
                Seed::Sse(api, sse) => (*api, sse.clone()),
                Seed::Body(api, v) | Seed::Error(api, _, v) => (*api, format!("data: {v}\n\n")),
            };
            let bytes = mutate_bytes(text.into_bytes(), &edits);
            decode_stream(api, &frames(&String::from_utf8_lossy(&bytes)), true);
            Ok(())
        })
        .unwrap();
}

/// The SSE decoder (`provider/sse.rs`) under byte mutations of the recorded streams, fed in
/// random pieces: it never panics, the pieces never change the events or the error, and what it
/// decodes goes on into the wire format's stream decoder.
#[test]
fn fuzz_sse_decoder() {
    use crate::provider::sse::SseDecoder;
    let strategy = (
        seed_index(),
        prop::collection::vec((any::<usize>(), any::<u8>(), any::<u8>()), 0..8),
        prop::collection::vec(1usize..64, 1..16),
        prop::sample::select(vec![64usize, 4096, 1 << 20]),
    );
    runner()
        .run(&strategy, |(i, edits, cuts, limit)| {
            let (api, text) = match &seeds()[i] {
                Seed::Sse(api, sse) => (*api, sse.clone()),
                Seed::Body(api, v) | Seed::Error(api, _, v) => (*api, format!("data: {v}\n\n")),
            };
            let bytes = mutate_bytes(text.into_bytes(), &edits);
            let whole = {
                let mut d = SseDecoder::new(limit);
                let mut out = Vec::new();
                let r = d.feed(&bytes, &mut out);
                (out, r)
            };
            let pieces = {
                let mut d = SseDecoder::new(limit);
                let mut out = Vec::new();
                let mut rest = &bytes[..];
                let mut r = Ok(());
                for cut in cuts.iter().cycle() {
                    if rest.is_empty() || r.is_err() {
                        break;
                    }
                    let (a, b) = rest.split_at((*cut).min(rest.len()));
                    r = d.feed(a, &mut out);
                    rest = b;
                }
                (out, r)
            };
            prop_assert_eq!(&whole.1, &pieces.1);
            if whole.1.is_ok() {
                prop_assert_eq!(&whole.0, &pieces.0);
            }
            let frames: Vec<(String, String)> =
                whole.0.into_iter().map(|e| (e.event, e.data)).collect();
            decode_stream(api, &frames, true);
            Ok(())
        })
        .unwrap();
}

/// The cassette loader under JSON-structure and byte mutations of the fixtures (which are
/// cassettes).
#[cfg(feature = "replay")]
#[test]
fn fuzz_cassette_loader() {
    let files: Vec<String> = std::fs::read_dir(fixtures_dir())
        .map(|d| {
            d.filter_map(|e| e.ok())
                .filter_map(|e| std::fs::read_to_string(e.path()).ok())
                .collect()
        })
        .unwrap_or_default();
    assert!(!files.is_empty(), "cassette seeds");
    let strategy = (
        0..files.len(),
        prop::collection::vec(
            (any::<usize>(), prop::option::weighted(0.8, arb_json())),
            0..5,
        ),
        prop::collection::vec((any::<usize>(), any::<u8>(), any::<u8>()), 0..4),
    );
    runner()
        .run(&strategy, |(i, edits, bytes)| {
            let text = match serde_json::from_str::<Value>(&files[i]) {
                Ok(v) => mutate_json(v, &edits).to_string(),
                Err(_) => files[i].clone(),
            };
            let text =
                String::from_utf8_lossy(&mutate_bytes(text.into_bytes(), &bytes)).into_owned();
            let _ = crate::cassette::parse(&text, Path::new("fuzz.json"));
            Ok(())
        })
        .unwrap();
}

/// The `instrument_openai`, `instrument_anthropic` and `instrument_google_genai` observers
/// (`genai/{openai_v2,anthropic_instrumentor,google_genai_instrumentor}.rs`) under JSON and
/// byte mutations of the
/// recorded Chat Completions answers and streams, fed in random pieces, with random statuses:
/// nothing panics and nothing grows past its bounds.
#[test]
fn fuzz_sdk_instrumentation_observers() {
    use crate::genai::openai_v2::ChatCall;
    let strategy = (
        seed_index(),
        prop::collection::vec(
            (any::<usize>(), prop::option::weighted(0.8, arb_json())),
            0..5,
        ),
        prop::collection::vec((any::<usize>(), any::<u8>(), any::<u8>()), 0..6),
        prop::collection::vec(1usize..96, 1..12),
        prop::sample::select(vec![200u16, 200, 200, 401, 429, 500, 503, 302]),
        any::<bool>(),
        arb_json(),
    );
    runner()
        .run(
            &strategy,
            |(i, edits, byte_edits, pieces, status, capture, request)| {
                let (stream, text) = match &seeds()[i] {
                    Seed::Sse(_, sse) => (true, sse.clone()),
                    Seed::Body(_, v) | Seed::Error(_, _, v) => {
                        (false, mutate_json(v.clone(), &edits).to_string())
                    }
                };
                let bytes = mutate_bytes(text.into_bytes(), &byte_edits);
                let request = match request {
                    Value::Object(m) => m,
                    other => {
                        let mut m = Map::new();
                        m.insert("messages".into(), Value::Array(vec![other]));
                        m
                    }
                };
                // Every observer reads the same bytes.
                let _ = crate::genai::anthropic_instrumentor::input_attributes(&request, capture);
                let mut openai = ChatCall::for_fuzz(&request, stream, capture);
                let mut anthropic =
                    crate::genai::anthropic_instrumentor::MessagesCall::for_fuzz(stream, capture);
                let mut google =
                    crate::genai::google_genai_instrumentor::GenerateContentCall::for_fuzz(
                        &request, stream, capture,
                    );
                openai.response_started(status);
                anthropic.response_started(status);
                google.response_started(status);
                let mut rest = bytes.as_slice();
                for n in pieces.iter().cycle().take(bytes.len() + 1) {
                    if rest.is_empty() {
                        break;
                    }
                    let (piece, tail) = rest.split_at((*n).min(rest.len()));
                    openai.body_bytes(piece);
                    anthropic.body_bytes(piece);
                    google.body_bytes(piece);
                    rest = tail;
                }
                openai.body_ended();
                anthropic.body_ended();
                google.body_ended();
                Ok(())
            },
        )
        .unwrap();
}
