//! The seed configs in `examples/`, run as shipped with only their endpoints changed, against
//! real backends: OTLP sinks for OpenLIT and Tempo, the Loki stand-in, Prometheus 2.42.
//! Traffic comes from the OpenTelemetry Python SDK.

mod support;

use std::time::Duration;

use serde_json::Value;
use support::backends::{encode, get_json, promql_until, Backend};
use support::{free_port, http_get, root, sdk_client, wait_until, Gateway, Sink};

const N: usize = 10;

fn example(name: &str) -> String {
    std::fs::read_to_string(root().join("examples").join(name)).expect("example")
}

fn loki_lines(loki: &Backend, query: &str) -> usize {
    let v = get_json(&format!("{}/loki/api/v1/query_range?query={}&limit=1000", loki.url, encode(query)));
    v["data"]["result"].as_array().map_or(0, |r| r.iter().map(|s| s["values"].as_array().map_or(0, Vec::len)).sum())
}

/// Metric series of the SDK client's run in Prometheus: the counter has one series per `seq`.
fn counter_series(prom: &Backend, rid: &str) -> usize {
    let q = format!(r#"otel_sdk_client_requests_total{{run_id="{rid}"}}"#);
    promql_until(&prom.url, &q, Duration::from_secs(15), |r| r.len() >= N).len()
}

#[test]
fn seed_000_single_endpoint_fans_out_to_openlit_tempo_loki_and_prometheus() {
    let (openlit, tempo) = (Sink::start(&[]), Sink::start(&[]));
    let (loki, prom) = (Backend::start("loki", &[]), Backend::start("prometheus", &[]));
    let (grpc, http, health) = (free_port(), free_port(), free_port());
    let cfg = example("single-endpoint-fanout.yaml")
        .replace("0.0.0.0:4317", &format!("127.0.0.1:{grpc}"))
        .replace("0.0.0.0:4318", &format!("127.0.0.1:{http}"))
        .replace("0.0.0.0:13133", &format!("127.0.0.1:{health}"));
    let (loki_push, prom_write) = (format!("{}/loki/api/v1/push", loki.url), format!("{}/api/v1/write", prom.url));
    let (openlit_url, tempo_url) = (openlit.http_url(), tempo.http_url());
    let env = [
        ("OPENLIT_TOKEN", "openlit-secret"),
        ("OPENLIT_ENDPOINT", openlit_url.as_str()),
        ("TEMPO_ENDPOINT", tempo_url.as_str()),
        ("LOKI_ENDPOINT", loki_push.as_str()),
        ("MIMIR_ENDPOINT", prom_write.as_str()),
        // What `resourcedetection/system: {}` (default detectors: [env]) adds to every resource.
        ("OTEL_RESOURCE_ATTRIBUTES", "team=platform,deployment.environment=staging%20eu"),
    ];
    let gw = Gateway::start_with_env(&cfg, http, &env);
    let rid = format!("seed000{}", std::process::id());
    let out = sdk_client("http", &format!("http://127.0.0.1:{http}"), N, &rid, &[]);
    assert!(out.status.success(), "client: {}", String::from_utf8_lossy(&out.stdout));

    let arrived = wait_until(Duration::from_secs(15), || {
        openlit.items("traces", Some(&rid)) == N
            && openlit.items("metrics", Some(&rid)) == 3 * N
            && openlit.items("logs", Some(&rid)) == N
            && tempo.items("traces", Some(&rid)) == N
            && loki_lines(&loki, &format!(r#"{{job="e2e-client"}} |= "run {rid}""#)) == N
    });
    assert!(
        arrived,
        "openlit {}/{}/{}, tempo {}, loki {}\n{}",
        openlit.items("traces", Some(&rid)),
        openlit.items("metrics", Some(&rid)),
        openlit.items("logs", Some(&rid)),
        tempo.items("traces", Some(&rid)),
        loki_lines(&loki, &format!(r#"{{job="e2e-client"}} |= "run {rid}""#)),
        gw.logs()
    );
    assert_eq!(counter_series(&prom, &rid), N, "Prometheus has the counter of every seq");
    // The seed's processors: the detected resource attributes and the upserted item attribute
    // are on every item of every signal; the resource's own service.name is the client's.
    let items: Vec<_> = openlit.requests().iter().flat_map(|r| support::items_of(&r["request"], Some(&rid))).collect();
    assert_eq!(items.len(), 5 * N, "spans, points and logs");
    for it in &items {
        assert_eq!(it.resource_attr("team").as_deref(), Some("platform"), "{it:?}");
        assert_eq!(it.resource_attr("deployment.environment").as_deref(), Some("staging eu"), "{it:?}");
        assert_eq!(it.resource_attr("service.name").as_deref(), Some("e2e-client"), "{it:?}");
        assert_eq!(it.attr("service.name").as_deref(), Some("default-service"), "{it:?}");
    }
    // The OpenLIT token from the environment is on every OpenLIT request, and only there.
    let auth =
        |s: &Sink| -> Vec<Value> { s.requests().iter().map(|r| r["headers"]["authorization"].clone()).collect() };
    assert!(auth(&openlit).iter().all(|a| a == "Bearer openlit-secret"), "{:?}", auth(&openlit));
    assert!(auth(&tempo).iter().all(Value::is_null), "{:?}", auth(&tempo));
    assert_eq!(http_get(&format!("127.0.0.1:{health}"), "/").0, 200);
}

#[test]
fn seed_001_production_setup_sends_traces_to_tempo_metrics_to_prometheus_logs_to_loki() {
    let tempo = Sink::start(&[]);
    let (loki, prom) = (Backend::start("loki", &[]), Backend::start("prometheus", &[]));
    let (grpc, health) = (free_port(), free_port());
    let cfg = example("production-gateway.yaml")
        .replace("0.0.0.0:4317", &format!("127.0.0.1:{grpc}"))
        .replace("0.0.0.0:13133", &format!("127.0.0.1:{health}"))
        .replace("tempo:4317", &tempo.grpc_endpoint())
        .replace("http://mimir:9009/api/v1/push", &format!("{}/api/v1/write", prom.url))
        .replace("http://loki:3100", &loki.url);
    let gw = Gateway::start(&cfg, grpc);
    let rid = format!("seed001{}", std::process::id());
    let out = sdk_client("grpc", &format!("http://127.0.0.1:{grpc}"), N, &rid, &[]);
    assert!(out.status.success(), "client: {}", String::from_utf8_lossy(&out.stdout));
    // The batch processor waits up to 5s (timeout: 5s) before sending.
    let arrived = wait_until(Duration::from_secs(20), || {
        tempo.items("traces", Some(&rid)) == N
            && loki_lines(&loki, &format!(r#"{{job="e2e-client"}} |= "run {rid}""#)) == N
    });
    assert!(arrived, "tempo {}\n{}", tempo.items("traces", Some(&rid)), gw.logs());
    assert_eq!(counter_series(&prom, &rid), N);
    assert_eq!(http_get(&format!("127.0.0.1:{health}"), "/").0, 200);
}
