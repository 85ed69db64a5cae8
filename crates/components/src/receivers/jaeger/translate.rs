//! The rules both translations share (contrib `pkg/translator/jaeger`): span kind and status
//! from tags, the resource's `hostname` and `jaeger.version`, ids, link attributes.
//!
//! Attributes are written with `attrs::upsert` and removed with `attrs::remove`, which are
//! pdata's `Map.Put*` and `Map.Remove`: a repeated tag key keeps its first position with the
//! last value, and a removal moves the last entry into the hole, so the attribute order is
//! the Collector's.

use switchyard_pdata::attrs;
use switchyard_pdata::proto::common::v1::any_value::Value;
use switchyard_pdata::proto::common::v1::{AnyValue, KeyValue};
use switchyard_pdata::proto::trace::v1::span::SpanKind;
use switchyard_pdata::proto::trace::v1::status::StatusCode;
use switchyard_pdata::proto::trace::v1::{Span, Status};

pub(super) const TAG_SPAN_KIND: &str = "span.kind";
const TAG_ERROR: &str = "error";
const TAG_HTTP_STATUS_MSG: &str = "http.status_message";
const TAG_HTTP_STATUS_CODE: &str = "http.status_code";
const OTEL_STATUS_CODE: &str = "otel.status_code";
const OTEL_STATUS_DESCRIPTION: &str = "otel.status_description";
/// The log field that names an event.
pub(super) const EVENT_NAME: &str = "event";
pub(super) const SERVICE_NAME: &str = "service.name";
const REF_TYPE: &str = "opentracing.ref_type";
/// The OTLP → Jaeger exporters' service name for a resource without one.
pub(super) const NO_SERVICE_NAME: &str = "OTLPResourceNoServiceName";
/// The W3C "sampled" trace flag; Jaeger's flag 1 means the same.
const SAMPLED: u32 = 0x1;

pub(super) fn str_value(s: String) -> AnyValue {
    AnyValue { value: Some(Value::StringValue(s)) }
}

pub(super) fn put(dest: &mut Vec<KeyValue>, key: String, value: Value) {
    attrs::upsert(dest, key, AnyValue { value: Some(value) });
}

/// `Value.Str()`: the string of a string value, `""` for any other kind.
fn str_of<'a>(a: &'a [KeyValue], key: &str) -> Option<&'a str> {
    attrs::get(a, key).map(|v| match &v.value {
        Some(Value::StringValue(s)) => s.as_str(),
        _ => "",
    })
}

/// A 128-bit trace id from its halves, big-endian; all zero is the empty id (as pdata
/// writes it: absent on the wire).
pub(super) fn trace_id(high: u64, low: u64) -> Vec<u8> {
    if high == 0 && low == 0 {
        return Vec::new();
    }
    let mut id = Vec::with_capacity(16);
    id.extend_from_slice(&high.to_be_bytes());
    id.extend_from_slice(&low.to_be_bytes());
    id
}

/// A span id; zero is the empty id.
pub(super) fn span_id(id: u64) -> Vec<u8> {
    if id == 0 {
        Vec::new()
    } else {
        id.to_be_bytes().to_vec()
    }
}

/// Jaeger's flags carry "sampled" (1), "debug" (2) and "firehose" (8); only "sampled" has a
/// W3C trace flag, so only it is kept.
pub(super) fn span_flags(jaeger_flags: u32) -> u32 {
    jaeger_flags & SAMPLED
}

/// The `opentracing.ref_type` attribute of a link.
pub(super) fn ref_type_attr(child_of: bool) -> KeyValue {
    KeyValue {
        key: REF_TYPE.into(),
        value: Some(str_value(if child_of { "child_of" } else { "follows_from" }.into())),
        ..Default::default()
    }
}

/// `span.kind` (removed) → the span's kind; an unknown value gives "unspecified".
pub(super) fn take_kind(span: &mut Span) {
    let Some(v) = attrs::get(&span.attributes, TAG_SPAN_KIND) else { return };
    let kind = match &v.value {
        Some(Value::StringValue(s)) => match s.as_str() {
            "client" => SpanKind::Client,
            "server" => SpanKind::Server,
            "producer" => SpanKind::Producer,
            "consumer" => SpanKind::Consumer,
            "internal" => SpanKind::Internal,
            _ => SpanKind::Unspecified,
        },
        _ => SpanKind::Unspecified,
    };
    span.kind = kind as i32;
    attrs::remove(&mut span.attributes, TAG_SPAN_KIND);
}

/// The status from `error`, `otel.status_code`/`otel.status_description` and, failing
/// those, `http.status_code` (the Collector's `setInternalSpanStatus`, same precedence and
/// same tags removed). Runs after the kind is set: a 4xx is an error only for clients.
pub(super) fn take_status(span: &mut Span) {
    let a = &mut span.attributes;
    let mut code = StatusCode::Unset;
    let mut message = String::new();
    let mut exists = false;
    if let Some(Some(Value::BoolValue(true))) = attrs::get(a, TAG_ERROR).map(|v| &v.value) {
        code = StatusCode::Error;
        attrs::remove(a, TAG_ERROR);
        exists = true;
        if let Some(desc) = take_description(a) {
            message = desc;
        } else if let Some(m) = str_of(a, TAG_HTTP_STATUS_MSG) {
            message = m.to_string();
        }
    }
    if let Some(c) = str_of(a, OTEL_STATUS_CODE) {
        if !exists {
            exists = true;
            if c.eq_ignore_ascii_case("OK") {
                code = StatusCode::Ok;
            } else if c.eq_ignore_ascii_case("ERROR") {
                code = StatusCode::Error;
            }
            if let Some(desc) = take_description(a) {
                message = desc;
            }
        }
        attrs::remove(a, OTEL_STATUS_CODE);
    } else if let (false, Some(v)) = (exists, attrs::get(a, TAG_HTTP_STATUS_CODE)) {
        let http = match &v.value {
            Some(Value::IntValue(i)) => Some(*i),
            Some(Value::StringValue(s)) => s.parse::<i64>().ok(),
            _ => None,
        };
        if let Some(http) = http {
            let c = status_from_http(http, span.kind);
            if c != StatusCode::Unset {
                exists = true;
                code = c;
            }
            if let Some(m) = str_of(a, TAG_HTTP_STATUS_MSG) {
                message = m.to_string();
            }
        }
    }
    if exists {
        span.status = Some(Status { code: code as i32, message });
    }
}

fn take_description(a: &mut Vec<KeyValue>) -> Option<String> {
    let desc = str_of(a, OTEL_STATUS_DESCRIPTION)?.to_string();
    attrs::remove(a, OTEL_STATUS_DESCRIPTION);
    Some(desc)
}

/// 4xx: an error for a client, unset for a server; otherwise 100..399 unset, the rest errors.
fn status_from_http(code: i64, kind: i32) -> StatusCode {
    if (400..500).contains(&code) {
        if kind == SpanKind::Client as i32 {
            return StatusCode::Error;
        }
        if kind == SpanKind::Server as i32 {
            return StatusCode::Unset;
        }
    }
    if (100..399).contains(&code) {
        StatusCode::Unset
    } else {
        StatusCode::Error
    }
}

/// The resource's special keys: `hostname` → `host.name` (when that is absent) and
/// `jaeger.version` → `opencensus.exporterversion` = `Jaeger-<version>`.
pub(super) fn resource_special_keys(a: &mut Vec<KeyValue>) {
    if attrs::get(a, "host.name").is_none() {
        if let Some(v) = attrs::get(a, "hostname").cloned() {
            attrs::upsert(a, "host.name", v);
            attrs::remove(a, "hostname");
        }
    }
    if attrs::get(a, "opencensus.exporterversion").is_none() {
        if let Some(v) = str_of(a, "jaeger.version") {
            let version = format!("Jaeger-{v}");
            attrs::upsert(a, "opencensus.exporterversion", str_value(version));
            attrs::remove(a, "jaeger.version");
        }
    }
}

/// Events: each log's fields become attributes, and an `event` field (removed) names it.
pub(super) fn name_event(event: &mut switchyard_pdata::proto::trace::v1::span::Event) {
    if let Some(name) = str_of(&event.attributes, EVENT_NAME) {
        event.name = name.to_string();
        attrs::remove(&mut event.attributes, EVENT_NAME);
    }
}
