//! The canary: one span, one gauge point and one log record carrying a unique id, made so
//! that each backend can find it by that id alone:
//! - the id is the trace id (Tempo and Jaeger look traces up by it),
//! - the gauge point has the attribute `switchyard.check.id` (the label `switchyard_check_id`
//!   after remote write's name translation), and no unit, so no suffix changes its name,
//! - the log body contains the id (a Loki line filter finds it),
//! - every resource has `service.name: switchyard-check` and `switchyard.check.id`.

use rand::Rng;
use switchyard_pdata::proto::collector::logs::v1::ExportLogsServiceRequest;
use switchyard_pdata::proto::collector::metrics::v1::ExportMetricsServiceRequest;
use switchyard_pdata::proto::collector::trace::v1::ExportTraceServiceRequest;
use switchyard_pdata::proto::common::v1::{any_value, AnyValue, InstrumentationScope};
use switchyard_pdata::proto::logs::v1::{LogRecord, ResourceLogs, ScopeLogs};
use switchyard_pdata::proto::metrics::v1::{
    metric, number_data_point, Gauge, Metric, NumberDataPoint, ResourceMetrics, ScopeMetrics,
};
use switchyard_pdata::proto::resource::v1::Resource;
use switchyard_pdata::proto::trace::v1::{span, ResourceSpans, ScopeSpans, Span, Status};
use switchyard_pdata::{Logs, Metrics, Traces};

use super::plan::SERVICE_NAME;
use crate::commands::gen::{kv, now_nanos};

/// The attribute that carries the id.
pub(super) const ID_ATTRIBUTE: &str = "switchyard.check.id";
/// The canary gauge's name.
pub(super) const METRIC_NAME: &str = "switchyard_check_canary";

/// One canary: its id and the bytes of the trace id.
pub(super) struct Canary {
    /// 32 lowercase hex digits: the trace id.
    pub id: String,
    trace_id: [u8; 16],
}

impl Canary {
    /// A new random id.
    pub(super) fn new() -> Canary {
        let trace_id: [u8; 16] = rand::rng().random();
        let id = trace_id.iter().map(|b| format!("{b:02x}")).collect();
        Canary { id, trace_id }
    }

    fn resource(&self) -> Option<Resource> {
        Some(Resource {
            attributes: vec![kv("service.name", SERVICE_NAME), kv(ID_ATTRIBUTE, &self.id)],
            ..Default::default()
        })
    }

    fn scope() -> Option<InstrumentationScope> {
        Some(InstrumentationScope {
            name: "switchyard-check".into(),
            version: env!("CARGO_PKG_VERSION").into(),
            ..Default::default()
        })
    }

    /// One span whose trace id is the canary id.
    pub(super) fn traces(&self) -> Traces {
        let now = now_nanos();
        let span = Span {
            trace_id: self.trace_id.to_vec(),
            span_id: rand::rng().random::<[u8; 8]>().to_vec(),
            name: "switchyard check".into(),
            kind: span::SpanKind::Internal as i32,
            start_time_unix_nano: now.saturating_sub(1_000_000),
            end_time_unix_nano: now,
            attributes: vec![kv(ID_ATTRIBUTE, &self.id)],
            status: Some(Status { code: 1, ..Default::default() }),
            ..Default::default()
        };
        ExportTraceServiceRequest {
            resource_spans: vec![ResourceSpans {
                resource: self.resource(),
                scope_spans: vec![ScopeSpans { scope: Self::scope(), spans: vec![span], ..Default::default() }],
                ..Default::default()
            }],
        }
        .into()
    }

    /// One gauge point, value 1, labelled with the id.
    pub(super) fn metrics(&self) -> Metrics {
        let point = NumberDataPoint {
            attributes: vec![kv(ID_ATTRIBUTE, &self.id)],
            time_unix_nano: now_nanos(),
            value: Some(number_data_point::Value::AsDouble(1.0)),
            ..Default::default()
        };
        let metric = Metric {
            name: METRIC_NAME.into(),
            description: "A canary sent by switchyard check.".into(),
            data: Some(metric::Data::Gauge(Gauge { data_points: vec![point] })),
            ..Default::default()
        };
        ExportMetricsServiceRequest {
            resource_metrics: vec![ResourceMetrics {
                resource: self.resource(),
                scope_metrics: vec![ScopeMetrics { scope: Self::scope(), metrics: vec![metric], ..Default::default() }],
                ..Default::default()
            }],
        }
        .into()
    }

    /// One INFO log record whose body holds the id.
    pub(super) fn logs(&self) -> Logs {
        let now = now_nanos();
        let record = LogRecord {
            time_unix_nano: now,
            observed_time_unix_nano: now,
            severity_number: 9,
            severity_text: "INFO".into(),
            body: Some(AnyValue {
                value: Some(any_value::Value::StringValue(format!("switchyard check canary {}", self.id))),
            }),
            attributes: vec![kv(ID_ATTRIBUTE, &self.id)],
            ..Default::default()
        };
        ExportLogsServiceRequest {
            resource_logs: vec![ResourceLogs {
                resource: self.resource(),
                scope_logs: vec![ScopeLogs { scope: Self::scope(), log_records: vec![record], ..Default::default() }],
                ..Default::default()
            }],
        }
        .into()
    }
}
