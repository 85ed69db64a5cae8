//! The batch processor against a recording consumer: size and time triggers, the maximum
//! size, one batch per metadata combination, the cardinality limit and the flush on shutdown.

use std::sync::Arc;
use std::time::Duration;

use switchyard_core::component::{ComponentId, Host, Kind, ProcessorFactory, Settings};
use switchyard_core::consumer::{AnyConsumer, ConsumeError, RequestContext};
use switchyard_core::testing::SinkConsumer;
use switchyard_pdata::proto::collector::logs::v1::ExportLogsServiceRequest;
use switchyard_pdata::proto::logs::v1::{LogRecord, ResourceLogs, ScopeLogs};
use switchyard_pdata::{Logs, SignalData};

use super::{BatchProcessorConfig, BatchProcessorFactory};

fn logs(n: usize) -> Logs {
    ExportLogsServiceRequest {
        resource_logs: vec![ResourceLogs {
            scope_logs: vec![ScopeLogs { log_records: vec![LogRecord::default(); n], ..Default::default() }],
            ..Default::default()
        }],
    }
    .into()
}

fn build(
    cfg: BatchProcessorConfig,
) -> (
    Arc<SinkConsumer<Logs>>,
    switchyard_core::consumer::DynConsumer<Logs>,
    Box<dyn switchyard_core::component::Component>,
) {
    let sink = SinkConsumer::<Logs>::new();
    let set = Settings { id: ComponentId::new("batch"), kind: Kind::Processor, telemetry: Default::default() };
    let (consumer, component) =
        BatchProcessorFactory.create(set, &cfg, AnyConsumer::Logs(sink.clone())).expect("create");
    let AnyConsumer::Logs(consumer) = consumer else { panic!("logs in, logs out") };
    (sink, consumer, component.expect("batch owns a timer"))
}

fn tenant(v: &str) -> RequestContext {
    let mut h = http::HeaderMap::new();
    h.insert("x-tenant-id", http::HeaderValue::from_str(v).expect("header"));
    RequestContext::with_metadata(Some(Arc::new(h)))
}

#[tokio::test]
async fn size_trigger_and_max_size_split() {
    let cfg = BatchProcessorConfig {
        send_batch_size: 10,
        send_batch_max_size: 10,
        timeout: Duration::from_secs(60),
        ..Default::default()
    };
    let (sink, c, comp) = build(cfg);
    comp.start(&Host::default()).await.expect("start");
    let cx = RequestContext::default();
    c.consume(&cx, logs(4)).await.expect("ok");
    assert_eq!(sink.item_count(), 0, "below the trigger");
    c.consume(&cx, logs(25)).await.expect("ok");
    let sizes: Vec<usize> = sink.batches().iter().map(SignalData::item_count).collect();
    assert_eq!(sizes, vec![10, 10], "split at the maximum; 9 left pending");
    comp.shutdown().await;
    assert_eq!(sink.item_count(), 29, "shutdown flushes the rest");
}

#[tokio::test]
async fn timeout_sends_what_is_pending() {
    let cfg = BatchProcessorConfig { send_batch_size: 1000, timeout: Duration::from_millis(50), ..Default::default() };
    let (sink, c, comp) = build(cfg);
    comp.start(&Host::default()).await.expect("start");
    c.consume(&RequestContext::default(), logs(3)).await.expect("ok");
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(sink.item_count(), 3);
    comp.shutdown().await;
}

#[tokio::test]
async fn one_batch_per_tenant_with_its_metadata_and_a_cardinality_limit() {
    let cfg = BatchProcessorConfig {
        send_batch_size: 5,
        timeout: Duration::from_secs(60),
        metadata_keys: vec!["X-Tenant-ID".into()],
        metadata_cardinality_limit: 2,
        ..Default::default()
    };
    let (sink, c, comp) = build(cfg);
    comp.start(&Host::default()).await.expect("start");
    c.consume(&tenant("a"), logs(3)).await.expect("ok");
    c.consume(&tenant("b"), logs(3)).await.expect("ok");
    assert_eq!(sink.item_count(), 0, "3 + 3 of different tenants do not make a batch of 5");
    c.consume(&tenant("a"), logs(2)).await.expect("ok");
    assert_eq!(sink.item_count(), 5);
    assert_eq!(sink.contexts()[0].metadata_values("x-tenant-id"), vec!["a"]);
    let err = c.consume(&tenant("c"), logs(1)).await.expect_err("third tenant over the limit");
    assert!(matches!(err, ConsumeError::Permanent { .. }), "{err:?}");
    comp.shutdown().await;
    assert_eq!(sink.item_count(), 8);
    assert_eq!(sink.contexts()[1].metadata_values("x-tenant-id"), vec!["b"]);
}

#[tokio::test]
async fn timeout_zero_sends_immediately_and_propagates_errors() {
    let cfg = BatchProcessorConfig {
        timeout: Duration::ZERO,
        send_batch_max_size: 4,
        send_batch_size: 4,
        ..Default::default()
    };
    let (sink, c, _comp) = build(cfg);
    c.consume(&RequestContext::default(), logs(6)).await.expect("ok");
    assert_eq!(sink.batches().iter().map(SignalData::item_count).collect::<Vec<_>>(), vec![4, 2]);
    sink.fail_with(Some(ConsumeError::retryable("down")));
    assert!(c.consume(&RequestContext::default(), logs(1)).await.is_err());
}

#[test]
fn the_memory_bound_is_the_byte_cap_or_one_request() {
    use switchyard_core::component::BoundContext;
    let default = BatchProcessorConfig::default();
    assert_eq!(default.max_held_bytes(), 2 * 8192 * 4096, "64 MiB: 4 KiB per item of room");
    let b = super::memory_bound(&default, &BoundContext { largest_request: 4 << 20 });
    assert_eq!(b.total(), Some(64 << 20));
    let small = BatchProcessorConfig { max_held_bytes: Some(1 << 20), ..Default::default() };
    let b = super::memory_bound(&small, &BoundContext { largest_request: 4 << 20 });
    assert_eq!(b.total(), Some(4 << 20), "one request always enters an empty batcher");
}

/// A consumer that holds every batch until released, as a slow exporter does.
struct Gate {
    open: tokio::sync::Semaphore,
    sink: Arc<SinkConsumer<Logs>>,
}

impl switchyard_core::consumer::Consumer<Logs> for Gate {
    fn consume<'a>(
        &'a self,
        cx: &'a RequestContext,
        data: Logs,
    ) -> futures::future::BoxFuture<'a, Result<(), ConsumeError>> {
        Box::pin(async move {
            self.open.acquire().await.map_err(|_| ConsumeError::permanent("closed"))?.forget();
            self.sink.consume(cx, data).await
        })
    }
}

#[tokio::test]
async fn at_its_byte_cap_the_batcher_sends_early_then_makes_producers_wait() {
    let one = logs(10).encoded_len() as u64;
    let cfg = BatchProcessorConfig {
        send_batch_size: 100_000,
        timeout: Duration::from_secs(60),
        max_held_bytes: Some(3 * one),
        ..Default::default()
    };
    let sink = SinkConsumer::<Logs>::new();
    let gate = Arc::new(Gate { open: tokio::sync::Semaphore::new(0), sink: sink.clone() });
    let set = Settings { id: ComponentId::new("batch"), kind: Kind::Processor, telemetry: Default::default() };
    let telemetry = set.telemetry.clone();
    let (c, comp) = BatchProcessorFactory.create(set, &cfg, AnyConsumer::Logs(gate.clone())).expect("create");
    let AnyConsumer::Logs(c) = c else { panic!("logs") };
    let comp = comp.expect("timer");
    comp.start(&Host::default()).await.expect("start");
    let used = || {
        telemetry.metrics.gauge("switchyard_component_memory_used_bytes", "", &[("component", "processor/batch")]).get()
    };
    // Two requests reach half the cap: the batch goes out (and is stuck at the gate).
    let cx = RequestContext::default();
    c.consume(&cx, logs(10)).await.expect("ok");
    let sending = {
        let c = c.clone();
        tokio::spawn(async move { c.consume(&RequestContext::default(), logs(10)).await })
    };
    tokio::time::sleep(Duration::from_millis(50)).await;
    assert_eq!(used(), 2 * one as i64, "two requests held, the batch being sent");
    c.consume(&cx, logs(10)).await.expect("a third still fits the cap");
    let waiting = {
        let c = c.clone();
        tokio::spawn(async move { c.consume(&RequestContext::default(), logs(10)).await })
    };
    tokio::time::sleep(Duration::from_millis(50)).await;
    assert!(!waiting.is_finished(), "a fourth request waits: it would pass max_held_bytes");
    assert!(used() <= 3 * one as i64, "never above the cap: {}", used());
    let reached = telemetry.metrics.counter(
        "switchyard_component_memory_cap_reached",
        "",
        &[("component", "processor/batch"), ("action", "wait")],
    );
    assert_eq!(reached.get(), 1, "the wait is counted");
    gate.open.add_permits(100);
    sending.await.expect("join").expect("sent");
    waiting.await.expect("join").expect("admitted once the batch left");
    comp.shutdown().await;
    assert_eq!(sink.item_count(), 40, "nothing lost");
    assert_eq!(used(), 0, "every byte given back");
}
