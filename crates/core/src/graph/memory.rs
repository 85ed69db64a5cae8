//! The memory report of a configuration: every component instance the graph would create,
//! with the bound its factory declares ([`MemoryBound`]), added up. `validate` prints it
//! and `run` publishes it as `switchyard_component_memory_declared_bytes`.
//!
//! Instances are counted as the graph builds them: a receiver once per id, a processor
//! once per pipeline listing it, an exporter once per (id, signal), a connector once per
//! (id, from-signal, to-signal) pair it supports. Extensions are not pipeline components
//! and are left out (docs/memory.md says why).

use std::collections::BTreeSet;
use std::fmt;

use switchyard_pdata::Signal;

use crate::component::{component_label, BoundContext, ComponentId, HumanBytes, Kind, MemoryBound};
use crate::config::Config;
use crate::telemetry::{names, Telemetry};

/// One line of the report: one thing one component holds, over all its instances.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MemoryRow {
    /// `kind/id`, as the metrics label it.
    pub component: String,
    /// Instances the graph creates.
    pub instances: u64,
    /// What is held, and the setting that bounds it.
    pub what: String,
    /// Worst case over all instances.
    pub bytes: u64,
}

/// A budget to compare the total against (`memory_limiter`'s hard limit).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MemoryLimit {
    /// `kind/id` of the component that sets it.
    pub component: String,
    /// Where it comes from (`limit_mib`).
    pub what: String,
    /// Bytes.
    pub bytes: u64,
}

/// The worst case of a configuration, per component and in total.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct MemoryReport {
    /// Declared parts, in graph order (receivers, processors, exporters, connectors).
    pub rows: Vec<MemoryRow>,
    /// Components that state no bound (`kind/id`): not counted, and not zero.
    pub undeclared: Vec<String>,
    /// `memory_limiter` limits found in the pipelines.
    pub limits: Vec<MemoryLimit>,
    /// The largest request or batch the bounds were computed with.
    pub largest_request: u64,
    /// True when some receiver did not declare its largest request, so
    /// [`Self::largest_request`] may be too small for its data.
    pub largest_request_assumed: bool,
}

impl MemoryReport {
    /// The sum of every declared row.
    pub fn total(&self) -> u64 {
        self.rows.iter().fold(0u64, |a, r| a.saturating_add(r.bytes))
    }

    /// The smallest `memory_limiter` limit, if any.
    pub fn limit(&self) -> Option<&MemoryLimit> {
        self.limits.iter().min_by_key(|l| l.bytes)
    }

    /// Declared bytes per component label, every instance together.
    pub fn declared_by_component(&self) -> Vec<(String, u64)> {
        let mut out: Vec<(String, u64)> = Vec::new();
        for r in &self.rows {
            match out.iter_mut().find(|(c, _)| *c == r.component) {
                Some((_, b)) => *b = b.saturating_add(r.bytes),
                None => out.push((r.component.clone(), r.bytes)),
            }
        }
        out
    }

    /// Sets `switchyard_component_memory_declared_bytes{component}` for every declared component.
    pub fn publish(&self, t: &Telemetry) {
        for (component, bytes) in self.declared_by_component() {
            t.metrics
                .gauge(
                    names::COMPONENT_MEMORY_DECLARED,
                    "Worst-case bytes a component declares from its config (all its instances).",
                    &[("component", component.as_str())],
                )
                .set(i64::try_from(bytes).unwrap_or(i64::MAX));
        }
    }
}

/// One component instance to ask.
struct Instance<'a> {
    kind: Kind,
    id: &'a ComponentId,
}

/// The instances the graph creates for `cfg`, in graph order, with their counts.
fn instances(cfg: &Config) -> Vec<(Instance<'_>, u64)> {
    let mut out: Vec<(Instance<'_>, u64)> = Vec::new();
    let pipelines = || cfg.service.pipelines.values();
    // Receivers: one per id.
    let mut seen: BTreeSet<&ComponentId> = BTreeSet::new();
    for p in pipelines() {
        for r in &p.receivers {
            if cfg.get(Kind::Receiver, &r.id).is_some() && seen.insert(&r.id) {
                out.push((Instance { kind: Kind::Receiver, id: &r.id }, 1));
            }
        }
    }
    // Processors: one per pipeline listing them.
    for p in pipelines() {
        for r in &p.processors {
            match out.iter_mut().find(|(i, _)| i.kind == Kind::Processor && i.id == &r.id) {
                Some((_, n)) => *n += 1,
                None => out.push((Instance { kind: Kind::Processor, id: &r.id }, 1)),
            }
        }
    }
    // Exporters: one per (id, signal).
    let mut pairs: BTreeSet<(&ComponentId, Signal)> = BTreeSet::new();
    for p in pipelines() {
        for r in &p.exporters {
            if cfg.get(Kind::Exporter, &r.id).is_some() && pairs.insert((&r.id, p.id.signal())) {
                match out.iter_mut().find(|(i, _)| i.kind == Kind::Exporter && i.id == &r.id) {
                    Some((_, n)) => *n += 1,
                    None => out.push((Instance { kind: Kind::Exporter, id: &r.id }, 1)),
                }
            }
        }
    }
    // Connectors: one per supported (id, from, to).
    for ((kind, id), def) in &cfg.components {
        if *kind != Kind::Connector {
            continue;
        }
        let from: BTreeSet<Signal> =
            pipelines().filter(|p| p.exporters.iter().any(|r| &r.id == id)).map(|p| p.id.signal()).collect();
        let to: BTreeSet<Signal> =
            pipelines().filter(|p| p.receivers.iter().any(|r| &r.id == id)).map(|p| p.id.signal()).collect();
        let n = from
            .iter()
            .flat_map(|f| to.iter().map(move |t| (*f, *t)))
            .filter(|(f, t)| def.factory.connector_stability(*f, *t).is_some())
            .count() as u64;
        if n > 0 {
            out.push((Instance { kind: Kind::Connector, id }, n));
        }
    }
    out
}

/// Asks every component instance of `cfg` for its bound and adds them up.
///
/// Receivers are asked first: the largest request they admit sizes the buffers counted
/// in requests further down; processors that emit larger batches (`batch`) raise it.
pub fn memory_report(cfg: &Config) -> MemoryReport {
    let list = instances(cfg);
    let bound = |i: &Instance<'_>, cx: &BoundContext| {
        cfg.get(i.kind, i.id).map_or(MemoryBound::Undeclared, |def| def.factory.memory_bound(&def.config, cx))
    };
    let largest_of = |kind: Kind, cx: &BoundContext| {
        let mut largest = None::<u64>;
        let mut unknown = false;
        for (i, _) in list.iter().filter(|(i, _)| i.kind == kind) {
            match bound(i, cx) {
                MemoryBound::Declared { largest_request: Some(b), .. } => {
                    largest = Some(largest.map_or(b, |l| l.max(b)));
                }
                _ => unknown = true,
            }
        }
        (largest, unknown)
    };
    let (from_receivers, unknown) = largest_of(Kind::Receiver, &BoundContext::default());
    let mut cx = BoundContext { largest_request: from_receivers.unwrap_or(BoundContext::default().largest_request) };
    let (from_processors, _) = largest_of(Kind::Processor, &cx);
    cx.largest_request = cx.largest_request.max(from_processors.unwrap_or(0));

    let mut report = MemoryReport {
        largest_request: cx.largest_request,
        largest_request_assumed: unknown || from_receivers.is_none(),
        ..MemoryReport::default()
    };
    for (i, n) in &list {
        let component = component_label(i.kind, i.id);
        match bound(i, &cx) {
            MemoryBound::Undeclared => report.undeclared.push(component),
            MemoryBound::Declared { parts, .. } if parts.is_empty() => report.rows.push(MemoryRow {
                component,
                instances: *n,
                what: "nothing between requests".into(),
                bytes: 0,
            }),
            MemoryBound::Declared { parts, .. } => {
                for p in parts {
                    report.rows.push(MemoryRow {
                        component: component.clone(),
                        instances: *n,
                        what: p.what,
                        bytes: p.bytes.saturating_mul(*n),
                    });
                }
            }
            MemoryBound::Limit { bytes, what } => report.limits.push(MemoryLimit { component, what, bytes }),
        }
    }
    report
}

impl fmt::Display for MemoryReport {
    /// The table `validate` prints: component, instances, what, worst case; then the total,
    /// the undeclared components and the limits.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let header = ("COMPONENT", "INSTANCES", "HOLDS", "WORST CASE");
        let rows: Vec<(String, String, String, String)> = self
            .rows
            .iter()
            .map(|r| (r.component.clone(), r.instances.to_string(), r.what.clone(), HumanBytes(r.bytes).to_string()))
            .collect();
        let w0 = rows.iter().map(|r| r.0.len()).chain([header.0.len(), "total".len()]).max().unwrap_or(0);
        let w1 = rows.iter().map(|r| r.1.len()).chain([header.1.len()]).max().unwrap_or(0);
        let w2 = rows.iter().map(|r| r.2.len()).chain([header.2.len()]).max().unwrap_or(0);
        writeln!(f, "Memory bound (worst case per component, from the config; docs/memory.md):")?;
        writeln!(f, "  {:<w0$}  {:>w1$}  {:<w2$}  {}", header.0, header.1, header.2, header.3)?;
        for r in &rows {
            writeln!(f, "  {:<w0$}  {:>w1$}  {:<w2$}  {:>10}", r.0, r.1, r.2, r.3)?;
        }
        writeln!(f, "  {:<w0$}  {:>w1$}  {:<w2$}  {:>10}", "total", "", "", HumanBytes(self.total()).to_string())?;
        if !self.undeclared.is_empty() {
            writeln!(f, "  undeclared (no bound stated, not counted): {}", self.undeclared.join(", "))?;
        }
        if self.largest_request_assumed {
            writeln!(f, "  largest request assumed {} (a receiver states none)", HumanBytes(self.largest_request))?;
        }
        for l in &self.limits {
            writeln!(f, "  limit: {} {} = {}", l.component, l.what, HumanBytes(l.bytes))?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::component::{BuildError, Component, MemoryPart, ProcessorFactory, Settings, Stability};
    use crate::config::{parse, parse_config};
    use crate::consumer::AnyConsumer;
    use crate::testing::{GraphHarness, TestComponentConfig};

    /// A processor declaring 1 MiB per instance, passing data through.
    struct Hold;

    impl ProcessorFactory for Hold {
        type Config = TestComponentConfig;
        fn component_type(&self) -> &'static str {
            "hold"
        }
        fn stability(&self, _signal: Signal) -> Option<Stability> {
            Some(Stability::Alpha)
        }
        fn memory_bound(&self, _cfg: &TestComponentConfig, cx: &BoundContext) -> MemoryBound {
            MemoryBound::parts(vec![MemoryPart::new(format!("x (largest {})", cx.largest_request), 1 << 20)])
                .with_largest_request(2 << 20)
        }
        fn create(
            &self,
            _set: Settings,
            _cfg: &TestComponentConfig,
            next: AnyConsumer,
        ) -> Result<(AnyConsumer, Option<Box<dyn Component>>), BuildError> {
            Ok((next, None))
        }
    }

    #[test]
    fn instances_are_counted_as_the_graph_builds_them_and_undeclared_ones_listed() {
        let h = GraphHarness::new();
        let mut registry = h.registry();
        registry.processor(Hold).expect("register");
        let yaml = "receivers: {source: }\nprocessors: {hold: }\nexporters: {sink: }\nservice:\n  pipelines:\n    \
                    traces: {receivers: [source], processors: [hold], exporters: [sink]}\n    \
                    logs: {receivers: [source], processors: [hold], exporters: [sink]}\n";
        let cfg = parse_config(&parse("t.yaml", yaml).expect("yaml"), &registry).expect("config");
        let r = memory_report(&cfg);
        assert_eq!(r.rows.len(), 1, "{r:?}");
        assert_eq!((r.rows[0].instances, r.rows[0].bytes), (2, 2 << 20), "one per pipeline");
        assert_eq!(r.rows[0].what, "x (largest 4194304)", "the assumed 4 MiB is larger than its 2 MiB batches");
        assert_eq!(r.undeclared, ["receiver/source", "exporter/sink"], "listed, not counted as zero");
        assert!(r.largest_request_assumed, "the source receiver states no largest request");
        assert_eq!(r.total(), 2 << 20);
        let table = r.to_string();
        assert!(table.contains("processor/hold"), "{table}");
        assert!(table.contains("total") && table.contains("2.0 MiB"), "{table}");
        assert!(table.contains("undeclared (no bound stated, not counted): receiver/source, exporter/sink"), "{table}");
        let t = Telemetry::default();
        r.publish(&t);
        let s = t.metrics.snapshot();
        let d = s.iter().find(|s| s.name == names::COMPONENT_MEMORY_DECLARED).expect("declared series");
        assert_eq!((d.label("component"), d.value), (Some("processor/hold"), 2_097_152.0));
    }
}
