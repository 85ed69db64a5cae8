//! Hot-path micro-benchmarks: OTLP protobuf and JSON decode/encode, gzip, and batch
//! splitting, on a request shaped like the load harness's (1 resource with 8 attributes,
//! 100 spans with 10 attributes and 1 event each). Run: `cargo bench --bench codecs`.

use criterion::{criterion_group, criterion_main, BatchSize, Criterion, Throughput};
use prost::Message;
use switchyard_pdata::proto::collector::trace::v1::ExportTraceServiceRequest;
use switchyard_pdata::proto::common::v1::{any_value::Value, AnyValue, InstrumentationScope, KeyValue};
use switchyard_pdata::proto::resource::v1::Resource;
use switchyard_pdata::proto::trace::v1::{span::Event, ResourceSpans, ScopeSpans, Span, Status};
use switchyard_pdata::{SignalData, Traces};

fn kv(k: &str, v: Value) -> KeyValue {
    KeyValue { key: k.into(), value: Some(AnyValue { value: Some(v) }), ..Default::default() }
}

fn request(spans: usize) -> ExportTraceServiceRequest {
    let resource = Resource {
        attributes: (0..8)
            .map(|i| kv(&format!("resource.attr.{i}"), Value::StringValue(format!("value-{i}"))))
            .collect(),
        ..Default::default()
    };
    let spans = (0..spans)
        .map(|i| Span {
            trace_id: (0..16).map(|b| (b * 7 + i) as u8).collect(),
            span_id: (0..8).map(|b| (b * 3 + i) as u8).collect(),
            parent_span_id: vec![9; 8],
            name: format!("GET /api/v1/items/{i}"),
            kind: 2,
            start_time_unix_nano: 1_700_000_000_000_000_000 + i as u64,
            end_time_unix_nano: 1_700_000_000_100_000_000 + i as u64,
            attributes: (0..10)
                .map(|a| match a % 3 {
                    0 => kv(&format!("attr.str.{a}"), Value::StringValue(format!("some string value {a}"))),
                    1 => kv(&format!("attr.int.{a}"), Value::IntValue(a * 1000)),
                    _ => kv(&format!("attr.bool.{a}"), Value::BoolValue(a % 2 == 0)),
                })
                .collect(),
            events: vec![Event {
                name: "event".into(),
                time_unix_nano: 1_700_000_000_050_000_000,
                ..Default::default()
            }],
            status: Some(Status { code: 1, ..Default::default() }),
            ..Default::default()
        })
        .collect();
    ExportTraceServiceRequest {
        resource_spans: vec![ResourceSpans {
            resource: Some(resource),
            scope_spans: vec![ScopeSpans {
                scope: Some(InstrumentationScope { name: "bench".into(), version: "1.0".into(), ..Default::default() }),
                spans,
                ..Default::default()
            }],
            ..Default::default()
        }],
    }
}

fn codecs(c: &mut Criterion) {
    let req = request(100);
    let pb = req.encode_to_vec();
    let json = switchyard_pdata::json::encode_traces(&req);
    let mut g = c.benchmark_group("otlp_traces_100_spans");
    g.throughput(Throughput::Elements(100));
    g.bench_function("protobuf_decode", |b| b.iter(|| ExportTraceServiceRequest::decode(pb.as_slice())));
    g.bench_function("protobuf_encode", |b| b.iter(|| req.encode_to_vec()));
    g.bench_function("json_decode", |b| b.iter(|| switchyard_pdata::json::decode_traces(&json)));
    g.bench_function("json_encode", |b| b.iter(|| switchyard_pdata::json::encode_traces(&req)));
    g.bench_function("gzip_level1", |b| b.iter(|| switchyard_core::confignet::compression::gzip(&pb, 1)));
    g.bench_function("item_count", |b| {
        let t = Traces::from(req.clone());
        b.iter(|| t.item_count())
    });
    g.finish();
}

fn batching(c: &mut Criterion) {
    let mut g = c.benchmark_group("batch");
    g.throughput(Throughput::Elements(8192));
    // 82 requests of 100 spans appended into one batch, then split into batches of 1000.
    g.bench_function("append_82_requests", |b| {
        b.iter_batched(
            || (0..82).map(|_| Traces::from(request(100))).collect::<Vec<_>>(),
            |parts| {
                let mut acc = Traces::default();
                for p in parts {
                    let _ = acc.append(p);
                }
                acc
            },
            BatchSize::LargeInput,
        )
    });
    g.bench_function("split_8200_into_1000", |b| {
        b.iter_batched(
            || {
                let mut acc = Traces::default();
                for _ in 0..82 {
                    let _ = acc.append(Traces::from(request(100)));
                }
                acc
            },
            |mut acc| {
                // Parts are returned so that freeing them happens outside the measurement.
                let mut parts = Vec::with_capacity(9);
                while acc.item_count() > 0 {
                    parts.push(acc.split_off_front(1000));
                }
                parts
            },
            BatchSize::LargeInput,
        )
    });
    g.finish();
}

criterion_group!(benches, codecs, batching);
criterion_main!(benches);
