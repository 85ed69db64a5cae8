//! The scrape loop against a local HTTP target whose body the test changes.

use std::io::Write;
use std::sync::{Arc, Mutex};

use axum::http::{HeaderMap, StatusCode};
use axum::response::IntoResponse;
use axum::routing::get;
use switchyard_core::component::Kind;
use switchyard_core::telemetry::ReceiverObs;
use switchyard_core::testing::{settings, SinkConsumer};
use switchyard_pdata::proto::metrics::v1::{metric::Data, number_data_point, Metric};
use switchyard_pdata::{Metrics, SignalData};

use crate::receivers::prometheus::discovery::{static_groups, targets};
use crate::receivers::prometheus::promconfig::ScrapeConfig;
use crate::receivers::prometheus::relabel::Rule;
use crate::receivers::prometheus::scrape::{authorization, first_delay, JobContext, TargetLoop};

#[derive(Default)]
struct Served {
    body: String,
    status: u16,
    gzip: bool,
    content_type: String,
    seen_auth: Option<String>,
    seen_accept: Option<String>,
}

async fn serve(state: Arc<Mutex<Served>>) -> u16 {
    let app = axum::Router::new().route(
        "/metrics",
        get(move |headers: HeaderMap| {
            let state = state.clone();
            async move {
                let mut s = state.lock().unwrap();
                s.seen_auth = headers.get("authorization").map(|v| v.to_str().unwrap().to_string());
                s.seen_accept = headers.get("accept").map(|v| v.to_str().unwrap().to_string());
                let status = StatusCode::from_u16(if s.status == 0 { 200 } else { s.status }).unwrap();
                let ct = if s.content_type.is_empty() {
                    "text/plain; version=0.0.4".to_string()
                } else {
                    s.content_type.clone()
                };
                let mut h = vec![("content-type", ct)];
                let body = if s.gzip {
                    h.push(("content-encoding", "gzip".to_string()));
                    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
                    enc.write_all(s.body.as_bytes()).unwrap();
                    enc.finish().unwrap()
                } else {
                    s.body.clone().into_bytes()
                };
                let mut hm = HeaderMap::new();
                for (k, v) in h {
                    hm.insert(k, v.parse().unwrap());
                }
                (status, hm, body).into_response()
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    port
}

fn scrape_config(yaml: &str) -> ScrapeConfig {
    let node = switchyard_core::config::parse("t.yaml", yaml).unwrap();
    switchyard_core::config::from_node(&node, "sc").unwrap()
}

fn job(sc: ScrapeConfig, sink: Arc<SinkConsumer<Metrics>>) -> (Arc<JobContext>, Vec<Rule>) {
    let set = settings(Kind::Receiver, "prometheus");
    let metric_rules = Rule::compile_all(&sc.metric_relabel_configs).unwrap();
    let target_rules = Rule::compile_all(&sc.relabel_configs).unwrap();
    let ctx = JobContext {
        sample_limit: sc.sample_limit.unwrap_or(0),
        body_size_limit: sc.body_size_limit.unwrap_or(0),
        cfg: sc,
        metric_rules,
        external_labels: [("cluster".to_string(), "c1".to_string())].into(),
        client: reqwest::Client::new(),
        out: sink,
        obs: Arc::new(ReceiverObs::new(&set.telemetry, &set.id, "http")),
        failed_scrapes: set.telemetry.metrics.counter("t", "t", &[]),
        report_extra: false,
        version: "test".into(),
        receiver: "prometheus".into(),
    };
    (Arc::new(ctx), target_rules)
}

fn one_loop(ctx: &Arc<JobContext>, rules: &[Rule]) -> TargetLoop {
    let ts = targets(&ctx.cfg, &Default::default(), rules, &static_groups(&ctx.cfg));
    assert_eq!(ts.len(), 1);
    TargetLoop::new(ctx.clone(), ts[0].clone())
}

fn metrics_of(batch: &Metrics) -> Vec<&Metric> {
    batch
        .request()
        .resource_metrics
        .iter()
        .flat_map(|r| r.scope_metrics.iter().flat_map(|s| s.metrics.iter()))
        .collect()
}

fn gauge_value(batch: &Metrics, name: &str) -> Option<f64> {
    let m = metrics_of(batch).into_iter().find(|m| m.name == name)?;
    let Some(Data::Gauge(g)) = &m.data else { return None };
    match g.data_points[0].value {
        Some(number_data_point::Value::AsDouble(v)) => Some(v),
        _ => None,
    }
}

fn point_attrs(m: &Metric) -> Vec<(String, String)> {
    let attrs = match &m.data {
        Some(Data::Gauge(g)) => &g.data_points[0].attributes,
        Some(Data::Sum(s)) => &s.data_points[0].attributes,
        _ => panic!("number metric"),
    };
    attrs
        .iter()
        .map(|kv| (kv.key.clone(), switchyard_pdata::value::as_string(kv.value.as_ref().unwrap()).into_owned()))
        .collect()
}

#[tokio::test]
async fn labels_relabeling_report_metrics_and_staleness() {
    let state = Arc::new(Mutex::new(Served {
        body: "# TYPE hits_total counter\nhits_total{path=\"/a\",job=\"inner\"} 3\n# TYPE drop_me gauge\ndrop_me 1\nold_name 5\n".into(),
        ..Default::default()
    }));
    let port = serve(state.clone()).await;
    let sc = scrape_config(&format!(
        r#"
job_name: web
static_configs: [{{targets: ["127.0.0.1:{port}"], labels: {{team: core}}}}]
metric_relabel_configs:
  - {{source_labels: [__name__], regex: drop_.*, action: drop}}
  - {{source_labels: [__name__], regex: old_(.*), target_label: __name__, replacement: new_$1}}
"#
    ));
    let sink = SinkConsumer::<Metrics>::new();
    let (ctx, rules) = job(sc, sink.clone());
    let mut tl = one_loop(&ctx, &rules);
    tl.scrape_and_report().await;
    let b = &sink.batches()[0];
    let rm = &b.request().resource_metrics[0];
    let ra = &rm.resource.as_ref().unwrap().attributes;
    assert_eq!(switchyard_pdata::attrs::get_str(ra, "service.name"), Some("web"));
    assert_eq!(switchyard_pdata::attrs::get_str(ra, "service.instance.id"), Some(format!("127.0.0.1:{port}").as_str()));
    let names: Vec<&str> = metrics_of(b).iter().map(|m| m.name.as_str()).collect();
    assert!(names.contains(&"hits_total") && names.contains(&"new_name"), "{names:?}");
    assert!(!names.contains(&"drop_me") && !names.contains(&"old_name"), "{names:?}");
    let hits = metrics_of(b).into_iter().find(|m| m.name == "hits_total").unwrap();
    let attrs = point_attrs(hits);
    for want in [("exported_job", "inner"), ("team", "core"), ("path", "/a"), ("cluster", "c1")] {
        assert!(attrs.contains(&(want.0.to_string(), want.1.to_string())), "{want:?} in {attrs:?}");
    }
    assert_eq!(gauge_value(b, "up"), Some(1.0));
    assert_eq!(gauge_value(b, "scrape_samples_scraped"), Some(3.0));
    assert_eq!(gauge_value(b, "scrape_samples_post_metric_relabeling"), Some(2.0));
    assert_eq!(gauge_value(b, "scrape_series_added"), Some(2.0));
    assert!(gauge_value(b, "scrape_duration_seconds").unwrap() > 0.0);
    let accept = state.lock().unwrap().seen_accept.clone().unwrap();
    assert!(
        accept.starts_with("application/openmetrics-text;version=1.0.0") && accept.contains("text/plain;version=0.0.4")
    );

    // The series new_name disappears: it gets a stale point in the next scrape.
    state.lock().unwrap().body = "# TYPE hits_total counter\nhits_total{path=\"/a\",job=\"inner\"} 4\n".into();
    tl.scrape_and_report().await;
    let b = &sink.batches()[1];
    let m = metrics_of(b).into_iter().find(|m| m.name == "new_name").expect("stale point");
    let Some(Data::Gauge(g)) = &m.data else { panic!() };
    assert_eq!(g.data_points[0].flags, 1);
    assert_eq!(gauge_value(b, "scrape_series_added"), Some(0.0));

    // The target fails: up = 0 and every series is marked stale.
    state.lock().unwrap().status = 500;
    tl.scrape_and_report().await;
    let b = &sink.batches()[2];
    assert_eq!(gauge_value(b, "up"), Some(0.0));
    let m = metrics_of(b).into_iter().find(|m| m.name == "hits_total").expect("stale point");
    let Some(Data::Sum(s)) = &m.data else { panic!() };
    assert_eq!(s.data_points[0].flags, 1);
}

#[tokio::test]
async fn honor_labels_gzip_openmetrics_auth_and_limits() {
    let state = Arc::new(Mutex::new(Served {
        body: "# TYPE c counter\nc_total{job=\"inner\"} 1\n# EOF\n".into(),
        gzip: true,
        content_type: "application/openmetrics-text; version=1.0.0; charset=utf-8".into(),
        ..Default::default()
    }));
    let port = serve(state.clone()).await;
    let dir = tempfile::tempdir().unwrap();
    let pw = dir.path().join("pw");
    std::fs::write(&pw, "s3cret\n").unwrap();
    let sc = scrape_config(&format!(
        "job_name: j\nhonor_labels: true\nsample_limit: 1\nbasic_auth: {{username: u, password_file: {}}}\nstatic_configs: [{{targets: ['127.0.0.1:{port}']}}]\n",
        pw.display()
    ));
    let sink = SinkConsumer::<Metrics>::new();
    let (ctx, rules) = job(sc, sink.clone());
    let mut tl = one_loop(&ctx, &rules);
    tl.scrape_and_report().await;
    let b = &sink.batches()[0];
    // honor_labels: the scraped job wins, so the series is its own resource.
    let jobs: Vec<String> = b
        .request()
        .resource_metrics
        .iter()
        .map(|r| {
            switchyard_pdata::attrs::get_str(&r.resource.as_ref().unwrap().attributes, "service.name")
                .unwrap()
                .to_string()
        })
        .collect();
    assert!(jobs.contains(&"inner".to_string()) && jobs.contains(&"j".to_string()), "{jobs:?}");
    assert!(metrics_of(b).iter().any(|m| m.name == "c_total" && matches!(m.data, Some(Data::Sum(_)))));
    assert_eq!(state.lock().unwrap().seen_auth.as_deref(), Some("Basic dTpzM2NyZXQ="), "base64(u:s3cret)");

    // Two samples over a limit of one: the scrape fails.
    state.lock().unwrap().body = "# TYPE c counter\nc_total{job=\"inner\"} 1\nc_total{job=\"other\"} 1\n# EOF\n".into();
    tl.scrape_and_report().await;
    assert_eq!(gauge_value(&sink.batches()[1], "up"), Some(0.0));

    // Malformed text fails the scrape too.
    state.lock().unwrap().body = "c_total{ 1\n# EOF\n".into();
    tl.scrape_and_report().await;
    assert_eq!(gauge_value(&sink.batches()[2], "up"), Some(0.0));
}

#[tokio::test]
async fn unreachable_target_is_down() {
    let port = free_port();
    let sc = scrape_config(&format!(
        "job_name: j\nscrape_timeout: 1s\nstatic_configs: [{{targets: ['127.0.0.1:{port}']}}]\n"
    ));
    let sink = SinkConsumer::<Metrics>::new();
    let (ctx, rules) = job(sc, sink.clone());
    let mut tl = one_loop(&ctx, &rules);
    tl.scrape_and_report().await;
    assert_eq!(gauge_value(&sink.batches()[0], "up"), Some(0.0));
}

pub use switchyard_core::testing::free_port;

#[test]
fn offsets_spread_targets_within_the_interval() {
    let iv = std::time::Duration::from_secs(10);
    let now = 1_000_000_123_456_789u128;
    let a = first_delay(1, iv, now);
    let b = first_delay(5_000_000_000, iv, now);
    assert!(a <= iv && b <= iv);
    assert_ne!(a, b);
    // The same target always lands on the same point of the interval.
    let later = now + 3 * iv.as_nanos();
    assert_eq!(first_delay(5_000_000_000, iv, later), b);
}

#[test]
fn authorization_headers() {
    let sc = scrape_config("job_name: j\nauthorization: {credentials: tok}\n");
    assert_eq!(authorization(&sc).unwrap().as_deref(), Some("Bearer tok"));
    let sc = scrape_config("job_name: j\nauthorization: {type: Token, credentials: tok}\n");
    assert_eq!(authorization(&sc).unwrap().as_deref(), Some("Token tok"));
    let sc = scrape_config("job_name: j\nbearer_token: b\n");
    assert_eq!(authorization(&sc).unwrap().as_deref(), Some("Bearer b"));
    let sc = scrape_config("job_name: j\nauthorization: {credentials_file: /nonexistent/x}\n");
    assert!(authorization(&sc).unwrap_err().contains("cannot read"));
    assert_eq!(authorization(&scrape_config("job_name: j\n")).unwrap(), None);
}

/// Built through the factory: scrapes on its own schedule, and shutdown returns promptly.
#[tokio::test]
async fn factory_lifecycle_scrapes_and_stops() {
    use switchyard_core::component::{ReceiverFactory, ReceiverOutputs};
    let state = Arc::new(Mutex::new(Served { body: "g 1\n".into(), ..Default::default() }));
    let port = serve(state).await;
    let yaml = format!(
        "config:\n  scrape_configs:\n    - {{job_name: a, scrape_interval: 100ms, static_configs: [{{targets: ['127.0.0.1:{port}']}}]}}\n"
    );
    let node = switchyard_core::config::parse("t.yaml", &yaml).unwrap();
    let cfg: crate::receivers::prometheus::PrometheusReceiverConfig =
        switchyard_core::config::from_node(&node, "prometheus").unwrap();
    let sink = SinkConsumer::<Metrics>::new();
    let out = || ReceiverOutputs { metrics: Some(sink.clone()), ..Default::default() };
    let f = crate::receivers::prometheus::PrometheusReceiverFactory;
    let a = f.create(settings(Kind::Receiver, "prometheus"), &cfg, out()).unwrap();
    let b = f.create(settings(Kind::Receiver, "prometheus"), &cfg, out()).unwrap();
    let host = switchyard_core::component::Host::default();
    a.start(&host).await.unwrap();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
    while sink.batches().iter().filter(|b| gauge_value(b, "g").is_some()).count() < 2 {
        assert!(std::time::Instant::now() < deadline, "two scrapes within 5 s at a 100ms interval");
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    let t = std::time::Instant::now();
    a.shutdown().await;
    b.shutdown().await;
    assert!(t.elapsed() < std::time::Duration::from_secs(2), "shutdown took {:?}", t.elapsed());
    // A receiver without a metrics pipeline cannot be built.
    assert!(f.create(settings(Kind::Receiver, "prometheus"), &cfg, ReceiverOutputs::default()).is_err());
}
