//! `pkg/sampling`'s W3C tracestate table (`TestParseW3CTraceState`): accepted forms,
//! syntax and size errors, and that writing back then re-reading changes nothing.

use super::super::otep::{Randomness, Threshold};
use super::super::tracestate::{TraceState, TraceStateError};

fn rewritten(raw: &str) -> String {
    let mut out = String::new();
    TraceState::parse(raw).expect("valid").write(&mut out);
    out
}

#[test]
fn accepted_tracestates_and_their_values() {
    let rows: [(&str, Option<&str>, Option<&str>, &str); 10] = [
        ("ot=th:1", None, Some("1"), "ot=th:1"),
        (" ot=th:1 ", None, Some("1"), "ot=th:1"),
        (" ot=th:1,other=value ", None, Some("1"), "ot=th:1,other=value"),
        (",,,", None, None, ""),
        (" , ot=th:1, , other=value ", None, Some("1"), "ot=th:1,other=value"),
        ("ot=th:100;rv:abcdabcdabcdff", Some("abcdabcdabcdff"), Some("1"), "ot=rv:abcdabcdabcdff;th:100"),
        (" ot=th:100;rv:abcdabcdabcdff", Some("abcdabcdabcdff"), Some("1"), "ot=rv:abcdabcdabcdff;th:100"),
        ("ot=th:100;rv:abcdabcdabcdff ", Some("abcdabcdabcdff"), Some("1"), "ot=rv:abcdabcdabcdff;th:100"),
        ("ot=rv:11111111111111", Some("11111111111111"), None, "ot=rv:11111111111111"),
        (
            "ot=rv:ffffffffffffff,unknown=value,other=something",
            Some("ffffffffffffff"),
            None,
            "ot=rv:ffffffffffffff,unknown=value,other=something",
        ),
    ];
    for (raw, rv, th, out) in rows {
        let ts = TraceState::parse(raw).expect(raw);
        assert_eq!(ts.randomness(), rv.map(|r| Randomness::parse(r).expect("rv")), "{raw}");
        assert_eq!(ts.threshold(), th.map(|t| Threshold::parse(t).expect("th")), "{raw}");
        let written = rewritten(raw);
        assert_eq!(written, out, "{raw}");
        assert_eq!(rewritten(&written), written, "{raw}: writing is stable");
    }
}

#[test]
fn syntax_and_size_errors() {
    let long = |n: usize| "x".repeat(n);
    let rows = [
        ("-1=2".to_string(), TraceStateError::Syntax),
        ("=".to_string(), TraceStateError::Syntax),
        ("ot=th:1;".to_string(), TraceStateError::Syntax),
        ("ot=TH:1".to_string(), TraceStateError::Syntax),
        (format!("{}=v", long(257)), TraceStateError::Size),
        (format!("{}@y=v", long(242)), TraceStateError::Size),
        (format!("y@{}=v", long(15)), TraceStateError::Size),
        (format!("x={}", "y".repeat(1023)), TraceStateError::Size),
        (format!("{}x=y", "x=y,".repeat(32)), TraceStateError::Size),
    ];
    for (raw, want) in rows {
        assert_eq!(TraceState::parse(&raw).map(|_| ()), Err(want), "{raw}");
    }
    assert_eq!(TraceState::parse("ot=th:").map(|_| ()).map_err(|e| e.to_string()), Err("t-value is empty".into()));
}

#[test]
fn the_last_ot_member_wins_and_updates_never_raise_probability() {
    let mut ts = TraceState::parse("ot=th:8,a=b,ot=th:c;x:1").expect("valid");
    assert_eq!(ts.threshold(), Threshold::parse("c").ok());
    assert!(ts.update_threshold(Threshold::parse("8").expect("th")).is_err(), "50% after 25% would raise it");
    ts.update_threshold(Threshold::parse("e").expect("th")).expect("lowering is fine");
    let mut out = String::new();
    ts.write(&mut out);
    assert_eq!(out, "ot=th:e;x:1,a=b");
}
