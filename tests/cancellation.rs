//! Cancelling a call cancels its work: dropping a call or stream future (a timeout, `select!`,
//! an aborted task) aborts the HTTP request and the retry loop behind it, so the provider sees
//! no further attempts, and the call's span ends with a `mirascope.call.cancelled` event.

mod common;

use std::future::Future;
use std::time::Duration;

use common::{json_response, serve, Wire, ALL};
use mirascope::llm::replay::ReplayServer;
use mirascope::llm::RetryPolicy;

/// Four retries 300 ms apart: a detached retry loop (the behaviour before the fix) would send
/// them all within the wait below.
fn slow_retries() -> RetryPolicy {
    RetryPolicy::default()
        .max_retries(4)
        .initial_backoff(Duration::from_millis(300))
        .max_backoff(Duration::from_millis(300))
        .jitter(false)
}

/// Polls `call` until the server has seen its first attempt, then drops it (as a timeout or
/// `select!` would), waits out every retry a detached loop would make, and returns how many
/// attempts the server saw in all.
async fn attempts_after_drop<F: Future>(server: &ReplayServer, call: F) -> usize {
    let mut call = Box::pin(call);
    loop {
        tokio::select! {
            _ = &mut call => panic!("the call ended before it was dropped"),
            _ = tokio::time::sleep(Duration::from_millis(2)) => {
                if !server.requests().is_empty() {
                    break;
                }
            }
        }
    }
    drop(call);
    tokio::time::sleep(Duration::from_millis(1600)).await;
    server.requests().len()
}

async fn case(wire: Wire, stream: bool) {
    let failures = (0..5)
        .map(|_| json_response(500, wire.error_body(500, "boom")))
        .collect();
    let (server, model) = serve(wire, failures);
    let model = model.with_retry(slow_retries());
    let attempts = if stream {
        attempts_after_drop(&server, async { model.stream("hi").await.map(|_| ()) }).await
    } else {
        attempts_after_drop(&server, async { model.call("hi").await.map(|_| ()) }).await
    };
    assert_eq!(
        attempts, 1,
        "{wire:?} stream={stream}: no attempt after the future was dropped"
    );
    // The span ended, marked cancelled rather than looking like a success.
    let spans = common::spans_of(model.id());
    assert_eq!(spans.len(), 1, "{wire:?} stream={stream}");
    let cancelled = spans[0]
        .events
        .iter()
        .filter(|e| e.name == "mirascope.call.cancelled")
        .count();
    assert_eq!(
        cancelled, 1,
        "{wire:?} stream={stream}: one cancelled event"
    );
}

#[tokio::test]
async fn dropping_a_call_or_stream_future_stops_its_retries() {
    common::otel();
    let cases = ALL
        .into_iter()
        .flat_map(|wire| [case(wire, false), case(wire, true)]);
    futures_util::future::join_all(cases).await;
}
