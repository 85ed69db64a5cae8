//! Typed reads of a converter's argument, with the errors upstream's typed getters
//! (`StringGetter`, `IntGetter`, `TimeGetter`, `DurationGetter`, `PMapGetter`) return, so a
//! statement that fails here fails with the Collector's message.

use switchyard_pdata::proto::common::v1::KeyValue;

use crate::eval::value::Value;
use crate::eval::EvalError;

/// The string inside `v` (`StringGetter`: no conversion from other types).
pub(super) fn string<'v>(v: &'v Value<'_>) -> Result<&'v str, EvalError> {
    match v {
        Value::Str(s) => Ok(s),
        other => Err(EvalError::new(format!("expected string but got {}", other.type_name()))),
    }
}

/// The integer inside `v` (`IntGetter`).
pub(super) fn int(v: &Value<'_>) -> Result<i64, EvalError> {
    match v {
        Value::Int(i) => Ok(*i),
        other => Err(EvalError::new(format!("expected int64 but got {}", other.type_name()))),
    }
}

/// The time inside `v`, as Unix nanoseconds (`TimeGetter`).
pub(super) fn time(v: &Value<'_>) -> Result<i64, EvalError> {
    match v {
        Value::Time(t) => Ok(*t),
        other => Err(EvalError::new(format!("expected time but got {}", other.type_name()))),
    }
}

/// The duration inside `v`, in nanoseconds (`DurationGetter`).
pub(super) fn duration(v: &Value<'_>) -> Result<i64, EvalError> {
    match v {
        Value::Duration(d) => Ok(*d),
        other => Err(EvalError::new(format!("expected duration but got {}", other.type_name()))),
    }
}

/// The map inside `v` (`PMapGetter`).
pub(super) fn map<'v>(v: &'v Value<'_>) -> Result<&'v [KeyValue], EvalError> {
    match v {
        Value::Map(m) => Ok(m),
        other => Err(EvalError::new(format!("expected pcommon.Map but got {}", other.type_name()))),
    }
}
