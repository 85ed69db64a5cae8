//! Checks one expectation against what a case recorded and describes every mismatch as
//! expected-versus-actual, with the item it is about.

use serde_json::Value as Json;
use switchyard_ottl::eval::{CompiledCondition, EvalContext};
use switchyard_pdata::proto::common::v1::{any_value, AnyValue, KeyValue};
use switchyard_pdata::value::{write_json_value, JsonEscape};
use switchyard_pdata::{attrs, walk, SignalData};

use super::capture::{Captures, Recorded};
use super::plan::{ExpectPlan, Outlet};

/// At most this many mismatch lines per expectation; the rest are counted.
const MAX_LINES: usize = 10;

/// What one item looked like to the expectation.
struct Facts {
    what: String,
    attributes: Vec<KeyValue>,
    resource: Vec<KeyValue>,
    selected: Result<bool, String>,
    /// Conditions that did not hold: their text, and the evaluation error if one failed.
    failed: Vec<(String, Option<String>)>,
}

/// The mismatches of `exp` (empty when it holds), each a line for the report.
pub fn verify(exp: &ExpectPlan, captures: &Captures) -> Vec<String> {
    let recorded = match &exp.outlet {
        Outlet::Exporter(id) => captures.of_exporter(id, exp.signal),
        Outlet::Pipeline(id) => captures.of_pipeline(id),
    };
    let items = recorded.map(|r| facts(exp, &r)).unwrap_or_default();
    let prefix = format!("{}: {}", exp.loc, exp.outlet);
    let noun = match exp.signal {
        switchyard_pdata::Signal::Metrics => "data point(s)",
        switchyard_pdata::Signal::Logs => "log record(s)",
        _ => "span(s)",
    };
    let mut lines = Vec::new();
    let mut selected = Vec::new();
    for f in &items {
        match &f.selected {
            Ok(true) => selected.push(f),
            Ok(false) => {}
            Err(e) => lines.push(format!("{prefix}: {}: `where` failed: {e}", f.what)),
        }
    }
    let scope = exp.selector.as_ref().map(|c| format!(" where {}", c.text())).unwrap_or_default();
    match exp.count {
        Some(n) if n != selected.len() => {
            let mut line = format!("{prefix}: expected {n} {noun}{scope}, got {}", selected.len());
            if selected.len() < n {
                let elsewhere: Vec<String> = captures
                    .exporter_counts(exp.signal)
                    .into_iter()
                    .filter(|(id, _)| !matches!(&exp.outlet, Outlet::Exporter(e) if e.to_string() == *id))
                    .map(|(id, c)| format!("{id} ({c})"))
                    .collect();
                if !elsewhere.is_empty() {
                    line.push_str(&format!("; other exporters received: {}", elsewhere.join(", ")));
                }
            }
            lines.push(line);
        }
        None if selected.is_empty() => {
            lines.push(format!("{prefix}: no {noun}{scope} to check: expected at least one"));
        }
        _ => {}
    }
    for f in &selected {
        compare(&mut lines, &prefix, f, "attributes", &f.attributes, &exp.attributes);
        compare(&mut lines, &prefix, f, "resource.attributes", &f.resource, &exp.resource);
        for (text, error) in &f.failed {
            match error {
                None => lines.push(format!("{prefix}: {}: condition not met: {text}", f.what)),
                Some(e) => lines.push(format!("{prefix}: {}: condition `{text}` failed: {e}", f.what)),
            }
        }
    }
    if lines.len() > MAX_LINES {
        let more = lines.len() - MAX_LINES;
        lines.truncate(MAX_LINES);
        lines.push(format!("{prefix}: ... and {more} more mismatch(es)"));
    }
    lines
}

fn compare(
    lines: &mut Vec<String>,
    prefix: &str,
    f: &Facts,
    field: &str,
    actual: &[KeyValue],
    expected: &[(String, Json)],
) {
    for (key, want) in expected {
        let got = attrs::get(actual, key);
        let same = match (want, got) {
            (Json::Null, None) => true,
            (w, Some(g)) => equal(w, g),
            _ => false,
        };
        if !same {
            let want = if want.is_null() { "(absent)".to_string() } else { want.to_string() };
            let got = got.map_or_else(|| "(absent)".to_string(), show);
            lines.push(format!("{prefix}: {}: {field}[\"{key}\"]: expected {want}, got {got}", f.what));
        }
    }
}

/// Whether a YAML value equals an OTLP value, types included: `5` is an int, `5.0` a
/// double, `"5"` a string, and none of them equals another.
fn equal(want: &Json, got: &AnyValue) -> bool {
    use any_value::Value as V;
    match (want, &got.value) {
        (Json::Null, None) => true,
        (Json::Bool(w), Some(V::BoolValue(g))) => w == g,
        (Json::String(w), Some(V::StringValue(g))) => w == g,
        (Json::Number(w), Some(V::IntValue(g))) => w.as_i64() == Some(*g),
        (Json::Number(w), Some(V::DoubleValue(g))) => w.is_f64() && w.as_f64() == Some(*g),
        (Json::Array(w), Some(V::ArrayValue(g))) => {
            w.len() == g.values.len() && w.iter().zip(&g.values).all(|(w, g)| equal(w, g))
        }
        (Json::Object(w), Some(V::KvlistValue(g))) => {
            w.len() == g.values.len() && w.iter().all(|(k, w)| attrs::get(&g.values, k).is_some_and(|g| equal(w, g)))
        }
        _ => false,
    }
}

/// An OTLP value as the report shows it: strings quoted, doubles with a decimal point, so a
/// type mismatch is visible (`5` against `5.0` against `"5"`).
fn show(v: &AnyValue) -> String {
    use any_value::Value as V;
    match &v.value {
        None => "(empty)".into(),
        Some(V::StringValue(s)) => Json::String(s.clone()).to_string(),
        Some(V::IntValue(i)) => i.to_string(),
        Some(V::DoubleValue(d)) => format!("{d:?}"),
        Some(V::BoolValue(b)) => b.to_string(),
        Some(V::BytesValue(b)) => format!("bytes({} bytes)", b.len()),
        Some(_) => {
            let mut out = String::new();
            write_json_value(&mut out, v, JsonEscape::None);
            out
        }
    }
}

fn facts(exp: &ExpectPlan, recorded: &Recorded) -> Vec<Facts> {
    let mut out = Vec::new();
    match recorded {
        Recorded::Traces(sink) => {
            for batch in sink.batches() {
                let mut req = batch.into_request();
                walk::for_each_span_mut(&mut req, |cx| {
                    let what = format!("span \"{}\"", cx.span.name);
                    let attributes = cx.span.attributes.clone();
                    let resource = cx.resource.attributes().to_vec();
                    out.push(evaluate(exp, &EvalContext::span(cx), what, attributes, resource));
                });
            }
        }
        Recorded::Metrics(sink) => {
            for batch in sink.batches() {
                let mut req = batch.into_request();
                walk::for_each_data_point_mut(&mut req, |cx| {
                    let what = format!("data point of \"{}\"", cx.metric.name);
                    let attributes = cx.point.attributes().to_vec();
                    let resource = cx.resource.attributes().to_vec();
                    out.push(evaluate(exp, &EvalContext::data_point(cx), what, attributes, resource));
                });
            }
        }
        Recorded::Logs(sink) => {
            for batch in sink.batches() {
                let mut req = batch.into_request();
                walk::for_each_log_record_mut(&mut req, |cx| {
                    let body = cx.log.body.as_ref().map(show).unwrap_or_else(|| "(no body)".into());
                    let short: String = body.chars().take(60).collect();
                    let what = format!("log record {short}");
                    let attributes = cx.log.attributes.clone();
                    let resource = cx.resource.attributes().to_vec();
                    out.push(evaluate(exp, &EvalContext::log(cx), what, attributes, resource));
                });
            }
        }
        Recorded::Profiles(_) => {}
    }
    out
}

fn evaluate(
    exp: &ExpectPlan,
    cx: &EvalContext<'_>,
    what: String,
    attributes: Vec<KeyValue>,
    resource: Vec<KeyValue>,
) -> Facts {
    let selected = exp.selector.as_ref().map_or(Ok(true), |c| c.eval(cx).map_err(|e| e.to_string()));
    let failed = if selected == Ok(true) { failed_conditions(&exp.conditions, cx) } else { Vec::new() };
    Facts { what, attributes, resource, selected, failed }
}

fn failed_conditions(conditions: &[CompiledCondition], cx: &EvalContext<'_>) -> Vec<(String, Option<String>)> {
    conditions
        .iter()
        .filter_map(|c| match c.eval(cx) {
            Ok(true) => None,
            Ok(false) => Some((c.text().to_string(), None)),
            Err(e) => Some((c.text().to_string(), Some(e.to_string()))),
        })
        .collect()
}
