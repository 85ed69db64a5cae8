//! OTLP log records to Loki streams, per tenant: stream labels from the `loki.*` hints and
//! the default labels, one entry (timestamp, line) per record.
//!
//! The rules are the Collector's translator's (`pkg/translator/loki`, removed in v0.131):
//! - default labels: `exporter="OTLP"`, `job` = `service.namespace/service.name` (or
//!   `service.name`), `instance` = `service.instance.id`, each unless switched off;
//! - `loki.resource.labels` (on the resource or the record) promotes resource attributes,
//!   `loki.attribute.labels` (on the record) record attributes; a later rule overrides an
//!   earlier one of the same name; `a.b` also finds `b` inside a map attribute `a`;
//! - `level`: when the record has a severity number, its `level` attribute, else the
//!   severity's name (`INFO`, `WARN2`, ...);
//! - label names normalized as Prometheus labels (`host.name` -> `host_name`);
//! - promoted attributes and the hints leave the line;
//! - `loki.tenant` names the attribute (resource first, then record) holding the tenant.

use std::borrow::Cow;
use std::collections::HashMap;

use switchyard_pdata::proto::collector::logs::v1::ExportLogsServiceRequest;
use switchyard_pdata::proto::common::v1::any_value::Value;
use switchyard_pdata::proto::common::v1::{AnyValue, KeyValue};

use super::config::DefaultLabels;
use switchyard_pdata::attrs;
use switchyard_pdata::value::as_string;

use super::line::{self, LineFormat, ResourceAttrs};

/// Record attribute: record attributes to promote to labels.
pub(crate) const HINT_ATTRIBUTES: &str = "loki.attribute.labels";
/// Resource (or record) attribute: resource attributes to promote to labels.
pub(crate) const HINT_RESOURCES: &str = "loki.resource.labels";
/// Resource or record attribute: the attribute holding the tenant.
pub(crate) const HINT_TENANT: &str = "loki.tenant";
/// Resource or record attribute: `json`, `logfmt` or `raw`.
pub(crate) const HINT_FORMAT: &str = "loki.format";

/// Lookups one hinted name may cost (`a.b.c` tries every split; a hostile name must not
/// make that exponential).
const LOOKUP_BUDGET: u32 = 64;

const LEVELS: [&str; 24] = [
    "TRACE", "TRACE2", "TRACE3", "TRACE4", "DEBUG", "DEBUG2", "DEBUG3", "DEBUG4", "INFO", "INFO2", "INFO3", "INFO4",
    "WARN", "WARN2", "WARN3", "WARN4", "ERROR", "ERROR2", "ERROR3", "ERROR4", "FATAL", "FATAL2", "FATAL3", "FATAL4",
];

/// The severity number's name, as the Collector put it in `level` (`None` if unspecified
/// or out of range).
pub(crate) fn severity_level(n: i32) -> Option<&'static str> {
    usize::try_from(n).ok().and_then(|n| n.checked_sub(1)).and_then(|i| LEVELS.get(i).copied())
}

/// One log line.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Entry {
    /// Unix time in nanoseconds.
    pub ts: u64,
    /// The line.
    pub line: String,
}

/// One stream: its labels and its entries, oldest first.
#[derive(Clone, Debug, Default)]
pub(crate) struct Stream {
    /// `{a="x", b="y"}`, names sorted.
    pub labels: String,
    /// The same labels as pairs, sorted by name.
    pub pairs: Vec<(String, String)>,
    /// The entries.
    pub entries: Vec<Entry>,
}

/// What goes to one tenant in one request.
#[derive(Debug, Default)]
pub(crate) struct TenantBatch {
    /// `X-Scope-OrgID` ("" = no header).
    pub tenant: String,
    /// Streams in order of first appearance.
    pub streams: Vec<Stream>,
    index: HashMap<String, usize>,
}

/// Records left out, by reason.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct Dropped {
    /// No label at all (Loki needs one).
    pub no_labels: u64,
    /// `loki.format` other than `json`, `logfmt`, `raw`.
    pub invalid_format: u64,
    /// The tenant is not a valid header value.
    pub invalid_tenant: u64,
}

impl Dropped {
    /// All of them.
    pub(crate) fn total(&self) -> u64 {
        self.no_labels + self.invalid_format + self.invalid_tenant
    }
}

/// The result of [`convert`].
#[derive(Debug, Default)]
pub(crate) struct Converted {
    /// One batch per tenant, in order of first appearance.
    pub batches: Vec<TenantBatch>,
    /// What was left out.
    pub dropped: Dropped,
}

/// One label of a record, before normalization: a later one with the same `name` replaces it.
struct Label<'a> {
    /// The attribute name (or default label name), as matched against attribute keys.
    name: Cow<'a, str>,
    /// The Prometheus-normalized name.
    norm: Cow<'a, str>,
    value: Cow<'a, str>,
}

fn set_label<'a>(labels: &mut Vec<Label<'a>>, name: Cow<'a, str>, value: Cow<'a, str>) {
    match labels.iter_mut().find(|l| l.name == name) {
        Some(l) => l.value = value,
        None => {
            let norm = normalize_label(&name).map_or_else(|| name.clone(), Cow::Owned);
            labels.push(Label { name, norm, value });
        }
    }
}

/// [`set_label`] with the normalized name already known.
fn set_label_normalized<'a>(labels: &mut Vec<Label<'a>>, name: &'a str, norm: &'a str, value: &'a str) {
    match labels.iter_mut().find(|l| l.name == name) {
        Some(l) => l.value = Cow::Borrowed(value),
        None => {
            labels.push(Label { name: Cow::Borrowed(name), norm: Cow::Borrowed(norm), value: Cow::Borrowed(value) })
        }
    }
}

/// `name` directly, else as a path into map attributes (`a.b.c`: `c` in map `a.b`, or
/// `b.c` in map `a`, longest prefix first).
fn lookup<'a>(attrs: &'a [KeyValue], name: &str, budget: &mut u32) -> Option<&'a AnyValue> {
    if *budget == 0 {
        return None;
    }
    *budget -= 1;
    if let Some(v) = attrs::get(attrs, name) {
        return Some(v);
    }
    let mut end = name.len();
    while let Some(dot) = name[..end].rfind('.') {
        if let Some(Value::KvlistValue(map)) = lookup(attrs, &name[..dot], budget).and_then(|v| v.value.as_ref()) {
            return lookup(&map.values, &name[dot + 1..], budget);
        }
        end = dot;
    }
    None
}

/// The attribute names a hint lists: a comma-separated string, or an array.
fn hint_names(hint: &AnyValue) -> Vec<Cow<'_, str>> {
    match &hint.value {
        Some(Value::StringValue(s)) => s.split(',').map(|n| Cow::Borrowed(n.trim())).collect(),
        Some(Value::ArrayValue(a)) => a
            .values
            .iter()
            .map(|v| match as_string(v) {
                Cow::Borrowed(s) => Cow::Borrowed(s.trim()),
                Cow::Owned(s) => Cow::Owned(s.trim().to_string()),
            })
            .collect(),
        _ => vec![as_string(hint)],
    }
}

/// Promotes the attributes `hint` names, found in `attrs`.
fn promote<'a>(labels: &mut Vec<Label<'a>>, hint: &'a AnyValue, attrs: &'a [KeyValue]) {
    for name in hint_names(hint) {
        if name.is_empty() {
            continue;
        }
        let mut budget = LOOKUP_BUDGET;
        if let Some(v) = lookup(attrs, &name, &mut budget) {
            set_label(labels, name, as_string(v));
        }
    }
}

/// A label name as Prometheus allows it: characters outside `[a-zA-Z0-9_]` become `_`, a
/// leading digit gets `key_`, a single leading `_` gets `key` (`__x` is kept). `None` if
/// `name` is fine as is.
pub(crate) fn normalize_label(name: &str) -> Option<String> {
    let ok = |c: char| c.is_ascii_alphanumeric() || c == '_';
    let first = name.chars().next()?;
    let digit = first.is_ascii_digit();
    let single_underscore = name.starts_with('_') && !name.starts_with("__");
    if name.chars().all(ok) && !digit && !single_underscore {
        return None;
    }
    let mut out = String::with_capacity(name.len() + 4);
    if digit {
        out.push_str("key_");
    } else if single_underscore {
        out.push_str("key");
    }
    out.extend(name.chars().map(|c| if ok(c) { c } else { '_' }));
    Some(out)
}

/// A label value in the labels string: `"`, `\` and control characters escaped (Go's `%q`
/// escapes, which Loki's parser reads).
fn write_label_value(out: &mut String, v: &str) {
    out.push('"');
    for c in v.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x20 || c == '\u{7f}' => {
                use std::fmt::Write as _;
                let _ = write!(out, "\\x{:02x}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

/// What one resource contributes to each of its records.
struct ResourceLabels<'a> {
    attrs: &'a [KeyValue],
    job: Option<Cow<'a, str>>,
    instance: Option<Cow<'a, str>>,
    /// Promoted by the resource's own `loki.resource.labels`.
    hinted: Vec<Label<'a>>,
    /// `loki.format` on the resource (it wins over the record's).
    format: Option<&'a AnyValue>,
    /// `loki.tenant` on the resource (it wins over the record's).
    tenant_hint: Option<&'a AnyValue>,
}

impl<'a> ResourceLabels<'a> {
    fn new(attrs: &'a [KeyValue], defaults: DefaultLabels) -> Self {
        let job = defaults.job.then(|| attrs::get(attrs, "service.name")).flatten().map(|name| {
            match attrs::get(attrs, "service.namespace") {
                Some(ns) => Cow::Owned(format!("{}/{}", as_string(ns), as_string(name))),
                None => as_string(name),
            }
        });
        let instance = defaults.instance.then(|| attrs::get(attrs, "service.instance.id")).flatten().map(as_string);
        let mut hinted = Vec::new();
        if let Some(hint) = attrs::get(attrs, HINT_RESOURCES) {
            promote(&mut hinted, hint, attrs);
        }
        ResourceLabels {
            attrs,
            job,
            instance,
            hinted,
            format: attrs::get(attrs, HINT_FORMAT),
            tenant_hint: attrs::get(attrs, HINT_TENANT),
        }
    }
}

/// The tenant of a record: the string value of the attribute `loki.tenant` names (looked
/// up in the resource, then the record); "" if none.
fn tenant<'a>(res: &ResourceLabels<'a>, attrs: &'a [KeyValue], record_hint: Option<&'a AnyValue>) -> &'a str {
    let Some(hint) = res.tenant_hint.or(record_hint) else { return "" };
    let Some(Value::StringValue(name)) = &hint.value else { return "" };
    match attrs::get(res.attrs, name).or_else(|| attrs::get(attrs, name)).and_then(|v| v.value.as_ref()) {
        Some(Value::StringValue(t)) => t,
        _ => "",
    }
}

fn is_hint(key: &str) -> bool {
    matches!(key, HINT_ATTRIBUTES | HINT_RESOURCES | HINT_TENANT | HINT_FORMAT)
}

/// Groups the records of `req` into per-tenant streams. `now_ns` stamps records with
/// neither a time nor an observed time.
pub(crate) fn convert(req: &ExportLogsServiceRequest, defaults: DefaultLabels, now_ns: u64) -> Converted {
    let mut out = Converted::default();
    let mut tenants: HashMap<String, usize> = HashMap::new();
    let mut key = String::new();
    let mut order: Vec<usize> = Vec::new();
    for rl in &req.resource_logs {
        let res_attrs = rl.resource.as_ref().map_or(&[][..], |r| r.attributes.as_slice());
        let res = ResourceLabels::new(res_attrs, defaults);
        let res_sorted = ResourceAttrs::new(res_attrs);
        let res_format = res.format.map(|f| LineFormat::parse(&as_string(f)));
        let mut labels: Vec<Label<'_>> = Vec::new();
        for sl in &rl.scope_logs {
            let scope = sl.scope.as_ref();
            for lr in &sl.log_records {
                let attrs = lr.attributes.as_slice();
                // Most records carry no hint: one pass instead of a lookup per hint.
                let hinted = attrs.iter().any(|kv| kv.key.starts_with("loki."));
                let hint = |key: &str| if hinted { attrs::get(attrs, key) } else { None };
                let format = match res_format.or_else(|| hint(HINT_FORMAT).map(|f| LineFormat::parse(&as_string(f)))) {
                    None => LineFormat::Json,
                    Some(Some(f)) => f,
                    Some(None) => {
                        out.dropped.invalid_format += 1;
                        continue;
                    }
                };

                labels.clear();
                if defaults.exporter {
                    set_label(&mut labels, Cow::Borrowed("exporter"), Cow::Borrowed("OTLP"));
                }
                if let Some(job) = &res.job {
                    set_label(&mut labels, Cow::Borrowed("job"), Cow::Borrowed(job.as_ref()));
                }
                if let Some(instance) = &res.instance {
                    set_label(&mut labels, Cow::Borrowed("instance"), Cow::Borrowed(instance.as_ref()));
                }
                for l in &res.hinted {
                    set_label_normalized(&mut labels, &l.name, &l.norm, &l.value);
                }
                if let Some(h) = hint(HINT_RESOURCES) {
                    promote(&mut labels, h, res.attrs);
                }
                if let Some(h) = hint(HINT_ATTRIBUTES) {
                    promote(&mut labels, h, attrs);
                }
                if defaults.level {
                    if let Some(level) = severity_level(lr.severity_number) {
                        // As if `level` were the last name of `loki.attribute.labels`, with
                        // the severity's name when the record has no `level` attribute.
                        let value = attrs::get(attrs, "level").map_or(Cow::Borrowed(level), as_string);
                        set_label(&mut labels, Cow::Borrowed("level"), value);
                    }
                }

                // The labels string: non-empty values, by normalized name; of two labels
                // normalizing to the same name, the later one wins.
                order.clear();
                order.extend((0..labels.len()).filter(|i| !labels[*i].value.is_empty()));
                order.sort_by(|a, b| labels[*a].norm.cmp(&labels[*b].norm).then(a.cmp(b)));
                order.dedup_by(|later, earlier| {
                    let same = labels[*later].norm == labels[*earlier].norm;
                    if same {
                        *earlier = *later;
                    }
                    same
                });
                if order.is_empty() {
                    out.dropped.no_labels += 1;
                    continue;
                }
                key.clear();
                key.push('{');
                for (n, i) in order.iter().enumerate() {
                    if n > 0 {
                        key.push_str(", ");
                    }
                    key.push_str(&labels[*i].norm);
                    key.push('=');
                    write_label_value(&mut key, &labels[*i].value);
                }
                key.push('}');

                let tenant = tenant(&res, attrs, hint(HINT_TENANT));
                let batch = match tenants.get(tenant) {
                    Some(b) => *b,
                    None => {
                        if http::HeaderValue::from_str(tenant).is_err() {
                            out.dropped.invalid_tenant += 1;
                            continue;
                        }
                        out.batches.push(TenantBatch { tenant: tenant.to_string(), ..Default::default() });
                        tenants.insert(tenant.to_string(), out.batches.len() - 1);
                        out.batches.len() - 1
                    }
                };
                let batch = &mut out.batches[batch];

                let skip = |k: &str| is_hint(k) || labels.iter().any(|l| l.name == k);
                let line = line::encode(format, lr, &res_sorted, scope, &skip);
                let ts = if lr.time_unix_nano != 0 {
                    lr.time_unix_nano
                } else if lr.observed_time_unix_nano != 0 {
                    lr.observed_time_unix_nano
                } else {
                    now_ns
                };

                let stream = match batch.index.get(key.as_str()) {
                    Some(s) => *s,
                    None => {
                        let pairs =
                            order.iter().map(|i| (labels[*i].norm.to_string(), labels[*i].value.to_string())).collect();
                        batch.streams.push(Stream { labels: key.clone(), pairs, entries: Vec::new() });
                        batch.index.insert(key.clone(), batch.streams.len() - 1);
                        batch.streams.len() - 1
                    }
                };
                batch.streams[stream].entries.push(Entry { ts, line });
            }
        }
    }
    for batch in &mut out.batches {
        batch.index = HashMap::new();
        for stream in &mut batch.streams {
            // Stable: entries with the same timestamp keep their order.
            stream.entries.sort_by_key(|e| e.ts);
        }
    }
    out
}
