//! Shutdown is bounded: with a collector that accepts connections and never answers, the
//! exporter would wait its own timeout (10 s here); `OpsGuard::shutdown` returns after the
//! configured bound with `OpsError::ShutdownTimedOut`, and the program goes on. Its own binary:
//! it installs the global subscriber.

use std::io::Read;
use std::net::TcpListener;
use std::time::{Duration, Instant};

use mirascope::ops::{self, OpsError};

/// A collector that accepts every connection and never answers (keeps reading).
fn hanging_collector() -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            std::thread::spawn(move || {
                let mut stream = stream;
                let mut sink = [0u8; 4096];
                while matches!(stream.read(&mut sink), Ok(n) if n > 0) {}
            });
        }
    });
    format!("http://{addr}")
}

#[test]
fn shutdown_returns_within_its_bound_when_the_collector_hangs() {
    assert_eq!(ops::DEFAULT_SHUTDOWN_TIMEOUT, Duration::from_secs(2));
    let provider = ops::export::Otlp::new()
        .endpoint(hanging_collector())
        .timeout(Duration::from_secs(10))
        .provider()
        .expect("provider");
    let mut guard = ops::Configuration::new(provider)
        .shutdown_timeout(Duration::from_millis(300))
        .install()
        .expect("install");
    for i in 0..3 {
        ops::span(&format!("work {i}")).with("i", i).finish();
    }
    let started = Instant::now();
    let result = guard.shutdown();
    let waited = started.elapsed();
    match result {
        Err(OpsError::ShutdownTimedOut { waited: bound }) => {
            assert_eq!(bound, Duration::from_millis(300))
        }
        other => panic!("shutdown must say it timed out: {other:?}"),
    }
    // Far below the exporter's 10 s: the bound, not the collector, decided.
    assert!(
        waited < Duration::from_secs(5),
        "shutdown blocked {waited:?}"
    );
    // Idempotent, and nothing is left to wait for.
    assert!(guard.shutdown().is_ok());
}
