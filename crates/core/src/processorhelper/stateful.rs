//! The stateful skeleton: a processor that holds data across calls (`tail_sampling`,
//! `spanmetrics`, `servicegraph`, a future `batch`) writes its logic as a
//! [`StatefulProcessor`] — plain `&mut self` methods, no locks — and [`create_stateful`]
//! runs it on a task of its own.
//!
//! # Model
//!
//! - **Input**: the pipeline's `consume` puts the batch in a bounded channel and returns
//!   once it is there; when the task falls behind, the channel fills and `consume` waits,
//!   so backpressure reaches the receiver instead of memory growing. "Accepted" then means
//!   "held by the processor", as in the Collector's batch processor: a later failure
//!   downstream is logged and counted, not reported to a client that has gone.
//! - **Task**: owns the processor; handles one message at a time (a batch, or a timer tick
//!   every `tick`) and then sends whatever the processor emitted to the next consumer,
//!   awaiting each send (so a slow exporter slows the task, which fills the channel).
//! - **Shutdown**: stops taking input, drains what is already in the channel, calls
//!   [`StatefulProcessor::flush`] and sends the result, all within `drain_deadline`;
//!   past it the task is stopped and what it still held is logged as dropped.
//! - **Memory**: after every step the task publishes [`StatefulProcessor::held_bytes`] as the
//!   gauge `switchyard_processor_held_bytes{processor}`; the future memory-bound work caps
//!   on the same number. Batches waiting in the channel are bounded by its capacity.
//!
//! Input and output signals may differ (`spanmetrics` takes spans and emits metrics).

use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use futures::future::BoxFuture;
use switchyard_pdata::SignalData;
use tokio::sync::mpsc;
use tokio::task::JoinHandle;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use crate::component::{Component, ComponentId, Host, Settings, StartError};
use crate::consumer::{ConsumeError, Consumer, DynConsumer, RequestContext};
use crate::telemetry::{names, Gauge, ProcessorObs};

/// What a stateful processor emits during one step; the task sends it after the step.
pub struct Output<S> {
    batches: Vec<(RequestContext, S)>,
}

impl<S: SignalData> Output<S> {
    /// Queues `data` to be sent downstream with the context `cx` once the step returns.
    pub fn send(&mut self, cx: RequestContext, data: S) {
        self.batches.push((cx, data));
    }
}

/// The logic of a stateful processor. Every method runs on the processor's own task, one
/// at a time, so state needs no locks; none may block (they run on the async runtime).
pub trait StatefulProcessor: Send + 'static {
    /// What it takes in.
    type In: SignalData;
    /// What it emits (the same signal for a processor; another for a connector like `spanmetrics`).
    type Out: SignalData;
    /// Takes one batch, the processor now owns it; emits what is ready into `out`.
    fn consume(&mut self, cx: RequestContext, data: Self::In, out: &mut Output<Self::Out>);
    /// Called every [`StatefulSettings::tick`]: emit what is due (timeouts, decisions).
    fn tick(&mut self, _now: Instant, _out: &mut Output<Self::Out>) {}
    /// Called once at shutdown, after the channel is drained: emit everything still held.
    fn flush(&mut self, out: &mut Output<Self::Out>);
    /// Bytes held now (pending batches, buffered traces): the gauge and the future memory cap.
    fn held_bytes(&self) -> usize {
        0
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
pub fn create_stateful<P: StatefulProcessor>(
    set: &Settings,
    processor: P,
    opts: StatefulSettings,
    next: DynConsumer<P::Out>,
) -> (DynConsumer<P::In>, Box<dyn Component>) {
    let (tx, rx) = mpsc::channel(opts.channel_capacity.max(1));
    let id = set.id.to_string();
    let held = set.telemetry.metrics.gauge(
        names::PROCESSOR_HELD_BYTES,
        "Bytes a stateful processor holds.",
        &[("processor", id.as_str())],
    );
    let input = Arc::new(Input {
        tx: Mutex::new(Some(tx)),
        obs: ProcessorObs::new(&set.telemetry, &set.id, <P::In as SignalData>::SIGNAL),
    });
    let runner = Runner {
        id: set.id.clone(),
        opts,
        input: input.clone(),
        state: Mutex::new(Some(Idle { processor, rx, next })),
        task: Mutex::new(None),
        stop: CancellationToken::new(),
        held,
        obs_out: ProcessorObs::new(&set.telemetry, &set.id, <P::Out as SignalData>::SIGNAL),
    };
    (input, Box::new(runner))
}

struct Input<S: SignalData> {
    /// Dropped at shutdown, which closes the channel.
    tx: Mutex<Option<mpsc::Sender<Message<S>>>>,
    obs: ProcessorObs,
}

impl<S: SignalData> Consumer<S> for Input<S> {
    fn consume<'a>(&'a self, cx: &'a RequestContext, data: S) -> BoxFuture<'a, Result<(), ConsumeError>> {
        Box::pin(async move {
            let tx = self.tx.lock().unwrap_or_else(PoisonError::into_inner).clone();
            let Some(tx) = tx else { return Err(ConsumeError::retryable("processor is shutting down")) };
            let items = data.item_count();
            tx.send((cx.clone(), data)).await.map_err(|_| ConsumeError::retryable("processor is shutting down"))?;
            self.obs.incoming.add(items as u64);
            Ok(())
        })
    }
}

/// What the task needs, held until `start`.
struct Idle<P: StatefulProcessor> {
    processor: P,
    rx: mpsc::Receiver<Message<P::In>>,
    next: DynConsumer<P::Out>,
}

struct Runner<P: StatefulProcessor> {
    id: ComponentId,
    opts: StatefulSettings,
    input: Arc<Input<P::In>>,
    state: Mutex<Option<Idle<P>>>,
    task: Mutex<Option<JoinHandle<()>>>,
    stop: CancellationToken,
    held: Gauge,
    obs_out: ProcessorObs,
}

/// The task's side: sends what a step emitted and publishes the bytes held.
struct Step<P: StatefulProcessor> {
    id: ComponentId,
    next: DynConsumer<P::Out>,
    held: Gauge,
    obs_out: ProcessorObs,
}

impl<P: StatefulProcessor> Step<P> {
    /// Publishes `held` bytes, then sends what the step emitted.
    async fn send(&self, held: usize, out: &mut Output<P::Out>) {
        self.held.set(held as i64);
        for (cx, batch) in out.batches.drain(..) {
            let items = batch.item_count();
            if let Err(e) = self.next.consume(&cx, batch).await {
                tracing::warn!(processor = %self.id, error = %e, dropped_items = items, "Sending downstream failed.");
                continue;
            }
            self.obs_out.outgoing.add(items as u64);
        }
    }

    async fn run(self, mut idle: Idle<P>, tick: Option<Duration>, stop: CancellationToken) {
        let mut out = Output { batches: Vec::new() };
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

impl<P: StatefulProcessor> Component for Runner<P> {
    fn start<'a>(&'a self, _host: &'a Host) -> BoxFuture<'a, Result<(), StartError>> {
        Box::pin(async move {
            let Some(idle) = self.state.lock().unwrap_or_else(PoisonError::into_inner).take() else {
                return Err(StartError::new(format!("processor \"{}\" started twice", self.id)));
            };
            let step = Step::<P> {
                id: self.id.clone(),
                next: idle.next.clone(),
                held: self.held.clone(),
                obs_out: self.obs_out.clone(),
            };
            let task = tokio::spawn(step.run(idle, self.opts.tick, self.stop.clone()));
            *self.task.lock().unwrap_or_else(PoisonError::into_inner) = Some(task);
            Ok(())
        })
    }

    /// Stops taking input, then drains and flushes within `drain_deadline`.
    fn shutdown(&self) -> BoxFuture<'_, ()> {
        Box::pin(async move {
            self.input.tx.lock().unwrap_or_else(PoisonError::into_inner).take();
            self.stop.cancel();
            let task = self.task.lock().unwrap_or_else(PoisonError::into_inner).take();
            let Some(mut task) = task else { return };
            if tokio::time::timeout(self.opts.drain_deadline, &mut task).await.is_err() {
                task.abort();
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

    #[tokio::test]
    async fn lifecycle() {
        let (_, _, _, started) = build(StatefulSettings::default());
        let (_, _, _, never_started) = build(StatefulSettings::default());
        lifecycle_check(started.as_ref(), never_started.as_ref()).await;
        never_started.shutdown().await;
    }
}
