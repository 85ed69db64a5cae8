//! The `loadbalancing` exporter with real binaries: a tier-1 gateway spreading traces over
//! tier-2 gateways (seed 003), partial failures, and routing by service into `spanmetrics`.
//! Every tier-2 gateway stamps `tier2.member` on what it forwards, so the sink shows which
//! gateway handled each span.

mod support;

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use support::traces::{collector_keeps, hex, request, request_as, trace_id, S};
use support::{free_port, http_post_json, items_of, wait_until, Gateway, Sink};

/// A tier-2 gateway: OTLP/gRPC in, `processors`, then `resource` stamping its member name,
/// OTLP out to `sink`.
fn tier2(member: usize, grpc: u16, sink: &Sink, processors: &str, names: &str) -> Gateway {
    let cfg = format!(
        r#"
receivers:
  otlp:
    protocols:
      grpc:
        endpoint: 127.0.0.1:{grpc}
processors:
{processors}
  resource/member:
    attributes:
      - {{key: tier2.member, value: "m{member}", action: upsert}}
exporters:
  otlp:
    endpoint: {sink}
    tls:
      insecure: true
service:
  pipelines:
    traces:
      receivers: [otlp]
      processors: [{names}resource/member]
      exporters: [otlp]
"#,
        sink = sink.grpc_endpoint()
    );
    Gateway::start(&cfg, grpc)
}

/// Tier-1: OTLP/HTTP in, `loadbalancing` over `backends` with `extra` exporter settings.
fn tier1(http: u16, backends: &[String], extra: &str) -> Gateway {
    tier1_for("traces", http, backends, extra)
}

/// [`tier1`] with a `signal` pipeline.
fn tier1_for(signal: &str, http: u16, backends: &[String], extra: &str) -> Gateway {
    let hosts: Vec<String> = backends.iter().map(|b| format!("          - {b}")).collect();
    let cfg = format!(
        r#"
receivers:
  otlp:
    protocols:
      http:
        endpoint: 127.0.0.1:{http}
exporters:
  loadbalancing:
{extra}
    protocol:
      otlp:
        timeout: 2s
        tls:
          insecure: true
    resolver:
      static:
        hostnames:
{hosts}
service:
  pipelines:
    {signal}:
      receivers: [otlp]
      exporters: [loadbalancing]
"#,
        hosts = hosts.join("\n")
    );
    Gateway::start(&cfg, http)
}

/// Per trace id: the members that forwarded its spans, and its span ids.
fn by_trace(sink: &Sink, run: &str) -> BTreeMap<String, (BTreeSet<String>, Vec<String>)> {
    let mut m: BTreeMap<String, (BTreeSet<String>, Vec<String>)> = BTreeMap::new();
    for r in sink.requests().iter().filter(|r| r["signal"] == "traces") {
        for i in items_of(&r["request"], Some(run)) {
            let e = m.entry(i.item["traceId"].as_str().unwrap_or_default().to_string()).or_default();
            e.0.insert(i.resource_attr("tier2.member").unwrap_or_default());
            e.1.push(i.item["spanId"].as_str().unwrap_or_default().to_string());
        }
    }
    m
}

/// Seed 003: tier-1 load-balances by trace id over three tier-2 gateways running seed 002's
/// tail sampling. 600 traces of 3 spans, each span in its own request: every trace is
/// decided on exactly one tier-2 gateway, and arrives whole or not at all, exactly where the
/// Collector's hash keeps it.
#[test]
fn seed_003_two_tiers_decide_each_trace_on_one_gateway() {
    let sink = Sink::start(&[]);
    let policy = r#"  tail_sampling:
    decision_wait: 2s
    policies:
      - {name: errors, type: status_code, status_code: {status_codes: [ERROR]}}
      - {name: healthy, type: probabilistic, probabilistic: {sampling_percentage: 5}}
"#;
    let ports: Vec<u16> = (0..3).map(|_| free_port()).collect();
    let t2: Vec<Gateway> =
        ports.iter().enumerate().map(|(i, p)| tier2(i, *p, &sink, policy, "tail_sampling, ")).collect();
    let http = free_port();
    let backends: Vec<String> = ports.iter().map(|p| format!("127.0.0.1:{p}")).collect();
    let t1 = tier1(http, &backends, "    routing_key: traceID");

    let run = format!("lb{}", std::process::id());
    let n = 600u32;
    let ids: Vec<[u8; 16]> = (0..n).map(|i| trace_id(std::process::id() ^ 0x5eed, i)).collect();
    for span in 1..=3u8 {
        for (c, chunk) in ids.chunks(60).enumerate() {
            let spans: Vec<S> = chunk
                .iter()
                .enumerate()
                .map(|(k, t)| S {
                    trace: *t,
                    span,
                    error: span == 3 && (c * 60 + k) % 10 == 0,
                    start_ms: u64::from(span) * 10,
                    dur_ms: 5,
                })
                .collect();
            let status = http_post_json(&format!("127.0.0.1:{http}"), "/v1/traces", &request(&run, &spans));
            assert_eq!(status, 200, "tier-1 accepted the request");
        }
    }
    let expected: BTreeSet<String> = ids
        .iter()
        .enumerate()
        .filter(|(i, t)| i % 10 == 0 || collector_keeps(t, "default-hash-seed", 5.0))
        .map(|(_, t)| hex(t))
        .collect();
    let done = wait_until(Duration::from_secs(30), || {
        let got = by_trace(&sink, &run);
        got.len() >= expected.len() && got.values().all(|(_, s)| s.len() >= 3)
    });
    std::thread::sleep(Duration::from_millis(500));
    let got = by_trace(&sink, &run);
    assert!(done, "kept traces did not all arrive whole: {} of {}\n{}", got.len(), expected.len(), t1.logs());
    assert_eq!(got.keys().cloned().collect::<BTreeSet<_>>(), expected, "the Collector's decisions, no more");
    for (id, (members, spans)) in &got {
        assert_eq!(members.len(), 1, "trace {id} handled by one tier-2 gateway, not {members:?}");
        assert_eq!(spans.len(), 3, "trace {id} arrived whole, each span once: {spans:?}");
    }
    // Each trace was seen (and decided) by exactly one tier-2 gateway.
    let seen: Vec<f64> = t2.iter().map(|g| g.metric("otelcol_processor_tail_sampling_new_trace_id_received")).collect();
    assert_eq!(seen.iter().sum::<f64>(), f64::from(n), "new trace ids per tier-2 gateway: {seen:?}");
    for s in &seen {
        assert!(*s > f64::from(n) / 3.0 * 0.75, "the ring spreads traces: {seen:?}");
    }
    assert_eq!(t1.metric_with("otelcol_loadbalancer_num_backends", &["resolver=\"static\""]), 3.0);
    assert_eq!(t1.metric_with("otelcol_loadbalancer_num_resolutions", &["success=\"true\""]), 1.0);
    eprintln!("traces per tier-2 gateway: {seen:?}; kept {} of {n}", expected.len());
}

/// One of three backends fails its first requests: only its part is retried, so the other
/// backends get each span once, and nothing is lost.
#[test]
fn a_failing_backend_is_retried_alone() {
    let good = [Sink::start(&[]), Sink::start(&[])];
    let flaky = Sink::start(&["--fail-status", "503", "--fail-first", "3"]);
    let backends: Vec<String> = [&good[0], &good[1], &flaky].iter().map(|s| s.grpc_endpoint()).collect();
    let http = free_port();
    let t1 = tier1(
        http,
        &backends,
        "    retry_on_failure:\n      initial_interval: 100ms\n      max_interval: 200ms\n    sending_queue:\n      num_consumers: 1",
    );
    let run = format!("lbf{}", std::process::id());
    let ids: Vec<[u8; 16]> = (0..90u32).map(|i| trace_id(std::process::id() ^ 0xf1a, i)).collect();
    for chunk in ids.chunks(30) {
        let spans: Vec<S> = chunk
            .iter()
            .flat_map(|t| [1u8, 2].map(|span| S { trace: *t, span, error: false, start_ms: 0, dur_ms: 1 }))
            .collect();
        assert_eq!(http_post_json(&format!("127.0.0.1:{http}"), "/v1/traces", &request(&run, &spans)), 200);
    }
    let total = || good.iter().chain([&flaky]).map(|s| s.items("traces", Some(&run))).sum::<usize>();
    assert!(wait_until(Duration::from_secs(20), || total() >= 180), "got {} of 180 spans\n{}", total(), t1.logs());
    std::thread::sleep(Duration::from_millis(500));
    let mut owner: BTreeMap<String, BTreeSet<usize>> = BTreeMap::new();
    for (i, s) in good.iter().chain([&flaky]).enumerate() {
        let mut seen = BTreeSet::new();
        for r in s.requests().iter().filter(|r| r["signal"] == "traces") {
            for it in items_of(&r["request"], Some(&run)) {
                let key = format!(
                    "{}/{}",
                    it.item["traceId"].as_str().unwrap_or(""),
                    it.item["spanId"].as_str().unwrap_or("")
                );
                assert!(seen.insert(key.clone()), "backend {i} got span {key} twice");
                owner.entry(it.item["traceId"].as_str().unwrap_or("").to_string()).or_default().insert(i);
            }
        }
    }
    assert_eq!(total(), 180, "every span once");
    assert_eq!(owner.len(), 90);
    assert!(owner.values().all(|o| o.len() == 1), "each trace on one backend");
    let flaky_ep = format!("endpoint=\"{}\"", flaky.grpc_endpoint());
    let failures = t1.metric_with("otelcol_loadbalancer_backend_outcome", &[&flaky_ep, "success=\"false\""]);
    assert!(failures >= 3.0, "the flaky backend's failures are counted: {failures}");
    assert!(owner.values().any(|o| o.contains(&2)), "the flaky backend got its traces in the end");
}

/// `routing_key: service` into `spanmetrics` on tier 2: each service's metrics come from one
/// gateway, and count every span of that service.
#[test]
fn routing_by_service_gives_each_services_metrics_from_one_gateway() {
    let sink = Sink::start(&[]);
    let ports: Vec<u16> = (0..2).map(|_| free_port()).collect();
    let t2: Vec<Gateway> = ports
        .iter()
        .enumerate()
        .map(|(member, grpc)| {
            let cfg = format!(
                r#"
receivers:
  otlp:
    protocols:
      grpc:
        endpoint: 127.0.0.1:{grpc}
connectors:
  spanmetrics:
    metrics_flush_interval: 1s
processors:
  resource/member:
    attributes:
      - {{key: tier2.member, value: "m{member}", action: upsert}}
exporters:
  otlp:
    endpoint: {sink}
    tls:
      insecure: true
service:
  pipelines:
    traces:
      receivers: [otlp]
      exporters: [spanmetrics]
    metrics:
      receivers: [spanmetrics]
      processors: [resource/member]
      exporters: [otlp]
"#,
                sink = sink.grpc_endpoint()
            );
            Gateway::start(&cfg, *grpc)
        })
        .collect();
    let http = free_port();
    let backends: Vec<String> = ports.iter().map(|p| format!("127.0.0.1:{p}")).collect();
    let _t1 = tier1(http, &backends, "    routing_key: service");
    let run = format!("lbs{}", std::process::id());
    // Which gateway owns a service depends on the ports (the ring hashes the endpoints): with
    // 16 services the chance that one gateway owns them all is 2 in 65,536 (with 8 it was 1 in
    // 128, and the spread check below failed about once in 128 runs).
    let services: Vec<String> = (0..16).map(|i| format!("svc-{i}")).collect();
    // Service i sends 5 × (i + 1) spans, in 5 requests.
    for round in 0..5u32 {
        for (i, svc) in services.iter().enumerate() {
            let spans: Vec<S> = (0..=i as u32)
                .map(|k| S {
                    trace: trace_id(round * 100 + i as u32, k),
                    span: 1,
                    error: false,
                    start_ms: 0,
                    dur_ms: 3,
                })
                .collect();
            assert_eq!(http_post_json(&format!("127.0.0.1:{http}"), "/v1/traces", &request_as(&run, svc, &spans)), 200);
        }
    }
    // The latest cumulative `traces.span.metrics.calls` per (service, member).
    let calls = || {
        let mut m: BTreeMap<(String, String), f64> = BTreeMap::new();
        for r in sink.requests().iter().filter(|r| r["signal"] == "metrics") {
            for it in items_of(&r["request"], None) {
                if it.item["metricName"] != "traces.span.metrics.calls" {
                    continue;
                }
                let svc = it.resource_attr("service.name").unwrap_or_default();
                if !svc.starts_with("svc-") {
                    continue;
                }
                let v =
                    it.item["asInt"].as_str().and_then(|s| s.parse().ok()).or(it.item["asInt"].as_f64()).unwrap_or(0.0);
                let e = m.entry((svc, it.resource_attr("tier2.member").unwrap_or_default())).or_default();
                *e = e.max(v);
            }
        }
        m
    };
    let complete = wait_until(Duration::from_secs(20), || {
        let c = calls();
        services.iter().enumerate().all(|(i, s)| {
            c.iter().filter(|((svc, _), _)| svc == s).map(|(_, v)| *v).sum::<f64>() >= 5.0 * (i as f64 + 1.0)
        })
    });
    let c = calls();
    assert!(complete, "spanmetrics counted every span: {c:?}");
    for (i, s) in services.iter().enumerate() {
        let members: Vec<&String> = c.keys().filter(|(svc, _)| svc == s).map(|(_, m)| m).collect();
        assert_eq!(members.len(), 1, "{s}'s metrics come from one gateway: {members:?}");
        assert_eq!(c[&(s.clone(), members[0].clone())], 5.0 * (i as f64 + 1.0), "{s}: every span counted once");
    }
    let used: BTreeSet<&String> = c.keys().map(|(_, m)| m).collect();
    assert_eq!(used.len(), 2, "16 services spread over both gateways: {c:?}");
    drop(t2);
}

/// (service, metric, the point's one attribute).
type Series = (String, String, String);

/// `routing_key: streamID`: 4 cumulative rounds of 36 series (2 services × (a sum of 12 routes
/// and a gauge of 6 rooms)) over three backends. Every point of a series reaches the same
/// backend (what a stateful consumer such as `cumulativetodelta` needs), one metric's series
/// spread over the backends, and each cut metric keeps its type and unit.
#[test]
fn routing_by_stream_keeps_each_series_on_one_backend() {
    let sinks = [Sink::start(&[]), Sink::start(&[]), Sink::start(&[])];
    let backends: Vec<String> = sinks.iter().map(|s| s.grpc_endpoint()).collect();
    let http = free_port();
    let t1 = tier1_for("metrics", http, &backends, "    routing_key: streamID");
    let run = format!("lbm{}", std::process::id());
    let points = |attr: &str, n: usize, round: usize| -> String {
        let p: Vec<String> = (0..n)
            .map(|k| {
                format!(
                    r#"{{"attributes":[{{"key":"{attr}","value":{{"stringValue":"{attr}-{k}"}}}}],"timeUnixNano":"{t}","asInt":"{round}"}}"#,
                    t = 1_700_000_000_000_000_000u64 + round as u64 * 1_000_000_000
                )
            })
            .collect();
        p.join(",")
    };
    for round in 1..=4 {
        let resources: Vec<String> = ["svc-a", "svc-b"]
            .iter()
            .map(|svc| {
                format!(
                    r#"{{"resource":{{"attributes":[{{"key":"service.name","value":{{"stringValue":"{svc}"}}}},{{"key":"run.id","value":{{"stringValue":"{run}"}}}}]}},
"scopeMetrics":[{{"scope":{{"name":"lb-test"}},"metrics":[
{{"name":"requests","unit":"1","sum":{{"aggregationTemporality":2,"isMonotonic":true,"dataPoints":[{sum}]}}}},
{{"name":"temperature","unit":"Cel","gauge":{{"dataPoints":[{gauge}]}}}}]}}]}}"#,
                    sum = points("route", 12, round),
                    gauge = points("room", 6, round),
                )
            })
            .collect();
        let body = format!(r#"{{"resourceMetrics":[{}]}}"#, resources.join(","));
        assert_eq!(http_post_json(&format!("127.0.0.1:{http}"), "/v1/metrics", &body), 200);
    }
    let total = || sinks.iter().map(|s| s.items("metrics", Some(&run))).sum::<usize>();
    assert!(wait_until(Duration::from_secs(20), || total() >= 144), "got {} of 144 points\n{}", total(), t1.logs());
    std::thread::sleep(Duration::from_millis(300));
    assert_eq!(total(), 144, "every point once");
    // Per series (service, metric, attribute): the backends it reached and its values.
    let mut series: BTreeMap<Series, (BTreeSet<usize>, Vec<String>)> = BTreeMap::new();
    let mut metric_backends: BTreeMap<String, BTreeSet<usize>> = BTreeMap::new();
    for (b, s) in sinks.iter().enumerate() {
        for r in s.requests().iter().filter(|r| r["signal"] == "metrics") {
            for rm in r["request"]["resourceMetrics"].as_array().into_iter().flatten() {
                for m in rm["scopeMetrics"].as_array().into_iter().flatten().flat_map(|sm| sm["metrics"].as_array()) {
                    for m in m {
                        let unit = if m["name"] == "requests" { "1" } else { "Cel" };
                        assert_eq!(m["unit"], unit, "a cut metric keeps its unit: {m}");
                        if m["name"] == "requests" {
                            assert_eq!(m["sum"]["isMonotonic"], true, "and its monotonicity: {m}");
                        }
                    }
                }
            }
            for it in items_of(&r["request"], Some(&run)) {
                let name = it.item["metricName"].as_str().unwrap_or_default().to_string();
                let attr = it.attr("route").or(it.attr("room")).unwrap_or_default();
                let e = series
                    .entry((it.resource_attr("service.name").unwrap_or_default(), name.clone(), attr))
                    .or_default();
                e.0.insert(b);
                e.1.push(it.item["asInt"].as_str().unwrap_or_default().to_string());
                metric_backends.entry(name).or_default().insert(b);
            }
        }
    }
    assert_eq!(series.len(), 36, "2 services × 18 series");
    for (k, (backends, values)) in &series {
        assert_eq!(backends.len(), 1, "series {k:?} on one backend: {backends:?}");
        let mut v = values.clone();
        v.sort();
        assert_eq!(v, ["1", "2", "3", "4"], "series {k:?}: every round once");
    }
    assert_eq!(metric_backends["requests"].len(), 3, "one metric's series spread over the backends");
    let per_backend: Vec<usize> = sinks.iter().map(|s| s.items("metrics", Some(&run))).collect();
    assert!(per_backend.iter().all(|&n| n > 0), "every backend takes a share: {per_backend:?}");
}
