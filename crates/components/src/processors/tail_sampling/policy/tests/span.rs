use switchyard_pdata::proto::trace::v1::{status::StatusCode as Code, Span, Status};

use super::super::span::member_value;
use super::super::Decision::{NotSampled, Sampled};
use super::{batch, one, span, trace, trace_of};

const MS: u64 = 1_000_000;

fn timed(start_ms: u64, end_ms: u64) -> Span {
    Span { start_time_unix_nano: start_ms * MS, end_time_unix_nano: end_ms * MS, ..span(vec![]) }
}

#[test]
fn latency_is_the_whole_trace_from_earliest_start_to_latest_end() {
    // No span lasts 150 ms, but the trace does (spread over two batches).
    let mut t = trace_of(vec![batch(vec![], vec![timed(1000, 1100)]), batch(vec![], vec![timed(1050, 1150)])]);
    assert_eq!(one("latency", "{threshold_ms: 149}", &mut t), Sampled);
    assert_eq!(one("latency", "{threshold_ms: 150}", &mut t), NotSampled, "the threshold is exclusive (v0.157+)");
}

#[test]
fn latency_counts_whole_milliseconds() {
    let mut t =
        trace(vec![], vec![Span { start_time_unix_nano: 0, end_time_unix_nano: 100 * MS + 999_999, ..span(vec![]) }]);
    assert_eq!(one("latency", "{threshold_ms: 99}", &mut t), Sampled);
    assert_eq!(one("latency", "{threshold_ms: 100}", &mut t), NotSampled, "100.999 ms is 100 ms");
}

#[test]
fn latency_with_an_upper_bound() {
    let p = "{threshold_ms: 100, upper_threshold_ms: 200}";
    assert_eq!(one("latency", p, &mut trace(vec![], vec![timed(0, 100)])), NotSampled);
    assert_eq!(one("latency", p, &mut trace(vec![], vec![timed(0, 101)])), Sampled);
    assert_eq!(one("latency", p, &mut trace(vec![], vec![timed(0, 200)])), Sampled, "the upper bound is inclusive");
    assert_eq!(one("latency", p, &mut trace(vec![], vec![timed(0, 201)])), NotSampled);
    // The trace's duration decides, not a short span within it.
    assert_eq!(one("latency", p, &mut trace(vec![], vec![timed(0, 150), timed(0, 900)])), NotSampled);
}

#[test]
fn latency_of_a_trace_without_spans_samples_nothing() {
    assert_eq!(one("latency", "{threshold_ms: 0}", &mut trace(vec![], vec![])), NotSampled);
}

fn with_status(code: Option<Code>) -> Span {
    Span { status: code.map(|c| Status { code: c as i32, ..Default::default() }), ..span(vec![]) }
}

#[test]
fn status_code_samples_when_any_span_has_a_listed_code() {
    let errors = "{status_codes: [ERROR]}";
    assert_eq!(
        one(
            "status_code",
            errors,
            &mut trace(vec![], vec![with_status(Some(Code::Ok)), with_status(Some(Code::Error))])
        ),
        Sampled
    );
    assert_eq!(one("status_code", errors, &mut trace(vec![], vec![with_status(Some(Code::Ok))])), NotSampled);
    // A span without a status is UNSET.
    assert_eq!(one("status_code", "{status_codes: [UNSET]}", &mut trace(vec![], vec![with_status(None)])), Sampled);
    assert_eq!(one("status_code", "{status_codes: [OK]}", &mut trace(vec![], vec![with_status(None)])), NotSampled);
}

#[test]
fn span_count_bounds_are_inclusive_and_max_zero_is_unbounded() {
    let n = |count: usize| trace(vec![], (0..count).map(|_| span(vec![])).collect());
    let p = "{min_spans: 2, max_spans: 3}";
    assert_eq!(one("span_count", p, &mut n(1)), NotSampled);
    assert_eq!(one("span_count", p, &mut n(2)), Sampled);
    assert_eq!(one("span_count", p, &mut n(3)), Sampled);
    assert_eq!(one("span_count", p, &mut n(4)), NotSampled);
    assert_eq!(one("span_count", "{min_spans: 2}", &mut n(1000)), Sampled);
    // The count the runtime keeps is what counts (it includes spans already released).
    let mut t = n(1);
    t.span_count = 5;
    assert_eq!(one("span_count", "{min_spans: 5}", &mut t), Sampled);
}

#[test]
fn trace_flags_samples_a_trace_with_the_sampled_bit() {
    let flagged = |flags: u32| Span { flags, ..span(vec![]) };
    assert_eq!(one("trace_flags", "", &mut trace(vec![], vec![flagged(0), flagged(0x101)])), Sampled);
    assert_eq!(one("trace_flags", "", &mut trace(vec![], vec![flagged(0x100), flagged(0x02)])), NotSampled);
}

#[test]
fn trace_state_matches_a_members_value() {
    let with = |ts: &str| trace(vec![], vec![Span { trace_state: ts.to_string(), ..span(vec![]) }]);
    let p = "{key: vendor, values: [keep, also]}";
    assert_eq!(one("trace_state", p, &mut with("other=1,vendor=also")), Sampled);
    assert_eq!(one("trace_state", p, &mut with("vendor=drop")), NotSampled);
    assert_eq!(one("trace_state", p, &mut with("")), NotSampled);
    assert_eq!(one("trace_state", p, &mut with("vendor=keep,vendor=keep")), NotSampled, "duplicate keys: invalid");
}

#[test]
fn tracestate_parsing_follows_w3c() {
    assert_eq!(member_value("a=1, b=2 ", "b"), Some("2"), "spaces around members are trimmed");
    assert_eq!(member_value("a=1,,b=2", "b"), Some("2"), "empty members are skipped");
    assert_eq!(member_value("t@sys=x", "t@sys"), Some("x"), "multi-tenant keys");
    assert_eq!(member_value("A=1", "A"), None, "keys are lower case");
    assert_eq!(member_value("a=1,b", "a"), None, "a member without = invalidates the header");
    assert_eq!(member_value("a=x=y", "a"), None, "= is not allowed in a value");
    assert_eq!(member_value("a=", "a"), None, "values are not empty");
    let many: Vec<String> = (0..33).map(|i| format!("k{i}=v")).collect();
    assert_eq!(member_value(&many.join(","), "k0"), None, "at most 32 members");
    assert_eq!(member_value(&many[..32].join(","), "k0"), Some("v"));
}
