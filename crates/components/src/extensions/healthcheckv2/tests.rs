use super::*;
use crate::extensions::health_check::tests::{free_port, get};
use switchyard_core::component::{ComponentId, Host, Kind};
use switchyard_core::telemetry::Telemetry;

fn config(yaml: &str) -> Result<HealthCheckV2Config, String> {
    let node = switchyard_core::config::parse("t.yaml", yaml).map_err(|e| format!("{e:?}"))?;
    let c = switchyard_core::config::from_node::<HealthCheckV2Config>(&node, TYPE).map_err(|e| format!("{e:?}"))?;
    let errors = c.validate();
    if errors.is_empty() {
        Ok(c)
    } else {
        Err(errors.iter().map(|e| e.message.clone()).collect::<Vec<_>>().join("; "))
    }
}

fn settings() -> Settings {
    Settings { id: ComponentId::new(TYPE), kind: Kind::Extension, telemetry: Telemetry::default() }
}

#[test]
fn the_conformance_configs_shape_parses_with_the_collectors_defaults() {
    // configs 20 and 39: `use_v2: true` and an empty `http:`.
    let c = config("use_v2: true\nhttp:\n").expect("valid");
    let h = c.http.get().expect("http on");
    assert_eq!(h.endpoint, "localhost:13133");
    assert!(h.status.enabled && h.status.path == "/status");
    assert!(!h.config.enabled && h.config.path == "/config");
    assert!(c.grpc.get().is_none(), "grpc is off unless its key is present");
    // A partial block keeps the other defaults.
    let c = config("use_v2: true\nhttp:\n  status:\n    path: /s\n").expect("valid");
    assert!(c.http.get().is_some_and(|h| h.status.enabled && h.status.path == "/s"));
    // v1: the original fields.
    let c = config("endpoint: 0.0.0.0:13133\npath: /health\ncheck_collector_pipeline: {enabled: false}\n").expect("v1");
    assert!(!c.use_v2 && c.path == "/health");
    let c =
        config("use_v2: true\nhttp:\ncomponent_health:\n  include_permanent_errors: true\n  recovery_duration: 5m\n")
            .expect("v2");
    assert_eq!(c.component_health.and_then(|h| h.recovery_duration), Some(Duration::from_secs(300)));
}

#[test]
fn what_is_not_built_or_not_valid_is_refused_clearly() {
    assert!(config("use_v2: true\n").unwrap_err().contains("at least one protocol"));
    assert!(config("use_v2: true\ngrpc:\n").unwrap_err().contains("gRPC health service"));
    assert!(config("use_v2: true\nhttp:\n  config:\n    enabled: true\n")
        .unwrap_err()
        .contains("effective configuration"));
    assert!(config("use_v2: true\nhttp:\n  status:\n    path: status\n").unwrap_err().contains("must start with /"));
    assert!(config("path: health\n").unwrap_err().contains("must start with /"));
    assert!(config("use_v2: true\nhttp:\n  bogus: 1\n").is_err(), "unknown keys are refused");
}

#[tokio::test]
async fn v2_serves_the_status_path_with_the_v2_body() {
    let port = free_port();
    let cfg = config(&format!("use_v2: true\nhttp:\n  endpoint: 127.0.0.1:{port}\n")).expect("valid");
    let ext = HealthCheckV2ExtensionFactory.create(settings(), &cfg).expect("create");
    let host = Host::default();
    ext.start(&host).await.expect("start");
    let (code, body) = get(port, "/status").await;
    assert_eq!(code, 503, "{body}");
    let v: serde_json::Value = serde_json::from_str(&body).expect("json");
    assert_eq!((v["healthy"].as_bool(), v["status"].as_str()), (Some(false), Some("StatusStarting")));
    host.set_ready(true);
    let (code, body) = get(port, "/status").await;
    assert_eq!(code, 200, "{body}");
    let v: serde_json::Value = serde_json::from_str(&body).expect("json");
    assert_eq!((v["healthy"].as_bool(), v["status"].as_str()), (Some(true), Some("StatusOK")));
    assert!(v["start_time"].as_str().is_some_and(|s| s.ends_with('Z')) && v["status_time"].is_string(), "{v}");
    assert_eq!(get(port, "/").await.0, 404, "the v1 path is not served in v2 mode");
    host.set_ready(false);
    let (code, body) = get(port, "/status").await;
    assert_eq!(code, 503);
    assert!(body.contains("StatusStopping"), "{body}");
    ext.shutdown().await;
}

#[tokio::test]
async fn v1_mode_is_the_original_extension() {
    let port = free_port();
    let cfg = config(&format!("endpoint: 127.0.0.1:{port}\npath: /health/status\n")).expect("valid");
    let ext = HealthCheckV2ExtensionFactory.create(settings(), &cfg).expect("create");
    let host = Host::default();
    host.set_ready(true);
    ext.start(&host).await.expect("start");
    let (code, body) = get(port, "/health/status").await;
    assert_eq!(code, 200);
    assert!(body.contains("Server available"), "{body}");
    ext.shutdown().await;
}
