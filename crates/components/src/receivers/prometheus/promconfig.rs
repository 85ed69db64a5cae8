//! The Prometheus configuration the receiver's `config:` holds: `global` and
//! `scrape_configs`, with Prometheus's field names and defaults (prometheus/config,
//! prometheus/common/config for the HTTP client, model/relabel), so a `prometheus.yml`
//! pasted under `config:` means what it means to Prometheus.

use std::collections::BTreeMap;
use std::time::Duration;

use serde::{Deserialize, Deserializer};
use switchyard_core::component::FieldError;

use super::kubernetes::KubernetesSdConfig;
use super::relabel::{RelabelConfig, RelabelStage};

/// Prometheus's default `scrape_interval`.
pub const DEFAULT_SCRAPE_INTERVAL: Duration = Duration::from_secs(60);
/// Prometheus's default `scrape_timeout`.
pub const DEFAULT_SCRAPE_TIMEOUT: Duration = Duration::from_secs(10);

/// Parses a Prometheus duration (`1y2w3d4h5m6s7ms`, units in that order, each at most once;
/// `0` alone is zero). A year is 365 days, as in Prometheus.
pub fn parse_duration(s: &str) -> Result<Duration, String> {
    let s = s.trim();
    if s == "0" {
        return Ok(Duration::ZERO);
    }
    if s.is_empty() {
        return Err("empty duration string".into());
    }
    const UNITS: [(&str, u64); 7] = [
        ("y", 365 * 86_400_000),
        ("w", 7 * 86_400_000),
        ("d", 86_400_000),
        ("h", 3_600_000),
        ("m", 60_000),
        ("s", 1000),
        ("ms", 1),
    ];
    let bad = || format!("not a valid duration string: \"{s}\" (expected e.g. 30s, 1m, 1h30m)");
    let mut rest = s;
    let mut next_unit = 0;
    let mut total: u64 = 0;
    while !rest.is_empty() {
        let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
        if digits == 0 {
            return Err(bad());
        }
        let n: u64 = rest[..digits].parse().map_err(|_| bad())?;
        rest = &rest[digits..];
        let unit_len = rest.bytes().take_while(u8::is_ascii_alphabetic).count();
        let unit = &rest[..unit_len];
        rest = &rest[unit_len..];
        let i = UNITS.iter().position(|(u, _)| *u == unit).ok_or_else(bad)?;
        if i < next_unit {
            return Err(bad());
        }
        next_unit = i + 1;
        total = n.checked_mul(UNITS[i].1).and_then(|v| total.checked_add(v)).ok_or_else(bad)?;
    }
    Ok(Duration::from_millis(total))
}

fn de_duration<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Duration>, D::Error> {
    let s: Option<String> = Option::deserialize(d)?;
    s.map(|s| parse_duration(&s).map_err(serde::de::Error::custom)).transpose()
}

/// Parses a size with Prometheus's units (`10MB`, `1GiB`...; bare numbers are bytes).
pub fn parse_size(s: &str) -> Result<u64, String> {
    let s = s.trim();
    let split = s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len());
    let n: u64 = s[..split].parse().map_err(|_| format!("not a valid size: \"{s}\""))?;
    let mult: u64 = match s[split..].trim() {
        "" | "B" => 1,
        "KB" | "KiB" => 1 << 10,
        "MB" | "MiB" => 1 << 20,
        "GB" | "GiB" => 1 << 30,
        "TB" | "TiB" => 1 << 40,
        u => return Err(format!("not a valid size: \"{s}\" (unknown unit \"{u}\")")),
    };
    n.checked_mul(mult).ok_or_else(|| format!("size \"{s}\" is too large"))
}

fn de_size<'de, D: Deserializer<'de>>(d: D) -> Result<Option<u64>, D::Error> {
    let s: Option<String> = Option::deserialize(d)?;
    s.map(|s| parse_size(&s).map_err(serde::de::Error::custom)).transpose()
}

/// `config:`: a Prometheus configuration file's scraping part.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct PromConfig {
    /// Defaults for every scrape config.
    pub global: GlobalConfig,
    /// What to scrape.
    pub scrape_configs: Vec<ScrapeConfig>,
    /// Prometheus-server sections a pasted `prometheus.yml` may carry; refused by validate
    /// (the Collector ignores or refuses them too).
    pub rule_files: Option<serde_yaml_ignored::Ignored>,
    /// See `rule_files`.
    pub alerting: Option<serde_yaml_ignored::Ignored>,
    /// See `rule_files`.
    pub remote_write: Option<serde_yaml_ignored::Ignored>,
    /// See `rule_files`.
    pub remote_read: Option<serde_yaml_ignored::Ignored>,
    /// Accepted only empty (scrape configs from other files are not supported).
    pub scrape_config_files: Vec<String>,
}

/// A placeholder for sections that are only checked for presence.
pub mod serde_yaml_ignored {
    use serde::Deserialize;
    /// Any YAML value, dropped.
    #[derive(Clone, Debug, Default)]
    pub struct Ignored;
    impl<'de> Deserialize<'de> for Ignored {
        fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
            serde::de::IgnoredAny::deserialize(d)?;
            Ok(Ignored)
        }
    }
}

/// `global:`.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct GlobalConfig {
    /// Default scrape interval (1m).
    #[serde(deserialize_with = "de_duration")]
    pub scrape_interval: Option<Duration>,
    /// Default scrape timeout (10s).
    #[serde(deserialize_with = "de_duration")]
    pub scrape_timeout: Option<Duration>,
    /// Labels added to every sample (scraped labels win).
    pub external_labels: BTreeMap<String, String>,
    /// Rule evaluation (not used by a receiver; accepted).
    #[serde(deserialize_with = "de_duration")]
    pub evaluation_interval: Option<Duration>,
    /// Accepted for compatibility; the receiver always asks for these formats.
    pub scrape_protocols: Vec<String>,
    /// Default sample limit (0 = none).
    pub sample_limit: Option<u64>,
    /// Default body size limit.
    #[serde(deserialize_with = "de_size")]
    pub body_size_limit: Option<u64>,
}

impl GlobalConfig {
    /// The global interval with its default.
    pub fn interval(&self) -> Duration {
        self.scrape_interval.unwrap_or(DEFAULT_SCRAPE_INTERVAL)
    }
    /// The global timeout with its default.
    pub fn timeout(&self) -> Duration {
        self.scrape_timeout.unwrap_or(DEFAULT_SCRAPE_TIMEOUT)
    }
}

/// One `static_configs` entry.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct StaticConfig {
    /// `host:port` addresses.
    pub targets: Vec<String>,
    /// Labels of every target of the group.
    pub labels: BTreeMap<String, String>,
}

/// One `file_sd_configs` entry: JSON or YAML files listing target groups.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct FileSdConfig {
    /// Paths; the last path element may hold a `*` glob.
    pub files: Vec<String>,
    /// How often the files are read again (5m).
    #[serde(deserialize_with = "de_duration")]
    pub refresh_interval: Option<Duration>,
}

/// `basic_auth:`.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct BasicAuth {
    /// User name.
    pub username: String,
    /// File holding the user name.
    pub username_file: Option<String>,
    /// Password.
    pub password: Option<String>,
    /// File holding the password (read at every scrape, as Prometheus does).
    pub password_file: Option<String>,
}

/// `authorization:`.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Authorization {
    /// The scheme (`Bearer` by default).
    #[serde(rename = "type")]
    pub kind: Option<String>,
    /// The credentials.
    pub credentials: Option<String>,
    /// File holding the credentials (read at every scrape).
    pub credentials_file: Option<String>,
}

/// `tls_config:`.
#[derive(Clone, Debug, Default, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct TlsConfig {
    /// CA bundle file.
    pub ca_file: Option<String>,
    /// CA bundle text.
    pub ca: Option<String>,
    /// Client certificate file.
    pub cert_file: Option<String>,
    /// Client certificate text.
    pub cert: Option<String>,
    /// Client key file.
    pub key_file: Option<String>,
    /// Client key text.
    pub key: Option<String>,
    /// Name checked against the server certificate (and sent as SNI).
    pub server_name: Option<String>,
    /// Skip verifying the server certificate.
    pub insecure_skip_verify: bool,
    /// Lowest TLS version (`TLS12`, `TLS13`).
    pub min_version: Option<String>,
    /// Highest TLS version.
    pub max_version: Option<String>,
}

/// One `scrape_configs` entry.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ScrapeConfig {
    /// The job (label `job`, resource `service.name`).
    pub job_name: String,
    /// Scraped labels win over target labels (else they are renamed `exported_<name>`).
    pub honor_labels: bool,
    /// Use the timestamps the target exposes (default true).
    pub honor_timestamps: Option<bool>,
    /// Accepted; staleness of explicit timestamps is not tracked.
    pub track_timestamps_staleness: bool,
    /// How often (default: global, 1m).
    #[serde(deserialize_with = "de_duration")]
    pub scrape_interval: Option<Duration>,
    /// Per scrape (default: global 10s, at most the interval).
    #[serde(deserialize_with = "de_duration")]
    pub scrape_timeout: Option<Duration>,
    /// Accepted; the receiver asks for OpenMetrics 1.0 and the text format 0.0.4.
    pub scrape_protocols: Vec<String>,
    /// Accepted; classic histograms are always kept.
    pub scrape_classic_histograms: bool,
    /// Accepted; classic histograms are always kept.
    pub always_scrape_classic_histograms: bool,
    /// Path (default `/metrics`).
    pub metrics_path: Option<String>,
    /// `http` (default) or `https`.
    pub scheme: Option<String>,
    /// URL query parameters.
    pub params: BTreeMap<String, Vec<String>>,
    /// Ask for gzip (default true).
    pub enable_compression: Option<bool>,
    /// Largest uncompressed body; larger fails the scrape (0 = no limit).
    #[serde(deserialize_with = "de_size")]
    pub body_size_limit: Option<u64>,
    /// Most samples after metric relabeling; more fails the scrape (0 = no limit).
    pub sample_limit: Option<u64>,
    /// Most labels per sample (0 = no limit).
    pub label_limit: u64,
    /// Longest label name (0 = no limit).
    pub label_name_length_limit: u64,
    /// Longest label value (0 = no limit).
    pub label_value_length_limit: u64,
    /// Most targets after relabeling (0 = no limit).
    pub target_limit: u64,
    /// Fixed targets.
    pub static_configs: Vec<StaticConfig>,
    /// Targets from files.
    pub file_sd_configs: Vec<FileSdConfig>,
    /// Targets from the Kubernetes API.
    pub kubernetes_sd_configs: Vec<KubernetesSdConfig>,
    /// Rewrites target labels before scraping.
    pub relabel_configs: Vec<RelabelConfig>,
    /// Rewrites sample labels after scraping.
    pub metric_relabel_configs: Vec<RelabelConfig>,
    /// HTTP basic authentication.
    pub basic_auth: Option<BasicAuth>,
    /// `Authorization` header.
    pub authorization: Option<Authorization>,
    /// Deprecated Prometheus spelling of `authorization: {credentials}`.
    pub bearer_token: Option<String>,
    /// Deprecated Prometheus spelling of `authorization: {credentials_file}`.
    pub bearer_token_file: Option<String>,
    /// TLS for https targets.
    pub tls_config: TlsConfig,
    /// Follow redirects (default true).
    pub follow_redirects: Option<bool>,
    /// Allow HTTP/2 (default true).
    pub enable_http2: Option<bool>,
    /// HTTP proxy.
    pub proxy_url: Option<String>,
    /// Not supported (refused by validate).
    pub oauth2: Option<serde_yaml_ignored::Ignored>,
}

impl ScrapeConfig {
    /// The interval, with the global default.
    pub fn interval(&self, g: &GlobalConfig) -> Duration {
        self.scrape_interval.unwrap_or_else(|| g.interval())
    }

    /// The timeout: its own, else the global one capped at the interval (as Prometheus).
    pub fn timeout(&self, g: &GlobalConfig) -> Duration {
        self.scrape_timeout.unwrap_or_else(|| g.timeout().min(self.interval(g)))
    }

    /// The path, default `/metrics`.
    pub fn metrics_path(&self) -> &str {
        self.metrics_path.as_deref().unwrap_or("/metrics")
    }

    /// The scheme, default `http`.
    pub fn scheme(&self) -> &str {
        self.scheme.as_deref().unwrap_or("http")
    }

    /// Field checks; `p` is the key path of this entry.
    pub fn validate(&self, p: &str, g: &GlobalConfig, e: &mut Vec<FieldError>) {
        if self.job_name.is_empty() {
            e.push(FieldError::new(format!("{p}::job_name"), "job_name is empty"));
        }
        let interval = self.interval(g);
        if interval.is_zero() {
            e.push(FieldError::new(format!("{p}::scrape_interval"), "must be positive"));
        }
        if self.timeout(g).is_zero() {
            e.push(FieldError::new(format!("{p}::scrape_timeout"), "must be positive"));
        }
        if self.timeout(g) > interval {
            e.push(FieldError::new(
                format!("{p}::scrape_timeout"),
                format!(
                    "scrape timeout greater than scrape interval for scrape config with job name \"{}\"",
                    self.job_name
                ),
            ));
        }
        if !matches!(self.scheme(), "http" | "https") {
            e.push(FieldError::new(
                format!("{p}::scheme"),
                format!("unknown scheme \"{}\" (http or https)", self.scheme()),
            ));
        }
        if !self.metrics_path().starts_with('/') {
            e.push(FieldError::new(format!("{p}::metrics_path"), "must start with /"));
        }
        for (i, f) in self.file_sd_configs.iter().enumerate() {
            if f.files.is_empty() {
                e.push(FieldError::new(format!("{p}::file_sd_configs::{i}::files"), "list at least one file"));
            }
            for path in &f.files {
                let ok = [".json", ".yml", ".yaml"].iter().any(|x| path.ends_with(x));
                if !ok {
                    e.push(FieldError::new(
                        format!("{p}::file_sd_configs::{i}::files"),
                        format!("path \"{path}\" must end in .json, .yml or .yaml"),
                    ));
                }
            }
        }
        for (i, k) in self.kubernetes_sd_configs.iter().enumerate() {
            k.validate(&format!("{p}::kubernetes_sd_configs::{i}"), e);
        }
        if self.oauth2.is_some() {
            e.push(FieldError::new(format!("{p}::oauth2"), "oauth2 is not supported yet"));
        }
        let auths = [
            self.basic_auth.is_some(),
            self.authorization.is_some(),
            self.bearer_token.is_some() || self.bearer_token_file.is_some(),
        ];
        if auths.iter().filter(|a| **a).count() > 1 {
            e.push(FieldError::new(
                format!("{p}::authorization"),
                "at most one of basic_auth, authorization (or bearer_token/bearer_token_file) must be configured",
            ));
        }
        if self.bearer_token.is_some() && self.bearer_token_file.is_some() {
            e.push(FieldError::new(
                format!("{p}::bearer_token"),
                "at most one of bearer_token & bearer_token_file must be configured",
            ));
        }
        if let Some(b) = &self.basic_auth {
            if b.password.is_some() && b.password_file.is_some() {
                e.push(FieldError::new(
                    format!("{p}::basic_auth"),
                    "at most one of basic_auth password & password_file must be configured",
                ));
            }
            if !b.username.is_empty() && b.username_file.is_some() {
                e.push(FieldError::new(
                    format!("{p}::basic_auth"),
                    "at most one of basic_auth username & username_file must be configured",
                ));
            }
        }
        if let Some(a) = &self.authorization {
            if a.credentials.is_some() && a.credentials_file.is_some() {
                e.push(FieldError::new(
                    format!("{p}::authorization"),
                    "at most one of authorization credentials & credentials_file must be configured",
                ));
            }
            if a.kind.as_deref().is_some_and(|k| k.eq_ignore_ascii_case("basic")) {
                e.push(FieldError::new(
                    format!("{p}::authorization::type"),
                    "authorization type cannot be set to \"basic\", use \"basic_auth\" instead",
                ));
            }
        }
        let t = &self.tls_config;
        if t.ca_file.is_some() && t.ca.is_some() {
            e.push(FieldError::new(format!("{p}::tls_config"), "at most one of ca and ca_file must be configured"));
        }
        if (t.cert_file.is_some() || t.cert.is_some()) != (t.key_file.is_some() || t.key.is_some()) {
            e.push(FieldError::new(
                format!("{p}::tls_config"),
                "a client certificate needs both cert_file and key_file",
            ));
        }
        for (i, r) in self.relabel_configs.iter().enumerate() {
            r.validate(&format!("{p}::relabel_configs::{i}"), RelabelStage::Target, e);
        }
        for (i, r) in self.metric_relabel_configs.iter().enumerate() {
            r.validate(&format!("{p}::metric_relabel_configs::{i}"), RelabelStage::Metric, e);
        }
    }
}
