//! Tests of the policy engine: one file per policy family, the config checks, and the
//! conformance cases of `shared/conformance/tailsampling-cases.yaml`.

mod attribute;
mod combining;
mod conformance;
mod limiting;
mod ottl;
mod probabilistic;
mod span;
mod validate;

use std::sync::Arc;

use switchyard_core::component::ComponentId;
use switchyard_core::config as core_config;
use switchyard_core::telemetry::Telemetry;
use switchyard_pdata::proto::common::v1::{any_value::Value, AnyValue, KeyValue};
use switchyard_pdata::proto::resource::v1::Resource;
use switchyard_pdata::proto::trace::v1::{ResourceSpans, ScopeSpans, Span};
use tokio::time::Instant;

use super::{Decision, Policies, PolicyCfg, TraceData};
use crate::ottl::OttlErrorReporter;

pub(super) const TRACE_ID: [u8; 16] = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16];

pub(super) fn kv(key: &str, value: Value) -> KeyValue {
    KeyValue { key: key.to_string(), value: Some(AnyValue { value: Some(value) }), ..Default::default() }
}

pub(super) fn s(v: &str) -> Value {
    Value::StringValue(v.to_string())
}

/// A span with these attributes.
pub(super) fn span(attrs: Vec<KeyValue>) -> Span {
    Span {
        trace_id: TRACE_ID.to_vec(),
        span_id: vec![1; 8],
        name: "op".into(),
        attributes: attrs,
        ..Default::default()
    }
}

/// One batch: a resource with `resource` attributes holding `spans`.
pub(super) fn batch(resource: Vec<KeyValue>, spans: Vec<Span>) -> ResourceSpans {
    ResourceSpans {
        resource: Some(Resource { attributes: resource, ..Default::default() }),
        scope_spans: vec![ScopeSpans { spans, ..Default::default() }],
        ..Default::default()
    }
}

/// A trace of these batches (span count from the batches, 100 bytes a span).
pub(super) fn trace_of(batches: Vec<ResourceSpans>) -> TraceData {
    let span_count = batches.iter().flat_map(|b| &b.scope_spans).map(|s| s.spans.len() as u64).sum();
    TraceData { batches, span_count, bytes: span_count * 100, first_arrival: Instant::now() }
}

/// A trace of one batch.
pub(super) fn trace(resource: Vec<KeyValue>, spans: Vec<Span>) -> TraceData {
    trace_of(vec![batch(resource, spans)])
}

pub(super) fn reporter() -> Arc<OttlErrorReporter> {
    Arc::new(OttlErrorReporter::new(&Telemetry::new(), &ComponentId::new("tail_sampling")))
}

/// `policies:` from YAML (a list), decoded as the config loader decodes it.
pub(super) fn cfgs(yaml: &str) -> Vec<PolicyCfg> {
    let node = core_config::parse("policies.yaml", yaml).expect("YAML parses");
    core_config::from_node(&node, "policies").expect("policies decode")
}

/// Built policies (panics on a config error).
pub(super) fn build(yaml: &str, sample_on_first_match: bool) -> Policies {
    Policies::build(&cfgs(yaml), sample_on_first_match, 1.0, reporter()).expect("policies build")
}

/// The final decision of `yaml`'s policies over `trace` (now).
pub(super) fn decide(yaml: &str, trace: &mut TraceData) -> Decision {
    let mut per = Vec::new();
    build(yaml, false).evaluate(&TRACE_ID, trace, Instant::now(), &mut per)
}

/// The decision of a single policy of type `ty` with settings `block` (YAML flow map).
pub(super) fn one(ty: &str, block: &str, trace: &mut TraceData) -> Decision {
    let yaml = if block.is_empty() {
        format!("- {{name: p, type: {ty}}}")
    } else {
        format!("- {{name: p, type: {ty}, {ty}: {block}}}")
    };
    decide(&yaml, trace)
}
