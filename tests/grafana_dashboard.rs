//! The Grafana dashboard `deploy/grafana/switchyard.json`: its structure (what Grafana needs
//! to import it and what the dashboard promises: the variables on every query, no overlapping
//! panels), and every one of its queries run through a real Prometheus that scraped two real
//! gateways carrying traffic: one gateway exports counters without `_total`, the other with
//! it, so the dashboard's counter selectors are checked against both namings.

mod support;

use std::collections::{BTreeMap, BTreeSet};
use std::process::Command;
use std::time::Duration;

use serde_json::Value;
use support::backends::{encode, get_json, promql, promql_until, Backend};
use support::{free_port, http_get, http_post_json, red_client, root, sdk_client, Gateway, Sink};

const DS_UID: &str = "${datasource}";
/// Rows in the order the dashboard shows them.
const ROWS: &[&str] = &[
    "Overview",
    "Receivers",
    "Processors",
    "Exporters",
    "Tail sampling",
    "Connectors",
    "OTLP backends (otlp, otlphttp)",
    "Loki backends",
    "Prometheus remote write backends",
    "Kafka backends",
    "Process",
];

fn dashboard() -> Value {
    let text = std::fs::read_to_string(root().join("deploy/grafana/switchyard.json")).expect("read the dashboard");
    serde_json::from_str(&text).expect("the dashboard is JSON")
}

/// One query of one panel.
struct Query {
    /// The row the panel is in (backend rows repeat panel titles).
    row: String,
    panel: String,
    legend: String,
    expr: String,
}

impl Query {
    fn name(&self) -> String {
        format!("{} / {} / {}", self.row, self.panel, self.legend)
    }

    fn is(&self, (row, panel, legend): (&str, &str, &str)) -> bool {
        self.row == row && self.panel == panel && self.legend == legend
    }

    /// The expression as Grafana sends it when every variable is "All" and the range is 1h.
    fn promql(&self) -> String {
        self.expr
            .replace("$job", ".*")
            .replace("$instance", ".*")
            .replace("$__rate_interval", "1m")
            .replace("$__range", "1h")
    }
}

fn panels(d: &Value) -> &Vec<Value> {
    d["panels"].as_array().expect("panels")
}

fn queries(d: &Value) -> Vec<Query> {
    let mut out = Vec::new();
    let mut row = String::new();
    for p in panels(d) {
        if p["type"] == "row" {
            row = p["title"].as_str().unwrap_or_default().to_string();
        }
        for t in p["targets"].as_array().into_iter().flatten() {
            out.push(Query {
                row: row.clone(),
                panel: p["title"].as_str().unwrap_or_default().to_string(),
                legend: t["legendFormat"].as_str().unwrap_or_default().to_string(),
                expr: t["expr"].as_str().unwrap_or_default().to_string(),
            });
        }
    }
    out
}

fn rect(p: &Value) -> (i64, i64, i64, i64) {
    let g = &p["gridPos"];
    let n = |k: &str| g[k].as_i64().unwrap_or_else(|| panic!("panel {}: gridPos.{k}", p["id"]));
    (n("x"), n("y"), n("w"), n("h"))
}

fn is_prometheus_ds(v: &Value) -> bool {
    v["type"] == "prometheus" && v["uid"] == DS_UID
}

#[test]
fn the_dashboard_is_well_formed_and_what_its_generator_writes() {
    let d = dashboard();
    assert_eq!(d["uid"], "switchyard-gateway");
    let schema = d["schemaVersion"].as_i64().expect("schemaVersion");
    assert!((36..=41).contains(&schema), "schemaVersion {schema}");

    // Variables: the data source (any Prometheus), then job and instance read from it.
    let vars = d["templating"]["list"].as_array().expect("templating.list");
    let var = |name: &str| vars.iter().find(|v| v["name"] == name).unwrap_or_else(|| panic!("variable {name}"));
    assert_eq!(var("datasource")["type"], "datasource");
    assert_eq!(var("datasource")["query"], "prometheus");
    for name in ["job", "instance"] {
        assert_eq!(var(name)["type"], "query", "{name}");
        assert!(is_prometheus_ds(&var(name)["datasource"]), "{name}: {}", var(name)["datasource"]);
        assert!(var(name)["query"].as_str().is_some_and(|q| q.starts_with("label_values(")), "{name}");
    }

    let panels = panels(&d);
    let mut ids = BTreeSet::new();
    let mut rows = Vec::new();
    for p in panels {
        let id = p["id"].as_i64().expect("panel id");
        assert!(ids.insert(id), "panel id {id} twice");
        let (x, _, w, h) = rect(p);
        assert!(x >= 0 && w > 0 && h > 0 && x + w <= 24, "panel {id}: gridPos {}", p["gridPos"]);
        let title = p["title"].as_str().unwrap_or_default();
        assert!(!title.is_empty(), "panel {id} has no title");
        if p["type"] == "row" {
            // A row holds no query, so it needs no data source.
            rows.push(title.to_string());
            continue;
        }
        assert!(is_prometheus_ds(&p["datasource"]), "panel {title}: datasource {}", p["datasource"]);
        let targets =
            p["targets"].as_array().filter(|t| !t.is_empty()).unwrap_or_else(|| panic!("{title}: no targets"));
        let mut refs = BTreeSet::new();
        for t in targets {
            assert!(is_prometheus_ds(&t["datasource"]), "{title}: target datasource {}", t["datasource"]);
            assert!(refs.insert(t["refId"].as_str().unwrap_or_default()), "{title}: refId twice");
            let expr = t["expr"].as_str().unwrap_or_default();
            assert!(!expr.trim().is_empty(), "{title}: a target without expr");
        }
    }
    assert_eq!(rows, ROWS);

    // No two panels share a cell.
    for (i, a) in panels.iter().enumerate() {
        for b in &panels[i + 1..] {
            let ((ax, ay, aw, ah), (bx, by, bw, bh)) = (rect(a), rect(b));
            let apart = ax + aw <= bx || bx + bw <= ax || ay + ah <= by || by + bh <= ay;
            assert!(apart, "panels {} and {} overlap: {} {}", a["title"], b["title"], a["gridPos"], b["gridPos"]);
        }
    }

    // Every selector is narrowed by both variables, and no other variable is used.
    let qs = queries(&d);
    for q in &qs {
        let selectors = q.expr.matches('{').count();
        let narrowed = q.expr.matches(r#"job=~"$job", instance=~"$instance""#).count();
        assert!(
            selectors > 0 && selectors == narrowed,
            "{}: {} selectors, {narrowed} narrowed: {}",
            q.name(),
            selectors,
            q.expr
        );
        assert!(!q.promql().contains('$'), "{}: an unknown variable in {}", q.name(), q.expr);
    }

    // The JSON is the generator's output (edit generate.py, not the JSON).
    let dir = tempfile::tempdir().expect("tempdir");
    let out = dir.path().join("switchyard.json");
    let run =
        Command::new("python3").arg(root().join("deploy/grafana/generate.py")).arg(&out).output().expect("python3");
    assert!(run.status.success(), "generate.py: {}", String::from_utf8_lossy(&run.stderr));
    let generated: Value = serde_json::from_str(&std::fs::read_to_string(&out).expect("read")).expect("JSON");
    assert!(generated == d, "deploy/grafana/switchyard.json differs from what deploy/grafana/generate.py writes");
    eprintln!("{} panels ({} rows), {} queries", panels.len(), rows.len(), qs.len());
}

/// The edge tier: every backend kind of the dashboard's backend rows, a dead OTLP/HTTP
/// endpoint and a dead Kafka broker (so failures move), a filter and a log sampler. Its
/// self-metrics use the `address` form: counters without `_total`.
fn gateway_a(p: &Ports, loki: &str, prom: &str) -> String {
    format!(
        r#"
receivers:
  otlp:
    protocols:
      grpc:
        endpoint: 127.0.0.1:{a_grpc}
      http:
        endpoint: 127.0.0.1:{a_http}
processors:
  memory_limiter:
    check_interval: 1s
    limit_mib: 4096
    spike_limit_mib: 1024
  filter/drop:
    error_mode: ignore
    trace_conditions:
      - span.attributes["drop"] == "yes"
  probabilistic_sampler/logs:
    sampling_percentage: 60
    hash_seed: 7
    attribute_source: record
    from_attribute: seq
  batch:
    timeout: 200ms
exporters:
  otlp/tier2:
    endpoint: 127.0.0.1:{b_grpc}
    tls:
      insecure: true
  otlphttp/dead:
    endpoint: http://127.0.0.1:{dead_http}
    retry_on_failure:
      enabled: false
  kafka/dead:
    brokers: [127.0.0.1:{dead_kafka}]
    timeout: 2s
    retry_on_failure:
      enabled: false
  loki:
    endpoint: {loki}/loki/api/v1/push
  prometheusremotewrite:
    endpoint: {prom}/api/v1/write
service:
  telemetry:
    metrics:
      address: 127.0.0.1:{a_metrics}
  pipelines:
    traces:
      receivers: [otlp]
      processors: [memory_limiter, filter/drop, batch]
      exporters: [otlp/tier2, otlphttp/dead, kafka/dead]
    metrics:
      receivers: [otlp]
      processors: [memory_limiter, batch]
      exporters: [otlp/tier2, prometheusremotewrite, kafka/dead]
    logs:
      receivers: [otlp]
      processors: [memory_limiter, probabilistic_sampler/logs, batch]
      exporters: [otlp/tier2, loki, kafka/dead]
"#,
        a_grpc = p.a_grpc,
        a_http = p.a_http,
        a_metrics = p.a_metrics,
        b_grpc = p.b_grpc,
        dead_http = p.dead_http,
        dead_kafka = p.dead_kafka,
    )
}

/// The sampling tier: tail sampling, the servicegraph connector, a routing connector that
/// drops INFO logs, the OTLP sink and `nop`. Its self-metrics use an explicit Prometheus
/// reader: counters end in `_total`.
fn gateway_b(p: &Ports, sink: &Sink) -> String {
    format!(
        r#"
receivers:
  otlp:
    protocols:
      grpc:
        endpoint: 127.0.0.1:{b_grpc}
processors:
  memory_limiter:
    check_interval: 1s
    limit_mib: 4096
    spike_limit_mib: 1024
  tail_sampling:
    decision_wait: 1s
    policies:
      - name: errors
        type: status_code
        status_code:
          status_codes: [ERROR]
      - name: half
        type: probabilistic
        probabilistic:
          sampling_percentage: 50
  batch:
    timeout: 200ms
connectors:
  servicegraph:
    metrics_flush_interval: 1s
  routing/logs:
    table:
      - context: log
        condition: severity_number >= SEVERITY_NUMBER_WARN
        pipelines: [logs/kept]
exporters:
  otlp/sink:
    endpoint: {sink}
    tls:
      insecure: true
  nop:
service:
  telemetry:
    metrics:
      readers:
        - pull:
            exporter:
              prometheus:
                host: 127.0.0.1
                port: {b_metrics}
  pipelines:
    traces:
      receivers: [otlp]
      processors: [memory_limiter, tail_sampling, batch]
      exporters: [otlp/sink, servicegraph]
    metrics/graph:
      receivers: [servicegraph]
      processors: [batch]
      exporters: [nop]
    metrics:
      receivers: [otlp]
      processors: [memory_limiter, batch]
      exporters: [otlp/sink]
    logs:
      receivers: [otlp]
      processors: [memory_limiter]
      exporters: [routing/logs]
    logs/kept:
      receivers: [routing/logs]
      processors: [batch]
      exporters: [otlp/sink]
"#,
        b_grpc = p.b_grpc,
        b_metrics = p.b_metrics,
        sink = sink.grpc_endpoint(),
    )
}

struct Ports {
    a_grpc: u16,
    a_http: u16,
    a_metrics: u16,
    b_grpc: u16,
    b_metrics: u16,
    dead_http: u16,
    dead_kafka: u16,
}

/// Queries the traffic must have moved: (row, panel, legend) whose largest value must be > 0.
const MOVED: &[(&str, &str, &str)] = &[
    ("Overview", "Accepted items/s", "spans"),
    ("Overview", "Accepted items/s", "metric points"),
    ("Overview", "Accepted items/s", "log records"),
    ("Overview", "Sent items/s", "spans"),
    ("Overview", "Sent items/s", "metric points"),
    ("Overview", "Sent items/s", "log records"),
    ("Overview", "Send failed items/s", "spans"),
    ("Overview", "Gateways reporting", "gateways"),
    ("Overview", LOSS, "processors dropped: filtered, sampled out, failed (in - out)"),
    ("Overview", LOSS, "exporters send failed"),
    ("Overview", LOSS, "exporters dropped (by any reason)"),
    ("Overview", LOSS, "routing connector dropped"),
    ("Receivers", "Accepted items/s by receiver", "{{receiver}} {{transport}} spans"),
    ("Receivers", "Accepted items/s by receiver", "{{receiver}} {{transport}} metric points"),
    ("Receivers", "Accepted items/s by receiver", "{{receiver}} {{transport}} log records"),
    ("Receivers", "Requests rejected before decoding", "{{receiver}} {{transport}} {{reason}}"),
    ("Receivers", "Open connections", "{{receiver}} {{transport}}"),
    ("Processors", "Items in/s by processor", "{{processor}} {{otel_signal}}"),
    ("Processors", "Items out/s by processor", "{{processor}} {{otel_signal}}"),
    ("Processors", "Items dropped/s by processor (in - out)", "{{processor}} {{otel_signal}}"),
    ("Processors", "memory_limiter: accepted items/s", "{{processor}} spans"),
    ("Processors", "memory_limiter: accepted items/s", "{{processor}} metric points"),
    ("Processors", "memory_limiter: accepted items/s", "{{processor}} log records"),
    ("Processors", "Held bytes (stateful processors)", "{{processor}}"),
    ("Processors", "batch: items per batch sent (p50, p95)", "{{processor}} p50"),
    ("Processors", "batch: batches sent/s by trigger", "{{processor}} timeout"),
    ("Processors", "filter: items dropped/s", "{{filter}} spans"),
    ("Processors", "probabilistic_sampler: items/s by decision", "{{processor}} logs {{policy}} sampled={{sampled}}"),
    ("Exporters", "Sent items/s by exporter", "{{exporter}} spans"),
    ("Exporters", "Sent items/s by exporter", "{{exporter}} metric points"),
    ("Exporters", "Sent items/s by exporter", "{{exporter}} log records"),
    ("Exporters", "Send failed items/s by exporter", "{{exporter}} spans"),
    ("Exporters", "Dropped items/s by exporter and reason", "{{exporter}} {{reason}} spans"),
    ("Exporters", "Queue size and capacity", "{{exporter}} {{data_type}} capacity"),
    ("Tail sampling", "Decisions per policy (traces/s)", "{{processor}} {{policy}} sampled={{sampled}}"),
    ("Tail sampling", "Final decisions (traces/s)", "{{processor}} sampled={{sampled}}"),
    ("Tail sampling", "Spans per policy decision (spans/s)", "{{processor}} {{policy}} sampled={{sampled}}"),
    ("Tail sampling", "New traces/s", "{{processor}}"),
    ("Connectors", "servicegraph: edges/s", "{{connector}} total"),
    ("Connectors", "routing: items dropped/s", "{{component}}"),
    ("OTLP backends (otlp, otlphttp)", "Sent items/s", "{{exporter}} spans"),
    ("OTLP backends (otlp, otlphttp)", "Sent items/s", "{{exporter}} metric points"),
    ("OTLP backends (otlp, otlphttp)", "Sent items/s", "{{exporter}} log records"),
    ("OTLP backends (otlp, otlphttp)", "Failed items/s", "{{exporter}} spans send failed"),
    ("OTLP backends (otlp, otlphttp)", "Dropped items/s by reason", "{{exporter}} {{reason}} spans"),
    ("Loki backends", "Sent items/s", "{{exporter}} log records"),
    ("Prometheus remote write backends", "Sent items/s", "{{exporter}} metric points"),
    ("Kafka backends", "Failed items/s", "{{exporter}} spans send failed"),
    ("Kafka backends", "Failed items/s", "{{exporter}} metric points send failed"),
    ("Kafka backends", "Failed items/s", "{{exporter}} log records send failed"),
    ("Kafka backends", "Dropped items/s by reason", "{{exporter}} {{reason}} spans"),
    ("Process", "CPU (cores)", "{{instance}}"),
    ("Process", "Resident memory", "{{instance}}"),
    ("Process", "Uptime", "{{instance}}"),
];
const LOSS: &str = "Where am I losing data? (items/s, all signals)";

/// The slowest effects (decisions after decision_wait, Kafka's 2 s timeout, the servicegraph
/// flush, remote write and Loki behind their batches), waited for before the queries run.
const SLOWEST: &[(&str, &str, &str)] = &[
    ("Tail sampling", "Final decisions (traces/s)", "{{processor}} sampled={{sampled}}"),
    ("Kafka backends", "Failed items/s", "{{exporter}} spans send failed"),
    ("Kafka backends", "Failed items/s", "{{exporter}} metric points send failed"),
    ("Kafka backends", "Failed items/s", "{{exporter}} log records send failed"),
    ("Connectors", "servicegraph: edges/s", "{{connector}} total"),
    ("Connectors", "routing: items dropped/s", "{{component}}"),
    ("Loki backends", "Sent items/s", "{{exporter}} log records"),
    ("Prometheus remote write backends", "Sent items/s", "{{exporter}} metric points"),
];

/// Queries that may return nothing here, and why: no pipeline of the test carries profiles
/// (the Python SDK has no profiles signal), so the exporters and the memory_limiter never
/// register their `*_profile_samples` counters. The receivers register them anyway.
fn may_be_empty(q: &Query) -> bool {
    q.expr.contains("profile_samples")
}

/// The metric names a query reads (`{__name__=~"NAME(_total)?"` or `NAME{`).
fn metric_names(expr: &str) -> Vec<String> {
    let mut out = Vec::new();
    for part in expr.split("__name__=~\"").skip(1) {
        out.extend(part.split('(').next().map(str::to_string));
    }
    for (i, _) in expr.match_indices("{job=~") {
        let head = &expr[..i];
        let start = head.rfind(|c: char| !(c.is_ascii_alphanumeric() || c == '_')).map_or(0, |s| s + 1);
        out.push(head[start..].to_string());
    }
    out
}

#[test]
fn every_dashboard_query_runs_against_prometheus_scraping_two_gateways() {
    let sink = Sink::start(&[]);
    let loki = Backend::start("loki", &[]);
    let ports = Ports {
        a_grpc: free_port(),
        a_http: free_port(),
        a_metrics: free_port(),
        b_grpc: free_port(),
        b_metrics: free_port(),
        dead_http: free_port(),
        dead_kafka: free_port(),
    };
    let targets = format!("127.0.0.1:{},127.0.0.1:{}", ports.a_metrics, ports.b_metrics);
    let prom = Backend::start("prometheus", &[("PROM_SCRAPE_TARGETS", &targets), ("PROM_SCRAPE_INTERVAL", "1s")]);
    let b = Gateway::start(&gateway_b(&ports, &sink), ports.b_grpc);
    let a = Gateway::start(&gateway_a(&ports, &loki.url, &prom.url), ports.a_grpc);
    let logs = || format!("gateway A:\n{}\ngateway B:\n{}", a.logs(), b.logs());
    let up =
        promql_until(&prom.url, "up", Duration::from_secs(30), |r| r.len() == 2 && r.iter().all(|s| s.value == 1.0));
    assert!(up.len() == 2 && up.iter().all(|s| s.value == 1.0), "both gateways scraped: {up:?}\n{}", logs());

    // Traffic: client/server traces with failures (tail sampling, servicegraph), then spans,
    // metric points and logs from the SDK (a third of the spans filtered), and a malformed
    // request the receiver rejects before decoding.
    let endpoint = format!("http://127.0.0.1:{}", ports.a_grpc);
    red_client(&endpoint, 30, &[]);
    let rid = format!("grafana{}", std::process::id());
    let out = sdk_client("grpc", &endpoint, 30, &rid, &["--span-attr", "drop=no|no|yes"]);
    assert!(out.status.success(), "sdk client: {}\n{}", String::from_utf8_lossy(&out.stderr), logs());
    let status = http_post_json(&format!("127.0.0.1:{}", ports.a_http), "/v1/traces", "{not json");
    assert_eq!(status, 400, "a malformed body is rejected");

    let d = dashboard();
    let qs = queries(&d);
    for key in SLOWEST {
        let q = qs.iter().find(|q| q.is(*key)).unwrap_or_else(|| panic!("no query {key:?}"));
        let r = promql_until(&prom.url, &q.promql(), Duration::from_secs(60), |r| r.iter().any(|s| s.value > 0.0));
        if !r.iter().any(|s| s.value > 0.0) {
            eprintln!("still 0 after 60 s: {}", q.name());
        }
    }

    // Both namings were scraped: the `address` gateway without `_total`, the reader one with it.
    let names = promql(&prom.url, r#"count by (__name__) ({__name__=~"otelcol_receiver_accepted_spans(_total)?"})"#);
    let names: BTreeSet<&str> = names.iter().map(|s| s.label("__name__")).collect();
    assert_eq!(names, BTreeSet::from(["otelcol_receiver_accepted_spans", "otelcol_receiver_accepted_spans_total"]));

    // Every query: it parses and evaluates (status success), returns series unless it may be
    // empty, and moved when the traffic must have moved it.
    let mut empty = Vec::new();
    let mut still = Vec::new();
    let mut with_series = 0;
    let mut moved = BTreeMap::new();
    for q in &qs {
        let v = get_json(&format!("{}/api/v1/query?query={}", prom.url, encode(&q.promql())));
        assert_eq!(v["status"], "success", "{}: {}\n{v}", q.name(), q.promql());
        let result = v["data"]["result"].as_array().cloned().unwrap_or_default();
        let values: Vec<f64> =
            result.iter().filter_map(|r| r["value"][1].as_str().and_then(|s| s.parse().ok())).collect();
        let max = values.iter().copied().filter(|x| !x.is_nan()).fold(f64::NAN, f64::max);
        eprintln!("{:>3} series, max {max:>10.3}  {}", result.len(), q.name());
        if result.is_empty() {
            if !may_be_empty(q) {
                empty.push(q.name());
            }
            continue;
        }
        with_series += 1;
        if MOVED.iter().any(|key| q.is(*key)) {
            moved.insert(q.name(), max > 0.0);
        }
    }
    for key in MOVED {
        let Some(q) = qs.iter().find(|q| q.is(*key)) else { panic!("no query {key:?}") };
        if moved.get(&q.name()) != Some(&true) {
            still.push(q.name());
        }
    }
    eprintln!(
        "{} queries: {with_series} returned series, {} empty ({} allowed: profiles), {} of {} that must move moved",
        qs.len(),
        qs.len() - with_series,
        qs.len() - with_series - empty.len(),
        moved.values().filter(|m| **m).count(),
        MOVED.len()
    );
    assert!(empty.is_empty(), "queries without series: {empty:#?}\n{}", logs());
    assert!(still.is_empty(), "queries the traffic should have moved but read 0: {still:#?}\n{}", logs());

    // Every metric the dashboard reads is one the gateways export (the `or vector(0)` queries
    // return a series even when a name is wrong, so the names are checked on their own).
    let mut exported = String::new();
    for port in [ports.a_metrics, ports.b_metrics] {
        exported.push_str(&http_get(&format!("127.0.0.1:{port}"), "/metrics").1);
    }
    let mut missing = BTreeSet::new();
    for q in &qs {
        // The `*_profile_samples` counters the test's pipelines never register (see may_be_empty).
        for name in metric_names(&q.expr).into_iter().filter(|n| !n.contains("profile_samples")) {
            let found = exported.lines().any(|l| {
                [format!("{name}{{"), format!("{name} "), format!("{name}_total")].iter().any(|p| l.starts_with(p))
            });
            if !found {
                missing.insert(name);
            }
        }
    }
    assert!(missing.is_empty(), "metrics the dashboard reads that no gateway exports: {missing:?}");

    // The job and instance variables find both gateways.
    for (label, want) in [("job", 1), ("instance", 2)] {
        let var = d["templating"]["list"].as_array().and_then(|l| l.iter().find(|v| v["name"] == label)).expect("var");
        let query = var["query"].as_str().expect("query");
        let selector = query.trim_start_matches("label_values(").rsplit_once(',').map(|(s, _)| s).expect("selector");
        let selector = selector.replace("$job", ".*");
        let v = get_json(&format!("{}/api/v1/label/{label}/values?match[]={}", prom.url, encode(&selector)));
        let values = v["data"].as_array().map_or(0, Vec::len);
        eprintln!("variable {label}: {query} -> {}", v["data"]);
        assert_eq!(values, want, "variable {label}: {v}");
    }
}
