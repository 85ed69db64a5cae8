//! Builds the graph from a config: exporters, then pipelines (downstream first, through
//! connectors), then receivers.

use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::AtomicBool;
use std::sync::Arc;

use switchyard_pdata::Signal;

use super::reuse::Reusable;
use super::substitute::{Inlets, Substitutes};
use super::{Extensions, Graph, Unit};
use crate::component::{
    locate, ComponentId, ConnectorPipelines, Host, Kind, PipelineExporters, PipelineId, ReceiverOutputs, Settings,
};
use crate::config::{Config, ConfigError, ConfigErrors, PipelineDef};
use crate::consumer::{AnyConsumer, AnyRouter, DynConsumer, Fanout};
use crate::tap::Taps;
use crate::telemetry::Telemetry;

struct Builder<'a> {
    cfg: &'a Config,
    telemetry: &'a Telemetry,
    exporters: HashMap<(ComponentId, Signal), AnyConsumer>,
    /// Pipeline heads (first processor, or the exporter fan-out), once built.
    heads: HashMap<PipelineId, AnyConsumer>,
    /// Pipelines being built, to detect cycles through connectors.
    visiting: Vec<PipelineId>,
    /// Connector instances by (id, from, to).
    connectors: HashMap<(ComponentId, Signal, Signal), AnyConsumer>,
    /// Exporters, then processors and connectors in build order (downstream first).
    components: Vec<Arc<Unit>>,
    /// A tap point in front of every consumer wired (see [`crate::tap`]).
    taps: Arc<Taps>,
    errors: Vec<ConfigError>,
    /// The running graph this one replaces (a reload), whose unchanged parts it shares.
    prev: Option<&'a Graph>,
    /// True when the extensions are shared with `prev`: only then may exporters be.
    keep_exporters: bool,
    reusable: Reusable,
    /// Set for a test build: edges replaced, entry points collected in `inlets`.
    substitutes: Option<&'a Substitutes<'a>>,
    inlets: Inlets,
}

pub(super) fn build(cfg: &Config, telemetry: &Telemetry, prev: Option<&Graph>) -> Result<Graph, ConfigErrors> {
    build_with(cfg, telemetry, prev, None).map(|(graph, _)| graph)
}

/// [`build`] with the edges replaced ([`Substitutes`]); also returns where data enters.
pub(super) fn build_substituted<'a>(
    cfg: &'a Config,
    telemetry: &'a Telemetry,
    substitutes: &'a Substitutes<'a>,
) -> Result<(Graph, Inlets), ConfigErrors> {
    build_with(cfg, telemetry, None, Some(substitutes))
}

fn build_with<'a>(
    cfg: &'a Config,
    telemetry: &'a Telemetry,
    prev: Option<&'a Graph>,
    substitutes: Option<&'a Substitutes<'a>>,
) -> Result<(Graph, Inlets), ConfigErrors> {
    let mut b = Builder {
        cfg,
        telemetry,
        exporters: HashMap::new(),
        heads: HashMap::new(),
        visiting: Vec::new(),
        connectors: HashMap::new(),
        components: Vec::new(),
        taps: Arc::new(Taps::default()),
        errors: Vec::new(),
        prev,
        keep_exporters: false,
        reusable: Reusable::new(Reusable::extensions_of(cfg)),
        substitutes,
        inlets: Inlets::default(),
    };
    let (extensions, extensions_running) = if substitutes.is_some() { Default::default() } else { b.extensions() };
    if substitutes.is_none() {
        super::memory_report(cfg).publish(telemetry);
    }
    b.check_connectors();
    if !b.errors.is_empty() {
        return Err(ConfigErrors(b.errors));
    }
    for p in cfg.service.pipelines.values() {
        b.pipeline(p);
    }
    let receivers = b.receivers();
    b.components.extend(receivers);
    if !b.errors.is_empty() {
        return Err(ConfigErrors(b.errors));
    }
    let map = extensions.iter().cloned().collect::<BTreeMap<_, _>>();
    let mut view = super::ServiceView::of(cfg, telemetry);
    view.taps = b.taps.clone();
    let host = match prev {
        // The next graph's view is published when it starts, not while the old one runs.
        Some(p) => {
            view.started = p.view.started;
            p.host.successor(map)
        }
        None => Host::new(map),
    };
    let view = Arc::new(view);
    if prev.is_none() {
        host.set_service(view.clone());
    }
    let graph = Graph { extensions, extensions_running, components: b.components, host, view, reusable: b.reusable };
    Ok((graph, b.inlets))
}

impl<'a> Builder<'a> {
    fn settings(&self, kind: Kind, id: &ComponentId) -> Settings {
        Settings { id: id.clone(), kind, telemetry: self.telemetry.clone() }
    }

    /// `next` behind the tap point of `id` (of `kind`) in `pipeline`.
    fn tap(&self, kind: Kind, id: &ComponentId, pipeline: &PipelineId, next: AnyConsumer) -> AnyConsumer {
        self.taps.wrap(self.telemetry, kind, id, pipeline, next)
    }

    /// The extensions of the config: those of the graph being replaced when the list and
    /// every body are unchanged (they keep running), else new instances.
    fn extensions(&mut self) -> (Extensions, Arc<AtomicBool>) {
        if let Some(prev) = self.prev {
            if prev.reusable.same_extensions(&Reusable::extensions_of(self.cfg)) {
                self.keep_exporters = true;
                return (prev.extensions.clone(), prev.extensions_running.clone());
            }
        }
        let mut out = Vec::new();
        for r in &self.cfg.service.extensions {
            let Some(def) = self.cfg.get(Kind::Extension, &r.id) else {
                continue;
            };
            match def.factory.create_extension(self.settings(Kind::Extension, &r.id), &def.config) {
                Ok(ext) => out.push((r.id.clone(), ext)),
                Err(e) => {
                    self.errors.push(ConfigError::at(def.loc.clone(), format!("extensions::{}", r.id), e.message))
                }
            }
        }
        (out, Arc::new(AtomicBool::new(false)))
    }

    /// Each connector must be an exporter in some pipeline and a receiver in another, with
    /// a signal pair its factory supports on each side; then its config is checked against
    /// the pipelines it is wired to (errors placed at the offending field).
    fn check_connectors(&mut self) {
        for ((kind, id), def) in &self.cfg.components {
            if *kind != Kind::Connector {
                continue;
            }
            let from = self.signals_where(id, |p| &p.exporters);
            let to = self.signals_where(id, |p| &p.receivers);
            let path = format!("connectors::{id}");
            if from.is_empty() && to.is_empty() {
                continue; // unused: already a warning
            }
            if from.is_empty() || to.is_empty() {
                let side = if from.is_empty() { "an exporter" } else { "a receiver" };
                self.errors.push(ConfigError::at(
                    def.loc.clone(),
                    path,
                    format!(
                        "connector \"{id}\" must be used as both receiver and exporter, but is never used as {side}"
                    ),
                ));
                continue;
            }
            for f in &from {
                if !to.iter().any(|t| def.factory.connector_stability(*f, *t).is_some()) {
                    self.errors.push(ConfigError::at(
                        def.loc.clone(),
                        path.clone(),
                        format!("connector \"{id}\" used as exporter in a {f} pipeline cannot feed any of its receiver-side pipelines ({})", list(&to)),
                    ));
                }
            }
            for t in &to {
                if !from.iter().any(|f| def.factory.connector_stability(*f, *t).is_some()) {
                    self.errors.push(ConfigError::at(
                        def.loc.clone(),
                        path.clone(),
                        format!("connector \"{id}\" used as receiver in a {t} pipeline cannot be fed by any of its exporter-side pipelines ({})", list(&from)),
                    ));
                }
            }
            let pipelines = ConnectorPipelines {
                from: self.pipelines_where(id, |p| &p.exporters),
                to: self.pipelines_where(id, |p| &p.receivers),
                defined: self.cfg.service.pipelines.keys().cloned().collect(),
            };
            for fe in def.factory.validate_connector(&def.config, &pipelines) {
                self.errors.push(locate(fe, def.body.as_ref(), Some(&def.loc), &path));
            }
        }
    }

    fn pipelines_where(
        &self,
        id: &ComponentId,
        side: impl Fn(&PipelineDef) -> &Vec<crate::config::Ref>,
    ) -> Vec<PipelineId> {
        self.cfg
            .service
            .pipelines
            .values()
            .filter(|p| side(p).iter().any(|r| &r.id == id))
            .map(|p| p.id.clone())
            .collect()
    }

    fn signals_where(&self, id: &ComponentId, side: impl Fn(&PipelineDef) -> &Vec<crate::config::Ref>) -> Vec<Signal> {
        let mut s: Vec<Signal> = self
            .cfg
            .service
            .pipelines
            .values()
            .filter(|p| side(p).iter().any(|r| &r.id == id))
            .map(|p| p.id.signal())
            .collect();
        s.sort();
        s.dedup();
        s
    }

    /// Builds pipeline `p` (and, first, every pipeline it feeds through connectors); returns its head.
    fn pipeline(&mut self, p: &'a PipelineDef) -> Option<AnyConsumer> {
        if let Some(head) = self.heads.get(&p.id) {
            return Some(head.clone());
        }
        if let Some(pos) = self.visiting.iter().position(|v| v == &p.id) {
            let cycle: Vec<String> =
                self.visiting[pos..].iter().map(|v| v.to_string()).chain([p.id.to_string()]).collect();
            self.errors.push(ConfigError::at(
                p.loc.clone(),
                format!("service::pipelines::{}", p.id),
                format!("cycle detected through connectors: {}", cycle.join(" -> ")),
            ));
            return None;
        }
        self.visiting.push(p.id.clone());
        let signal = p.id.signal();
        let mut exporters = PipelineExporters { pipeline: Some(p.id.clone()), ..Default::default() };
        let mut seen: Vec<&ComponentId> = Vec::new();
        for r in &p.exporters {
            // Listed twice is one edge, as in the Collector: the exporter gets each batch once.
            if seen.contains(&&r.id) {
                continue;
            }
            seen.push(&r.id);
            let (kind, out) = if self.cfg.get(Kind::Exporter, &r.id).is_some() {
                (Kind::Exporter, self.exporter(&r.id, signal))
            } else {
                (Kind::Connector, self.connector_input(&r.id, signal))
            };
            exporters.exporters.extend(out.map(|c| (r.id.clone(), self.tap(kind, &r.id, &p.id, c))));
        }
        self.visiting.pop();
        let mut next = fanout(signal, exporters.exporters.iter().map(|(_, c)| c.clone()).collect())?;
        if let Some(subs) = self.substitutes {
            next = (subs.pipeline_output)(&p.id, next);
        }
        // Stages collected back to front: the output, then each processor's input.
        let mut stages = vec![next.clone()];
        for (i, r) in p.processors.iter().enumerate().rev() {
            let def = self.cfg.get(Kind::Processor, &r.id)?;
            exporters.processors_after = p.processors[i + 1..].iter().map(|r| r.id.clone()).collect();
            let set = self.settings(Kind::Processor, &r.id);
            let tapped = self.tap(Kind::Processor, &r.id, &p.id, next.clone());
            match def.factory.create_processor_in_pipeline(set, &def.config, tapped, &exporters) {
                Ok((consumer, component)) => {
                    if let Some(c) = component {
                        self.components.push(Unit::new(format!("processor \"{}\" in pipeline \"{}\"", r.id, p.id), c));
                    }
                    next = consumer;
                    stages.push(next.clone());
                }
                Err(e) => {
                    self.errors.push(ConfigError::at(r.loc.clone(), format!("processors::{}", r.id), e.message));
                    return None;
                }
            }
        }
        if self.substitutes.is_some() {
            stages.reverse();
            self.inlets.pipelines.insert(p.id.clone(), stages);
        }
        self.heads.insert(p.id.clone(), next.clone());
        Some(next)
    }

    fn exporter(&mut self, id: &ComponentId, signal: Signal) -> Option<AnyConsumer> {
        if let Some(c) = self.exporters.get(&(id.clone(), signal)) {
            return Some(c.clone());
        }
        if let Some(subs) = self.substitutes {
            let consumer = (subs.exporter)(id, signal);
            self.exporters.insert((id.clone(), signal), consumer.clone());
            return Some(consumer);
        }
        let def = self.cfg.get(Kind::Exporter, id)?;
        let kept = self
            .prev
            .filter(|_| self.keep_exporters)
            .and_then(|p| p.reusable.exporter(id, signal, def.body.as_ref()))
            .map(|k| (k.consumer.clone(), k.unit.clone()));
        let created = match kept {
            Some(k) => Ok(k),
            None => def
                .factory
                .create_exporter(self.settings(Kind::Exporter, id), &def.config, signal)
                .map(|(consumer, component)| (consumer, Unit::new(format!("exporter \"{id}\" ({signal})"), component))),
        };
        match created {
            Ok((consumer, unit)) => {
                // Exporters start before everything else: keep them at the front.
                let n = self.exporters.len();
                self.components.insert(n, unit.clone());
                self.exporters.insert((id.clone(), signal), consumer.clone());
                self.reusable.add_exporter(id.clone(), signal, consumer.clone(), unit, def.body.clone());
                Some(consumer)
            }
            Err(e) => {
                self.errors.push(ConfigError::at(def.loc.clone(), format!("exporters::{id}"), e.message));
                None
            }
        }
    }

    /// The consumer a pipeline of `from` signal exports into when it lists connector `id`:
    /// one connector instance per supported receiver-side signal, each given a router over
    /// the pipelines of that signal which list the connector as a receiver.
    fn connector_input(&mut self, id: &ComponentId, from: Signal) -> Option<AnyConsumer> {
        let def = self.cfg.get(Kind::Connector, id)?;
        let mut inputs = Vec::new();
        for to in self.signals_where(id, |p| &p.receivers) {
            if def.factory.connector_stability(from, to).is_none() {
                continue;
            }
            if let Some(c) = self.connectors.get(&(id.clone(), from, to)) {
                inputs.push(c.clone());
                continue;
            }
            let targets: Vec<&'a PipelineDef> = self
                .cfg
                .service
                .pipelines
                .values()
                .filter(|p| p.id.signal() == to && p.receivers.iter().any(|r| &r.id == id))
                .collect();
            let routes: Vec<(PipelineId, AnyConsumer)> = targets
                .into_iter()
                .filter_map(|p| self.pipeline(p).map(|head| (p.id.clone(), self.tap(Kind::Connector, id, &p.id, head))))
                .collect();
            if routes.is_empty() {
                continue; // every target failed to build (a cycle): already reported
            }
            let Some(next) = AnyRouter::from_any(to, routes) else { continue };
            match def.factory.create_connector(self.settings(Kind::Connector, id), &def.config, from, next) {
                Ok((consumer, component)) => {
                    if let Some(c) = component {
                        self.components.push(Unit::new(format!("connector \"{id}\" ({from} -> {to})"), c));
                    }
                    self.connectors.insert((id.clone(), from, to), consumer.clone());
                    inputs.push(consumer);
                }
                Err(e) => self.errors.push(ConfigError::at(def.loc.clone(), format!("connectors::{id}"), e.message)),
            }
        }
        fanout(from, inputs)
    }

    fn receivers(&mut self) -> Vec<Arc<Unit>> {
        let mut out = Vec::new();
        let ids: Vec<ComponentId> =
            self.cfg.components.keys().filter(|(k, _)| *k == Kind::Receiver).map(|(_, id)| id.clone()).collect();
        for id in ids {
            let mut outputs = ReceiverOutputs::default();
            let mut used = false;
            for signal in Signal::ALL {
                let heads: Vec<AnyConsumer> = self
                    .cfg
                    .service
                    .pipelines
                    .values()
                    .filter(|p| p.id.signal() == signal && p.receivers.iter().any(|r| r.id == id))
                    .filter_map(|p| {
                        let head = self.heads.get(&p.id).cloned()?;
                        Some(self.tap(Kind::Receiver, &id, &p.id, head))
                    })
                    .collect();
                match fanout(signal, heads) {
                    Some(AnyConsumer::Traces(c)) => outputs.traces = Some(c),
                    Some(AnyConsumer::Metrics(c)) => outputs.metrics = Some(c),
                    Some(AnyConsumer::Logs(c)) => outputs.logs = Some(c),
                    Some(AnyConsumer::Profiles(c)) => outputs.profiles = Some(c),
                    None => continue,
                }
                used = true;
            }
            if !used {
                continue;
            }
            if self.substitutes.is_some() {
                self.inlets.receivers.insert(id, outputs);
                continue;
            }
            let Some(def) = self.cfg.get(Kind::Receiver, &id) else {
                continue;
            };
            match def.factory.create_receiver(self.settings(Kind::Receiver, &id), &def.config, outputs) {
                Ok(c) => out.push(Unit::new(format!("receiver \"{id}\""), c)),
                Err(e) => self.errors.push(ConfigError::at(def.loc.clone(), format!("receivers::{id}"), e.message)),
            }
        }
        out
    }
}

fn list(signals: &[Signal]) -> String {
    signals.iter().map(|s| s.as_str()).collect::<Vec<_>>().join(", ")
}

/// One consumer for several of the same signal: itself if one, a [`Fanout`] if more, `None` if none.
fn fanout(signal: Signal, consumers: Vec<AnyConsumer>) -> Option<AnyConsumer> {
    fn typed<S: switchyard_pdata::SignalData>(v: Vec<DynConsumer<S>>) -> Option<DynConsumer<S>> {
        match v.len() {
            0 => None,
            1 => v.into_iter().next(),
            _ => Some(Arc::new(Fanout::new(v))),
        }
    }
    macro_rules! collect {
        ($variant:ident) => {
            typed(
                consumers
                    .into_iter()
                    .filter_map(|c| match c {
                        AnyConsumer::$variant(c) => Some(c),
                        _ => None,
                    })
                    .collect(),
            )
            .map(AnyConsumer::$variant)
        };
    }
    match signal {
        Signal::Traces => collect!(Traces),
        Signal::Metrics => collect!(Metrics),
        Signal::Logs => collect!(Logs),
        Signal::Profiles => collect!(Profiles),
    }
}
