use super::super::probabilistic::{hash_trace_id, threshold, DEFAULT_HASH_SALT};
use super::super::Decision::{NotSampled, Sampled};
use super::super::Policies;
use super::{cfgs, reporter, trace};

#[test]
fn the_hash_is_standard_fnv1a_64_over_salt_then_id() {
    assert_eq!(hash_trace_id("", &[]), 0xcbf2_9ce4_8422_2325);
    assert_eq!(hash_trace_id("a", &[]), 0xaf63_dc4c_8601_ec8c);
    assert_eq!(hash_trace_id("foo", b"bar"), hash_trace_id("", b"foobar"));
    assert_eq!(hash_trace_id("", b"foobar"), 0x8594_4171_f739_67e8);
}

#[test]
fn thresholds_round_like_go_big_float() {
    assert_eq!(threshold(0.0), 0);
    assert_eq!(threshold(-0.5), 0);
    assert_eq!(threshold(f64::NAN), 0);
    assert_eq!(threshold(1.0), u64::MAX);
    assert_eq!(threshold(1.5), u64::MAX);
    assert_eq!(threshold(f64::INFINITY), u64::MAX);
    // MaxUint64 / 2 = 2^63 - 0.5, truncated.
    assert_eq!(threshold(0.5), (1 << 63) - 1);
    // 0.25 is exact: (2^64 - 1) / 4 truncated.
    assert_eq!(threshold(0.25), u64::MAX / 4);
    // 0.1 is not exact in binary: the product is rounded to 64 bits first, then truncated
    // (a plain f64 multiplication would give a different value).
    assert_eq!(threshold(0.1), 1_844_674_407_370_955_263);
    assert_ne!(threshold(0.1), (u64::MAX as f64 * 0.1) as u64);
    // Tiny ratios stay positive.
    assert_eq!(threshold(1e-19), 1);
}

fn ids(n: usize) -> impl Iterator<Item = [u8; 16]> {
    let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
    (0..n).map(move |_| {
        let mut id = [0u8; 16];
        for half in id.chunks_mut(8) {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            half.copy_from_slice(&x.to_be_bytes());
        }
        id
    })
}

fn sampled_share(yaml: &str) -> f64 {
    let mut p = Policies::build(&cfgs(yaml), false, 1.0, reporter()).expect("builds");
    let mut t = trace(vec![], vec![]);
    let mut per = Vec::new();
    let n = 100_000;
    let kept = ids(n).filter(|id| p.evaluate(id, &mut t, tokio::time::Instant::now(), &mut per) == Sampled).count();
    kept as f64 / n as f64
}

#[test]
fn the_sampled_share_follows_the_percentage() {
    for (pct, want) in [(0.0, 0.0), (25.0, 0.25), (33.0, 0.33), (100.0, 1.0), (150.0, 1.0), (-50.0, 0.0)] {
        let got = sampled_share(&format!(
            "- {{name: p, type: probabilistic, probabilistic: {{sampling_percentage: {pct}}}}}"
        ));
        assert!((got - want).abs() < 0.005, "{pct}%: sampled {got}");
    }
    let salted =
        sampled_share("- {name: p, type: probabilistic, probabilistic: {sampling_percentage: 33, hash_salt: x}}");
    assert!((salted - 0.33).abs() < 0.005, "salted: {salted}");
}

#[test]
fn the_salt_changes_which_traces_are_kept() {
    let decide = |salt: &str, id: &[u8; 16]| {
        let yaml = format!(
            "- {{name: p, type: probabilistic, probabilistic: {{sampling_percentage: 50, hash_salt: {salt}}}}}"
        );
        let mut p = Policies::build(&cfgs(&yaml), false, 1.0, reporter()).expect("builds");
        p.evaluate(id, &mut trace(vec![], vec![]), tokio::time::Instant::now(), &mut Vec::new())
    };
    let differ = ids(200).filter(|id| decide("one", id) != decide("two", id)).count();
    assert!(differ > 50, "{differ} of 200 decisions differ between salts");
    // An empty salt is the default one.
    let id = [7u8; 16];
    assert_eq!(decide("\"\"", &id), decide(DEFAULT_HASH_SALT, &id));
    assert!(matches!(decide("one", &id), Sampled | NotSampled));
}
