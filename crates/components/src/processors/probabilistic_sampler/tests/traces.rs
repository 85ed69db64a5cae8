//! What a user checks on traces: the rate, whole traces kept or dropped together, tiers
//! agreeing on a seed, pruning, tracestate pass-through, self-metrics.

use switchyard_pdata::proto::trace::v1::Span;

use super::{go_zero, parse, processor, run_traces, tid, traces_of, Rng};
use crate::processors::probabilistic_sampler::{ProbabilisticSamplerConfig, COUNT_TRACES_SAMPLED};

fn span(trace_id: Vec<u8>, name: &str) -> Span {
    Span { trace_id, span_id: vec![1; 8], name: name.into(), ..Default::default() }
}

fn kept_fraction(cfg: &ProbabilisticSamplerConfig, n: usize, seed: u64) -> f64 {
    let (p, _) = processor(cfg);
    let mut rng = Rng(seed);
    let spans: Vec<Span> = (0..n).map(|i| span(rng.trace_id(), &i.to_string())).collect();
    let kept = run_traces(&p, traces_of(vec![spans])).len();
    kept as f64 / n as f64
}

#[test]
fn twenty_five_percent_keeps_a_quarter_of_traces_in_every_mode() {
    for mode in ["", "hash_seed", "proportional", "equalizing"] {
        let cfg = parse(&format!("sampling_percentage: 25\nmode: \"{mode}\"\n")).expect("valid");
        let f = kept_fraction(&cfg, 20_000, 11);
        assert!((0.23..=0.27).contains(&f), "{mode}: kept {f}");
    }
    let cfg = parse("sampling_percentage: 25\nhash_seed: 4312\n").expect("valid");
    let f = kept_fraction(&cfg, 20_000, 12);
    assert!((0.23..=0.27).contains(&f), "seeded: kept {f}");
}

#[test]
fn zero_keeps_nothing_and_a_hundred_or_more_keeps_everything() {
    for (yaml, want) in
        [("sampling_percentage: 0\n", 0.0), ("sampling_percentage: 100\n", 1.0), ("sampling_percentage: 250\n", 1.0)]
    {
        let cfg = parse(yaml).expect("valid");
        assert_eq!(kept_fraction(&cfg, 2000, 3), want, "{yaml}");
    }
}

#[test]
fn all_spans_of_a_trace_get_the_same_decision() {
    for yaml in [
        "sampling_percentage: 30\n",
        "sampling_percentage: 30\nmode: proportional\n",
        "sampling_percentage: 30\nmode: equalizing\n",
    ] {
        let (p, _) = processor(&parse(yaml).expect("valid"));
        let mut rng = Rng(5);
        let ids: Vec<Vec<u8>> = (0..500).map(|_| rng.trace_id()).collect();
        // Each trace's 4 spans are spread over two resources and two batches.
        let batch = |part: usize| {
            traces_of(vec![
                ids.iter().map(|id| span(id.clone(), &format!("a{part}"))).collect(),
                ids.iter().map(|id| span(id.clone(), &format!("b{part}"))).collect(),
            ])
        };
        let mut kept: Vec<Vec<u8>> = run_traces(&p, batch(0)).into_iter().map(|s| s.trace_id).collect();
        kept.extend(run_traces(&p, batch(1)).into_iter().map(|s| s.trace_id));
        let traces_kept = ids.iter().filter(|id| kept.contains(id)).count();
        assert!(traces_kept > 100 && traces_kept < 200, "{yaml}: {traces_kept}");
        for id in &ids {
            let n = kept.iter().filter(|k| *k == id).count();
            assert!(n == 0 || n == 4, "{yaml}: trace {id:?} kept {n} of 4 spans");
        }
    }
}

#[test]
fn gateways_with_the_same_seed_agree_and_different_seeds_do_not() {
    let decisions = |seed: u32| {
        let cfg = ProbabilisticSamplerConfig { sampling_percentage: 50.0, hash_seed: seed, ..Default::default() };
        let (p, _) = processor(&cfg);
        let mut rng = Rng(99);
        (0..2000)
            .map(|_| run_traces(&p, traces_of(vec![vec![span(rng.trace_id(), "s")]])).len() == 1)
            .collect::<Vec<bool>>()
    };
    assert_eq!(decisions(22), decisions(22));
    let differ = decisions(22).iter().zip(decisions(23)).filter(|(a, b)| **a != *b).count();
    // Independent 50% decisions disagree about half the time.
    assert!((800..=1200).contains(&differ), "{differ}");
}

#[test]
fn emptied_scopes_and_resources_are_removed() {
    let cfg = ProbabilisticSamplerConfig { sampling_percentage: 50.0, hash_seed: 653, ..Default::default() };
    let (p, _) = processor(&cfg);
    // From the legacy table: kept at 50% with seed 653 / dropped with seed 904.
    let keep = tid("474a03c76d75951a4b4c537ced8f1122");
    let mut req =
        traces_of(vec![vec![span(keep.clone(), "kept")], vec![span(tid("00000000000000000000000000000000"), "x")]]);
    use switchyard_core::processorhelper::SignalProcessor;
    p.process_traces(&Default::default(), &mut req).expect("never fails");
    assert_eq!(req.resource_spans.len(), 1);
    assert_eq!(req.resource_spans[0].scope_spans[0].spans[0].name, "kept");
}

#[test]
fn other_vendors_tracestate_is_kept_after_ot() {
    let cfg = parse("sampling_percentage: 100\nmode: proportional\n").expect("valid");
    let (p, _) = processor(&cfg);
    let req = super::one_span(
        tid("fefefefefefefefefe80000000000000"),
        "congo=t61rcWkgMzE, ot=x:y;th:8 ,rojo=00f067aa0ba902b7",
        Vec::new(),
    );
    let kept = run_traces(&p, req);
    assert_eq!(kept[0].trace_state, "ot=th:8;x:y,congo=t61rcWkgMzE,rojo=00f067aa0ba902b7");
}

#[test]
fn hash_seed_mode_drops_spans_already_carrying_otel_sampling_state() {
    // Upstream: an arriving rv or th is "in use"; with fail_closed (default) the span drops,
    // with fail_closed: false it passes unchanged.
    for (yaml, kept) in [("sampling_percentage: 100\n", 0), ("sampling_percentage: 100\nfail_closed: false\n", 1)] {
        let (p, _) = processor(&parse(yaml).expect("valid"));
        let out = run_traces(&p, super::one_span(tid("fefefefefefefefefe80000000000000"), "ot=th:8", Vec::new()));
        assert_eq!(out.len(), kept, "{yaml}");
        if let Some(s) = out.first() {
            assert_eq!(s.trace_state, "ot=th:8");
        }
    }
}

#[test]
fn decisions_are_counted_by_policy_and_sampled() {
    let cfg = ProbabilisticSamplerConfig { sampling_percentage: 50.0, hash_seed: 653, ..go_zero() };
    let (p, set) = processor(&cfg);
    let spans = vec![
        span(tid("474a03c76d75951a4b4c537ced8f1122"), "kept"),
        span(tid("474a03c76d75951a4b4c537ced8f1122"), "kept too"),
        span(vec![0; 16], "no trace id: fails open (go_zero)"),
    ];
    run_traces(&p, traces_of(vec![spans]));
    let count = |policy: &str, sampled: &str| {
        set.telemetry
            .metrics
            .counter(
                COUNT_TRACES_SAMPLED,
                "",
                &[("processor", "probabilistic_sampler"), ("policy", policy), ("sampled", sampled)],
            )
            .get()
    };
    assert_eq!(count("trace_id_hash", "true"), 2);
    assert_eq!(count("trace_id_hash", "false"), 0);
    assert_eq!(count("missing_randomness", "true"), 1);
}
