//! A small log record to evaluate converter expressions and editor statements against in
//! the function library's unit tests.

use switchyard_pdata::proto::collector::logs::v1::ExportLogsServiceRequest;
use switchyard_pdata::proto::common::v1::{any_value, AnyValue, ArrayValue, KeyValue, KeyValueList};
use switchyard_pdata::proto::logs::v1::{LogRecord, ResourceLogs, ScopeLogs};
use switchyard_pdata::value::{bool_value, bytes_value, double_value, int_value, str_value};
use switchyard_pdata::walk;

use crate::eval::value::Value;
use crate::eval::{compile_statement, compile_value, EvalContext, EvalError};
use crate::{parse_statement, parse_value_expression, CheckOptions, Context};

fn kv(key: &str, value: AnyValue) -> KeyValue {
    KeyValue { key: key.into(), value: Some(value), ..Default::default() }
}

fn list(items: Vec<AnyValue>) -> AnyValue {
    AnyValue { value: Some(any_value::Value::ArrayValue(ArrayValue { values: items })) }
}

fn map(entries: Vec<KeyValue>) -> AnyValue {
    AnyValue { value: Some(any_value::Value::KvlistValue(KeyValueList { values: entries })) }
}

/// One log record: body `operationA`, span id `0102…08`, trace id `0102…10`, and
/// attributes of every type (`str`, `int`, `double`, `bool`, `bytes`, `map`, `list`, …).
pub(crate) fn request() -> ExportLogsServiceRequest {
    let log = LogRecord {
        body: Some(str_value("operationA")),
        span_id: (1..=8).collect(),
        trace_id: (1..=16).collect(),
        attributes: vec![
            kv("http.method", str_value("get")),
            kv("http.path", str_value("/health")),
            kv("http.url", str_value("http://localhost/health")),
            kv("flags", str_value("A|B|C")),
            kv("total.string", str_value("123456789")),
            kv("empty", str_value("")),
            kv("int", int_value(5)),
            kv("double", double_value(1.5)),
            kv("bool", bool_value(true)),
            kv("bytes", bytes_value(vec![0xde, 0xad])),
            kv("foo", map(vec![kv("bar", str_value("pass")), kv("n", int_value(2))])),
            kv("list", list(vec![str_value("a"), int_value(1), str_value("b")])),
            kv(
                "things",
                list(vec![
                    map(vec![kv("name", str_value("foo")), kv("value", int_value(2))]),
                    map(vec![kv("name", str_value("bar")), kv("value", int_value(5))]),
                ]),
            ),
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

/// Evaluates a value expression in the log context (panics if it does not compile).
pub(crate) fn eval(expression: &str) -> Result<Value<'static>, EvalError> {
    let parsed = parse_value_expression(expression).unwrap_or_else(|e| panic!("{expression}: {e}"));
    let compiled =
        compile_value(&parsed, &CheckOptions::new(Context::Log)).unwrap_or_else(|e| panic!("{expression}: {}", e[0]));
    let mut req = request();
    let mut out = None;
    walk::for_each_log_record_mut(&mut req, |cx| {
        let cx = EvalContext::log(cx);
        out = Some(compiled.eval(&cx).map(Value::into_owned));
    });
    out.unwrap_or_else(|| panic!("no record"))
}

/// [`eval`], expecting a value.
pub(crate) fn ok(expression: &str) -> Value<'static> {
    eval(expression).unwrap_or_else(|e| panic!("{expression}: {e}"))
}

/// [`eval`], expecting an error; returns its message.
pub(crate) fn err(expression: &str) -> String {
    match eval(expression) {
        Ok(v) => panic!("{expression}: expected an error, got {v:?}"),
        Err(e) => e.message().to_string(),
    }
}

/// The load-time error of an expression or statement, as text.
pub(crate) fn compile_error(text: &str) -> String {
    let options = CheckOptions::new(Context::Log);
    // Statements start with an editor (lower case), expressions with a converter or value.
    let errors = if text.starts_with(|c: char| c.is_ascii_lowercase()) {
        let parsed = parse_statement(text).unwrap_or_else(|e| panic!("{text}: {e}"));
        compile_statement(&parsed, &options).err()
    } else {
        let parsed = parse_value_expression(text).unwrap_or_else(|e| panic!("{text}: {e}"));
        compile_value(&parsed, &options).err()
    };
    errors.map(|e| e[0].to_string()).unwrap_or_else(|| panic!("{text}: compiled"))
}

/// Runs a statement on the record; returns its result and the record's attributes after.
pub(crate) fn run(statement: &str) -> (Result<bool, EvalError>, Vec<KeyValue>) {
    let parsed = parse_statement(statement).unwrap_or_else(|e| panic!("{statement}: {e}"));
    let compiled = compile_statement(&parsed, &CheckOptions::new(Context::Log))
        .unwrap_or_else(|e| panic!("{statement}: {}", e[0]));
    let mut req = request();
    let mut result = Ok(false);
    walk::for_each_log_record_mut(&mut req, |cx| result = compiled.execute(&mut EvalContext::log(cx)));
    let attrs = std::mem::take(&mut req.resource_logs[0].scope_logs[0].log_records[0].attributes);
    (result, attrs)
}

/// A string value, for comparisons.
pub(crate) fn s(v: &str) -> Value<'static> {
    Value::str(v.to_string())
}

/// A list of strings, for comparisons.
pub(crate) fn strs(items: &[&str]) -> Value<'static> {
    Value::List(items.iter().map(|i| str_value(*i)).collect::<Vec<_>>().into())
}
