//! Writes the `jaeger.thrift` structs: the receiver never sends Thrift, this exists so the
//! tests and benches can make exactly the bytes a Jaeger client sends (binary `Batch`
//! bodies, compact and binary `emitBatch` datagrams).

use thrift::protocol::{
    TBinaryOutputProtocol, TCompactOutputProtocol, TFieldIdentifier, TListIdentifier, TMessageIdentifier, TMessageType,
    TOutputProtocol, TStructIdentifier, TType,
};

use super::thrift_model::{Batch, Log, Process, Span, SpanRef, Tag, TagType};

type R = thrift::Result<()>;

/// A Thrift binary `Batch` (a `thrift_http` body).
pub fn binary_batch(b: &Batch) -> Vec<u8> {
    let mut out = Vec::new();
    {
        let mut p = TBinaryOutputProtocol::new(&mut out, true);
        let _ = write_batch(&mut p, b).and_then(|()| p.flush());
    }
    out
}

/// An agent `emitBatch` one-way call in the compact protocol (a `thrift_compact` datagram).
pub fn compact_emit_batch(b: &Batch) -> Vec<u8> {
    let mut out = Vec::new();
    {
        let mut p = TCompactOutputProtocol::new(&mut out);
        let _ = write_emit_batch(&mut p, b).and_then(|()| p.flush());
    }
    out
}

/// An agent `emitBatch` one-way call in the binary protocol (a `thrift_binary` datagram).
pub fn binary_emit_batch(b: &Batch) -> Vec<u8> {
    let mut out = Vec::new();
    {
        let mut p = TBinaryOutputProtocol::new(&mut out, true);
        let _ = write_emit_batch(&mut p, b).and_then(|()| p.flush());
    }
    out
}

fn write_emit_batch<P: TOutputProtocol>(p: &mut P, b: &Batch) -> R {
    p.write_message_begin(&TMessageIdentifier::new("emitBatch", TMessageType::OneWay, 1))?;
    p.write_struct_begin(&TStructIdentifier::new("Agent_emitBatch_args"))?;
    field(p, "batch", TType::Struct, 1, |p| write_batch(p, b))?;
    end_struct(p)?;
    p.write_message_end()
}

fn field<P: TOutputProtocol>(p: &mut P, name: &str, ty: TType, id: i16, f: impl FnOnce(&mut P) -> R) -> R {
    p.write_field_begin(&TFieldIdentifier::new(name, ty, id))?;
    f(p)?;
    p.write_field_end()
}

fn end_struct<P: TOutputProtocol>(p: &mut P) -> R {
    p.write_field_stop()?;
    p.write_struct_end()
}

fn list<P: TOutputProtocol, T>(p: &mut P, items: &[T], f: impl Fn(&mut P, &T) -> R) -> R {
    p.write_list_begin(&TListIdentifier::new(TType::Struct, items.len() as i32))?;
    for i in items {
        f(p, i)?;
    }
    p.write_list_end()
}

fn write_batch<P: TOutputProtocol>(p: &mut P, b: &Batch) -> R {
    p.write_struct_begin(&TStructIdentifier::new("Batch"))?;
    field(p, "process", TType::Struct, 1, |p| write_process(p, &b.process))?;
    field(p, "spans", TType::List, 2, |p| list(p, &b.spans, write_span))?;
    end_struct(p)
}

fn write_process<P: TOutputProtocol>(p: &mut P, pr: &Process) -> R {
    p.write_struct_begin(&TStructIdentifier::new("Process"))?;
    field(p, "serviceName", TType::String, 1, |p| p.write_string(&pr.service_name))?;
    if let Some(tags) = &pr.tags {
        field(p, "tags", TType::List, 2, |p| list(p, tags, write_tag))?;
    }
    end_struct(p)
}

fn write_tag<P: TOutputProtocol>(p: &mut P, t: &Tag) -> R {
    p.write_struct_begin(&TStructIdentifier::new("Tag"))?;
    field(p, "key", TType::String, 1, |p| p.write_string(&t.key))?;
    let ty = match t.v_type {
        TagType::String => 0,
        TagType::Double => 1,
        TagType::Bool => 2,
        TagType::Long => 3,
        TagType::Binary => 4,
        TagType::Unknown(v) => v,
    };
    field(p, "vType", TType::I32, 2, |p| p.write_i32(ty))?;
    if let Some(v) = &t.v_str {
        field(p, "vStr", TType::String, 3, |p| p.write_string(v))?;
    }
    if let Some(v) = t.v_double {
        field(p, "vDouble", TType::Double, 4, |p| p.write_double(v))?;
    }
    if let Some(v) = t.v_bool {
        field(p, "vBool", TType::Bool, 5, |p| p.write_bool(v))?;
    }
    if let Some(v) = t.v_long {
        field(p, "vLong", TType::I64, 6, |p| p.write_i64(v))?;
    }
    if let Some(v) = &t.v_binary {
        field(p, "vBinary", TType::String, 7, |p| p.write_bytes(v))?;
    }
    end_struct(p)
}

fn write_log<P: TOutputProtocol>(p: &mut P, l: &Log) -> R {
    p.write_struct_begin(&TStructIdentifier::new("Log"))?;
    field(p, "timestamp", TType::I64, 1, |p| p.write_i64(l.timestamp))?;
    field(p, "fields", TType::List, 2, |p| list(p, &l.fields, write_tag))?;
    end_struct(p)
}

fn write_ref<P: TOutputProtocol>(p: &mut P, r: &SpanRef) -> R {
    p.write_struct_begin(&TStructIdentifier::new("SpanRef"))?;
    field(p, "refType", TType::I32, 1, |p| p.write_i32(r.ref_type))?;
    field(p, "traceIdLow", TType::I64, 2, |p| p.write_i64(r.trace_id_low))?;
    field(p, "traceIdHigh", TType::I64, 3, |p| p.write_i64(r.trace_id_high))?;
    field(p, "spanId", TType::I64, 4, |p| p.write_i64(r.span_id))?;
    end_struct(p)
}

fn write_span<P: TOutputProtocol>(p: &mut P, s: &Span) -> R {
    p.write_struct_begin(&TStructIdentifier::new("Span"))?;
    field(p, "traceIdLow", TType::I64, 1, |p| p.write_i64(s.trace_id_low))?;
    field(p, "traceIdHigh", TType::I64, 2, |p| p.write_i64(s.trace_id_high))?;
    field(p, "spanId", TType::I64, 3, |p| p.write_i64(s.span_id))?;
    field(p, "parentSpanId", TType::I64, 4, |p| p.write_i64(s.parent_span_id))?;
    field(p, "operationName", TType::String, 5, |p| p.write_string(&s.operation_name))?;
    if !s.references.is_empty() {
        field(p, "references", TType::List, 6, |p| list(p, &s.references, write_ref))?;
    }
    field(p, "flags", TType::I32, 7, |p| p.write_i32(s.flags))?;
    field(p, "startTime", TType::I64, 8, |p| p.write_i64(s.start_time))?;
    field(p, "duration", TType::I64, 9, |p| p.write_i64(s.duration))?;
    if !s.tags.is_empty() {
        field(p, "tags", TType::List, 10, |p| list(p, &s.tags, write_tag))?;
    }
    if !s.logs.is_empty() {
        field(p, "logs", TType::List, 11, |p| list(p, &s.logs, write_log))?;
    }
    if let Some(v) = s.incomplete {
        field(p, "incomplete", TType::Bool, 12, |p| p.write_bool(v))?;
    }
    end_struct(p)
}
