//! Enrichment and enforcement with the real binary and the OpenTelemetry Python SDK client:
//! `examples/enforce-resource-attributes.yaml` as shipped (only endpoints changed) puts the
//! tenant from the client's `X-Tenant-ID` header on the resource, fills defaults, and sends
//! items still missing a required attribute to the quarantine backend; read back from two
//! OTLP sinks.

mod support;

use std::time::Duration;

use support::{free_port, items_of, root, sdk_client, wait_until, Gateway, Item, Sink};

const N: usize = 4;

fn items(sink: &Sink, rid: &str) -> Vec<Item> {
    sink.requests().iter().flat_map(|r| items_of(&r["request"], Some(rid))).collect()
}

#[test]
fn required_resource_attributes_are_enforced_with_tenant_from_header_and_quarantine() {
    let (accepted, quarantine) = (Sink::start(&[]), Sink::start(&[]));
    let (grpc, http) = (free_port(), free_port());
    let cfg = std::fs::read_to_string(root().join("examples/enforce-resource-attributes.yaml"))
        .expect("example")
        .replace("0.0.0.0:4317", &format!("127.0.0.1:{grpc}"))
        .replace("0.0.0.0:4318", &format!("127.0.0.1:{http}"));
    let (acc_url, q_url) = (accepted.http_url(), quarantine.http_url());
    let env = [
        ("ACCEPTED_ENDPOINT", acc_url.as_str()),
        ("QUARANTINE_ENDPOINT", q_url.as_str()),
        ("DEPLOYMENT_ENVIRONMENT", "staging"),
        ("CELL_ID", "cell-7"),
    ];
    let gw = Gateway::start_with_env(&cfg, http, &env);
    let pid = std::process::id();
    let complete = ["service.version=1.4.2", "team=payments", "service.id=checkout-1"];
    let send = |protocol: &str, rid: &str, extra: &[&str]| {
        let endpoint = match protocol {
            "grpc" => format!("http://127.0.0.1:{grpc}"),
            _ => format!("http://127.0.0.1:{http}"),
        };
        let mut args: Vec<&str> = Vec::new();
        for a in complete.iter().chain(extra.iter()) {
            let flag = if a.starts_with("H:") { "--header" } else { "--resource-attr" };
            args.extend([flag, a.trim_start_matches("H:")]);
        }
        let out = sdk_client(protocol, &endpoint, N, rid, &args);
        assert!(out.status.success(), "client {rid}: {}", String::from_utf8_lossy(&out.stdout));
    };
    // A: complete, tenant from the header (gRPC metadata).
    let a = format!("enfA{pid}");
    send("grpc", &a, &["H:x-tenant-id=tenant-a"]);
    // B: the SDK claims another tenant and its own environment: the header wins for the
    // tenant, the SDK's environment is kept (a default never overwrites).
    let b = format!("enfB{pid}");
    send("http", &b, &["H:X-Tenant-ID=tenant-b", "tenant_id=evil", "deployment.environment=dev"]);
    // C: no header and no tenant: quarantined.
    let c = format!("enfC{pid}");
    send("http", &c, &[]);
    // D: no header, the SDK's own tenant: accepted.
    let d = format!("enfD{pid}");
    send("grpc", &d, &["tenant_id=tenant-d"]);
    // E: a tenant but no team (team= with an empty value is not sent): quarantined.
    let e = format!("enfE{pid}");
    let e_args =
        ["--resource-attr", "service.version=2", "--resource-attr", "service.id=x", "--header", "x-tenant-id=t"];
    let out = sdk_client("grpc", &format!("http://127.0.0.1:{grpc}"), N, &e, &e_args);
    assert!(out.status.success(), "client E: {}", String::from_utf8_lossy(&out.stdout));

    let per_run = 5 * N; // N spans, 3N points, N logs
    let done = wait_until(Duration::from_secs(20), || {
        [&a, &b, &d].iter().all(|r| items(&accepted, r).len() == per_run)
            && [&c, &e].iter().all(|r| items(&quarantine, r).len() == per_run)
    });
    assert!(
        done,
        "accepted A {} B {} D {}, quarantined C {} E {}\n{}",
        items(&accepted, &a).len(),
        items(&accepted, &b).len(),
        items(&accepted, &d).len(),
        items(&quarantine, &c).len(),
        items(&quarantine, &e).len(),
        gw.logs()
    );
    for (rid, tenant, env) in [(&a, "tenant-a", "staging"), (&b, "tenant-b", "dev"), (&d, "tenant-d", "staging")] {
        for it in items(&accepted, rid) {
            assert_eq!(it.resource_attr("tenant_id").as_deref(), Some(tenant), "{rid}: {it:?}");
            assert_eq!(it.resource_attr("deployment.environment").as_deref(), Some(env), "{rid}: {it:?}");
            assert_eq!(it.resource_attr("cell_id").as_deref(), Some("cell-7"), "{rid}: {it:?}");
            assert_eq!(it.resource_attr("team").as_deref(), Some("payments"), "{rid}: {it:?}");
            assert_eq!(it.resource_attr("quarantine.reason"), None, "{rid}: {it:?}");
        }
        assert!(items(&quarantine, rid).is_empty(), "{rid} is complete and was not quarantined");
    }
    for rid in [&c, &e] {
        assert!(items(&accepted, rid).is_empty(), "{rid} lacks a required attribute");
        for it in items(&quarantine, rid) {
            let reason = it.resource_attr("quarantine.reason").unwrap_or_default();
            assert!(reason.starts_with("missing one of"), "{rid}: {it:?}");
            assert_eq!(it.resource_attr("cell_id").as_deref(), Some("cell-7"), "defaults apply before the check");
        }
    }
    // Counted by the quarantine exporter and logged by the debug exporter.
    let quarantined = |item: &str| gw.metric_with(item, &["exporter=\"otlphttp/quarantine\""]);
    assert_eq!(quarantined("otelcol_exporter_sent_spans"), (2 * N) as f64);
    assert_eq!(quarantined("otelcol_exporter_sent_metric_points"), (2 * 3 * N) as f64);
    assert_eq!(quarantined("otelcol_exporter_sent_log_records"), (2 * N) as f64);
    assert!(gw.logs().contains("debug/quarantine"), "the quarantine pipeline logs what it receives");
}
