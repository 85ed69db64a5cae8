//! `logsprocessor_test.go`'s tables: counts over 100 records, the attributes written, and
//! missing randomness in every mode.

use switchyard_pdata::proto::common::v1::any_value::Value;
use switchyard_pdata::proto::logs::v1::LogRecord;

use super::super::logs::{sample_log, LogSettings};
use super::super::otep::randomness_from_hash;
use super::super::sampler::{Notes, Sampler};
use super::{go_zero, kv, logs_of, processor, run_logs, tid};
use crate::processors::probabilistic_sampler::ProbabilisticSamplerConfig;

fn cfg(pct: f32, source: &str, mode: &str) -> ProbabilisticSamplerConfig {
    ProbabilisticSamplerConfig {
        sampling_percentage: pct,
        attribute_source: source.into(),
        mode: mode.into(),
        ..go_zero()
    }
}

/// Upstream's 100 records: trace id 8 zero bytes then 8 copies of i (all zero for i = 0),
/// `rando` = hash(trace id, 123) as an int; even records carry `foo` (bytes) and `bar`
/// (hex string, empty for the zero id), every fourth a `priority` of 100.
fn hundred_records() -> Vec<LogRecord> {
    (0..100u8)
        .map(|i| {
            let id: Vec<u8> = [0u8; 8].into_iter().chain([i; 8]).collect();
            let mut attributes =
                vec![kv("rando", Value::IntValue(i64::from(super::super::otep::fnv1a32_seeded(123, &id))))];
            if i % 2 == 0 {
                attributes.push(kv("foo", Value::BytesValue(id.clone())));
                // pcommon.TraceID.String(): hex, but "" for the all-zero id.
                let hex: String = if i == 0 { String::new() } else { id.iter().map(|b| format!("{b:02x}")).collect() };
                attributes.push(kv("bar", Value::StringValue(hex)));
            }
            if i % 4 == 0 {
                attributes.push(kv("priority", Value::DoubleValue(100.0)));
            }
            LogRecord { trace_id: id, severity_number: 5, attributes, ..Default::default() }
        })
        .collect()
}

#[test]
fn record_counts_match_upstream() {
    // TestLogsSampling.
    let rows: [(&str, ProbabilisticSamplerConfig, usize); 14] = [
        ("happy_path", cfg(100.0, "", ""), 100),
        ("nothing", ProbabilisticSamplerConfig { fail_closed: true, ..cfg(0.0, "", "") }, 0),
        ("roughly half", ProbabilisticSamplerConfig { fail_closed: true, ..cfg(50.0, "traceID", "hash_seed") }, 45),
        (
            "sampling_source no sampling",
            ProbabilisticSamplerConfig { from_attribute: "foo".into(), ..cfg(0.0, "record", "") },
            0,
        ),
        (
            "sampling_source all sampling",
            ProbabilisticSamplerConfig { from_attribute: "foo".into(), ..cfg(100.0, "record", "") },
            100,
        ),
        (
            "sampling_source sampling",
            ProbabilisticSamplerConfig { from_attribute: "foo".into(), fail_closed: true, ..cfg(50.0, "record", "") },
            23,
        ),
        (
            "sampling_source sampling as string",
            ProbabilisticSamplerConfig { from_attribute: "bar".into(), fail_closed: true, ..cfg(50.0, "record", "") },
            29,
        ),
        ("sampling_priority_0_record", prio(0.0, "record", "rando"), 25),
        ("sampling_priority_50_record", prio(50.0, "record", "rando"), 64),
        ("sampling_priority_100_record", prio(100.0, "record", "rando"), 100),
        ("sampling_priority_0_traceid", prio(0.0, "traceID", ""), 25),
        ("sampling_priority_50_traceid", prio(50.0, "traceID", ""), 57),
        ("sampling_priority_100_traceid", prio(100.0, "traceID", ""), 100),
        ("sampling_priority with sampling field", prio(0.0, "record", "foo"), 25),
    ];
    for (name, c, want) in rows {
        let (p, _) = processor(&c);
        assert_eq!(run_logs(&p, logs_of(hundred_records())).len(), want, "{name}");
    }
}

fn prio(pct: f32, source: &str, from: &str) -> ProbabilisticSamplerConfig {
    ProbabilisticSamplerConfig {
        sampling_priority: "priority".into(),
        from_attribute: from.into(),
        ..cfg(pct, source, "")
    }
}

struct StateCase {
    name: &'static str,
    cfg: ProbabilisticSamplerConfig,
    tid: &'static str,
    attrs: Vec<(&'static str, Value)>,
    log: &'static str,
    /// The attributes of the kept record (sorted by key), `None` = dropped.
    expect: Option<Vec<(&'static str, Value)>>,
}

fn s(v: &str) -> Value {
    Value::StringValue(v.into())
}

#[test]
fn sampling_attributes_written_on_kept_records_match_upstream() {
    // TestLogsSamplingState.
    const TID: &str = "fefefefefefefefefe80000000000000";
    let default_tid: [u8; 16] = tid(TID).try_into().expect("16");
    let cases = vec![
        StateCase {
            name: "100 percent traceID",
            cfg: cfg(100.0, "traceID", "proportional"),
            tid: TID,
            attrs: vec![("ignored", s("value"))],
            log: "",
            expect: Some(vec![("ignored", s("value")), ("sampling.threshold", s("0"))]),
        },
        StateCase {
            name: "100 percent traceID hash_seed",
            cfg: ProbabilisticSamplerConfig { hash_seed: 22, ..cfg(100.0, "traceID", "hash_seed") },
            tid: TID,
            attrs: vec![("K", s("V"))],
            log: "",
            expect: Some(vec![
                ("K", s("V")),
                ("sampling.randomness", s(&randomness_from_hash(&default_tid, 22).rvalue())),
                ("sampling.threshold", s("0")),
            ]),
        },
        StateCase {
            name: "100 percent attribute",
            cfg: ProbabilisticSamplerConfig {
                hash_seed: 49,
                from_attribute: "veryrandom".into(),
                ..cfg(100.0, "record", "")
            },
            tid: "00000000000000000000000000000000",
            attrs: vec![("veryrandom", s("1234"))],
            log: "",
            expect: Some(vec![
                ("sampling.randomness", s(&randomness_from_hash(b"1234", 49).rvalue())),
                ("sampling.threshold", s("0")),
                ("veryrandom", s("1234")),
            ]),
        },
        StateCase {
            name: "0 percent traceID",
            cfg: cfg(0.0, "traceID", ""),
            tid: TID,
            attrs: vec![],
            log: "",
            expect: None,
        },
        StateCase {
            name: "10 percent priority sampled incoming randomness",
            cfg: ProbabilisticSamplerConfig {
                sampling_priority: "veryrandom".into(),
                sampling_precision: 6,
                ..cfg(0.0, "traceID", "")
            },
            tid: TID,
            attrs: vec![("sampling.randomness", s("e6147c00000000")), ("veryrandom", Value::DoubleValue(10.125))],
            log: "",
            expect: Some(vec![
                ("sampling.randomness", s("e6147c00000000")),
                ("sampling.threshold", s("e6147b")),
                ("veryrandom", Value::DoubleValue(10.125)),
            ]),
        },
        StateCase {
            name: "25 percent incoming",
            cfg: cfg(50.0, "traceID", "proportional"),
            tid: "fefefefefefefefefef0000000000000",
            attrs: vec![("sampling.threshold", s("c"))],
            log: "",
            expect: Some(vec![("sampling.threshold", s("e"))]),
        },
        StateCase {
            name: "25 percent arriving inconsistent",
            cfg: ProbabilisticSamplerConfig { fail_closed: true, ..cfg(50.0, "traceID", "equalizing") },
            tid: "fefefefefefefefefeb0000000000000",
            attrs: vec![("sampling.threshold", s("c"))],
            log: "inconsistent arriving threshold",
            expect: None,
        },
        StateCase {
            name: "25 percent arriving equalizing",
            cfg: ProbabilisticSamplerConfig { sampling_priority: "prio".into(), ..cfg(50.0, "traceID", "equalizing") },
            tid: "fefefefefefefefefefefefefefefefe",
            attrs: vec![("sampling.threshold", s("c")), ("prio", Value::IntValue(37))],
            log: "cannot raise existing sampling probability",
            expect: Some(vec![("prio", Value::IntValue(37)), ("sampling.threshold", s("c"))]),
        },
        StateCase {
            name: "hash_seed with spec randomness",
            cfg: cfg(100.0, "traceID", "hash_seed"),
            tid: TID,
            attrs: vec![("sampling.randomness", s("f2341234123412"))],
            log: "item has sampling randomness",
            expect: Some(vec![("sampling.randomness", s("f2341234123412"))]),
        },
    ];
    for c in cases {
        let sampler = Sampler::new(c.cfg.sampling_percentage, c.cfg.mode(), c.cfg.hash_seed, c.cfg.precision());
        let set = LogSettings {
            use_trace_id: c.cfg.logs_use_trace_id(),
            from_attribute: c.cfg.from_attribute.clone(),
            priority_attribute: c.cfg.sampling_priority.clone(),
            precision: c.cfg.precision(),
        };
        let mut record = LogRecord {
            trace_id: tid(c.tid),
            attributes: c.attrs.iter().map(|(k, v)| kv(k, v.clone())).collect(),
            ..Default::default()
        };
        let mut notes = Notes::default();
        let out = sample_log(&sampler, c.cfg.fail_closed, &set, &mut record, &mut notes);
        let log = notes.error.map(|e| e.to_string()).or(notes.update_refused.map(str::to_string)).unwrap_or_default();
        assert!(log.contains(c.log) && log.is_empty() == c.log.is_empty(), "{}: log {log:?}", c.name);
        let mut got: Vec<(String, Option<Value>)> =
            record.attributes.into_iter().map(|kv| (kv.key, kv.value.and_then(|v| v.value))).collect();
        got.sort_by(|a, b| a.0.cmp(&b.0));
        let want =
            c.expect.as_ref().map(|e| e.iter().map(|(k, v)| (k.to_string(), Some(v.clone()))).collect::<Vec<_>>());
        assert_eq!(out.sampled.then_some(got), want, "{}", c.name);
    }
}

#[test]
fn missing_randomness_follows_fail_closed_in_every_mode() {
    // TestLogsMissingRandomness: empty trace id, `from_attribute` names an empty string.
    for mode in ["hash_seed", "equalizing", "proportional"] {
        for source in ["record", "traceID"] {
            for (pct, fail_closed, sampled) in [
                (0.0, true, false),
                (50.0, true, false),
                (100.0, true, false),
                (0.0, false, false),
                (50.0, false, true),
                (100.0, false, true),
            ] {
                let c = ProbabilisticSamplerConfig {
                    hash_seed: 4312,
                    fail_closed,
                    from_attribute: "unused".into(),
                    ..cfg(pct, source, mode)
                };
                let (p, _) = processor(&c);
                let record =
                    LogRecord { trace_id: vec![0; 16], attributes: vec![kv("unused", s(""))], ..Default::default() };
                assert_eq!(
                    run_logs(&p, logs_of(vec![record])).len() == 1,
                    sampled,
                    "{mode} {source} {pct} {fail_closed}"
                );
            }
        }
    }
}

#[test]
fn record_decisions_are_counted_under_the_attribute_policy() {
    use crate::processors::probabilistic_sampler::COUNT_LOGS_SAMPLED;
    let c = ProbabilisticSamplerConfig { from_attribute: "foo".into(), fail_closed: true, ..cfg(50.0, "record", "") };
    let (p, set) = processor(&c);
    let kept = run_logs(&p, logs_of(hundred_records())).len() as u64;
    let count = |policy: &str, sampled: &str| {
        set.telemetry
            .metrics
            .counter(
                COUNT_LOGS_SAMPLED,
                "",
                &[("processor", "probabilistic_sampler"), ("policy", policy), ("sampled", sampled)],
            )
            .get()
    };
    assert_eq!(count("foo", "true"), kept);
    assert_eq!(count("foo", "true") + count("foo", "false"), 50, "the 50 records with foo");
    assert_eq!(count("missing_randomness", "false"), 50, "the 50 without fail closed");
}
