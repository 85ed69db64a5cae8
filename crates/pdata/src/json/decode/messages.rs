//! [`Message`] for every OTLP message: which JSON key fills which field, and how.

// Messages with a single field keep the `match key` shape of the others.
#![allow(clippy::single_match)]

use serde_json::Value as Json;

use super::scalar::{
    aggregation_temporality, boolean, bytes, double, int32, int64, severity_number, span_id, span_kind, status_code,
    string, trace_id, uint32, uint64,
};
use super::{list, message, object, oneof, optional, repeated, Message, Result};
use crate::proto::collector::logs::v1::{
    ExportLogsPartialSuccess, ExportLogsServiceRequest, ExportLogsServiceResponse,
};
use crate::proto::collector::metrics::v1::{
    ExportMetricsPartialSuccess, ExportMetricsServiceRequest, ExportMetricsServiceResponse,
};
use crate::proto::collector::trace::v1::{
    ExportTracePartialSuccess, ExportTraceServiceRequest, ExportTraceServiceResponse,
};
use crate::proto::common::v1::{
    any_value, AnyValue, ArrayValue, EntityRef, InstrumentationScope, KeyValue, KeyValueList,
};
use crate::proto::logs::v1::{LogRecord, ResourceLogs, ScopeLogs};
use crate::proto::metrics::v1::exponential_histogram_data_point::Buckets;
use crate::proto::metrics::v1::summary_data_point::ValueAtQuantile;
use crate::proto::metrics::v1::{
    exemplar, metric, number_data_point, Exemplar, ExponentialHistogram, ExponentialHistogramDataPoint, Gauge,
    Histogram, HistogramDataPoint, Metric, NumberDataPoint, ResourceMetrics, ScopeMetrics, Sum, Summary,
    SummaryDataPoint,
};
use crate::proto::resource::v1::Resource;
use crate::proto::trace::v1::span::{Event, Link};
use crate::proto::trace::v1::{ResourceSpans, ScopeSpans, Span, Status};

// ---- common ----

impl Message for AnyValue {
    fn field(&mut self, key: &str, v: Json) -> Result<()> {
        use any_value::Value;
        let out = &mut self.value;
        match key {
            "stringValue" => oneof(out, v, string, Value::StringValue),
            "boolValue" => oneof(out, v, boolean, Value::BoolValue),
            "intValue" => oneof(out, v, int64, Value::IntValue),
            "doubleValue" => oneof(out, v, double, Value::DoubleValue),
            "arrayValue" => oneof(out, v, object, Value::ArrayValue),
            "kvlistValue" => oneof(out, v, object, Value::KvlistValue),
            "bytesValue" => oneof(out, v, bytes, Value::BytesValue),
            "stringValueStrindex" => oneof(out, v, int32, Value::StringValueStrindex),
            _ => Ok(()),
        }
    }
}

impl Message for ArrayValue {
    fn field(&mut self, key: &str, v: Json) -> Result<()> {
        match key {
            "values" => self.values = repeated(v)?,
            _ => {}
        }
        Ok(())
    }
}

impl Message for KeyValueList {
    fn field(&mut self, key: &str, v: Json) -> Result<()> {
        match key {
            "values" => self.values = repeated(v)?,
            _ => {}
        }
        Ok(())
    }
}

impl Message for KeyValue {
    fn field(&mut self, key: &str, v: Json) -> Result<()> {
        match key {
            "key" => self.key = string(v)?,
            "value" => self.value = message(v)?,
            "keyStrindex" => self.key_strindex = int32(v)?,
            _ => {}
        }
        Ok(())
    }
}

impl Message for InstrumentationScope {
    fn field(&mut self, key: &str, v: Json) -> Result<()> {
        match key {
            "name" => self.name = string(v)?,
            "version" => self.version = string(v)?,
            "attributes" => self.attributes = repeated(v)?,
            "droppedAttributesCount" => self.dropped_attributes_count = uint32(v)?,
            _ => {}
        }
        Ok(())
    }
}

impl Message for EntityRef {
    fn field(&mut self, key: &str, v: Json) -> Result<()> {
        match key {
            "schemaUrl" => self.schema_url = string(v)?,
            "type" => self.r#type = string(v)?,
            "idKeys" => self.id_keys = list(v, string)?,
            "descriptionKeys" => self.description_keys = list(v, string)?,
            _ => {}
        }
        Ok(())
    }
}

impl Message for Resource {
    fn field(&mut self, key: &str, v: Json) -> Result<()> {
        match key {
            "attributes" => self.attributes = repeated(v)?,
            "droppedAttributesCount" => self.dropped_attributes_count = uint32(v)?,
            "entityRefs" => self.entity_refs = repeated(v)?,
            _ => {}
        }
        Ok(())
    }
}

// ---- traces ----

impl Message for ExportTraceServiceRequest {
    fn field(&mut self, key: &str, v: Json) -> Result<()> {
        match key {
            "resourceSpans" => self.resource_spans = repeated(v)?,
            _ => {}
        }
        Ok(())
    }
}

impl Message for ResourceSpans {
    fn field(&mut self, key: &str, v: Json) -> Result<()> {
        match key {
            "resource" => self.resource = message(v)?,
            "scopeSpans" => self.scope_spans = repeated(v)?,
            "schemaUrl" => self.schema_url = string(v)?,
            _ => {}
        }
        Ok(())
    }
}

impl Message for ScopeSpans {
    fn field(&mut self, key: &str, v: Json) -> Result<()> {
        match key {
            "scope" => self.scope = message(v)?,
            "spans" => self.spans = repeated(v)?,
            "schemaUrl" => self.schema_url = string(v)?,
            _ => {}
        }
        Ok(())
    }
}

impl Message for Span {
    fn field(&mut self, key: &str, v: Json) -> Result<()> {
        match key {
            "traceId" => self.trace_id = trace_id(v)?,
            "spanId" => self.span_id = span_id(v)?,
            "traceState" => self.trace_state = string(v)?,
            "parentSpanId" => self.parent_span_id = span_id(v)?,
            "flags" => self.flags = uint32(v)?,
            "name" => self.name = string(v)?,
            "kind" => self.kind = span_kind(v)?,
            "startTimeUnixNano" => self.start_time_unix_nano = uint64(v)?,
            "endTimeUnixNano" => self.end_time_unix_nano = uint64(v)?,
            "attributes" => self.attributes = repeated(v)?,
            "droppedAttributesCount" => self.dropped_attributes_count = uint32(v)?,
            "events" => self.events = repeated(v)?,
            "droppedEventsCount" => self.dropped_events_count = uint32(v)?,
            "links" => self.links = repeated(v)?,
            "droppedLinksCount" => self.dropped_links_count = uint32(v)?,
            "status" => self.status = message(v)?,
            _ => {}
        }
        Ok(())
    }
}

impl Message for Event {
    fn field(&mut self, key: &str, v: Json) -> Result<()> {
        match key {
            "timeUnixNano" => self.time_unix_nano = uint64(v)?,
            "name" => self.name = string(v)?,
            "attributes" => self.attributes = repeated(v)?,
            "droppedAttributesCount" => self.dropped_attributes_count = uint32(v)?,
            _ => {}
        }
        Ok(())
    }
}

impl Message for Link {
    fn field(&mut self, key: &str, v: Json) -> Result<()> {
        match key {
            "traceId" => self.trace_id = trace_id(v)?,
            "spanId" => self.span_id = span_id(v)?,
            "traceState" => self.trace_state = string(v)?,
            "attributes" => self.attributes = repeated(v)?,
            "droppedAttributesCount" => self.dropped_attributes_count = uint32(v)?,
            "flags" => self.flags = uint32(v)?,
            _ => {}
        }
        Ok(())
    }
}

impl Message for Status {
    fn field(&mut self, key: &str, v: Json) -> Result<()> {
        match key {
            "message" => self.message = string(v)?,
            "code" => self.code = status_code(v)?,
            _ => {}
        }
        Ok(())
    }
}

// ---- metrics ----

impl Message for ExportMetricsServiceRequest {
    fn field(&mut self, key: &str, v: Json) -> Result<()> {
        match key {
            "resourceMetrics" => self.resource_metrics = repeated(v)?,
            _ => {}
        }
        Ok(())
    }
}

impl Message for ResourceMetrics {
    fn field(&mut self, key: &str, v: Json) -> Result<()> {
        match key {
            "resource" => self.resource = message(v)?,
            "scopeMetrics" => self.scope_metrics = repeated(v)?,
            "schemaUrl" => self.schema_url = string(v)?,
            _ => {}
        }
        Ok(())
    }
}

impl Message for ScopeMetrics {
    fn field(&mut self, key: &str, v: Json) -> Result<()> {
        match key {
            "scope" => self.scope = message(v)?,
            "metrics" => self.metrics = repeated(v)?,
            "schemaUrl" => self.schema_url = string(v)?,
            _ => {}
        }
        Ok(())
    }
}

impl Message for Metric {
    fn field(&mut self, key: &str, v: Json) -> Result<()> {
        use metric::Data;
        match key {
            "name" => self.name = string(v)?,
            "description" => self.description = string(v)?,
            "unit" => self.unit = string(v)?,
            "metadata" => self.metadata = repeated(v)?,
            "gauge" => oneof(&mut self.data, v, object, Data::Gauge)?,
            "sum" => oneof(&mut self.data, v, object, Data::Sum)?,
            "histogram" => oneof(&mut self.data, v, object, Data::Histogram)?,
            "exponentialHistogram" => oneof(&mut self.data, v, object, Data::ExponentialHistogram)?,
            "summary" => oneof(&mut self.data, v, object, Data::Summary)?,
            _ => {}
        }
        Ok(())
    }
}

impl Message for Gauge {
    fn field(&mut self, key: &str, v: Json) -> Result<()> {
        match key {
            "dataPoints" => self.data_points = repeated(v)?,
            _ => {}
        }
        Ok(())
    }
}

impl Message for Sum {
    fn field(&mut self, key: &str, v: Json) -> Result<()> {
        match key {
            "dataPoints" => self.data_points = repeated(v)?,
            "aggregationTemporality" => self.aggregation_temporality = aggregation_temporality(v)?,
            "isMonotonic" => self.is_monotonic = boolean(v)?,
            _ => {}
        }
        Ok(())
    }
}

impl Message for Histogram {
    fn field(&mut self, key: &str, v: Json) -> Result<()> {
        match key {
            "dataPoints" => self.data_points = repeated(v)?,
            "aggregationTemporality" => self.aggregation_temporality = aggregation_temporality(v)?,
            _ => {}
        }
        Ok(())
    }
}

impl Message for ExponentialHistogram {
    fn field(&mut self, key: &str, v: Json) -> Result<()> {
        match key {
            "dataPoints" => self.data_points = repeated(v)?,
            "aggregationTemporality" => self.aggregation_temporality = aggregation_temporality(v)?,
            _ => {}
        }
        Ok(())
    }
}

impl Message for Summary {
    fn field(&mut self, key: &str, v: Json) -> Result<()> {
        match key {
            "dataPoints" => self.data_points = repeated(v)?,
            _ => {}
        }
        Ok(())
    }
}

impl Message for NumberDataPoint {
    fn field(&mut self, key: &str, v: Json) -> Result<()> {
        use number_data_point::Value;
        match key {
            "attributes" => self.attributes = repeated(v)?,
            "startTimeUnixNano" => self.start_time_unix_nano = uint64(v)?,
            "timeUnixNano" => self.time_unix_nano = uint64(v)?,
            "asDouble" => oneof(&mut self.value, v, double, Value::AsDouble)?,
            "asInt" => oneof(&mut self.value, v, int64, Value::AsInt)?,
            "exemplars" => self.exemplars = repeated(v)?,
            "flags" => self.flags = uint32(v)?,
            _ => {}
        }
        Ok(())
    }
}

impl Message for HistogramDataPoint {
    fn field(&mut self, key: &str, v: Json) -> Result<()> {
        match key {
            "attributes" => self.attributes = repeated(v)?,
            "startTimeUnixNano" => self.start_time_unix_nano = uint64(v)?,
            "timeUnixNano" => self.time_unix_nano = uint64(v)?,
            "count" => self.count = uint64(v)?,
            "sum" => self.sum = optional(v, double)?,
            "bucketCounts" => self.bucket_counts = list(v, uint64)?,
            "explicitBounds" => self.explicit_bounds = list(v, double)?,
            "exemplars" => self.exemplars = repeated(v)?,
            "flags" => self.flags = uint32(v)?,
            "min" => self.min = optional(v, double)?,
            "max" => self.max = optional(v, double)?,
            _ => {}
        }
        Ok(())
    }
}

impl Message for ExponentialHistogramDataPoint {
    fn field(&mut self, key: &str, v: Json) -> Result<()> {
        match key {
            "attributes" => self.attributes = repeated(v)?,
            "startTimeUnixNano" => self.start_time_unix_nano = uint64(v)?,
            "timeUnixNano" => self.time_unix_nano = uint64(v)?,
            "count" => self.count = uint64(v)?,
            "sum" => self.sum = optional(v, double)?,
            "scale" => self.scale = int32(v)?,
            "zeroCount" => self.zero_count = uint64(v)?,
            "positive" => self.positive = message(v)?,
            "negative" => self.negative = message(v)?,
            "flags" => self.flags = uint32(v)?,
            "exemplars" => self.exemplars = repeated(v)?,
            "min" => self.min = optional(v, double)?,
            "max" => self.max = optional(v, double)?,
            "zeroThreshold" => self.zero_threshold = double(v)?,
            _ => {}
        }
        Ok(())
    }
}

impl Message for Buckets {
    fn field(&mut self, key: &str, v: Json) -> Result<()> {
        match key {
            "offset" => self.offset = int32(v)?,
            "bucketCounts" => self.bucket_counts = list(v, uint64)?,
            _ => {}
        }
        Ok(())
    }
}

impl Message for SummaryDataPoint {
    fn field(&mut self, key: &str, v: Json) -> Result<()> {
        match key {
            "attributes" => self.attributes = repeated(v)?,
            "startTimeUnixNano" => self.start_time_unix_nano = uint64(v)?,
            "timeUnixNano" => self.time_unix_nano = uint64(v)?,
            "count" => self.count = uint64(v)?,
            "sum" => self.sum = double(v)?,
            "quantileValues" => self.quantile_values = repeated(v)?,
            "flags" => self.flags = uint32(v)?,
            _ => {}
        }
        Ok(())
    }
}

impl Message for ValueAtQuantile {
    fn field(&mut self, key: &str, v: Json) -> Result<()> {
        match key {
            "quantile" => self.quantile = double(v)?,
            "value" => self.value = double(v)?,
            _ => {}
        }
        Ok(())
    }
}

impl Message for Exemplar {
    fn field(&mut self, key: &str, v: Json) -> Result<()> {
        use exemplar::Value;
        match key {
            "filteredAttributes" => self.filtered_attributes = repeated(v)?,
            "timeUnixNano" => self.time_unix_nano = uint64(v)?,
            "asDouble" => oneof(&mut self.value, v, double, Value::AsDouble)?,
            "asInt" => oneof(&mut self.value, v, int64, Value::AsInt)?,
            "spanId" => self.span_id = span_id(v)?,
            "traceId" => self.trace_id = trace_id(v)?,
            _ => {}
        }
        Ok(())
    }
}

// ---- logs ----

impl Message for ExportLogsServiceRequest {
    fn field(&mut self, key: &str, v: Json) -> Result<()> {
        match key {
            "resourceLogs" => self.resource_logs = repeated(v)?,
            _ => {}
        }
        Ok(())
    }
}

impl Message for ResourceLogs {
    fn field(&mut self, key: &str, v: Json) -> Result<()> {
        match key {
            "resource" => self.resource = message(v)?,
            "scopeLogs" => self.scope_logs = repeated(v)?,
            "schemaUrl" => self.schema_url = string(v)?,
            _ => {}
        }
        Ok(())
    }
}

impl Message for ScopeLogs {
    fn field(&mut self, key: &str, v: Json) -> Result<()> {
        match key {
            "scope" => self.scope = message(v)?,
            "logRecords" => self.log_records = repeated(v)?,
            "schemaUrl" => self.schema_url = string(v)?,
            _ => {}
        }
        Ok(())
    }
}

impl Message for LogRecord {
    fn field(&mut self, key: &str, v: Json) -> Result<()> {
        match key {
            "timeUnixNano" => self.time_unix_nano = uint64(v)?,
            "observedTimeUnixNano" => self.observed_time_unix_nano = uint64(v)?,
            "severityNumber" => self.severity_number = severity_number(v)?,
            "severityText" => self.severity_text = string(v)?,
            "body" => self.body = message(v)?,
            "attributes" => self.attributes = repeated(v)?,
            "droppedAttributesCount" => self.dropped_attributes_count = uint32(v)?,
            "flags" => self.flags = uint32(v)?,
            "traceId" => self.trace_id = trace_id(v)?,
            "spanId" => self.span_id = span_id(v)?,
            "eventName" => self.event_name = string(v)?,
            _ => {}
        }
        Ok(())
    }
}

// ---- responses ----

impl Message for ExportTraceServiceResponse {
    fn field(&mut self, key: &str, v: Json) -> Result<()> {
        match key {
            "partialSuccess" => self.partial_success = message(v)?,
            _ => {}
        }
        Ok(())
    }
}

impl Message for ExportTracePartialSuccess {
    fn field(&mut self, key: &str, v: Json) -> Result<()> {
        match key {
            "rejectedSpans" => self.rejected_spans = int64(v)?,
            "errorMessage" => self.error_message = string(v)?,
            _ => {}
        }
        Ok(())
    }
}

impl Message for ExportMetricsServiceResponse {
    fn field(&mut self, key: &str, v: Json) -> Result<()> {
        match key {
            "partialSuccess" => self.partial_success = message(v)?,
            _ => {}
        }
        Ok(())
    }
}

impl Message for ExportMetricsPartialSuccess {
    fn field(&mut self, key: &str, v: Json) -> Result<()> {
        match key {
            "rejectedDataPoints" => self.rejected_data_points = int64(v)?,
            "errorMessage" => self.error_message = string(v)?,
            _ => {}
        }
        Ok(())
    }
}

impl Message for ExportLogsServiceResponse {
    fn field(&mut self, key: &str, v: Json) -> Result<()> {
        match key {
            "partialSuccess" => self.partial_success = message(v)?,
            _ => {}
        }
        Ok(())
    }
}

impl Message for ExportLogsPartialSuccess {
    fn field(&mut self, key: &str, v: Json) -> Result<()> {
        match key {
            "rejectedLogRecords" => self.rejected_log_records = int64(v)?,
            "errorMessage" => self.error_message = string(v)?,
            _ => {}
        }
        Ok(())
    }
}
