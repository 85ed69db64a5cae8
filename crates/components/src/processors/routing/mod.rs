//! The legacy `routing` processor: sends data to some of its pipeline's exporters, chosen by
//! a header (`attribute_source: context`) or a resource attribute (`resource`), or by OTTL
//! statements. The Collector replaced it with the routing connector and removed it from
//! contrib; configs still carry it, so it is accepted with a deprecation warning that
//! prints the equivalent connector config, and routes as it did.
//!
//! It needs the pipeline's exporters by id, which the graph hands every processor
//! ([`PipelineExporters`]); like upstream, it sends straight to them, past any processor
//! placed after it (a warning says so).

mod config;
mod equivalent;
#[cfg(test)]
mod tests;

pub use config::{AttributeSource, LegacyRoute, RoutingProcessorConfig};
pub use equivalent::connector_yaml;

use std::sync::Arc;

use futures::future::BoxFuture;
use switchyard_core::component::{
    BuildError, Component, ComponentId, PipelineExporters, ProcessorFactory, Settings, Stability,
};
use switchyard_core::consumer::{AnyConsumer, ConsumeError, Consumer, DynConsumer, Fanout, RequestContext};
use switchyard_ottl::eval::EvalError;
use switchyard_ottl::Context;
use switchyard_pdata::{Signal, SignalData};

use crate::connectors::routing::route::Routable;
use crate::connectors::routing::{compile_route_statement, RouteCheck, RouteContext};
use crate::ottl::{ErrorModeConfig, OttlErrorReporter};

/// The Collector type string.
pub const TYPE: &str = "routing";

/// Creates legacy routing processors.
pub struct RoutingProcessorFactory;

impl ProcessorFactory for RoutingProcessorFactory {
    type Config = RoutingProcessorConfig;
    fn component_type(&self) -> &'static str {
        TYPE
    }
    fn stability(&self, signal: Signal) -> Option<Stability> {
        (signal != Signal::Profiles).then_some(Stability::Deprecated)
    }
    fn create(
        &self,
        set: Settings,
        _cfg: &RoutingProcessorConfig,
        _next: AnyConsumer,
    ) -> Result<(AnyConsumer, Option<Box<dyn Component>>), BuildError> {
        Err(BuildError::new(&set, "the routing processor needs its pipeline's exporters"))
    }
    fn create_in_pipeline(
        &self,
        set: Settings,
        cfg: &RoutingProcessorConfig,
        next: AnyConsumer,
        exporters: &PipelineExporters,
    ) -> Result<(AnyConsumer, Option<Box<dyn Component>>), BuildError> {
        let pipeline = exporters.pipeline.clone().ok_or_else(|| BuildError::new(&set, "not in a pipeline"))?;
        tracing::warn!(
            component = %set.id,
            pipeline = %pipeline,
            "The routing processor is deprecated (removed from the Collector contrib); it still routes here, \
             but move to the routing connector. The equivalent config:\n{}",
            connector_yaml(cfg, &pipeline)
        );
        if !exporters.processors_after.is_empty() {
            let after: Vec<String> = exporters.processors_after.iter().map(ToString::to_string).collect();
            tracing::warn!(
                component = %set.id,
                pipeline = %pipeline,
                "the routing processor sends straight to the exporters: the processors after it ({}) never see the data; \
                 place it last",
                after.join(", ")
            );
        }
        let consumer = match next.signal() {
            Signal::Traces => AnyConsumer::Traces(build(&set, cfg, exporters)?),
            Signal::Metrics => AnyConsumer::Metrics(build(&set, cfg, exporters)?),
            Signal::Logs => AnyConsumer::Logs(build(&set, cfg, exporters)?),
            Signal::Profiles => return Err(BuildError::new(&set, "routing does not support profiles")),
        };
        Ok((consumer, None))
    }
}

/// One consumer for the listed exporters of the pipeline; every id must be one of them.
fn exporters_for<S: Routable>(
    set: &Settings,
    ids: &[String],
    exporters: &PipelineExporters,
) -> Result<Option<DynConsumer<S>>, BuildError> {
    let mut out: Vec<DynConsumer<S>> = Vec::new();
    for raw in ids {
        let id = ComponentId::parse(raw).map_err(|m| BuildError::new(set, m))?;
        let Some(c) = exporters.get(&id).and_then(S::typed) else {
            let listed: Vec<String> = exporters.ids().map(ToString::to_string).collect();
            let hint = suggest_exporter(raw, &listed).map(|s| format!("; did you mean \"{s}\"?")).unwrap_or_default();
            return Err(BuildError::new(
                set,
                format!(
                    "exporter \"{id}\" in the routing table is not an exporter of pipeline \"{}\" (its exporters: {}){hint}",
                    exporters.pipeline.as_ref().map(ToString::to_string).unwrap_or_default(),
                    listed.join(", ")
                ),
            ));
        };
        out.push(c);
    }
    Ok(match out.len() {
        0 => None,
        1 => out.pop(),
        _ => Some(Arc::new(Fanout::new(out))),
    })
}

fn build<S: Routable>(
    set: &Settings,
    cfg: &RoutingProcessorConfig,
    exporters: &PipelineExporters,
) -> Result<DynConsumer<S>, BuildError> {
    let mut rows = Vec::new();
    for (i, row) in cfg.table.iter().enumerate() {
        let consumer = exporters_for::<S>(set, &row.exporters, exporters)?;
        let how = if cfg.by_header() {
            match &row.value {
                Some(v) => Decide::Value(v.clone()),
                None => continue, // upstream: statements are not consulted when routing by a header
            }
        } else {
            let Some(text) = cfg.resource_statement(row) else { continue };
            let check = compile_route_statement(&format!("table::{i}"), &text, Context::Resource)
                .map_err(|e| BuildError::new(set, e.into_iter().map(|e| e.message).collect::<Vec<_>>().join("; ")))?;
            Decide::Ottl(check, text)
        };
        rows.extend(consumer.map(|consumer| Row { how, consumer }));
    }
    Ok(Arc::new(LegacyRouter {
        rows,
        default: exporters_for::<S>(set, &cfg.default_exporters, exporters)?,
        header: cfg.by_header(),
        from_attribute: cfg.from_attribute.clone(),
        error_mode: cfg.error_mode(),
        reporter: OttlErrorReporter::new(&set.telemetry, &set.id),
    }))
}

enum Decide {
    /// Header mode: the row's value.
    Value(String),
    /// Resource mode: the row's statement, and its text for error reports.
    Ottl(RouteCheck, String),
}

struct Row<S: SignalData> {
    how: Decide,
    consumer: DynConsumer<S>,
}

/// One row's answer per resource, and the row's consumer.
type Mask<'a, S> = (Vec<bool>, &'a DynConsumer<S>);

struct LegacyRouter<S: SignalData> {
    rows: Vec<Row<S>>,
    default: Option<DynConsumer<S>>,
    /// Header mode (else resource mode).
    header: bool,
    from_attribute: String,
    error_mode: ErrorModeConfig,
    reporter: OttlErrorReporter,
}

impl<S: Routable> LegacyRouter<S> {
    /// Header mode: the first value of the header picks the row (as upstream, which reads
    /// only the first), else the defaults.
    fn by_header(&self, cx: &RequestContext, data: S) -> Vec<(DynConsumer<S>, S)> {
        let values = cx.metadata_values(&self.from_attribute);
        let row = values
            .first()
            .and_then(|v| self.rows.iter().find(|r| matches!(&r.how, Decide::Value(want) if want.as_str() == *v)));
        row.map(|r| &r.consumer).or(self.default.as_ref()).map(|c| (c.clone(), data)).into_iter().collect()
    }

    /// Every row's answer for every resource of `req`, with the row's consumer.
    fn masks(&self, req: &mut S::Request) -> Result<Vec<Mask<'_, S>>, ConsumeError> {
        let mut masks = Vec::with_capacity(self.rows.len());
        for row in &self.rows {
            let Decide::Ottl(check, text) = &row.how else { continue };
            let mut run = |cx: &mut switchyard_ottl::eval::EvalContext<'_>| -> Result<bool, EvalError> {
                let r = check.eval(cx);
                self.error_mode.condition_outcome(r, &self.reporter, text)
            };
            match S::eval(req, RouteContext::Resource, &mut run) {
                Some(Ok(mask)) => masks.push((mask, &row.consumer)),
                Some(Err(e)) => {
                    return Err(ConsumeError::permanent(format!("routing processor: failed to evaluate `{text}`: {e}")))
                }
                None => {}
            }
        }
        Ok(masks)
    }

    /// Resource mode: every row is evaluated on every resource (all matches, not the
    /// first); a resource no row matched goes to the defaults.
    fn by_resource(&self, mut data: S) -> Result<Vec<(DynConsumer<S>, S)>, ConsumeError> {
        // Rows that only read (not `drop_resource_routing_attribute`) route a batch still
        // encoded by its resource envelopes: the items are neither decoded nor copied.
        if self.rows.iter().all(|r| matches!(&r.how, Decide::Ottl(check, _) if check.only_reads())) {
            if let Some((parts, mut skeleton)) = data.resource_skeleton() {
                let masks = self.masks(&mut skeleton)?;
                return Ok(self.by_envelopes(parts, &masks));
            }
        }
        let req = data.make_mut();
        let masks = self.masks(req)?;
        let resources = masks.first().map_or(0, |(m, _)| m.len());
        let mut matches = vec![0usize; resources];
        for (mask, _) in &masks {
            for (n, m) in matches.iter_mut().zip(mask) {
                *n += usize::from(*m);
            }
        }
        let mut out = Vec::new();
        if matches.iter().any(|n| *n > 1) {
            // A resource goes to several rows: each row gets a copy of what it matched.
            for (mask, consumer) in &masks {
                if mask.contains(&true) {
                    let mut copy = req.clone();
                    let unmatched: Vec<bool> = mask.iter().map(|m| !m).collect();
                    S::take(&mut copy, RouteContext::Resource, &unmatched);
                    out.push(((*consumer).clone(), S::from_request(copy)));
                }
            }
            let none: Vec<bool> = matches.iter().map(|n| *n == 0).collect();
            let rest = S::take(req, RouteContext::Resource, &none);
            out.extend(self.default.as_ref().map(|d| (d.clone(), S::from_request(rest))));
            return Ok(out);
        }
        // Each resource goes to at most one row: move them, no copy. `left` maps the
        // original positions to those still in `req`.
        let mut left: Vec<bool> = vec![true; resources];
        for (mask, consumer) in &masks {
            if !mask.contains(&true) {
                continue;
            }
            let current: Vec<bool> = mask.iter().zip(&left).filter(|(_, l)| **l).map(|(m, _)| *m).collect();
            for (l, m) in left.iter_mut().zip(mask) {
                *l &= !m;
            }
            out.push(((*consumer).clone(), S::from_request(S::take(req, RouteContext::Resource, &current))));
        }
        if !S::is_empty(req) {
            if let Some(d) = &self.default {
                out.push((d.clone(), S::from_request(std::mem::take(req))));
            }
        }
        Ok(out)
    }
}

impl<S: Routable> LegacyRouter<S> {
    /// [`Self::by_resource`] on a batch still encoded as one part per resource (`parts`),
    /// with `masks` evaluated on their envelopes: each row gets the parts it matched (a part
    /// matched by several rows is shared, not copied), the defaults the parts none matched.
    fn by_envelopes(&self, parts: Vec<S>, masks: &[Mask<'_, S>]) -> Vec<(DynConsumer<S>, S)> {
        let mut matched = vec![false; parts.len()];
        let mut out = Vec::new();
        for (mask, consumer) in masks {
            let mut taken: Option<S> = None;
            for ((part, m), seen) in parts.iter().zip(mask).zip(matched.iter_mut()) {
                if *m {
                    *seen = true;
                    join(&mut taken, part.clone());
                }
            }
            out.extend(taken.map(|t| ((*consumer).clone(), t)));
        }
        if let Some(d) = &self.default {
            let mut rest: Option<S> = None;
            for (part, seen) in parts.into_iter().zip(&matched) {
                if !seen {
                    join(&mut rest, part);
                }
            }
            out.extend(rest.map(|r| (d.clone(), r)));
        }
        out
    }
}

/// Appends `part` to the batch being gathered in `into`.
fn join<S: SignalData>(into: &mut Option<S>, part: S) {
    match into {
        // Appending encoded batches concatenates their chunks: never refused.
        Some(batch) => {
            let _ = batch.append(part);
        }
        None => *into = Some(part),
    }
}

impl<S: Routable> Consumer<S> for LegacyRouter<S> {
    fn consume<'a>(&'a self, cx: &'a RequestContext, data: S) -> BoxFuture<'a, Result<(), ConsumeError>> {
        Box::pin(async move {
            let deliveries = if self.header { self.by_header(cx, data) } else { self.by_resource(data)? };
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

/// The pipeline exporter a misspelt table entry most likely means: a close spelling, or one
/// whose name (after `/`) the entry ends with (seed 001 writes `exporter-tenant-a` for
/// `otlp/tenant-a`).
fn suggest_exporter<'a>(raw: &str, listed: &'a [String]) -> Option<&'a str> {
    if let Some(s) = switchyard_core::config::did_you_mean(raw, listed.iter().map(String::as_str)) {
        return Some(s);
    }
    let wanted = raw.rsplit('/').next().unwrap_or(raw);
    listed.iter().map(String::as_str).find(|id| {
        let name = id.split_once('/').map_or("", |(_, n)| n);
        !name.is_empty() && (wanted == name || wanted.ends_with(&format!("-{name}")))
    })
}
