//! Runs `shared/conformance/attributes-cases.yaml` (upstream attraction and attributes
//! processor tests) in place: each case's actions and `include`/`exclude` through the real
//! config decoder, every check's attributes as a span (and, for cases without
//! `include`/`exclude`, also as a log record, a data point and a resource through the
//! `resource` processor), then the expected attributes. `config_checks` go through
//! `validate()`. Skip reasons and the pass count are printed (`--nocapture`).
#![allow(clippy::print_stdout)]

use switchyard_core::component::{ComponentConfig, FieldError};
use switchyard_core::config::{self, Node, Value};
use switchyard_core::consumer::RequestContext;
use switchyard_core::processorhelper::SignalProcessor;
use switchyard_pdata::proto::collector::logs::v1::ExportLogsServiceRequest;
use switchyard_pdata::proto::collector::metrics::v1::ExportMetricsServiceRequest;
use switchyard_pdata::proto::collector::trace::v1::ExportTraceServiceRequest;
use switchyard_pdata::proto::common::v1::{any_value, AnyValue, KeyValue};
use switchyard_pdata::proto::logs::v1::{LogRecord, ResourceLogs, ScopeLogs};
use switchyard_pdata::proto::metrics::v1::{metric, Gauge, Metric, NumberDataPoint, ResourceMetrics, ScopeMetrics};
use switchyard_pdata::proto::resource::v1::Resource;
use switchyard_pdata::proto::trace::v1::{ResourceSpans, ScopeSpans, Span};
use switchyard_pdata::Signal;

use super::super::{AttributesProcessor, AttributesProcessorConfig};
use crate::filterconfig::json_to_any;
use crate::processors::resource::{ResourceProcessor, ResourceProcessorConfig};

const CASES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared/conformance/attributes-cases.yaml");

/// Cases that cannot pass, with the reason printed when skipped.
const SKIPS: &[(&str, &str)] = &[];

/// Every case of the file today; fewer passing means a regression.
const MIN_PASSED: usize = 14;

fn kv(key: &str, value: AnyValue) -> KeyValue {
    KeyValue { key: key.into(), value: Some(value), ..Default::default() }
}

/// A check's attribute map, typed as the file's conventions say (plain scalars by their
/// YAML type, quoted ones as strings, null as the empty value, `{bytes: hex}` as bytes).
fn attributes(node: Option<&Node>) -> Result<Vec<KeyValue>, String> {
    let Some(map) = node.and_then(Node::as_map) else { return Ok(Vec::new()) };
    let mut out = Vec::new();
    for (k, e) in map {
        if let Some(hex) = e.node.find(&["bytes"]).and_then(|n| match &n.value {
            Value::Scalar { text, .. } => Some(text.clone()),
            _ => None,
        }) {
            let bytes = (0..hex.len() / 2)
                .map(|i| u8::from_str_radix(&hex[2 * i..2 * i + 2], 16).map_err(|e| e.to_string()))
                .collect::<Result<Vec<u8>, String>>()?;
            out.push(kv(k, AnyValue { value: Some(any_value::Value::BytesValue(bytes)) }));
            continue;
        }
        let v: serde_json::Value = config::from_node(&e.node, k).map_err(|e| e.to_string())?;
        out.push(kv(k, json_to_any(&v)));
    }
    Ok(out)
}

/// Attributes in a comparable order (by key, then encoding).
fn sorted(mut list: Vec<KeyValue>) -> Vec<KeyValue> {
    list.sort_by(|a, b| a.key.cmp(&b.key));
    list
}

fn text(node: Option<&Node>) -> Option<String> {
    match node.map(|n| &n.value) {
        Some(Value::Scalar { text, .. }) => Some(text.clone()),
        _ => None,
    }
}

fn seq(node: Option<&Node>) -> Vec<&Node> {
    match node.map(|n| &n.value) {
        Some(Value::Seq(items)) => items.iter().collect(),
        _ => Vec::new(),
    }
}

fn decode_config(case: &Node) -> Result<AttributesProcessorConfig, String> {
    let mut cfg = AttributesProcessorConfig::default();
    if let Some(n) = case.find(&["actions"]) {
        cfg.actions = config::from_node(n, "actions").map_err(|e| e.to_string())?;
    }
    if let Some(n) = case.find(&["include"]) {
        cfg.include = Some(config::from_node(n, "include").map_err(|e| e.to_string())?);
    }
    if let Some(n) = case.find(&["exclude"]) {
        cfg.exclude = Some(config::from_node(n, "exclude").map_err(|e| e.to_string())?);
    }
    Ok(cfg)
}

fn traces(service: Option<&str>, span: &str, attrs: Vec<KeyValue>) -> ExportTraceServiceRequest {
    let resource = service.map(|s| Resource {
        attributes: vec![kv("service.name", AnyValue { value: Some(any_value::Value::StringValue(s.into())) })],
        ..Default::default()
    });
    ExportTraceServiceRequest {
        resource_spans: vec![ResourceSpans {
            resource,
            scope_spans: vec![ScopeSpans {
                spans: vec![Span { name: span.into(), attributes: attrs, ..Default::default() }],
                ..Default::default()
            }],
            ..Default::default()
        }],
    }
}

/// Runs one check through every signal the case applies to; the first mismatch is the error.
fn run_check(cfg: &AttributesProcessorConfig, check: &Node, all_signals: bool) -> Result<(), String> {
    let input = attributes(check.find(&["in"]))?;
    let want = sorted(attributes(check.find(&["out"]))?);
    let cx = RequestContext::default();
    let build = |signal| AttributesProcessor::new(cfg, signal).map_err(|e| format!("{e:?}"));

    let mut req = traces(
        text(check.find(&["service"])).as_deref(),
        &text(check.find(&["span"])).unwrap_or_default(),
        input.clone(),
    );
    build(Signal::Traces)?.process_traces(&cx, &mut req).map_err(|e| e.to_string())?;
    let got = sorted(std::mem::take(&mut req.resource_spans[0].scope_spans[0].spans[0].attributes));
    if got != want {
        return Err(format!("span attributes: got {got:?}, want {want:?}"));
    }
    if !all_signals {
        return Ok(());
    }

    let mut logs = ExportLogsServiceRequest {
        resource_logs: vec![ResourceLogs {
            scope_logs: vec![ScopeLogs {
                log_records: vec![LogRecord { attributes: input.clone(), ..Default::default() }],
                ..Default::default()
            }],
            ..Default::default()
        }],
    };
    build(Signal::Logs)?.process_logs(&cx, &mut logs).map_err(|e| e.to_string())?;
    let got = sorted(std::mem::take(&mut logs.resource_logs[0].scope_logs[0].log_records[0].attributes));
    if got != want {
        return Err(format!("log attributes: got {got:?}, want {want:?}"));
    }

    let mut metrics = ExportMetricsServiceRequest {
        resource_metrics: vec![ResourceMetrics {
            scope_metrics: vec![ScopeMetrics {
                metrics: vec![Metric {
                    name: "m".into(),
                    data: Some(metric::Data::Gauge(Gauge {
                        data_points: vec![NumberDataPoint { attributes: input.clone(), ..Default::default() }],
                    })),
                    ..Default::default()
                }],
                ..Default::default()
            }],
            ..Default::default()
        }],
    };
    build(Signal::Metrics)?.process_metrics(&cx, &mut metrics).map_err(|e| e.to_string())?;
    let point = match &mut metrics.resource_metrics[0].scope_metrics[0].metrics[0].data {
        Some(metric::Data::Gauge(g)) => std::mem::take(&mut g.data_points[0].attributes),
        _ => Vec::new(),
    };
    if sorted(point) != want {
        return Err("data point attributes differ".into());
    }

    let resource_cfg = ResourceProcessorConfig { attributes: cfg.actions.clone() };
    let resource = ResourceProcessor::new(&resource_cfg).map_err(|e| format!("{e:?}"))?;
    let mut req = traces(None, "", Vec::new());
    req.resource_spans[0].resource = Some(Resource { attributes: input, ..Default::default() });
    resource.process_traces(&cx, &mut req).map_err(|e| e.to_string())?;
    let got = sorted(req.resource_spans[0].resource.take().map(|r| r.attributes).unwrap_or_default());
    if got != want {
        return Err(format!("resource attributes: got {got:?}, want {want:?}"));
    }
    Ok(())
}

/// The upstream message without its "error creating AttrProc" prefix and its "at the N-th
/// action" suffix (our errors are located instead), and N.
fn core_of(upstream: &str) -> (String, Option<usize>) {
    let mut s = upstream.trim_start_matches("error creating AttrProc").trim_start_matches('.').trim();
    s = s.trim_start_matches("due to ").trim();
    let mut index = None;
    for marker in [" at the ", " for "] {
        if let Some(pos) = s.rfind(marker) {
            let tail = &s[pos + marker.len()..];
            if let Some(n) = tail.split("-th").next().and_then(|n| n.parse().ok()) {
                index = Some(n);
                s = &s[..pos];
                break;
            }
        }
    }
    (s.to_string(), index)
}

fn run_config_check(check: &Node) -> Result<(), String> {
    let cfg = decode_config(check)?;
    let errors: Vec<FieldError> = cfg.validate();
    match text(check.find(&["error"])).filter(|e| e != "null" && !e.is_empty()) {
        None if errors.is_empty() => Ok(()),
        None => Err(format!("valid upstream, refused here: {errors:?}")),
        Some(upstream) => {
            let (core, index) = core_of(&upstream);
            let at = index.map(|i| format!("actions::{i}")).unwrap_or_default();
            let found = errors.iter().any(|e| e.field.starts_with(&at) && e.message.contains(&core));
            if found {
                Ok(())
            } else {
                Err(format!("want an error at {at} containing {core:?}, got {errors:?}"))
            }
        }
    }
}

#[test]
fn attributes_cases_pass_in_place() {
    let text_of_file = std::fs::read_to_string(CASES).expect("the shared conformance file is readable");
    let root = config::parse("attributes-cases.yaml", &text_of_file).expect("the case file parses");
    let mut passed = 0;
    let mut failures = Vec::new();
    for case in seq(root.find(&["cases"])) {
        let id = text(case.find(&["id"])).unwrap_or_default();
        if let Some((_, why)) = SKIPS.iter().find(|(s, _)| *s == id) {
            println!("SKIP {id}: {why}");
            continue;
        }
        let result = (|| -> Result<(), String> {
            for (i, check) in seq(case.find(&["config_checks"])).into_iter().enumerate() {
                run_config_check(check).map_err(|e| format!("config check {i}: {e}"))?;
            }
            let checks = seq(case.find(&["checks"]));
            if checks.is_empty() {
                return Ok(());
            }
            let cfg = decode_config(case)?;
            let all_signals = cfg.include.is_none() && cfg.exclude.is_none();
            for (i, check) in checks.into_iter().enumerate() {
                run_check(&cfg, check, all_signals).map_err(|e| format!("check {i}: {e}"))?;
            }
            Ok(())
        })();
        match result {
            Ok(()) => passed += 1,
            Err(e) => failures.push(format!("{id}: {e}")),
        }
    }
    println!("attributes conformance: {passed} passed, {} failed", failures.len());
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    assert!(passed >= MIN_PASSED, "only {passed} cases passed");
}
