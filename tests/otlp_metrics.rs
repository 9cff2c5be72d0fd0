//! Client metrics over real OTLP/gRPC to a real receiver (`opentelemetry-proto`'s generated tonic
//! server): after a known sequence of calls (one answered, one failed, one stream), every
//! instrument arrives with its attributes and bucket counts.

mod common;

use std::sync::{Arc, Mutex};

use common::{json_response, serve, sse_response, Wire};
use futures_util::StreamExt;
use mirascope::ops::export::{Otlp, Protocol};
use mirascope::{llm, ops};
use opentelemetry_proto::tonic::collector::metrics::v1::metrics_service_server::{
    MetricsService, MetricsServiceServer,
};
use opentelemetry_proto::tonic::collector::metrics::v1::{
    ExportMetricsServiceRequest, ExportMetricsServiceResponse,
};
use opentelemetry_proto::tonic::common::v1::any_value::Value as AnyValue;
use opentelemetry_proto::tonic::metrics::v1::metric::Data;

type Received = Arc<Mutex<Vec<ExportMetricsServiceRequest>>>;

#[derive(Clone, Default)]
struct Collector(Received);

#[tonic::async_trait]
impl MetricsService for Collector {
    async fn export(
        &self,
        request: tonic::Request<ExportMetricsServiceRequest>,
    ) -> Result<tonic::Response<ExportMetricsServiceResponse>, tonic::Status> {
        self.0.lock().unwrap().push(request.into_inner());
        Ok(tonic::Response::new(ExportMetricsServiceResponse {
            partial_success: None,
        }))
    }
}

/// `(name, unit, attributes, count or value, bucket counts)` of every data point of the last
/// export.
type ReceivedPoint = (String, String, Vec<(String, String)>, f64, Vec<u64>);

fn received_points(received: &Received) -> Vec<ReceivedPoint> {
    let kv = |attrs: &[opentelemetry_proto::tonic::common::v1::KeyValue]| {
        attrs
            .iter()
            .map(|a| {
                let v = match a.value.as_ref().and_then(|v| v.value.clone()) {
                    Some(AnyValue::StringValue(s)) => s,
                    Some(AnyValue::IntValue(i)) => i.to_string(),
                    other => format!("{other:?}"),
                };
                (a.key.clone(), v)
            })
            .collect::<Vec<_>>()
    };
    let mut out = Vec::new();
    // Cumulative temporality: the last export holds every point.
    if let Some(req) = received.lock().unwrap().last() {
        for rm in &req.resource_metrics {
            for sm in &rm.scope_metrics {
                for m in &sm.metrics {
                    match &m.data {
                        Some(Data::Histogram(h)) => {
                            for p in &h.data_points {
                                out.push((
                                    m.name.clone(),
                                    m.unit.clone(),
                                    kv(&p.attributes),
                                    p.count as f64,
                                    p.bucket_counts.clone(),
                                ));
                            }
                        }
                        Some(Data::Sum(s)) => {
                            for p in &s.data_points {
                                let v = match p.value {
                                    Some(opentelemetry_proto::tonic::metrics::v1::number_data_point::Value::AsDouble(d)) => d,
                                    Some(opentelemetry_proto::tonic::metrics::v1::number_data_point::Value::AsInt(i)) => i as f64,
                                    None => 0.0,
                                };
                                out.push((
                                    m.name.clone(),
                                    m.unit.clone(),
                                    kv(&p.attributes),
                                    v,
                                    Vec::new(),
                                ));
                            }
                        }
                        other => panic!("{}: unexpected data {other:?}", m.name),
                    }
                }
            }
        }
    }
    out
}

#[test]
fn client_metrics_reach_a_real_otlp_receiver() {
    let received: Received = Arc::default();
    let rt = tokio::runtime::Runtime::new().unwrap();
    let addr = common::serve_grpc(
        &rt,
        tonic::service::Routes::new(MetricsServiceServer::new(Collector(received.clone()))),
    );

    let meter_provider = Otlp::new()
        .protocol(Protocol::Grpc)
        .endpoint(format!("http://{addr}"))
        .meter_provider()
        .expect("meter provider");
    let (tracer_provider, _spans) = ops::testing::in_memory_provider();
    let mut guard = ops::Configuration::new(tracer_provider)
        .meter_provider(meter_provider)
        .install()
        .expect("configure");
    ops::instrument_llm().expect("instrument");

    let wire = Wire::Anthropic;
    let (_a, answered) = serve(wire, vec![json_response(200, wire.text_body("hi"))]);
    llm::set_price(answered.id(), llm::Price::per_million_tokens(3.0, 15.0));
    let (_b, failing) = serve(wire, vec![json_response(403, wire.error_body(403, "no"))]);
    let (_c, streaming) = serve(wire, vec![sse_response(wire.sse_body(&["a", "b"], false))]);
    rt.block_on(async {
        answered.call("hello").await.expect("answered");
        failing.call("hello").await.expect_err("403");
        let mut s = streaming.stream("hello").await.expect("stream");
        while let Some(item) = s.next().await {
            item.expect("chunk");
        }
    });
    // The guard's shutdown flushes the metrics (a final export).
    guard.shutdown().expect("shutdown");

    let points = received_points(&received);
    let find = |name: &str, model: &str| -> Vec<&ReceivedPoint> {
        points
            .iter()
            .filter(|p| {
                p.0 == name
                    && p.2
                        .iter()
                        .any(|(k, v)| k == "gen_ai.request.model" && v == model)
            })
            .collect()
    };
    let duration = find("gen_ai.client.operation.duration", answered.id());
    assert_eq!(duration.len(), 1, "{points:?}");
    assert_eq!(duration[0].1, "s");
    assert_eq!(duration[0].3, 1.0);
    assert_eq!(duration[0].4.len(), 15, "14 bounds, 15 buckets");
    let failed = find("gen_ai.client.operation.duration", failing.id());
    assert!(failed[0]
        .2
        .contains(&("error.type".to_string(), "PermissionError".to_string())));
    let tokens = find("gen_ai.client.token.usage", answered.id());
    assert_eq!(tokens.len(), 2, "input and output");
    assert!(tokens.iter().all(|p| p.1 == "{token}" && p.3 == 1.0));
    assert_eq!(
        find(
            "gen_ai.client.operation.time_to_first_chunk",
            streaming.id()
        )
        .len(),
        1
    );
    assert_eq!(
        find(
            "gen_ai.client.operation.time_per_output_chunk",
            streaming.id()
        )
        .len(),
        1
    );
    let cost = find("mirascope.client.cost", answered.id());
    assert_eq!(cost.len(), 1);
    assert_eq!(cost[0].1, "USD");
    assert!(
        (cost[0].3 - (3.0 * 3.0 + 2.0 * 15.0) / 1e6).abs() < 1e-12,
        "{}",
        cost[0].3
    );
    for p in &points {
        for key in [
            "gen_ai.operation.name",
            "gen_ai.provider.name",
            "server.address",
            "server.port",
        ] {
            assert!(p.2.iter().any(|(k, _)| k == key), "{}: {key} missing", p.0);
        }
        assert!(
            !p.2.iter()
                .any(|(k, _)| k.contains("id") && k != "gen_ai.provider.name"),
            "{}: no ids: {:?}",
            p.0,
            p.2
        );
    }
}
