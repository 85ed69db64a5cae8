//! Merge rules, refresh and timeouts, with the `env` detector and the EC2 stand-in.

use std::time::{Duration, Instant};

use switchyard_core::component::Component;

use super::standins;
use super::{env_of, get, started, through, Logs};
use crate::processors::resourcedetection::detectors::ec2::TEST_ENDPOINT_VAR as EC2_VAR;

#[tokio::test]
async fn override_true_replaces_existing_values_and_adds_missing_ones() {
    let env = env_of(&[("OTEL_RESOURCE_ATTRIBUTES", "service.name=detected,team=core")]);
    let (p, r) = started("detectors: [env]\n", env).await;
    let (out, _) = through(&p, &[("service.name", "checkout"), ("keep", "me")]);
    assert_eq!(get(&out, "service.name"), Some("detected"));
    assert_eq!(get(&out, "team"), Some("core"));
    assert_eq!(get(&out, "keep"), Some("me"));
    assert_eq!(out.len(), 3, "{out:?}");
    r.shutdown().await;
}

#[tokio::test]
async fn override_false_only_fills_missing_keys() {
    let env = env_of(&[("OTEL_RESOURCE_ATTRIBUTES", "service.name=detected,team=core")]);
    let (p, r) = started("detectors: [env]\noverride: false\n", env).await;
    let (out, _) = through(&p, &[("service.name", "checkout")]);
    assert_eq!(get(&out, "service.name"), Some("checkout"));
    assert_eq!(get(&out, "team"), Some("core"));
    r.shutdown().await;
}

#[tokio::test]
async fn the_first_detector_to_set_an_attribute_wins() {
    let imds = standins::ec2().await;
    let vars = [("OTEL_RESOURCE_ATTRIBUTES", "host.name=from-env,cloud.region=mars"), (EC2_VAR, imds.as_str())];
    let (p, r) = started("detectors: [env, ec2]\n", env_of(&vars)).await;
    let (out, schema) = through(&p, &[]);
    assert_eq!(get(&out, "host.name"), Some("from-env"));
    assert_eq!(get(&out, "cloud.region"), Some("mars"));
    assert_eq!(get(&out, "host.id"), Some("i-1234567890abcdef0"), "ec2 still adds what env did not set");
    assert_eq!(schema, "https://opentelemetry.io/schemas/1.6.1");
    r.shutdown().await;

    let (p, r) = started("detectors: [ec2, env]\n", env_of(&vars)).await;
    let (out, _) = through(&p, &[]);
    assert_eq!(get(&out, "host.name"), Some("ip-10-158-112-84.us-west-2.compute.internal"));
    assert_eq!(get(&out, "cloud.region"), Some("us-west-2"));
    r.shutdown().await;
}

#[tokio::test]
async fn a_detector_that_never_answers_times_out_and_the_others_still_apply() {
    let (logs, _guard) = Logs::capture();
    let hole = standins::black_hole().await;
    let vars = [("OTEL_RESOURCE_ATTRIBUTES", "team=core"), (EC2_VAR, hole.as_str())];
    let t0 = Instant::now();
    let (p, r) = started("detectors: [env, ec2]\ntimeout: 300ms\n", env_of(&vars)).await;
    let took = t0.elapsed();
    assert!(took >= Duration::from_millis(250) && took < Duration::from_secs(3), "start took {took:?}");
    let (out, _) = through(&p, &[("service.name", "checkout")]);
    assert_eq!(out, vec![("service.name".into(), "checkout".into()), ("team".into(), "core".into())]);
    let text = logs.text();
    assert!(text.contains("WARN") && text.contains("detector=\"ec2\"") && text.contains("timed out"), "{text}");
    assert!(text.contains("INFO") && text.contains("detector=\"env\"") && text.contains("[\"team\"]"), "{text}");
    r.shutdown().await;
}

#[tokio::test]
async fn a_metadata_service_that_is_not_there_sets_nothing_unless_required() {
    let closed = standins::closed_port().await;
    let vars = [(EC2_VAR, closed.as_str())];
    let (p, r) = started("detectors: [ec2]\n", env_of(&vars)).await;
    assert_eq!(through(&p, &[]).0, vec![]);
    r.shutdown().await;

    let set = switchyard_core::testing::settings(switchyard_core::component::Kind::Processor, "resourcedetection");
    let c = super::cfg("detectors: [ec2]\nfail_on_missing_metadata: true\ntimeout: 500ms\n");
    let (_, r) = crate::processors::resourcedetection::build(&set, &c, env_of(&vars)).expect("builds");
    let err = r.start(&switchyard_core::component::Host::default()).await.expect_err("fails to start");
    assert!(err.message.contains("fail_on_missing_metadata") && err.message.contains("ec2"), "{}", err.message);
}

#[tokio::test]
async fn before_start_data_passes_unchanged() {
    let set = switchyard_core::testing::settings(switchyard_core::component::Kind::Processor, "resourcedetection");
    let env = env_of(&[("OTEL_RESOURCE_ATTRIBUTES", "team=core")]);
    let (p, _r) = crate::processors::resourcedetection::build(&set, &super::cfg("{}"), env).expect("builds");
    assert_eq!(through(&p, &[("a", "b")]).0, vec![("a".into(), "b".into())]);
}

#[tokio::test]
async fn refresh_interval_picks_up_a_changed_answer() {
    let (imds, calls) = standins::ec2_changing().await;
    let vars = [(EC2_VAR, imds.as_str())];
    let (p, r) = started("detectors: [ec2]\nrefresh_interval: 200ms\n", env_of(&vars)).await;
    assert_eq!(get(&through(&p, &[]).0, "host.type"), Some("t2.micro"));
    let deadline = Instant::now() + Duration::from_secs(5);
    while get(&through(&p, &[]).0, "host.type") != Some("t3.large") {
        assert!(
            Instant::now() < deadline,
            "refresh never applied ({} calls)",
            calls.load(std::sync::atomic::Ordering::SeqCst)
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    r.shutdown().await;
    let after = calls.load(std::sync::atomic::Ordering::SeqCst);
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(calls.load(std::sync::atomic::Ordering::SeqCst), after, "no refresh after shutdown");
}

#[tokio::test]
async fn without_refresh_interval_detection_runs_once() {
    let (imds, calls) = standins::ec2_changing().await;
    let vars = [(EC2_VAR, imds.as_str())];
    let (p, r) = started("detectors: [ec2]\n", env_of(&vars)).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(get(&through(&p, &[]).0, "host.type"), Some("t2.micro"));
    assert_eq!(calls.load(std::sync::atomic::Ordering::SeqCst), 1);
    r.shutdown().await;
}

#[tokio::test]
async fn a_malformed_env_variable_is_logged_and_sets_nothing() {
    let (logs, _guard) = Logs::capture();
    let env = env_of(&[("OTEL_RESOURCE_ATTRIBUTES", "a=1,oops")]);
    let (p, r) = started("detectors: [env]\nretry: {enabled: false}\n", env).await;
    assert_eq!(through(&p, &[]).0, vec![]);
    let text = logs.text();
    assert!(text.contains("WARN") && text.contains("invalid resource format"), "{text}");
    r.shutdown().await;
}

#[tokio::test]
async fn the_pipelines_of_one_processor_share_one_detection_and_refresh_task() {
    use std::sync::Arc;
    let set =
        switchyard_core::testing::settings(switchyard_core::component::Kind::Processor, "resourcedetection/shared");
    let c = super::cfg("detectors: [system]\nrefresh_interval: 1h\n");
    let (p1, r1) = crate::processors::resourcedetection::build_shared(&set, &c).expect("builds");
    let (p2, r2) = crate::processors::resourcedetection::build_shared(&set, &c).expect("builds");
    assert!(Arc::ptr_eq(&p1.shared, &p2.shared), "one detection per processor id and config");
    let other = super::cfg("detectors: [system]\nrefresh_interval: 1h\noverride: false\n");
    let (p3, _r3) = crate::processors::resourcedetection::build_shared(&set, &other).expect("builds");
    assert!(!Arc::ptr_eq(&p1.shared, &p3.shared), "another config is another detection");

    let host = switchyard_core::component::Host::default();
    r1.start(&host).await.expect("starts");
    assert!(get(&through(&p2, &[]).0, "host.name").is_some(), "the second pipeline sees the first's detection");
    r2.start(&host).await.expect("starts");
    assert!(p1.shared.refreshing());
    r1.shutdown().await;
    assert!(p1.shared.refreshing(), "another pipeline still runs");
    r2.shutdown().await;
    assert!(!p1.shared.refreshing(), "the last shutdown stops the refresh");
}

#[tokio::test]
async fn a_refresh_that_fails_keeps_the_previous_result() {
    let (logs, _guard) = Logs::capture();
    let (imds, calls) = standins::ec2_then_broken().await;
    let vars = [(EC2_VAR, imds.as_str())];
    let yaml = "detectors: [ec2]\nrefresh_interval: 100ms\nretry: {enabled: false}\n";
    let (p, r) = started(yaml, env_of(&vars)).await;
    let deadline = Instant::now() + Duration::from_secs(5);
    while calls.load(std::sync::atomic::Ordering::SeqCst) < 3 {
        assert!(Instant::now() < deadline, "no refresh happened");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(get(&through(&p, &[]).0, "host.type"), Some("t2.micro"));
    assert!(logs.text().contains("previous result is kept"), "{}", logs.text());
    r.shutdown().await;
}

#[tokio::test]
async fn fail_on_missing_metadata_stops_the_start_when_ecs_is_not_there() {
    let set = switchyard_core::testing::settings(switchyard_core::component::Kind::Processor, "resourcedetection");
    let c = super::cfg("detectors: [env, ecs]\nfail_on_missing_metadata: true\nretry: {enabled: false}\n");
    let (_, r) = crate::processors::resourcedetection::build(&set, &c, env_of(&[])).expect("builds");
    let err = r.start(&switchyard_core::component::Host::default()).await.expect_err("fails to start");
    assert!(err.message.contains("ECS_CONTAINER_METADATA_URI_V4"), "{}", err.message);
}
