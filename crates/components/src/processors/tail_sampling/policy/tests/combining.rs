use switchyard_pdata::proto::common::v1::any_value::Value;
use tokio::time::Instant;

use super::super::final_decision;
use super::super::Decision::*;
use super::{build, decide, kv, s, span, trace, TRACE_ID};

#[test]
fn the_final_rule_drop_then_invert_veto_then_sampled() {
    assert_eq!(final_decision([Sampled, Dropped]), Dropped);
    assert_eq!(final_decision([InvertNotSampled, Sampled]), NotSampled, "legacy veto");
    assert_eq!(final_decision([NotSampled, Sampled]), Sampled);
    assert_eq!(final_decision([InvertSampled]), Sampled);
    assert_eq!(final_decision([InvertSampled, NotSampled]), NotSampled);
    assert_eq!(final_decision([Error, Unspecified]), NotSampled, "errors are ignored");
    assert_eq!(final_decision([Error, Sampled]), Sampled);
    assert_eq!(final_decision([]), NotSampled);
}

const AND: &str = r#"
- name: errors-of-checkout
  type: and
  and:
    and_sub_policy:
      - {name: svc, type: string_attribute, string_attribute: {key: service.name, values: [checkout]}}
      - {name: err, type: status_code, status_code: {status_codes: [ERROR]}}
"#;

fn svc_span(svc: &str, error: bool) -> super::super::TraceData {
    use switchyard_pdata::proto::trace::v1::{status::StatusCode, Span, Status};
    let status = error.then(|| Status { code: StatusCode::Error as i32, ..Default::default() });
    trace(vec![kv("service.name", s(svc))], vec![Span { status, ..span(vec![]) }])
}

#[test]
fn and_samples_only_when_every_sub_policy_does() {
    assert_eq!(decide(AND, &mut svc_span("checkout", true)), Sampled);
    assert_eq!(decide(AND, &mut svc_span("checkout", false)), NotSampled);
    assert_eq!(decide(AND, &mut svc_span("cart", true)), NotSampled);
}

const DROP_HEALTH: &str = r#"
- {name: all, type: always_sample}
- name: no-health
  type: drop
  drop:
    drop_sub_policy:
      - {name: route, type: string_attribute, string_attribute: {key: url.path, values: [/health], enabled_regex_matching: true}}
"#;

#[test]
fn drop_wins_over_any_sample_and_is_evaluated_first() {
    let path = |p: &str| trace(vec![], vec![span(vec![kv("url.path", s(p))])]);
    assert_eq!(decide(DROP_HEALTH, &mut path("/health/live")), Dropped);
    assert_eq!(decide(DROP_HEALTH, &mut path("/api")), Sampled);
    // Drop policies run first and stop the evaluation: the always_sample after it (in
    // config order before it) is not evaluated.
    let mut p = build(DROP_HEALTH, false);
    let mut per = Vec::new();
    assert_eq!(p.evaluate(&TRACE_ID, &mut path("/health"), Instant::now(), &mut per), Dropped);
    assert_eq!(per, vec![Unspecified, Dropped]);
    assert_eq!(p.evaluate(&TRACE_ID, &mut path("/api"), Instant::now(), &mut per), Sampled);
    assert_eq!(per, vec![Sampled, NotSampled], "a drop that does not match is neutral");
    assert_eq!(p.sampled_by(&per), Some("all"));
}

#[test]
fn not_inverts_its_sub_policy() {
    let yaml = r#"
- name: not-debug
  type: not
  not:
    not_sub_policy: {name: dbg, type: boolean_attribute, boolean_attribute: {key: debug, value: true}}
"#;
    let dbg = |v: bool| trace(vec![], vec![span(vec![kv("debug", Value::BoolValue(v))])]);
    assert_eq!(decide(yaml, &mut dbg(true)), NotSampled);
    assert_eq!(decide(yaml, &mut dbg(false)), Sampled);
}

const THREE: &str = r#"
- {name: never, type: string_attribute, string_attribute: {key: nope, values: [x]}}
- {name: first, type: always_sample}
- {name: second, type: always_sample}
"#;

#[test]
fn sample_on_first_match_stops_at_the_first_sampled() {
    let mut per = Vec::new();
    let mut p = build(THREE, true);
    assert_eq!(p.evaluate(&TRACE_ID, &mut trace(vec![], vec![span(vec![])]), Instant::now(), &mut per), Sampled);
    assert_eq!(per, vec![NotSampled, Sampled, Unspecified]);
    assert_eq!(p.names(), vec!["never", "first", "second"]);
    let mut all = build(THREE, false);
    all.evaluate(&TRACE_ID, &mut trace(vec![], vec![span(vec![])]), Instant::now(), &mut per);
    assert_eq!(per, vec![NotSampled, Sampled, Sampled]);
    assert_eq!(all.sampled_by(&per), Some("first"));
    assert_eq!(all.sampled_by(&[NotSampled, NotSampled, NotSampled]), None);
}

#[test]
fn a_failing_policy_is_recorded_as_error_and_ignored() {
    // `Substring` of a missing attribute fails at run time; the default error_mode is
    // propagate.
    let yaml = r#"
- {name: bad, type: ottl_condition, ottl_condition: {span: ['Substring(attributes["x"], 0, 4) == "keep"']}}
- {name: errors, type: status_code, status_code: {status_codes: [UNSET]}}
"#;
    let mut per = Vec::new();
    let mut t = trace(vec![], vec![span(vec![])]);
    let d = build(yaml, false).evaluate(&TRACE_ID, &mut t, Instant::now(), &mut per);
    assert_eq!((d, per.clone()), (Sampled, vec![Error, Sampled]));
    let only_bad = r#"- {name: bad, type: ottl_condition, ottl_condition: {span: ['Substring(attributes["x"], 0, 4) == "keep"']}}"#;
    assert_eq!(decide(only_bad, &mut t), NotSampled);
}

#[test]
fn composite_may_contain_and() {
    let yaml = r#"
- name: c
  type: composite
  composite:
    max_total_spans_per_second: 100
    composite_sub_policy:
      - name: both
        type: and
        and:
          and_sub_policy:
            - {name: a, type: string_attribute, string_attribute: {key: service.name, values: [checkout]}}
            - {name: b, type: status_code, status_code: {status_codes: [ERROR]}}
    rate_allocation: [{policy: both, percent: 100}]
"#;
    assert_eq!(decide(yaml, &mut svc_span("checkout", true)), Sampled);
    assert_eq!(decide(yaml, &mut svc_span("checkout", false)), NotSampled);
}
