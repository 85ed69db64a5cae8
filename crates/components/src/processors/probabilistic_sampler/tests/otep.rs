//! The arithmetic: upstream's `pkg/sampling` expectations and the legacy hash.

use super::super::otep::{fnv1a32_seeded, hash_seed_threshold, randomness_from_hash, Randomness, Threshold};

#[test]
fn the_legacy_hash_of_nothing_and_of_zeros_matches_upstream() {
    // TestEmptyHashFunction: seed 0, bucket = hash & 0x3fff.
    assert_eq!(fnv1a32_seeded(0, &[]) & 0x3fff, 0x3515);
    assert_eq!(fnv1a32_seeded(0, &[0; 16]) & 0x3fff, 0x2455);
}

#[test]
fn fnv1a32_is_the_standard_function_over_seed_then_bytes() {
    // FNV-1a 32 test vectors: "" -> 0x811c9dc5, "a" -> 0xe40c292c. With the 4 seed bytes
    // first, seed 0 is the hash of four zero bytes then the input.
    let plain = |b: &[u8]| b.iter().fold(0x811c_9dc5u32, |h, &x| (h ^ u32::from(x)).wrapping_mul(0x0100_0193));
    assert_eq!(plain(b""), 0x811c_9dc5);
    assert_eq!(plain(b"a"), 0xe40c_292c);
    assert_eq!(fnv1a32_seeded(0, b"a"), plain(&[0, 0, 0, 0, b'a']));
    assert_eq!(fnv1a32_seeded(0x0403_0201, b"x"), plain(&[1, 2, 3, 4, b'x']));
}

#[test]
fn hash_seed_thresholds_are_fourteen_bit_as_upstream() {
    // Test_tracesamplerprocessor_HashSeedTraceState: pct -> th written.
    for (pct, tv) in [(100.0, "0"), (75.0, "4"), (50.0, "8"), (25.0, "c"), (10.0, "e668"), (100.0f32 / 3.0, "aaac")] {
        let th = hash_seed_threshold(pct).expect("non-zero");
        assert_eq!(th.tvalue(), tv, "{pct}");
    }
    assert_eq!(hash_seed_threshold(0.001), None, "0.001% rounds to no bucket");
}

#[test]
fn hashed_randomness_reproduces_the_bucket_comparison() {
    let mut rng = super::Rng(7);
    for _ in 0..2000 {
        let id = rng.trace_id();
        let seed = rng.next() as u32;
        let bucket = fnv1a32_seeded(seed, &id) & 0x3fff;
        let r = randomness_from_hash(&id, seed);
        for pct in [1.0f32, 10.0, 25.0, 33.3, 50.0, 99.0] {
            let scaled = (pct * 163.84f32) as u32;
            let th = hash_seed_threshold(pct).expect("non-zero");
            assert_eq!(th.should_sample(r), bucket < scaled, "{pct}");
        }
    }
}

#[test]
fn threshold_encoding_drops_trailing_zeros() {
    assert_eq!(Threshold::parse("8").map(Threshold::tvalue), Ok("8".into()));
    assert_eq!(Threshold::parse("80000000000000").map(Threshold::tvalue), Ok("8".into()));
    assert_eq!(Threshold::parse("0").map(Threshold::tvalue), Ok("0".into()));
    assert_eq!(Threshold::parse("00000cccccccd").map(Threshold::tvalue), Ok("00000cccccccd".into()));
    assert_eq!(Threshold::NEVER.tvalue(), "");
    assert_eq!(
        Threshold::parse("abababababababab").map_err(|e| e.to_string()),
        Err("t-value exceeds 14 hex digits".into())
    );
    assert_eq!(Threshold::parse("-1").map_err(|e| e.to_string()), Err("invalid syntax".into()));
    assert_eq!(Threshold::parse("").map_err(|e| e.to_string()), Err("t-value is empty".into()));
    assert_eq!(
        Randomness::parse("abababababababab").map_err(|e| e.to_string()),
        Err("r-value must have 14 hex digits".into())
    );
    assert_eq!(Randomness::parse("FD70A3D70A3D71").map(Randomness::rvalue), Ok("fd70a3d70a3d71".into()));
}

#[test]
fn probabilities_convert_to_thresholds_as_upstream() {
    // Values from the processor's TraceState table and pkg/sampling's probability tests.
    let th = |p: f64, prec: usize| Threshold::from_probability(p, prec).expect("in range").tvalue();
    assert_eq!(th(0.5, 4), "8");
    assert_eq!(th(0.25, 4), "c");
    assert_eq!(th(0.01, 0), "fd70a3d70a3d71");
    assert_eq!(th(0.01, 4), "fd70a");
    assert_eq!(th(0.01, 3), "fd71");
    assert_eq!(th(0.4, 3), "99a");
    assert_eq!(th(0.4, 6), "99999a");
    assert_eq!(th(0.2, 6), "cccccd");
    assert_eq!(th(1.0, 4), "0");
    assert_eq!(th(2f64.powi(-28), 4), "fffffff");
    assert_eq!(th(f64::from((1.0f32 - 8e-7) * 100.0) / 100.0, 10), "00000cccccccd");
    // 10.125% at 6 digits (logs priority case).
    assert_eq!(th(0.10125, 6), "e6147b");
    assert!(Threshold::from_probability(0.0, 4).is_err());
    assert!(Threshold::from_probability(1.5, 4).is_err());
    assert!(Threshold::from_probability(f64::NAN, 4).is_err());
}

#[test]
fn trace_id_randomness_is_its_last_seven_bytes() {
    let id: [u8; 16] = super::tid("fefefefefefefefefe80000000000000").try_into().expect("16");
    assert_eq!(Randomness::from_trace_id(&id).rvalue(), "80000000000000");
    let adj = Threshold::parse("c").expect("valid").adjusted_count();
    assert!((adj - 4.0).abs() < 1e-9, "{adj}");
}
