//! `tailsampling-cases.yaml` has a probabilistic rule, but it is the tail sampler's: FNV-1a
//! **64** over a string salt and the trace id, compared with a 64-bit threshold. This
//! processor's `hash_seed` mode is FNV-1a **32** over a 4-byte seed and the trace id, with
//! 14-bit buckets, so none of those cases apply here. This test checks that is still so,
//! and fails if cases with this processor's hash are added (then wire them up here).
#![allow(clippy::print_stdout)]

const CASES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared/conformance/tailsampling-cases.yaml");

#[test]
fn no_tailsampling_case_uses_this_processors_hash() {
    let Ok(text) = std::fs::read_to_string(CASES) else {
        println!("skipped: {CASES} not found (the shared conformance set is not checked out)");
        return;
    };
    let rule =
        text.split("probabilistic_rule:").nth(1).and_then(|r| r.lines().find(|l| l.trim_start().starts_with("hash:")));
    let rule = rule.expect("tailsampling-cases.yaml describes its probabilistic rule's hash");
    assert!(rule.contains("FNV-1a 64-bit"), "the tail sampler's hash changed: {rule}");
    assert!(!text.contains("FNV-1a 32"), "cases with the 32-bit FNV hash exist: test them against hash_seed mode");
    println!(
        "skipped: the probabilistic cases of tailsampling-cases.yaml use the tail sampler's FNV-1a 64 + salt hash, \
         not probabilistic_sampler's FNV-1a 32 + seed; upstream's own hash rows are tested instead"
    );
}

const CORALOGIX: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../../shared/conformance/configs/34-coralogix-ecs-fargate-spanmetrics.yaml"
);

#[test]
fn the_public_config_using_the_processor_loads() {
    use switchyard_core::component::ComponentConfig;
    use switchyard_core::config as core_config;

    use super::super::{Mode, ProbabilisticSamplerConfig};

    let Ok(text) = std::fs::read_to_string(CORALOGIX) else {
        println!("skipped: {CORALOGIX} not found (the shared conformance set is not checked out)");
        return;
    };
    let doc = core_config::parse("34.yaml", &text).expect("the config parses");
    let node = doc.find(&["processors", "probabilistic_sampler"]).expect("has the processor");
    let cfg: ProbabilisticSamplerConfig = core_config::from_node(node, "probabilistic_sampler").expect("decodes");
    assert!(cfg.validate().is_empty());
    assert_eq!((cfg.mode(), cfg.sampling_percentage), (Mode::Proportional, 10.0));
}
