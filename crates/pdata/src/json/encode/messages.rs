//! [`Encode`] for every OTLP message: fields in `.proto` declaration order, defaults omitted.

use super::{
    write_base64, write_bool, write_f64, write_i64, write_quoted_i64, write_quoted_u64, write_str, Encode, Obj,
};
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

impl Encode for AnyValue {
    fn encode(&self, out: &mut Vec<u8>) {
        use any_value::Value;
        let mut o = Obj::new(out);
        // The oneof member that is set is always written, even with its default value.
        match &self.value {
            None => {}
            Some(Value::StringValue(s)) => write_str(o.key("stringValue"), s),
            Some(Value::BoolValue(b)) => write_bool(o.key("boolValue"), *b),
            Some(Value::IntValue(i)) => write_quoted_i64(o.key("intValue"), *i),
            Some(Value::DoubleValue(d)) => write_f64(o.key("doubleValue"), *d),
            Some(Value::ArrayValue(a)) => a.encode(o.key("arrayValue")),
            Some(Value::KvlistValue(l)) => l.encode(o.key("kvlistValue")),
            Some(Value::BytesValue(b)) => write_base64(o.key("bytesValue"), b),
            Some(Value::StringValueStrindex(i)) => write_i64(o.key("stringValueStrindex"), i64::from(*i)),
        }
        o.end();
    }
}

impl Encode for ArrayValue {
    fn encode(&self, out: &mut Vec<u8>) {
        let mut o = Obj::new(out);
        o.repeated("values", &self.values);
        o.end();
    }
}

impl Encode for KeyValueList {
    fn encode(&self, out: &mut Vec<u8>) {
        let mut o = Obj::new(out);
        o.repeated("values", &self.values);
        o.end();
    }
}

impl Encode for KeyValue {
    fn encode(&self, out: &mut Vec<u8>) {
        let mut o = Obj::new(out);
        o.string("key", &self.key);
        o.message("value", self.value.as_ref());
        o.int32("keyStrindex", self.key_strindex);
        o.end();
    }
}

impl Encode for InstrumentationScope {
    fn encode(&self, out: &mut Vec<u8>) {
        let mut o = Obj::new(out);
        o.string("name", &self.name);
        o.string("version", &self.version);
        o.repeated("attributes", &self.attributes);
        o.uint32("droppedAttributesCount", self.dropped_attributes_count);
        o.end();
    }
}

impl Encode for EntityRef {
    fn encode(&self, out: &mut Vec<u8>) {
        let mut o = Obj::new(out);
        o.string("schemaUrl", &self.schema_url);
        o.string("type", &self.r#type);
        o.list("idKeys", &self.id_keys, |out, s| write_str(out, s));
        o.list("descriptionKeys", &self.description_keys, |out, s| write_str(out, s));
        o.end();
    }
}

impl Encode for Resource {
    fn encode(&self, out: &mut Vec<u8>) {
        let mut o = Obj::new(out);
        o.repeated("attributes", &self.attributes);
        o.uint32("droppedAttributesCount", self.dropped_attributes_count);
        o.repeated("entityRefs", &self.entity_refs);
        o.end();
    }
}

// ---- traces ----

impl Encode for ExportTraceServiceRequest {
    fn encode(&self, out: &mut Vec<u8>) {
        let mut o = Obj::new(out);
        o.repeated("resourceSpans", &self.resource_spans);
        o.end();
    }
}

impl Encode for ResourceSpans {
    fn encode(&self, out: &mut Vec<u8>) {
        let mut o = Obj::new(out);
        o.message("resource", self.resource.as_ref());
        o.repeated("scopeSpans", &self.scope_spans);
        o.string("schemaUrl", &self.schema_url);
        o.end();
    }
}

impl Encode for ScopeSpans {
    fn encode(&self, out: &mut Vec<u8>) {
        let mut o = Obj::new(out);
        o.message("scope", self.scope.as_ref());
        o.repeated("spans", &self.spans);
        o.string("schemaUrl", &self.schema_url);
        o.end();
    }
}

impl Encode for Span {
    fn encode(&self, out: &mut Vec<u8>) {
        let mut o = Obj::new(out);
        o.id("traceId", &self.trace_id);
        o.id("spanId", &self.span_id);
        o.string("traceState", &self.trace_state);
        o.id("parentSpanId", &self.parent_span_id);
        o.uint32("flags", self.flags);
        o.string("name", &self.name);
        o.int32("kind", self.kind);
        o.uint64("startTimeUnixNano", self.start_time_unix_nano);
        o.uint64("endTimeUnixNano", self.end_time_unix_nano);
        o.repeated("attributes", &self.attributes);
        o.uint32("droppedAttributesCount", self.dropped_attributes_count);
        o.repeated("events", &self.events);
        o.uint32("droppedEventsCount", self.dropped_events_count);
        o.repeated("links", &self.links);
        o.uint32("droppedLinksCount", self.dropped_links_count);
        o.message("status", self.status.as_ref());
        o.end();
    }
}

impl Encode for Event {
    fn encode(&self, out: &mut Vec<u8>) {
        let mut o = Obj::new(out);
        o.uint64("timeUnixNano", self.time_unix_nano);
        o.string("name", &self.name);
        o.repeated("attributes", &self.attributes);
        o.uint32("droppedAttributesCount", self.dropped_attributes_count);
        o.end();
    }
}

impl Encode for Link {
    fn encode(&self, out: &mut Vec<u8>) {
        let mut o = Obj::new(out);
        o.id("traceId", &self.trace_id);
        o.id("spanId", &self.span_id);
        o.string("traceState", &self.trace_state);
        o.repeated("attributes", &self.attributes);
        o.uint32("droppedAttributesCount", self.dropped_attributes_count);
        o.uint32("flags", self.flags);
        o.end();
    }
}

impl Encode for Status {
    fn encode(&self, out: &mut Vec<u8>) {
        let mut o = Obj::new(out);
        o.string("message", &self.message);
        o.int32("code", self.code);
        o.end();
    }
}

// ---- metrics ----

impl Encode for ExportMetricsServiceRequest {
    fn encode(&self, out: &mut Vec<u8>) {
        let mut o = Obj::new(out);
        o.repeated("resourceMetrics", &self.resource_metrics);
        o.end();
    }
}

impl Encode for ResourceMetrics {
    fn encode(&self, out: &mut Vec<u8>) {
        let mut o = Obj::new(out);
        o.message("resource", self.resource.as_ref());
        o.repeated("scopeMetrics", &self.scope_metrics);
        o.string("schemaUrl", &self.schema_url);
        o.end();
    }
}

impl Encode for ScopeMetrics {
    fn encode(&self, out: &mut Vec<u8>) {
        let mut o = Obj::new(out);
        o.message("scope", self.scope.as_ref());
        o.repeated("metrics", &self.metrics);
        o.string("schemaUrl", &self.schema_url);
        o.end();
    }
}

impl Encode for Metric {
    fn encode(&self, out: &mut Vec<u8>) {
        use metric::Data;
        let mut o = Obj::new(out);
        o.string("name", &self.name);
        o.string("description", &self.description);
        o.string("unit", &self.unit);
        match &self.data {
            None => {}
            Some(Data::Gauge(g)) => g.encode(o.key("gauge")),
            Some(Data::Sum(s)) => s.encode(o.key("sum")),
            Some(Data::Histogram(h)) => h.encode(o.key("histogram")),
            Some(Data::ExponentialHistogram(h)) => h.encode(o.key("exponentialHistogram")),
            Some(Data::Summary(s)) => s.encode(o.key("summary")),
        }
        o.repeated("metadata", &self.metadata);
        o.end();
    }
}

impl Encode for Gauge {
    fn encode(&self, out: &mut Vec<u8>) {
        let mut o = Obj::new(out);
        o.repeated("dataPoints", &self.data_points);
        o.end();
    }
}

impl Encode for Sum {
    fn encode(&self, out: &mut Vec<u8>) {
        let mut o = Obj::new(out);
        o.repeated("dataPoints", &self.data_points);
        o.int32("aggregationTemporality", self.aggregation_temporality);
        o.boolean("isMonotonic", self.is_monotonic);
        o.end();
    }
}

impl Encode for Histogram {
    fn encode(&self, out: &mut Vec<u8>) {
        let mut o = Obj::new(out);
        o.repeated("dataPoints", &self.data_points);
        o.int32("aggregationTemporality", self.aggregation_temporality);
        o.end();
    }
}

impl Encode for ExponentialHistogram {
    fn encode(&self, out: &mut Vec<u8>) {
        let mut o = Obj::new(out);
        o.repeated("dataPoints", &self.data_points);
        o.int32("aggregationTemporality", self.aggregation_temporality);
        o.end();
    }
}

impl Encode for Summary {
    fn encode(&self, out: &mut Vec<u8>) {
        let mut o = Obj::new(out);
        o.repeated("dataPoints", &self.data_points);
        o.end();
    }
}

impl Encode for NumberDataPoint {
    fn encode(&self, out: &mut Vec<u8>) {
        use number_data_point::Value;
        let mut o = Obj::new(out);
        o.repeated("attributes", &self.attributes);
        o.uint64("startTimeUnixNano", self.start_time_unix_nano);
        o.uint64("timeUnixNano", self.time_unix_nano);
        match self.value {
            None => {}
            Some(Value::AsDouble(d)) => write_f64(o.key("asDouble"), d),
            Some(Value::AsInt(i)) => write_quoted_i64(o.key("asInt"), i),
        }
        o.repeated("exemplars", &self.exemplars);
        o.uint32("flags", self.flags);
        o.end();
    }
}

impl Encode for HistogramDataPoint {
    fn encode(&self, out: &mut Vec<u8>) {
        let mut o = Obj::new(out);
        o.repeated("attributes", &self.attributes);
        o.uint64("startTimeUnixNano", self.start_time_unix_nano);
        o.uint64("timeUnixNano", self.time_unix_nano);
        o.uint64("count", self.count);
        o.optional_double("sum", self.sum);
        o.list("bucketCounts", &self.bucket_counts, |out, n| write_quoted_u64(out, *n));
        o.list("explicitBounds", &self.explicit_bounds, |out, b| write_f64(out, *b));
        o.repeated("exemplars", &self.exemplars);
        o.uint32("flags", self.flags);
        o.optional_double("min", self.min);
        o.optional_double("max", self.max);
        o.end();
    }
}

impl Encode for ExponentialHistogramDataPoint {
    fn encode(&self, out: &mut Vec<u8>) {
        let mut o = Obj::new(out);
        o.repeated("attributes", &self.attributes);
        o.uint64("startTimeUnixNano", self.start_time_unix_nano);
        o.uint64("timeUnixNano", self.time_unix_nano);
        o.uint64("count", self.count);
        o.optional_double("sum", self.sum);
        o.int32("scale", self.scale);
        o.uint64("zeroCount", self.zero_count);
        o.message("positive", self.positive.as_ref());
        o.message("negative", self.negative.as_ref());
        o.uint32("flags", self.flags);
        o.repeated("exemplars", &self.exemplars);
        o.optional_double("min", self.min);
        o.optional_double("max", self.max);
        o.double("zeroThreshold", self.zero_threshold);
        o.end();
    }
}

impl Encode for Buckets {
    fn encode(&self, out: &mut Vec<u8>) {
        let mut o = Obj::new(out);
        o.int32("offset", self.offset);
        o.list("bucketCounts", &self.bucket_counts, |out, n| write_quoted_u64(out, *n));
        o.end();
    }
}

impl Encode for SummaryDataPoint {
    fn encode(&self, out: &mut Vec<u8>) {
        let mut o = Obj::new(out);
        o.repeated("attributes", &self.attributes);
        o.uint64("startTimeUnixNano", self.start_time_unix_nano);
        o.uint64("timeUnixNano", self.time_unix_nano);
        o.uint64("count", self.count);
        o.double("sum", self.sum);
        o.repeated("quantileValues", &self.quantile_values);
        o.uint32("flags", self.flags);
        o.end();
    }
}

impl Encode for ValueAtQuantile {
    fn encode(&self, out: &mut Vec<u8>) {
        let mut o = Obj::new(out);
        o.double("quantile", self.quantile);
        o.double("value", self.value);
        o.end();
    }
}

impl Encode for Exemplar {
    fn encode(&self, out: &mut Vec<u8>) {
        use exemplar::Value;
        let mut o = Obj::new(out);
        o.repeated("filteredAttributes", &self.filtered_attributes);
        o.uint64("timeUnixNano", self.time_unix_nano);
        match self.value {
            None => {}
            Some(Value::AsDouble(d)) => write_f64(o.key("asDouble"), d),
            Some(Value::AsInt(i)) => write_quoted_i64(o.key("asInt"), i),
        }
        o.id("spanId", &self.span_id);
        o.id("traceId", &self.trace_id);
        o.end();
    }
}

// ---- logs ----

impl Encode for ExportLogsServiceRequest {
    fn encode(&self, out: &mut Vec<u8>) {
        let mut o = Obj::new(out);
        o.repeated("resourceLogs", &self.resource_logs);
        o.end();
    }
}

impl Encode for ResourceLogs {
    fn encode(&self, out: &mut Vec<u8>) {
        let mut o = Obj::new(out);
        o.message("resource", self.resource.as_ref());
        o.repeated("scopeLogs", &self.scope_logs);
        o.string("schemaUrl", &self.schema_url);
        o.end();
    }
}

impl Encode for ScopeLogs {
    fn encode(&self, out: &mut Vec<u8>) {
        let mut o = Obj::new(out);
        o.message("scope", self.scope.as_ref());
        o.repeated("logRecords", &self.log_records);
        o.string("schemaUrl", &self.schema_url);
        o.end();
    }
}

impl Encode for LogRecord {
    fn encode(&self, out: &mut Vec<u8>) {
        let mut o = Obj::new(out);
        o.uint64("timeUnixNano", self.time_unix_nano);
        o.uint64("observedTimeUnixNano", self.observed_time_unix_nano);
        o.int32("severityNumber", self.severity_number);
        o.string("severityText", &self.severity_text);
        o.message("body", self.body.as_ref());
        o.repeated("attributes", &self.attributes);
        o.uint32("droppedAttributesCount", self.dropped_attributes_count);
        o.uint32("flags", self.flags);
        o.id("traceId", &self.trace_id);
        o.id("spanId", &self.span_id);
        o.string("eventName", &self.event_name);
        o.end();
    }
}

// ---- responses ----

impl Encode for ExportTraceServiceResponse {
    fn encode(&self, out: &mut Vec<u8>) {
        let mut o = Obj::new(out);
        o.message("partialSuccess", self.partial_success.as_ref());
        o.end();
    }
}

impl Encode for ExportTracePartialSuccess {
    fn encode(&self, out: &mut Vec<u8>) {
        let mut o = Obj::new(out);
        o.int64("rejectedSpans", self.rejected_spans);
        o.string("errorMessage", &self.error_message);
        o.end();
    }
}

impl Encode for ExportMetricsServiceResponse {
    fn encode(&self, out: &mut Vec<u8>) {
        let mut o = Obj::new(out);
        o.message("partialSuccess", self.partial_success.as_ref());
        o.end();
    }
}

impl Encode for ExportMetricsPartialSuccess {
    fn encode(&self, out: &mut Vec<u8>) {
        let mut o = Obj::new(out);
        o.int64("rejectedDataPoints", self.rejected_data_points);
        o.string("errorMessage", &self.error_message);
        o.end();
    }
}

impl Encode for ExportLogsServiceResponse {
    fn encode(&self, out: &mut Vec<u8>) {
        let mut o = Obj::new(out);
        o.message("partialSuccess", self.partial_success.as_ref());
        o.end();
    }
}

impl Encode for ExportLogsPartialSuccess {
    fn encode(&self, out: &mut Vec<u8>) {
        let mut o = Obj::new(out);
        o.int64("rejectedLogRecords", self.rejected_log_records);
        o.string("errorMessage", &self.error_message);
        o.end();
    }
}
