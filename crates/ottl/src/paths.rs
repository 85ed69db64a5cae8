//! The Collector's OTTL contexts: their path names, which higher contexts each can reach,
//! their enums, and how a parsed path resolves to a field of one of them.
//!
//! Taken from pkg/ottl/contexts (ctxspan, ctxlog, ctxmetric, ctxdatapoint, ctxresource,
//! ctxscope, ctxspanevent, ctxprofile) as of contrib ≈ v0.130–0.140. A statement runs in one
//! context (e.g. `span`) and may read the contexts above it through a prefix
//! (`resource.attributes`, `instrumentation_scope.name`); `cache` exists only in the
//! statement's own context.

use strsim::jaro_winkler;

use crate::ast::{Field, Path};

/// An OTTL context: the kind of record a statement runs against.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Context {
    /// A resource (`resource`).
    Resource,
    /// An instrumentation scope (`scope`, also written `instrumentation_scope`).
    Scope,
    /// A span.
    Span,
    /// A span event.
    SpanEvent,
    /// A log record (`log`).
    Log,
    /// A metric.
    Metric,
    /// A metric data point (`datapoint`).
    DataPoint,
    /// A profile (the paths listed are the common ones; profiles are still in development).
    Profile,
}

/// A telemetry signal; it decides which contexts inference may pick.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Signal {
    /// Traces: resource, scope, span, spanevent.
    Traces,
    /// Metrics: resource, scope, metric, datapoint.
    Metrics,
    /// Logs: resource, scope, log.
    Logs,
    /// Profiles: resource, scope, profile.
    Profiles,
}

impl Signal {
    /// The contexts a statement of this signal may run in, from the top down.
    pub fn contexts(self) -> &'static [Context] {
        use Context::*;
        match self {
            Signal::Traces => &[Resource, Scope, Span, SpanEvent],
            Signal::Metrics => &[Resource, Scope, Metric, DataPoint],
            Signal::Logs => &[Resource, Scope, Log],
            Signal::Profiles => &[Resource, Scope, Profile],
        }
    }
}

/// Whether paths must carry a context prefix.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PathPrefixes {
    /// The context was given (`context: span` in a transform group, filter's `traces.span`
    /// keys, routing's `context`): a path without a known context prefix belongs to it, which
    /// is how the Collector rewrites `name` into `span.name` before parsing.
    Optional,
    /// The context is inferred from the statements (transform's flat list, filter's
    /// `*_conditions` without `context`): every path must start with a context name.
    Required,
}

/// How a path index may be used on a field.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Keys {
    /// No `[…]` allowed.
    None,
    /// Any number of keys (maps and slices inside, e.g. `attributes["a"][0]`).
    Any,
    /// Exactly one key or none (`trace_state["k"]`).
    One,
}

/// One field a context offers.
#[derive(Debug, Clone, Copy)]
struct FieldSpec {
    name: &'static str,
    keys: Keys,
    /// Allowed second segments, e.g. `string` for `trace_id.string`.
    sub: &'static [&'static str],
}

const fn f(name: &'static str) -> FieldSpec {
    FieldSpec { name, keys: Keys::None, sub: &[] }
}
const fn map(name: &'static str) -> FieldSpec {
    FieldSpec { name, keys: Keys::Any, sub: &[] }
}
const fn sub(name: &'static str, sub: &'static [&'static str]) -> FieldSpec {
    FieldSpec { name, keys: Keys::None, sub }
}

const RESOURCE: &[FieldSpec] = &[map("attributes"), f("dropped_attributes_count"), f("schema_url")];
const SCOPE: &[FieldSpec] =
    &[f("name"), f("version"), map("attributes"), f("dropped_attributes_count"), f("schema_url")];
const SPAN: &[FieldSpec] = &[
    sub("trace_id", &["string"]),
    sub("span_id", &["string"]),
    sub("parent_span_id", &["string"]),
    FieldSpec { name: "trace_state", keys: Keys::One, sub: &[] },
    f("name"),
    sub("kind", &["string", "deprecated_string"]),
    f("start_time_unix_nano"),
    f("end_time_unix_nano"),
    f("start_time"),
    f("end_time"),
    map("attributes"),
    f("dropped_attributes_count"),
    f("events"),
    f("dropped_events_count"),
    f("links"),
    f("dropped_links_count"),
    sub("status", &["code", "message"]),
];
const SPAN_EVENT: &[FieldSpec] =
    &[f("time_unix_nano"), f("time"), f("name"), map("attributes"), f("dropped_attributes_count"), f("event_index")];
const LOG: &[FieldSpec] = &[
    f("time_unix_nano"),
    f("observed_time_unix_nano"),
    f("time"),
    f("observed_time"),
    f("severity_number"),
    f("severity_text"),
    FieldSpec { name: "body", keys: Keys::Any, sub: &["string"] },
    map("attributes"),
    f("dropped_attributes_count"),
    f("flags"),
    sub("trace_id", &["string"]),
    sub("span_id", &["string"]),
    f("event_name"),
];
const METRIC: &[FieldSpec] = &[
    f("name"),
    f("description"),
    f("unit"),
    f("type"),
    f("aggregation_temporality"),
    f("is_monotonic"),
    f("data_points"),
    map("metadata"),
];
const DATA_POINT: &[FieldSpec] = &[
    map("attributes"),
    f("start_time_unix_nano"),
    f("time_unix_nano"),
    f("start_time"),
    f("time"),
    f("value_double"),
    f("value_int"),
    f("exemplars"),
    f("flags"),
    f("count"),
    f("sum"),
    f("bucket_counts"),
    f("explicit_bounds"),
    f("scale"),
    f("zero_count"),
    sub("positive", &["offset", "bucket_counts"]),
    sub("negative", &["offset", "bucket_counts"]),
    f("quantile_values"),
];
const PROFILE: &[FieldSpec] = &[
    map("attributes"),
    f("sample_type"),
    f("sample"),
    f("time_unix_nano"),
    f("time"),
    f("duration_unix_nano"),
    f("duration"),
    f("period_type"),
    f("period"),
    f("comment_string_indices"),
    sub("profile_id", &["string"]),
    f("dropped_attributes_count"),
    f("original_payload_format"),
    f("original_payload"),
    f("attribute_indices"),
];

const SPAN_ENUMS: &[(&str, i64)] = &[
    ("SPAN_KIND_UNSPECIFIED", 0),
    ("SPAN_KIND_INTERNAL", 1),
    ("SPAN_KIND_SERVER", 2),
    ("SPAN_KIND_CLIENT", 3),
    ("SPAN_KIND_PRODUCER", 4),
    ("SPAN_KIND_CONSUMER", 5),
    ("STATUS_CODE_UNSET", 0),
    ("STATUS_CODE_OK", 1),
    ("STATUS_CODE_ERROR", 2),
];
const LOG_ENUMS: &[(&str, i64)] = &[
    ("SEVERITY_NUMBER_UNSPECIFIED", 0),
    ("SEVERITY_NUMBER_TRACE", 1),
    ("SEVERITY_NUMBER_TRACE2", 2),
    ("SEVERITY_NUMBER_TRACE3", 3),
    ("SEVERITY_NUMBER_TRACE4", 4),
    ("SEVERITY_NUMBER_DEBUG", 5),
    ("SEVERITY_NUMBER_DEBUG2", 6),
    ("SEVERITY_NUMBER_DEBUG3", 7),
    ("SEVERITY_NUMBER_DEBUG4", 8),
    ("SEVERITY_NUMBER_INFO", 9),
    ("SEVERITY_NUMBER_INFO2", 10),
    ("SEVERITY_NUMBER_INFO3", 11),
    ("SEVERITY_NUMBER_INFO4", 12),
    ("SEVERITY_NUMBER_WARN", 13),
    ("SEVERITY_NUMBER_WARN2", 14),
    ("SEVERITY_NUMBER_WARN3", 15),
    ("SEVERITY_NUMBER_WARN4", 16),
    ("SEVERITY_NUMBER_ERROR", 17),
    ("SEVERITY_NUMBER_ERROR2", 18),
    ("SEVERITY_NUMBER_ERROR3", 19),
    ("SEVERITY_NUMBER_ERROR4", 20),
    ("SEVERITY_NUMBER_FATAL", 21),
    ("SEVERITY_NUMBER_FATAL2", 22),
    ("SEVERITY_NUMBER_FATAL3", 23),
    ("SEVERITY_NUMBER_FATAL4", 24),
];
const METRIC_ENUMS: &[(&str, i64)] = &[
    ("AGGREGATION_TEMPORALITY_UNSPECIFIED", 0),
    ("AGGREGATION_TEMPORALITY_DELTA", 1),
    ("AGGREGATION_TEMPORALITY_CUMULATIVE", 2),
    ("METRIC_DATA_TYPE_NONE", 0),
    ("METRIC_DATA_TYPE_GAUGE", 1),
    ("METRIC_DATA_TYPE_SUM", 2),
    ("METRIC_DATA_TYPE_HISTOGRAM", 3),
    ("METRIC_DATA_TYPE_EXPONENTIAL_HISTOGRAM", 4),
    ("METRIC_DATA_TYPE_SUMMARY", 5),
];
const DATA_POINT_ENUMS: &[(&str, i64)] = &[
    ("FLAG_NONE", 0),
    ("FLAG_NO_RECORDED_VALUE", 1),
    ("AGGREGATION_TEMPORALITY_UNSPECIFIED", 0),
    ("AGGREGATION_TEMPORALITY_DELTA", 1),
    ("AGGREGATION_TEMPORALITY_CUMULATIVE", 2),
    ("METRIC_DATA_TYPE_NONE", 0),
    ("METRIC_DATA_TYPE_GAUGE", 1),
    ("METRIC_DATA_TYPE_SUM", 2),
    ("METRIC_DATA_TYPE_HISTOGRAM", 3),
    ("METRIC_DATA_TYPE_EXPONENTIAL_HISTOGRAM", 4),
    ("METRIC_DATA_TYPE_SUMMARY", 5),
];

impl Context {
    /// Every context, top down.
    pub const ALL: [Context; 8] = [
        Context::Resource,
        Context::Scope,
        Context::Span,
        Context::SpanEvent,
        Context::Log,
        Context::Metric,
        Context::DataPoint,
        Context::Profile,
    ];

    /// The name used in configs (`context: spanevent`) and as a path prefix.
    pub fn name(self) -> &'static str {
        match self {
            Context::Resource => "resource",
            Context::Scope => "scope",
            Context::Span => "span",
            Context::SpanEvent => "spanevent",
            Context::Log => "log",
            Context::Metric => "metric",
            Context::DataPoint => "datapoint",
            Context::Profile => "profile",
        }
    }

    /// Parses a context name; `instrumentation_scope` is the scope's older name and still works.
    pub fn from_name(name: &str) -> Option<Context> {
        match name {
            "instrumentation_scope" => Some(Context::Scope),
            _ => Context::ALL.into_iter().find(|c| c.name() == name),
        }
    }

    /// The contexts above this one that its statements can reach with a prefix.
    pub fn higher(self) -> &'static [Context] {
        use Context::*;
        match self {
            Resource => &[],
            Scope => &[Resource],
            Span | Log | Metric | Profile => &[Resource, Scope],
            SpanEvent => &[Span, Resource, Scope],
            DataPoint => &[Metric, Resource, Scope],
        }
    }

    /// Every name that may start a path in a statement of this context: its own name, the
    /// higher contexts' names and `instrumentation_scope` wherever `scope` is reachable.
    pub fn prefixes(self) -> Vec<&'static str> {
        let mut names = vec![self.name()];
        for c in self.higher() {
            names.push(c.name());
        }
        if self == Context::Scope || self.higher().contains(&Context::Scope) {
            names.push("instrumentation_scope");
        }
        names
    }

    /// The enum symbols usable in this context and their values.
    pub fn enums(self) -> &'static [(&'static str, i64)] {
        match self {
            Context::Span | Context::SpanEvent => SPAN_ENUMS,
            Context::Log => LOG_ENUMS,
            Context::Metric => METRIC_ENUMS,
            Context::DataPoint => DATA_POINT_ENUMS,
            Context::Resource | Context::Scope | Context::Profile => &[],
        }
    }

    /// The value of an enum symbol in this context.
    pub fn enum_value(self, symbol: &str) -> Option<i64> {
        self.enums().iter().find(|(s, _)| *s == symbol).map(|(_, v)| *v)
    }

    fn fields(self) -> &'static [FieldSpec] {
        match self {
            Context::Resource => RESOURCE,
            Context::Scope => SCOPE,
            Context::Span => SPAN,
            Context::SpanEvent => SPAN_EVENT,
            Context::Log => LOG,
            Context::Metric => METRIC,
            Context::DataPoint => DATA_POINT,
            Context::Profile => PROFILE,
        }
    }

    /// Every path this context offers itself (without higher contexts), as documented, e.g.
    /// `trace_id.string`, `attributes[""]`, `cache[""]`.
    pub fn path_names(self) -> Vec<String> {
        let mut out = vec!["cache".to_string(), "cache[\"\"]".to_string()];
        for spec in self.fields() {
            out.push(spec.name.to_string());
            if spec.keys != Keys::None {
                out.push(format!("{}[\"\"]", spec.name));
            }
            for s in spec.sub {
                out.push(format!("{}.{s}", spec.name));
            }
        }
        out
    }
}

/// Where a path points after resolution.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResolvedPath {
    /// The context whose field is read (the statement's own or a higher one).
    pub context: Context,
    /// The field, e.g. `attributes`, `status`, `cache`.
    pub field: &'static str,
    /// The second segment when the field has one, e.g. `code` in `status.code`.
    pub sub: Option<&'static str>,
    /// Whether the context was written as a prefix (`span.name`) or implied (`name`).
    pub prefixed: bool,
}

/// Why a path does not resolve; turned into a positioned [`crate::CheckError`] by the checker.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum PathProblem {
    /// The first segment is not a context name where one is required.
    MissingContext { valid: Vec<&'static str> },
    /// A prefix that is not a context reachable from here (`spna.name`, `span.x` in a log).
    UnknownContext { name: String, valid: Vec<&'static str>, suggestion: Option<String> },
    /// No such field in the context; `segment` is the index into the path's fields.
    UnknownField { segment: usize, context: Context, suggestion: Option<String> },
    /// `[…]` on a field that cannot be indexed, or too many keys.
    BadKeys { segment: usize, context: Context },
}

/// Resolves `path` in a statement running in `context`.
pub(crate) fn resolve(path: &Path, context: Context, prefixes: PathPrefixes) -> Result<ResolvedPath, PathProblem> {
    let valid = context.prefixes();
    let (target, fields, prefixed) = match path.prefix() {
        Some(first) if valid.contains(&first.name.as_str()) => {
            let target = Context::from_name(&first.name).unwrap_or(context);
            (target, &path.fields[1..], true)
        }
        Some(first) if prefixes == PathPrefixes::Required => {
            let suggestion = did_you_mean(&first.name, valid.iter().copied());
            return Err(PathProblem::UnknownContext { name: first.name.clone(), valid, suggestion });
        }
        None if prefixes == PathPrefixes::Required => return Err(PathProblem::MissingContext { valid }),
        _ => (context, &path.fields[..], false),
    };
    let offset = path.fields.len() - fields.len();
    let Some(first) = fields.first() else {
        return Err(PathProblem::UnknownField { segment: offset.saturating_sub(1), context: target, suggestion: None });
    };
    if first.name == "cache" && target == context {
        return if fields.len() == 1 {
            Ok(ResolvedPath { context: target, field: "cache", sub: None, prefixed })
        } else {
            Err(PathProblem::UnknownField { segment: offset + 1, context: target, suggestion: None })
        };
    }
    let Some(spec) = target.fields().iter().find(|s| s.name == first.name) else {
        let mut names: Vec<&str> = target.fields().iter().map(|s| s.name).collect();
        if target == context {
            names.push("cache");
            if !prefixed {
                names.extend(context.prefixes().into_iter().skip(1));
            }
        }
        let suggestion = did_you_mean(&first.name, names.into_iter());
        return Err(PathProblem::UnknownField { segment: offset, context: target, suggestion });
    };
    check_keys(spec.keys, first, offset, target)?;
    let sub = match fields.get(1) {
        None => None,
        Some(second) => match spec.sub.iter().find(|s| **s == second.name) {
            Some(s) if fields.len() == 2 && second.keys.is_empty() => Some(*s),
            Some(_) if fields.len() == 2 => return Err(PathProblem::BadKeys { segment: offset + 1, context: target }),
            Some(_) => {
                return Err(PathProblem::UnknownField { segment: offset + 2, context: target, suggestion: None })
            }
            None => {
                let suggestion = did_you_mean(&second.name, spec.sub.iter().copied());
                return Err(PathProblem::UnknownField { segment: offset + 1, context: target, suggestion });
            }
        },
    };
    Ok(ResolvedPath { context: target, field: spec.name, sub, prefixed })
}

fn check_keys(rule: Keys, field: &Field, segment: usize, context: Context) -> Result<(), PathProblem> {
    let ok = match rule {
        Keys::None => field.keys.is_empty(),
        Keys::Any => true,
        Keys::One => field.keys.len() <= 1,
    };
    if ok {
        Ok(())
    } else {
        Err(PathProblem::BadKeys { segment, context })
    }
}

/// The closest candidate to `word`, if it is close enough to be a plausible typo.
pub(crate) fn did_you_mean<'a>(word: &str, candidates: impl Iterator<Item = &'a str>) -> Option<String> {
    let lower = word.to_ascii_lowercase();
    let mut best: Option<(f64, &str)> = None;
    for c in candidates {
        // Suggesting the very name that failed would be noise (e.g. a bare `resource`).
        if c == word {
            continue;
        }
        if c.eq_ignore_ascii_case(word) {
            return Some(c.to_string());
        }
        let score = jaro_winkler(&lower, &c.to_ascii_lowercase());
        if score >= 0.85 && best.is_none_or(|(s, _)| score > s) {
            best = Some((score, c));
        }
    }
    best.map(|(_, c)| c.to_string())
}
