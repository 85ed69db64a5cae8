//! The `tail_sampling` processor (the Collector contrib `tailsamplingprocessor`): holds
//! the spans of each trace until `decision_wait` after its first span (or the shorter
//! `decision_wait_after_root_received` once the root arrived), evaluates the policies over
//! the whole trace, and forwards the traces they keep.
//!
//! # How it runs
//!
//! - **Sharded by trace id**: one shard per runtime worker, each on its own task with its
//!   own buffer, timers and decision memory (core's `create_sharded`), so spans of one trace
//!   always meet in one shard and the hot path takes no lock. The ids are read from the
//!   bytes of a batch still encoded (`Traces::partition_by_trace_id`), so each shard
//!   decodes only its own part, on its own task: decoding spreads over the cores. Limits (`num_traces`,
//!   `max_buffered_bytes`, the rates of `rate_limiting`, `bytes_limiting` and `composite`)
//!   are divided between the shards.
//! - **Bounded**: when a new trace would pass `num_traces` or `max_buffered_bytes`, the
//!   oldest trace is decided early (not dropped, as the Collector does) and counted in
//!   `switchyard_processor_tail_sampling_early_decisions{reason}`.
//! - **Late spans** of a decided trace follow the decision while it is among the shard's
//!   last `num_traces` decisions, or in the `decision_cache`.
//! - **Shutdown**: waiting traces are decided (or, with `drop_pending_traces_on_shutdown`,
//!   dropped and counted in `sampling_trace_dropped_too_early`).
//!
//! As in the Collector, decided spans leave in new batches without their request context.

mod cache;
mod config;
mod metrics;
pub mod policy;
mod shard;
#[cfg(test)]
mod tests;

use std::sync::Arc;
use std::time::Duration;

use switchyard_core::component::{
    BoundContext, BuildError, Component, HumanBytes, MemoryBound, MemoryPart, ProcessorFactory, Settings, Stability,
    DECODED_EXPANSION,
};
use switchyard_core::consumer::{AnyConsumer, DynConsumer};
use switchyard_core::processorhelper::{create_sharded, Partition, StatefulSettings};
use switchyard_pdata::{Signal, SignalData, Traces};

pub use config::{DecisionCacheConfig, TailSamplingConfig};

use crate::ottl::OttlErrorReporter;
use metrics::Metrics;
use policy::Policies;
use shard::{Limits, Shard};

/// The Collector type string.
pub const TYPE: &str = "tail_sampling";

/// Creates tail sampling processors.
pub struct TailSamplingProcessorFactory;

impl ProcessorFactory for TailSamplingProcessorFactory {
    type Config = TailSamplingConfig;
    fn component_type(&self) -> &'static str {
        TYPE
    }
    fn stability(&self, signal: Signal) -> Option<Stability> {
        (signal == Signal::Traces).then_some(Stability::Beta)
    }
    fn memory_bound(&self, cfg: &TailSamplingConfig, cx: &BoundContext) -> MemoryBound {
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
        memory_bound(cfg, cx, cores)
    }
    fn create(
        &self,
        set: Settings,
        cfg: &TailSamplingConfig,
        next: AnyConsumer,
    ) -> Result<(AnyConsumer, Option<Box<dyn Component>>), BuildError> {
        let AnyConsumer::Traces(next) = next else {
            return Err(BuildError::new(&set, "tail_sampling processes traces only"));
        };
        let (input, component) = build(&set, cfg, shard_count(), next)?;
        Ok((AnyConsumer::Traces(input), Some(component)))
    }
}

/// Bytes per trace id kept in the buffer's index or a decision cache (map entry, queue
/// slot, decision), rounded up.
const BYTES_PER_TRACE_ID: u64 = 128;

/// Parts waiting in each shard's channel before `consume` waits.
const CHANNEL_CAPACITY: usize = 64;

/// One instance's worst case with `shards` shards (docs/memory.md). The span buffer is
/// capped by `max_buffered_bytes` (encoded size; past it the oldest traces are decided
/// early), and holds the spans decoded, about [`DECODED_EXPANSION`] times that; the
/// channels hold decoded parts of at most the largest request each.
fn memory_bound(cfg: &TailSamplingConfig, cx: &BoundContext, shards: usize) -> MemoryBound {
    let mut buffer = cfg.max_buffered_bytes;
    if cfg.maximum_trace_size_bytes > 0 {
        buffer = buffer.min(cfg.num_traces.saturating_mul(cfg.maximum_trace_size_bytes));
    }
    let ids = cfg
        .num_traces
        .saturating_mul(2)
        .saturating_add(cfg.decision_cache.sampled_cache_size)
        .saturating_add(cfg.decision_cache.non_sampled_cache_size);
    let channel = ((shards * CHANNEL_CAPACITY) as u64).saturating_mul(cx.largest_request);
    MemoryBound::parts(vec![
        MemoryPart::new(
            format!("buffered traces (max_buffered_bytes {} encoded, x{DECODED_EXPANSION} decoded)", HumanBytes(buffer)),
            buffer.saturating_mul(DECODED_EXPANSION),
        ),
        MemoryPart::new(
            format!("trace ids and decisions (2 x num_traces + decision caches, {BYTES_PER_TRACE_ID} B each)"),
            ids.saturating_mul(BYTES_PER_TRACE_ID),
        ),
        MemoryPart::new(
            format!("input channels ({shards} shards x {CHANNEL_CAPACITY} parts x largest request, x{DECODED_EXPANSION} decoded)"),
            channel.saturating_mul(DECODED_EXPANSION),
        ),
    ])
}

/// One shard per runtime worker: the traces spread over every core, one task each.
fn shard_count() -> usize {
    tokio::runtime::Handle::try_current().map(|h| h.metrics().num_workers()).unwrap_or(1).max(1)
}

/// Builds the processor with `shards` shards in front of `next`.
pub fn build(
    set: &Settings,
    cfg: &TailSamplingConfig,
    shards: usize,
    next: DynConsumer<Traces>,
) -> Result<(DynConsumer<Traces>, Box<dyn Component>), BuildError> {
    if cfg.block_on_overflow {
        tracing::info!(
            processor = %set.id,
            "block_on_overflow: Switchyard decides the oldest trace early when the buffer is full instead of blocking."
        );
    }
    let shards = shards.max(1);
    let share = 1.0 / shards as f64;
    let per_shard = |total: u64| usize::try_from(total.div_ceil(shards as u64)).unwrap_or(usize::MAX).max(1);
    let limits = Limits {
        decision_wait: cfg.decision_wait,
        wait_after_root: cfg.decision_wait_after_root_received,
        max_traces: per_shard(cfg.num_traces),
        max_bytes: cfg.max_buffered_bytes.div_ceil(shards as u64),
        max_trace_bytes: cfg.maximum_trace_size_bytes,
        drop_pending_on_shutdown: cfg.drop_pending_traces_on_shutdown,
        recent: per_shard(cfg.num_traces),
        sampled_cache: if cfg.decision_cache.sampled_cache_size == 0 {
            0
        } else {
            per_shard(cfg.decision_cache.sampled_cache_size)
        },
        non_sampled_cache: if cfg.decision_cache.non_sampled_cache_size == 0 {
            0
        } else {
            per_shard(cfg.decision_cache.non_sampled_cache_size)
        },
    };
    let errors = Arc::new(OttlErrorReporter::new(&set.telemetry, &set.id));
    let expected = usize::try_from(cfg.expected_new_traces_per_sec.saturating_mul(cfg.decision_wait.as_secs().max(1)))
        .unwrap_or(usize::MAX)
        / shards;
    let mut list = Vec::with_capacity(shards);
    let mut metrics = None;
    for _ in 0..shards {
        let policies = Policies::build(&cfg.policies, cfg.sample_on_first_match, share, errors.clone())
            .map_err(|e| BuildError::new(set, e))?;
        let m = metrics.get_or_insert_with(|| Arc::new(Metrics::new(set, &policies.names()))).clone();
        list.push(Shard::new(set.id.to_string(), policies, m, limits, expected));
    }
    let opts = StatefulSettings {
        channel_capacity: CHANNEL_CAPACITY,
        tick: Some(tick_for(cfg.decision_wait)),
        ..Default::default()
    };
    Ok(create_sharded(set, list, ByTraceId, opts, next))
}

/// The timer period: a tenth of the wait, between 10 ms and 1 s (the Collector ticks every second).
fn tick_for(wait: Duration) -> Duration {
    (wait / 10).clamp(Duration::from_millis(10), Duration::from_secs(1))
}

/// Groups a batch by trace id and sends each trace to the shard its id falls to.
pub struct ByTraceId;

/// A trace id as a fixed key (shorter ids are zero-padded; an empty id is all zeros).
pub(crate) fn key(id: &[u8]) -> [u8; 16] {
    let mut k = [0u8; 16];
    let n = id.len().min(16);
    k[..n].copy_from_slice(&id[..n]);
    k
}

/// The shard of a trace id: its last 8 bytes (the random part of a W3C id) modulo the count.
pub fn shard_of(id: &[u8; 16], shards: usize) -> usize {
    let mut low = [0u8; 8];
    low.copy_from_slice(&id[8..]);
    (u64::from_be_bytes(low) % shards as u64) as usize
}

impl Partition for ByTraceId {
    type Whole = Traces;
    type Part = Traces;
    /// Reads the trace ids from the bytes when the batch is still encoded, so each shard
    /// decodes its own part on its own task (decoding spreads over the cores).
    fn split(&self, whole: Traces, shards: usize, emit: &mut dyn FnMut(usize, Traces)) {
        if shards <= 1 {
            emit(0, whole);
            return;
        }
        let parts = whole.partition_by_trace_id(shards, |id| shard_of(&key(id), shards));
        for (i, part) in parts.into_iter().enumerate() {
            if part.item_count() > 0 {
                emit(i, part);
            }
        }
    }
}
