//! The producer side: librdkafka producer properties, and the [`Sender`] that produces one
//! batch's messages and waits for every delivery report (one attempt; the exporter helper
//! retries).

use std::marker::PhantomData;
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use futures::future::BoxFuture;
use rdkafka::error::{KafkaError, RDKafkaErrorCode};
use rdkafka::message::{Header, OwnedHeaders};
use rdkafka::producer::{FutureProducer, FutureRecord};
use rdkafka::ClientConfig;
use switchyard_core::component::ComponentId;
use switchyard_core::consumer::RequestContext;
use switchyard_core::exporterhelper::{ExportError, Sender};
use switchyard_pdata::Signal;

use super::config::KafkaExporterConfig;
use super::marshal::{KafkaData, Plan};
use crate::kafka_client::KafkaLogContext;

/// The header `signal_header: true` adds.
pub const SIGNAL_HEADER: &str = "otelcol.signal";

/// librdkafka's upper limit for `message.max.bytes`.
const LIBRDKAFKA_MAX_MESSAGE_BYTES: u64 = 1_000_000_000;

/// The producer properties: the shared client ones, then the `producer:` block and `timeout`.
pub fn producer_config(cfg: &KafkaExporterConfig) -> ClientConfig {
    let mut c = cfg.client().to_rdkafka();
    let p = &cfg.producer;
    let acks = match p.required_acks.0 {
        -1 => "all".to_string(),
        n => n.to_string(),
    };
    c.set("acks", acks);
    let compression = if p.compression.is_empty() { "none" } else { p.compression.as_str() };
    c.set("compression.type", compression);
    if let Some(level) = p.compression_params.level {
        if compression != "none" && compression != "snappy" {
            c.set("compression.level", level.to_string());
        }
    }
    // Collector `max_message_bytes` is franz-go's largest record batch = librdkafka's
    // `batch.size`; `max_broker_write_bytes` is the largest request = `message.max.bytes`
    // (which is also librdkafka's per-message cap; the exporter keeps messages within
    // `max_message_bytes` itself, splitting batches).
    c.set("batch.size", p.max_message_bytes.clamp(1, i32::MAX as u64).to_string());
    let max_request = p.max_broker_write_bytes.max(p.max_message_bytes).clamp(1000, LIBRDKAFKA_MAX_MESSAGE_BYTES);
    c.set("message.max.bytes", max_request.to_string());
    if p.flush_max_messages > 0 {
        c.set("batch.num.messages", p.flush_max_messages.min(1_000_000).to_string());
    }
    c.set("linger.ms", (p.linger.as_millis().min(900_000) as u64).to_string());
    c.set("allow.auto.create.topics", p.allow_auto_topic_creation.to_string());
    // Idempotence needs acks=all; off, as in the Collector. A retried batch may duplicate.
    c.set("enable.idempotence", "false");
    let (partitioner, sticky) = cfg.record_partitioner.librdkafka();
    c.set("partitioner", partitioner);
    if !sticky {
        c.set("sticky.partitioning.linger.ms", "0");
    }
    if !cfg.timeout.is_zero() {
        // A message not acknowledged within `timeout` fails (and the batch is retried), so a
        // timed-out attempt leaves nothing behind in librdkafka's queue.
        let ms = cfg.timeout.as_millis().min(i32::MAX as u128) as u64;
        c.set("message.timeout.ms", ms.to_string());
        c.set("request.timeout.ms", ms.clamp(1, 30_000).to_string());
        // A topic missing from the cluster fails fast with "unknown topic" instead of
        // waiting (30s by default) for it to appear, then timing out.
        c.set("topic.metadata.propagation.max.ms", (ms / 2).min(30_000).to_string());
    }
    c
}

/// Produces one signal's batches.
pub struct KafkaSender<S: KafkaData> {
    id: ComponentId,
    plan: Plan,
    config: ClientConfig,
    producer: OnceLock<Result<FutureProducer<KafkaLogContext>, String>>,
    /// `record_headers` and the signal header, on every message.
    static_headers: Vec<(String, Vec<u8>)>,
    include_metadata_keys: Vec<String>,
    timeout: Duration,
    _signal: PhantomData<S>,
}

impl<S: KafkaData> KafkaSender<S> {
    /// A sender for `S`; the producer is created when the exporter starts (or on first use).
    pub fn new(id: ComponentId, cfg: &KafkaExporterConfig) -> Result<Self, String> {
        let plan = Plan::new(cfg, S::SIGNAL)?;
        let mut static_headers: Vec<(String, Vec<u8>)> =
            cfg.record_headers.iter().map(|(k, v)| (k.clone(), v.clone().into_bytes())).collect();
        if cfg.signal_header {
            static_headers.push((SIGNAL_HEADER.to_string(), S::SIGNAL.as_str().as_bytes().to_vec()));
        }
        Ok(KafkaSender {
            id,
            plan,
            config: producer_config(cfg),
            producer: OnceLock::new(),
            static_headers,
            include_metadata_keys: cfg.include_metadata_keys.clone(),
            timeout: cfg.timeout,
            _signal: PhantomData,
        })
    }

    fn producer(&self) -> Result<&FutureProducer<KafkaLogContext>, String> {
        self.producer
            .get_or_init(|| {
                self.config
                    .create_with_context(KafkaLogContext::new(self.id.to_string()))
                    .map_err(|e| format!("cannot create the Kafka producer: {e}"))
            })
            .as_ref()
            .map_err(Clone::clone)
    }

    /// The headers of this batch's messages: static ones, then `include_metadata_keys`.
    pub(super) fn headers(&self, cx: &RequestContext) -> Vec<(String, Vec<u8>)> {
        let mut h = self.static_headers.clone();
        for key in &self.include_metadata_keys {
            for v in cx.metadata_values(key) {
                h.push((key.clone(), v.as_bytes().to_vec()));
            }
        }
        h
    }
}

/// How a produce or delivery error is retried: the ones no retry can fix are permanent.
pub fn classify(e: &KafkaError, topic: &str) -> ExportError {
    use RDKafkaErrorCode as C;
    match e.rdkafka_error_code() {
        Some(C::MessageSizeTooLarge | C::MessageBatchTooLarge | C::InvalidMessageSize | C::InvalidRecord) => {
            ExportError::permanent(format!(
                "the broker refused a message to topic \"{topic}\" as too large or invalid ({e}); check producer::max_message_bytes against the topic's max.message.bytes"
            ))
        }
        Some(C::InvalidTopic) => ExportError::permanent(format!("invalid topic name \"{topic}\" ({e})")),
        Some(C::InvalidRequiredAcks) => ExportError::permanent(format!("the broker refused producer::required_acks ({e})")),
        Some(C::UnknownTopicOrPartition | C::UnknownTopic) => ExportError::retryable(format!(
            "topic \"{topic}\" does not exist: create it (or let the broker auto-create topics, with producer::allow_auto_topic_creation: true) ({e})"
        )),
        Some(C::MessageTimedOut) => {
            ExportError::retryable(format!("no acknowledgement from Kafka for topic \"{topic}\" within the timeout ({e})"))
        }
        _ => ExportError::retryable(format!("failed to produce to topic \"{topic}\": {e}")),
    }
}

impl<S: KafkaData> Sender<S> for KafkaSender<S> {
    fn start(&self, _host: &switchyard_core::component::Host) -> Result<(), String> {
        self.producer().map(|_| ())
    }

    fn send<'a>(&'a self, cx: &'a RequestContext, data: &'a S) -> BoxFuture<'a, Result<(), ExportError>> {
        Box::pin(async move {
            let producer = self.producer().map_err(ExportError::permanent)?;
            let headers = self.headers(cx);
            let header_bytes: usize = headers.iter().map(|(k, v)| k.len() + v.len()).sum();
            let marshaled = self.plan.marshal(cx, data, header_bytes)?;
            let mut owned = OwnedHeaders::new_with_capacity(headers.len());
            for (k, v) in &headers {
                owned = owned.insert(Header { key: k, value: Some(v) });
            }
            let deadline = (!self.timeout.is_zero()).then(|| Instant::now() + self.timeout);
            let mut deliveries = Vec::with_capacity(marshaled.records.len());
            for r in &marshaled.records {
                let mut record = FutureRecord::to(&r.topic).payload(&r.value);
                if let Some(k) = &r.key {
                    record = record.key(k);
                }
                if !headers.is_empty() {
                    record = record.headers(owned.clone());
                }
                loop {
                    match producer.send_result(record) {
                        Ok(delivery) => {
                            deliveries.push((delivery, r.topic.as_str()));
                            break;
                        }
                        Err((KafkaError::MessageProduction(RDKafkaErrorCode::QueueFull), back)) => {
                            // librdkafka's local queue is full (the broker is slow or down):
                            // wait for room within the attempt's timeout.
                            if deadline.is_some_and(|d| Instant::now() >= d) {
                                return Err(ExportError::retryable(
                                    "the Kafka producer's local queue is full (the brokers do not keep up)",
                                ));
                            }
                            record = back;
                            tokio::time::sleep(Duration::from_millis(5)).await;
                        }
                        Err((e, _)) => return Err(classify(&e, &r.topic)),
                    }
                }
            }
            let total = deliveries.len();
            let results =
                futures::future::join_all(deliveries.into_iter().map(|(d, t)| async move { (d.await, t) })).await;
            let mut failed = 0;
            let mut first: Option<ExportError> = None;
            for (result, topic) in results {
                let err = match result {
                    Ok(Ok(_)) => continue,
                    Ok(Err((e, _))) => classify(&e, topic),
                    Err(_) => ExportError::retryable("the Kafka producer was closed before delivering"),
                };
                failed += 1;
                // A retryable error wins: the retry sends the whole batch again (duplicates
                // of what was delivered, but nothing lost); a permanent one alone drops it.
                if first.as_ref().is_none_or(|f| {
                    matches!(f, ExportError::Permanent { .. }) && matches!(err, ExportError::Retryable { .. })
                }) {
                    first = Some(err);
                }
            }
            if let Some(err) = first {
                let detail = format!("{failed} of {total} Kafka messages not delivered: ");
                return Err(match err {
                    ExportError::Retryable { message, throttle } => {
                        ExportError::Retryable { message: detail + &message, throttle }
                    }
                    ExportError::Permanent { message } => ExportError::Permanent { message: detail + &message },
                });
            }
            if marshaled.dropped_items > 0 {
                return Err(ExportError::permanent(format!(
                    "{} {} left out: a single one encodes to {} bytes, more than producer::max_message_bytes ({}); the other {} messages were delivered",
                    marshaled.dropped_items,
                    item_word(S::SIGNAL),
                    marshaled.dropped_largest,
                    self.plan.max_message_bytes(),
                    total
                )));
            }
            Ok(())
        })
    }
}

fn item_word(s: Signal) -> &'static str {
    match s {
        Signal::Traces => "span(s)",
        Signal::Metrics => "data point(s)",
        Signal::Logs => "log record(s)",
        Signal::Profiles => "profile(s)",
    }
}
