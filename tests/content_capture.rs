//! With content capture off (`ops::set_capture_content(false)`), no prompt, output, tool argument,
//! tool result or provider message appears anywhere: every attribute, event and status of every
//! span, and every log line, is searched for a marker that every path below carries. The switch
//! is process-wide, so this binary has one test.

mod common;

use common::{json_response, serve, sse_response, ALL};
use futures_util::StreamExt;
use mirascope::{llm, ops};
use tracing_subscriber::layer::SubscriberExt;

const MARKER: &str = "zebra-quartz-7741";

#[ops::trace]
fn echo(secret: &str) -> String {
    format!("{secret}!")
}

#[ops::trace]
fn refuse(secret: &str) -> Result<(), String> {
    Err(format!("cannot use {secret}"))
}

#[ops::trace]
fn blow_up(secret: &str) -> u8 {
    panic!("{secret}");
}

#[ops::trace]
async fn ask(model: &llm::Model, secret: &str) -> Result<llm::Response, llm::Error> {
    model.call(secret).await
}

#[tokio::test]
async fn nothing_carries_content_when_capture_is_off() {
    ops::set_capture_content(false);
    let (provider, exporter) = ops::testing::in_memory_provider();
    let logs = common::SharedWriter::default();
    let writer = logs.clone();
    let subscriber = tracing_subscriber::registry()
        .with(ops::layer(&provider))
        .with(tracing_subscriber::fmt::layer().with_writer(move || writer.clone()));
    let _default = tracing::subscriber::set_default(subscriber);
    ops::instrument_llm().expect("instrument");

    for wire in ALL {
        let answer = format!("the answer is {MARKER}");
        // A call whose prompt and answer carry the marker, traced, then resumed.
        let (_s, model) = serve(
            wire,
            vec![
                json_response(200, wire.text_body(&answer)),
                json_response(200, wire.text_body(&answer)),
            ],
        );
        let response = ask(&model, MARKER).await.expect("call");
        response.resume(MARKER).await.expect("resume");
        // A provider error that quotes the prompt.
        let (_s, model) = serve(
            wire,
            vec![json_response(
                400,
                wire.error_body(400, &format!("bad input: {MARKER}")),
            )],
        );
        let _ = ask(&model, MARKER).await.expect_err("400");
        // A stream, and a stream that breaks.
        let (_s, model) = serve(
            wire,
            vec![
                sse_response(wire.sse_body(&[MARKER, " more"], false)),
                sse_response(wire.sse_body(&[MARKER], true)),
            ],
        );
        let _: Vec<_> = model.stream(MARKER).await.unwrap().collect().await;
        let _: Vec<_> = model.stream(MARKER).await.unwrap().collect().await;
    }
    // Traced functions: arguments, outputs, errors and panics.
    assert_eq!(echo(MARKER), format!("{MARKER}!"));
    assert!(refuse(MARKER).is_err());
    assert!(std::panic::catch_unwind(|| blow_up(MARKER)).is_err());
    // An explicit span that records an error quoting the content.
    let span = ops::span("rank");
    span.record_error(&std::io::Error::other(format!("cannot rank {MARKER}")));
    drop(span);

    let spans = exporter.get_finished_spans().expect("spans");
    assert!(
        spans.len() >= 4 * 5 + 4,
        "every path made its spans: {}",
        spans.len()
    );
    for span in &spans {
        let dump = format!("{span:?}");
        assert!(
            !dump.contains(MARKER),
            "span {} carries content: {dump}",
            span.name
        );
    }
    let logged = logs.text();
    assert!(
        !logged.contains(MARKER),
        "a log line carries content: {logged}"
    );

    // The same paths with capture on do carry it (the test can fail).
    let rank = spans
        .iter()
        .find(|s| s.name == "rank")
        .expect("the rank span");
    assert_eq!(rank.events.len(), 1, "the error is recorded: {rank:?}");
    ops::set_capture_content(true);
    assert_eq!(echo(MARKER), format!("{MARKER}!"));
    let spans = exporter.get_finished_spans().expect("spans");
    assert!(spans.iter().any(|s| format!("{s:?}").contains(MARKER)));
}
