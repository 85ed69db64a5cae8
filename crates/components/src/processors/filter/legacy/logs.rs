//! `logs: {include, exclude}` (the Collector's `filterlog` behind the filter processor's
//! `LogMatchProperties`).

use switchyard_core::component::FieldError;
use switchyard_pdata::proto::common::v1::{InstrumentationScope, KeyValue};
use switchyard_pdata::proto::logs::v1::LogRecord;
use switchyard_pdata::value::as_string;

use super::config::{LogMatchProperties, MatchType};
use super::{attribute_matchers, attributes_match, has_values, missing_match_type, AttributeMatcher, FilterSet};

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

/// One `include` or `exclude` of log records.
#[derive(Debug)]
struct LogMatcher {
    bodies: Option<FilterSet>,
    severity_texts: Option<FilterSet>,
    /// Minimum severity number and whether an unset severity matches.
    severity: Option<(i32, bool)>,
    resources: Vec<AttributeMatcher>,
    attributes: Vec<AttributeMatcher>,
}

impl LogMatcher {
    fn compile(field: &str, p: &LogMatchProperties) -> Result<Self, Vec<FieldError>> {
        let mut errors = Vec::new();
        let needs_type = !(p.bodies.is_empty() && p.severity_texts.is_empty())
            || has_values(&p.resource_attributes)
            || has_values(&p.record_attributes);
        let mt = match p.match_type {
            Some(mt) => mt,
            None if needs_type => return Err(vec![missing_match_type(field)]),
            None => MatchType::Strict,
        };
        let severity = match &p.severity_number {
            None => None,
            Some(s) if s.min.is_empty() => Some((0, s.match_undefined)),
            Some(s) => match severity_number(&s.min) {
                Some(n) => Some((n, s.match_undefined)),
                None => {
                    errors.push(FieldError::new(
                        format!("{field}::severity_number::min"),
                        format!("'{}' is not a valid severity: not a valid severity", s.min),
                    ));
                    None
                }
            },
        };
        let bodies = FilterSet::optional(&format!("{field}::bodies"), &p.bodies, mt);
        let texts = FilterSet::optional(&format!("{field}::severity_texts"), &p.severity_texts, mt);
        let resources = attribute_matchers(&format!("{field}::resource_attributes"), &p.resource_attributes, mt);
        let attributes = attribute_matchers(&format!("{field}::record_attributes"), &p.record_attributes, mt);
        match (bodies, texts, resources, attributes) {
            (Ok(bodies), Ok(severity_texts), Ok(resources), Ok(attributes)) if errors.is_empty() => {
                Ok(LogMatcher { bodies, severity_texts, severity, resources, attributes })
            }
            (b, t, r, a) => {
                errors.extend(b.err().unwrap_or_default());
                errors.extend(t.err().unwrap_or_default());
                errors.extend(r.err().unwrap_or_default());
                errors.extend(a.err().unwrap_or_default());
                Err(errors)
            }
        }
    }

    fn matches(&self, resource: &[KeyValue], _scope: Option<&InstrumentationScope>, log: &LogRecord) -> bool {
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
        attributes_match(&self.resources, resource) && attributes_match(&self.attributes, &log.attributes)
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
            p.filter(|p| !p.is_empty()).map(|p| LogMatcher::compile(field, p)).transpose()
        };
        match (build("logs::include", include), build("logs::exclude", exclude)) {
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
