//! The routing cases distilled from contrib's own tests (`shared/conformance/routing-cases.yaml`,
//! read in place): each case's config drives a connector whose pipelines are recording
//! sinks, and every check's input must land in exactly the sinks it names.

#![allow(clippy::print_stdout)]

use std::sync::Arc;

use switchyard_core::component::{ComponentConfig, ConnectorFactory, ConnectorPipelines, Kind, PipelineId};
use switchyard_core::config::{from_node, parse, Node, Value};
use switchyard_core::consumer::{AnyConsumer, AnyRouter, DynConsumer, RequestContext, Router};
use switchyard_core::testing::{settings, SinkConsumer};
use switchyard_pdata::proto::collector::trace::v1::ExportTraceServiceRequest;
use switchyard_pdata::proto::common::v1::{any_value, AnyValue, InstrumentationScope, KeyValue};
use switchyard_pdata::proto::resource::v1::Resource;
use switchyard_pdata::proto::trace::v1::span::Event;
use switchyard_pdata::proto::trace::v1::{ResourceSpans, ScopeSpans, Span};
use switchyard_pdata::{Signal, SignalData, Traces};

use super::super::{RoutingConnectorConfig, RoutingConnectorFactory};

const CASES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared/conformance/routing-cases.yaml");

/// Checks not expected to pass, by (case id, check index), with the reason. Empty: all pass.
const SKIP: &[(&str, usize, &str)] = &[];

fn kv(key: &str, v: any_value::Value) -> KeyValue {
    KeyValue { key: key.into(), value: Some(AnyValue { value: Some(v) }), ..Default::default() }
}

fn s(v: &str) -> any_value::Value {
    any_value::Value::StringValue(v.into())
}

/// `ptraceutiltest.NewTraces`: a tree of resources, scopes, spans and events named by letters.
/// Resource letter → (scope letter → span letters).
type Shape = Vec<(String, Vec<(String, Vec<String>)>)>;

fn tree(shape: &Shape, events: &str) -> ExportTraceServiceRequest {
    let resource_spans = shape
        .iter()
        .map(|(r, scopes)| ResourceSpans {
            resource: Some(Resource {
                attributes: vec![kv("resourceName", s(&format!("resource{r}")))],
                ..Default::default()
            }),
            scope_spans: scopes
                .iter()
                .map(|(sc, spans)| ScopeSpans {
                    scope: Some(InstrumentationScope { name: format!("scope{sc}"), ..Default::default() }),
                    spans: spans
                        .iter()
                        .map(|p| Span {
                            name: format!("span{p}"),
                            events: events
                                .chars()
                                .map(|e| Event {
                                    attributes: vec![kv("spanEventName", s(&format!("spanEvent{e}")))],
                                    ..Default::default()
                                })
                                .collect(),
                            ..Default::default()
                        })
                        .collect(),
                    ..Default::default()
                })
                .collect(),
            ..Default::default()
        })
        .collect();
    ExportTraceServiceRequest { resource_spans }
}

fn letters(s: &str) -> Vec<String> {
    s.chars().map(String::from).collect()
}

/// `T(R, S, P, E)`.
fn t_notation(text: &str) -> Option<ExportTraceServiceRequest> {
    let inner = text.trim().strip_prefix("T(")?.strip_suffix(')')?;
    let parts: Vec<&str> = inner.split(',').map(str::trim).collect();
    let [r, sc, p, e] = parts.as_slice() else { return None };
    let shape = letters(r)
        .into_iter()
        .map(|r| (r, letters(sc).into_iter().map(|s| (s, letters(p))).collect()))
        .collect::<Vec<_>>();
    Some(tree(&shape, e))
}

/// `resourceA{scopeC{spanE,spanF}, scopeD{spanE}}, resourceB{...}  (every span keeps events G,H)`.
fn braces_notation(text: &str) -> Option<ExportTraceServiceRequest> {
    let (body, note) = text.split_once("(every span keeps events ")?;
    let events: String = note.trim_end_matches(')').split(',').map(str::trim).collect();
    let mut shape = Vec::new();
    let mut rest = body.trim();
    while !rest.is_empty() {
        let r = rest.strip_prefix("resource")?;
        let (name, after) = r.split_once('{')?;
        let mut scopes = Vec::new();
        let mut inner = after;
        loop {
            let sc = inner.trim_start().strip_prefix("scope")?;
            let (sname, after_s) = sc.split_once('{')?;
            let (spans, after_spans) = after_s.split_once('}')?;
            let spans = spans
                .split(',')
                .map(|p| p.trim().strip_prefix("span").map(str::to_string))
                .collect::<Option<Vec<_>>>()?;
            scopes.push((sname.to_string(), spans));
            let after_spans = after_spans.trim_start();
            if let Some(x) = after_spans.strip_prefix('}') {
                inner = x;
                break;
            }
            inner = after_spans.strip_prefix(',')?;
        }
        shape.push((name.to_string(), scopes));
        rest = inner.trim_start().trim_start_matches(',').trim();
    }
    Some(tree(&shape, &events))
}

fn scalar(n: &Node) -> Option<(&str, bool)> {
    match &n.value {
        Value::Scalar { text, plain } => Some((text.as_str(), *plain)),
        _ => None,
    }
}

fn map(n: &Node) -> Vec<(&str, &Node)> {
    n.as_map().map(|m| m.iter().map(|(k, e)| (k.as_str(), &e.node)).collect()).unwrap_or_default()
}

fn seq(n: &Node) -> &[Node] {
    match &n.value {
        Value::Seq(v) => v,
        _ => &[],
    }
}

/// The `input` of a check: `T(...)` or a list of `{resource: {k: v}, spans: [names]}`.
fn input(n: &Node) -> Option<ExportTraceServiceRequest> {
    if let Some((text, _)) = scalar(n) {
        return t_notation(text);
    }
    let resource_spans = seq(n)
        .iter()
        .map(|r| {
            let attrs = map(r.find(&["resource"])?)
                .into_iter()
                .map(|(k, v)| {
                    let (text, plain) = scalar(v)?;
                    Some(match text.parse::<i64>() {
                        Ok(i) if plain => kv(k, any_value::Value::IntValue(i)),
                        _ => kv(k, s(text)),
                    })
                })
                .collect::<Option<Vec<_>>>()?;
            let spans = r.find(&["spans"]).map(seq).unwrap_or_default();
            let spans = spans
                .iter()
                .map(|p| Some(Span { name: scalar(p)?.0.to_string(), ..Default::default() }))
                .collect::<Option<Vec<_>>>()?;
            Some(ResourceSpans {
                resource: Some(Resource { attributes: attrs, ..Default::default() }),
                scope_spans: if spans.is_empty() { vec![] } else { vec![ScopeSpans { spans, ..Default::default() }] },
                ..Default::default()
            })
        })
        .collect::<Option<Vec<_>>>()?;
    Some(ExportTraceServiceRequest { resource_spans })
}

/// `metadata: {grpc: {K: V}, http: {K: [V, ...]}}` → the request's headers.
fn metadata(n: Option<&Node>) -> RequestContext {
    let Some(n) = n.filter(|n| n.as_map().is_some()) else { return RequestContext::default() };
    let mut headers = http::HeaderMap::new();
    for (_, source) in map(n) {
        for (k, v) in map(source) {
            let values: Vec<&str> = match scalar(v) {
                Some((t, _)) => vec![t],
                None => seq(v).iter().filter_map(|x| scalar(x).map(|(t, _)| t)).collect(),
            };
            for value in values {
                headers.append(
                    http::HeaderName::from_bytes(k.to_ascii_lowercase().as_bytes()).unwrap(),
                    value.parse().unwrap(),
                );
            }
        }
    }
    RequestContext::with_metadata(Some(Arc::new(headers)))
}

fn pipeline_of(sink_key: &str) -> Option<&str> {
    match sink_key {
        "sink0" => Some("traces/0"),
        "sink1" => Some("traces/1"),
        "sinkD" => Some("traces/default"),
        k if k.starts_with("traces/") => Some(k),
        _ => None,
    }
}

/// What one sink got, against the expectation text. `Err` explains a mismatch.
fn expect(text: &str, input: &ExportTraceServiceRequest, got: &[Traces]) -> Result<(), String> {
    let one = |want: &ExportTraceServiceRequest| match got {
        [t] if t.request() == want => Ok(()),
        _ => Err(format!("want one call with {want:?}, got {got:?}")),
    };
    if text == "nothing" {
        return if got.is_empty() { Ok(()) } else { Err(format!("want nothing, got {got:?}")) };
    }
    if text.starts_with("the input") || text.starts_with("both resources") {
        return one(input);
    }
    if let Some(rest) = text.strip_prefix("one resource with attributes ") {
        let want = rest.split_once(" (").map_or(rest, |(a, _)| a);
        let [t] = got else { return Err(format!("want one call, got {got:?}")) };
        let rs = &t.request().resource_spans;
        let attrs: Vec<String> = rs
            .iter()
            .flat_map(|r| r.resource.iter().flat_map(|r| r.attributes.iter()))
            .map(|kv| {
                format!(
                    "\"{}\": \"{}\"",
                    kv.key,
                    kv.value.as_ref().map(switchyard_pdata::value::as_string).unwrap_or_default()
                )
            })
            .collect();
        let got_text = format!("{{{}}}", attrs.join(", "));
        return if rs.len() == 1 && got_text == want { Ok(()) } else { Err(format!("want {want}, got {got_text}")) };
    }
    if let Some(want) = t_notation(text).or_else(|| braces_notation(text)) {
        return one(&want);
    }
    Err(format!("expectation not understood: {text}"))
}

#[tokio::test]
async fn routing_cases_from_contrib() {
    let text = std::fs::read_to_string(CASES).expect("shared/conformance/routing-cases.yaml beside the repository");
    let root = parse("routing-cases.yaml", &text).expect("yaml");
    let ids = ["traces/0", "traces/1", "traces/default", "traces/other"].map(|p| PipelineId::parse(p).unwrap());
    let (mut passed, mut skipped, mut failed) = (0, 0, Vec::new());
    for case in seq(root.find(&["cases"]).expect("cases")) {
        let id = scalar(case.find(&["id"]).unwrap()).unwrap().0;
        let cfg: RoutingConnectorConfig = from_node(case.find(&["config"]).unwrap(), "connectors::routing").unwrap();
        assert_eq!(cfg.validate(), vec![], "{id}: config valid");
        let fed = ConnectorPipelines { to: ids.to_vec(), defined: ids.to_vec(), ..Default::default() };
        assert_eq!(RoutingConnectorFactory.validate_pipelines(&cfg, &fed), vec![], "{id}");
        for (ci, check) in seq(case.find(&["checks"]).unwrap()).iter().enumerate() {
            if let Some((_, _, why)) = SKIP.iter().find(|(c, i, _)| *c == id && *i == ci) {
                println!("SKIP {id} check {ci}: {why}");
                skipped += 1;
                continue;
            }
            let sinks: Vec<Arc<SinkConsumer<Traces>>> = ids.iter().map(|_| SinkConsumer::new()).collect();
            let router = Router::new(ids.iter().cloned().zip(sinks.iter().map(|s| s.clone() as DynConsumer<Traces>)));
            let (consumer, _) = RoutingConnectorFactory
                .create(settings(Kind::Connector, "routing"), &cfg, Signal::Traces, AnyRouter::Traces(router))
                .unwrap();
            let AnyConsumer::Traces(consumer) = consumer else { panic!("traces consumer") };
            let req = input(check.find(&["input"]).unwrap()).unwrap_or_else(|| panic!("{id}: input not understood"));
            let cx = metadata(check.find(&["metadata"]));
            consumer.consume(&cx, Traces::from_request(req.clone())).await.unwrap();
            let mut problems = Vec::new();
            for (key, want) in map(check) {
                let Some(p) = pipeline_of(key) else { continue };
                let i = ids.iter().position(|x| x.to_string() == p).unwrap();
                let want = scalar(want).unwrap().0;
                if let Err(e) = expect(want, &req, &sinks[i].batches()) {
                    problems.push(format!("{key}: {e}"));
                }
            }
            if problems.is_empty() {
                passed += 1;
            } else {
                failed.push(format!("{id} check {ci}: {}", problems.join("; ")));
            }
        }
    }
    println!("routing cases: {passed} passed, {skipped} skipped");
    assert!(failed.is_empty(), "{failed:#?}");
    assert!(passed >= 22, "only {passed} checks passed");
}
