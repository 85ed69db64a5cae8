//! Checks a decoded test file against the configuration it tests and prepares each case:
//! every receiver, pipeline, processor and exporter it names must exist and carry the
//! input's signal, every OTTL condition must compile, and the inputs become requests. All
//! problems are collected, each at the file, line and column of the node it is about.

use std::fmt;

use serde_json::Value as Json;
use switchyard_components::ottl::compile_condition;
use switchyard_core::component::{ComponentId, Kind, PipelineId};
use switchyard_core::config::{suggestion, Config, ConfigError, ConfigErrors, Location, Node};
use switchyard_core::consumer::RequestContext;
use switchyard_ottl::eval::CompiledCondition;
use switchyard_ottl::{Component, Context};
use switchyard_pdata::Signal;

use super::input::{self, Data};
use super::spec::{Expectation, Input, TestFile};

/// One case, ready to run.
pub struct CasePlan {
    /// Its name.
    pub name: String,
    /// Requests to push, in order.
    pub inputs: Vec<InputPlan>,
    /// What to check afterwards.
    pub expects: Vec<ExpectPlan>,
}

/// One request and where it enters.
pub struct InputPlan {
    /// Where.
    pub inlet: Inlet,
    /// With which request context.
    pub cx: RequestContext,
    /// The telemetry.
    pub data: Data,
}

/// Where an input enters.
pub enum Inlet {
    /// As this receiver would send it.
    Receiver(ComponentId),
    /// In front of processor `index` of a pipeline (`0`: its start).
    Stage {
        /// The pipeline.
        pipeline: PipelineId,
        /// The processor's position.
        index: usize,
    },
}

/// Where an expectation looks.
pub enum Outlet {
    /// What an exporter received.
    Exporter(ComponentId),
    /// What a pipeline handed on after its processors.
    Pipeline(PipelineId),
}

impl fmt::Display for Outlet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Outlet::Exporter(id) => write!(f, "exporter {id}"),
            Outlet::Pipeline(id) => write!(f, "pipeline {id}"),
        }
    }
}

/// One expectation, checked and compiled.
pub struct ExpectPlan {
    /// Where it is written, for the failure report.
    pub loc: Location,
    /// Where it looks.
    pub outlet: Outlet,
    /// Which signal's items it is about.
    pub signal: Signal,
    /// Selects the items the rest applies to.
    pub selector: Option<CompiledCondition>,
    /// How many selected items there must be.
    pub count: Option<usize>,
    /// Item attributes (`null`: absent).
    pub attributes: Vec<(String, Json)>,
    /// Resource attributes (`null`: absent).
    pub resource: Vec<(String, Json)>,
    /// Conditions every selected item must satisfy.
    pub conditions: Vec<CompiledCondition>,
}

/// Resolves every case of `file` against `cfg`; `root` is the test file's YAML, for locations.
pub fn plan(file: &TestFile, root: &Node, cfg: &Config) -> Result<Vec<CasePlan>, ConfigErrors> {
    let mut p = Planner { root, cfg, errors: Vec::new() };
    if file.tests.is_empty() {
        p.error(&["tests".into()], "the file has no test cases");
    }
    let mut cases = Vec::new();
    for (i, case) in file.tests.iter().enumerate() {
        let at = |rest: &[&str]| -> Vec<String> {
            ["tests".to_string(), i.to_string()].into_iter().chain(rest.iter().map(|s| s.to_string())).collect()
        };
        if case.inputs.is_empty() {
            p.error(&at(&["inputs"]), "a case needs at least one input");
        }
        if case.expect.is_empty() {
            p.error(&at(&["expect"]), "a case needs at least one expectation");
        }
        let inputs: Vec<InputPlan> = case
            .inputs
            .iter()
            .enumerate()
            .filter_map(|(j, inp)| p.input(inp, j, &at(&["inputs", j.to_string().as_str()])))
            .collect();
        let expects: Vec<ExpectPlan> = case
            .expect
            .iter()
            .enumerate()
            .filter_map(|(j, e)| p.expectation(e, &at(&["expect", j.to_string().as_str()])))
            .collect();
        cases.push(CasePlan { name: case.name.clone(), inputs, expects });
    }
    if p.errors.is_empty() {
        Ok(cases)
    } else {
        Err(ConfigErrors(p.errors))
    }
}

struct Planner<'a> {
    root: &'a Node,
    cfg: &'a Config,
    errors: Vec<ConfigError>,
}

impl Planner<'_> {
    /// The location of the deepest existing node on `path`.
    fn loc(&self, path: &[String]) -> Location {
        let mut path: Vec<&str> = path.iter().map(String::as_str).collect();
        loop {
            if let Some(n) = self.root.find(&path) {
                return n.loc.clone();
            }
            if path.pop().is_none() {
                return self.root.loc.clone();
            }
        }
    }

    fn error(&mut self, path: &[String], message: impl Into<String>) {
        let loc = self.loc(path);
        self.errors.push(ConfigError::at(loc, key_path(path), message));
    }

    fn input(&mut self, inp: &Input, index: usize, at: &[String]) -> Option<InputPlan> {
        let sub = |rest: &[String]| -> Vec<String> { at.iter().chain(rest).cloned().collect() };
        let built = input::build(inp, index).and_then(|data| Ok((data, input::context(&inp.headers)?)));
        let (data, cx) = match built {
            Ok(v) => v,
            Err(e) => {
                self.error(&sub(&e.path), e.message);
                return None;
            }
        };
        let signal = data.signal();
        let inlet = match (&inp.receiver, &inp.pipeline) {
            (Some(_), Some(_)) | (None, None) => {
                self.error(at, "an input needs exactly one of receiver or pipeline");
                return None;
            }
            (Some(r), None) => {
                if inp.processor.is_some() {
                    self.error(&sub(&["processor".into()]), "processor goes with pipeline, not receiver");
                    return None;
                }
                Inlet::Receiver(self.receiver(r, signal, &sub(&["receiver".into()]))?)
            }
            (None, Some(name)) => {
                let pipeline = self.pipeline(name, Some(signal), &sub(&["pipeline".into()]))?;
                let index = match &inp.processor {
                    None => 0,
                    Some(proc) => self.processor_index(&pipeline, proc, &sub(&["processor".into()]))?,
                };
                Inlet::Stage { pipeline, index }
            }
        };
        Some(InputPlan { inlet, cx, data })
    }

    fn receiver(&mut self, name: &str, signal: Signal, at: &[String]) -> Option<ComponentId> {
        let used: Vec<ComponentId> = self
            .cfg
            .service
            .pipelines
            .values()
            .filter(|p| p.id.signal() == signal)
            .flat_map(|p| p.receivers.iter().map(|r| r.id.clone()))
            .filter(|id| self.cfg.get(Kind::Receiver, id).is_some())
            .collect();
        let id = ComponentId::parse(name).ok().filter(|id| used.contains(id));
        if id.is_none() {
            let names: Vec<String> = used.iter().map(ToString::to_string).collect();
            let hint = suggestion(name, names.iter().map(String::as_str));
            let connector =
                ComponentId::parse(name).ok().is_some_and(|id| self.cfg.get(Kind::Connector, &id).is_some());
            let extra = if connector { " (a connector: name the pipeline it feeds with `pipeline:`)" } else { "" };
            self.error(
                at,
                format!(
                    "\"{name}\" is not a receiver of any {signal} pipeline{hint}{extra} (receivers: {})",
                    names.join(", ")
                ),
            );
        }
        id
    }

    fn pipeline(&mut self, name: &str, signal: Option<Signal>, at: &[String]) -> Option<PipelineId> {
        let known: Vec<String> = self.cfg.service.pipelines.keys().map(ToString::to_string).collect();
        let Some(id) = PipelineId::parse(name).ok().filter(|id| self.cfg.service.pipelines.contains_key(id)) else {
            let hint = suggestion(name, known.iter().map(String::as_str));
            self.error(at, format!("no pipeline \"{name}\"{hint} (pipelines: {})", known.join(", ")));
            return None;
        };
        if let Some(s) = signal.filter(|s| *s != id.signal()) {
            self.error(at, format!("pipeline \"{id}\" carries {}, not {s}", id.signal()));
            return None;
        }
        Some(id)
    }

    fn processor_index(&mut self, pipeline: &PipelineId, name: &str, at: &[String]) -> Option<usize> {
        let procs = &self.cfg.service.pipelines.get(pipeline)?.processors;
        let names: Vec<String> = procs.iter().map(|r| r.id.to_string()).collect();
        match names.iter().position(|n| n == name) {
            Some(i) => Some(i),
            None => {
                let hint = suggestion(name, names.iter().map(String::as_str));
                self.error(
                    at,
                    format!(
                        "pipeline \"{pipeline}\" has no processor \"{name}\"{hint} (processors: [{}])",
                        names.join(", ")
                    ),
                );
                None
            }
        }
    }

    fn expectation(&mut self, e: &Expectation, at: &[String]) -> Option<ExpectPlan> {
        let sub = |k: &str| -> Vec<String> { at.iter().cloned().chain([k.to_string()]).collect() };
        let wanted = match &e.signal {
            None => None,
            Some(s) => match Signal::parse(s).filter(|s| *s != Signal::Profiles) {
                Some(s) => Some(s),
                None => {
                    self.error(&sub("signal"), format!("unknown signal \"{s}\" (valid: traces, metrics, logs)"));
                    return None;
                }
            },
        };
        let (outlet, signal) = match (&e.exporter, &e.pipeline) {
            (Some(_), Some(_)) | (None, None) => {
                self.error(at, "an expectation needs exactly one of exporter or pipeline");
                return None;
            }
            (Some(name), None) => {
                let (id, signal) = self.exporter(name, wanted, &sub("exporter"))?;
                (Outlet::Exporter(id), signal)
            }
            (None, Some(name)) => {
                let id = self.pipeline(name, wanted, &sub("pipeline"))?;
                let signal = id.signal();
                if signal == Signal::Profiles {
                    self.error(&sub("pipeline"), "profiles cannot be asserted");
                    return None;
                }
                (Outlet::Pipeline(id), signal)
            }
        };
        let context = match signal {
            Signal::Metrics => Context::DataPoint,
            Signal::Logs => Context::Log,
            _ => Context::Span,
        };
        let mut ok = true;
        let mut compile = |this: &mut Self, text: &str, path: Vec<String>| match compile_condition(
            &key_path(&path),
            text,
            context,
            Component::Any,
        ) {
            Ok(c) => Some(c),
            Err(errs) => {
                for fe in errs {
                    this.error(&path, fe.message);
                }
                ok = false;
                None
            }
        };
        let selector = e.where_.as_deref().and_then(|w| compile(self, w, sub("where")));
        let conditions: Vec<CompiledCondition> = e
            .conditions
            .iter()
            .enumerate()
            .filter_map(|(k, c)| compile(self, c, [sub("conditions"), vec![k.to_string()]].concat()))
            .collect();
        if e.count.is_none() && e.attributes.is_empty() && e.resource.is_empty() && e.conditions.is_empty() {
            self.error(at, "an expectation needs count, attributes, resource or conditions");
            return None;
        }
        if !ok {
            return None;
        }
        Some(ExpectPlan {
            loc: self.loc(at),
            outlet,
            signal,
            selector,
            count: e.count,
            attributes: e.attributes.iter().map(|(k, v)| (k.clone(), v.clone())).collect(),
            resource: e.resource.iter().map(|(k, v)| (k.clone(), v.clone())).collect(),
            conditions,
        })
    }

    /// An exporter and the one signal the expectation is about.
    fn exporter(&mut self, name: &str, wanted: Option<Signal>, at: &[String]) -> Option<(ComponentId, Signal)> {
        let id = ComponentId::parse(name).ok();
        let defined = id.as_ref().is_some_and(|id| self.cfg.get(Kind::Exporter, id).is_some());
        if !defined {
            let names: Vec<String> = self
                .cfg
                .components
                .keys()
                .filter(|(k, _)| *k == Kind::Exporter)
                .map(|(_, id)| id.to_string())
                .collect();
            let hint = suggestion(name, names.iter().map(String::as_str));
            let connector = id.as_ref().is_some_and(|id| self.cfg.get(Kind::Connector, id).is_some());
            let extra = if connector { " (a connector: name a pipeline it feeds with `pipeline:`)" } else { "" };
            self.error(at, format!("no exporter \"{name}\"{hint}{extra} (exporters: {})", names.join(", ")));
            return None;
        }
        let id = id?;
        let mut signals: Vec<Signal> = self
            .cfg
            .service
            .pipelines
            .values()
            .filter(|p| p.exporters.iter().any(|r| r.id == id))
            .map(|p| p.id.signal())
            .filter(|s| *s != Signal::Profiles)
            .collect();
        signals.sort();
        signals.dedup();
        let list = signals.iter().map(|s| s.as_str()).collect::<Vec<_>>().join(", ");
        match (wanted, signals.as_slice()) {
            (_, []) => {
                self.error(at, format!("exporter \"{id}\" is not used by any traces, metrics or logs pipeline"));
                None
            }
            (Some(s), _) if signals.contains(&s) => Some((id, s)),
            (Some(s), _) => {
                self.error(at, format!("exporter \"{id}\" gets no {s} (it is in {list} pipelines)"));
                None
            }
            (None, [one]) => Some((id, *one)),
            (None, _) => {
                self.error(at, format!("exporter \"{id}\" is in {list} pipelines: add `signal:` to say which"));
                None
            }
        }
    }
}

/// `tests[0]::inputs[1]::spans[0]::trace_id`, as the config loader writes key paths.
fn key_path(path: &[String]) -> String {
    let mut out = String::new();
    for seg in path {
        if seg.parse::<usize>().is_ok() {
            out.push_str(&format!("[{seg}]"));
        } else {
            if !out.is_empty() {
                out.push_str("::");
            }
            out.push_str(seg);
        }
    }
    out
}
