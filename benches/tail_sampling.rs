//! Cost per span of the `tail_sampling` processor (issue 14): 100-span requests of five
//! 20-span traces each, every trace new, through the whole processor (group by trace id,
//! shard, buffer, decide with seed 002's policies, emit), on 1 and 2 shards, with as many
//! runtime workers and concurrent senders (as receivers' connections would be). Each
//! iteration feeds 200 requests (20,000 spans, 1,000 traces) and shuts the processor down,
//! which decides every trace. Run: `cargo bench --bench tail_sampling`.

mod common;

/// The gateway's allocator, so the figures are the gateway's (the system allocator frees
/// across threads much more slowly).
#[cfg(feature = "jemalloc")]
#[global_allocator]
static ALLOC: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

use std::sync::Arc;

use common::request;
use criterion::{criterion_group, criterion_main, BatchSize, Criterion, Throughput};
use switchyard_components::processors::tail_sampling::{build, TailSamplingConfig};
use switchyard_core::component::{Host, Kind};
use switchyard_core::config;
use switchyard_core::consumer::RequestContext;
use switchyard_core::testing::{settings, SinkConsumer};
use switchyard_pdata::proto::collector::trace::v1::ExportTraceServiceRequest;
use switchyard_pdata::{SignalData, Traces};

const REQUESTS: usize = 200;
const SPANS: usize = 100;

const SEED_002: &str = "decision_wait: 30s
policies:
  - {name: errors, type: status_code, status_code: {status_codes: [ERROR]}}
  - {name: healthy, type: probabilistic, probabilistic: {sampling_percentage: 5}}
";

/// `REQUESTS` requests; request r holds traces 5r..5r+5, 20 spans each.
fn requests() -> Vec<ExportTraceServiceRequest> {
    (0..REQUESTS)
        .map(|r| {
            let mut req = request(SPANS);
            for rs in &mut req.resource_spans {
                for ss in &mut rs.scope_spans {
                    for (i, s) in ss.spans.iter_mut().enumerate() {
                        let t = (r * SPANS + i) / 20;
                        s.trace_id =
                            (0..16u64).map(|b| (((t as u64 + 1) * 2_654_435_761) >> (b % 8)) as u8 ^ b as u8).collect();
                    }
                }
            }
            req
        })
        .collect()
}

fn processor(c: &mut Criterion) {
    let cfg: TailSamplingConfig =
        config::from_node(&config::parse("bench.yaml", SEED_002).expect("yaml"), "tail_sampling").expect("config");
    let reqs = requests();
    let mut g = c.benchmark_group("tail_sampling");
    g.throughput(Throughput::Elements((REQUESTS * SPANS) as u64));
    for shards in [1usize, 2] {
        let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(shards).enable_all().build().expect("rt");
        g.bench_function(format!("processor_{shards}_shard"), |b| {
            b.iter_batched(
                || reqs.iter().cloned().map(Traces::from_request).collect::<Vec<_>>(),
                |batches| {
                    rt.block_on(async {
                        let set = settings(Kind::Processor, "tail_sampling");
                        let sink = SinkConsumer::<Traces>::new();
                        let (input, component) = build(&set, &cfg, shards, sink.clone()).expect("build");
                        component.start(&Host::default()).await.expect("start");
                        let mut senders = Vec::new();
                        let per = batches.len().div_ceil(shards);
                        let mut batches = batches.into_iter();
                        for _ in 0..shards {
                            let part: Vec<Traces> = batches.by_ref().take(per).collect();
                            let input = input.clone();
                            senders.push(tokio::spawn(async move {
                                let cx = RequestContext::default();
                                for t in part {
                                    input.consume(&cx, t).await.expect("accepted");
                                }
                            }));
                        }
                        for s in senders {
                            s.await.expect("sender");
                        }
                        component.shutdown().await;
                        Arc::clone(&sink).batches().iter().map(SignalData::item_count).sum::<usize>()
                    })
                },
                BatchSize::SmallInput,
            )
        });
    }
    g.finish();
}

criterion_group!(benches, processor);
criterion_main!(benches);
