//! Real OTLP export to real receivers on loopback: an OTLP/gRPC receiver built from
//! `opentelemetry-proto`'s generated tonic server, and an OTLP/HTTP (protobuf) receiver decoding
//! the same messages. An instrumented call and a traced function go out through the batch
//! processor; the test asserts the spans and attributes that arrive.

mod common;

use std::sync::{Arc, Mutex};

use common::{json_response, serve, Wire};
use mirascope::ops::export::{Otlp, Protocol};
use mirascope::{llm, ops};
use opentelemetry_proto::tonic::collector::trace::v1::trace_service_server::{
    TraceService, TraceServiceServer,
};
use opentelemetry_proto::tonic::collector::trace::v1::{
    ExportTraceServiceRequest, ExportTraceServiceResponse,
};
use opentelemetry_proto::tonic::common::v1::any_value::Value as AnyValue;
use prost::Message;
use tracing_subscriber::layer::SubscriberExt;

type Received = Arc<Mutex<Vec<ExportTraceServiceRequest>>>;

#[derive(Clone, Default)]
struct Collector(Received);

#[tonic::async_trait]
impl TraceService for Collector {
    async fn export(
        &self,
        request: tonic::Request<ExportTraceServiceRequest>,
    ) -> Result<tonic::Response<ExportTraceServiceResponse>, tonic::Status> {
        self.0.lock().unwrap().push(request.into_inner());
        Ok(tonic::Response::new(ExportTraceServiceResponse {
            partial_success: None,
        }))
    }
}

/// `(name, kind, attributes, scope)` of a received span.
type ReceivedSpan = (String, i32, Vec<(String, String)>, String);

/// Every received span.
fn spans(received: &Received) -> Vec<ReceivedSpan> {
    let mut out = Vec::new();
    for req in received.lock().unwrap().iter() {
        for rs in &req.resource_spans {
            for ss in &rs.scope_spans {
                let scope = ss
                    .scope
                    .as_ref()
                    .map(|s| s.name.clone())
                    .unwrap_or_default();
                for s in &ss.spans {
                    let attrs = s
                        .attributes
                        .iter()
                        .map(|kv| {
                            let v = match kv.value.as_ref().and_then(|v| v.value.clone()) {
                                Some(AnyValue::StringValue(s)) => s,
                                Some(AnyValue::IntValue(i)) => i.to_string(),
                                Some(AnyValue::BoolValue(b)) => b.to_string(),
                                Some(AnyValue::DoubleValue(d)) => d.to_string(),
                                Some(AnyValue::ArrayValue(a)) => format!(
                                    "{:?}",
                                    a.values
                                        .iter()
                                        .filter_map(|v| match &v.value {
                                            Some(AnyValue::StringValue(s)) => Some(s.clone()),
                                            _ => None,
                                        })
                                        .collect::<Vec<_>>()
                                ),
                                other => format!("{other:?}"),
                            };
                            (kv.key.clone(), v)
                        })
                        .collect();
                    out.push((s.name.clone(), s.kind, attrs, scope.clone()));
                }
            }
        }
    }
    out
}

fn get<'a>(attrs: &'a [(String, String)], key: &str) -> Option<&'a str> {
    attrs
        .iter()
        .find(|(k, _)| k == key)
        .map(|(_, v)| v.as_str())
}

#[ops::trace(tags = ["export"])]
fn exported_step(n: i64) -> i64 {
    n * 3
}

fn exercise(otlp: Otlp, received: &Received) {
    let provider = otlp.provider().expect("exporter");
    let subscriber = tracing_subscriber::registry().with(ops::layer(&provider));
    let wire = Wire::Anthropic;
    let (_server, model) = serve(
        wire,
        vec![json_response(200, wire.text_body("exported answer"))],
    );
    tracing::subscriber::with_default(subscriber, || {
        ops::instrument_llm().unwrap();
        assert_eq!(exported_step(2), 6);
        model
            .call_blocking(vec![
                llm::Message::system("Be brief."),
                llm::Message::user("hello"),
            ])
            .unwrap();
    });
    provider.force_flush().expect("flush");
    provider.shutdown().expect("shutdown");

    let spans = spans(received);
    let chat = spans
        .iter()
        .find(|s| s.0 == format!("chat {}", model.id()))
        .expect("the chat span arrived");
    assert_eq!(chat.1, 3, "CLIENT");
    assert_eq!(chat.3, "mirascope.llm");
    assert_eq!(get(&chat.2, "gen_ai.provider.name"), Some("anthropic"));
    assert_eq!(get(&chat.2, "gen_ai.request.model"), Some(model.id()));
    assert_eq!(get(&chat.2, "gen_ai.usage.input_tokens"), Some("3"));
    assert_eq!(
        get(&chat.2, "gen_ai.response.finish_reasons"),
        Some(r#"["stop"]"#)
    );
    assert_eq!(
        get(&chat.2, "gen_ai.system_instructions"),
        Some(r#"[{"type":"text","content":"Be brief."}]"#)
    );
    assert_eq!(
        get(&chat.2, "gen_ai.output.messages"),
        Some(
            r#"[{"role":"assistant","parts":[{"type":"text","content":"exported answer"}],"finish_reason":"stop"}]"#
        )
    );
    let step = spans
        .iter()
        .find(|s| s.0 == "exported_step")
        .expect("the trace span arrived");
    assert_eq!(step.1, 1, "INTERNAL");
    assert_eq!(step.3, "mirascope.ops");
    assert_eq!(get(&step.2, "mirascope.trace.output"), Some("6"));
    assert_eq!(get(&step.2, "mirascope.trace.tags"), Some(r#"["export"]"#));
}

#[test]
fn otlp_grpc_to_a_real_receiver() {
    let received: Received = Arc::default();
    let rt = tokio::runtime::Runtime::new().unwrap();
    let addr = common::serve_grpc(
        &rt,
        tonic::service::Routes::new(TraceServiceServer::new(Collector(received.clone()))),
    );
    exercise(
        Otlp::new()
            .protocol(Protocol::Grpc)
            .endpoint(format!("http://{addr}")),
        &received,
    );
}

#[test]
fn otlp_http_protobuf_to_a_real_receiver() {
    use http_body_util::BodyExt;
    let received: Received = Arc::default();
    let rt = tokio::runtime::Runtime::new().unwrap();
    let listener = rt
        .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
        .unwrap();
    let addr = listener.local_addr().unwrap();
    let sink = received.clone();
    let paths: Arc<Mutex<Vec<(String, String)>>> = Arc::default();
    let seen = paths.clone();
    rt.spawn(async move {
        loop {
            let Ok((stream, _)) = listener.accept().await else {
                return;
            };
            let sink = sink.clone();
            let seen = seen.clone();
            tokio::spawn(async move {
                let service = hyper::service::service_fn(
                    move |req: hyper::Request<hyper::body::Incoming>| {
                        let sink = sink.clone();
                        let seen = seen.clone();
                        async move {
                            let ct = req
                                .headers()
                                .get("content-type")
                                .and_then(|v| v.to_str().ok())
                                .unwrap_or_default()
                                .to_string();
                            seen.lock()
                                .unwrap()
                                .push((req.uri().path().to_string(), ct));
                            let body = req
                                .into_body()
                                .collect()
                                .await
                                .map(|b| b.to_bytes())
                                .unwrap_or_default();
                            let status = match ExportTraceServiceRequest::decode(body) {
                                Ok(r) => {
                                    sink.lock().unwrap().push(r);
                                    200
                                }
                                Err(_) => 400,
                            };
                            let mut resp = hyper::Response::new(http_body_util::Full::new(
                                bytes::Bytes::new(),
                            ));
                            *resp.status_mut() = hyper::StatusCode::from_u16(status).unwrap();
                            Ok::<_, std::convert::Infallible>(resp)
                        }
                    },
                );
                let _ = hyper::server::conn::http1::Builder::new()
                    .serve_connection(hyper_util::rt::TokioIo::new(stream), service)
                    .await;
            });
        }
    });
    exercise(
        Otlp::new()
            .protocol(Protocol::HttpProtobuf)
            .endpoint(format!("http://{addr}"))
            .header("x-project-name", "mirascope-test"),
        &received,
    );
    let paths = paths.lock().unwrap();
    assert!(
        paths
            .iter()
            .all(|(p, ct)| p == "/v1/traces" && ct == "application/x-protobuf"),
        "{paths:?}"
    );
}

/// A broken collector never breaks the program: calls succeed, flush and shutdown return
/// (with an error) instead of hanging, on a current-thread runtime too.
#[tokio::test(flavor = "current_thread")]
async fn broken_collector_and_current_thread_shutdown() {
    let dead = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap()
    };
    for protocol in [Protocol::HttpProtobuf, Protocol::Grpc] {
        let provider = Otlp::new()
            .protocol(protocol)
            .endpoint(format!("http://{dead}"))
            .timeout(std::time::Duration::from_millis(500))
            .provider()
            .unwrap();
        let subscriber = tracing_subscriber::registry().with(ops::layer(&provider));
        let _default = tracing::subscriber::set_default(subscriber);
        ops::instrument_llm().unwrap();
        assert_eq!(exported_step(1), 3, "the traced function is unaffected");
        let wire = Wire::Google;
        let (_server, model) = serve(
            wire,
            vec![json_response(200, wire.text_body("still works"))],
        );
        assert_eq!(model.call("hi").await.unwrap().text(), "still works");
        let started = std::time::Instant::now();
        let _ = provider.force_flush();
        let _ = provider.shutdown();
        assert!(
            started.elapsed() < std::time::Duration::from_secs(15),
            "{protocol:?}: flush and shutdown return"
        );
    }
}

/// A gRPC receiver with tonic's default 4 MiB message limit, and spans for one batch: twenty small
/// ones and one with 60 values of 100 KB (6 MB in all, every value under the length limit).
fn oversized_batch(limit: Option<usize>) -> Vec<ReceivedSpan> {
    let received: Received = Arc::default();
    let rt = tokio::runtime::Runtime::new().unwrap();
    let addr = common::serve_grpc(
        &rt,
        tonic::service::Routes::new(TraceServiceServer::new(Collector(received.clone()))),
    );
    let provider = Otlp::new()
        .protocol(Protocol::Grpc)
        .endpoint(format!("http://{addr}"))
        .attribute_value_length_limit(limit)
        .provider()
        .expect("exporter");
    let subscriber = tracing_subscriber::registry().with(ops::layer(&provider));
    tracing::subscriber::with_default(subscriber, || {
        for i in 0..10 {
            ops::span(&format!("small {i}")).finish();
        }
        let big = ops::span("big");
        for i in 0..60 {
            big.set([(
                format!("blob.{i}"),
                ops::AttributeValue::from("x".repeat(100_000)),
            )]);
        }
        big.finish();
        for i in 10..20 {
            ops::span(&format!("small {i}")).finish();
        }
    });
    let _ = provider.force_flush();
    let _ = provider.shutdown();
    spans(&received)
}

/// One oversized span never costs the other spans of its batch: the batch goes out in requests
/// under the collector's limit, and with a length limit set the big span itself arrives, its
/// largest values replaced by markers.
#[test]
fn one_oversized_span_does_not_cost_its_batch() {
    let small = |spans: &[ReceivedSpan]| spans.iter().filter(|s| s.0.starts_with("small ")).count();

    let unlimited = oversized_batch(None);
    assert_eq!(small(&unlimited), 20, "every small span arrived");
    assert!(
        !unlimited.iter().any(|s| s.0 == "big"),
        "the 6 MB span alone was refused"
    );

    let limited = oversized_batch(Some(128 * 1024));
    assert_eq!(small(&limited), 20, "every small span arrived");
    let big = limited
        .iter()
        .find(|s| s.0 == "big")
        .expect("the big span arrived, limited");
    let markers = big
        .2
        .iter()
        .filter(|(_, v)| v.starts_with(r#"{"mirascope.truncated":{"original_length":100000}}"#))
        .count();
    assert!(
        markers > 0 && markers < 60,
        "{markers} of 60 values replaced"
    );
}
