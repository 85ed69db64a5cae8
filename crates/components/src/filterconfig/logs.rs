//! Log record `include`/`exclude` (the Collector's `filterlog`): the filter processor's
//! `logs:` (`LogMatchProperties`) and the shared `MatchProperties` of the attributes processor.

use switchyard_core::component::FieldError;
use switchyard_pdata::proto::common::v1::{InstrumentationScope, KeyValue};
use switchyard_pdata::proto::logs::v1::LogRecord;
use switchyard_pdata::value::as_string;

use super::config::{
    AttributeConfig, LibraryConfig, LogMatchProperties, MatchProperties, MatchType, SeverityNumberConfig,
};
use super::spans::{libraries_match, library_matchers, LibraryMatcher};
use super::{attribute_matchers, attributes_match, has_values, join, missing_match_type, AttributeMatcher, FilterSet};

/// A severity as written in `severity_number.min` (`INFO`, `warn2`, `9`): its number.
pub(crate) fn severity_number(text: &str) -> Option<i32> {
    let upper = text.to_ascii_uppercase();
    if let Ok(n) = upper.parse::<i32>() {
        return (1..=24).contains(&n).then_some(n);
    }
    let (base, rest) = [("TRACE", 1), ("DEBUG", 5), ("INFO", 9), ("WARN", 13), ("ERROR", 17), ("FATAL", 21)]
        .into_iter()
        .find_map(|(name, n)| upper.strip_prefix(name).map(|rest| (n, rest)))?;
    match rest {
        "" => Some(base),
        "2" => Some(base + 1),
        "3" => Some(base + 2),
        "4" => Some(base + 3),
        _ => None,
    }
}

/// The parts of a log `include`/`exclude`, with the keys they are written at: the filter
/// processor's `LogMatchProperties` and the shared `MatchProperties` name them differently.
struct LogFields<'a> {
    match_type: Option<MatchType>,
    bodies: (&'static str, &'a [String]),
    severity_texts: (&'static str, &'a [String]),
    severity_number: (&'static str, Option<&'a SeverityNumberConfig>),
    resources: (&'static str, &'a [AttributeConfig]),
    attributes: (&'static str, &'a [AttributeConfig]),
    libraries: &'a [LibraryConfig],
}

impl<'a> LogFields<'a> {
    fn of_filter(p: &'a LogMatchProperties) -> Self {
        LogFields {
            match_type: p.match_type,
            bodies: ("bodies", &p.bodies),
            severity_texts: ("severity_texts", &p.severity_texts),
            severity_number: ("severity_number", p.severity_number.as_ref()),
            resources: ("resource_attributes", &p.resource_attributes),
            attributes: ("record_attributes", &p.record_attributes),
            libraries: &[],
        }
    }

    fn of_properties(p: &'a MatchProperties) -> Self {
        LogFields {
            match_type: p.match_type,
            bodies: ("log_bodies", &p.log_bodies),
            severity_texts: ("log_severity_texts", &p.log_severity_texts),
            severity_number: ("log_severity_number", p.log_severity_number.as_ref()),
            resources: ("resources", &p.resources),
            attributes: ("attributes", &p.attributes),
            libraries: &p.libraries,
        }
    }
}

/// `ValidateForLogs`: the span-only fields are refused and something must be matched.
fn validate_for_logs(field: &str, p: &MatchProperties) -> Result<(), FieldError> {
    if !(p.span_names.is_empty() && p.services.is_empty() && p.span_kinds.is_empty()) {
        return Err(FieldError::new(field, "services, span_names, and span_kinds are not valid for log records"));
    }
    if p.attributes.is_empty()
        && p.libraries.is_empty()
        && p.resources.is_empty()
        && p.log_bodies.is_empty()
        && p.log_severity_texts.is_empty()
        && p.log_severity_number.is_none()
    {
        return Err(FieldError::new(
            field,
            "at least one of \"attributes\", \"libraries\", \"span_kinds\", \"resources\", \"log_bodies\", \"log_severity_texts\" or \"log_severity_number\" field must be specified",
        ));
    }
    Ok(())
}

/// One `include` or `exclude` of log records.
#[derive(Debug)]
struct LogMatcher {
    bodies: Option<FilterSet>,
    severity_texts: Option<FilterSet>,
    /// Minimum severity number and whether an unset severity matches.
    severity: Option<(i32, bool)>,
    libraries: Vec<LibraryMatcher>,
    resources: Vec<AttributeMatcher>,
    attributes: Vec<AttributeMatcher>,
}

impl LogMatcher {
    fn compile(field: &str, p: LogFields<'_>) -> Result<Self, Vec<FieldError>> {
        let mut errors = Vec::new();
        let needs_type = !(p.bodies.1.is_empty() && p.severity_texts.1.is_empty() && p.libraries.is_empty())
            || has_values(p.resources.1)
            || has_values(p.attributes.1);
        let mt = match p.match_type {
            Some(mt) => mt,
            None if needs_type => return Err(vec![missing_match_type(field)]),
            None => MatchType::Strict,
        };
        let severity = match p.severity_number.1 {
            None => None,
            Some(s) if s.min.is_empty() => Some((0, s.match_undefined)),
            Some(s) => match severity_number(&s.min) {
                Some(n) => Some((n, s.match_undefined)),
                None => {
                    errors.push(FieldError::new(
                        format!("{field}::{}::min", p.severity_number.0),
                        format!("'{}' is not a valid severity: not a valid severity", s.min),
                    ));
                    None
                }
            },
        };
        let at = |key: &str| format!("{field}::{key}");
        let bodies = FilterSet::optional(&at(p.bodies.0), p.bodies.1, mt);
        let texts = FilterSet::optional(&at(p.severity_texts.0), p.severity_texts.1, mt);
        let libraries = library_matchers(&at("libraries"), p.libraries, mt);
        let resources = attribute_matchers(&at(p.resources.0), p.resources.1, mt);
        let attributes = attribute_matchers(&at(p.attributes.0), p.attributes.1, mt);
        match (bodies, texts, libraries, resources, attributes) {
            (Ok(bodies), Ok(severity_texts), Ok(libraries), Ok(resources), Ok(attributes)) if errors.is_empty() => {
                Ok(LogMatcher { bodies, severity_texts, severity, libraries, resources, attributes })
            }
            (b, t, l, r, a) => {
                errors.extend(b.err().unwrap_or_default());
                errors.extend(t.err().unwrap_or_default());
                errors.extend(l.err().unwrap_or_default());
                errors.extend(r.err().unwrap_or_default());
                errors.extend(a.err().unwrap_or_default());
                Err(errors)
            }
        }
    }

    fn matches(&self, resource: &[KeyValue], scope: Option<&InstrumentationScope>, log: &LogRecord) -> bool {
        if let Some(bodies) = &self.bodies {
            let body = log.body.as_ref().map(as_string);
            if !bodies.matches(body.as_deref().unwrap_or("")) {
                return false;
            }
        }
        if self.severity_texts.as_ref().is_some_and(|t| !t.matches(&log.severity_text)) {
            return false;
        }
        if let Some((min, undefined)) = self.severity {
            let matched = if log.severity_number == 0 { undefined } else { log.severity_number >= min };
            if !matched {
                return false;
            }
        }
        libraries_match(&self.libraries, scope)
            && attributes_match(&self.resources, resource)
            && attributes_match(&self.attributes, &log.attributes)
    }
}

/// "Drop this log record" from `logs.include` / `logs.exclude`.
#[derive(Debug)]
pub(crate) struct LogSkip {
    include: Option<LogMatcher>,
    exclude: Option<LogMatcher>,
}

impl LogSkip {
    /// `None` when neither is set (or both set nothing to match, which upstream ignores).
    pub(crate) fn compile(
        include: Option<&LogMatchProperties>,
        exclude: Option<&LogMatchProperties>,
    ) -> Result<Option<Self>, Vec<FieldError>> {
        let build = |field: &str, p: Option<&LogMatchProperties>| {
            p.filter(|p| !p.is_empty()).map(|p| LogMatcher::compile(field, LogFields::of_filter(p))).transpose()
        };
        match (build("logs::include", include), build("logs::exclude", exclude)) {
            (Ok(None), Ok(None)) => Ok(None),
            (Ok(include), Ok(exclude)) => Ok(Some(LogSkip { include, exclude })),
            (i, e) => Err(i.err().into_iter().chain(e.err()).flatten().collect()),
        }
    }

    /// The shared `include`/`exclude` (the attributes processor's) written under `prefix`,
    /// checked with `ValidateForLogs`; `None` when neither is set.
    pub(crate) fn new(
        prefix: &str,
        include: Option<&MatchProperties>,
        exclude: Option<&MatchProperties>,
    ) -> Result<Option<Self>, Vec<FieldError>> {
        let build = |field: String, p: Option<&MatchProperties>| {
            p.map(|p| {
                validate_for_logs(&field, p).map_err(|e| vec![e])?;
                LogMatcher::compile(&field, LogFields::of_properties(p))
            })
            .transpose()
        };
        match (build(join(prefix, "include"), include), build(join(prefix, "exclude"), exclude)) {
            (Ok(None), Ok(None)) => Ok(None),
            (Ok(include), Ok(exclude)) => Ok(Some(LogSkip { include, exclude })),
            (i, e) => Err(i.err().into_iter().chain(e.err()).flatten().collect()),
        }
    }

    /// Whether the record is dropped.
    pub(crate) fn skip(&self, resource: &[KeyValue], scope: Option<&InstrumentationScope>, log: &LogRecord) -> bool {
        self.include.as_ref().is_some_and(|m| !m.matches(resource, scope, log))
            || self.exclude.as_ref().is_some_and(|m| m.matches(resource, scope, log))
    }
}
