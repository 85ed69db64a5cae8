//! Attribute values as text, written once for every component: the Collector's
//! `pcommon.Value.AsString` ([`as_string`]), values as Go's `encoding/json` writes them
//! ([`write_json_value`]), ids as hex ([`hex_id`]), and constructors for the common kinds.
//!
//! Backends that only take strings (Prometheus labels, Loki lines, Kafka keys) and OTTL's
//! string conversions all print values this way, so a value prints the same everywhere.

mod json;
#[cfg(test)]
mod tests;

use std::borrow::Cow;

use base64::Engine;
use opentelemetry_proto::tonic::common::v1::{any_value::Value, AnyValue};

pub use json::{sorted_unique, write_json_object, write_json_str, write_json_value, JsonEscape};

/// The value as the Collector's `AsString` prints it: strings as they are (borrowed, never
/// copied), booleans and numbers as text ([`double_string`] for doubles), bytes as padded
/// standard base64, arrays and maps as compact JSON ([`write_json_value`] with
/// [`JsonEscape::None`], as pdata does since it stopped HTML-escaping), an empty value as `""`.
///
/// Two deliberate differences from Go: non-finite doubles inside arrays and maps become
/// `null` (Go's `json.Marshal` fails and prints nothing), and a profiles string-table index
/// (meaningless outside its dictionary) prints as `""`.
pub fn as_string(v: &AnyValue) -> Cow<'_, str> {
    match &v.value {
        None | Some(Value::StringValueStrindex(_)) => Cow::Borrowed(""),
        Some(Value::StringValue(s)) => Cow::Borrowed(s),
        Some(Value::BoolValue(b)) => Cow::Borrowed(if *b { "true" } else { "false" }),
        Some(Value::IntValue(i)) => Cow::Owned(i.to_string()),
        Some(Value::DoubleValue(d)) => Cow::Owned(double_string(*d)),
        Some(Value::BytesValue(b)) => Cow::Owned(base64::engine::general_purpose::STANDARD.encode(b)),
        Some(Value::ArrayValue(_) | Value::KvlistValue(_)) => {
            let mut s = String::new();
            write_json_value(&mut s, v, JsonEscape::None);
            Cow::Owned(s)
        }
    }
}

/// A double as the Collector prints it (`AsString`, and numbers in Go's `encoding/json`,
/// both ECMAScript style): the shortest form that reads back exactly, without exponent
/// unless |d| < 1e-6 or |d| ≥ 1e21 (`1e-7`, `1.5e+21`); whole numbers without `.0`.
/// Non-finite values are `NaN`, `+Inf` and `-Inf` (Prometheus' spelling; pdata since 2026
/// prints `Infinity`, older pdata an error text).
pub fn double_string(d: f64) -> String {
    if d.is_nan() {
        "NaN".into()
    } else if d == f64::INFINITY {
        "+Inf".into()
    } else if d == f64::NEG_INFINITY {
        "-Inf".into()
    } else if d != 0.0 && (d.abs() < 1e-6 || d.abs() >= 1e21) {
        // Rust writes `1e21` and `1e-7`; ECMAScript wants an explicit `+`.
        let e = format!("{d:e}");
        match e.split_once('e') {
            Some((m, x)) if !x.starts_with('-') => format!("{m}e+{x}"),
            _ => e,
        }
    } else {
        format!("{d}")
    }
}

/// Lower-case hex of an id, as trace and span ids are written everywhere (`""` for an empty
/// one). Use [`hex_id_if_set`] where an unset id must be left out.
pub fn hex_id(id: &[u8]) -> String {
    const_hex::encode(id)
}

/// [`hex_id`], or `None` for an unset id (empty, or all zero bytes, which OTLP defines as
/// invalid): Loki lines and Kafka message keys leave such ids out.
pub fn hex_id_if_set(id: &[u8]) -> Option<String> {
    id.iter().any(|b| *b != 0).then(|| hex_id(id))
}

/// Appends the lower-case hex of `id` to `out` without an intermediate `String` (the
/// OTLP/JSON encoder writes two ids per span).
pub(crate) fn extend_hex(out: &mut Vec<u8>, id: &[u8]) {
    let start = out.len();
    out.resize(start + id.len() * 2, 0);
    // Cannot fail: the output slice is exactly twice the input's length.
    let _ = const_hex::encode_to_slice(id, &mut out[start..]);
}

/// A string value (what `PutStr` stores).
pub fn str_value(s: impl Into<String>) -> AnyValue {
    AnyValue { value: Some(Value::StringValue(s.into())) }
}

/// An integer value (what `PutInt` stores).
pub fn int_value(i: i64) -> AnyValue {
    AnyValue { value: Some(Value::IntValue(i)) }
}

/// A double value (what `PutDouble` stores).
pub fn double_value(d: f64) -> AnyValue {
    AnyValue { value: Some(Value::DoubleValue(d)) }
}

/// A boolean value (what `PutBool` stores).
pub fn bool_value(b: bool) -> AnyValue {
    AnyValue { value: Some(Value::BoolValue(b)) }
}

/// A bytes value (what `PutEmptyBytes` then `FromRaw` stores).
pub fn bytes_value(b: impl Into<Vec<u8>>) -> AnyValue {
    AnyValue { value: Some(Value::BytesValue(b.into())) }
}
