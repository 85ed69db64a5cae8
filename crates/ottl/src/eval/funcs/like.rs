//! Upstream's typed getters, as conversions of an evaluated [`Value`]: the strict ones
//! (`StringGetter`, `PMapGetter`, `PSliceGetter`) that refuse another type with
//! `expected T but got U`, and the `*LikeGetter`s that convert (`"12"` → 12, `true` → 1, …)
//! and pass `nil` through. Converters call these so every function agrees on what a
//! "string-like" argument is, as they do upstream.

use std::borrow::Cow;

use switchyard_pdata::proto::common::v1::{AnyValue, KeyValue};
use switchyard_pdata::value::{double_string, hex_id, sorted_unique, write_json_object, write_json_value, JsonEscape};

use crate::eval::expr::Expr;
use crate::eval::fields::Field;
use crate::eval::value::Value;
use crate::eval::EvalError;

/// `StringGetter`: the string, or `expected string but got <type>` (also for `nil`).
pub(crate) fn string<'v>(v: &'v Value<'_>) -> Result<&'v str, EvalError> {
    match v {
        Value::Str(s) => Ok(s),
        other => Err(expected("string", other)),
    }
}

/// `PMapGetter`: the map's entries.
pub(crate) fn map<'v>(v: &'v Value<'_>) -> Result<&'v [KeyValue], EvalError> {
    match v {
        Value::Map(m) => Ok(m),
        other => Err(expected("pcommon.Map", other)),
    }
}

/// `PSliceGetter`: the list's items.
pub(crate) fn slice<'v>(v: &'v Value<'_>) -> Result<&'v [AnyValue], EvalError> {
    match v {
        Value::List(l) => Ok(l),
        other => Err(expected("pcommon.Slice", other)),
    }
}

/// `IntGetter`: an integer.
pub(crate) fn int(v: &Value<'_>) -> Result<i64, EvalError> {
    match v {
        Value::Int(i) => Ok(*i),
        other => Err(expected("int64", other)),
    }
}

/// The getters' type error, worded as upstream's (`expected string but got nil`).
pub(crate) fn expected(want: &str, got: &Value<'_>) -> EvalError {
    EvalError::new(format!("expected {want} but got {}", got.type_name()))
}

fn unsupported(v: &Value<'_>) -> EvalError {
    EvalError::new(format!("unsupported type: {}", v.type_name()))
}

/// Whether an argument evaluates to one of pdata's fixed-size id types (`pcommon.TraceID`,
/// `SpanID`, `ProfileID`) rather than a `[]byte`: Go prints and marshals the two
/// differently (`String(span_id)` is a JSON array of numbers, a byte slice is hex), and our
/// runtime [`Value::Bytes`] does not tell them apart, so the argument's form decides.
pub(crate) fn is_id_expr(e: &Expr) -> bool {
    match e {
        Expr::Path(p) => p.keys.is_empty() && matches!(p.field, Field::TraceId | Field::SpanId | Field::ParentSpanId),
        Expr::Call(c, keys) => keys.is_empty() && matches!(c.name.as_str(), "TraceID" | "SpanID" | "ProfileID"),
        _ => false,
    }
}

/// `StringLikeGetter`: strings as they are, bytes as hex, maps and lists as JSON, other
/// values as Go's `json.Marshal` writes them (ids as arrays of numbers, times as quoted
/// RFC 3339); `nil` stays `nil`.
pub(crate) fn string_like<'v>(v: &'v Value<'_>, id: bool) -> Result<Option<Cow<'v, str>>, EvalError> {
    Ok(Some(match v {
        Value::Nil => return Ok(None),
        Value::Str(s) => Cow::Borrowed(s.as_ref()),
        Value::Bytes(b) if id => {
            let parts: Vec<String> = b.iter().map(u8::to_string).collect();
            Cow::Owned(format!("[{}]", parts.join(",")))
        }
        Value::Bytes(b) => Cow::Owned(hex_id(b)),
        Value::Map(_) | Value::List(_) => Cow::Owned(json(v, JsonEscape::Html)),
        Value::Int(i) => Cow::Owned(i.to_string()),
        Value::Double(d) if d.is_finite() => Cow::Owned(double_string(*d)),
        Value::Double(_) => return Err(unsupported(v)),
        Value::Bool(b) => Cow::Borrowed(if *b { "true" } else { "false" }),
        Value::Time(t) => Cow::Owned(format!("\"{}\"", super::gotime::rfc3339_nano(*t))),
        Value::Duration(d) => Cow::Owned(d.to_string()),
    }))
}

/// A map or list as Go's JSON of its `AsRaw()` (sorted keys), written from the borrowed
/// entries without copying them; anything else as `null`.
pub(crate) fn json(v: &Value<'_>, escape: JsonEscape) -> String {
    let mut out = String::new();
    match v {
        Value::Map(m) => write_json_object(&mut out, sorted_unique(m.iter()), escape),
        Value::List(l) => {
            out.push('[');
            for (i, item) in l.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_json_value(&mut out, item, escape);
            }
            out.push(']');
        }
        _ => out.push_str("null"),
    }
    out
}

/// `IntLikeGetter`: a string that is not a base-10 integer gives `nil` (not an error), as
/// upstream; doubles are truncated toward zero.
pub(crate) fn int_like(v: &Value<'_>) -> Result<Option<i64>, EvalError> {
    Ok(match v {
        Value::Nil => None,
        Value::Int(i) => Some(*i),
        Value::Str(s) => s.parse::<i64>().ok(),
        Value::Double(d) => Some(*d as i64),
        Value::Bool(b) => Some(i64::from(*b)),
        other => return Err(unsupported(other)),
    })
}

/// `FloatLikeGetter`: a string that is not a number is an error.
pub(crate) fn float_like(v: &Value<'_>) -> Result<Option<f64>, EvalError> {
    Ok(match v {
        Value::Nil => None,
        Value::Double(d) => Some(*d),
        Value::Int(i) => Some(*i as f64),
        Value::Str(s) => Some(
            s.parse::<f64>()
                .map_err(|_| EvalError::new(format!("strconv.ParseFloat: parsing {s:?}: invalid syntax")))?,
        ),
        Value::Bool(b) => Some(if *b { 1.0 } else { 0.0 }),
        other => return Err(unsupported(other)),
    })
}

/// `BoolLikeGetter`: strings as Go's `strconv.ParseBool` reads them, numbers as `!= 0`.
pub(crate) fn bool_like(v: &Value<'_>) -> Result<Option<bool>, EvalError> {
    Ok(match v {
        Value::Nil => None,
        Value::Bool(b) => Some(*b),
        Value::Int(i) => Some(*i != 0),
        Value::Double(d) => Some(*d != 0.0),
        Value::Str(s) => Some(match s.as_ref() {
            "1" | "t" | "T" | "TRUE" | "true" | "True" => true,
            "0" | "f" | "F" | "FALSE" | "false" | "False" => false,
            _ => return Err(EvalError::new(format!("strconv.ParseBool: parsing {s:?}: invalid syntax"))),
        }),
        other => return Err(unsupported(other)),
    })
}

/// `ByteSliceLikeGetter`: bytes as they are, strings as their UTF-8, and numbers and
/// booleans as Go's `binary.Write` big-endian encoding (8 bytes for int64 and float64, one
/// for a bool).
pub(crate) fn bytes_like<'v>(v: &'v Value<'_>) -> Result<Option<Cow<'v, [u8]>>, EvalError> {
    Ok(Some(match v {
        Value::Nil => return Ok(None),
        Value::Bytes(b) => Cow::Borrowed(b.as_ref()),
        Value::Str(s) => Cow::Borrowed(s.as_bytes()),
        Value::Int(i) => Cow::Owned(i.to_be_bytes().to_vec()),
        Value::Double(d) => Cow::Owned(d.to_bits().to_be_bytes().to_vec()),
        Value::Bool(b) => Cow::Owned(vec![u8::from(*b)]),
        other => return Err(unsupported(other)),
    }))
}
