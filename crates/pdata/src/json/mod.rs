//! OTLP/JSON: the JSON encoding of OTLP export requests and responses (OTLP/HTTP with
//! `Content-Type: application/json`), for the prost types of [`crate::proto`].
//!
//! The `with-serde` feature of `opentelemetry-proto` does not follow the OTLP/JSON mapping
//! closely enough (it loses data), so this is our own codec, modelled on the OpenTelemetry
//! Collector's pdata:
//!
//! - **Decoding is lenient.** Keys may be lowerCamelCase or snake_case; unknown keys are
//!   ignored; `null` means the default value; integers (64- and 32-bit) may be JSON numbers
//!   or decimal strings; enums may be integers or proto names (`"SPAN_KIND_SERVER"`); doubles
//!   may be numbers, numeric strings, `"NaN"`, `"Infinity"` or `"-Infinity"`; trace and span
//!   ids are hex of the exact length in any case (empty means unset); other bytes are
//!   base64, standard or URL-safe, padded or not. Errors name the JSON path of the
//!   offending value ([`JsonError`]).
//! - **Encoding is strict.** lowerCamelCase keys; fields with default values omitted (but a
//!   oneof member that is set is always written); 64-bit integers as decimal strings; 32-bit
//!   integers and enums as numbers; ids as lowercase hex; bytes as padded standard base64;
//!   non-finite doubles as `"NaN"`, `"Infinity"`, `"-Infinity"`. The output is written
//!   straight into a `Vec<u8>`.
//!
//! Decoding parses the body into a `serde_json::Value` tree first (a streaming decoder would
//! need `serde` itself as a dependency); serde_json's nesting limit of 128 levels makes deeply
//! nested input an error rather than a stack overflow. serde_json's `float_roundtrip` feature
//! is on, so doubles written as JSON numbers are parsed exactly.

mod decode;
mod encode;
mod error;
#[cfg(test)]
mod tests;

pub use error::JsonError;

use crate::proto::collector::logs::v1::{ExportLogsServiceRequest, ExportLogsServiceResponse};
use crate::proto::collector::metrics::v1::{ExportMetricsServiceRequest, ExportMetricsServiceResponse};
use crate::proto::collector::trace::v1::{ExportTraceServiceRequest, ExportTraceServiceResponse};

/// True when `body` nests objects and arrays deeper than `max` levels. One pass over the
/// bytes, no allocation: receivers run it before parsing so a deeply nested body costs a
/// scan, not a tree (and the limit is configurable, unlike serde_json's fixed 128).
/// Brackets inside strings do not count; malformed JSON is left to the parser.
pub fn nesting_exceeds(body: &[u8], max: usize) -> bool {
    let mut depth = 0usize;
    let mut in_string = false;
    let mut escaped = false;
    for &b in body {
        if in_string {
            if escaped {
                escaped = false;
            } else if b == b'\\' {
                escaped = true;
            } else if b == b'"' {
                in_string = false;
            }
            continue;
        }
        match b {
            b'"' => in_string = true,
            b'{' | b'[' => {
                depth += 1;
                if depth > max {
                    return true;
                }
            }
            b'}' | b']' => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    false
}

/// Decodes an OTLP/JSON traces export request (the body of `POST /v1/traces`).
pub fn decode_traces(body: &[u8]) -> Result<ExportTraceServiceRequest, JsonError> {
    decode::decode(body)
}

/// Decodes an OTLP/JSON metrics export request (the body of `POST /v1/metrics`).
pub fn decode_metrics(body: &[u8]) -> Result<ExportMetricsServiceRequest, JsonError> {
    decode::decode(body)
}

/// Decodes an OTLP/JSON logs export request (the body of `POST /v1/logs`).
pub fn decode_logs(body: &[u8]) -> Result<ExportLogsServiceRequest, JsonError> {
    decode::decode(body)
}

/// Encodes a traces export request as OTLP/JSON.
pub fn encode_traces(req: &ExportTraceServiceRequest) -> Vec<u8> {
    encode::to_vec(req)
}

/// Encodes a metrics export request as OTLP/JSON.
pub fn encode_metrics(req: &ExportMetricsServiceRequest) -> Vec<u8> {
    encode::to_vec(req)
}

/// Encodes a logs export request as OTLP/JSON.
pub fn encode_logs(req: &ExportLogsServiceRequest) -> Vec<u8> {
    encode::to_vec(req)
}

/// Encodes a traces export response: `{}`, or
/// `{"partialSuccess":{"rejectedSpans":"3","errorMessage":"..."}}`.
pub fn encode_trace_response(r: &ExportTraceServiceResponse) -> Vec<u8> {
    encode::to_vec(r)
}

/// Encodes a metrics export response: `{}`, or
/// `{"partialSuccess":{"rejectedDataPoints":"3","errorMessage":"..."}}`.
pub fn encode_metrics_response(r: &ExportMetricsServiceResponse) -> Vec<u8> {
    encode::to_vec(r)
}

/// Encodes a logs export response: `{}`, or
/// `{"partialSuccess":{"rejectedLogRecords":"3","errorMessage":"..."}}`.
pub fn encode_logs_response(r: &ExportLogsServiceResponse) -> Vec<u8> {
    encode::to_vec(r)
}

/// Decodes a traces export response (what an OTLP/HTTP server answers with JSON).
pub fn decode_trace_response(body: &[u8]) -> Result<ExportTraceServiceResponse, JsonError> {
    decode::decode(body)
}

/// Decodes a metrics export response.
pub fn decode_metrics_response(body: &[u8]) -> Result<ExportMetricsServiceResponse, JsonError> {
    decode::decode(body)
}

/// Decodes a logs export response.
pub fn decode_logs_response(body: &[u8]) -> Result<ExportLogsServiceResponse, JsonError> {
    decode::decode(body)
}

/// Encodes a `google.rpc.Status` for an OTLP/HTTP error body, such as
/// `{"code":3,"message":"invalid trace id"}`; `details` is always left out, and so are a
/// zero `code` and an empty `message`.
pub fn encode_status(code: i32, message: &str) -> Vec<u8> {
    let mut out = Vec::with_capacity(message.len() + 32);
    let mut o = encode::Obj::new(&mut out);
    o.int32("code", code);
    o.string("message", message);
    o.end();
    out
}
