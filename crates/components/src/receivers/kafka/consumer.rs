//! One signal's consumer: a librdkafka consumer in the group, and the task that hands its
//! messages to the pipeline one at a time, in order.
//!
//! At-least-once: librdkafka commits (in the background, `autocommit`) only the offsets this
//! task stores, and it stores a message's offset only once the pipeline has accepted it, or
//! has refused it for good and `message_marking` says to skip it, or the message cannot be
//! decoded (counted, logged, skipped: a poison message must not stop the partition). A
//! message the pipeline refuses for now (queue full, memory limiter) is kept and offered
//! again after a backoff; meanwhile nothing else is consumed. When that lasts, every
//! partition is paused and the consumer is still polled, so the group session, rebalances
//! and `max.poll.interval.ms` are served while no message is fetched. After a crash the
//! messages since the last commit are delivered again (duplicates, never losses).

use std::collections::{HashMap, VecDeque};
use std::future::Future;
use std::sync::Arc;
use std::time::{Duration, Instant};

use rdkafka::client::ClientContext;
use rdkafka::config::RDKafkaLogLevel;
use rdkafka::consumer::{BaseConsumer, CommitMode, Consumer, ConsumerContext, Rebalance, StreamConsumer};
use rdkafka::error::{KafkaError, RDKafkaErrorCode};
use rdkafka::message::{Headers, Message, OwnedMessage};
use rdkafka::TopicPartitionList;
use switchyard_core::component::ComponentId;
use switchyard_core::consumer::{ConsumeError, DynConsumer};
use switchyard_core::exporterhelper::{Backoff, RetryConfig};
use switchyard_core::telemetry::{Counter, Gauge, LogThrottle, ReceiverObs, Telemetry};
use switchyard_pdata::Signal;
use tokio_util::sync::CancellationToken;

use super::config::{KafkaReceiverConfig, MessageMarkingConfig, ReceiveEncoding};
use super::decode::{decode, extract_headers, request_context, ReceiveSignal};
use crate::kafka_client::KafkaLogContext;

/// Messages skipped without the pipeline accepting them, by `reason` (`undecodable`,
/// `permanent_error`, `retries_exhausted`).
pub const SKIPPED_MESSAGES: &str = "switchyard_receiver_kafka_skipped_messages";
/// 1 while the consumer of a signal has paused its partitions because the pipeline pushes back.
pub const PAUSED: &str = "switchyard_receiver_kafka_paused";
/// Partitions held at a message the pipeline refused for good (`message_marking`).
pub const BLOCKED_PARTITIONS: &str = "switchyard_receiver_kafka_blocked_partitions";

/// A refusal that lasts longer than this pauses the partitions (shorter ones just wait).
const PAUSE_AFTER: Duration = Duration::from_secs(1);
/// At shutdown, a message being handed to the pipeline gets this long to be accepted
/// (else it is not marked, and is delivered again after the restart).
const SHUTDOWN_GRACE: Duration = Duration::from_secs(5);

/// The librdkafka context of a receiver's consumer: logs to `tracing`, and with
/// `autocommit.enable: false` commits stored offsets before partitions are taken away.
pub struct ReceiverContext {
    log: KafkaLogContext,
    id: String,
    signal: Signal,
    commit_on_revoke: bool,
}

impl ReceiverContext {
    /// For the receiver `id`'s consumer of `signal`.
    pub fn new(id: &str, signal: Signal, commit_on_revoke: bool) -> Self {
        ReceiverContext { log: KafkaLogContext::new(id), id: id.to_string(), signal, commit_on_revoke }
    }
}

fn describe(tpl: &TopicPartitionList) -> String {
    tpl.elements().iter().map(|e| format!("{}/{}", e.topic(), e.partition())).collect::<Vec<_>>().join(", ")
}

impl ClientContext for ReceiverContext {
    fn log(&self, level: RDKafkaLogLevel, fac: &str, log_message: &str) {
        self.log.log(level, fac, log_message);
    }
    fn error(&self, error: KafkaError, reason: &str) {
        self.log.error(error, reason);
    }
}

impl ConsumerContext for ReceiverContext {
    fn pre_rebalance(&self, base: &BaseConsumer<Self>, rebalance: &Rebalance<'_>) {
        if let Rebalance::Revoke(tpl) = rebalance {
            tracing::info!(receiver = %self.id, signal = %self.signal, partitions = %describe(tpl), "Kafka partitions revoked.");
            // librdkafka keeps an application pause on the partition object across
            // assignments: a partition paused here and assigned back later would never be
            // fetched again. Resumed now, it comes back fetching from its committed offset.
            if let Err(e) = base.resume(tpl) {
                tracing::debug!(receiver = %self.id, error = %e, "Resuming revoked partitions failed.");
            }
            if self.commit_on_revoke {
                if let Err(e) = base.commit_consumer_state(CommitMode::Sync) {
                    if e.rdkafka_error_code() != Some(RDKafkaErrorCode::NoOffset) {
                        tracing::warn!(receiver = %self.id, error = %e, "Committing offsets before a rebalance failed.");
                    }
                }
            }
        }
    }

    fn post_rebalance(&self, _base: &BaseConsumer<Self>, rebalance: &Rebalance<'_>) {
        match rebalance {
            Rebalance::Assign(tpl) => tracing::info!(
                receiver = %self.id, signal = %self.signal, partitions = %describe(tpl), "Kafka partitions assigned."
            ),
            Rebalance::Error(e) => tracing::warn!(receiver = %self.id, error = %e, "Kafka rebalance failed."),
            Rebalance::Revoke(_) => {}
        }
    }
}

/// The consumer type of the receiver.
pub type KafkaConsumer = StreamConsumer<ReceiverContext>;

/// Counters and gauges of one signal's consumer.
pub struct WorkerObs {
    /// Accepted / refused items.
    pub receiver: ReceiverObs,
    undecodable: Counter,
    skipped_permanent: Counter,
    skipped_exhausted: Counter,
    paused: Gauge,
    blocked: Gauge,
}

impl WorkerObs {
    /// Registers (or finds) the metrics of `receiver` for `signal`.
    pub fn new(t: &Telemetry, id: &ComponentId, signal: Signal) -> WorkerObs {
        let receiver = id.to_string();
        let receiver = receiver.as_str();
        let skipped = |reason: &str| {
            t.metrics.counter(
                SKIPPED_MESSAGES,
                "Kafka messages marked as consumed without the pipeline accepting them, by reason.",
                &[("receiver", receiver), ("data_type", signal.as_str()), ("reason", reason)],
            )
        };
        let l = [("receiver", receiver), ("data_type", signal.as_str())];
        WorkerObs {
            receiver: ReceiverObs::new(t, id, "kafka"),
            undecodable: skipped("undecodable"),
            skipped_permanent: skipped("permanent_error"),
            skipped_exhausted: skipped("retries_exhausted"),
            paused: t.metrics.gauge(
                PAUSED,
                "1 while the Kafka consumer is paused because the pipeline pushes back.",
                &l,
            ),
            blocked: t.metrics.gauge(
                BLOCKED_PARTITIONS,
                "Kafka partitions held at a message the pipeline refused for good.",
                &l,
            ),
        }
    }
}

/// What a worker needs from the config.
pub struct WorkerOptions {
    /// The receiver id.
    pub id: String,
    /// Message encoding.
    pub encoding: ReceiveEncoding,
    /// Headers copied into resource attributes (empty: none).
    pub extract_headers: Vec<String>,
    /// What to do with refused messages.
    pub marking: MessageMarkingConfig,
    /// Backoff between retries of a refused message.
    pub backoff: RetryConfig,
    /// Whether `backoff.max_elapsed_time` can end the retries (`error_backoff.enabled`).
    pub backoff_can_expire: bool,
    /// Commit after every stored offset (`autocommit.enable: false`).
    pub manual_commit: bool,
    /// The subscribed topics (for error messages).
    pub topics: Vec<String>,
}

impl WorkerOptions {
    /// From the receiver config, for `signal`.
    pub fn new(id: &str, cfg: &KafkaReceiverConfig, signal: Signal) -> Result<Self, String> {
        Ok(WorkerOptions {
            id: id.to_string(),
            encoding: cfg.encoding_for(signal)?,
            extract_headers: if cfg.header_extraction.extract_headers {
                cfg.header_extraction.headers.clone()
            } else {
                Vec::new()
            },
            marking: cfg.message_marking.clone(),
            backoff: cfg.error_backoff.effective(),
            backoff_can_expire: cfg.error_backoff.enabled,
            manual_commit: !cfg.autocommit.enable,
            topics: cfg.topics_for(signal),
        })
    }
}

/// Hands one signal's messages to the pipeline.
pub struct Worker<S: ReceiveSignal> {
    consumer: Arc<KafkaConsumer>,
    out: DynConsumer<S>,
    opts: WorkerOptions,
    obs: WorkerObs,
    stop: CancellationToken,
    /// Messages received while paused, to handle (in order) before polling again.
    pending: VecDeque<OwnedMessage>,
    paused: bool,
    /// Partitions held at an offset (refused for good, not skipped).
    blocked: HashMap<(String, i32), i64>,
    refused_log: LogThrottle,
    poll_log: LogThrottle,
    skip_log: LogThrottle,
}

/// How handling a message ended.
enum Flow {
    Next,
    Stop,
}

impl<S: ReceiveSignal> Worker<S> {
    /// A worker over a subscribed consumer.
    pub fn new(
        consumer: Arc<KafkaConsumer>,
        out: DynConsumer<S>,
        opts: WorkerOptions,
        obs: WorkerObs,
        stop: CancellationToken,
    ) -> Self {
        Worker {
            consumer,
            out,
            opts,
            obs,
            stop,
            pending: VecDeque::new(),
            paused: false,
            blocked: HashMap::new(),
            refused_log: LogThrottle::default(),
            poll_log: LogThrottle::default(),
            skip_log: LogThrottle::default(),
        }
    }

    /// Consumes until `stop`; then commits the stored offsets and leaves the group.
    pub async fn run(mut self) {
        loop {
            if self.stop.is_cancelled() {
                break;
            }
            let msg = match self.pending.pop_front() {
                Some(m) => m,
                None => {
                    if self.paused {
                        self.resume_all();
                    }
                    let consumer = self.consumer.clone();
                    tokio::select! {
                        biased;
                        _ = self.stop.cancelled() => break,
                        r = consumer.recv() => match r {
                            Ok(m) => m.detach(),
                            Err(e) => {
                                self.poll_error(&e);
                                continue;
                            }
                        },
                    }
                }
            };
            if let Flow::Stop = self.handle(msg).await {
                break;
            }
        }
        self.obs.paused.set(0);
        let consumer = self.consumer;
        let id = self.opts.id;
        // Commit and close block (a round trip each): off the async workers.
        let _ = tokio::task::spawn_blocking(move || {
            if let Err(e) = consumer.commit_consumer_state(CommitMode::Sync) {
                if e.rdkafka_error_code() != Some(RDKafkaErrorCode::NoOffset) {
                    tracing::warn!(receiver = %id, error = %e, "Committing Kafka offsets at shutdown failed; messages since the last commit will be delivered again.");
                }
            }
            // Dropping the last handle closes the consumer: it leaves the group.
            drop(consumer);
        })
        .await;
    }

    async fn handle(&mut self, msg: OwnedMessage) -> Flow {
        let tp = (msg.topic().to_string(), msg.partition());
        if self.blocked.remove(&tp).is_some() {
            // Held partitions are paused: a message from one means it was assigned afresh
            // (it starts again from the committed offset).
            self.obs.blocked.set(self.blocked.len() as i64);
        }
        let headers: Vec<(String, Vec<u8>)> = msg
            .headers()
            .map(|h| h.iter().map(|h| (h.key.to_string(), h.value.unwrap_or_default().to_vec())).collect())
            .unwrap_or_default();
        let mut data = match decode::<S>(self.opts.encoding, msg.payload().unwrap_or_default()) {
            Ok(r) => r,
            Err(e) => {
                self.obs.undecodable.add(1);
                if let Some(suppressed) = self.skip_log.allow() {
                    tracing::warn!(receiver = %self.opts.id, topic = msg.topic(), partition = msg.partition(),
                        offset = msg.offset(), error = %e, suppressed, "Skipping a Kafka message that cannot be decoded.");
                }
                self.store(&msg);
                return Flow::Next;
            }
        };
        if !self.opts.extract_headers.is_empty() {
            let missing = extract_headers::<S>(data.make_mut(), &self.opts.extract_headers, &headers);
            if !missing.is_empty() {
                tracing::debug!(receiver = %self.opts.id, ?missing, "Headers to extract not in the message.");
            }
        }
        let items = data.item_count();
        if items == 0 {
            self.store(&msg);
            return Flow::Next;
        }
        let cx = request_context(&headers);
        let mut backoff = Backoff::new(&self.opts.backoff);
        let started = Instant::now();
        let pause_at = tokio::time::Instant::now() + PAUSE_AFTER;
        // Refusals of one message are counted once, not at every offer.
        let mut refusal_counted = false;
        loop {
            let out = self.out.clone();
            let Some(result) = self.wait(out.consume(&cx, data.clone()), pause_at, SHUTDOWN_GRACE).await else {
                return Flow::Stop;
            };
            if result.is_ok() || !refusal_counted {
                self.obs.receiver.record(S::SIGNAL, items, result.is_ok());
            }
            refusal_counted |= result.is_err();
            let (message, retry_after) = match result {
                Ok(()) => {
                    self.store(&msg);
                    return Flow::Next;
                }
                Err(ConsumeError::Permanent { message }) => {
                    if self.opts.marking.skip_permanent() {
                        self.obs.skipped_permanent.add(1);
                        if let Some(suppressed) = self.skip_log.allow() {
                            tracing::warn!(receiver = %self.opts.id, topic = msg.topic(), partition = msg.partition(),
                                offset = msg.offset(), items, error = %message, suppressed,
                                "The pipeline refused a Kafka message for good; skipping it.");
                        }
                        self.store(&msg);
                    } else {
                        self.block(&msg, &message);
                    }
                    return Flow::Next;
                }
                Err(ConsumeError::Retryable { message, retry_after }) => (message, retry_after),
                Err(ConsumeError::Throttled { message, retry_after }) => (message, Some(retry_after)),
            };
            let max = self.opts.backoff.max_elapsed_time;
            if self.opts.backoff_can_expire && !max.is_zero() && started.elapsed() >= max {
                if self.opts.marking.skip_exhausted() {
                    self.obs.skipped_exhausted.add(1);
                    tracing::warn!(receiver = %self.opts.id, topic = msg.topic(), partition = msg.partition(),
                        offset = msg.offset(), items, error = %message,
                        "The pipeline still refuses a Kafka message after error_backoff.max_elapsed_time; skipping it (message_marking.on_error).");
                    self.store(&msg);
                    return Flow::Next;
                }
                if let Some(suppressed) = self.refused_log.allow() {
                    tracing::warn!(receiver = %self.opts.id, error = %message, suppressed,
                        "error_backoff.max_elapsed_time has passed; still retrying (set message_marking.after and on_error to skip instead).");
                }
            }
            let delay = backoff.next_delay(retry_after);
            if let Some(suppressed) = self.refused_log.allow() {
                tracing::info!(receiver = %self.opts.id, topic = msg.topic(), partition = msg.partition(),
                    offset = msg.offset(), error = %message, delay = ?delay, suppressed,
                    "The pipeline refused a Kafka message for now; retrying it.");
            }
            if self.wait(tokio::time::sleep(delay), pause_at, Duration::ZERO).await.is_none() {
                return Flow::Stop;
            }
        }
    }

    /// Awaits `fut` while keeping the consumer alive: from `pause_at` (the message has
    /// been waiting for the pipeline for [`PAUSE_AFTER`]) every partition is paused and the
    /// consumer polled (rebalances, session, `max.poll.interval.ms`). `None` if the receiver
    /// stops first (after `grace`).
    async fn wait<F: Future>(&mut self, fut: F, pause_at: tokio::time::Instant, grace: Duration) -> Option<F::Output> {
        tokio::pin!(fut);
        let mut deadline: Option<tokio::time::Instant> = None;
        let far = tokio::time::Instant::now() + Duration::from_secs(86_400 * 365);
        let consumer = self.consumer.clone();
        let stop = self.stop.clone();
        loop {
            tokio::select! {
                biased;
                out = &mut fut => return Some(out),
                _ = stop.cancelled(), if deadline.is_none() => {
                    if grace.is_zero() {
                        return None;
                    }
                    deadline = Some(tokio::time::Instant::now() + grace);
                }
                _ = tokio::time::sleep_until(deadline.unwrap_or(far)), if deadline.is_some() => return None,
                _ = tokio::time::sleep_until(pause_at), if !self.paused => self.pause_all(),
                r = consumer.recv(), if self.paused => match r {
                    Ok(m) => self.stash(m.detach()),
                    Err(e) => self.poll_error(&e),
                },
            }
        }
    }

    fn pause_all(&mut self) {
        // Marked paused even if pausing fails: whatever still arrives is kept in order.
        self.paused = true;
        self.obs.paused.set(1);
        match self.consumer.assignment().and_then(|tpl| self.consumer.pause(&tpl)) {
            Ok(()) => tracing::debug!(receiver = %self.opts.id, "Kafka consumer paused: the pipeline pushes back."),
            Err(e) => tracing::warn!(receiver = %self.opts.id, error = %e, "Pausing the Kafka consumer failed."),
        }
    }

    fn resume_all(&mut self) {
        self.paused = false;
        self.obs.paused.set(0);
        let Ok(assigned) = self.consumer.assignment() else { return };
        let mut tpl = TopicPartitionList::new();
        for e in assigned.elements() {
            if !self.blocked.contains_key(&(e.topic().to_string(), e.partition())) {
                tpl.add_partition(e.topic(), e.partition());
            }
        }
        match self.consumer.resume(&tpl) {
            Ok(()) => tracing::debug!(receiver = %self.opts.id, "Kafka consumer resumed."),
            Err(e) => tracing::warn!(receiver = %self.opts.id, error = %e, "Resuming the Kafka consumer failed."),
        }
    }

    /// A message that arrived while waiting (a partition assigned meanwhile): kept for
    /// later, its partition paused (librdkafka fetches from after it on resume).
    fn stash(&mut self, msg: OwnedMessage) {
        self.pause_one(msg.topic(), msg.partition());
        self.pending.push_back(msg);
    }

    fn pause_one(&self, topic: &str, partition: i32) {
        let mut tpl = TopicPartitionList::new();
        tpl.add_partition(topic, partition);
        if let Err(e) = self.consumer.pause(&tpl) {
            tracing::debug!(receiver = %self.opts.id, topic, partition, error = %e, "Pausing a partition failed.");
        }
    }

    /// Holds a partition at a message refused for good: paused, its offset not stored,
    /// until a rebalance assigns it afresh (or a restart).
    fn block(&mut self, msg: &OwnedMessage, error: &str) {
        let (topic, partition) = (msg.topic().to_string(), msg.partition());
        self.pause_one(&topic, partition);
        self.pending.retain(|m| !(m.topic() == topic && m.partition() == partition));
        tracing::error!(receiver = %self.opts.id, topic = %topic, partition, offset = msg.offset(), error,
            "The pipeline refused a Kafka message for good; this partition stops here on this consumer until a rebalance or restart (message_marking.after: true without on_permanent_error).");
        self.blocked.insert((topic, partition), msg.offset());
        self.obs.blocked.set(self.blocked.len() as i64);
    }

    /// Marks a message consumed: librdkafka commits offset + 1.
    fn store(&self, msg: &OwnedMessage) {
        match self.consumer.store_offset(msg.topic(), msg.partition(), msg.offset()) {
            Ok(()) => {
                if self.opts.manual_commit {
                    if let Err(e) = self.consumer.commit_consumer_state(CommitMode::Async) {
                        tracing::debug!(receiver = %self.opts.id, error = %e, "Kafka commit failed.");
                    }
                }
            }
            // The partition was revoked meanwhile: its new owner starts from the last commit.
            Err(e) => tracing::debug!(receiver = %self.opts.id, topic = msg.topic(), partition = msg.partition(),
                error = %e, "Offset not stored."),
        }
    }

    fn poll_error(&self, e: &KafkaError) {
        let Some(suppressed) = self.poll_log.allow() else { return };
        let hint = match e.rdkafka_error_code() {
            Some(RDKafkaErrorCode::UnknownTopicOrPartition | RDKafkaErrorCode::UnknownTopic) => {
                format!(" (does every topic of {:?} exist? the receiver does not create topics)", self.opts.topics)
            }
            _ => String::new(),
        };
        tracing::warn!(receiver = %self.opts.id, error = %e, suppressed, "Kafka consumer error{hint}.");
    }
}
