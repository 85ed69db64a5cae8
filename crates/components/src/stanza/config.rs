//! Operator configs: the `operators:` list of a stanza-based receiver, one struct per
//! operator `type`, with stanza's field names and defaults. Every struct denies unknown
//! keys, so a typo gets the usual did-you-mean.

use std::collections::BTreeMap;

use serde::{Deserialize, Deserializer};
use serde_json::Value;

use super::entry::Field;
use super::expr::Expr;
use super::time::{SeverityParserConfig, TimeParserConfig};

/// One entry of `operators:`, by `type`.
#[derive(Clone, Debug, Deserialize)]
#[serde(tag = "type")]
pub enum OperatorConfig {
    /// `json_parser`.
    #[serde(rename = "json_parser")]
    JsonParser(ParserConfig),
    /// `regex_parser`.
    #[serde(rename = "regex_parser")]
    RegexParser(ParserConfig),
    /// `move`.
    #[serde(rename = "move")]
    Move(FromToConfig),
    /// `copy`.
    #[serde(rename = "copy")]
    Copy(FromToConfig),
    /// `add`.
    #[serde(rename = "add")]
    Add(AddConfig),
    /// `remove`.
    #[serde(rename = "remove")]
    Remove(FieldConfig),
    /// `flatten`.
    #[serde(rename = "flatten")]
    Flatten(FieldConfig),
    /// `noop`.
    #[serde(rename = "noop")]
    Noop(NoopConfig),
    /// `router`.
    #[serde(rename = "router")]
    Router(RouterConfig),
    /// `container`.
    #[serde(rename = "container")]
    Container(ContainerConfig),
    /// `regex_replace`.
    #[serde(rename = "regex_replace")]
    RegexReplace(RegexReplaceConfig),
    /// `filter`.
    #[serde(rename = "filter")]
    Filter(FilterConfig),
    /// `recombine`.
    #[serde(rename = "recombine")]
    Recombine(RecombineConfig),
    /// `time_parser`.
    #[serde(rename = "time_parser")]
    TimeParser(TimeParserOpConfig),
    /// `severity_parser`.
    #[serde(rename = "severity_parser")]
    SeverityParser(SeverityParserOpConfig),
    /// `retain`.
    #[serde(rename = "retain")]
    Retain(RetainConfig),
}

/// time_parser: the `timestamp:` sub-parser as an operator of its own.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TimeParserOpConfig {
    /// Operator id.
    pub id: Option<String>,
    /// Next operator(s).
    pub output: Option<Outputs>,
    /// Condition.
    #[serde(rename = "if")]
    pub cond: Option<Expr>,
    /// On failure.
    #[serde(default)]
    pub on_error: OnError,
    /// Where the time is (default body).
    #[serde(default = "Field::body")]
    pub parse_from: Field,
    /// `strptime` (default), `gotime` or `epoch`.
    #[serde(default = "strptime")]
    pub layout_type: String,
    /// The layout.
    #[serde(default)]
    pub layout: String,
    /// Accepted (times without an offset are UTC).
    pub location: Option<String>,
}

fn strptime() -> String {
    "strptime".into()
}

impl TimeParserOpConfig {
    /// The equivalent `timestamp:` block.
    pub fn sub_parser(&self) -> TimeParserConfig {
        TimeParserConfig {
            parse_from: self.parse_from.clone(),
            layout_type: self.layout_type.clone(),
            layout: self.layout.clone(),
            location: self.location.clone(),
        }
    }
}

/// severity_parser: the `severity:` sub-parser as an operator of its own.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SeverityParserOpConfig {
    /// Operator id.
    pub id: Option<String>,
    /// Next operator(s).
    pub output: Option<Outputs>,
    /// Condition.
    #[serde(rename = "if")]
    pub cond: Option<Expr>,
    /// On failure.
    #[serde(default)]
    pub on_error: OnError,
    /// Where the severity is (default body).
    #[serde(default = "Field::body")]
    pub parse_from: Field,
    /// `default` or `none`.
    pub preset: Option<String>,
    /// Severity name → values.
    #[serde(default)]
    pub mapping: std::collections::HashMap<String, Value>,
    /// Replace severity_text with the severity name.
    #[serde(default)]
    pub overwrite_text: bool,
}

impl SeverityParserOpConfig {
    /// The equivalent `severity:` block.
    pub fn sub_parser(&self) -> SeverityParserConfig {
        SeverityParserConfig {
            parse_from: self.parse_from.clone(),
            preset: self.preset.clone(),
            mapping: self.mapping.clone(),
            overwrite_text: self.overwrite_text,
        }
    }
}

/// retain: keeps only the listed fields of the body, attributes or resource.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RetainConfig {
    /// Operator id.
    pub id: Option<String>,
    /// Next operator(s).
    pub output: Option<Outputs>,
    /// Condition.
    #[serde(rename = "if")]
    pub cond: Option<Expr>,
    /// On failure.
    #[serde(default)]
    pub on_error: OnError,
    /// The fields kept.
    pub fields: Vec<Field>,
}

/// `output:` — one operator id or several.
#[derive(Clone, Debug, Deserialize)]
#[serde(untagged)]
pub enum Outputs {
    /// One id.
    One(String),
    /// Several ids (the entry is copied to each).
    Many(Vec<String>),
}

impl Outputs {
    /// The ids.
    pub fn ids(&self) -> Vec<String> {
        match self {
            Outputs::One(s) => vec![s.clone()],
            Outputs::Many(v) => v.clone(),
        }
    }
}

/// `on_error:`.
#[derive(Clone, Copy, Debug, Default, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum OnError {
    /// Log the error and send the entry on unchanged (the default).
    #[default]
    Send,
    /// Send the entry on, logging at debug level only.
    SendQuiet,
    /// Log the error and drop the entry.
    Drop,
    /// Drop the entry, logging at debug level only.
    DropQuiet,
}

/// `cache:` of regex_parser.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CacheConfig {
    /// Inputs remembered.
    pub size: usize,
}

/// `parse_from:` blocks of `trace:` and `scope_name:`.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ParseFrom {
    /// The field.
    pub parse_from: Field,
}

/// `trace:`.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TraceConfig {
    /// Trace id (hex).
    pub trace_id: Option<ParseFrom>,
    /// Span id (hex).
    pub span_id: Option<ParseFrom>,
    /// Trace flags (hex byte).
    pub trace_flags: Option<ParseFrom>,
}

/// json_parser and regex_parser.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ParserConfig {
    /// Operator id (default: the type).
    pub id: Option<String>,
    /// Next operator(s) (default: the next in the list).
    pub output: Option<Outputs>,
    /// Only entries matching this are parsed; the others pass unchanged.
    #[serde(rename = "if")]
    pub cond: Option<Expr>,
    /// What to do when parsing fails.
    #[serde(default)]
    pub on_error: OnError,
    /// The input (default body).
    #[serde(default = "Field::body")]
    pub parse_from: Field,
    /// Where the parsed map goes (default attributes, merged).
    #[serde(default = "attributes_root")]
    pub parse_to: Field,
    /// A parsed field to move into the body afterwards.
    pub body: Option<Field>,
    /// regex_parser: the pattern with named groups.
    pub regex: Option<String>,
    /// regex_parser: remembers results of repeated inputs.
    pub cache: Option<CacheConfig>,
    /// json_parser (newer Collectors): parse whole numbers as ints.
    #[serde(default)]
    pub parse_ints: bool,
    /// Timestamp sub-parser.
    pub timestamp: Option<TimeParserConfig>,
    /// Severity sub-parser.
    pub severity: Option<SeverityParserConfig>,
    /// Trace context sub-parser.
    pub trace: Option<TraceConfig>,
    /// Scope name sub-parser.
    pub scope_name: Option<ParseFrom>,
}

fn attributes_root() -> Field {
    Field { root: super::entry::Root::Attributes, keys: Vec::new() }
}

/// move and copy.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FromToConfig {
    /// Operator id.
    pub id: Option<String>,
    /// Next operator(s).
    pub output: Option<Outputs>,
    /// Condition.
    #[serde(rename = "if")]
    pub cond: Option<Expr>,
    /// On failure (a missing `from`).
    #[serde(default)]
    pub on_error: OnError,
    /// Source field.
    pub from: Field,
    /// Destination field.
    pub to: Field,
}

/// add.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AddConfig {
    /// Operator id.
    pub id: Option<String>,
    /// Next operator(s).
    pub output: Option<Outputs>,
    /// Condition.
    #[serde(rename = "if")]
    pub cond: Option<Expr>,
    /// On failure.
    #[serde(default)]
    pub on_error: OnError,
    /// Where.
    pub field: Field,
    /// What (any YAML value).
    pub value: Value,
}

/// remove and flatten.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FieldConfig {
    /// Operator id.
    pub id: Option<String>,
    /// Next operator(s).
    pub output: Option<Outputs>,
    /// Condition.
    #[serde(rename = "if")]
    pub cond: Option<Expr>,
    /// On failure.
    #[serde(default)]
    pub on_error: OnError,
    /// The field.
    pub field: Field,
}

/// noop.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NoopConfig {
    /// Operator id.
    pub id: Option<String>,
    /// Next operator(s).
    pub output: Option<Outputs>,
}

/// One of a router's `routes:`.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RouteConfig {
    /// Entries matching this go to `output`.
    pub expr: Expr,
    /// Where.
    pub output: Outputs,
    /// Attributes added to routed entries.
    #[serde(default)]
    pub attributes: BTreeMap<String, Value>,
}

/// router.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RouterConfig {
    /// Operator id.
    pub id: Option<String>,
    /// The routes, first match wins.
    #[serde(default)]
    pub routes: Vec<RouteConfig>,
    /// Where unmatched entries go (none: dropped).
    pub default: Option<Outputs>,
}

/// container.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ContainerConfig {
    /// Operator id.
    pub id: Option<String>,
    /// Next operator(s).
    pub output: Option<Outputs>,
    /// Condition.
    #[serde(rename = "if")]
    pub cond: Option<Expr>,
    /// On failure.
    #[serde(default)]
    pub on_error: OnError,
    /// `docker`, `crio`, `containerd` or empty for detection per line.
    #[serde(default)]
    pub format: String,
    /// Parse `log.file.path` into k8s.* resource attributes (default true).
    #[serde(default = "yes")]
    pub add_metadata_from_filepath: bool,
    /// Largest recombined partial log, bytes (default 1MiB; 0: no limit).
    #[serde(default = "one_mib", deserialize_with = "byte_size")]
    pub max_log_size: u64,
    /// Accepted: the log goes to the body, the stream to `log.iostream`, as stanza does.
    pub parse_to: Option<Field>,
    /// Severity sub-parser applied after parsing.
    pub severity: Option<SeverityParserConfig>,
    /// The input (default body).
    #[serde(default = "Field::body")]
    pub parse_from: Field,
}

fn one_mib() -> u64 {
    1 << 20
}

fn yes() -> bool {
    true
}

/// regex_replace.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RegexReplaceConfig {
    /// Operator id.
    pub id: Option<String>,
    /// Next operator(s).
    pub output: Option<Outputs>,
    /// Condition.
    #[serde(rename = "if")]
    pub cond: Option<Expr>,
    /// On failure.
    #[serde(default)]
    pub on_error: OnError,
    /// The string field to rewrite (default body).
    #[serde(default = "Field::body")]
    pub field: Field,
    /// The pattern.
    pub regex: Option<String>,
    /// A predefined pattern: `ansi_control_sequences`.
    pub regex_name: Option<String>,
    /// The replacement (`${1}` for groups).
    #[serde(default)]
    pub replace_with: String,
}

/// filter.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FilterConfig {
    /// Operator id.
    pub id: Option<String>,
    /// Next operator(s).
    pub output: Option<Outputs>,
    /// Entries matching this are dropped.
    pub expr: Expr,
    /// Share of matching entries dropped (default 1).
    #[serde(default = "one")]
    pub drop_ratio: f64,
}

fn one() -> f64 {
    1.0
}

/// recombine.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RecombineConfig {
    /// Operator id.
    pub id: Option<String>,
    /// Next operator(s).
    pub output: Option<Outputs>,
    /// Condition: entries not matching pass unchanged.
    #[serde(rename = "if")]
    pub cond: Option<Expr>,
    /// On failure.
    #[serde(default)]
    pub on_error: OnError,
    /// Matches the first entry of a multi-entry record.
    pub is_first_entry: Option<Expr>,
    /// Matches the last entry of a multi-entry record.
    pub is_last_entry: Option<Expr>,
    /// The field whose values are joined.
    pub combine_field: Field,
    /// Joiner (default "\n").
    #[serde(default = "newline")]
    pub combine_with: String,
    /// Entries per record before a forced flush (default 1000).
    #[serde(default = "thousand")]
    pub max_batch_size: usize,
    /// Bytes per record before a forced flush (0: none).
    #[serde(default, deserialize_with = "byte_size")]
    pub max_log_size: u64,
    /// Entries from different sources are combined separately.
    #[serde(default = "file_path")]
    pub source_identifier: Field,
    /// Flush a source's record after this long without a new entry (default 5s).
    #[serde(default = "five_s", with = "humantime_serde")]
    pub force_flush_period: std::time::Duration,
    /// Sources tracked at once (default 1000).
    #[serde(default = "thousand")]
    pub max_sources: usize,
    /// Unmatched entries combined before a flush (default 100).
    #[serde(default = "hundred")]
    pub max_unmatched_batch_size: usize,
    /// `newest` (default) or `oldest`: whose other fields the record keeps.
    #[serde(default = "newest")]
    pub overwrite_with: String,
}

fn newline() -> String {
    "\n".into()
}
fn thousand() -> usize {
    1000
}
fn hundred() -> usize {
    100
}
fn five_s() -> std::time::Duration {
    std::time::Duration::from_secs(5)
}
fn newest() -> String {
    "newest".into()
}
fn file_path() -> Field {
    Field::attribute("log.file.path")
}

impl OperatorConfig {
    /// The stanza type string.
    pub fn type_name(&self) -> &'static str {
        match self {
            OperatorConfig::JsonParser(_) => "json_parser",
            OperatorConfig::RegexParser(_) => "regex_parser",
            OperatorConfig::Move(_) => "move",
            OperatorConfig::Copy(_) => "copy",
            OperatorConfig::Add(_) => "add",
            OperatorConfig::Remove(_) => "remove",
            OperatorConfig::Flatten(_) => "flatten",
            OperatorConfig::Noop(_) => "noop",
            OperatorConfig::Router(_) => "router",
            OperatorConfig::Container(_) => "container",
            OperatorConfig::RegexReplace(_) => "regex_replace",
            OperatorConfig::Filter(_) => "filter",
            OperatorConfig::Recombine(_) => "recombine",
            OperatorConfig::TimeParser(_) => "time_parser",
            OperatorConfig::SeverityParser(_) => "severity_parser",
            OperatorConfig::Retain(_) => "retain",
        }
    }

    /// `id`, `output`, `if` and `on_error`, whatever the type.
    pub fn common(&self) -> (Option<&str>, Option<&Outputs>, Option<&Expr>, OnError) {
        use OperatorConfig as O;
        match self {
            O::JsonParser(c) | O::RegexParser(c) => (c.id.as_deref(), c.output.as_ref(), c.cond.as_ref(), c.on_error),
            O::Move(c) | O::Copy(c) => (c.id.as_deref(), c.output.as_ref(), c.cond.as_ref(), c.on_error),
            O::Add(c) => (c.id.as_deref(), c.output.as_ref(), c.cond.as_ref(), c.on_error),
            O::Remove(c) | O::Flatten(c) => (c.id.as_deref(), c.output.as_ref(), c.cond.as_ref(), c.on_error),
            O::Noop(c) => (c.id.as_deref(), c.output.as_ref(), None, OnError::Send),
            O::Router(c) => (c.id.as_deref(), None, None, OnError::Send),
            O::Container(c) => (c.id.as_deref(), c.output.as_ref(), c.cond.as_ref(), c.on_error),
            O::RegexReplace(c) => (c.id.as_deref(), c.output.as_ref(), c.cond.as_ref(), c.on_error),
            O::Filter(c) => (c.id.as_deref(), c.output.as_ref(), None, OnError::Send),
            O::Recombine(c) => (c.id.as_deref(), c.output.as_ref(), c.cond.as_ref(), c.on_error),
            O::TimeParser(c) => (c.id.as_deref(), c.output.as_ref(), c.cond.as_ref(), c.on_error),
            O::SeverityParser(c) => (c.id.as_deref(), c.output.as_ref(), c.cond.as_ref(), c.on_error),
            O::Retain(c) => (c.id.as_deref(), c.output.as_ref(), c.cond.as_ref(), c.on_error),
        }
    }

    /// The ids this operator may send to besides its default successor (router routes).
    pub fn extra_outputs(&self) -> Vec<String> {
        match self {
            OperatorConfig::Router(r) => {
                let mut v: Vec<String> = r.routes.iter().flat_map(|r| r.output.ids()).collect();
                v.extend(r.default.iter().flat_map(Outputs::ids));
                v
            }
            _ => Vec::new(),
        }
    }
}

/// A byte size: a number of bytes, or a string with a unit (`1KiB`, `1kb`, `2MB`, `64`),
/// as stanza's `helper.ByteSize` reads it (`KiB`/`MiB`/`GiB` binary, `kb`/`mb`/`gb` decimal).
pub fn byte_size<'de, D: Deserializer<'de>>(d: D) -> Result<u64, D::Error> {
    // Untagged, so a number works both from the YAML tree and from inside a tagged
    // operator (where serde has already typed the scalar).
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Size {
        Bytes(u64),
        Text(String),
    }
    match Size::deserialize(d)? {
        Size::Bytes(n) => Ok(n),
        Size::Text(s) => parse_byte_size(&s)
            .ok_or_else(|| serde::de::Error::custom(format!("{s:?} is not a byte size such as 1MiB"))),
    }
}

/// Parses a byte size (see [`byte_size`]).
pub fn parse_byte_size(s: &str) -> Option<u64> {
    let t = s.trim();
    let split = t.find(|c: char| !(c.is_ascii_digit() || c == '.')).unwrap_or(t.len());
    let (num, unit) = t.split_at(split);
    let n: f64 = num.parse().ok()?;
    let mult: f64 = match unit.trim().to_ascii_lowercase().as_str() {
        "" | "b" => 1.0,
        "kb" => 1000.0,
        "kib" | "k" => 1024.0,
        "mb" => 1000.0 * 1000.0,
        "mib" | "m" => 1024.0 * 1024.0,
        "gb" => 1e9,
        "gib" | "g" => 1024.0 * 1024.0 * 1024.0,
        _ => return None,
    };
    Some((n * mult) as u64)
}
