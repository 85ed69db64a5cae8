use switchyard_core::config as core_config;

use super::super::{validate, Policies, PolicyCfg};
use super::{cfgs, reporter};

/// `(field, message)` of every error `validate` reports.
fn errors(yaml: &str) -> Vec<(String, String)> {
    validate(&cfgs(yaml)).into_iter().map(|e| (e.field, e.message)).collect()
}

fn one_error(yaml: &str) -> (String, String) {
    let e = errors(yaml);
    assert_eq!(e.len(), 1, "{e:?}");
    e.into_iter().next().expect("one error")
}

#[test]
fn a_good_config_has_no_errors_and_builds() {
    let yaml = r#"
- {name: a, type: always_sample}
- {name: b, type: latency, latency: {threshold_ms: 5000, upper_threshold_ms: 10000}}
- {name: c, type: numeric_attribute, numeric_attribute: {key: k, min_value: 50, max_value: 100}}
- {name: d, type: probabilistic, probabilistic: {sampling_percentage: 10}}
- {name: e, type: status_code, status_code: {status_codes: [ERROR, UNSET]}}
- {name: f, type: string_attribute, string_attribute: {key: k, values: [v1, val*], enabled_regex_matching: true, cache_max_size: 10}}
- {name: g, type: rate_limiting, rate_limiting: {spans_per_second: 35}}
- {name: h, type: bytes_limiting, bytes_limiting: {bytes_per_second: 1024, burst_capacity: 4096}}
- {name: i, type: span_count, span_count: {min_spans: 2, max_spans: 20}}
- {name: j, type: trace_state, trace_state: {key: k, values: [v1, v2]}}
- {name: k, type: boolean_attribute, boolean_attribute: {key: k, value: true}}
- {name: l, type: ottl_condition, ottl_condition: {error_mode: ignore, span: ['attributes["k"] == "v"'], spanevent: ['name != "e"']}}
- {name: m, type: and, and: {and_sub_policy: [{name: x, type: always_sample}]}}
- {name: n, type: drop, drop: {drop_sub_policy: [{name: x, type: trace_flags}]}}
- {name: o, type: not, not: {not_sub_policy: {name: x, type: span_count, span_count: {min_spans: 3}}}}
- {name: p, type: composite, composite: {max_total_spans_per_second: 100, policy_order: [x], composite_sub_policy: [{name: x, type: always_sample}], rate_allocation: [{policy: x, percent: 50}]}}
- {name: q, type: trace_flags}
"#;
    assert_eq!(errors(yaml), Vec::<(String, String)>::new());
    let p = Policies::build(&cfgs(yaml), false, 1.0, reporter()).expect("builds");
    assert_eq!(p.names().len(), 17);
}

#[test]
fn names_are_required_and_unique_and_a_policy_is_required() {
    assert_eq!(errors("[]"), vec![("policies".into(), "at least one policy is required".into())]);
    assert_eq!(
        one_error("- {type: always_sample}"),
        ("policies::0::name".into(), "policy name cannot be empty".into())
    );
    assert_eq!(
        one_error("- {name: a, type: always_sample}\n- {name: a, type: always_sample}"),
        ("policies::1::name".into(), "duplicate policy name \"a\"".into())
    );
}

#[test]
fn an_unknown_type_is_refused_with_a_suggestion() {
    let (field, msg) = one_error("- {name: a, type: string_atribute}");
    assert_eq!(field, "policies::0::type");
    assert!(msg.contains("unknown sampling policy type \"string_atribute\""), "{msg}");
    assert!(msg.contains("did you mean \"string_attribute\""), "{msg}");
}

#[test]
fn each_types_settings_are_checked_at_their_key() {
    let cases = [
        ("{name: a, type: status_code, status_code: {status_codes: []}}", "policies::0::status_code::status_codes", "expected at least one status code"),
        ("{name: a, type: status_code, status_code: {status_codes: [OK, ERR]}}", "policies::0::status_code::status_codes::1", "unknown status code \"ERR\", supported: OK, ERROR, UNSET"),
        ("{name: a, type: numeric_attribute, numeric_attribute: {key: k}}", "policies::0::numeric_attribute::min_value", "at least one of min_value or max_value"),
        ("{name: a, type: numeric_attribute, numeric_attribute: {key: k, min_value: 5, max_value: 1}}", "policies::0::numeric_attribute::min_value", "less than or equal to max_value"),
        ("{name: a, type: string_attribute, string_attribute: {key: k, values: [ok, '(('], enabled_regex_matching: true}}", "policies::0::string_attribute::values::1", "invalid regex"),
        ("{name: a, type: ottl_condition, ottl_condition: {error_mode: ignore}}", "policies::0::ottl_condition", "expected at least one OTTL condition"),
        ("{name: a, type: ottl_condition, ottl_condition: {span: ['nope(']}}", "policies::0::ottl_condition::span::0", "invalid OTTL"),
        ("{name: a, type: rate_limiting, rate_limiting: {spans_per_second: -1}}", "policies::0::rate_limiting::spans_per_second", "must not be negative"),
        ("{name: a, type: and, and: {and_sub_policy: []}}", "policies::0::and::and_sub_policy", "at least one sub-policy"),
        ("{name: a, type: not}", "policies::0::not::not_sub_policy", "needs a not_sub_policy"),
    ];
    for (policy, field, msg) in cases {
        let (f, m) = one_error(&format!("- {policy}"));
        assert_eq!(f, field, "{policy}");
        assert!(m.contains(msg), "{policy}: {m}");
    }
}

#[test]
fn sub_policies_take_only_the_types_the_collector_allows() {
    let (f, m) = one_error(
        "- {name: a, type: and, and: {and_sub_policy: [{name: b, type: always_sample, composite: {max_total_spans_per_second: 1}}]}}",
    );
    assert_eq!(f, "policies::0::and::and_sub_policy::0::composite");
    assert!(m.contains("unknown field `composite`"), "{m}");
    let (f, m) = one_error("- {name: a, type: drop, drop: {drop_sub_policy: [{name: b, type: and}]}}");
    assert_eq!(f, "policies::0::drop::drop_sub_policy::0::type");
    assert!(m.contains("not allowed in drop_sub_policy"), "{m}");
    // A composite may hold an `and`, and errors inside it are placed there.
    let (f, _) = one_error(
        "- {name: a, type: composite, composite: {composite_sub_policy: [{name: b, type: and, and: {and_sub_policy: [{name: c, type: status_code}]}}]}}",
    );
    assert_eq!(f, "policies::0::composite::composite_sub_policy::0::and::and_sub_policy::0::status_code::status_codes");
}

#[test]
fn unknown_keys_are_refused_when_decoding() {
    let node = core_config::parse("p.yaml", "- {name: a, type: latency, latency: {treshold_ms: 5}}").expect("parses");
    let err = core_config::from_node::<Vec<PolicyCfg>>(&node, "policies").expect_err("unknown key");
    assert!(err.to_string().contains("treshold_ms"), "{err}");
}

#[test]
fn build_reports_the_same_errors_and_checks_the_share() {
    let err = Policies::build(&cfgs("- {name: a, type: status_code}"), false, 1.0, reporter()).expect_err("invalid");
    assert!(err.contains("policies::0::status_code::status_codes"), "{err}");
    let ok = cfgs("- {name: a, type: always_sample}");
    assert!(Policies::build(&ok, false, 0.0, reporter()).is_err());
    assert!(Policies::build(&ok, false, 1.5, reporter()).is_err());
    assert!(Policies::build(&ok, false, 0.5, reporter()).is_ok());
}
