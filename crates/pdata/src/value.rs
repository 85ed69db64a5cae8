//! Attribute values as text, the way the Collector prints them for backends that only take
//! strings (Prometheus labels, Loki lines): `pcommon.Value.AsString` and its JSON form.

use base64::Engine;
use opentelemetry_proto::tonic::common::v1::{any_value::Value, AnyValue, KeyValue};

/// The value as a string: strings as is, numbers and bools as text, bytes as base64,
/// arrays and maps as JSON. An empty value is `""`.
pub fn any_value_string(v: Option<&AnyValue>) -> String {
    match v.and_then(|v| v.value.as_ref()) {
        // A string-table index only means something inside a profiles dictionary.
        None | Some(Value::StringValueStrindex(_)) => String::new(),
        Some(Value::StringValue(s)) => s.clone(),
        Some(Value::BoolValue(b)) => b.to_string(),
        Some(Value::IntValue(i)) => i.to_string(),
        Some(Value::DoubleValue(d)) => double_string(*d),
        Some(Value::BytesValue(b)) => base64::engine::general_purpose::STANDARD.encode(b),
        Some(other @ (Value::ArrayValue(_) | Value::KvlistValue(_))) => {
            any_value_json(Some(&AnyValue { value: Some(other.clone()) })).to_string()
        }
    }
}

/// A double as the Collector's pdata prints it (`AsString`, ECMAScript style): the shortest
/// form, without exponent unless |d| < 1e-6 or ≥ 1e21 (`1e-7`, `1.5e+21`).
pub fn double_string(d: f64) -> String {
    if d.is_nan() {
        "NaN".into()
    } else if d == f64::INFINITY {
        "+Inf".into()
    } else if d == f64::NEG_INFINITY {
        "-Inf".into()
    } else if d != 0.0 && (d.abs() < 1e-6 || d.abs() >= 1e21) {
        let e = format!("{d:e}");
        match e.split_once('e') {
            Some((m, x)) if !x.starts_with('-') => format!("{m}e+{x}"),
            _ => e,
        }
    } else {
        format!("{d}")
    }
}

/// The value as plain JSON (not OTLP/JSON): `{"k": 1, "list": [true, "x"]}`.
pub fn any_value_json(v: Option<&AnyValue>) -> serde_json::Value {
    use serde_json::Value as J;
    match v.and_then(|v| v.value.as_ref()) {
        None | Some(Value::StringValueStrindex(_)) => J::Null,
        Some(Value::StringValue(s)) => J::String(s.clone()),
        Some(Value::BoolValue(b)) => J::Bool(*b),
        Some(Value::IntValue(i)) => J::from(*i),
        Some(Value::DoubleValue(d)) => serde_json::Number::from_f64(*d).map(J::Number).unwrap_or(J::Null),
        Some(Value::BytesValue(b)) => J::String(base64::engine::general_purpose::STANDARD.encode(b)),
        Some(Value::ArrayValue(a)) => J::Array(a.values.iter().map(|v| any_value_json(Some(v))).collect()),
        Some(Value::KvlistValue(kv)) => attributes_json(&kv.values),
    }
}

/// Attributes as a JSON object (a repeated key keeps its last value).
pub fn attributes_json(kvs: &[KeyValue]) -> serde_json::Value {
    serde_json::Value::Object(kvs.iter().map(|kv| (kv.key.clone(), any_value_json(kv.value.as_ref()))).collect())
}

/// Lower-case hex of an id (`""` for an empty one).
pub fn hex_id(id: &[u8]) -> String {
    const_hex::encode(id)
}

#[cfg(test)]
mod tests {
    use super::*;
    use opentelemetry_proto::tonic::common::v1::{ArrayValue, KeyValueList};

    fn v(x: Value) -> AnyValue {
        AnyValue { value: Some(x) }
    }

    #[test]
    fn values_print_as_the_collector_prints_them() {
        assert_eq!(any_value_string(Some(&v(Value::IntValue(-3)))), "-3");
        assert_eq!(any_value_string(Some(&v(Value::DoubleValue(2.5)))), "2.5");
        assert_eq!(any_value_string(Some(&v(Value::DoubleValue(1e21)))), "1e+21");
        assert_eq!(any_value_string(Some(&v(Value::DoubleValue(1.5e22)))), "1.5e+22");
        assert_eq!(any_value_string(Some(&v(Value::DoubleValue(1e-7)))), "1e-7");
        assert_eq!(any_value_string(Some(&v(Value::DoubleValue(0.000001)))), "0.000001");
        assert_eq!(any_value_string(Some(&v(Value::DoubleValue(123456.5)))), "123456.5");
        assert_eq!(any_value_string(Some(&v(Value::BoolValue(true)))), "true");
        assert_eq!(any_value_string(Some(&v(Value::BytesValue(vec![1, 2])))), "AQI=");
        assert_eq!(any_value_string(None), "");
        let map = v(Value::KvlistValue(KeyValueList {
            values: vec![KeyValue {
                key: "a".into(),
                value: Some(v(Value::ArrayValue(ArrayValue { values: vec![v(Value::IntValue(1))] }))),
                ..Default::default()
            }],
        }));
        assert_eq!(any_value_string(Some(&map)), r#"{"a":[1]}"#);
        assert_eq!(hex_id(&[0xab, 0x01]), "ab01");
    }
}
