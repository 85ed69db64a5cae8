//! The sending queue: a bounded in-memory queue per exporter and signal, drained by
//! `num_consumers` concurrent senders. It decouples the pipeline from the backend, so a
//! slow or dead backend fills its own queue and never slows another exporter.

use std::sync::Arc;
use std::time::{Duration, Instant};

use futures::future::BoxFuture;
use switchyard_pdata::SignalData;
use tokio::sync::{mpsc, Mutex, Semaphore};
use tokio_util::sync::CancellationToken;

use super::{Backoff, ExportError, QueueConfig, RetryConfig, Sender};
use crate::component::{Component, ComponentId, Host, StartError};
use crate::consumer::{ConsumeError, Consumer, RequestContext};
use crate::telemetry::ExporterObs;

/// An exporter: queue → retry → timeout → [`Sender`]. Consumer on the pipeline side,
/// component for start (spawns the workers) and shutdown (drains the queue).
pub struct QueuedExporter<S: SignalData> {
    inner: Arc<Inner<S>>,
    queue: QueueConfig,
    tx: mpsc::Sender<S>,
    rx: Mutex<Option<mpsc::Receiver<S>>>,
    dispatcher: Mutex<Option<tokio::task::JoinHandle<()>>>,
    stop: CancellationToken,
}

struct Inner<S: SignalData> {
    id: ComponentId,
    sender: Box<dyn Sender<S>>,
    retry: RetryConfig,
    timeout: Duration,
    obs: ExporterObs,
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
        let (tx, rx) = mpsc::channel(queue.queue_size.max(1));
        obs.queue_capacity.set(if queue.enabled { queue.queue_size as i64 } else { 0 });
        QueuedExporter {
            inner: Arc::new(Inner { id, sender: Box::new(sender), retry, timeout, obs }),
            queue,
            tx,
            rx: Mutex::new(Some(rx)),
            dispatcher: Mutex::new(None),
            stop: CancellationToken::new(),
        }
    }
}

impl<S: SignalData> Inner<S> {
    /// Sends with retries; returns the final error if the data was not delivered.
    async fn send_with_retry(&self, data: &S, stop: Option<&CancellationToken>) -> Result<(), ExportError> {
        let items = data.item_count() as u64;
        let started = Instant::now();
        let mut backoff = Backoff::new(&self.retry);
        loop {
            let attempt = self.sender.send(data);
            let result = if self.timeout.is_zero() {
                attempt.await
            } else {
                match tokio::time::timeout(self.timeout, attempt).await {
                    Ok(r) => r,
                    Err(_) => Err(ExportError::retryable(format!("request timed out after {:?}", self.timeout))),
                }
            };
            let err = match result {
                Ok(()) => {
                    self.obs.sent.add(items);
                    return Ok(());
                }
                Err(e) => e,
            };
            let throttle = match &err {
                ExportError::Permanent { .. } => return self.dropped(items, err, "permanent error"),
                ExportError::Retryable { throttle, .. } => *throttle,
            };
            if !self.retry.enabled {
                return self.dropped(items, err, "retry disabled");
            }
            if stop.is_some_and(CancellationToken::is_cancelled) {
                // In-memory data cannot outlive the process; persistent queues keep it.
                return self.dropped(items, err, "shutting down");
            }
            let delay = backoff.next_delay(throttle);
            let max = self.retry.max_elapsed_time;
            if !max.is_zero() && started.elapsed().saturating_add(delay) > max {
                return self.dropped(items, err, "retries exhausted");
            }
            tracing::warn!(exporter = %self.id, error = %err, interval = ?delay, "Exporting failed. Will retry the request after interval.");
            match stop {
                Some(stop) => {
                    tokio::select! {
                        _ = tokio::time::sleep(delay) => {}
                        // Shutting down: one last attempt now, then give up (checked above).
                        _ = stop.cancelled() => {}
                    }
                }
                None => tokio::time::sleep(delay).await,
            }
        }
    }

    fn dropped(&self, items: u64, err: ExportError, reason: &str) -> Result<(), ExportError> {
        self.obs.send_failed.add(items);
        tracing::error!(exporter = %self.id, error = %err, reason, dropped_items = items, "Exporting failed. Dropping data.");
        Err(err)
    }
}

impl<S: SignalData> Consumer<S> for QueuedExporter<S> {
    fn consume<'a>(&'a self, _cx: &'a RequestContext, data: S) -> BoxFuture<'a, Result<(), ConsumeError>> {
        Box::pin(async move {
            let items = data.item_count() as u64;
            if !self.queue.enabled {
                return self.inner.send_with_retry(&data, None).await.map_err(|e| match e {
                    ExportError::Permanent { message } => ConsumeError::Permanent { message },
                    ExportError::Retryable { message, .. } => ConsumeError::retryable(message),
                });
            }
            let result = if self.queue.block_on_overflow {
                self.tx.send(data).await.map_err(|_| "sending queue is closed (shutting down)")
            } else {
                self.tx.try_send(data).map_err(|e| match e {
                    mpsc::error::TrySendError::Full(_) => "sending queue is full",
                    mpsc::error::TrySendError::Closed(_) => "sending queue is closed (shutting down)",
                })
            };
            match result {
                Ok(()) => {
                    self.inner.obs.queue_size.add(1);
                    Ok(())
                }
                Err(why) => {
                    self.inner.obs.enqueue_failed.add(items);
                    tracing::warn!(exporter = %self.inner.id, dropped_items = items, "Refusing data: {why}.");
                    Err(ConsumeError::retryable(format!("exporter \"{}\": {why}", self.inner.id)))
                }
            }
        })
    }
}

impl<S: SignalData> Component for QueuedExporter<S> {
    fn start<'a>(&'a self, _host: &'a Host) -> BoxFuture<'a, Result<(), StartError>> {
        Box::pin(async move {
            let Some(mut rx) = self.rx.lock().await.take() else {
                return Ok(());
            };
            let inner = self.inner.clone();
            let workers = Arc::new(Semaphore::new(self.queue.num_consumers.max(1)));
            let n = self.queue.num_consumers.max(1) as u32;
            let stop = self.stop.clone();
            let handle = tokio::spawn(async move {
                loop {
                    let next = tokio::select! {
                        biased;
                        item = rx.recv() => item,
                        _ = stop.cancelled() => { rx.close(); rx.recv().await }
                    };
                    let Some(data) = next else { break };
                    inner.obs.queue_size.add(-1);
                    let Ok(permit) = workers.clone().acquire_owned().await else {
                        break;
                    };
                    let inner = inner.clone();
                    let stop = stop.clone();
                    tokio::spawn(async move {
                        let _ = inner.send_with_retry(&data, Some(&stop)).await;
                        drop(permit);
                    });
                }
                // Wait for in-flight sends.
                let _ = workers.acquire_many(n).await;
            });
            *self.dispatcher.lock().await = Some(handle);
            Ok(())
        })
    }

    fn shutdown(&self) -> BoxFuture<'_, ()> {
        Box::pin(async move {
            self.stop.cancel();
            if let Some(h) = self.dispatcher.lock().await.take() {
                let _ = h.await;
            }
        })
    }
}
