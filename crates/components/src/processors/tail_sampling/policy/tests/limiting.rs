use std::time::Duration;

use tokio::time::Instant;

use super::super::Decision::{self, NotSampled, Sampled};
use super::super::{Policies, TraceData};
use super::{cfgs, kv, reporter, s, span, trace, TRACE_ID};

fn spans(n: usize) -> TraceData {
    trace(vec![], (0..n).map(|_| span(vec![])).collect())
}

struct Clock {
    p: Policies,
    start: Instant,
}

impl Clock {
    fn new(yaml: &str, share: f64) -> Clock {
        Clock { p: Policies::build(&cfgs(yaml), false, share, reporter()).expect("builds"), start: Instant::now() }
    }

    fn at(&mut self, ms: u64, t: &mut TraceData) -> Decision {
        self.p.evaluate(&TRACE_ID, t, self.start + Duration::from_millis(ms), &mut Vec::new())
    }
}

#[test]
fn rate_limiting_is_a_token_bucket_of_twice_the_rate() {
    let mut c = Clock::new("- {name: r, type: rate_limiting, rate_limiting: {spans_per_second: 3}}", 1.0);
    assert_eq!(c.at(0, &mut spans(7)), NotSampled, "more than the burst (6) never passes");
    assert_eq!(c.at(0, &mut spans(6)), Sampled, "the bucket starts full");
    assert_eq!(c.at(0, &mut spans(1)), NotSampled);
    assert_eq!(c.at(500, &mut spans(2)), NotSampled, "1.5 tokens after half a second");
    assert_eq!(c.at(500, &mut spans(1)), Sampled);
    assert_eq!(c.at(1000, &mut spans(2)), Sampled, "0.5 + 1.5 tokens");
    assert_eq!(c.at(60_000, &mut spans(6)), Sampled, "refills up to the burst only");
    assert_eq!(c.at(60_000, &mut spans(1)), NotSampled);
}

#[test]
fn rate_limiting_burst_capacity() {
    let mut c =
        Clock::new("- {name: r, type: rate_limiting, rate_limiting: {spans_per_second: 10, burst_capacity: 3}}", 1.0);
    assert_eq!(c.at(0, &mut spans(4)), NotSampled);
    assert_eq!(c.at(0, &mut spans(3)), Sampled);
    assert_eq!(c.at(100, &mut spans(1)), Sampled, "10 per second is one per 100 ms");
    assert_eq!(c.at(100, &mut spans(1)), NotSampled);
}

#[test]
fn a_shard_gets_its_share_of_the_rates() {
    let mut c = Clock::new("- {name: r, type: rate_limiting, rate_limiting: {spans_per_second: 100}}", 0.25);
    assert_eq!(c.at(0, &mut spans(51)), NotSampled, "burst 200 × 0.25 = 50");
    assert_eq!(c.at(0, &mut spans(50)), Sampled);
    assert_eq!(c.at(1000, &mut spans(26)), NotSampled, "refill 25 per second");
    assert_eq!(c.at(1000, &mut spans(25)), Sampled);
    // A small rate keeps at least 1.
    let mut tiny = Clock::new("- {name: r, type: rate_limiting, rate_limiting: {spans_per_second: 1}}", 0.1);
    assert_eq!(tiny.at(0, &mut spans(1)), Sampled);
    assert_eq!(tiny.at(0, &mut spans(1)), NotSampled);
    assert_eq!(tiny.at(1000, &mut spans(1)), Sampled);
}

#[test]
fn bytes_limiting_charges_the_encoded_size() {
    let mut c = Clock::new("- {name: b, type: bytes_limiting, bytes_limiting: {bytes_per_second: 1000}}", 1.0);
    let mut big = spans(1);
    big.bytes = 2001;
    assert_eq!(c.at(0, &mut big), NotSampled, "bigger than the burst (2 × rate)");
    big.bytes = 1500;
    assert_eq!(c.at(0, &mut big), Sampled);
    assert_eq!(c.at(0, &mut big), NotSampled, "500 bytes left");
    assert_eq!(c.at(1000, &mut big), Sampled, "+1000");
    let mut custom = Clock::new(
        "- {name: b, type: bytes_limiting, bytes_limiting: {bytes_per_second: 1000, burst_capacity: 100}}",
        1.0,
    );
    let mut t = spans(1);
    t.bytes = 101;
    assert_eq!(custom.at(0, &mut t), NotSampled);
    t.bytes = 100;
    assert_eq!(custom.at(0, &mut t), Sampled);
}

const COMPOSITE: &str = r#"
- name: c
  type: composite
  composite:
    max_total_spans_per_second: 10
    policy_order: [errors, everything]
    composite_sub_policy:
      - {name: errors, type: string_attribute, string_attribute: {key: kind, values: [error]}}
      - {name: everything, type: always_sample}
    rate_allocation:
      - {policy: errors, percent: 60}
      - {policy: everything, percent: 40}
"#;

fn kind(k: &str, n: usize) -> TraceData {
    trace(vec![kv("kind", s(k))], (0..n).map(|_| span(vec![])).collect())
}

#[test]
fn composite_gives_each_sub_policy_its_share_per_second() {
    let mut c = Clock::new(COMPOSITE, 1.0);
    assert_eq!(c.at(0, &mut kind("error", 5)), Sampled);
    assert_eq!(c.at(10, &mut kind("error", 2)), NotSampled, "errors' budget is 6 spans a second");
    assert_eq!(c.at(20, &mut kind("error", 1)), Sampled, "a smaller trace still fits");
    // The first sub-policy that samples decides: an error trace does not fall through to
    // `everything` when its own budget is spent.
    assert_eq!(c.at(30, &mut kind("error", 1)), NotSampled);
    assert_eq!(c.at(40, &mut kind("other", 4)), Sampled);
    assert_eq!(c.at(50, &mut kind("other", 1)), NotSampled);
    assert_eq!(c.at(1000, &mut kind("error", 6)), Sampled, "budgets reset every second");
    assert_eq!(c.at(1500, &mut kind("other", 4)), Sampled);
}

#[test]
fn composite_sub_policies_without_allocation_never_sample() {
    let yaml = r#"
- name: c
  type: composite
  composite:
    max_total_spans_per_second: 100
    composite_sub_policy:
      - {name: listed, type: string_attribute, string_attribute: {key: kind, values: [a]}}
      - {name: equal, type: string_attribute, string_attribute: {key: kind, values: [b]}}
      - {name: unlisted, type: always_sample}
    rate_allocation:
      - {policy: listed, percent: 10}
      - {policy: equal, percent: 0}
"#;
    let mut c = Clock::new(yaml, 1.0);
    assert_eq!(c.at(0, &mut kind("a", 11)), NotSampled, "10% of 100");
    assert_eq!(c.at(0, &mut kind("a", 10)), Sampled);
    assert_eq!(c.at(0, &mut kind("b", 34)), NotSampled, "percent 0: 100 / 3 sub-policies = 33");
    assert_eq!(c.at(0, &mut kind("b", 33)), Sampled);
    assert_eq!(c.at(0, &mut kind("z", 1)), NotSampled, "not listed: no budget");
}

#[test]
fn composite_budgets_scale_with_the_share() {
    let mut c = Clock::new(COMPOSITE, 0.5);
    assert_eq!(c.at(0, &mut kind("error", 4)), NotSampled, "6 × 0.5 = 3");
    assert_eq!(c.at(0, &mut kind("error", 3)), Sampled);
}
