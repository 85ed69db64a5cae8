//! Per-span cost of each `attributes` processor action (issue 13), and of the `resource`
//! processor's upsert: one compiled action over a 100-span request (the clone of the
//! request is outside the measurement). Also the cost of the graph's tap point in front of
//! every consumer (issue 18): a batch handed to a consumer directly, through a tap point
//! nobody listens to, and through one with a listener. Run: `cargo bench --bench attributes`.

mod common;

use common::request;
use criterion::{criterion_group, criterion_main, BatchSize, Criterion, Throughput};
use switchyard_components::processors::attributes::{AttributesProcessor, AttributesProcessorConfig};
use switchyard_components::processors::resource::{ResourceProcessor, ResourceProcessorConfig};
use switchyard_core::component::{ComponentId, Kind, PipelineId};
use switchyard_core::config;
use switchyard_core::consumer::RequestContext;
use switchyard_core::consumer::{AnyConsumer, ConsumeError, Consumer, DynConsumer};
use switchyard_core::processorhelper::SignalProcessor;
use switchyard_core::tap::Taps;
use switchyard_core::telemetry::Telemetry;
use switchyard_pdata::{Signal, Traces};

const SPANS: usize = 100;

fn node(yaml: &str) -> config::Node {
    config::parse("bench.yaml", yaml).expect("yaml")
}

fn actions(c: &mut Criterion) {
    let req = request(SPANS);
    let cx = RequestContext::default();
    let mut g = c.benchmark_group("attributes_action");
    g.throughput(Throughput::Elements(SPANS as u64));
    for (name, action) in [
        ("insert", "{key: env, action: insert, value: production}"),
        ("update", "{key: attr.str.0, action: update, value: changed}"),
        ("upsert", "{key: env, action: upsert, value: production}"),
        ("delete", "{key: attr.str.0, action: delete}"),
        ("hash", "{key: attr.str.0, action: hash}"),
        ("extract", r"{key: attr.str.0, action: extract, pattern: '^some (?P<kind>\w+) value (?P<n>\d+)$'}"),
        ("convert", "{key: attr.int.1, action: convert, converted_type: string}"),
    ] {
        let cfg: AttributesProcessorConfig =
            config::from_node(&node(&format!("actions: [{action}]\n")), "attributes").expect("decodes");
        let p = AttributesProcessor::new(&cfg, Signal::Traces).expect("valid");
        g.bench_function(name, |b| {
            b.iter_batched(
                || req.clone(),
                |mut r| {
                    p.process_traces(&cx, &mut r).expect("runs");
                    r
                },
                BatchSize::SmallInput,
            )
        });
    }
    g.finish();

    let yaml = "attributes: [{key: deployment.environment, action: upsert, value: production}]\n";
    let cfg: ResourceProcessorConfig = config::from_node(&node(yaml), "resource").expect("decodes");
    let p = ResourceProcessor::new(&cfg).expect("valid");
    let mut g = c.benchmark_group("resource_action");
    g.throughput(Throughput::Elements(SPANS as u64));
    g.bench_function("upsert", |b| {
        b.iter_batched(
            || req.clone(),
            |mut r| {
                p.process_traces(&cx, &mut r).expect("runs");
                r
            },
            BatchSize::SmallInput,
        )
    });
    g.finish();
}

/// A consumer that does nothing, so the measurement is the hop itself.
struct Nop;

impl Consumer<Traces> for Nop {
    fn consume<'a>(
        &'a self,
        _cx: &'a RequestContext,
        _data: Traces,
    ) -> futures::future::BoxFuture<'a, Result<(), ConsumeError>> {
        Box::pin(async { Ok(()) })
    }
}

fn tap_point(c: &mut Criterion) {
    let batch = Traces::from(request(SPANS));
    let cx = RequestContext::default();
    let t = Telemetry::new();
    let taps = Taps::default();
    let (id, p) = (ComponentId::parse("transform").expect("id"), PipelineId::parse("traces").expect("id"));
    let direct: DynConsumer<Traces> = std::sync::Arc::new(Nop);
    let AnyConsumer::Traces(tapped) = taps.wrap(&t, Kind::Processor, &id, &p, AnyConsumer::Traces(direct.clone()))
    else {
        unreachable!("the signal is kept")
    };
    let mut g = c.benchmark_group("tap_point");
    for (name, consumer) in [("direct", &direct), ("detached", &tapped)] {
        g.bench_function(name, |b| {
            b.iter(|| futures::executor::block_on(consumer.consume(&cx, batch.clone())).expect("ok"))
        });
    }
    // A listener at the highest rate, its channel drained each time: the lock and token
    // bucket on every batch, and the refcount clone and channel send for those the rate lets
    // through (at this speed most are over 1000/s and only counted).
    let mut rx = taps.find("processors/transform", None).expect("point").attach(1000.0);
    g.bench_function("attached", |b| {
        b.iter(|| {
            futures::executor::block_on(tapped.consume(&cx, batch.clone())).expect("ok");
            while rx.try_recv().is_ok() {}
        })
    });
    g.finish();
}

criterion_group!(benches, actions, tap_point);
criterion_main!(benches);
