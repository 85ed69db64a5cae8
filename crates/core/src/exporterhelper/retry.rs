//! Exponential backoff with jitter, as the Collector's `retry_on_failure` computes it.

use std::time::{Duration, Instant};

use bytes::Bytes;
use rand::Rng;
use switchyard_pdata::SignalData;
use tokio_util::sync::CancellationToken;

use super::request::Outcome;
use super::{BodySender, ExportError, RetryConfig, Sender};
use crate::component::ComponentId;
use crate::consumer::RequestContext;
use crate::telemetry::{DropReason, ExporterObs, LogThrottle};

/// The backoff state of one request's retries.
pub struct Backoff {
    cfg: RetryConfig,
    current: Duration,
}

impl Backoff {
    /// Starts at `initial_interval`.
    pub fn new(cfg: &RetryConfig) -> Self {
        Backoff { cfg: cfg.clone(), current: cfg.initial_interval }
    }

    /// The next delay: the current interval with jitter, at least `throttle` if the server
    /// asked for one; the interval then grows by `multiplier` up to `max_interval`.
    pub fn next_delay(&mut self, throttle: Option<Duration>) -> Duration {
        let r = self.cfg.randomization_factor;
        let factor = if r > 0.0 { rand::rng().random_range(1.0 - r..=1.0 + r) } else { 1.0 };
        // Config validation keeps these finite; the cap guards against a server's huge Retry-After.
        const CAP: Duration = Duration::from_secs(3600);
        let jittered = self.current.mul_f64(factor).min(CAP);
        self.current = self.current.mul_f64(self.cfg.multiplier).min(self.cfg.max_interval);
        throttle.map_or(jittered, |t| t.max(jittered)).min(CAP)
    }
}

/// The retry and timeout layers around an exporter's [`Sender`], with drop accounting.
pub(crate) struct RetrySender<S: SignalData> {
    pub id: ComponentId,
    pub sender: Box<dyn Sender<S>>,
    pub retry: RetryConfig,
    /// Per-attempt deadline; zero = none.
    pub timeout: Duration,
    pub obs: ExporterObs,
    pub retry_log: LogThrottle,
    pub drop_log: LogThrottle,
}

impl<S: SignalData> RetrySender<S> {
    /// Sends until delivered, dropped, or (when `stop` fires) interrupted. After `stop`, at
    /// most one more attempt is made.
    /// A sender that delivers part of `data` leaves the rest in it; only that is retried
    /// and, if given up on, counted as dropped. A [`BodySender`] gets the body made once,
    /// and `data` is emptied as soon as the body exists (the outcome carries the count).
    pub async fn send(&self, cx: &RequestContext, data: &mut S, stop: Option<&CancellationToken>) -> Outcome {
        let mut sending = match self.sender.body_sender() {
            None => Sending::Batch(data),
            Some(b) => {
                let items = data.item_count() as u64;
                match b.encode_body(data) {
                    Ok(body) => {
                        // The body carries the whole batch: holding both while the request is
                        // in flight would cost the batch's size again per consumer.
                        *data = S::from_request(S::Request::default());
                        Sending::Body { sender: b, body, items }
                    }
                    Err(e) => return self.dropped(items, ExportError::permanent(e), DropReason::PermanentError),
                }
            }
        };
        let started = Instant::now();
        let mut backoff = Backoff::new(&self.retry);
        loop {
            let before = sending.items();
            let attempt = match &mut sending {
                Sending::Batch(data) => self.sender.send_partial(cx, data),
                Sending::Body { sender, body, .. } => sender.send_body(cx, body.clone()),
            };
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
                    self.obs.sent.add(before);
                    return Outcome::Delivered;
                }
                Err(e) => e,
            };
            let items = sending.items();
            self.obs.sent.add(before.saturating_sub(items));
            let throttle = match &err {
                ExportError::Permanent { .. } => return self.dropped(items, err, DropReason::PermanentError),
                ExportError::Retryable { throttle, .. } => *throttle,
            };
            if !self.retry.enabled {
                return self.dropped(items, err, DropReason::RetryDisabled);
            }
            if stop.is_some_and(CancellationToken::is_cancelled) {
                return Outcome::Interrupted(err, items);
            }
            let delay = backoff.next_delay(throttle);
            let max = self.retry.max_elapsed_time;
            if !max.is_zero() && started.elapsed().saturating_add(delay) > max {
                return self.dropped(items, err, DropReason::RetriesExhausted);
            }
            if let Some(held_back) = self.retry_log.allow() {
                tracing::warn!(exporter = %self.id, error = %err, interval = ?delay, similar_since_last_report = held_back,
                    "Exporting failed. Will retry the request after interval.");
            }
            match stop {
                Some(stop) => {
                    tokio::select! {
                        _ = tokio::time::sleep(delay) => {}
                        // Shutting down: one last attempt now.
                        _ = stop.cancelled() => {}
                    }
                }
                None => tokio::time::sleep(delay).await,
            }
        }
    }

    /// Counts and logs data given up on, and says so.
    fn dropped(&self, items: u64, err: ExportError, reason: DropReason) -> Outcome {
        self.obs.send_failed.add(items);
        self.obs.dropped(reason).add(items);
        if let Some(held_back) = self.drop_log.allow() {
            tracing::error!(exporter = %self.id, error = %err, reason = reason.as_str(), dropped_items = items,
                similar_since_last_report = held_back, "Exporting failed. Dropping data.");
        }
        Outcome::Dropped(err)
    }
}

/// What each attempt of one request sends.
enum Sending<'a, S: SignalData> {
    /// The batch, which a partial sender trims to what is still unsent.
    Batch(&'a mut S),
    /// The body made once from the batch, and how many items it holds.
    Body { sender: &'a dyn BodySender<S>, body: Bytes, items: u64 },
}

impl<S: SignalData> Sending<'_, S> {
    fn items(&self) -> u64 {
        match self {
            Sending::Batch(data) => data.item_count() as u64,
            Sending::Body { items, .. } => *items,
        }
    }
}
