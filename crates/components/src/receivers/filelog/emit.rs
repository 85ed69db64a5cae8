//! From records to stanza entries (with the `log.file.*` attributes and the config's
//! `attributes`/`resource`), and from entries to OTLP logs: one resource per distinct
//! resource map, one scope per scope name.

use std::time::{SystemTime, UNIX_EPOCH};

use serde_json::{Map, Value};
use switchyard_pdata::proto::collector::logs::v1::ExportLogsServiceRequest;
use switchyard_pdata::proto::common::v1::{
    any_value, AnyValue, ArrayValue, InstrumentationScope, KeyValue, KeyValueList,
};
use switchyard_pdata::proto::logs::v1::{LogRecord, ResourceLogs, ScopeLogs};
use switchyard_pdata::proto::resource::v1::Resource;
use switchyard_pdata::Logs;

use super::config::FileLogReceiverConfig;
use super::reader::{file_name, Poll};
use crate::stanza::{Entry, Pipeline};

fn now_nanos() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_nanos() as u64).unwrap_or(0)
}

/// The entries of one poll's records, after the operators.
pub fn entries(cfg: &FileLogReceiverConfig, poll: &Poll, pipeline: &mut Pipeline) -> Vec<Entry> {
    let observed = now_nanos();
    let files: Vec<(String, String, Option<std::path::PathBuf>)> = poll
        .files
        .iter()
        .map(|f| {
            let resolved = (cfg.include_file_name_resolved || cfg.include_file_path_resolved)
                .then(|| std::fs::canonicalize(&f.path).ok())
                .flatten();
            (file_name(&f.path), f.path.to_string_lossy().into_owned(), resolved)
        })
        .collect();
    let mut out = Vec::with_capacity(poll.records.len());
    for r in &poll.records {
        let mut e = Entry::new(Value::String(r.text.clone()), observed);
        let (name, path, resolved) = &files[r.file];
        if cfg.include_file_name {
            e.attributes.insert("log.file.name".into(), Value::String(name.clone()));
        }
        if cfg.include_file_path {
            e.attributes.insert("log.file.path".into(), Value::String(path.clone()));
        }
        if let Some(res) = resolved {
            if cfg.include_file_name_resolved {
                e.attributes.insert("log.file.name_resolved".into(), Value::String(file_name(res)));
            }
            if cfg.include_file_path_resolved {
                e.attributes.insert("log.file.path_resolved".into(), Value::String(res.to_string_lossy().into_owned()));
            }
        }
        if cfg.include_file_record_number {
            e.attributes.insert("log.file.record_number".into(), Value::from(r.number));
        }
        if cfg.include_file_record_offset {
            e.attributes.insert("log.file.record_offset".into(), Value::from(r.offset));
        }
        for (k, v) in &cfg.attributes {
            e.attributes.insert(k.clone(), v.clone());
        }
        for (k, v) in &cfg.resource {
            e.resource.insert(k.clone(), v.clone());
        }
        pipeline.process(e, &mut out);
    }
    out
}

/// An OTLP value of a JSON value (whole numbers as ints, others as doubles).
pub fn any_value(v: Value) -> AnyValue {
    use any_value::Value as V;
    let value = match v {
        Value::Null => None,
        Value::Bool(b) => Some(V::BoolValue(b)),
        Value::Number(n) => match n.as_i64() {
            Some(i) => Some(V::IntValue(i)),
            None => Some(V::DoubleValue(n.as_f64().unwrap_or(0.0))),
        },
        Value::String(s) => Some(V::StringValue(s)),
        Value::Array(a) => Some(V::ArrayValue(ArrayValue { values: a.into_iter().map(any_value).collect() })),
        Value::Object(m) => Some(V::KvlistValue(KeyValueList { values: key_values(m) })),
    };
    AnyValue { value }
}

fn key_values(m: Map<String, Value>) -> Vec<KeyValue> {
    m.into_iter().map(|(key, v)| KeyValue { key, value: Some(any_value(v)), ..Default::default() }).collect()
}

/// Groups entries by resource and scope into one request.
pub fn to_logs(entries: Vec<Entry>) -> Logs {
    let mut resources: Vec<(Map<String, Value>, ResourceLogs)> = Vec::new();
    for e in entries {
        let i = match resources.iter().position(|(r, _)| *r == e.resource) {
            Some(i) => i,
            None => {
                let rl = ResourceLogs {
                    resource: Some(Resource { attributes: key_values(e.resource.clone()), ..Default::default() }),
                    ..Default::default()
                };
                resources.push((e.resource.clone(), rl));
                resources.len() - 1
            }
        };
        let rl = &mut resources[i].1;
        let j = match rl
            .scope_logs
            .iter()
            .position(|s| s.scope.as_ref().map(|s| s.name.as_str()).unwrap_or("") == e.scope_name)
        {
            Some(j) => j,
            None => {
                let scope = (!e.scope_name.is_empty())
                    .then(|| InstrumentationScope { name: e.scope_name.clone(), ..Default::default() });
                rl.scope_logs.push(ScopeLogs { scope, ..Default::default() });
                rl.scope_logs.len() - 1
            }
        };
        let record = LogRecord {
            time_unix_nano: e.timestamp.unwrap_or(0),
            observed_time_unix_nano: e.observed_timestamp,
            severity_number: e.severity,
            severity_text: e.severity_text,
            body: Some(any_value(e.body)),
            attributes: key_values(e.attributes),
            trace_id: e.trace_id,
            span_id: e.span_id,
            flags: e.trace_flags,
            ..Default::default()
        };
        rl.scope_logs[j].log_records.push(record);
    }
    Logs::from(ExportLogsServiceRequest { resource_logs: resources.into_iter().map(|(_, r)| r).collect() })
}
