//! Log record fields (the `log` context).

use std::borrow::Cow;

use switchyard_pdata::proto::logs::v1::LogRecord;
use switchyard_pdata::value::{as_string, hex_id};

use super::context::{parse_id, unsupported};
use super::fields::Field;
use super::value::Value;
use super::EvalError;
use crate::paths::Context;

pub(crate) fn get(log: &LogRecord, f: Field) -> Result<Value<'_>, EvalError> {
    use Field as F;
    Ok(match f {
        F::Attributes => Value::Map(Cow::Borrowed(&log.attributes)),
        F::DroppedAttributesCount => Value::Int(log.dropped_attributes_count.into()),
        F::TimeUnixNano => Value::Int(log.time_unix_nano as i64),
        F::ObservedTimeUnixNano => Value::Int(log.observed_time_unix_nano as i64),
        F::Time => Value::Time(log.time_unix_nano as i64),
        F::ObservedTime => Value::Time(log.observed_time_unix_nano as i64),
        F::SeverityNumber => Value::Int(log.severity_number.into()),
        F::SeverityText => Value::str(log.severity_text.as_str()),
        F::Body => log.body.as_ref().map_or(Value::Nil, Value::from_any),
        F::BodyString => Value::Str(log.body.as_ref().map_or(Cow::Borrowed(""), as_string)),
        F::Flags => Value::Int(log.flags.into()),
        F::TraceId => super::context::id_value(&log.trace_id, &super::context::ZERO_ID),
        F::TraceIdString => Value::Str(Cow::Owned(hex_id(&log.trace_id))),
        F::SpanId => super::context::id_value(&log.span_id, &super::context::ZERO_ID[..8]),
        F::SpanIdString => Value::Str(Cow::Owned(hex_id(&log.span_id))),
        F::EventName => Value::str(log.event_name.as_str()),
        other => return Err(unsupported(Context::Log, other)),
    })
}

pub(crate) fn set(log: &mut LogRecord, f: Field, value: Value<'_>) -> Result<(), EvalError> {
    use Field as F;
    match (f, value) {
        (F::DroppedAttributesCount, Value::Int(i)) => log.dropped_attributes_count = i as u32,
        (F::TimeUnixNano, Value::Int(i)) | (F::Time, Value::Time(i)) => log.time_unix_nano = i as u64,
        (F::ObservedTimeUnixNano, Value::Int(i)) | (F::ObservedTime, Value::Time(i)) => {
            log.observed_time_unix_nano = i as u64
        }
        (F::SeverityNumber, Value::Int(i)) => log.severity_number = i as i32,
        (F::SeverityText, Value::Str(s)) => log.severity_text = s.into_owned(),
        (F::Body, v) => log.body = Some(v.into_any()),
        (F::BodyString, Value::Str(s)) => log.body = Some(switchyard_pdata::value::str_value(s.into_owned())),
        (F::Flags, Value::Int(i)) => log.flags = i as u32,
        (F::TraceId, Value::Bytes(b)) if b.len() == 16 => log.trace_id = b.into_owned(),
        (F::SpanId, Value::Bytes(b)) if b.len() == 8 => log.span_id = b.into_owned(),
        (F::TraceIdString, Value::Str(s)) => log.trace_id = parse_id(&s, 16)?,
        (F::SpanIdString, Value::Str(s)) => log.span_id = parse_id(&s, 8)?,
        (F::EventName, Value::Str(s)) => log.event_name = s.into_owned(),
        _ => {}
    }
    Ok(())
}
