//! The metrics each scraper can emit, with the Collector's names, units, types and
//! default-enabled flags (each scraper's `metadata.yaml` in contrib's
//! `receiver/hostmetricsreceiver`), and the builder that turns recorded values into one
//! OTLP `ResourceMetrics` per scraper (per process for the process scraper), as mdatagen's
//! generated `MetricsBuilder` does: every point carries the scraper's start time.

use switchyard_pdata::proto::common::v1::{InstrumentationScope, KeyValue};
use switchyard_pdata::proto::metrics::v1::{
    metric::Data, number_data_point, AggregationTemporality, Gauge, Metric, NumberDataPoint, ResourceMetrics,
    ScopeMetrics, Sum,
};
use switchyard_pdata::proto::resource::v1::Resource;
use switchyard_pdata::value::str_value;

use super::config::Toggles;

/// Sum (cumulative, monotonic or not) or gauge.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// A cumulative sum.
    Sum {
        /// Only goes up.
        monotonic: bool,
    },
    /// A gauge.
    Gauge,
}

/// One metric a scraper can emit.
#[derive(Clone, Copy, Debug)]
pub struct MetricDef {
    /// The Collector's name.
    pub name: &'static str,
    /// Its description.
    pub description: &'static str,
    /// UCUM unit.
    pub unit: &'static str,
    /// Sum or gauge.
    pub kind: Kind,
    /// Emitted unless `metrics: {<name>: {enabled: false}}`.
    pub enabled: bool,
}

const fn counter(name: &'static str, description: &'static str, unit: &'static str, enabled: bool) -> MetricDef {
    MetricDef { name, description, unit, kind: Kind::Sum { monotonic: true }, enabled }
}
const fn updown(name: &'static str, description: &'static str, unit: &'static str, enabled: bool) -> MetricDef {
    MetricDef { name, description, unit, kind: Kind::Sum { monotonic: false }, enabled }
}
const fn gauge(name: &'static str, description: &'static str, unit: &'static str, enabled: bool) -> MetricDef {
    MetricDef { name, description, unit, kind: Kind::Gauge, enabled }
}

/// `cpu`.
pub const CPU: &[MetricDef] = &[
    counter("system.cpu.time", "Total seconds each logical CPU spent on each mode.", "s", true),
    gauge(
        "system.cpu.utilization",
        "Difference in system.cpu.time since the last measurement per logical CPU, divided by the elapsed time (value in interval [0,1]).",
        "1",
        false,
    ),
    gauge("system.cpu.frequency", "Current frequency of the CPU core in Hz.", "Hz", false),
    updown("system.cpu.logical.count", "Number of available logical CPUs.", "{cpu}", false),
    updown("system.cpu.physical.count", "Number of available physical CPUs.", "{cpu}", false),
];

/// `memory`.
pub const MEMORY: &[MetricDef] = &[
    updown("system.memory.usage", "Bytes of memory in use.", "By", true),
    gauge("system.memory.utilization", "Percentage of memory bytes in use.", "1", false),
    updown("system.memory.limit", "Total bytes of memory available.", "By", false),
    updown(
        "system.linux.memory.available",
        "An estimate of how much memory is available for starting new applications, without swapping.",
        "By",
        false,
    ),
    updown("system.linux.memory.dirty", "The amount of dirty memory according to `/proc/meminfo`.", "By", false),
];

/// `load`.
pub const LOAD: &[MetricDef] = &[
    gauge("system.cpu.load_average.1m", "Average CPU Load over 1 minute.", "{thread}", true),
    gauge("system.cpu.load_average.5m", "Average CPU Load over 5 minutes.", "{thread}", true),
    gauge("system.cpu.load_average.15m", "Average CPU Load over 15 minutes.", "{thread}", true),
];

/// `disk`.
pub const DISK: &[MetricDef] = &[
    counter("system.disk.io", "Disk bytes transferred.", "By", true),
    counter("system.disk.operations", "Disk operations count.", "{operations}", true),
    counter(
        "system.disk.io_time",
        "Time disk spent activated. On Windows, this is calculated as the inverse of disk idle time.",
        "s",
        true,
    ),
    counter("system.disk.operation_time", "Time spent in disk operations.", "s", true),
    counter("system.disk.weighted_io_time", "Time disk spent activated multiplied by the queue length.", "s", true),
    updown("system.disk.pending_operations", "The queue size of pending I/O operations.", "{operations}", true),
    counter(
        "system.disk.merged",
        "The number of disk reads/writes merged into single physical disk access operations.",
        "{operations}",
        true,
    ),
];

/// `filesystem`.
pub const FILESYSTEM: &[MetricDef] = &[
    updown("system.filesystem.usage", "Filesystem bytes used.", "By", true),
    updown("system.filesystem.inodes.usage", "FileSystem inodes used.", "{inodes}", true),
    gauge("system.filesystem.utilization", "Fraction of filesystem bytes used.", "1", false),
];

/// `network`.
pub const NETWORK: &[MetricDef] = &[
    counter("system.network.packets", "The number of packets transferred.", "{packets}", true),
    counter("system.network.dropped", "The number of packets dropped.", "{packets}", true),
    counter("system.network.errors", "The number of errors encountered.", "{errors}", true),
    counter("system.network.io", "The number of bytes transmitted and received.", "By", true),
    updown("system.network.connections", "The number of connections.", "{connections}", true),
    updown("system.network.conntrack.count", "The count of entries in conntrack table.", "{entries}", false),
    updown("system.network.conntrack.max", "The limit for entries in the conntrack table.", "{entries}", false),
];

/// `paging`.
pub const PAGING: &[MetricDef] = &[
    updown("system.paging.usage", "Swap (unix) or pagefile (windows) usage.", "By", true),
    counter("system.paging.operations", "The number of paging operations.", "{operations}", true),
    counter("system.paging.faults", "The number of page faults.", "{faults}", true),
    gauge("system.paging.utilization", "Swap (unix) or pagefile (windows) utilization.", "1", false),
];

/// `processes`.
pub const PROCESSES: &[MetricDef] = &[
    updown("system.processes.count", "Total number of processes in each state.", "{processes}", true),
    counter("system.processes.created", "Total number of created processes.", "{processes}", true),
];

/// `process`.
pub const PROCESS: &[MetricDef] = &[
    counter("process.cpu.time", "Total CPU seconds broken down by different states.", "s", true),
    updown("process.memory.usage", "The amount of physical memory in use.", "By", true),
    updown("process.memory.virtual", "Virtual memory size.", "By", true),
    counter("process.disk.io", "Disk bytes transferred.", "By", true),
    gauge("process.cpu.utilization", "Percentage of total CPU time used by the process since last scrape, expressed as a value between 0 and 1. On the first scrape, no data point is emitted for this metric.", "1", false),
    gauge("process.memory.utilization", "Percentage of total physical memory that is used by the process.", "1", false),
    counter("process.disk.operations", "Number of disk operations performed by the process.", "{operations}", false),
    counter("process.paging.faults", "Number of page faults the process has made.", "{faults}", false),
    updown("process.signals_pending", "Number of pending signals for the process.", "{signals}", false),
    updown("process.threads", "Process threads count.", "{threads}", false),
    updown("process.open_file_descriptors", "Number of file descriptors in use by the process.", "{count}", false),
    updown("process.handles", "Number of handles held by the process (Windows only: never emitted here).", "{count}", false),
    counter("process.context_switches", "Number of times the process has been context switched.", "{count}", false),
    gauge("process.uptime", "The time the process has been running.", "s", false),
];

/// The process scraper's resource attributes and whether each is on by default.
pub const PROCESS_RESOURCE: &[(&str, bool)] = &[
    ("process.pid", true),
    ("process.parent_pid", true),
    ("process.executable.name", true),
    ("process.executable.path", true),
    ("process.command", true),
    ("process.command_line", true),
    ("process.owner", true),
    ("process.cgroup", false),
];

/// `system`.
pub const SYSTEM: &[MetricDef] = &[gauge("system.uptime", "The time the system has been running.", "s", true)];

/// The scope name of a scraper's metrics (its Go package, as mdatagen names it).
pub fn scope_name(scraper: &str) -> String {
    format!("github.com/open-telemetry/opentelemetry-collector-contrib/receiver/hostmetricsreceiver/internal/scraper/{scraper}scraper")
}

/// Which of a table's metrics are on, after the config's `metrics:` overrides.
#[derive(Clone, Debug)]
pub struct Enabled(Vec<bool>);

impl Enabled {
    /// Defaults of `defs`, overridden by `toggles` (names were checked at validation).
    pub fn new(defs: &[MetricDef], toggles: &Toggles) -> Enabled {
        Enabled(defs.iter().map(|d| toggles.get(d.name).and_then(|t| t.enabled).unwrap_or(d.enabled)).collect())
    }
}

/// The values of one scrape of one scraper (or one process), metric by metric.
pub struct Builder<'a> {
    defs: &'static [MetricDef],
    enabled: &'a Enabled,
    start_ns: u64,
    now_ns: u64,
    points: Vec<Vec<NumberDataPoint>>,
}

fn attrs(list: &[(&str, &str)]) -> Vec<KeyValue> {
    list.iter()
        .map(|(k, v)| KeyValue { key: (*k).to_string(), value: Some(str_value(*v)), ..Default::default() })
        .collect()
}

impl<'a> Builder<'a> {
    /// A builder for `defs`; every point gets `start_ns` and `now_ns`.
    pub fn new(defs: &'static [MetricDef], enabled: &'a Enabled, start_ns: u64, now_ns: u64) -> Self {
        Builder { defs, enabled, start_ns, now_ns, points: vec![Vec::new(); defs.len()] }
    }

    /// Whether `name` is on (so a scraper can skip reading what nobody wants).
    pub fn on(&self, name: &str) -> bool {
        self.index(name).is_some()
    }

    fn index(&self, name: &str) -> Option<usize> {
        let i = self.defs.iter().position(|d| d.name == name)?;
        self.enabled.0.get(i).copied().unwrap_or(false).then_some(i)
    }

    fn push(&mut self, name: &str, value: number_data_point::Value, list: &[(&str, &str)]) {
        let Some(i) = self.index(name) else { return };
        self.points[i].push(NumberDataPoint {
            attributes: attrs(list),
            start_time_unix_nano: self.start_ns,
            time_unix_nano: self.now_ns,
            value: Some(value),
            ..Default::default()
        });
    }

    /// Records an integer point (ignored when the metric is off).
    pub fn int(&mut self, name: &str, v: i64, list: &[(&str, &str)]) {
        self.push(name, number_data_point::Value::AsInt(v), list);
    }

    /// Records an integer point from an unsigned counter (saturating at i64::MAX).
    pub fn uint(&mut self, name: &str, v: u64, list: &[(&str, &str)]) {
        self.int(name, i64::try_from(v).unwrap_or(i64::MAX), list);
    }

    /// Records a floating-point point (ignored when the metric is off).
    pub fn double(&mut self, name: &str, v: f64, list: &[(&str, &str)]) {
        self.push(name, number_data_point::Value::AsDouble(v), list);
    }

    /// Points recorded so far.
    pub fn point_count(&self) -> usize {
        self.points.iter().map(Vec::len).sum()
    }

    /// The metrics with at least one point, under the scraper's scope and `resource`.
    pub fn emit(self, scraper: &str, version: &str, resource: Vec<KeyValue>) -> Option<ResourceMetrics> {
        let metrics: Vec<Metric> = self
            .defs
            .iter()
            .zip(self.points)
            .filter(|(_, p)| !p.is_empty())
            .map(|(d, data_points)| Metric {
                name: d.name.to_string(),
                description: d.description.to_string(),
                unit: d.unit.to_string(),
                data: Some(match d.kind {
                    Kind::Gauge => Data::Gauge(Gauge { data_points }),
                    Kind::Sum { monotonic } => Data::Sum(Sum {
                        data_points,
                        aggregation_temporality: AggregationTemporality::Cumulative as i32,
                        is_monotonic: monotonic,
                    }),
                }),
                ..Default::default()
            })
            .collect();
        if metrics.is_empty() {
            return None;
        }
        Some(ResourceMetrics {
            resource: Some(Resource { attributes: resource, ..Default::default() }),
            scope_metrics: vec![ScopeMetrics {
                scope: Some(InstrumentationScope {
                    name: scope_name(scraper),
                    version: version.to_string(),
                    ..Default::default()
                }),
                metrics,
                ..Default::default()
            }],
            ..Default::default()
        })
    }
}
