use super::*;
use axum::body::Body;
use axum::http::Request;
use http_body_util::BodyExt;
use switchyard_core::component::ComponentId;
use switchyard_core::config::{parse, parse_config};
use switchyard_core::graph::Graph;
use switchyard_core::telemetry::{ExporterObs, ReceiverObs};
use switchyard_pdata::Signal;
use tower::ServiceExt;

const CONFIG: &str = r#"
receivers:
  otlp:
    protocols: {grpc: {endpoint: "127.0.0.1:0"}}
processors:
  batch: {}
exporters:
  otlphttp/tempo:
    endpoint: http://tempo:4318
    headers: {X-Scope-OrgID: tenant-secret-1}
  debug: {}
extensions:
  basicauth/client:
    client_auth: {username: alice, password: pa55word}
  zpages: {expvar: {enabled: true}}
service:
  extensions: [basicauth/client, zpages]
  pipelines:
    traces: {receivers: [otlp], processors: [batch], exporters: [otlphttp/tempo, debug]}
"#;

fn graph(yaml: &str) -> (Graph, Telemetry) {
    let registry = crate::registry().expect("registry");
    let cfg = parse_config(&parse("zpages.yaml", yaml).expect("yaml"), &registry).expect("valid");
    let t = Telemetry::new();
    (Graph::build(&cfg, &t).expect("builds"), t)
}

async fn get(app: &Router, path: &str) -> (StatusCode, String) {
    let res = app.clone().oneshot(Request::get(path).body(Body::empty()).expect("request")).await.expect("served");
    let status = res.status();
    let body = res.into_body().collect().await.expect("body").to_bytes();
    (status, String::from_utf8_lossy(&body).into_owned())
}

#[tokio::test]
async fn the_status_page_draws_the_graph_counts_and_the_redacted_config() {
    let (g, t) = graph(CONFIG);
    let shared = Arc::new(Shared::new(g.host().clone(), Telemetry::default(), true));
    let app = router(shared.clone());
    ReceiverObs::new(&t, &ComponentId::parse("otlp").unwrap(), "grpc").record(Signal::Traces, 42, true);
    let e = ExporterObs::new(&t, &ComponentId::parse("otlphttp/tempo").unwrap(), Signal::Traces);
    e.sent.add(40);
    e.queue_capacity.set(1000);
    e.queue_size.set(250);
    shared.sampler.tick();

    let (status, page) = get(&app, "/").await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains("<meta http-equiv=\"refresh\""), "reloads itself");
    for node in [
        "<g class=\"node receiver\" data-id=\"otlp\">",
        "<g class=\"node processor\" data-id=\"batch\">",
        "<g class=\"node exporter\" data-id=\"otlphttp/tempo\">",
        "<g class=\"node exporter\" data-id=\"debug\">",
    ] {
        assert!(page.contains(node), "{node}: {page}");
    }
    assert!(page.contains("<tr data-kind=\"receiver\" data-id=\"otlp\">"), "{page}");
    assert!(page.contains("<td class=\"total-in\">42</td>"), "{page}");
    assert!(page.contains("<td class=\"total-out\">40</td>"), "{page}");
    assert!(page.contains("width:25%"), "queue fill 250/1000: {page}");
    assert!(page.contains("queue 250/1000"), "the graph node shows the queue: {page}");
    for secret in ["pa55word", "tenant-secret-1"] {
        assert!(!page.contains(secret), "{secret} leaked");
    }
    assert!(page.contains("username: alice"), "the rest of the config is shown");
    assert!(!page.contains("<script") && !page.contains("http://cdn"), "self-contained");
    assert_eq!(get(&app, "/debug/statusz").await.1.len(), page.len());

    let json: serde_json::Value = serde_json::from_str(&get(&app, "/debug/statusz.json").await.1).expect("json");
    let otlp = json["components"].as_array().unwrap().iter().find(|c| c["id"] == "otlp").expect("otlp listed");
    assert_eq!((otlp["kind"].as_str(), otlp["totals"]["in"].as_f64()), (Some("receiver"), Some(42.0)));
}

#[tokio::test]
async fn the_collector_paths_answer() {
    let (g, t) = graph(CONFIG);
    let app = router(Arc::new(Shared::new(g.host().clone(), Telemetry::default(), true)));
    ReceiverObs::new(&t, &ComponentId::parse("otlp").unwrap(), "grpc").record(Signal::Traces, 3, false);

    let (status, p) = get(&app, "/debug/pipelinez").await;
    assert_eq!(status, StatusCode::OK);
    assert!(p.contains("<table class=\"pipeline\" data-pipeline=\"traces\">"), "{p}");
    assert!(p.contains("<tr data-kind=\"receiver\" data-id=\"otlp\"><td class=\"id\">otlp</td><td class=\"kind\">receiver</td><td class=\"in\">0</td><td class=\"refused\">3</td>"), "{p}");
    assert!(p.contains("data-id=\"batch\"") && p.contains("data-id=\"otlphttp/tempo\""), "{p}");
    let (_, s) = get(&app, "/debug/servicez").await;
    assert!(s.contains(env!("CARGO_PKG_VERSION")) && s.contains("Uptime"), "{s}");
    let (_, x) = get(&app, "/debug/extensionz").await;
    assert!(x.contains("basicauth/client") && x.contains(">zpages<"), "{x}");
    let (status, f) = get(&app, "/debug/featurez").await;
    assert!(status == StatusCode::OK && f.contains("None"), "{f}");
    let (status, tz) = get(&app, "/debug/tracez").await;
    assert!(status == StatusCode::OK && tz.contains("does not trace"), "{tz}");
    let (status, ev) = get(&app, "/debug/expvar").await;
    assert_eq!(status, StatusCode::OK);
    let ev: serde_json::Value = serde_json::from_str(&ev).expect("json");
    assert_eq!(ev["otelcol_receiver_refused_spans{receiver=\"otlp\",transport=\"grpc\"}"], 3.0, "{ev}");
    assert_eq!(get(&app, "/debug/nope").await.0, StatusCode::NOT_FOUND);

    let off = router(Arc::new(Shared::new(g.host().clone(), Telemetry::default(), false)));
    assert_eq!(get(&off, "/debug/expvar").await.0, StatusCode::NOT_FOUND, "expvar is off by default");
}

#[test]
fn config_defaults_and_errors() {
    let registry = crate::registry().expect("registry");
    let d = ZPagesConfig::default();
    assert_eq!((d.endpoint.as_str(), d.expvar.enabled), ("localhost:55679", false));
    let bad = r#"
extensions:
  zpages: {endpoint: "localhost:0", expvarr: {enabled: true}}
service: {extensions: [zpages], pipelines: {}}
"#;
    let err = parse_config(&parse("z.yaml", bad).unwrap(), &registry).err().expect("unknown key").to_string();
    assert!(err.contains("z.yaml:3") && err.contains("did you mean \"expvar\"?"), "{err}");
}

#[tokio::test]
async fn starts_serves_and_stops_on_its_endpoint() {
    let port = switchyard_core::testing::free_port();
    let (g, _) = graph(CONFIG);
    let cfg = ZPagesConfig { endpoint: format!("127.0.0.1:{port}"), ..ZPagesConfig::default() };
    let set = switchyard_core::testing::settings(switchyard_core::component::Kind::Extension, TYPE);
    let ext = ZPagesExtensionFactory.create(set, &cfg).expect("created");
    ext.start(g.host()).await.expect("started");
    let body = reqwest::get(format!("http://127.0.0.1:{port}/debug/pipelinez")).await.unwrap().text().await.unwrap();
    assert!(body.contains("Pipeline traces"), "{body}");
    ext.shutdown().await;
    assert!(reqwest::get(format!("http://127.0.0.1:{port}/")).await.is_err(), "port closed after shutdown");
}

#[tokio::test]
async fn recent_errors_are_listed_newest_first_with_component_and_escaped_message() {
    let (g, t) = graph(CONFIG);
    let app = router(Arc::new(Shared::new(g.host().clone(), Telemetry::default(), true)));
    let (_, page) = get(&app, "/debug/statusz").await;
    assert!(page.contains("<h2>Recent errors</h2>") && page.contains("None so far."), "{page}");
    for (i, m) in ["first <failure>", "second"].iter().enumerate() {
        t.recent.push(switchyard_core::telemetry::RecentEvent {
            time: std::time::SystemTime::UNIX_EPOCH + std::time::Duration::from_secs(1_700_000_000 + i as u64),
            level: "ERROR",
            component: Some("exporter otlphttp/tempo".into()),
            message: (*m).into(),
        });
    }
    let (_, page) = get(&app, "/debug/statusz").await;
    let table = page.split("<table id=\"recent-errors\">").nth(1).expect("the table");
    let (first, second) = (table.find("first &lt;failure&gt;").expect("escaped"), table.find("second").expect("row"));
    assert!(second < first, "newest first: {table}");
    assert!(table.contains("<td class=\"id component\">exporter otlphttp/tempo</td>"), "{table}");
    assert!(table.contains("2023-11-14T22:13:21"), "the time: {table}");
    let json: serde_json::Value = serde_json::from_str(&get(&app, "/debug/statusz.json").await.1).expect("json");
    assert_eq!(json["recent_errors"][0]["message"], "second");
    assert_eq!(json["recent_errors"][1]["component"], "exporter otlphttp/tempo");
}

#[tokio::test]
async fn the_tap_endpoint_explains_what_it_cannot_tap() {
    let (g, _t) = graph(CONFIG);
    let app = router(Arc::new(Shared::new(g.host().clone(), Telemetry::default(), true)));
    let (status, body) = get(&app, "/debug/tap").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(body.contains("processors/batch in traces"), "lists the tap points: {body}");
    let (status, body) = get(&app, "/debug/tap?component=processors/nope&pipeline=traces").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert!(body.contains("exporters/debug in traces"), "{body}");
    let (status, _) = get(&app, "/debug/tap?component=processors/batch&rate=0").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
}
