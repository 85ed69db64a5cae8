//! What `switchyard check` does for a configuration: which OTLP receivers take the canary
//! for which signal, one row per (exporter, signal) that those receivers feed, and how each
//! row is judged: read back from the backend's query API, or the exporter's self-metrics.
//!
//! Query endpoints are not part of the gateway's YAML: a top-level `check:` key would make the
//! file one the Collector refuses. They come from `--query` flags, or are derived from the
//! exporter's own endpoint where the backend serves its query API on the same base URL
//! (Prometheus and VictoriaMetrics `/api/v1/write`, Mimir `/api/v1/push`, Loki
//! `/loki/api/v1/push`).

use std::collections::BTreeMap;

use anyhow::{bail, Result};
use switchyard_components::exporters::loki::LokiExporterConfig;
use switchyard_components::exporters::otlp::OtlpExporterConfig;
use switchyard_components::exporters::otlphttp::OtlpHttpExporterConfig;
use switchyard_components::exporters::prometheusremotewrite::PrometheusRemoteWriteExporterConfig;
use switchyard_components::receivers::otlp::OtlpReceiverConfig;
use switchyard_core::component::Kind;
use switchyard_core::config::{ComponentDef, Config};
use switchyard_pdata::Signal;

use crate::cli::{CheckArgs, GenProtocol};

/// The `service.name` of the canary (and so the Loki `job` label).
pub(super) const SERVICE_NAME: &str = "switchyard-check";

/// A backend query API the canary is read back from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum QueryKind {
    /// Prometheus-compatible `/api/v1/series` (Prometheus, Mimir, VictoriaMetrics, Thanos).
    Prometheus,
    /// Loki `/loki/api/v1/query_range`.
    Loki,
    /// Trace by id, `/api/traces/<id>` (Tempo, Jaeger query).
    Traces,
}

impl QueryKind {
    fn parse(s: &str) -> Option<QueryKind> {
        match s {
            "prometheus" => Some(QueryKind::Prometheus),
            "loki" => Some(QueryKind::Loki),
            "traces" => Some(QueryKind::Traces),
            _ => None,
        }
    }

    /// The signal such a backend stores.
    fn signal(self) -> Signal {
        match self {
            QueryKind::Prometheus => Signal::Metrics,
            QueryKind::Loki => Signal::Logs,
            QueryKind::Traces => Signal::Traces,
        }
    }

    /// The name shown in the table's `VIA` column.
    pub(super) fn name(self) -> &'static str {
        match self {
            QueryKind::Prometheus => "prometheus",
            QueryKind::Loki => "loki",
            QueryKind::Traces => "traces",
        }
    }
}

/// A read-back query for one row.
#[derive(Clone, Debug)]
pub(super) struct Query {
    /// Which API.
    pub kind: QueryKind,
    /// Base URL, without a trailing `/` (`http://prometheus:9090`, `http://mimir/prometheus`).
    pub base: String,
    /// Headers sent with the query: the exporter's own `headers` (tenant, credentials) when
    /// the query goes to the same origin as its pushes, none otherwise.
    pub headers: Vec<(String, String)>,
    /// Loki only: the stream selector that finds the canary's stream.
    pub selector: String,
}

/// How a row is judged.
#[derive(Clone, Debug)]
pub(super) enum Probe {
    /// Read the canary back.
    Query(Query),
    /// The exporter's sent / failed counters moved.
    Counters,
    /// Not checked, with the reason (no OTLP receiver feeds the exporter for this signal).
    Skipped(String),
}

/// One line of the result: an exporter and a signal it exports.
#[derive(Debug)]
pub(super) struct Row {
    /// The exporter id as written.
    pub exporter: String,
    /// The signal.
    pub signal: Signal,
    /// Ids of the OTLP receivers whose canary reaches this exporter.
    pub receivers: Vec<String>,
    /// How it is judged.
    pub probe: Probe,
}

/// An OTLP receiver the canary is sent to.
#[derive(Debug)]
pub(super) struct Receiver {
    /// Its id.
    pub id: String,
    /// gRPC when it serves gRPC, else HTTP.
    pub protocol: GenProtocol,
    /// `http(s)://host:port`.
    pub endpoint: String,
    /// HTTP only: full URLs per signal when the receiver's `*_url_path` is not the default.
    pub signal_urls: BTreeMap<&'static str, String>,
    /// The signals of the pipelines it feeds.
    pub signals: Vec<Signal>,
}

/// Everything `check` will do.
#[derive(Debug)]
pub(super) struct Plan {
    /// Where canaries go.
    pub receivers: Vec<Receiver>,
    /// What is judged.
    pub rows: Vec<Row>,
    /// The gateway's self-metrics (`http://host:port/metrics`), when it serves them.
    pub metrics_url: Option<String>,
    /// Whether counters carry `_total` (an explicit prometheus reader).
    pub counter_suffix: bool,
}

/// Which OTLP receivers reach an exporter for a signal, and which of its pipelines have none.
struct Wiring {
    exporter: String,
    signal: Signal,
    fed_by: Vec<String>,
    unfed: Vec<String>,
}

/// `--query` as parsed: `None` kind means the exporter type's default.
enum QuerySpec {
    Counters,
    Url(Option<QueryKind>, String),
}

const SIGNALS: [Signal; 3] = [Signal::Traces, Signal::Metrics, Signal::Logs];

impl Plan {
    /// Builds the plan; an error is a usage or configuration problem (exit 2).
    pub(super) fn new(cfg: &Config, args: &CheckArgs) -> Result<Plan> {
        let specs = parse_queries(cfg, &args.queries)?;
        let host = args.host.as_deref();
        let mut receivers: Vec<Receiver> = Vec::new();
        let mut wiring: Vec<Wiring> = Vec::new();
        for (pid, pipeline) in &cfg.service.pipelines {
            let signal = pid.signal();
            if !SIGNALS.contains(&signal) {
                continue;
            }
            let mut fed_by = Vec::new();
            for r in &pipeline.receivers {
                let Some(def) = cfg.get(Kind::Receiver, &r.id) else { continue };
                let Some(otlp) = def.config.downcast::<OtlpReceiverConfig>() else { continue };
                let id = r.id.to_string();
                match receivers.iter_mut().find(|x| x.id == id) {
                    Some(x) => {
                        if !x.signals.contains(&signal) {
                            x.signals.push(signal);
                        }
                    }
                    None => receivers.extend(receiver(&id, otlp, host, signal)),
                }
                if receivers.iter().any(|x| x.id == id) {
                    fed_by.push(id);
                }
            }
            for e in &pipeline.exporters {
                if cfg.get(Kind::Exporter, &e.id).is_none() {
                    continue; // a connector
                }
                let exporter = e.id.to_string();
                let slot = match wiring.iter().position(|w| w.exporter == exporter && w.signal == signal) {
                    Some(i) => &mut wiring[i],
                    None => {
                        wiring.push(Wiring { exporter, signal, fed_by: Vec::new(), unfed: Vec::new() });
                        let last = wiring.len() - 1;
                        &mut wiring[last]
                    }
                };
                for r in &fed_by {
                    if !slot.fed_by.contains(r) {
                        slot.fed_by.push(r.clone());
                    }
                }
                if fed_by.is_empty() {
                    slot.unfed.push(pid.to_string());
                }
            }
        }
        let mut rows = Vec::new();
        for Wiring { exporter, signal, fed_by, unfed } in wiring {
            let probe = if fed_by.is_empty() {
                Probe::Skipped(format!("no otlp receiver feeds pipeline {}", unfed.join(", ")))
            } else {
                let def = cfg
                    .components
                    .iter()
                    .find(|((k, id), _)| *k == Kind::Exporter && id.to_string() == exporter)
                    .map(|(_, d)| d);
                match def {
                    Some(def) => probe_for(def, signal, specs.get(&exporter))?,
                    None => Probe::Counters,
                }
            };
            rows.push(Row { exporter, signal, receivers: fed_by, probe });
        }
        let endpoint = cfg.service.telemetry.metrics.endpoint();
        let counter_suffix = endpoint.as_ref().is_some_and(|(_, s)| *s);
        let metrics_url = match &args.metrics_url {
            Some(u) => Some(u.clone()),
            None => endpoint.map(|(addr, _)| format!("http://{}/metrics", reach(&addr, host))),
        };
        Ok(Plan { receivers, rows, metrics_url, counter_suffix })
    }
}

/// The OTLP receiver as a canary target; `None` when it serves neither protocol.
fn receiver(id: &str, cfg: &OtlpReceiverConfig, host: Option<&str>, signal: Signal) -> Option<Receiver> {
    if let Some(grpc) = cfg.protocols.grpc.get() {
        let scheme = if grpc.tls.is_some() { "https" } else { "http" };
        return Some(Receiver {
            id: id.to_string(),
            protocol: GenProtocol::Grpc,
            endpoint: format!("{scheme}://{}", reach(&grpc.endpoint, host)),
            signal_urls: BTreeMap::new(),
            signals: vec![signal],
        });
    }
    let http = cfg.protocols.http.get()?;
    let scheme = if http.tls.is_some() { "https" } else { "http" };
    let endpoint = format!("{scheme}://{}", reach(&http.endpoint, host));
    let mut signal_urls = BTreeMap::new();
    for (name, path, default) in [
        ("traces", &http.traces_url_path, "/v1/traces"),
        ("metrics", &http.metrics_url_path, "/v1/metrics"),
        ("logs", &http.logs_url_path, "/v1/logs"),
    ] {
        if path != default {
            signal_urls.insert(name, format!("{endpoint}{path}"));
        }
    }
    Some(Receiver { id: id.to_string(), protocol: GenProtocol::Http, endpoint, signal_urls, signals: vec![signal] })
}

/// `host:port` a client can connect to: `--host` replaces the host; a wildcard bind address
/// (`0.0.0.0`, `::`, empty) is reached on loopback.
fn reach(addr: &str, host: Option<&str>) -> String {
    let (h, port) = match addr.rsplit_once(':') {
        Some((h, p)) if !p.contains(']') => (h, p),
        _ => (addr, ""),
    };
    let h = match host {
        Some(over) => over,
        None if matches!(h, "" | "0.0.0.0" | "::" | "[::]") => "127.0.0.1",
        None => h,
    };
    if port.is_empty() {
        h.to_string()
    } else {
        format!("{h}:{port}")
    }
}

fn parse_queries(cfg: &Config, flags: &[String]) -> Result<BTreeMap<String, QuerySpec>> {
    let exporters: Vec<String> =
        cfg.components.keys().filter(|(k, _)| *k == Kind::Exporter).map(|(_, id)| id.to_string()).collect();
    let mut out = BTreeMap::new();
    for flag in flags {
        let Some((id, spec)) = flag.split_once('=') else {
            bail!("--query {flag}: expected EXPORTER=URL, EXPORTER=KIND:URL or EXPORTER=counters");
        };
        if !exporters.iter().any(|e| e == id) {
            bail!("--query {flag}: no exporter \"{id}\" in the configuration (exporters: {})", exporters.join(", "));
        }
        let spec = if spec == "counters" {
            QuerySpec::Counters
        } else {
            let (kind, url) = match spec.split_once(':') {
                Some((k, rest)) if !rest.starts_with("//") => match QueryKind::parse(k) {
                    Some(kind) => (Some(kind), rest),
                    None => bail!("--query {flag}: unknown query kind \"{k}\" (prometheus, loki, traces)"),
                },
                _ => (None, spec),
            };
            if !(url.starts_with("http://") || url.starts_with("https://")) {
                bail!("--query {flag}: the URL must start with http:// or https://");
            }
            QuerySpec::Url(kind, url.trim_end_matches('/').to_string())
        };
        out.insert(id.to_string(), spec);
    }
    Ok(out)
}

/// How to judge `exporter` for `signal`.
fn probe_for(def: &ComponentDef, signal: Signal, spec: Option<&QuerySpec>) -> Result<Probe> {
    let cfg = &def.config;
    let prw = cfg.downcast::<PrometheusRemoteWriteExporterConfig>();
    let loki = cfg.downcast::<LokiExporterConfig>();
    let otlphttp = cfg.downcast::<OtlpHttpExporterConfig>();
    let is_otlp = otlphttp.is_some() || cfg.downcast::<OtlpExporterConfig>().is_some();
    let (push_url, headers) = match (prw, loki, otlphttp) {
        (Some(c), _, _) => (c.endpoint.as_str(), Some(&c.headers)),
        (_, Some(c), _) => (c.endpoint.as_str(), Some(&c.headers)),
        (_, _, Some(c)) => (c.endpoint.as_str(), Some(&c.headers)),
        _ => ("", None),
    };
    let (kind, base) = match spec {
        Some(QuerySpec::Counters) => return Ok(Probe::Counters),
        Some(QuerySpec::Url(kind, url)) => {
            let default = if prw.is_some() {
                Some(QueryKind::Prometheus)
            } else if loki.is_some() {
                Some(QueryKind::Loki)
            } else if is_otlp {
                Some(QueryKind::Traces)
            } else {
                None
            };
            let Some(kind) = kind.or(default) else {
                bail!(
                    "--query {}={url}: a {} exporter has no default query API; write {}=KIND:URL with KIND prometheus, loki or traces",
                    def.id,
                    def.id.ty(),
                    def.id
                );
            };
            (kind, url.clone())
        }
        None => match derived_query(prw.is_some(), loki.is_some(), push_url) {
            Some(kb) => kb,
            None => return Ok(Probe::Counters),
        },
    };
    if kind.signal() != signal {
        return Ok(Probe::Counters);
    }
    let headers = match headers {
        Some(h) if same_origin(push_url, &base) => h.iter().map(|(k, v)| (k.clone(), v.clone())).collect(),
        _ => Vec::new(),
    };
    let selector = match loki {
        Some(c) if c.default_labels_enabled.get("job") == Some(&false) => {
            if c.default_labels_enabled.get("exporter") == Some(&false) {
                // The canary's stream has no label this command can name.
                return Ok(Probe::Counters);
            }
            "{exporter=\"OTLP\"}".to_string()
        }
        Some(_) => format!("{{job=\"{SERVICE_NAME}\"}}"),
        // Loki's own OTLP endpoint makes `service.name` the `service_name` label.
        None => format!("{{service_name=\"{SERVICE_NAME}\"}}"),
    };
    Ok(Probe::Query(Query { kind, base, headers, selector }))
}

/// The query API on the push endpoint's own server, where the backend is known to serve both.
fn derived_query(prw: bool, loki: bool, push_url: &str) -> Option<(QueryKind, String)> {
    let push_url = push_url.trim_end_matches('/');
    if prw {
        if let Some(base) = push_url.strip_suffix("/api/v1/write") {
            return Some((QueryKind::Prometheus, base.to_string()));
        }
        // Mimir (and Cortex): push on /api/v1/push, Prometheus API under /prometheus.
        if let Some(base) = push_url.strip_suffix("/api/v1/push") {
            return Some((QueryKind::Prometheus, format!("{base}/prometheus")));
        }
    }
    if loki {
        if let Some(base) = push_url.strip_suffix("/loki/api/v1/push") {
            return Some((QueryKind::Loki, base.to_string()));
        }
    }
    None
}

/// `scheme://host:port` of a URL.
fn origin(url: &str) -> Option<(&str, &str)> {
    let (scheme, rest) = url.split_once("://")?;
    Some((scheme, rest.split('/').next().unwrap_or(rest)))
}

/// Whether two URLs point at the same server, so the exporter's credentials may go along.
fn same_origin(a: &str, b: &str) -> bool {
    matches!((origin(a), origin(b)), (Some(x), Some(y)) if x == y)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wildcard_binds_are_reached_on_loopback() {
        assert_eq!(reach("0.0.0.0:4317", None), "127.0.0.1:4317");
        assert_eq!(reach("[::]:4317", None), "127.0.0.1:4317");
        assert_eq!(reach(":4317", None), "127.0.0.1:4317");
        assert_eq!(reach("localhost:4318", None), "localhost:4318");
        assert_eq!(reach("0.0.0.0:8888", Some("gw.internal")), "gw.internal:8888");
    }

    #[test]
    fn query_apis_are_derived_from_push_endpoints() {
        let d = |prw, loki, url| derived_query(prw, loki, url);
        assert_eq!(d(true, false, "http://p:9090/api/v1/write"), Some((QueryKind::Prometheus, "http://p:9090".into())));
        assert_eq!(
            d(true, false, "https://mimir/api/v1/push"),
            Some((QueryKind::Prometheus, "https://mimir/prometheus".into()))
        );
        assert_eq!(d(false, true, "http://l:3100/loki/api/v1/push"), Some((QueryKind::Loki, "http://l:3100".into())));
        assert_eq!(d(true, false, "http://x/custom"), None);
        assert_eq!(d(false, false, "http://p:9090/api/v1/write"), None);
    }

    #[test]
    fn credentials_only_go_to_the_push_server() {
        assert!(same_origin("https://mimir:443/api/v1/push", "https://mimir:443/prometheus"));
        assert!(!same_origin("https://mimir/api/v1/push", "http://mimir/prometheus"));
        assert!(!same_origin("http://a:1/x", "http://b:1/x"));
    }
}
