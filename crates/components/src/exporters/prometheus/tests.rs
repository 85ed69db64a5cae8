//! The exporter as the graph runs it: built by its factory from YAML, started, fed OTLP,
//! scraped over HTTP while data keeps arriving, shut down.

use super::store::tests::{hist, kv, metric, point, request, resource, sum};
use super::*;
use opentelemetry_proto::tonic::metrics::v1::{metric::Data, AggregationTemporality, Histogram};
use switchyard_core::component::{Kind, Settings};

fn settings() -> Settings {
    Settings { id: ComponentId::new("prometheus"), kind: Kind::Exporter, telemetry: Telemetry::default() }
}

fn config(yaml: &str) -> PrometheusExporterConfig {
    switchyard_core::config::from_node::<PrometheusExporterConfig>(
        &switchyard_core::config::parse("t.yaml", yaml).expect("yaml"),
        "prometheus",
    )
    .expect("config")
}

use switchyard_core::testing::free_port;

async fn scrape(port: u16, accept: Option<&str>) -> (String, String) {
    let mut req = reqwest::Client::new().get(format!("http://127.0.0.1:{port}/metrics"));
    if let Some(a) = accept {
        req = req.header("accept", a);
    }
    let resp = req.send().await.expect("scrape");
    assert_eq!(resp.status(), 200);
    let ct = resp.headers().get("content-type").and_then(|v| v.to_str().ok()).unwrap_or_default().to_string();
    (ct, resp.text().await.expect("body"))
}

#[test]
fn factory_takes_metrics_only_and_unknown_fields_are_refused() {
    let f = PrometheusExporterFactory;
    assert_eq!(f.component_type(), "prometheus");
    assert_eq!(f.stability(Signal::Metrics), Some(Stability::Beta));
    assert_eq!(f.stability(Signal::Traces), None);
    let bad = switchyard_core::config::from_node::<PrometheusExporterConfig>(
        &switchyard_core::config::parse("t.yaml", "endpoint: :1\nmetrics_path: /m\n").expect("yaml"),
        "prometheus",
    );
    assert!(bad.is_err());
    let c = config("endpoint: 0.0.0.0:8889\nconst_labels: {a: b}\nmetric_expiration: 1m\nsend_timestamps: true\nresource_to_telemetry_conversion: {enabled: true}\nenable_open_metrics: true\nadd_metric_suffixes: false\nsending_queue: {enabled: false}\n");
    assert_eq!(c.metric_expiration, std::time::Duration::from_secs(60));
    assert!(c.send_timestamps && c.enable_open_metrics && c.resource_to_telemetry_conversion.enabled && !c.suffixes());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn serves_what_it_received_and_negotiates_openmetrics() {
    let port = free_port();
    let cfg = config(&format!(
        "endpoint: 127.0.0.1:{port}\nnamespace: app\nconst_labels: {{env: ci}}\nenable_open_metrics: true\n"
    ));
    let (consumer, component) = PrometheusExporterFactory.create(settings(), &cfg, Signal::Metrics).expect("create");
    let AnyConsumer::Metrics(consumer) = consumer else { panic!("metrics consumer") };
    component.start(&Host::default()).await.expect("start");
    let cx = RequestContext::default();

    let (ct, body) = scrape(port, None).await;
    assert!(ct.starts_with("text/plain; version=0.0.4"), "{ct}");
    assert_eq!(body, "", "nothing received yet");

    let h = Data::Histogram(Histogram {
        data_points: vec![hist(1, 2, vec![1, 2, 3], vec![0.1, 1.0], 4.5)],
        aggregation_temporality: AggregationTemporality::Cumulative as i32,
    });
    let req = request(
        resource(),
        vec![
            metric(
                "http.requests",
                "1",
                sum(true, AggregationTemporality::Cumulative, vec![point(1, 2, 7.0, vec![kv("http.method", "GET")])]),
            ),
            metric("rpc.latency", "s", h),
            metric("gone", "", sum(false, AggregationTemporality::Delta, vec![point(1, 2, 1.0, vec![])])),
        ],
    );
    consumer.consume(&cx, req.into()).await.expect("consumed");

    let (_, body) = scrape(port, None).await;
    let common = r#"env="ci",instance="i-1",job="shop/api",otel_scope_name="lib",otel_scope_version="1.2""#;
    let counter = r#"app_http_requests_total{env="ci",http_method="GET",instance="i-1",job="shop/api",otel_scope_name="lib",otel_scope_version="1.2"} 7"#;
    assert!(body.contains(&format!("{counter}\n")), "{body}");
    assert!(body.contains("# TYPE app_http_requests_total counter\n"), "{body}");
    assert!(body.contains(&format!("app_rpc_latency_seconds_bucket{{{common},le=\"1\"}} 3\n")), "{body}");
    assert!(body.contains(&format!("app_rpc_latency_seconds_bucket{{{common},le=\"+Inf\"}} 6\n")), "{body}");
    assert!(body.contains(&format!("app_rpc_latency_seconds_count{{{common}}} 6\n")), "{body}");
    assert!(body.contains("app_target_info{host_name=\"h1\",instance=\"i-1\",job=\"shop/api\"} 1\n"), "{body}");
    assert!(!body.contains("gone"), "a non-monotonic delta sum is dropped: {body}");

    let (ct, om) =
        scrape(port, Some("application/openmetrics-text;version=1.0.0,text/plain;version=0.0.4;q=0.5")).await;
    assert!(ct.starts_with("application/openmetrics-text; version=1.0.0"), "{ct}");
    assert!(om.contains("# TYPE app_http_requests counter\n") && om.ends_with("# EOF\n"), "{om}");

    // Scrapes run while data keeps arriving.
    let feeder = {
        let consumer = consumer.clone();
        tokio::spawn(async move {
            for i in 3..200u64 {
                let req = request(
                    resource(),
                    vec![metric(
                        "http.requests",
                        "1",
                        sum(
                            true,
                            AggregationTemporality::Cumulative,
                            vec![point(1, i, i as f64, vec![kv("http.method", "GET")])],
                        ),
                    )],
                );
                consumer.consume(&RequestContext::default(), req.into()).await.expect("consumed");
            }
        })
    };
    for _ in 0..20 {
        let (_, body) = scrape(port, None).await;
        assert!(body.contains("app_http_requests_total{"), "{body}");
    }
    feeder.await.expect("feeder");
    let (_, body) = scrape(port, None).await;
    assert!(body.contains("http_method=\"GET\",instance=\"i-1\",job=\"shop/api\",otel_scope_name=\"lib\",otel_scope_version=\"1.2\"} 199\n"), "{body}");

    component.shutdown().await;
    assert!(reqwest::Client::new().get(format!("http://127.0.0.1:{port}/metrics")).send().await.is_err(), "closed");
}
