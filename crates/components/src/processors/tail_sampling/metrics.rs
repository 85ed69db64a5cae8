//! Self-metrics, with the Collector's names (`otelcol_processor_tail_sampling_*`) where the
//! Collector has one, so its dashboards and alerts work unchanged; Switchyard's own
//! additions are `switchyard_processor_tail_sampling_*`.

use switchyard_core::component::Settings;
use switchyard_core::telemetry::{Counter, Gauge, Histogram, LocalCounter, LocalHistogram};

use super::policy::Decision;

const P: &str = "otelcol_processor_tail_sampling_";

/// Decision-timer latency bounds (ms).
const TIMER_LATENCY_MS: &[f64] = &[
    1.0, 2.0, 5.0, 10.0, 25.0, 50.0, 75.0, 100.0, 150.0, 200.0, 300.0, 400.0, 500.0, 750.0, 1000.0, 2000.0, 3000.0,
    4000.0, 5000.0, 10000.0, 20000.0, 30000.0, 50000.0,
];
/// Ages in seconds (late spans, removal).
const AGE_S: &[f64] = &[1.0, 2.0, 5.0, 10.0, 20.0, 30.0, 60.0, 120.0, 300.0, 600.0, 1800.0, 3600.0, 7200.0];

/// The counters of one policy.
#[derive(Clone)]
pub struct PolicyMetrics {
    /// Traces by `sampled` (index 0 = false, 1 = true).
    pub traces: [Counter; 2],
    /// Spans of those traces.
    pub spans: [Counter; 2],
}

/// Why a trace was decided before its `decision_wait`.
#[derive(Clone, Copy, Debug)]
pub enum EarlyReason {
    /// `num_traces` was reached.
    NumTraces = 0,
    /// `max_buffered_bytes` was reached.
    Bytes = 1,
}

/// Every handle, resolved once and shared by the shards.
#[derive(Clone)]
pub struct Metrics {
    pub policies: Vec<PolicyMetrics>,
    /// `global_count_traces_sampled{sampled}`: final decisions.
    pub global: [Counter; 2],
    pub evaluation_errors: Counter,
    pub new_trace_ids: Counter,
    pub traces_on_memory: Gauge,
    pub timer_latency: Histogram,
    pub late_span_age: Histogram,
    pub removal_age: Histogram,
    /// `early_releases_from_cache_decision{sampled}`: spans of decided traces forwarded or dropped on arrival.
    pub cache_releases: [Counter; 2],
    /// Traces dropped without a decision (the Collector's `sampling_trace_dropped_too_early`):
    /// only at shutdown with `drop_pending_traces_on_shutdown`, as a full buffer decides early instead.
    pub dropped_too_early: Counter,
    /// Switchyard: traces decided early, by reason (`num_traces`, `bytes`).
    pub early: [Counter; 2],
    /// Switchyard: traces dropped for exceeding `maximum_trace_size_bytes`.
    pub oversize: Counter,
}

impl Metrics {
    pub fn new(set: &Settings, policy_names: &[String]) -> Metrics {
        let id = set.id.to_string();
        let m = &set.telemetry.metrics;
        let proc = ("processor", id.as_str());
        let by_sampled = |name: &str, help: &str, extra: &[(&str, &str)]| {
            ["false", "true"].map(|s| {
                let mut l = vec![proc];
                l.extend_from_slice(extra);
                l.push(("sampled", s));
                m.counter(&format!("{P}{name}"), help, &l)
            })
        };
        let policies = policy_names
            .iter()
            .map(|p| PolicyMetrics {
                traces: by_sampled(
                    "count_traces_sampled",
                    "Count of traces that were sampled or not per sampling policy",
                    &[("policy", p)],
                ),
                spans: by_sampled(
                    "count_spans_sampled",
                    "Count of spans that were sampled or not per sampling policy",
                    &[("policy", p)],
                ),
            })
            .collect();
        let counter = |name: &str, help: &str| m.counter(&format!("{P}{name}"), help, &[proc]);
        let early = ["num_traces", "bytes"].map(|r| {
            m.counter(
                "switchyard_processor_tail_sampling_early_decisions",
                "Traces decided before decision_wait because the buffer was full, by reason.",
                &[proc, ("reason", r)],
            )
        });
        Metrics {
            policies,
            global: by_sampled("global_count_traces_sampled", "Global count of traces that were sampled or not", &[]),
            evaluation_errors: counter(
                "sampling_policy_evaluation_error",
                "Count of sampling policy evaluation errors",
            ),
            new_trace_ids: counter("new_trace_id_received", "Counts the arrival of new traces"),
            traces_on_memory: m.gauge(
                &format!("{P}sampling_traces_on_memory"),
                "Tracks the number of traces current on memory",
                &[proc],
            ),
            timer_latency: m.histogram(
                &format!("{P}sampling_decision_timer_latency"),
                "Latency (in milliseconds) of each run of the sampling decision timer",
                TIMER_LATENCY_MS,
                &[proc],
            ),
            late_span_age: m.histogram(
                &format!("{P}sampling_late_span_age"),
                "Time (in seconds) from the sampling decision was taken and the arrival of a late span",
                AGE_S,
                &[proc],
            ),
            removal_age: m.histogram(
                &format!("{P}sampling_trace_removal_age"),
                "Time (in seconds) from arrival of a new trace until its removal from memory",
                AGE_S,
                &[proc],
            ),
            cache_releases: by_sampled(
                "early_releases_from_cache_decision",
                "Number of spans that were able to be immediately released due to a decision cache hit.",
                &[],
            ),
            dropped_too_early: counter(
                "sampling_trace_dropped_too_early",
                "Count of traces that needed to be dropped before the configured wait time",
            ),
            early,
            oversize: m.counter(
                "switchyard_processor_tail_sampling_oversize_traces_dropped",
                "Traces dropped because they exceeded maximum_trace_size_bytes.",
                &[proc],
            ),
        }
    }

    /// A shard's own handles.
    pub fn shard(&self) -> ShardMetrics {
        let pair = |c: &[Counter; 2]| [LocalCounter::new(&c[0]), LocalCounter::new(&c[1])];
        ShardMetrics {
            policies: self
                .policies
                .iter()
                .map(|p| LocalPolicy { traces: pair(&p.traces), spans: pair(&p.spans) })
                .collect(),
            global: pair(&self.global),
            evaluation_errors: LocalCounter::new(&self.evaluation_errors),
            new_trace_ids: LocalCounter::new(&self.new_trace_ids),
            cache_releases: pair(&self.cache_releases),
            early: pair(&self.early),
            oversize: LocalCounter::new(&self.oversize),
            late_span_age: LocalHistogram::new(&self.late_span_age),
            removal_age: LocalHistogram::new(&self.removal_age),
            traces_on_memory: self.traces_on_memory.clone(),
            timer_latency: self.timer_latency.clone(),
            dropped_too_early: self.dropped_too_early.clone(),
        }
    }
}

/// One policy's counters, buffered in a shard.
pub struct LocalPolicy {
    traces: [LocalCounter; 2],
    spans: [LocalCounter; 2],
}

/// One shard's handles: what is counted per trace is buffered and published once per step
/// ([`ShardMetrics::publish`]), so shards on different cores do not contend on shared
/// atomics for every trace; what happens once per step goes straight to the shared series.
pub struct ShardMetrics {
    policies: Vec<LocalPolicy>,
    pub global: [LocalCounter; 2],
    evaluation_errors: LocalCounter,
    pub new_trace_ids: LocalCounter,
    pub cache_releases: [LocalCounter; 2],
    pub early: [LocalCounter; 2],
    pub oversize: LocalCounter,
    pub late_span_age: LocalHistogram,
    pub removal_age: LocalHistogram,
    pub traces_on_memory: Gauge,
    pub timer_latency: Histogram,
    pub dropped_too_early: Counter,
}

impl ShardMetrics {
    /// Counts one policy's decision over a trace of `spans` spans.
    pub fn count_policy(&mut self, i: usize, d: Decision, spans: u64) {
        let Some(p) = self.policies.get_mut(i) else { return };
        let sampled = match d {
            Decision::Sampled | Decision::InvertSampled => 1,
            Decision::NotSampled | Decision::InvertNotSampled | Decision::Dropped => 0,
            Decision::Error => {
                self.evaluation_errors.add(1);
                0
            }
            Decision::Unspecified | Decision::Pending => return,
        };
        p.traces[sampled].add(1);
        p.spans[sampled].add(spans);
    }

    /// Adds what the step counted to the shared series.
    pub fn publish(&mut self) {
        for p in &mut self.policies {
            p.traces.iter_mut().chain(&mut p.spans).for_each(LocalCounter::publish);
        }
        let pairs = self.global.iter_mut().chain(&mut self.cache_releases).chain(&mut self.early);
        pairs.for_each(LocalCounter::publish);
        self.evaluation_errors.publish();
        self.new_trace_ids.publish();
        self.oversize.publish();
        self.late_span_age.publish();
        self.removal_age.publish();
    }
}
