//! The runtime: buffering by trace id, timers, early decisions, late spans, shutdown and
//! sharding, driven with paused time. Policy semantics are tested in `policy`.

use std::time::Duration;

use switchyard_core::component::{Component, ComponentConfig, Host, Kind, Settings};
use switchyard_core::config as core_config;
use switchyard_core::consumer::{DynConsumer, RequestContext};
use switchyard_core::testing::{settings, SinkConsumer};
use switchyard_pdata::proto::collector::trace::v1::ExportTraceServiceRequest;
use switchyard_pdata::proto::trace::v1::{status::StatusCode, ResourceSpans, ScopeSpans, Span, Status};
use switchyard_pdata::walk::spans;
use switchyard_pdata::{SignalData, Traces};

use super::{build, TailSamplingConfig};

fn parse(yaml: &str) -> Result<TailSamplingConfig, String> {
    let node = core_config::parse("t.yaml", yaml).map_err(|e| e.to_string())?;
    core_config::from_node(&node, "tail_sampling").map_err(|e| e.to_string())
}

/// Keeps traces with an error span.
const ERRORS: &str = "policies: [{name: errors, type: status_code, status_code: {status_codes: [ERROR]}}]\n";
const ALWAYS: &str = "policies: [{name: all, type: always_sample}]\n";

struct Rig {
    set: Settings,
    sink: std::sync::Arc<SinkConsumer<Traces>>,
    input: DynConsumer<Traces>,
    component: Box<dyn Component>,
}

async fn rig(yaml: &str, shards: usize) -> Rig {
    let cfg = parse(yaml).expect("config");
    assert!(cfg.validate().is_empty(), "{:?}", cfg.validate().iter().map(|e| &e.message).collect::<Vec<_>>());
    let set = settings(Kind::Processor, "tail_sampling");
    let sink = SinkConsumer::<Traces>::new();
    let (input, component) = build(&set, &cfg, shards, sink.clone()).expect("build");
    component.start(&Host::default()).await.expect("start");
    Rig { set, sink, input, component }
}

/// A trace id whose shard (of 2) is `id % 2`.
fn tid(id: u8) -> Vec<u8> {
    let mut t = vec![0u8; 16];
    t[0] = 1;
    t[15] = id;
    t
}

fn span(trace: u8, span: u8, parent: Option<u8>, error: bool) -> Span {
    Span {
        trace_id: tid(trace),
        span_id: vec![span; 8],
        parent_span_id: parent.map(|p| vec![p; 8]).unwrap_or_default(),
        name: format!("s{trace}-{span}"),
        status: error.then(|| Status { code: StatusCode::Error as i32, ..Default::default() }),
        ..Default::default()
    }
}

fn batch(spans: Vec<Span>) -> Traces {
    Traces::from_request(ExportTraceServiceRequest {
        resource_spans: vec![ResourceSpans {
            scope_spans: vec![ScopeSpans { spans, ..Default::default() }],
            ..Default::default()
        }],
    })
}

impl Rig {
    async fn send(&self, spans: Vec<Span>) {
        self.input.consume(&RequestContext::default(), batch(spans)).await.expect("accepted");
    }
    /// The names of the spans that came out, sorted.
    fn out(&self) -> Vec<String> {
        let mut v: Vec<String> = self
            .sink
            .batches()
            .iter()
            .flat_map(|b| spans(b.request()).map(|s| s.span.name.clone()).collect::<Vec<_>>())
            .collect();
        v.sort();
        v
    }
    /// The sum of the samples of `name` whose labels include every one of `labels`.
    fn metric(&self, name: &str, labels: &[&str]) -> u64 {
        let text = self.set.telemetry.metrics.render(false);
        text.lines()
            .filter(|l| l.starts_with(&format!("{name}{{")))
            .filter(|l| labels.iter().all(|want| l.contains(want)))
            .filter_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
            .map(|v| v as u64)
            .sum()
    }
}

async fn advance(ms: u64) {
    tokio::time::sleep(Duration::from_millis(ms)).await;
}

#[tokio::test(start_paused = true)]
async fn spans_of_a_trace_from_several_requests_are_decided_together_after_decision_wait() {
    let r = rig(&format!("{ERRORS}decision_wait: 1s\n"), 1).await;
    r.send(vec![span(1, 1, None, false), span(2, 1, None, false)]).await;
    advance(500).await;
    r.send(vec![span(1, 2, Some(1), true), span(2, 2, Some(1), false)]).await;
    advance(400).await;
    assert!(r.out().is_empty(), "nothing leaves before decision_wait");
    advance(300).await;
    assert_eq!(r.out(), ["s1-1", "s1-2"], "the error trace arrives whole, the healthy one is dropped");
    assert_eq!(r.metric("otelcol_processor_tail_sampling_new_trace_id_received", &[]), 2);
    assert_eq!(r.metric("otelcol_processor_tail_sampling_global_count_traces_sampled", &["sampled=\"true\""]), 1);
    assert_eq!(r.metric("otelcol_processor_tail_sampling_global_count_traces_sampled", &["sampled=\"false\""]), 1);
    assert_eq!(
        r.metric("otelcol_processor_tail_sampling_count_spans_sampled", &["policy=\"errors\"", "sampled=\"true\""]),
        2
    );
    assert_eq!(r.metric("otelcol_processor_tail_sampling_sampling_traces_on_memory", &[]), 0);
    r.component.shutdown().await;
}

#[tokio::test(start_paused = true)]
async fn late_spans_follow_the_decision() {
    let r = rig(&format!("{ERRORS}decision_wait: 1s\n"), 1).await;
    r.send(vec![span(1, 1, None, true), span(2, 1, None, false)]).await;
    advance(1200).await;
    r.send(vec![span(1, 3, Some(1), false), span(2, 3, Some(1), false)]).await;
    advance(10).await;
    assert_eq!(r.out(), ["s1-1", "s1-3"], "the late span of the kept trace is forwarded at once");
    assert_eq!(
        r.metric("otelcol_processor_tail_sampling_early_releases_from_cache_decision", &["sampled=\"true\""]),
        1
    );
    assert_eq!(
        r.metric("otelcol_processor_tail_sampling_early_releases_from_cache_decision", &["sampled=\"false\""]),
        1
    );
    assert_eq!(
        r.metric("otelcol_processor_tail_sampling_new_trace_id_received", &[]),
        2,
        "late spans start no new trace"
    );
    r.component.shutdown().await;
}

#[tokio::test(start_paused = true)]
async fn a_full_buffer_decides_the_oldest_trace_early_and_counts_it() {
    let r = rig(&format!("{ALWAYS}decision_wait: 10s\nnum_traces: 2\n"), 1).await;
    for t in 1..=3 {
        r.send(vec![span(t, 1, None, false)]).await;
    }
    advance(10).await;
    assert_eq!(r.out(), ["s1-1"], "the oldest trace was decided (and kept), not lost");
    assert_eq!(r.metric("switchyard_processor_tail_sampling_early_decisions", &["reason=\"num_traces\""]), 1);
    assert_eq!(r.metric("otelcol_processor_tail_sampling_sampling_traces_on_memory", &[]), 2);
    assert_eq!(r.metric("otelcol_processor_tail_sampling_sampling_trace_dropped_too_early", &[]), 0);
    r.component.shutdown().await;
    assert_eq!(r.out(), ["s1-1", "s2-1", "s3-1"], "shutdown decides the rest");
}

#[tokio::test(start_paused = true)]
async fn the_byte_budget_bounds_the_buffer() {
    let r = rig(&format!("{ALWAYS}decision_wait: 10s\nmax_buffered_bytes: 200\n"), 1).await;
    for t in 1..=10 {
        r.send(vec![span(t, 1, None, false), span(t, 2, Some(1), false)]).await;
    }
    advance(10).await;
    let held = r.set.telemetry.metrics.render(false);
    let bytes = r.metric("switchyard_processor_held_bytes", &[]);
    assert!(bytes > 0 && bytes <= 200, "held {bytes} bytes:\n{held}");
    assert!(r.metric("switchyard_processor_tail_sampling_early_decisions", &["reason=\"bytes\""]) >= 5);
    r.component.shutdown().await;
    assert_eq!(r.out().len(), 20, "every span kept in the end");
}

#[tokio::test(start_paused = true)]
async fn shutdown_drops_pending_traces_when_configured_and_counts_them() {
    let r = rig(&format!("{ALWAYS}decision_wait: 10s\ndrop_pending_traces_on_shutdown: true\n"), 1).await;
    r.send(vec![span(1, 1, None, false), span(2, 1, None, false)]).await;
    advance(10).await;
    r.component.shutdown().await;
    assert!(r.out().is_empty());
    assert_eq!(r.metric("otelcol_processor_tail_sampling_sampling_trace_dropped_too_early", &[]), 2);
}

#[tokio::test(start_paused = true)]
async fn the_root_span_shortens_the_wait() {
    let r = rig(&format!("{ALWAYS}decision_wait: 10s\ndecision_wait_after_root_received: 1s\n"), 1).await;
    r.send(vec![span(1, 2, Some(1), false), span(2, 2, Some(1), false)]).await;
    advance(100).await;
    r.send(vec![span(1, 1, None, false)]).await;
    // The timer ticks every second (a tenth of decision_wait): trace 1 is due at 1.1 s.
    advance(2000).await;
    assert_eq!(r.out(), ["s1-1", "s1-2"], "trace 1 is decided a second after its root; trace 2 still waits");
    advance(8000).await;
    assert_eq!(r.out(), ["s1-1", "s1-2", "s2-2"]);
    r.component.shutdown().await;
}

#[tokio::test(start_paused = true)]
async fn an_oversize_trace_is_dropped_with_its_late_spans() {
    let r = rig(&format!("{ALWAYS}decision_wait: 1s\nmaximum_trace_size_bytes: 150\n"), 1).await;
    r.send(vec![span(1, 1, None, false)]).await;
    r.send((2..8).map(|s| span(1, s, Some(1), false)).collect()).await;
    r.send(vec![span(2, 1, None, false)]).await;
    advance(1500).await;
    r.send(vec![span(1, 9, Some(1), false)]).await;
    advance(10).await;
    assert_eq!(r.out(), ["s2-1"]);
    assert_eq!(r.metric("switchyard_processor_tail_sampling_oversize_traces_dropped", &[]), 1);
    r.component.shutdown().await;
}

#[tokio::test(start_paused = true)]
async fn two_shards_decide_every_trace_whole() {
    let r = rig(&format!("{ERRORS}decision_wait: 1s\n"), 2).await;
    // Every request carries spans of both shards; errors on traces 1 to 3 (shards 1, 0, 1).
    for s in 1..=3u8 {
        let spans = (1..=6u8).map(|t| span(t, s, (s > 1).then_some(1), t <= 3 && s == 3)).collect();
        r.send(spans).await;
    }
    advance(100).await;
    assert_eq!(
        r.metric("otelcol_processor_tail_sampling_sampling_traces_on_memory", &[]),
        6,
        "the gauge sums the shards"
    );
    advance(1000).await;
    let out = r.out();
    let expected: Vec<String> = [1, 2, 3].iter().flat_map(|t| (1..=3).map(move |s| format!("s{t}-{s}"))).collect();
    assert_eq!(out, expected);
    assert_eq!(r.sink.batches().len(), 2, "each shard emits its own batch");
    r.component.shutdown().await;
}

#[test]
fn config_defaults_and_errors_follow_the_collector() {
    let c = parse(ALWAYS).expect("config");
    assert_eq!(c.decision_wait, Duration::from_secs(30));
    assert_eq!(c.num_traces, 50_000);
    assert!(!c.sample_on_first_match);
    let msgs = |y: &str| {
        parse(y)
            .expect("parse")
            .validate()
            .into_iter()
            .map(|e| format!("{}: {}", e.field, e.message))
            .collect::<Vec<_>>()
    };
    assert!(msgs("policies: []\n").iter().any(|m| m.starts_with("policies: at least one")));
    assert!(msgs(&format!("{ALWAYS}sampling_strategy: span-ingest\n"))[0].contains("not supported"));
    assert!(msgs(&format!("{ALWAYS}sampling_strategy: trace-complet\n"))[0].contains("did you mean \"trace-complete\""));
    assert!(msgs(&format!("{ALWAYS}num_traces: 0\n"))[0].starts_with("num_traces"));
    assert!(parse(&format!("{ALWAYS}num_trace: 3\n")).is_err(), "unknown fields are refused");
}

#[test]
fn the_shard_of_a_trace_is_stable_and_spreads() {
    let mut counts = [0usize; 4];
    for i in 0..4000u32 {
        let mut id = [0u8; 16];
        id[8..12].copy_from_slice(&i.to_be_bytes());
        id[12..].copy_from_slice(&(i.wrapping_mul(2_654_435_761)).to_be_bytes());
        let s = super::shard_of(&id, 4);
        assert_eq!(s, super::shard_of(&id, 4));
        counts[s] += 1;
    }
    assert!(counts.iter().all(|c| (800..1200).contains(c)), "{counts:?}");
}

#[tokio::test(start_paused = true)]
async fn a_trace_growing_past_the_byte_budget_is_decided_early_not_kept_over_it() {
    let r = rig(&format!("{ALWAYS}decision_wait: 10s\nmax_buffered_bytes: 300\n"), 1).await;
    // One trace, many requests: before the cap applied to new traces only, it grew without bound.
    for s in 1..=20 {
        r.send(vec![span(1, s, None, false)]).await;
        advance(1).await;
        let bytes = r.metric("switchyard_component_memory_used_bytes", &["component=\"processor/tail_sampling\""]);
        assert!(bytes <= 300, "used {bytes} bytes after span {s}: over max_buffered_bytes");
    }
    assert!(r.metric("switchyard_processor_tail_sampling_early_decisions", &["reason=\"bytes\""]) >= 1);
    r.component.shutdown().await;
    assert_eq!(r.out().len(), 20, "decided early (always_sample keeps it), nothing lost");
}

#[test]
fn the_memory_bound_follows_the_buffer_caps_and_the_shards() {
    use switchyard_core::component::BoundContext;
    let cfg = parse(&format!("{ALWAYS}num_traces: 1000\nmax_buffered_bytes: 1048576\n")).expect("config");
    let b = super::memory_bound(&cfg, &BoundContext { largest_request: 1000 }, 2);
    let switchyard_core::component::MemoryBound::Declared { parts, .. } = &b else { panic!("{b:?}") };
    let bytes: Vec<u64> = parts.iter().map(|p| p.bytes).collect();
    assert_eq!(bytes, [4 << 20, 2000 * 128, 2 * 64 * 1000 * 4], "{parts:?}");
    let per_trace = parse(&format!("{ALWAYS}num_traces: 10\nmaximum_trace_size_bytes: 1000\n")).expect("config");
    let b = super::memory_bound(&per_trace, &BoundContext { largest_request: 1000 }, 1);
    let switchyard_core::component::MemoryBound::Declared { parts, .. } = &b else { panic!("{b:?}") };
    assert_eq!(parts[0].bytes, 10 * 1000 * 4, "num_traces x maximum_trace_size_bytes when smaller");
}
