//! Routing connector tests through whole graphs built from YAML (`GraphHarness`): which
//! pipeline got which spans, logs and metrics; the request context; config errors.

mod conformance;

use std::sync::Arc;

use switchyard_core::config::ConfigErrors;
use switchyard_core::consumer::RequestContext;
use switchyard_core::testing::GraphHarness;
use switchyard_pdata::proto::collector::logs::v1::ExportLogsServiceRequest;
use switchyard_pdata::proto::collector::metrics::v1::ExportMetricsServiceRequest;
use switchyard_pdata::proto::common::v1::{any_value, AnyValue, KeyValue};
use switchyard_pdata::proto::logs::v1::{LogRecord, ResourceLogs, ScopeLogs};
use switchyard_pdata::proto::metrics::v1::metric::Data;
use switchyard_pdata::proto::metrics::v1::{Gauge, Metric, NumberDataPoint, ResourceMetrics, ScopeMetrics};
use switchyard_pdata::proto::resource::v1::Resource;
use switchyard_pdata::{attrs, walk, Logs, Metrics, SignalData, Traces};

use super::RoutingConnectorFactory;

fn kv(key: &str, v: &str) -> KeyValue {
    KeyValue {
        key: key.into(),
        value: Some(AnyValue { value: Some(any_value::Value::StringValue(v.into())) }),
        ..Default::default()
    }
}

fn build(h: &GraphHarness, yaml: &str) -> Result<switchyard_core::graph::Graph, ConfigErrors> {
    let mut r = h.registry();
    r.connector(RoutingConnectorFactory).unwrap();
    h.build(&r, yaml)
}

fn pipelines(signal: &str, connector: &str) -> String {
    format!(
        "
receivers: {{source: }}
exporters: {{sink/a: , sink/b: , sink/other: }}
connectors:
  routing:
{connector}
service:
  pipelines:
    {signal}/in: {{receivers: [source], exporters: [routing]}}
    {signal}/a: {{receivers: [routing], exporters: [sink/a]}}
    {signal}/b: {{receivers: [routing], exporters: [sink/b]}}
    {signal}/other: {{receivers: [routing], exporters: [sink/other]}}
"
    )
}

/// Two resources (`tenant` = acme, globex), each with spans named `<tenant>-1`, `<tenant>-2`.
fn two_tenants() -> Traces {
    let mut t = switchyard_core::testing::traces(0);
    let req = t.make_mut();
    let template = req.resource_spans[0].clone();
    req.resource_spans.clear();
    for tenant in ["acme", "globex"] {
        let mut rs = template.clone();
        rs.resource = Some(Resource { attributes: vec![kv("tenant", tenant)], ..Default::default() });
        rs.scope_spans[0].spans = (1..=2)
            .map(|i| switchyard_pdata::proto::trace::v1::Span { name: format!("{tenant}-{i}"), ..Default::default() })
            .collect();
        req.resource_spans.push(rs);
    }
    t
}

fn span_names(h: &GraphHarness, sink: &str) -> Vec<String> {
    h.sink::<Traces>(sink)
        .map(|s| {
            s.batches()
                .iter()
                .flat_map(|b| walk::spans(b.request()).map(|s| s.span.name.clone()).collect::<Vec<_>>())
                .collect()
        })
        .unwrap_or_default()
}

#[tokio::test]
async fn resource_rows_move_whole_resources_and_the_rest_goes_to_default() {
    let h = GraphHarness::new();
    let cfg = r#"    default_pipelines: [traces/other]
    table:
      - statement: route() where attributes["tenant"] == "acme"
        pipelines: [traces/a]
      - condition: attributes["tenant"] == "acme" or attributes["tenant"] == "nobody"
        pipelines: [traces/b]"#;
    let _g = build(&h, &pipelines("traces", cfg)).expect("valid");
    h.source("source").traces.unwrap().consume(&RequestContext::default(), two_tenants()).await.unwrap();
    assert_eq!(span_names(&h, "sink/a"), ["acme-1", "acme-2"]);
    assert!(span_names(&h, "sink/b").is_empty(), "acme was taken by the first row");
    assert_eq!(span_names(&h, "sink/other"), ["globex-1", "globex-2"]);
}

#[tokio::test]
async fn resource_rows_route_an_encoded_batch_by_its_envelopes_alone() {
    // As received: two requests back to back (the batch a receiver and `batch` make). The
    // rows read only resources, so each pipeline gets its resources as the received bytes.
    let h = GraphHarness::new();
    let cfg = r#"    default_pipelines: [traces/other]
    table:
      - statement: route() where attributes["tenant"] == "acme"
        pipelines: [traces/a]
      - context: request
        condition: request["X-Tenant-ID"] == "nobody"
        pipelines: [traces/b]"#;
    let _g = build(&h, &pipelines("traces", cfg)).expect("valid");
    let mut batch = Traces::from_encoded(two_tenants().to_bytes()).unwrap();
    batch.append(Traces::from_encoded(two_tenants().to_bytes()).unwrap()).unwrap();
    h.source("source").traces.unwrap().consume(&RequestContext::default(), batch).await.unwrap();
    assert_eq!(span_names(&h, "sink/a"), ["acme-1", "acme-2", "acme-1", "acme-2"]);
    assert!(span_names(&h, "sink/b").is_empty());
    assert_eq!(span_names(&h, "sink/other"), ["globex-1", "globex-2", "globex-1", "globex-2"]);
    for sink in ["sink/a", "sink/other"] {
        let batches = h.sink::<Traces>(sink).unwrap().batches();
        assert!(batches.iter().all(SignalData::is_encoded), "{sink}: forwarded as bytes");
        let tenants: Vec<_> = walk::spans(batches[0].request())
            .map(|s| attrs::get_str(s.resource.attributes(), "tenant").map(str::to_string))
            .collect();
        assert_eq!(tenants.len(), 4);
        assert!(tenants.windows(2).all(|w| w[0] == w[1]), "{sink}: resources kept: {tenants:?}");
    }
    // A span row needs the items: the same batch is decoded and routed the same way.
    let h = GraphHarness::new();
    let cfg = r#"    default_pipelines: [traces/other]
    table:
      - statement: route() where attributes["tenant"] == "acme"
        pipelines: [traces/a]
      - context: span
        condition: name == "nothing"
        pipelines: [traces/b]"#;
    let _g = build(&h, &pipelines("traces", cfg)).expect("valid");
    let batch = Traces::from_encoded(two_tenants().to_bytes()).unwrap();
    h.source("source").traces.unwrap().consume(&RequestContext::default(), batch).await.unwrap();
    assert_eq!(span_names(&h, "sink/a"), ["acme-1", "acme-2"]);
    assert_eq!(span_names(&h, "sink/other"), ["globex-1", "globex-2"]);
    assert!(!h.sink::<Traces>("sink/a").unwrap().batches()[0].is_encoded());
}

#[tokio::test]
async fn a_statement_that_deletes_the_routing_attribute_deletes_it_from_an_encoded_batch() {
    // `delete_key` changes the resources: the bytes cannot be forwarded as received.
    let h = GraphHarness::new();
    let cfg = r#"    default_pipelines: [traces/other]
    table:
      - statement: delete_key(attributes, "tenant") where attributes["tenant"] == "acme"
        pipelines: [traces/a]"#;
    let _g = build(&h, &pipelines("traces", cfg)).expect("valid");
    let batch = Traces::from_encoded(two_tenants().to_bytes()).unwrap();
    h.source("source").traces.unwrap().consume(&RequestContext::default(), batch).await.unwrap();
    assert_eq!(span_names(&h, "sink/a"), ["acme-1", "acme-2"]);
    assert_eq!(span_names(&h, "sink/other"), ["globex-1", "globex-2"]);
    let tenant_at = |sink: &str| {
        let batches = h.sink::<Traces>(sink).unwrap().batches();
        walk::spans(batches[0].request())
            .map(|s| attrs::get_str(s.resource.attributes(), "tenant").map(str::to_string))
            .collect::<Vec<_>>()
    };
    assert_eq!(tenant_at("sink/a"), [None, None], "the attribute is gone from what was routed");
    assert_eq!(tenant_at("sink/other"), [Some("globex".to_string()), Some("globex".to_string())]);
}

#[tokio::test]
async fn span_rows_split_resources_and_copy_envelopes() {
    let h = GraphHarness::new();
    let cfg = r#"    table:
      - context: span
        condition: name == "acme-2" or name == "globex-2"
        pipelines: [traces/a, traces/b]"#;
    let _g = build(&h, &pipelines("traces", cfg)).expect("valid");
    h.source("source").traces.unwrap().consume(&RequestContext::default(), two_tenants()).await.unwrap();
    for sink in ["sink/a", "sink/b"] {
        let batches = h.sink::<Traces>(sink).unwrap().batches();
        assert_eq!(batches.len(), 1);
        let tenants: Vec<_> = walk::spans(batches[0].request())
            .map(|s| (attrs::get_str(s.resource.attributes(), "tenant").map(str::to_string), s.span.name.clone()))
            .collect();
        assert_eq!(
            tenants,
            [(Some("acme".into()), "acme-2".into()), (Some("globex".into()), "globex-2".into())],
            "{sink}: each span keeps its own resource"
        );
    }
    assert!(span_names(&h, "sink/other").is_empty(), "no default_pipelines: the rest is dropped");
}

#[tokio::test]
async fn request_rows_route_by_a_client_header() {
    let h = GraphHarness::new();
    let cfg = r#"    default_pipelines: [traces/other]
    table:
      - context: request
        condition: request["X-Tenant-ID"] == "acme"
        pipelines: [traces/a]"#;
    let _g = build(&h, &pipelines("traces", cfg)).expect("valid");
    let input = h.source("source").traces.unwrap();
    let mut headers = http::HeaderMap::new();
    headers.insert("x-tenant-id", "acme".parse().unwrap());
    let acme = RequestContext::with_metadata(Some(Arc::new(headers)));
    input.consume(&acme, two_tenants()).await.unwrap();
    input.consume(&RequestContext::default(), two_tenants()).await.unwrap();
    assert_eq!(span_names(&h, "sink/a").len(), 4, "the whole request with the header");
    assert_eq!(span_names(&h, "sink/other").len(), 4, "the request without it");
    let got = h.sink::<Traces>("sink/a").unwrap().contexts();
    assert_eq!(got[0].metadata_values("X-Tenant-ID"), ["acme"], "metadata travels on");
}

#[tokio::test]
async fn log_rows_route_single_records() {
    let h = GraphHarness::new();
    let cfg = r#"    default_pipelines: [logs/other]
    table:
      - context: log
        condition: severity_text == "ERROR"
        pipelines: [logs/a]"#;
    let _g = build(&h, &pipelines("logs", cfg)).expect("valid");
    let record = |sev: &str| LogRecord { severity_text: sev.into(), ..Default::default() };
    let logs = Logs::from_request(ExportLogsServiceRequest {
        resource_logs: vec![ResourceLogs {
            scope_logs: vec![ScopeLogs {
                log_records: vec![record("INFO"), record("ERROR"), record("WARN")],
                ..Default::default()
            }],
            ..Default::default()
        }],
    });
    h.source("source").logs.unwrap().consume(&RequestContext::default(), logs).await.unwrap();
    let sev = |sink: &str| -> Vec<String> {
        h.sink::<Logs>(sink)
            .unwrap()
            .batches()
            .iter()
            .flat_map(|b| walk::log_records(b.request()).map(|r| r.log.severity_text.clone()).collect::<Vec<_>>())
            .collect()
    };
    assert_eq!(sev("sink/a"), ["ERROR"]);
    assert_eq!(sev("sink/other"), ["INFO", "WARN"]);
}

#[tokio::test]
async fn datapoint_and_metric_rows_route_points_and_metrics() {
    let h = GraphHarness::new();
    let cfg = r#"    default_pipelines: [metrics/other]
    table:
      - context: datapoint
        condition: attributes["host"] == "h1"
        pipelines: [metrics/a]
      - context: metric
        condition: name == "cpu"
        pipelines: [metrics/b]"#;
    let _g = build(&h, &pipelines("metrics", cfg)).expect("valid");
    let point = |host: &str| NumberDataPoint { attributes: vec![kv("host", host)], ..Default::default() };
    let gauge = |name: &str, hosts: &[&str]| Metric {
        name: name.into(),
        unit: "1".into(),
        data: Some(Data::Gauge(Gauge { data_points: hosts.iter().map(|h| point(h)).collect() })),
        ..Default::default()
    };
    let metrics = Metrics::from_request(ExportMetricsServiceRequest {
        resource_metrics: vec![ResourceMetrics {
            scope_metrics: vec![ScopeMetrics {
                metrics: vec![gauge("cpu", &["h1", "h2"]), gauge("mem", &["h2"]), gauge("disk", &["h1"])],
                ..Default::default()
            }],
            ..Default::default()
        }],
    });
    h.source("source").metrics.unwrap().consume(&RequestContext::default(), metrics).await.unwrap();
    let got = |sink: &str| -> Vec<(String, String)> {
        h.sink::<Metrics>(sink)
            .unwrap()
            .batches()
            .iter()
            .flat_map(|b| {
                walk::data_points(b.request())
                    .map(|p| {
                        (p.metric.name.clone(), attrs::get_str(p.point.attributes(), "host").unwrap_or("").to_string())
                    })
                    .collect::<Vec<_>>()
            })
            .collect()
    };
    let pair = |m: &str, h: &str| (m.to_string(), h.to_string());
    assert_eq!(got("sink/a"), [pair("cpu", "h1"), pair("disk", "h1")], "points, each under a copy of its metric");
    assert_eq!(got("sink/b"), [pair("cpu", "h2")], "what the first row left of cpu");
    assert_eq!(got("sink/other"), [pair("mem", "h2")]);
    let a = h.sink::<Metrics>("sink/a").unwrap().batches();
    assert_eq!(walk::metrics(a[0].request()).next().unwrap().metric.unit, "1", "metric fields copied");
}

#[tokio::test]
async fn error_mode_propagate_fails_the_request_and_ignore_falls_through() {
    for (mode, expect_ok) in [("propagate", false), ("ignore", true)] {
        let h = GraphHarness::new();
        let cfg = format!(
            r#"    error_mode: {mode}
    default_pipelines: [traces/other]
    table:
      - condition: attributes["tenant"] * 2 > 1
        pipelines: [traces/a]"#
        );
        let _g = build(&h, &pipelines("traces", &cfg)).expect("valid");
        let r = h.source("source").traces.unwrap().consume(&RequestContext::default(), two_tenants()).await;
        assert_eq!(r.is_ok(), expect_ok, "{mode}: {r:?}");
        if expect_ok {
            assert_eq!(span_names(&h, "sink/other").len(), 4, "{mode}: failed condition = no match");
        }
    }
}

fn errors(yaml: &str) -> Vec<String> {
    match build(&GraphHarness::new(), yaml) {
        Ok(_) => panic!("config should be rejected"),
        Err(e) => e.0.iter().map(ToString::to_string).collect(),
    }
}

#[test]
fn a_table_naming_an_unknown_pipeline_is_an_error_at_its_line() {
    let cfg = r#"    default_pipelines: [traces/other]
    table:
      - condition: attributes["tenant"] == "acme"
        pipelines: [traces/a, traces/acme]"#;
    let errs = errors(&pipelines("traces", cfg));
    assert_eq!(
        errs,
        ["test.yaml:9:31: connectors::routing::table::0::pipelines::1: pipeline \"traces/acme\" is not configured, \
          did you mean \"traces/a\"? (fed by this connector: traces/a, traces/b, traces/other)"]
    );
}

#[test]
fn bad_rows_are_errors_at_their_keys() {
    let cfg = r#"    match_once: true
    table:
      - context: request
        condition: request["X-Tenant"] > "a"
        pipelines: [traces/a]
      - condition: attributes["a"] == 
        pipelines: [traces/a]
      - statement: route()
        condition: "true"
        pipelines: [traces/a]
      - context: span
        condition: name == "x""#;
    let errs = errors(&pipelines("traces", cfg)).join("\n");
    for want in [
        "test.yaml:6:17: connectors::routing::match_once: match_once was removed",
        "test.yaml:9:20: connectors::routing::table::0::condition: invalid request condition",
        "operator > is not supported",
        "connectors::routing::table::1::condition: invalid OTTL",
        "connectors::routing::table::2::statement: invalid route: both condition and statement provided",
        "connectors::routing::table::3: invalid route: no pipelines defined",
    ] {
        assert!(errs.contains(want), "missing {want:?} in:\n{errs}");
    }
}

#[test]
fn an_empty_table_is_an_error() {
    let errs = errors(&pipelines("traces", "    default_pipelines: [traces/other]"));
    assert!(
        errs[0].contains("connectors::routing::table: invalid routing table: the routing table is empty"),
        "{errs:?}"
    );
}
