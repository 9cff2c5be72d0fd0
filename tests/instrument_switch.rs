//! The runtime switches, which are process-global (hence this test binary of their own):
//! `instrument_llm` / `uninstrument_llm` across threads of concurrent calls, and content capture.

mod common;

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use common::{attr, json_response, otel, serve, spans_of, Wire};
use mirascope::{llm, ops};
use opentelemetry::trace::SpanKind;

const THREADS: usize = 8;
const CALLS: usize = 25;

fn completions_server(n: usize) -> (mirascope::llm::replay::ReplayServer, llm::Model) {
    let wire = Wire::Completions;
    serve(
        wire,
        (0..n)
            .map(|_| json_response(200, wire.text_body("ok")))
            .collect(),
    )
}

/// Runs THREADS x CALLS blocking calls concurrently; returns how many succeeded.
fn hammer(model: &llm::Model) -> usize {
    std::thread::scope(|s| {
        let handles: Vec<_> = (0..THREADS)
            .map(|t| {
                let model = model.clone();
                s.spawn(move || {
                    (0..CALLS)
                        .filter(|i| model.call_blocking(format!("thread {t} call {i}")).is_ok())
                        .count()
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().expect("no panic"))
            .sum()
    })
}

#[test]
fn switch_and_capture() {
    let _ = otel();
    assert!(ops::is_llm_instrumented());

    // Toggling from another thread while 8 threads call: no panic, no failed call, and every
    // span that exists is whole (request and response attributes) and unique.
    let (_server, model) = completions_server(THREADS * CALLS);
    let stop = Arc::new(AtomicBool::new(false));
    let toggler = {
        let stop = stop.clone();
        std::thread::spawn(move || {
            let mut on = true;
            while !stop.load(Ordering::Relaxed) {
                on = !on;
                if on {
                    ops::instrument_llm().unwrap();
                } else {
                    ops::uninstrument_llm();
                }
                std::thread::yield_now();
            }
        })
    };
    assert_eq!(hammer(&model), THREADS * CALLS);
    stop.store(true, Ordering::Relaxed);
    toggler.join().unwrap();
    let spans = spans_of(model.id());
    assert!(spans.len() <= THREADS * CALLS);
    let mut prompts: Vec<String> = spans
        .iter()
        .map(|s| attr(s, "gen_ai.input.messages").expect("request side recorded"))
        .collect();
    for s in &spans {
        assert_eq!(s.span_kind, SpanKind::Client);
        assert!(
            attr(s, "gen_ai.output.messages").is_some(),
            "a call that started instrumented ends its span normally"
        );
    }
    prompts.sort();
    prompts.dedup();
    assert_eq!(prompts.len(), spans.len(), "no duplicated span");

    // Off: no span at all.
    ops::uninstrument_llm();
    assert!(!ops::is_llm_instrumented());
    let (_server, model) = completions_server(THREADS * CALLS);
    assert_eq!(hammer(&model), THREADS * CALLS);
    assert!(
        spans_of(model.id()).is_empty(),
        "calls while off produce no span"
    );

    // On again: every call has its span.
    ops::instrument_llm().unwrap();
    let (_server, model) = completions_server(THREADS * CALLS);
    assert_eq!(hammer(&model), THREADS * CALLS);
    assert_eq!(spans_of(model.id()).len(), THREADS * CALLS, "no lost span");

    content_capture_can_be_switched_off();
}

fn content_capture_can_be_switched_off() {
    let wire = Wire::Anthropic;
    let (_server, model) = serve(
        wire,
        vec![json_response(200, wire.text_body("secret answer"))],
    );
    ops::set_capture_content(false);
    let result = model.call_blocking(vec![
        llm::Message::system("secret instructions"),
        llm::Message::user("secret question"),
    ]);
    ops::set_capture_content(true);
    result.unwrap();
    let spans = spans_of(model.id());
    assert_eq!(spans.len(), 1);
    let span = &spans[0];
    for key in [
        "gen_ai.input.messages",
        "gen_ai.output.messages",
        "gen_ai.system_instructions",
        "mirascope.response.messages",
        "mirascope.response.content",
    ] {
        assert_eq!(attr(span, key), None, "{key} must not be recorded");
    }
    assert!(span
        .attributes
        .iter()
        .all(|kv| !kv.value.as_str().contains("secret")));
    assert_eq!(
        attr(span, "gen_ai.usage.input_tokens").as_deref(),
        Some("3"),
        "non-content attributes stay"
    );
}
