//! The `batch` processor: groups data into batches by size or time before the exporters,
//! optionally one batch per combination of client metadata values (`metadata_keys`).
//!
//! Memory (docs/memory.md): the batcher holds at most `max_held_bytes` of encoded data
//! (pending and being sent, every metadata combination together), or one request when it
//! holds nothing else. Past half of the cap a batch is sent early; at the cap producers
//! wait for room, counted in `switchyard_component_memory_cap_reached{action="wait"}`.
//!
//! As in the Collector, `consume` returns once the data is in a batch; a batch that fails
//! downstream is logged and counted as dropped, not reported to the client that happened to
//! fill it (that client's data was not the only data in it). The delivery-guarantees work
//! moves batching into the exporter queue, where failures are retried instead.

mod config;
#[cfg(test)]
mod tests;

pub use config::{BatchProcessorConfig, DEFAULT_BYTES_PER_ITEM};

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Instant;

use futures::future::BoxFuture;
use switchyard_core::component::{
    BoundContext, BuildError, Component, ComponentId, Host, MemoryBound, MemoryPart, MemoryUse, ProcessorFactory,
    Settings, Stability, StartError,
};
use switchyard_core::consumer::{AnyConsumer, ConsumeError, Consumer, DynConsumer, RequestContext};
use switchyard_core::telemetry::{names, Counter, Gauge, Histogram, LogThrottle};
use switchyard_core::with_any_consumer;
use switchyard_pdata::{Signal, SignalData};
use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;

/// The Collector type string.
pub const TYPE: &str = "batch";

/// Creates batch processors.
pub struct BatchProcessorFactory;

impl ProcessorFactory for BatchProcessorFactory {
    type Config = BatchProcessorConfig;
    fn component_type(&self) -> &'static str {
        TYPE
    }
    fn stability(&self, signal: Signal) -> Option<Stability> {
        Some(match signal {
            Signal::Profiles => Stability::Development,
            _ => Stability::Beta,
        })
    }
    fn memory_bound(&self, cfg: &BatchProcessorConfig, cx: &BoundContext) -> MemoryBound {
        memory_bound(cfg, cx)
    }
    fn create(
        &self,
        set: Settings,
        cfg: &BatchProcessorConfig,
        next: AnyConsumer,
    ) -> Result<(AnyConsumer, Option<Box<dyn Component>>), BuildError> {
        let (consumer, component) = with_any_consumer!(next, c => {
            let b = Arc::new(Batcher::new(&set, cfg.clone(), c));
            (AnyConsumer::from(Arc::new(BatchConsumer(b.clone())) as DynConsumer<_>), Box::new(BatchComponent(b)) as Box<dyn Component>)
        });
        Ok((consumer, Some(component)))
    }
}

/// One instance's worst case: its byte cap, or one request of the largest size when that
/// is larger (a request always enters an empty batcher). Its batches are no larger.
fn memory_bound(cfg: &BatchProcessorConfig, cx: &BoundContext) -> MemoryBound {
    let cap = cfg.max_held_bytes();
    let bytes = cap.max(cx.largest_request);
    MemoryBound::parts(vec![MemoryPart::new(
        format!("pending and outgoing batches (max_held_bytes {})", switchyard_core::component::HumanBytes(cap)),
        bytes,
    )])
    .with_largest_request(cap)
}

struct BatchMetrics {
    send_size: Histogram,
    size_trigger: Counter,
    timeout_trigger: Counter,
    cardinality: Gauge,
}

/// One batch in the making, per metadata combination.
struct Shard<S> {
    pending: Option<S>,
    items: usize,
    /// Encoded bytes of `pending`, as counted into the batcher's held bytes.
    bytes: u64,
    since: Instant,
    cx: RequestContext,
}

/// The batcher of one pipeline and signal.
pub struct Batcher<S: SignalData> {
    id: ComponentId,
    cfg: BatchProcessorConfig,
    next: DynConsumer<S>,
    shards: Mutex<HashMap<Vec<Vec<String>>, Shard<S>>>,
    metrics: BatchMetrics,
    stop: CancellationToken,
    timer: tokio::sync::Mutex<Option<tokio::task::JoinHandle<()>>>,
    /// Items held (pending or being sent). Producers wait while it is at `room`, so a slow
    /// downstream slows the clients instead of growing memory (the Collector's batcher
    /// blocks producers while it exports, to the same effect).
    held: AtomicUsize,
    room: usize,
    room_freed: Notify,
    /// Encoded bytes held (pending or being sent), never above `max_bytes` unless one
    /// request alone is larger and entered an empty batcher.
    held_bytes: AtomicU64,
    max_bytes: u64,
    memory: MemoryUse,
    cap_log: LogThrottle,
    /// Under overload every batch may fail: one line per interval, with the count held back.
    send_log: LogThrottle,
}

/// A batch on its way out, with the bytes it gives back once sent.
type Outgoing<S> = Vec<(S, u64)>;

impl<S: SignalData> Batcher<S> {
    fn new(set: &Settings, cfg: BatchProcessorConfig, next: DynConsumer<S>) -> Self {
        let id = set.id.to_string();
        let l = [("processor", id.as_str())];
        let m = &set.telemetry.metrics;
        let bounds = [
            10., 25., 50., 75., 100., 250., 500., 750., 1000., 2000., 3000., 4000., 5000., 6000., 7000., 8000., 9000.,
            10000., 20000., 30000., 50000., 100000.,
        ];
        let metrics = BatchMetrics {
            send_size: m.histogram(names::BATCH_SEND_SIZE, "Number of units in the batch.", &bounds, &l),
            size_trigger: m.counter(
                names::BATCH_SIZE_TRIGGER,
                "Number of times the batch was sent due to a size trigger.",
                &l,
            ),
            timeout_trigger: m.counter(
                names::BATCH_TIMEOUT_TRIGGER,
                "Number of times the batch was sent due to a timeout trigger.",
                &l,
            ),
            cardinality: m.gauge(
                names::BATCH_METADATA_CARDINALITY,
                "Number of distinct metadata value combinations being processed.",
                &l,
            ),
        };
        let room = usize::try_from(cfg.item_room()).unwrap_or(usize::MAX);
        Batcher {
            id: set.id.clone(),
            held: AtomicUsize::new(0),
            room,
            room_freed: Notify::new(),
            held_bytes: AtomicU64::new(0),
            max_bytes: cfg.max_held_bytes(),
            memory: MemoryUse::new(&set.telemetry, set.kind, &set.id, "wait"),
            cap_log: LogThrottle::default(),
            send_log: LogThrottle::default(),
            cfg,
            next,
            shards: Mutex::new(HashMap::new()),
            metrics,
            stop: CancellationToken::new(),
            timer: tokio::sync::Mutex::new(None),
        }
    }

    fn max_size(&self) -> usize {
        match self.cfg.send_batch_max_size {
            0 => usize::MAX,
            n => n as usize,
        }
    }

    /// Takes batches out of a shard: full ones only, or everything when `all`. Each batch
    /// carries the bytes it took from the shard's count; the last one takes the rest, so
    /// what is given back equals what was counted in.
    fn take(&self, shard: &mut Shard<S>, all: bool) -> Outgoing<S> {
        let mut out = Vec::new();
        let trigger = (self.cfg.send_batch_size as usize).max(1);
        while shard.items > 0 && (all || shard.items >= trigger) {
            let n = shard.items.min(self.max_size());
            let batch = if n == shard.items {
                shard.pending.take()
            } else {
                shard.pending.as_mut().map(|p| p.split_off_front(n))
            };
            let Some(batch) = batch else { break };
            shard.items -= n;
            let bytes = if shard.items == 0 { shard.bytes } else { (batch.encoded_len() as u64).min(shard.bytes) };
            shard.bytes -= bytes;
            out.push((batch, bytes));
        }
        if shard.items == 0 {
            shard.pending = None;
        }
        out
    }

    async fn send(&self, cx: &RequestContext, batches: Outgoing<S>) {
        for (batch, bytes) in batches {
            let items = batch.item_count();
            self.metrics.send_size.observe(items as f64);
            if let Err(e) = self.next.consume(cx, batch).await {
                // The component that refused counts it (an exporter's enqueue_failed).
                if let Some(held_back) = self.send_log.allow() {
                    tracing::warn!(processor = %self.id, error = %e, dropped_items = items,
                        similar_since_last_report = held_back, "Sender failed.");
                }
            }
            self.release(items, bytes);
        }
    }

    /// Gives back room for `items` and `bytes` and wakes the producers waiting for it.
    fn release(&self, items: usize, bytes: u64) {
        self.held.fetch_sub(items.min(self.held.load(Ordering::Acquire)), Ordering::AcqRel);
        self.held_bytes.fetch_sub(bytes, Ordering::AcqRel);
        self.memory.add(-i64::try_from(bytes).unwrap_or(i64::MAX));
        self.room_freed.notify_waiters();
    }

    /// Counts `bytes` in if they fit under the cap (or nothing else is held); never
    /// passes the cap between two producers, as the check and the add are one step.
    fn try_hold_bytes(&self, bytes: u64) -> bool {
        self.held_bytes
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |cur| {
                (cur == 0 || cur.saturating_add(bytes) <= self.max_bytes).then(|| cur.saturating_add(bytes))
            })
            .is_ok()
    }

    /// Waits until the batcher holds less than its item room and `bytes` fit under its
    /// byte cap, then counts `items` and `bytes` in.
    async fn wait_for_room(&self, items: usize, bytes: u64) {
        let mut counted = false;
        loop {
            let freed = self.room_freed.notified();
            tokio::pin!(freed);
            freed.as_mut().enable();
            if self.held.load(Ordering::Acquire) < self.room {
                if self.try_hold_bytes(bytes) {
                    break;
                }
                if !counted {
                    counted = true;
                    self.memory.cap_reached();
                    if let Some(n) = self.cap_log.allow() {
                        tracing::info!(processor = %self.id, max_held_bytes = self.max_bytes, similar_since_last_report = n,
                            "Batcher at its memory cap; the producer waits until batches are sent.");
                    }
                }
            }
            freed.await;
        }
        self.memory.add(i64::try_from(bytes).unwrap_or(i64::MAX));
        self.held.fetch_add(items, Ordering::AcqRel);
    }

    /// Sends every shard whose oldest data is older than `timeout` (or all of them).
    async fn flush_due(&self, all: bool) {
        let now = Instant::now();
        let due: Vec<(RequestContext, Outgoing<S>)> = {
            let mut shards = self.shards.lock().unwrap_or_else(PoisonError::into_inner);
            shards
                .values_mut()
                .filter(|s| s.items > 0 && (all || now.duration_since(s.since) >= self.cfg.timeout))
                .map(|s| (s.cx.clone(), self.take(s, true)))
                .collect()
        };
        for (cx, batches) in due {
            if !all {
                self.metrics.timeout_trigger.add(batches.len() as u64);
            }
            self.send(&cx, batches).await;
        }
    }

    fn shard_key(&self, cx: &RequestContext) -> Vec<Vec<String>> {
        self.cfg.metadata_keys.iter().map(|k| cx.metadata_values(k).into_iter().map(str::to_string).collect()).collect()
    }

    /// The context a shard's batches carry downstream: only its metadata keys.
    fn shard_context(&self, key: &[Vec<String>]) -> RequestContext {
        if self.cfg.metadata_keys.is_empty() {
            return RequestContext::default();
        }
        let mut headers = http::HeaderMap::new();
        for (k, values) in self.cfg.metadata_keys.iter().zip(key) {
            let Ok(name) = http::HeaderName::try_from(k.to_ascii_lowercase()) else {
                continue;
            };
            for v in values {
                if let Ok(v) = http::HeaderValue::try_from(v.as_str()) {
                    headers.append(name.clone(), v);
                }
            }
        }
        RequestContext::with_metadata(Some(Arc::new(headers)))
    }
}

/// The pipeline side of a batcher.
struct BatchConsumer<S: SignalData>(Arc<Batcher<S>>);

impl<S: SignalData> Consumer<S> for BatchConsumer<S> {
    fn consume<'a>(&'a self, cx: &'a RequestContext, data: S) -> BoxFuture<'a, Result<(), ConsumeError>> {
        let this = &self.0;
        Box::pin(async move {
            let items = data.item_count();
            if items == 0 {
                return Ok(());
            }
            // Profiles carry a dictionary per request and cannot be merged: passed through.
            if this.cfg.timeout.is_zero() || S::SIGNAL == Signal::Profiles {
                // No timer: send now, split only at send_batch_max_size.
                let mut shard = Shard { pending: Some(data), items, bytes: 0, since: Instant::now(), cx: cx.clone() };
                let batches = this.take(&mut shard, true);
                for (batch, _) in batches {
                    this.metrics.send_size.observe(batch.item_count() as f64);
                    this.next.consume(cx, batch).await?;
                }
                return Ok(());
            }
            let bytes = data.encoded_len() as u64;
            this.wait_for_room(items, bytes).await;
            let key = this.shard_key(cx);
            let (shard_cx, ready) = {
                let mut shards = this.shards.lock().unwrap_or_else(PoisonError::into_inner);
                let limit = this.cfg.metadata_cardinality_limit as usize;
                if !shards.contains_key(&key) {
                    if limit > 0 && shards.len() >= limit {
                        this.release(items, bytes);
                        return Err(ConsumeError::permanent("too many batcher metadata-value combinations"));
                    }
                    let shard_cx = this.shard_context(&key);
                    shards.insert(
                        key.clone(),
                        Shard { pending: None, items: 0, bytes: 0, since: Instant::now(), cx: shard_cx },
                    );
                    this.metrics.cardinality.set(shards.len() as i64);
                }
                let Some(shard) = shards.get_mut(&key) else {
                    this.release(items, bytes);
                    return Err(ConsumeError::permanent("batcher shard vanished"));
                };
                if shard.items == 0 {
                    shard.since = Instant::now();
                }
                // Only profiles can refuse to merge (and they bypass batching above); an
                // unmergeable request is sent on its own rather than lost.
                let mut unmerged = None;
                match shard.pending.as_mut() {
                    Some(p) => unmerged = p.append(data).err(),
                    None => shard.pending = Some(data),
                }
                if unmerged.is_none() {
                    shard.items += items;
                    shard.bytes += bytes;
                }
                // Past half the byte cap the whole pending batch goes now, so producers
                // rarely wait for the timer to free room.
                let by_bytes = shard.bytes >= this.max_bytes / 2;
                let mut ready = if shard.items >= this.cfg.send_batch_size as usize || by_bytes {
                    this.take(shard, by_bytes)
                } else {
                    Vec::new()
                };
                if !ready.is_empty() {
                    shard.since = Instant::now();
                }
                ready.extend(unmerged.map(|u| (u, bytes)));
                (shard.cx.clone(), ready)
            };
            if !ready.is_empty() {
                this.metrics.size_trigger.add(ready.len() as u64);
                // Sent by a task of the batcher's own: if this client goes away (deadline,
                // disconnect), the batch, which holds other clients' acknowledged data, still goes out.
                let b = this.clone();
                let sent = tokio::spawn(async move { b.send(&shard_cx, ready).await });
                let _ = sent.await;
            }
            Ok(())
        })
    }
}

struct BatchComponent<S: SignalData>(Arc<Batcher<S>>);

impl<S: SignalData> Component for BatchComponent<S> {
    fn start<'a>(&'a self, _host: &'a Host) -> BoxFuture<'a, Result<(), StartError>> {
        Box::pin(async move {
            if self.0.cfg.timeout.is_zero() {
                return Ok(());
            }
            let b = self.0.clone();
            // Checking four times per timeout bounds the extra wait at a quarter of it.
            let tick = (b.cfg.timeout / 4).max(std::time::Duration::from_millis(1));
            *self.0.timer.lock().await = Some(tokio::spawn(async move {
                loop {
                    tokio::select! {
                        _ = tokio::time::sleep(tick) => b.flush_due(false).await,
                        _ = b.stop.cancelled() => break,
                    }
                }
            }));
            Ok(())
        })
    }

    /// Stops the timer and sends everything pending.
    fn shutdown(&self) -> BoxFuture<'_, ()> {
        Box::pin(async move {
            self.0.stop.cancel();
            if let Some(t) = self.0.timer.lock().await.take() {
                let _ = t.await;
            }
            self.0.flush_due(true).await;
        })
    }
}
