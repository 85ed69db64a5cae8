//! The pipeline graph as people read it: text, Graphviz DOT and Mermaid (`switchyard graph`,
//! and the status page). Drawn from the config alone, so it works without starting anything.
//!
//! Nodes follow the built graph's shape (see the module above): one node per receiver,
//! exporter and connector id, however many pipelines list it; processors are drawn once per
//! pipeline, inside that pipeline's box, because each pipeline has its own instances. A
//! pipeline without processors gets a junction node with its name, so its box is not empty.
//! Node ids in DOT and Mermaid are positional (`r0`, `p1_0`, ...) and names are only labels,
//! so any component name (slashes, dots, quotes) draws.

use std::fmt::Write;

use indexmap::IndexMap;

use crate::component::{ComponentId, Kind};
use crate::config::Config;

/// What an edge end is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub(super) enum End {
    /// A receiver, by index in `Picture::receivers`.
    Receiver(usize),
    /// An exporter, by index.
    Exporter(usize),
    /// A connector, by index.
    Connector(usize),
    /// Processor `k` of pipeline `p`.
    Processor(usize, usize),
    /// The junction of a pipeline without processors.
    Junction(usize),
}

/// One pipeline: its name, processors, and what feeds it and what it feeds.
pub(super) struct Pipe {
    pub(super) name: String,
    pub(super) processors: Vec<String>,
    pub(super) inputs: Vec<End>,
    pub(super) outputs: Vec<End>,
}

/// The graph of a config, ready to print.
pub struct Picture {
    pub(super) receivers: Vec<String>,
    pub(super) exporters: Vec<String>,
    pub(super) connectors: Vec<String>,
    pub(super) pipes: Vec<Pipe>,
}

fn index_of(list: &mut IndexMap<String, ()>, id: &ComponentId) -> usize {
    list.insert_full(id.to_string(), ()).0
}

impl Picture {
    /// The graph of `cfg`'s pipelines (components not in any pipeline are left out, as the
    /// gateway does not build them).
    pub fn of(cfg: &Config) -> Picture {
        let (mut receivers, mut exporters, mut connectors) = (IndexMap::new(), IndexMap::new(), IndexMap::new());
        let mut pipes = Vec::new();
        for p in cfg.service.pipelines.values() {
            let is_connector = |id: &ComponentId| cfg.get(Kind::Connector, id).is_some();
            let inputs = p
                .receivers
                .iter()
                .map(|r| match is_connector(&r.id) {
                    true => End::Connector(index_of(&mut connectors, &r.id)),
                    false => End::Receiver(index_of(&mut receivers, &r.id)),
                })
                .collect();
            let outputs = p
                .exporters
                .iter()
                .map(|e| match is_connector(&e.id) {
                    true => End::Connector(index_of(&mut connectors, &e.id)),
                    false => End::Exporter(index_of(&mut exporters, &e.id)),
                })
                .collect();
            pipes.push(Pipe {
                name: p.id.to_string(),
                processors: p.processors.iter().map(|r| r.id.to_string()).collect(),
                inputs,
                outputs,
            });
        }
        let keys = |m: IndexMap<String, ()>| m.into_keys().collect();
        Picture { receivers: keys(receivers), exporters: keys(exporters), connectors: keys(connectors), pipes }
    }

    pub(super) fn label(&self, end: End) -> &str {
        match end {
            End::Receiver(i) => &self.receivers[i],
            End::Exporter(i) => &self.exporters[i],
            End::Connector(i) => &self.connectors[i],
            End::Processor(p, k) => &self.pipes[p].processors[k],
            End::Junction(p) => &self.pipes[p].name,
        }
    }

    fn node_id(end: End) -> String {
        match end {
            End::Receiver(i) => format!("r{i}"),
            End::Exporter(i) => format!("e{i}"),
            End::Connector(i) => format!("c{i}"),
            End::Processor(p, k) => format!("p{p}_{k}"),
            End::Junction(p) => format!("j{p}"),
        }
    }

    /// Pipeline `p`'s first and last inner node (its first and last processor, or its junction).
    fn inner(&self, p: usize) -> (End, End) {
        match self.pipes[p].processors.len() {
            0 => (End::Junction(p), End::Junction(p)),
            n => (End::Processor(p, 0), End::Processor(p, n - 1)),
        }
    }

    /// Every edge, in pipeline order: inputs → first inner node → ... → last → outputs.
    pub(super) fn edges(&self) -> Vec<(End, End)> {
        let mut out = Vec::new();
        for (p, pipe) in self.pipes.iter().enumerate() {
            let (first, last) = self.inner(p);
            out.extend(pipe.inputs.iter().map(|&i| (i, first)));
            out.extend((1..pipe.processors.len()).map(|k| (End::Processor(p, k - 1), End::Processor(p, k))));
            out.extend(pipe.outputs.iter().map(|&o| (last, o)));
        }
        out
    }

    /// Pipelines a connector is the exporter of (`from`) or the receiver of.
    fn connector_pipes(&self, c: usize, exporter_side: bool) -> Vec<&str> {
        self.pipes
            .iter()
            .filter(|p| if exporter_side { &p.outputs } else { &p.inputs }.contains(&End::Connector(c)))
            .map(|p| p.name.as_str())
            .collect()
    }

    fn describe(&self, end: End, incoming: bool) -> String {
        match end {
            End::Receiver(i) => format!("{} (receiver)", self.receivers[i]),
            End::Exporter(i) => format!("{} (exporter)", self.exporters[i]),
            End::Connector(i) => {
                let (arrow, others) = match incoming {
                    true => ("from", self.connector_pipes(i, true)),
                    false => ("to", self.connector_pipes(i, false)),
                };
                format!("{} (connector {arrow} {})", self.connectors[i], others.join(", "))
            }
            other => self.label(other).to_string(),
        }
    }

    /// One block per pipeline: what feeds it, its processors, what it feeds.
    pub fn to_text(&self) -> String {
        let mut s = String::new();
        for pipe in &self.pipes {
            let list = |ends: &[End], incoming: bool| {
                ends.iter().map(|&e| self.describe(e, incoming)).collect::<Vec<_>>().join(", ")
            };
            let _ = writeln!(s, "pipeline {}", pipe.name);
            let _ = writeln!(s, "  in:   {}", list(&pipe.inputs, true));
            if !pipe.processors.is_empty() {
                let _ = writeln!(s, "  then: {}", pipe.processors.join(" -> "));
            }
            let _ = writeln!(s, "  out:  {}", list(&pipe.outputs, false));
        }
        s
    }

    /// A Graphviz digraph: receivers as boxes on the left, a cluster per pipeline,
    /// exporters as boxes on the right, connectors as diamonds between pipelines.
    pub fn to_dot(&self) -> String {
        let mut s = String::from("digraph switchyard {\n  rankdir=LR;\n  node [fontname=\"Helvetica\"];\n");
        let q = |t: &str| t.replace('\\', "\\\\").replace('"', "\\\"");
        for (i, r) in self.receivers.iter().enumerate() {
            let _ = writeln!(s, "  r{i} [label=\"{}\", shape=box, style=rounded];", q(r));
        }
        for (p, pipe) in self.pipes.iter().enumerate() {
            let _ = writeln!(s, "  subgraph cluster_{p} {{\n    label=\"pipeline {}\";", q(&pipe.name));
            if pipe.processors.is_empty() {
                let _ = writeln!(s, "    j{p} [label=\"{}\", shape=circle];", q(&pipe.name));
            }
            for (k, name) in pipe.processors.iter().enumerate() {
                let _ = writeln!(s, "    p{p}_{k} [label=\"{}\", shape=box];", q(name));
            }
            s.push_str("  }\n");
        }
        for (i, e) in self.exporters.iter().enumerate() {
            let _ = writeln!(s, "  e{i} [label=\"{}\", shape=box, style=\"rounded,bold\"];", q(e));
        }
        for (i, c) in self.connectors.iter().enumerate() {
            let _ = writeln!(s, "  c{i} [label=\"{}\", shape=diamond];", q(c));
        }
        for (a, b) in self.edges() {
            let _ = writeln!(s, "  {} -> {};", Self::node_id(a), Self::node_id(b));
        }
        s.push_str("}\n");
        s
    }

    /// A Mermaid flowchart with the same shape as [`Picture::to_dot`].
    pub fn to_mermaid(&self) -> String {
        let mut s = String::from("flowchart LR\n");
        // Mermaid labels are quoted; a quote inside one is written as an entity.
        let q = |t: &str| t.replace('"', "#quot;");
        for (i, r) in self.receivers.iter().enumerate() {
            let _ = writeln!(s, "  r{i}([\"{}\"])", q(r));
        }
        for (p, pipe) in self.pipes.iter().enumerate() {
            let _ = writeln!(s, "  subgraph pl{p}[\"pipeline {}\"]\n    direction LR", q(&pipe.name));
            if pipe.processors.is_empty() {
                let _ = writeln!(s, "    j{p}((\"{}\"))", q(&pipe.name));
            }
            for (k, name) in pipe.processors.iter().enumerate() {
                let _ = writeln!(s, "    p{p}_{k}[\"{}\"]", q(name));
            }
            s.push_str("  end\n");
        }
        for (i, e) in self.exporters.iter().enumerate() {
            let _ = writeln!(s, "  e{i}[[\"{}\"]]", q(e));
        }
        for (i, c) in self.connectors.iter().enumerate() {
            let _ = writeln!(s, "  c{i}{{\"{}\"}}", q(c));
        }
        for (a, b) in self.edges() {
            let _ = writeln!(s, "  {} --> {}", Self::node_id(a), Self::node_id(b));
        }
        s
    }
}
