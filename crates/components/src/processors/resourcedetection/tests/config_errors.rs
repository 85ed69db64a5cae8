//! Config errors as the user sees them: at the key, with did-you-mean; both type names.

use switchyard_core::testing::GraphHarness;

use super::super::ResourceDetectionProcessorFactory;

fn pipeline(processors_yaml: &str, id: &str) -> String {
    format!(
        "receivers:\n  source:\nprocessors:\n{processors_yaml}exporters:\n  sink:\nservice:\n  pipelines:\n    traces:\n      receivers: [source]\n      processors: [{id}]\n      exporters: [sink]\n"
    )
}

fn outcome(processors_yaml: &str, id: &str) -> Result<(), String> {
    let h = GraphHarness::new();
    let mut r = h.registry();
    r.processor(ResourceDetectionProcessorFactory).map_err(|e| e.to_string())?;
    h.build(&r, &pipeline(processors_yaml, id)).map(|_| ()).map_err(|e| e.to_string())
}

#[test]
fn seed_000_system_section_with_defaults_validates_under_both_type_names() {
    outcome("  resourcedetection/system: {}\n", "resourcedetection/system").expect("valid");
    outcome("  resource_detection/system: {}\n", "resource_detection/system").expect("valid");
    outcome(
        "  resourcedetection:\n    detectors: [env, system]\n    timeout: 2s\n    override: false\n",
        "resourcedetection",
    )
    .expect("valid");
}

#[test]
fn an_unknown_detector_is_reported_at_its_key_with_did_you_mean() {
    let err = outcome("  resourcedetection:\n    detectors: [env, sytem]\n", "resourcedetection").unwrap_err();
    assert!(err.contains("processors::resourcedetection::detectors::1"), "{err}");
    assert!(err.contains("unknown detector \"sytem\", did you mean \"system\"?"), "{err}");
}

#[test]
fn a_collector_detector_not_built_here_is_refused_as_not_supported_yet() {
    let err = outcome("  resourcedetection:\n    detectors: [env, openshift]\n", "resourcedetection").unwrap_err();
    assert!(err.contains("processors::resourcedetection::detectors::1"), "{err}");
    assert!(err.contains("detector \"openshift\" is not supported yet"), "{err}");
    // Its section alone (detector not listed) loads, as in the Collector.
    outcome(
        "  resourcedetection:\n    detectors: [env]\n    openshift:\n      address: https://api.example.com\n",
        "resourcedetection",
    )
    .expect("valid");
}

#[test]
fn an_unknown_field_is_the_loaders_error() {
    let err = outcome("  resourcedetection:\n    detector: [env]\n", "resourcedetection").unwrap_err();
    assert!(err.contains("unknown field \"detector\", did you mean \"detectors\"?"), "{err}");
}

#[test]
fn resource_attribute_names_and_hostname_sources_are_checked() {
    let err = outcome(
        "  resourcedetection:\n    detectors: [system]\n    system:\n      hostname_sources: [os, dnss, lookup]\n      resource_attributes:\n        host.nme: {enabled: true}\n",
        "resourcedetection",
    )
    .unwrap_err();
    assert!(err.contains("system::resource_attributes::host.nme"), "{err}");
    assert!(err.contains("did you mean \"host.name\"?"), "{err}");
    assert!(err.contains("invalid hostname source \"dnss\", did you mean \"dns\"?"), "{err}");
}

#[test]
fn ec2_tags_need_imds_and_valid_patterns() {
    let err =
        outcome("  resourcedetection:\n    detectors: [ec2]\n    ec2:\n      tags: ['^a']\n", "resourcedetection")
            .unwrap_err();
    assert!(err.contains("tags_from_imds: true"), "{err}");
    let err = outcome(
        "  resourcedetection:\n    detectors: [ec2]\n    ec2:\n      tags_from_imds: true\n      tags: ['(']\n",
        "resourcedetection",
    )
    .unwrap_err();
    assert!(err.contains("ec2::tags::0") && err.contains("invalid regular expression"), "{err}");
}

#[test]
fn eks_cluster_name_and_tls_auth_are_refused() {
    let err = outcome(
        "  resourcedetection:\n    detectors: [eks, k8s_api]\n    eks:\n      resource_attributes:\n        k8s.cluster.name: {enabled: true}\n    k8s_api:\n      auth_type: tls\n",
        "resourcedetection",
    )
    .unwrap_err();
    assert!(err.contains("eks::resource_attributes::k8s.cluster.name") && err.contains("not supported yet"), "{err}");
    assert!(err.contains("k8s_api::auth_type"), "{err}");
}

#[test]
fn a_partial_retry_section_keeps_the_detection_defaults_and_is_checked() {
    use std::time::Duration;
    let c = super::cfg("retry: {initial_interval: 2s}\n");
    assert_eq!(c.retry.initial_interval, Duration::from_secs(2));
    assert_eq!(c.retry.multiplier, 2.0, "the detection default, not the exporters' 1.5");
    assert_eq!(c.retry.max_elapsed_time, Duration::ZERO, "the detection default, not the exporters' 300s");
    assert!(super::cfg("retry: {enabled: false}\n").retry.initial_interval == Duration::from_secs(1));
    let err = outcome("  resourcedetection:\n    retry: {multiplier: 0.5}\n", "resourcedetection").unwrap_err();
    assert!(err.contains("processors::resourcedetection::retry::multiplier"), "{err}");
}
