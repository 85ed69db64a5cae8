//! Counting and splitting OTLP requests by item, for batching.
//!
//! A request is a tree: resources hold scopes, scopes hold items (metrics hold data points).
//! Splitting takes whole subtrees from the front while they fit, then cuts the first one
//! that does not, copying only its envelope (resource, scope, metric descriptor).

use crate::proto::collector::logs::v1::ExportLogsServiceRequest;
use crate::proto::collector::metrics::v1::ExportMetricsServiceRequest;
use crate::proto::collector::profiles::v1development::ExportProfilesServiceRequest;
use crate::proto::collector::trace::v1::ExportTraceServiceRequest;
use crate::proto::logs::v1::{ResourceLogs, ScopeLogs};
use crate::proto::metrics::v1::{metric::Data, Metric, ResourceMetrics, ScopeMetrics};
use crate::proto::trace::v1::{ResourceSpans, ScopeSpans};

/// A level of the request tree that can give away its first `n` items.
trait Splittable: Sized {
    fn count(&self) -> usize;
    /// Removes the first `n` items (`0 < n < self.count()`) into a new node with the same envelope.
    fn split_front(&mut self, n: usize) -> Self;
}

/// Takes up to `max` items from the front of `nodes`.
fn take_front<T: Splittable>(nodes: &mut Vec<T>, max: usize) -> Vec<T> {
    let mut left = max;
    let mut whole = 0;
    for node in nodes.iter() {
        let c = node.count();
        if c > left {
            break;
        }
        left -= c;
        whole += 1;
    }
    let mut out: Vec<T> = nodes.drain(..whole).collect();
    if left > 0 {
        if let Some(first) = nodes.first_mut() {
            out.push(first.split_front(left));
        }
    }
    out
}

impl Splittable for ResourceSpans {
    fn count(&self) -> usize {
        self.scope_spans.iter().map(Splittable::count).sum()
    }
    fn split_front(&mut self, n: usize) -> Self {
        ResourceSpans {
            resource: self.resource.clone(),
            scope_spans: take_front(&mut self.scope_spans, n),
            schema_url: self.schema_url.clone(),
        }
    }
}

impl Splittable for ScopeSpans {
    fn count(&self) -> usize {
        self.spans.len()
    }
    fn split_front(&mut self, n: usize) -> Self {
        ScopeSpans {
            scope: self.scope.clone(),
            spans: self.spans.drain(..n).collect(),
            schema_url: self.schema_url.clone(),
        }
    }
}

impl Splittable for ResourceLogs {
    fn count(&self) -> usize {
        self.scope_logs.iter().map(Splittable::count).sum()
    }
    fn split_front(&mut self, n: usize) -> Self {
        ResourceLogs {
            resource: self.resource.clone(),
            scope_logs: take_front(&mut self.scope_logs, n),
            schema_url: self.schema_url.clone(),
        }
    }
}

impl Splittable for ScopeLogs {
    fn count(&self) -> usize {
        self.log_records.len()
    }
    fn split_front(&mut self, n: usize) -> Self {
        ScopeLogs {
            scope: self.scope.clone(),
            log_records: self.log_records.drain(..n).collect(),
            schema_url: self.schema_url.clone(),
        }
    }
}

impl Splittable for ResourceMetrics {
    fn count(&self) -> usize {
        self.scope_metrics.iter().map(Splittable::count).sum()
    }
    fn split_front(&mut self, n: usize) -> Self {
        ResourceMetrics {
            resource: self.resource.clone(),
            scope_metrics: take_front(&mut self.scope_metrics, n),
            schema_url: self.schema_url.clone(),
        }
    }
}

impl Splittable for ScopeMetrics {
    fn count(&self) -> usize {
        self.metrics.iter().map(Splittable::count).sum()
    }
    fn split_front(&mut self, n: usize) -> Self {
        ScopeMetrics {
            scope: self.scope.clone(),
            metrics: take_front(&mut self.metrics, n),
            schema_url: self.schema_url.clone(),
        }
    }
}

/// Data points of a metric. A metric without points counts 0, as in `item_count`; it
/// travels with the items before it (a batch of only such metrics is empty).
pub(crate) fn metric_points(m: &Metric) -> usize {
    match &m.data {
        Some(Data::Gauge(g)) => g.data_points.len(),
        Some(Data::Sum(s)) => s.data_points.len(),
        Some(Data::Histogram(h)) => h.data_points.len(),
        Some(Data::ExponentialHistogram(h)) => h.data_points.len(),
        Some(Data::Summary(s)) => s.data_points.len(),
        None => 0,
    }
}

impl Splittable for Metric {
    fn count(&self) -> usize {
        metric_points(self)
    }
    fn split_front(&mut self, n: usize) -> Self {
        let data = self.data.as_mut().map(|data| match data {
            Data::Gauge(g) => {
                Data::Gauge(crate::proto::metrics::v1::Gauge { data_points: g.data_points.drain(..n).collect() })
            }
            Data::Sum(s) => Data::Sum(crate::proto::metrics::v1::Sum {
                data_points: s.data_points.drain(..n).collect(),
                aggregation_temporality: s.aggregation_temporality,
                is_monotonic: s.is_monotonic,
            }),
            Data::Histogram(h) => Data::Histogram(crate::proto::metrics::v1::Histogram {
                data_points: h.data_points.drain(..n).collect(),
                aggregation_temporality: h.aggregation_temporality,
            }),
            Data::ExponentialHistogram(h) => {
                Data::ExponentialHistogram(crate::proto::metrics::v1::ExponentialHistogram {
                    data_points: h.data_points.drain(..n).collect(),
                    aggregation_temporality: h.aggregation_temporality,
                })
            }
            Data::Summary(s) => {
                Data::Summary(crate::proto::metrics::v1::Summary { data_points: s.data_points.drain(..n).collect() })
            }
        });
        Metric {
            name: self.name.clone(),
            description: self.description.clone(),
            unit: self.unit.clone(),
            metadata: self.metadata.clone(),
            data,
        }
    }
}

pub(crate) fn count_spans(req: &ExportTraceServiceRequest) -> usize {
    req.resource_spans.iter().map(Splittable::count).sum()
}

pub(crate) fn count_log_records(req: &ExportLogsServiceRequest) -> usize {
    req.resource_logs.iter().map(Splittable::count).sum()
}

/// Data points in the request (the unit of the Collector's metric counters).
pub(crate) fn count_points(req: &ExportMetricsServiceRequest) -> usize {
    req.resource_metrics.iter().flat_map(|rm| &rm.scope_metrics).flat_map(|sm| &sm.metrics).map(metric_points).sum()
}

pub(crate) fn count_profiles(req: &ExportProfilesServiceRequest) -> usize {
    req.resource_profiles
        .iter()
        .flat_map(|rp| &rp.scope_profiles)
        .flat_map(|sp| &sp.profiles)
        .map(|p| p.samples.len())
        .sum()
}

pub(crate) fn split_traces(req: &mut ExportTraceServiceRequest, max: usize) -> ExportTraceServiceRequest {
    ExportTraceServiceRequest { resource_spans: take_front(&mut req.resource_spans, max) }
}

pub(crate) fn split_logs(req: &mut ExportLogsServiceRequest, max: usize) -> ExportLogsServiceRequest {
    ExportLogsServiceRequest { resource_logs: take_front(&mut req.resource_logs, max) }
}

pub(crate) fn split_metrics(req: &mut ExportMetricsServiceRequest, max: usize) -> ExportMetricsServiceRequest {
    ExportMetricsServiceRequest { resource_metrics: take_front(&mut req.resource_metrics, max) }
}

#[cfg(test)]
pub(crate) mod tests;
