//! One shard of the buffer: the traces whose ids fall to it, their timers, and the
//! decisions it remembers. Runs on its own task (core's stateful scaffold), so nothing
//! here takes a lock.

use std::collections::{HashMap, VecDeque};
use std::sync::Arc;
use std::time::Duration;

use prost::Message as _;
use switchyard_core::consumer::RequestContext;
use switchyard_core::processorhelper::{Output, StatefulProcessor};
use switchyard_pdata::proto::collector::trace::v1::ExportTraceServiceRequest;
use switchyard_pdata::proto::trace::v1::ResourceSpans;
use switchyard_pdata::walk::split_traces_by_trace_id;
use switchyard_pdata::{SignalData, Traces};
use tokio::time::Instant;

use super::cache::{DecisionRing, Remembered};
use super::metrics::{EarlyReason, Metrics, ShardMetrics};
use super::policy::{Decision, Policies, TraceData};

/// The limits of one shard (the processor's, divided by the number of shards).
#[derive(Clone, Copy, Debug)]
pub struct Limits {
    pub decision_wait: Duration,
    pub wait_after_root: Option<Duration>,
    pub max_traces: usize,
    pub max_bytes: u64,
    /// 0 = no limit.
    pub max_trace_bytes: u64,
    pub drop_pending_on_shutdown: bool,
    /// Decisions remembered after a trace leaves: the last `num_traces` always, plus the caches.
    pub recent: usize,
    pub sampled_cache: usize,
    pub non_sampled_cache: usize,
}

/// A trace waiting for its decision.
struct Pending {
    data: TraceData,
    /// Tells this trace's timer entries from those of an earlier trace with the same id.
    seq: u64,
    root_seen: bool,
}

pub struct Shard {
    processor: String,
    policies: Policies,
    metrics: ShardMetrics,
    limits: Limits,
    traces: HashMap<[u8; 16], Pending>,
    /// Deadlines in arrival order (`decision_wait` after the first span).
    due: VecDeque<([u8; 16], u64, Instant)>,
    /// Deadlines after the root span arrived (`decision_wait_after_root_received`).
    root_due: VecDeque<([u8; 16], u64, Instant)>,
    bytes: u64,
    seq: u64,
    recent: DecisionRing,
    sampled: DecisionRing,
    not_sampled: DecisionRing,
    per_policy: Vec<Decision>,
    /// Spans to send at the end of the step.
    out: Vec<ResourceSpans>,
    /// What this shard last added to the shared traces-on-memory gauge.
    published: i64,
}

impl Shard {
    pub fn new(processor: String, policies: Policies, metrics: Arc<Metrics>, limits: Limits, expected: usize) -> Shard {
        Shard {
            processor,
            policies,
            metrics: metrics.shard(),
            limits,
            traces: HashMap::with_capacity(expected.min(limits.max_traces)),
            due: VecDeque::new(),
            root_due: VecDeque::new(),
            bytes: 0,
            seq: 0,
            recent: DecisionRing::new(limits.recent),
            sampled: DecisionRing::new(limits.sampled_cache),
            not_sampled: DecisionRing::new(limits.non_sampled_cache),
            per_policy: Vec::new(),
            out: Vec::new(),
            published: 0,
        }
    }

    fn remembered(&self, id: &[u8; 16]) -> Option<Remembered> {
        self.recent.get(id).or_else(|| self.sampled.get(id)).or_else(|| self.not_sampled.get(id))
    }

    fn remember(&mut self, id: [u8; 16], sampled: bool, at: Instant) {
        let r = Remembered { sampled, at };
        self.recent.insert(id, r);
        if sampled {
            self.sampled.insert(id, r);
        } else {
            self.not_sampled.insert(id, r);
        }
    }

    fn take_in(&mut self, id: [u8; 16], rss: Vec<ResourceSpans>, now: Instant) {
        let spans = span_count(&rss);
        if let Some(r) = self.remembered(&id) {
            // A late span of a decided trace follows the decision.
            self.metrics.cache_releases[usize::from(r.sampled)].add(spans);
            self.metrics.late_span_age.observe(now.saturating_duration_since(r.at).as_secs_f64());
            if r.sampled {
                self.out.extend(rss);
            }
            return;
        }
        let bytes: u64 = rss.iter().map(|r| r.encoded_len() as u64).sum();
        let root = rss.iter().flat_map(|r| &r.scope_spans).flat_map(|s| &s.spans).any(|s| s.parent_span_id.is_empty());
        if !self.traces.contains_key(&id) {
            self.metrics.new_trace_ids.add(1);
            self.make_room(bytes, now);
            self.seq += 1;
            let data = TraceData { batches: Vec::new(), span_count: 0, bytes: 0, first_arrival: now };
            self.traces.insert(id, Pending { data, seq: self.seq, root_seen: false });
            self.due.push_back((id, self.seq, now + self.limits.decision_wait));
        }
        let Some(p) = self.traces.get_mut(&id) else { return };
        p.data.batches.extend(rss);
        p.data.span_count += spans;
        p.data.bytes += bytes;
        self.bytes += bytes;
        let grown_past_cap = self.bytes > self.limits.max_bytes;
        if root && !p.root_seen {
            p.root_seen = true;
            if let Some(w) = self.limits.wait_after_root {
                self.root_due.push_back((id, p.seq, now + w));
            }
        }
        if self.limits.max_trace_bytes > 0 && p.data.bytes > self.limits.max_trace_bytes {
            let size = p.data.bytes;
            self.forget(&id);
            self.remember(id, false, now);
            self.metrics.oversize.add(1);
            tracing::debug!(processor = %self.processor, bytes = size, "Trace exceeds maximum_trace_size_bytes; dropped.");
        }
        // Spans added to a trace already held can pass the cap too (room is made only for
        // new traces): the oldest traces, this one included, are decided early until it holds.
        if grown_past_cap {
            while self.bytes > self.limits.max_bytes {
                if !self.decide_oldest(EarlyReason::Bytes, now) {
                    break;
                }
            }
        }
    }

    /// Decides the oldest traces early until a new one of `bytes` fits.
    fn make_room(&mut self, bytes: u64, now: Instant) {
        while self.traces.len() >= self.limits.max_traces {
            if !self.decide_oldest(EarlyReason::NumTraces, now) {
                break;
            }
        }
        while !self.traces.is_empty() && self.bytes + bytes > self.limits.max_bytes {
            if !self.decide_oldest(EarlyReason::Bytes, now) {
                break;
            }
        }
    }

    fn decide_oldest(&mut self, reason: EarlyReason, now: Instant) -> bool {
        while let Some((id, seq, _)) = self.due.pop_front() {
            if self.traces.get(&id).is_some_and(|p| p.seq == seq) {
                self.metrics.early[reason as usize].add(1);
                self.decide(id, now);
                return true;
            }
        }
        false
    }

    fn forget(&mut self, id: &[u8; 16]) -> Option<Pending> {
        let p = self.traces.remove(id)?;
        self.bytes -= p.data.bytes;
        Some(p)
    }

    fn decide(&mut self, id: [u8; 16], now: Instant) {
        let Some(mut p) = self.forget(&id) else { return };
        let d = self.policies.evaluate(&id, &mut p.data, now, &mut self.per_policy);
        for (i, pd) in self.per_policy.iter().enumerate() {
            self.metrics.count_policy(i, *pd, p.data.span_count);
        }
        let sampled = d == Decision::Sampled;
        self.metrics.global[usize::from(sampled)].add(1);
        self.metrics.removal_age.observe(now.saturating_duration_since(p.data.first_arrival).as_secs_f64());
        self.remember(id, sampled, now);
        if sampled {
            self.out.extend(p.data.batches);
        }
    }

    /// Decides every trace whose deadline in `queue` has passed.
    fn decide_due(&mut self, root: bool, now: Instant) {
        loop {
            let queue = if root { &mut self.root_due } else { &mut self.due };
            match queue.front() {
                Some(&(id, seq, at)) if at <= now => {
                    queue.pop_front();
                    if self.traces.get(&id).is_some_and(|p| p.seq == seq) {
                        self.decide(id, now);
                    }
                }
                _ => break,
            }
        }
    }

    /// Sends what was sampled during the step as one batch, and publishes the trace count.
    fn emit(&mut self, out: &mut Output<Traces>) {
        self.metrics.publish();
        let n = self.traces.len() as i64;
        if n != self.published {
            self.metrics.traces_on_memory.add(n - self.published);
            self.published = n;
        }
        if !self.out.is_empty() {
            let req = ExportTraceServiceRequest { resource_spans: std::mem::take(&mut self.out) };
            out.send(RequestContext::default(), Traces::from_request(req));
        }
    }
}

fn span_count(rss: &[ResourceSpans]) -> u64 {
    rss.iter().flat_map(|r| &r.scope_spans).map(|s| s.spans.len() as u64).sum()
}

impl StatefulProcessor for Shard {
    /// The spans whose trace ids fall to this shard, still encoded when they arrived so.
    type In = Traces;
    type Out = Traces;

    fn consume(&mut self, _cx: RequestContext, part: Traces, out: &mut Output<Traces>) {
        let now = Instant::now();
        // Grouped by trace here, on the shard's task: envelopes copied once per trace.
        for (id, req) in split_traces_by_trace_id(part.into_request()) {
            self.take_in(super::key(&id), req.resource_spans, now);
        }
        self.emit(out);
    }

    fn tick(&mut self, now: Instant, out: &mut Output<Traces>) {
        let started = std::time::Instant::now();
        self.decide_due(false, now);
        self.decide_due(true, now);
        self.metrics.timer_latency.observe(started.elapsed().as_secs_f64() * 1000.0);
        self.emit(out);
    }

    /// Shutdown: the traces still waiting are decided now, or dropped and counted.
    fn flush(&mut self, out: &mut Output<Traces>) {
        let now = Instant::now();
        if self.limits.drop_pending_on_shutdown {
            let n = self.traces.len();
            if n > 0 {
                self.metrics.dropped_too_early.add(n as u64);
                tracing::warn!(
                    processor = %self.processor,
                    traces = n,
                    "Dropping traces still waiting for a decision at shutdown (drop_pending_traces_on_shutdown)."
                );
            }
            self.traces.clear();
            self.bytes = 0;
        } else {
            while let Some((id, seq, _)) = self.due.pop_front() {
                if self.traces.get(&id).is_some_and(|p| p.seq == seq) {
                    self.decide(id, now);
                }
            }
        }
        self.due.clear();
        self.root_due.clear();
        self.emit(out);
    }

    fn held_bytes(&self) -> usize {
        self.bytes as usize
    }
}
