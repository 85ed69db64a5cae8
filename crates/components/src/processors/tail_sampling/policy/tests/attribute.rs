use switchyard_pdata::proto::common::v1::any_value::Value;

use super::super::Decision::{NotSampled, Sampled};
use super::{batch, kv, one, s, span, trace, trace_of};

#[test]
fn string_attribute_matches_resource_or_span_values_exactly() {
    let p = "{key: service.name, values: [checkout, cart]}";
    assert_eq!(
        one("string_attribute", p, &mut trace(vec![kv("service.name", s("cart"))], vec![span(vec![])])),
        Sampled
    );
    assert_eq!(
        one("string_attribute", p, &mut trace(vec![], vec![span(vec![kv("service.name", s("checkout"))])])),
        Sampled
    );
    assert_eq!(
        one("string_attribute", p, &mut trace(vec![kv("service.name", s("checkout-v2"))], vec![span(vec![])])),
        NotSampled,
        "exact values are not prefixes"
    );
    assert_eq!(one("string_attribute", p, &mut trace(vec![], vec![span(vec![kv("other", s("cart"))])])), NotSampled);
}

#[test]
fn string_attribute_looks_at_every_batch_and_span() {
    let p = "{key: k, values: [v]}";
    let mut t = trace_of(vec![
        batch(vec![], vec![span(vec![]), span(vec![kv("k", s("x"))])]),
        batch(vec![kv("r", s("v"))], vec![span(vec![]), span(vec![kv("k", s("v"))])]),
    ]);
    assert_eq!(one("string_attribute", p, &mut t), Sampled);
}

#[test]
fn string_attribute_regexes_are_unanchored_and_any_one_matches() {
    let p = r#"{key: http.route, values: ["^/health$", "metrics"], enabled_regex_matching: true}"#;
    let route = |r: &str| trace(vec![], vec![span(vec![kv("http.route", s(r))])]);
    assert_eq!(one("string_attribute", p, &mut route("/health")), Sampled);
    assert_eq!(one("string_attribute", p, &mut route("/api/metrics/x")), Sampled, "unanchored");
    assert_eq!(one("string_attribute", p, &mut route("/healthz")), NotSampled);
}

#[test]
fn string_attribute_ignores_non_strings_and_empty_values_on_spans() {
    // A non-string reads as "" (pdata's Str()), and an empty span value is skipped even if
    // a regex would match it.
    let p = r#"{key: k, values: [".*"], enabled_regex_matching: true}"#;
    assert_eq!(
        one("string_attribute", p, &mut trace(vec![], vec![span(vec![kv("k", Value::IntValue(5))])])),
        NotSampled
    );
    assert_eq!(one("string_attribute", p, &mut trace(vec![], vec![span(vec![kv("k", s(""))])])), NotSampled);
    // On the resource the "" is matched (upstream has no emptiness check there).
    assert_eq!(one("string_attribute", p, &mut trace(vec![kv("k", Value::IntValue(5))], vec![span(vec![])])), Sampled);
    // An empty exact value is dropped from the list, so "" never matches exactly.
    let exact = r#"{key: k, values: [""]}"#;
    assert_eq!(one("string_attribute", exact, &mut trace(vec![kv("k", s(""))], vec![span(vec![])])), NotSampled);
}

#[test]
fn string_attribute_invert_match_samples_what_would_not_match() {
    let p = "{key: service.name, values: [noisy], invert_match: true}";
    let svc = |v: &str| trace(vec![kv("service.name", s(v))], vec![span(vec![])]);
    assert_eq!(one("string_attribute", p, &mut svc("noisy")), NotSampled);
    assert_eq!(one("string_attribute", p, &mut svc("quiet")), Sampled);
    assert_eq!(one("string_attribute", p, &mut trace(vec![], vec![span(vec![])])), Sampled, "absent key samples");
    // One matching span anywhere is enough to refuse.
    let mut mixed =
        trace(vec![], vec![span(vec![kv("service.name", s("quiet"))]), span(vec![kv("service.name", s("noisy"))])]);
    assert_eq!(one("string_attribute", p, &mut mixed), NotSampled);
}

#[test]
fn numeric_attribute_bounds_are_inclusive_and_either_may_be_left_out() {
    let status = |v: i64| trace(vec![], vec![span(vec![kv("http.status_code", Value::IntValue(v))])]);
    let range = "{key: http.status_code, min_value: 400, max_value: 499}";
    assert_eq!(one("numeric_attribute", range, &mut status(400)), Sampled);
    assert_eq!(one("numeric_attribute", range, &mut status(499)), Sampled);
    assert_eq!(one("numeric_attribute", range, &mut status(500)), NotSampled);
    assert_eq!(one("numeric_attribute", range, &mut status(399)), NotSampled);
    let min_only = "{key: http.status_code, min_value: 500}";
    assert_eq!(one("numeric_attribute", min_only, &mut status(i64::MAX)), Sampled);
    assert_eq!(one("numeric_attribute", min_only, &mut status(499)), NotSampled);
    let max_only = "{key: http.status_code, max_value: -1}";
    assert_eq!(one("numeric_attribute", max_only, &mut status(i64::MIN)), Sampled);
    assert_eq!(one("numeric_attribute", max_only, &mut status(0)), NotSampled);
}

#[test]
fn numeric_attribute_reads_other_kinds_as_zero_and_checks_the_resource() {
    // min_value 0 means "no lower bound" (upstream maps 0 to unset), so [-inf, 10].
    let p = "{key: k, min_value: 0, max_value: 10}";
    assert_eq!(one("numeric_attribute", p, &mut trace(vec![], vec![span(vec![kv("k", s("500"))])])), Sampled);
    assert_eq!(
        one("numeric_attribute", p, &mut trace(vec![], vec![span(vec![kv("k", Value::DoubleValue(50.0))])])),
        Sampled
    );
    assert_eq!(one("numeric_attribute", p, &mut trace(vec![], vec![span(vec![])])), NotSampled, "absent is no match");
    let high = "{key: k, min_value: 100}";
    assert_eq!(
        one("numeric_attribute", high, &mut trace(vec![kv("k", Value::IntValue(100))], vec![span(vec![])])),
        Sampled
    );
}

#[test]
fn numeric_attribute_invert_match() {
    let p = "{key: k, min_value: 1, max_value: 5, invert_match: true}";
    assert_eq!(
        one("numeric_attribute", p, &mut trace(vec![], vec![span(vec![kv("k", Value::IntValue(3))])])),
        NotSampled
    );
    assert_eq!(one("numeric_attribute", p, &mut trace(vec![], vec![span(vec![kv("k", Value::IntValue(6))])])), Sampled);
    assert_eq!(one("numeric_attribute", p, &mut trace(vec![], vec![span(vec![])])), Sampled);
}

#[test]
fn boolean_attribute_matches_the_value_on_resource_or_span() {
    let p = "{key: app.force_sample, value: true}";
    let b = |v: Value| trace(vec![], vec![span(vec![kv("app.force_sample", v)])]);
    assert_eq!(one("boolean_attribute", p, &mut b(Value::BoolValue(true))), Sampled);
    assert_eq!(one("boolean_attribute", p, &mut b(Value::BoolValue(false))), NotSampled);
    assert_eq!(one("boolean_attribute", p, &mut b(s("true"))), NotSampled, "a string is not a bool");
    assert_eq!(
        one(
            "boolean_attribute",
            p,
            &mut trace(vec![kv("app.force_sample", Value::BoolValue(true))], vec![span(vec![])])
        ),
        Sampled
    );
    // value: false matches a false bool, and (as pdata's Bool() reads it) any non-bool.
    let f = "{key: app.force_sample, value: false}";
    assert_eq!(one("boolean_attribute", f, &mut b(Value::BoolValue(false))), Sampled);
    assert_eq!(one("boolean_attribute", f, &mut b(s("yes"))), Sampled);
    assert_eq!(one("boolean_attribute", f, &mut trace(vec![], vec![span(vec![])])), NotSampled, "absent is no match");
}

#[test]
fn boolean_attribute_invert_match() {
    let p = "{key: app.do_not_sample, value: true, invert_match: true}";
    let b = |v: bool| trace(vec![], vec![span(vec![kv("app.do_not_sample", Value::BoolValue(v))])]);
    assert_eq!(one("boolean_attribute", p, &mut b(true)), NotSampled);
    assert_eq!(one("boolean_attribute", p, &mut b(false)), Sampled);
}
