use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::IntoResponse;
use prost::Message;
use switchyard_core::component::{ComponentConfig, ComponentId, ExporterFactory, Kind, Settings, Stability};
use switchyard_core::consumer::RequestContext;
use switchyard_core::exporterhelper::{ExportError, Sender};
use switchyard_core::telemetry::Telemetry;
use switchyard_pdata::proto::collector::logs::v1::ExportLogsServiceRequest;
use switchyard_pdata::proto::common::v1::any_value::Value;
use switchyard_pdata::proto::common::v1::{AnyValue, ArrayValue, InstrumentationScope, KeyValue, KeyValueList};
use switchyard_pdata::proto::logs::v1::{LogRecord, ResourceLogs, ScopeLogs};
use switchyard_pdata::proto::resource::v1::Resource;
use switchyard_pdata::value::double_string as go_json_float;
use switchyard_pdata::{Logs, Signal};

use super::config::{DefaultLabels, LokiExporterConfig, PushFormat};
use super::convert::{convert, normalize_label, severity_level, Converted};
use super::http::LokiSender;
use super::line::{self, go_g_float, parse_logfmt, LineFormat};
use super::push::{self, PushRequest};
use super::LokiExporterFactory;
use crate::exporters::parse_retry_after;

// ---------------------------------------------------------------------------------------
// Builders.

fn s(v: &str) -> AnyValue {
    AnyValue { value: Some(Value::StringValue(v.into())) }
}
fn int(v: i64) -> AnyValue {
    AnyValue { value: Some(Value::IntValue(v)) }
}
fn dbl(v: f64) -> AnyValue {
    AnyValue { value: Some(Value::DoubleValue(v)) }
}
fn boolean(v: bool) -> AnyValue {
    AnyValue { value: Some(Value::BoolValue(v)) }
}
fn bytes(v: &[u8]) -> AnyValue {
    AnyValue { value: Some(Value::BytesValue(v.to_vec())) }
}
fn arr(v: Vec<AnyValue>) -> AnyValue {
    AnyValue { value: Some(Value::ArrayValue(ArrayValue { values: v })) }
}
fn map(kvs: Vec<KeyValue>) -> AnyValue {
    AnyValue { value: Some(Value::KvlistValue(KeyValueList { values: kvs })) }
}
fn kv(k: &str, v: AnyValue) -> KeyValue {
    KeyValue { key: k.into(), value: Some(v), ..Default::default() }
}
fn empty(k: &str) -> KeyValue {
    KeyValue { key: k.into(), value: None, ..Default::default() }
}

fn record(attrs: Vec<KeyValue>) -> LogRecord {
    LogRecord { time_unix_nano: 1_677_592_916_000_000_000, attributes: attrs, ..Default::default() }
}

fn request(resources: Vec<(Vec<KeyValue>, Vec<LogRecord>)>) -> ExportLogsServiceRequest {
    ExportLogsServiceRequest {
        resource_logs: resources
            .into_iter()
            .map(|(attrs, records)| ResourceLogs {
                resource: Some(Resource { attributes: attrs, ..Default::default() }),
                scope_logs: vec![ScopeLogs { log_records: records, ..Default::default() }],
                ..Default::default()
            })
            .collect(),
    }
}

fn run(req: &ExportLogsServiceRequest) -> Converted {
    convert(req, DefaultLabels::default(), 42)
}

/// (tenant, labels, lines) of every stream.
fn streams(c: &Converted) -> Vec<(String, String, Vec<String>)> {
    c.batches
        .iter()
        .flat_map(|b| {
            b.streams
                .iter()
                .map(|s| (b.tenant.clone(), s.labels.clone(), s.entries.iter().map(|e| e.line.clone()).collect()))
        })
        .collect()
}

fn only_stream(c: &Converted) -> (String, Vec<String>) {
    let all = streams(c);
    assert_eq!(all.len(), 1, "{all:?}");
    let (_, labels, lines) = all.into_iter().next().expect("one stream");
    (labels, lines)
}

/// The Collector's encoder test record.
fn example() -> (LogRecord, Vec<KeyValue>, InstrumentationScope) {
    let mut trace = [0u8; 16];
    trace[..4].copy_from_slice(&[1, 2, 3, 4]);
    let mut span = [0u8; 8];
    span[..4].copy_from_slice(&[5, 6, 7, 8]);
    let lr = LogRecord {
        body: Some(s("Example log")),
        severity_text: "error".into(),
        attributes: vec![kv("attr1", s("1")), kv("attr2", s("2"))],
        trace_id: trace.to_vec(),
        span_id: span.to_vec(),
        ..Default::default()
    };
    let res = vec![kv("host.name", s("something"))];
    let scope = InstrumentationScope { name: "example-logger-name".into(), version: "v1".into(), ..Default::default() };
    (lr, res, scope)
}

fn encode(format: LineFormat, lr: &LogRecord, res: &[KeyValue], scope: Option<&InstrumentationScope>) -> String {
    line::encode(format, lr, &line::ResourceAttrs::new(res), scope, &|_| false)
}

// ---------------------------------------------------------------------------------------
// Labels.

#[test]
fn default_labels_come_from_the_service_attributes_and_the_severity() {
    let res = vec![
        kv("service.name", s("checkout")),
        kv("service.namespace", s("shop")),
        kv("service.instance.id", s("pod-7")),
    ];
    let mut lr = record(vec![kv("http.status", int(200))]);
    lr.severity_number = 9;
    let c = run(&request(vec![(res.clone(), vec![lr])]));
    let (labels, lines) = only_stream(&c);
    assert_eq!(labels, r#"{exporter="OTLP", instance="pod-7", job="shop/checkout", level="INFO"}"#);
    // The service attributes are not labels under their own names: they stay in the line.
    assert_eq!(
        lines,
        [
            r#"{"attributes":{"http.status":200},"resources":{"service.instance.id":"pod-7","service.name":"checkout","service.namespace":"shop"}}"#
        ]
    );

    // job without a namespace; no job with only a namespace.
    let c = run(&request(vec![(vec![kv("service.name", s("api"))], vec![record(vec![])])]));
    assert_eq!(only_stream(&c).0, r#"{exporter="OTLP", job="api"}"#);
    let c = run(&request(vec![(vec![kv("service.namespace", s("ns"))], vec![record(vec![])])]));
    assert_eq!(only_stream(&c).0, r#"{exporter="OTLP"}"#);
}

#[test]
fn default_labels_can_be_switched_off() {
    let res = vec![kv("service.name", s("api")), kv("service.instance.id", s("i-1"))];
    let mut lr = record(vec![]);
    lr.severity_number = 17;
    let req = request(vec![(res, vec![lr])]);

    let d = DefaultLabels { job: false, level: false, ..Default::default() };
    let (labels, _) = only_stream(&convert(&req, d, 0));
    assert_eq!(labels, r#"{exporter="OTLP", instance="i-1"}"#);

    let d = DefaultLabels { exporter: false, ..Default::default() };
    assert_eq!(only_stream(&convert(&req, d, 0)).0, r#"{instance="i-1", job="api", level="ERROR"}"#);

    // Nothing left: the record is dropped and counted.
    let none = DefaultLabels { exporter: false, job: false, instance: false, level: false };
    let c = convert(&req, none, 0);
    assert!(c.batches.is_empty());
    assert_eq!(c.dropped.no_labels, 1);

    // The config map: an absent key or true enables the label.
    let cfg: LokiExporterConfig =
        yaml("endpoint: http://loki:3100/loki/api/v1/push\ndefault_labels_enabled:\n  job: false\n  level: true\n");
    assert_eq!(cfg.default_labels(), DefaultLabels { exporter: true, job: false, instance: true, level: true });
}

#[test]
fn hints_promote_attributes_and_leave_the_line() {
    let res = vec![
        kv("host.name", s("guarana")),
        kv("region.az", s("eu-west-1a")),
        kv("k8s", map(vec![kv("pod", map(vec![kv("name", s("web-1"))]))])),
        kv("loki.resource.labels", s("host.name, k8s.pod.name")),
    ];
    let lr = record(vec![
        kv("http.method", s("GET")),
        kv("http.status", int(200)),
        kv("missing.too", s("x")),
        kv("loki.attribute.labels", s("http.method,not.there")),
        kv("loki.resource.labels", arr(vec![s("region.az")])),
    ]);
    let c = run(&request(vec![(res, vec![lr])]));
    let (labels, lines) = only_stream(&c);
    assert_eq!(
        labels,
        r#"{exporter="OTLP", host_name="guarana", http_method="GET", k8s_pod_name="web-1", region_az="eu-west-1a"}"#
    );
    // Promoted attributes and the hints are gone; the map `k8s` stays (only `k8s.pod.name`
    // was a label, and no attribute has that exact key).
    assert_eq!(
        lines,
        [r#"{"attributes":{"http.status":200,"missing.too":"x"},"resources":{"k8s":{"pod":{"name":"web-1"}}}}"#]
    );
}

#[test]
fn resource_hints_alone_leave_the_line_too() {
    let res = vec![
        kv("host.name", s("h1")),
        kv("os", s("linux")),
        kv("loki.resource.labels", s("host.name")),
        kv("loki.format", s("json")),
    ];
    let c = run(&request(vec![(res, vec![record(vec![kv("a", int(1))]), record(vec![])])]));
    let (labels, lines) = only_stream(&c);
    assert_eq!(labels, r#"{exporter="OTLP", host_name="h1"}"#);
    assert_eq!(lines, [r#"{"attributes":{"a":1},"resources":{"os":"linux"}}"#, r#"{"resources":{"os":"linux"}}"#]);
}

#[test]
fn a_later_rule_overrides_an_earlier_label_of_the_same_name() {
    // A resource attribute named `job` promoted by the hint replaces the default job.
    let res = vec![kv("service.name", s("api")), kv("job", s("custom")), kv("loki.resource.labels", s("job"))];
    let c = run(&request(vec![(res, vec![record(vec![])])]));
    assert_eq!(only_stream(&c).0, r#"{exporter="OTLP", job="custom"}"#);

    // Two names normalizing to the same label: the later one wins.
    let lr =
        record(vec![kv("a.b", s("dotted")), kv("a_b", s("underscored")), kv("loki.attribute.labels", s("a.b,a_b"))]);
    let c = run(&request(vec![(vec![], vec![lr])]));
    assert_eq!(only_stream(&c).0, r#"{a_b="underscored", exporter="OTLP"}"#);
}

#[test]
fn non_string_values_become_label_text() {
    let lr = record(vec![
        kv("code", int(503)),
        kv("ratio", dbl(0.25)),
        kv("ok", boolean(false)),
        kv("tags", arr(vec![s("a"), int(1)])),
        kv("loki.attribute.labels", s("code,ratio,ok,tags")),
    ]);
    let c = run(&request(vec![(vec![], vec![lr])]));
    assert_eq!(only_stream(&c).0, r#"{code="503", exporter="OTLP", ok="false", ratio="0.25", tags="[\"a\",1]"}"#);
}

#[test]
fn level_follows_the_severity_number_unless_the_record_has_one() {
    let mk = |number: i32, attrs: Vec<KeyValue>| {
        let mut lr = record(attrs);
        lr.severity_number = number;
        lr.severity_text = "whatever".into();
        lr
    };
    let one = |lr: LogRecord, d: DefaultLabels| only_stream(&convert(&request(vec![(vec![], vec![lr])]), d, 0));
    let d = DefaultLabels::default();

    assert_eq!(one(mk(14, vec![]), d).0, r#"{exporter="OTLP", level="WARN2"}"#);
    assert_eq!(one(mk(24, vec![]), d).0, r#"{exporter="OTLP", level="FATAL4"}"#);
    // No severity number: no level label (the severity text is not used).
    assert_eq!(one(mk(0, vec![]), d).0, r#"{exporter="OTLP"}"#);
    // A `level` attribute wins and leaves the line.
    let (labels, lines) = one(mk(5, vec![kv("level", s("dummy"))]), d);
    assert_eq!(labels, r#"{exporter="OTLP", level="dummy"}"#);
    assert_eq!(lines, [r#"{"severity":"whatever"}"#]);
    // Level off: the attribute stays in the line.
    let off = DefaultLabels { level: false, ..d };
    let (labels, lines) = one(mk(5, vec![kv("level", s("dummy"))]), off);
    assert_eq!(labels, r#"{exporter="OTLP"}"#);
    assert_eq!(lines, [r#"{"severity":"whatever","attributes":{"level":"dummy"}}"#]);
    // Hinted explicitly, `level` is a label whatever the severity.
    let (labels, _) = one(mk(0, vec![kv("level", s("x")), kv("loki.attribute.labels", s("level"))]), d);
    assert_eq!(labels, r#"{exporter="OTLP", level="x"}"#);

    assert_eq!(severity_level(1), Some("TRACE"));
    assert_eq!(severity_level(9), Some("INFO"));
    assert_eq!(severity_level(0), None);
    assert_eq!(severity_level(25), None);
    assert_eq!(severity_level(-3), None);
}

#[test]
fn label_names_are_normalized_like_prometheus_labels() {
    assert_eq!(normalize_label("host.name").as_deref(), Some("host_name"));
    assert_eq!(normalize_label("k8s-pod/name").as_deref(), Some("k8s_pod_name"));
    assert_eq!(normalize_label("0abc").as_deref(), Some("key_0abc"));
    assert_eq!(normalize_label("_hidden").as_deref(), Some("key_hidden"));
    assert_eq!(normalize_label("__kept").as_deref(), None);
    assert_eq!(normalize_label("already_ok1").as_deref(), None);
    assert_eq!(normalize_label("héllo").as_deref(), Some("h_llo"));
}

#[test]
fn label_values_are_escaped_and_names_sorted() {
    let lr = record(vec![
        kv("zeta", s("last")),
        kv("alpha", s("say \"hi\"\\ now\nand\tthen")),
        kv("empty", s("")),
        kv("loki.attribute.labels", s("zeta,alpha,empty")),
    ]);
    let c = run(&request(vec![(vec![], vec![lr])]));
    let (labels, lines) = only_stream(&c);
    // An empty value is no label (Loki ignores it) but still leaves the line.
    assert_eq!(labels, r#"{alpha="say \"hi\"\\ now\nand\tthen", exporter="OTLP", zeta="last"}"#);
    assert_eq!(lines, ["{}"]);
}

#[test]
fn a_nested_lookup_with_many_dots_is_bounded() {
    let name = vec!["a"; 200].join(".");
    let lr = record(vec![kv("loki.attribute.labels", s(&name)), kv("a", map(vec![kv("a", s("x"))]))]);
    let c = run(&request(vec![(vec![], vec![lr])]));
    assert_eq!(only_stream(&c).0, r#"{exporter="OTLP"}"#);

    let lr = record(vec![kv("loki.attribute.labels", s("a.a")), kv("a", map(vec![kv("a", s("x"))]))]);
    let c = run(&request(vec![(vec![], vec![lr])]));
    assert_eq!(only_stream(&c).0, r#"{a_a="x", exporter="OTLP"}"#);
}

// ---------------------------------------------------------------------------------------
// Lines.

#[test]
fn json_line_as_the_collector_writes_it() {
    let (lr, res, scope) = example();
    assert_eq!(
        encode(LineFormat::Json, &lr, &res, Some(&scope)),
        r#"{"body":"Example log","traceid":"01020304000000000000000000000000","spanid":"0506070800000000","severity":"error","attributes":{"attr1":"1","attr2":"2"},"resources":{"host.name":"something"},"instrumentation_scope":{"name":"example-logger-name","version":"v1"}}"#
    );

    let mut lr = lr;
    lr.body = Some(map(vec![kv("key2", s("value")), kv("key1", s("value"))]));
    lr.flags = 1;
    lr.attributes = vec![kv("b", s("2")), kv("a", s("<&>")), kv("b", s("dup-last"))];
    let scope = InstrumentationScope { name: "x".into(), ..Default::default() };
    assert_eq!(
        encode(LineFormat::Json, &lr, &[], Some(&scope)),
        r#"{"body":{"key1":"value","key2":"value"},"traceid":"01020304000000000000000000000000","spanid":"0506070800000000","severity":"error","flags":1,"attributes":{"a":"\u003c\u0026\u003e","b":"dup-last"},"instrumentation_scope":{"name":"x"}}"#
    );
}

#[test]
fn json_values_as_go_marshals_them() {
    let complex = map(vec![
        kv("keystr", s("val")),
        kv("keyint", dbl(1.0)),
        kv("keybool", boolean(true)),
        empty("keynull"),
        kv("keyarr", arr(vec![s("a"), s("b")])),
        kv("keymap", map(vec![kv("key", s("val"))])),
        kv("keyempty", AnyValue { value: None }),
    ]);
    let body = |v: AnyValue| {
        let lr = LogRecord { body: Some(v), ..Default::default() };
        encode(LineFormat::Json, &lr, &[], None)
    };
    assert_eq!(
        body(complex),
        r#"{"body":{"keyarr":["a","b"],"keybool":true,"keyempty":null,"keyint":1,"keymap":{"key":"val"},"keynull":null,"keystr":"val"}}"#
    );
    assert_eq!(body(bytes(b"abc")), r#"{"body":"YWJj"}"#);
    assert_eq!(body(dbl(1.1)), r#"{"body":1.1}"#);
    assert_eq!(body(dbl(f64::NAN)), r#"{"body":null}"#);
    assert_eq!(body(AnyValue { value: None }), "{}");
    assert_eq!(body(s("tab\there \u{1} \u{2028}")), r#"{"body":"tab\there \u0001 \u2028"}"#);

    assert_eq!(go_json_float(1.0), "1");
    assert_eq!(go_json_float(-0.5), "-0.5");
    assert_eq!(go_json_float(1e20), "100000000000000000000");
    assert_eq!(go_json_float(1e21), "1e+21");
    assert_eq!(go_json_float(1.5e-7), "1.5e-7");
    assert_eq!(go_json_float(0.000001), "0.000001");
    assert_eq!(go_g_float(1e6), "1e+06");
    assert_eq!(go_g_float(123456.0), "123456");
    assert_eq!(go_g_float(-1234567.0), "-1.234567e+06");
    assert_eq!(go_g_float(0.0001), "0.0001");
    assert_eq!(go_g_float(0.00001), "1e-05");
    assert_eq!(go_g_float(1.1), "1.1");
    assert_eq!(go_g_float(f64::INFINITY), "+Inf");
}

#[test]
fn logfmt_line_as_the_collector_writes_it() {
    let (mut lr, res, scope) = example();
    let tail = "traceID=01020304000000000000000000000000 spanID=0506070800000000 severity=error attribute_attr1=1 attribute_attr2=2 resource_host.name=something instrumentation_scope_name=example-logger-name instrumentation_scope_version=v1";

    lr.body = Some(s("msg=\"hello world\""));
    assert_eq!(encode(LineFormat::Logfmt, &lr, &res, Some(&scope)), format!("msg=\"hello world\" {tail}"));

    // Plain text parses as logfmt keys without values, as with go-logfmt.
    lr.body = Some(s("Example log"));
    assert_eq!(encode(LineFormat::Logfmt, &lr, &res, Some(&scope)), format!("Example= log= {tail}"));

    // Not logfmt: msg=, quoted.
    lr.body = Some(s("a \"quoted\" = thing"));
    assert_eq!(encode(LineFormat::Logfmt, &lr, &res, Some(&scope)), format!("msg=\"a \\\"quoted\\\" = thing\" {tail}"));
    lr.body = Some(s("line one\nline two"));
    assert_eq!(encode(LineFormat::Logfmt, &lr, &res, Some(&scope)), format!("msg=\"line one\\nline two\" {tail}"));

    lr.body = Some(map(vec![kv("key1", s("value")), kv("key2", s("value"))]));
    assert_eq!(encode(LineFormat::Logfmt, &lr, &res, Some(&scope)), format!("key1=value key2=value {tail}"));

    lr.body = Some(arr(vec![s("value"), boolean(true), int(123)]));
    assert_eq!(
        encode(LineFormat::Logfmt, &lr, &res, Some(&scope)),
        format!("body_0=value body_1=true body_2=123 {tail}")
    );

    // A body key named like a record field is replaced by it.
    lr.body = Some(map(vec![kv("severity", s("low")), kv("k", s("null"))]));
    lr.flags = 1;
    assert_eq!(
        encode(LineFormat::Logfmt, &lr, &[], None),
        "severity=error k=\"null\" traceID=01020304000000000000000000000000 spanID=0506070800000000 flags=1 attribute_attr1=1 attribute_attr2=2"
    );
}

#[test]
fn logfmt_flattens_maps_and_slices_and_prints_scalars() {
    let (mut lr, mut res, scope) = example();
    let slice = arr(vec![
        s("fooo"),
        map(vec![kv("slice", arr(vec![boolean(true)])), kv("foo", s("bar"))]),
        map(vec![kv("nested", s("deeply nested")), kv("uint", int(123))]),
    ]);
    lr.attributes.push(kv("aslice", slice.clone()));
    res.push(kv("bslice", slice));
    assert_eq!(
        encode(LineFormat::Logfmt, &lr, &res, Some(&scope)),
        "Example= log= traceID=01020304000000000000000000000000 spanID=0506070800000000 severity=error attribute_attr1=1 attribute_attr2=2 attribute_aslice_0=fooo attribute_aslice_1_slice_0=true attribute_aslice_1_foo=bar attribute_aslice_2_nested=\"deeply nested\" attribute_aslice_2_uint=123 resource_host.name=something resource_bslice_0=fooo resource_bslice_1_slice_0=true resource_bslice_1_foo=bar resource_bslice_2_nested=\"deeply nested\" resource_bslice_2_uint=123 instrumentation_scope_name=example-logger-name instrumentation_scope_version=v1"
    );

    let body = |v: AnyValue| {
        let lr = LogRecord { body: Some(v), ..Default::default() };
        encode(LineFormat::Logfmt, &lr, &[], None)
    };
    assert_eq!(body(s("a")), "a=");
    assert_eq!(body(int(1)), "msg=1");
    assert_eq!(body(dbl(1.1)), "msg=1.1");
    assert_eq!(body(dbl(2e6)), "msg=2e+06");
    assert_eq!(body(boolean(true)), "msg=true");
    assert_eq!(body(bytes(b"abc")), "msg=abc");
    assert_eq!(body(AnyValue { value: None }), "");
}

#[test]
fn logfmt_parsing_follows_go_logfmt() {
    let p = |s: &str| parse_logfmt(s).map(|v| v.into_iter().map(|(k, v)| format!("{k}:{v}")).collect::<Vec<_>>());
    assert_eq!(p("a=1 b=\"x y\" c  d="), Some(vec!["a:1".into(), "b:x y".into(), "c:".into(), "d:".into()]));
    assert_eq!(p("q=\"esc \\\"aped\\\" \\u00e9\""), Some(vec!["q:esc \"aped\" é".into()]));
    assert_eq!(p(""), Some(vec![]));
    assert_eq!(p("=x"), None);
    assert_eq!(p("a\"b"), None);
    assert_eq!(p("a=\"open"), None);
    assert_eq!(p("a=b=c"), None);
    assert_eq!(p("a=\"bad \\x escape\""), None);
}

#[test]
fn raw_line_is_the_body_as_a_string() {
    let body = |v: AnyValue| {
        let lr = LogRecord { body: Some(v), attributes: vec![kv("a", s("b"))], ..Default::default() };
        encode(LineFormat::Raw, &lr, &[kv("r", s("x"))], None)
    };
    assert_eq!(body(s("GET /index.html 200")), "GET /index.html 200");
    assert_eq!(body(map(vec![kv("b", int(2)), kv("a", s("x"))])), r#"{"a":"x","b":2}"#);
    assert_eq!(body(int(5)), "5");
    assert_eq!(body(bytes(b"abc")), "YWJj");
    let lr = LogRecord::default();
    assert_eq!(encode(LineFormat::Raw, &lr, &[], None), "");
}

#[test]
fn format_hint_on_resource_wins_and_a_bad_one_drops_the_record() {
    let lr = |fmt: Option<&str>| {
        let mut attrs = vec![kv("k", s("v"))];
        if let Some(f) = fmt {
            attrs.push(kv("loki.format", s(f)));
        }
        LogRecord { body: Some(s("hello")), ..record(attrs) }
    };
    let c = run(&request(vec![(vec![], vec![lr(Some("logfmt"))])]));
    assert_eq!(only_stream(&c).1, ["hello= attribute_k=v"]);
    let c = run(&request(vec![(vec![kv("loki.format", s("raw"))], vec![lr(Some("logfmt"))])]));
    assert_eq!(only_stream(&c).1, ["hello"]);

    let c = run(&request(vec![(vec![], vec![lr(Some("xml")), lr(None)])]));
    assert_eq!(c.dropped.invalid_format, 1);
    assert_eq!(only_stream(&c).1, [r#"{"body":"hello","attributes":{"k":"v"}}"#]);
}

// ---------------------------------------------------------------------------------------
// Grouping.

#[test]
fn records_are_grouped_by_tenant() {
    let status = || kv("http.status", int(200));
    let req = request(vec![
        // Tenant from record attributes.
        (
            vec![],
            vec![
                record(vec![kv("loki.tenant", s("tenant.id")), kv("tenant.id", s("1")), status()]),
                record(vec![kv("loki.tenant", s("tenant.id")), kv("tenant.id", s("2")), status()]),
            ],
        ),
        // Tenant from the resource, which wins over the record's hint and value.
        (
            vec![kv("loki.tenant", s("tenant.id")), kv("tenant.id", s("1"))],
            vec![record(vec![kv("loki.tenant", s("tenant.id")), kv("tenant.id", s("31")), status()])],
        ),
        // The named attribute is missing: no tenant.
        (vec![], vec![record(vec![kv("loki.tenant", s("tenant.id")), status()])]),
    ]);
    let c = run(&req);
    let tenants: Vec<&str> = c.batches.iter().map(|b| b.tenant.as_str()).collect();
    assert_eq!(tenants, ["1", "2", ""]);
    let all = streams(&c);
    assert_eq!(all.len(), 3, "{all:?}");
    // The tenant is not a label; its attribute stays in the line, the hint does not.
    assert_eq!(
        all[0],
        (
            "1".to_string(),
            r#"{exporter="OTLP"}"#.to_string(),
            vec![
                r#"{"attributes":{"http.status":200,"tenant.id":"1"}}"#.to_string(),
                r#"{"attributes":{"http.status":200,"tenant.id":"31"},"resources":{"tenant.id":"1"}}"#.to_string()
            ]
        )
    );
    assert_eq!(all[1].0, "2");
    assert_eq!(
        all[2],
        ("".to_string(), r#"{exporter="OTLP"}"#.to_string(), vec![r#"{"attributes":{"http.status":200}}"#.to_string()])
    );

    // A tenant that cannot be a header value is dropped.
    let bad = request(vec![(vec![], vec![record(vec![kv("loki.tenant", s("t")), kv("t", s("a\nb"))])])]);
    let c = run(&bad);
    assert!(c.batches.is_empty());
    assert_eq!(c.dropped.invalid_tenant, 1);
}

#[test]
fn entries_are_sorted_by_time_within_each_stream() {
    let at = |t: u64, observed: u64, body: &str| LogRecord {
        time_unix_nano: t,
        observed_time_unix_nano: observed,
        body: Some(s(body)),
        attributes: vec![kv("loki.format", s("raw"))],
        ..Default::default()
    };
    let req = request(vec![(
        vec![],
        vec![
            at(30, 0, "c"),
            at(10, 0, "a"),
            at(0, 20, "b (observed time)"),
            at(10, 0, "a2 (same time, after a)"),
            at(0, 0, "d (now)"),
        ],
    )]);
    let c = convert(&req, DefaultLabels::default(), 99);
    let entries = &c.batches[0].streams[0].entries;
    let got: Vec<(u64, &str)> = entries.iter().map(|e| (e.ts, e.line.as_str())).collect();
    assert_eq!(
        got,
        [(10, "a"), (10, "a2 (same time, after a)"), (20, "b (observed time)"), (30, "c"), (99, "d (now)")]
    );
}

#[test]
fn streams_gather_records_with_the_same_labels() {
    let lr = |app: &str| record(vec![kv("app", s(app)), kv("loki.attribute.labels", s("app"))]);
    let req = request(vec![(vec![], vec![lr("a"), lr("b"), lr("a")]), (vec![], vec![lr("b")])]);
    let c = run(&req);
    let got: Vec<(String, usize)> = c.batches[0].streams.iter().map(|s| (s.labels.clone(), s.entries.len())).collect();
    assert_eq!(
        got,
        [(r#"{app="a", exporter="OTLP"}"#.to_string(), 2), (r#"{app="b", exporter="OTLP"}"#.to_string(), 2)]
    );
    assert_eq!(
        c.batches[0].streams[0].pairs,
        [("app".to_string(), "a".to_string()), ("exporter".into(), "OTLP".into())]
    );
}

// ---------------------------------------------------------------------------------------
// Wire.

fn two_streams() -> super::convert::TenantBatch {
    let lr = |app: &str, t: u64| LogRecord {
        time_unix_nano: t,
        body: Some(s(&format!("line {app} {t}"))),
        attributes: vec![kv("app", s(app)), kv("loki.attribute.labels", s("app")), kv("loki.format", s("raw"))],
        ..Default::default()
    };
    let req = request(vec![(vec![], vec![lr("a", 1_500_000_000_123), lr("b", 7), lr("a", 1_000_000_000)])]);
    let mut c = run(&req);
    c.batches.remove(0)
}

#[test]
fn protobuf_body_is_a_snappy_compressed_push_request() {
    let body = push::encode_proto(two_streams()).expect("encode");
    let raw = snap::raw::Decoder::new().decompress_vec(&body).expect("snappy block format");
    let req = PushRequest::decode(raw.as_slice()).expect("PushRequest");
    assert_eq!(req.streams.len(), 2);
    let a = &req.streams[0];
    assert_eq!(a.labels, r#"{app="a", exporter="OTLP"}"#);
    assert_eq!(a.hash, 0);
    let entries: Vec<(i64, i32, &str)> = a
        .entries
        .iter()
        .map(|e| {
            let ts = e.timestamp.expect("timestamp");
            (ts.seconds, ts.nanos, e.line.as_str())
        })
        .collect();
    assert_eq!(entries, [(1, 0, "line a 1000000000"), (1500, 123, "line a 1500000000123")]);
    assert_eq!(req.streams[1].labels, r#"{app="b", exporter="OTLP"}"#);
    assert_eq!(req.streams[1].entries[0].timestamp.map(|t| (t.seconds, t.nanos)), Some((0, 7)));
}

#[test]
fn json_body_has_loki_push_shape() {
    let body = push::encode_json(&two_streams());
    let v: serde_json::Value = serde_json::from_slice(&body).expect("json");
    assert_eq!(
        v,
        serde_json::json!({"streams": [
            {"stream": {"app": "a", "exporter": "OTLP"}, "values": [
                ["1000000000", "line a 1000000000"],
                ["1500000000123", "line a 1500000000123"]
            ]},
            {"stream": {"app": "b", "exporter": "OTLP"}, "values": [["7", "line b 7"]]}
        ]})
    );
}

// ---------------------------------------------------------------------------------------
// Config and factory.

fn yaml(text: &str) -> LokiExporterConfig {
    switchyard_core::config::from_node(&switchyard_core::config::parse("t.yaml", text).expect("yaml"), "loki")
        .expect("config")
}

fn errors(cfg: &LokiExporterConfig) -> Vec<String> {
    cfg.validate().into_iter().map(|e| format!("{}: {}", e.field, e.message)).collect()
}

#[test]
fn config_defaults_and_validation() {
    let cfg = yaml("endpoint: http://loki:3100/loki/api/v1/push\n");
    assert_eq!(cfg.timeout, Duration::from_secs(30));
    assert_eq!(cfg.format, PushFormat::Protobuf);
    assert!(errors(&cfg).is_empty(), "{:?}", errors(&cfg));

    let cfg = yaml(
        "endpoint: https://logs.example.com/loki/api/v1/push\nformat: json\ncompression: gzip\nheaders:\n  X-Scope-OrgID: acme\ntimeout: 5s\nsending_queue:\n  queue_size: 10\nretry_on_failure:\n  enabled: false\nwrite_buffer_size: 524288\ntls:\n  insecure_skip_verify: true\n",
    );
    assert_eq!(cfg.format, PushFormat::Json);
    assert!(errors(&cfg).is_empty(), "{:?}", errors(&cfg));

    let e = errors(&LokiExporterConfig::default());
    assert!(e.iter().any(|e| e.starts_with("endpoint: ")), "{e:?}");

    let cfg = yaml("endpoint: loki:3100\ncompression: zstd\ndefault_labels_enabled:\n  levels: false\n");
    let e = errors(&cfg);
    assert_eq!(e.len(), 3, "{e:?}");
    assert!(e[0].starts_with("endpoint: invalid URL"), "{e:?}");
    assert!(e[1].starts_with("default_labels_enabled::levels: unknown default label"), "{e:?}");
    assert!(e[2].starts_with("compression: unsupported"), "{e:?}");

    let bad = switchyard_core::config::from_node::<LokiExporterConfig>(
        &switchyard_core::config::parse("t.yaml", "endpoint: http://x\nformat: xml\n").expect("yaml"),
        "loki",
    );
    assert!(bad.is_err());
    let bad = switchyard_core::config::from_node::<LokiExporterConfig>(
        &switchyard_core::config::parse("t.yaml", "endpoint: http://x\nlabels: {}\n").expect("yaml"),
        "loki",
    );
    assert!(bad.is_err(), "unknown fields are refused");
}

fn settings() -> Settings {
    Settings { id: ComponentId::new("loki"), kind: Kind::Exporter, telemetry: Telemetry::default() }
}

#[test]
fn factory_takes_logs_only() {
    let f = LokiExporterFactory;
    assert_eq!(f.component_type(), "loki");
    assert_eq!(f.stability(Signal::Logs), Some(Stability::Deprecated));
    assert_eq!(f.stability(Signal::Traces), None);
    assert_eq!(f.stability(Signal::Metrics), None);
    assert_eq!(f.stability(Signal::Profiles), None);
    let cfg = yaml("endpoint: http://127.0.0.1:1/loki/api/v1/push\n");
    assert!(f.create(settings(), &cfg, Signal::Traces).is_err());
    assert!(f.create(settings(), &cfg, Signal::Logs).is_ok());
}

// ---------------------------------------------------------------------------------------
// Sender against a local HTTP server.

#[derive(Clone, Default)]
struct Seen(Arc<Mutex<Vec<(HeaderMap, Bytes)>>>);

struct Reply {
    status: StatusCode,
    headers: Vec<(&'static str, &'static str)>,
    body: &'static str,
}

async fn serve(reply: Reply) -> (String, Seen) {
    let seen = Seen::default();
    let reply = Arc::new(reply);
    let app = axum::Router::new()
        .route(
            "/loki/api/v1/push",
            axum::routing::post(
                |State((seen, reply)): State<(Seen, Arc<Reply>)>, headers: HeaderMap, body: Bytes| async move {
                    seen.0.lock().expect("lock").push((headers, body));
                    let mut h = HeaderMap::new();
                    for (k, v) in &reply.headers {
                        h.insert(*k, v.parse().expect("header"));
                    }
                    (reply.status, h, reply.body).into_response()
                },
            ),
        )
        .with_state((seen.clone(), reply));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    (format!("http://{addr}/loki/api/v1/push"), seen)
}

fn sender(url: &str, extra: &str) -> LokiSender {
    let cfg = yaml(&format!("endpoint: {url}\n{extra}"));
    assert!(cfg.validate().is_empty());
    let client = super::http::client(&cfg).expect("client");
    LokiSender::new(ComponentId::new("loki"), &Telemetry::default(), client, &cfg).expect("sender")
}

fn logs() -> Logs {
    let lr = |tenant: &str| LogRecord {
        body: Some(s("hello")),
        severity_number: 9,
        ..record(vec![kv("loki.tenant", s("t")), kv("t", s(tenant))])
    };
    Logs::from(request(vec![(vec![kv("service.name", s("api"))], vec![lr("acme"), lr("globex"), lr("acme")])]))
}

#[tokio::test]
async fn sends_one_protobuf_request_per_tenant() {
    let (url, seen) = serve(Reply { status: StatusCode::NO_CONTENT, headers: vec![], body: "" }).await;
    let sender = sender(&url, "headers:\n  X-Scope-OrgID: static\n  X-Extra: yes\n");
    sender.send(&RequestContext::default(), &logs()).await.expect("sent");
    let seen = seen.0.lock().expect("lock").clone();
    assert_eq!(seen.len(), 2);
    let mut tenants = Vec::new();
    for (headers, body) in &seen {
        assert_eq!(headers.get("content-type").and_then(|v| v.to_str().ok()), Some("application/x-protobuf"));
        assert!(headers.get("content-encoding").is_none());
        assert_eq!(headers.get("x-extra").and_then(|v| v.to_str().ok()), Some("yes"));
        tenants.push(headers.get("x-scope-orgid").and_then(|v| v.to_str().ok()).unwrap_or_default().to_string());
        let raw = snap::raw::Decoder::new().decompress_vec(body).expect("snappy");
        let req = PushRequest::decode(raw.as_slice()).expect("push request");
        assert_eq!(req.streams.len(), 1);
        assert_eq!(req.streams[0].labels, r#"{exporter="OTLP", job="api", level="INFO"}"#);
        assert_eq!(
            req.streams[0].entries[0].line,
            r#"{"body":"hello","attributes":{"t":"acme"},"resources":{"service.name":"api"}}"#
                .replace("acme", if tenants.len() == 1 { "acme" } else { "globex" })
        );
    }
    // The tenant hint replaces a static X-Scope-OrgID header.
    assert_eq!(tenants, ["acme", "globex"]);
    assert_eq!(seen[0].0.get_all("x-scope-orgid").iter().count(), 1);
}

#[tokio::test]
async fn sends_json_with_gzip_when_asked() {
    let (url, seen) = serve(Reply { status: StatusCode::NO_CONTENT, headers: vec![], body: "" }).await;
    let sender = sender(&url, "format: json\ncompression: gzip\n");
    let data = Logs::from(request(vec![(vec![], vec![LogRecord { body: Some(s("hi")), ..record(vec![]) }])]));
    sender.send(&RequestContext::default(), &data).await.expect("sent");
    let seen = seen.0.lock().expect("lock").clone();
    let (headers, body) = &seen[0];
    assert_eq!(headers.get("content-type").and_then(|v| v.to_str().ok()), Some("application/json"));
    assert_eq!(headers.get("content-encoding").and_then(|v| v.to_str().ok()), Some("gzip"));
    assert!(headers.get("x-scope-orgid").is_none());
    let mut json = Vec::new();
    std::io::Read::read_to_end(&mut flate2::read::GzDecoder::new(&body[..]), &mut json).expect("gunzip");
    let v: serde_json::Value = serde_json::from_slice(&json).expect("json");
    assert_eq!(
        v,
        serde_json::json!({"streams": [{"stream": {"exporter": "OTLP"}, "values": [["1677592916000000000", "{\"body\":\"hi\"}"]]}]})
    );
}

#[tokio::test]
async fn answers_are_classified() {
    let data = logs();
    let cx = RequestContext::default();

    let (url, _) = serve(Reply {
        status: StatusCode::BAD_REQUEST,
        headers: vec![],
        body: "entry for stream '{job=\"api\"}' has timestamp too old\n",
    })
    .await;
    match sender(&url, "").send(&cx, &data).await {
        Err(ExportError::Permanent { message }) => {
            assert!(message.contains("HTTP Status Code 400"), "{message}");
            assert!(message.contains("timestamp too old"), "{message}");
            assert!(message.contains("tenant \"acme\""), "{message}");
        }
        other => panic!("expected a permanent error, got {other:?}"),
    }

    let (url, seen) =
        serve(Reply { status: StatusCode::SERVICE_UNAVAILABLE, headers: vec![("retry-after", "7")], body: "busy" })
            .await;
    match sender(&url, "").send(&cx, &data).await {
        Err(ExportError::Retryable { message, throttle }) => {
            assert!(message.contains("503"), "{message}");
            assert_eq!(throttle, Some(Duration::from_secs(7)));
        }
        other => panic!("expected a retryable error, got {other:?}"),
    }
    // The first tenant's failure stops the batch.
    assert_eq!(seen.0.lock().expect("lock").len(), 1);

    let (url, _) = serve(Reply { status: StatusCode::TOO_MANY_REQUESTS, headers: vec![], body: "" }).await;
    assert!(matches!(sender(&url, "").send(&cx, &data).await, Err(ExportError::Retryable { throttle: None, .. })));

    let (url, _) = serve(Reply { status: StatusCode::INTERNAL_SERVER_ERROR, headers: vec![], body: "" }).await;
    assert!(matches!(sender(&url, "").send(&cx, &data).await, Err(ExportError::Retryable { .. })));

    let (url, _) =
        serve(Reply { status: StatusCode::FOUND, headers: vec![("location", "http://elsewhere/")], body: "" }).await;
    assert!(matches!(sender(&url, "").send(&cx, &data).await, Err(ExportError::Permanent { .. })));

    // Nothing listening: retryable.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = listener.local_addr().expect("addr").port();
    drop(listener);
    let url = format!("http://127.0.0.1:{port}/loki/api/v1/push");
    match sender(&url, "").send(&cx, &data).await {
        Err(ExportError::Retryable { message, .. }) => {
            assert!(message.contains("failed to make an HTTP request"), "{message}")
        }
        other => panic!("expected a retryable error, got {other:?}"),
    }
}

#[tokio::test]
async fn a_batch_with_nothing_to_send_is_a_permanent_error() {
    let (url, seen) = serve(Reply { status: StatusCode::NO_CONTENT, headers: vec![], body: "" }).await;
    let sender =
        sender(&url, "default_labels_enabled:\n  exporter: false\n  job: false\n  instance: false\n  level: false\n");
    let data = Logs::from(request(vec![(vec![], vec![record(vec![])])]));
    match sender.send(&RequestContext::default(), &data).await {
        Err(ExportError::Permanent { message }) => assert!(message.contains("1 without any label"), "{message}"),
        other => panic!("expected a permanent error, got {other:?}"),
    }
    // An empty batch is no request at all.
    sender.send(&RequestContext::default(), &Logs::default()).await.expect("nothing to do");
    assert!(seen.0.lock().expect("lock").is_empty());
}

#[test]
fn retry_after_seconds_and_dates() {
    assert_eq!(parse_retry_after("7"), Some(Duration::from_secs(7)));
    assert_eq!(parse_retry_after("Sun, 06 Nov 1994 08:49:37 GMT"), Some(Duration::ZERO));
    assert_eq!(parse_retry_after("soon"), None);
}

#[tokio::test]
async fn records_left_out_are_counted_when_the_rest_is_sent() {
    let (url, seen) = serve(Reply { status: StatusCode::NO_CONTENT, headers: vec![], body: "" }).await;
    let cfg = yaml(&format!("endpoint: {url}\n"));
    let telemetry = Telemetry::default();
    let id = ComponentId::new("loki");
    let sender = LokiSender::new(id, &telemetry, super::http::client(&cfg).expect("client"), &cfg).expect("sender");
    let data = Logs::from(request(vec![(
        vec![],
        vec![
            record(vec![kv("loki.format", s("yaml"))]),
            record(vec![kv("loki.tenant", s("t")), kv("t", s("bad\u{1}tenant"))]),
            record(vec![]),
        ],
    )]));
    sender.send(&RequestContext::default(), &data).await.expect("sent");
    assert_eq!(seen.0.lock().expect("lock").len(), 1);
    let counter = |reason: &str| {
        telemetry
            .metrics
            .counter(
                "switchyard_exporter_dropped_log_records",
                "Items the exporter dropped, by reason.",
                &[("exporter", "loki"), ("reason", reason)],
            )
            .get()
    };
    assert_eq!((counter("invalid_format"), counter("invalid_tenant"), counter("no_labels")), (1, 1, 0));
}
