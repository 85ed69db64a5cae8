//! `exporters: prometheus:` configuration (the Collector's fields and defaults).

use std::collections::BTreeMap;
use std::time::Duration;

use serde::de::IgnoredAny;
use serde::Deserialize;
use switchyard_core::component::{ComponentConfig, FieldError};
use switchyard_core::confignet::tls::ServerTlsConfig;

/// `resource_to_telemetry_conversion:`.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ResourceToTelemetryConfig {
    /// Every resource attribute as a label on every series.
    pub enabled: bool,
}

/// The translation strategies the Collector knows.
pub const STRATEGIES: [&str; 4] = [
    "UnderscoreEscapingWithSuffixes",
    "UnderscoreEscapingWithoutSuffixes",
    "NoUTF8EscapingWithSuffixes",
    "NoTranslation",
];

/// The prometheus exporter's config.
#[derive(Clone, Debug, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct PrometheusExporterConfig {
    /// `host:port` serving `/metrics` (required; `:8889` means every interface).
    pub endpoint: String,
    /// Server TLS on the scrape endpoint.
    pub tls: Option<ServerTlsConfig>,
    /// Deadline for a scraper's request headers (default 60s).
    #[serde(with = "humantime_serde")]
    pub read_header_timeout: Option<Duration>,
    /// Prefix of every metric name.
    pub namespace: String,
    /// Labels on every series (a point's own attribute of the same name wins).
    pub const_labels: BTreeMap<String, String>,
    /// Write each sample's timestamp (default false: Prometheus stamps the scrape time).
    pub send_timestamps: bool,
    /// Series not updated for this long are no longer served (default 5m).
    #[serde(with = "humantime_serde")]
    pub metric_expiration: Duration,
    /// Every resource attribute as a label.
    pub resource_to_telemetry_conversion: ResourceToTelemetryConfig,
    /// Serve OpenMetrics to scrapers that ask for it (default false).
    pub enable_open_metrics: bool,
    /// Unit and `_total`/`_ratio` suffixes (default true; `translation_strategy` wins).
    pub add_metric_suffixes: bool,
    /// The newer way to say how names are translated.
    pub translation_strategy: Option<String>,
    /// Accepted for compatibility: the exporter keeps series in memory and never sends, so
    /// a queue in front of it has nothing to do.
    pub sending_queue: Option<IgnoredAny>,
}

impl Default for PrometheusExporterConfig {
    fn default() -> Self {
        PrometheusExporterConfig {
            endpoint: String::new(),
            tls: None,
            read_header_timeout: None,
            namespace: String::new(),
            const_labels: BTreeMap::new(),
            send_timestamps: false,
            metric_expiration: Duration::from_secs(300),
            resource_to_telemetry_conversion: ResourceToTelemetryConfig::default(),
            enable_open_metrics: false,
            add_metric_suffixes: true,
            translation_strategy: None,
            sending_queue: None,
        }
    }
}

impl PrometheusExporterConfig {
    /// Whether names get unit and type suffixes (`translation_strategy` wins, as in the Collector).
    pub fn suffixes(&self) -> bool {
        match self.translation_strategy.as_deref() {
            Some("UnderscoreEscapingWithoutSuffixes") | Some("NoTranslation") => false,
            Some(_) => true,
            None => self.add_metric_suffixes,
        }
    }

    /// The address to bind: Go's `:port` means every interface.
    pub fn listen_addr(&self) -> String {
        let e = self.endpoint.trim();
        if e.starts_with(':') {
            format!("0.0.0.0{e}")
        } else {
            e.to_string()
        }
    }
}

impl ComponentConfig for PrometheusExporterConfig {
    fn validate(&self) -> Vec<FieldError> {
        let mut e = Vec::new();
        let endpoint = self.endpoint.trim();
        if endpoint.is_empty() {
            e.push(FieldError::new(
                "endpoint",
                "expecting a non-blank address to run the Prometheus metrics handler (e.g. 0.0.0.0:8889)",
            ));
        } else if endpoint.rsplit_once(':').is_none_or(|(_, port)| port.parse::<u16>().is_err()) {
            e.push(FieldError::new(
                "endpoint",
                format!("endpoint \"{endpoint}\" must be host:port (e.g. 0.0.0.0:8889)"),
            ));
        }
        if let Some(s) = &self.translation_strategy {
            match s.as_str() {
                "UnderscoreEscapingWithSuffixes" | "UnderscoreEscapingWithoutSuffixes" => {}
                // UTF-8 names need a scraper that negotiates them (escaping=allow-utf-8);
                // names are always escaped to the classic character set here.
                "NoUTF8EscapingWithSuffixes" | "NoTranslation" => e.push(FieldError::new(
                    "translation_strategy",
                    format!(
                        "\"{s}\" (UTF-8 metric and label names) is not supported; names are escaped to [a-zA-Z0-9_:]"
                    ),
                )),
                _ => e.push(FieldError::new(
                    "translation_strategy",
                    format!("invalid translation_strategy: {s} (one of {})", STRATEGIES.join(", ")),
                )),
            }
        }
        for k in self.const_labels.keys() {
            if k.is_empty()
                || !k.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
                || k.starts_with(|c: char| c.is_ascii_digit())
            {
                e.push(FieldError::new(format!("const_labels::{k}"), format!("invalid label name \"{k}\"")));
            }
        }
        if let Some(t) = &self.tls {
            e.extend(t.validate("tls"));
        }
        e
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_the_collectors() {
        let c = PrometheusExporterConfig::default();
        assert_eq!(c.metric_expiration, Duration::from_secs(300));
        assert!(c.add_metric_suffixes && c.suffixes());
        assert!(!c.send_timestamps && !c.enable_open_metrics && !c.resource_to_telemetry_conversion.enabled);
        assert!(c.validate()[0].message.contains("non-blank address"));
    }

    #[test]
    fn endpoint_port_only_binds_every_interface() {
        let c = PrometheusExporterConfig { endpoint: ":9999".into(), ..Default::default() };
        assert!(c.validate().is_empty());
        assert_eq!(c.listen_addr(), "0.0.0.0:9999");
        let c = PrometheusExporterConfig { endpoint: "0.0.0.0".into(), ..Default::default() };
        assert!(c.validate()[0].message.contains("host:port"));
    }

    #[test]
    fn translation_strategy_wins_over_add_metric_suffixes() {
        let mut c = PrometheusExporterConfig { endpoint: "localhost:8889".into(), ..Default::default() };
        c.add_metric_suffixes = false;
        assert!(!c.suffixes());
        c.translation_strategy = Some("UnderscoreEscapingWithSuffixes".into());
        assert!(c.suffixes() && c.validate().is_empty());
        c.translation_strategy = Some("Bogus".into());
        assert!(c.validate()[0].message.contains("invalid translation_strategy: Bogus"));
        c.translation_strategy = Some("NoTranslation".into());
        assert!(c.validate()[0].message.contains("not supported"));
    }
}
