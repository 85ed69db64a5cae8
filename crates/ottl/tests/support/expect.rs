//! Expectations: the case's `put`/`remove`/`attributes_after` are applied to a copy of the
//! fixture, which must then equal what the statements produced. Paths follow the file's
//! `paths` convention (`attributes["k"]["sub"]`, `spans[1].status.code`,
//! `metrics[0].datapoints[1].value_double`, `resource.attributes["k"]`, …).

use switchyard_pdata::proto::common::v1::{any_value, AnyValue, KeyValue, KeyValueList};
use switchyard_pdata::proto::logs::v1::LogRecord;
use switchyard_pdata::proto::metrics::v1::metric::Data;
use switchyard_pdata::proto::metrics::v1::number_data_point::Value as Number;
use switchyard_pdata::proto::metrics::v1::Metric;
use switchyard_pdata::proto::trace::v1::span::Event;
use switchyard_pdata::proto::trace::v1::{Span, Status};

use super::fixtures::Request;
use super::{hex, to_any, to_map, Y};

/// One step of an expectation path.
#[derive(Debug, Clone, PartialEq)]
enum Seg {
    Field(String),
    Index(usize),
    Key(String),
}

fn parse(path: &str) -> Vec<Seg> {
    let mut out = Vec::new();
    let mut rest = path;
    while !rest.is_empty() {
        let end = rest.find(['.', '[']).unwrap_or(rest.len());
        if end > 0 {
            out.push(Seg::Field(rest[..end].to_string()));
        }
        rest = &rest[end..];
        while let Some(r) = rest.strip_prefix('[') {
            if let Some(r) = r.strip_prefix('"') {
                let close = r.find("\"]").unwrap_or_else(|| panic!("unclosed key in {path}"));
                out.push(Seg::Key(r[..close].to_string()));
                rest = &r[close + 2..];
            } else {
                let close = r.find(']').unwrap_or_else(|| panic!("unclosed index in {path}"));
                out.push(Seg::Index(r[..close].parse().unwrap_or_else(|_| panic!("bad index in {path}"))));
                rest = &r[close + 1..];
            }
        }
        rest = rest.strip_prefix('.').unwrap_or(rest);
    }
    out
}

/// What to do at the path.
#[derive(Debug, Clone, Copy)]
pub enum Op<'y> {
    Put(&'y Y),
    Remove,
}

/// Applies `op` at `path` of the expected request.
pub fn apply(req: &mut Request, path: &str, op: Op<'_>) {
    let segs = parse(path);
    let field = |i: usize| match segs.get(i) {
        Some(Seg::Field(f)) => f.as_str(),
        _ => "",
    };
    let index = |i: usize| match segs.get(i) {
        Some(Seg::Index(n)) => *n,
        other => panic!("{path}: expected an index, got {other:?}"),
    };
    match req {
        Request::Logs(r) => {
            let rl = &mut r.resource_logs[0];
            match field(0) {
                "resource" => {
                    map_op(&mut rl.resource.get_or_insert_with(Default::default).attributes, &segs[1..], op, path)
                }
                "scope" => {
                    let scope = rl.scope_logs[0].scope.get_or_insert_with(Default::default);
                    map_op(&mut scope.attributes, &segs[1..], op, path)
                }
                _ => log_op(&mut rl.scope_logs[0].log_records[0], &segs, op, path),
            }
        }
        Request::Traces(r) => {
            let rs = &mut r.resource_spans[0];
            match field(0) {
                "resource" => {
                    map_op(&mut rs.resource.get_or_insert_with(Default::default).attributes, &segs[1..], op, path)
                }
                "scope" => {
                    let scope = rs.scope_spans[0].scope.get_or_insert_with(Default::default);
                    map_op(&mut scope.attributes, &segs[1..], op, path)
                }
                "event" => event_op(&mut rs.scope_spans[0].spans[0].events[0], &segs[1..], op, path),
                "spans" => {
                    let span = &mut rs.scope_spans[0].spans[index(1)];
                    if field(2) == "events" {
                        event_op(&mut span.events[index(3)], &segs[4..], op, path)
                    } else {
                        span_op(span, &segs[2..], op, path)
                    }
                }
                other => panic!("{path}: unknown record {other}"),
            }
        }
        Request::Metrics(r) => {
            let rm = &mut r.resource_metrics[0];
            match field(0) {
                "resource" => {
                    map_op(&mut rm.resource.get_or_insert_with(Default::default).attributes, &segs[1..], op, path)
                }
                "scope" => {
                    let scope = rm.scope_metrics[0].scope.get_or_insert_with(Default::default);
                    map_op(&mut scope.attributes, &segs[1..], op, path)
                }
                "metrics" => {
                    let metric = &mut rm.scope_metrics[0].metrics[index(1)];
                    if field(2) == "datapoints" {
                        point_op(metric, index(3), &segs[4..], op, path)
                    } else {
                        metric_op(metric, &segs[2..], op, path)
                    }
                }
                other => panic!("{path}: unknown record {other}"),
            }
        }
    }
}

/// Replaces the log record's whole attribute map (`attributes_after`).
pub fn set_record_attributes(req: &mut Request, attrs: &Y) {
    match req {
        Request::Logs(r) => r.resource_logs[0].scope_logs[0].log_records[0].attributes = to_map(attrs),
        other => panic!("attributes_after is only defined for a single log record, not {other:?}"),
    }
}

fn keys(segs: &[Seg], path: &str) -> Vec<String> {
    segs.iter()
        .map(|s| match s {
            Seg::Key(k) => k.clone(),
            other => panic!("{path}: expected a key, got {other:?}"),
        })
        .collect()
}

fn map_op(map: &mut Vec<KeyValue>, segs: &[Seg], op: Op<'_>, path: &str) {
    let [Seg::Field(f), rest @ ..] = segs else { panic!("{path}: expected a field") };
    assert_eq!(f, "attributes", "{path}: only attributes are supported here");
    set_in_map(map, &keys(rest, path), op, path);
}

fn set_in_map(map: &mut Vec<KeyValue>, keys: &[String], op: Op<'_>, path: &str) {
    let Some((first, rest)) = keys.split_first() else {
        match op {
            Op::Put(y) => *map = to_map(y),
            Op::Remove => map.clear(),
        }
        return;
    };
    if rest.is_empty() {
        match op {
            Op::Put(y) => {
                switchyard_pdata::attrs::upsert(map, first.as_str(), to_any(y));
            }
            Op::Remove => {
                switchyard_pdata::attrs::remove(map, first);
            }
        }
        return;
    }
    let child = match switchyard_pdata::attrs::get_mut(map, first) {
        Some(c) => c,
        None => {
            map.push(KeyValue { key: first.clone(), value: Some(AnyValue::default()), ..Default::default() });
            map.last_mut().and_then(|kv| kv.value.as_mut()).unwrap_or_else(|| panic!("{path}"))
        }
    };
    set_in_any(child, rest, op, path);
}

fn set_in_any(v: &mut AnyValue, keys: &[String], op: Op<'_>, path: &str) {
    if keys.is_empty() {
        match op {
            Op::Put(y) => *v = to_any(y),
            Op::Remove => v.value = None,
        }
        return;
    }
    if v.value.is_none() {
        v.value = Some(any_value::Value::KvlistValue(KeyValueList::default()));
    }
    match &mut v.value {
        Some(any_value::Value::KvlistValue(m)) => set_in_map(&mut m.values, keys, op, path),
        other => panic!("{path}: not a map: {other:?}"),
    }
}

fn put<'y>(op: Op<'y>, path: &str) -> &'y Y {
    match op {
        Op::Put(y) => y,
        Op::Remove => panic!("{path}: only attributes can be removed"),
    }
}

fn int(op: Op<'_>, path: &str) -> i64 {
    put(op, path).int().unwrap_or_else(|| panic!("{path}: expected an integer"))
}

fn string(op: Op<'_>, path: &str) -> String {
    put(op, path).str().unwrap_or_else(|| panic!("{path}: expected a string")).to_string()
}

fn log_op(log: &mut LogRecord, segs: &[Seg], op: Op<'_>, path: &str) {
    let [Seg::Field(f), rest @ ..] = segs else { panic!("{path}: expected a field") };
    match f.as_str() {
        "attributes" => set_in_map(&mut log.attributes, &keys(rest, path), op, path),
        "body" => set_in_any(log.body.get_or_insert_with(AnyValue::default), &keys(rest, path), op, path),
        "span_id" => log.span_id = hex(&string(op, path)),
        "trace_id" => log.trace_id = hex(&string(op, path)),
        "severity_number" => log.severity_number = int(op, path) as i32,
        "severity_text" => log.severity_text = string(op, path),
        "time" | "time_unix_nano" => log.time_unix_nano = int(op, path) as u64,
        "observed_time_unix_nano" => log.observed_time_unix_nano = int(op, path) as u64,
        "flags" => log.flags = int(op, path) as u32,
        other => panic!("{path}: unknown log field {other}"),
    }
}

fn span_op(span: &mut Span, segs: &[Seg], op: Op<'_>, path: &str) {
    let [Seg::Field(f), rest @ ..] = segs else { panic!("{path}: expected a field") };
    match f.as_str() {
        "attributes" => set_in_map(&mut span.attributes, &keys(rest, path), op, path),
        "name" => span.name = string(op, path),
        "kind" => span.kind = int(op, path) as i32,
        "trace_state" => span.trace_state = string(op, path),
        "span_id" => span.span_id = hex(&string(op, path)),
        "parent_span_id" => span.parent_span_id = hex(&string(op, path)),
        "trace_id" => span.trace_id = hex(&string(op, path)),
        "status" => {
            let status = span.status.get_or_insert_with(Status::default);
            match rest.first() {
                Some(Seg::Field(f)) if f == "code" => status.code = int(op, path) as i32,
                Some(Seg::Field(f)) if f == "message" => status.message = string(op, path),
                other => panic!("{path}: unknown status field {other:?}"),
            }
        }
        other => panic!("{path}: unknown span field {other}"),
    }
}

fn event_op(event: &mut Event, segs: &[Seg], op: Op<'_>, path: &str) {
    let [Seg::Field(f), rest @ ..] = segs else { panic!("{path}: expected a field") };
    match f.as_str() {
        "attributes" => set_in_map(&mut event.attributes, &keys(rest, path), op, path),
        "name" => event.name = string(op, path),
        other => panic!("{path}: unknown event field {other}"),
    }
}

fn metric_op(metric: &mut Metric, segs: &[Seg], op: Op<'_>, path: &str) {
    let [Seg::Field(f), ..] = segs else { panic!("{path}: expected a field") };
    match f.as_str() {
        "name" => metric.name = string(op, path),
        "description" => metric.description = string(op, path),
        "unit" => metric.unit = string(op, path),
        other => panic!("{path}: unknown metric field {other}"),
    }
}

fn point_op(metric: &mut Metric, i: usize, segs: &[Seg], op: Op<'_>, path: &str) {
    let [Seg::Field(f), rest @ ..] = segs else { panic!("{path}: expected a field") };
    let f = f.as_str();
    match &mut metric.data {
        Some(Data::Sum(s)) => number_op(&mut s.data_points[i], f, rest, op, path),
        Some(Data::Gauge(g)) => number_op(&mut g.data_points[i], f, rest, op, path),
        Some(Data::Histogram(h)) if f == "attributes" => {
            set_in_map(&mut h.data_points[i].attributes, &keys(rest, path), op, path)
        }
        Some(Data::ExponentialHistogram(h)) if f == "attributes" => {
            set_in_map(&mut h.data_points[i].attributes, &keys(rest, path), op, path)
        }
        Some(Data::Summary(s)) if f == "attributes" => {
            set_in_map(&mut s.data_points[i].attributes, &keys(rest, path), op, path)
        }
        _ => panic!("{path}: unsupported data point field {f}"),
    }
}

fn number_op(
    p: &mut switchyard_pdata::proto::metrics::v1::NumberDataPoint,
    f: &str,
    rest: &[Seg],
    op: Op<'_>,
    path: &str,
) {
    match f {
        "attributes" => set_in_map(&mut p.attributes, &keys(rest, path), op, path),
        "value_double" => {
            p.value = Some(Number::AsDouble(put(op, path).float().unwrap_or_else(|| panic!("{path}: a number"))))
        }
        "value_int" => p.value = Some(Number::AsInt(int(op, path))),
        other => panic!("{path}: unknown number point field {other}"),
    }
}

/// Sorts every attribute map (nested maps included) by key, so requests compare without
/// regard to attribute order, as upstream's pdata comparisons do.
pub fn normalize(req: &mut Request) {
    match req {
        Request::Logs(r) => {
            for rl in &mut r.resource_logs {
                if let Some(res) = &mut rl.resource {
                    sort_map(&mut res.attributes);
                }
                for sl in &mut rl.scope_logs {
                    if let Some(s) = &mut sl.scope {
                        sort_map(&mut s.attributes);
                    }
                    for l in &mut sl.log_records {
                        sort_map(&mut l.attributes);
                        if let Some(b) = &mut l.body {
                            sort_any(b);
                        }
                    }
                }
            }
        }
        Request::Traces(r) => {
            for rs in &mut r.resource_spans {
                if let Some(res) = &mut rs.resource {
                    sort_map(&mut res.attributes);
                }
                for ss in &mut rs.scope_spans {
                    if let Some(s) = &mut ss.scope {
                        sort_map(&mut s.attributes);
                    }
                    for span in &mut ss.spans {
                        sort_map(&mut span.attributes);
                        span.events.iter_mut().for_each(|e| sort_map(&mut e.attributes));
                        span.links.iter_mut().for_each(|l| sort_map(&mut l.attributes));
                    }
                }
            }
        }
        Request::Metrics(r) => {
            for rm in &mut r.resource_metrics {
                if let Some(res) = &mut rm.resource {
                    sort_map(&mut res.attributes);
                }
                for sm in &mut rm.scope_metrics {
                    if let Some(s) = &mut sm.scope {
                        sort_map(&mut s.attributes);
                    }
                    for m in &mut sm.metrics {
                        sort_map(&mut m.metadata);
                        match &mut m.data {
                            Some(Data::Sum(s)) => s.data_points.iter_mut().for_each(|p| sort_map(&mut p.attributes)),
                            Some(Data::Gauge(g)) => g.data_points.iter_mut().for_each(|p| sort_map(&mut p.attributes)),
                            Some(Data::Histogram(h)) => {
                                h.data_points.iter_mut().for_each(|p| sort_map(&mut p.attributes))
                            }
                            Some(Data::ExponentialHistogram(h)) => {
                                h.data_points.iter_mut().for_each(|p| sort_map(&mut p.attributes))
                            }
                            Some(Data::Summary(s)) => {
                                s.data_points.iter_mut().for_each(|p| sort_map(&mut p.attributes))
                            }
                            None => {}
                        }
                    }
                }
            }
        }
    }
}

fn sort_map(map: &mut [KeyValue]) {
    map.sort_by(|a, b| a.key.cmp(&b.key));
    for kv in map {
        if let Some(v) = &mut kv.value {
            sort_any(v);
        }
    }
}

fn sort_any(v: &mut AnyValue) {
    match &mut v.value {
        Some(any_value::Value::KvlistValue(m)) => sort_map(&mut m.values),
        Some(any_value::Value::ArrayValue(a)) => a.values.iter_mut().for_each(sort_any),
        _ => {}
    }
}
