//! The core promise: real OpenTelemetry SDK clients send traces, metrics and logs over gRPC
//! and HTTP to one Switchyard endpoint; through `batch`, every item arrives at two backends
//! (one fed by the `otlp` gRPC exporter, one by `otlphttp`) with resource, scope and
//! attributes intact, and self-metrics count it all.

mod support;

use std::collections::BTreeSet;
use std::time::Duration;

use support::{items_of, sdk_client, wait_until, Gateway, Item, Sink};

const N: usize = 25;

fn config(grpc: u16, http: u16, metrics: u16, a: &Sink, b: &Sink) -> String {
    format!(
        r#"
receivers:
  otlp:
    protocols:
      grpc:
        endpoint: 127.0.0.1:{grpc}
      http:
        endpoint: 127.0.0.1:{http}
processors:
  batch:
    timeout: 200ms
    send_batch_size: 40
exporters:
  otlp/grpc_sink:
    endpoint: {a_grpc}
    tls:
      insecure: true
    headers:
      x-sink: a
  otlphttp/http_sink:
    endpoint: {b_http}
    headers:
      X-Sink: b
service:
  telemetry:
    metrics:
      address: 127.0.0.1:{metrics}
  pipelines:
    traces:
      receivers: [otlp]
      processors: [batch]
      exporters: [otlp/grpc_sink, otlphttp/http_sink]
    metrics:
      receivers: [otlp]
      processors: [batch]
      exporters: [otlp/grpc_sink, otlphttp/http_sink]
    logs:
      receivers: [otlp]
      processors: [batch]
      exporters: [otlp/grpc_sink, otlphttp/http_sink]
"#,
        a_grpc = a.grpc_endpoint(),
        b_http = b.http_url()
    )
}

fn arrived(sink: &Sink, run: &str) -> bool {
    sink.items("traces", Some(run)) == N
        && sink.items("metrics", Some(run)) == 3 * N
        && sink.items("logs", Some(run)) == N
}

/// A stable description of every item of a run, to compare two backends.
fn fingerprint(sink: &Sink, run: &str) -> BTreeSet<String> {
    sink.requests()
        .iter()
        .flat_map(|r| {
            let signal = r["signal"].as_str().unwrap_or_default().to_string();
            items_of(&r["request"], Some(run))
                .into_iter()
                .map(move |i| format!("{signal} {} {} {}", i.resource, i.scope, i.item))
        })
        .collect()
}

fn check_content(items: &[Item], run: &str) {
    for i in items {
        assert_eq!(i.resource_attr("service.name").as_deref(), Some("e2e-client"), "{i:?}");
        assert_eq!(i.resource_attr("run.id").as_deref(), Some(run), "{i:?}");
        assert_eq!(i.scope["name"], "otel_sdk_client", "{i:?}");
        assert_eq!(i.attr("run.id").as_deref(), Some(run), "{i:?}");
        assert!(i.attr("seq").is_some(), "{i:?}");
    }
}

#[test]
fn sdk_clients_over_grpc_and_http_reach_both_backends_intact() {
    let (a, b) = (Sink::start(&[]), Sink::start(&[]));
    let (grpc, http, metrics) = (support::free_port(), support::free_port(), support::free_port());
    let gw = Gateway::start(&config(grpc, http, metrics, &a, &b), http);

    let run_grpc = format!("grpc-{}", std::process::id());
    let run_http = format!("http-{}", std::process::id());
    let out = sdk_client("grpc", &format!("http://127.0.0.1:{grpc}"), N, &run_grpc, &[]);
    assert!(
        out.status.success(),
        "gRPC client failed: {}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    let out = sdk_client("http", &format!("http://127.0.0.1:{http}"), N, &run_http, &["--compression", "gzip"]);
    assert!(
        out.status.success(),
        "HTTP client failed: {}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );

    for run in [&run_grpc, &run_http] {
        for (name, sink) in [("gRPC sink", &a), ("HTTP sink", &b)] {
            assert!(
                wait_until(Duration::from_secs(15), || arrived(sink, run)),
                "{name} got traces={} metrics={} logs={} for {run}, want {N}/{}/{N}\n{}",
                sink.items("traces", Some(run)),
                sink.items("metrics", Some(run)),
                sink.items("logs", Some(run)),
                3 * N,
                gw.logs()
            );
        }
    }
    // Nothing more than sent (no duplicates) and the same content at both backends.
    std::thread::sleep(Duration::from_millis(500));
    for run in [&run_grpc, &run_http] {
        assert!(arrived(&a, run) && arrived(&b, run), "extra items arrived for {run}");
        let fa = fingerprint(&a, run);
        assert_eq!(fa.len(), 5 * N, "every item distinct");
        assert_eq!(fa, fingerprint(&b, run), "both backends got identical items for {run}");
        for sink in [&a, &b] {
            let all: Vec<Item> = sink.requests().iter().flat_map(|r| items_of(&r["request"], Some(run))).collect();
            check_content(&all, run);
            let seqs: BTreeSet<String> = all.iter().filter_map(|i| i.attr("seq")).collect();
            assert_eq!(seqs.len(), N);
        }
    }
    // Spans keep ids, parent links and events.
    let spans: Vec<Item> = a
        .requests()
        .iter()
        .filter(|r| r["signal"] == "traces")
        .flat_map(|r| items_of(&r["request"], Some(&run_grpc)))
        .collect();
    let root = spans.iter().find(|s| s.item.get("parentSpanId").is_none()).expect("root span");
    let trace_id = root.item["traceId"].as_str().expect("trace id").to_string();
    assert_eq!(trace_id.len(), 32);
    for s in &spans {
        assert_eq!(s.item["traceId"], trace_id.as_str(), "one trace");
        if s.item != root.item {
            assert_eq!(s.item["parentSpanId"], root.item["spanId"]);
            assert_eq!(s.item["events"][0]["name"], "work");
        }
    }
    // Configured headers reach each backend.
    assert!(a.requests().iter().all(|r| r["headers"]["x-sink"] == "a"));
    assert!(b.requests().iter().all(|r| r["headers"]["x-sink"] == "b"));
    // Batching merged the client's requests.
    let b_traces = b.requests().iter().filter(|r| r["signal"] == "traces").count();
    assert!(b_traces <= 4, "expected batched requests, got {b_traces}");

    // Self-metrics, with the Collector's names and labels.
    let text = reqwest::blocking_get(&format!("http://127.0.0.1:{metrics}/metrics"));
    for (line, want) in [
        ("otelcol_receiver_accepted_spans{receiver=\"otlp\",transport=\"grpc\"}", N),
        ("otelcol_receiver_accepted_spans{receiver=\"otlp\",transport=\"http\"}", N),
        ("otelcol_receiver_accepted_log_records{receiver=\"otlp\",transport=\"grpc\"}", N),
        ("otelcol_receiver_accepted_metric_points{receiver=\"otlp\",transport=\"http\"}", 3 * N),
        ("otelcol_exporter_sent_spans{exporter=\"otlp/grpc_sink\"}", 2 * N),
        ("otelcol_exporter_sent_log_records{exporter=\"otlphttp/http_sink\"}", 2 * N),
        ("otelcol_exporter_send_failed_spans{exporter=\"otlp/grpc_sink\"}", 0),
    ] {
        let value = text.lines().find_map(|l| l.strip_prefix(line)).map(str::trim);
        assert_eq!(value, Some(want.to_string().as_str()), "{line} in\n{text}");
    }
    assert!(text.contains("otelcol_process_memory_rss "), "{text}");
    assert!(text.contains("otelcol_processor_batch_batch_send_size_count{processor=\"batch\"}"), "{text}");
}

mod reqwest {
    /// A blocking GET through a one-off runtime (tests are synchronous).
    pub fn blocking_get(url: &str) -> String {
        let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime");
        rt.block_on(async { ::reqwest::get(url).await.expect("GET").text().await.expect("body") })
    }
}
