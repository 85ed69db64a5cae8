//! Upstream's test tables (`tracesprocessor_test.go`, `logsprocessor_test.go`,
//! `config_test.go`, `pkg/sampling`) reproduced as assertions, plus the properties a user
//! relies on: rates, per-trace consistency, tiers agreeing on a seed.

mod config;
mod conformance;
mod hash_rows;
mod logs;
mod otep;
mod traces;
mod traces_table;
mod tracestate;

use switchyard_core::component::{Kind, Settings};
use switchyard_core::config as core_config;
use switchyard_core::consumer::RequestContext;
use switchyard_core::processorhelper::SignalProcessor;
use switchyard_pdata::proto::collector::logs::v1::ExportLogsServiceRequest;
use switchyard_pdata::proto::collector::trace::v1::ExportTraceServiceRequest;
use switchyard_pdata::proto::common::v1::{any_value::Value, AnyValue, KeyValue};
use switchyard_pdata::proto::logs::v1::{LogRecord, ResourceLogs, ScopeLogs};
use switchyard_pdata::proto::trace::v1::{ResourceSpans, ScopeSpans, Span};

use super::{ProbabilisticSampler, ProbabilisticSamplerConfig};

/// A config from YAML (the processor's body).
pub fn parse(yaml: &str) -> Result<ProbabilisticSamplerConfig, String> {
    let node = core_config::parse("t.yaml", yaml).map_err(|e| e.to_string())?;
    core_config::from_node(&node, "probabilistic_sampler").map_err(|e| e.to_string())
}

/// A processor for `cfg`, with its settings (for the counters).
pub fn processor(cfg: &ProbabilisticSamplerConfig) -> (ProbabilisticSampler, Settings) {
    let set = switchyard_core::testing::settings(Kind::Processor, "probabilistic_sampler");
    (ProbabilisticSampler::new(&set, cfg), set)
}

/// Upstream's tests build `&Config{...}` without the factory defaults: fail_closed false,
/// attribute_source "", precision 0 (full). This is that zero config.
pub fn go_zero() -> ProbabilisticSamplerConfig {
    ProbabilisticSamplerConfig {
        fail_closed: false,
        attribute_source: String::new(),
        sampling_precision: 0,
        ..ProbabilisticSamplerConfig::default()
    }
}

/// 16 bytes from 32 hex digits.
pub fn tid(hex: &str) -> Vec<u8> {
    (0..16).map(|i| u8::from_str_radix(&hex[2 * i..2 * i + 2], 16).expect("hex")).collect()
}

pub fn kv(k: &str, v: Value) -> KeyValue {
    KeyValue { key: k.into(), value: Some(AnyValue { value: Some(v) }), ..Default::default() }
}

/// One request with one span.
pub fn one_span(trace_id: Vec<u8>, trace_state: &str, attrs: Vec<KeyValue>) -> ExportTraceServiceRequest {
    traces_of(vec![vec![Span {
        trace_id,
        span_id: vec![0, 0, 0, 0, 0xfe, 0xfe, 0xfe, 0xfe],
        trace_state: trace_state.into(),
        attributes: attrs,
        name: "span".into(),
        ..Default::default()
    }]])
}

/// A request with one resource per entry of `resources`, each with one scope of spans.
pub fn traces_of(resources: Vec<Vec<Span>>) -> ExportTraceServiceRequest {
    ExportTraceServiceRequest {
        resource_spans: resources
            .into_iter()
            .map(|spans| ResourceSpans {
                scope_spans: vec![ScopeSpans { spans, ..Default::default() }],
                ..Default::default()
            })
            .collect(),
    }
}

/// A request with one scope of these records.
pub fn logs_of(records: Vec<LogRecord>) -> ExportLogsServiceRequest {
    ExportLogsServiceRequest {
        resource_logs: vec![ResourceLogs {
            scope_logs: vec![ScopeLogs { log_records: records, ..Default::default() }],
            ..Default::default()
        }],
    }
}

/// The spans left after processing.
pub fn run_traces(p: &ProbabilisticSampler, mut req: ExportTraceServiceRequest) -> Vec<Span> {
    p.process_traces(&RequestContext::default(), &mut req).expect("never fails");
    req.resource_spans.into_iter().flat_map(|r| r.scope_spans).flat_map(|s| s.spans).collect()
}

/// The records left after processing.
pub fn run_logs(p: &ProbabilisticSampler, mut req: ExportLogsServiceRequest) -> Vec<LogRecord> {
    p.process_logs(&RequestContext::default(), &mut req).expect("never fails");
    req.resource_logs.into_iter().flat_map(|r| r.scope_logs).flat_map(|s| s.log_records).collect()
}

/// A small deterministic generator (splitmix64) for random trace ids.
pub struct Rng(pub u64);

impl Rng {
    pub fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    pub fn trace_id(&mut self) -> Vec<u8> {
        let (a, b) = (self.next(), self.next());
        a.to_be_bytes().into_iter().chain(b.to_be_bytes()).collect()
    }
}
