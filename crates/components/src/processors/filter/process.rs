//! Running the compiled plans over a request: each level from the top down (resource,
//! scope, item, sub-item), dropping what matches and pruning what is left empty. OTTL
//! and legacy matching are separate passes; each only removes, so their order does not
//! change the result.

use switchyard_ottl::eval::{ErrorMode, EvalContext};
use switchyard_pdata::proto::collector::logs::v1::ExportLogsServiceRequest;
use switchyard_pdata::proto::collector::metrics::v1::ExportMetricsServiceRequest;
use switchyard_pdata::proto::collector::trace::v1::ExportTraceServiceRequest;
use switchyard_pdata::proto::metrics::v1::metric::Data;
use switchyard_pdata::walk::{self, EnvelopeWalk};

use super::plan::{CondList, Plans};
use crate::ottl::OttlErrorReporter;

/// Evaluates condition lists, applying each condition's `error_mode`; remembers the first
/// `propagate` error, after which nothing more is dropped (the request fails anyway).
pub(crate) struct Evaluator<'r> {
    reporter: &'r OttlErrorReporter,
    failed: Option<String>,
}

impl<'r> Evaluator<'r> {
    pub(crate) fn new(reporter: &'r OttlErrorReporter) -> Self {
        Evaluator { reporter, failed: None }
    }

    /// Whether any condition holds. A failing condition counts as false (`ignore` reports
    /// it, `silent` does not); under `propagate` it stops the request.
    fn any(&mut self, list: &CondList, cx: &EvalContext<'_>) -> bool {
        if self.failed.is_some() {
            return false;
        }
        for c in &list.0 {
            match c.cond.eval(cx) {
                Ok(true) => return true,
                Ok(false) => {}
                Err(e) => match c.mode {
                    ErrorMode::Ignore => self.reporter.report(&e, c.cond.text()),
                    ErrorMode::Silent => {}
                    ErrorMode::Propagate => {
                        self.failed = Some(format!("failed to eval condition: {}, {e}", c.cond.text()));
                        return false;
                    }
                },
            }
        }
        false
    }

    /// The `propagate` error, if one happened.
    pub(crate) fn finish(self) -> Result<(), String> {
        self.failed.map_or(Ok(()), Err)
    }
}

impl Plans {
    /// Whether the processor does anything to traces.
    pub(crate) fn filters_traces(&self) -> bool {
        !self.traces.is_empty() || self.spans_legacy.is_some()
    }

    /// Whether the processor does anything to metrics.
    pub(crate) fn filters_metrics(&self) -> bool {
        !self.metrics.is_empty() || self.metrics_legacy.is_some()
    }

    /// Whether the processor does anything to logs.
    pub(crate) fn filters_logs(&self) -> bool {
        !self.logs.is_empty() || self.logs_legacy.is_some()
    }

    /// Drops resources, scopes, spans and span events.
    pub(crate) fn filter_traces(&self, req: &mut ExportTraceServiceRequest, ev: &mut Evaluator<'_>) {
        let p = &self.traces;
        if !p.resource.is_empty() {
            req.retain_resources(|r| !ev.any(&p.resource, &EvalContext::resource(r)));
        }
        if !p.scope.is_empty() {
            req.retain_scopes(|r, s| !ev.any(&p.scope, &EvalContext::scope(r, s)));
        }
        if !p.item.is_empty() {
            walk::retain_spans(req, |cx| !ev.any(&p.item, &EvalContext::span(cx)));
        }
        if let Some(legacy) = &self.spans_legacy {
            walk::retain_spans(req, |cx| !legacy.skip(cx.resource.attributes(), cx.scope.get(), cx.span));
        }
        if !p.sub.is_empty() {
            // `event_index`: the walk lends one span's events in order, so count per span.
            let mut last: (*const (), i64) = (std::ptr::null(), 0);
            walk::retain_span_events(req, |cx| {
                let span = (cx.span as *const _) as *const ();
                last = if last.0 == span { (span, last.1 + 1) } else { (span, 0) };
                !ev.any(&p.sub, &EvalContext::span_event(cx, last.1))
            });
        }
    }

    /// Drops resources, scopes, metrics and data points (a metric left without points goes).
    pub(crate) fn filter_metrics(&self, req: &mut ExportMetricsServiceRequest, ev: &mut Evaluator<'_>) {
        let p = &self.metrics;
        if !p.resource.is_empty() {
            req.retain_resources(|r| !ev.any(&p.resource, &EvalContext::resource(r)));
        }
        if !p.scope.is_empty() {
            req.retain_scopes(|r, s| !ev.any(&p.scope, &EvalContext::scope(r, s)));
        }
        if !p.item.is_empty() {
            walk::retain_metrics(req, |cx| !ev.any(&p.item, &EvalContext::metric(cx)));
        }
        if !p.sub.is_empty() {
            walk::retain_data_points(req, |cx| !ev.any(&p.sub, &EvalContext::data_point(cx)));
        }
        if let Some(legacy) = &self.metrics_legacy {
            if legacy.checks_resources() {
                req.retain_resources(|r| !legacy.skip_resource(r.attributes()));
            }
            if legacy.checks_names() {
                walk::retain_metrics(req, |cx| !legacy.skip_metric(&cx.metric.name));
            }
        }
    }

    /// Drops resources, scopes and log records.
    pub(crate) fn filter_logs(&self, req: &mut ExportLogsServiceRequest, ev: &mut Evaluator<'_>) {
        let p = &self.logs;
        if !p.resource.is_empty() {
            req.retain_resources(|r| !ev.any(&p.resource, &EvalContext::resource(r)));
        }
        if !p.scope.is_empty() {
            req.retain_scopes(|r, s| !ev.any(&p.scope, &EvalContext::scope(r, s)));
        }
        if !p.item.is_empty() {
            walk::retain_log_records(req, |cx| !ev.any(&p.item, &EvalContext::log(cx)));
        }
        if let Some(legacy) = &self.logs_legacy {
            walk::retain_log_records(req, |cx| !legacy.skip(cx.resource.attributes(), cx.scope.get(), cx.log));
        }
    }
}

/// Spans in a request.
pub(crate) fn count_spans(req: &ExportTraceServiceRequest) -> usize {
    req.resource_spans.iter().flat_map(|r| &r.scope_spans).map(|s| s.spans.len()).sum()
}

/// Log records in a request.
pub(crate) fn count_log_records(req: &ExportLogsServiceRequest) -> usize {
    req.resource_logs.iter().flat_map(|r| &r.scope_logs).map(|s| s.log_records.len()).sum()
}

/// Data points in a request.
pub(crate) fn count_data_points(req: &ExportMetricsServiceRequest) -> usize {
    req.resource_metrics
        .iter()
        .flat_map(|r| &r.scope_metrics)
        .flat_map(|s| &s.metrics)
        .map(|m| match &m.data {
            Some(Data::Gauge(g)) => g.data_points.len(),
            Some(Data::Sum(s)) => s.data_points.len(),
            Some(Data::Histogram(h)) => h.data_points.len(),
            Some(Data::ExponentialHistogram(e)) => e.data_points.len(),
            Some(Data::Summary(s)) => s.data_points.len(),
            None => 0,
        })
        .sum()
}
