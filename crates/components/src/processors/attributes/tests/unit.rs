//! The processor as a user configures it: errors at their file, line and key through the
//! config loader, `include`/`exclude` per signal, values from the request context.

use std::sync::Arc;

use switchyard_core::component::{ComponentConfig, FieldError};
use switchyard_core::config;
use switchyard_core::consumer::{AuthData, RequestContext};
use switchyard_core::processorhelper::SignalProcessor;
use switchyard_core::testing::GraphHarness;
use switchyard_pdata::attrs;
use switchyard_pdata::proto::collector::logs::v1::ExportLogsServiceRequest;
use switchyard_pdata::proto::collector::metrics::v1::ExportMetricsServiceRequest;
use switchyard_pdata::proto::collector::trace::v1::ExportTraceServiceRequest;
use switchyard_pdata::proto::common::v1::{InstrumentationScope, KeyValue};
use switchyard_pdata::proto::logs::v1::{LogRecord, ResourceLogs, ScopeLogs};
use switchyard_pdata::proto::metrics::v1::{metric, Gauge, Metric, NumberDataPoint, ResourceMetrics, ScopeMetrics};
use switchyard_pdata::proto::resource::v1::Resource;
use switchyard_pdata::proto::trace::v1::{ResourceSpans, ScopeSpans, Span};
use switchyard_pdata::value::str_value;
use switchyard_pdata::{Signal, SignalData, Traces};

use super::super::{AttributesProcessor, AttributesProcessorConfig, AttributesProcessorFactory};

fn kv(k: &str, v: &str) -> KeyValue {
    KeyValue { key: k.into(), value: Some(str_value(v)), ..Default::default() }
}

fn parse(yaml: &str) -> AttributesProcessorConfig {
    let node = config::parse("t.yaml", yaml).expect("yaml");
    config::from_node(&node, "attributes").expect("config decodes")
}

fn errors(yaml: &str) -> Vec<FieldError> {
    parse(yaml).validate()
}

fn processor(yaml: &str, signal: Signal) -> AttributesProcessor {
    AttributesProcessor::new(&parse(yaml), signal).expect("valid for the signal")
}

/// The whole config through the loader, as `switchyard validate` reads it.
fn load_errors(processor_yaml: &str) -> String {
    let h = GraphHarness::new();
    let mut r = h.registry();
    r.processor(AttributesProcessorFactory).expect("register");
    let yaml = format!(
        "receivers:\n  source:\nprocessors:\n  attributes:\n{processor_yaml}exporters:\n  sink:\nservice:\n  pipelines:\n    traces:\n      receivers: [source]\n      processors: [attributes]\n      exporters: [sink]\n"
    );
    match h.build(&r, &yaml) {
        Ok(_) => String::new(),
        Err(e) => e.to_string(),
    }
}

fn span_req(service: &str, scope: &str, spans: Vec<Span>) -> ExportTraceServiceRequest {
    ExportTraceServiceRequest {
        resource_spans: vec![ResourceSpans {
            resource: Some(Resource { attributes: vec![kv("service.name", service)], ..Default::default() }),
            scope_spans: vec![ScopeSpans {
                scope: Some(InstrumentationScope { name: scope.into(), version: "1.0".into(), ..Default::default() }),
                spans,
                ..Default::default()
            }],
            ..Default::default()
        }],
    }
}

fn span(name: &str, kind: i32, attributes: Vec<KeyValue>) -> Span {
    Span { name: name.into(), kind, attributes, ..Default::default() }
}

fn spans_of(req: &ExportTraceServiceRequest) -> Vec<&Span> {
    req.resource_spans.iter().flat_map(|r| &r.scope_spans).flat_map(|s| &s.spans).collect()
}

const INSERT: &str = "actions:\n  - key: touched\n    value: yes\n    action: insert\n";

#[test]
fn config_errors_carry_file_line_and_key() {
    let e = load_errors(
        "    actions:\n      - key: a\n        action: delete\n      - key: b\n        action: upsert\n        value: 1\n      - key: c\n        action: extract\n        pattern: '(?P<x>['\n",
    );
    assert!(e.contains("test.yaml:13:"), "located at the pattern's line: {e}");
    assert!(e.contains("processors::attributes::actions::2::pattern"), "{e}");
    assert!(e.contains("invalid pattern") && e.contains("unclosed"), "the regex error is shown: {e}");

    let e = load_errors("    actions:\n      - key: a\n        action: upsrt\n        value: 1\n");
    assert!(e.contains("test.yaml:7:") && e.contains("processors::attributes::actions::0::action"), "{e}");
    assert!(e.contains("did you mean \"upsert\""), "{e}");

    let e = load_errors("    actions:\n      - key: a\n        action: convert\n        converted_type: integer\n");
    assert!(e.contains("actions::0::converted_type") && e.contains("did you mean \"int\""), "{e}");

    let e = load_errors("    actions: []\n");
    assert!(e.contains("missing required field \"actions\""), "{e}");
}

#[test]
fn value_sources_are_checked() {
    let e = errors("actions:\n  - key: a\n    action: insert\n");
    assert_eq!(e[0].field, "actions::0");
    assert!(e[0].message.contains("must be specified"), "{}", e[0].message);
    let e = errors("actions:\n  - key: a\n    action: upsert\n    value: 1\n    from_context: metadata.x\n");
    assert!(e[0].message.contains("multiple value sources"), "{}", e[0].message);
    let e = errors("actions:\n  - key: a\n    action: delete\n    from_attribute: b\n");
    assert!(e[0].message.contains("does not use"), "{}", e[0].message);
    let e = errors("actions:\n  - key: a\n    action: extract\n    pattern: '.*'\n");
    assert_eq!(e[0].field, "actions::0::pattern");
    assert!(e[0].message.contains("no named matcher groups"), "{}", e[0].message);
    let e = errors("actions:\n  - key: a\n    action: extract\n    pattern: '(?P<x>.*)-(.*)'\n");
    assert!(e[0].message.contains("at least one unnamed matcher group"), "{}", e[0].message);
    assert!(errors("actions:\n  - key: a\n    action: UPSERT\n    default_value: x\n").is_empty(), "default alone");
}

#[test]
fn include_exclude_errors_are_placed_at_their_keys() {
    let e = errors(&format!("{INSERT}include:\n  services: [a]\n"));
    assert_eq!(e[0].field, "include::match_type", "{e:?}");
    let e = errors(&format!("{INSERT}exclude:\n  match_type: regexp\n  span_names: ['a(']\n"));
    assert_eq!(e[0].field, "exclude::span_names::0", "{e:?}");
    let e = errors(&format!("{INSERT}include:\n  match_type: strict\n  log_severity_number: {{min: LOUD}}\n"));
    assert_eq!(e[0].field, "include::log_severity_number::min", "{e:?}");
}

#[test]
fn per_signal_rules_apply_when_built_for_a_pipeline() {
    let cfg = parse(&format!("{INSERT}include:\n  match_type: strict\n  services: [a]\n"));
    assert!(cfg.validate().is_empty());
    let e = AttributesProcessor::new(&cfg, Signal::Logs).expect_err("services are span-only");
    assert!(e[0].message.contains("not valid for log records"), "{e:?}");
    // Metrics read metric_names only: services are ignored there, as upstream.
    assert!(AttributesProcessor::new(&cfg, Signal::Metrics).is_ok());
    let cfg = parse(&format!("{INSERT}include:\n  match_type: strict\n  log_bodies: [a]\n"));
    let e = AttributesProcessor::new(&cfg, Signal::Traces).expect_err("log fields on spans");
    assert_eq!(e[0].field, "include::log_bodies");
    let cfg = parse(&format!("{INSERT}include:\n  match_type: strict\n"));
    assert!(AttributesProcessor::new(&cfg, Signal::Traces).is_err(), "spans need one property");
}

#[test]
fn spans_are_selected_by_kind_library_and_attributes() {
    let p = processor(
        &format!(
            "{INSERT}include:\n  match_type: strict\n  span_kinds: [SPAN_KIND_SERVER]\n  libraries: [{{name: lib}}]\nexclude:\n  match_type: strict\n  attributes: [{{key: skip}}]\n"
        ),
        Signal::Traces,
    );
    let mut req = span_req(
        "svc",
        "lib",
        vec![span("server", 2, vec![]), span("client", 3, vec![]), span("server-skipped", 2, vec![kv("skip", "1")])],
    );
    p.process_traces(&RequestContext::default(), &mut req).expect("runs");
    let touched: Vec<bool> = spans_of(&req).iter().map(|s| attrs::get(&s.attributes, "touched").is_some()).collect();
    assert_eq!(touched, [true, false, false]);
    let mut other_lib = span_req("svc", "other", vec![span("server", 2, vec![])]);
    p.process_traces(&RequestContext::default(), &mut other_lib).expect("runs");
    assert!(attrs::get(&spans_of(&other_lib)[0].attributes, "touched").is_none(), "library must match");
}

fn logs_req(records: Vec<LogRecord>) -> ExportLogsServiceRequest {
    ExportLogsServiceRequest {
        resource_logs: vec![ResourceLogs {
            scope_logs: vec![ScopeLogs { log_records: records, ..Default::default() }],
            ..Default::default()
        }],
    }
}

#[test]
fn logs_are_selected_by_body_severity_and_attributes() {
    let p = processor(
        &format!(
            "{INSERT}include:\n  match_type: regexp\n  log_bodies: ['^user ']\n  log_severity_number: {{min: WARN, match_undefined: true}}\nexclude:\n  match_type: strict\n  attributes: [{{key: env, value: dev}}]\n"
        ),
        Signal::Logs,
    );
    let record = |body: &str, severity: i32, attributes: Vec<KeyValue>| LogRecord {
        body: Some(str_value(body)),
        severity_number: severity,
        attributes,
        ..Default::default()
    };
    let mut req = logs_req(vec![
        record("user login", 13, vec![]),
        record("user login", 9, vec![]),
        record("user login", 0, vec![]),
        record("system start", 17, vec![]),
        record("user logout", 17, vec![kv("env", "dev")]),
    ]);
    p.process_logs(&RequestContext::default(), &mut req).expect("runs");
    let touched: Vec<bool> = req.resource_logs[0].scope_logs[0]
        .log_records
        .iter()
        .map(|l| attrs::get(&l.attributes, "touched").is_some())
        .collect();
    assert_eq!(touched, [true, false, true, false, false]);
}

#[test]
fn metric_points_are_selected_by_metric_name() {
    let p = processor(
        &format!("{INSERT}exclude:\n  match_type: regexp\n  metric_names: ['^internal\\.']\n"),
        Signal::Metrics,
    );
    let gauge = |name: &str| Metric {
        name: name.into(),
        data: Some(metric::Data::Gauge(Gauge {
            data_points: vec![NumberDataPoint::default(), NumberDataPoint::default()],
        })),
        ..Default::default()
    };
    let mut req = ExportMetricsServiceRequest {
        resource_metrics: vec![ResourceMetrics {
            scope_metrics: vec![ScopeMetrics {
                metrics: vec![gauge("http.requests"), gauge("internal.queue")],
                ..Default::default()
            }],
            ..Default::default()
        }],
    };
    p.process_metrics(&RequestContext::default(), &mut req).expect("runs");
    let touched: Vec<Vec<bool>> = req.resource_metrics[0].scope_metrics[0]
        .metrics
        .iter()
        .map(|m| match &m.data {
            Some(metric::Data::Gauge(g)) => {
                g.data_points.iter().map(|p| attrs::get(&p.attributes, "touched").is_some()).collect()
            }
            _ => Vec::new(),
        })
        .collect();
    assert_eq!(touched, [vec![true, true], vec![false, false]]);
}

fn context_processor() -> AttributesProcessor {
    processor(
        "actions:\n  - {key: tenant, action: upsert, from_context: metadata.x-tenant}\n  - {key: bare, action: insert, from_context: x-tenant}\n  - {key: user, action: upsert, from_context: auth.username}\n  - {key: peer, action: insert, from_context: client.address}\n  - {key: region, action: insert, from_context: metadata.x-region, default_value: unknown}\n",
        Signal::Traces,
    )
}

fn run_one(p: &AttributesProcessor, cx: &RequestContext) -> Vec<KeyValue> {
    let mut req = span_req("svc", "lib", vec![span("s", 1, vec![kv("user", "spoofed")])]);
    p.process_traces(cx, &mut req).expect("runs");
    spans_of(&req)[0].attributes.clone()
}

#[test]
fn from_context_reads_metadata_auth_and_the_client_address() {
    let mut headers = http::HeaderMap::new();
    headers.append("x-tenant", http::HeaderValue::from_static("acme"));
    headers.append("x-tenant", http::HeaderValue::from_static("globex"));
    let cx = RequestContext {
        metadata: Some(Arc::new(headers)),
        client_addr: Some("192.0.2.7:51234".parse().expect("addr")),
        auth: Some(Arc::new(AuthData::new(vec![("username".into(), "alice".into())]))),
    };
    let a = run_one(&context_processor(), &cx);
    assert_eq!(attrs::get_str(&a, "tenant"), Some("acme;globex"), "several values joined with ;");
    assert_eq!(attrs::get_str(&a, "bare"), Some("acme;globex"), "a key without prefix is metadata");
    assert_eq!(attrs::get_str(&a, "user"), Some("alice"), "the authenticated user wins over the span's");
    assert_eq!(attrs::get_str(&a, "peer"), Some("192.0.2.7"), "the IP without the port");
    assert_eq!(attrs::get_str(&a, "region"), Some("unknown"), "default_value when the header is absent");
}

#[test]
fn from_context_without_values_changes_nothing() {
    let a = run_one(&context_processor(), &RequestContext::default());
    assert_eq!(attrs::get(&a, "tenant"), None);
    assert_eq!(attrs::get_str(&a, "user"), Some("spoofed"), "no authenticated user: unchanged");
    assert_eq!(attrs::get_str(&a, "peer"), Some(""), "no address: empty, as clientutil.Address");
}

#[tokio::test]
async fn runs_in_a_pipeline() {
    let h = GraphHarness::new();
    let mut r = h.registry();
    r.processor(AttributesProcessorFactory).expect("register");
    let yaml = "receivers:\n  source:\nprocessors:\n  attributes/x:\n    actions:\n      - {key: db.statement, action: delete}\n      - {key: env, action: insert, value: prod}\nexporters:\n  sink:\nservice:\n  pipelines:\n    traces:\n      receivers: [source]\n      processors: [attributes/x]\n      exporters: [sink]\n";
    let _graph = h.build(&r, yaml).expect("builds");
    let out = h.source("source").traces.expect("traces pipeline");
    let input: Traces = span_req("svc", "lib", vec![span("q", 3, vec![kv("db.statement", "SELECT 1")])]).into();
    out.consume(&RequestContext::default(), input).await.expect("consumed");
    let sink = h.sink::<Traces>("sink").expect("sink");
    let batches = sink.batches();
    let a = &spans_of(batches[0].request())[0].attributes;
    assert_eq!(attrs::get(a, "db.statement"), None);
    assert_eq!(attrs::get_str(a, "env"), Some("prod"));
}
