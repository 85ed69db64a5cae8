//! Hot-path micro-benchmarks: OTLP protobuf and JSON decode/encode, gzip, and batch
//! splitting, the forwarding path kept encoded against decoded, on a request shaped like the load harness's (1 resource with 8 attributes,
//! 100 spans with 10 attributes and 1 event each). Run: `cargo bench --bench codecs`.

mod common;

use common::request;
use criterion::{criterion_group, criterion_main, BatchSize, Criterion, Throughput};
use prost::Message;
use switchyard_pdata::proto::collector::trace::v1::ExportTraceServiceRequest;
use switchyard_pdata::{SignalData, Traces};

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

/// The forwarding path per request, as received bytes to a gzip-1 body: kept encoded (walk,
/// then compress the received bytes) against decoded (decode, encode, compress).
fn forwarding(c: &mut Criterion) {
    let pb = bytes::Bytes::from(request(100).encode_to_vec());
    let mut g = c.benchmark_group("forward_100_spans");
    g.throughput(Throughput::Elements(100));
    let gzip_body = |t: &Traces| {
        let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::new(1));
        let _ = t.write_encoded(&mut enc);
        enc.finish().unwrap_or_default()
    };
    g.bench_function("walk_only", |b| b.iter(|| Traces::from_encoded(pb.clone()).map(|t| t.item_count())));
    g.bench_function("encoded_walk_gzip1", |b| {
        b.iter(|| gzip_body(&Traces::from_encoded(pb.clone()).unwrap_or_default()))
    });
    g.bench_function("decoded_decode_encode_gzip1", |b| {
        b.iter(|| {
            let t = Traces::from(ExportTraceServiceRequest::decode(pb.clone()).unwrap_or_default());
            gzip_body(&t)
        })
    });
    g.finish();

    let mut g = c.benchmark_group("batch_encoded");
    g.throughput(Throughput::Elements(8192));
    g.bench_function("append_82_requests", |b| {
        b.iter_batched(
            || (0..82).map(|_| Traces::from_encoded(pb.clone()).unwrap_or_default()).collect::<Vec<_>>(),
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
                    let _ = acc.append(Traces::from_encoded(pb.clone()).unwrap_or_default());
                }
                acc
            },
            |mut acc| {
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

criterion_group!(benches, codecs, batching, forwarding);
criterion_main!(benches);
