//! The exporter helper with a scripted sender: queue limits, blocking, waiting for results,
//! batching, persistent queues across restarts.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures::future::BoxFuture;
use switchyard_pdata::{SignalData, Traces};

use super::*;
use crate::component::{Component, ComponentId, Extension, Host};
use crate::consumer::{ConsumeError, Consumer, RequestContext};
use crate::storage::{Capacity, QueueStorage, Recovered, Wal, WalError, WalOptions};
use crate::telemetry::{DropReason, ExporterObs, Telemetry};
use crate::testing::traces;

/// Records what it sends; fails the first `fail_first` attempts with `error`; can hang.
#[derive(Clone)]
struct Scripted {
    sent: Arc<Mutex<Vec<(RequestContext, Traces)>>>,
    attempts: Arc<AtomicUsize>,
    /// Sends an encoded body ([`BodySender`]) instead of the batch.
    body: bool,
    /// Bodies encoded: once per request, however many attempts.
    bodies: Arc<AtomicUsize>,
    /// Of those, the ones made from a batch that was its protobuf encoding, not a tree.
    bodies_from_bytes: Arc<AtomicUsize>,
    fail_first: usize,
    error: ExportError,
    delay: Duration,
}

impl Scripted {
    fn new(fail_first: usize, error: ExportError) -> Self {
        Scripted {
            sent: Arc::default(),
            attempts: Arc::default(),
            body: false,
            bodies: Arc::default(),
            bodies_from_bytes: Arc::default(),
            fail_first,
            error,
            delay: Duration::ZERO,
        }
    }
    fn ok() -> Self {
        Scripted::new(0, ExportError::retryable("unused"))
    }
    fn items(&self) -> usize {
        self.sent.lock().unwrap().iter().map(|(_, t)| t.item_count()).sum()
    }
}

impl Scripted {
    /// One attempt: fails as scripted, else records what arrived.
    fn attempt<'a>(&'a self, cx: &'a RequestContext, data: Traces) -> BoxFuture<'a, Result<(), ExportError>> {
        Box::pin(async move {
            tokio::time::sleep(self.delay).await;
            if self.attempts.fetch_add(1, Ordering::SeqCst) < self.fail_first {
                return Err(self.error.clone());
            }
            self.sent.lock().unwrap().push((cx.clone(), data));
            Ok(())
        })
    }
}

impl Sender<Traces> for Scripted {
    fn send<'a>(&'a self, cx: &'a RequestContext, data: &'a Traces) -> BoxFuture<'a, Result<(), ExportError>> {
        self.attempt(cx, data.clone())
    }

    fn body_sender(&self) -> Option<&dyn BodySender<Traces>> {
        self.body.then_some(self as &dyn BodySender<Traces>)
    }
}

impl BodySender<Traces> for Scripted {
    fn encode_body(&self, data: &Traces) -> Result<bytes::Bytes, String> {
        self.bodies.fetch_add(1, Ordering::SeqCst);
        if data.is_encoded() {
            self.bodies_from_bytes.fetch_add(1, Ordering::SeqCst);
        }
        Ok(data.to_bytes())
    }

    fn send_body<'a>(&'a self, cx: &'a RequestContext, body: bytes::Bytes) -> BoxFuture<'a, Result<(), ExportError>> {
        match Traces::from_encoded(body) {
            Ok(data) => self.attempt(cx, data),
            Err(e) => Box::pin(std::future::ready(Err(ExportError::permanent(e.to_string())))),
        }
    }
}

fn fast_retry() -> RetryConfig {
    RetryConfig {
        initial_interval: Duration::from_millis(10),
        max_interval: Duration::from_millis(20),
        max_elapsed_time: Duration::from_secs(5),
        ..RetryConfig::default()
    }
}

fn exporter(sender: Scripted, queue: QueueConfig, t: &Telemetry) -> QueuedExporter<Traces> {
    let id = ComponentId::new("otlp");
    let obs = ExporterObs::new(t, &id, switchyard_pdata::Signal::Traces);
    QueuedExporter::new(id, sender, queue, fast_retry(), Duration::from_secs(1), obs)
}

async fn eventually(what: &str, mut f: impl FnMut() -> bool) {
    for _ in 0..500 {
        if f() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!("timed out waiting for: {what}");
}

#[tokio::test]
async fn full_queue_refuses_retryably_and_counts_enqueue_failed() {
    let t = Telemetry::new();
    let mut s = Scripted::ok();
    s.delay = Duration::from_secs(30); // the worker holds the first request
    let q = QueueConfig { queue_size: 2, num_consumers: 1, ..QueueConfig::default() };
    let e = exporter(s, q, &t);
    e.start(&Host::default()).await.unwrap();
    let cx = RequestContext::default();
    let mut refused = 0;
    for _ in 0..5 {
        if let Err(err) = e.consume(&cx, traces(3)).await {
            assert!(err.is_retryable(), "{err}");
            assert!(err.to_string().contains("sending queue is full"), "{err}");
            refused += 1;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    // One in the worker, two queued.
    assert_eq!(refused, 2);
    assert_eq!(e.sender.obs.enqueue_failed.get(), 6);
}

#[tokio::test]
async fn items_sizer_counts_spans_and_refuses_oversized_requests() {
    let t = Telemetry::new();
    let q = QueueConfig { queue_size: 10, sizer: Some(Sizer::Items), ..QueueConfig::default() };
    let e = exporter(Scripted::ok(), q, &t);
    // Not started: nothing drains, so the capacity is what is measured.
    let cx = RequestContext::default();
    let err = e.consume(&cx, traces(11)).await.unwrap_err();
    assert!(!err.is_retryable(), "too large for the whole queue is permanent: {err}");
    e.consume(&cx, traces(6)).await.unwrap();
    e.consume(&cx, traces(4)).await.unwrap();
    assert!(e.consume(&cx, traces(1)).await.unwrap_err().to_string().contains("full"));
    assert_eq!(e.sender.obs.queue_size.get(), 10);
}

#[tokio::test]
async fn block_on_overflow_waits_for_room_instead_of_refusing() {
    let t = Telemetry::new();
    let mut s = Scripted::ok();
    s.delay = Duration::from_millis(100);
    let q = QueueConfig { queue_size: 1, num_consumers: 1, block_on_overflow: true, ..QueueConfig::default() };
    let e = Arc::new(exporter(s.clone(), q, &t));
    e.start(&Host::default()).await.unwrap();
    let cx = RequestContext::default();
    for _ in 0..5 {
        e.consume(&cx, traces(2)).await.expect("blocking queue never refuses");
    }
    eventually("all sent", || s.items() == 10).await;
    assert_eq!(e.sender.obs.enqueue_failed.get(), 0);
}

#[tokio::test]
async fn wait_for_result_returns_the_backend_answer() {
    let t = Telemetry::new();
    let s = Scripted::new(usize::MAX, ExportError::permanent("400 Bad Request"));
    let q = QueueConfig { wait_for_result: true, ..QueueConfig::default() };
    let e = exporter(s, q, &t);
    e.start(&Host::default()).await.unwrap();
    let err = e.consume(&RequestContext::default(), traces(3)).await.unwrap_err();
    assert!(matches!(err, ConsumeError::Permanent { .. }), "{err:?}");
    assert_eq!(e.sender.obs.dropped(DropReason::PermanentError).get(), 3);
    assert_eq!(e.sender.obs.send_failed.get(), 3);
}

#[tokio::test]
async fn retries_until_delivered_and_counts_exhausted_retries() {
    let t = Telemetry::new();
    let mut s = Scripted::new(3, ExportError::retryable("503"));
    s.body = true;
    let e = exporter(s.clone(), QueueConfig::default(), &t);
    e.start(&Host::default()).await.unwrap();
    e.consume(&RequestContext::default(), traces(4)).await.unwrap();
    eventually("delivered after 3 failures", || s.items() == 4).await;
    assert_eq!(s.attempts.load(Ordering::SeqCst), 4);
    assert_eq!(s.bodies.load(Ordering::SeqCst), 1, "the retries reuse the first attempt's body");

    let s = Scripted::new(usize::MAX, ExportError::retryable("503"));
    let id = ComponentId::parse("otlp/dead").unwrap();
    let obs = ExporterObs::new(&t, &id, switchyard_pdata::Signal::Traces);
    let retry = RetryConfig {
        max_elapsed_time: Duration::from_millis(100),
        max_interval: Duration::from_millis(20),
        ..fast_retry()
    };
    let e = QueuedExporter::new(id, s, QueueConfig::default(), retry, Duration::from_secs(1), obs);
    e.start(&Host::default()).await.unwrap();
    e.consume(&RequestContext::default(), traces(5)).await.unwrap();
    eventually("given up", || e.sender.obs.dropped(DropReason::RetriesExhausted).get() == 5).await;
}

#[tokio::test]
async fn batch_in_the_queue_merges_to_min_size_and_splits_at_max_size() {
    let t = Telemetry::new();
    let s = Scripted::ok();
    let batch = QueueBatchConfig {
        flush_timeout: Duration::from_secs(5),
        min_size: 10,
        max_size: 4,
        ..QueueBatchConfig::default()
    };
    let q =
        QueueConfig { wait_for_result: true, batch: crate::config::Optional(Some(batch)), ..QueueConfig::default() };
    let e = Arc::new(exporter(s.clone(), q, &t));
    e.start(&Host::default()).await.unwrap();
    let waits: Vec<_> = (0..5)
        .map(|_| {
            let e = e.clone();
            tokio::spawn(async move { e.consume(&RequestContext::default(), traces(2)).await })
        })
        .collect();
    for w in waits {
        w.await.unwrap().expect("each waiter hears the merged batch's result");
    }
    let sizes: Vec<usize> = s.sent.lock().unwrap().iter().map(|(_, t)| t.item_count()).collect();
    assert_eq!(sizes.iter().sum::<usize>(), 10);
    assert!(sizes.iter().all(|n| *n <= 4), "split at max_size: {sizes:?}");
    assert_eq!(sizes.len(), 3, "10 spans merged, then split 4+4+2: {sizes:?}");
}

/// A storage extension over a temp directory.
struct TempStorage(std::path::PathBuf);

impl Component for TempStorage {
    fn start<'a>(&'a self, _h: &'a Host) -> BoxFuture<'a, Result<(), crate::component::StartError>> {
        Box::pin(async { Ok(()) })
    }
    fn shutdown(&self) -> BoxFuture<'_, ()> {
        Box::pin(async {})
    }
}
impl Extension for TempStorage {
    fn as_any(&self) -> &dyn std::any::Any {
        self
    }
    fn queue_storage(&self) -> Option<&dyn QueueStorage> {
        Some(self)
    }
}
impl QueueStorage for TempStorage {
    fn open_queue(&self, name: &str, capacity: Capacity) -> Result<(Wal, Recovered), WalError> {
        Wal::open(&self.0.join(name), WalOptions { fsync: false, segment_bytes: 4096, capacity })
    }
    fn fsync(&self) -> bool {
        false
    }
}

#[tokio::test]
async fn persistent_queue_keeps_unsent_data_and_metadata_across_restarts() {
    let dir = tempfile::tempdir().unwrap();
    let mut exts: BTreeMap<ComponentId, Arc<dyn Extension>> = BTreeMap::new();
    exts.insert(ComponentId::new("file_storage"), Arc::new(TempStorage(dir.path().to_path_buf())));
    let host = Host::new(exts);
    let q = QueueConfig { storage: Some("file_storage".into()), ..QueueConfig::default() };
    let mut h = http::HeaderMap::new();
    h.insert("x-tenant", "acme".parse().unwrap());
    let cx = RequestContext::with_metadata(Some(Arc::new(h)));

    // First run: the backend is down; data is accepted (on disk), then the process stops.
    let t = Telemetry::new();
    // It sends bodies: the batch it lets go while retrying is still on disk.
    let mut down = Scripted::new(usize::MAX, ExportError::retryable("connection refused"));
    down.body = true;
    let e = exporter(down.clone(), q.clone(), &t);
    e.start(&host).await.unwrap();
    for _ in 0..20 {
        e.consume(&cx, traces(5)).await.unwrap();
    }
    e.shutdown().await;
    assert_eq!(down.items(), 0);
    assert_eq!(e.sender.obs.dropped(DropReason::Shutdown).get(), 0, "nothing is dropped: it stays on disk");
    drop(e); // releases the queue's lock, as the process ending would

    // Second run: the backend is up; everything arrives, with its metadata.
    let t = Telemetry::new();
    let up = Scripted::ok();
    let e = exporter(up.clone(), q.clone(), &t);
    e.start(&host).await.unwrap();
    eventually("all 100 spans delivered", || up.items() == 100).await;
    assert!(up.sent.lock().unwrap().iter().all(|(cx, _)| cx.metadata_values("x-tenant") == ["acme"]));
    e.shutdown().await;
    drop(e);

    // Third run: nothing left.
    let t = Telemetry::new();
    let again = Scripted::ok();
    let e = exporter(again.clone(), q, &t);
    e.start(&host).await.unwrap();
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(again.items(), 0, "delivered data must not come back");
    e.shutdown().await;
}

#[tokio::test]
async fn missing_or_wrong_storage_extension_fails_start_clearly() {
    let t = Telemetry::new();
    let q = QueueConfig { storage: Some("file_storage/nope".into()), ..QueueConfig::default() };
    let e = exporter(Scripted::ok(), q, &t);
    let err = e.start(&Host::default()).await.unwrap_err();
    assert!(err.message.contains("no storage client extension found"), "{}", err.message);
}

#[tokio::test]
async fn a_full_blocking_persistent_queue_waits_for_room_then_takes_everything() {
    let dir = tempfile::tempdir().unwrap();
    let mut exts: BTreeMap<ComponentId, Arc<dyn Extension>> = BTreeMap::new();
    exts.insert(ComponentId::new("file_storage"), Arc::new(TempStorage(dir.path().to_path_buf())));
    let host = Host::new(exts);
    let t = Telemetry::new();
    let mut s = Scripted::ok();
    s.delay = Duration::from_millis(50);
    let q = QueueConfig {
        storage: Some("file_storage".into()),
        queue_size: 2,
        num_consumers: 1,
        block_on_overflow: true,
        ..QueueConfig::default()
    };
    let e = exporter(s.clone(), q, &t);
    e.start(&host).await.unwrap();
    let cx = RequestContext::default();
    for _ in 0..10 {
        let pushed = tokio::time::timeout(Duration::from_secs(5), e.consume(&cx, traces(3))).await;
        pushed.expect("woken when room frees up").expect("blocking queue never refuses");
    }
    eventually("all 30 spans sent", || s.items() == 30).await;
    assert_eq!(e.sender.obs.enqueue_failed.get(), 0);
    e.shutdown().await;
}

#[tokio::test]
async fn a_body_sender_still_failing_at_shutdown_counts_what_it_drops_from_memory() {
    let t = Telemetry::new();
    let mut s = Scripted::new(usize::MAX, ExportError::retryable("connection refused"));
    s.body = true;
    let q = QueueConfig { num_consumers: 2, ..QueueConfig::default() };
    let e = exporter(s.clone(), q, &t);
    e.start(&Host::default()).await.unwrap();
    let cx = RequestContext::default();
    e.consume(&cx, traces(7)).await.unwrap();
    e.consume(&cx, traces(5)).await.unwrap();
    eventually("both requests retried", || s.attempts.load(Ordering::SeqCst) >= 4).await;
    e.shutdown().await;
    // The batches were let go once their bodies existed; the counts come with the outcome.
    assert_eq!(e.sender.obs.dropped(DropReason::Shutdown).get(), 12);
    assert_eq!(e.sender.obs.send_failed.get(), 12);
    assert_eq!(s.bodies.load(Ordering::SeqCst), 2, "one body per request, however many attempts");
}

#[tokio::test]
async fn a_changed_batch_waits_in_the_memory_queue_as_its_encoding_for_a_protobuf_body_sender() {
    let t = Telemetry::new();
    let cx = RequestContext::default();
    let changed = traces(3);
    assert!(!changed.is_encoded(), "the test batch is a tree, as a processor leaves it");

    let mut s = Scripted::ok();
    s.body = true;
    let e = exporter(s.clone(), QueueConfig::default(), &t);
    e.start(&Host::default()).await.unwrap();
    e.consume(&cx, changed.clone()).await.unwrap();
    eventually("delivered", || s.items() == 3).await;
    assert_eq!(s.bodies_from_bytes.load(Ordering::SeqCst), 1, "the body was compressed from the encoding");
    assert_eq!(*s.sent.lock().unwrap()[0].1.request(), *changed.request(), "the same spans arrived");

    // A sender that reads the tree (no body) gets the batch as it was queued.
    let plain = Scripted::ok();
    let e = exporter(plain.clone(), QueueConfig::default(), &t);
    e.start(&Host::default()).await.unwrap();
    e.consume(&cx, changed.clone()).await.unwrap();
    eventually("delivered", || plain.items() == 3).await;
    assert!(!plain.sent.lock().unwrap()[0].1.is_encoded(), "not encoded for a sender that does not want it");
}
