//! From a Kafka message to data: the value decoded per `encoding`, the listed headers copied
//! into resource attributes (`header_extraction`), and every header as client metadata.

use std::time::{SystemTime, UNIX_EPOCH};

use bytes::Bytes;
use switchyard_core::consumer::RequestContext;
use switchyard_pdata::proto::collector::logs::v1::ExportLogsServiceRequest;
use switchyard_pdata::proto::common::v1::{any_value, AnyValue, ArrayValue, KeyValue, KeyValueList};
use switchyard_pdata::proto::logs::v1::{LogRecord, ResourceLogs, ScopeLogs};
use switchyard_pdata::proto::resource::v1::Resource;
use switchyard_pdata::value::str_value;
use switchyard_pdata::{attrs, Logs, Metrics, Profiles, Traces};

use super::config::ReceiveEncoding;
use crate::otlp_signal::OtlpSignal;

/// The prefix of resource attributes made from headers.
pub const HEADER_ATTRIBUTE_PREFIX: &str = "kafka.header.";

/// What the receiver needs from each signal.
pub trait ReceiveSignal: OtlpSignal {
    /// The resources of a request, for header extraction.
    fn resources_mut(req: &mut Self::Request) -> Vec<&mut Option<Resource>>;

    /// A request from a log body encoding (`raw`, `text`, `json`): logs only.
    fn from_log_body(_encoding: ReceiveEncoding, _payload: &[u8]) -> Result<Self::Request, String> {
        Err("this encoding is for logs only".into())
    }
}

macro_rules! resources_mut {
    ($ty:ty, $field:ident) => {
        impl ReceiveSignal for $ty {
            fn resources_mut(req: &mut Self::Request) -> Vec<&mut Option<Resource>> {
                req.$field.iter_mut().map(|r| &mut r.resource).collect()
            }
        }
    };
}

resources_mut!(Traces, resource_spans);
resources_mut!(Metrics, resource_metrics);
resources_mut!(Profiles, resource_profiles);

impl ReceiveSignal for Logs {
    fn resources_mut(req: &mut Self::Request) -> Vec<&mut Option<Resource>> {
        req.resource_logs.iter_mut().map(|r| &mut r.resource).collect()
    }

    fn from_log_body(encoding: ReceiveEncoding, payload: &[u8]) -> Result<ExportLogsServiceRequest, String> {
        let now = || SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_nanos() as u64);
        let (body, observed) = match encoding {
            ReceiveEncoding::Raw => (any_value::Value::BytesValue(payload.to_vec()), 0),
            ReceiveEncoding::Text => {
                (any_value::Value::StringValue(String::from_utf8_lossy(payload).into_owned()), now())
            }
            ReceiveEncoding::Json => {
                let v: serde_json::Value = serde_json::from_slice(payload).map_err(|e| format!("invalid JSON: {e}"))?;
                let serde_json::Value::Object(map) = v else {
                    return Err("the JSON value is not an object".into());
                };
                (any_value::Value::KvlistValue(kvlist(map)), now())
            }
            _ => return Err("not a log body encoding".into()),
        };
        let record = LogRecord {
            observed_time_unix_nano: observed,
            body: Some(AnyValue { value: Some(body) }),
            ..Default::default()
        };
        Ok(ExportLogsServiceRequest {
            resource_logs: vec![ResourceLogs {
                resource: Some(Resource::default()),
                scope_logs: vec![ScopeLogs { log_records: vec![record], ..Default::default() }],
                ..Default::default()
            }],
        })
    }
}

fn kvlist(map: serde_json::Map<String, serde_json::Value>) -> KeyValueList {
    KeyValueList {
        values: map
            .into_iter()
            .map(|(k, v)| KeyValue { key: k, value: json_to_any(v), ..Default::default() })
            .collect(),
    }
}

/// A JSON value as the Collector's `json` logs encoding stores it (`FromRaw` of Go's decoded
/// JSON): numbers become doubles, null an empty value.
pub fn json_to_any(v: serde_json::Value) -> Option<AnyValue> {
    use serde_json::Value as J;
    let value = match v {
        J::Null => return Some(AnyValue { value: None }),
        J::Bool(b) => any_value::Value::BoolValue(b),
        J::Number(n) => any_value::Value::DoubleValue(n.as_f64().unwrap_or(f64::NAN)),
        J::String(s) => any_value::Value::StringValue(s),
        J::Array(a) => any_value::Value::ArrayValue(ArrayValue {
            values: a.into_iter().map(|v| json_to_any(v).unwrap_or_default()).collect(),
        }),
        J::Object(m) => any_value::Value::KvlistValue(kvlist(m)),
    };
    Some(AnyValue { value: Some(value) })
}

/// Reads a message value (an absent value is empty). `otlp_proto` stays encoded, as an OTLP
/// receiver's request does: walked (checked and counted) and decoded only if a component
/// reads its fields, so Kafka-to-OTLP forwarding sends the message's own bytes.
pub fn decode<S: ReceiveSignal>(encoding: ReceiveEncoding, payload: &[u8]) -> Result<S, String> {
    match encoding {
        ReceiveEncoding::OtlpProto => {
            S::from_encoded(Bytes::copy_from_slice(payload)).map_err(|e| format!("invalid OTLP protobuf: {e}"))
        }
        ReceiveEncoding::OtlpJson => {
            S::decode_json(payload).map(S::from_request).map_err(|e| format!("invalid OTLP/JSON: {e}"))
        }
        other => S::from_log_body(other, payload).map(S::from_request),
    }
}

/// Sets `kafka.header.<name>` on every resource for each listed header the message has
/// (its first value, as text). Returns the names that were missing.
pub fn extract_headers<'a, S: ReceiveSignal>(
    req: &mut S::Request,
    wanted: &'a [String],
    headers: &[(String, Vec<u8>)],
) -> Vec<&'a str> {
    let mut missing = Vec::new();
    for name in wanted {
        let Some((_, value)) = headers.iter().find(|(k, _)| k == name) else {
            missing.push(name.as_str());
            continue;
        };
        let key = format!("{HEADER_ATTRIBUTE_PREFIX}{name}");
        let value = String::from_utf8_lossy(value).into_owned();
        for resource in S::resources_mut(req) {
            let attrs = &mut resource.get_or_insert_with(Resource::default).attributes;
            attrs::upsert(attrs, key.as_str(), str_value(value.as_str()));
        }
    }
    missing
}

/// The request context of a message: its headers as client metadata (those that are valid
/// HTTP header names and values), so `include_metadata_keys`, batching by `metadata_keys`
/// and auth-less routing downstream see them.
pub fn request_context(headers: &[(String, Vec<u8>)]) -> RequestContext {
    if headers.is_empty() {
        return RequestContext::default();
    }
    let mut map = http::HeaderMap::new();
    for (k, v) in headers {
        if let (Ok(name), Ok(value)) =
            (http::header::HeaderName::from_bytes(k.as_bytes()), http::header::HeaderValue::from_bytes(v))
        {
            map.append(name, value);
        }
    }
    if map.is_empty() {
        return RequestContext::default();
    }
    RequestContext::with_metadata(Some(std::sync::Arc::new(map)))
}
