//! Counting one kind of item (spans, log records, ...) under one resource, as upstream's
//! `counter`: each configured metric keeps one count per distinct set of attribute values,
//! and the counts become one delta, monotonic `Sum` per metric with an integer point per set.

use std::time::{SystemTime, UNIX_EPOCH};

use indexmap::map::Entry;
use indexmap::IndexMap;
use switchyard_ottl::eval::{CompiledCondition, EvalContext};
use switchyard_pdata::attrs;
use switchyard_pdata::proto::common::v1::{any_value, AnyValue, InstrumentationScope, KeyValue};
use switchyard_pdata::proto::metrics::v1::metric::Data;
use switchyard_pdata::proto::metrics::v1::{
    number_data_point, AggregationTemporality, Metric, NumberDataPoint, ResourceMetrics, ScopeMetrics, Sum,
};
use switchyard_pdata::proto::resource::v1::Resource;
use switchyard_pdata::value::as_string;

use crate::ottl::OttlErrorReporter;

/// The instrumentation scope of every metric the connector emits (upstream's `ScopeName`).
pub const SCOPE_NAME: &str = "github.com/open-telemetry/opentelemetry-collector-contrib/connector/countconnector";

/// One configured metric, ready to count with.
pub(crate) struct MetricDef {
    pub name: String,
    pub description: String,
    /// Attribute keys to count by, with the value used when an item lacks one.
    pub attributes: Vec<(String, Option<AnyValue>)>,
    /// OR-ed; empty = every item.
    pub conditions: Vec<CompiledCondition>,
}

/// Whether counting these metrics needs OTTL (and so a mutable request to build contexts on).
pub(crate) fn has_conditions(defs: &[MetricDef]) -> bool {
    defs.iter().any(|d| !d.conditions.is_empty())
}

/// The value counted under: integers and doubles keep their type, everything else is text
/// (upstream keeps strings and writes other kinds with `Str()`, which is empty for them;
/// the readable form is used here).
fn count_value(v: &AnyValue) -> AnyValue {
    match &v.value {
        Some(any_value::Value::IntValue(_) | any_value::Value::DoubleValue(_) | any_value::Value::StringValue(_)) => {
            v.clone()
        }
        _ => AnyValue { value: Some(any_value::Value::StringValue(as_string(v).into_owned())) },
    }
}

impl MetricDef {
    /// The attribute set an item is counted under, each key looked up on the item, then its
    /// scope, then its resource, then the default; `None` when one is missing with no default.
    fn resolve(&self, layers: [&[KeyValue]; 3]) -> Option<Vec<KeyValue>> {
        self.attributes
            .iter()
            .map(|(key, default)| {
                let value =
                    layers.iter().find_map(|l| attrs::get(l, key)).map(count_value).or_else(|| default.clone())?;
                Some(KeyValue { key: key.clone(), value: Some(value), ..Default::default() })
            })
            .collect()
    }

    /// Whether one of the conditions holds; a failing condition counts as false and is
    /// reported (upstream's `error_mode: ignore`), and the next one is tried.
    fn matches(&self, cx: &EvalContext<'_>, reporter: &OttlErrorReporter) -> bool {
        self.conditions.iter().any(|c| {
            c.eval(cx).unwrap_or_else(|e| {
                reporter.report(&e, c.text());
                false
            })
        })
    }
}

/// A map key for an attribute set: each value with its type and length, so that distinct
/// sets never collide (`"1"` and `1` are different data points, as upstream's hash makes them).
fn set_key(set: &[KeyValue]) -> String {
    let mut key = String::new();
    for kv in set {
        let (tag, text) = match kv.value.as_ref().and_then(|v| v.value.as_ref()) {
            Some(any_value::Value::IntValue(i)) => ('i', i.to_string()),
            Some(any_value::Value::DoubleValue(d)) => ('d', d.to_bits().to_string()),
            Some(any_value::Value::StringValue(s)) => ('s', s.clone()),
            _ => ('-', String::new()),
        };
        key.push(tag);
        key.push_str(&text.len().to_string());
        key.push(':');
        key.push_str(&text);
    }
    key
}

/// The attribute sets one item is counted under, per metric (`None`: not counted, an
/// attribute is missing). Resolved before the OTTL context is built, because the context
/// borrows the item mutably.
pub(crate) struct Resolved(Vec<Option<Vec<KeyValue>>>);

/// The counts of one kind of item under one resource.
pub(crate) struct Counter<'d> {
    defs: &'d [MetricDef],
    /// Per metric: attribute-set key → (the set, its count), in first-seen order.
    counts: Vec<IndexMap<String, (Vec<KeyValue>, u64)>>,
    /// Earliest and latest non-zero item timestamp (the points' start time and time).
    start: u64,
    end: u64,
}

impl<'d> Counter<'d> {
    pub fn new(defs: &'d [MetricDef]) -> Self {
        Counter { defs, counts: defs.iter().map(|_| IndexMap::new()).collect(), start: 0, end: 0 }
    }

    /// Widens the time range to `t` (zero = unset, ignored). Called for every item, counted
    /// or not, as upstream does.
    pub fn observe_time(&mut self, t: u64) {
        if t == 0 {
            return;
        }
        if self.start == 0 || t < self.start {
            self.start = t;
        }
        self.end = self.end.max(t);
    }

    /// Looks up the item's attribute sets: `layers` are the item's, its scope's and its
    /// resource's attributes.
    pub fn resolve(&self, layers: [&[KeyValue]; 3]) -> Resolved {
        Resolved(self.defs.iter().map(|d| d.resolve(layers)).collect())
    }

    /// Counts the item for every metric whose attributes it has and one of whose conditions
    /// holds on `cx`. `cx` is `None` only when no metric has conditions.
    pub fn record(&mut self, resolved: Resolved, cx: Option<&EvalContext<'_>>, reporter: &OttlErrorReporter) {
        for ((def, counts), set) in self.defs.iter().zip(&mut self.counts).zip(resolved.0) {
            let Some(set) = set else { continue };
            let counted = def.conditions.is_empty() || cx.is_some_and(|cx| def.matches(cx, reporter));
            if !counted {
                continue;
            }
            match counts.entry(set_key(&set)) {
                Entry::Occupied(o) => o.into_mut().1 += 1,
                Entry::Vacant(v) => {
                    v.insert((set, 1));
                }
            }
        }
    }

    fn is_empty(&self) -> bool {
        self.counts.iter().all(IndexMap::is_empty)
    }

    /// The metrics, one per configured metric that counted something.
    fn into_metrics(self, out: &mut Vec<Metric>) {
        let (start, end) = if self.start != 0 {
            (self.start, self.end)
        } else {
            // No item had a timestamp: the time of counting, as upstream.
            let now = SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_nanos() as u64);
            (now, now)
        };
        for (def, counts) in self.defs.iter().zip(self.counts) {
            if counts.is_empty() {
                continue;
            }
            let data_points = counts
                .into_values()
                .map(|(attributes, n)| NumberDataPoint {
                    attributes,
                    start_time_unix_nano: start,
                    time_unix_nano: end,
                    value: Some(number_data_point::Value::AsInt(i64::try_from(n).unwrap_or(i64::MAX))),
                    ..Default::default()
                })
                .collect();
            out.push(Metric {
                name: def.name.clone(),
                description: def.description.clone(),
                data: Some(Data::Sum(Sum {
                    data_points,
                    aggregation_temporality: AggregationTemporality::Delta as i32,
                    // A delta count is never negative, so what is summed downstream only grows.
                    is_monotonic: true,
                })),
                ..Default::default()
            });
        }
    }
}

/// The counts of one input resource as one output resource (its attributes copied, one
/// scope); `None` when nothing was counted, as upstream adds no empty resource.
pub(crate) fn resource_metrics(
    resource_attributes: &[KeyValue],
    counters: Vec<Counter<'_>>,
) -> Option<ResourceMetrics> {
    if counters.iter().all(Counter::is_empty) {
        return None;
    }
    let mut metrics = Vec::new();
    for c in counters {
        c.into_metrics(&mut metrics);
    }
    Some(ResourceMetrics {
        resource: Some(Resource { attributes: resource_attributes.to_vec(), ..Default::default() }),
        scope_metrics: vec![ScopeMetrics {
            scope: Some(InstrumentationScope { name: SCOPE_NAME.to_string(), ..Default::default() }),
            metrics,
            ..Default::default()
        }],
        ..Default::default()
    })
}
