//! Processing with the real binary and the OpenTelemetry Python SDK client: seed 001's
//! transform statements (`set(attributes["env"], "production")`, `truncate_all(attributes,
//! 4096)`, the metric rename with `Concat`) and its legacy filter (`http.target` matching
//! `^/health.*` excluded), read back from an OTLP sink.

mod support;

use std::time::Duration;

use support::{free_port, sdk_client, wait_until, Gateway, Sink};

const N: usize = 12;

#[test]
fn seed_001_transform_and_filter_statements_do_what_they_say() {
    let sink = Sink::start(&[]);
    let grpc = free_port();
    let cfg = format!(
        r#"
receivers:
  otlp:
    protocols:
      grpc:
        endpoint: 127.0.0.1:{grpc}
processors:
  transform:
    trace_statements:
      - context: span
        statements:
          - set(attributes["env"], "production")
          - truncate_all(attributes, 4096)
    metric_statements:
      - context: metric
        statements:
          - set(name, Concat([name, "_renamed"], "")) where name == "otel_sdk_client_requests"
  filter:
    spans:
      exclude:
        match_type: regexp
        attributes:
          - key: http.target
            value: "^/health.*"
exporters:
  otlp:
    endpoint: {sink}
    tls:
      insecure: true
service:
  pipelines:
    traces:
      receivers: [otlp]
      processors: [filter, transform]
      exporters: [otlp]
    metrics:
      receivers: [otlp]
      processors: [transform]
      exporters: [otlp]
"#,
        sink = sink.grpc_endpoint()
    );
    let gw = Gateway::start(&cfg, grpc);
    let rid = format!("proc{}", std::process::id());
    let long = "x".repeat(5000);
    let long_attr = format!("long.value={long}");
    // Every third span is a health check (seq 0, 3, 6, 9).
    let out = sdk_client(
        "grpc",
        &format!("http://127.0.0.1:{grpc}"),
        N,
        &rid,
        &[
            "--signals",
            "traces,metrics",
            "--span-attr",
            "http.target=/healthz|/api/orders|/api/items",
            "--span-attr",
            &long_attr,
        ],
    );
    assert!(out.status.success(), "client: {}", String::from_utf8_lossy(&out.stdout));

    let kept = N - N.div_ceil(3);
    let arrived = wait_until(Duration::from_secs(15), || {
        sink.items("traces", Some(&rid)) == kept && sink.items("metrics", Some(&rid)) == 3 * N
    });
    assert!(
        arrived,
        "spans {} of {kept}, points {}\n{}",
        sink.items("traces", Some(&rid)),
        sink.items("metrics", Some(&rid)),
        gw.logs()
    );

    let spans: Vec<_> = sink
        .requests()
        .iter()
        .flat_map(|r| support::items_of(&r["request"], Some(&rid)))
        .filter(|i| i.item.get("spanId").is_some())
        .collect();
    assert_eq!(spans.len(), kept);
    for s in &spans {
        let target = s.attr("http.target").unwrap_or_default();
        assert!(!target.starts_with("/health"), "a health-check span passed the filter: {target}");
        assert_eq!(s.attr("env").as_deref(), Some("production"), "set(attributes[\"env\"], ...)");
        assert_eq!(s.attr("long.value").map(|v| v.len()), Some(4096), "truncate_all(attributes, 4096)");
    }
    let names: std::collections::BTreeSet<String> = sink
        .requests()
        .iter()
        .flat_map(|r| support::items_of(&r["request"], Some(&rid)))
        .filter_map(|i| i.item["metricName"].as_str().map(str::to_string))
        .collect();
    assert!(names.contains("otel_sdk_client_requests_renamed"), "{names:?}");
    assert!(!names.contains("otel_sdk_client_requests"), "{names:?}");
    assert!(names.contains("otel_sdk_client_latency"), "other metrics keep their names: {names:?}");
    // What the processors did shows in the Collector's processor counters.
    assert_eq!(gw.metric_with("otelcol_processor_incoming_items", &["processor=\"filter\""]), N as f64);
    assert_eq!(gw.metric_with("otelcol_processor_outgoing_items", &["processor=\"filter\""]), kept as f64);
}

/// Issue 13: a basicauth-authenticated OTLP/HTTP request through `attributes` (the
/// authenticated user and the client address from the request context) and `resource`.
#[test]
fn attributes_upserts_the_basicauth_user_and_resource_sets_the_environment() {
    let sink = Sink::start(&[]);
    let http = free_port();
    let cfg = format!(
        r#"
extensions:
  basicauth/server:
    htpasswd:
      inline: |
        alice:wonderland
receivers:
  otlp:
    protocols:
      http:
        endpoint: 127.0.0.1:{http}
        auth:
          authenticator: basicauth/server
processors:
  attributes:
    actions:
      - key: enduser.id
        from_context: auth.username
        action: upsert
      - key: net.peer.ip
        from_context: client.address
        action: insert
  resource:
    attributes:
      - key: deployment.environment
        value: e2e
        action: upsert
exporters:
  otlp:
    endpoint: {sink}
    tls:
      insecure: true
service:
  extensions: [basicauth/server]
  pipelines:
    traces:
      receivers: [otlp]
      processors: [attributes, resource]
      exporters: [otlp]
"#,
        sink = sink.grpc_endpoint()
    );
    let gw = Gateway::start(&cfg, http);
    let endpoint = format!("http://127.0.0.1:{http}");
    let r = support::gen(&[
        "traces",
        "--protocol",
        "http",
        "--endpoint",
        &endpoint,
        "--count",
        "3",
        "--headers",
        "authorization=Basic YWxpY2U6d29uZGVybGFuZA==", // alice:wonderland
    ]);
    assert_eq!(r["accepted_items"], 3, "{r}");
    let arrived = wait_until(Duration::from_secs(15), || sink.items("traces", None) >= 3);
    assert!(arrived, "spans {} of 3\n{}", sink.items("traces", None), gw.logs());
    let spans: Vec<_> = sink
        .requests()
        .iter()
        .flat_map(|r| support::items_of(&r["request"], None))
        .filter(|i| i.item.get("spanId").is_some())
        .collect();
    assert_eq!(spans.len(), 3);
    for s in &spans {
        assert_eq!(s.attr("enduser.id").as_deref(), Some("alice"), "from_context: auth.username");
        assert_eq!(s.attr("net.peer.ip").as_deref(), Some("127.0.0.1"), "from_context: client.address");
        assert_eq!(s.resource_attr("deployment.environment").as_deref(), Some("e2e"), "resource upsert");
    }
}
