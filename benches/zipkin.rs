//! Per-span cost of the `zipkin` receiver's decoding and translation to OTLP (issue 19):
//! a 100-span request shaped like the OpenTelemetry SDK's Zipkin exporter output (local
//! endpoint, 12 tags including resource and library tags, one annotation, a parent), as
//! v2 JSON and as v2 protobuf. Run: `cargo bench --bench zipkin`.

use std::collections::BTreeMap;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use prost::Message;
use switchyard_components::receivers::zipkin::{decode, Format, ProtoListOfSpans};

const SPANS: usize = 100;

fn tags(i: usize) -> BTreeMap<String, String> {
    let mut t = BTreeMap::new();
    for (k, v) in [
        ("service.name", "checkout".to_string()),
        ("service.version", "1.2.3".into()),
        ("telemetry.sdk.language", "python".into()),
        ("telemetry.sdk.name", "opentelemetry".into()),
        ("otel.library.name", "checkout.handlers".into()),
        ("otel.library.version", "0.1".into()),
        ("http.request.method", "GET".into()),
        ("http.route", "/api/items/{id}".into()),
        ("http.response.status_code", "200".into()),
        ("url.path", format!("/api/items/{i}")),
        ("user.id", format!("user-{}", i % 17)),
        ("otel.status_code", "OK".into()),
    ] {
        t.insert(k.to_string(), v);
    }
    t
}

fn json_body() -> Vec<u8> {
    let spans: Vec<serde_json::Value> = (0..SPANS)
        .map(|i| {
            serde_json::json!({
                "traceId": "5af7183fb1d4cf5f5af7183fb1d4cf5f",
                "id": format!("{:016x}", i + 1),
                "parentId": "0000000000000fff",
                "kind": "SERVER",
                "name": "GET /api/items/{id}",
                "timestamp": 1_700_000_000_000_000u64 + i as u64,
                "duration": 1500,
                "localEndpoint": {"serviceName": "checkout", "ipv4": "10.0.0.5", "port": 8080},
                "annotations": [{"timestamp": 1_700_000_000_000_100u64, "value": "{\"cache-miss\": {\"key\": \"k\"}}"}],
                "tags": tags(i),
            })
        })
        .collect();
    serde_json::to_vec(&spans).expect("json")
}

fn proto_body() -> Vec<u8> {
    use switchyard_components::receivers::zipkin::{ProtoAnnotation, ProtoEndpoint, ProtoSpan};
    let spans = (0..SPANS)
        .map(|i| ProtoSpan {
            trace_id: vec![0x5a; 16],
            parent_id: vec![0, 0, 0, 0, 0, 0, 0x0f, 0xff],
            id: ((i + 1) as u64).to_be_bytes().to_vec(),
            kind: 2,
            name: "GET /api/items/{id}".into(),
            timestamp: 1_700_000_000_000_000 + i as u64,
            duration: 1500,
            local_endpoint: Some(ProtoEndpoint {
                service_name: "checkout".into(),
                ipv4: vec![10, 0, 0, 5],
                ipv6: vec![],
                port: 8080,
            }),
            remote_endpoint: None,
            annotations: vec![ProtoAnnotation {
                timestamp: 1_700_000_000_000_100,
                value: "{\"cache-miss\": {}}".into(),
            }],
            tags: tags(i),
            debug: false,
            shared: false,
        })
        .collect();
    ProtoListOfSpans { spans }.encode_to_vec()
}

fn translate(c: &mut Criterion) {
    let mut g = c.benchmark_group("zipkin_receiver");
    g.throughput(Throughput::Elements(SPANS as u64));
    for (name, format, body) in [("v2_json", Format::V2Json, json_body()), ("v2_proto", Format::V2Proto, proto_body())]
    {
        let req = decode(format, &body, false).expect("decodes");
        assert_eq!(req.resource_spans[0].scope_spans[0].spans.len(), SPANS);
        g.bench_function(name, |b| b.iter(|| decode(format, &body, false).expect("decodes")));
    }
    g.finish();
}

criterion_group!(benches, translate);
criterion_main!(benches);
