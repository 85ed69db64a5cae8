//! The protobuf walker against a full prost decode, per span, on two traces requests of 100
//! spans (10 attributes and 1 event each): the workspace's `codecs` bench request (~370 B
//! per span) and the same with longer string values (~500 B per span, DESIGN.md §5's
//! reference size). Run: `cargo bench -p switchyard-pdata --bench wire`.

#[path = "../../../benches/common/mod.rs"]
mod common;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use prost::Message;
use switchyard_pdata::proto::collector::trace::v1::ExportTraceServiceRequest;
use switchyard_pdata::proto::common::v1::any_value::Value;
use switchyard_pdata::wire::walk;
use switchyard_pdata::Signal;

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

criterion_group!(benches, wire);
criterion_main!(benches);
