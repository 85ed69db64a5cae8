use switchyard_pdata::proto::trace::v1::span::Event;
use switchyard_pdata::proto::trace::v1::Span;
use tokio::time::Instant;

use super::super::Decision::{Error, NotSampled, Sampled};
use super::{build, kv, one, s, span, trace, TRACE_ID};

fn named(name: &str, events: &[&str]) -> Span {
    let events = events.iter().map(|e| Event { name: e.to_string(), ..Default::default() }).collect();
    Span { name: name.to_string(), events, ..span(vec![kv("http.method", s("GET"))]) }
}

#[test]
fn span_conditions_are_ored_over_every_span() {
    let p = r#"{span: ['name == "a"', 'attributes["http.method"] == "POST"']}"#;
    assert_eq!(one("ottl_condition", p, &mut trace(vec![], vec![named("x", &[]), named("a", &[])])), Sampled);
    assert_eq!(one("ottl_condition", p, &mut trace(vec![], vec![named("x", &[])])), NotSampled);
    // Context prefixes and the enclosing resource are available.
    let r = r#"{span: ['resource.attributes["env"] == "prod" and span.name == "x"']}"#;
    assert_eq!(one("ottl_condition", r, &mut trace(vec![kv("env", s("prod"))], vec![named("x", &[])])), Sampled);
}

#[test]
fn span_event_conditions() {
    let p = r#"{spanevent: ['name == "exception"']}"#;
    assert_eq!(one("ottl_condition", p, &mut trace(vec![], vec![named("x", &["log", "exception"])])), Sampled);
    assert_eq!(one("ottl_condition", p, &mut trace(vec![], vec![named("exception", &["log"])])), NotSampled);
}

#[test]
fn evaluating_leaves_the_trace_as_it_was() {
    let mut t = trace(vec![kv("env", s("prod"))], vec![named("x", &["e1", "e2"]), named("y", &["e3"])]);
    let before = t.batches.clone();
    let p = r#"{span: ['name == "nope"'], spanevent: ['name == "e3"']}"#;
    assert_eq!(one("ottl_condition", p, &mut t), Sampled);
    assert_eq!(t.batches, before);
}

fn with_mode(mode: &str) -> String {
    // The first condition fails (Substring of a missing attribute); the second holds.
    format!(
        r#"- {{name: o, type: ottl_condition, ottl_condition: {{{mode} span: ['Substring(attributes["missing"], 0, 1) == "a"', 'name == "x"']}}}}"#
    )
}

#[test]
fn error_mode_propagate_is_the_default_and_fails_the_policy() {
    for mode in ["", "error_mode: propagate,"] {
        let mut per = Vec::new();
        let d = build(&with_mode(mode), false).evaluate(
            &TRACE_ID,
            &mut trace(vec![], vec![named("x", &[])]),
            Instant::now(),
            &mut per,
        );
        assert_eq!((d, per[0]), (NotSampled, Error), "mode {mode:?}");
    }
}

#[test]
fn error_modes_ignore_and_silent_go_on_to_the_next_condition() {
    for mode in ["error_mode: ignore,", "error_mode: silent,"] {
        let mut per = Vec::new();
        let d = build(&with_mode(mode), false).evaluate(
            &TRACE_ID,
            &mut trace(vec![], vec![named("x", &[])]),
            Instant::now(),
            &mut per,
        );
        assert_eq!((d, per[0]), (Sampled, Sampled), "mode {mode:?}");
    }
}
