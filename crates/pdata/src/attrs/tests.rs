use opentelemetry_proto::tonic::common::v1::{any_value::Value, AnyValue, KeyValue};

use super::*;
use crate::value::{bool_value, double_value, int_value, str_value};

fn kv(k: &str, v: AnyValue) -> KeyValue {
    KeyValue { key: k.into(), value: Some(v), ..Default::default() }
}

fn keys(attrs: &[KeyValue]) -> Vec<(&str, String)> {
    attrs.iter().map(|kv| (kv.key.as_str(), crate::value::as_string(value_of(kv)).into_owned())).collect()
}

/// `a=1, b=x, a=2, c=true`: `a` is duplicated.
fn dup() -> Vec<KeyValue> {
    vec![kv("a", int_value(1)), kv("b", str_value("x")), kv("a", int_value(2)), kv("c", bool_value(true))]
}

#[test]
fn get_reads_the_first_duplicate() {
    let attrs = dup();
    assert_eq!(get_int(&attrs, "a"), Some(1));
    assert_eq!(get_str(&attrs, "b"), Some("x"));
    assert_eq!(get_str(&attrs, "a"), None, "no conversion");
    assert_eq!(get_string(&attrs, "a").as_deref(), Some("1"));
    assert_eq!(get_bool(&attrs, "c"), Some(true));
    assert_eq!(get_double(&attrs, "c"), None);
    assert_eq!(get(&attrs, "zz"), None);
}

#[test]
fn an_entry_without_value_is_present_and_empty() {
    let mut attrs = vec![KeyValue { key: "e".into(), value: None, ..Default::default() }];
    assert_eq!(get(&attrs, "e"), Some(&AnyValue { value: None }));
    assert_eq!(get_string(&attrs, "e").as_deref(), Some(""));
    assert!(!insert(&mut attrs, "e", int_value(1)));
    assert_eq!(upsert(&mut attrs, "e", int_value(1)), Some(AnyValue { value: None }));
    assert_eq!(get_int(&attrs, "e"), Some(1));
}

#[test]
fn get_mut_changes_the_first_duplicate() {
    let mut attrs = dup();
    if let Some(v) = get_mut(&mut attrs, "a") {
        *v = int_value(10);
    }
    assert_eq!(keys(&attrs), [("a", "10".into()), ("b", "x".into()), ("a", "2".into()), ("c", "true".into())]);
}

#[test]
fn insert_only_when_absent_and_update_only_when_present() {
    let mut attrs = dup();
    assert!(!insert(&mut attrs, "a", int_value(9)));
    assert!(insert(&mut attrs, String::from("d"), double_value(0.5)));
    assert!(!update(&mut attrs, "zz", int_value(9)));
    assert!(update(&mut attrs, "a", int_value(9)));
    assert_eq!(
        keys(&attrs),
        [("a", "9".into()), ("b", "x".into()), ("a", "2".into()), ("c", "true".into()), ("d", "0.5".into())]
    );
}

#[test]
fn upsert_replaces_the_first_duplicate_or_appends() {
    let mut attrs = dup();
    assert_eq!(upsert(&mut attrs, "a", str_value("new")), Some(int_value(1)));
    assert_eq!(upsert(&mut attrs, "z", str_value("z")), None);
    assert_eq!(
        keys(&attrs),
        [("a", "new".into()), ("b", "x".into()), ("a", "2".into()), ("c", "true".into()), ("z", "z".into())]
    );
}

#[test]
fn remove_takes_the_first_duplicate_and_swaps_in_the_last_entry() {
    let mut attrs = dup();
    assert_eq!(remove(&mut attrs, "a"), Some(int_value(1)));
    // As pcommon.Map.Remove: the last entry moved into the hole; the second `a` now shows.
    assert_eq!(keys(&attrs), [("c", "true".into()), ("b", "x".into()), ("a", "2".into())]);
    assert_eq!(get_int(&attrs, "a"), Some(2));
    assert_eq!(remove(&mut attrs, "a"), Some(int_value(2)));
    assert_eq!(remove(&mut attrs, "a"), None);
}

#[test]
fn retain_visits_every_duplicate_and_keeps_order() {
    let mut attrs = dup();
    let mut seen = Vec::new();
    let removed = retain(&mut attrs, |k, v| {
        seen.push(k.to_string());
        !(k == "a" && v.value == Some(Value::IntValue(2)))
    });
    assert_eq!(removed, 1);
    assert_eq!(seen, ["a", "b", "a", "c"]);
    assert_eq!(keys(&attrs), [("a", "1".into()), ("b", "x".into()), ("c", "true".into())]);
}
