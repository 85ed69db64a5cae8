//! The pipeline graph as an inline SVG (the zpages status page): no script, no external
//! asset, so the page works offline and in any browser.
//!
//! Layout: columns by longest path from the receivers (a connector lands between the
//! pipelines it joins), all exporters in the last column; each pipeline's processors on
//! their own row, inside a box labelled with the pipeline; receivers, exporters and
//! connectors at the mean row of the pipelines they touch, pushed apart when two share a
//! place. Each node is a `<g class="node KIND" data-id="ID">` with its name and, when the
//! caller gives one, a second line (live numbers).

use std::fmt::Write;

use super::picture::{End, Picture};

/// A node as the caller of [`Picture::to_svg`] sees it, to choose its second line.
#[derive(Clone, Copy, Debug)]
pub struct SvgNode<'a> {
    /// `receiver`, `processor`, `exporter`, `connector` or `pipeline` (a junction).
    pub kind: &'static str,
    /// The component id (or the pipeline name for a junction).
    pub id: &'a str,
    /// The pipeline a processor belongs to.
    pub pipeline: Option<&'a str>,
}

const ROW_H: f64 = 64.0;
const NODE_H: f64 = 40.0;
const GAP_X: f64 = 56.0;
const PAD: f64 = 24.0;
const CHAR_W: f64 = 7.2;

fn esc(t: &str) -> String {
    t.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}

struct Placed {
    end: End,
    layer: usize,
    row: f64,
    note: Option<String>,
}

impl Picture {
    fn all_ends(&self) -> Vec<End> {
        let mut v: Vec<End> = (0..self.receivers.len()).map(End::Receiver).collect();
        for (p, pipe) in self.pipes.iter().enumerate() {
            match pipe.processors.len() {
                0 => v.push(End::Junction(p)),
                n => v.extend((0..n).map(|k| End::Processor(p, k))),
            }
        }
        v.extend((0..self.connectors.len()).map(End::Connector));
        v.extend((0..self.exporters.len()).map(End::Exporter));
        v
    }

    fn kind_of(&self, end: End) -> SvgNode<'_> {
        let (kind, pipeline) = match end {
            End::Receiver(_) => ("receiver", None),
            End::Exporter(_) => ("exporter", None),
            End::Connector(_) => ("connector", None),
            End::Processor(p, _) => ("processor", Some(self.pipes[p].name.as_str())),
            End::Junction(_) => ("pipeline", None),
        };
        SvgNode { kind, id: self.label(end), pipeline }
    }

    /// Pipelines an end touches (for its row).
    fn rows_of(&self, end: End) -> Vec<usize> {
        match end {
            End::Processor(p, _) | End::Junction(p) => vec![p],
            other => self
                .pipes
                .iter()
                .enumerate()
                .filter(|(_, pipe)| pipe.inputs.contains(&other) || pipe.outputs.contains(&other))
                .map(|(p, _)| p)
                .collect(),
        }
    }

    /// The graph as an SVG document fragment; `note` gives each node's second line.
    pub fn to_svg(&self, note: &dyn Fn(SvgNode<'_>) -> Option<String>) -> String {
        let ends = self.all_ends();
        let edges = self.edges();
        let idx = |e: End| ends.iter().position(|x| *x == e).unwrap_or(0);
        // Longest path from the sources; the config builder has refused cycles, and the
        // bound on rounds keeps a cycle (should one get here) from looping.
        let mut layer = vec![0usize; ends.len()];
        for _ in 0..ends.len() {
            let mut changed = false;
            for &(a, b) in &edges {
                let (ia, ib) = (idx(a), idx(b));
                if layer[ib] < layer[ia] + 1 {
                    layer[ib] = layer[ia] + 1;
                    changed = true;
                }
            }
            if !changed {
                break;
            }
        }
        let last = layer.iter().copied().max().unwrap_or(0);
        let mut placed: Vec<Placed> = ends
            .iter()
            .enumerate()
            .map(|(i, &end)| {
                let rows = self.rows_of(end);
                let row = if rows.is_empty() { 0.0 } else { rows.iter().sum::<usize>() as f64 / rows.len() as f64 };
                let layer = if matches!(end, End::Exporter(_)) { last.max(1) } else { layer[i] };
                Placed { end, layer, row, note: note(self.kind_of(end)) }
            })
            .collect();
        // Push apart nodes that share a place in a column.
        let columns = placed.iter().map(|p| p.layer).max().unwrap_or(0) + 1;
        for c in 0..columns {
            let mut in_col: Vec<usize> = (0..placed.len()).filter(|&i| placed[i].layer == c).collect();
            in_col.sort_by(|&a, &b| placed[a].row.total_cmp(&placed[b].row));
            let mut next = f64::MIN;
            for i in in_col {
                placed[i].row = placed[i].row.max(next);
                next = placed[i].row + 1.0;
            }
        }
        let width_of = |p: &Placed| {
            let chars = self.label(p.end).chars().count().max(p.note.as_ref().map_or(0, |n| n.chars().count()));
            (chars as f64 * CHAR_W + 24.0).max(96.0)
        };
        let mut col_w = vec![0.0f64; columns];
        for p in &placed {
            col_w[p.layer] = col_w[p.layer].max(width_of(p));
        }
        let mut col_x = vec![PAD; columns];
        for c in 1..columns {
            col_x[c] = col_x[c - 1] + col_w[c - 1] + GAP_X;
        }
        let top = PAD + 18.0;
        let pos = |p: &Placed| (col_x[p.layer], top + p.row * ROW_H, width_of(p));
        let max_row = placed.iter().map(|p| p.row).fold(0.0, f64::max);
        let (w, h) = (col_x[columns - 1] + col_w[columns - 1] + PAD, top + max_row * ROW_H + NODE_H + PAD);

        let mut s = String::new();
        let _ = write!(
            s,
            "<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"graph\" role=\"img\" aria-label=\"pipeline graph\" \
             width=\"{w:.0}\" height=\"{h:.0}\" viewBox=\"0 0 {w:.0} {h:.0}\" font-family=\"sans-serif\" font-size=\"12\">\
             <defs><marker id=\"arrow\" viewBox=\"0 0 8 8\" refX=\"8\" refY=\"4\" markerWidth=\"8\" markerHeight=\"8\" \
             orient=\"auto\"><path d=\"M0,0 L8,4 L0,8 z\" fill=\"#667\"/></marker></defs>"
        );
        // Pipeline boxes behind everything.
        for (p, pipe) in self.pipes.iter().enumerate() {
            let inner: Vec<&Placed> =
                placed.iter().filter(|x| matches!(x.end, End::Processor(q, _) | End::Junction(q) if q == p)).collect();
            let (mut x0, mut y0, mut x1, mut y1) = (f64::MAX, f64::MAX, f64::MIN, f64::MIN);
            for n in inner {
                let (x, y, nw) = pos(n);
                (x0, y0, x1, y1) = (x0.min(x), y0.min(y), x1.max(x + nw), y1.max(y + NODE_H));
            }
            let _ = write!(
                s,
                "<g class=\"pipeline\" data-id=\"{id}\"><rect x=\"{:.0}\" y=\"{:.0}\" width=\"{:.0}\" height=\"{:.0}\" \
                 rx=\"6\" fill=\"#f4f6fb\" stroke=\"#99a\" stroke-dasharray=\"4 3\"/>\
                 <text x=\"{:.0}\" y=\"{:.0}\" fill=\"#556\" font-size=\"11\">pipeline {id}</text></g>",
                x0 - 8.0,
                y0 - 16.0,
                x1 - x0 + 16.0,
                y1 - y0 + 22.0,
                x0 - 4.0,
                y0 - 5.0,
                id = esc(&pipe.name)
            );
        }
        for &(a, b) in &edges {
            let (pa, pb) = (&placed[idx(a)], &placed[idx(b)]);
            let ((xa, ya, wa), (xb, yb, _)) = (pos(pa), pos(pb));
            let (x1, y1, x2, y2) = (xa + wa, ya + NODE_H / 2.0, xb, yb + NODE_H / 2.0);
            let mid = (x1 + x2) / 2.0;
            let _ = write!(
                s,
                "<path class=\"edge\" d=\"M{x1:.0},{y1:.0} C{mid:.0},{y1:.0} {mid:.0},{y2:.0} {x2:.0},{y2:.0}\" \
                 fill=\"none\" stroke=\"#667\" marker-end=\"url(#arrow)\"/>"
            );
        }
        for p in &placed {
            let (x, y, nw) = pos(p);
            let node = self.kind_of(p.end);
            let (fill, rx) = match node.kind {
                "receiver" => ("#e3f2e1", 14),
                "exporter" => ("#e1ebf7", 14),
                "connector" => ("#f7eedc", 2),
                "pipeline" => ("#ffffff", 20),
                _ => ("#ffffff", 4),
            };
            let _ = write!(
                s,
                "<g class=\"node {kind}\" data-id=\"{id}\"><title>{kind} {id}</title>\
                 <rect x=\"{x:.0}\" y=\"{y:.0}\" width=\"{nw:.0}\" height=\"{NODE_H:.0}\" rx=\"{rx}\" fill=\"{fill}\" stroke=\"#445\"/>\
                 <text class=\"label\" x=\"{tx:.0}\" y=\"{ty:.0}\" font-weight=\"bold\">{id}</text>",
                kind = node.kind,
                id = esc(node.id),
                tx = x + 10.0,
                ty = y + 16.0,
            );
            if let Some(n) = &p.note {
                let _ = write!(
                    s,
                    "<text class=\"stat\" x=\"{:.0}\" y=\"{:.0}\" fill=\"#333\">{}</text>",
                    x + 10.0,
                    y + 32.0,
                    esc(n)
                );
            }
            s.push_str("</g>");
        }
        s.push_str("</svg>");
        s
    }
}
