//! What the `kafka` exporter and receiver share: the Collector's client fields (`brokers`,
//! `protocol_version`, `client_id`, `tls`, `auth`, `metadata`, ...), their checks, and their
//! translation into librdkafka properties (an [`rdkafka::ClientConfig`]); the default topic
//! of each signal; and a client context that sends librdkafka's log lines to `tracing`.
//!
//! librdkafka is not the Collector's client (franz-go), so a few fields have no equivalent;
//! they are accepted and documented, or refused by `validate` when ignoring them would change
//! security or delivery (Kerberos, AWS MSK IAM, TLS options OpenSSL cannot honour).

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration;

use rdkafka::client::ClientContext;
use rdkafka::config::RDKafkaLogLevel;
use rdkafka::error::KafkaError;
use rdkafka::ClientConfig;
use serde::Deserialize;
use switchyard_core::component::FieldError;
use switchyard_core::telemetry::LogThrottle;
use switchyard_pdata::Signal;

pub use switchyard_core::confignet::tls::ClientTlsConfig;

/// The Collector's default topic of a signal (`otlp_spans`, `otlp_metrics`, `otlp_logs`,
/// `otlp_profiles`), for both the exporter and the receiver.
pub fn default_topic(signal: Signal) -> &'static str {
    match signal {
        Signal::Traces => "otlp_spans",
        Signal::Metrics => "otlp_metrics",
        Signal::Logs => "otlp_logs",
        Signal::Profiles => "otlp_profiles",
    }
}

/// `auth:`.
#[derive(Clone, Debug, Default, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct AuthConfig {
    /// SASL: `PLAIN`, `SCRAM-SHA-256` or `SCRAM-SHA-512`.
    pub sasl: Option<SaslConfig>,
    /// Deprecated (Collector v0.123): SASL/PLAIN with these credentials.
    pub plain_text: Option<PlainTextConfig>,
    /// Deprecated (Collector v0.124): used when the top-level `tls` is not set.
    pub tls: Option<ClientTlsConfig>,
    /// Kerberos (GSSAPI): not supported, refused by `validate`.
    pub kerberos: Option<KerberosConfig>,
}

/// `auth.sasl:`.
#[derive(Clone, Debug, Default, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct SaslConfig {
    /// User name.
    pub username: String,
    /// Password.
    pub password: String,
    /// `PLAIN`, `SCRAM-SHA-256` or `SCRAM-SHA-512`.
    pub mechanism: String,
    /// SASL handshake version (0 or 1): accepted, librdkafka negotiates it.
    pub version: i64,
    /// AWS MSK IAM settings: not supported.
    pub aws_msk: Option<AwsMskConfig>,
    /// OAUTHBEARER token source extension: not supported.
    pub oauthbearer_token_source: Option<String>,
}

/// `auth.sasl.aws_msk:` (accepted so the error names the real problem: not supported).
#[derive(Clone, Debug, Default, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct AwsMskConfig {
    /// AWS region.
    pub region: String,
    /// Broker address used to sign the request.
    pub broker_addr: String,
}

/// `auth.plain_text:` (deprecated alias of SASL/PLAIN).
#[derive(Clone, Debug, Default, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct PlainTextConfig {
    /// User name.
    pub username: String,
    /// Password.
    pub password: String,
}

/// `auth.kerberos:`: parsed so that `validate` can say it is not supported.
#[derive(Clone, Debug, Default, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct KerberosConfig {
    /// Kerberos service name.
    pub service_name: String,
    /// Realm.
    pub realm: String,
    /// Use a keytab instead of a password.
    pub use_keytab: bool,
    /// User name.
    pub username: String,
    /// Password.
    pub password: String,
    /// krb5.conf path.
    pub config_file: String,
    /// Keytab path.
    pub keytab_file: String,
    /// Disable PA-FX-FAST.
    pub disable_fast_negotiation: bool,
}

/// `metadata:`.
#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct MetadataConfig {
    /// Accepted; librdkafka asks for the metadata of the topics in use only.
    pub full: bool,
    /// How often cluster metadata is refreshed (default 10m; at most 1h, librdkafka's limit).
    #[serde(with = "humantime_serde")]
    pub refresh_interval: Duration,
    /// Retries of metadata requests.
    pub retry: MetadataRetryConfig,
}

impl Default for MetadataConfig {
    fn default() -> Self {
        MetadataConfig { full: true, refresh_interval: Duration::from_secs(600), retry: MetadataRetryConfig::default() }
    }
}

/// `metadata.retry:`.
#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct MetadataRetryConfig {
    /// Accepted; librdkafka retries metadata requests until they succeed.
    pub max: u32,
    /// First backoff between retried requests (librdkafka `retry.backoff.ms`, default 250ms).
    #[serde(with = "humantime_serde")]
    pub backoff: Duration,
}

impl Default for MetadataRetryConfig {
    fn default() -> Self {
        MetadataRetryConfig { max: 3, backoff: Duration::from_millis(250) }
    }
}

/// The client fields both components take, gathered from either config. The exporter's and
/// receiver's configs repeat these fields instead of `#[serde(flatten)]`ing this struct:
/// serde's `deny_unknown_fields` (what gives users "unknown field, did you mean") does not
/// work through `flatten`.
#[derive(Clone, Debug, PartialEq)]
pub struct KafkaClientConfig {
    /// Bootstrap servers, `host:port`.
    pub brokers: Vec<String>,
    /// Kafka version of the brokers (`2.1.0`), for brokers too old to say (librdkafka
    /// `broker.version.fallback`).
    pub protocol_version: String,
    /// `client.id`.
    pub client_id: String,
    /// librdkafka `client.dns.lookup=resolve_canonical_bootstrap_servers_only`.
    pub resolve_canonical_bootstrap_servers_only: bool,
    /// Idle broker connections are closed after this (`connections.max.idle.ms`; 0 = never).
    pub conn_idle_timeout: Duration,
    /// `client.rack`.
    pub rack_id: String,
    /// TLS to the brokers; unset = plaintext.
    pub tls: Option<ClientTlsConfig>,
    /// SASL (and the deprecated forms).
    pub auth: AuthConfig,
    /// Metadata refresh.
    pub metadata: MetadataConfig,
    /// Accepted; librdkafka always uses leader epochs (KIP-320) when the broker has them.
    pub use_leader_epoch: bool,
}

impl Default for KafkaClientConfig {
    fn default() -> Self {
        KafkaClientConfig {
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
        }
    }
}

/// `[localhost:9092]`.
pub fn default_brokers() -> Vec<String> {
    vec!["localhost:9092".to_string()]
}

/// `otel-collector`.
pub fn default_client_id() -> String {
    "otel-collector".to_string()
}

/// 9 minutes, as the Collector.
pub fn default_conn_idle_timeout() -> Duration {
    Duration::from_secs(9 * 60)
}

/// SASL mechanisms librdkafka (built with OpenSSL) can do with a user name and password.
const SASL_MECHANISMS: [&str; 3] = ["PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512"];

/// Checks a Kafka version string as the Collector does (Sarama's rules): `0.x.y.z` before
/// 1.0, `x.y.z` after (`0.10.2.1`, `2.1.0`, `3.7.0`).
pub fn parse_kafka_version(v: &str) -> Result<Vec<u32>, String> {
    let parts: Vec<&str> = v.split('.').collect();
    let numbers: Option<Vec<u32>> = parts
        .iter()
        .map(|p| (!p.is_empty() && p.bytes().all(|b| b.is_ascii_digit())).then(|| p.parse().ok()).flatten())
        .collect();
    let bad = || format!("invalid version \"{v}\": expected a Kafka version such as 2.1.0 (or 0.10.2.1 before 1.0)");
    let numbers = numbers.ok_or_else(bad)?;
    match (numbers.first(), numbers.len()) {
        (Some(0), 4) => Ok(numbers),
        (Some(n), 3) if *n > 0 => Ok(numbers),
        _ => Err(bad()),
    }
}

/// Milliseconds for a librdkafka integer property, capped at `max`.
fn millis(d: Duration, max: u64) -> String {
    (d.as_millis().min(max as u128) as u64).to_string()
}

impl KafkaClientConfig {
    /// The TLS settings in force: `tls`, else the deprecated `auth.tls`. `insecure: true`
    /// without a CA means plaintext, as in the Collector (configtls gives no TLS config then).
    pub fn effective_tls(&self) -> Option<&ClientTlsConfig> {
        self.tls.as_ref().or(self.auth.tls.as_ref()).filter(|t| !t.insecure || t.has_ca())
    }

    /// Field checks, keys relative to the component body.
    pub fn validate(&self) -> Vec<FieldError> {
        let mut e = Vec::new();
        if self.brokers.is_empty() {
            e.push(FieldError::new("brokers", "brokers must be specified"));
        }
        for b in &self.brokers {
            if b.trim().is_empty() || b.contains(',') || b.contains("://") {
                e.push(FieldError::new(
                    "brokers",
                    format!("invalid broker \"{b}\": expected host:port, one broker per list entry"),
                ));
            }
        }
        if !self.protocol_version.is_empty() {
            if let Err(m) = parse_kafka_version(&self.protocol_version) {
                e.push(FieldError::new("protocol_version", format!("invalid protocol version: {m}")));
            }
        }
        if self.metadata.refresh_interval > Duration::from_secs(3600) {
            e.push(FieldError::new(
                "metadata::refresh_interval",
                "at most 1h (librdkafka's topic.metadata.refresh.interval.ms limit)",
            ));
        }
        if self.metadata.retry.backoff > Duration::from_secs(300) {
            e.push(FieldError::new("metadata::retry::backoff", "at most 5m (librdkafka's retry.backoff.ms limit)"));
        }
        if self.conn_idle_timeout.as_millis() > i32::MAX as u128 {
            e.push(FieldError::new("conn_idle_timeout", "at most 596h (librdkafka's connections.max.idle.ms limit)"));
        }
        e.extend(self.validate_auth());
        for (prefix, tls) in [("tls", &self.tls), ("auth::tls", &self.auth.tls)] {
            if let Some(t) = tls {
                e.extend(t.validate(prefix));
                e.extend(validate_tls_for_librdkafka(prefix, t));
            }
        }
        e
    }

    fn validate_auth(&self) -> Vec<FieldError> {
        let mut e = Vec::new();
        if self.auth.kerberos.is_some() {
            e.push(FieldError::new(
                "auth::kerberos",
                "Kerberos (GSSAPI) authentication is not supported; use auth::sasl with PLAIN, SCRAM-SHA-256 or SCRAM-SHA-512",
            ));
        }
        if self.auth.sasl.is_some() && self.auth.plain_text.is_some() {
            e.push(FieldError::new("auth::plain_text", "set auth::sasl or the deprecated auth::plain_text, not both"));
        }
        if let Some(p) = &self.auth.plain_text {
            if p.username.is_empty() {
                e.push(FieldError::new("auth::plain_text::username", "username is required"));
            }
            if p.password.is_empty() {
                e.push(FieldError::new("auth::plain_text::password", "password is required"));
            }
        }
        let Some(s) = &self.auth.sasl else { return e };
        match s.mechanism.as_str() {
            m if SASL_MECHANISMS.contains(&m) => {
                if s.username.is_empty() {
                    e.push(FieldError::new("auth::sasl::username", "username is required"));
                }
                if s.password.is_empty() {
                    e.push(FieldError::new("auth::sasl::password", "password is required"));
                }
            }
            "AWS_MSK_IAM_OAUTHBEARER" | "AWS_MSK_IAM" => e.push(FieldError::new(
                "auth::sasl::mechanism",
                format!(
                    "mechanism \"{}\" (AWS MSK IAM) is not supported; supported: PLAIN, SCRAM-SHA-256, SCRAM-SHA-512",
                    s.mechanism
                ),
            )),
            "OAUTHBEARER" | "GSSAPI" => e.push(FieldError::new(
                "auth::sasl::mechanism",
                format!(
                    "mechanism \"{}\" is not supported; supported: PLAIN, SCRAM-SHA-256, SCRAM-SHA-512",
                    s.mechanism
                ),
            )),
            other => e.push(FieldError::new(
                "auth::sasl::mechanism",
                format!("unknown mechanism \"{other}\": expected PLAIN, SCRAM-SHA-256 or SCRAM-SHA-512"),
            )),
        }
        if !(0..=1).contains(&s.version) {
            e.push(FieldError::new("auth::sasl::version", format!("version has to be 0 or 1, not {}", s.version)));
        }
        if s.aws_msk.is_some() {
            e.push(FieldError::new("auth::sasl::aws_msk", "AWS MSK IAM authentication is not supported"));
        }
        if s.oauthbearer_token_source.is_some() {
            e.push(FieldError::new("auth::sasl::oauthbearer_token_source", "OAUTHBEARER is not supported"));
        }
        e
    }

    /// Deprecated spellings in use, for a warning when the component is built.
    pub fn deprecations(&self) -> Vec<&'static str> {
        let mut d = Vec::new();
        if self.auth.plain_text.is_some() {
            d.push("auth::plain_text is deprecated: use auth::sasl with mechanism: PLAIN");
        }
        if self.auth.tls.is_some() {
            d.push("auth::tls is deprecated: use tls (at the top level of the component)");
        }
        d
    }

    /// The librdkafka properties for these fields (connection, TLS, SASL, metadata). The
    /// component adds its producer or consumer properties.
    pub fn to_rdkafka(&self) -> ClientConfig {
        let mut c = ClientConfig::new();
        // Warnings and errors reach `tracing` through [`KafkaLogContext`]; below that is noise.
        c.set_log_level(RDKafkaLogLevel::Warning);
        c.set("bootstrap.servers", self.brokers.join(","));
        if !self.client_id.is_empty() {
            c.set("client.id", &self.client_id);
        }
        if !self.protocol_version.is_empty() {
            c.set("broker.version.fallback", &self.protocol_version);
        }
        if self.resolve_canonical_bootstrap_servers_only {
            c.set("client.dns.lookup", "resolve_canonical_bootstrap_servers_only");
        }
        if !self.conn_idle_timeout.is_zero() {
            c.set("connections.max.idle.ms", millis(self.conn_idle_timeout, i32::MAX as u64));
        }
        if !self.rack_id.is_empty() {
            c.set("client.rack", &self.rack_id);
        }
        if !self.metadata.refresh_interval.is_zero() {
            c.set("topic.metadata.refresh.interval.ms", millis(self.metadata.refresh_interval, 3_600_000));
        }
        if !self.metadata.retry.backoff.is_zero() {
            let ms = self.metadata.retry.backoff.as_millis().clamp(1, 300_000) as u64;
            c.set("retry.backoff.ms", ms.to_string());
            // librdkafka refuses a first backoff above the cap (default 1s).
            c.set("retry.backoff.max.ms", ms.max(1000).to_string());
        }
        let tls = self.effective_tls();
        let sasl = self.sasl_credentials();
        let protocol = match (tls.is_some(), sasl.is_some()) {
            (false, false) => "plaintext",
            (true, false) => "ssl",
            (false, true) => "sasl_plaintext",
            (true, true) => "sasl_ssl",
        };
        c.set("security.protocol", protocol);
        if let Some(t) = tls {
            set_tls(&mut c, t);
        }
        if let Some((mechanism, user, password)) = sasl {
            c.set("sasl.mechanism", mechanism);
            c.set("sasl.username", user);
            c.set("sasl.password", password);
        }
        c
    }

    /// `(mechanism, username, password)` from `auth.sasl` or the deprecated `auth.plain_text`.
    fn sasl_credentials(&self) -> Option<(&str, &str, &str)> {
        if let Some(s) = &self.auth.sasl {
            return Some((s.mechanism.as_str(), s.username.as_str(), s.password.as_str()));
        }
        self.auth.plain_text.as_ref().map(|p| ("PLAIN", p.username.as_str(), p.password.as_str()))
    }
}

/// TLS fields OpenSSL (through librdkafka) cannot honour are refused rather than ignored.
fn validate_tls_for_librdkafka(prefix: &str, t: &ClientTlsConfig) -> Vec<FieldError> {
    let mut e = Vec::new();
    let unsupported = |field: &str, why: &str| FieldError::new(format!("{prefix}::{field}"), why.to_string());
    if t.server_name_override.is_some() {
        e.push(unsupported(
            "server_name_override",
            "not supported by the Kafka client: brokers are verified against the names they advertise",
        ));
    }
    if !t.cipher_suites.is_empty() {
        e.push(unsupported("cipher_suites", "not supported by the Kafka client (OpenSSL defaults are used)"));
    }
    if !t.curve_preferences.is_empty() {
        e.push(unsupported("curve_preferences", "not supported by the Kafka client (OpenSSL defaults are used)"));
    }
    if let Some(v) = &t.min_version {
        if !matches!(v.as_str(), "" | "1.0" | "1.1" | "1.2") {
            e.push(unsupported(
                "min_version",
                "the Kafka client cannot enforce a minimum TLS version above 1.2; leave it unset",
            ));
        }
    }
    if let Some(v) = &t.max_version {
        if !matches!(v.as_str(), "" | "1.3") {
            e.push(unsupported(
                "max_version",
                "the Kafka client cannot limit the TLS version; leave it unset (or 1.3)",
            ));
        }
    }
    if t.include_system_ca_certs_pool && t.has_ca() {
        e.push(unsupported(
            "include_system_ca_certs_pool",
            "not supported by the Kafka client together with ca_file/ca_pem: put the system roots in the CA bundle",
        ));
    }
    e
}

fn set_tls(c: &mut ClientConfig, t: &ClientTlsConfig) {
    if let Some(f) = &t.ca_file {
        c.set("ssl.ca.location", f);
    }
    if let Some(p) = &t.ca_pem {
        c.set("ssl.ca.pem", p);
    }
    if let Some(f) = &t.cert_file {
        c.set("ssl.certificate.location", f);
    }
    if let Some(p) = &t.cert_pem {
        c.set("ssl.certificate.pem", p);
    }
    if let Some(f) = &t.key_file {
        c.set("ssl.key.location", f);
    }
    if let Some(p) = &t.key_pem {
        c.set("ssl.key.pem", p);
    }
    if t.insecure_skip_verify {
        c.set("enable.ssl.certificate.verification", "false");
        c.set("ssl.endpoint.identification.algorithm", "none");
    }
}

/// A librdkafka client context that sends its log lines and global errors to `tracing`,
/// each facility at most once per 10 s (a down broker is reported on every reconnect).
pub struct KafkaLogContext {
    component: String,
    throttles: Mutex<HashMap<String, LogThrottle>>,
}

impl KafkaLogContext {
    /// For the component with this id (named in every line).
    pub fn new(component: impl Into<String>) -> Self {
        KafkaLogContext { component: component.into(), throttles: Mutex::new(HashMap::new()) }
    }

    /// `Some(suppressed)` when a line of this kind may be logged now.
    fn allow(&self, kind: &str) -> Option<u64> {
        let mut map = self.throttles.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        if map.len() > 256 {
            map.clear();
        }
        map.entry(kind.to_string()).or_default().allow()
    }
}

impl ClientContext for KafkaLogContext {
    fn log(&self, level: RDKafkaLogLevel, fac: &str, log_message: &str) {
        let Some(suppressed) = self.allow(fac) else { return };
        let c = self.component.as_str();
        match level {
            RDKafkaLogLevel::Emerg | RDKafkaLogLevel::Alert | RDKafkaLogLevel::Critical | RDKafkaLogLevel::Error => {
                tracing::error!(component = c, facility = fac, suppressed, "librdkafka: {log_message}")
            }
            RDKafkaLogLevel::Warning => {
                tracing::warn!(component = c, facility = fac, suppressed, "librdkafka: {log_message}")
            }
            RDKafkaLogLevel::Notice | RDKafkaLogLevel::Info => {
                tracing::info!(component = c, facility = fac, suppressed, "librdkafka: {log_message}")
            }
            RDKafkaLogLevel::Debug => tracing::debug!(component = c, facility = fac, "librdkafka: {log_message}"),
        }
    }

    fn error(&self, error: KafkaError, reason: &str) {
        let kind = format!("error:{:?}", error.rdkafka_error_code());
        if let Some(suppressed) = self.allow(&kind) {
            tracing::warn!(component = %self.component, suppressed, "Kafka client: {reason} ({error})");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn props(c: &KafkaClientConfig) -> std::collections::BTreeMap<String, String> {
        let cfg = c.to_rdkafka();
        // librdkafka itself must accept every property we set.
        if let Err(e) = cfg.create_native_config() {
            panic!("librdkafka refused the config: {e}");
        }
        cfg.config_map().keys().map(|k| (k.to_string(), cfg.get(k).unwrap_or_default().to_string())).collect()
    }

    #[test]
    fn kafka_versions_follow_the_collector_rules() {
        assert!(parse_kafka_version("2.1.0").is_ok());
        assert!(parse_kafka_version("3.7.0").is_ok());
        assert!(parse_kafka_version("0.10.2.1").is_ok());
        for bad in ["2.1", "0.10.2", "v2.1.0", "2.1.0.1", "", "a.b.c", "2..1"] {
            assert!(parse_kafka_version(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn defaults_map_to_plaintext_with_the_collector_client_id() {
        let p = props(&KafkaClientConfig::default());
        assert_eq!(p["bootstrap.servers"], "localhost:9092");
        assert_eq!(p["client.id"], "otel-collector");
        assert_eq!(p["security.protocol"], "plaintext");
        assert_eq!(p["connections.max.idle.ms"], "540000");
        assert_eq!(p["topic.metadata.refresh.interval.ms"], "600000");
        assert_eq!(p["retry.backoff.ms"], "250");
        assert!(!p.contains_key("sasl.mechanism"));
        assert!(KafkaClientConfig::default().validate().is_empty());
    }

    #[test]
    fn sasl_scram_over_tls_maps_to_sasl_ssl() {
        let c = KafkaClientConfig {
            brokers: vec!["k1:9093".into(), "k2:9093".into()],
            protocol_version: "2.1.0".into(),
            rack_id: "eu-1a".into(),
            resolve_canonical_bootstrap_servers_only: true,
            tls: Some(ClientTlsConfig {
                insecure_skip_verify: true,
                ca_pem: Some("-----BEGIN CERTIFICATE-----\n-----END CERTIFICATE-----\n".into()),
                ..Default::default()
            }),
            auth: AuthConfig {
                sasl: Some(SaslConfig {
                    username: "u".into(),
                    password: "p".into(),
                    mechanism: "SCRAM-SHA-512".into(),
                    ..Default::default()
                }),
                ..Default::default()
            },
            ..Default::default()
        };
        assert!(c.validate().is_empty(), "{:?}", c.validate());
        let cfg = c.to_rdkafka();
        if let Err(e) = cfg.create_native_config() {
            panic!("librdkafka refused the config: {e}");
        }
        assert_eq!(cfg.get("bootstrap.servers"), Some("k1:9093,k2:9093"));
        assert_eq!(cfg.get("security.protocol"), Some("sasl_ssl"));
        assert_eq!(cfg.get("sasl.mechanism"), Some("SCRAM-SHA-512"));
        assert_eq!(cfg.get("sasl.username"), Some("u"));
        assert_eq!(cfg.get("sasl.password"), Some("p"));
        assert_eq!(cfg.get("enable.ssl.certificate.verification"), Some("false"));
        assert_eq!(cfg.get("broker.version.fallback"), Some("2.1.0"));
        assert_eq!(cfg.get("client.rack"), Some("eu-1a"));
        assert_eq!(cfg.get("client.dns.lookup"), Some("resolve_canonical_bootstrap_servers_only"));
        assert!(cfg.get("ssl.ca.pem").is_some());
    }

    #[test]
    fn deprecated_plain_text_and_auth_tls_still_work() {
        let c = KafkaClientConfig {
            auth: AuthConfig {
                plain_text: Some(PlainTextConfig { username: "u".into(), password: "p".into() }),
                tls: Some(ClientTlsConfig { ca_file: Some("/etc/ca.pem".into()), ..Default::default() }),
                ..Default::default()
            },
            ..Default::default()
        };
        assert!(c.validate().is_empty());
        assert_eq!(c.deprecations().len(), 2);
        let cfg = c.to_rdkafka();
        assert_eq!(cfg.get("security.protocol"), Some("sasl_ssl"));
        assert_eq!(cfg.get("sasl.mechanism"), Some("PLAIN"));
        assert_eq!(cfg.get("ssl.ca.location"), Some("/etc/ca.pem"));
    }

    #[test]
    fn insecure_tls_without_ca_is_plaintext() {
        let c = KafkaClientConfig {
            tls: Some(ClientTlsConfig { insecure: true, ..Default::default() }),
            ..Default::default()
        };
        assert_eq!(c.to_rdkafka().get("security.protocol"), Some("plaintext"));
    }

    #[test]
    fn unsupported_auth_is_refused_by_name() {
        let fields = |c: &KafkaClientConfig| c.validate().into_iter().map(|e| (e.field, e.message)).collect::<Vec<_>>();
        let mut c = KafkaClientConfig::default();
        c.auth.sasl = Some(SaslConfig { mechanism: "AWS_MSK_IAM_OAUTHBEARER".into(), ..Default::default() });
        let e = fields(&c);
        assert_eq!(e[0].0, "auth::sasl::mechanism");
        assert!(e[0].1.contains("not supported"), "{e:?}");
        c.auth.sasl = Some(SaslConfig { mechanism: "PLAIN".into(), ..Default::default() });
        let e = fields(&c);
        assert!(e.iter().any(|(f, m)| f == "auth::sasl::username" && m.contains("required")), "{e:?}");
        c.auth.sasl = None;
        c.auth.kerberos = Some(KerberosConfig::default());
        assert!(fields(&c)[0].1.contains("Kerberos (GSSAPI) authentication is not supported"));
        let c = KafkaClientConfig { brokers: vec![], protocol_version: "2.1".into(), ..Default::default() };
        let e = fields(&c);
        assert!(e.iter().any(|(f, _)| f == "brokers"));
        assert!(e.iter().any(|(f, _)| f == "protocol_version"));
        let c = KafkaClientConfig {
            tls: Some(ClientTlsConfig { server_name_override: Some("x".into()), ..Default::default() }),
            ..Default::default()
        };
        assert_eq!(fields(&c)[0].0, "tls::server_name_override");
    }
}
