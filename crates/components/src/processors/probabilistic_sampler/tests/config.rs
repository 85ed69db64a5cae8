//! The config as a user writes it: defaults, and the Collector's refusals at the right key.

use switchyard_core::component::ComponentConfig;

use super::parse;
use crate::processors::probabilistic_sampler::Mode;

fn errors(yaml: &str) -> Vec<(String, String)> {
    parse(yaml).expect("decodes").validate().into_iter().map(|e| (e.field, e.message)).collect()
}

#[test]
fn defaults_are_the_collectors() {
    let c = parse("{}").expect("decodes");
    assert_eq!(c.sampling_percentage, 0.0);
    assert_eq!(c.hash_seed, 0);
    assert_eq!(c.mode(), Mode::HashSeed, "unset mode is hash_seed");
    assert!(c.fail_closed);
    assert_eq!(c.sampling_precision, 4);
    assert_eq!(c.attribute_source, "traceID");
    assert!(errors("{}").is_empty());
}

#[test]
fn upstream_testdata_configs_load() {
    // testdata/config.yaml of the Collector.
    let c = parse("sampling_percentage: 15.3\nmode: \"proportional\"\n").expect("decodes");
    assert_eq!(c.mode(), Mode::Proportional);
    assert!(c.validate().is_empty());
    let c = parse("sampling_percentage: 15.3\nhash_seed: 22\nattribute_source: \"record\"\nfrom_attribute: \"foo\"\nsampling_priority: \"bar\"\n")
        .expect("decodes");
    assert_eq!((c.hash_seed, c.from_attribute.as_str(), c.sampling_priority.as_str()), (22, "foo", "bar"));
    assert!(c.validate().is_empty());
}

#[test]
fn invalid_values_are_refused_with_upstreams_messages() {
    assert_eq!(
        errors("sampling_percentage: -15.3\n"),
        [("sampling_percentage".to_string(), "sampling rate is negative: -15.300000%".to_string())]
    );
    let e = errors("sampling_percentage: 1e39\n");
    assert_eq!(e[0].0, "sampling_percentage");
    assert!(e[0].1.starts_with("sampling rate is invalid"), "{e:?}");
    let e = errors("sampling_percentage: 1e-16\n");
    assert!(e[0].1.starts_with("sampling rate is too small"), "{e:?}");
    assert_eq!(errors("sampling_precision: 0\n")[0].1, "invalid sampling precision: 0");
    assert_eq!(errors("sampling_precision: 15\n")[0].1, "sampling precision is too great, should be <= 14: 15");
    assert_eq!(errors("sampling_precision: -1\n")[0].0, "sampling_precision");
    assert!(errors("sampling_precision: 14\n").is_empty());
    let e = errors("attribute_source: traceid\n");
    assert_eq!(e[0].0, "attribute_source");
    assert!(e[0].1.starts_with("invalid attribute source: traceid. Expected: traceID or record"), "{e:?}");
}

#[test]
fn an_unknown_mode_is_refused_with_a_suggestion() {
    let e = errors("mode: proportinal\n");
    assert_eq!(e.len(), 1);
    assert_eq!(e[0].0, "mode");
    assert!(e[0].1.starts_with("unsupported sampler mode \"proportinal\""), "{e:?}");
    assert!(e[0].1.contains("did you mean \"proportional\""), "{e:?}");
}

#[test]
fn an_unknown_key_is_refused() {
    let e = parse("sampling_percent: 10\n").expect_err("unknown key");
    assert!(e.contains("sampling_percentage"), "{e}");
}
