//! Token counts from a hostile or broken provider never panic and never wrap: a negative count, one
//! above `i64::MAX`, a float or a string is a `MalformedResponse` naming the field, on every wire
//! format, for calls and streams; sums that would overflow (Anthropic's input + cache tokens) are
//! too. Answers larger than the size limit are refused, not buffered.

mod common;

use common::{json_response, serve, sse_response, Wire, ALL};
use futures_util::StreamExt;
use mirascope::llm::Error;
use serde_json::{json, Value};

/// Where each wire format keeps its input-token count.
fn input_count_pointer(wire: Wire) -> (&'static str, &'static str) {
    match wire {
        Wire::Responses => ("usage", "input_tokens"),
        Wire::Completions => ("usage", "prompt_tokens"),
        Wire::Anthropic => ("usage", "input_tokens"),
        Wire::Google => ("usageMetadata", "promptTokenCount"),
    }
}

fn assert_malformed(err: &Error, field: &str, what: &str) {
    match err {
        Error::MalformedResponse { reason, .. } => {
            assert!(reason.contains(field), "{what}: {reason} names {field}")
        }
        other => panic!("{what}: expected MalformedResponse, got {other:?}"),
    }
}

#[tokio::test]
async fn impossible_token_counts_are_malformed_responses() {
    let hostile: [Value; 5] = [
        json!(-1),
        json!(18446744073709551615u64),
        json!(1e300),
        json!(3.5),
        json!("12"),
    ];
    for wire in ALL {
        let (object, key) = input_count_pointer(wire);
        for value in &hostile {
            let mut body = wire.text_body("Hi");
            body[object][key] = value.clone();
            let (_server, model) = serve(wire, vec![json_response(200, body)]);
            let err = model.call("hi").await.expect_err("an impossible count");
            assert_malformed(&err, key, &format!("{wire:?} call, {key} = {value}"));
        }
    }
}

#[tokio::test]
async fn overflowing_sums_and_streamed_counts_are_malformed_responses() {
    // Anthropic's input tokens are input + cache reads + cache writes.
    let wire = Wire::Anthropic;
    let mut body = wire.text_body("Hi");
    body["usage"]["input_tokens"] = json!(i64::MAX);
    body["usage"]["cache_read_input_tokens"] = json!(1);
    let (_server, model) = serve(wire, vec![json_response(200, body)]);
    let err = model.call("hi").await.expect_err("overflow");
    assert_malformed(&err, "input_tokens", "anthropic sum");

    // A streamed negative count ends the stream with the error, never a panic.
    let sse = wire
        .sse_body(&["Hel", "lo"], false)
        .replace("\"output_tokens\":2", "\"output_tokens\":-2");
    assert!(sse.contains("-2"), "the canned stream carries the count");
    let (_server, model) = serve(wire, vec![sse_response(sse)]);
    let items: Vec<_> = model.stream("hi").await.unwrap().collect().await;
    let err = items
        .iter()
        .find_map(|i| i.as_ref().err())
        .expect("the stream fails");
    assert_malformed(err, "output_tokens", "anthropic stream");
}

/// An answer larger than the limit fails with `ResponseTooLarge` instead of being buffered: a
/// call's body, and a stream whose event never ends (no blank line, ever).
#[tokio::test]
async fn answers_larger_than_the_limit_are_refused() {
    for wire in ALL {
        let big = "x".repeat(8 * 1024);
        let (_server, model) = serve(wire, vec![json_response(200, wire.text_body(&big))]);
        let err = model
            .with_max_response_bytes(4 * 1024)
            .call("hi")
            .await
            .expect_err("too large");
        assert!(
            matches!(err, Error::ResponseTooLarge { limit: 4096, .. }),
            "{wire:?} call: {err:?}"
        );

        let endless = format!("data: {{\"pad\": \"{}", "y".repeat(16 * 1024));
        let (_server, model) = serve(wire, vec![sse_response(endless)]);
        let stream = model
            .with_max_response_bytes(4 * 1024)
            .stream("hi")
            .await
            .expect("the head arrives");
        let items: Vec<_> = stream.collect().await;
        let err = items
            .iter()
            .find_map(|i| i.as_ref().err())
            .expect("the stream fails");
        assert!(
            matches!(err, Error::ResponseTooLarge { .. }),
            "{wire:?} stream: {err:?}"
        );
    }
}

/// A provider that echoes the API key in its error body (some do) never gets it into the error's
/// `Display` or `Debug`, the span's status, attributes or events: it is redacted wherever
/// provider text is stored, for HTTP errors and stream error events alike.
#[tokio::test]
async fn echoed_api_keys_are_redacted() {
    common::otel();
    const KEY: &str = "sk-test-secret-key";
    let echo = format!("Incorrect API key provided: {KEY}. You can find your key at ...");
    for wire in ALL {
        let (_server, model) = serve(wire, vec![json_response(401, wire.error_body(401, &echo))]);
        let err = model.call("hi").await.expect_err("401");
        for text in [err.to_string(), format!("{err:?}")] {
            assert!(!text.contains(KEY), "{wire:?}: {text}");
            assert!(text.contains("[REDACTED]"), "{wire:?}: {text}");
        }
        let spans = common::spans_of(model.id());
        assert_eq!(spans.len(), 1);
        let dump = format!("{:?}", spans[0]);
        assert!(!dump.contains(KEY), "{wire:?}: the span carries the key");
    }
    // In a stream's error event.
    let wire = Wire::Responses;
    let mut body = wire.sse_body(&["Hi"], true);
    body.push_str(&format!(
        "event: error\ndata: {{\"type\":\"error\",\"error\":{{\"type\":\"invalid_request_error\",\"message\":\"{echo}\"}}}}\n\n"
    ));
    let (_server, model) = serve(wire, vec![sse_response(body)]);
    let items: Vec<_> = model.stream("hi").await.unwrap().collect().await;
    let err = items
        .iter()
        .find_map(|i| i.as_ref().err())
        .expect("the error event");
    assert!(!format!("{err} {err:?}").contains(KEY), "{err:?}");
    let dump = format!("{:?}", common::spans_of(model.id()));
    assert!(!dump.contains(KEY), "the stream span carries the key");
}

/// A stream event that is valid JSON of the wrong shape (a text delta that is a number) is a
/// `MalformedResponse` naming the field, on every wire format; the text is never dropped silently.
#[tokio::test]
async fn wrong_shape_stream_events_are_malformed_responses() {
    for wire in ALL {
        let body = wire
            .sse_body(&["hello", "WRONGSHAPE"], false)
            .replace("\"WRONGSHAPE\"", "12345");
        assert!(body.contains("12345"), "{wire:?}: the body was changed");
        let (_server, model) = serve(wire, vec![sse_response(body)]);
        let mut stream = model.stream("hi").await.expect("stream opens");
        let mut failure = None;
        while let Some(item) = stream.next().await {
            if let Err(e) = item {
                failure = Some(e);
                break;
            }
        }
        let err = failure.unwrap_or_else(|| panic!("{wire:?}: the wrong shape was not reported"));
        let field = match wire {
            Wire::Anthropic => "delta/text",
            Wire::Google => "text",
            Wire::Completions => "delta/content",
            Wire::Responses => "delta",
        };
        assert_malformed(&err, field, &format!("{wire:?}"));
        assert!(err.to_string().contains("a number"), "{wire:?}: {err}");
    }
}

/// An event of a type the wire format does not document is skipped, counted and logged, and the
/// answer is still read in full.
#[tokio::test]
async fn unknown_stream_events_are_counted_skips() {
    for wire in [Wire::Responses, Wire::Anthropic] {
        let body = wire.sse_body(&["hello", " world"], false);
        let unknown =
            "event: vendor.experiment\ndata: {\"type\":\"vendor.experiment\",\"x\":1}\n\n";
        let at = body.find("\n\n").expect("a frame") + 2;
        let body = format!("{}{unknown}{}", &body[..at], &body[at..]);
        let (_server, model) = serve(wire, vec![sse_response(body)]);
        let mut stream = model.stream("hi").await.expect("stream opens");
        while let Some(item) = stream.next().await {
            item.unwrap_or_else(|e| panic!("{wire:?}: {e}"));
        }
        assert_eq!(stream.skipped_events(), 1, "{wire:?}");
        assert_eq!(stream.response().expect("complete").text(), "hello world");
    }
}

/// Large events and multi-byte characters cut across the pieces the SSE parser is fed arrive
/// whole, on every wire format.
#[tokio::test]
async fn long_events_and_multibyte_text_arrive_whole() {
    let long = "é€😀".repeat(9_000);
    for wire in ALL {
        let body = wire.sse_body(&[long.as_str(), "end"], false);
        let (_server, model) = serve(wire, vec![sse_response(body)]);
        let response = model.stream("hi").await.expect("stream").finish().await;
        let response = response.unwrap_or_else(|e| panic!("{wire:?}: {e}"));
        assert_eq!(response.text(), format!("{long}end"), "{wire:?}");
    }
}

/// Streams are `Unpin` and `llm::StreamExt` is re-exported: `stream.next().await` needs no `pin!`
/// and no extra dependency.
#[tokio::test]
async fn streams_read_with_the_reexported_stream_ext() {
    use mirascope::llm::StreamExt as _;
    fn unpin<T: Unpin>(_: &T) {}
    let wire = Wire::Anthropic;
    let (_server, model) = serve(wire, vec![sse_response(wire.sse_body(&["a", "b"], false))]);
    let mut stream = model.stream("hi").await.expect("stream");
    unpin(&stream);
    let mut n = 0;
    while let Some(chunk) = stream.next().await {
        chunk.expect("chunk");
        n += 1;
    }
    assert!(n >= 2);
}
