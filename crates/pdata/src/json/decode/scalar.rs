//! Converters from one JSON value to a protobuf scalar, lenient like the Collector's pdata:
//! `null` is the default value, integers may be numbers or decimal strings, doubles may be
//! numbers, numeric strings or `"NaN"`/`"Infinity"`/`"-Infinity"`, enums may be integers or
//! names, ids are hex of the exact length (any case), and bytes are base64 (either alphabet,
//! padded or not).

use base64::engine::general_purpose::{GeneralPurpose, GeneralPurposeConfig};
use base64::engine::DecodePaddingMode;
use base64::{alphabet, Engine as _};
use serde_json::Value as Json;

use super::{describe, Error, Result};
use crate::proto::logs::v1::SeverityNumber;
use crate::proto::metrics::v1::AggregationTemporality;
use crate::proto::trace::v1::span::SpanKind;
use crate::proto::trace::v1::status::StatusCode;

/// A `string` field.
pub(super) fn string(value: Json) -> Result<String> {
    match value {
        Json::Null => Ok(String::new()),
        Json::String(s) => Ok(s),
        other => Err(Error::expected("a string", &other)),
    }
}

/// A `bool` field.
pub(super) fn boolean(value: Json) -> Result<bool> {
    match value {
        Json::Null => Ok(false),
        Json::Bool(b) => Ok(b),
        other => Err(Error::expected("a boolean", &other)),
    }
}

/// Any integer field: a JSON number with no fractional part, or a decimal string;
/// `kind` names the type for the error message.
fn integer<T: TryFrom<i128> + Default>(value: Json, kind: &str) -> Result<T> {
    let n: Option<i128> = match &value {
        Json::Null => return Ok(T::default()),
        Json::Number(n) => {
            if let Some(u) = n.as_u64() {
                Some(i128::from(u))
            } else if let Some(i) = n.as_i64() {
                Some(i128::from(i))
            } else {
                // A float such as `1e3`: accepted when it is a whole number in range.
                n.as_f64().filter(|f| f.fract() == 0.0 && f.abs() < 1e20).map(|f| f as i128)
            }
        }
        Json::String(s) => s.parse::<i128>().ok(),
        _ => None,
    };
    n.and_then(|n| T::try_from(n).ok()).ok_or_else(|| Error::expected(kind, &value))
}

/// A `uint64`/`fixed64` field.
pub(super) fn uint64(value: Json) -> Result<u64> {
    integer(value, "an unsigned 64-bit integer")
}

/// An `int64`/`sfixed64` field.
pub(super) fn int64(value: Json) -> Result<i64> {
    integer(value, "a 64-bit integer")
}

/// A `uint32`/`fixed32` field.
pub(super) fn uint32(value: Json) -> Result<u32> {
    integer(value, "an unsigned 32-bit integer")
}

/// An `int32`/`sint32` field.
pub(super) fn int32(value: Json) -> Result<i32> {
    integer(value, "a 32-bit integer")
}

/// A `double` field.
pub(super) fn double(value: Json) -> Result<f64> {
    let f = match &value {
        Json::Null => Some(0.0),
        Json::Number(n) => n.as_f64(),
        Json::String(s) => match s.as_str() {
            "NaN" => Some(f64::NAN),
            "Infinity" => Some(f64::INFINITY),
            "-Infinity" => Some(f64::NEG_INFINITY),
            s => s.parse::<f64>().ok(),
        },
        _ => None,
    };
    f.ok_or_else(|| Error::expected("a double", &value))
}

/// An enum field: its number (as a JSON number or string) or its proto name.
fn enumeration(value: Json, kind: &str, from_name: fn(&str) -> Option<i32>) -> Result<i32> {
    match &value {
        Json::String(name) if name.starts_with(|c: char| c.is_ascii_uppercase()) => {
            from_name(name).ok_or_else(|| Error::new(format!("unknown {kind} {name:?}")))
        }
        Json::Null | Json::Number(_) | Json::String(_) => integer(value, kind),
        other => Err(Error::expected(kind, other)),
    }
}

/// `Span.kind`.
pub(super) fn span_kind(value: Json) -> Result<i32> {
    enumeration(value, "span kind", |name| SpanKind::from_str_name(name).map(|v| v as i32))
}

/// `Status.code`.
pub(super) fn status_code(value: Json) -> Result<i32> {
    enumeration(value, "status code", |name| StatusCode::from_str_name(name).map(|v| v as i32))
}

/// `LogRecord.severityNumber`.
pub(super) fn severity_number(value: Json) -> Result<i32> {
    enumeration(value, "severity number", |name| SeverityNumber::from_str_name(name).map(|v| v as i32))
}

/// `aggregationTemporality` of sums and histograms.
pub(super) fn aggregation_temporality(value: Json) -> Result<i32> {
    enumeration(value, "aggregation temporality", |name| AggregationTemporality::from_str_name(name).map(|v| v as i32))
}

/// A trace id: 32 hex characters, or empty (or `null`) for none.
pub(super) fn trace_id(value: Json) -> Result<Vec<u8>> {
    hex_id(value, 16, "trace id")
}

/// A span id: 16 hex characters, or empty (or `null`) for none.
pub(super) fn span_id(value: Json) -> Result<Vec<u8>> {
    hex_id(value, 8, "span id")
}

fn hex_id(value: Json, bytes: usize, kind: &str) -> Result<Vec<u8>> {
    let s = match value {
        Json::Null => return Ok(Vec::new()),
        Json::String(s) => s,
        other => return Err(Error::new(format!("invalid {kind}: expected a hex string, got {}", describe(&other)))),
    };
    if s.is_empty() {
        return Ok(Vec::new());
    }
    let len = s.chars().count();
    if len != 2 * bytes {
        return Err(Error::new(format!("invalid {kind}: expected {} hex characters, got {len}", 2 * bytes)));
    }
    // Checked here because `const_hex` would also accept a `0x` prefix.
    if !s.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(Error::new(format!("invalid {kind}: {s:?} is not hexadecimal")));
    }
    const_hex::decode(&s).map_err(|err| Error::new(format!("invalid {kind}: {err}")))
}

/// Standard or URL-safe alphabet, with or without padding.
const BASE64_CONFIG: GeneralPurposeConfig =
    GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent);
const BASE64_STANDARD: GeneralPurpose = GeneralPurpose::new(&alphabet::STANDARD, BASE64_CONFIG);
const BASE64_URL_SAFE: GeneralPurpose = GeneralPurpose::new(&alphabet::URL_SAFE, BASE64_CONFIG);

/// A `bytes` field (other than ids): base64.
pub(super) fn bytes(value: Json) -> Result<Vec<u8>> {
    let s = match value {
        Json::Null => return Ok(Vec::new()),
        Json::String(s) => s,
        other => return Err(Error::expected("a base64 string", &other)),
    };
    let engine = if s.contains(['-', '_']) { &BASE64_URL_SAFE } else { &BASE64_STANDARD };
    engine.decode(&s).map_err(|err| Error::new(format!("invalid base64: {err}")))
}
