//! A stream that sends bytes but never ends an event (one endless `data:` line) ends with a
//! typed error as soon as the line passes the event limit, in time linear in its length, and
//! ordinary calls in the same process go on meanwhile. With the previous SSE parser, the same
//! line cost quadratic CPU on the shared HTTP runtime (4 MiB: 31.6 s; the 64 MiB answer limit:
//! about two hours) and pushed ordinary calls from 1.2 ms to 10 s.

mod common;

use std::io::Write;
use std::net::TcpListener;
use std::time::{Duration, Instant};

use common::{json_response, model_at, serve, Wire};
use futures_util::StreamExt;
use mirascope::llm::Error;

/// A server that answers every request with an event stream whose one line never ends: it
/// writes until the client hangs up or `budget` bytes were sent (bounded, as every test load).
fn endless_line_server(budget: usize) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = listener.local_addr().expect("addr");
    std::thread::spawn(move || {
        for stream in listener.incoming().take(8) {
            let Ok(mut stream) = stream else { return };
            std::thread::spawn(move || {
                if !common::read_request_head(&mut stream) {
                    return;
                }
                let _ = stream.write_all(
                    b"HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\nconnection: close\r\n\r\ndata: ",
                );
                let chunk = vec![b'a'; 64 * 1024];
                let mut sent = 0;
                while sent < budget && stream.write_all(&chunk).is_ok() {
                    sent += chunk.len();
                }
            });
        }
    });
    format!("http://{addr}/v1")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_endless_event_ends_quickly_and_stalls_nothing() {
    let wire = Wire::Completions;
    let base = endless_line_server(96 * 1024 * 1024);
    let hostile = model_at(wire, &base);
    let started = Instant::now();
    let streams: Vec<_> = (0..2)
        .map(|_| {
            let model = hostile.clone();
            tokio::spawn(async move {
                let stream = model.stream("hi").await.expect("the head arrives");
                let items: Vec<_> = stream.collect().await;
                items.into_iter().find_map(|i| i.err())
            })
        })
        .collect();

    // Ordinary calls while the two hostile streams are read.
    let mut latencies = Vec::new();
    for _ in 0..20 {
        let (_server, model) = serve(wire, vec![json_response(200, wire.text_body("fine"))]);
        let t = Instant::now();
        assert_eq!(model.call("hi").await.expect("call").text(), "fine");
        latencies.push(t.elapsed());
    }
    for s in streams {
        let err = s.await.expect("task").expect("the stream fails");
        assert!(
            matches!(err, Error::EventTooLarge { limit, .. } if limit == 16 * 1024 * 1024),
            "{err:?}"
        );
        assert!(
            err.to_string().contains("16777216"),
            "names the limit: {err}"
        );
    }
    let ended = started.elapsed();
    latencies.sort();
    println!(
        "two endless 16 MiB lines ended after {ended:?}; ordinary calls meanwhile: p50 {:?}, max {:?}",
        latencies[latencies.len() / 2],
        latencies[latencies.len() - 1]
    );
    // A liveness bound, not a speed measurement (that is in BENCHMARKS.md): the quadratic parser
    // needed hours for this; linear, it is well under a second on loopback.
    assert!(
        ended < Duration::from_secs(60),
        "the streams end at the limit: {ended:?}"
    );
}
