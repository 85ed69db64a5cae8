//! Routing with the real binary and the OpenTelemetry Python SDK client:
//! - seed 002: spans whose resource has `service.namespace = alphaswarm.ai` go to a real Arize
//!   Phoenix (read back through its REST API), every other span to an OTLP sink standing in
//!   for Jaeger (`examples/per-signal-routing.yaml`, routing connector);
//! - seed 001: per-tenant routing by the client's `X-Tenant-ID` header, in the routing
//!   connector form (`examples/multi-tenant-routing.yaml`) and the legacy `routing`
//!   processor form (`examples/multi-tenant-routing-legacy.yaml`).

mod support;

use std::process::Command;
use std::time::Duration;

use serde_json::Value;
use support::{free_port, root, sdk_client, wait_until, Gateway, Sink};

const N: usize = 8;

fn example(name: &str) -> String {
    std::fs::read_to_string(root().join("examples").join(name)).expect("example")
}

/// A real Arize Phoenix started by `scripts/backends/phoenix-start.sh`, stopped on drop.
struct Phoenix {
    dir: tempfile::TempDir,
    url: String,
}

impl Phoenix {
    fn start() -> Phoenix {
        let dir = tempfile::tempdir().expect("tempdir");
        let (http, grpc) = (free_port(), free_port());
        let out = Command::new("bash")
            .arg(root().join("scripts/backends/phoenix-start.sh"))
            .arg(dir.path())
            .arg(http.to_string())
            .arg(grpc.to_string())
            .output()
            .expect("run phoenix-start.sh");
        assert!(out.status.success(), "phoenix did not start:\n{}", String::from_utf8_lossy(&out.stderr));
        Phoenix { url: String::from_utf8_lossy(&out.stdout).trim().to_string(), dir }
    }

    /// Spans in the default project (Phoenix's REST API).
    fn spans(&self) -> Vec<Value> {
        let v = support::backends::get_json(&format!("{}/v1/projects/default/spans?limit=1000", self.url));
        v["data"].as_array().cloned().unwrap_or_default()
    }

    /// Spans of one run (`run.id` attribute).
    fn spans_of(&self, rid: &str) -> usize {
        self.spans().iter().filter(|s| s.to_string().contains(rid)).count()
    }
}

impl Drop for Phoenix {
    fn drop(&mut self) {
        let _ = Command::new("bash").arg(root().join("scripts/backends/phoenix-stop.sh")).arg(self.dir.path()).output();
    }
}

#[test]
fn seed_002_ai_spans_go_to_phoenix_and_the_rest_to_the_infra_backend() {
    let phoenix = Phoenix::start();
    let (jaeger, other) = (Sink::start(&[]), Sink::start(&[]));
    let (grpc, http, health) = (free_port(), free_port(), free_port());
    let cfg = example("per-signal-routing.yaml")
        .replace("0.0.0.0:4317", &format!("127.0.0.1:{grpc}"))
        .replace("0.0.0.0:4318", &format!("127.0.0.1:{http}"))
        .replace("0.0.0.0:13133", &format!("127.0.0.1:{health}"))
        .replace("http://victoriametrics:8428/opentelemetry", &other.http_url())
        .replace("http://prometheus:9090/api/v1/otlp", &other.http_url())
        .replace("http://loki:3100/otlp", &other.http_url())
        // The client's spans are healthy: keep them all here, so the count is exact
        // (e2e_tail_sampling checks the seed's 5% with the same policies).
        .replace("sampling_percentage: 5", "sampling_percentage: 100")
        .replace("decision_wait: 10s", "decision_wait: 1s");
    assert!(cfg.contains("sampling_percentage: 100"), "the example tail-samples infra traces");
    let (jaeger_ep, phoenix_ep) = (jaeger.grpc_endpoint(), phoenix.url.clone());
    let gw = Gateway::start_with_env(
        &cfg,
        grpc,
        &[("TRACES_ENDPOINT", jaeger_ep.as_str()), ("PHOENIX_ENDPOINT", phoenix_ep.as_str())],
    );
    let endpoint = format!("http://127.0.0.1:{grpc}");
    let (ai, infra) = (format!("ai{}", std::process::id()), format!("infra{}", std::process::id()));
    let out = sdk_client(
        "grpc",
        &endpoint,
        N,
        &ai,
        &["--signals", "traces", "--resource-attr", "service.namespace=alphaswarm.ai"],
    );
    assert!(out.status.success(), "client: {}", String::from_utf8_lossy(&out.stdout));
    let out = sdk_client("grpc", &endpoint, N, &infra, &["--signals", "traces"]);
    assert!(out.status.success(), "client: {}", String::from_utf8_lossy(&out.stdout));

    let arrived =
        wait_until(Duration::from_secs(30), || phoenix.spans_of(&ai) == N && jaeger.items("traces", Some(&infra)) == N);
    assert!(
        arrived,
        "phoenix has {} AI spans, the infra backend {} infra spans\n{}",
        phoenix.spans_of(&ai),
        jaeger.items("traces", Some(&infra)),
        gw.logs()
    );
    assert_eq!(phoenix.spans_of(&infra), 0, "infrastructure spans must not reach Phoenix");
    assert_eq!(jaeger.items("traces", Some(&ai)), 0, "AI spans must not reach the infra backend");
    // Phoenix stored the spans whole: names and the run's attributes.
    let names: Vec<String> = phoenix
        .spans()
        .iter()
        .filter(|s| s.to_string().contains(&ai))
        .filter_map(|s| s["name"].as_str().map(str::to_string))
        .collect();
    assert!(names.iter().any(|n| n == "otel_sdk_client.root"), "{names:?}");
}

/// Sends N spans per tenant (and N without a known tenant) through `cfg` and checks that
/// each tenant's backend got exactly its own.
fn tenants_are_routed_by_header(cfg: &str) -> String {
    let (a, b) = (Sink::start(&[]), Sink::start(&[]));
    let grpc = free_port();
    let cfg = cfg
        .replace("0.0.0.0:4317", &format!("127.0.0.1:{grpc}"))
        .replace("0.0.0.0:4318", &format!("127.0.0.1:{}", free_port()));
    let (a_ep, b_ep) = (a.grpc_endpoint(), b.grpc_endpoint());
    let gw = Gateway::start_with_env(
        &cfg,
        grpc,
        &[("TENANT_A_ENDPOINT", a_ep.as_str()), ("TENANT_B_ENDPOINT", b_ep.as_str())],
    );
    let endpoint = format!("http://127.0.0.1:{grpc}");
    let pid = std::process::id();
    let runs = [(format!("ta{pid}"), "tenant-a"), (format!("tb{pid}"), "tenant-b"), (format!("tx{pid}"), "tenant-x")];
    for (rid, tenant) in &runs {
        // gRPC metadata keys are lowercase on the wire (Go clients lowercase `X-Tenant-ID`;
        // Python's grpc refuses uppercase), and the routing lookup is case-insensitive.
        let header = format!("x-tenant-id={tenant}");
        let out = sdk_client("grpc", &endpoint, N, rid, &["--signals", "traces", "--header", &header]);
        assert!(out.status.success(), "client ({tenant}): {}", String::from_utf8_lossy(&out.stdout));
    }
    let arrived = wait_until(Duration::from_secs(15), || {
        a.items("traces", Some(&runs[0].0)) == N && b.items("traces", Some(&runs[1].0)) == N
    });
    assert!(
        arrived,
        "tenant-a {} tenant-b {}\n{}",
        a.items("traces", Some(&runs[0].0)),
        b.items("traces", Some(&runs[1].0)),
        gw.logs()
    );
    // Nothing crosses over, and the unknown tenant reaches neither.
    assert_eq!(a.items("traces", None), N, "tenant-a's backend got only tenant-a's spans");
    assert_eq!(b.items("traces", None), N, "tenant-b's backend got only tenant-b's spans");
    gw.logs()
}

#[test]
fn seed_001_tenants_are_routed_by_the_x_tenant_id_header_connector_form() {
    tenants_are_routed_by_header(&example("multi-tenant-routing.yaml"));
}

#[test]
fn seed_001_tenants_are_routed_by_the_x_tenant_id_header_legacy_processor_form() {
    let logs = tenants_are_routed_by_header(&example("multi-tenant-routing-legacy.yaml"));
    // The deprecation warning shows the equivalent connector config.
    assert!(logs.contains("routing") && logs.contains("deprecated"), "{logs}");
    assert!(logs.contains("connectors:"), "the warning prints the connector config:\n{logs}");
}
