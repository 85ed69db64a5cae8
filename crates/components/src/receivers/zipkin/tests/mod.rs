//! Unit tests: config, and translation of each encoding (cases after the Collector's
//! translator tests and testdata, written here).

mod config;
mod v1;
mod v2;

use switchyard_pdata::proto::collector::trace::v1::ExportTraceServiceRequest;
use switchyard_pdata::proto::common::v1::any_value::Value;
use switchyard_pdata::proto::common::v1::{AnyValue, KeyValue};
use switchyard_pdata::proto::trace::v1::Span;

/// Every span with its resource's `service.name` and its scope name.
pub(super) fn spans(req: &ExportTraceServiceRequest) -> Vec<(String, String, Span)> {
    let mut out = Vec::new();
    for rs in &req.resource_spans {
        let service = rs.resource.as_ref().and_then(|r| attr(&r.attributes, "service.name")).unwrap_or_default();
        for ss in &rs.scope_spans {
            let scope = ss.scope.as_ref().map(|s| s.name.clone()).unwrap_or_default();
            for s in &ss.spans {
                out.push((service.clone(), scope.clone(), s.clone()));
            }
        }
    }
    out
}

/// An attribute as text (`"x"` strings unquoted; ints, doubles, bools as written).
pub(super) fn attr(kvs: &[KeyValue], key: &str) -> Option<String> {
    kvs.iter().find(|kv| kv.key == key).map(|kv| text(kv.value.as_ref()))
}

/// The attribute's value itself.
pub(super) fn value<'a>(kvs: &'a [KeyValue], key: &str) -> Option<&'a Value> {
    kvs.iter().find(|kv| kv.key == key)?.value.as_ref()?.value.as_ref()
}

fn text(v: Option<&AnyValue>) -> String {
    match v.and_then(|v| v.value.as_ref()) {
        Some(Value::StringValue(s)) => s.clone(),
        Some(Value::IntValue(i)) => i.to_string(),
        Some(Value::DoubleValue(d)) => d.to_string(),
        Some(Value::BoolValue(b)) => b.to_string(),
        other => format!("{other:?}"),
    }
}

pub(super) fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}
