//! One entry of `policies:` as the Collector spells it: `name`, `type` and a block per
//! policy type (only the block of the chosen type is read; the others may be present and
//! are ignored, as in the Collector). Blocks left out take the Collector's zero values.
//! The same struct describes sub-policies (`and_sub_policy`, `drop_sub_policy`,
//! `composite_sub_policy`, `not_sub_policy`); which types and blocks a sub-policy may use
//! is checked by [`super::validate`].

use serde::Deserialize;

use crate::ottl::ErrorModeConfig;

/// Every policy type, in the Collector's spelling.
pub const POLICY_TYPES: [&str; 17] = [
    ALWAYS_SAMPLE,
    LATENCY,
    NUMERIC_ATTRIBUTE,
    PROBABILISTIC,
    STATUS_CODE,
    STRING_ATTRIBUTE,
    RATE_LIMITING,
    BYTES_LIMITING,
    SPAN_COUNT,
    BOOLEAN_ATTRIBUTE,
    TRACE_STATE,
    TRACE_FLAGS,
    OTTL_CONDITION,
    AND,
    COMPOSITE,
    DROP,
    NOT,
];

/// Samples every trace.
pub const ALWAYS_SAMPLE: &str = "always_sample";
/// Trace duration (latest end minus earliest start) within bounds.
pub const LATENCY: &str = "latency";
/// An integer resource or span attribute within bounds.
pub const NUMERIC_ATTRIBUTE: &str = "numeric_attribute";
/// A share of trace ids, by hash.
pub const PROBABILISTIC: &str = "probabilistic";
/// Any span with one of the status codes.
pub const STATUS_CODE: &str = "status_code";
/// A string resource or span attribute equal to (or matching) one of the values.
pub const STRING_ATTRIBUTE: &str = "string_attribute";
/// Spans per second, token bucket.
pub const RATE_LIMITING: &str = "rate_limiting";
/// Encoded bytes per second, token bucket.
pub const BYTES_LIMITING: &str = "bytes_limiting";
/// Number of spans within bounds.
pub const SPAN_COUNT: &str = "span_count";
/// A boolean resource or span attribute equal to the value.
pub const BOOLEAN_ATTRIBUTE: &str = "boolean_attribute";
/// A W3C tracestate member with one of the values.
pub const TRACE_STATE: &str = "trace_state";
/// Any span with the W3C `sampled` flag.
pub const TRACE_FLAGS: &str = "trace_flags";
/// OTTL conditions on spans and span events.
pub const OTTL_CONDITION: &str = "ottl_condition";
/// All sub-policies sample.
pub const AND: &str = "and";
/// Sub-policies in order, each within a share of a spans-per-second budget.
pub const COMPOSITE: &str = "composite";
/// All sub-policies sample: the trace is dropped, whatever the other policies say.
pub const DROP: &str = "drop";
/// The sub-policy's decision inverted.
pub const NOT: &str = "not";

/// One sampling policy (or sub-policy).
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct PolicyCfg {
    /// Unique among the top-level policies; labels the per-policy metrics. Sub-policies
    /// need one only for a composite's `rate_allocation`.
    pub name: String,
    /// The policy type (one of [`POLICY_TYPES`]).
    #[serde(rename = "type")]
    pub policy_type: String,
    /// `latency` settings.
    pub latency: Option<LatencyCfg>,
    /// `numeric_attribute` settings.
    pub numeric_attribute: Option<NumericAttributeCfg>,
    /// `probabilistic` settings.
    pub probabilistic: Option<ProbabilisticCfg>,
    /// `status_code` settings.
    pub status_code: Option<StatusCodeCfg>,
    /// `string_attribute` settings.
    pub string_attribute: Option<StringAttributeCfg>,
    /// `rate_limiting` settings.
    pub rate_limiting: Option<RateLimitingCfg>,
    /// `bytes_limiting` settings.
    pub bytes_limiting: Option<BytesLimitingCfg>,
    /// `span_count` settings.
    pub span_count: Option<SpanCountCfg>,
    /// `boolean_attribute` settings.
    pub boolean_attribute: Option<BooleanAttributeCfg>,
    /// `trace_state` settings.
    pub trace_state: Option<TraceStateCfg>,
    /// `ottl_condition` settings.
    pub ottl_condition: Option<OttlConditionCfg>,
    /// `and` settings (top level and composite sub-policies only).
    pub and: Option<AndCfg>,
    /// `composite` settings (top level only).
    pub composite: Option<CompositeCfg>,
    /// `drop` settings (top level only).
    pub drop: Option<DropCfg>,
    /// `not` settings (top level only).
    pub not: Option<NotCfg>,
}

/// `latency:`.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct LatencyCfg {
    /// Lower bound in ms (exclusive).
    pub threshold_ms: i64,
    /// Upper bound in ms (inclusive); 0 means none.
    pub upper_threshold_ms: i64,
}

/// `numeric_attribute:`.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct NumericAttributeCfg {
    /// The attribute.
    pub key: String,
    /// Inclusive lower bound; 0 (or absent) means none, as in the Collector.
    pub min_value: i64,
    /// Inclusive upper bound; 0 (or absent) means none, as in the Collector.
    pub max_value: i64,
    /// Sample traces where no resource or span has the attribute in range.
    pub invert_match: bool,
}

/// `probabilistic:`.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ProbabilisticCfg {
    /// Salt hashed before the trace id; empty means `default-hash-seed`.
    pub hash_salt: String,
    /// Percentage of trace ids sampled; >= 100 samples all.
    pub sampling_percentage: f64,
}

/// `status_code:`.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct StatusCodeCfg {
    /// `OK`, `ERROR` or `UNSET`.
    pub status_codes: Vec<String>,
}

/// `string_attribute:`.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct StringAttributeCfg {
    /// The attribute.
    pub key: String,
    /// Exact values, or regular expressions with `enabled_regex_matching`.
    pub values: Vec<String>,
    /// Treat `values` as (unanchored) regular expressions.
    pub enabled_regex_matching: bool,
    /// Entries of the regex result cache; 0 or less means 128.
    pub cache_max_size: i64,
    /// Sample traces where no resource or span matches.
    pub invert_match: bool,
}

/// `rate_limiting:`.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RateLimitingCfg {
    /// Token refill rate, in spans per second.
    pub spans_per_second: i64,
    /// Bucket size in spans; 0 means twice `spans_per_second`.
    pub burst_capacity: i64,
}

/// `bytes_limiting:`.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct BytesLimitingCfg {
    /// Token refill rate, in encoded bytes per second.
    pub bytes_per_second: i64,
    /// Bucket size in bytes; 0 means twice `bytes_per_second`.
    pub burst_capacity: i64,
}

/// `span_count:`.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SpanCountCfg {
    /// Inclusive lower bound.
    pub min_spans: i32,
    /// Inclusive upper bound; 0 means none.
    pub max_spans: i32,
}

/// `boolean_attribute:`.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct BooleanAttributeCfg {
    /// The attribute.
    pub key: String,
    /// The value sampled.
    pub value: bool,
    /// Sample traces where no resource or span has the value.
    pub invert_match: bool,
}

/// `trace_state:`.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct TraceStateCfg {
    /// The tracestate member's key.
    pub key: String,
    /// Its values sampled.
    pub values: Vec<String>,
}

/// `ottl_condition:`.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct OttlConditionCfg {
    /// What a failing condition does; absent means `propagate` (the Collector's default
    /// for this policy): the policy errors and counts as not having decided.
    pub error_mode: Option<ErrorModeConfig>,
    /// Span conditions (OR-ed).
    pub span: Vec<String>,
    /// Span event conditions (OR-ed).
    pub spanevent: Vec<String>,
}

/// `and:`.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AndCfg {
    /// The sub-policies, all of which must sample.
    pub and_sub_policy: Vec<PolicyCfg>,
}

/// `drop:`.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct DropCfg {
    /// The sub-policies, all of which must sample for the trace to be dropped.
    pub drop_sub_policy: Vec<PolicyCfg>,
}

/// `not:`.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct NotCfg {
    /// The sub-policy inverted.
    pub not_sub_policy: Option<Box<PolicyCfg>>,
}

/// `composite:`.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct CompositeCfg {
    /// Cap on the spans per second any one sub-policy may sample.
    pub max_total_spans_per_second: i64,
    /// Accepted for compatibility; the Collector evaluates sub-policies in their
    /// declaration order whatever this says.
    pub policy_order: Vec<String>,
    /// The sub-policies.
    pub composite_sub_policy: Vec<PolicyCfg>,
    /// Each named sub-policy's share of `max_total_spans_per_second`.
    pub rate_allocation: Vec<RateAllocationCfg>,
}

/// One `rate_allocation` entry.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RateAllocationCfg {
    /// The sub-policy's name.
    pub policy: String,
    /// Its percentage; 0 or less means an equal share.
    pub percent: i64,
}
