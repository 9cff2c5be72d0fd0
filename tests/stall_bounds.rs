//! Defaults and settings that bound a stall, against servers that stall on purpose (loopback,
//! bounded in time): a head that never comes, a stream that sends one event every 100 ms
//! forever. `with_timeout` bounds a whole stream again (as it did before the head-only change);
//! `with_stream_deadline` bounds a stream on its own; a zero timeout and non-finite params are
//! refused before any traffic.

mod common;

use std::io::Write;
use std::net::TcpListener;
use std::time::{Duration, Instant};

use common::{model_at, Wire};
use futures_util::StreamExt;
use mirascope::llm::{Error, Params, RetryPolicy};

/// What the stalling server does after reading a request.
#[derive(Clone, Copy)]
enum Stall {
    /// Never answers (holds the connection for at most 10 s).
    NoHead,
    /// Sends a stream head, then one chunk every 100 ms (at most 100 of them).
    Trickle,
}

fn stalling_server(stall: Stall) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = listener.local_addr().expect("addr");
    std::thread::spawn(move || {
        for stream in listener.incoming().take(16) {
            let Ok(mut stream) = stream else { return };
            std::thread::spawn(move || {
                if !common::read_request_head(&mut stream) {
                    return;
                }
                match stall {
                    Stall::NoHead => std::thread::sleep(Duration::from_secs(10)),
                    Stall::Trickle => {
                        let _ = stream.write_all(
                            b"HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\nconnection: close\r\n\r\n",
                        );
                        let chunk = br#"data: {"id":"c","object":"chat.completion.chunk","model":"m","choices":[{"index":0,"delta":{"content":"a"},"finish_reason":null}]}

"#;
                        for _ in 0..100 {
                            if stream.write_all(chunk).is_err() {
                                return;
                            }
                            std::thread::sleep(Duration::from_millis(100));
                        }
                    }
                }
            });
        }
    });
    format!("http://{addr}/v1")
}

async fn stream_error(model: mirascope::llm::Model) -> (Error, Duration) {
    let started = Instant::now();
    let err = match model.stream("hi").await {
        Err(e) => e,
        Ok(stream) => {
            let items: Vec<_> = stream.collect().await;
            items
                .into_iter()
                .find_map(|i| i.err())
                .expect("the stream fails")
        }
    };
    (err, started.elapsed())
}

#[tokio::test]
async fn with_timeout_bounds_the_head_and_the_whole_stream() {
    let wire = Wire::Completions;
    let no_retry = RetryPolicy::none();
    // No head: the timeout ends the wait.
    let model = model_at(wire, &stalling_server(Stall::NoHead))
        .with_retry(no_retry.clone())
        .with_timeout(Duration::from_millis(300));
    let (err, took) = stream_error(model).await;
    assert!(matches!(err, Error::Timeout { .. }), "{err:?}");
    assert!(took < Duration::from_secs(5), "{took:?}");

    // One event every 100 ms: the timeout bounds the whole stream, not only its head.
    let model = model_at(wire, &stalling_server(Stall::Trickle))
        .with_retry(no_retry.clone())
        .with_timeout(Duration::from_millis(700));
    let (err, took) = stream_error(model).await;
    assert!(
        matches!(err, Error::Timeout { after, .. } if after == Duration::from_millis(700)),
        "{err:?}"
    );
    assert!(took < Duration::from_secs(5), "{took:?}");

    // The stream deadline alone, without a call timeout.
    let model = model_at(wire, &stalling_server(Stall::Trickle))
        .with_retry(no_retry)
        .with_stream_deadline(Duration::from_millis(500));
    let (err, took) = stream_error(model).await;
    assert!(
        matches!(err, Error::Timeout { after, .. } if after == Duration::from_millis(500)),
        "{err:?}"
    );
    assert!(took < Duration::from_secs(5), "{took:?}");
}

#[tokio::test]
async fn zero_timeouts_and_non_finite_params_are_refused_before_any_traffic() {
    let wire = Wire::Completions;
    // A server that would hang: nothing may reach it.
    let base = stalling_server(Stall::NoHead);
    let err = model_at(wire, &base)
        .with_timeout(Duration::ZERO)
        .call("hi")
        .await
        .expect_err("zero timeout");
    assert!(matches!(err, Error::InvalidRequest(_)), "{err:?}");
    for bad in [f64::NAN, f64::INFINITY, f64::NEG_INFINITY] {
        let err = model_at(wire, &base)
            .call("hi")
            .params(Params::new().temperature(bad))
            .unchecked_params()
            .await
            .expect_err("non-finite");
        assert!(
            matches!(&err, Error::InvalidParam { name, .. } if name == "temperature"),
            "{bad}: {err:?}"
        );
    }
    // A finite value set after a non-finite one replaces it.
    assert!(Params::new()
        .temperature(f64::NAN)
        .temperature(0.5)
        .get_f64("temperature")
        .is_some());
}
