//! Hot reload under load, with the real binary: two `switchyard gen` clients (OTLP/gRPC and
//! OTLP/HTTP, each recording what the gateway accepted) send spans continuously through
//! `otlp → attributes → batch → otlp` to `otlp_sink.py` while the test rewrites the config
//! file and sends SIGHUP five times; each config stamps spans with its own
//! `config.version`. Then a broken config (an unknown processor type) is sent the same way.
//! Every accepted span must arrive, each span must carry the version of the config that
//! was running when it was made, the broken config must be logged with its line and leave
//! traffic flowing, and `switchyard_config_reload_total` must count 5 successes, 1 failure.
//! A probe posts to the HTTP port every 10 ms throughout, to measure what clients see.

mod support;

use std::collections::{BTreeMap, BTreeSet};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use support::{accepted_seqs, free_port, http_get, http_post_json, items_of, wait_until, Gateway, Sink};

struct Ports {
    grpc: u16,
    http: u16,
    sink: u16,
    metrics: u16,
    health: u16,
}

/// The gateway's config, stamping spans with `version`; `processor_type` is `attributes`
/// for a valid config (anything else makes it invalid).
fn config(p: &Ports, version: usize, processor_type: &str) -> String {
    format!(
        r#"extensions:
  health_check: {{endpoint: "127.0.0.1:{health}"}}
receivers:
  otlp:
    protocols:
      grpc: {{endpoint: "127.0.0.1:{grpc}"}}
      http: {{endpoint: "127.0.0.1:{http}"}}
processors:
  {processor_type}/stamp:
    actions:
      - {{key: config.version, value: "v{version}", action: upsert}}
  batch: {{timeout: 200ms, send_batch_size: 500}}
exporters:
  otlp:
    endpoint: "127.0.0.1:{sink}"
    tls: {{insecure: true}}
    retry_on_failure: {{initial_interval: 100ms, max_interval: 1s, max_elapsed_time: 5m}}
service:
  extensions: [health_check]
  telemetry:
    metrics:
      readers:
        - pull: {{exporter: {{prometheus: {{host: 127.0.0.1, port: {metrics}}}}}}}
  pipelines:
    traces:
      receivers: [otlp]
      processors: [{processor_type}/stamp, batch]
      exporters: [otlp]
"#,
        health = p.health,
        grpc = p.grpc,
        http = p.http,
        sink = p.sink,
        metrics = p.metrics,
    )
}

fn now_nanos() -> u128 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_nanos()).unwrap_or(0)
}

fn gen_client(protocol: &str, port: u16, service: &str, accepted: &std::path::Path) -> Child {
    Command::new(env!("CARGO_BIN_EXE_switchyard"))
        .args(["gen", "traces", "--protocol", protocol, "--endpoint", &format!("http://127.0.0.1:{port}")])
        .args(["--rate", "1000", "--batch-size", "25", "--workers", "2", "--duration", "16s"])
        .args(["--service", service, "--accepted-file", &accepted.display().to_string()])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn gen")
}

/// One span at the sink: its client, sequence number, config version and creation time.
struct Seen {
    service: String,
    seq: u64,
    version: Option<usize>,
    made_ns: u128,
}

fn seen(sink: &Sink) -> Vec<Seen> {
    let mut out = Vec::new();
    for r in sink.requests().iter().filter(|r| r["signal"] == "traces") {
        for item in items_of(&r["request"], None) {
            let Some(seq) = item.item["name"].as_str().and_then(|n| n.strip_prefix("gen-span-")) else { continue };
            out.push(Seen {
                service: item.resource_attr("service.name").unwrap_or_default(),
                seq: seq.parse().expect("seq"),
                version: item.attr("config.version").and_then(|v| v.strip_prefix('v')?.parse().ok()),
                made_ns: item.item["endTimeUnixNano"].as_str().and_then(|t| t.parse().ok()).expect("end time"),
            });
        }
    }
    out
}

/// The value of a self-metric line `name{labels}` on the Prometheus endpoint.
fn metric(port: u16, line_start: &str) -> Option<f64> {
    let (_, text) = http_get(&format!("127.0.0.1:{port}"), "/metrics");
    text.lines().find(|l| l.starts_with(line_start)).and_then(|l| l.rsplit(' ').next()?.parse().ok())
}

#[test]
fn five_reloads_under_load_lose_no_span_and_a_broken_config_keeps_the_last_good_one() {
    let sink = Sink::start(&[]);
    let p =
        Ports { grpc: free_port(), http: free_port(), sink: sink.grpc_port, metrics: free_port(), health: free_port() };
    let gw = Gateway::start(&config(&p, 0, "attributes"), p.http);
    let cfg_path = gw.dir.path().join("config.yaml");
    let reloaded = |n: usize| gw.logs().matches("Configuration reloaded.").count() >= n;

    // A probe: an empty OTLP/HTTP request on a new connection every 10 ms; (sent at, took, status).
    let stop = Arc::new(AtomicBool::new(false));
    let probes: Arc<Mutex<Vec<(Instant, Duration, u16)>>> = Arc::default();
    let probe = {
        let (stop, probes, addr) = (stop.clone(), probes.clone(), format!("127.0.0.1:{}", p.http));
        std::thread::spawn(move || {
            while !stop.load(Ordering::Relaxed) {
                let t = Instant::now();
                let status = http_post_json(&addr, "/v1/traces", r#"{"resourceSpans":[]}"#);
                probes.lock().unwrap().push((t, t.elapsed(), status));
                std::thread::sleep(Duration::from_millis(10));
            }
        })
    };

    let (acc_grpc, acc_http) = (gw.dir.path().join("acc-grpc.txt"), gw.dir.path().join("acc-http.txt"));
    let clients =
        [gen_client("grpc", p.grpc, "reload-grpc", &acc_grpc), gen_client("http", p.http, "reload-http", &acc_http)];
    std::thread::sleep(Duration::from_millis(1500));

    // Five reloads, 1.5 s apart; done[i]: when the test saw reload i's success logged.
    let mut done = vec![0u128];
    let mut windows = Vec::new();
    for i in 1..=5 {
        std::fs::write(&cfg_path, config(&p, i, "attributes")).unwrap();
        let t = Instant::now();
        gw.signal("HUP");
        assert!(wait_until(Duration::from_secs(20), || reloaded(i)), "reload {i} not done:\n{}", gw.logs());
        done.push(now_nanos());
        windows.push((t, Instant::now()));
        std::thread::sleep(Duration::from_millis(1500));
    }

    // A broken config: the reload fails, the last good config (v5) keeps running.
    let broken = config(&p, 6, "atributes");
    let line = broken.lines().position(|l| l.contains("atributes/stamp:")).unwrap() + 1;
    std::fs::write(&cfg_path, &broken).unwrap();
    gw.signal("HUP");
    assert!(wait_until(Duration::from_secs(10), || gw.logs().contains("Configuration reload failed")), "{}", gw.logs());
    let failed_at = now_nanos();
    let logs = gw.logs();
    let at = format!("{}:{line}:", cfg_path.display());
    assert!(logs.contains(&at) && logs.contains("unknown processor type \"atributes\""), "want {at}:\n{logs}");

    let mut reports = Vec::new();
    for c in clients {
        let out = c.wait_with_output().expect("gen");
        let r: serde_json::Value = serde_json::from_slice(&out.stdout)
            .unwrap_or_else(|_| panic!("gen output: {}", String::from_utf8_lossy(&out.stderr)));
        reports.push(r);
    }
    stop.store(true, Ordering::Relaxed);
    probe.join().unwrap();

    // Zero loss: every span a client was told was accepted reaches the sink.
    let accepted: BTreeMap<&str, BTreeSet<u64>> = [
        ("reload-grpc", accepted_seqs(&acc_grpc).into_iter().collect()),
        ("reload-http", accepted_seqs(&acc_http).into_iter().collect()),
    ]
    .into();
    let total: usize = accepted.values().map(BTreeSet::len).sum();
    assert!(total > 10_000, "the load ran: {total} accepted; {reports:?}");
    let complete = wait_until(Duration::from_secs(30), || {
        let got = seen(&sink);
        accepted.iter().all(|(svc, want)| {
            let have: BTreeSet<u64> = got.iter().filter(|s| s.service == *svc).map(|s| s.seq).collect();
            want.is_subset(&have)
        })
    });
    let got = seen(&sink);
    for (svc, want) in &accepted {
        let have: BTreeSet<u64> = got.iter().filter(|s| s.service == *svc).map(|s| s.seq).collect();
        let lost = want.difference(&have).count();
        assert!(complete && lost == 0, "{svc}: {lost} of {} accepted spans lost\n{}", want.len(), gw.logs());
    }

    // A span made after reload i had completed went through config i or later. (One made
    // just before a SIGHUP may be accepted after the swap, so there is no upper bound.)
    let mut per_version = [0usize; 6];
    for s in &got {
        let v = s.version.unwrap_or_else(|| panic!("span {} of {} has no config.version", s.seq, s.service));
        let min = done.iter().rposition(|d| *d < s.made_ns).unwrap_or(0);
        assert!(v >= min, "span {} of {} made at {} carries v{v}, want v{min} or later", s.seq, s.service, s.made_ns);
        per_version[v.min(5)] += 1;
    }
    assert!(per_version.iter().all(|n| *n > 0), "every config version stamped spans: {per_version:?}");
    let after_failure = got.iter().filter(|s| s.made_ns > failed_at + 500_000_000).count();
    assert!(after_failure > 1000, "traffic flows after the broken reload: {after_failure} spans");

    assert_eq!(metric(p.metrics, r#"switchyard_config_reload_total{result="success"}"#), Some(5.0));
    assert_eq!(metric(p.metrics, r#"switchyard_config_reload_total{result="failure"}"#), Some(1.0));
    assert_eq!(http_get(&format!("127.0.0.1:{}", p.health), "/").0, 200, "health_check reports the new graph");

    // What clients saw: no connection refused; the longest probe request per reload.
    let probes = probes.lock().unwrap();
    let refused = probes.iter().filter(|(_, _, s)| *s == 0).count();
    let failed: Vec<u16> = probes.iter().map(|(_, _, s)| *s).filter(|s| *s != 200).collect();
    let gaps: Vec<String> = windows
        .iter()
        .map(|(a, b)| {
            probes
                .iter()
                .filter(|(t, d, _)| *t + *d >= *a && *t <= *b)
                .map(|(_, d, _)| *d)
                .max()
                .map_or_else(|| "-".to_string(), |d| format!("{:.1}", d.as_secs_f64() * 1000.0))
        })
        .collect();
    let paused: Vec<&str> =
        logs.lines().filter_map(|l| l.split("receivers_paused_ms=").nth(1)?.split_whitespace().next()).collect();
    eprintln!(
        "accepted {total} spans, lost 0; per version {per_version:?}; probes {} (non-200: {failed:?}); \
         slowest probe per reload (ms) {gaps:?}; receivers_paused_ms per reload {paused:?}; gen: {reports:?}",
        probes.len()
    );
    assert_eq!(refused, 0, "no probe saw its connection refused or reset: {failed:?}");
}
