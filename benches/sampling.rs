//! `probabilistic_sampler` per-span cost (issue 13): one 100-span request per iteration
//! through the processor (the clone of the request is outside the measurement), for the
//! `hash_seed` mode at 25% and 100% (100% writes `ot=rv:…;th:0` into every span) and the
//! `proportional` mode at 25%, plus a request whose spans already carry a vendor
//! tracestate, and spans without attributes (dropping a span frees it inside the
//! measurement, which dominates the full spans' figures). Run: `cargo bench --bench sampling`.

mod common;

use common::request;
use criterion::{criterion_group, criterion_main, BatchSize, Criterion, Throughput};
use switchyard_components::processors::probabilistic_sampler::{ProbabilisticSampler, ProbabilisticSamplerConfig};
use switchyard_core::component::Kind;
use switchyard_core::consumer::RequestContext;
use switchyard_core::processorhelper::SignalProcessor;

const SPANS: usize = 100;

fn sampler(pct: f32, mode: &str) -> ProbabilisticSampler {
    let set = switchyard_core::testing::settings(Kind::Processor, "probabilistic_sampler");
    let cfg =
        ProbabilisticSamplerConfig { sampling_percentage: pct, mode: mode.into(), hash_seed: 22, ..Default::default() };
    ProbabilisticSampler::new(&set, &cfg)
}

fn sampling(c: &mut Criterion) {
    let plain = request(SPANS);
    let mut with_state = request(SPANS);
    for rs in &mut with_state.resource_spans {
        for ss in &mut rs.scope_spans {
            for s in &mut ss.spans {
                s.trace_state = "congo=t61rcWkgMzE,rojo=00f067aa0ba902b7".into();
            }
        }
    }
    // The same spans without attributes and events: what is left is the decision itself
    // and freeing the small dropped spans.
    let mut bare = request(SPANS);
    for rs in &mut bare.resource_spans {
        for ss in &mut rs.scope_spans {
            for s in &mut ss.spans {
                s.attributes.clear();
                s.events.clear();
            }
        }
    }
    let cx = RequestContext::default();
    let mut g = c.benchmark_group("probabilistic_sampler");
    g.throughput(Throughput::Elements(SPANS as u64));
    for (name, p, req) in [
        ("hash_seed_25pct", sampler(25.0, "hash_seed"), &plain),
        ("hash_seed_100pct", sampler(100.0, "hash_seed"), &plain),
        ("hash_seed_25pct_vendor_tracestate", sampler(25.0, "hash_seed"), &with_state),
        ("proportional_25pct", sampler(25.0, "proportional"), &plain),
        ("hash_seed_0pct", sampler(0.0, "hash_seed"), &plain),
        ("hash_seed_25pct_bare_spans", sampler(25.0, "hash_seed"), &bare),
        ("hash_seed_0pct_bare_spans", sampler(0.0, "hash_seed"), &bare),
    ] {
        g.bench_function(name, |b| {
            b.iter_batched(
                || req.clone(),
                |mut r| {
                    p.process_traces(&cx, &mut r).expect("never fails");
                    r
                },
                BatchSize::SmallInput,
            )
        });
    }
    g.finish();
}

criterion_group!(benches, sampling);
criterion_main!(benches);
