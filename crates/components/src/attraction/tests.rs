//! The engine's edge cases beyond the conformance file: hashing of every kind, extract
//! onto its own key, duplicates, conversions, and one-time context reads.

use switchyard_core::consumer::RequestContext;
use switchyard_pdata::attrs;
use switchyard_pdata::proto::common::v1::{any_value::Value, AnyValue, ArrayValue, KeyValue};

use super::{ActionKeyValue, AttrProc};

fn action(key: &str, name: &str) -> ActionKeyValue {
    ActionKeyValue { key: key.into(), action: name.into(), ..Default::default() }
}

fn kv(key: &str, v: Value) -> KeyValue {
    KeyValue { key: key.into(), value: Some(AnyValue { value: Some(v) }), ..Default::default() }
}

fn s(v: &str) -> Value {
    Value::StringValue(v.into())
}

fn run(actions: &[ActionKeyValue], mut list: Vec<KeyValue>) -> Vec<KeyValue> {
    let p = AttrProc::new("actions", actions).expect("valid actions");
    let cv = p.context(&RequestContext::default());
    p.apply(&cv, &mut list);
    list
}

#[test]
fn hash_digests_the_empty_string_and_blanks_other_kinds() {
    let out = run(
        &[ActionKeyValue { pattern: ".*".into(), ..action("", "hash") }],
        vec![
            kv("empty", s("")),
            kv("bytes", Value::BytesValue(vec![1, 2])),
            kv("list", Value::ArrayValue(ArrayValue { values: vec![] })),
        ],
    );
    assert_eq!(
        attrs::get_str(&out, "empty"),
        Some("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"),
        "the newer sha2Hasher hashes an empty string like any other"
    );
    assert_eq!(attrs::get_str(&out, "bytes"), Some(""));
    assert_eq!(attrs::get_str(&out, "list"), Some(""));
}

#[test]
fn extract_can_write_over_its_source_key() {
    let extract = |pattern: &str| ActionKeyValue { pattern: pattern.into(), ..action("path", "extract") };
    let out = run(&[extract("^/(?P<path>[a-z]+)/(?P<id>\\d+)$")], vec![kv("path", s("/users/42"))]);
    assert_eq!(attrs::get_str(&out, "path"), Some("users"));
    assert_eq!(attrs::get_str(&out, "id"), Some("42"));
    let out = run(&[extract("^/(?P<kind>[a-z]+)(?P<rest>/x)?")], vec![kv("path", s("/users/42"))]);
    assert_eq!(attrs::get_str(&out, "path"), Some("/users/42"), "the source stays");
    assert_eq!(attrs::get_str(&out, "rest"), Some(""), "a group outside the match is empty, as Go");
    let out = run(&[extract("^nomatch(?P<x>.)")], vec![kv("path", s("/users/42"))]);
    assert_eq!(out, vec![kv("path", s("/users/42"))], "no match: unchanged");
}

#[test]
fn duplicates_follow_the_first_entry_rule() {
    let list = vec![kv("k", s("first")), kv("k", s("second"))];
    let out = run(&[ActionKeyValue { value: Some("new".into()), ..action("k", "update") }], list.clone());
    assert_eq!(out, vec![kv("k", s("new")), kv("k", s("second"))]);
    let out = run(&[ActionKeyValue { pattern: "^k$".into(), ..action("", "delete") }], list);
    assert!(out.is_empty(), "a pattern deletes every entry it matches");
}

#[test]
fn convert_follows_the_collector_table() {
    let convert = |key: &str, to: &str| ActionKeyValue { converted_type: to.into(), ..action(key, "convert") };
    let out = run(
        &[
            convert("d", "int"),
            convert("i", "double"),
            convert("b", "double"),
            convert("m", "string"),
            convert("x", "int"),
        ],
        vec![
            kv("d", Value::DoubleValue(-2.9)),
            kv("i", Value::IntValue(3)),
            kv("b", Value::BoolValue(true)),
            kv("m", Value::ArrayValue(ArrayValue { values: vec![AnyValue { value: Some(Value::IntValue(1)) }] })),
            kv("x", s("1e3")),
        ],
    );
    assert_eq!(attrs::get_int(&out, "d"), Some(-2), "truncated toward zero");
    assert_eq!(attrs::get_double(&out, "i"), Some(3.0));
    assert_eq!(attrs::get_double(&out, "b"), Some(1.0));
    assert_eq!(attrs::get_str(&out, "m"), Some("[1]"), "lists print as JSON");
    assert_eq!(attrs::get_str(&out, "x"), Some("1e3"), "not a base-10 integer: unchanged");
}

#[test]
fn from_attribute_missing_falls_back_to_default_value() {
    let a = ActionKeyValue {
        from_attribute: "src".into(),
        default_value: Some(serde_json::json!(7)),
        ..action("dst", "upsert")
    };
    assert_eq!(attrs::get_int(&run(std::slice::from_ref(&a), vec![]), "dst"), Some(7));
    assert_eq!(attrs::get_str(&run(&[a], vec![kv("src", s("v"))]), "dst"), Some("v"));
}

#[test]
fn actions_without_context_read_nothing_from_the_request() {
    let p =
        AttrProc::new("actions", &[ActionKeyValue { value: Some(1.into()), ..action("a", "insert") }]).expect("valid");
    assert!(p.context(&RequestContext::default()).0.is_empty());
}
