//! The stateful skeleton: a processor that holds data across calls (`tail_sampling`,
//! `spanmetrics`, `servicegraph`, a future `batch`) writes its logic as a
//! [`StatefulProcessor`] — plain `&mut self` methods, no locks — and [`create_stateful`]
//! runs it on a task of its own; [`create_sharded`] runs several instances, one task each,
//! with a [`Partition`] that sends every part of a batch to the instance that owns it
//! (`tail_sampling` shards by trace id, so there is no lock on the hot path).
//!
//! # Model
//!
//! - **Input**: the pipeline's `consume` splits the batch into parts (one part, for
//!   [`create_stateful`]) and puts each in its shard's bounded channel, returning once they
//!   are there; when a task falls behind, its channel fills and `consume` waits, so
//!   backpressure reaches the receiver instead of memory growing. "Accepted" then means
//!   "held by the processor", as in the Collector's batch processor: a later failure
//!   downstream is logged and counted, not reported to a client that has gone.
//! - **Task**: owns its processor; handles one message at a time (a part, or a timer tick
//!   every `tick`) and then sends whatever the processor emitted to the next consumer,
//!   awaiting each send (so a slow exporter slows the task, which fills the channel).
//! - **Shutdown**: stops taking input, drains what is already in the channels, calls
//!   [`StatefulProcessor::flush`] and sends the result, all within `drain_deadline`;
//!   past it the tasks are stopped and what they still held is logged as dropped.
//! - **Memory**: after every step a task publishes the change of
//!   [`StatefulProcessor::held_bytes`] into the gauge `switchyard_processor_held_bytes{processor}`,
//!   which so sums every shard, and into `switchyard_component_memory_used_bytes{component}`
//!   (docs/memory.md); a processor caps its own state on the same number.
//!   Parts waiting in the channels are bounded by their capacity.
//!
//! Input and output signals may differ (`spanmetrics` takes spans and emits metrics).

use std::marker::PhantomData;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use futures::future::BoxFuture;
use switchyard_pdata::SignalData;
use tokio::sync::mpsc;
use tokio::task::JoinHandle;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use crate::component::{Component, ComponentId, Host, MemoryUse, Settings, StartError};
use crate::consumer::{ConsumeError, Consumer, DynConsumer, RequestContext};
use crate::telemetry::{names, Gauge, ProcessorObs};

/// What a stateful processor emits during one step; the task sends it after the step.
pub struct Output<S> {
    batches: Vec<(RequestContext, S)>,
}

impl<S> Default for Output<S> {
    fn default() -> Self {
        Output { batches: Vec::new() }
    }
}

impl<S: SignalData> Output<S> {
    /// Queues `data` to be sent downstream with the context `cx` once the step returns.
    pub fn send(&mut self, cx: RequestContext, data: S) {
        self.batches.push((cx, data));
    }

    /// Takes what was queued (for tests that drive a processor by hand).
    pub fn take(&mut self) -> Vec<(RequestContext, S)> {
        std::mem::take(&mut self.batches)
    }
}

/// The logic of a stateful processor. Every method runs on the processor's own task, one
/// at a time, so state needs no locks; none may block (they run on the async runtime).
pub trait StatefulProcessor: Send + 'static {
    /// What it takes in: the batch itself, or the part a [`Partition`] gives this shard.
    type In: Send + 'static;
    /// What it emits (the same signal for a processor; another for a connector like `spanmetrics`).
    type Out: SignalData;
    /// Takes one batch, the processor now owns it; emits what is ready into `out`.
    fn consume(&mut self, cx: RequestContext, data: Self::In, out: &mut Output<Self::Out>);
    /// Called every [`StatefulSettings::tick`]: emit what is due (timeouts, decisions).
    fn tick(&mut self, _now: Instant, _out: &mut Output<Self::Out>) {}
    /// Called once at shutdown, after the channel is drained: emit everything still held.
    fn flush(&mut self, out: &mut Output<Self::Out>);
    /// Bytes held now (pending batches, buffered traces): the gauges, and what the
    /// processor's memory cap is checked against.
    fn held_bytes(&self) -> usize {
        0
    }
}

/// Splits an incoming batch between the shards of [`create_sharded`].
pub trait Partition: Send + Sync + 'static {
    /// The batch the pipeline hands over.
    type Whole: SignalData;
    /// What one shard takes.
    type Part: Send + 'static;
    /// Calls `emit(shard, part)` for every non-empty part, `shard < shards`; the parts
    /// together hold every item of `whole`.
    fn split(&self, whole: Self::Whole, shards: usize, emit: &mut dyn FnMut(usize, Self::Part));
}

/// The partition of a single instance: the whole batch is the part.
pub struct Whole<S>(PhantomData<fn() -> S>);

impl<S: SignalData> Partition for Whole<S> {
    type Whole = S;
    type Part = S;
    fn split(&self, whole: S, _shards: usize, emit: &mut dyn FnMut(usize, S)) {
        emit(0, whole);
    }
}

/// How the task runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct StatefulSettings {
    /// Batches the channel holds before `consume` waits (at least 1).
    pub channel_capacity: usize,
    /// How often [`StatefulProcessor::tick`] is called; `None` = never.
    pub tick: Option<Duration>,
    /// Longest time shutdown spends draining and flushing.
    pub drain_deadline: Duration,
}

impl Default for StatefulSettings {
    fn default() -> Self {
        StatefulSettings { channel_capacity: 64, tick: None, drain_deadline: Duration::from_secs(5) }
    }
}

type Message<S> = (RequestContext, S);

/// Runs `processor` in front of `next`: returns the consumer the pipeline calls and the
/// component the graph starts (spawning the task) and stops (draining, then flushing).
pub fn create_stateful<P>(
    set: &Settings,
    processor: P,
    opts: StatefulSettings,
    next: DynConsumer<P::Out>,
) -> (DynConsumer<P::In>, Box<dyn Component>)
where
    P: StatefulProcessor,
    P::In: SignalData,
{
    create_sharded(set, vec![processor], Whole(PhantomData), opts, next)
}

/// Runs one task per processor in `shards` (at least one), each with its own channel and
/// timer; `partition` decides which shard takes which part of a batch.
pub fn create_sharded<P, X>(
    set: &Settings,
    shards: Vec<P>,
    partition: X,
    opts: StatefulSettings,
    next: DynConsumer<P::Out>,
) -> (DynConsumer<X::Whole>, Box<dyn Component>)
where
    P: StatefulProcessor,
    X: Partition<Part = P::In>,
{
    let id = set.id.to_string();
    let held = set.telemetry.metrics.gauge(
        names::PROCESSOR_HELD_BYTES,
        "Bytes a stateful processor holds.",
        &[("processor", id.as_str())],
    );
    let memory = MemoryUse::new(&set.telemetry, set.kind, &set.id, "evict");
    let mut txs = Vec::with_capacity(shards.len());
    let mut idle = Vec::with_capacity(shards.len());
    for processor in shards {
        let (tx, rx) = mpsc::channel(opts.channel_capacity.max(1));
        txs.push(tx);
        idle.push(Idle { processor, rx, next: next.clone() });
    }
    let input = Arc::new(Input {
        txs,
        open: AtomicBool::new(true),
        partition,
        obs: ProcessorObs::new(&set.telemetry, &set.id, <X::Whole as SignalData>::SIGNAL),
    });
    let runner = Runner {
        id: set.id.clone(),
        opts,
        input: input.clone(),
        state: Mutex::new(Some(idle)),
        tasks: Mutex::new(Vec::new()),
        stop: CancellationToken::new(),
        held,
        memory,
        obs_out: ProcessorObs::new(&set.telemetry, &set.id, <P::Out as SignalData>::SIGNAL),
    };
    (input, Box::new(runner))
}

struct Input<X: Partition> {
    /// One per shard. Shutdown clears `open` and the tasks close their receivers, so a
    /// send in flight fails instead of being lost; no lock here, as every request reads it.
    txs: Vec<mpsc::Sender<Message<X::Part>>>,
    open: AtomicBool,
    partition: X,
    obs: ProcessorObs,
}

impl<X: Partition> Consumer<X::Whole> for Input<X> {
    fn consume<'a>(&'a self, cx: &'a RequestContext, data: X::Whole) -> BoxFuture<'a, Result<(), ConsumeError>> {
        Box::pin(async move {
            if !self.open.load(Ordering::Acquire) {
                return Err(shutting_down());
            }
            let txs = &self.txs;
            let items = data.item_count();
            if txs.len() == 1 {
                // One shard: no split, no vector.
                let mut part = None;
                self.partition.split(data, 1, &mut |_, p| part = Some(p));
                if let Some(p) = part {
                    txs[0].send((cx.clone(), p)).await.map_err(|_| shutting_down())?;
                }
            } else {
                let mut parts = Vec::new();
                self.partition.split(data, txs.len(), &mut |shard, p| parts.push((shard, p)));
                for (shard, p) in parts {
                    let Some(tx) = txs.get(shard) else { continue };
                    tx.send((cx.clone(), p)).await.map_err(|_| shutting_down())?;
                }
            }
            self.obs.incoming.add(items as u64);
            Ok(())
        })
    }
}

fn shutting_down() -> ConsumeError {
    ConsumeError::retryable("processor is shutting down")
}

/// What a task needs, held until `start`.
struct Idle<P: StatefulProcessor> {
    processor: P,
    rx: mpsc::Receiver<Message<P::In>>,
    next: DynConsumer<P::Out>,
}

struct Runner<P: StatefulProcessor, X: Partition<Part = P::In>> {
    id: ComponentId,
    opts: StatefulSettings,
    input: Arc<Input<X>>,
    state: Mutex<Option<Vec<Idle<P>>>>,
    tasks: Mutex<Vec<JoinHandle<()>>>,
    stop: CancellationToken,
    held: Gauge,
    memory: MemoryUse,
    obs_out: ProcessorObs,
}

/// A task's side: sends what a step emitted and publishes the change of the bytes held.
struct Step<P: StatefulProcessor> {
    id: ComponentId,
    next: DynConsumer<P::Out>,
    held: Gauge,
    memory: MemoryUse,
    /// What this task last added to the shared gauge.
    published: i64,
    obs_out: ProcessorObs,
}

impl<P: StatefulProcessor> Step<P> {
    /// Publishes `held` bytes, then sends what the step emitted.
    async fn send(&mut self, held: usize, out: &mut Output<P::Out>) {
        let held = held as i64;
        if held != self.published {
            self.held.add(held - self.published);
            self.memory.add(held - self.published);
            self.published = held;
        }
        for (cx, batch) in out.batches.drain(..) {
            let items = batch.item_count();
            if let Err(e) = self.next.consume(&cx, batch).await {
                tracing::warn!(processor = %self.id, error = %e, dropped_items = items, "Sending downstream failed.");
                continue;
            }
            self.obs_out.outgoing.add(items as u64);
        }
    }

    async fn run(mut self, mut idle: Idle<P>, tick: Option<Duration>, stop: CancellationToken) {
        let mut out = Output::default();
        let period = tick.unwrap_or(Duration::from_secs(3600));
        let mut ticker = tokio::time::interval_at(Instant::now() + period, period);
        loop {
            tokio::select! {
                biased;
                _ = stop.cancelled() => break,
                msg = idle.rx.recv() => match msg {
                    Some((cx, data)) => idle.processor.consume(cx, data, &mut out),
                    None => break,
                },
                now = ticker.tick(), if tick.is_some() => idle.processor.tick(now, &mut out),
            }
            self.send(idle.processor.held_bytes(), &mut out).await;
        }
        // Shutdown: what clients already handed over is processed, then everything is flushed.
        idle.rx.close();
        while let Some((cx, data)) = idle.rx.recv().await {
            idle.processor.consume(cx, data, &mut out);
            self.send(idle.processor.held_bytes(), &mut out).await;
        }
        idle.processor.flush(&mut out);
        self.send(idle.processor.held_bytes(), &mut out).await;
    }
}

impl<P: StatefulProcessor, X: Partition<Part = P::In>> Component for Runner<P, X> {
    fn start<'a>(&'a self, _host: &'a Host) -> BoxFuture<'a, Result<(), StartError>> {
        Box::pin(async move {
            let Some(idle) = self.state.lock().unwrap_or_else(PoisonError::into_inner).take() else {
                return Err(StartError::new(format!("processor \"{}\" started twice", self.id)));
            };
            let mut tasks = self.tasks.lock().unwrap_or_else(PoisonError::into_inner);
            for shard in idle {
                let step = Step::<P> {
                    id: self.id.clone(),
                    next: shard.next.clone(),
                    held: self.held.clone(),
                    memory: self.memory.clone(),
                    published: 0,
                    obs_out: self.obs_out.clone(),
                };
                tasks.push(tokio::spawn(step.run(shard, self.opts.tick, self.stop.clone())));
            }
            Ok(())
        })
    }

    /// Stops taking input, then drains and flushes within `drain_deadline`.
    fn shutdown(&self) -> BoxFuture<'_, ()> {
        Box::pin(async move {
            self.input.open.store(false, Ordering::Release);
            self.stop.cancel();
            let tasks = std::mem::take(&mut *self.tasks.lock().unwrap_or_else(PoisonError::into_inner));
            if tasks.is_empty() {
                return;
            }
            let handles: Vec<_> = tasks.iter().map(JoinHandle::abort_handle).collect();
            if tokio::time::timeout(self.opts.drain_deadline, futures::future::join_all(tasks)).await.is_err() {
                handles.iter().for_each(|h| h.abort());
                tracing::warn!(
                    processor = %self.id,
                    held_bytes = self.held.get(),
                    "Shutdown deadline reached while flushing; the data still held is dropped."
                );
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use switchyard_pdata::Traces;

    use super::*;
    use crate::component::Kind;
    use crate::testing::{lifecycle_check, settings, traces, SinkConsumer};

    /// Holds every span until a tick, then emits them as one batch.
    #[derive(Default)]
    struct Hold {
        pending: Option<Traces>,
    }

    impl StatefulProcessor for Hold {
        type In = Traces;
        type Out = Traces;
        fn consume(&mut self, _cx: RequestContext, data: Traces, _out: &mut Output<Traces>) {
            match &mut self.pending {
                Some(p) => {
                    let _ = p.append(data);
                }
                None => self.pending = Some(data),
            }
        }
        fn tick(&mut self, _now: Instant, out: &mut Output<Traces>) {
            self.flush(out);
        }
        fn flush(&mut self, out: &mut Output<Traces>) {
            if let Some(p) = self.pending.take() {
                out.send(RequestContext::default(), p);
            }
        }
        fn held_bytes(&self) -> usize {
            self.pending.as_ref().map_or(0, SignalData::encoded_len)
        }
    }

    fn build(
        opts: StatefulSettings,
    ) -> (crate::component::Settings, Arc<SinkConsumer<Traces>>, DynConsumer<Traces>, Box<dyn Component>) {
        let set = settings(Kind::Processor, "hold");
        let sink = SinkConsumer::<Traces>::new();
        let (input, component) = create_stateful(&set, Hold::default(), opts, sink.clone());
        (set, sink, input, component)
    }

    fn held(set: &crate::component::Settings) -> i64 {
        set.telemetry.metrics.gauge(names::PROCESSOR_HELD_BYTES, "", &[("processor", "hold")]).get()
    }

    #[tokio::test(start_paused = true)]
    async fn holds_until_the_timer_and_reports_the_bytes_it_holds() {
        let opts = StatefulSettings { tick: Some(Duration::from_secs(1)), ..Default::default() };
        let (set, sink, input, component) = build(opts);
        component.start(&Host::default()).await.unwrap();
        let cx = RequestContext::default();
        input.consume(&cx, traces(2)).await.unwrap();
        input.consume(&cx, traces(3)).await.unwrap();
        tokio::time::sleep(Duration::from_millis(500)).await;
        assert_eq!(sink.item_count(), 0, "held until the tick");
        assert!(held(&set) > 0, "the gauge shows what is held");
        tokio::time::sleep(Duration::from_millis(600)).await;
        assert_eq!(sink.batches().len(), 1, "one merged batch at the tick");
        assert_eq!(sink.item_count(), 5);
        assert_eq!(held(&set), 0);
        let text = set.telemetry.metrics.render(false);
        assert!(text.contains("otelcol_processor_incoming_items{otel_signal=\"traces\",processor=\"hold\"} 5\n"));
        assert!(text.contains("otelcol_processor_outgoing_items{otel_signal=\"traces\",processor=\"hold\"} 5\n"));
        component.shutdown().await;
    }

    #[tokio::test]
    async fn shutdown_drains_the_channel_and_flushes_then_refuses_input() {
        let (_set, sink, input, component) = build(StatefulSettings::default());
        component.start(&Host::default()).await.unwrap();
        let cx = RequestContext::default();
        for _ in 0..10 {
            input.consume(&cx, traces(1)).await.unwrap();
        }
        component.shutdown().await;
        assert_eq!(sink.item_count(), 10, "nothing accepted is lost at shutdown");
        let err = input.consume(&cx, traces(1)).await.expect_err("stopped");
        assert!(err.is_retryable());
    }

    /// Never answers: a dead downstream.
    struct Stuck;

    impl Consumer<Traces> for Stuck {
        fn consume<'a>(&'a self, _cx: &'a RequestContext, _data: Traces) -> BoxFuture<'a, Result<(), ConsumeError>> {
            Box::pin(futures::future::pending())
        }
    }

    #[tokio::test(start_paused = true)]
    async fn shutdown_gives_up_at_the_drain_deadline() {
        let set = settings(Kind::Processor, "hold");
        let opts = StatefulSettings { drain_deadline: Duration::from_secs(2), ..Default::default() };
        let (input, component) = create_stateful(&set, Hold::default(), opts, Arc::new(Stuck));
        component.start(&Host::default()).await.unwrap();
        input.consume(&RequestContext::default(), traces(1)).await.unwrap();
        let start = Instant::now();
        component.shutdown().await;
        assert_eq!(start.elapsed(), Duration::from_secs(2));
    }

    /// Sends each span to the shard of its count parity: shard 0 even-sized batches, 1 odd.
    struct ByParity;

    impl Partition for ByParity {
        type Whole = Traces;
        type Part = Traces;
        fn split(&self, whole: Traces, shards: usize, emit: &mut dyn FnMut(usize, Traces)) {
            let shard = whole.item_count() % shards;
            emit(shard, whole);
        }
    }

    #[tokio::test(start_paused = true)]
    async fn shards_hold_their_own_parts_and_the_gauge_sums_them() {
        let set = settings(Kind::Processor, "hold");
        let sink = SinkConsumer::<Traces>::new();
        let opts = StatefulSettings { tick: Some(Duration::from_secs(1)), ..Default::default() };
        let (input, component) =
            create_sharded(&set, vec![Hold::default(), Hold::default()], ByParity, opts, sink.clone());
        component.start(&Host::default()).await.unwrap();
        let cx = RequestContext::default();
        input.consume(&cx, traces(2)).await.unwrap();
        tokio::time::sleep(Duration::from_millis(100)).await;
        let one = held(&set);
        assert!(one > 0);
        input.consume(&cx, traces(3)).await.unwrap();
        tokio::time::sleep(Duration::from_millis(100)).await;
        assert!(held(&set) > one, "the gauge is the sum over shards, not the last shard's value");
        tokio::time::sleep(Duration::from_millis(900)).await;
        let sizes: Vec<usize> = sink.batches().iter().map(SignalData::item_count).collect();
        assert_eq!(sizes.len(), 2, "each shard emits its own batch at its tick: {sizes:?}");
        assert_eq!(sink.item_count(), 5);
        assert_eq!(held(&set), 0);
        let text = set.telemetry.metrics.render(false);
        assert!(text.contains("otelcol_processor_incoming_items{otel_signal=\"traces\",processor=\"hold\"} 5\n"));
        component.shutdown().await;
    }

    #[tokio::test]
    async fn lifecycle() {
        let (_, _, _, started) = build(StatefulSettings::default());
        let (_, _, _, never_started) = build(StatefulSettings::default());
        lifecycle_check(started.as_ref(), never_started.as_ref()).await;
        never_started.shutdown().await;
    }
}
