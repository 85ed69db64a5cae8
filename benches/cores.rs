//! Does the pipeline scale on cores (issue 16: two workers on two cores at least 1.8× one)?
//!
//! The load harness (`../shared/bench`) cannot answer on this 2-core machine: its load
//! generator and sink need the second core. Here the pipeline runs in-process on a tokio
//! runtime of 1 and then 2 workers, fed by as many sender tasks (a receiver's connections):
//! every request is walked as the OTLP receiver walks it (`Traces::from_encoded`), then goes
//! through the real graph built from YAML (the `batch` processor, optionally the
//! `attributes` or `transform` processor) to an exporter that does what the `otlp` exporter
//! does to a batch (write its encoding into gzip level 1, behind the real exporter helper
//! and its default sending queue) and drops the result. What is left out is the socket
//! work (HTTP/2, TLS), which tonic and hyper spread over the workers per connection.
//!
//! Each iteration sends 4,100 requests of 100 spans (50 batches of 8,200 spans: the batch
//! processor sends at 8,192, so nothing waits for its timeout) and waits until the exporter
//! has compressed every span (50 batches, so the last one, compressed while the other core
//! may idle, weighs little). Run: `cargo bench --bench cores`; the figure to read is the
//! ratio of the `2_workers` throughput to the `1_worker` one in each group.

mod common;

/// The gateway's allocator, so the figures are the gateway's.
#[cfg(feature = "jemalloc")]
#[global_allocator]
static ALLOC: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use futures::future::BoxFuture;
use prost::Message;
use serde::Deserialize;
use switchyard_components::processors::attributes::AttributesProcessorFactory;
use switchyard_components::processors::batch::BatchProcessorFactory;
use switchyard_components::processors::transform::TransformProcessorFactory;
use switchyard_core::component::{
    BuildError, Component, ComponentConfig, ExporterFactory, Host, Settings, Stability, StartError,
};
use switchyard_core::consumer::{AnyConsumer, DynConsumer, RequestContext};
use switchyard_core::exporterhelper::{ExportError, QueueConfig, QueuedExporter, RetryConfig, Sender};
use switchyard_core::telemetry::ExporterObs;
use switchyard_core::testing::GraphHarness;
use switchyard_pdata::{Signal, SignalData, Traces};

const SPANS: usize = 100;
const REQUESTS: usize = 4_100;

/// Settings of the `gzipnull` exporter: none.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct GzipNullConfig {}

impl ComponentConfig for GzipNullConfig {}

/// An exporter that compresses each batch as the `otlp` exporter does and counts its spans.
struct GzipNullFactory(Arc<AtomicU64>);

struct GzipSender(Arc<AtomicU64>);

impl Sender<Traces> for GzipSender {
    fn send<'a>(&'a self, _cx: &'a RequestContext, data: &'a Traces) -> BoxFuture<'a, Result<(), ExportError>> {
        let mut enc =
            flate2::write::GzEncoder::new(Vec::with_capacity(data.encoded_len() / 3), flate2::Compression::new(1));
        let result = data
            .write_encoded(&mut enc)
            .and_then(|_| enc.finish())
            .map(|body| {
                std::hint::black_box(body);
                self.0.fetch_add(data.item_count() as u64, Ordering::Relaxed);
            })
            .map_err(|e| ExportError::permanent(e.to_string()));
        Box::pin(std::future::ready(result))
    }
}

/// The exporter, shared by the pipeline (consumer) and the graph (component).
struct Shared(Arc<QueuedExporter<Traces>>);

impl Component for Shared {
    fn start<'a>(&'a self, host: &'a Host) -> BoxFuture<'a, Result<(), StartError>> {
        self.0.start(host)
    }
    fn shutdown(&self) -> BoxFuture<'_, ()> {
        self.0.shutdown()
    }
}

impl ExporterFactory for GzipNullFactory {
    type Config = GzipNullConfig;
    fn component_type(&self) -> &'static str {
        "gzipnull"
    }
    fn stability(&self, signal: Signal) -> Option<Stability> {
        (signal == Signal::Traces).then_some(Stability::Development)
    }
    fn create(
        &self,
        set: Settings,
        _cfg: &GzipNullConfig,
        _signal: Signal,
    ) -> Result<(AnyConsumer, Box<dyn Component>), BuildError> {
        let obs = ExporterObs::new(&set.telemetry, &set.id, Signal::Traces);
        let sender = GzipSender(Arc::clone(&self.0));
        let q = Arc::new(QueuedExporter::new(
            set.id.clone(),
            sender,
            QueueConfig::default(),
            RetryConfig::default(),
            Duration::from_secs(5),
            obs,
        ));
        let consumer: DynConsumer<Traces> = q.clone();
        Ok((AnyConsumer::from(consumer), Box::new(Shared(q))))
    }
}

/// The pipelines measured: forwarding (what a user writes: `batch: {}`), and forwarding
/// with one mutating processor.
const CONFIGS: [(&str, &str); 3] = [
    ("forward", ""),
    ("attributes_upsert", "attributes: {actions: [{key: deployment.environment, action: upsert, value: production}]}"),
    ("transform_set", "transform: {trace_statements: ['set(span.attributes[\"tier\"], \"gold\")']}"),
];

fn yaml(processor: &str) -> String {
    let (defs, names) = match processor.split_once(':') {
        Some((name, _)) => (format!("  {processor}\n"), format!("[{name}, batch]")),
        None => (String::new(), "[batch]".to_string()),
    };
    format!(
        "receivers: {{source: }}\nprocessors:\n  batch: {{}}\n{defs}exporters: {{gzipnull: }}\n\
         service: {{pipelines: {{traces: {{receivers: [source], processors: {names}, exporters: [gzipnull]}}}}}}\n"
    )
}

/// Sends `REQUESTS` requests from `senders` tasks and waits until all their spans were
/// compressed; returns the time taken.
async fn run_once(input: &DynConsumer<Traces>, body: &Bytes, senders: usize, sent: &AtomicU64) -> Duration {
    let target = sent.load(Ordering::Relaxed) + (REQUESTS * SPANS) as u64;
    let start = Instant::now();
    let tasks: Vec<_> = (0..senders)
        .map(|w| {
            let input = Arc::clone(input);
            let body = body.clone();
            tokio::spawn(async move {
                let cx = RequestContext::default();
                for _ in (w..REQUESTS).step_by(senders) {
                    let batch = Traces::from_encoded(body.clone()).expect("walks");
                    input.consume(&cx, batch).await.expect("accepted");
                }
            })
        })
        .collect();
    for t in tasks {
        t.await.expect("sender");
    }
    // Bounded: the exporter drains the last batches in well under a second.
    for _ in 0..100_000 {
        if sent.load(Ordering::Relaxed) >= target {
            break;
        }
        tokio::time::sleep(Duration::from_micros(200)).await;
    }
    start.elapsed()
}

fn cores(c: &mut Criterion) {
    let body = Bytes::from(common::request(SPANS).encode_to_vec());
    for (name, processor) in CONFIGS {
        let mut g = c.benchmark_group(format!("pipeline_{name}"));
        g.throughput(Throughput::Elements((REQUESTS * SPANS) as u64));
        g.sample_size(20);
        for workers in [1usize, 2] {
            let rt =
                tokio::runtime::Builder::new_multi_thread().worker_threads(workers).enable_all().build().expect("rt");
            let sent = Arc::new(AtomicU64::new(0));
            let harness = GraphHarness::new();
            let mut registry = harness.registry();
            registry.processor(BatchProcessorFactory).expect("batch");
            registry.processor(AttributesProcessorFactory).expect("attributes");
            registry.processor(TransformProcessorFactory).expect("transform");
            registry.exporter(GzipNullFactory(Arc::clone(&sent))).expect("gzipnull");
            let graph = harness.build(&registry, &yaml(processor)).expect("config");
            rt.block_on(graph.start()).expect("start");
            let input = harness.source("source").traces.expect("a traces pipeline");
            let label = if workers == 1 { "1_worker".to_string() } else { format!("{workers}_workers") };
            g.bench_function(label, |b| {
                b.iter_custom(|iters| {
                    rt.block_on(async {
                        let mut total = Duration::ZERO;
                        for _ in 0..iters {
                            total += run_once(&input, &body, workers, &sent).await;
                        }
                        total
                    })
                })
            });
            rt.block_on(graph.shutdown(Duration::from_secs(5)));
        }
        g.finish();
    }
}

criterion_group!(benches, cores);
criterion_main!(benches);
