//! The routing consumer: tries the table's routes in order on what earlier routes left,
//! moves what each matches into that route's request, and hands the rest to the default
//! pipelines (or drops it, counted). First match wins, per item of the route's context.
//!
//! A table whose rows read only the request or the resource routes a batch still encoded
//! without decoding its items: the conditions run on the resource envelopes alone
//! (`SignalData::resource_skeleton`), and each pipeline gets its resources as the received
//! bytes. Any other row (span, log, metric, data point) needs the items: the batch is decoded.

use futures::future::BoxFuture;
use switchyard_core::consumer::{AnyConsumer, ConsumeError, Consumer, DynConsumer, RequestContext};
use switchyard_core::telemetry::{Counter, LogThrottle};
use switchyard_ottl::eval::{EvalContext, EvalError};
use switchyard_pdata::proto::collector::logs::v1::ExportLogsServiceRequest;
use switchyard_pdata::proto::collector::metrics::v1::ExportMetricsServiceRequest;
use switchyard_pdata::proto::collector::trace::v1::ExportTraceServiceRequest;
use switchyard_pdata::walk::{self, EnvelopeWalk};
use switchyard_pdata::{Logs, Metrics, SignalData, Traces};

use super::config::{RouteCheck, RouteContext};
use super::request::RequestCondition;
use super::split;
use crate::ottl::{ErrorModeConfig, OttlErrorReporter};

/// How a route decides.
pub(super) enum Check {
    /// By the client's metadata: the whole remaining request.
    Request(RequestCondition),
    /// By OTTL, per item of the route's context.
    Ottl(RouteCheck),
}

/// One table row, resolved: its check and the consumer of its pipelines.
pub(super) struct Route<S: SignalData> {
    pub context: RouteContext,
    pub check: Check,
    pub text: String,
    pub consumer: DynConsumer<S>,
}

/// A signal the routing connector handles: how to evaluate a route context over its
/// request, and how to move what matched.
pub(crate) trait Routable: SignalData {
    /// Runs `f` on every unit of `context` in walk order and collects the answers; stops at
    /// the first error. `None` when the context has no units in this signal (a `span` route
    /// in a logs pipeline): the route never matches there.
    fn eval(
        req: &mut Self::Request,
        context: RouteContext,
        f: &mut dyn FnMut(&mut EvalContext<'_>) -> Result<bool, EvalError>,
    ) -> Option<Result<Vec<bool>, EvalError>>;
    /// Moves the units whose mask bit is set into a new request.
    fn take(req: &mut Self::Request, context: RouteContext, mask: &[bool]) -> Self::Request;
    /// No resource left.
    fn is_empty(req: &Self::Request) -> bool;
    /// The consumer if it is of this signal.
    fn typed(c: &AnyConsumer) -> Option<DynConsumer<Self>>;
}

fn collect(
    mut walk: impl FnMut(&mut dyn FnMut(&mut EvalContext<'_>) -> Result<(), EvalError>) -> Result<(), EvalError>,
    f: &mut dyn FnMut(&mut EvalContext<'_>) -> Result<bool, EvalError>,
) -> Result<Vec<bool>, EvalError> {
    let mut mask = Vec::new();
    walk(&mut |cx| {
        mask.push(f(cx)?);
        Ok(())
    })?;
    Ok(mask)
}

fn eval_resources<R: EnvelopeWalk>(
    req: &mut R,
    f: &mut dyn FnMut(&mut EvalContext<'_>) -> Result<bool, EvalError>,
) -> Result<Vec<bool>, EvalError> {
    collect(|g| req.try_for_each_resource_mut(|r| g(&mut EvalContext::resource(r))), f)
}

impl Routable for Traces {
    fn eval(
        req: &mut ExportTraceServiceRequest,
        context: RouteContext,
        f: &mut dyn FnMut(&mut EvalContext<'_>) -> Result<bool, EvalError>,
    ) -> Option<Result<Vec<bool>, EvalError>> {
        match context {
            RouteContext::Resource => Some(eval_resources(req, f)),
            RouteContext::Span => {
                Some(collect(|g| walk::try_for_each_span_mut(req, |cx| g(&mut EvalContext::span(cx))), f))
            }
            _ => None,
        }
    }
    fn take(req: &mut ExportTraceServiceRequest, context: RouteContext, mask: &[bool]) -> ExportTraceServiceRequest {
        let resource_spans = match context {
            RouteContext::Span => split::move_items(&mut req.resource_spans, mask),
            _ => split::move_resources(&mut req.resource_spans, mask),
        };
        ExportTraceServiceRequest { resource_spans }
    }
    fn is_empty(req: &ExportTraceServiceRequest) -> bool {
        req.resource_spans.is_empty()
    }
    fn typed(c: &AnyConsumer) -> Option<DynConsumer<Self>> {
        match c {
            AnyConsumer::Traces(c) => Some(c.clone()),
            _ => None,
        }
    }
}

impl Routable for Logs {
    fn eval(
        req: &mut ExportLogsServiceRequest,
        context: RouteContext,
        f: &mut dyn FnMut(&mut EvalContext<'_>) -> Result<bool, EvalError>,
    ) -> Option<Result<Vec<bool>, EvalError>> {
        match context {
            RouteContext::Resource => Some(eval_resources(req, f)),
            RouteContext::Log => {
                Some(collect(|g| walk::try_for_each_log_record_mut(req, |cx| g(&mut EvalContext::log(cx))), f))
            }
            _ => None,
        }
    }
    fn take(req: &mut ExportLogsServiceRequest, context: RouteContext, mask: &[bool]) -> ExportLogsServiceRequest {
        let resource_logs = match context {
            RouteContext::Log => split::move_items(&mut req.resource_logs, mask),
            _ => split::move_resources(&mut req.resource_logs, mask),
        };
        ExportLogsServiceRequest { resource_logs }
    }
    fn is_empty(req: &ExportLogsServiceRequest) -> bool {
        req.resource_logs.is_empty()
    }
    fn typed(c: &AnyConsumer) -> Option<DynConsumer<Self>> {
        match c {
            AnyConsumer::Logs(c) => Some(c.clone()),
            _ => None,
        }
    }
}

impl Routable for Metrics {
    fn eval(
        req: &mut ExportMetricsServiceRequest,
        context: RouteContext,
        f: &mut dyn FnMut(&mut EvalContext<'_>) -> Result<bool, EvalError>,
    ) -> Option<Result<Vec<bool>, EvalError>> {
        match context {
            RouteContext::Resource => Some(eval_resources(req, f)),
            RouteContext::Metric => {
                Some(collect(|g| walk::try_for_each_metric_mut(req, |cx| g(&mut EvalContext::metric(cx))), f))
            }
            RouteContext::Datapoint => {
                Some(collect(|g| walk::try_for_each_data_point_mut(req, |cx| g(&mut EvalContext::data_point(cx))), f))
            }
            _ => None,
        }
    }
    fn take(
        req: &mut ExportMetricsServiceRequest,
        context: RouteContext,
        mask: &[bool],
    ) -> ExportMetricsServiceRequest {
        let resource_metrics = match context {
            RouteContext::Metric => split::move_items(&mut req.resource_metrics, mask),
            RouteContext::Datapoint => split::move_data_points(&mut req.resource_metrics, mask),
            _ => split::move_resources(&mut req.resource_metrics, mask),
        };
        ExportMetricsServiceRequest { resource_metrics }
    }
    fn is_empty(req: &ExportMetricsServiceRequest) -> bool {
        req.resource_metrics.is_empty()
    }
    fn typed(c: &AnyConsumer) -> Option<DynConsumer<Self>> {
        match c {
            AnyConsumer::Metrics(c) => Some(c.clone()),
            _ => None,
        }
    }
}

/// The connector instance for one signal.
pub(super) struct RoutingConsumer<S: SignalData> {
    pub routes: Vec<Route<S>>,
    pub default: Option<DynConsumer<S>>,
    pub error_mode: ErrorModeConfig,
    pub reporter: OttlErrorReporter,
    pub id: String,
    pub dropped: Counter,
    pub dropped_log: LogThrottle,
}

impl<S: Routable> RoutingConsumer<S> {
    /// Runs one route's OTTL on one unit, applying `error_mode` (an ignored error = no match).
    fn run(&self, check: &RouteCheck, text: &str, cx: &mut EvalContext<'_>) -> Result<bool, EvalError> {
        let r = check.eval(cx);
        self.error_mode.condition_outcome(r, &self.reporter, text)
    }

    /// Splits `data` into (consumer, data) deliveries, in table order, default last.
    fn split(&self, cx: &RequestContext, mut data: S) -> Result<Vec<(DynConsumer<S>, S)>, ConsumeError> {
        // Rows that read only the request or the resource route a batch still encoded by
        // its resource envelopes: the items are neither decoded nor copied. A statement
        // that changes the resource (`delete_key`) needs the decoded batch.
        let by_resource = self.routes.iter().all(|r| match &r.check {
            Check::Request(_) => true,
            Check::Ottl(check) => r.context == RouteContext::Resource && check.only_reads(),
        });
        if by_resource {
            if let Some((parts, skeleton)) = data.resource_skeleton() {
                return self.split_resources(cx, parts, skeleton);
            }
        }
        let mut out = Vec::new();
        let req = data.make_mut();
        for route in &self.routes {
            if S::is_empty(req) {
                break;
            }
            let moved = match &route.check {
                Check::Request(c) => c.eval(cx).then(|| std::mem::take(req)),
                Check::Ottl(check) => {
                    let mask = match S::eval(req, route.context, &mut |ecx| self.run(check, &route.text, ecx)) {
                        None => continue,
                        Some(Ok(mask)) => mask,
                        Some(Err(e)) => {
                            return Err(ConsumeError::permanent(format!(
                                "routing connector \"{}\": failed to evaluate `{}`: {e}",
                                self.id, route.text
                            )))
                        }
                    };
                    mask.contains(&true).then(|| S::take(req, route.context, &mask))
                }
            };
            out.extend(moved.map(|m| (route.consumer.clone(), S::from_request(m))));
        }
        if S::is_empty(req) {
            return Ok(out);
        }
        self.rest(&mut out, data);
        Ok(out)
    }

    /// [`Self::split`] on a batch still encoded, one part per resource element (`parts`),
    /// evaluated on `skeleton`, the request of their envelopes in the same order. Each row
    /// takes the parts it matches out of both, so the two stay aligned.
    fn split_resources(
        &self,
        cx: &RequestContext,
        mut parts: Vec<S>,
        mut skeleton: S::Request,
    ) -> Result<Vec<(DynConsumer<S>, S)>, ConsumeError> {
        let mut out = Vec::new();
        for route in &self.routes {
            if parts.is_empty() {
                break;
            }
            let mask = match &route.check {
                Check::Request(c) => vec![c.eval(cx); parts.len()],
                Check::Ottl(check) => {
                    match S::eval(&mut skeleton, route.context, &mut |ecx| self.run(check, &route.text, ecx)) {
                        Some(Ok(mask)) if mask.len() == parts.len() => mask,
                        Some(Ok(_)) | None => continue,
                        Some(Err(e)) => {
                            return Err(ConsumeError::permanent(format!(
                                "routing connector \"{}\": failed to evaluate `{}`: {e}",
                                self.id, route.text
                            )))
                        }
                    }
                }
            };
            if !mask.contains(&true) {
                continue;
            }
            S::take(&mut skeleton, RouteContext::Resource, &mask);
            let mut taken = S::from_request(Default::default());
            let mut rest = Vec::with_capacity(parts.len());
            for (part, matched) in parts.into_iter().zip(&mask) {
                if *matched {
                    // Appending encoded batches concatenates their chunks: never refused.
                    let _ = taken.append(part);
                } else {
                    rest.push(part);
                }
            }
            parts = rest;
            out.push((route.consumer.clone(), taken));
        }
        let mut rest = S::from_request(Default::default());
        for part in parts {
            let _ = rest.append(part);
        }
        if !S::is_empty(&skeleton) {
            self.rest(&mut out, rest);
        }
        Ok(out)
    }

    /// What no row took: to the default pipelines, or dropped and counted.
    fn rest(&self, out: &mut Vec<(DynConsumer<S>, S)>, data: S) {
        match &self.default {
            Some(d) => out.push((d.clone(), data)),
            None => {
                let n = data.item_count();
                self.dropped.add(n as u64);
                if let Some(held_back) = self.dropped_log.allow() {
                    tracing::info!(
                        component = %self.id,
                        items = n,
                        similar_not_logged = held_back,
                        "no route matched and no default_pipelines: data dropped"
                    );
                }
            }
        }
    }
}

impl<S: Routable> Consumer<S> for RoutingConsumer<S> {
    fn consume<'a>(&'a self, cx: &'a RequestContext, data: S) -> BoxFuture<'a, Result<(), ConsumeError>> {
        Box::pin(async move {
            let deliveries = self.split(cx, data)?;
            let mut errors = Vec::new();
            for (consumer, d) in deliveries {
                if let Err(e) = consumer.consume(cx, d).await {
                    errors.push(e);
                }
            }
            ConsumeError::join(errors).map_or(Ok(()), Err)
        })
    }
}
