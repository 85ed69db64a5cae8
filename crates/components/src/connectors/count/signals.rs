//! Counting each input signal, resource by resource (one output resource per input
//! resource, as upstream): traces count spans and span events, metrics count metrics and
//! data points, logs count log records, profiles count profiles.
//!
//! Without conditions the request is only read, so a batch shared with other exporters is
//! not copied. OTTL contexts are built on mutable borrows (the same walks transform and
//! filter use), so when a metric has conditions the connector takes the request by value
//! (a copy only if it is shared) and walks one resource at a time.

use switchyard_ottl::eval::EvalContext;
use switchyard_pdata::proto::collector::logs::v1::ExportLogsServiceRequest;
use switchyard_pdata::proto::collector::metrics::v1::ExportMetricsServiceRequest;
use switchyard_pdata::proto::collector::profiles::v1development::ExportProfilesServiceRequest;
use switchyard_pdata::proto::collector::trace::v1::ExportTraceServiceRequest;
use switchyard_pdata::proto::common::v1::{any_value, AnyValue, InstrumentationScope, KeyValue};
use switchyard_pdata::proto::metrics::v1::ResourceMetrics;
use switchyard_pdata::proto::profiles::v1development::{Profile, ProfilesDictionary};
use switchyard_pdata::proto::resource::v1::Resource;
use switchyard_pdata::walk;
use switchyard_pdata::{Logs, Metrics, Profiles, SignalData, Traces};

use super::counter::{has_conditions, resource_metrics, Counter, MetricDef};
use crate::ottl::OttlErrorReporter;

/// The metrics one connector instance counts: of the signal's first kind of item (spans,
/// metrics, log records, profiles) and of its second (span events, data points; empty for
/// logs and profiles).
pub(crate) struct Counting {
    pub first: Vec<MetricDef>,
    pub second: Vec<MetricDef>,
    pub reporter: OttlErrorReporter,
}

impl Counting {
    fn needs_ottl(&self) -> bool {
        has_conditions(&self.first) || has_conditions(&self.second)
    }
}

/// A signal the count connector takes in.
pub(crate) trait Countable: SignalData {
    /// The counts of `data`, one output resource per input resource that counted something.
    fn count(data: Self, counting: &Counting) -> Vec<ResourceMetrics>;
}

fn resource_attrs(r: Option<&Resource>) -> &[KeyValue] {
    r.map_or(&[], |r| &r.attributes)
}

fn scope_attrs(s: Option<&InstrumentationScope>) -> &[KeyValue] {
    s.map_or(&[], |s| &s.attributes)
}

impl Countable for Traces {
    fn count(data: Traces, c: &Counting) -> Vec<ResourceMetrics> {
        let r = &c.reporter;
        if !c.needs_ottl() {
            return data
                .request()
                .resource_spans
                .iter()
                .filter_map(|rs| {
                    let res = resource_attrs(rs.resource.as_ref());
                    let (mut spans, mut events) = (Counter::new(&c.first), Counter::new(&c.second));
                    for ss in &rs.scope_spans {
                        let scope = scope_attrs(ss.scope.as_ref());
                        for span in &ss.spans {
                            spans.observe_time(span.start_time_unix_nano);
                            spans.observe_time(span.end_time_unix_nano);
                            spans.record(spans.resolve([&span.attributes, scope, res]), None, r);
                            for ev in &span.events {
                                events.observe_time(ev.time_unix_nano);
                                events.record(events.resolve([&ev.attributes, scope, res]), None, r);
                            }
                        }
                    }
                    resource_metrics(res, vec![spans, events])
                })
                .collect();
        }
        data.into_request()
            .resource_spans
            .into_iter()
            .filter_map(|rs| {
                let res = resource_attrs(rs.resource.as_ref()).to_vec();
                let mut one = ExportTraceServiceRequest { resource_spans: vec![rs] };
                let (mut spans, mut events) = (Counter::new(&c.first), Counter::new(&c.second));
                walk::for_each_span_mut(&mut one, |cx| {
                    spans.observe_time(cx.span.start_time_unix_nano);
                    spans.observe_time(cx.span.end_time_unix_nano);
                    let set = spans.resolve([&cx.span.attributes, cx.scope.attributes(), cx.resource.attributes()]);
                    spans.record(set, Some(&EvalContext::span(cx)), r);
                });
                // `event_index`: the walk lends one span's events in order, so count per span.
                let mut last: (*const (), i64) = (std::ptr::null(), 0);
                walk::for_each_span_event_mut(&mut one, |cx| {
                    let span = (cx.span as *const _) as *const ();
                    last = if last.0 == span { (span, last.1 + 1) } else { (span, 0) };
                    events.observe_time(cx.event.time_unix_nano);
                    let set = events.resolve([&cx.event.attributes, cx.scope.attributes(), cx.resource.attributes()]);
                    events.record(set, Some(&EvalContext::span_event(cx, last.1)), r);
                });
                resource_metrics(&res, vec![spans, events])
            })
            .collect()
    }
}

impl Countable for Metrics {
    fn count(data: Metrics, c: &Counting) -> Vec<ResourceMetrics> {
        let r = &c.reporter;
        if !c.needs_ottl() {
            return data
                .request()
                .resource_metrics
                .iter()
                .filter_map(|rm| {
                    let res = resource_attrs(rm.resource.as_ref());
                    let (mut metrics, mut points) = (Counter::new(&c.first), Counter::new(&c.second));
                    for sm in &rm.scope_metrics {
                        let scope = scope_attrs(sm.scope.as_ref());
                        for m in &sm.metrics {
                            // A metric has no attributes of its own (metrics attributes are refused).
                            metrics.record(metrics.resolve([&[], scope, res]), None, r);
                            for p in walk::points_of(m) {
                                points.observe_time(p.time_unix_nano());
                                points.record(points.resolve([p.attributes(), scope, res]), None, r);
                            }
                        }
                    }
                    resource_metrics(res, vec![metrics, points])
                })
                .collect();
        }
        data.into_request()
            .resource_metrics
            .into_iter()
            .filter_map(|rm| {
                let res = resource_attrs(rm.resource.as_ref()).to_vec();
                let mut one = ExportMetricsServiceRequest { resource_metrics: vec![rm] };
                let (mut metrics, mut points) = (Counter::new(&c.first), Counter::new(&c.second));
                walk::for_each_metric_mut(&mut one, |cx| {
                    let set = metrics.resolve([&[], cx.scope.attributes(), cx.resource.attributes()]);
                    metrics.record(set, Some(&EvalContext::metric(cx)), r);
                });
                walk::for_each_data_point_mut(&mut one, |cx| {
                    points.observe_time(cx.point.time_unix_nano());
                    let set = points.resolve([cx.point.attributes(), cx.scope.attributes(), cx.resource.attributes()]);
                    points.record(set, Some(&EvalContext::data_point(cx)), r);
                });
                resource_metrics(&res, vec![metrics, points])
            })
            .collect()
    }
}

impl Countable for Logs {
    fn count(data: Logs, c: &Counting) -> Vec<ResourceMetrics> {
        let r = &c.reporter;
        if !c.needs_ottl() {
            return data
                .request()
                .resource_logs
                .iter()
                .filter_map(|rl| {
                    let res = resource_attrs(rl.resource.as_ref());
                    let mut logs = Counter::new(&c.first);
                    for sl in &rl.scope_logs {
                        let scope = scope_attrs(sl.scope.as_ref());
                        for log in &sl.log_records {
                            logs.observe_time(log.time_unix_nano);
                            logs.record(logs.resolve([&log.attributes, scope, res]), None, r);
                        }
                    }
                    resource_metrics(res, vec![logs])
                })
                .collect();
        }
        data.into_request()
            .resource_logs
            .into_iter()
            .filter_map(|rl| {
                let res = resource_attrs(rl.resource.as_ref()).to_vec();
                let mut one = ExportLogsServiceRequest { resource_logs: vec![rl] };
                let mut logs = Counter::new(&c.first);
                walk::for_each_log_record_mut(&mut one, |cx| {
                    logs.observe_time(cx.log.time_unix_nano);
                    let set = logs.resolve([&cx.log.attributes, cx.scope.attributes(), cx.resource.attributes()]);
                    logs.record(set, Some(&EvalContext::log(cx)), r);
                });
                resource_metrics(&res, vec![logs])
            })
            .collect()
    }
}

/// A profile's attributes, read out of the request's dictionary (a profile holds indices
/// into its attribute table; string-table values are resolved to strings).
fn profile_attributes(p: &Profile, dict: Option<&ProfilesDictionary>) -> Vec<KeyValue> {
    let Some(dict) = dict else { return Vec::new() };
    let string = |i: i32| usize::try_from(i).ok().and_then(|i| dict.string_table.get(i)).cloned();
    p.attribute_indices
        .iter()
        .filter_map(|&i| dict.attribute_table.get(usize::try_from(i).ok()?))
        .filter_map(|a| {
            let value = match a.value.as_ref().and_then(|v| v.value.as_ref()) {
                Some(any_value::Value::StringValueStrindex(s)) => {
                    Some(AnyValue { value: Some(any_value::Value::StringValue(string(*s)?)) })
                }
                _ => a.value.clone(),
            };
            Some(KeyValue { key: string(a.key_strindex)?, value, ..Default::default() })
        })
        .collect()
}

impl Countable for Profiles {
    /// Profiles take no conditions (refused by the config), so they are only read.
    fn count(data: Profiles, c: &Counting) -> Vec<ResourceMetrics> {
        let req: &ExportProfilesServiceRequest = data.request();
        let dict = req.dictionary.as_ref();
        req.resource_profiles
            .iter()
            .filter_map(|rp| {
                let res = resource_attrs(rp.resource.as_ref());
                let mut profiles = Counter::new(&c.first);
                for sp in &rp.scope_profiles {
                    let scope = scope_attrs(sp.scope.as_ref());
                    for p in &sp.profiles {
                        profiles.observe_time(p.time_unix_nano);
                        let attributes = profile_attributes(p, dict);
                        profiles.record(profiles.resolve([&attributes, scope, res]), None, &c.reporter);
                    }
                }
                resource_metrics(res, vec![profiles])
            })
            .collect()
    }
}
