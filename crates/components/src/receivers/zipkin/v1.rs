//! Zipkin v1 JSON (`POST /api/v1/spans`) → OTLP, as the Collector's `zipkinv1` JSON
//! unmarshaler does it: kind and start/end from the core annotations (`cs`/`cr`/`sr`/`ss`/
//! `ms`/`mr`), other annotations as events, binary annotations as attributes (`lc` becomes
//! `component`), status from the census/OpenTelemetry/`error`/HTTP tags, one `ResourceSpans`
//! per endpoint (`service.name` plus `ipv4`/`ipv6`/`port`).

use serde::Deserialize;
use switchyard_pdata::attrs;
use switchyard_pdata::proto::collector::trace::v1::ExportTraceServiceRequest;
use switchyard_pdata::proto::common::v1::any_value::Value;
use switchyard_pdata::proto::common::v1::AnyValue;
use switchyard_pdata::proto::trace::v1::span::Event;
use switchyard_pdata::proto::trace::v1::{ResourceSpans, ScopeSpans, Span, Status};
use switchyard_pdata::value::{bool_value, str_value};

use super::model::DecodeError;
use super::translate::{kv, status_code, tag_value, START_TIME_ABSENT};

/// The Collector's service name for a span whose annotations name none.
const UNKNOWN_SERVICE: &str = "unknown-service";

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct V1Span {
    trace_id: Option<String>,
    name: Option<String>,
    parent_id: Option<String>,
    id: Option<String>,
    timestamp: Option<i64>,
    duration: Option<i64>,
    annotations: Option<Vec<Option<V1Annotation>>>,
    binary_annotations: Option<Vec<Option<V1BinaryAnnotation>>>,
}

#[derive(Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
struct V1Endpoint {
    #[serde(default)]
    service_name: Option<String>,
    #[serde(default)]
    ipv4: Option<String>,
    #[serde(default)]
    ipv6: Option<String>,
    #[serde(default)]
    port: Option<i32>,
}

#[derive(Deserialize)]
struct V1Annotation {
    timestamp: Option<i64>,
    value: Option<String>,
    endpoint: Option<V1Endpoint>,
}

#[derive(Deserialize)]
struct V1BinaryAnnotation {
    key: Option<String>,
    value: Option<String>,
    endpoint: Option<V1Endpoint>,
}

impl V1Endpoint {
    fn service(&self) -> &str {
        self.service_name.as_deref().unwrap_or("")
    }

    /// What the Collector groups spans by: absent and empty fields are the same.
    fn key(&self) -> (&str, &str, &str, i32) {
        (self.service(), self.ipv4.as_deref().unwrap_or(""), self.ipv6.as_deref().unwrap_or(""), self.port.unwrap_or(0))
    }
}

/// Decodes and translates a v1 JSON body.
pub fn to_otlp(body: &[u8], parse_string_tags: bool) -> Result<ExportTraceServiceRequest, DecodeError> {
    let raw: Vec<V1Span> =
        serde_json::from_slice(body).map_err(|e| DecodeError::Syntax(format!("zipkinv1: invalid JSON: {e}")))?;
    let spans = raw.len();
    let mut out: Vec<ResourceSpans> = Vec::new();
    // Endpoint (service, ipv4, ipv6, port) → index in `out`, in order of first appearance.
    let mut groups: Vec<(V1Endpoint, usize)> = Vec::new();
    for (index, s) in raw.into_iter().enumerate() {
        let (span, ep) = span(s, parse_string_tags).map_err(|message| DecodeError::Span { index, spans, message })?;
        let at = match groups.iter().find(|(e, _)| e.key() == ep.key()) {
            Some((_, at)) => *at,
            None => {
                let mut rs = ResourceSpans::default();
                let r = rs.resource.get_or_insert_with(Default::default);
                r.attributes.push(kv("service.name", str_value(ep.service())));
                if let Some(ip) = ep.ipv4.as_deref().filter(|s| !s.is_empty()) {
                    r.attributes.push(kv("ipv4", str_value(ip)));
                }
                if let Some(ip) = ep.ipv6.as_deref().filter(|s| !s.is_empty()) {
                    r.attributes.push(kv("ipv6", str_value(ip)));
                }
                if let Some(port) = ep.port.filter(|p| *p != 0) {
                    r.attributes.push(kv("port", str_value(port.to_string())));
                }
                rs.scope_spans.push(ScopeSpans::default());
                out.push(rs);
                groups.push((ep, out.len() - 1));
                out.len() - 1
            }
        };
        out[at].scope_spans[0].spans.push(span);
    }
    Ok(ExportTraceServiceRequest { resource_spans: out })
}

fn micros_to_nanos(us: i64) -> u64 {
    if us <= 0 {
        0
    } else {
        (us as u64).saturating_mul(1000)
    }
}

fn span(s: V1Span, parse_string_tags: bool) -> Result<(Span, V1Endpoint), String> {
    let trace_id = match s.trace_id.as_deref().unwrap_or("") {
        h if h.len() == 16 || h.len() == 32 => {
            fixed_hex::<16>(h, 16 - h.len() / 2).map_err(|e| format!("traceId: {e}"))?
        }
        "" => return Err("traceId is required".into()),
        _ => return Err("traceId: hex traceId span has wrong length (expected 16 or 32)".into()),
    };
    let id = match s.id.as_deref().unwrap_or("") {
        "" => return Err("id is required".into()),
        h if h.len() == 16 => fixed_hex::<8>(h, 0).map_err(|e| format!("id: {e}"))?,
        _ => return Err("id: hex Id has wrong length (expected 16)".into()),
    };
    let parent = match s.parent_id.as_deref().unwrap_or("") {
        "" => None,
        h if h.len() == 16 => Some(fixed_hex::<8>(h, 0).map_err(|e| format!("parentId: {e}"))?),
        _ => return Err("parentId: hex Id has wrong length (expected 16)".into()),
    };
    let mut span = Span {
        trace_id: trace_id.to_vec(),
        span_id: id.to_vec(),
        parent_span_id: parent.map(|p| p.to_vec()).unwrap_or_default(),
        name: s.name.unwrap_or_default(),
        ..Default::default()
    };
    let mut ep = annotations(&mut span, s.annotations.unwrap_or_default());
    let fallback = binary_annotations(&mut span, s.binary_annotations.unwrap_or_default(), parse_string_tags);
    if ep.service() == UNKNOWN_SERVICE && !fallback.is_empty() {
        ep.service_name = Some(fallback);
    }
    if let Some(ts) = s.timestamp.filter(|t| *t != 0) {
        span.start_time_unix_nano = micros_to_nanos(ts);
        span.end_time_unix_nano = micros_to_nanos(ts.saturating_add(s.duration.unwrap_or(0)));
    }
    if span.start_time_unix_nano == 0 {
        // The Collector stamps a span without any time with the time it arrived, flagged.
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos() as u64)
            .unwrap_or(0);
        span.start_time_unix_nano = now;
        span.end_time_unix_nano = now;
        attrs::upsert(&mut span.attributes, START_TIME_ABSENT, bool_value(true));
    }
    Ok((span, ep))
}

/// Exactly the hex digits for `N - skip` bytes, written after `skip` zero bytes; not all zero.
fn fixed_hex<const N: usize>(h: &str, skip: usize) -> Result<[u8; N], String> {
    let mut id = [0u8; N];
    if !h.is_ascii() || h.len() != 2 * (N - skip) {
        return Err(format!("\"{h}\" is not valid hex"));
    }
    for (i, b) in id[skip..].iter_mut().enumerate() {
        *b = u8::from_str_radix(&h[2 * i..2 * i + 2], 16).map_err(|_| format!("\"{h}\" is not valid hex"))?;
    }
    if id == [0u8; N] {
        return Err("ID is zero".into());
    }
    Ok(id)
}

/// Kind, start and end from the core annotations; the others become events. Returns the
/// endpoint of the first core annotation that names a service.
fn annotations(span: &mut Span, list: Vec<Option<V1Annotation>>) -> V1Endpoint {
    let (mut earliest, mut latest) = (i64::MAX, i64::MIN);
    let mut endpoint: Option<V1Endpoint> = None;
    let mut kind_set = false;
    for a in list.into_iter().flatten() {
        let value = a.value.unwrap_or_default();
        if value.is_empty() {
            continue;
        }
        let core = matches!(value.as_str(), "cs" | "cr" | "ms" | "mr" | "ss" | "sr");
        let named = a.endpoint.as_ref().is_some_and(|e| !e.service().is_empty());
        if endpoint.is_none() && named && core {
            endpoint = a.endpoint.clone();
        }
        if !kind_set && core {
            span.kind = match value.as_str() {
                "cs" | "cr" => 3,
                "ms" => 4,
                "mr" => 5,
                _ => 2,
            };
            kind_set = true;
        }
        let at = a.timestamp.unwrap_or(0);
        let ts = micros_to_nanos(at);
        if at < earliest {
            earliest = at;
            span.start_time_unix_nano = ts;
        }
        if at > latest {
            latest = at;
            span.end_time_unix_nano = ts;
        }
        if !core {
            span.events.push(Event { time_unix_nano: ts, name: value, ..Default::default() });
        }
    }
    endpoint.unwrap_or_else(|| V1Endpoint { service_name: Some(UNKNOWN_SERVICE.into()), ..Default::default() })
}

/// Where a span's status comes from, in the Collector's order of preference.
#[derive(Default)]
struct StatusSources {
    census: (Option<i32>, String),
    otel: (Option<i32>, String),
    error_tag: bool,
    http: (Option<i32>, String),
}

fn as_status_number(v: &AnyValue) -> Option<i64> {
    match &v.value {
        Some(Value::IntValue(i)) => Some(*i),
        Some(Value::StringValue(s)) => s.parse::<i64>().ok(),
        _ => None,
    }
    .filter(|i| i32::try_from(*i).is_ok())
}

/// Binary annotations as attributes; status tags feed the status. Returns the service name
/// to use when the core annotations named none (a binary annotation's endpoint, else `lc`).
fn binary_annotations(span: &mut Span, list: Vec<Option<V1BinaryAnnotation>>, parse_string_tags: bool) -> String {
    let mut fallback = String::new();
    let mut local_component = String::new();
    let mut st = StatusSources::default();
    let any = !list.is_empty();
    for b in list.into_iter().flatten() {
        if let Some(name) = b.endpoint.as_ref().map(V1Endpoint::service).filter(|s| !s.is_empty()) {
            fallback = name.to_string();
        }
        let mut key = b.key.unwrap_or_default();
        let raw = b.value.unwrap_or_default();
        if key == "lc" {
            key = "component".into();
            local_component.clone_from(&raw);
        }
        let value = tag_value(raw, parse_string_tags);
        let text = || match &value.value {
            Some(Value::StringValue(s)) => s.clone(),
            _ => String::new(),
        };
        match key.as_str() {
            "census.status_code" => {
                if let Some(c) = as_status_number(&value) {
                    st.census.0 = Some(if c == 0 { 1 } else { 2 });
                }
                continue;
            }
            "census.status_description" | "opencensus.status_description" => {
                st.census.1 = text();
                continue;
            }
            "otel.status_code" => {
                st.otel.0 = as_status_number(&value).map(|c| c as i32).or_else(|| match text().as_str() {
                    // The specification's names, which the OpenTelemetry SDKs send (a Switchyard addition).
                    s @ ("OK" | "ERROR" | "UNSET") => Some(status_code(s)),
                    _ => None,
                });
                continue;
            }
            "otel.status_description" => {
                st.otel.1 = text();
                continue;
            }
            "error" => {
                st.error_tag = true;
                continue;
            }
            "http.status_code" => {
                if let Some(c) = as_status_number(&value) {
                    st.http.0 = Some(if (100..400).contains(&c) { 0 } else { 2 });
                }
            }
            "http.status_text" => st.http.1 = text(),
            _ => {}
        }
        attrs::upsert(&mut span.attributes, key, value);
    }
    if any {
        let chosen = if st.census.0.is_some() {
            Some(st.census)
        } else if st.otel.0.is_some() {
            Some(st.otel)
        } else if st.error_tag {
            let msg = if !st.census.1.is_empty() { st.census.1 } else { st.otel.1 };
            Some((Some(2), msg))
        } else if st.http.0.is_some() {
            Some(st.http)
        } else {
            None
        };
        if let Some((Some(code), message)) = chosen {
            span.status = Some(Status { code, message });
        }
    }
    if fallback.is_empty() {
        fallback = local_component;
    }
    fallback
}
