//! Per-span cost of each `attributes` processor action (issue 13), and of the `resource`
//! processor's upsert: one compiled action over a 100-span request (the clone of the
//! request is outside the measurement). Run: `cargo bench --bench attributes`.

mod common;

use common::request;
use criterion::{criterion_group, criterion_main, BatchSize, Criterion, Throughput};
use switchyard_components::processors::attributes::{AttributesProcessor, AttributesProcessorConfig};
use switchyard_components::processors::resource::{ResourceProcessor, ResourceProcessorConfig};
use switchyard_core::config;
use switchyard_core::consumer::RequestContext;
use switchyard_core::processorhelper::SignalProcessor;
use switchyard_pdata::Signal;

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

criterion_group!(benches, actions);
criterion_main!(benches);
