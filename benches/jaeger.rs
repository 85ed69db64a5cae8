//! Per-span cost of the `jaeger` receiver's decode + translation to OTLP (issue 19): a
//! 100-span batch (each span 8 tags, one log with 2 fields, one reference) as a Thrift
//! binary body (`thrift_http`), a compact `emitBatch` datagram (`thrift_compact`) and a
//! protobuf `PostSpansRequest` (`grpc`). The bytes are made outside the measurement.
//! Run: `cargo bench --bench jaeger`.

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use prost::Message;
use switchyard_components::receivers::jaeger::proto_model as pm;
use switchyard_components::receivers::jaeger::proto_translate::request_to_traces;
use switchyard_components::receivers::jaeger::thrift_encode::{binary_batch, compact_emit_batch};
use switchyard_components::receivers::jaeger::thrift_model::{
    decode_binary_batch, decode_compact_emit_batch, Batch, Log, Process, Span, SpanRef, Tag, TagType,
};
use switchyard_components::receivers::jaeger::thrift_translate::batch_to_traces;
use switchyard_pdata::SignalData;

const SPANS: usize = 100;

fn tag(key: &str, i: usize) -> Tag {
    let mut t = Tag {
        key: key.into(),
        v_type: TagType::String,
        v_str: None,
        v_double: None,
        v_bool: None,
        v_long: None,
        v_binary: None,
    };
    match i % 3 {
        0 => t.v_str = Some(format!("value {i} of {key}")),
        1 => (t.v_type, t.v_long) = (TagType::Long, Some(i as i64)),
        _ => (t.v_type, t.v_bool) = (TagType::Bool, Some(true)),
    }
    t
}

fn thrift_batch() -> Batch {
    let keys =
        ["http.method", "http.url", "http.status_code", "peer.service", "component", "db.system", "retry", "cache"];
    Batch {
        process: Process { service_name: "checkout".into(), tags: Some(vec![tag("hostname", 0), tag("ip", 1)]) },
        spans: (0..SPANS)
            .map(|i| Span {
                trace_id_low: 0x1234 + i as i64,
                trace_id_high: 0x5678,
                span_id: 1 + i as i64,
                parent_span_id: i as i64,
                operation_name: format!("GET /api/{i}"),
                references: vec![SpanRef { ref_type: 1, trace_id_low: 9, trace_id_high: 9, span_id: 9 }],
                flags: 1,
                start_time: 1_700_000_000_000_000 + i as i64,
                duration: 1500,
                tags: keys
                    .iter()
                    .enumerate()
                    .map(|(j, k)| tag(k, i + j))
                    .chain([Tag {
                        key: "span.kind".into(),
                        v_type: TagType::String,
                        v_str: Some("server".into()),
                        v_double: None,
                        v_bool: None,
                        v_long: None,
                        v_binary: None,
                    }])
                    .collect(),
                logs: vec![Log { timestamp: 1_700_000_000_000_100, fields: vec![tag("event", 0), tag("key", 3)] }],
                incomplete: None,
            })
            .collect(),
    }
}

fn kv(t: &Tag) -> pm::KeyValue {
    let mut k = pm::KeyValue { key: t.key.clone(), ..Default::default() };
    match t.v_type {
        TagType::Long => (k.v_type, k.v_int64) = (pm::value_type::INT64, t.v_long.unwrap_or(0)),
        TagType::Bool => (k.v_type, k.v_bool) = (pm::value_type::BOOL, t.v_bool.unwrap_or(false)),
        _ => (k.v_type, k.v_str) = (pm::value_type::STRING, t.v_str.clone().unwrap_or_default()),
    }
    k
}

/// The same spans as protobuf.
fn proto_request(b: &Batch) -> pm::PostSpansRequest {
    let id = |hi: i64, lo: i64| [hi.to_be_bytes(), lo.to_be_bytes()].concat();
    let ts = |us: i64| Some(pm::Timestamp { seconds: us / 1_000_000, nanos: (us % 1_000_000) as i32 * 1000 });
    let spans = b
        .spans
        .iter()
        .map(|s| pm::Span {
            trace_id: id(s.trace_id_high, s.trace_id_low),
            span_id: s.span_id.to_be_bytes().to_vec(),
            operation_name: s.operation_name.clone(),
            references: [(0, s.parent_span_id, s.trace_id_high, s.trace_id_low), (1, 9, 9, 9)]
                .iter()
                .map(|&(t, sp, hi, lo)| pm::SpanRef {
                    trace_id: id(hi, lo),
                    span_id: sp.to_be_bytes().to_vec(),
                    ref_type: t,
                })
                .collect(),
            flags: 1,
            start_time: ts(s.start_time),
            duration: Some(pm::Duration { seconds: 0, nanos: 1_500_000 }),
            tags: s.tags.iter().map(kv).collect(),
            logs: s
                .logs
                .iter()
                .map(|l| pm::Log { timestamp: ts(l.timestamp), fields: l.fields.iter().map(kv).collect() })
                .collect(),
            ..Default::default()
        })
        .collect();
    let process =
        pm::Process { service_name: "checkout".into(), tags: b.process.tags.iter().flatten().map(kv).collect() };
    pm::PostSpansRequest { batch: Some(pm::Batch { spans, process: Some(process) }) }
}

fn translate(c: &mut Criterion) {
    let batch = thrift_batch();
    let body = binary_batch(&batch);
    let datagram = compact_emit_batch(&batch);
    let proto = proto_request(&batch).encode_to_vec();
    let mut g = c.benchmark_group("jaeger_to_otlp");
    g.throughput(Throughput::Elements(SPANS as u64));
    g.bench_function("thrift_binary", |b| {
        b.iter(|| batch_to_traces(decode_binary_batch(&body).expect("decodes")).item_count())
    });
    g.bench_function("thrift_compact", |b| {
        b.iter(|| batch_to_traces(decode_compact_emit_batch(&datagram).expect("decodes")).item_count())
    });
    g.bench_function("proto", |b| {
        b.iter(|| {
            let req = pm::PostSpansRequest::decode(proto.as_slice()).expect("decodes");
            request_to_traces(req).expect("translates").item_count()
        })
    });
    g.finish();
}

criterion_group!(benches, translate);
criterion_main!(benches);
