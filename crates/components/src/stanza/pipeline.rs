//! The operator graph: built from `operators:` (ids default to the type; each operator's
//! output defaults to the next one, the last one's to the receiver), run per entry with
//! `if:` and `on_error:` applied around each operator.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use switchyard_core::telemetry::LogThrottle;

use serde_json::Value;

use super::config::{OnError, OperatorConfig, Outputs, RouteConfig};
use super::container::Container;
use super::entry::Entry;
use super::expr::Expr;
use super::ops::{
    Add, CopyOp, Flatten, Move, Noop, Parser, RegexReplace, Remove, Retain, SeverityOp, TimeOp, Transform,
};
use super::recombine::Recombine;

/// Where an entry goes next.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Target {
    Op(usize),
    Out,
}

/// A router's route: its expression, where matches go, and the attributes they get.
type Route = (Expr, Vec<Target>, Vec<(String, Value)>);

/// What an operator does with entries.
enum Behavior {
    /// One entry in, one out.
    Transform(Box<dyn Transform>),
    /// Routes by expression; unmatched entries go to the default, or are dropped.
    Router { routes: Vec<Route>, default: Vec<Target> },
    /// Drops matching entries (a share of them).
    Filter { expr: Expr, drop_ratio: f64, seen: u64 },
    /// Holds entries and emits combined ones.
    Stateful(Box<dyn Stateful>),
}

/// An operator that may hold entries back (recombine, container's partial lines).
pub trait Stateful: Send {
    /// Takes one entry; pushes what is complete.
    fn process(&mut self, e: Entry, out: &mut Vec<Entry>) -> Result<(), String>;
    /// Pushes what has waited long enough (`force` at shutdown: everything).
    fn flush(&mut self, now: Instant, force: bool, out: &mut Vec<Entry>);
}

struct Node {
    id: String,
    cond: Option<Expr>,
    on_error: OnError,
    behavior: Behavior,
    outputs: Vec<Target>,
}

/// A built operator pipeline.
pub struct Pipeline {
    nodes: Vec<Node>,
    /// Operator errors hit every entry of a stream: logged once in a while, all counted.
    log: LogThrottle,
    /// Operator errors seen, for the receiver's metric.
    pub errors: u64,
}

/// Builds every operator; the message names the operator.
pub fn build(cfgs: &[OperatorConfig]) -> Result<Pipeline, String> {
    // Operators without an `id` are named after their type; repeats get a number
    // (`move`, `move1`, `move2`), as stanza names them.
    let mut per_type: HashMap<&str, usize> = HashMap::new();
    let mut names = Vec::with_capacity(cfgs.len());
    for c in cfgs {
        names.push(match c.common().0 {
            Some(id) => id.to_string(),
            None => {
                let n = per_type.entry(c.type_name()).or_insert(0);
                let name = if *n == 0 { c.type_name().to_string() } else { format!("{}{n}", c.type_name()) };
                *n += 1;
                name
            }
        });
    }
    let mut ids: HashMap<String, usize> = HashMap::new();
    for (i, id) in names.iter().enumerate() {
        if ids.insert(id.clone(), i).is_some() {
            return Err(format!("operators[{i}]: duplicate operator id {id:?} (set a different `id:`)"));
        }
    }
    let resolve = |i: usize, o: &Outputs| -> Result<Vec<Target>, String> {
        o.ids()
            .into_iter()
            .map(|id| {
                ids.get(&id)
                    .map(|j| Target::Op(*j))
                    .ok_or_else(|| format!("operators[{i}]: output {id:?} is not the id of an operator"))
            })
            .collect()
    };
    let mut nodes = Vec::with_capacity(cfgs.len());
    for (i, c) in cfgs.iter().enumerate() {
        let (_, output, cond, on_error) = c.common();
        let id = names[i].clone();
        let outputs = match output {
            Some(o) => resolve(i, o)?,
            None if i + 1 < cfgs.len() => vec![Target::Op(i + 1)],
            None => vec![Target::Out],
        };
        let ctx = |m: String| format!("operators[{i}] ({id}): {m}");
        let behavior = match c {
            OperatorConfig::JsonParser(p) => Behavior::Transform(Box::new(Parser::json(p).map_err(ctx)?)),
            OperatorConfig::RegexParser(p) => Behavior::Transform(Box::new(Parser::regex(p).map_err(ctx)?)),
            OperatorConfig::Move(m) => Behavior::Transform(Box::new(Move { from: m.from.clone(), to: m.to.clone() })),
            OperatorConfig::Copy(m) => Behavior::Transform(Box::new(CopyOp { from: m.from.clone(), to: m.to.clone() })),
            OperatorConfig::Add(a) => {
                Behavior::Transform(Box::new(Add { field: a.field.clone(), value: a.value.clone() }))
            }
            OperatorConfig::Remove(r) => Behavior::Transform(Box::new(Remove { field: r.field.clone() })),
            OperatorConfig::Flatten(r) => Behavior::Transform(Box::new(Flatten { field: r.field.clone() })),
            OperatorConfig::Noop(_) => Behavior::Transform(Box::new(Noop)),
            OperatorConfig::RegexReplace(r) => Behavior::Transform(Box::new(RegexReplace::new(r).map_err(ctx)?)),
            OperatorConfig::Router(r) => {
                let route = |rc: &RouteConfig| -> Result<_, String> {
                    let attrs: Vec<(String, Value)> =
                        rc.attributes.iter().map(|(k, v)| (k.clone(), v.clone())).collect();
                    Ok((rc.expr.clone(), resolve(i, &rc.output)?, attrs))
                };
                let routes = r.routes.iter().map(route).collect::<Result<Vec<_>, _>>()?;
                let default = match &r.default {
                    Some(d) => resolve(i, d)?,
                    None => Vec::new(),
                };
                Behavior::Router { routes, default }
            }
            OperatorConfig::Filter(f) => {
                if !(0.0..=1.0).contains(&f.drop_ratio) {
                    return Err(ctx("drop_ratio must be between 0 and 1".into()));
                }
                Behavior::Filter { expr: f.expr.clone(), drop_ratio: f.drop_ratio, seen: 0 }
            }
            OperatorConfig::Container(c) => Behavior::Stateful(Box::new(Container::new(c).map_err(ctx)?)),
            OperatorConfig::Recombine(r) => Behavior::Stateful(Box::new(Recombine::new(r).map_err(ctx)?)),
            OperatorConfig::TimeParser(t) => {
                let p = t.sub_parser();
                p.check().map_err(ctx)?;
                Behavior::Transform(Box::new(TimeOp(p)))
            }
            OperatorConfig::SeverityParser(s) => {
                let p = s.sub_parser();
                p.check().map_err(ctx)?;
                Behavior::Transform(Box::new(SeverityOp(p)))
            }
            OperatorConfig::Retain(r) => Behavior::Transform(Box::new(Retain { fields: r.fields.clone() })),
        };
        nodes.push(Node { id, cond: cond.cloned(), on_error, behavior, outputs });
    }
    Ok(Pipeline { nodes, log: LogThrottle::new(Duration::from_secs(10)), errors: 0 })
}

/// Hops one entry may take through the graph; a config with a cycle stops here.
const MAX_HOPS: usize = 1000;

impl Pipeline {
    /// True when there are no operators (entries pass unchanged).
    pub fn is_empty(&self) -> bool {
        self.nodes.is_empty()
    }

    /// Runs `e` through the operators; what leaves the graph is pushed to `out`.
    pub fn process(&mut self, e: Entry, out: &mut Vec<Entry>) {
        let start = if self.nodes.is_empty() { Target::Out } else { Target::Op(0) };
        self.run(vec![(start, e)], out);
    }

    /// Flushes held entries (recombine, partial container lines) downstream.
    pub fn flush(&mut self, now: Instant, force: bool, out: &mut Vec<Entry>) {
        for i in 0..self.nodes.len() {
            let mut held = Vec::new();
            if let Behavior::Stateful(s) = &mut self.nodes[i].behavior {
                s.flush(now, force, &mut held);
            }
            let outputs = self.nodes[i].outputs.clone();
            let work = held.into_iter().flat_map(|e| fan(&outputs, e)).collect();
            self.run(work, out);
        }
    }

    fn run(&mut self, mut work: Vec<(Target, Entry)>, out: &mut Vec<Entry>) {
        let mut hops = 0;
        while let Some((t, mut e)) = work.pop() {
            let Target::Op(i) = t else {
                out.push(e);
                continue;
            };
            hops += 1;
            if hops > MAX_HOPS {
                tracing::warn!(operator = %self.nodes[i].id, "Operator graph loops; dropping the entry.");
                continue;
            }
            let node = &mut self.nodes[i];
            if node.cond.as_ref().is_some_and(|c| !c.matches(&e)) {
                work.extend(fan(&node.outputs, e));
                continue;
            }
            match &mut node.behavior {
                Behavior::Transform(t) => match t.apply(&mut e) {
                    Ok(()) => work.extend(fan(&node.outputs, e)),
                    Err(m) => {
                        self.errors += 1;
                        if report(&self.log, &node.id, node.on_error, &m) {
                            work.extend(fan(&node.outputs, e));
                        }
                    }
                },
                Behavior::Router { routes, default } => {
                    let hit = routes.iter().find(|(x, _, _)| x.matches(&e));
                    let targets = match hit {
                        Some((_, t, attrs)) => {
                            for (k, v) in attrs {
                                e.attributes.insert(k.clone(), v.clone());
                            }
                            t.clone()
                        }
                        None => default.clone(),
                    };
                    work.extend(fan(&targets, e));
                }
                Behavior::Filter { expr, drop_ratio, seen } => {
                    if expr.matches(&e) {
                        *seen += 1;
                        // Deterministic thinning: of every run of matches, keep the share not dropped.
                        let keep_every =
                            if *drop_ratio >= 1.0 { 0 } else { (1.0 / (1.0 - *drop_ratio)).round() as u64 };
                        if keep_every == 0 || *seen % keep_every != 0 {
                            continue;
                        }
                    }
                    work.extend(fan(&node.outputs, e));
                }
                Behavior::Stateful(s) => {
                    let mut done = Vec::new();
                    let backup =
                        (node.on_error != OnError::Drop && node.on_error != OnError::DropQuiet).then(|| e.clone());
                    if let Err(m) = s.process(e, &mut done) {
                        self.errors += 1;
                        if report(&self.log, &node.id, node.on_error, &m) {
                            if let Some(b) = backup {
                                done.push(b);
                            }
                        }
                    }
                    for d in done {
                        work.extend(fan(&node.outputs, d));
                    }
                }
            }
        }
    }
}

/// One copy of `e` per target (the last target gets the original).
fn fan(targets: &[Target], e: Entry) -> Vec<(Target, Entry)> {
    let mut v: Vec<(Target, Entry)> = targets.iter().skip(1).map(|t| (*t, e.clone())).collect();
    if let Some(t) = targets.first() {
        v.push((*t, e));
    }
    v
}

/// Logs an operator error per `on_error` (warnings throttled); true when the entry is sent on.
fn report(log: &LogThrottle, id: &str, on_error: OnError, message: &str) -> bool {
    let send = matches!(on_error, OnError::Send | OnError::SendQuiet);
    let quiet = matches!(on_error, OnError::SendQuiet | OnError::DropQuiet);
    let what = if send { "sending the entry on unchanged" } else { "dropping the entry" };
    if quiet {
        tracing::debug!(operator = %id, error = %message, "Operator failed; {what}.");
    } else if let Some(suppressed) = log.allow() {
        tracing::warn!(operator = %id, error = %message, suppressed, "Operator failed; {what}.");
    }
    send
}
