//! Walks, `retain` and grouping for metrics: metrics (OTTL `metric` context) and data
//! points of every kind (`datapoint`), each with its resource and scope.

use std::convert::Infallible;
use std::hash::Hash;

use crate::proto::collector::metrics::v1::ExportMetricsServiceRequest;
use crate::proto::common::v1::InstrumentationScope;
use crate::proto::common::v1::KeyValue;
use crate::proto::metrics::v1::metric::Data;
use crate::proto::metrics::v1::{
    ExponentialHistogram, ExponentialHistogramDataPoint, Gauge, Histogram, HistogramDataPoint, Metric, NumberDataPoint,
    ResourceMetrics, Sum, Summary, SummaryDataPoint,
};

use super::tree;
use super::{ResourceMut, ResourceRef, ScopeMut, ScopeRef};
use crate::proto::resource::v1::Resource;

/// The kind of a metric: which `data` it holds (OTTL's `metric.type`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum MetricKind {
    /// Number points, no aggregation.
    Gauge,
    /// Number points with temporality and monotonicity.
    Sum,
    /// Explicit-bucket histogram points.
    Histogram,
    /// Exponential histogram points.
    ExponentialHistogram,
    /// Summary (quantile) points.
    Summary,
}

impl MetricKind {
    /// The kind of `metric`; `None` for a metric without data (pdata's `MetricTypeEmpty`).
    pub fn of(metric: &Metric) -> Option<MetricKind> {
        Some(match metric.data.as_ref()? {
            Data::Gauge(_) => MetricKind::Gauge,
            Data::Sum(_) => MetricKind::Sum,
            Data::Histogram(_) => MetricKind::Histogram,
            Data::ExponentialHistogram(_) => MetricKind::ExponentialHistogram,
            Data::Summary(_) => MetricKind::Summary,
        })
    }
}

/// A metric with its resource and scope, all mutable: what a closure over metrics receives.
#[derive(Debug)]
pub struct MetricContext<'a> {
    /// The enclosing resource.
    pub resource: ResourceMut<'a>,
    /// The enclosing instrumentation scope.
    pub scope: ScopeMut<'a>,
    /// The metric, its points included.
    pub metric: &'a mut Metric,
}

/// A metric with its resource and scope, read-only.
#[derive(Clone, Copy, Debug)]
pub struct MetricRef<'a> {
    /// The enclosing resource.
    pub resource: ResourceRef<'a>,
    /// The enclosing instrumentation scope.
    pub scope: ScopeRef<'a>,
    /// The metric.
    pub metric: &'a Metric,
}

/// One data point, mutable, of whichever kind its metric holds (gauges and sums hold
/// number points).
#[derive(Debug)]
pub enum DataPointMut<'a> {
    /// A gauge or sum point.
    Number(&'a mut NumberDataPoint),
    /// A histogram point.
    Histogram(&'a mut HistogramDataPoint),
    /// An exponential histogram point.
    ExponentialHistogram(&'a mut ExponentialHistogramDataPoint),
    /// A summary point.
    Summary(&'a mut SummaryDataPoint),
}

/// One data point, read-only.
#[derive(Clone, Copy, Debug)]
pub enum DataPointRef<'a> {
    /// A gauge or sum point.
    Number(&'a NumberDataPoint),
    /// A histogram point.
    Histogram(&'a HistogramDataPoint),
    /// An exponential histogram point.
    ExponentialHistogram(&'a ExponentialHistogramDataPoint),
    /// A summary point.
    Summary(&'a SummaryDataPoint),
}

macro_rules! point_fields {
    ($self:ident, $p:ident => $e:expr) => {
        match $self {
            Self::Number($p) => $e,
            Self::Histogram($p) => $e,
            Self::ExponentialHistogram($p) => $e,
            Self::Summary($p) => $e,
        }
    };
}

impl DataPointMut<'_> {
    /// The point's attributes (the fields every kind has are reachable without a match).
    pub fn attributes(&self) -> &[KeyValue] {
        point_fields!(self, p => &p.attributes)
    }

    /// The point's attributes, for writing.
    pub fn attributes_mut(&mut self) -> &mut Vec<KeyValue> {
        point_fields!(self, p => &mut p.attributes)
    }

    /// The point's time.
    pub fn time_unix_nano(&self) -> u64 {
        point_fields!(self, p => p.time_unix_nano)
    }

    /// The point's start time.
    pub fn start_time_unix_nano(&self) -> u64 {
        point_fields!(self, p => p.start_time_unix_nano)
    }

    /// The point's flags (`NO_RECORDED_VALUE`).
    pub fn flags(&self) -> u32 {
        point_fields!(self, p => p.flags)
    }

    /// A read-only view.
    pub fn as_ref(&self) -> DataPointRef<'_> {
        match self {
            Self::Number(p) => DataPointRef::Number(p),
            Self::Histogram(p) => DataPointRef::Histogram(p),
            Self::ExponentialHistogram(p) => DataPointRef::ExponentialHistogram(p),
            Self::Summary(p) => DataPointRef::Summary(p),
        }
    }
}

impl<'a> DataPointRef<'a> {
    /// The point's attributes.
    pub fn attributes(&self) -> &'a [KeyValue] {
        point_fields!(self, p => &p.attributes)
    }

    /// The point's time.
    pub fn time_unix_nano(&self) -> u64 {
        point_fields!(self, p => p.time_unix_nano)
    }
}

/// The metric around a data point while its points are walked: every field but the point
/// list, so the point and its metric can be mutable at once.
#[derive(Debug)]
pub struct MetricInfoMut<'a> {
    /// `Metric.name`.
    pub name: &'a mut String,
    /// `Metric.description`.
    pub description: &'a mut String,
    /// `Metric.unit`.
    pub unit: &'a mut String,
    /// `Metric.metadata`.
    pub metadata: &'a mut Vec<KeyValue>,
    /// Which data the metric holds (not changeable here: convert kinds in a metric walk).
    pub kind: MetricKind,
    /// For sums and (exponential) histograms.
    pub aggregation_temporality: Option<&'a mut i32>,
    /// For sums.
    pub is_monotonic: Option<&'a mut bool>,
}

/// A data point with its metric, resource and scope, all mutable: what a closure over data
/// points receives.
#[derive(Debug)]
pub struct DataPointContext<'a> {
    /// The enclosing resource.
    pub resource: ResourceMut<'a>,
    /// The enclosing instrumentation scope.
    pub scope: ScopeMut<'a>,
    /// The enclosing metric, without its points.
    pub metric: MetricInfoMut<'a>,
    /// The point.
    pub point: DataPointMut<'a>,
}

/// A data point with its metric, resource and scope, read-only.
#[derive(Clone, Copy, Debug)]
pub struct DataPointView<'a> {
    /// The enclosing resource.
    pub resource: ResourceRef<'a>,
    /// The enclosing instrumentation scope.
    pub scope: ScopeRef<'a>,
    /// The enclosing metric (its points included).
    pub metric: &'a Metric,
    /// The point.
    pub point: DataPointRef<'a>,
}

/// Every metric in order, with its resource and scope.
pub fn metrics(req: &ExportMetricsServiceRequest) -> impl Iterator<Item = MetricRef<'_>> {
    tree::items(&req.resource_metrics).map(|(resource, scope, metric)| MetricRef { resource, scope, metric })
}

/// Every data point in order, with its metric, resource and scope.
pub fn data_points(req: &ExportMetricsServiceRequest) -> impl Iterator<Item = DataPointView<'_>> {
    metrics(req).flat_map(|m| {
        points_of(m.metric).map(move |point| DataPointView {
            resource: m.resource,
            scope: m.scope,
            metric: m.metric,
            point,
        })
    })
}

/// The points of one metric as one iterator type, whatever the kind.
pub fn points_of(metric: &Metric) -> impl Iterator<Item = DataPointRef<'_>> {
    let (mut n, mut h, mut e, mut s): (&[_], &[_], &[_], &[_]) = (&[], &[], &[], &[]);
    match &metric.data {
        Some(Data::Gauge(g)) => n = &g.data_points,
        Some(Data::Sum(x)) => n = &x.data_points,
        Some(Data::Histogram(x)) => h = &x.data_points,
        Some(Data::ExponentialHistogram(x)) => e = &x.data_points,
        Some(Data::Summary(x)) => s = &x.data_points,
        None => {}
    }
    n.iter()
        .map(DataPointRef::Number)
        .chain(h.iter().map(DataPointRef::Histogram))
        .chain(e.iter().map(DataPointRef::ExponentialHistogram))
        .chain(s.iter().map(DataPointRef::Summary))
}

/// Calls `f` on every metric in order.
pub fn for_each_metric_mut(req: &mut ExportMetricsServiceRequest, mut f: impl FnMut(MetricContext<'_>)) {
    let Ok(()) = try_for_each_metric_mut(req, |cx| {
        f(cx);
        Ok::<(), Infallible>(())
    });
}

/// Calls `f` on every metric in order, stopping at (and returning) its first error.
pub fn try_for_each_metric_mut<E>(
    req: &mut ExportMetricsServiceRequest,
    mut f: impl FnMut(MetricContext<'_>) -> Result<(), E>,
) -> Result<(), E> {
    tree::try_walk(&mut req.resource_metrics, |resource, scope, metric| f(MetricContext { resource, scope, metric }))
}

/// Calls `f` on every data point in order.
pub fn for_each_data_point_mut(req: &mut ExportMetricsServiceRequest, mut f: impl FnMut(DataPointContext<'_>)) {
    let Ok(()) = try_for_each_data_point_mut(req, |cx| {
        f(cx);
        Ok::<(), Infallible>(())
    });
}

/// Calls `f` on every data point in order, stopping at (and returning) its first error.
pub fn try_for_each_data_point_mut<E>(
    req: &mut ExportMetricsServiceRequest,
    mut f: impl FnMut(DataPointContext<'_>) -> Result<(), E>,
) -> Result<(), E> {
    tree::try_walk(&mut req.resource_metrics, |mut resource, mut scope, metric| {
        // One traversal for walking and retaining: keep every point, and once `f` has
        // failed, stop calling it.
        let mut failed = None;
        retain_points(metric, |metric, point| {
            if failed.is_none() {
                let cx = DataPointContext { resource: resource.reborrow(), scope: scope.reborrow(), metric, point };
                failed = f(cx).err();
            }
            true
        });
        failed.map_or(Ok(()), Err)
    })
}

/// Calls `f` on every metric in order, with a list `f` may push new metrics to. They are
/// appended to the end of the metric's scope as soon as `f` returns, and are visited in turn:
/// the transform processor loops over a scope's metric slice while its functions
/// (`copy_metric`, `convert_summary_*_to_sum`) append to it. Stops at the first error.
pub fn try_for_each_metric_appending<E>(
    req: &mut ExportMetricsServiceRequest,
    mut f: impl FnMut(MetricContext<'_>, &mut Vec<Metric>) -> Result<(), E>,
) -> Result<(), E> {
    let mut added = Vec::new();
    for rm in &mut req.resource_metrics {
        for sm in &mut rm.scope_metrics {
            let mut k = 0;
            while k < sm.metrics.len() {
                let cx = MetricContext {
                    resource: ResourceMut::new(&mut rm.resource, &mut rm.schema_url),
                    scope: ScopeMut::new(&mut sm.scope, &mut sm.schema_url),
                    metric: &mut sm.metrics[k],
                };
                let result = f(cx, &mut added);
                sm.metrics.append(&mut added);
                result?;
                k += 1;
            }
        }
    }
    Ok(())
}

/// Calls `f` on every point of one metric (with that metric's resource and scope), stopping
/// at its first error: the data point walk of a caller that also needs the whole metric
/// after its points (see [`try_for_each_metric_appending`]).
pub fn try_for_each_point_of_metric_mut<E>(
    mut resource: ResourceMut<'_>,
    mut scope: ScopeMut<'_>,
    metric: &mut Metric,
    mut f: impl FnMut(DataPointContext<'_>) -> Result<(), E>,
) -> Result<(), E> {
    let mut failed = None;
    retain_points(metric, |metric, point| {
        if failed.is_none() {
            let cx = DataPointContext { resource: resource.reborrow(), scope: scope.reborrow(), metric, point };
            failed = f(cx).err();
        }
        true
    });
    failed.map_or(Ok(()), Err)
}

/// Keeps the metrics `keep` returns true for and prunes scopes and resources left empty.
/// Returns how many data points went with the removed metrics (the unit the Collector
/// counts metrics in).
pub fn retain_metrics(req: &mut ExportMetricsServiceRequest, mut keep: impl FnMut(MetricContext<'_>) -> bool) -> usize {
    let mut removed = 0;
    tree::retain(&mut req.resource_metrics, |resource, scope, metric| {
        let points = crate::split::metric_points(metric);
        let kept = keep(MetricContext { resource, scope, metric });
        if !kept {
            removed += points;
        }
        kept
    });
    removed
}

/// Keeps the data points `keep` returns true for, then prunes metrics left without points
/// (a metric without data stays, as in the Collector's filter processor), scopes and
/// resources left empty. Returns how many points were removed.
pub fn retain_data_points(
    req: &mut ExportMetricsServiceRequest,
    mut keep: impl FnMut(DataPointContext<'_>) -> bool,
) -> usize {
    let mut removed = 0;
    tree::retain(&mut req.resource_metrics, |mut resource, mut scope, metric| {
        removed += retain_points(metric, |metric, point| {
            keep(DataPointContext { resource: resource.reborrow(), scope: scope.reborrow(), metric, point })
        });
        metric.data.is_none() || crate::split::metric_points(metric) > 0
    });
    removed
}

/// One request per `key(resource)`, in the order keys first appear; each
/// `ResourceMetrics` moves whole into its group.
pub fn split_metrics_by_resource<K: Hash + Eq>(
    req: ExportMetricsServiceRequest,
    key: impl FnMut(&ResourceMetrics) -> K,
) -> Vec<(K, ExportMetricsServiceRequest)> {
    tree::group_resources(req.resource_metrics, key)
        .into_iter()
        .map(|(k, resource_metrics)| (k, ExportMetricsServiceRequest { resource_metrics }))
        .collect()
}

/// Keeps the points of `metric` that `keep` accepts, handing it the rest of the metric
/// alongside each point. Returns how many points were removed.
fn retain_points(metric: &mut Metric, mut keep: impl FnMut(MetricInfoMut<'_>, DataPointMut<'_>) -> bool) -> usize {
    let Metric { name, description, unit, metadata, data } = metric;
    let Some(data) = data else { return 0 };
    macro_rules! run {
        ($points:expr, $kind:ident, $variant:ident, $temporality:expr, $monotonic:expr) => {{
            let before = $points.len();
            $points.retain_mut(|p| {
                let info = MetricInfoMut {
                    name: &mut *name,
                    description: &mut *description,
                    unit: &mut *unit,
                    metadata: &mut *metadata,
                    kind: MetricKind::$kind,
                    aggregation_temporality: $temporality,
                    is_monotonic: $monotonic,
                };
                keep(info, DataPointMut::$variant(p))
            });
            before - $points.len()
        }};
    }
    match data {
        Data::Gauge(g) => run!(g.data_points, Gauge, Number, None, None),
        Data::Sum(Sum { data_points, aggregation_temporality, is_monotonic }) => {
            run!(data_points, Sum, Number, Some(&mut *aggregation_temporality), Some(&mut *is_monotonic))
        }
        Data::Histogram(Histogram { data_points, aggregation_temporality }) => {
            run!(data_points, Histogram, Histogram, Some(&mut *aggregation_temporality), None)
        }
        Data::ExponentialHistogram(ExponentialHistogram { data_points, aggregation_temporality }) => {
            run!(data_points, ExponentialHistogram, ExponentialHistogram, Some(&mut *aggregation_temporality), None)
        }
        Data::Summary(s) => run!(s.data_points, Summary, Summary, None, None),
    }
}

/// `n` requests: metric `m` (with all its points) of resource `r` goes to request
/// `key(r, m)` (an index below `n`). Metrics move; envelopes are copied once per request
/// they end up in.
pub fn partition_metrics(
    req: ExportMetricsServiceRequest,
    n: usize,
    key: impl FnMut(Option<&Resource>, &Metric) -> usize,
) -> Vec<ExportMetricsServiceRequest> {
    tree::partition_items(req.resource_metrics, n, key)
        .into_iter()
        .map(|resource_metrics| ExportMetricsServiceRequest { resource_metrics })
        .collect()
}

/// `n` requests: each `ResourceMetrics` moves whole into request `key(it)` (an index below `n`).
pub fn partition_metrics_by_resource(
    req: ExportMetricsServiceRequest,
    n: usize,
    key: impl FnMut(&ResourceMetrics) -> usize,
) -> Vec<ExportMetricsServiceRequest> {
    tree::partition_resources(req.resource_metrics, n, key)
        .into_iter()
        .map(|resource_metrics| ExportMetricsServiceRequest { resource_metrics })
        .collect()
}

/// `n` requests: each data point goes to request `point_key(&m, point)`, where `m` is
/// `metric_key(resource, scope, metric)`, computed once per metric (the part of a stream's
/// identity its points share). A metric whose points all go to one request moves whole;
/// one whose points differ is cut into one metric per request, each with a copy of the
/// metric's name, description, unit, metadata, temporality and monotonicity. A metric
/// without points goes to request 0.
pub fn partition_data_points<M>(
    mut req: ExportMetricsServiceRequest,
    n: usize,
    mut metric_key: impl FnMut(Option<&Resource>, Option<&InstrumentationScope>, &Metric) -> M,
    mut point_key: impl FnMut(&M, DataPointRef<'_>) -> usize,
) -> Vec<ExportMetricsServiceRequest> {
    let n = n.max(1);
    // The request of every metric, in the order `partition_items` visits them.
    let mut owners = Vec::new();
    let mut of = Vec::new();
    for rm in &mut req.resource_metrics {
        let ResourceMetrics { resource, scope_metrics, .. } = rm;
        for sm in scope_metrics {
            for metric in std::mem::take(&mut sm.metrics) {
                let m = metric_key(resource.as_ref(), sm.scope.as_ref(), &metric);
                of.clear();
                of.extend(points_of(&metric).map(|p| point_key(&m, p).min(n - 1)));
                let first = of.first().copied().unwrap_or(0);
                if of.iter().all(|&o| o == first) {
                    owners.push(first);
                    sm.metrics.push(metric);
                } else {
                    for (owner, part) in cut_by_owner(metric, &of) {
                        owners.push(owner);
                        sm.metrics.push(part);
                    }
                }
            }
        }
    }
    let mut owners = owners.into_iter();
    tree::partition_items(req.resource_metrics, n, |_, _: &Metric| owners.next().unwrap_or(0))
        .into_iter()
        .map(|resource_metrics| ExportMetricsServiceRequest { resource_metrics })
        .collect()
}

/// `points` grouped by their owner (`of`, in the same order), groups in first-seen order.
fn group_points<P>(points: Vec<P>, of: &[usize]) -> Vec<(usize, Vec<P>)> {
    let mut groups: Vec<(usize, Vec<P>)> = Vec::new();
    for (p, &o) in points.into_iter().zip(of) {
        match groups.iter_mut().find(|(k, _)| *k == o) {
            Some((_, g)) => g.push(p),
            None => groups.push((o, vec![p])),
        }
    }
    groups
}

/// One metric per owner of its points; the envelope is copied into each.
fn cut_by_owner(metric: Metric, of: &[usize]) -> Vec<(usize, Metric)> {
    let Metric { name, description, unit, metadata, data } = metric;
    let parts: Vec<(usize, Data)> = match data {
        None => Vec::new(),
        Some(Data::Gauge(g)) => group_points(g.data_points, of)
            .into_iter()
            .map(|(o, data_points)| (o, Data::Gauge(Gauge { data_points })))
            .collect(),
        Some(Data::Sum(s)) => group_points(s.data_points, of)
            .into_iter()
            .map(|(o, data_points)| {
                (
                    o,
                    Data::Sum(Sum {
                        data_points,
                        aggregation_temporality: s.aggregation_temporality,
                        is_monotonic: s.is_monotonic,
                    }),
                )
            })
            .collect(),
        Some(Data::Histogram(h)) => group_points(h.data_points, of)
            .into_iter()
            .map(|(o, data_points)| {
                (o, Data::Histogram(Histogram { data_points, aggregation_temporality: h.aggregation_temporality }))
            })
            .collect(),
        Some(Data::ExponentialHistogram(h)) => group_points(h.data_points, of)
            .into_iter()
            .map(|(o, data_points)| {
                let aggregation_temporality = h.aggregation_temporality;
                (o, Data::ExponentialHistogram(ExponentialHistogram { data_points, aggregation_temporality }))
            })
            .collect(),
        Some(Data::Summary(s)) => group_points(s.data_points, of)
            .into_iter()
            .map(|(o, data_points)| (o, Data::Summary(Summary { data_points })))
            .collect(),
    };
    parts
        .into_iter()
        .map(|(o, data)| {
            let envelope = Metric {
                name: name.clone(),
                description: description.clone(),
                unit: unit.clone(),
                metadata: metadata.clone(),
                data: Some(data),
            };
            (o, envelope)
        })
        .collect()
}
