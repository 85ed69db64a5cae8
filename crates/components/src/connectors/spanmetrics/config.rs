//! `connectors: spanmetrics:` configuration with the Collector's keys, defaults (contrib
//! v0.159: namespace `traces.span.metrics`, flush every 60 s, `ms` histograms with the
//! classic buckets, cumulative) and checks, each reported at its key.

use std::time::Duration;

use serde::Deserialize;
use switchyard_core::component::{ComponentConfig, FieldError};
use switchyard_core::config::Optional;

use crate::connectors::metricagg::config::{deserialize_duration, deserialize_durations, Temporality, CUMULATIVE};

/// The default namespace of the metric names.
pub const DEFAULT_NAMESPACE: &str = "traces.span.metrics";
/// The default explicit buckets, in milliseconds (`[2ms, 4ms, … 15s]`).
pub const DEFAULT_BUCKETS_MS: [f64; 16] =
    [2.0, 4.0, 6.0, 8.0, 10.0, 50.0, 100.0, 200.0, 400.0, 800.0, 1000.0, 1400.0, 2000.0, 5000.0, 10_000.0, 15_000.0];
/// Buckets per sign of an exponential histogram unless `max_size` says otherwise.
pub const DEFAULT_EXPONENTIAL_MAX_SIZE: i32 = 160;
/// Exemplars per data point and flush unless `max_per_data_point` says otherwise.
pub const DEFAULT_MAX_EXEMPLARS: i64 = 5;

/// The dimensions every metric has, in order (`exclude_dimensions` may remove them).
pub const SERVICE_NAME: &str = "service.name";
/// The span's name.
pub const SPAN_NAME: &str = "span.name";
/// The span's kind (`SPAN_KIND_SERVER`, …).
pub const SPAN_KIND: &str = "span.kind";
/// The span's status code (`STATUS_CODE_ERROR`, …).
pub const STATUS_CODE: &str = "status.code";
/// The gateway's instance id (the Collector adds it by default since v0.136).
pub const COLLECTOR_INSTANCE_ID: &str = "collector.instance.id";
/// The reserved dimension names a configured dimension may not reuse.
pub const RESERVED: [&str; 5] = [SERVICE_NAME, SPAN_KIND, STATUS_CODE, SPAN_NAME, COLLECTOR_INSTANCE_ID];

/// The connector's config.
#[derive(Clone, Debug, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SpanMetricsConnectorConfig {
    /// Extra dimensions of every metric, from span then resource attributes.
    pub dimensions: Vec<Dimension>,
    /// Extra dimensions of the calls metric only.
    pub calls_dimensions: Vec<Dimension>,
    /// Default dimensions to leave out (`status.code`, …).
    pub exclude_dimensions: Vec<String>,
    /// Deprecated by the Collector (v0.130) in favour of `aggregation_cardinality_limit`;
    /// accepted and ignored.
    pub dimensions_cache_size: i64,
    /// Resources (services) whose series are kept; the least recently used beyond it are
    /// dropped after the next flush.
    pub resource_metrics_cache_size: i64,
    /// The resource attributes that tell resources apart (all of them when empty).
    pub resource_metrics_key_attributes: Vec<String>,
    /// `AGGREGATION_TEMPORALITY_CUMULATIVE` (default) or `AGGREGATION_TEMPORALITY_DELTA`.
    pub aggregation_temporality: String,
    /// The duration histogram.
    pub histogram: HistogramConfig,
    /// How often metrics are emitted.
    #[serde(deserialize_with = "deserialize_duration")]
    pub metrics_flush_interval: Duration,
    /// A resource with no new span for this long stops being emitted (0 = never).
    #[serde(deserialize_with = "deserialize_duration")]
    pub metrics_expiration: Duration,
    /// A series with no new span for this long stops being emitted (0 = never).
    #[serde(deserialize_with = "deserialize_duration")]
    pub series_expiration: Duration,
    /// Delta only: series whose last flush time is remembered (for the next start time).
    pub metric_timestamp_cache_size: Option<i64>,
    /// Prefix of the metric names, joined with `.` (empty: bare `calls`, `duration`).
    pub namespace: String,
    /// Spans attached to points as exemplars.
    pub exemplars: ExemplarsConfig,
    /// The `events` metric (span events counted by their attributes).
    pub events: EventsConfig,
    /// Scope names whose spans get `span.instrumentation.scope.name`/`.version` dimensions.
    pub include_instrumentation_scope: Vec<String>,
    /// Series per metric and resource before new ones go to the overflow series (0 = no limit).
    pub aggregation_cardinality_limit: i64,
    /// Copy resource attributes to the emitted resources: the Collector's opt-in for when
    /// its `excludeResourceMetrics` gate is on; they are always copied here (the gate's default).
    pub add_resource_attributes: bool,
    /// Add `sampling.method` (`extrapolated` for spans carrying an OTEP 235 threshold, else `counted`).
    pub enable_metrics_sampling_method: bool,
}

impl Default for SpanMetricsConnectorConfig {
    fn default() -> Self {
        SpanMetricsConnectorConfig {
            dimensions: Vec::new(),
            calls_dimensions: Vec::new(),
            exclude_dimensions: Vec::new(),
            dimensions_cache_size: 0,
            resource_metrics_cache_size: 1000,
            resource_metrics_key_attributes: Vec::new(),
            aggregation_temporality: CUMULATIVE.to_string(),
            histogram: HistogramConfig::default(),
            metrics_flush_interval: Duration::from_secs(60),
            metrics_expiration: Duration::ZERO,
            series_expiration: Duration::ZERO,
            metric_timestamp_cache_size: None,
            namespace: DEFAULT_NAMESPACE.to_string(),
            exemplars: ExemplarsConfig::default(),
            events: EventsConfig::default(),
            include_instrumentation_scope: Vec::new(),
            aggregation_cardinality_limit: 0,
            add_resource_attributes: false,
            enable_metrics_sampling_method: false,
        }
    }
}

/// A dimension: an attribute `name` (with a `default` when absent), or a `glob` over
/// attribute names (`.` separates levels: `http.*`, `http.**`).
#[derive(Clone, Debug, Default, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct Dimension {
    /// Attribute name.
    pub name: String,
    /// Value used when neither the span nor the resource has the attribute.
    pub default: Option<String>,
    /// Pattern over attribute names; every match becomes a dimension.
    pub glob: String,
}

/// The duration histogram.
#[derive(Clone, Debug, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct HistogramConfig {
    /// No duration metric at all.
    pub disable: bool,
    /// `ms` (default) or `s`.
    pub unit: String,
    /// Exponential buckets instead of explicit ones.
    pub exponential: Optional<ExponentialHistogramConfig>,
    /// Explicit buckets (the default kind).
    pub explicit: Optional<ExplicitHistogramConfig>,
    /// Extra dimensions of the duration metric only.
    pub dimensions: Vec<Dimension>,
}

impl Default for HistogramConfig {
    fn default() -> Self {
        HistogramConfig {
            disable: false,
            unit: "ms".into(),
            exponential: Optional(None),
            explicit: Optional(None),
            dimensions: Vec::new(),
        }
    }
}

/// `histogram.exponential`.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ExponentialHistogramConfig {
    /// Buckets per sign (0 = 160).
    pub max_size: i32,
}

/// `histogram.explicit`.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ExplicitHistogramConfig {
    /// Bucket bounds as durations (none: the default buckets).
    #[serde(deserialize_with = "deserialize_durations")]
    pub buckets: Vec<Duration>,
}

/// `exemplars`.
#[derive(Clone, Debug, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ExemplarsConfig {
    /// Attach spans as exemplars.
    pub enabled: bool,
    /// Exemplars per data point and flush period.
    pub max_per_data_point: i64,
}

impl Default for ExemplarsConfig {
    fn default() -> Self {
        ExemplarsConfig { enabled: false, max_per_data_point: DEFAULT_MAX_EXEMPLARS }
    }
}

/// `events`.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct EventsConfig {
    /// Emit the `events` metric.
    pub enabled: bool,
    /// Event attributes added as dimensions (required when enabled).
    pub dimensions: Vec<Dimension>,
}

impl SpanMetricsConnectorConfig {
    /// The temporality the config asks for.
    pub fn temporality(&self) -> Temporality {
        Temporality::parse(&self.aggregation_temporality)
    }

    /// Whether durations are recorded in seconds (else milliseconds).
    pub fn seconds(&self) -> bool {
        self.histogram.unit == "s"
    }

    /// Delta temporality: how many series' last flush times are remembered.
    pub fn delta_timestamp_cache_size(&self) -> i64 {
        self.metric_timestamp_cache_size.unwrap_or(1000)
    }
}

impl ComponentConfig for SpanMetricsConnectorConfig {
    fn validate(&self) -> Vec<FieldError> {
        let mut e = Vec::new();
        validate_dimensions("dimensions", &self.dimensions, &mut e);
        validate_dimensions("calls_dimensions", &self.calls_dimensions, &mut e);
        validate_dimensions("histogram::dimensions", &self.histogram.dimensions, &mut e);
        if self.events.enabled {
            if self.events.dimensions.is_empty() {
                e.push(FieldError::new("events::dimensions", "no dimensions configured for events"));
            }
            validate_dimensions("events::dimensions", &self.events.dimensions, &mut e);
        }
        if self.histogram.explicit.get().is_some() && self.histogram.exponential.get().is_some() {
            e.push(FieldError::new("histogram", "use either `explicit` or `exponential` buckets histogram"));
        }
        if !matches!(self.histogram.unit.as_str(), "ms" | "s") {
            e.push(FieldError::new(
                "histogram::unit",
                format!("unknown unit \"{}\", allowed units are \"ms\" and \"s\"", self.histogram.unit),
            ));
        }
        if let Some(x) = self.histogram.exponential.get() {
            if x.max_size < 0 {
                e.push(FieldError::new("histogram::exponential::max_size", "max_size must not be negative"));
            }
        }
        if let Some(x) = self.histogram.explicit.get() {
            if x.buckets.windows(2).any(|w| w[0] >= w[1]) {
                e.push(FieldError::new("histogram::explicit::buckets", "buckets must be in increasing order"));
            }
        }
        if self.metrics_flush_interval.is_zero() {
            e.push(FieldError::new(
                "metrics_flush_interval",
                "invalid metrics_flush_interval: 0s, the duration should be positive",
            ));
        }
        if self.temporality() == Temporality::Delta && self.delta_timestamp_cache_size() <= 0 {
            e.push(FieldError::new(
                "metric_timestamp_cache_size",
                format!(
                    "invalid delta timestamp cache size: {}, the maximum number of the items in the cache should be positive",
                    self.delta_timestamp_cache_size()
                ),
            ));
        }
        if self.aggregation_cardinality_limit < 0 {
            e.push(FieldError::new(
                "aggregation_cardinality_limit",
                format!(
                    "invalid aggregation_cardinality_limit: {}, the limit should be positive",
                    self.aggregation_cardinality_limit
                ),
            ));
        }
        if self.exemplars.enabled && self.exemplars.max_per_data_point < 0 {
            e.push(FieldError::new(
                "exemplars::max_per_data_point",
                format!(
                    "invalid max_per_data_point: {}, the value should be positive",
                    self.exemplars.max_per_data_point
                ),
            ));
        }
        if self.resource_metrics_cache_size <= 0 {
            e.push(FieldError::new(
                "resource_metrics_cache_size",
                format!("invalid resource_metrics_cache_size: {}, must be positive", self.resource_metrics_cache_size),
            ));
        }
        e
    }
}

/// The Collector's dimension checks: exactly one of `name`/`glob`, no name reused (the
/// reserved ones included), `default` only with `name`, globs that compile and match no
/// reserved or listed name.
fn validate_dimensions(field: &str, dims: &[Dimension], e: &mut Vec<FieldError>) {
    let mut names: Vec<&str> = RESERVED.to_vec();
    let mut globs = Vec::new();
    for (i, d) in dims.iter().enumerate() {
        let at = format!("{field}::{i}");
        match (d.name.is_empty(), d.glob.is_empty()) {
            (false, false) => e.push(FieldError::new(
                at,
                format!(
                    "dimension entry must set only one of `name` or `glob`, got both: name={:?} glob={:?}",
                    d.name, d.glob
                ),
            )),
            (true, true) => e.push(FieldError::new(at, "dimension entry must set one of `name` or `glob`")),
            (false, true) => {
                if names.contains(&d.name.as_str()) {
                    e.push(FieldError::new(at, format!("duplicate dimension name {:?}", d.name)));
                }
                names.push(&d.name);
            }
            (true, false) => {
                if d.default.is_some() {
                    e.push(FieldError::new(
                        &at,
                        format!("`default` is not supported on `glob` dimension {:?}", d.glob),
                    ));
                }
                match switchyard_ottl::glob::compile_with_separator(&d.glob, '.') {
                    Ok(re) => globs.push((at, &d.glob, re)),
                    Err(err) => e.push(FieldError::new(at, format!("invalid dimension glob {:?}: {err}", d.glob))),
                }
            }
        }
    }
    for (at, glob, re) in globs {
        if let Some(name) = names.iter().find(|n| re.is_match(n)) {
            e.push(FieldError::new(at, format!("duplicate dimension name {name:?} conflicting with glob {glob:?}")));
        }
    }
}
