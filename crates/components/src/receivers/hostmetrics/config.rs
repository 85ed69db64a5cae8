//! `receivers: hostmetrics:` configuration: the scraper controller's fields
//! (`collection_interval` 1m, `initial_delay` 1s, `timeout`), `root_path`, and `scrapers:`
//! with one optional block per scraper (`cpu:` or `disk: null` turns it on with defaults).
//! Each block takes `metrics: {<name>: {enabled: bool}}` and its scraper's filters, with
//! the Collector's keys (`internal/filter/filterset`: `match_type` strict or regexp).

use std::collections::BTreeMap;
use std::time::Duration;

use serde::Deserialize;
use switchyard_core::component::{ComponentConfig, FieldError};
use switchyard_core::config::{suggestion, Optional};

use super::metadata::{self, MetricDef};
use crate::filterconfig::config::{MatchType, RegexpConfig};
use crate::filterconfig::FilterSet;

/// The hostmetrics receiver's config.
#[derive(Clone, Debug, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct HostMetricsReceiverConfig {
    /// Time between collections (default 1m).
    #[serde(with = "humantime_serde")]
    pub collection_interval: Duration,
    /// Wait before the first collection (default 1s).
    #[serde(with = "humantime_serde")]
    pub initial_delay: Duration,
    /// Longest a collection may take; 0 (default) is no limit.
    #[serde(with = "humantime_serde")]
    pub timeout: Duration,
    /// The host's root filesystem as mounted in a container (`/hostfs`): every `/proc`,
    /// `/sys`, `/etc` and mount path is read under it.
    pub root_path: String,
    /// Accepted for compatibility (entity events are not emitted).
    #[serde(with = "humantime_serde")]
    pub metadata_collection_interval: Duration,
    /// The scrapers to run (at least one).
    pub scrapers: Scrapers,
}

impl Default for HostMetricsReceiverConfig {
    fn default() -> Self {
        HostMetricsReceiverConfig {
            collection_interval: Duration::from_secs(60),
            initial_delay: Duration::from_secs(1),
            timeout: Duration::ZERO,
            root_path: String::new(),
            metadata_collection_interval: Duration::from_secs(300),
            scrapers: Scrapers::default(),
        }
    }
}

/// `scrapers:`: an absent key is off; present (even empty or null) is on.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Scrapers {
    /// CPU times per logical CPU.
    pub cpu: Optional<MetricsOnly>,
    /// Block device I/O.
    pub disk: Optional<DiskConfig>,
    /// Filesystem space and inodes.
    pub filesystem: Optional<FilesystemConfig>,
    /// Load averages.
    pub load: Optional<LoadConfig>,
    /// Memory usage.
    pub memory: Optional<MetricsOnly>,
    /// Network interface counters and TCP connections.
    pub network: Optional<NetworkConfig>,
    /// Swap usage and paging.
    pub paging: Optional<MetricsOnly>,
    /// Process counts by state.
    pub processes: Optional<MetricsOnly>,
    /// Per-process metrics, one resource per process.
    pub process: Optional<ProcessConfig>,
    /// Uptime.
    pub system: Optional<MetricsOnly>,
}

/// `metrics:` (or `resource_attributes:`) overrides by name.
pub type Toggles = BTreeMap<String, Toggle>;

/// `{enabled: bool}`.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Toggle {
    /// On or off; absent keeps the default.
    pub enabled: Option<bool>,
}

/// A scraper whose only setting is `metrics:`.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct MetricsOnly {
    /// Metric overrides.
    pub metrics: Toggles,
}

/// `load:`.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct LoadConfig {
    /// Metric overrides.
    pub metrics: Toggles,
    /// Divide the averages by the number of logical CPUs.
    pub cpu_average: bool,
}

/// A filterset: names or patterns and how to match them. Each place takes one list key
/// (`devices`, `interfaces`, `fs_types`, `mount_points` or `names`); validation refuses
/// the others there.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct MatchConfig {
    /// `strict` or `regexp` (required with a list, as `filterset` requires it).
    pub match_type: Option<MatchType>,
    /// Accepted for compatibility (regexp cache options).
    pub regexp: Option<RegexpConfig>,
    /// Device names (disk, filesystem).
    pub devices: Vec<String>,
    /// Interface names (network).
    pub interfaces: Vec<String>,
    /// Filesystem types (filesystem).
    pub fs_types: Vec<String>,
    /// Mount points (filesystem).
    pub mount_points: Vec<String>,
    /// Process executable names (process).
    pub names: Vec<String>,
}

/// `disk:`.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct DiskConfig {
    /// Metric overrides.
    pub metrics: Toggles,
    /// Only these devices.
    pub include: MatchConfig,
    /// Not these devices.
    pub exclude: MatchConfig,
}

/// `network:`.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct NetworkConfig {
    /// Metric overrides.
    pub metrics: Toggles,
    /// Only these interfaces.
    pub include: MatchConfig,
    /// Not these interfaces.
    pub exclude: MatchConfig,
}

/// `filesystem:`.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct FilesystemConfig {
    /// Metric overrides.
    pub metrics: Toggles,
    /// Also report filesystems without a device (tmpfs, overlay, proc...).
    pub include_virtual_filesystems: bool,
    /// Only these devices.
    pub include_devices: MatchConfig,
    /// Not these devices.
    pub exclude_devices: MatchConfig,
    /// Only these types.
    pub include_fs_types: MatchConfig,
    /// Not these types.
    pub exclude_fs_types: MatchConfig,
    /// Only these mount points (as the host sees them).
    pub include_mount_points: MatchConfig,
    /// Not these mount points.
    pub exclude_mount_points: MatchConfig,
}

/// `process:`.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ProcessConfig {
    /// Metric overrides.
    pub metrics: Toggles,
    /// Resource attribute overrides.
    pub resource_attributes: Toggles,
    /// Only processes whose executable name matches.
    pub include: MatchConfig,
    /// Not processes whose executable name matches.
    pub exclude: MatchConfig,
    /// Do not report processes whose name cannot be read.
    pub mute_process_name_error: bool,
    /// Do not report unreadable executable paths.
    pub mute_process_exe_error: bool,
    /// Do not report unreadable `/proc/<pid>/io`.
    pub mute_process_io_error: bool,
    /// Do not report uids without a user name.
    pub mute_process_user_error: bool,
    /// Do not report unreadable cgroups.
    pub mute_process_cgroup_error: bool,
    /// Do not report any of the above.
    pub mute_process_all_errors: bool,
    /// Skip processes younger than this.
    #[serde(with = "humantime_serde")]
    pub scrape_process_delay: Duration,
}

/// A compiled include/exclude pair: a name passes when it matches `include` (if any) and
/// does not match `exclude` (if any).
#[derive(Debug, Default)]
pub struct Filter {
    include: Option<FilterSet>,
    exclude: Option<FilterSet>,
}

impl Filter {
    /// Compiles the `key` lists of `include` and `exclude`, written at `fields` (their key paths).
    pub fn new(
        fields: (&str, &str),
        include: &MatchConfig,
        exclude: &MatchConfig,
        key: &str,
    ) -> Result<Filter, Vec<FieldError>> {
        match (include.compile(fields.0, key), exclude.compile(fields.1, key)) {
            (Ok(include), Ok(exclude)) => Ok(Filter { include, exclude }),
            (inc, exc) => Err(inc.err().into_iter().chain(exc.err()).flatten().collect()),
        }
    }

    /// Whether `name` passes.
    pub fn allows(&self, name: &str) -> bool {
        self.include.as_ref().is_none_or(|f| f.matches(name)) && self.exclude.as_ref().is_none_or(|f| !f.matches(name))
    }
}

/// Key paths of the disk scraper's filters.
pub const DISK_FIELDS: (&str, &str) = ("scrapers::disk::include", "scrapers::disk::exclude");
/// Key paths of the network scraper's filters.
pub const NETWORK_FIELDS: (&str, &str) = ("scrapers::network::include", "scrapers::network::exclude");
/// Key paths of the filesystem scraper's device filters.
pub const FS_DEVICE_FIELDS: (&str, &str) =
    ("scrapers::filesystem::include_devices", "scrapers::filesystem::exclude_devices");
/// Key paths of the filesystem scraper's type filters.
pub const FS_TYPE_FIELDS: (&str, &str) =
    ("scrapers::filesystem::include_fs_types", "scrapers::filesystem::exclude_fs_types");
/// Key paths of the filesystem scraper's mount point filters.
pub const FS_MOUNT_FIELDS: (&str, &str) =
    ("scrapers::filesystem::include_mount_points", "scrapers::filesystem::exclude_mount_points");
/// Key paths of the process scraper's filters.
pub const PROCESS_FIELDS: (&str, &str) = ("scrapers::process::include", "scrapers::process::exclude");

const LIST_KEYS: [&str; 5] = ["devices", "interfaces", "fs_types", "mount_points", "names"];

impl MatchConfig {
    fn list(&self, key: &str) -> &[String] {
        match key {
            "devices" => &self.devices,
            "interfaces" => &self.interfaces,
            "fs_types" => &self.fs_types,
            "mount_points" => &self.mount_points,
            _ => &self.names,
        }
    }

    /// The set of the `key` list (`None` when empty); any other list key is an error.
    pub(crate) fn compile(&self, field: &str, key: &str) -> Result<Option<FilterSet>, Vec<FieldError>> {
        let mut errors: Vec<FieldError> = LIST_KEYS
            .iter()
            .filter(|k| **k != key && !self.list(k).is_empty())
            .map(|k| FieldError::new(format!("{field}::{k}"), format!("not a key here: the list is `{key}`")))
            .collect();
        let list = self.list(key);
        let out = match (list.is_empty(), self.match_type) {
            (true, _) => None,
            (false, None) => {
                errors.push(FieldError::new(
                    format!("{field}::match_type"),
                    "unrecognized match_type: '', valid types are: [regexp strict]",
                ));
                None
            }
            (false, Some(mt)) => match FilterSet::new(&format!("{field}::{key}"), list, mt) {
                Ok(set) => Some(set),
                Err(e) => {
                    errors.extend(e);
                    None
                }
            },
        };
        if errors.is_empty() {
            Ok(out)
        } else {
            Err(errors)
        }
    }
}

fn check_toggles(errors: &mut Vec<FieldError>, field: &str, toggles: &Toggles, known: &[&str], what: &str) {
    for name in toggles.keys() {
        if !known.contains(&name.as_str()) {
            let hint = suggestion(name, known.iter().copied());
            errors.push(FieldError::new(format!("{field}::{name}"), format!("unknown {what} \"{name}\"{hint}")));
        }
    }
}

fn names(defs: &[MetricDef]) -> Vec<&'static str> {
    defs.iter().map(|d| d.name).collect()
}

fn check_filter(
    errors: &mut Vec<FieldError>,
    fields: (&str, &str),
    include: &MatchConfig,
    exclude: &MatchConfig,
    key: &str,
) {
    if let Err(e) = Filter::new(fields, include, exclude, key) {
        errors.extend(e);
    }
}

impl ComponentConfig for HostMetricsReceiverConfig {
    fn validate(&self) -> Vec<FieldError> {
        let mut e = Vec::new();
        if self.collection_interval.is_zero() {
            e.push(FieldError::new("collection_interval", "\"collection_interval\": requires positive value"));
        }
        if !self.root_path.is_empty() && self.root_path != "/" {
            if let Err(err) = std::fs::metadata(&self.root_path) {
                e.push(FieldError::new("root_path", format!("invalid root_path: stat {}: {err}", self.root_path)));
            }
        }
        let s = &self.scrapers;
        let metric_sets: [(&str, Option<&Toggles>, &[MetricDef]); 10] = [
            ("cpu", s.cpu.get().map(|c| &c.metrics), metadata::CPU),
            ("disk", s.disk.get().map(|c| &c.metrics), metadata::DISK),
            ("filesystem", s.filesystem.get().map(|c| &c.metrics), metadata::FILESYSTEM),
            ("load", s.load.get().map(|c| &c.metrics), metadata::LOAD),
            ("memory", s.memory.get().map(|c| &c.metrics), metadata::MEMORY),
            ("network", s.network.get().map(|c| &c.metrics), metadata::NETWORK),
            ("paging", s.paging.get().map(|c| &c.metrics), metadata::PAGING),
            ("processes", s.processes.get().map(|c| &c.metrics), metadata::PROCESSES),
            ("process", s.process.get().map(|c| &c.metrics), metadata::PROCESS),
            ("system", s.system.get().map(|c| &c.metrics), metadata::SYSTEM),
        ];
        if metric_sets.iter().all(|(_, t, _)| t.is_none()) {
            e.push(FieldError::new("scrapers", "must specify at least one scraper when using hostmetrics receiver"));
        }
        for (name, toggles, defs) in metric_sets {
            if let Some(t) = toggles {
                check_toggles(&mut e, &format!("scrapers::{name}::metrics"), t, &names(defs), "metric");
            }
        }
        if let Some(d) = s.disk.get() {
            check_filter(&mut e, DISK_FIELDS, &d.include, &d.exclude, "devices");
        }
        if let Some(n) = s.network.get() {
            check_filter(&mut e, NETWORK_FIELDS, &n.include, &n.exclude, "interfaces");
        }
        if let Some(f) = s.filesystem.get() {
            check_filter(&mut e, FS_DEVICE_FIELDS, &f.include_devices, &f.exclude_devices, "devices");
            check_filter(&mut e, FS_TYPE_FIELDS, &f.include_fs_types, &f.exclude_fs_types, "fs_types");
            check_filter(&mut e, FS_MOUNT_FIELDS, &f.include_mount_points, &f.exclude_mount_points, "mount_points");
        }
        if let Some(p) = s.process.get() {
            check_filter(&mut e, PROCESS_FIELDS, &p.include, &p.exclude, "names");
            let known: Vec<&str> = metadata::PROCESS_RESOURCE.iter().map(|(n, _)| *n).collect();
            check_toggles(
                &mut e,
                "scrapers::process::resource_attributes",
                &p.resource_attributes,
                &known,
                "resource attribute",
            );
        }
        e
    }
}
