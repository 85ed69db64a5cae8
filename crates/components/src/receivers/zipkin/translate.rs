//! Zipkin v2 spans → OTLP, as the Collector's `zipkinv2.ToTranslator` does it:
//! spans grouped by local service (one `ResourceSpans` each, sorted by service name) and by
//! `otel.library.name` (one `ScopeSpans` each); resource attributes from the first span's
//! tags of each group; status, kind, trace state and links from the tags the OpenTelemetry
//! Zipkin exporters write; endpoints as `net.host.*` / `net.peer.*` / `peer.service`.

use switchyard_pdata::attrs;
use switchyard_pdata::proto::collector::trace::v1::ExportTraceServiceRequest;
use switchyard_pdata::proto::common::v1::AnyValue;
use switchyard_pdata::proto::common::v1::{InstrumentationScope, KeyValue};
use switchyard_pdata::proto::resource::v1::Resource;
use switchyard_pdata::proto::trace::v1::span::{Event, Link};
use switchyard_pdata::proto::trace::v1::{ResourceSpans, ScopeSpans, Span, Status};
use switchyard_pdata::value::{bool_value, double_value, int_value, str_value};

use super::model::{Kind, ZipkinSpan};

/// The service name of a span without a local service (the Collector's sentinel).
const NO_SERVICE_NAME: &str = "OTLPResourceNoServiceName";
/// Tag naming the resource attribute the service name goes to (default `service.name`).
const TAG_SERVICE_NAME_SOURCE: &str = "otlp.service.name.source";
const TAG_LIBRARY_NAME: &str = "otel.library.name";
const TAG_LIBRARY_VERSION: &str = "otel.library.version";
const TAG_STATUS_CODE: &str = "otel.status_code";
const TAG_STATUS_DESCRIPTION: &str = "otel.status_description";
const TAG_ERROR: &str = "error";
const TAG_SPAN_KIND: &str = "span.kind";
const TAG_TRACE_STATE: &str = "w3c.tracestate";
/// Attribute set on a span that came without a start time (start is then the epoch).
pub const START_TIME_ABSENT: &str = "otel.zipkin.absentField.startTime";

/// Semantic-convention resource attributes (semconv v1.6.1, the Collector's list) and the
/// OpenCensus ones: tags with these keys describe the process, not the span, so they go to
/// the resource (from a group's first span) and never become span attributes.
pub(super) fn is_resource_key(key: &str) -> bool {
    matches!(
        key,
        "cloud.provider"
            | "cloud.account.id"
            | "cloud.region"
            | "cloud.availability_zone"
            | "cloud.platform"
            | "aws.ecs.container.arn"
            | "aws.ecs.cluster.arn"
            | "aws.ecs.launchtype"
            | "aws.ecs.task.arn"
            | "aws.ecs.task.family"
            | "aws.ecs.task.revision"
            | "aws.eks.cluster.arn"
            | "aws.log.group.names"
            | "aws.log.group.arns"
            | "aws.log.stream.names"
            | "aws.log.stream.arns"
            | "container.name"
            | "container.id"
            | "container.runtime"
            | "container.image.name"
            | "container.image.tag"
            | "deployment.environment"
            | "device.id"
            | "device.model.identifier"
            | "device.model.name"
            | "device.manufacturer"
            | "faas.name"
            | "faas.id"
            | "faas.version"
            | "faas.instance"
            | "faas.max_memory"
            | "host.id"
            | "host.name"
            | "host.type"
            | "host.arch"
            | "host.image.name"
            | "host.image.id"
            | "host.image.version"
            | "k8s.cluster.name"
            | "k8s.node.name"
            | "k8s.node.uid"
            | "k8s.namespace.name"
            | "k8s.pod.uid"
            | "k8s.pod.name"
            | "k8s.container.name"
            | "k8s.container.restart_count"
            | "k8s.replicaset.uid"
            | "k8s.replicaset.name"
            | "k8s.deployment.uid"
            | "k8s.deployment.name"
            | "k8s.statefulset.uid"
            | "k8s.statefulset.name"
            | "k8s.daemonset.uid"
            | "k8s.daemonset.name"
            | "k8s.job.uid"
            | "k8s.job.name"
            | "k8s.cronjob.uid"
            | "k8s.cronjob.name"
            | "os.type"
            | "os.description"
            | "os.name"
            | "os.version"
            | "process.pid"
            | "process.executable.name"
            | "process.executable.path"
            | "process.command"
            | "process.command_line"
            | "process.command_args"
            | "process.owner"
            | "process.runtime.name"
            | "process.runtime.version"
            | "process.runtime.description"
            | "service.name"
            | "service.namespace"
            | "service.instance.id"
            | "service.version"
            | "telemetry.sdk.name"
            | "telemetry.sdk.language"
            | "telemetry.sdk.version"
            | "telemetry.auto.version"
            | "webengine.name"
            | "webengine.version"
            | "webengine.description"
            | "opencensus.starttime"
            | "opencensus.exporterversion"
            | "opencensus.resourcetype"
    )
}

fn is_non_span_key(key: &str) -> bool {
    is_resource_key(key) || matches!(key, TAG_SERVICE_NAME_SOURCE | TAG_LIBRARY_NAME | TAG_LIBRARY_VERSION)
}

/// A tag value as an attribute value: with `parse_string_tags`, the Collector's patterns
/// (`-?\d+` integer, `-?\d+\.\d+` double, `true`/`false`) give typed values; else a string.
pub(super) fn tag_value(v: String, parse_string_tags: bool) -> AnyValue {
    if !parse_string_tags {
        return str_value(v);
    }
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    let unsigned = v.strip_prefix('-').unwrap_or(&v);
    if digits(unsigned) {
        // Out of range saturates, as Go's strconv.ParseInt does.
        let negative = unsigned.len() != v.len();
        return int_value(v.parse::<i64>().unwrap_or(if negative { i64::MIN } else { i64::MAX }));
    }
    if let Some((int, frac)) = unsigned.split_once('.') {
        if digits(int) && digits(frac) {
            if let Ok(d) = v.parse::<f64>() {
                return double_value(d);
            }
        }
    }
    if v == "true" || v == "false" {
        return bool_value(v == "true");
    }
    str_value(v)
}

/// An OTLP status code from an `otel.status_code` tag. The Collector reads
/// `STATUS_CODE_*` and `Unset`/`Ok`/`Error`; the OpenTelemetry specification's names
/// `UNSET`/`OK`/`ERROR` (what the OpenTelemetry SDKs' Zipkin exporters send) are read too.
/// Anything else is unset.
pub(super) fn status_code(v: &str) -> i32 {
    match v {
        "STATUS_CODE_OK" | "Ok" | "OK" => 1,
        "STATUS_CODE_ERROR" | "Error" | "ERROR" => 2,
        _ => 0,
    }
}

fn take(tags: &mut Vec<(String, String)>, key: &str) -> Option<String> {
    let i = tags.iter().position(|(k, _)| k == key)?;
    Some(tags.remove(i).1)
}

fn get<'a>(tags: &'a [(String, String)], key: &str) -> Option<&'a str> {
    tags.iter().find(|(k, _)| k == key).map(|(_, v)| v.as_str())
}

pub(super) fn kv(key: impl Into<String>, value: AnyValue) -> KeyValue {
    KeyValue { key: key.into(), value: Some(value), ..Default::default() }
}

fn service_of(s: &ZipkinSpan) -> &str {
    match &s.local {
        Some(e) if !e.service_name.is_empty() => &e.service_name,
        _ => NO_SERVICE_NAME,
    }
}

fn library_of(s: &ZipkinSpan) -> &str {
    get(&s.tags, TAG_LIBRARY_NAME).unwrap_or("")
}

/// Translates decoded spans. Errors are in span-embedded data (a bad `otlp.link.N` tag or
/// event annotation), as the Collector refuses them.
pub fn to_otlp(spans: Vec<ZipkinSpan>, parse_string_tags: bool) -> Result<ExportTraceServiceRequest, String> {
    let mut order: Vec<usize> = (0..spans.len()).collect();
    {
        let keys: Vec<(&str, &str)> = spans.iter().map(|s| (service_of(s), library_of(s))).collect();
        order.sort_by(|&a, &b| keys[a].cmp(&keys[b]));
    }
    let mut slots: Vec<Option<ZipkinSpan>> = spans.into_iter().map(Some).collect();
    let mut out: Vec<ResourceSpans> = Vec::new();
    let mut prev: Option<(String, String)> = None;
    for i in order {
        let Some(mut span) = slots[i].take() else { continue };
        let service = service_of(&span).to_string();
        let library = library_of(&span).to_string();
        let new_resource = prev.as_ref().is_none_or(|(s, _)| *s != service);
        if new_resource {
            out.push(ResourceSpans { resource: Some(resource(&mut span.tags, &service)), ..Default::default() });
        }
        let rs = out.last_mut().ok_or("no resource")?;
        if new_resource || prev.as_ref().is_some_and(|(_, l)| *l != library) {
            rs.scope_spans.push(ScopeSpans { scope: scope(&mut span.tags, &library), ..Default::default() });
        }
        let ss = rs.scope_spans.last_mut().ok_or("no scope")?;
        ss.spans.push(span_to_otlp(span, parse_string_tags)?);
        prev = Some((service, library));
    }
    Ok(ExportTraceServiceRequest { resource_spans: out })
}

fn resource(tags: &mut Vec<(String, String)>, service: &str) -> Resource {
    let mut r = Resource::default();
    if service == NO_SERVICE_NAME {
        return r;
    }
    let key = take(tags, TAG_SERVICE_NAME_SOURCE).filter(|k| !k.is_empty()).unwrap_or_else(|| "service.name".into());
    r.attributes.push(kv(key, str_value(service)));
    let mut i = 0;
    while i < tags.len() {
        if is_resource_key(&tags[i].0) {
            let (k, v) = tags.remove(i);
            attrs::upsert(&mut r.attributes, k, str_value(v));
        } else {
            i += 1;
        }
    }
    r
}

fn scope(tags: &mut Vec<(String, String)>, library: &str) -> Option<InstrumentationScope> {
    if library.is_empty() {
        return Some(InstrumentationScope::default());
    }
    let name = take(tags, TAG_LIBRARY_NAME).unwrap_or_default();
    let version = take(tags, TAG_LIBRARY_VERSION).unwrap_or_default();
    Some(InstrumentationScope { name, version, ..Default::default() })
}

fn span_to_otlp(z: ZipkinSpan, parse_string_tags: bool) -> Result<Span, String> {
    let ZipkinSpan {
        trace_id,
        id,
        parent_id,
        kind,
        name,
        timestamp_us,
        duration_us,
        local,
        remote,
        annotations,
        mut tags,
    } = z;
    let mut span = Span {
        trace_id: trace_id.to_vec(),
        span_id: id.to_vec(),
        parent_span_id: parent_id.filter(|p| *p != id).map(|p| p.to_vec()).unwrap_or_default(),
        name,
        ..Default::default()
    };
    span.trace_state = take(&mut tags, TAG_TRACE_STATE).unwrap_or_default();
    span.kind = match kind {
        Kind::Client => 3,
        Kind::Server => 2,
        Kind::Producer => 4,
        Kind::Consumer => 5,
        Kind::Unspecified => match take(&mut tags, TAG_SPAN_KIND).as_deref() {
            Some("internal") => 1,
            _ => 0,
        },
    };
    let mut status = Status::default();
    if let Some(code) = take(&mut tags, TAG_STATUS_CODE) {
        status.code = status_code(&code);
        if let Some(msg) = take(&mut tags, TAG_STATUS_DESCRIPTION) {
            status.message = msg;
        }
    }
    if get(&tags, TAG_ERROR) == Some("true") {
        status.code = 2;
        take(&mut tags, TAG_ERROR);
    }
    span.status = Some(status);
    span.links = links(&mut tags)?;
    let mut attributes = Vec::with_capacity(tags.len() + 4);
    for (k, v) in tags {
        if !is_non_span_key(&k) {
            attributes.push(kv(k, tag_value(v, parse_string_tags)));
        }
    }
    if let Some(l) = local {
        if let Some(ip) = l.ipv4 {
            attrs::upsert(&mut attributes, "net.host.ip", str_value(ip.to_string()));
        }
        if let Some(ip) = l.ipv6 {
            attrs::upsert(&mut attributes, "net.host.ip", str_value(ip.to_string()));
        }
        if l.port > 0 {
            attrs::upsert(&mut attributes, "net.host.port", int_value(i64::from(l.port)));
        }
    }
    if let Some(r) = remote {
        if !r.service_name.is_empty() {
            attrs::upsert(&mut attributes, "peer.service", str_value(r.service_name));
        }
        if let Some(ip) = r.ipv4 {
            attrs::upsert(&mut attributes, "net.peer.ip", str_value(ip.to_string()));
        }
        if let Some(ip) = r.ipv6 {
            attrs::upsert(&mut attributes, "net.peer.ip", str_value(ip.to_string()));
        }
        if r.port > 0 {
            attrs::upsert(&mut attributes, "net.peer.port", int_value(i64::from(r.port)));
        }
    }
    if timestamp_us == 0 {
        // Zipkin allows no start time; OTLP needs one: the epoch, flagged.
        span.start_time_unix_nano = 0;
        span.end_time_unix_nano = duration_us.saturating_mul(1000);
        attrs::upsert(&mut attributes, START_TIME_ABSENT, bool_value(true));
    } else {
        span.start_time_unix_nano = timestamp_us.saturating_mul(1000);
        span.end_time_unix_nano = timestamp_us.saturating_add(duration_us).saturating_mul(1000);
    }
    span.attributes = attributes;
    span.events = annotations.into_iter().map(|(ts, value)| event(ts, value)).collect::<Result<_, _>>()?;
    Ok(span)
}

/// `name` or `name|{json attributes}|dropped count` (the OpenCensus exporters' form).
fn event(ts: u64, value: String) -> Result<Event, String> {
    let mut e = Event { time_unix_nano: ts.saturating_mul(1000), ..Default::default() };
    let parts: Vec<&str> = value.split('|').collect();
    e.name = parts[0].to_string();
    if parts.len() >= 3 {
        let json = parts[1..parts.len() - 1].join("|");
        e.attributes = json_attributes(&json).map_err(|err| format!("annotation \"{value}\": {err}"))?;
        e.dropped_attributes_count = parts[parts.len() - 1]
            .parse::<u32>()
            .map_err(|err| format!("annotation \"{value}\": dropped count: {err}"))?;
    }
    Ok(e)
}

/// `otlp.link.0`, `otlp.link.1`… (up to 128, stopping at the first missing):
/// `trace id|span id|trace state|{json attributes}|dropped count`.
fn links(tags: &mut Vec<(String, String)>) -> Result<Vec<Link>, String> {
    let mut out = Vec::new();
    for i in 0..128 {
        let Some(val) = take(tags, &format!("otlp.link.{i}")) else { break };
        let parts: Vec<&str> = val.split('|').collect();
        if parts.len() < 5 {
            continue;
        }
        let bad = |what: &str, e: String| format!("tag otlp.link.{i}: {what}: {e}");
        let trace_id = link_id::<16>(parts[0]).map_err(|e| bad("trace id", e))?;
        let span_id = link_id::<8>(parts[1]).map_err(|e| bad("span id", e))?;
        let json = parts[3..parts.len() - 1].join("|");
        out.push(Link {
            trace_id: trace_id.to_vec(),
            span_id: span_id.to_vec(),
            trace_state: parts[2].to_string(),
            attributes: json_attributes(&json).map_err(|e| bad("attributes", e))?,
            dropped_attributes_count: parts[parts.len() - 1]
                .parse::<u32>()
                .map_err(|e| bad("dropped count", e.to_string()))?,
            ..Default::default()
        });
    }
    Ok(out)
}

/// Exactly `2*N` hex digits (optionally quoted); empty is the zero id.
fn link_id<const N: usize>(s: &str) -> Result<[u8; N], String> {
    let s = s.strip_prefix('"').and_then(|s| s.strip_suffix('"')).unwrap_or(s);
    let mut id = [0u8; N];
    if s.is_empty() {
        return Ok(id);
    }
    if s.len() != 2 * N || !s.is_ascii() {
        return Err("invalid length for ID".into());
    }
    for (i, b) in id.iter_mut().enumerate() {
        *b = u8::from_str_radix(&s[2 * i..2 * i + 2], 16).map_err(|_| format!("cannot unmarshal ID from '{s}'"))?;
    }
    Ok(id)
}

/// A JSON object as attributes: strings, numbers (integral → int, else double) and
/// booleans; other values are skipped, as in the Collector.
fn json_attributes(json: &str) -> Result<Vec<KeyValue>, String> {
    let map: serde_json::Map<String, serde_json::Value> = serde_json::from_str(json).map_err(|e| e.to_string())?;
    let mut out = Vec::with_capacity(map.len());
    for (k, v) in map {
        let value = match v {
            serde_json::Value::String(s) => str_value(s),
            serde_json::Value::Bool(b) => bool_value(b),
            serde_json::Value::Number(n) => match (n.as_i64(), n.as_f64()) {
                (Some(i), _) => int_value(i),
                (None, Some(d)) if d.fract() == 0.0 && d.abs() < 9.2e18 => int_value(d as i64),
                (None, Some(d)) => double_value(d),
                (None, None) => continue,
            },
            _ => continue,
        };
        out.push(kv(k, value));
    }
    Ok(out)
}
