use super::*;
use switchyard_core::component::{ComponentId, Host, Kind};
use switchyard_core::telemetry::Telemetry;

pub(crate) use switchyard_core::testing::free_port;

/// GET a path: status and body.
pub(crate) async fn get(port: u16, path: &str) -> (u16, String) {
    let resp = reqwest::get(format!("http://127.0.0.1:{port}{path}")).await.expect("get");
    (resp.status().as_u16(), resp.text().await.expect("body"))
}

#[tokio::test]
async fn answers_503_until_the_pipelines_run_then_200() {
    let port = free_port();
    let cfg = HealthCheckConfig { endpoint: format!("127.0.0.1:{port}"), path: "/health".into(), ..Default::default() };
    let set = Settings { id: ComponentId::new("health_check"), kind: Kind::Extension, telemetry: Telemetry::default() };
    let ext = HealthCheckExtensionFactory.create(set, &cfg).expect("create");
    let host = Host::default();
    ext.start(&host).await.expect("start");
    let (code, body) = get(port, "/health").await;
    assert_eq!(code, 503, "{body}");
    assert!(body.contains("Server not available"), "{body}");
    host.set_ready(true);
    let (code, body) = get(port, "/health").await;
    assert_eq!(code, 200);
    let v: serde_json::Value = serde_json::from_str(&body).expect("json");
    assert_eq!(v["status"], "Server available");
    assert!(v["upSince"].as_str().is_some_and(|s| s.ends_with('Z')), "{v}");
    assert_eq!(get(port, "/other").await.0, 404);
    ext.shutdown().await;
}
