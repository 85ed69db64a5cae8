//! Test helpers: evaluate a value expression against one small log record.

use switchyard_pdata::proto::collector::logs::v1::ExportLogsServiceRequest;
use switchyard_pdata::proto::common::v1::{any_value, AnyValue, KeyValue};
use switchyard_pdata::proto::logs::v1::{LogRecord, ResourceLogs, ScopeLogs};
use switchyard_pdata::walk::for_each_log_record_mut;

use crate::check::CheckOptions;
use crate::eval::{compile_value, EvalContext, Value};
use crate::paths::Context;

/// The log's time: 2020-02-11T20:26:12.000000321Z (upstream's e2e fixture).
pub(crate) const LOG_TIME: i64 = 1_581_452_772_000_000_321;

fn str_attr(k: &str, v: &str) -> KeyValue {
    KeyValue {
        key: k.into(),
        value: Some(AnyValue { value: Some(any_value::Value::StringValue(v.into())) }),
        ..Default::default()
    }
}

fn request() -> ExportLogsServiceRequest {
    let log = LogRecord {
        time_unix_nano: LOG_TIME as u64,
        body: Some(AnyValue { value: Some(any_value::Value::StringValue("operationA".into())) }),
        attributes: vec![
            str_attr("http.url", "http://localhost/health"),
            str_attr("kv", "a=1 b=2"),
            KeyValue {
                key: "num".into(),
                value: Some(AnyValue { value: Some(any_value::Value::IntValue(7)) }),
                ..Default::default()
            },
        ],
        ..Default::default()
    };
    ExportLogsServiceRequest {
        resource_logs: vec![ResourceLogs {
            scope_logs: vec![ScopeLogs { log_records: vec![log], ..Default::default() }],
            ..Default::default()
        }],
    }
}

/// Compiles `expr` in the log context and evaluates it on the test record. A load error
/// comes back as `Err("load: …")`, a run-time error as `Err(message)`.
pub(crate) fn eval(expr: &str) -> Result<Value<'static>, String> {
    let parsed = crate::parse_value_expression(expr).map_err(|e| format!("parse: {e}"))?;
    let compiled = compile_value(&parsed, &CheckOptions::new(Context::Log))
        .map_err(|e| format!("load: {}", e.iter().map(ToString::to_string).collect::<Vec<_>>().join("; ")))?;
    let mut req = request();
    let mut out = None;
    for_each_log_record_mut(&mut req, |lcx| {
        let cx = EvalContext::log(lcx);
        out = Some(compiled.eval(&cx).map(Value::into_owned).map_err(|e| e.message().to_string()));
    });
    out.unwrap_or_else(|| Err("no record".into()))
}

/// The value of `expr`, which must evaluate.
pub(crate) fn ok(expr: &str) -> Value<'static> {
    match eval(expr) {
        Ok(v) => v,
        Err(e) => panic!("{expr}: {e}"),
    }
}

/// The error of `expr`, which must fail.
pub(crate) fn err(expr: &str) -> String {
    match eval(expr) {
        Ok(v) => panic!("{expr}: expected an error, got {v:?}"),
        Err(e) => e,
    }
}

/// `key` of a map value, as a value.
pub(crate) fn get<'a>(v: &'a Value<'_>, key: &str) -> Option<Value<'a>> {
    match v {
        Value::Map(m) => switchyard_pdata::attrs::get(m, key).map(Value::from_any),
        _ => None,
    }
}

/// A map value's length.
pub(crate) fn map_len(v: &Value<'_>) -> usize {
    match v {
        Value::Map(m) => m.len(),
        _ => usize::MAX,
    }
}
