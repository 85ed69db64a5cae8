//! The `jaeger.thrift` structs (Batch, Process, Span, Tag, Log, SpanRef) and their decoding
//! with the Apache `thrift` crate's protocol readers: binary (`thrift_http` bodies,
//! `thrift_binary` datagrams) and compact (`thrift_compact` datagrams). The receiver only
//! reads Thrift (`thrift_encode.rs` writes it, for the tests and benches).
//!
//! Required fields are checked as the Go generated code checks them (a `Batch` without a
//! `process` is refused), unknown fields are skipped, and every length is bounded by the
//! input's size before anything is allocated.

// The fields are jaeger.thrift's, one for one, named as there; their meaning is documented there.
#![allow(missing_docs)]

use thrift::protocol::{
    TBinaryInputProtocol, TCompactInputProtocol, TFieldIdentifier, TInputProtocol, TMessageType, TType,
};
use thrift::{ProtocolError, ProtocolErrorKind, TConfiguration};

/// `TagType`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TagType {
    /// `STRING` (0).
    String,
    /// `DOUBLE` (1).
    Double,
    /// `BOOL` (2).
    Bool,
    /// `LONG` (3).
    Long,
    /// `BINARY` (4).
    Binary,
    /// A value outside the enum, kept to report it as the Collector does.
    Unknown(i32),
}

impl From<i32> for TagType {
    fn from(v: i32) -> Self {
        match v {
            0 => TagType::String,
            1 => TagType::Double,
            2 => TagType::Bool,
            3 => TagType::Long,
            4 => TagType::Binary,
            other => TagType::Unknown(other),
        }
    }
}

/// `Tag`: a typed key/value.
#[derive(Clone, Debug, PartialEq)]
pub struct Tag {
    pub key: String,
    pub v_type: TagType,
    pub v_str: Option<String>,
    pub v_double: Option<f64>,
    pub v_bool: Option<bool>,
    pub v_long: Option<i64>,
    pub v_binary: Option<Vec<u8>>,
}

/// `Log`: a timestamped list of fields.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Log {
    /// Epoch microseconds.
    pub timestamp: i64,
    pub fields: Vec<Tag>,
}

/// `SpanRefType`: `CHILD_OF` (0) or `FOLLOWS_FROM` (1).
pub const CHILD_OF: i32 = 0;

/// `SpanRef`.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct SpanRef {
    pub ref_type: i32,
    pub trace_id_low: i64,
    pub trace_id_high: i64,
    pub span_id: i64,
}

/// `Span`.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Span {
    pub trace_id_low: i64,
    pub trace_id_high: i64,
    pub span_id: i64,
    pub parent_span_id: i64,
    pub operation_name: String,
    pub references: Vec<SpanRef>,
    pub flags: i32,
    /// Epoch microseconds.
    pub start_time: i64,
    /// Microseconds.
    pub duration: i64,
    pub tags: Vec<Tag>,
    pub logs: Vec<Log>,
    pub incomplete: Option<bool>,
}

/// `Process`.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Process {
    pub service_name: String,
    /// `None` when the optional list was absent (the Collector tells absent from empty).
    pub tags: Option<Vec<Tag>>,
}

/// `Batch`.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Batch {
    pub process: Process,
    pub spans: Vec<Span>,
}

/// Why bytes are not a Jaeger Thrift batch.
#[derive(Debug, thiserror::Error)]
pub enum DecodeError {
    /// The protocol layer failed (truncated input, bad type, length over the input...).
    #[error("{0}")]
    Thrift(#[from] thrift::Error),
    /// A required field of a struct was absent.
    #[error("required field {0} is not set")]
    Missing(&'static str),
    /// An agent datagram called another method than `emitBatch`.
    #[error("unsupported agent method \"{0}\" (only emitBatch is served)")]
    Method(String),
}

/// Limits for a message of `len` bytes: no string or list can be longer than the message.
fn limits(len: usize) -> TConfiguration {
    TConfiguration::builder()
        .max_message_size(Some(len.max(1)))
        .max_string_size(Some(len))
        .max_container_size(Some(len))
        .build()
        .unwrap_or_default()
}

/// A Thrift binary `Batch` (a `thrift_http` body; the Collector's `TDeserializer`).
pub fn decode_binary_batch(bytes: &[u8]) -> Result<Batch, DecodeError> {
    let mut p = TBinaryInputProtocol::with_config(bytes, false, limits(bytes.len()));
    read_batch(&mut p)
}

/// An agent datagram in the compact protocol: an `emitBatch` call carrying one `Batch`.
pub fn decode_compact_emit_batch(bytes: &[u8]) -> Result<Batch, DecodeError> {
    let mut p = TCompactInputProtocol::with_config(bytes, limits(bytes.len()));
    read_emit_batch(&mut p)
}

/// An agent datagram in the binary protocol (strict or not): an `emitBatch` call.
pub fn decode_binary_emit_batch(bytes: &[u8]) -> Result<Batch, DecodeError> {
    let mut p = TBinaryInputProtocol::with_config(bytes, false, limits(bytes.len()));
    read_emit_batch(&mut p)
}

fn read_emit_batch<P: TInputProtocol>(p: &mut P) -> Result<Batch, DecodeError> {
    let msg = p.read_message_begin()?;
    if msg.name != "emitBatch" {
        return Err(DecodeError::Method(msg.name));
    }
    if !matches!(msg.message_type, TMessageType::OneWay | TMessageType::Call) {
        return Err(protocol_error(format!("unexpected message type {:?}", msg.message_type)));
    }
    let mut batch = None;
    read_struct(p, |p, f| match (f.id, f.field_type) {
        (Some(1), TType::Struct) => {
            batch = Some(read_batch(p)?);
            Ok(true)
        }
        _ => Ok(false),
    })?;
    p.read_message_end()?;
    batch.ok_or(DecodeError::Missing("Batch"))
}

fn protocol_error(message: String) -> DecodeError {
    DecodeError::Thrift(thrift::Error::Protocol(ProtocolError::new(ProtocolErrorKind::InvalidData, message)))
}

/// Reads a struct, handing each field to `field`, which returns whether it read the value;
/// fields it does not take are skipped.
fn read_struct<P: TInputProtocol>(
    p: &mut P,
    mut field: impl FnMut(&mut P, &TFieldIdentifier) -> Result<bool, DecodeError>,
) -> Result<(), DecodeError> {
    p.read_struct_begin()?;
    loop {
        let f = p.read_field_begin()?;
        if f.field_type == TType::Stop {
            break;
        }
        if !field(p, &f)? {
            p.skip(f.field_type)?;
        }
        p.read_field_end()?;
    }
    p.read_struct_end()?;
    Ok(())
}

/// Reads a list of structs. Capacity is bounded: the declared size is only a claim.
fn read_list<P: TInputProtocol, T>(
    p: &mut P,
    mut item: impl FnMut(&mut P) -> Result<T, DecodeError>,
) -> Result<Vec<T>, DecodeError> {
    let l = p.read_list_begin()?;
    if l.size > 0 && l.element_type != TType::Struct {
        return Err(protocol_error(format!("expected a list of structs, got {:?}", l.element_type)));
    }
    let n = usize::try_from(l.size).unwrap_or(0);
    let mut out = Vec::with_capacity(n.min(1024));
    for _ in 0..n {
        out.push(item(p)?);
    }
    p.read_list_end()?;
    Ok(out)
}

/// Strings as bytes, made UTF-8 lossily: Go's Thrift does not check them, so neither do we
/// refuse a batch for one bad byte (OTLP needs valid UTF-8, hence the replacement).
fn read_string<P: TInputProtocol>(p: &mut P) -> Result<String, DecodeError> {
    let bytes = p.read_bytes()?;
    Ok(String::from_utf8(bytes).unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned()))
}

fn read_batch<P: TInputProtocol>(p: &mut P) -> Result<Batch, DecodeError> {
    let (mut process, mut spans) = (None, None);
    read_struct(p, |p, f| {
        Ok(match (f.id, f.field_type) {
            (Some(1), TType::Struct) => {
                process = Some(read_process(p)?);
                true
            }
            (Some(2), TType::List) => {
                spans = Some(read_list(p, read_span)?);
                true
            }
            _ => false,
        })
    })?;
    Ok(Batch {
        process: process.ok_or(DecodeError::Missing("Process"))?,
        spans: spans.ok_or(DecodeError::Missing("Spans"))?,
    })
}

fn read_process<P: TInputProtocol>(p: &mut P) -> Result<Process, DecodeError> {
    let (mut service_name, mut tags) = (None, None);
    read_struct(p, |p, f| {
        Ok(match (f.id, f.field_type) {
            (Some(1), TType::String) => {
                service_name = Some(read_string(p)?);
                true
            }
            (Some(2), TType::List) => {
                tags = Some(read_list(p, read_tag)?);
                true
            }
            _ => false,
        })
    })?;
    Ok(Process { service_name: service_name.ok_or(DecodeError::Missing("ServiceName"))?, tags })
}

fn read_tag<P: TInputProtocol>(p: &mut P) -> Result<Tag, DecodeError> {
    let (mut key, mut v_type) = (None, None);
    let mut t = Tag {
        key: String::new(),
        v_type: TagType::String,
        v_str: None,
        v_double: None,
        v_bool: None,
        v_long: None,
        v_binary: None,
    };
    read_struct(p, |p, f| {
        match (f.id, f.field_type) {
            (Some(1), TType::String) => key = Some(read_string(p)?),
            (Some(2), TType::I32) => v_type = Some(TagType::from(p.read_i32()?)),
            (Some(3), TType::String) => t.v_str = Some(read_string(p)?),
            (Some(4), TType::Double) => t.v_double = Some(p.read_double()?),
            (Some(5), TType::Bool) => t.v_bool = Some(p.read_bool()?),
            (Some(6), TType::I64) => t.v_long = Some(p.read_i64()?),
            (Some(7), TType::String) => t.v_binary = Some(p.read_bytes()?),
            _ => return Ok(false),
        }
        Ok(true)
    })?;
    t.key = key.ok_or(DecodeError::Missing("Key"))?;
    t.v_type = v_type.ok_or(DecodeError::Missing("VType"))?;
    Ok(t)
}

fn read_log<P: TInputProtocol>(p: &mut P) -> Result<Log, DecodeError> {
    let (mut timestamp, mut fields) = (None, None);
    read_struct(p, |p, f| {
        match (f.id, f.field_type) {
            (Some(1), TType::I64) => timestamp = Some(p.read_i64()?),
            (Some(2), TType::List) => fields = Some(read_list(p, read_tag)?),
            _ => return Ok(false),
        }
        Ok(true)
    })?;
    Ok(Log {
        timestamp: timestamp.ok_or(DecodeError::Missing("Timestamp"))?,
        fields: fields.ok_or(DecodeError::Missing("Fields"))?,
    })
}

fn read_span_ref<P: TInputProtocol>(p: &mut P) -> Result<SpanRef, DecodeError> {
    let mut seen = [false; 4];
    let mut r = SpanRef::default();
    read_struct(p, |p, f| {
        match (f.id, f.field_type) {
            (Some(1), TType::I32) => r.ref_type = p.read_i32()?,
            (Some(2), TType::I64) => r.trace_id_low = p.read_i64()?,
            (Some(3), TType::I64) => r.trace_id_high = p.read_i64()?,
            (Some(4), TType::I64) => r.span_id = p.read_i64()?,
            _ => return Ok(false),
        }
        if let Some(i) = f.id {
            seen[(i - 1) as usize] = true;
        }
        Ok(true)
    })?;
    for (i, name) in ["RefType", "TraceIdLow", "TraceIdHigh", "SpanId"].into_iter().enumerate() {
        if !seen[i] {
            return Err(DecodeError::Missing(name));
        }
    }
    Ok(r)
}

fn read_span<P: TInputProtocol>(p: &mut P) -> Result<Span, DecodeError> {
    // Required: 1 traceIdLow, 2 traceIdHigh, 3 spanId, 4 parentSpanId, 5 operationName,
    // 7 flags, 8 startTime, 9 duration.
    let mut seen = [false; 13];
    let mut s = Span::default();
    read_struct(p, |p, f| {
        match (f.id, f.field_type) {
            (Some(1), TType::I64) => s.trace_id_low = p.read_i64()?,
            (Some(2), TType::I64) => s.trace_id_high = p.read_i64()?,
            (Some(3), TType::I64) => s.span_id = p.read_i64()?,
            (Some(4), TType::I64) => s.parent_span_id = p.read_i64()?,
            (Some(5), TType::String) => s.operation_name = read_string(p)?,
            (Some(6), TType::List) => s.references = read_list(p, read_span_ref)?,
            (Some(7), TType::I32) => s.flags = p.read_i32()?,
            (Some(8), TType::I64) => s.start_time = p.read_i64()?,
            (Some(9), TType::I64) => s.duration = p.read_i64()?,
            (Some(10), TType::List) => s.tags = read_list(p, read_tag)?,
            (Some(11), TType::List) => s.logs = read_list(p, read_log)?,
            (Some(12), TType::Bool) => s.incomplete = Some(p.read_bool()?),
            _ => return Ok(false),
        }
        if let Some(i) = f.id {
            seen[i as usize] = true;
        }
        Ok(true)
    })?;
    for (i, name) in [
        (1, "TraceIdLow"),
        (2, "TraceIdHigh"),
        (3, "SpanId"),
        (4, "ParentSpanId"),
        (5, "OperationName"),
        (7, "Flags"),
        (8, "StartTime"),
        (9, "Duration"),
    ] {
        if !seen[i] {
            return Err(DecodeError::Missing(name));
        }
    }
    Ok(s)
}
