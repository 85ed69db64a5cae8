//! `ecs`: the ECS task metadata endpoint, v4 (`ECS_CONTAINER_METADATA_URI_V4`) or v3
//! (`ECS_CONTAINER_METADATA_URI`), as upstream internal/aws/ecs: `GET <uri>/task` for the
//! task, `GET <uri>` for this container. Without either variable the detector is not on
//! ECS and sets nothing (an error with `fail_on_missing_metadata`).

use serde::Deserialize;

use super::{http_get, parse_json, Builder, DetectCx, DetectError, Detected, SCHEMA_URL};
use crate::processors::resourcedetection::attrs::Enabled;

/// The `ecs` detector.
pub struct EcsDetector {
    enabled: Enabled,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct Task {
    #[serde(rename = "Cluster")]
    cluster: String,
    #[serde(rename = "TaskARN")]
    task_arn: String,
    #[serde(rename = "Family")]
    family: String,
    #[serde(rename = "Revision")]
    revision: String,
    #[serde(rename = "AvailabilityZone")]
    availability_zone: String,
    #[serde(rename = "LaunchType")]
    launch_type: String,
    #[serde(rename = "Containers")]
    containers: Vec<Container>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct Container {
    #[serde(rename = "DockerId")]
    docker_id: String,
    #[serde(rename = "Type")]
    kind: String,
    #[serde(rename = "KnownStatus")]
    known_status: String,
    #[serde(rename = "LogDriver")]
    log_driver: String,
    #[serde(rename = "LogOptions")]
    log_options: LogOptions,
}

#[derive(Deserialize, Default, PartialEq)]
#[serde(default)]
struct LogOptions {
    #[serde(rename = "awslogs-group")]
    group: String,
    #[serde(rename = "awslogs-region")]
    region: String,
    #[serde(rename = "awslogs-stream")]
    stream: String,
}

impl EcsDetector {
    /// A detector with these attributes on.
    pub fn new(enabled: Enabled) -> Self {
        EcsDetector { enabled }
    }

    /// Asks the task metadata endpoint now.
    pub async fn detect(&self, cx: &DetectCx) -> Result<Detected, DetectError> {
        let uri = ["ECS_CONTAINER_METADATA_URI_V4", "ECS_CONTAINER_METADATA_URI"]
            .iter()
            .find_map(|v| (cx.env)(v).map(|s| s.trim().trim_end_matches('/').to_string()).filter(|s| !s.is_empty()));
        let Some(uri) = uri else {
            return Err(DetectError::Missing("not on ECS: ECS_CONTAINER_METADATA_URI_V4 is not set".to_string()));
        };
        let task_url = format!("{uri}/task");
        let task: Task = parse_json(&task_url, &http_get(&cx.http, &task_url, &[]).await?)?;
        let mut b = Builder::new(&self.enabled, SCHEMA_URL);
        b.str("cloud.provider", "aws");
        b.str("cloud.platform", "aws_ecs");
        b.str("aws.ecs.task.arn", task.task_arn.clone());
        b.str("aws.ecs.task.family", task.family.clone());
        b.str("aws.ecs.task.revision", task.revision.clone());
        let (region, account, task_id) = parse_task_arn(&task.task_arn);
        if !account.is_empty() {
            b.str("cloud.account.id", account);
        }
        if !region.is_empty() {
            b.str("cloud.region", region);
        }
        if !task_id.is_empty() {
            b.str("aws.ecs.task.id", task_id);
        }
        b.str("aws.ecs.cluster.arn", cluster_arn(&task.cluster, region, account));
        if !task.availability_zone.is_empty() {
            b.str("cloud.availability_zone", task.availability_zone.clone());
        }
        match task.launch_type.to_ascii_lowercase().as_str() {
            "ec2" => b.str("aws.ecs.launchtype", "ec2"),
            "fargate" => b.str("aws.ecs.launchtype", "fargate"),
            _ => {}
        }
        let me: Container = parse_json(&uri, &http_get(&cx.http, &uri, &[]).await?)?;
        // The other running, normal containers of the task that log to CloudWatch (the
        // collector is assumed to be a sidecar of the application).
        let logging: Vec<&Container> = task
            .containers
            .iter()
            .filter(|c| {
                c.kind == "NORMAL"
                    && c.known_status == "RUNNING"
                    && c.log_driver == "awslogs"
                    && c.docker_id != me.docker_id
                    && c.log_options != LogOptions::default()
            })
            .collect();
        if !logging.is_empty() {
            let group_arn = |o: &LogOptions| format!("arn:aws:logs:{}:{account}:log-group:{}", o.region, o.group);
            b.strs("aws.log.group.names", logging.iter().map(|c| c.log_options.group.clone()).collect());
            b.strs("aws.log.group.arns", logging.iter().map(|c| group_arn(&c.log_options)).collect());
            b.strs("aws.log.stream.names", logging.iter().map(|c| c.log_options.stream.clone()).collect());
            b.strs(
                "aws.log.stream.arns",
                logging
                    .iter()
                    .map(|c| format!("{}:log-stream:{}", group_arn(&c.log_options), c.log_options.stream))
                    .collect(),
            );
        }
        Ok(b.finish())
    }
}

/// Region, account and task id of `arn:aws:ecs:<region>:<account>:task/<cluster>/<id>`.
fn parse_task_arn(arn: &str) -> (&str, &str, &str) {
    let parts: Vec<&str> = arn.split(':').collect();
    if parts.len() < 6 {
        return ("", "", "");
    }
    let id = parts[5].rsplit('/').next().unwrap_or("");
    (parts[3], parts[4], id)
}

/// The cluster's ARN: the endpoint gives either the ARN or the short name.
fn cluster_arn(cluster: &str, region: &str, account: &str) -> String {
    if cluster.contains(':') {
        cluster.to_string()
    } else {
        format!("arn:aws:ecs:{region}:{account}:cluster/{cluster}")
    }
}
