//! The values OTTL computes with, and the Collector's comparison table.
//!
//! Upstream passes Go `any` around (string, int64, float64, bool, []byte, pcommon.Map,
//! pcommon.Slice, time.Time, time.Duration, nil). [`Value`] is that set as an enum. Strings,
//! bytes, maps and lists are `Cow`s so a path read for a comparison borrows the telemetry
//! instead of copying it; an editor turns its argument into an owned value only when it
//! writes.

use std::borrow::Cow;
use std::cmp::Ordering;

use switchyard_pdata::proto::common::v1::{any_value, AnyValue, ArrayValue, KeyValue, KeyValueList};

use crate::ast::CompareOp;

/// A runtime value.
#[derive(Debug, Clone, PartialEq)]
pub enum Value<'a> {
    /// `nil`, an absent attribute, an empty value.
    Nil,
    /// A boolean.
    Bool(bool),
    /// A 64-bit integer.
    Int(i64),
    /// A 64-bit float.
    Double(f64),
    /// A string.
    Str(Cow<'a, str>),
    /// Bytes (also trace and span ids).
    Bytes(Cow<'a, [u8]>),
    /// A map (pcommon.Map): attributes, a kvlist body, a map literal.
    Map(Cow<'a, [KeyValue]>),
    /// A list (pcommon.Slice).
    List(Cow<'a, [AnyValue]>),
    /// A point in time, as Unix nanoseconds (time.Time).
    Time(i64),
    /// A duration in nanoseconds (time.Duration).
    Duration(i64),
}

impl<'a> Value<'a> {
    /// A string value.
    pub fn str(s: impl Into<Cow<'a, str>>) -> Self {
        Value::Str(s.into())
    }

    /// Reads an attribute value without copying it.
    pub fn from_any(v: &'a AnyValue) -> Self {
        use any_value::Value as V;
        match &v.value {
            None | Some(V::StringValueStrindex(_)) => Value::Nil,
            Some(V::StringValue(s)) => Value::Str(Cow::Borrowed(s)),
            Some(V::BoolValue(b)) => Value::Bool(*b),
            Some(V::IntValue(i)) => Value::Int(*i),
            Some(V::DoubleValue(d)) => Value::Double(*d),
            Some(V::BytesValue(b)) => Value::Bytes(Cow::Borrowed(b)),
            Some(V::ArrayValue(a)) => Value::List(Cow::Borrowed(&a.values)),
            Some(V::KvlistValue(m)) => Value::Map(Cow::Borrowed(&m.values)),
        }
    }

    /// Takes an attribute value (no copy).
    pub fn from_any_owned(v: AnyValue) -> Value<'static> {
        use any_value::Value as V;
        match v.value {
            None | Some(V::StringValueStrindex(_)) => Value::Nil,
            Some(V::StringValue(s)) => Value::Str(Cow::Owned(s)),
            Some(V::BoolValue(b)) => Value::Bool(b),
            Some(V::IntValue(i)) => Value::Int(i),
            Some(V::DoubleValue(d)) => Value::Double(d),
            Some(V::BytesValue(b)) => Value::Bytes(Cow::Owned(b)),
            Some(V::ArrayValue(a)) => Value::List(Cow::Owned(a.values)),
            Some(V::KvlistValue(m)) => Value::Map(Cow::Owned(m.values)),
        }
    }

    /// Copies whatever is borrowed.
    pub fn into_owned(self) -> Value<'static> {
        match self {
            Value::Nil => Value::Nil,
            Value::Bool(b) => Value::Bool(b),
            Value::Int(i) => Value::Int(i),
            Value::Double(d) => Value::Double(d),
            Value::Str(s) => Value::Str(Cow::Owned(s.into_owned())),
            Value::Bytes(b) => Value::Bytes(Cow::Owned(b.into_owned())),
            Value::Map(m) => Value::Map(Cow::Owned(m.into_owned())),
            Value::List(l) => Value::List(Cow::Owned(l.into_owned())),
            Value::Time(t) => Value::Time(t),
            Value::Duration(d) => Value::Duration(d),
        }
    }

    /// A borrowed view of this value (cheap: nothing is copied).
    pub fn reborrow(&self) -> Value<'_> {
        match self {
            Value::Nil => Value::Nil,
            Value::Bool(b) => Value::Bool(*b),
            Value::Int(i) => Value::Int(*i),
            Value::Double(d) => Value::Double(*d),
            Value::Str(s) => Value::Str(Cow::Borrowed(s)),
            Value::Bytes(b) => Value::Bytes(Cow::Borrowed(b)),
            Value::Map(m) => Value::Map(Cow::Borrowed(m)),
            Value::List(l) => Value::List(Cow::Borrowed(l)),
            Value::Time(t) => Value::Time(*t),
            Value::Duration(d) => Value::Duration(*d),
        }
    }

    /// The value as an attribute value, as pdata's `SetValue` stores it: times and durations
    /// have no attribute form and become nanosecond integers; `nil` the empty value.
    pub fn into_any(self) -> AnyValue {
        use any_value::Value as V;
        let v = match self {
            Value::Nil => None,
            Value::Bool(b) => Some(V::BoolValue(b)),
            Value::Int(i) | Value::Time(i) | Value::Duration(i) => Some(V::IntValue(i)),
            Value::Double(d) => Some(V::DoubleValue(d)),
            Value::Str(s) => Some(V::StringValue(s.into_owned())),
            Value::Bytes(b) => Some(V::BytesValue(b.into_owned())),
            Value::Map(m) => Some(V::KvlistValue(KeyValueList { values: m.into_owned() })),
            Value::List(l) => Some(V::ArrayValue(ArrayValue { values: l.into_owned() })),
        };
        AnyValue { value: v }
    }

    /// The Go type name upstream's errors use, for messages.
    pub fn type_name(&self) -> &'static str {
        match self {
            Value::Nil => "nil",
            Value::Bool(_) => "bool",
            Value::Int(_) => "int64",
            Value::Double(_) => "float64",
            Value::Str(_) => "string",
            Value::Bytes(_) => "[]byte",
            Value::Map(_) => "pcommon.Map",
            Value::List(_) => "pcommon.Slice",
            Value::Time(_) => "time.Time",
            Value::Duration(_) => "time.Duration",
        }
    }

    /// The string inside, if this is a string.
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Value::Str(s) => Some(s),
            _ => None,
        }
    }

    /// Whether this is `nil`.
    pub fn is_nil(&self) -> bool {
        matches!(self, Value::Nil)
    }
}

/// Compares two values with the Collector's rules (pkg/ottl/compare.go): `nil` equals only
/// `nil` (and a nil byte slice); ints and floats compare numerically; strings, bytes,
/// booleans (false < true), times and durations are ordered; maps and lists only support
/// `==` and `!=`; values of different types are only ever `!=`.
pub fn compare(a: &Value<'_>, b: &Value<'_>, op: CompareOp) -> bool {
    use Value::*;
    let ordering: Option<Ordering> = match (a, b) {
        (Nil, Nil) => Some(Ordering::Equal),
        (Nil, Bytes(x)) | (Bytes(x), Nil) if x.is_empty() => Some(Ordering::Equal),
        (Bool(x), Bool(y)) => Some(x.cmp(y)),
        (Int(x), Int(y)) => Some(x.cmp(y)),
        (Int(x), Double(y)) => (*x as f64).partial_cmp(y),
        (Double(x), Int(y)) => x.partial_cmp(&(*y as f64)),
        (Double(x), Double(y)) => x.partial_cmp(y),
        (Str(x), Str(y)) => Some(x.as_ref().cmp(y.as_ref())),
        (Bytes(x), Bytes(y)) => Some(x.as_ref().cmp(y.as_ref())),
        (Time(x), Time(y)) | (Duration(x), Duration(y)) => Some(x.cmp(y)),
        (Map(x), Map(y)) => return equality(maps_equal(x, y), op),
        (List(x), List(y)) => return equality(lists_equal(x, y), op),
        _ => return op == CompareOp::Ne,
    };
    let Some(o) = ordering else {
        // NaN: only `!=` holds, as in Go.
        return op == CompareOp::Ne;
    };
    match op {
        CompareOp::Eq => o == Ordering::Equal,
        CompareOp::Ne => o != Ordering::Equal,
        CompareOp::Lt => o == Ordering::Less,
        CompareOp::Le => o != Ordering::Greater,
        CompareOp::Gt => o == Ordering::Greater,
        CompareOp::Ge => o != Ordering::Less,
    }
}

fn equality(equal: bool, op: CompareOp) -> bool {
    match op {
        CompareOp::Eq => equal,
        CompareOp::Ne => !equal,
        _ => false,
    }
}

/// Map equality ignores key order, as pcommon.Map.Equal does.
pub(crate) fn maps_equal(a: &[KeyValue], b: &[KeyValue]) -> bool {
    a.len() == b.len()
        && a.iter().all(|kv| {
            switchyard_pdata::attrs::get(b, &kv.key)
                .is_some_and(|v| any_equal(switchyard_pdata::attrs::value_of(kv), v))
        })
}

fn lists_equal(a: &[AnyValue], b: &[AnyValue]) -> bool {
    a.len() == b.len() && a.iter().zip(b).all(|(x, y)| any_equal(x, y))
}

/// Deep equality of attribute values (maps ignoring order).
pub(crate) fn any_equal(a: &AnyValue, b: &AnyValue) -> bool {
    match (Value::from_any(a), Value::from_any(b)) {
        (Value::Map(x), Value::Map(y)) => maps_equal(&x, &y),
        (Value::List(x), Value::List(y)) => lists_equal(&x, &y),
        (x, y) => x == y,
    }
}
