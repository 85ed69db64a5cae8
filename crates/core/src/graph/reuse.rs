//! What a configuration reload may keep from the running graph, and how it decides.
//!
//! Only components whose state matters and that do not depend on the pipelines around them
//! are kept: extensions (all or none: an exporter or receiver may hold an authenticator or a
//! storage of any of them) and exporters (their sending queue, persistent queue file and
//! connections). "Unchanged" means the same id and the same body after `${env:...}`
//! expansion, compared value by value (locations, key order and comments do not count).
//! Receivers, processors and connectors are always rebuilt: they are wired to pipeline
//! heads that may have changed, and stopping them is what flushes their data downstream.

use std::collections::HashMap;
use std::sync::Arc;

use switchyard_pdata::Signal;

use super::{Graph, Unit};
use crate::component::{ComponentId, Kind};
use crate::config::{Config, Node, Value};
use crate::consumer::AnyConsumer;

/// An exporter instance a later graph may share.
pub(super) struct KeptExporter {
    pub(super) consumer: AnyConsumer,
    pub(super) unit: Arc<Unit>,
    body: Option<Node>,
}

/// The parts of a built graph a reload compares against.
#[derive(Default)]
pub(super) struct Reusable {
    /// `service::extensions` in order, each with its body.
    extensions: Vec<(ComponentId, Option<Node>)>,
    /// Exporters by (id, signal).
    exporters: HashMap<(ComponentId, Signal), KeptExporter>,
}

impl Reusable {
    /// The extension list of `cfg`, for [`Reusable::same_extensions`].
    pub(super) fn extensions_of(cfg: &Config) -> Vec<(ComponentId, Option<Node>)> {
        cfg.service
            .extensions
            .iter()
            .map(|r| (r.id.clone(), cfg.get(Kind::Extension, &r.id).and_then(|d| d.body.clone())))
            .collect()
    }

    pub(super) fn new(extensions: Vec<(ComponentId, Option<Node>)>) -> Reusable {
        Reusable { extensions, exporters: HashMap::new() }
    }

    /// True when `other` lists the same extensions, in the same order, with the same bodies.
    pub(super) fn same_extensions(&self, other: &[(ComponentId, Option<Node>)]) -> bool {
        self.extensions.len() == other.len()
            && self.extensions.iter().zip(other).all(|((a, x), (b, y))| a == b && same_body(x.as_ref(), y.as_ref()))
    }

    pub(super) fn add_exporter(
        &mut self,
        id: ComponentId,
        signal: Signal,
        consumer: AnyConsumer,
        unit: Arc<Unit>,
        body: Option<Node>,
    ) {
        self.exporters.insert((id, signal), KeptExporter { consumer, unit, body });
    }

    /// The running exporter (id, signal) if its body is `body`.
    pub(super) fn exporter(&self, id: &ComponentId, signal: Signal, body: Option<&Node>) -> Option<&KeptExporter> {
        self.exporters.get(&(id.clone(), signal)).filter(|k| same_body(k.body.as_ref(), body))
    }
}

/// Equal bodies: `None` (a null body) only equals `None`; nodes compare by value.
fn same_body(a: Option<&Node>, b: Option<&Node>) -> bool {
    match (a, b) {
        (None, None) => true,
        (Some(a), Some(b)) => same_value(&a.value, &b.value),
        _ => false,
    }
}

fn same_value(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Null, Value::Null) => true,
        (Value::Scalar { text: x, plain: p }, Value::Scalar { text: y, plain: q }) => x == y && p == q,
        (Value::Seq(x), Value::Seq(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(m, n)| same_value(&m.value, &n.value))
        }
        (Value::Map(x), Value::Map(y)) => {
            x.len() == y.len()
                && x.iter().all(|(k, e)| y.get(k).is_some_and(|f| same_value(&e.node.value, &f.node.value)))
        }
        _ => false,
    }
}

/// What replacing one graph by the next does, by component name (`exporter "otlp" (traces)`).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ReloadChanges {
    /// Shared by both graphs: they keep running through the reload.
    pub kept: Vec<String>,
    /// Only in the new graph: started by the reload.
    pub started: Vec<String>,
    /// Only in the old graph: stopped by the reload.
    pub stopped: Vec<String>,
}

pub(super) fn changes(old: &Graph, new: &Graph) -> ReloadChanges {
    let mut c = ReloadChanges::default();
    let shared_ext = Arc::ptr_eq(&old.extensions_running, &new.extensions_running);
    let ext_names = |g: &Graph| g.extensions.iter().map(|(id, _)| format!("extension \"{id}\"")).collect::<Vec<_>>();
    if shared_ext {
        c.kept.extend(ext_names(new));
    } else {
        c.started.extend(ext_names(new));
        c.stopped.extend(ext_names(old));
    }
    for u in &new.components {
        if old.components.iter().any(|o| Arc::ptr_eq(o, u)) {
            c.kept.push(u.name.clone());
        } else {
            c.started.push(u.name.clone());
        }
    }
    for o in &old.components {
        if !new.components.iter().any(|u| Arc::ptr_eq(o, u)) {
            c.stopped.push(o.name.clone());
        }
    }
    c
}

#[cfg(test)]
mod tests {
    use crate::config::{parse, parse_config};
    use crate::graph::Graph;
    use crate::telemetry::Telemetry;
    use crate::testing::GraphHarness;

    fn config(h: &GraphHarness, yaml: &str) -> crate::config::Config {
        parse_config(&parse("test.yaml", yaml).unwrap(), &h.registry()).unwrap()
    }

    const V1: &str = "receivers: {source: }\nexporters:\n  sink/a:\n  sink/b: {}\nservice:\n  pipelines:\n    traces: {receivers: [source], exporters: [sink/a, sink/b]}\n";

    #[test]
    fn a_reload_shares_unchanged_exporters_and_rebuilds_the_rest() {
        let h = GraphHarness::new();
        let t = Telemetry::default();
        let old = Graph::build(&config(&h, V1), &t).unwrap();
        // sink/a's body changes (null -> {}); sink/b's is the same, written differently.
        let v2 = "exporters:\n  sink/b: {  }\n  sink/a: {}\nreceivers: {source: }\nservice:\n  pipelines:\n    traces: {receivers: [source], exporters: [sink/a, sink/b]}\n";
        let new = old.build_next(&config(&h, v2), &t).unwrap();
        let c = old.changes(&new);
        assert_eq!(c.kept, ["exporter \"sink/b\" (traces)"]);
        assert!(c.started.contains(&"exporter \"sink/a\" (traces)".to_string()), "{c:?}");
        assert!(c.started.contains(&"receiver \"source\"".to_string()), "receivers are always rebuilt: {c:?}");
        assert!(c.stopped.contains(&"exporter \"sink/a\" (traces)".to_string()), "{c:?}");
        assert!(!c.stopped.contains(&"exporter \"sink/b\" (traces)".to_string()), "{c:?}");

        // An exporter now also used for logs keeps its traces instance and gets a logs one.
        let v3 = format!("{V1}    logs: {{receivers: [source], exporters: [sink/b]}}\n");
        let c = new.changes(&new.build_next(&config(&h, &v3), &t).unwrap());
        assert!(c.kept.contains(&"exporter \"sink/b\" (traces)".to_string()), "{c:?}");
        assert!(c.started.contains(&"exporter \"sink/b\" (logs)".to_string()), "{c:?}");
    }

    #[tokio::test]
    async fn a_swap_stops_and_starts_only_what_is_not_shared() {
        let h = GraphHarness::new();
        let t = Telemetry::default();
        let old = Graph::build(&config(&h, V1), &t).unwrap();
        old.start().await.unwrap();
        assert!(old.host().is_ready());
        h.take_lifecycle();
        let v2 = V1.replace("  sink/a:\n", "  sink/a: {}\n");
        let new = old.build_next(&config(&h, &v2), &t).unwrap();
        assert!(h.take_lifecycle().is_empty(), "building starts and stops nothing");
        old.retire(&new, std::time::Duration::from_secs(5)).await;
        assert!(!new.host().is_ready(), "not ready during the swap (the flag is shared)");
        assert_eq!(h.take_lifecycle(), ["stop receiver source", "stop exporter sink/a traces"], "sink/b keeps running");
        new.start().await.unwrap();
        assert_eq!(h.take_lifecycle(), ["start exporter sink/a traces", "start receiver source"]);
        assert!(old.host().is_ready(), "a health check holding the old host sees the new graph ready");
        new.shutdown(std::time::Duration::from_secs(5)).await;
        let stopped = h.take_lifecycle();
        assert!(stopped.contains(&"stop exporter sink/b traces".to_string()), "{stopped:?}");
    }

    #[test]
    fn an_invalid_next_config_leaves_the_running_graph_as_it_was() {
        let h = GraphHarness::new();
        let t = Telemetry::default();
        let old = Graph::build(&config(&h, V1), &t).unwrap();
        let root = parse("next.yaml", "receivers: {source: }\nexporters: {nope: }\nservice:\n  pipelines:\n    traces: {receivers: [source], exporters: [nope]}\n").unwrap();
        let errors = parse_config(&root, &h.registry()).err().expect("unknown type");
        assert!(errors.to_string().contains("next.yaml:2:"), "{errors}");
        // The running graph is still whole: a later valid config shares its exporters.
        let c = old.changes(&old.build_next(&config(&h, V1), &t).unwrap());
        assert_eq!(c.kept.len(), 2, "{c:?}");
    }

    #[test]
    fn bodies_compare_by_value() {
        let node = |y: &str| parse("a.yaml", y).unwrap();
        let same = |a: &str, b: &str| super::same_body(Some(&node(a)), Some(&node(b)));
        assert!(same("{a: 1, b: [x, {c: d}]}", "b:\n  - x\n  - c: d\na: 1\n"));
        assert!(!same("{a: 1}", "{a: 2}"));
        assert!(!same("{a: 1}", "{a: '1'}"), "a quoted scalar is a string");
        assert!(!same("{a: [1, 2]}", "{a: [2, 1]}"));
        assert!(!same("{a: 1}", "{a: 1, b: 2}"));
        assert!(!super::same_body(None, Some(&node("{}"))));
    }
}
