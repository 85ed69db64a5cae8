//! The protobuf walker against a full prost decode, per span, on two traces requests of 100
//! spans (10 attributes and 1 event each): the workspace's `codecs` bench request (~370 B
//! per span) and the same with longer string values (~500 B per span, DESIGN.md §5's
//! reference size); and the split by trace id from the bytes against decode + split +
//! encode. Run: `cargo bench -p switchyard-pdata --bench wire`.

#[path = "../../../benches/common/mod.rs"]
mod common;

use bytes::Bytes;
use criterion::{criterion_group, criterion_main, BatchSize, Criterion, Throughput};
use prost::Message;
use switchyard_pdata::proto::collector::trace::v1::ExportTraceServiceRequest;
use switchyard_pdata::proto::common::v1::any_value::Value;
use switchyard_pdata::wire::walk;
use switchyard_pdata::{Signal, SignalData, Traces};

const SPANS: usize = 100;

/// The `codecs` request with 33 more bytes in each of a span's 4 string attributes.
fn request_500b() -> ExportTraceServiceRequest {
    let mut req = common::request(SPANS);
    for span in req.resource_spans.iter_mut().flat_map(|rs| &mut rs.scope_spans).flat_map(|ss| &mut ss.spans) {
        for kv in &mut span.attributes {
            if let Some(Value::StringValue(s)) = kv.value.as_mut().and_then(|v| v.value.as_mut()) {
                s.push_str(" padded to a 500-byte span ......");
            }
        }
    }
    req
}

fn wire(c: &mut Criterion) {
    for (name, req) in [("codecs_request", common::request(SPANS)), ("spans_500b", request_500b())] {
        let pb = req.encode_to_vec();
        eprintln!("{name}: {} bytes, {} bytes/span", pb.len(), pb.len() / SPANS);
        assert_eq!(walk(Signal::Traces, &pb).map(|w| w.items), Ok(SPANS));
        let mut g = c.benchmark_group(format!("wire_traces_100_spans/{name}"));
        g.throughput(Throughput::Elements(SPANS as u64));
        g.bench_function("walk", |b| b.iter(|| walk(Signal::Traces, std::hint::black_box(&pb))));
        g.bench_function("prost_decode", |b| {
            b.iter(|| ExportTraceServiceRequest::decode(std::hint::black_box(pb.as_slice())))
        });
        g.finish();
    }
}

/// Splitting a batch of 100 requests (10,000 spans, random trace ids) in 4 parts by trace
/// id, as the load balancer and the tail-sampling shards do: from the bytes (`wire::regroup`,
/// the parts stay encoded) against decode, move the spans, and encode each part for export.
fn split_by_trace_id(c: &mut Criterion) {
    let pb = Bytes::from(common::request(SPANS).encode_to_vec());
    let batch = || {
        let mut t = Traces::from_encoded(pb.clone()).unwrap_or_default();
        for _ in 1..100 {
            let _ = t.append(Traces::from_encoded(pb.clone()).unwrap_or_default());
        }
        t
    };
    let part = |id: &[u8]| id.last().map_or(0, |b| usize::from(*b) % 4);
    let mut g = c.benchmark_group("split_by_trace_id_10000_spans_4_parts");
    g.throughput(Throughput::Elements(100 * SPANS as u64));
    g.bench_function("from_bytes", |b| {
        b.iter_batched(batch, |t| t.partition_by_trace_id(4, part), BatchSize::LargeInput)
    });
    g.bench_function("decode_partition_encode", |b| {
        b.iter_batched(
            batch,
            |t| {
                let parts = switchyard_pdata::walk::partition_spans(t.into_request(), 4, |_, s| part(&s.trace_id));
                parts.iter().map(|p| p.encode_to_vec()).collect::<Vec<_>>()
            },
            BatchSize::LargeInput,
        )
    });
    g.finish();
}

criterion_group!(benches, wire, split_by_trace_id);
criterion_main!(benches);
