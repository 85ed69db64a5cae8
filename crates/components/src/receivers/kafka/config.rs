//! `receivers: kafka:` configuration: the Collector's fields and defaults
//! (`pkg/kafka/configkafka`, `receiver/kafkareceiver/config.go`), and their translation into
//! librdkafka consumer properties.

use std::time::Duration;

use rdkafka::ClientConfig;
use serde::Deserialize;
use switchyard_core::component::{ComponentConfig, FieldError};
use switchyard_core::exporterhelper::RetryConfig;
use switchyard_pdata::Signal;

use crate::kafka_client::{
    default_brokers, default_client_id, default_conn_idle_timeout, default_topic, AuthConfig, ClientTlsConfig,
    KafkaClientConfig, MetadataConfig,
};

/// How a message value becomes data.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ReceiveEncoding {
    /// An Export*ServiceRequest (= `TracesData` etc.) in protobuf.
    OtlpProto,
    /// The same as OTLP/JSON.
    OtlpJson,
    /// Logs: one record whose body is the value as bytes.
    Raw,
    /// Logs: one record whose body is the value as a string (UTF-8).
    Text,
    /// Logs: one record whose body is the value parsed as a JSON object.
    Json,
}

impl ReceiveEncoding {
    /// Parses an encoding name for a signal; the error says what is supported.
    pub fn parse(name: &str, signal: Signal) -> Result<Self, String> {
        let supported = match signal {
            Signal::Logs => "otlp_proto, otlp_json, raw, text, json",
            Signal::Profiles => "otlp_proto",
            _ => "otlp_proto, otlp_json",
        };
        let logs = signal == Signal::Logs;
        match name {
            "otlp_proto" => Ok(ReceiveEncoding::OtlpProto),
            "otlp_json" if signal != Signal::Profiles => Ok(ReceiveEncoding::OtlpJson),
            "raw" if logs => Ok(ReceiveEncoding::Raw),
            "text" | "text_utf8" | "text_utf-8" | "text_UTF-8" if logs => Ok(ReceiveEncoding::Text),
            "json" if logs => Ok(ReceiveEncoding::Json),
            t if logs && t.starts_with("text_") => {
                Err(format!("encoding \"{t}\": only UTF-8 text is supported (text, text_utf-8)"))
            }
            "otlp_json" | "raw" | "text" | "json" => {
                Err(format!("encoding \"{name}\" is not supported for {signal}; supported: {supported}"))
            }
            "jaeger_proto"
            | "jaeger_thrift"
            | "zipkin_proto"
            | "zipkin_json"
            | "zipkin_thrift"
            | "avro"
            | "azure_resource_logs" => Err(format!("encoding \"{name}\" is not supported; supported: {supported}")),
            other => Err(format!(
                "unknown encoding \"{other}\" (encoding extensions are not supported); supported: {supported}"
            )),
        }
    }
}

/// `traces:` / `metrics:` / `logs:` / `profiles:`.
#[derive(Clone, Debug, Default, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct ReceiverSignalConfig {
    /// Topics to consume; an entry starting with `^` is a regular expression (default
    /// `[otlp_spans]`, `[otlp_metrics]`, `[otlp_logs]`, `[otlp_profiles]`, or the deprecated
    /// top-level `topic`).
    pub topics: Option<Vec<String>>,
    /// `otlp_proto` (default), `otlp_json`; logs also `raw`, `text`, `json`.
    pub encoding: Option<String>,
    /// Not supported (refused when not empty).
    pub exclude_topics: Vec<String>,
}

/// `autocommit:`.
#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct AutoCommitConfig {
    /// Commit stored offsets in the background (default true); false = commit after every message.
    pub enable: bool,
    /// How often (default 1s).
    #[serde(with = "humantime_serde")]
    pub interval: Duration,
}

impl Default for AutoCommitConfig {
    fn default() -> Self {
        AutoCommitConfig { enable: true, interval: Duration::from_secs(1) }
    }
}

/// `message_marking:`: what happens to a message the pipeline refused. Switchyard always
/// marks (stores the offset of) a message only once the pipeline has answered.
#[derive(Clone, Debug, Default, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct MessageMarkingConfig {
    /// `false` (default): a message the pipeline refused for good is skipped, as the
    /// Collector (which marks before) does. `true`: see `on_error` / `on_permanent_error`.
    pub after: bool,
    /// With `after`, skip a refused message (also once `error_backoff.max_elapsed_time`
    /// has passed on retryable refusals).
    pub on_error: bool,
    /// With `after`, skip a message refused for good (default: `on_error`). When not
    /// skipped, its partition stops on this consumer until the next rebalance or restart.
    pub on_permanent_error: Option<bool>,
}

impl MessageMarkingConfig {
    /// Whether a permanently refused message is skipped (else its partition is held).
    pub fn skip_permanent(&self) -> bool {
        !self.after || self.on_permanent_error.unwrap_or(self.on_error)
    }

    /// Whether a message still refused when `error_backoff.max_elapsed_time` has passed is
    /// skipped (else retried until the pipeline takes it).
    pub fn skip_exhausted(&self) -> bool {
        self.after && self.on_error
    }
}

/// `header_extraction:`.
#[derive(Clone, Debug, Default, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct HeaderExtractionConfig {
    /// Copy the listed headers into resource attributes `kafka.header.<name>`.
    pub extract_headers: bool,
    /// Header names.
    pub headers: Vec<String>,
}

/// `error_backoff:` (the Collector's BackOffConfig; disabled by default).
#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct ErrorBackoffConfig {
    /// Use these settings for retries of refused messages (default false: 100ms doubling to 5s).
    pub enabled: bool,
    /// First delay (default 5s).
    #[serde(with = "humantime_serde")]
    pub initial_interval: Duration,
    /// Jitter (default 0.5).
    pub randomization_factor: f64,
    /// Growth (default 1.5).
    pub multiplier: f64,
    /// Largest delay (default 30s).
    #[serde(with = "humantime_serde")]
    pub max_interval: Duration,
    /// After this, a still-refused message is skipped if `message_marking` says so (default 5m; 0 = never).
    #[serde(with = "humantime_serde")]
    pub max_elapsed_time: Duration,
}

impl Default for ErrorBackoffConfig {
    fn default() -> Self {
        let r = RetryConfig::default();
        ErrorBackoffConfig {
            enabled: false,
            initial_interval: r.initial_interval,
            randomization_factor: r.randomization_factor,
            multiplier: r.multiplier,
            max_interval: r.max_interval,
            max_elapsed_time: r.max_elapsed_time,
        }
    }
}

impl ErrorBackoffConfig {
    /// The backoff actually used: these settings, or the default 100ms doubling to 5s
    /// (retried forever) when disabled.
    pub fn effective(&self) -> RetryConfig {
        if self.enabled {
            RetryConfig {
                enabled: true,
                initial_interval: self.initial_interval,
                randomization_factor: self.randomization_factor,
                multiplier: self.multiplier,
                max_interval: self.max_interval,
                max_elapsed_time: self.max_elapsed_time,
            }
        } else {
            RetryConfig {
                enabled: true,
                initial_interval: Duration::from_millis(100),
                randomization_factor: 0.2,
                multiplier: 2.0,
                max_interval: Duration::from_secs(5),
                max_elapsed_time: Duration::ZERO,
            }
        }
    }
}

/// `partition_processing:` (accepted; messages are processed one at a time per signal).
#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct PartitionProcessingConfig {
    /// Accepted; no effect.
    pub independent: bool,
    /// Accepted; no effect.
    pub max_buffered_batches: u32,
}

impl Default for PartitionProcessingConfig {
    fn default() -> Self {
        PartitionProcessingConfig { independent: false, max_buffered_batches: 1 }
    }
}

/// The `kafka` receiver's config.
#[derive(Clone, Debug, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct KafkaReceiverConfig {
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
    /// `client.rack` (fetch from the closest replica, if the brokers allow it).
    pub rack_id: String,
    /// TLS; unset = plaintext.
    pub tls: Option<ClientTlsConfig>,
    /// SASL.
    pub auth: AuthConfig,
    /// Metadata refresh.
    pub metadata: MetadataConfig,
    /// Accepted; no effect.
    pub use_leader_epoch: bool,

    /// Deprecated: the topic of every signal without its own `topics`.
    pub topic: Option<String>,
    /// Deprecated: the encoding of every signal without its own `encoding`.
    pub encoding: Option<String>,
    /// Traces.
    pub traces: ReceiverSignalConfig,
    /// Metrics.
    pub metrics: ReceiverSignalConfig,
    /// Logs.
    pub logs: ReceiverSignalConfig,
    /// Profiles.
    pub profiles: ReceiverSignalConfig,
    /// Consumer group (default `otel-collector`).
    pub group_id: String,
    /// Where a group without a committed offset starts: `latest` (default) or `earliest`.
    pub initial_offset: String,
    /// Group session timeout (default 10s).
    #[serde(with = "humantime_serde")]
    pub session_timeout: Duration,
    /// Group heartbeat interval (default 3s).
    #[serde(with = "humantime_serde")]
    pub heartbeat_interval: Duration,
    /// Static group membership id.
    pub group_instance_id: String,
    /// Deprecated: one assignment strategy.
    pub group_rebalance_strategy: String,
    /// Assignment strategies: `range`, `roundrobin`, `cooperative-sticky` (default).
    pub group_rebalance_strategies: Vec<String>,
    /// Least bytes a fetch waits for (default 1).
    pub min_fetch_size: u32,
    /// Accepted; no effect.
    pub default_fetch_size: u32,
    /// Most bytes per fetch (default 1048576; 0 = librdkafka's default).
    pub max_fetch_size: u32,
    /// Most bytes per partition per fetch (default 1048576).
    pub max_partition_fetch_size: u32,
    /// How long the broker may wait for `min_fetch_size` (default 250ms).
    #[serde(with = "humantime_serde")]
    pub max_fetch_wait: Duration,
    /// Offset commits.
    pub autocommit: AutoCommitConfig,
    /// What happens to refused messages.
    pub message_marking: MessageMarkingConfig,
    /// Headers copied into resource attributes.
    pub header_extraction: HeaderExtractionConfig,
    /// Backoff between retries of a refused message.
    pub error_backoff: ErrorBackoffConfig,
    /// Accepted; no effect.
    pub partition_processing: PartitionProcessingConfig,
}

impl Default for KafkaReceiverConfig {
    fn default() -> Self {
        KafkaReceiverConfig {
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
            traces: ReceiverSignalConfig::default(),
            metrics: ReceiverSignalConfig::default(),
            logs: ReceiverSignalConfig::default(),
            profiles: ReceiverSignalConfig::default(),
            group_id: "otel-collector".into(),
            initial_offset: "latest".into(),
            session_timeout: Duration::from_secs(10),
            heartbeat_interval: Duration::from_secs(3),
            group_instance_id: String::new(),
            group_rebalance_strategy: String::new(),
            group_rebalance_strategies: Vec::new(),
            min_fetch_size: 1,
            default_fetch_size: 1_048_576,
            max_fetch_size: 1_048_576,
            max_partition_fetch_size: 1_048_576,
            max_fetch_wait: Duration::from_millis(250),
            autocommit: AutoCommitConfig::default(),
            message_marking: MessageMarkingConfig::default(),
            header_extraction: HeaderExtractionConfig::default(),
            error_backoff: ErrorBackoffConfig::default(),
            partition_processing: PartitionProcessingConfig::default(),
        }
    }
}

/// librdkafka's strategies (franz-go's default, `cooperative-sticky`, first).
const STRATEGIES: [&str; 3] = ["cooperative-sticky", "range", "roundrobin"];

fn ms(d: Duration, max: u64) -> String {
    (d.as_millis().min(max as u128) as u64).to_string()
}

impl ComponentConfig for KafkaReceiverConfig {
    fn validate(&self) -> Vec<FieldError> {
        let mut e = self.client().validate();
        for signal in Signal::ALL {
            let s = self.signal(signal);
            if let Some(enc) = &s.encoding {
                if let Err(m) = ReceiveEncoding::parse(enc, signal) {
                    e.push(FieldError::new(format!("{signal}::encoding"), m));
                }
            }
            if let Some(t) = &s.topics {
                if t.is_empty() || t.iter().any(|t| t.is_empty()) {
                    e.push(FieldError::new(format!("{signal}::topics"), "topics must not be empty"));
                }
            }
            if !s.exclude_topics.is_empty() {
                e.push(FieldError::new(
                    format!("{signal}::exclude_topics"),
                    "not supported; write the exclusion into the ^regex of topics",
                ));
            }
        }
        if let Some(enc) = &self.encoding {
            if let Err(m) = ReceiveEncoding::parse(enc, Signal::Logs) {
                e.push(FieldError::new("encoding", m));
            }
        }
        if self.topic.as_deref() == Some("") {
            e.push(FieldError::new("topic", "must not be empty"));
        }
        if self.group_id.is_empty() {
            e.push(FieldError::new("group_id", "must not be empty"));
        }
        if !matches!(self.initial_offset.as_str(), "latest" | "earliest") {
            e.push(FieldError::new(
                "initial_offset",
                format!(
                    "initial_offset should be one of 'latest' or 'earliest'. configured value {}",
                    self.initial_offset
                ),
            ));
        }
        if self.session_timeout.is_zero() || self.session_timeout > Duration::from_secs(3600) {
            e.push(FieldError::new("session_timeout", "must be between 1ms and 1h"));
        }
        if self.heartbeat_interval.is_zero() || self.heartbeat_interval >= self.session_timeout {
            e.push(FieldError::new("heartbeat_interval", "must be positive and shorter than session_timeout"));
        }
        if self.max_fetch_wait > Duration::from_secs(300) {
            e.push(FieldError::new("max_fetch_wait", "at most 5m (librdkafka's fetch.wait.max.ms limit)"));
        }
        if self.min_fetch_size > 100_000_000 {
            e.push(FieldError::new("min_fetch_size", "at most 100000000 (librdkafka's fetch.min.bytes limit)"));
        }
        if self.max_partition_fetch_size > 1_000_000_000 {
            e.push(FieldError::new("max_partition_fetch_size", "at most 1000000000"));
        }
        if self.max_fetch_size > i32::MAX as u32 - 512 {
            e.push(FieldError::new("max_fetch_size", "at most 2147483135"));
        }
        if self.autocommit.enable && self.autocommit.interval.is_zero() {
            e.push(FieldError::new("autocommit::interval", "must be positive when autocommit is enabled"));
        }
        if !self.group_rebalance_strategy.is_empty() && !self.group_rebalance_strategies.is_empty() {
            e.push(FieldError::new(
                "group_rebalance_strategy",
                "set group_rebalance_strategies or the deprecated group_rebalance_strategy, not both",
            ));
        }
        let (field, list) = if self.group_rebalance_strategy.is_empty() {
            ("group_rebalance_strategies", self.group_rebalance_strategies.clone())
        } else {
            ("group_rebalance_strategy", vec![self.group_rebalance_strategy.clone()])
        };
        for s in &list {
            match s.as_str() {
                s if STRATEGIES.contains(&s) => {}
                "sticky" => e.push(FieldError::new(
                    field,
                    "\"sticky\" (eager) is not supported by the Kafka client; use cooperative-sticky, range or roundrobin",
                )),
                other => e.push(FieldError::new(
                    field,
                    format!(
                        "unknown strategy \"{other}\" (balancer extensions are not supported); expected cooperative-sticky, range or roundrobin"
                    ),
                )),
            }
        }
        if list.iter().any(|s| s == "cooperative-sticky") && list.iter().any(|s| s == "range" || s == "roundrobin") {
            e.push(FieldError::new(
                field,
                "cooperative-sticky cannot be combined with range or roundrobin (eager strategies)",
            ));
        }
        if self.header_extraction.extract_headers && self.header_extraction.headers.iter().any(String::is_empty) {
            e.push(FieldError::new("header_extraction::headers", "header names must not be empty"));
        }
        if self.error_backoff.enabled {
            let r = self.error_backoff.effective();
            e.extend(
                r.validate()
                    .into_iter()
                    .map(|f| FieldError::new(f.field.replacen("retry_on_failure", "error_backoff", 1), f.message)),
            );
        }
        e
    }
}

impl KafkaReceiverConfig {
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
    pub fn signal(&self, signal: Signal) -> &ReceiverSignalConfig {
        match signal {
            Signal::Traces => &self.traces,
            Signal::Metrics => &self.metrics,
            Signal::Logs => &self.logs,
            Signal::Profiles => &self.profiles,
        }
    }

    /// A signal's topics: its own `topics`, else the deprecated top-level `topic`, else the
    /// Collector's default.
    pub fn topics_for(&self, signal: Signal) -> Vec<String> {
        if let Some(t) = &self.signal(signal).topics {
            return t.clone();
        }
        vec![self.topic.clone().unwrap_or_else(|| default_topic(signal).to_string())]
    }

    /// A signal's encoding: its own, else the deprecated top-level one, else `otlp_proto`.
    pub fn encoding_for(&self, signal: Signal) -> Result<ReceiveEncoding, String> {
        match self.signal(signal).encoding.as_ref().or(self.encoding.as_ref()) {
            Some(name) => ReceiveEncoding::parse(name, signal),
            None => Ok(ReceiveEncoding::OtlpProto),
        }
    }

    /// Deprecated spellings in use, for a warning when the receiver is built.
    pub fn deprecations(&self) -> Vec<&'static str> {
        let mut d = self.client().deprecations();
        if self.topic.is_some() {
            d.push("topic is deprecated: use traces::topics, metrics::topics, logs::topics (it applies to every signal without its own)");
        }
        if self.encoding.is_some() {
            d.push("encoding is deprecated: use traces::encoding, metrics::encoding, logs::encoding (it applies to every signal without its own)");
        }
        if !self.group_rebalance_strategy.is_empty() {
            d.push("group_rebalance_strategy is deprecated: use group_rebalance_strategies");
        }
        d
    }

    /// The librdkafka consumer properties of one signal's consumer. `instance_suffix`: added
    /// to `group_instance_id` when several signals consume (static member ids must differ).
    pub fn consumer_config(&self, instance_suffix: Option<&str>) -> ClientConfig {
        let mut c = self.client().to_rdkafka();
        c.set("group.id", &self.group_id);
        c.set("auto.offset.reset", &self.initial_offset);
        c.set("session.timeout.ms", ms(self.session_timeout, 3_600_000));
        c.set("heartbeat.interval.ms", ms(self.heartbeat_interval, 3_600_000));
        // At-least-once: librdkafka commits only the offsets the receiver stores, and it
        // stores a message's offset once the pipeline has answered for it.
        c.set("enable.auto.offset.store", "false");
        c.set("enable.auto.commit", self.autocommit.enable.to_string());
        if self.autocommit.enable {
            c.set("auto.commit.interval.ms", ms(self.autocommit.interval, i32::MAX as u64));
        }
        // librdkafka leaves the group when the consumer is not polled for this long. The
        // receiver keeps polling (with every partition paused) while the pipeline pushes
        // back, so the default 5 minutes only trips on a wedged task; it must not be
        // shorter than the session timeout.
        c.set("max.poll.interval.ms", self.session_timeout.as_millis().clamp(300_000, 86_400_000).to_string());
        if !self.group_instance_id.is_empty() {
            let id = match instance_suffix {
                Some(s) => format!("{}-{s}", self.group_instance_id),
                None => self.group_instance_id.clone(),
            };
            c.set("group.instance.id", id);
        }
        let strategies = if !self.group_rebalance_strategy.is_empty() {
            self.group_rebalance_strategy.clone()
        } else if self.group_rebalance_strategies.is_empty() {
            STRATEGIES[0].to_string()
        } else {
            self.group_rebalance_strategies.join(",")
        };
        c.set("partition.assignment.strategy", strategies);
        if self.min_fetch_size > 0 {
            c.set("fetch.min.bytes", self.min_fetch_size.min(100_000_000).to_string());
        }
        if self.max_fetch_size > 0 {
            let max = self.max_fetch_size.max(1000);
            c.set("fetch.max.bytes", max.to_string());
            // librdkafka wants fetch.max.bytes >= message.max.bytes (default 1000000).
            if max < 1_000_000 {
                c.set("message.max.bytes", max.to_string());
            }
        }
        if self.max_partition_fetch_size > 0 {
            c.set("max.partition.fetch.bytes", self.max_partition_fetch_size.min(1_000_000_000).to_string());
        }
        c.set("fetch.wait.max.ms", ms(self.max_fetch_wait, 300_000));
        c.set("enable.partition.eof", "false");
        c
    }
}
