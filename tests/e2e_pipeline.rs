//! Pipeline behaviour end to end: gRPC refusals map to the right codes, a hung backend does
//! not slow the other exporter, SIGTERM drains batches before exit, batching by client
//! metadata keeps tenants apart, a connector joins pipelines, and the health check follows
//! the pipelines.

mod support;

use std::net::TcpListener;
use std::time::{Duration, Instant};

use serde_json::Value;
use support::{switchyard, wait_until, Gateway, Sink};

fn gen(args: &[&str]) -> Value {
    let out = switchyard(&[&["gen"], args].concat());
    serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|_| panic!("gen output: {}", String::from_utf8_lossy(&out.stderr)))
}

#[test]
fn grpc_refusals_use_the_collector_codes() {
    let (s503, s400) = (Sink::start(&["--fail-status", "503"]), Sink::start(&["--fail-status", "400"]));
    let (p1, p2) = (support::free_port(), support::free_port());
    let cfg = format!(
        r#"
receivers:
  otlp/a: {{protocols: {{grpc: {{endpoint: "127.0.0.1:{p1}"}}}}}}
  otlp/b: {{protocols: {{grpc: {{endpoint: "127.0.0.1:{p2}"}}}}}}
exporters:
  otlp/503: {{endpoint: "{e1}", tls: {{insecure: true}}, sending_queue: {{enabled: false}}, retry_on_failure: {{enabled: false}}}}
  otlp/400: {{endpoint: "{e2}", tls: {{insecure: true}}, sending_queue: {{enabled: false}}, retry_on_failure: {{enabled: false}}}}
service:
  pipelines:
    logs/a: {{receivers: [otlp/a], exporters: [otlp/503]}}
    logs/b: {{receivers: [otlp/b], exporters: [otlp/400]}}
"#,
        e1 = s503.grpc_endpoint(),
        e2 = s400.grpc_endpoint()
    );
    let _gw = Gateway::start(&cfg, p2);
    let r = gen(&["logs", "--endpoint", &format!("http://127.0.0.1:{p1}"), "--count", "3"]);
    assert_eq!(r["refused_items"], 3);
    assert!(r["first_error"].as_str().unwrap_or_default().contains("Unavailable"), "{r}");
    let r = gen(&["logs", "--endpoint", &format!("http://127.0.0.1:{p2}"), "--count", "3"]);
    assert!(r["first_error"].as_str().unwrap_or_default().contains("Internal"), "{r}");
    // A signal with no pipeline on this receiver.
    let r = gen(&["traces", "--endpoint", &format!("http://127.0.0.1:{p2}"), "--count", "1"]);
    assert!(r["first_error"].as_str().unwrap_or_default().contains("Unimplemented"), "{r}");
}

#[test]
fn a_hung_backend_does_not_slow_the_other_exporter() {
    // A backend that accepts connections and never answers: a fault a real server cannot be told to produce.
    let hung = TcpListener::bind("127.0.0.1:0").expect("bind");
    let hung_addr = hung.local_addr().expect("addr");
    let done = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let stop = done.clone();
    let holder = std::thread::spawn(move || {
        let mut conns = Vec::new();
        hung.set_nonblocking(true).expect("nonblocking");
        let end = Instant::now() + Duration::from_secs(30);
        while Instant::now() < end && !stop.load(std::sync::atomic::Ordering::Relaxed) {
            if let Ok((c, _)) = hung.accept() {
                conns.push(c);
            }
            std::thread::sleep(Duration::from_millis(10));
        }
    });
    let good = Sink::start(&[]);
    let port = support::free_port();
    let cfg = format!(
        r#"
receivers:
  otlp: {{protocols: {{grpc: {{endpoint: "127.0.0.1:{port}"}}}}}}
exporters:
  otlphttp/hung: {{endpoint: "http://{hung_addr}", timeout: 30s, sending_queue: {{queue_size: 10000}}}}
  otlp/good: {{endpoint: "{good}", tls: {{insecure: true}}}}
service:
  pipelines:
    traces: {{receivers: [otlp], exporters: [otlphttp/hung, otlp/good]}}
"#,
        good = good.grpc_endpoint()
    );
    let gw = Gateway::start(&cfg, port);
    let started = Instant::now();
    let r = gen(&[
        "traces",
        "--endpoint",
        &format!("http://127.0.0.1:{port}"),
        "--count",
        "2000",
        "--batch-size",
        "20",
        "--workers",
        "4",
    ]);
    let took = started.elapsed();
    assert_eq!(r["accepted_items"], 2000, "{r}");
    assert!(took < Duration::from_secs(10), "clients were slowed by the hung backend: {took:?}");
    assert!(
        wait_until(Duration::from_secs(10), || good.items("traces", None) == 2000),
        "good backend got {}\n{}",
        good.items("traces", None),
        gw.logs()
    );
    drop(gw);
    done.store(true, std::sync::atomic::Ordering::Relaxed);
    let _ = holder.join();
}

#[test]
fn sigterm_flushes_pending_batches_then_exits_zero() {
    let sink = Sink::start(&[]);
    let (port, health) = (support::free_port(), support::free_port());
    let cfg = format!(
        r#"
receivers:
  otlp: {{protocols: {{http: {{endpoint: "127.0.0.1:{port}"}}}}}}
processors:
  batch: {{timeout: 60s, send_batch_size: 100000}}
exporters:
  otlphttp: {{endpoint: "{url}"}}
extensions:
  health_check: {{endpoint: "127.0.0.1:{health}"}}
service:
  extensions: [health_check]
  pipelines:
    logs: {{receivers: [otlp], processors: [batch], exporters: [otlphttp]}}
"#,
        url = sink.http_url()
    );
    let mut gw = Gateway::start(&cfg, port);
    let h = reqwest_get(&format!("http://127.0.0.1:{health}/"));
    assert_eq!(h.0, 200, "{}", h.1);
    assert!(h.1.contains("Server available"));
    let r = gen(&["logs", "--protocol", "http", "--endpoint", &format!("http://127.0.0.1:{port}"), "--count", "123"]);
    assert_eq!(r["accepted_items"], 123);
    std::thread::sleep(Duration::from_millis(300));
    assert_eq!(sink.items("logs", None), 0, "still batched (timeout 60s)");
    let status = gw.stop().expect("exited");
    assert!(status.success(), "exit status {status:?}\n{}", gw.logs());
    assert_eq!(sink.items("logs", None), 123, "drained on SIGTERM\n{}", gw.logs());
}

#[test]
fn batches_by_metadata_keep_tenants_apart_and_connectors_join_pipelines() {
    let sink = Sink::start(&[]);
    let port = support::free_port();
    let cfg = format!(
        r#"
receivers:
  otlp: {{protocols: {{http: {{endpoint: "127.0.0.1:{port}", include_metadata: true}}}}}}
processors:
  batch/tenant: {{timeout: 300ms, metadata_keys: [X-Tenant-ID]}}
connectors:
  forward:
exporters:
  otlphttp: {{endpoint: "{url}"}}
service:
  pipelines:
    traces/in:
      receivers: [otlp]
      processors: [batch/tenant]
      exporters: [forward]
    traces/out:
      receivers: [forward]
      exporters: [otlphttp]
"#,
        url = sink.http_url()
    );
    let _gw = Gateway::start(&cfg, port);
    let ep = format!("http://127.0.0.1:{port}");
    for round in 0..3 {
        for tenant in ["acme", "globex"] {
            let r = gen(&[
                "traces",
                "--protocol",
                "http",
                "--endpoint",
                &ep,
                "--count",
                "10",
                "--headers",
                &format!("X-Tenant-ID={tenant}"),
                "--service",
                tenant,
                "--attributes",
                &format!("round={round}"),
            ]);
            assert_eq!(r["accepted_items"], 10, "{r}");
        }
    }
    assert!(wait_until(Duration::from_secs(10), || sink.items("traces", None) == 60));
    let requests = sink.requests();
    for r in &requests {
        let services: std::collections::BTreeSet<String> =
            support::items_of(&r["request"], None).iter().filter_map(|i| i.resource_attr("service.name")).collect();
        assert_eq!(services.len(), 1, "a batch mixed tenants: {services:?}");
    }
    assert!(requests.len() <= 4, "each tenant's data was batched: {} requests", requests.len());
}

fn reqwest_get(url: &str) -> (u16, String) {
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime");
    rt.block_on(async {
        let r = reqwest::get(url).await.expect("GET");
        (r.status().as_u16(), r.text().await.unwrap_or_default())
    })
}

#[test]
fn pipelines_share_one_exporter_and_the_default_config_says_so() {
    // Fan-in: two pipelines of one signal into one exporter instance (one queue, one count).
    let sink = Sink::start(&[]);
    let (a, b, metrics) = (support::free_port(), support::free_port(), support::free_port());
    let cfg = format!(
        r#"
receivers:
  otlp/a: {{protocols: {{http: {{endpoint: "127.0.0.1:{a}"}}}}}}
  otlp/b: {{protocols: {{grpc: {{endpoint: "127.0.0.1:{b}"}}}}}}
exporters:
  otlphttp: {{endpoint: "{url}"}}
service:
  telemetry:
    metrics:
      readers:
        - pull: {{exporter: {{prometheus: {{host: 127.0.0.1, port: {metrics}}}}}}}
  pipelines:
    traces/a: {{receivers: [otlp/a], exporters: [otlphttp]}}
    traces/b: {{receivers: [otlp/b], exporters: [otlphttp]}}
"#,
        url = sink.http_url()
    );
    let _gw = Gateway::start(&cfg, b);
    assert_eq!(
        gen(&["traces", "--protocol", "http", "--endpoint", &format!("http://127.0.0.1:{a}"), "--count", "30"])
            ["accepted_items"],
        30
    );
    assert_eq!(gen(&["traces", "--endpoint", &format!("http://127.0.0.1:{b}"), "--count", "20"])["accepted_items"], 20);
    assert!(wait_until(Duration::from_secs(10), || sink.items("traces", None) == 50));
    let (_, text) = reqwest_get(&format!("http://127.0.0.1:{metrics}/metrics"));
    // An explicit prometheus reader: counters carry _total, as in the Collector.
    assert!(text.contains("otelcol_exporter_sent_spans_total{exporter=\"otlphttp\"} 50"), "{text}");
    assert_eq!(text.matches("otelcol_exporter_queue_capacity{").count(), 1, "one exporter instance:\n{text}");

    // No --config: the embedded default runs and says so.
    let dir = tempfile::tempdir().expect("tempdir");
    let log = std::fs::File::create(dir.path().join("log")).expect("log");
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_switchyard"))
        .args(["--set", &format!("service.telemetry.metrics.address=127.0.0.1:{}", support::free_port())])
        .args(["--set", &format!("receivers.otlp.protocols.grpc.endpoint=127.0.0.1:{}", support::free_port())])
        .args(["--set", &format!("receivers.otlp.protocols.http.endpoint=127.0.0.1:{}", support::free_port())])
        .stderr(log)
        .spawn()
        .expect("spawn");
    let read = || std::fs::read_to_string(dir.path().join("log")).unwrap_or_default();
    let ok = wait_until(Duration::from_secs(10), || read().contains("Everything is ready"));
    let _ = std::process::Command::new("kill").arg(child.id().to_string()).status();
    let status = child.wait().expect("wait");
    assert!(ok, "{}", read());
    assert!(read().contains("No --config given: running the embedded default"), "{}", read());
    assert!(status.success());
}

#[test]
fn partial_success_from_a_backend_is_reported() {
    let sink = Sink::start(&["--reject-one"]);
    let port = support::free_port();
    let cfg = format!(
        r#"
receivers:
  otlp: {{protocols: {{grpc: {{endpoint: "127.0.0.1:{port}"}}}}}}
exporters:
  otlp: {{endpoint: "{grpc}", tls: {{insecure: true}}}}
  otlphttp: {{endpoint: "{http}"}}
service:
  pipelines:
    logs: {{receivers: [otlp], exporters: [otlp, otlphttp]}}
"#,
        grpc = sink.grpc_endpoint(),
        http = sink.http_url()
    );
    let gw = Gateway::start(&cfg, port);
    assert_eq!(gen(&["logs", "--endpoint", &format!("http://127.0.0.1:{port}"), "--count", "5"])["accepted_items"], 5);
    assert!(wait_until(Duration::from_secs(10), || sink.items("logs", None) == 10));
    // Both exporters log the backend's partial success (count and message), and do not retry it.
    assert!(
        wait_until(Duration::from_secs(5), || gw.logs().matches("Partial success response.").count() == 2),
        "{}",
        gw.logs()
    );
    assert!(gw.logs().contains("otlp_sink --reject-one"), "{}", gw.logs());
    std::thread::sleep(Duration::from_millis(300));
    assert_eq!(sink.items("logs", None), 10, "no retry of a partial success");
}

#[test]
fn memory_limiter_refuses_with_retryable_codes_above_its_limit() {
    // A 2 MiB limit is below any real RSS: every request is refused, retryably.
    let sink = Sink::start(&[]);
    let (grpc, http, metrics) = (support::free_port(), support::free_port(), support::free_port());
    let cfg = format!(
        r#"
receivers:
  otlp: {{protocols: {{grpc: {{endpoint: "127.0.0.1:{grpc}"}}, http: {{endpoint: "127.0.0.1:{http}"}}}}}}
processors:
  memory_limiter: {{check_interval: 100ms, limit_mib: 2, spike_limit_mib: 1}}
exporters:
  otlphttp: {{endpoint: "{url}"}}
service:
  telemetry: {{metrics: {{address: "127.0.0.1:{metrics}"}}}}
  pipelines:
    traces: {{receivers: [otlp], processors: [memory_limiter], exporters: [otlphttp]}}
"#,
        url = sink.http_url()
    );
    let gw = Gateway::start(&cfg, http);
    let r = gen(&["traces", "--endpoint", &format!("http://127.0.0.1:{grpc}"), "--count", "10"]);
    assert_eq!(r["refused_items"], 10, "{r}");
    assert!(r["first_error"].as_str().unwrap_or_default().contains("Unavailable"), "{r}");
    assert!(r["first_error"].as_str().unwrap_or_default().contains("data refused due to high memory usage"), "{r}");
    let r = gen(&["traces", "--protocol", "http", "--endpoint", &format!("http://127.0.0.1:{http}"), "--count", "10"]);
    assert!(r["first_error"].as_str().unwrap_or_default().contains("503"), "{r}");
    assert_eq!(sink.items("traces", None), 0);
    let (_, text) = reqwest_get(&format!("http://127.0.0.1:{metrics}/metrics"));
    assert!(text.contains("otelcol_processor_memory_limiter_refused_spans{processor=\"memory_limiter\"} 20"), "{text}");
    assert!(text.contains("otelcol_receiver_refused_spans{receiver=\"otlp\",transport=\"grpc\"} 10"), "{text}");
    assert!(gw.logs().contains("Memory usage is above the soft limit. Refusing data."), "{}", gw.logs());
}
