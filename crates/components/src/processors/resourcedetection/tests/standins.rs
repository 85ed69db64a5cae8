//! Stand-ins of the metadata services on 127.0.0.1, answering the JSON shapes the real
//! services document. What each was checked against:
//!
//! - EC2 IMDSv2: AWS "Use the Instance Metadata Service" (token `PUT /latest/api/token`
//!   with `X-aws-ec2-metadata-token-ttl-seconds`, GETs carrying `X-aws-ec2-metadata-token`,
//!   401 without it), the instance identity document sample of "Instance identity
//!   documents", and upstream's internal/aws/ec2 tests (fields read: accountId,
//!   availabilityZone, imageId, instanceId, instanceType, region; hostname from
//!   `/latest/meta-data/hostname`; tags from `/latest/meta-data/tags/instance`).
//! - ECS task metadata v4: the task and container samples of AWS "Task metadata endpoint
//!   version 4" (Cluster, TaskARN, Family, Revision, LaunchType, AvailabilityZone,
//!   Containers[].{DockerId, Type, KnownStatus, LogDriver, LogOptions}), and upstream
//!   internal/aws/ecs/ecs_test.go (log attributes from the other awslogs containers).
//! - GCP metadata server: Google "About VM metadata" (`/computeMetadata/v1/...`, 403
//!   without `Metadata-Flavor: Google`, zone and machine type as `projects/<n>/zones/<z>`).
//! - Azure IMDS: Microsoft "Azure Instance Metadata Service" compute sample (location,
//!   name, vmId, vmSize, subscriptionId, resourceGroupName, vmScaleSetName, zone, tagsList;
//!   400 without `Metadata: true`), and upstream internal/metadataproviders/azure.
//! - Docker Engine API `GET /info` (Name, OSType), served on a unix socket.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::routing::{get, put};
use axum::Router;

/// The instance identity document sample (AWS docs).
pub const EC2_DOCUMENT: &str = r#"{
  "accountId" : "123456789012",
  "architecture" : "x86_64",
  "availabilityZone" : "us-west-2b",
  "imageId" : "ami-5fb8c835",
  "instanceId" : "i-1234567890abcdef0",
  "instanceType" : "t2.micro",
  "pendingTime" : "2016-11-19T16:32:11Z",
  "privateIp" : "10.158.112.84",
  "region" : "us-west-2",
  "version" : "2017-09-30"
}"#;

/// Serves `app` on an ephemeral port; returns `http://127.0.0.1:<port>`.
pub async fn serve(app: Router) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    format!("http://{addr}")
}

/// A server that accepts connections and never answers.
pub async fn black_hole() -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((sock, _)) = listener.accept().await {
            held.push(sock);
        }
    });
    format!("http://{addr}")
}

/// A closed port: connections are refused (not on this cloud).
pub async fn closed_port() -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    drop(listener);
    format!("http://{addr}")
}

const TOKEN: &str = "AQAEAJ_test_token==";

fn ec2_authorized(h: &HeaderMap) -> bool {
    h.get("x-aws-ec2-metadata-token").is_some_and(|v| v == TOKEN)
}

/// EC2 IMDSv2, with two instance tags readable through IMDS.
pub async fn ec2() -> String {
    let app = Router::new()
        .route(
            "/latest/api/token",
            put(|h: HeaderMap| async move {
                if h.contains_key("x-aws-ec2-metadata-token-ttl-seconds") {
                    (StatusCode::OK, TOKEN.to_string())
                } else {
                    (StatusCode::BAD_REQUEST, String::new())
                }
            }),
        )
        .route(
            "/latest/dynamic/instance-identity/document",
            get(|h: HeaderMap| async move { answer(ec2_authorized(&h), EC2_DOCUMENT) }),
        )
        .route(
            "/latest/meta-data/hostname",
            get(
                |h: HeaderMap| async move { answer(ec2_authorized(&h), "ip-10-158-112-84.us-west-2.compute.internal") },
            ),
        )
        .route(
            "/latest/meta-data/tags/instance",
            get(|h: HeaderMap| async move { answer(ec2_authorized(&h), "Name\nteam\nsecret") }),
        )
        .route(
            "/latest/meta-data/tags/instance/{key}",
            get(|h: HeaderMap, Path(key): Path<String>| async move {
                let v = match key.as_str() {
                    "Name" => "web-1",
                    "team" => "payments",
                    _ => "hidden",
                };
                answer(ec2_authorized(&h), v)
            }),
        );
    serve(app).await
}

fn answer(ok: bool, body: &'static str) -> (StatusCode, &'static str) {
    if ok {
        (StatusCode::OK, body)
    } else {
        (StatusCode::UNAUTHORIZED, "")
    }
}

/// ECS TMDE v4: returns the value for `ECS_CONTAINER_METADATA_URI_V4`.
pub async fn ecs() -> String {
    let task = r#"{
  "Cluster": "default",
  "TaskARN": "arn:aws:ecs:us-west-2:111122223333:task/default/158d1c8083dd49d6b527399fd6414f5c",
  "Family": "curltest",
  "Revision": "26",
  "DesiredStatus": "RUNNING",
  "KnownStatus": "RUNNING",
  "LaunchType": "FARGATE",
  "AvailabilityZone": "us-west-2d",
  "Containers": [
    {"DockerId": "app1", "Name": "app", "Type": "NORMAL", "KnownStatus": "RUNNING", "LogDriver": "awslogs",
     "LogOptions": {"awslogs-create-group": "true", "awslogs-group": "/ecs/app", "awslogs-region": "us-west-2",
                    "awslogs-stream": "ecs/app/158d"}},
    {"DockerId": "collector1", "Name": "collector", "Type": "NORMAL", "KnownStatus": "RUNNING", "LogDriver": "awslogs",
     "LogOptions": {"awslogs-group": "/ecs/collector", "awslogs-region": "us-west-2", "awslogs-stream": "ecs/collector/158d"}},
    {"DockerId": "pause1", "Name": "~internal~ecs~pause", "Type": "CNI_PAUSE", "KnownStatus": "RESOURCES_PROVISIONED"}
  ]
}"#;
    let me = r#"{"DockerId": "collector1", "Name": "collector", "Type": "NORMAL", "KnownStatus": "RUNNING",
  "LogDriver": "awslogs", "LogOptions": {"awslogs-group": "/ecs/collector", "awslogs-region": "us-west-2",
  "awslogs-stream": "ecs/collector/158d"}}"#;
    let app = Router::new()
        .route("/v4/abc/task", get(move || async move { task }))
        .route("/v4/abc", get(move || async move { me }));
    format!("{}/v4/abc", serve(app).await)
}

/// The GCP metadata server of a GCE instance.
pub async fn gcp() -> String {
    let app = Router::new().route(
        "/computeMetadata/v1/{*path}",
        get(|h: HeaderMap, Path(path): Path<String>| async move {
            if h.get("metadata-flavor").is_none_or(|v| v != "Google") {
                return (StatusCode::FORBIDDEN, "");
            }
            let v = match path.as_str() {
                "project/project-id" => "my-project",
                "instance/zone" => "projects/123456789/zones/us-central1-c",
                "instance/id" => "4520031799277581759",
                "instance/name" => "my-vm",
                "instance/machine-type" => "projects/123456789/machineTypes/e2-medium",
                "instance/hostname" => "my-vm.c.my-project.internal",
                _ => return (StatusCode::NOT_FOUND, ""),
            };
            (StatusCode::OK, v)
        }),
    );
    serve(app).await
}

/// Azure IMDS compute metadata.
pub async fn azure() -> String {
    let body = r#"{
  "location": "westus",
  "name": "examplevmname",
  "resourceGroupName": "macikgo-test-may-23",
  "subscriptionId": "xxxxxxxx-xxxxx-xxx-xxx-xxxx",
  "vmId": "02aab8a4-74ef-476e-8182-f6d2ba4166a6",
  "vmScaleSetName": "crpteste9vflji9",
  "vmSize": "Standard_A3",
  "zone": "1",
  "tagsList": [{"name": "Department", "value": "IT"}, {"name": "Environment", "value": "Test"}]
}"#;
    let app = Router::new().route(
        "/metadata/instance/compute",
        get(move |h: HeaderMap, uri: Uri| async move {
            let flagged = h.get("metadata").is_some_and(|v| v.as_bytes().eq_ignore_ascii_case(b"true"));
            let q: Vec<&str> = uri.query().unwrap_or("").split('&').collect();
            if !flagged || !q.iter().any(|p| p.starts_with("api-version=")) || !q.contains(&"format=json") {
                return (StatusCode::BAD_REQUEST, "");
            }
            (StatusCode::OK, body)
        }),
    );
    serve(app).await
}

/// A Docker daemon on a unix socket in `dir`; returns the `DOCKER_HOST` value.
#[cfg(unix)]
pub async fn docker(dir: &std::path::Path) -> String {
    let path = dir.join("docker.sock");
    let listener = tokio::net::UnixListener::bind(&path).expect("bind unix socket");
    let app = Router::new().route(
        "/info",
        get(|| async {
            r#"{"ID": "7TRN:IPZB", "Name": "docker-host-1", "OSType": "linux", "Architecture": "x86_64"}"#
        }),
    );
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    format!("unix://{}", path.display())
}

/// A stand-in whose answer changes: the EC2 document's instance type is `t2.micro` on the
/// first call, `t3.large` after. Returns the base URL and the call counter.
pub async fn ec2_changing() -> (String, Arc<AtomicUsize>) {
    let calls = Arc::new(AtomicUsize::new(0));
    let app = Router::new()
        .route("/latest/api/token", put(|| async { TOKEN }))
        .route(
            "/latest/dynamic/instance-identity/document",
            get(|State(calls): State<Arc<AtomicUsize>>| async move {
                let n = calls.fetch_add(1, Ordering::SeqCst);
                if n == 0 {
                    EC2_DOCUMENT.to_string()
                } else {
                    EC2_DOCUMENT.replace("t2.micro", "t3.large")
                }
            }),
        )
        .route("/latest/meta-data/hostname", get(|| async { "ip-10-0-0-1" }))
        .with_state(calls.clone());
    (serve(app).await, calls)
}

/// EC2 whose document answers once, then fails with 500. Returns the base URL and the
/// call counter.
pub async fn ec2_then_broken() -> (String, Arc<AtomicUsize>) {
    let calls = Arc::new(AtomicUsize::new(0));
    let app = Router::new()
        .route("/latest/api/token", put(|| async { TOKEN }))
        .route(
            "/latest/dynamic/instance-identity/document",
            get(|State(calls): State<Arc<AtomicUsize>>| async move {
                if calls.fetch_add(1, Ordering::SeqCst) == 0 {
                    (StatusCode::OK, EC2_DOCUMENT)
                } else {
                    (StatusCode::INTERNAL_SERVER_ERROR, "")
                }
            }),
        )
        .route("/latest/meta-data/hostname", get(|| async { "ip-10-0-0-1" }))
        .with_state(calls.clone());
    (serve(app).await, calls)
}
