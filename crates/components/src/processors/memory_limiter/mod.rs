//! The `memory_limiter` processor: refuses data while the process uses more memory than
//! the soft limit, so clients back off (retryable: gRPC UNAVAILABLE, HTTP 503) before the
//! process runs out of memory. Put it first in every pipeline.
//!
//! Memory is the process's resident set (RSS), measured every `check_interval`. The
//! Collector reads Go's heap size and forces a garbage collection near the limit; Rust frees
//! memory when it is dropped, so there is nothing to force and the `*_gc_*` fields are
//! accepted and ignored. Admission control in the receivers limits how much arrives
//! between two checks.

mod config;

pub use config::MemoryLimiterConfig;

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;

use futures::future::BoxFuture;
use switchyard_core::component::{
    BoundContext, BuildError, Component, ComponentId, Host, MemoryBound, ProcessorFactory, Settings, Stability,
    StartError,
};
use switchyard_core::consumer::{AnyConsumer, ConsumeError, Consumer, DynConsumer, RequestContext};
use switchyard_core::telemetry::{rss_bytes, total_memory_bytes, Counter};
use switchyard_core::with_any_consumer;
use switchyard_pdata::{Signal, SignalData};
use tokio::sync::Mutex;
use tokio_util::sync::CancellationToken;

/// The Collector type string.
pub const TYPE: &str = "memory_limiter";

/// Reads the memory in use, in bytes (RSS in production; a stub in tests).
pub type MemoryProbe = Arc<dyn Fn() -> u64 + Send + Sync>;

/// Creates memory limiters.
pub struct MemoryLimiterProcessorFactory;

impl ProcessorFactory for MemoryLimiterProcessorFactory {
    type Config = MemoryLimiterConfig;
    fn component_type(&self) -> &'static str {
        TYPE
    }
    fn stability(&self, signal: Signal) -> Option<Stability> {
        Some(match signal {
            Signal::Profiles => Stability::Development,
            _ => Stability::Beta,
        })
    }
    /// Holds nothing (it refuses or passes on the caller's request): its hard limit is
    /// the budget the other components' total is compared with.
    fn memory_bound(&self, cfg: &MemoryLimiterConfig, _cx: &BoundContext) -> MemoryBound {
        let total = switchyard_core::telemetry::total_memory_bytes();
        let (hard, _) = cfg.limits(total);
        let what = if cfg.limit_mib > 0 {
            format!("limit_mib {}", cfg.limit_mib)
        } else {
            format!("limit_percentage {}% of {}", cfg.limit_percentage, switchyard_core::component::HumanBytes(total))
        };
        MemoryBound::Limit { bytes: hard, what }
    }
    fn create(
        &self,
        set: Settings,
        cfg: &MemoryLimiterConfig,
        next: AnyConsumer,
    ) -> Result<(AnyConsumer, Option<Box<dyn Component>>), BuildError> {
        let (consumer, component) = build(&set, cfg, next, Arc::new(rss_bytes));
        Ok((consumer, Some(component)))
    }
}

/// Builds a limiter with a given memory probe (tests inject one).
pub fn build(
    set: &Settings,
    cfg: &MemoryLimiterConfig,
    next: AnyConsumer,
    probe: MemoryProbe,
) -> (AnyConsumer, Box<dyn Component>) {
    let (hard, soft) = cfg.limits(total_memory_bytes());
    let state = Arc::new(State {
        id: set.id.clone(),
        hard,
        soft,
        interval: cfg.check_interval,
        probe,
        refusing: AtomicBool::new(false),
        last_check_ms: AtomicU64::new(0),
        epoch: std::time::Instant::now(),
        stop: CancellationToken::new(),
        task: Mutex::new(None),
    });
    let id = set.id.to_string();
    let counters = |outcome: &str, signal: Signal| {
        set.telemetry.metrics.counter(
            &format!("otelcol_processor_memory_limiter_{outcome}_{}", signal.item_name()),
            "Number of items the memory limiter passed on or refused.",
            &[("processor", id.as_str())],
        )
    };
    let consumer = with_any_consumer!(next, c => {
        let signal = c_signal(&c);
        let limiter = Arc::new(Limiter { state: state.clone(), next: c, accepted: counters("accepted", signal), refused: counters("refused", signal) });
        AnyConsumer::from(limiter as DynConsumer<_>)
    });
    (consumer, Box::new(Checker(state)))
}

fn c_signal<S: SignalData>(_c: &DynConsumer<S>) -> Signal {
    S::SIGNAL
}

/// Shortest time between two measurements triggered by incoming data.
const RECHECK_MS: u64 = 5;

struct State {
    id: ComponentId,
    hard: u64,
    soft: u64,
    interval: std::time::Duration,
    probe: MemoryProbe,
    refusing: AtomicBool,
    /// Milliseconds since `epoch` of the last measurement.
    last_check_ms: AtomicU64,
    epoch: std::time::Instant,
    stop: CancellationToken,
    task: Mutex<Option<tokio::task::JoinHandle<()>>>,
}

impl State {
    /// One measurement: refuse from the soft limit up, resume below it.
    fn check(&self) {
        self.last_check_ms.store(self.epoch.elapsed().as_millis() as u64, Ordering::Relaxed);
        let used = (self.probe)();
        let over = used >= self.soft;
        let was = self.refusing.swap(over, Ordering::AcqRel);
        const MIB: u64 = 1 << 20;
        match (was, over) {
            (false, true) => tracing::warn!(
                processor = %self.id, used_mib = used / MIB, soft_limit_mib = self.soft / MIB, hard_limit_mib = self.hard / MIB,
                "Memory usage is above the soft limit. Refusing data."
            ),
            (true, false) => tracing::info!(
                processor = %self.id, used_mib = used / MIB, soft_limit_mib = self.soft / MIB,
                "Memory usage back within limits. Resuming normal operation."
            ),
            _ => {}
        }
    }
}

struct Limiter<S: SignalData> {
    state: Arc<State>,
    next: DynConsumer<S>,
    accepted: Counter,
    refused: Counter,
}

impl<S: SignalData> Consumer<S> for Limiter<S> {
    fn consume<'a>(&'a self, cx: &'a RequestContext, data: S) -> BoxFuture<'a, Result<(), ConsumeError>> {
        Box::pin(async move {
            let items = data.item_count() as u64;
            // Between periodic checks, a burst can add tens of MiB: measure again when data
            // arrives, at most every few milliseconds (reading RSS costs a few microseconds).
            let st = &self.state;
            let now = st.epoch.elapsed().as_millis() as u64;
            let last = st.last_check_ms.load(Ordering::Relaxed);
            if now >= last + RECHECK_MS
                && st.last_check_ms.compare_exchange(last, now, Ordering::Relaxed, Ordering::Relaxed).is_ok()
            {
                st.check();
            }
            if self.state.refusing.load(Ordering::Acquire) {
                self.refused.add(items);
                return Err(ConsumeError::retryable("data refused due to high memory usage"));
            }
            self.accepted.add(items);
            self.next.consume(cx, data).await
        })
    }
}

/// The periodic check.
struct Checker(Arc<State>);

impl Component for Checker {
    fn start<'a>(&'a self, _host: &'a Host) -> BoxFuture<'a, Result<(), StartError>> {
        Box::pin(async move {
            let state = self.0.clone();
            state.check();
            let mut task = self.0.task.lock().await;
            *task = Some(tokio::spawn(async move {
                let mut ticker = tokio::time::interval(state.interval);
                loop {
                    tokio::select! {
                        _ = ticker.tick() => state.check(),
                        _ = state.stop.cancelled() => break,
                    }
                }
            }));
            Ok(())
        })
    }

    fn shutdown(&self) -> BoxFuture<'_, ()> {
        Box::pin(async move {
            self.0.stop.cancel();
            if let Some(t) = self.0.task.lock().await.take() {
                let _ = t.await;
            }
        })
    }
}

#[cfg(test)]
mod tests {

    use std::time::Duration;

    use switchyard_core::component::Kind;
    use switchyard_core::testing::SinkConsumer;
    use switchyard_pdata::Logs;

    use super::*;

    #[tokio::test]
    async fn refuses_above_the_soft_limit_and_resumes_below() {
        let sink = SinkConsumer::<Logs>::new();
        let used = Arc::new(AtomicU64::new(10 << 20));
        let probe_used = used.clone();
        let cfg = MemoryLimiterConfig {
            check_interval: Duration::from_millis(10),
            limit_mib: 100,
            spike_limit_mib: 20,
            ..Default::default()
        };
        let set = Settings { id: ComponentId::new(TYPE), kind: Kind::Processor, telemetry: Default::default() };
        let (consumer, checker) =
            build(&set, &cfg, AnyConsumer::Logs(sink.clone()), Arc::new(move || probe_used.load(Ordering::Relaxed)));
        let AnyConsumer::Logs(consumer) = consumer else { panic!("logs") };
        checker.start(&Host::default()).await.expect("start");
        let cx = RequestContext::default();
        consumer.consume(&cx, Logs::default()).await.expect("under the limit");
        used.store(80 << 20, Ordering::Relaxed); // = soft limit (100 - 20)
        tokio::time::sleep(Duration::from_millis(50)).await;
        let err = consumer.consume(&cx, Logs::default()).await.expect_err("refused");
        assert!(err.is_retryable(), "refusals are retryable: {err:?}");
        assert_eq!(err.to_string(), "data refused due to high memory usage");
        used.store(79 << 20, Ordering::Relaxed);
        tokio::time::sleep(Duration::from_millis(50)).await;
        consumer.consume(&cx, Logs::default()).await.expect("resumed");
        checker.shutdown().await;
        assert_eq!(sink.batches().len(), 2);
    }

    #[test]
    fn its_bound_is_the_limit_to_compare_against() {
        use switchyard_core::component::{BoundContext, MemoryBound};
        let cfg = MemoryLimiterConfig { check_interval: Duration::from_secs(1), limit_mib: 512, ..Default::default() };
        let b = MemoryLimiterProcessorFactory.memory_bound(&cfg, &BoundContext::default());
        assert_eq!(b, MemoryBound::Limit { bytes: 512 << 20, what: "limit_mib 512".into() });
        assert_eq!(b.total(), Some(0), "it holds nothing itself");
    }
}
