//! Span `include`/`exclude` (the Collector's `filterspan` with `ValidateForSpans`): the
//! filter processor's `spans:` and the attributes processor's traces.

use switchyard_core::component::FieldError;
use switchyard_pdata::attrs;
use switchyard_pdata::proto::common::v1::{InstrumentationScope, KeyValue};
use switchyard_pdata::proto::trace::v1::Span;
use switchyard_pdata::value::as_string;

use super::config::{LibraryConfig, MatchProperties, MatchType, SpanMatchConfig};
use super::{attribute_matchers, attributes_match, has_values, join, missing_match_type, AttributeMatcher, FilterSet};

/// The span kinds `strict` accepts, as `traceutil.SpanKindStr` spells them.
const SPAN_KINDS: [&str; 5] =
    ["SPAN_KIND_CLIENT", "SPAN_KIND_CONSUMER", "SPAN_KIND_INTERNAL", "SPAN_KIND_PRODUCER", "SPAN_KIND_SERVER"];

/// A span kind as the legacy matcher sees it.
pub(crate) fn span_kind_str(kind: i32) -> &'static str {
    match kind {
        0 => "SPAN_KIND_UNSPECIFIED",
        1 => "SPAN_KIND_INTERNAL",
        2 => "SPAN_KIND_SERVER",
        3 => "SPAN_KIND_CLIENT",
        4 => "SPAN_KIND_PRODUCER",
        5 => "SPAN_KIND_CONSUMER",
        _ => "",
    }
}

/// One instrumentation library to match: its name, and its version when given.
#[derive(Debug)]
pub(crate) struct LibraryMatcher {
    name: FilterSet,
    version: Option<FilterSet>,
}

/// Builds the library matchers of `list` at `field`.
pub(crate) fn library_matchers(
    field: &str,
    list: &[LibraryConfig],
    match_type: MatchType,
) -> Result<Vec<LibraryMatcher>, Vec<FieldError>> {
    let mut errors = Vec::new();
    let mut out = Vec::new();
    for (i, l) in list.iter().enumerate() {
        let name = FilterSet::new(&format!("{field}::{i}::name"), std::slice::from_ref(&l.name), match_type);
        let version = l
            .version
            .as_ref()
            .map(|v| FilterSet::new(&format!("{field}::{i}::version"), std::slice::from_ref(v), match_type))
            .transpose();
        match (name, version) {
            (Ok(name), Ok(version)) => out.push(LibraryMatcher { name, version }),
            (n, v) => {
                errors.extend(n.err().unwrap_or_default());
                errors.extend(v.err().unwrap_or_default());
            }
        }
    }
    if errors.is_empty() {
        Ok(out)
    } else {
        Err(errors)
    }
}

/// Whether the scope satisfies every library matcher.
pub(crate) fn libraries_match(libraries: &[LibraryMatcher], scope: Option<&InstrumentationScope>) -> bool {
    let (name, version) = scope.map_or(("", ""), |s| (s.name.as_str(), s.version.as_str()));
    libraries.iter().all(|l| l.name.matches(name) && l.version.as_ref().is_none_or(|v| v.matches(version)))
}

/// One `include` or `exclude` of spans.
#[derive(Debug)]
struct SpanMatcher {
    services: Option<FilterSet>,
    names: Option<FilterSet>,
    kinds: Option<FilterSet>,
    libraries: Vec<LibraryMatcher>,
    resources: Vec<AttributeMatcher>,
    attributes: Vec<AttributeMatcher>,
}

impl SpanMatcher {
    fn compile(field: &str, p: &MatchProperties) -> Result<Self, Vec<FieldError>> {
        let invalid = |key: &str, what: &str| {
            FieldError::new(format!("{field}::{key}"), format!("{what} should not be specified for trace spans"))
        };
        let mut errors = Vec::new();
        if !p.log_bodies.is_empty() {
            errors.push(invalid("log_bodies", "log_bodies"));
        }
        if !p.log_severity_texts.is_empty() {
            errors.push(invalid("log_severity_texts", "log_severity_texts"));
        }
        if p.log_severity_number.is_some() {
            errors.push(invalid("log_severity_number", "log_severity_number"));
        }
        if p.services.is_empty()
            && p.span_names.is_empty()
            && p.attributes.is_empty()
            && p.libraries.is_empty()
            && p.resources.is_empty()
            && p.span_kinds.is_empty()
        {
            errors.push(FieldError::new(
                field,
                "at least one of \"services\", \"span_names\", \"span_kinds\", \"attributes\", \"libraries\" or \"resources\" must be specified",
            ));
        }
        let needs_type = !p.services.is_empty()
            || !p.span_names.is_empty()
            || !p.span_kinds.is_empty()
            || !p.libraries.is_empty()
            || has_values(&p.attributes)
            || has_values(&p.resources);
        let mt = match p.match_type {
            Some(mt) => mt,
            None if needs_type => {
                errors.push(missing_match_type(field));
                return Err(errors);
            }
            // Nothing compares values: upstream never looks at the type.
            None => MatchType::Strict,
        };
        if mt == MatchType::Strict {
            for (i, k) in p.span_kinds.iter().enumerate() {
                if !SPAN_KINDS.contains(&k.as_str()) {
                    errors.push(FieldError::new(
                        format!("{field}::span_kinds::{i}"),
                        format!("span_kinds string must match one of the standard span kinds when match_type=strict: {SPAN_KINDS:?}"),
                    ));
                }
            }
        }
        let services = FilterSet::optional(&format!("{field}::services"), &p.services, mt);
        let names = FilterSet::optional(&format!("{field}::span_names"), &p.span_names, mt);
        let kinds = FilterSet::optional(&format!("{field}::span_kinds"), &p.span_kinds, mt);
        let libraries = library_matchers(&format!("{field}::libraries"), &p.libraries, mt);
        let resources = attribute_matchers(&format!("{field}::resources"), &p.resources, mt);
        let attributes = attribute_matchers(&format!("{field}::attributes"), &p.attributes, mt);
        match (services, names, kinds, libraries, resources, attributes) {
            (Ok(services), Ok(names), Ok(kinds), Ok(libraries), Ok(resources), Ok(attributes)) if errors.is_empty() => {
                Ok(SpanMatcher { services, names, kinds, libraries, resources, attributes })
            }
            (s, n, k, l, r, a) => {
                errors.extend(s.err().unwrap_or_default());
                errors.extend(n.err().unwrap_or_default());
                errors.extend(k.err().unwrap_or_default());
                errors.extend(l.err().unwrap_or_default());
                errors.extend(r.err().unwrap_or_default());
                errors.extend(a.err().unwrap_or_default());
                Err(errors)
            }
        }
    }

    fn matches(&self, resource: &[KeyValue], scope: Option<&InstrumentationScope>, span: &Span) -> bool {
        if let Some(services) = &self.services {
            let service = attrs::get(resource, "service.name").map(as_string);
            if !services.matches(service.as_deref().unwrap_or("<nil-service-name>")) {
                return false;
            }
        }
        if self.names.as_ref().is_some_and(|n| !n.matches(&span.name)) {
            return false;
        }
        if self.kinds.as_ref().is_some_and(|k| !k.matches(span_kind_str(span.kind))) {
            return false;
        }
        libraries_match(&self.libraries, scope)
            && attributes_match(&self.resources, resource)
            && attributes_match(&self.attributes, &span.attributes)
    }
}

/// "Drop this span" from `spans.include` / `spans.exclude`.
#[derive(Debug)]
pub(crate) struct SpanSkip {
    include: Option<SpanMatcher>,
    exclude: Option<SpanMatcher>,
}

impl SpanSkip {
    /// The filter processor's `spans:`; `None` when neither `include` nor `exclude` is set.
    pub(crate) fn compile(cfg: &SpanMatchConfig) -> Result<Option<Self>, Vec<FieldError>> {
        Self::new("spans", cfg.include.as_ref(), cfg.exclude.as_ref())
    }

    /// `include`/`exclude` written under `prefix` (`""` at the top of a config); `None`
    /// when neither is set.
    pub(crate) fn new(
        prefix: &str,
        include: Option<&MatchProperties>,
        exclude: Option<&MatchProperties>,
    ) -> Result<Option<Self>, Vec<FieldError>> {
        let include = include.map(|p| SpanMatcher::compile(&join(prefix, "include"), p)).transpose();
        let exclude = exclude.map(|p| SpanMatcher::compile(&join(prefix, "exclude"), p)).transpose();
        match (include, exclude) {
            (Ok(None), Ok(None)) => Ok(None),
            (Ok(include), Ok(exclude)) => Ok(Some(SpanSkip { include, exclude })),
            (i, e) => Err(i.err().into_iter().chain(e.err()).flatten().collect()),
        }
    }

    /// Whether the span is dropped: it does not match `include`, or it matches `exclude`.
    pub(crate) fn skip(&self, resource: &[KeyValue], scope: Option<&InstrumentationScope>, span: &Span) -> bool {
        self.include.as_ref().is_some_and(|m| !m.matches(resource, scope, span))
            || self.exclude.as_ref().is_some_and(|m| m.matches(resource, scope, span))
    }
}
