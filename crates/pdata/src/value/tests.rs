use std::borrow::Cow;

use opentelemetry_proto::tonic::common::v1::{any_value::Value, ArrayValue, KeyValue, KeyValueList};

use super::*;

fn v(x: Value) -> AnyValue {
    AnyValue { value: Some(x) }
}

fn kv(k: &str, value: AnyValue) -> KeyValue {
    KeyValue { key: k.into(), value: Some(value), ..Default::default() }
}

fn map(kvs: Vec<KeyValue>) -> AnyValue {
    v(Value::KvlistValue(KeyValueList { values: kvs }))
}

#[test]
fn values_print_as_the_collector_prints_them() {
    let s = |x: Value| as_string(&v(x)).into_owned();
    assert_eq!(s(Value::IntValue(-3)), "-3");
    assert_eq!(s(Value::DoubleValue(2.5)), "2.5");
    assert_eq!(s(Value::DoubleValue(1.0)), "1");
    assert_eq!(s(Value::DoubleValue(1e21)), "1e+21");
    assert_eq!(s(Value::DoubleValue(1.5e22)), "1.5e+22");
    assert_eq!(s(Value::DoubleValue(1e-7)), "1e-7");
    assert_eq!(s(Value::DoubleValue(0.000001)), "0.000001");
    assert_eq!(s(Value::DoubleValue(123456.5)), "123456.5");
    assert_eq!(s(Value::DoubleValue(f64::NEG_INFINITY)), "-Inf");
    assert_eq!(s(Value::BoolValue(true)), "true");
    assert_eq!(s(Value::BytesValue(vec![1, 2])), "AQI=");
    assert_eq!(as_string(&AnyValue { value: None }), "");
    let m = map(vec![kv("a", v(Value::ArrayValue(ArrayValue { values: vec![v(Value::IntValue(1))] })))]);
    assert_eq!(as_string(&m), r#"{"a":[1]}"#);
    assert_eq!(hex_id(&[0xab, 0x01]), "ab01");
}

#[test]
fn strings_are_borrowed_not_copied() {
    let x = v(Value::StringValue("hello".into()));
    assert!(matches!(as_string(&x), Cow::Borrowed("hello")));
    assert!(matches!(as_string(&v(Value::BoolValue(false))), Cow::Borrowed("false")));
}

#[test]
fn maps_are_go_json_sorted_with_the_last_duplicate() {
    let m = map(vec![
        kv("b", str_value("<x>")),
        kv("a", double_value(1.0)),
        kv("b", str_value("last & final")),
        kv("n", double_value(f64::NAN)),
        KeyValue { key: "e".into(), value: None, ..Default::default() },
        kv("y", bytes_value(b"abc".to_vec())),
    ]);
    // AsString does not HTML-escape; json.Marshal does.
    assert_eq!(as_string(&m), r#"{"a":1,"b":"last & final","e":null,"n":null,"y":"YWJj"}"#);
    let mut out = String::new();
    write_json_value(&mut out, &m, JsonEscape::Html);
    assert_eq!(out, r#"{"a":1,"b":"last \u0026 final","e":null,"n":null,"y":"YWJj"}"#);
}

#[test]
fn strings_escape_as_go_does() {
    let mut out = String::new();
    write_json_str(&mut out, "tab\there \u{1} \u{2028} \"q\" \\ <&>", JsonEscape::Html);
    assert_eq!(out, r#""tab\there \u0001 \u2028 \"q\" \\ \u003c\u0026\u003e""#);
    out.clear();
    write_json_str(&mut out, "<&>\n", JsonEscape::None);
    assert_eq!(out, r#""<&>\n""#);
}

#[test]
fn ids_in_hex_and_unset_ids_left_out() {
    assert_eq!(hex_id(&[]), "");
    assert_eq!(hex_id_if_set(&[0; 16]), None);
    assert_eq!(hex_id_if_set(&[]), None);
    assert_eq!(hex_id_if_set(&[0, 0x0f]).as_deref(), Some("000f"));
    let mut out = b"x".to_vec();
    extend_hex(&mut out, &[0xde, 0xad]);
    assert_eq!(out, b"xdead");
}

#[test]
fn constructors_make_the_expected_kinds() {
    assert_eq!(str_value("s").value, Some(Value::StringValue("s".into())));
    assert_eq!(int_value(3).value, Some(Value::IntValue(3)));
    assert_eq!(bool_value(true).value, Some(Value::BoolValue(true)));
}
