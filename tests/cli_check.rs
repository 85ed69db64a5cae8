//! `switchyard check` against a running gateway that fans out to real backends on 127.0.0.1:
//! `prometheusremotewrite` to Prometheus and to VictoriaMetrics (Debian packages), `loki` to
//! the Loki stand-in (`scripts/backends/loki_fake.py`), `otlp` to the OTLP sink. Every row
//! must be ok, and the test finds the canary in each backend itself. Then VictoriaMetrics is
//! stopped: the check exits 1, its row fails naming the error, the other rows stay ok.

mod support;

use std::collections::BTreeMap;
use std::process::Output;
use std::time::Duration;

use support::backends::{encode, get_json, promql, promql_until, Backend};
use support::{free_port, items_of, switchyard, wait_until, Gateway, Sink};

/// One table line: via, result, error.
type Rows = BTreeMap<(String, String), (String, String, String)>;

fn table(out: &Output) -> Rows {
    let stdout = String::from_utf8_lossy(&out.stdout);
    let mut lines = stdout.lines();
    let header = lines.next().unwrap_or_default();
    assert!(header.starts_with("EXPORTER"), "no table:\n{stdout}\nstderr:\n{}", String::from_utf8_lossy(&out.stderr));
    lines
        .map(|l| {
            let mut cells = l.split_whitespace();
            let mut next = || cells.next().unwrap_or_default().to_string();
            let (exporter, signal, via, result, _latency) = (next(), next(), next(), next(), next());
            let error = cells.collect::<Vec<_>>().join(" ");
            ((exporter, signal), (via, result, error))
        })
        .collect()
}

/// The canary id `check` reports on stderr.
fn canary_id(out: &Output) -> String {
    let stderr = String::from_utf8_lossy(&out.stderr);
    let id = stderr.lines().find_map(|l| l.strip_prefix("canary ")?.split(' ').next()).unwrap_or_default();
    assert_eq!(id.len(), 32, "no canary id in:\n{stderr}");
    id.to_string()
}

fn config(grpc: u16, prom: &str, vm: &str, loki: &str, sink: &Sink) -> String {
    format!(
        r#"
receivers:
  otlp:
    protocols:
      grpc:
        endpoint: 127.0.0.1:{grpc}
processors:
  batch:
    timeout: 100ms
exporters:
  prometheusremotewrite/prom:
    endpoint: {prom}/api/v1/write
  prometheusremotewrite/vm:
    endpoint: {vm}/api/v1/write
    retry_on_failure:
      max_elapsed_time: 10m
  loki:
    endpoint: {loki}/loki/api/v1/push
  otlp/sink:
    endpoint: {sink}
    tls:
      insecure: true
service:
  pipelines:
    traces:
      receivers: [otlp]
      processors: [batch]
      exporters: [otlp/sink]
    metrics:
      receivers: [otlp]
      processors: [batch]
      exporters: [prometheusremotewrite/prom, prometheusremotewrite/vm, otlp/sink]
    logs:
      receivers: [otlp]
      processors: [batch]
      exporters: [loki, otlp/sink]
"#,
        sink = sink.grpc_endpoint()
    )
}

/// `switchyard check` with the gateway's own config and self-metrics address.
fn check(gw: &Gateway, timeout: &str) -> Output {
    let cfg = gw.dir.path().join("config.yaml");
    let metrics = format!("service.telemetry.metrics.address=127.0.0.1:{}", gw.metrics_port.expect("metrics port"));
    switchyard(&["check", "--config", &cfg.to_string_lossy(), "--set", &metrics, "--timeout", timeout])
}

fn row<'a>(rows: &'a Rows, exporter: &str, signal: &str) -> &'a (String, String, String) {
    rows.get(&(exporter.to_string(), signal.to_string()))
        .unwrap_or_else(|| panic!("no row {exporter} {signal}: {rows:?}"))
}

const EXPECTED: [(&str, &str, &str); 6] = [
    ("otlp/sink", "traces", "counters"),
    ("prometheusremotewrite/prom", "metrics", "prometheus"),
    ("prometheusremotewrite/vm", "metrics", "prometheus"),
    ("otlp/sink", "metrics", "counters"),
    ("loki", "logs", "loki"),
    ("otlp/sink", "logs", "counters"),
];

#[test]
fn check_confirms_every_backend_and_names_the_one_that_is_down() {
    let prom = Backend::start("prometheus", &[]);
    let vm = Backend::start("victoriametrics", &[]);
    let loki = Backend::start("loki", &[]);
    let sink = Sink::start(&[]);
    let grpc = free_port();
    let gw = Gateway::start(&config(grpc, &prom.url, &vm.url, &loki.url, &sink), grpc);

    // Everything up: exit 0, every row ok, judged the expected way.
    let out = check(&gw, "30s");
    let rows = table(&out);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "stdout:\n{}\nstderr:\n{stderr}", String::from_utf8_lossy(&out.stdout));
    assert_eq!(rows.len(), EXPECTED.len(), "{rows:?}");
    for (exporter, signal, via) in EXPECTED {
        let (v, result, error) = row(&rows, exporter, signal);
        assert_eq!((v.as_str(), result.as_str(), error.as_str()), (via, "ok", "-"), "{exporter} {signal}");
    }

    // The canary really is in each backend.
    let id = canary_id(&out);
    let series = format!(r#"switchyard_check_canary{{switchyard_check_id="{id}"}}"#);
    assert_eq!(promql(&prom.url, &series).len(), 1, "Prometheus has the canary");
    let vm_hits = promql_until(&vm.url, &series, Duration::from_secs(10), |s| s.len() == 1);
    assert_eq!(vm_hits.len(), 1, "VictoriaMetrics has the canary");
    let logql = format!(r#"{{job="switchyard-check"}} |= "{id}""#);
    let found = get_json(&format!("{}/loki/api/v1/query_range?query={}", loki.url, encode(&logql)));
    let lines = found["data"]["result"][0]["values"].as_array().cloned().unwrap_or_default();
    assert_eq!(lines.len(), 1, "Loki has the canary log line: {found}");
    assert!(lines[0][1].as_str().unwrap_or_default().contains(&id));
    for signal in ["traces", "metrics", "logs"] {
        let got: usize = sink
            .requests()
            .iter()
            .filter(|r| r["signal"] == signal)
            .map(|r| {
                items_of(&r["request"], None)
                    .iter()
                    .filter(|i| i.resource_attr("switchyard.check.id").as_deref() == Some(id.as_str()))
                    .count()
            })
            .sum();
        assert_eq!(got, 1, "the sink got the {signal} canary");
    }
    let span_trace_id = sink
        .requests()
        .iter()
        .filter(|r| r["signal"] == "traces")
        .flat_map(|r| items_of(&r["request"], None))
        .find(|i| i.resource_attr("switchyard.check.id").as_deref() == Some(id.as_str()))
        .map(|i| i.item["traceId"].as_str().unwrap_or_default().to_lowercase());
    assert_eq!(span_trace_id.as_deref(), Some(id.as_str()), "the canary id is the trace id");

    // VictoriaMetrics stopped: exit 1, its row failed with the reason, the others still ok.
    vm.stop();
    assert!(wait_until(Duration::from_secs(10), || std::net::TcpStream::connect(vm.url.trim_start_matches("http://"))
        .is_err()));
    let out = check(&gw, "8s");
    let rows = table(&out);
    assert_eq!(out.status.code(), Some(1), "stdout:\n{}", String::from_utf8_lossy(&out.stdout));
    let (via, result, error) = row(&rows, "prometheusremotewrite/vm", "metrics");
    assert_eq!((via.as_str(), result.as_str()), ("prometheus", "failed"));
    assert!(error.contains(&vm.url) && error.to_lowercase().contains("connection refused"), "reason: {error}");
    assert!(error.contains("sent +0"), "the exporter's counters say nothing was delivered: {error}");
    for (exporter, signal, via) in EXPECTED.iter().filter(|(e, _, _)| *e != "prometheusremotewrite/vm") {
        let (v, result, error) = row(&rows, exporter, signal);
        assert_eq!((v.as_str(), result.as_str(), error.as_str()), (*via, "ok", "-"), "{exporter} {signal}");
    }
}

#[test]
fn configuration_and_usage_errors_exit_2() {
    let dir = tempfile::tempdir().expect("tempdir");
    let bad = support::write(dir.path(), "bad.yaml", "receivers:\n  otlpp:\n");
    let out = switchyard(&["check", "--config", &bad.to_string_lossy()]);
    assert_eq!(out.status.code(), Some(2), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(String::from_utf8_lossy(&out.stderr).contains("otlpp"));

    let good = support::write(
        dir.path(),
        "good.yaml",
        "receivers:\n  otlp:\n    protocols:\n      grpc:\nexporters:\n  debug:\nservice:\n  pipelines:\n    logs:\n      receivers: [otlp]\n      exporters: [debug]\n",
    );
    let good = good.to_string_lossy().to_string();
    let out = switchyard(&["check", "--config", &good, "--query", "loki=http://127.0.0.1:1"]);
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("no exporter \"loki\"") && stderr.contains("exporters: debug"), "{stderr}");
    let out = switchyard(&["check", "--config", &good, "--query", "debug=http://127.0.0.1:1"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("KIND:URL"), "{}", String::from_utf8_lossy(&out.stderr));
}
