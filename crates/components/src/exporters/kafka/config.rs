//! `exporters: kafka:` configuration: the Collector's fields and defaults
//! (`pkg/kafka/configkafka`, `exporter/kafkaexporter/config.go`).

use std::collections::BTreeMap;
use std::fmt;
use std::time::Duration;

use serde::de::{self, Visitor};
use serde::{Deserialize, Deserializer};
use switchyard_core::component::{ComponentConfig, FieldError};
use switchyard_core::exporterhelper::{QueueConfig, RetryConfig};
use switchyard_pdata::Signal;

use crate::exporters::{ClientTlsConfig, CompressionParams};
use crate::kafka_client::{
    default_brokers, default_client_id, default_conn_idle_timeout, default_topic, AuthConfig, KafkaClientConfig,
    MetadataConfig,
};

/// How a signal's data becomes a message value.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ExportEncoding {
    /// The Export*ServiceRequest in protobuf (= `TracesData` etc.).
    OtlpProto,
    /// The same as OTLP/JSON.
    OtlpJson,
    /// Logs only: one message per log record, its body (bytes as is, anything else as JSON).
    Raw,
}

impl ExportEncoding {
    /// Parses an encoding name for a signal; the error says what is supported.
    pub fn parse(name: &str, signal: Signal) -> Result<Self, String> {
        let supported = if signal == Signal::Logs { "otlp_proto, otlp_json, raw" } else { "otlp_proto, otlp_json" };
        match name {
            "otlp_proto" => Ok(ExportEncoding::OtlpProto),
            "otlp_json" if signal == Signal::Profiles => {
                Err("otlp_json is not supported for profiles (use otlp_proto)".to_string())
            }
            "otlp_json" => Ok(ExportEncoding::OtlpJson),
            "raw" if signal == Signal::Logs => Ok(ExportEncoding::Raw),
            "raw" => Err(format!("encoding \"raw\" is for logs only; {signal} support: {supported}")),
            "jaeger_proto" | "jaeger_json" | "zipkin_proto" | "zipkin_json" => {
                Err(format!("encoding \"{name}\" is not supported; supported: {supported}"))
            }
            other => Err(format!(
                "unknown encoding \"{other}\" (encoding extensions are not supported); supported: {supported}"
            )),
        }
    }
}

/// `traces:` / `metrics:` / `logs:` / `profiles:`.
#[derive(Clone, Debug, Default, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct ExporterSignalConfig {
    /// Topic (default `otlp_spans`, `otlp_metrics`, `otlp_logs`, `otlp_profiles`; or the
    /// deprecated top-level `topic`).
    pub topic: Option<String>,
    /// `otlp_proto` (default), `otlp_json`; logs also `raw`.
    pub encoding: Option<String>,
    /// Client metadata key whose value is the topic (highest priority).
    pub topic_from_metadata_key: String,
    /// Client metadata key whose value is the message key.
    pub message_key_from_metadata_key: String,
}

/// `producer.required_acks`: `0`, `1`, `-1` or `all`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RequiredAcks(pub i64);

impl Default for RequiredAcks {
    fn default() -> Self {
        RequiredAcks(1)
    }
}

impl<'de> Deserialize<'de> for RequiredAcks {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = RequiredAcks;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("0, 1, -1 or all")
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<RequiredAcks, E> {
                Ok(RequiredAcks(v))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<RequiredAcks, E> {
                Ok(RequiredAcks(v.min(i64::MAX as u64) as i64))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<RequiredAcks, E> {
                match v.trim() {
                    "all" => Ok(RequiredAcks(-1)),
                    s => s
                        .parse()
                        .map(RequiredAcks)
                        .map_err(|_| E::custom(format!("invalid value \"{v}\": expected 0, 1, -1 or all"))),
                }
            }
        }
        d.deserialize_any(V)
    }
}

/// `producer:`.
#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct ProducerConfig {
    /// Largest message (key + value + headers, before compression) (default 1000000).
    pub max_message_bytes: u64,
    /// Largest produce request to one broker (default 104857600).
    pub max_broker_write_bytes: u64,
    /// Acknowledgements the broker waits for: 0, 1 (default), -1 / all.
    pub required_acks: RequiredAcks,
    /// `none` (default), `gzip`, `snappy`, `lz4`, `zstd`.
    pub compression: String,
    /// Compression level.
    pub compression_params: CompressionParams,
    /// Most messages in one batch (librdkafka `batch.num.messages`, default 10000; 0 = librdkafka's default).
    pub flush_max_messages: u64,
    /// How long the producer waits to fill a batch (default 10ms).
    #[serde(with = "humantime_serde")]
    pub linger: Duration,
    /// Let the broker create a missing topic (if the broker allows it) (default true).
    pub allow_auto_topic_creation: bool,
}

impl Default for ProducerConfig {
    fn default() -> Self {
        ProducerConfig {
            max_message_bytes: 1_000_000,
            max_broker_write_bytes: 104_857_600,
            required_acks: RequiredAcks(1),
            compression: "none".into(),
            compression_params: CompressionParams::default(),
            flush_max_messages: 10_000,
            linger: Duration::from_millis(10),
            allow_auto_topic_creation: true,
        }
    }
}

/// An empty map (`round_robin: {}`).
#[derive(Clone, Debug, Default, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Empty {}

/// `record_partitioner.sticky_key:`.
#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct StickyKeyConfig {
    /// `sarama_compat` (FNV-1a, default) or `murmur2`.
    pub hasher: String,
}

impl Default for StickyKeyConfig {
    fn default() -> Self {
        StickyKeyConfig { hasher: "sarama_compat".into() }
    }
}

/// `record_partitioner:` (at most one strategy).
#[derive(Clone, Debug, Default, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct RecordPartitionerConfig {
    /// Keyed messages by key hash, unkeyed ones sticky (the default, with `sarama_compat`).
    pub sticky_key: Option<StickyKeyConfig>,
    /// Spread messages over partitions (librdkafka: random per message).
    pub round_robin: Option<Empty>,
    /// Not supported.
    pub least_backup: Option<Empty>,
    /// Not supported.
    pub extension: Option<String>,
}

impl RecordPartitionerConfig {
    /// The librdkafka `partitioner` and whether unkeyed messages stick to one partition per batch.
    pub fn librdkafka(&self) -> (&'static str, bool) {
        if self.round_robin.is_some() {
            return ("random", false);
        }
        match self.sticky_key.as_ref().map(|s| s.hasher.as_str()) {
            Some("murmur2") => ("murmur2_random", true),
            // librdkafka's fnv1a is Sarama's hash partitioner (rdfnv1a.c says so).
            _ => ("fnv1a_random", true),
        }
    }
}

/// The `kafka` exporter's config.
#[derive(Clone, Debug, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct KafkaExporterConfig {
    /// Bootstrap brokers (default `[localhost:9092]`).
    pub brokers: Vec<String>,
    /// Broker version for very old brokers (`2.1.0`).
    pub protocol_version: String,
    /// Client id (default `otel-collector`).
    pub client_id: String,
    /// Resolve bootstrap names to canonical names.
    pub resolve_canonical_bootstrap_servers_only: bool,
    /// Idle connection timeout (default 9m).
    #[serde(with = "humantime_serde")]
    pub conn_idle_timeout: Duration,
    /// `client.rack`.
    pub rack_id: String,
    /// TLS; unset = plaintext.
    pub tls: Option<ClientTlsConfig>,
    /// SASL.
    pub auth: AuthConfig,
    /// Metadata refresh.
    pub metadata: MetadataConfig,
    /// Accepted; no effect.
    pub use_leader_epoch: bool,

    /// Deprecated: the topic of every signal without its own `topic`.
    pub topic: Option<String>,
    /// Deprecated: the encoding of every signal without its own `encoding`.
    pub encoding: Option<String>,
    /// Traces.
    pub traces: ExporterSignalConfig,
    /// Metrics.
    pub metrics: ExporterSignalConfig,
    /// Logs.
    pub logs: ExporterSignalConfig,
    /// Profiles.
    pub profiles: ExporterSignalConfig,
    /// Resource attribute whose value is the topic (the batch is split per value).
    pub topic_from_attribute: String,
    /// One message per trace, keyed by the trace id (32 hex characters).
    pub partition_traces_by_id: bool,
    /// One message per resource, keyed by a hash of its attributes.
    pub partition_metrics_by_resource_attributes: bool,
    /// One message per resource, keyed by a hash of its attributes.
    pub partition_logs_by_resource_attributes: bool,
    /// One message per trace id of the log records, keyed by it.
    pub partition_logs_by_trace_id: bool,
    /// How keyed and unkeyed messages are spread over partitions.
    pub record_partitioner: RecordPartitionerConfig,
    /// Client metadata keys copied into message headers.
    pub include_metadata_keys: Vec<String>,
    /// Headers added to every message.
    pub record_headers: BTreeMap<String, String>,
    /// Add the header `otelcol.signal: traces|metrics|logs|profiles`.
    pub signal_header: bool,
    /// Delivery timeout of one attempt (default 5s).
    #[serde(with = "humantime_serde")]
    pub timeout: Duration,
    /// The sending queue.
    pub sending_queue: QueueConfig,
    /// Retries.
    pub retry_on_failure: RetryConfig,
    /// Producer settings.
    pub producer: ProducerConfig,
}

impl Default for KafkaExporterConfig {
    fn default() -> Self {
        KafkaExporterConfig {
            brokers: default_brokers(),
            protocol_version: String::new(),
            client_id: default_client_id(),
            resolve_canonical_bootstrap_servers_only: false,
            conn_idle_timeout: default_conn_idle_timeout(),
            rack_id: String::new(),
            tls: None,
            auth: AuthConfig::default(),
            metadata: MetadataConfig::default(),
            use_leader_epoch: true,
            topic: None,
            encoding: None,
            traces: ExporterSignalConfig::default(),
            metrics: ExporterSignalConfig::default(),
            logs: ExporterSignalConfig::default(),
            profiles: ExporterSignalConfig::default(),
            topic_from_attribute: String::new(),
            partition_traces_by_id: false,
            partition_metrics_by_resource_attributes: false,
            partition_logs_by_resource_attributes: false,
            partition_logs_by_trace_id: false,
            record_partitioner: RecordPartitionerConfig::default(),
            include_metadata_keys: Vec::new(),
            record_headers: BTreeMap::new(),
            signal_header: false,
            timeout: Duration::from_secs(5),
            sending_queue: QueueConfig::default(),
            retry_on_failure: RetryConfig::default(),
            producer: ProducerConfig::default(),
        }
    }
}

const COMPRESSIONS: [&str; 5] = ["none", "gzip", "snappy", "lz4", "zstd"];

impl ComponentConfig for KafkaExporterConfig {
    fn validate(&self) -> Vec<FieldError> {
        let mut e = self.client().validate();
        for signal in Signal::ALL {
            let s = self.signal(signal);
            if let Some(enc) = &s.encoding {
                if let Err(m) = ExportEncoding::parse(enc, signal) {
                    e.push(FieldError::new(format!("{signal}::encoding"), m));
                }
            }
            if s.topic.as_deref() == Some("") {
                e.push(FieldError::new(format!("{signal}::topic"), "must not be empty"));
            }
        }
        if let Some(enc) = &self.encoding {
            // The deprecated field applies to every signal; whether it suits the signals in
            // use is checked when the exporter is built for each.
            if !matches!(enc.as_str(), "otlp_proto" | "otlp_json" | "raw") {
                if let Err(m) = ExportEncoding::parse(enc, Signal::Logs) {
                    e.push(FieldError::new("encoding", m));
                }
            }
        }
        if self.topic.as_deref() == Some("") {
            e.push(FieldError::new("topic", "must not be empty"));
        }
        if self.partition_logs_by_resource_attributes && self.partition_logs_by_trace_id {
            e.push(FieldError::new(
                "partition_logs_by_trace_id",
                "partition_logs_by_resource_attributes and partition_logs_by_trace_id cannot both be enabled",
            ));
        }
        let exclusive = [
            ("traces", self.partition_traces_by_id, "partition_traces_by_id"),
            ("metrics", self.partition_metrics_by_resource_attributes, "partition_metrics_by_resource_attributes"),
            (
                "logs",
                self.partition_logs_by_resource_attributes || self.partition_logs_by_trace_id,
                "partition_logs_by_resource_attributes / partition_logs_by_trace_id",
            ),
        ];
        for (name, partitioned, flag) in exclusive {
            let s = self.signal(Signal::parse(name).unwrap_or(Signal::Traces));
            if partitioned && !s.message_key_from_metadata_key.is_empty() {
                e.push(FieldError::new(
                    format!("{name}::message_key_from_metadata_key"),
                    format!("cannot be used with {flag}: both set the message key"),
                ));
            }
        }
        e.extend(self.validate_producer());
        e.extend(self.validate_partitioner());
        if self.timeout > Duration::ZERO && self.timeout <= self.producer.linger {
            e.push(FieldError::new("timeout", "must be longer than producer::linger (or 0 for no timeout)"));
        }
        if self.timeout.as_millis() > i32::MAX as u128 {
            e.push(FieldError::new("timeout", "at most 596h"));
        }
        e.extend(self.sending_queue.validate());
        e.extend(self.retry_on_failure.validate());
        e
    }
}

impl KafkaExporterConfig {
    /// The shared client fields.
    pub fn client(&self) -> KafkaClientConfig {
        KafkaClientConfig {
            brokers: self.brokers.clone(),
            protocol_version: self.protocol_version.clone(),
            client_id: self.client_id.clone(),
            resolve_canonical_bootstrap_servers_only: self.resolve_canonical_bootstrap_servers_only,
            conn_idle_timeout: self.conn_idle_timeout,
            rack_id: self.rack_id.clone(),
            tls: self.tls.clone(),
            auth: self.auth.clone(),
            metadata: self.metadata.clone(),
            use_leader_epoch: self.use_leader_epoch,
        }
    }

    /// The block of one signal.
    pub fn signal(&self, signal: Signal) -> &ExporterSignalConfig {
        match signal {
            Signal::Traces => &self.traces,
            Signal::Metrics => &self.metrics,
            Signal::Logs => &self.logs,
            Signal::Profiles => &self.profiles,
        }
    }

    /// The topic of a signal: its own `topic`, else the deprecated top-level `topic`, else
    /// the Collector's default.
    pub fn topic_for(&self, signal: Signal) -> String {
        self.signal(signal).topic.clone().or_else(|| self.topic.clone()).unwrap_or_else(|| default_topic(signal).into())
    }

    /// The encoding of a signal: its own, else the deprecated top-level one, else `otlp_proto`.
    pub fn encoding_for(&self, signal: Signal) -> Result<ExportEncoding, String> {
        let s = self.signal(signal);
        match s.encoding.as_ref().or(self.encoding.as_ref()) {
            Some(name) => ExportEncoding::parse(name, signal),
            None => Ok(ExportEncoding::OtlpProto),
        }
    }

    /// Deprecated spellings in use, for a warning when the exporter is built.
    pub fn deprecations(&self) -> Vec<&'static str> {
        let mut d = self.client().deprecations();
        if self.topic.is_some() {
            d.push("topic is deprecated: use traces::topic, metrics::topic, logs::topic (it applies to every signal without its own)");
        }
        if self.encoding.is_some() {
            d.push("encoding is deprecated: use traces::encoding, metrics::encoding, logs::encoding (it applies to every signal without its own)");
        }
        d
    }

    fn validate_producer(&self) -> Vec<FieldError> {
        let mut e = Vec::new();
        let p = &self.producer;
        if !matches!(p.required_acks.0, -1..=1) {
            e.push(FieldError::new(
                "producer::required_acks",
                format!("expected all (-1), 0 or 1; configured value is {}", p.required_acks.0),
            ));
        }
        if !COMPRESSIONS.contains(&p.compression.as_str()) {
            e.push(FieldError::new(
                "producer::compression",
                format!(
                    "compression should be one of 'none', 'gzip', 'snappy', 'lz4', or 'zstd'. configured value is \"{}\"",
                    p.compression
                ),
            ));
        }
        if let Some(level) = p.compression_params.level {
            let range = match p.compression.as_str() {
                "gzip" => Some((-1, 9)),
                "lz4" | "zstd" => Some((-1, 12)),
                _ => None,
            };
            match range {
                None => e.push(FieldError::new(
                    "producer::compression_params::level",
                    format!("compression \"{}\" takes no level", p.compression),
                )),
                Some((lo, hi)) if !(lo..=hi).contains(&level) => e.push(FieldError::new(
                    "producer::compression_params::level",
                    format!("level {level} is out of range for {} ({lo} to {hi})", p.compression),
                )),
                Some(_) => {}
            }
        }
        if p.max_message_bytes == 0 || p.max_message_bytes > i32::MAX as u64 {
            e.push(FieldError::new("producer::max_message_bytes", "must be between 1 and 2147483647"));
        }
        if p.max_broker_write_bytes < p.max_message_bytes {
            e.push(FieldError::new("producer::max_broker_write_bytes", "must be at least producer::max_message_bytes"));
        }
        if p.flush_max_messages > 1_000_000 {
            e.push(FieldError::new("producer::flush_max_messages", "at most 1000000 (librdkafka's limit)"));
        }
        if p.linger > Duration::from_secs(900) {
            e.push(FieldError::new("producer::linger", "at most 15m (librdkafka's limit)"));
        }
        e
    }

    fn validate_partitioner(&self) -> Vec<FieldError> {
        let mut e = Vec::new();
        let r = &self.record_partitioner;
        let set = [r.sticky_key.is_some(), r.round_robin.is_some(), r.least_backup.is_some(), r.extension.is_some()];
        if set.iter().filter(|s| **s).count() > 1 {
            e.push(FieldError::new("record_partitioner", "at most one record_partitioner strategy may be configured"));
        }
        if let Some(s) = &r.sticky_key {
            if !matches!(s.hasher.as_str(), "sarama_compat" | "murmur2") {
                e.push(FieldError::new(
                    "record_partitioner::sticky_key::hasher",
                    format!("unknown hasher \"{}\", valid values are \"sarama_compat\", \"murmur2\"", s.hasher),
                ));
            }
        }
        if r.least_backup.is_some() {
            e.push(FieldError::new(
                "record_partitioner::least_backup",
                "not supported by the Kafka client; use sticky_key or round_robin",
            ));
        }
        if r.extension.is_some() {
            e.push(FieldError::new("record_partitioner::extension", "partitioner extensions are not supported"));
        }
        e
    }
}
