//! The compiled form of a filter config: per signal, the OTTL conditions sorted by the
//! level they drop (resource, scope, item, sub-item), each with its `error_mode`, plus the
//! legacy matchers. Compiling is also how the config is validated, so every error is
//! found at load time and placed at its YAML key (`traces::span::0`,
//! `trace_conditions::1::conditions::0`).

use switchyard_core::component::FieldError;
use switchyard_ottl::eval::{CompiledCondition, ErrorMode};
use switchyard_ottl::{Component, Context, Signal};

use super::config::{ConditionsEntry, FilterProcessorConfig};
use crate::filterconfig::logs::LogSkip;
use crate::filterconfig::metrics::MetricSkip;
use crate::filterconfig::spans::SpanSkip;
use crate::ottl;

/// A condition and what its run-time errors do.
#[derive(Debug)]
pub(crate) struct Cond {
    pub(crate) cond: CompiledCondition,
    pub(crate) mode: ErrorMode,
}

/// OR-ed conditions of one level: an item matching any is dropped.
#[derive(Debug, Default)]
pub(crate) struct CondList(pub(crate) Vec<Cond>);

impl CondList {
    pub(crate) fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

/// The conditions of one signal by level: resource, scope, the item (span, metric, log
/// record) and the sub-item (span event, data point).
#[derive(Debug, Default)]
pub(crate) struct Levels {
    pub(crate) resource: CondList,
    pub(crate) scope: CondList,
    pub(crate) item: CondList,
    pub(crate) sub: CondList,
}

impl Levels {
    pub(crate) fn is_empty(&self) -> bool {
        self.resource.is_empty() && self.scope.is_empty() && self.item.is_empty() && self.sub.is_empty()
    }

    fn push(&mut self, context: Context, cond: Cond) {
        let list = match context {
            Context::Resource => &mut self.resource,
            Context::Scope => &mut self.scope,
            Context::Span | Context::Metric | Context::Log | Context::Profile => &mut self.item,
            Context::SpanEvent | Context::DataPoint => &mut self.sub,
        };
        list.0.push(cond);
    }
}

/// Everything the processor runs.
#[derive(Debug, Default)]
pub(crate) struct Plans {
    pub(crate) traces: Levels,
    pub(crate) spans_legacy: Option<SpanSkip>,
    pub(crate) metrics: Levels,
    pub(crate) metrics_legacy: Option<MetricSkip>,
    pub(crate) logs: Levels,
    pub(crate) logs_legacy: Option<LogSkip>,
}

impl Plans {
    /// Compiles the whole config, reporting every problem.
    pub(crate) fn compile(cfg: &FilterProcessorConfig) -> Result<Plans, Vec<FieldError>> {
        let mut errors = cfg.conflicts();
        let mut plans = Plans::default();
        let top = ErrorMode::from(cfg.error_mode);
        let mut keyed = |levels: &mut Levels, key: &str, context: Context, list: &[String]| {
            for (i, text) in list.iter().enumerate() {
                let field = format!("{key}::{i}");
                match ottl::compile_condition(&field, text, context, Component::Filter) {
                    Ok(cond) => levels.push(context, Cond { cond, mode: top }),
                    Err(e) => errors.extend(e),
                }
            }
        };
        keyed(&mut plans.traces, "traces::resource", Context::Resource, &cfg.traces.resource);
        keyed(&mut plans.traces, "traces::span", Context::Span, &cfg.traces.span);
        keyed(&mut plans.traces, "traces::spanevent", Context::SpanEvent, &cfg.traces.spanevent);
        keyed(&mut plans.metrics, "metrics::resource", Context::Resource, &cfg.metrics.resource);
        keyed(&mut plans.metrics, "metrics::metric", Context::Metric, &cfg.metrics.metric);
        keyed(&mut plans.metrics, "metrics::datapoint", Context::DataPoint, &cfg.metrics.datapoint);
        keyed(&mut plans.logs, "logs::resource", Context::Resource, &cfg.logs.resource);
        keyed(&mut plans.logs, "logs::log_record", Context::Log, &cfg.logs.log_record);
        // Profiles are only checked: the factory does not take profiles pipelines.
        let mut profiles = Levels::default();
        keyed(&mut profiles, "profiles::resource", Context::Resource, &cfg.profiles.resource);
        keyed(&mut profiles, "profiles::profile", Context::Profile, &cfg.profiles.profile);

        let inferred = [
            (&mut plans.traces, "trace_conditions", Signal::Traces, &cfg.trace_conditions),
            (&mut plans.metrics, "metric_conditions", Signal::Metrics, &cfg.metric_conditions),
            (&mut plans.logs, "log_conditions", Signal::Logs, &cfg.log_conditions),
            (&mut profiles, "profile_conditions", Signal::Profiles, &cfg.profile_conditions),
        ];
        for (levels, key, signal, entries) in inferred {
            errors.extend(compile_entries(levels, key, signal, entries, top));
        }

        match SpanSkip::compile(&cfg.spans) {
            Ok(s) => plans.spans_legacy = s,
            Err(e) => errors.extend(e),
        }
        match MetricSkip::compile(cfg.metrics.include.as_ref(), cfg.metrics.exclude.as_ref()) {
            Ok(s) => plans.metrics_legacy = s,
            Err(e) => errors.extend(e),
        }
        match LogSkip::compile(cfg.logs.include.as_ref(), cfg.logs.exclude.as_ref()) {
            Ok(s) => plans.logs_legacy = s,
            Err(e) => errors.extend(e),
        }
        if errors.is_empty() {
            Ok(plans)
        } else {
            Err(errors)
        }
    }
}

/// Compiles a `*_conditions` list. A condition without a group `context` gets its own
/// context inferred from its path prefixes, so one list can drop resources, spans and span
/// events alike; levels run from the top down.
fn compile_entries(
    levels: &mut Levels,
    key: &str,
    signal: Signal,
    entries: &[ConditionsEntry],
    top: ErrorMode,
) -> Vec<FieldError> {
    let mut errors = Vec::new();
    for (i, entry) in entries.iter().enumerate() {
        match entry {
            ConditionsEntry::Flat(text) => {
                errors.extend(compile_one(levels, signal, format!("{key}::{i}"), text, None, top));
            }
            ConditionsEntry::Group(g) => {
                let mode = g.error_mode.map_or(top, ErrorMode::from);
                let context = match &g.context {
                    None => None,
                    Some(name) => {
                        let lower = name.to_ascii_lowercase();
                        match Context::from_name(&lower).filter(|c| signal.contexts().contains(c)) {
                            Some(c) => Some(c),
                            None => {
                                let valid: Vec<&str> = signal.contexts().iter().map(|c| c.name()).collect();
                                errors.push(FieldError::new(
                                    format!("{key}::{i}::context"),
                                    format!("unknown context {name:?} for {key}; valid contexts: {}", valid.join(", ")),
                                ));
                                continue;
                            }
                        }
                    }
                };
                for (j, text) in g.conditions.iter().enumerate() {
                    let field = format!("{key}::{i}::conditions::{j}");
                    errors.extend(compile_one(levels, signal, field, text, context, mode));
                }
            }
        }
    }
    errors
}

/// Compiles one condition in its given or inferred context and files it at its level.
fn compile_one(
    levels: &mut Levels,
    signal: Signal,
    field: String,
    text: &str,
    context: Option<Context>,
    mode: ErrorMode,
) -> Vec<FieldError> {
    let compiled = match context {
        Some(context) => ottl::compile_condition(&field, text, context, Component::Filter).map(|c| (context, c)),
        None => ottl::compile_inferred(signal, Component::Filter, &[], &[(field, text)]).and_then(|mut inf| {
            let context = inf.context;
            inf.conditions.pop().map(|c| (context, c)).ok_or_else(Vec::new)
        }),
    };
    match compiled {
        Ok((context, cond)) => {
            levels.push(context, Cond { cond, mode });
            Vec::new()
        }
        Err(e) => e,
    }
}
