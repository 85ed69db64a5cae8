//! The exporter the pipeline sees: queue → (batch) → retry → timeout → [`Sender`].
//!
//! The queue decouples the pipeline from the backend, so a slow or dead backend fills its
//! own queue (then blocks or refuses, as configured) and never slows another exporter.

use std::sync::{Arc, OnceLock};
use std::time::Duration;

use futures::future::BoxFuture;
use switchyard_pdata::SignalData;
use tokio::sync::{oneshot, Mutex, OwnedSemaphorePermit, Semaphore};
use tokio_util::sync::CancellationToken;

use super::batcher::{self, Batching};
use super::memory_queue::MemoryQueue;
use super::persistent_queue::PersistentQueue;
use super::request::{Done, Outcome, Queued};
use super::retry::RetrySender;
use super::{ExportError, PushError, QueueConfig, RetryConfig, Sender, Sizer};
use crate::component::{Component, ComponentId, Host, StartError};
use crate::consumer::{ConsumeError, Consumer, RequestContext};
use crate::storage::{queue_name, Capacity, WalError};
use crate::telemetry::{DropReason, ExporterObs, LogThrottle};

pub(super) enum Queue<S: SignalData> {
    Memory(MemoryQueue<S>),
    Persistent(PersistentQueue<S>),
}

impl<S: SignalData> Queue<S> {
    pub(super) async fn pop(&self, stop: &CancellationToken) -> Option<Queued<S>> {
        match self {
            Queue::Memory(q) => {
                tokio::select! {
                    biased;
                    q = q.pop() => q,
                    _ = stop.cancelled() => None,
                }
            }
            Queue::Persistent(q) => q.pop(stop).await,
        }
    }
}

/// An exporter with the Collector's exporter helper around its [`Sender`]. Consumer on the
/// pipeline side; component for start (opens the queue, spawns the workers) and shutdown.
pub struct QueuedExporter<S: SignalData> {
    pub(super) sender: Arc<RetrySender<S>>,
    cfg: QueueConfig,
    pub(super) queue: OnceLock<Arc<Queue<S>>>,
    dispatcher: Mutex<Option<tokio::task::JoinHandle<()>>>,
    stop: CancellationToken,
    refuse_log: LogThrottle,
}

impl<S: SignalData> QueuedExporter<S> {
    /// Wraps `sender` with the configured queue, retry and per-attempt timeout (0 = none).
    pub fn new(
        id: ComponentId,
        sender: impl Sender<S>,
        queue: QueueConfig,
        retry: RetryConfig,
        timeout: Duration,
        obs: ExporterObs,
    ) -> Self {
        obs.queue_capacity.set(if queue.enabled { queue.queue_size.min(i64::MAX as u64) as i64 } else { 0 });
        let memory = (queue.enabled && queue.storage.is_none()).then(|| {
            Arc::new(Queue::Memory(MemoryQueue::new(
                queue.queue_size,
                queue.block_on_overflow,
                obs.queue_size.clone(),
                obs.memory.clone(),
            )))
        });
        let sender = Arc::new(RetrySender {
            id,
            sender: Box::new(sender),
            retry,
            timeout,
            obs,
            retry_log: LogThrottle::default(),
            drop_log: LogThrottle::default(),
        });
        let q = QueuedExporter {
            sender,
            cfg: queue,
            queue: OnceLock::new(),
            dispatcher: Mutex::new(None),
            stop: CancellationToken::new(),
            refuse_log: LogThrottle::default(),
        };
        if let Some(m) = memory {
            let _ = q.queue.set(m);
        }
        q
    }

    fn size_of(&self, data: &S) -> u64 {
        match self.cfg.sizer() {
            Sizer::Requests => 1,
            Sizer::Items => data.item_count() as u64,
            Sizer::Bytes => data.encoded_len() as u64,
        }
    }

    /// Opens the persistent queue through the storage extension named in `storage`.
    fn open_persistent(&self, host: &Host, storage: &str) -> Result<Queue<S>, StartError> {
        let id = &self.sender.id;
        let ext_id = ComponentId::parse(storage)
            .map_err(|e| StartError::new(format!("exporter \"{id}\": sending_queue::storage: {e}")))?;
        let ext = host.extension(&ext_id).ok_or_else(|| {
            StartError::new(format!(
                "exporter \"{id}\": no storage client extension found: \"{ext_id}\" is not configured in `extensions:` or not enabled in `service::extensions`"
            ))
        })?;
        let storage = ext.queue_storage().ok_or_else(|| {
            StartError::new(format!("exporter \"{id}\": requested extension \"{ext_id}\" is not a storage extension"))
        })?;
        let cap = self.cfg.queue_size;
        let capacity = match self.cfg.sizer() {
            Sizer::Requests => Capacity::Records(cap),
            Sizer::Items => Capacity::Items(cap),
            Sizer::Bytes => Capacity::DiskBytes(cap),
        };
        let name = queue_name("exporter", id.ty(), id.name().unwrap_or(""), S::SIGNAL.as_str());
        let (wal, recovered) = storage.open_queue(&name, capacity).map_err(|e: WalError| {
            StartError::new(format!("exporter \"{id}\": cannot open the persistent queue: {e}"))
        })?;
        let fsync = storage.fsync();
        let obs = self.sender.obs.clone();
        let sizer = self.cfg.sizer();
        Ok(Queue::Persistent(PersistentQueue::new(
            id.clone(),
            wal,
            &recovered,
            fsync,
            sizer,
            self.cfg.block_on_overflow,
            obs,
        )))
    }

    fn refused(&self, items: u64, why: &str) -> ConsumeError {
        let obs = &self.sender.obs;
        obs.enqueue_failed.add(items);
        if let Some(held_back) = self.refuse_log.allow() {
            tracing::warn!(exporter = %self.sender.id, refused_items = items, similar_since_last_report = held_back,
                "Refusing data: {why}. The client is told to retry.");
        }
        ConsumeError::retryable(format!("exporter \"{}\": {why}", self.sender.id))
    }
}

fn to_consume_error(e: ExportError) -> ConsumeError {
    match e {
        ExportError::Permanent { message } => ConsumeError::Permanent { message },
        ExportError::Retryable { message, .. } => ConsumeError::retryable(message),
    }
}

impl<S: SignalData> Consumer<S> for QueuedExporter<S> {
    fn consume<'a>(&'a self, cx: &'a RequestContext, data: S) -> BoxFuture<'a, Result<(), ConsumeError>> {
        Box::pin(async move {
            let items = data.item_count() as u64;
            if !self.cfg.enabled {
                let mut data = data;
                return match self.sender.send(cx, &mut data, None).await {
                    Outcome::Delivered => Ok(()),
                    Outcome::Dropped(e) | Outcome::Interrupted(e, _) => Err(to_consume_error(e)),
                };
            }
            let Some(queue) = self.queue.get() else {
                return Err(ConsumeError::retryable(format!("exporter \"{}\" is not started", self.sender.id)));
            };
            let size = self.size_of(&data);
            if size == 0 {
                return Ok(()); // an empty envelope: nothing to send
            }
            let (waiter, result) = if self.cfg.wait_for_result {
                let (tx, rx) = oneshot::channel();
                (Done::Waiter(tx), Some(rx))
            } else {
                (Done::Nothing, None)
            };
            let pushed = match &**queue {
                Queue::Memory(q) => {
                    let mut data = data;
                    if self.sender.sender.body_sender().is_some_and(|b| b.reads_protobuf()) {
                        // Waiting as its encoding, a changed batch takes a quarter of the tree's memory.
                        data.encode_in_place();
                    }
                    q.push(Queued { data, cx: cx.clone(), done: vec![waiter] }, size).await
                }
                Queue::Persistent(q) => q.push(cx, &data).await,
            };
            match pushed {
                Ok(()) => {}
                Err(PushError::Full(m)) => return Err(self.refused(items, &format!("sending queue is full: {m}"))),
                Err(PushError::Closed) => return Err(self.refused(items, "sending queue is closed (shutting down)")),
                Err(PushError::Storage(m)) => {
                    return Err(self.refused(items, &format!("persistent queue cannot store the data: {m}")))
                }
                Err(PushError::TooLarge(m)) => {
                    self.sender.obs.enqueue_failed.add(items);
                    return Err(ConsumeError::permanent(format!(
                        "exporter \"{}\": request is larger than the whole sending queue ({m})",
                        self.sender.id
                    )));
                }
            }
            match result {
                None => Ok(()),
                Some(rx) => match rx.await {
                    Ok(r) => r.map_err(to_consume_error),
                    Err(_) => Err(ConsumeError::retryable("exporter stopped before the data was sent")),
                },
            }
        })
    }
}

impl<S: SignalData> Component for QueuedExporter<S> {
    fn start<'a>(&'a self, host: &'a Host) -> BoxFuture<'a, Result<(), StartError>> {
        Box::pin(async move {
            self.sender
                .sender
                .start(host)
                .map_err(|e| StartError::new(format!("exporter \"{}\": {e}", self.sender.id)))?;
            if !self.cfg.enabled {
                return Ok(());
            }
            if let Some(storage) = &self.cfg.storage {
                let q = self.open_persistent(host, storage)?;
                let _ = self.queue.set(Arc::new(q));
            }
            let Some(queue) = self.queue.get().cloned() else { return Ok(()) };
            let mut dispatcher = self.dispatcher.lock().await;
            if dispatcher.is_none() {
                let batching = Batching::new(&self.cfg, S::SIGNAL);
                let d = Dispatcher {
                    queue,
                    sender: self.sender.clone(),
                    workers: Arc::new(Semaphore::new(self.cfg.num_consumers.max(1))),
                    num_workers: self.cfg.num_consumers.max(1) as u32,
                    batching,
                    stop: self.stop.clone(),
                };
                *dispatcher = Some(tokio::spawn(d.run()));
            }
            Ok(())
        })
    }

    /// In memory: sends what is queued (one attempt each, no more retries). Persistent: what
    /// is not sent stays on disk for the next start.
    fn shutdown(&self) -> BoxFuture<'_, ()> {
        Box::pin(async move {
            if let Some(q) = self.queue.get() {
                match &**q {
                    Queue::Memory(m) => m.close(),
                    Queue::Persistent(p) => p.close(),
                }
            }
            self.stop.cancel();
            if let Some(h) = self.dispatcher.lock().await.take() {
                let _ = h.await;
            }
        })
    }
}

/// Takes requests off the queue and sends them with up to `num_consumers` at once.
struct Dispatcher<S: SignalData> {
    queue: Arc<Queue<S>>,
    sender: Arc<RetrySender<S>>,
    workers: Arc<Semaphore>,
    num_workers: u32,
    batching: Option<Batching>,
    stop: CancellationToken,
}

impl<S: SignalData> Dispatcher<S> {
    async fn run(self) {
        let mut carry = None;
        loop {
            let Ok(permit) = self.workers.clone().acquire_owned().await else { break };
            let first = match carry.take() {
                Some(q) => Some(q),
                None => self.queue.pop(&self.stop).await,
            };
            let Some(first) = first else { break };
            let (batch, rest) = match &self.batching {
                Some(b) => batcher::gather(b, first, &self.queue, &self.stop).await,
                None => (first, None),
            };
            carry = rest;
            self.spawn_send(batch, permit);
        }
        // Shutdown. In memory, what is left would be lost: send it (one attempt each).
        if let Queue::Memory(m) = &*self.queue {
            for q in carry.into_iter() {
                if let Ok(permit) = self.workers.clone().acquire_owned().await {
                    self.spawn_send(q, permit);
                }
            }
            while let Some(q) = m.try_pop().await {
                let Ok(permit) = self.workers.clone().acquire_owned().await else { break };
                self.spawn_send(q, permit);
            }
        }
        // Wait for in-flight sends.
        let _ = self.workers.acquire_many(self.num_workers).await;
    }

    fn spawn_send(&self, batch: Queued<S>, permit: OwnedSemaphorePermit) {
        let sender = self.sender.clone();
        let stop = self.stop.clone();
        let max = self.batching.as_ref().map(|b| (b.max_size, b.sizer));
        let persistent = matches!(&*self.queue, Queue::Persistent(_));
        tokio::spawn(async move {
            for mut part in batcher::split(batch, max) {
                let outcome = sender.send(&part.cx, &mut part.data, Some(&stop)).await;
                if let (Outcome::Interrupted(e, items), false) = (&outcome, persistent) {
                    let items = *items;
                    sender.obs.send_failed.add(items);
                    sender.obs.dropped(DropReason::Shutdown).add(items);
                    tracing::error!(exporter = %sender.id, error = %e, dropped_items = items,
                        "Exporting failed at shutdown and the queue is in memory. Dropping data.");
                }
                part.complete(&outcome);
            }
            drop(permit);
        });
    }
}
