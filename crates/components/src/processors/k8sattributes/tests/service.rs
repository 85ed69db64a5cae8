//! `service.namespace`, `service.name`, `service.version` and `service.instance.id` against
//! the stand-in API server: from the `resource.opentelemetry.io/` annotations, from the
//! well-known `app.kubernetes.io/*` labels, and from neither (owners, namespace, image,
//! container), in upstream's order.

use serde_json::{json, Value};
use switchyard_core::component::Component;

use super::{get, replicaset, run, start, KUBECONFIG};
use crate::k8s::testserver::{ApiServer, Kind as K};

const DIGEST: &str = "sha256:b248ef911f93ae27cbbc85056d1ffacc87fd941bbdc2ffd951b6df8df72b8096";

/// The four names, the deployment name (so replicasets are watched) and otel annotations.
fn config(otel_annotations: bool) -> String {
    format!(
        "{KUBECONFIG}extract:\n  otel_annotations: {otel_annotations}\n  metadata: [k8s.pod.name, k8s.deployment.name, \
         service.namespace, service.name, service.version, service.instance.id]\n"
    )
}

/// A running pod at `ip` with `labels`, `annotations`, `owners` and `containers`
/// (`(name, image, has a status)`).
fn pod(
    name: &str,
    ip: &str,
    labels: Value,
    annotations: Value,
    owners: Value,
    containers: &[(&str, &str, bool)],
) -> Value {
    let spec: Vec<Value> = containers.iter().map(|(n, image, _)| json!({"name": n, "image": image})).collect();
    let statuses: Vec<Value> = containers
        .iter()
        .filter(|(_, _, running)| *running)
        .map(|(n, image, _)| {
            json!({"name": n, "image": image, "imageID": "", "ready": true, "restartCount": 0,
                   "containerID": format!("containerd://{name}-{n}")})
        })
        .collect();
    json!({
        "metadata": {"name": name, "namespace": "shop", "uid": format!("uid-{name}"),
                     "labels": labels, "annotations": annotations, "ownerReferences": owners},
        "spec": {"nodeName": "node-1", "containers": spec},
        "status": {"phase": "Running", "podIP": ip, "startTime": "2024-05-01T10:00:01Z", "containerStatuses": statuses}
    })
}

fn owner(kind: &str, name: &str) -> Value {
    json!([{"apiVersion": "apps/v1", "kind": kind, "name": name, "uid": format!("{kind}-{name}"), "controller": true}])
}

/// The four service attributes data from `ip` leaves with (given `given`).
fn service(p: &super::K8sAttributesProcessor, ip: &str, given: &[(&str, &str)]) -> [Option<String>; 4] {
    let out = run(p, Some(ip), given);
    ["service.namespace", "service.name", "service.version", "service.instance.id"]
        .map(|k| get(&out, k).map(str::to_owned))
}

fn want(ns: &str, name: &str, version: Option<&str>, id: Option<&str>) -> [Option<String>; 4] {
    [Some(ns.into()), Some(name.into()), version.map(Into::into), id.map(Into::into)]
}

/// A deployment's pod: its replicaset is `api-5f6d7c8b9` (owned by `api-deploy`).
fn deployment_pod(name: &str, ip: &str, labels: Value, annotations: Value) -> Value {
    let mut l = json!({"pod-template-hash": "5f6d7c8b9"});
    if let (Some(l), Some(extra)) = (l.as_object_mut(), labels.as_object()) {
        l.extend(extra.clone());
    }
    let image = format!("ghcr.io/acme/api:0.9.1@{DIGEST}");
    pod(name, ip, l, annotations, owner("ReplicaSet", "api-5f6d7c8b9"), &[("app", &image, true)])
}

#[tokio::test]
async fn annotations_beat_the_well_known_labels_which_beat_owners_namespace_and_image() {
    let server = ApiServer::start().await;
    server.apply(K::ReplicaSet, replicaset("shop", "api-5f6d7c8b9", "ReplicaSet-api-5f6d7c8b9", "api-deploy"));
    let labels = json!({"app.kubernetes.io/name": "api-name", "app.kubernetes.io/instance": "api-instance",
                        "app.kubernetes.io/version": "2.0.0"});
    let annotations = json!({"resource.opentelemetry.io/service.name": "checkout",
                             "resource.opentelemetry.io/service.namespace": "payments",
                             "resource.opentelemetry.io/service.version": "3.1.4",
                             "resource.opentelemetry.io/service.instance.id": "checkout-1"});
    server.apply(K::Pod, deployment_pod("annotated", "10.3.0.1", labels.clone(), annotations.clone()));
    server.apply(K::Pod, deployment_pod("labelled", "10.3.0.2", labels, json!({})));
    server.apply(
        K::Pod,
        deployment_pod("name-only", "10.3.0.3", json!({"app.kubernetes.io/name": "api-name"}), json!({})),
    );
    let (p, w, _) = start(&server, &config(true)).await;

    // Annotations: all four, whatever the labels, owners and image say.
    assert_eq!(service(&p, "10.3.0.1", &[]), want("payments", "checkout", Some("3.1.4"), Some("checkout-1")));
    // Well-known labels: `instance` over `name`, `version`; namespace and instance id computed.
    assert_eq!(service(&p, "10.3.0.2", &[]), want("shop", "api-instance", Some("2.0.0"), Some("shop.labelled.app")));
    assert_eq!(get(&run(&p, Some("10.3.0.3"), &[]), "service.name"), Some("api-name"));
    // What the data already has is kept.
    let given = [("service.name", "from-sdk"), ("service.instance.id", "sdk-id")];
    assert_eq!(service(&p, "10.3.0.1", &given), want("payments", "from-sdk", Some("3.1.4"), Some("sdk-id")));
    w.shutdown().await;

    // Without `otel_annotations` the annotations are not read: the labels decide.
    let (p, w, _) = start(&server, &config(false)).await;
    assert_eq!(service(&p, "10.3.0.1", &[]), want("shop", "api-instance", Some("2.0.0"), Some("shop.annotated.app")));
    w.shutdown().await;
}

#[tokio::test]
async fn without_annotations_or_labels_the_owner_namespace_image_and_container_decide() {
    let server = ApiServer::start().await;
    server.apply(K::ReplicaSet, replicaset("shop", "api-5f6d7c8b9", "ReplicaSet-api-5f6d7c8b9", "api-deploy"));
    let none = || json!({});
    // A deployment's pod whose replicaset is known: the deployment's name (not the name
    // guessed from the replicaset, `api`); the version is the image's tag and digest.
    server.apply(K::Pod, deployment_pod("api-5f6d7c8b9-x1", "10.4.0.1", none(), none()));
    // A replicaset not yet seen: the name guessed from the replicaset name and hash.
    let mut late = deployment_pod("late-1", "10.4.0.2", none(), none());
    late["metadata"]["ownerReferences"] = owner("ReplicaSet", "late-7c4b9d6f8");
    late["metadata"]["labels"]["pod-template-hash"] = json!("7c4b9d6f8");
    server.apply(K::Pod, late);
    let sts = [("db", "postgres:16.2", true)];
    server.apply(K::Pod, pod("db-0", "10.4.0.3", none(), none(), owner("StatefulSet", "db"), &sts));
    let ds = [("agent", "example.com:5000/ops/agent", true)];
    server.apply(K::Pod, pod("agent-x", "10.4.0.4", none(), none(), owner("DaemonSet", "agent"), &ds));
    let job = [("run", "busybox:1.36", true)];
    server.apply(K::Pod, pod("backup-28934521-q", "10.4.0.5", none(), none(), owner("Job", "backup-28934521"), &job));
    server.apply(K::Pod, pod("migrate-1-q", "10.4.0.6", none(), none(), owner("Job", "migrate-1"), &job));
    // No owner, two containers, one not created yet.
    let two = [("main", "nginx:1.25", true), ("sidecar", "envoy:1.30", false)];
    server.apply(K::Pod, pod("bare", "10.4.0.7", none(), none(), json!([]), &two));
    let (p, w, _) = start(&server, &config(true)).await;

    let tag_and_digest = format!("0.9.1@{DIGEST}");
    assert_eq!(
        service(&p, "10.4.0.1", &[]),
        want("shop", "api-deploy", Some(&tag_and_digest), Some("shop.api-5f6d7c8b9-x1.app"))
    );
    assert_eq!(service(&p, "10.4.0.2", &[])[1].as_deref(), Some("late"));
    assert_eq!(service(&p, "10.4.0.3", &[]), want("shop", "db", Some("16.2"), Some("shop.db-0.db")));
    // An image without a tag or digest gives no version (no implicit `latest`).
    assert_eq!(service(&p, "10.4.0.4", &[]), want("shop", "agent", None, Some("shop.agent-x.agent")));
    // A CronJob's job: the cronjob's name; another job: the job's name.
    assert_eq!(service(&p, "10.4.0.5", &[]), want("shop", "backup", Some("1.36"), Some("shop.backup-28934521-q.run")));
    assert_eq!(service(&p, "10.4.0.6", &[])[1].as_deref(), Some("migrate-1"));
    // No owner: the pod's name. Two containers: the container attributes need the data to
    // say which; one without a status has no instance id.
    assert_eq!(service(&p, "10.4.0.7", &[]), want("shop", "bare", None, None));
    assert_eq!(
        service(&p, "10.4.0.7", &[("k8s.container.name", "main")])[2..],
        [Some("1.25".into()), Some("shop.bare.main".into())]
    );
    assert_eq!(service(&p, "10.4.0.7", &[("k8s.container.name", "sidecar")])[2..], [Some("1.30".into()), None]);
    // An unknown pod still gets `service.namespace` from the data's `k8s.namespace.name`.
    let out = run(&p, Some("10.9.9.9"), &[("k8s.namespace.name", "elsewhere")]);
    assert_eq!(get(&out, "service.namespace"), Some("elsewhere"));
    assert_eq!(get(&out, "service.name"), None);
    w.shutdown().await;
}

#[tokio::test]
async fn service_name_alone_uses_the_replicaset_name_guess_without_watching_replicasets() {
    let server = ApiServer::start().await;
    server.apply(K::Pod, deployment_pod("api-5f6d7c8b9-x1", "10.5.0.1", json!({}), json!({})));
    let yaml = format!(
        "{KUBECONFIG}extract:\n  metadata: [service.name, k8s.pod.name]\npod_association:\n  - sources: [{{from: resource_attribute, name: service.name}}]\n  - sources: [{{from: connection}}]\n"
    );
    let (p, w, _) = start(&server, &yaml).await;
    assert_eq!(get(&run(&p, Some("10.5.0.1"), &[]), "service.name"), Some("api"));
    // `service.name` finds the pod (upstream: it is one of the pod's attributes).
    let out = run(&p, None, &[("service.name", "api")]);
    assert_eq!(get(&out, "k8s.pod.name"), Some("api-5f6d7c8b9-x1"), "{out:?}");
    let reqs = server.requests();
    assert!(!reqs.iter().any(|r| r.starts_with("/apis/apps/v1/replicasets")), "{reqs:?}");
    w.shutdown().await;
}
