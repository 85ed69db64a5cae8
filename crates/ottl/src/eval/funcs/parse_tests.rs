//! Cases from upstream's func_parse_json_test.go, func_parse_key_value_test.go,
//! func_to_key_value_string_test.go, func_extract_patterns_test.go, func_parse_int_test.go
//! and the README examples.

use super::go_parse_int;
use crate::eval::funcs::testlog::{err, get, map_len, ok};
use crate::eval::value::Value;

#[test]
fn parse_json_objects_arrays_and_numbers_as_doubles() {
    // ottl-062: every JSON number is a double.
    let v = ok(r#"ParseJSON("{\"id\":1}")"#);
    assert_eq!(get(&v, "id"), Some(Value::Double(1.0)));
    let v = ok(r#"ParseJSON("{\"attr\":true,\"s\":\"x\",\"n\":null,\"list\":[1,\"a\"],\"m\":{\"k\":2.5}}")"#);
    assert_eq!(get(&v, "attr"), Some(Value::Bool(true)));
    assert_eq!(get(&v, "s"), Some(Value::str("x")));
    assert_eq!(get(&v, "n"), Some(Value::Nil));
    let Some(Value::List(list)) = get(&v, "list") else { panic!("list") };
    assert_eq!(list.len(), 2);
    assert_eq!(Value::from_any(&list[0]), Value::Double(1.0));
    let Some(m) = get(&v, "m") else { panic!("m") };
    assert_eq!(get(&m, "k"), Some(Value::Double(2.5)));
    let Value::List(arr) = ok(r#"ParseJSON("[\"attr1\",\"attr2\"]")"#) else { panic!("array") };
    assert_eq!(arr.len(), 2);
    assert_eq!(Value::from_any(&arr[1]), Value::str("attr2"));
}

#[test]
fn parse_json_errors() {
    assert_eq!(
        err(r#"ParseJSON("\"just a string\"")"#),
        // The wording of contrib's filterprocessor tests (Go's `%T` of the decoded value).
        "could not convert parsed value of type string to JSON object"
    );
    assert!(!err(r#"ParseJSON("{\"id\":")"#).is_empty());
    assert_eq!(err("ParseJSON(1)"), "expected string but got int64");
    assert_eq!(err("ParseJSON(attributes[\"missing\"])"), "expected string but got nil");
}

#[test]
fn parse_key_value_upstream_cases() {
    let v = ok(r#"ParseKeyValue("k1=v1 k2=v2")"#);
    assert_eq!(get(&v, "k1"), Some(Value::str("v1")));
    assert_eq!(get(&v, "k2"), Some(Value::str("v2")));
    // ottl-065: custom delimiters, a quoted value keeps the pair delimiter, quotes dropped.
    let v = ok(r#"ParseKeyValue("k1!v1_k2!\"v2__!__v2\"", "!", "_")"#);
    assert_eq!(get(&v, "k1"), Some(Value::str("v1")));
    assert_eq!(get(&v, "k2"), Some(Value::str("v2__!__v2")));
    assert_eq!(map_len(&v), 2);
    let v = ok(r#"ParseKeyValue("name=ottl  func='key value' k1=v1=v1.1 ")"#);
    assert_eq!(get(&v, "func"), Some(Value::str("key value")));
    assert_eq!(get(&v, "k1"), Some(Value::str("v1=v1.1")));
    assert_eq!(map_len(&v), 3);
    // ignore_malformed_tokens keeps only tokens with one delimiter and both sides set.
    let v = ok(r#"ParseKeyValue("a=1 junk b= =c d=2=3 e=5", ignore_malformed_tokens=true)"#);
    assert_eq!(get(&v, "a"), Some(Value::str("1")));
    assert_eq!(get(&v, "e"), Some(Value::str("5")));
    assert_eq!(map_len(&v), 2);
    let v = ok(r#"ParseKeyValue(attributes["kv"])"#);
    assert_eq!(get(&v, "b"), Some(Value::str("2")));
    // A backslash keeps a quote literal inside a quoted value.
    let v = ok(r#"ParseKeyValue("k=\"a \\\"b\\\" c\"")"#);
    assert_eq!(get(&v, "k"), Some(Value::str("a \\\"b\\\" c")));
}

#[test]
fn parse_key_value_errors() {
    assert_eq!(err(r#"ParseKeyValue("")"#), "cannot parse from empty target");
    assert_eq!(
        err(r#"ParseKeyValue("k1=v1 k2 k3")"#),
        r#"failed to split pairs into key-values: cannot split "k2" into 2 items, got 1 item(s); cannot split "k3" into 2 items, got 1 item(s)"#
    );
    assert!(err(r#"ParseKeyValue("a=b", "")"#).contains("delimiter cannot be set to an empty string"));
    assert_eq!(
        err(r#"ParseKeyValue("k1=\"v1 k2=v2")"#),
        r#"splitting source "k1=\"v1 k2=v2" into pairs failed: never reached the end of a quoted value"#
    );
    assert!(err(r#"ParseKeyValue("a:b", ":", ":")"#).contains(r#"pair delimiter ":" cannot be equal to delimiter ":""#));
    assert_eq!(err("ParseKeyValue(1)"), "expected string but got int64");
}

#[test]
fn to_key_value_string_cases() {
    assert_eq!(ok(r#"ToKeyValueString({"k1":"v1","k2":"v2"}, sort_output=true)"#), Value::str("k1=v1 k2=v2"));
    assert_eq!(ok(r#"ToKeyValueString({"k2":"v2","k1":"v1"}, ":", ",", true)"#), Value::str("k1:v1,k2:v2"));
    assert_eq!(
        ok(r#"ToKeyValueString({"k1":"v1","k2":"v=2","k3":"\"v=3\""}, sort_output=true)"#),
        Value::str(r#"k1=v1 k2="v=2" k3="\"v=3\"""#)
    );
    assert_eq!(
        ok(r#"ToKeyValueString({"k1":"v1","k2":{"k3":"v3","k4":["v4","v5"]}}, sort_output=true)"#),
        Value::str(r#"k1=v1 k2={\"k3\":\"v3\",\"k4\":[\"v4\",\"v5\"]}"#)
    );
    assert_eq!(ok(r#"ToKeyValueString({"n":1,"b":true})"#), Value::str("n=1 b=true"));
    assert!(err(r#"ToKeyValueString({"a":"b"}, "")"#).contains("delimiter cannot be set to an empty string"));
    assert!(err(r#"ToKeyValueString({"a":"b"}, "=", "")"#).contains("pair delimiter cannot be set to an empty string"));
    assert!(err(r#"ToKeyValueString({"a":"b"}, "=", "=")"#).contains("cannot be equal to delimiter"));
    assert_eq!(err(r#"ToKeyValueString("a=b")"#), "expected pcommon.Map but got string");
}

#[test]
fn extract_patterns_cases() {
    // ottl-049
    let v = ok(r#"ExtractPatterns("aa123bb", "(?P<numbers>\\d+)")"#);
    assert_eq!(get(&v, "numbers"), Some(Value::str("123")));
    assert_eq!(map_len(&v), 1);
    let v = ok(r#"ExtractPatterns("aa123bb", "(?P<letters>[a-zA-Z]+)(?P<numbers>\\d+)(?P<none>x)?")"#);
    assert_eq!(get(&v, "letters"), Some(Value::str("aa")));
    assert_eq!(get(&v, "numbers"), Some(Value::str("123")));
    assert_eq!(get(&v, "none"), Some(Value::str("")));
    assert_eq!(map_len(&ok(r#"ExtractPatterns("aaabb", "(?P<numbers>\\d+)")"#)), 0);
    // Go accepts group names that start with a digit (HyperDX's `(?P<0>…)`); so do we.
    let v = ok(r#"ExtractPatterns("x {\"a\":1} y", "(?P<0>(\\{.*\\}))")"#);
    assert_eq!(v, ok(r#"{"0": "{\"a\":1}"}"#));
    assert!(err(r#"ExtractPatterns("aa123bb", "\\d+")"#)
        .contains("at least 1 named capture group must be supplied in the given regex"));
    assert!(err(r#"ExtractPatterns("x", "(?P<a>")"#)
        .contains(r#"the regex pattern supplied to ExtractPatterns '"(?P<a>"' is not a valid pattern"#));
    // A pattern from an expression compiles per call.
    let v = ok(r#"ExtractPatterns("aa123bb", Concat(["(?P<n>", "\\d+)"], ""))"#);
    assert_eq!(get(&v, "n"), Some(Value::str("123")));
    assert!(err(r#"ExtractPatterns("aa123bb", Concat(["\\d", "+"], ""))"#).contains("at least 1 named capture group"));
    assert_eq!(err(r#"ExtractPatterns(attributes["num"], "(?P<a>x)")"#), "expected string but got int64");
}

#[test]
fn parse_int_as_go() {
    assert_eq!(ok(r#"ParseInt("12345", 10)"#), Value::Int(12345));
    assert_eq!(ok(r#"ParseInt("0xAA", 0)"#), Value::Int(170));
    assert_eq!(ok(r#"ParseInt("AA", 16)"#), Value::Int(170));
    assert_eq!(ok(r#"ParseInt("-20", 8)"#), Value::Int(-16));
    assert_eq!(go_parse_int("0b1111_0000", 0), Ok(240));
    assert_eq!(go_parse_int("0b10110", 0), Ok(22));
    assert_eq!(go_parse_int("0xFF", 0), Ok(255));
    assert_eq!(go_parse_int("-0xFF", 0), Ok(-255));
    assert_eq!(go_parse_int("-0o123", 0), Ok(-83));
    assert_eq!(go_parse_int("0123", 0), Ok(83));
    assert_eq!(go_parse_int("-9223372036854775808", 10), Ok(i64::MIN));
    assert_eq!(
        go_parse_int("9223372036854775808", 10),
        Err(r#"strconv.ParseInt: parsing "9223372036854775808": value out of range"#.into())
    );
    assert_eq!(go_parse_int("1_000", 10), Err(r#"strconv.ParseInt: parsing "1_000": invalid syntax"#.into()));
    assert_eq!(go_parse_int("1__0", 0), Err(r#"strconv.ParseInt: parsing "1__0": invalid syntax"#.into()));
    assert_eq!(err(r#"ParseInt("abc", 10)"#), r#"strconv.ParseInt: parsing "abc": invalid syntax"#);
    assert_eq!(err(r#"ParseInt("1", 1)"#), r#"strconv.ParseInt: parsing "1": invalid base 1"#);
    assert_eq!(err(r#"ParseInt("1", -1)"#), "invalid base value: -1 for ParseInt function, base cannot be negative");
    assert_eq!(err(r#"ParseInt("", 10)"#), "invalid target value for ParseInt function, target cannot be empty");
}
