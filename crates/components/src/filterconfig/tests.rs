//! The legacy matchers against the rules of the Collector's `internal/filter` tests.

use switchyard_pdata::proto::common::v1::{any_value, AnyValue, KeyValue};
use switchyard_pdata::proto::trace::v1::Span;

use super::config::{AttributeConfig, LibraryConfig, MatchType, SpanMatchConfig, SpanMatchProperties};
use super::logs::severity_number;
use super::spans::{libraries_match, library_matchers, span_kind_str, SpanSkip};
use super::{attribute_matchers, attributes_match, FilterSet};

fn attr(key: &str, v: any_value::Value) -> KeyValue {
    KeyValue { key: key.into(), value: Some(AnyValue { value: Some(v) }), ..Default::default() }
}

fn s(v: &str) -> any_value::Value {
    any_value::Value::StringValue(v.into())
}

fn matchers(mt: MatchType, list: &[(&str, Option<serde_json::Value>)]) -> Vec<super::AttributeMatcher> {
    let list: Vec<AttributeConfig> =
        list.iter().map(|(k, v)| AttributeConfig { key: (*k).into(), value: v.clone() }).collect();
    attribute_matchers("attributes", &list, mt).expect("valid matchers")
}

#[test]
fn regexp_sets_are_unanchored_and_strict_sets_exact() {
    let re = FilterSet::new("names", &["prefix/.*".into(), ".*/suffix".into()], MatchType::Regexp).expect("valid");
    assert!(re.matches("prefixprefix/test/match"));
    assert!(re.matches("test/match/suffixsuffix"));
    assert!(!re.matches("prefix_test"));
    let strict = FilterSet::new("names", &["a.b".into()], MatchType::Strict).expect("valid");
    assert!(strict.matches("a.b"));
    assert!(!strict.matches("aXb"));
    assert!(!strict.matches("a.bc"));
}

#[test]
fn strict_attribute_values_compare_type_and_value() {
    let m = matchers(MatchType::Strict, &[("n", Some(serde_json::json!(123)))]);
    assert!(attributes_match(&m, &[attr("n", any_value::Value::IntValue(123))]));
    assert!(!attributes_match(&m, &[attr("n", s("123"))]), "a string is not the int 123");
    let m = matchers(MatchType::Strict, &[("b", Some(serde_json::json!(true))), ("k", None)]);
    assert!(attributes_match(&m, &[attr("b", any_value::Value::BoolValue(true)), attr("k", s("anything"))]));
    assert!(!attributes_match(&m, &[attr("b", any_value::Value::BoolValue(true))]), "every key must exist");
}

#[test]
fn regexp_attribute_values_match_the_string_form_of_scalars() {
    let m = matchers(MatchType::Regexp, &[("v", Some(serde_json::json!("^1\\.5$")))]);
    assert!(attributes_match(&m, &[attr("v", any_value::Value::DoubleValue(1.5))]));
    let m = matchers(MatchType::Regexp, &[("v", Some(serde_json::json!("true")))]);
    assert!(attributes_match(&m, &[attr("v", any_value::Value::BoolValue(true))]));
    assert!(!attributes_match(&m, &[attr("v", any_value::Value::BytesValue(b"true".to_vec()))]), "bytes never match");
}

#[test]
fn no_matchers_match_everything_but_matchers_need_attributes() {
    assert!(attributes_match(&[], &[]));
    let m = matchers(MatchType::Strict, &[("k", None)]);
    assert!(!attributes_match(&m, &[]));
}

#[test]
fn library_version_is_checked_only_when_given() {
    let libs = [
        LibraryConfig { name: "otel".into(), version: None },
        LibraryConfig { name: "otel".into(), version: Some(String::new()) },
    ];
    let any_version = library_matchers("libraries", &libs[..1], MatchType::Strict).expect("valid");
    let blank_version = library_matchers("libraries", &libs[1..], MatchType::Strict).expect("valid");
    let scope = |v: &str| switchyard_pdata::proto::common::v1::InstrumentationScope {
        name: "otel".into(),
        version: v.into(),
        ..Default::default()
    };
    assert!(libraries_match(&any_version, Some(&scope("1"))));
    assert!(libraries_match(&blank_version, Some(&scope(""))));
    assert!(!libraries_match(&blank_version, Some(&scope("1"))));
}

#[test]
fn span_kinds_use_the_full_names_and_regexp_finds_parts() {
    assert_eq!(span_kind_str(3), "SPAN_KIND_CLIENT");
    let cfg = SpanMatchConfig {
        exclude: Some(SpanMatchProperties {
            match_type: Some(MatchType::Regexp),
            span_kinds: vec!["CLIENT".into()],
            ..Default::default()
        }),
        ..Default::default()
    };
    let skip = SpanSkip::compile(&cfg).expect("valid").expect("configured");
    assert!(skip.skip(&[], None, &Span { kind: 3, ..Default::default() }));
    assert!(!skip.skip(&[], None, &Span { kind: 2, ..Default::default() }));
}

#[test]
fn include_then_exclude() {
    let props = |names: &[&str]| SpanMatchProperties {
        match_type: Some(MatchType::Strict),
        span_names: names.iter().map(|n| (*n).to_string()).collect(),
        ..Default::default()
    };
    let cfg = SpanMatchConfig { include: Some(props(&["a", "b"])), exclude: Some(props(&["b"])) };
    let skip = SpanSkip::compile(&cfg).expect("valid").expect("configured");
    let span = |n: &str| Span { name: n.into(), ..Default::default() };
    assert!(!skip.skip(&[], None, &span("a")));
    assert!(skip.skip(&[], None, &span("b")), "exclude wins");
    assert!(skip.skip(&[], None, &span("c")), "not included");
}

#[test]
fn a_missing_service_name_is_its_own_placeholder() {
    let cfg = SpanMatchConfig {
        include: Some(SpanMatchProperties {
            match_type: Some(MatchType::Strict),
            services: vec!["<nil-service-name>".into()],
            ..Default::default()
        }),
        ..Default::default()
    };
    let skip = SpanSkip::compile(&cfg).expect("valid").expect("configured");
    assert!(!skip.skip(&[], None, &Span::default()));
    assert!(skip.skip(&[attr("service.name", s("x"))], None, &Span::default()));
}

#[test]
fn severities_parse_as_upstream() {
    assert_eq!(severity_number("info"), Some(9));
    assert_eq!(severity_number("WARN3"), Some(15));
    assert_eq!(severity_number("24"), Some(24));
    assert_eq!(severity_number("25"), None);
    assert_eq!(severity_number("INFO5"), None);
}
