//! Zipkin v2 spans as they arrive: the JSON and protobuf encodings (zipkin-api's
//! `zipkin2-api.yaml` and `zipkin.proto`) decoded into one model that the translation reads.
//!
//! Validation follows what the Collector's decoders (openzipkin/zipkin-go) refuse — a zero
//! or missing span id, bad hex, a bad IP address, an annotation without a timestamp — and,
//! unlike the Collector's JSON path, a missing or zero trace id too: such a span cannot be
//! represented in OTLP, so the request is refused with a message naming the span.

use std::collections::BTreeMap;
use std::net::{Ipv4Addr, Ipv6Addr};

use serde::de::{MapAccess, Visitor};
use serde::{Deserialize, Deserializer};

/// Why a request's spans could not be decoded.
#[derive(Debug, thiserror::Error)]
pub enum DecodeError {
    /// Not the expected encoding at all (the span count is unknown).
    #[error("{0}")]
    Syntax(String),
    /// Well-formed, but span `index` (0-based) of `spans` is invalid.
    #[error("span {index}: {message}")]
    Span {
        /// Position of the span in the request.
        index: usize,
        /// Spans in the request.
        spans: usize,
        /// What is wrong.
        message: String,
    },
}

impl DecodeError {
    /// Spans in the refused request, when known.
    pub fn spans(&self) -> usize {
        match self {
            DecodeError::Syntax(_) => 0,
            DecodeError::Span { spans, .. } => *spans,
        }
    }
}

/// Zipkin's span kind.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Kind {
    /// Absent or not one of Zipkin's four.
    #[default]
    Unspecified,
    /// `CLIENT`.
    Client,
    /// `SERVER`.
    Server,
    /// `PRODUCER`.
    Producer,
    /// `CONSUMER`.
    Consumer,
}

/// `localEndpoint` / `remoteEndpoint`.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Endpoint {
    /// `serviceName`.
    pub service_name: String,
    /// `ipv4`.
    pub ipv4: Option<Ipv4Addr>,
    /// `ipv6`.
    pub ipv6: Option<Ipv6Addr>,
    /// `port` (0: absent).
    pub port: u16,
}

impl Endpoint {
    fn is_empty(&self) -> bool {
        self.service_name.is_empty() && self.ipv4.is_none() && self.ipv6.is_none() && self.port == 0
    }
}

/// One Zipkin v2 span, decoded and validated.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ZipkinSpan {
    /// 128-bit trace id; a 64-bit one is in the low (last) 8 bytes.
    pub trace_id: [u8; 16],
    /// Span id, never zero.
    pub id: [u8; 8],
    /// Parent span id.
    pub parent_id: Option<[u8; 8]>,
    /// Kind.
    pub kind: Kind,
    /// Name.
    pub name: String,
    /// Start, epoch microseconds; 0: absent.
    pub timestamp_us: u64,
    /// Duration in microseconds.
    pub duration_us: u64,
    /// Local endpoint, `None` when absent or empty.
    pub local: Option<Endpoint>,
    /// Remote endpoint, `None` when absent or empty.
    pub remote: Option<Endpoint>,
    /// `(timestamp µs, value)`.
    pub annotations: Vec<(u64, String)>,
    /// Tags, in the order received (JSON) or sorted by key (protobuf); keys unique.
    pub tags: Vec<(String, String)>,
}

// ---- JSON ----

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct JsonSpan {
    trace_id: Option<String>,
    id: Option<String>,
    parent_id: Option<String>,
    kind: Option<String>,
    name: Option<String>,
    timestamp: Option<u64>,
    duration: Option<u64>,
    local_endpoint: Option<JsonEndpoint>,
    remote_endpoint: Option<JsonEndpoint>,
    annotations: Option<Vec<JsonAnnotation>>,
    #[serde(default, deserialize_with = "tags_in_order")]
    tags: Vec<(String, String)>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct JsonEndpoint {
    service_name: Option<String>,
    ipv4: Option<String>,
    ipv6: Option<String>,
    port: Option<u16>,
}

#[derive(Deserialize)]
struct JsonAnnotation {
    timestamp: Option<u64>,
    value: Option<String>,
}

/// A JSON object of string values, in document order, a repeated key keeping its last value.
fn tags_in_order<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<(String, String)>, D::Error> {
    struct V;
    impl<'de> Visitor<'de> for V {
        type Value = Vec<(String, String)>;
        fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
            f.write_str("an object of string values")
        }
        fn visit_unit<E>(self) -> Result<Self::Value, E> {
            Ok(Vec::new())
        }
        fn visit_map<A: MapAccess<'de>>(self, mut m: A) -> Result<Self::Value, A::Error> {
            let mut out: Vec<(String, String)> = Vec::with_capacity(m.size_hint().unwrap_or(8));
            while let Some((k, v)) = m.next_entry::<String, String>()? {
                match out.iter_mut().find(|(key, _)| *key == k) {
                    Some(slot) => slot.1 = v,
                    None => out.push((k, v)),
                }
            }
            Ok(out)
        }
    }
    d.deserialize_any(V)
}

/// Decodes a v2 JSON body: an array of spans.
pub fn decode_json(body: &[u8]) -> Result<Vec<ZipkinSpan>, DecodeError> {
    let raw: Vec<JsonSpan> =
        serde_json::from_slice(body).map_err(|e| DecodeError::Syntax(format!("invalid Zipkin v2 JSON: {e}")))?;
    let spans = raw.len();
    raw.into_iter()
        .enumerate()
        .map(|(index, s)| from_json(s).map_err(|message| DecodeError::Span { index, spans, message }))
        .collect()
}

fn from_json(s: JsonSpan) -> Result<ZipkinSpan, String> {
    let trace_id = match s.trace_id.as_deref() {
        None | Some("") => return Err("traceId is required".into()),
        Some(h) => hex_trace_id(h).map_err(|e| format!("traceId: {e}"))?,
    };
    let id = match s.id.as_deref() {
        None | Some("") => return Err("id is required".into()),
        Some(h) => hex_span_id(h).map_err(|e| format!("id: {e}"))?,
    };
    let parent_id = match s.parent_id.as_deref() {
        None | Some("") => None,
        Some(h) => Some(hex_span_id(h).map_err(|e| format!("parentId: {e}"))?),
    };
    let kind = match s.kind.as_deref() {
        Some("CLIENT") => Kind::Client,
        Some("SERVER") => Kind::Server,
        Some("PRODUCER") => Kind::Producer,
        Some("CONSUMER") => Kind::Consumer,
        _ => Kind::Unspecified,
    };
    let mut annotations = Vec::with_capacity(s.annotations.as_ref().map_or(0, Vec::len));
    for a in s.annotations.into_iter().flatten() {
        match a.timestamp {
            Some(ts) if ts > 0 => annotations.push((ts, a.value.unwrap_or_default())),
            _ => return Err("annotation timestamp is required".into()),
        }
    }
    Ok(ZipkinSpan {
        trace_id,
        id,
        parent_id,
        kind,
        name: s.name.unwrap_or_default(),
        timestamp_us: s.timestamp.unwrap_or(0),
        duration_us: s.duration.unwrap_or(0),
        local: json_endpoint(s.local_endpoint).map_err(|e| format!("localEndpoint: {e}"))?,
        remote: json_endpoint(s.remote_endpoint).map_err(|e| format!("remoteEndpoint: {e}"))?,
        annotations,
        tags: s.tags,
    })
}

fn json_endpoint(e: Option<JsonEndpoint>) -> Result<Option<Endpoint>, String> {
    let Some(e) = e else { return Ok(None) };
    let ipv4 = match e.ipv4.as_deref() {
        None | Some("") => None,
        Some(ip) => Some(ip.parse::<Ipv4Addr>().map_err(|_| format!("invalid IP address \"{ip}\""))?),
    };
    let ipv6 = match e.ipv6.as_deref() {
        None | Some("") => None,
        Some(ip) => Some(ip.parse::<Ipv6Addr>().map_err(|_| format!("invalid IPv6 address \"{ip}\""))?),
    };
    let ep = Endpoint { service_name: e.service_name.unwrap_or_default(), ipv4, ipv6, port: e.port.unwrap_or(0) };
    Ok((!ep.is_empty()).then_some(ep))
}

/// 1 to 32 hex digits; up to 16 are a 64-bit id (the low half), more fill the high half.
pub fn hex_trace_id(h: &str) -> Result<[u8; 16], String> {
    if h.len() > 32 {
        return Err(format!("\"{h}\" is longer than 32 hex digits"));
    }
    let (high, low) = if h.len() > 16 { h.split_at(h.len() - 16) } else { ("", h) };
    let high = if high.is_empty() { 0 } else { parse_hex(high)? };
    let low = parse_hex(low)?;
    if high == 0 && low == 0 {
        return Err("trace id is zero".into());
    }
    let mut id = [0u8; 16];
    id[..8].copy_from_slice(&high.to_be_bytes());
    id[8..].copy_from_slice(&low.to_be_bytes());
    Ok(id)
}

/// 1 to 16 hex digits, not zero.
pub fn hex_span_id(h: &str) -> Result<[u8; 8], String> {
    if h.len() > 16 {
        return Err(format!("\"{h}\" is longer than 16 hex digits"));
    }
    match parse_hex(h)? {
        0 => Err("span id is zero".into()),
        v => Ok(v.to_be_bytes()),
    }
}

fn parse_hex(h: &str) -> Result<u64, String> {
    // from_str_radix alone would accept a leading '+'.
    if h.is_empty() || !h.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(format!("\"{h}\" is not hex"));
    }
    u64::from_str_radix(h, 16).map_err(|e| format!("\"{h}\": {e}"))
}

// ---- protobuf (zipkin.proto, package zipkin.proto3) ----

/// `ListOfSpans`.
#[derive(Clone, PartialEq, prost::Message)]
pub struct ProtoListOfSpans {
    /// `spans = 1`.
    #[prost(message, repeated, tag = "1")]
    pub spans: Vec<ProtoSpan>,
}

/// `Span`.
#[derive(Clone, PartialEq, prost::Message)]
pub struct ProtoSpan {
    /// `trace_id = 1`: 8 or 16 bytes.
    #[prost(bytes = "vec", tag = "1")]
    pub trace_id: Vec<u8>,
    /// `parent_id = 2`: 8 bytes or empty.
    #[prost(bytes = "vec", tag = "2")]
    pub parent_id: Vec<u8>,
    /// `id = 3`: 8 bytes.
    #[prost(bytes = "vec", tag = "3")]
    pub id: Vec<u8>,
    /// `kind = 4`: 0 unspecified, 1 CLIENT, 2 SERVER, 3 PRODUCER, 4 CONSUMER.
    #[prost(int32, tag = "4")]
    pub kind: i32,
    /// `name = 5`.
    #[prost(string, tag = "5")]
    pub name: String,
    /// `timestamp = 6`: epoch microseconds.
    #[prost(fixed64, tag = "6")]
    pub timestamp: u64,
    /// `duration = 7`: microseconds.
    #[prost(uint64, tag = "7")]
    pub duration: u64,
    /// `local_endpoint = 8`.
    #[prost(message, optional, tag = "8")]
    pub local_endpoint: Option<ProtoEndpoint>,
    /// `remote_endpoint = 9`.
    #[prost(message, optional, tag = "9")]
    pub remote_endpoint: Option<ProtoEndpoint>,
    /// `annotations = 10`.
    #[prost(message, repeated, tag = "10")]
    pub annotations: Vec<ProtoAnnotation>,
    /// `tags = 11`.
    #[prost(btree_map = "string, string", tag = "11")]
    pub tags: BTreeMap<String, String>,
    /// `debug = 12`.
    #[prost(bool, tag = "12")]
    pub debug: bool,
    /// `shared = 13`.
    #[prost(bool, tag = "13")]
    pub shared: bool,
}

/// `Endpoint`.
#[derive(Clone, PartialEq, prost::Message)]
pub struct ProtoEndpoint {
    /// `service_name = 1`.
    #[prost(string, tag = "1")]
    pub service_name: String,
    /// `ipv4 = 2`: 4 bytes.
    #[prost(bytes = "vec", tag = "2")]
    pub ipv4: Vec<u8>,
    /// `ipv6 = 3`: 16 bytes.
    #[prost(bytes = "vec", tag = "3")]
    pub ipv6: Vec<u8>,
    /// `port = 4`.
    #[prost(int32, tag = "4")]
    pub port: i32,
}

/// `Annotation`.
#[derive(Clone, PartialEq, prost::Message)]
pub struct ProtoAnnotation {
    /// `timestamp = 1`: epoch microseconds.
    #[prost(fixed64, tag = "1")]
    pub timestamp: u64,
    /// `value = 2`.
    #[prost(string, tag = "2")]
    pub value: String,
}

/// Decodes a v2 protobuf body: a `ListOfSpans`.
pub fn decode_proto(body: &[u8]) -> Result<Vec<ZipkinSpan>, DecodeError> {
    use prost::Message;
    let list =
        ProtoListOfSpans::decode(body).map_err(|e| DecodeError::Syntax(format!("invalid Zipkin v2 protobuf: {e}")))?;
    let spans = list.spans.len();
    list.spans
        .into_iter()
        .enumerate()
        .map(|(index, s)| from_proto(s).map_err(|message| DecodeError::Span { index, spans, message }))
        .collect()
}

fn from_proto(s: ProtoSpan) -> Result<ZipkinSpan, String> {
    let mut trace_id = [0u8; 16];
    match s.trace_id.len() {
        0 => return Err("trace_id is required".into()),
        8 => trace_id[8..].copy_from_slice(&s.trace_id),
        16 => trace_id.copy_from_slice(&s.trace_id),
        n => return Err(format!("trace_id has {n} bytes, want 8 or 16")),
    }
    if trace_id == [0; 16] {
        return Err("trace id is zero".into());
    }
    let id = match <[u8; 8]>::try_from(s.id.as_slice()) {
        _ if s.id.is_empty() => return Err("id is required".into()),
        Ok(id) if id != [0; 8] => id,
        Ok(_) => return Err("span id is zero".into()),
        Err(_) => return Err(format!("id has {} bytes, want 8", s.id.len())),
    };
    let parent_id = match s.parent_id.len() {
        0 => None,
        8 => <[u8; 8]>::try_from(s.parent_id.as_slice()).ok().filter(|p| *p != [0; 8]),
        n => return Err(format!("parent_id has {n} bytes, want 8")),
    };
    let kind = match s.kind {
        1 => Kind::Client,
        2 => Kind::Server,
        3 => Kind::Producer,
        4 => Kind::Consumer,
        _ => Kind::Unspecified,
    };
    Ok(ZipkinSpan {
        trace_id,
        id,
        parent_id,
        kind,
        name: s.name,
        timestamp_us: s.timestamp,
        duration_us: s.duration,
        local: proto_endpoint(s.local_endpoint).map_err(|e| format!("local_endpoint: {e}"))?,
        remote: proto_endpoint(s.remote_endpoint).map_err(|e| format!("remote_endpoint: {e}"))?,
        annotations: s.annotations.into_iter().map(|a| (a.timestamp, a.value)).collect(),
        tags: s.tags.into_iter().collect(),
    })
}

fn proto_endpoint(e: Option<ProtoEndpoint>) -> Result<Option<Endpoint>, String> {
    let Some(e) = e else { return Ok(None) };
    let ipv4 = match e.ipv4.len() {
        0 => None,
        4 => <[u8; 4]>::try_from(e.ipv4.as_slice()).ok().map(Ipv4Addr::from),
        n => return Err(format!("ipv4 has {n} bytes, want 4")),
    };
    let ipv6 = match e.ipv6.len() {
        0 => None,
        16 => <[u8; 16]>::try_from(e.ipv6.as_slice()).ok().map(Ipv6Addr::from),
        n => return Err(format!("ipv6 has {n} bytes, want 16")),
    };
    let port = u16::try_from(e.port).map_err(|_| format!("port {} out of range", e.port))?;
    let ep = Endpoint { service_name: e.service_name, ipv4, ipv6, port };
    Ok((!ep.is_empty()).then_some(ep))
}
