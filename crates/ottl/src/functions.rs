//! The catalog of OTTL functions the Collector documents, with their parameters.
//!
//! Sources: pkg/ottl/ottlfuncs/README.md (editors and converters available everywhere), the
//! transform processor's context-specific functions (metric and datapoint conversions,
//! `set_semconv_span_name`), the filter processor's `HasAttr*OnDatapoint` and the routing
//! connector's `route`. Whether a function is *implemented* by Switchyard is not recorded here;
//! this table only lets config loading reject names and argument lists the Collector rejects.

use crate::paths::Context;

/// Editors change telemetry and are the statement's function; converters return a value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FunctionKind {
    /// Lowercase name, the statement's function.
    Editor,
    /// Uppercase name, used as a value or condition.
    Converter,
}

/// What a parameter accepts, where the parser can tell.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ParamKind {
    /// Any value expression.
    Value,
    /// A converter passed by name, e.g. `SHA256` (upstream's `FunctionGetter`).
    Function,
    /// A lambda (`(k, v) => …`); only for the alpha lambda converters, which this parser does
    /// not support yet.
    Lambda,
}

/// One parameter of a function.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Param {
    /// The name accepted in named arguments, snake_case as upstream derives it.
    pub name: &'static str,
    /// Optional parameters may be left out; all come after the required ones.
    pub optional: bool,
    /// What it accepts.
    pub kind: ParamKind,
}

/// Which component provides a function beyond the shared ottlfuncs set.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Component {
    /// The transform processor.
    Transform,
    /// The filter processor.
    Filter,
    /// The routing connector.
    Routing,
    /// Tail sampling's `ottl_condition` policy.
    TailSampling,
    /// The count connector: upstream builds its conditions with the filter processor's
    /// function sets (`filterottl`), so it has the filter's functions.
    Count,
    /// Unknown or any component: every cataloged function is accepted.
    Any,
}

/// One cataloged function.
#[derive(Debug, Clone, Copy)]
pub struct FunctionSpec {
    /// The name as written.
    pub name: &'static str,
    /// Editor or converter.
    pub kind: FunctionKind,
    /// The parameters in order.
    pub params: &'static [Param],
    /// Contexts it exists in; empty means every context.
    pub contexts: &'static [Context],
    /// The component that adds it; `None` for the shared ottlfuncs set.
    pub component: Option<Component>,
}

impl FunctionSpec {
    /// How many parameters are required.
    pub fn required(&self) -> usize {
        self.params.iter().filter(|p| !p.optional).count()
    }

    /// Whether the function exists in `context` for `component`.
    pub fn available(&self, context: Context, component: Component) -> bool {
        let in_context = self.contexts.is_empty() || self.contexts.contains(&context);
        let in_component = match (self.component, component) {
            (None, _) | (_, Component::Any) => true,
            (Some(Component::Filter), Component::Count) => true,
            (Some(c), wanted) => c == wanted,
        };
        in_context && in_component
    }
}

const fn p(name: &'static str) -> Param {
    Param { name, optional: false, kind: ParamKind::Value }
}
const fn o(name: &'static str) -> Param {
    Param { name, optional: true, kind: ParamKind::Value }
}
const fn of(name: &'static str) -> Param {
    Param { name, optional: true, kind: ParamKind::Function }
}
const fn lambda(name: &'static str) -> Param {
    Param { name, optional: false, kind: ParamKind::Lambda }
}

const fn editor(name: &'static str, params: &'static [Param]) -> FunctionSpec {
    FunctionSpec { name, kind: FunctionKind::Editor, params, contexts: &[], component: None }
}
const fn conv(name: &'static str, params: &'static [Param]) -> FunctionSpec {
    FunctionSpec { name, kind: FunctionKind::Converter, params, contexts: &[], component: None }
}
const fn only(mut spec: FunctionSpec, contexts: &'static [Context], component: Component) -> FunctionSpec {
    spec.contexts = contexts;
    spec.component = Some(component);
    spec
}

const V: &[Param] = &[p("value")];
const T: &[Param] = &[p("target")];
const REPLACE_TAIL: [Param; 2] = [of("function"), o("replacement_format")];
const METRIC: &[Context] = &[Context::Metric];
const DATAPOINT: &[Context] = &[Context::DataPoint];
const METRIC_OR_DATAPOINT: &[Context] = &[Context::Metric, Context::DataPoint];

static CATALOG: &[FunctionSpec] = &[
    // Editors (ottlfuncs).
    editor("append", &[p("target"), o("value"), o("values")]),
    editor("delete_index", &[p("target"), p("start_index"), o("end_index")]),
    editor("delete_key", &[p("target"), p("key")]),
    editor("delete_matching_keys", &[p("target"), p("pattern")]),
    editor("keep_matching_keys", &[p("target"), p("pattern")]),
    editor("flatten", &[p("target"), o("prefix"), o("depth"), o("resolve_conflicts")]),
    editor("keep_keys", &[p("target"), p("keys")]),
    editor("limit", &[p("target"), p("limit"), p("priority_keys")]),
    editor("merge_maps", &[p("target"), p("source"), p("strategy")]),
    editor("replace_all_matches", &[p("target"), p("pattern"), p("replacement"), REPLACE_TAIL[0], REPLACE_TAIL[1]]),
    editor(
        "replace_all_patterns",
        &[p("target"), p("mode"), p("regex"), p("replacement"), REPLACE_TAIL[0], REPLACE_TAIL[1]],
    ),
    editor("replace_match", &[p("target"), p("pattern"), p("replacement"), REPLACE_TAIL[0], REPLACE_TAIL[1]]),
    editor("replace_pattern", &[p("target"), p("regex"), p("replacement"), REPLACE_TAIL[0], REPLACE_TAIL[1]]),
    editor("set", &[p("target"), p("value")]),
    editor("stringify_all", T),
    editor("truncate_all", &[p("target"), p("limit"), o("utf8_safe"), o("truncation_marker")]),
    // Converters (ottlfuncs).
    conv("All", &[p("source"), lambda("predicate")]),
    conv("Any", &[p("source"), lambda("predicate")]),
    conv("Base64Decode", V),
    conv("Base64Encode", &[p("value"), o("variant")]),
    conv("Bool", V),
    conv("Decode", &[p("value"), p("encoding")]),
    conv("Coalesce", &[p("values")]),
    conv(
        "CommunityID",
        &[p("source_ip"), p("source_port"), p("destination_ip"), p("destination_port"), o("protocol"), o("seed")],
    ),
    conv("Concat", &[p("values"), p("delimiter")]),
    conv("ContainsValue", &[p("target"), p("item")]),
    conv("ConvertCase", &[p("target"), p("to_case")]),
    conv("ConvertAttributesToElementsXML", &[p("target"), o("xpath")]),
    conv("ConvertTextToElementsXML", &[p("target"), o("xpath"), o("element_name")]),
    conv("Day", V),
    conv("Double", V),
    conv("Duration", &[p("duration")]),
    conv("ExtractPatterns", &[p("target"), p("pattern")]),
    conv("ExtractGrokPatterns", &[p("target"), p("pattern"), o("named_captures_only"), o("pattern_definitions")]),
    conv("Filter", &[p("source"), lambda("predicate")]),
    conv(
        "Find",
        &[p("source"), lambda("predicate"), Param { name: "mapper", optional: true, kind: ParamKind::Lambda }],
    ),
    conv("FNV", V),
    conv("Format", &[p("format"), p("vals")]),
    conv("FormatTime", &[p("time"), p("format")]),
    conv("GetXML", &[p("target"), p("xpath")]),
    conv("HasPrefix", &[p("target"), p("prefix")]),
    conv("HasSuffix", &[p("target"), p("suffix")]),
    conv("Hex", V),
    conv("Hour", V),
    conv("Hours", V),
    conv("Index", &[p("target"), p("value")]),
    conv("InsertXML", &[p("target"), p("xpath"), p("value")]),
    conv("Int", V),
    conv("IsBool", V),
    conv("IsDouble", V),
    conv("IsEmpty", V),
    conv("IsInCIDR", &[p("target"), p("networks")]),
    conv("IsInt", V),
    conv("IsMap", V),
    conv("IsMatch", &[p("target"), p("pattern")]),
    conv("IsList", V),
    conv("IsString", V),
    conv("Keys", T),
    conv("Len", T),
    conv("Log", V),
    conv("IsValidLuhn", V),
    conv("MapEach", &[p("source"), lambda("mapper")]),
    conv("MapKeys", &[p("source"), lambda("key_mapper")]),
    conv("MD5", V),
    conv("Microseconds", V),
    conv("Milliseconds", V),
    conv("Minute", V),
    conv("Minutes", V),
    conv("Month", V),
    conv("Murmur3Hash", T),
    conv("Murmur3Hash128", T),
    conv("Nanosecond", V),
    conv("Nanoseconds", V),
    conv("Now", &[]),
    conv("ParseCSV", &[p("target"), p("header"), o("delimiter"), o("header_delimiter"), o("mode")]),
    conv("ParseInt", &[p("target"), p("base")]),
    conv("ParseJSON", T),
    conv("ParseKeyValue", &[p("target"), o("delimiter"), o("pair_delimiter"), o("ignore_malformed_tokens")]),
    conv("ParseSeverity", &[p("target"), p("severity_mapping")]),
    conv("ParseSimplifiedXML", T),
    conv("ParseXML", T),
    conv("ProfileID", &[p("bytes")]),
    conv("Reduce", &[p("source"), p("seed"), lambda("accumulator")]),
    conv("RemoveXML", &[p("target"), p("xpath")]),
    conv("Second", V),
    conv("Seconds", V),
    conv("SHA1", V),
    conv("SHA256", V),
    conv("SHA512", &[p("input")]),
    conv("SliceToMap", &[p("target"), o("key_path"), o("value_path")]),
    conv("Sort", &[p("target"), o("order")]),
    conv("SpanID", &[p("bytes")]),
    conv("Split", &[p("target"), p("delimiter")]),
    conv("String", V),
    conv("Substring", &[p("target"), p("start"), p("length"), o("utf8_safe")]),
    conv("Time", &[p("time"), p("format"), o("location"), o("locale")]),
    conv("ToCamelCase", T),
    conv("ToKeyValueString", &[p("target"), o("delimiter"), o("pair_delimiter"), o("sort_output")]),
    conv("ToLowerCase", T),
    conv("ToSnakeCase", T),
    conv("ToUpperCase", T),
    conv("TraceID", &[p("bytes")]),
    conv("Trim", &[p("target"), o("replacement")]),
    conv("TrimPrefix", &[p("target"), p("prefix")]),
    conv("TrimSuffix", &[p("target"), p("suffix")]),
    conv("TruncateTime", &[p("time"), p("duration")]),
    conv("Unix", &[p("seconds"), o("nanoseconds")]),
    conv("UnixMicro", &[p("time")]),
    conv("UnixMilli", &[p("time")]),
    conv("UnixNano", &[p("time")]),
    conv("UnixSeconds", &[p("time")]),
    conv("URL", &[p("url")]),
    conv("UserAgent", V),
    conv("UUID", &[]),
    conv("UUIDv7", &[]),
    conv("Values", T),
    conv("Weekday", V),
    conv("When", &[lambda("condition"), p("true_value"), p("false_value")]),
    conv("XXH3", V),
    conv("XXH128", V),
    conv("Year", V),
    // Transform processor, per context.
    only(conv("IsRootSpan", &[]), &[Context::Span], Component::Transform),
    only(
        editor("set_semconv_span_name", &[p("semconv_version"), o("original_span_name_attribute")]),
        &[Context::Span],
        Component::Transform,
    ),
    only(editor("convert_sum_to_gauge", &[]), METRIC_OR_DATAPOINT, Component::Transform),
    only(
        editor("convert_gauge_to_sum", &[p("aggregation_temporality"), p("is_monotonic")]),
        METRIC_OR_DATAPOINT,
        Component::Transform,
    ),
    only(
        editor("convert_summary_count_val_to_sum", &[p("aggregation_temporality"), p("is_monotonic"), o("suffix")]),
        DATAPOINT,
        Component::Transform,
    ),
    only(
        editor("convert_summary_sum_val_to_sum", &[p("aggregation_temporality"), p("is_monotonic"), o("suffix")]),
        DATAPOINT,
        Component::Transform,
    ),
    only(
        editor("convert_summary_quantile_val_to_gauge", &[o("attribute_key"), o("suffix")]),
        METRIC,
        Component::Transform,
    ),
    only(
        editor("convert_exponential_histogram_to_histogram", &[p("distribution"), p("explicit_bounds")]),
        METRIC,
        Component::Transform,
    ),
    only(editor("extract_sum_metric", &[p("monotonicity"), o("suffix")]), METRIC, Component::Transform),
    only(editor("extract_count_metric", &[p("monotonicity"), o("suffix")]), METRIC, Component::Transform),
    only(editor("copy_metric", &[o("name"), o("description"), o("unit")]), METRIC, Component::Transform),
    only(editor("scale_metric", &[p("factor"), o("unit")]), METRIC, Component::Transform),
    only(editor("aggregate_on_attributes", &[p("function"), o("attributes")]), METRIC, Component::Transform),
    only(
        editor("aggregate_on_attribute_value", &[p("function"), p("attribute"), p("values"), p("new_value")]),
        METRIC,
        Component::Transform,
    ),
    only(editor("merge_histogram_buckets", &[p("bound"), o("method")]), DATAPOINT, Component::Transform),
    // Filter processor (metric context).
    only(conv("HasAttrKeyOnDatapoint", &[p("key")]), METRIC, Component::Filter),
    only(conv("HasAttrOnDatapoint", &[p("key"), p("expected_value")]), METRIC, Component::Filter),
    // Routing connector statements.
    only(editor("route", &[]), &[], Component::Routing),
];

/// Every cataloged function.
pub fn all() -> &'static [FunctionSpec] {
    CATALOG
}

/// The function with exactly this name.
pub fn lookup(name: &str) -> Option<&'static FunctionSpec> {
    CATALOG.iter().find(|f| f.name == name)
}

/// Upstream matches named arguments against the snake_case form of the Go field name, so both
/// `resolve_conflicts` and the README's `resolveConflicts` spellings are seen in configs.
pub(crate) fn snake_case(name: &str) -> String {
    let mut out = String::with_capacity(name.len() + 4);
    for (k, c) in name.chars().enumerate() {
        if c.is_ascii_uppercase() {
            if k > 0 {
                out.push('_');
            }
            out.push(c.to_ascii_lowercase());
        } else {
            out.push(c);
        }
    }
    out
}
