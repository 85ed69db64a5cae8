//! `tracesprocessor_test.go`'s tables: tracestate in/out for the consistent modes, the
//! errors that fail closed, missing randomness, `sampling.priority`, the legacy hash rows.

use switchyard_pdata::proto::common::v1::any_value::Value;
use switchyard_pdata::proto::trace::v1::Span;

use super::super::config::Mode;
use super::super::sampler::{Notes, Sampler};
use super::super::traces::{sample_span, span_priority, SpanPriority};
use super::hash_rows::EXPECT_50_PCT;
use super::{go_zero, kv, one_span, processor, run_traces, tid};
use crate::processors::probabilistic_sampler::ProbabilisticSamplerConfig;

const DEFAULT_TID: &str = "fefefefefefefefefe80000000000000";
const IMPROBABLE_TID: &str = "111111111111111111ffffffffffffff";
const SEED: u32 = 4312;

/// One row: config, trace id, arriving tracestate, priority, expected log, and the
/// tracestate written per mode (`None` = dropped).
struct Case {
    name: &'static str,
    pct: f32,
    precision: i64,
    fail_closed: bool,
    tid: &'static str,
    ts: &'static str,
    priority: Option<i64>,
    log: &'static str,
    equalizing: Option<&'static str>,
    proportional: Option<&'static str>,
}

const fn case(name: &'static str, pct: f32, ts: &'static str, both: Option<&'static str>) -> Case {
    Case {
        name,
        pct,
        precision: 0,
        fail_closed: false,
        tid: DEFAULT_TID,
        ts,
        priority: None,
        log: "",
        equalizing: both,
        proportional: both,
    }
}

fn cases() -> Vec<Case> {
    vec![
        case("100 percent", 100.0, "", Some("ot=th:0")),
        case("50 percent sampled", 50.0, "", Some("ot=th:8")),
        Case { tid: "ddddddddddddddddddc0000000000000", ..case("25 percent sampled", 25.0, "", Some("ot=th:c")) },
        Case { tid: "ddddddddddddddddddb0000000000000", ..case("25 percent unsampled", 25.0, "", None) },
        case("1 percent sampled", 1.0, "ot=rv:FD70A3D70A3D71", Some("ot=rv:FD70A3D70A3D71;th:fd70a3d70a3d71")),
        Case {
            precision: 4,
            ..case("1 percent, rvalue, precision 4", 1.0, "ot=rv:FD70A3D70A3D71", Some("ot=rv:FD70A3D70A3D71;th:fd70a"))
        },
        Case { precision: 3, ..case("1 percent, rvalue, precision 3", 1.0, "ot=rv:FD70A3D70A3D71", None) },
        case("1 percent not sampled with rvalue", 1.0, "ot=rv:FD70A3D70A3D70", None),
        case("49 percent not sampled with default tid", 49.0, "", None),
        case(
            "1 percent sampled with rvalue",
            1.0,
            "ot=rv:fd70B000000000",
            Some("ot=rv:fd70B000000000;th:fd70a3d70a3d71"),
        ),
        Case {
            tid: "a0a0a0a0a0a0a0a0a0fe000000000000",
            precision: 4,
            ..case("1 percent sampled with tid", 1.0, "", Some("ot=th:fd70a"))
        },
        Case { priority: Some(2), ..case("sampled by priority", 1.0, "", Some("ot=th:0")) },
        Case { priority: Some(0), ..case("not sampled by priority", 99.0, "", None) },
        Case {
            equalizing: Some("ot=rv:90000000000000;th:8"),
            proportional: None,
            ..case("incoming 50 percent with rvalue", 50.0, "ot=rv:90000000000000;th:80000000000000", None)
        },
        case("incoming 50 percent at 25 percent not sampled", 25.0, "ot=th:8", None),
        Case {
            tid: "ffffffffffffffffffffffffffffffff",
            equalizing: Some("ot=th:c"),
            proportional: Some("ot=th:e"),
            ..case("incoming 50 percent at 25 percent sampled", 25.0, "ot=th:8", None)
        },
        Case {
            equalizing: Some("ot=rv:c0000000000000;th:8"),
            proportional: Some("ot=rv:c0000000000000;th:c"),
            ..case("equalizing vs proportional", 50.0, "ot=rv:c0000000000000;th:8", None)
        },
        Case {
            log: "inconsistent arriving threshold",
            ..case(
                "inconsistent arriving threshold",
                100.0,
                "ot=rv:40000000000000;th:8",
                Some("ot=rv:40000000000000;th:0"),
            )
        },
        Case {
            log: "inconsistent arriving threshold",
            fail_closed: true,
            ..case("inconsistent arriving threshold not sampled", 1.0, "ot=rv:40000000000000;th:8", None)
        },
        Case {
            precision: 3,
            ..case(
                "40 percent precision 3 with rvalue",
                40.0,
                "ot=rv:a0000000000000",
                Some("ot=rv:a0000000000000;th:99a"),
            )
        },
        Case {
            precision: 6,
            tid: "a0a0a0a0a0a0a0a0a0d0000000000000",
            equalizing: Some("ot=th:99999a"),
            proportional: Some("ot=th:cccccd"),
            ..case("arriving 50 percent sampled at 40 percent precision 6", 40.0, "ot=th:8", None)
        },
        Case {
            precision: 3,
            tid: "a0a0a0a0a0a0a0a0a0b0000000000000",
            equalizing: Some("ot=th:99a"),
            proportional: None,
            ..case("arriving 50 percent sampled at 40 percent partly sampled", 40.0, "ot=th:8", None)
        },
        Case {
            precision: 3,
            tid: "a0a0a0a0a0a0a0a0a080000000000000",
            ..case("arriving 50 percent sampled at 40 percent not sampled", 40.0, "ot=th:8", None)
        },
        case("200 percent equals 100 percent", 200.0, "", Some("ot=th:0")),
        Case {
            tid: IMPROBABLE_TID,
            equalizing: Some("ot=th:fffc"),
            proportional: Some("ot=th:fffffff"),
            ..case("tiny probability rounding", 100.0 / 16384.0, "ot=th:fffc", None)
        },
        Case {
            tid: IMPROBABLE_TID,
            precision: 10,
            ..case("almost 100pct sampling", (1.0 - 8e-7) * 100.0, "", Some("ot=th:00000cccccccd"))
        },
        Case {
            tid: IMPROBABLE_TID,
            equalizing: Some("ot=th:fffffffffffff8"),
            proportional: None,
            ..case("probability underflow", 0.0625, "ot=th:fffffffffffff8", None)
        },
    ]
}

fn config(pct: f32, mode: &str, precision: i64, fail_closed: bool) -> ProbabilisticSamplerConfig {
    ProbabilisticSamplerConfig {
        sampling_percentage: pct,
        mode: mode.into(),
        hash_seed: SEED,
        sampling_precision: precision,
        fail_closed,
        ..go_zero()
    }
}

fn sampler(cfg: &ProbabilisticSamplerConfig) -> Sampler {
    Sampler::new(cfg.sampling_percentage, cfg.mode(), cfg.hash_seed, cfg.precision())
}

/// Runs one span through [`sample_span`]: (kept tracestate or `None`, logged error text).
fn decide_span(cfg: &ProbabilisticSamplerConfig, span: &mut Span) -> (Option<String>, String) {
    let mut notes = Notes::default();
    let mut scratch = String::new();
    let out = sample_span(&sampler(cfg), cfg.fail_closed, span, &mut scratch, &mut notes);
    let log = notes.error.map(|e| e.to_string()).unwrap_or_default();
    (out.sampled.then(|| span.trace_state.clone()), log)
}

#[test]
fn tracestate_table_for_the_consistent_modes() {
    for c in cases() {
        for (mode, want) in [("equalizing", c.equalizing), ("proportional", c.proportional)] {
            let cfg = config(c.pct, mode, c.precision, c.fail_closed);
            let attrs = c.priority.map(|p| vec![kv("sampling.priority", Value::IntValue(p))]).unwrap_or_default();
            let mut req = one_span(tid(c.tid), c.ts, attrs);
            let span = &mut req.resource_spans[0].scope_spans[0].spans[0];
            let (got, log) = decide_span(&cfg, span);
            assert_eq!(got.as_deref(), want, "{mode} {}", c.name);
            assert!(log.contains(c.log) && log.is_empty() == c.log.is_empty(), "{mode} {}: log {log:?}", c.name);
            // The same row through the processor: kept or dropped alike.
            let (p, _) = processor(&cfg);
            let attrs = c.priority.map(|p| vec![kv("sampling.priority", Value::IntValue(p))]).unwrap_or_default();
            let kept = run_traces(&p, one_span(tid(c.tid), c.ts, attrs));
            assert_eq!(kept.first().map(|s| s.trace_state.as_str()), want, "{mode} {}", c.name);
        }
    }
}

#[test]
fn written_thresholds_state_the_expected_adjusted_count() {
    // Spot checks of upstream's adjusted counts on the written `th`.
    for (ts, count) in
        [("ot=th:8", 2.0), ("ot=th:c", 4.0), ("ot=th:e", 8.0), ("ot=th:cccccd", 5.0), ("ot=th:99999a", 2.5)]
    {
        let th = super::super::otep::Threshold::parse(&ts[6..]).expect("valid");
        assert!((th.adjusted_count() - count).abs() / count < 1e-3, "{ts}");
    }
}

#[test]
fn invalid_or_inconsistent_sampling_state_fails_closed() {
    // Test_tracesamplerprocessor_TraceStateErrors.
    let rows = [
        ("00000000000000000000000000000000", "", "missing randomness"),
        (DEFAULT_TID, "ot=rv:abababababababab", "r-value must have 14 hex digits"),
        (DEFAULT_TID, "ot=th:abababababababab", "t-value exceeds 14 hex digits"),
        (DEFAULT_TID, "ot=th:-1", "invalid syntax"),
        ("ffffffffffffffffff70000000000000", "ot=th:8", "inconsistent arriving threshold"),
        (DEFAULT_TID, "ot=th:8;rv:70000000000000", "inconsistent arriving threshold"),
    ];
    for mode in ["equalizing", "proportional"] {
        for (t, ts, msg) in rows {
            let cfg = config(100.0, mode, 0, true);
            let mut req = one_span(tid(t), ts, Vec::new());
            let (got, log) = decide_span(&cfg, &mut req.resource_spans[0].scope_spans[0].spans[0]);
            assert_eq!(got, None, "{mode} {ts}");
            assert!(log.contains(msg), "{mode} {ts}: {log}");
        }
    }
}

#[test]
fn missing_randomness_follows_fail_closed() {
    // Test_tracessamplerprocessor_MissingRandomness (hash_seed mode, empty trace id).
    for (pct, fail_closed, sampled) in [
        (0.0, true, false),
        (62.0, true, false),
        (100.0, true, false),
        (0.0, false, false),
        (62.0, false, true),
        (100.0, false, true),
    ] {
        let cfg = config(pct, "", 4, fail_closed);
        let mut req = one_span(vec![0; 16], "", Vec::new());
        let (got, log) = decide_span(&cfg, &mut req.resource_spans[0].scope_spans[0].spans[0]);
        assert_eq!(got.is_some(), sampled, "{pct} {fail_closed}");
        if pct == 0.0 {
            assert_eq!(log, "", "0% bypasses the randomness check");
        } else {
            assert_eq!(log, "missing randomness");
        }
    }
}

#[test]
fn sampling_priority_overrides_the_percentage_in_every_mode() {
    // Test_tracesamplerprocessor_SpanSamplingPriority.
    let rows = [
        (0.0, "sampling.priority", Value::IntValue(2), true),
        (0.0, "sampling.priority", Value::DoubleValue(1.0), true),
        (0.0, "sampling.priority", Value::StringValue("1".into()), true),
        (100.0, "sampling.priority", Value::IntValue(0), false),
        (100.0, "sampling.priority", Value::DoubleValue(0.0), false),
        (100.0, "sampling.priority", Value::StringValue("0".into()), false),
        (0.0, "no.sampling.priority", Value::IntValue(2), false),
        (100.0, "no.sampling.priority", Value::IntValue(2), true),
    ];
    for mode in ["hash_seed", "equalizing", "proportional"] {
        for (pct, key, value, sampled) in rows.clone() {
            let cfg = config(pct, mode, 4, false);
            let (p, _) = processor(&cfg);
            let req = one_span(tid("01000000000000000000000000000000"), "", vec![kv(key, value.clone())]);
            assert_eq!(run_traces(&p, req).len() == 1, sampled, "{mode} {pct} {key} {value:?}");
        }
    }
}

#[test]
fn sampling_priority_is_read_as_upstream() {
    // Test_parseSpanSamplingPriority.
    let rows = [
        (None, SpanPriority::Defer),
        (Some(("key", Value::BoolValue(true))), SpanPriority::Defer),
        (Some(("sampling.priority", Value::IntValue(0))), SpanPriority::MustNot),
        (Some(("sampling.priority", Value::IntValue(1))), SpanPriority::Must),
        (Some(("sampling.priority", Value::IntValue(-1))), SpanPriority::Defer),
        (Some(("sampling.priority", Value::DoubleValue(0.0))), SpanPriority::MustNot),
        (Some(("sampling.priority", Value::DoubleValue(1.0))), SpanPriority::Must),
        (Some(("sampling.priority", Value::DoubleValue(-1.0))), SpanPriority::Defer),
        (Some(("sampling.priority", Value::StringValue("0.0".into()))), SpanPriority::MustNot),
        (Some(("sampling.priority", Value::StringValue("0.5".into()))), SpanPriority::Must),
        (Some(("sampling.priority", Value::StringValue("-0.5".into()))), SpanPriority::Defer),
        (Some(("sampling.priority", Value::StringValue("NaN".into()))), SpanPriority::Defer),
    ];
    for (attr, want) in rows {
        let span = Span { attributes: attr.iter().map(|(k, v)| kv(k, v.clone())).collect(), ..Default::default() };
        assert_eq!(span_priority(&span), want, "{attr:?}");
    }
}

#[test]
fn the_legacy_hash_decides_as_the_collector_did() {
    // TestHashingFunction: 50%, mode unset, the given seed.
    for (seed, t, sampled) in EXPECT_50_PCT {
        let cfg = ProbabilisticSamplerConfig { sampling_percentage: 50.0, hash_seed: seed, ..go_zero() };
        assert_eq!(cfg.mode(), Mode::HashSeed);
        let (p, _) = processor(&cfg);
        let kept = run_traces(&p, one_span(tid(t), "", Vec::new()));
        assert_eq!(kept.len() == 1, sampled, "seed {seed} trace {t}");
    }
}

#[test]
fn hash_seed_mode_writes_randomness_and_threshold() {
    // Test_tracesamplerprocessor_HashSeedTraceState.
    let mut rng = super::Rng(42);
    for (pct, tv) in [(100.0, "0"), (75.0, "4"), (50.0, "8"), (25.0, "c"), (10.0, "e668"), (100.0f32 / 3.0, "aaac")] {
        let cfg = config(pct, "hash_seed", 4, true);
        let (p, _) = processor(&cfg);
        let mut found = 0;
        while found < 10 {
            let Some(span) = run_traces(&p, one_span(rng.trace_id(), "", Vec::new())).pop() else { continue };
            let ts = super::super::tracestate::TraceState::parse(&span.trace_state).expect("valid");
            let (th, rv) = (ts.threshold().expect("th"), ts.randomness().expect("rv"));
            assert_eq!(th.tvalue(), tv, "{pct}");
            assert!(th.should_sample(rv), "{}", span.trace_state);
            assert!(span.trace_state.starts_with("ot=rv:"), "{}", span.trace_state);
            found += 1;
        }
    }
}
