//! `service.telemetry`: the process's own logs and metrics, with the Collector's defaults.

use serde::de::IgnoredAny;
use serde::Deserialize;

/// `service.telemetry`.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct TelemetryConfig {
    /// Logs of the process.
    pub logs: LogsConfig,
    /// Metrics of the process.
    pub metrics: MetricsConfig,
    /// Resource attributes for self-telemetry (accepted; not used yet).
    pub resource: Option<IgnoredAny>,
    /// Traces of the process itself (accepted; not emitted yet).
    pub traces: Option<IgnoredAny>,
}

/// `service.telemetry.logs`.
#[derive(Clone, Debug, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct LogsConfig {
    /// `debug`, `info`, `warn` or `error`.
    pub level: LogLevel,
    /// `console` or `json`.
    pub encoding: LogEncoding,
    /// Accepted for compatibility.
    pub development: bool,
    /// Accepted for compatibility (tracing does not sample).
    pub sampling: Option<IgnoredAny>,
    /// Only `stderr` and `stdout` are supported.
    pub output_paths: Vec<String>,
    /// Accepted for compatibility.
    pub error_output_paths: Vec<String>,
    /// Accepted for compatibility.
    pub disable_caller: bool,
    /// Accepted for compatibility.
    pub disable_stacktrace: bool,
    /// Accepted for compatibility.
    pub initial_fields: Option<IgnoredAny>,
    /// Log record processors exporting the Collector's own logs over OTLP: accepted so such
    /// configs run, but Switchyard logs only to stderr/stdout (a warning says so).
    pub processors: Option<IgnoredAny>,
}

impl Default for LogsConfig {
    fn default() -> Self {
        LogsConfig {
            level: LogLevel::Info,
            encoding: LogEncoding::Console,
            development: false,
            sampling: None,
            output_paths: vec!["stderr".into()],
            error_output_paths: vec!["stderr".into()],
            disable_caller: false,
            disable_stacktrace: false,
            initial_fields: None,
            processors: None,
        }
    }
}

/// Log level names as the Collector spells them (zap reads them in any case).
#[derive(Clone, Copy, Debug, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum LogLevel {
    /// Everything.
    #[serde(alias = "DEBUG", alias = "Debug")]
    Debug,
    /// The default.
    #[serde(alias = "INFO", alias = "Info")]
    Info,
    /// Warnings and errors.
    #[serde(alias = "WARN", alias = "Warn")]
    Warn,
    /// Errors only.
    #[serde(alias = "ERROR", alias = "Error")]
    Error,
}

impl LogLevel {
    /// The `tracing` filter directive.
    pub fn as_filter(self) -> &'static str {
        match self {
            LogLevel::Debug => "debug",
            LogLevel::Info => "info",
            LogLevel::Warn => "warn",
            LogLevel::Error => "error",
        }
    }
}

/// Log encodings.
#[derive(Clone, Copy, Debug, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum LogEncoding {
    /// Human-readable lines.
    Console,
    /// One JSON object per line.
    Json,
}

/// `service.telemetry.metrics`.
#[derive(Clone, Debug, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct MetricsConfig {
    /// `none`, `basic`, `normal` or `detailed`; `none` turns the endpoint off.
    pub level: String,
    /// The older form: `host:port` of the Prometheus endpoint.
    pub address: Option<String>,
    /// The newer form: `- pull: exporter: prometheus: {host, port}`.
    pub readers: Option<Vec<Reader>>,
    /// Accepted for compatibility.
    pub views: Option<IgnoredAny>,
}

impl Default for MetricsConfig {
    fn default() -> Self {
        MetricsConfig { level: "normal".into(), address: None, readers: None, views: None }
    }
}

/// One metric reader.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Reader {
    /// A pull (scrape) reader.
    pub pull: Option<PullReader>,
    /// Push readers are accepted and ignored (no OTLP self-export yet).
    pub periodic: Option<IgnoredAny>,
}

/// `pull:`.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct PullReader {
    /// `exporter:`.
    pub exporter: PullExporter,
}

/// `exporter:` of a pull reader.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct PullExporter {
    /// `prometheus:`.
    pub prometheus: Option<PrometheusReader>,
}

/// A Prometheus pull exporter.
#[derive(Clone, Debug, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct PrometheusReader {
    /// Bind host (default `localhost`).
    pub host: String,
    /// Port (default 8888).
    pub port: u16,
    /// Without `_total` on counters (default false here, as the Prometheus exporter's own default).
    pub without_type_suffix: bool,
    /// Accepted for compatibility.
    pub without_units: bool,
    /// Accepted for compatibility.
    pub without_scope_info: bool,
}

impl Default for PrometheusReader {
    fn default() -> Self {
        PrometheusReader {
            host: "localhost".into(),
            port: 8888,
            without_type_suffix: false,
            without_units: false,
            without_scope_info: false,
        }
    }
}

impl MetricsConfig {
    /// Where to serve self-metrics and whether counters get `_total`; `None` when off.
    ///
    /// The Collector's default reader (nothing configured) exposes counters without
    /// `_total`; an explicit prometheus reader uses the exporter's defaults, with `_total`.
    pub fn endpoint(&self) -> Option<(String, bool)> {
        if self.level == "none" {
            return None;
        }
        if let Some(readers) = &self.readers {
            return readers
                .iter()
                .filter_map(|r| r.pull.as_ref()?.exporter.prometheus.as_ref())
                .map(|p| (format!("{}:{}", p.host, p.port), !p.without_type_suffix))
                .next();
        }
        Some((self.address.clone().unwrap_or_else(|| "localhost:8888".into()), false))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{from_node, parse};

    fn metrics(yaml: &str) -> MetricsConfig {
        from_node(&parse("t.yaml", yaml).unwrap(), "service::telemetry::metrics").unwrap()
    }

    #[test]
    fn endpoint_forms_and_counter_suffix() {
        assert_eq!(metrics("").endpoint(), Some(("localhost:8888".into(), false)), "default reader: no _total");
        assert_eq!(metrics("address: 0.0.0.0:9999").endpoint(), Some(("0.0.0.0:9999".into(), false)));
        let readers = "readers:\n  - pull:\n      exporter:\n        prometheus:\n          host: 0.0.0.0\n          port: 8889\n";
        assert_eq!(metrics(readers).endpoint(), Some(("0.0.0.0:8889".into(), true)), "explicit reader: _total");
        let no_suffix = format!("{readers}          without_type_suffix: true\n");
        assert_eq!(metrics(&no_suffix).endpoint(), Some(("0.0.0.0:8889".into(), false)));
        assert_eq!(metrics("level: none").endpoint(), None);
    }
}
