//! Id converters: `TraceID`, `SpanID`, `ProfileID` (bytes, or their hex, to an id) and the
//! generators `UUID` (v4) and `UUIDv7`.

use std::borrow::Cow;

use super::{like, Args, ConverterBuilder};
use crate::check::CheckError;
use crate::eval::expr::{ConverterFn, Expr};
use crate::eval::value::Value;
use crate::eval::EvalError;

pub(super) fn converter(name: &str) -> Option<ConverterBuilder> {
    Some(match name {
        "TraceID" | "ProfileID" => id16,
        "SpanID" => id8,
        "UUID" => uuid_v4,
        "UUIDv7" => uuid_v7,
        _ => return None,
    })
}

/// The id in `bytes`: exactly `len` bytes, or `2 * len` hex digits.
fn to_id(name: &str, bytes: &[u8], len: usize) -> Result<Vec<u8>, EvalError> {
    if bytes.len() == len {
        return Ok(bytes.to_vec());
    }
    if bytes.len() == 2 * len {
        return const_hex::decode(bytes)
            .map_err(|e| EvalError::new(format!("{name}: could not decode ID: invalid hex: {e}")));
    }
    Err(EvalError::new(format!(
        "{name}: could not decode ID: invalid length: expected {len} or {} bytes, got {}",
        2 * len,
        bytes.len()
    )))
}

/// `TraceID(bytes)` and friends: a literal is converted (and a bad one refused) at load
/// time, as upstream does; anything else on each call.
fn id(args: &Args<'_>, len: usize) -> Result<ConverterFn, CheckError> {
    let name = args.name().to_string();
    let target = args.expr(0)?;
    if let Expr::Lit(v) = &target {
        let bytes = like::bytes_like(v).map_err(|e| args.error(0, e.message()))?;
        let id = to_id(&name, bytes.as_deref().unwrap_or_default(), len).map_err(|e| args.error(0, e.message()))?;
        return Ok(Box::new(move |_| Ok(Value::Bytes(Cow::Owned(id.clone())))));
    }
    Ok(Box::new(move |cx| {
        let v = target.eval(cx)?;
        let bytes = like::bytes_like(&v)?;
        Ok(Value::Bytes(Cow::Owned(to_id(&name, bytes.as_deref().unwrap_or_default(), len)?)))
    }))
}

fn id16(args: &Args<'_>) -> Result<ConverterFn, CheckError> {
    id(args, 16)
}

fn id8(args: &Args<'_>) -> Result<ConverterFn, CheckError> {
    id(args, 8)
}

fn uuid_v4(_: &Args<'_>) -> Result<ConverterFn, CheckError> {
    Ok(Box::new(|_| Ok(Value::Str(Cow::Owned(uuid::Uuid::new_v4().to_string())))))
}

fn uuid_v7(_: &Args<'_>) -> Result<ConverterFn, CheckError> {
    Ok(Box::new(|_| Ok(Value::Str(Cow::Owned(uuid::Uuid::now_v7().to_string())))))
}

#[cfg(test)]
mod tests {
    use std::borrow::Cow;

    use super::super::testutil::{compile_error, err, ok, run};
    use crate::eval::value::Value;

    fn bytes(b: Vec<u8>) -> Value<'static> {
        Value::Bytes(Cow::Owned(b))
    }

    #[test]
    fn ids_from_bytes_and_hex() {
        assert_eq!(ok("SpanID(0x0000000000000000)"), bytes(vec![0; 8]));
        assert_eq!(ok("TraceID(0x0102030405060708090a0b0c0d0e0f10)"), bytes((1..=16).collect()));
        assert_eq!(ok(r#"SpanID("0102030405060708")"#), bytes((1..=8).collect()));
        assert_eq!(ok(r#"TraceID(Hex(trace_id))"#), bytes((1..=16).collect()));
        assert_eq!(ok(r#"ProfileID(0x0102030405060708090a0b0c0d0e0f10)"#), bytes((1..=16).collect()));
    }

    #[test]
    fn wrong_lengths_are_refused() {
        assert!(compile_error("TraceID(0x0102)")
            .contains("TraceID: could not decode ID: invalid length: expected 16 or 32 bytes, got 2"));
        assert!(compile_error(r#"SpanID("zz02030405060708zz02030405060708")"#).contains("could not decode ID"));
        assert_eq!(
            err(r#"SpanID(attributes["http.method"])"#),
            "SpanID: could not decode ID: invalid length: expected 8 or 16 bytes, got 3"
        );
    }

    #[test]
    fn ids_are_stored_as_bytes() {
        let (result, attrs) = run(r#"set(attributes["id"], SpanID(0x0000000000000000))"#);
        assert_eq!(result, Ok(true));
        let stored = switchyard_pdata::attrs::get(&attrs, "id").map(Value::from_any);
        assert_eq!(stored, Some(bytes(vec![0; 8])));
    }

    #[test]
    fn unset_ids_equal_the_zero_id() {
        let cond = crate::parse_condition(
            "span_id == SpanID(0x0000000000000000) and trace_id == TraceID(0x00000000000000000000000000000000)",
        )
        .unwrap_or_else(|e| panic!("{e}"));
        let cond = crate::eval::compile_condition(&cond, &crate::CheckOptions::new(crate::Context::Log))
            .unwrap_or_else(|e| panic!("{}", e[0]));
        let mut req = super::super::testutil::request();
        let log = &mut req.resource_logs[0].scope_logs[0].log_records[0];
        log.span_id.clear();
        log.trace_id.clear();
        let mut held = None;
        switchyard_pdata::walk::for_each_log_record_mut(&mut req, |cx| {
            held = Some(cond.eval(&crate::eval::EvalContext::log(cx)));
        });
        assert_eq!(held, Some(Ok(true)));
    }

    #[test]
    fn uuids_are_fresh_and_versioned() {
        let Value::Str(a) = ok("UUID()") else { panic!("not a string") };
        let Value::Str(b) = ok("UUID()") else { panic!("not a string") };
        assert_ne!(a, b);
        assert_eq!(a.len(), 36);
        assert_eq!(&a[14..15], "4");
        let Value::Str(v7) = ok("UUIDv7()") else { panic!("not a string") };
        assert_eq!(&v7[14..15], "7");
    }
}
