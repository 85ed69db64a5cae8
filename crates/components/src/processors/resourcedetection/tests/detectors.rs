//! Each network detector against its stand-in: the attributes a user would see.

use switchyard_core::component::Component;

use super::standins;
use super::{env_of, get, started, through};
use crate::processors::resourcedetection::detectors::{azure, ec2, gcp};

#[tokio::test]
async fn ec2_reads_the_identity_document_and_hostname_with_an_imdsv2_token() {
    let imds = standins::ec2().await;
    let (p, r) = started("detectors: [ec2]\n", env_of(&[(ec2::TEST_ENDPOINT_VAR, &imds)])).await;
    let (out, _) = through(&p, &[]);
    let want = [
        ("cloud.provider", "aws"),
        ("cloud.platform", "aws_ec2"),
        ("cloud.region", "us-west-2"),
        ("cloud.account.id", "123456789012"),
        ("cloud.availability_zone", "us-west-2b"),
        ("host.id", "i-1234567890abcdef0"),
        ("host.image.id", "ami-5fb8c835"),
        ("host.type", "t2.micro"),
        ("host.name", "ip-10-158-112-84.us-west-2.compute.internal"),
    ];
    let want: Vec<(String, String)> = want.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
    assert_eq!(out, want);
    r.shutdown().await;
}

#[tokio::test]
async fn ec2_tags_from_imds_matching_the_patterns_and_attribute_toggles() {
    let imds = standins::ec2().await;
    let yaml = "detectors: [ec2]\nec2:\n  tags_from_imds: true\n  tags: ['^Name$', '^te']\n  resource_attributes:\n    host.name: {enabled: false}\n    cloud.account.id: {enabled: false}\n";
    let (p, r) = started(yaml, env_of(&[(ec2::TEST_ENDPOINT_VAR, &imds)])).await;
    let (out, _) = through(&p, &[]);
    assert_eq!(get(&out, "ec2.tag.Name"), Some("web-1"));
    assert_eq!(get(&out, "ec2.tag.team"), Some("payments"));
    assert_eq!(get(&out, "ec2.tag.secret"), None, "not matched by any pattern");
    assert_eq!(get(&out, "host.name"), None, "disabled");
    assert_eq!(get(&out, "cloud.account.id"), None, "disabled");
    assert_eq!(get(&out, "host.id"), Some("i-1234567890abcdef0"));
    r.shutdown().await;
}

#[tokio::test]
async fn ecs_reads_task_and_container_metadata() {
    let uri = standins::ecs().await;
    let (p, r) = started("detectors: [ecs]\n", env_of(&[("ECS_CONTAINER_METADATA_URI_V4", &uri)])).await;
    let (out, _) = through(&p, &[]);
    assert_eq!(get(&out, "cloud.provider"), Some("aws"));
    assert_eq!(get(&out, "cloud.platform"), Some("aws_ecs"));
    assert_eq!(get(&out, "cloud.region"), Some("us-west-2"));
    assert_eq!(get(&out, "cloud.account.id"), Some("111122223333"));
    assert_eq!(get(&out, "cloud.availability_zone"), Some("us-west-2d"));
    assert_eq!(get(&out, "aws.ecs.cluster.arn"), Some("arn:aws:ecs:us-west-2:111122223333:cluster/default"));
    assert_eq!(get(&out, "aws.ecs.task.id"), Some("158d1c8083dd49d6b527399fd6414f5c"));
    assert_eq!(get(&out, "aws.ecs.task.family"), Some("curltest"));
    assert_eq!(get(&out, "aws.ecs.task.revision"), Some("26"));
    assert_eq!(get(&out, "aws.ecs.launchtype"), Some("fargate"));
    // Only the other awslogs container of the task, not the collector's own.
    assert_eq!(get(&out, "aws.log.group.names"), Some("[\"/ecs/app\"]"));
    assert_eq!(get(&out, "aws.log.group.arns"), Some("[\"arn:aws:logs:us-west-2:111122223333:log-group:/ecs/app\"]"));
    assert_eq!(
        get(&out, "aws.log.stream.arns"),
        Some("[\"arn:aws:logs:us-west-2:111122223333:log-group:/ecs/app:log-stream:ecs/app/158d\"]")
    );
    r.shutdown().await;
}

#[tokio::test]
async fn ecs_without_its_variable_sets_nothing() {
    let (p, r) = started("detectors: [ecs]\n", env_of(&[])).await;
    assert!(through(&p, &[]).0.is_empty());
    r.shutdown().await;
}

#[tokio::test]
async fn gcp_on_gce_with_opt_in_attributes() {
    let server = standins::gcp().await;
    let yaml = "detectors: [gcp]\ngcp:\n  resource_attributes:\n    gcp.gce.instance.hostname: {enabled: true}\n";
    let (p, r) = started(yaml, env_of(&[(gcp::TEST_ENDPOINT_VAR, &server)])).await;
    let (out, _) = through(&p, &[]);
    assert_eq!(get(&out, "cloud.provider"), Some("gcp"));
    assert_eq!(get(&out, "cloud.platform"), Some("gcp_compute_engine"));
    assert_eq!(get(&out, "cloud.account.id"), Some("my-project"));
    assert_eq!(get(&out, "cloud.region"), Some("us-central1"));
    assert_eq!(get(&out, "cloud.availability_zone"), Some("us-central1-c"));
    assert_eq!(get(&out, "host.id"), Some("4520031799277581759"));
    assert_eq!(get(&out, "host.name"), Some("my-vm"));
    assert_eq!(get(&out, "host.type"), Some("e2-medium"));
    assert_eq!(get(&out, "gcp.gce.instance.hostname"), Some("my-vm.c.my-project.internal"));
    assert_eq!(get(&out, "gcp.gce.instance.name"), None, "off by default");
    r.shutdown().await;
}

#[tokio::test]
async fn azure_with_matching_tags() {
    let server = standins::azure().await;
    let yaml = "detectors: [azure]\nazure:\n  tags: ['^Dep']\n";
    let (p, r) = started(yaml, env_of(&[(azure::TEST_ENDPOINT_VAR, &server)])).await;
    let (out, _) = through(&p, &[]);
    assert_eq!(get(&out, "cloud.provider"), Some("azure"));
    assert_eq!(get(&out, "cloud.platform"), Some("azure_vm"));
    assert_eq!(get(&out, "cloud.region"), Some("westus"));
    assert_eq!(get(&out, "cloud.account.id"), Some("xxxxxxxx-xxxxx-xxx-xxx-xxxx"));
    assert_eq!(get(&out, "host.id"), Some("02aab8a4-74ef-476e-8182-f6d2ba4166a6"));
    assert_eq!(get(&out, "host.name"), Some("examplevmname"));
    assert_eq!(get(&out, "azure.vm.name"), Some("examplevmname"));
    assert_eq!(get(&out, "azure.vm.size"), Some("Standard_A3"));
    assert_eq!(get(&out, "azure.vm.scaleset.name"), Some("crpteste9vflji9"));
    assert_eq!(get(&out, "azure.resourcegroup.name"), Some("macikgo-test-may-23"));
    assert_eq!(get(&out, "azure.tags.Department"), Some("IT"));
    assert_eq!(get(&out, "azure.tags.Environment"), None);
    assert_eq!(get(&out, "cloud.availability_zone"), None, "off by default");
    r.shutdown().await;
}

#[cfg(unix)]
#[tokio::test]
async fn docker_asks_the_daemon_on_its_socket() {
    let dir = tempfile::tempdir().expect("tempdir");
    let host = standins::docker(dir.path()).await;
    let (p, r) = started("detectors: [docker]\n", env_of(&[("DOCKER_HOST", &host)])).await;
    let (out, _) = through(&p, &[]);
    assert_eq!(out, vec![("host.name".into(), "docker-host-1".into()), ("os.type".into(), "linux".into())]);
    r.shutdown().await;
}

#[tokio::test]
async fn lambda_and_heroku_read_their_platform_variables() {
    let vars = [
        ("AWS_LAMBDA_FUNCTION_NAME", "checkout-fn"),
        ("AWS_REGION", "eu-west-1"),
        ("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST"),
        ("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "512"),
        ("AWS_LAMBDA_LOG_GROUP_NAME", "/aws/lambda/checkout-fn"),
        ("AWS_LAMBDA_LOG_STREAM_NAME", "2024/01/01/[$LATEST]abc"),
        ("HEROKU_DYNO_ID", "1vac4117-c29f-4312-521e-ba4d8638c1ac"),
        ("HEROKU_APP_NAME", "example-app"),
        ("HEROKU_RELEASE_VERSION", "v42"),
    ];
    let (p, r) = started("detectors: [lambda, heroku]\n", env_of(&vars)).await;
    let (out, _) = through(&p, &[]);
    assert_eq!(get(&out, "cloud.provider"), Some("aws"), "lambda comes first");
    assert_eq!(get(&out, "cloud.platform"), Some("aws_lambda"));
    assert_eq!(get(&out, "cloud.region"), Some("eu-west-1"));
    assert_eq!(get(&out, "faas.name"), Some("checkout-fn"));
    assert_eq!(get(&out, "faas.version"), Some("$LATEST"));
    assert_eq!(get(&out, "faas.max_memory"), Some("512"));
    assert_eq!(get(&out, "faas.instance"), Some("2024/01/01/[$LATEST]abc"));
    assert_eq!(get(&out, "aws.log.group.names"), Some("[\"/aws/lambda/checkout-fn\"]"));
    assert_eq!(get(&out, "service.name"), Some("example-app"));
    assert_eq!(get(&out, "service.instance.id"), Some("1vac4117-c29f-4312-521e-ba4d8638c1ac"));
    assert_eq!(get(&out, "service.version"), Some("v42"));
    r.shutdown().await;

    let (p, r) = started("detectors: [lambda, heroku]\n", env_of(&[])).await;
    assert!(through(&p, &[]).0.is_empty(), "neither platform");
    r.shutdown().await;
}
