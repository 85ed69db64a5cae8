//! The `prometheus` receiver end to end: the gateway scrapes a real Prometheus and a real
//! VictoriaMetrics (Debian packages, started by the project's scripts) serving their own
//! `/metrics`, its own self-metrics endpoint and a target that is down, and exports over
//! OTLP to the Python sink; then a round trip: a real Prometheus scraped, written with
//! `prometheusremotewrite` to VictoriaMetrics and queried back with PromQL.

mod support;

use std::time::Duration;

use serde_json::Value;
use support::backends::{promql_until, Backend};
use support::scraped::{find, seen, Seen};
use support::{free_port, wait_until, Gateway, Sink};

/// The last value of a gauge of `job`.
fn last_gauge(all: &[Seen], job: &str, name: &str) -> Option<f64> {
    let s = find(all, job, name).into_iter().last()?;
    s.metric["gauge"]["dataPoints"][0]["asDouble"].as_f64()
}

fn num(v: &Value) -> u64 {
    v.as_str().and_then(|s| s.parse().ok()).or_else(|| v.as_u64()).unwrap_or(0)
}

#[test]
fn scrapes_prometheus_victoriametrics_self_metrics_and_a_down_target() {
    let prom = Backend::start("prometheus", &[]);
    let vm = Backend::start("victoriametrics", &[]);
    let sink = Sink::start(&[]);
    let self_port = free_port();
    let down_port = free_port();
    let hostport = |url: &str| url.trim_start_matches("http://").to_string();
    let sd_dir = tempfile::tempdir().expect("tempdir");
    let sd_file = sd_dir.path().join("targets.json");
    std::fs::write(&sd_file, format!(r#"[{{"targets": ["{}"], "labels": {{"from": "file"}}}}]"#, hostport(&vm.url)))
        .expect("write file_sd");
    let cfg = format!(
        r#"
receivers:
  prometheus:
    config:
      scrape_configs:
        - job_name: prom
          scrape_interval: 1s
          static_configs:
            - targets: ['{prom}']
              labels: {{tier: backend}}
          metric_relabel_configs:
            - source_labels: [__name__]
              regex: 'go_gc_.*'
              action: drop
            - source_labels: [__name__]
              regex: 'prometheus_(build_info)'
              target_label: __name__
              replacement: 'renamed_$$1'
        - job_name: vm
          scrape_interval: 1s
          static_configs: [{{targets: ['{vm}']}}]
        - job_name: self
          scrape_interval: 1s
          static_configs: [{{targets: ['127.0.0.1:{self_port}']}}]
        - job_name: filesd
          scrape_interval: 1s
          file_sd_configs: [{{files: ['{sd_file}']}}]
        - job_name: down
          scrape_interval: 1s
          scrape_timeout: 500ms
          static_configs: [{{targets: ['127.0.0.1:{down_port}']}}]
exporters:
  otlp:
    endpoint: {sink}
    tls: {{insecure: true}}
service:
  telemetry:
    metrics:
      address: 127.0.0.1:{self_port}
  pipelines:
    metrics:
      receivers: [prometheus]
      exporters: [otlp]
"#,
        prom = hostport(&prom.url),
        vm = hostport(&vm.url),
        sink = sink.grpc_endpoint(),
        sd_file = sd_file.display(),
    );
    let gw = Gateway::start(&cfg, self_port);
    let ready = wait_until(Duration::from_secs(30), || {
        let all = seen(&sink);
        ["prom", "vm", "self", "down", "filesd"].iter().all(|j| !find(&all, j, "up").is_empty())
            && !find(&all, "self", "otelcol_receiver_accepted_metric_points").is_empty()
            && find(&all, "prom", "prometheus_http_requests_total").len() >= 2
    });
    let all = seen(&sink);
    let jobs: std::collections::BTreeSet<&str> = all.iter().map(|s| s.job.as_str()).collect();
    assert!(ready, "not every job arrived; jobs seen {jobs:?}\n{}", gw.logs());

    // up: 1 for the live targets, 0 for the one that is down.
    for job in ["prom", "vm", "self", "filesd"] {
        assert_eq!(last_gauge(&all, job, "up"), Some(1.0), "{job} is up");
    }
    assert_eq!(last_gauge(&all, "down", "up"), Some(0.0));
    assert!(last_gauge(&all, "prom", "scrape_samples_scraped").unwrap() > 100.0);
    assert_eq!(find(&all, "prom", "up")[0].instance, hostport(&prom.url), "service.instance.id is the address");
    assert_eq!(find(&all, "filesd", "up")[0].instance, hostport(&vm.url), "the file_sd target is scraped");

    // A counter: monotonic cumulative sum with a start time, labels as attributes.
    let reqs = find(&all, "prom", "prometheus_http_requests_total");
    let sum = &reqs.last().unwrap().metric["sum"];
    assert_eq!(sum["isMonotonic"], true, "{sum}");
    assert!(
        sum["aggregationTemporality"] == "AGGREGATION_TEMPORALITY_CUMULATIVE" || sum["aggregationTemporality"] == 2,
        "cumulative: {sum}"
    );
    let p = &sum["dataPoints"][0];
    let (start, time) = (num(&p["startTimeUnixNano"]), num(&p["timeUnixNano"]));
    assert!(start > 0 && start <= time, "start {start} time {time}");
    let keys: Vec<&str> = p["attributes"].as_array().unwrap().iter().filter_map(|kv| kv["key"].as_str()).collect();
    assert!(keys.contains(&"handler") && keys.contains(&"code") && keys.contains(&"tier"), "{keys:?}");
    // The series' start stays from one scrape to the next.
    let first_start = num(&reqs[0].metric["sum"]["dataPoints"][0]["startTimeUnixNano"]);
    let later = reqs.iter().map(|s| &s.metric["sum"]["dataPoints"]).find_map(|dps| {
        dps.as_array()?
            .iter()
            .find(|d| {
                d["attributes"] == reqs[0].metric["sum"]["dataPoints"][0]["attributes"]
                    && num(&d["timeUnixNano"]) > num(&reqs[0].metric["sum"]["dataPoints"][0]["timeUnixNano"])
            })
            .cloned()
    });
    let later = later.expect("a later point of the same series");
    assert_eq!(num(&later["startTimeUnixNano"]), first_start, "the start time is kept across scrapes");

    // A histogram with buckets.
    let h = find(&all, "prom", "prometheus_http_request_duration_seconds");
    let hp = &h.last().expect("histogram arrived").metric["histogram"]["dataPoints"][0];
    let bounds = hp["explicitBounds"].as_array().expect("bounds").len();
    assert!(bounds > 3, "{hp}");
    assert_eq!(hp["bucketCounts"].as_array().unwrap().len(), bounds + 1);
    assert!(num(&hp["count"]) >= 1);

    // Relabeling: go_gc_* dropped from the prom job only; prometheus_build_info renamed.
    assert!(find(&all, "prom", "go_gc_duration_seconds").is_empty());
    assert!(!find(&all, "prom", "go_goroutines").is_empty());
    assert!(find(&all, "prom", "prometheus_build_info").is_empty());
    assert!(!find(&all, "prom", "renamed_build_info").is_empty(), "the $$1 replacement renamed it");

    // VictoriaMetrics's own metrics and our own self-metrics.
    assert!(!find(&all, "vm", "vm_app_version").is_empty() || !find(&all, "vm", "vm_app_uptime_seconds").is_empty());
    let accepted = find(&all, "self", "otelcol_receiver_accepted_metric_points");
    assert!(accepted.last().unwrap().metric.get("sum").is_some(), "self-metric counters arrive as sums");
    assert!(!gw.logs().contains("invalid exposition"), "every real body parsed:\n{}", gw.logs());

    // The file_sd target goes away: its series are marked stale ("no recorded value").
    std::fs::write(&sd_file, "[]").expect("empty file_sd");
    let stale_up = wait_until(Duration::from_secs(20), || {
        find(&seen(&sink), "filesd", "up").iter().any(|s| {
            let p = &s.metric["gauge"]["dataPoints"][0];
            p["flags"] == 1 && p.get("asDouble").is_none()
        })
    });
    assert!(stale_up, "a stale up point for the removed target\n{}", gw.logs());
    assert!(gw.logs().contains("Target removed."));
}

#[test]
fn round_trip_through_remote_write_to_victoriametrics() {
    let src = Backend::start("prometheus", &[]);
    let vm = Backend::start("victoriametrics", &[]);
    let ready = free_port();
    let cfg = format!(
        r#"
receivers:
  prometheus:
    config:
      scrape_configs:
        - job_name: promsrc
          scrape_interval: 1s
          static_configs: [{{targets: ['{src}']}}]
exporters:
  prometheusremotewrite:
    endpoint: {vm}/api/v1/write
service:
  telemetry:
    metrics:
      address: 127.0.0.1:{ready}
  pipelines:
    metrics:
      receivers: [prometheus]
      exporters: [prometheusremotewrite]
"#,
        src = src.url.trim_start_matches("http://"),
        vm = vm.url,
    );
    let gw = Gateway::start(&cfg, ready);
    let wait = Duration::from_secs(30);
    let up = promql_until(&vm.url, r#"up{job="promsrc"}"#, wait, |s| !s.is_empty());
    assert_eq!(up.len(), 1, "up arrived in VictoriaMetrics\n{}", gw.logs());
    assert_eq!(up[0].value, 1.0);
    assert_eq!(up[0].label("instance"), src.url.trim_start_matches("http://"));
    let reqs = promql_until(&vm.url, r#"prometheus_http_requests_total{job="promsrc"}"#, wait, |s| !s.is_empty());
    assert!(!reqs.is_empty());
    assert!(reqs.iter().any(|s| !s.label("handler").is_empty()), "{reqs:?}");
    let buckets = promql_until(
        &vm.url,
        r#"prometheus_http_request_duration_seconds_bucket{job="promsrc",le="+Inf"}"#,
        wait,
        |s| !s.is_empty(),
    );
    assert!(!buckets.is_empty(), "the histogram's buckets are queryable");
}
