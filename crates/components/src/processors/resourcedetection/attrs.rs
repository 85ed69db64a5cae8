//! Each detector's resource attributes and whether they are on by default (the upstream
//! `internal/<detector>/documentation.md` tables), and the per-config toggles over them.

use super::config::ResourceAttributes;

/// Attribute name and default `enabled`.
pub type AttrTable = &'static [(&'static str, bool)];

/// `system` (internal/system/documentation.md).
pub const SYSTEM: AttrTable = &[
    ("host.arch", false),
    ("host.cpu.cache.l2.size", false),
    ("host.cpu.family", false),
    ("host.cpu.model.id", false),
    ("host.cpu.model.name", false),
    ("host.cpu.stepping", false),
    ("host.cpu.vendor.id", false),
    ("host.id", false),
    ("host.interface", false),
    ("host.ip", false),
    ("host.mac", false),
    ("host.name", true),
    ("os.build.id", false),
    ("os.description", false),
    ("os.name", false),
    ("os.type", true),
    ("os.version", false),
];

/// `docker` (internal/docker/documentation.md).
pub const DOCKER: AttrTable = &[("host.name", true), ("os.type", true)];

/// `ec2` (internal/aws/ec2/documentation.md).
pub const EC2: AttrTable = &[
    ("cloud.account.id", true),
    ("cloud.availability_zone", true),
    ("cloud.platform", true),
    ("cloud.provider", true),
    ("cloud.region", true),
    ("host.id", true),
    ("host.image.id", true),
    ("host.name", true),
    ("host.type", true),
];

/// `ecs` (internal/aws/ecs/documentation.md).
pub const ECS: AttrTable = &[
    ("aws.ecs.cluster.arn", true),
    ("aws.ecs.launchtype", true),
    ("aws.ecs.task.arn", true),
    ("aws.ecs.task.family", true),
    ("aws.ecs.task.id", true),
    ("aws.ecs.task.revision", true),
    ("aws.log.group.arns", true),
    ("aws.log.group.names", true),
    ("aws.log.stream.arns", true),
    ("aws.log.stream.names", true),
    ("cloud.account.id", true),
    ("cloud.availability_zone", true),
    ("cloud.platform", true),
    ("cloud.provider", true),
    ("cloud.region", true),
];

/// `gcp` (internal/gcp/documentation.md).
pub const GCP: AttrTable = &[
    ("cloud.account.id", true),
    ("cloud.availability_zone", true),
    ("cloud.platform", true),
    ("cloud.provider", true),
    ("cloud.region", true),
    ("faas.instance", true),
    ("faas.name", true),
    ("faas.version", true),
    ("gcp.cloud_run.job.execution", true),
    ("gcp.cloud_run.job.task_index", true),
    ("gcp.gce.instance.hostname", false),
    ("gcp.gce.instance.name", false),
    ("gcp.gce.instance_group_manager.name", true),
    ("gcp.gce.instance_group_manager.region", true),
    ("gcp.gce.instance_group_manager.zone", true),
    ("host.id", true),
    ("host.name", true),
    ("host.type", true),
    ("k8s.cluster.name", true),
];

/// `azure` (internal/azure/documentation.md).
pub const AZURE: AttrTable = &[
    ("azure.resourcegroup.name", true),
    ("azure.vm.name", true),
    ("azure.vm.scaleset.name", true),
    ("azure.vm.size", true),
    ("cloud.account.id", true),
    ("cloud.availability_zone", false),
    ("cloud.platform", true),
    ("cloud.provider", true),
    ("cloud.region", true),
    ("host.id", true),
    ("host.name", true),
];

/// `eks` (internal/aws/eks/documentation.md).
pub const EKS: AttrTable = &[
    ("cloud.account.id", false),
    ("cloud.availability_zone", false),
    ("cloud.platform", true),
    ("cloud.provider", true),
    ("cloud.region", false),
    ("host.id", false),
    ("host.image.id", false),
    ("host.name", false),
    ("host.type", false),
    ("k8s.cluster.name", false),
];

/// `lambda` (internal/aws/lambda/documentation.md).
pub const LAMBDA: AttrTable = &[
    ("aws.log.group.names", true),
    ("aws.log.stream.names", true),
    ("cloud.platform", true),
    ("cloud.provider", true),
    ("cloud.region", true),
    ("faas.instance", true),
    ("faas.max_memory", true),
    ("faas.name", true),
    ("faas.version", true),
];

/// `heroku` (internal/heroku/documentation.md).
pub const HEROKU: AttrTable = &[
    ("cloud.provider", true),
    ("heroku.app.id", true),
    ("heroku.dyno.id", true),
    ("heroku.release.commit", true),
    ("heroku.release.creation_timestamp", true),
    ("service.instance.id", true),
    ("service.name", true),
    ("service.version", true),
];

/// `k8s_api` and its deprecated spelling `k8snode` (internal/k8sapi/documentation.md).
pub const K8S_API: AttrTable = &[("k8s.cluster.uid", true), ("k8s.node.name", true), ("k8s.node.uid", true)];

/// The attributes a detector sets, after the config's toggles.
#[derive(Clone, Debug, Default)]
pub struct Enabled {
    /// `None`: no table, everything is set.
    table: Option<AttrTable>,
    on: Vec<&'static str>,
}

impl Enabled {
    /// The table's defaults overridden by `given` (keys were checked at validation).
    pub fn new(table: AttrTable, given: &ResourceAttributes) -> Self {
        let on = table
            .iter()
            .filter(|(name, default)| given.get(*name).and_then(|t| t.enabled).unwrap_or(*default))
            .map(|(name, _)| *name)
            .collect();
        Enabled { table: Some(table), on }
    }

    /// Everything on (detectors without toggles).
    pub fn all() -> Self {
        Enabled::default()
    }

    /// Whether `name` is set. Names outside the table (`ec2.tag.*`, `azure.tags.*`) are.
    pub fn on(&self, name: &str) -> bool {
        match self.table {
            None => true,
            Some(t) if t.iter().any(|(n, _)| *n == name) => self.on.contains(&name),
            Some(_) => true,
        }
    }
}
