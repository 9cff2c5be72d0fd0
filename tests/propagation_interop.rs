//! Context propagation interoperates with Python services: the headers our propagators write
//! are exactly those the Python OpenTelemetry propagators write for the same span context, and we
//! read what they read. The Python side is data, made by `tests/fixtures/propagation/generate.py`
//! (opentelemetry-propagator-b3 and -jaeger) and stored in `python_propagators.json`.
//! `set_propagator` is process-wide, so this binary has one test.

use std::collections::HashMap;

use mirascope::ops::{self, PropagatorFormat};
use opentelemetry::trace::{SpanContext, SpanId, TraceContextExt, TraceFlags, TraceId, TraceState};
use serde_json::Value;

/// Where we read differently from Python on purpose, with the reason.
const DELIBERATE: &[(&str, &str)] = &[(
    "4bf92f3577b34da6a3ce929d0e0e4736%3A00f067aa0ba902b7%3A0%3A1",
    "Jaeger clients URL-encode uber-trace-id; we decode %3A, Python's propagator does not",
)];

fn format(name: &str) -> PropagatorFormat {
    name.parse().expect("format")
}

fn headers(v: &Value) -> HashMap<String, String> {
    v.as_object()
        .expect("headers")
        .iter()
        .map(|(k, v)| (k.clone(), v.as_str().unwrap_or_default().to_string()))
        .collect()
}

fn context(sampled: bool) -> opentelemetry::Context {
    let flags = if sampled {
        TraceFlags::SAMPLED
    } else {
        TraceFlags::default()
    };
    opentelemetry::Context::new().with_remote_span_context(SpanContext::new(
        TraceId::from_hex("4bf92f3577b34da6a3ce929d0e0e4736").unwrap(),
        SpanId::from_hex("00f067aa0ba902b7").unwrap(),
        flags,
        false,
        TraceState::default(),
    ))
}

#[test]
fn headers_match_the_python_propagators() {
    let data: Value =
        serde_json::from_str(include_str!("fixtures/propagation/python_propagators.json"))
            .expect("fixture");

    for case in data["inject"].as_array().expect("inject") {
        let name = case["format"].as_str().unwrap();
        ops::set_propagator(format(name));
        let mut carrier = HashMap::<String, String>::new();
        match case["sampled"].as_bool() {
            Some(sampled) => {
                let _attached = context(sampled).attach();
                ops::inject_context(&mut carrier).expect("inject");
            }
            // No active span: nothing is written (B3 `0` would be a deny decision).
            None => ops::inject_context(&mut carrier).expect("inject"),
        }
        assert_eq!(carrier, headers(&case["headers"]), "inject {case}");
    }

    for case in data["extract"].as_array().expect("extract") {
        let name = case["format"].as_str().unwrap();
        ops::set_propagator(format(name));
        let carrier = headers(&case["headers"]);
        let sc = ops::extract_context(&carrier).span().span_context().clone();
        let deliberate = carrier
            .values()
            .any(|v| DELIBERATE.iter().any(|(input, _)| input == v));
        if deliberate {
            assert!(sc.is_valid(), "{case}: we decode it");
            continue;
        }
        assert_eq!(
            sc.is_valid(),
            case["valid"].as_bool().unwrap(),
            "extract {case}"
        );
        if sc.is_valid() {
            assert_eq!(
                sc.trace_id().to_string(),
                case["trace_id"].as_str().unwrap(),
                "{case}"
            );
            assert_eq!(
                sc.span_id().to_string(),
                case["span_id"].as_str().unwrap(),
                "{case}"
            );
            assert_eq!(
                sc.is_sampled(),
                case["sampled"].as_bool().unwrap(),
                "{case}"
            );
            assert!(sc.is_remote(), "{case}");
        }
    }

    // B3 beyond what the fixture covers.
    ops::set_propagator(PropagatorFormat::B3);
    let extract = |pairs: &[(&str, &str)]| {
        let carrier: HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        ops::extract_context(&carrier).span().span_context().clone()
    };
    // Debug implies accept, even next to a deny.
    let sc = extract(&[
        ("x-b3-traceid", "4bf92f3577b34da6a3ce929d0e0e4736"),
        ("x-b3-spanid", "00f067aa0ba902b7"),
        ("x-b3-sampled", "0"),
        ("x-b3-flags", "1"),
    ]);
    assert!(sc.is_valid() && sc.is_sampled());
    // A missing sampling state is deferred to us: sampled, in both forms (Python denies the
    // multi-header form; see the README's differences).
    let sc = extract(&[("b3", "4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7")]);
    assert!(sc.is_valid() && sc.is_sampled());
    let sc = extract(&[
        ("x-b3-traceid", "4bf92f3577b34da6a3ce929d0e0e4736"),
        ("x-b3-spanid", "00f067aa0ba902b7"),
    ]);
    assert!(sc.is_valid() && sc.is_sampled());
    // The single format writes only `b3`, the multi format only `x-b3-*`.
    let _attached = context(true).attach();
    for (f, expected) in [
        (PropagatorFormat::B3, vec!["b3"]),
        (
            PropagatorFormat::B3Multi,
            vec!["x-b3-sampled", "x-b3-spanid", "x-b3-traceid"],
        ),
    ] {
        ops::set_propagator(f);
        let mut carrier = HashMap::<String, String>::new();
        ops::inject_context(&mut carrier).expect("inject");
        let mut keys: Vec<_> = carrier.keys().map(String::as_str).collect();
        keys.sort();
        assert_eq!(keys, expected, "{f:?}");
    }
}
