//! Writes a snapshot of the store in the Prometheus text format (0.0.4) or OpenMetrics
//! 1.0, as client_golang's `expfmt` does for the Collector: one `# HELP`/`# TYPE` block per
//! family, histograms as cumulative `_bucket{le}`, `_sum`, `_count`, summaries as
//! `{quantile}`, `_sum`, `_count`, `target_info` per resource with `job` and `instance`.
//! OpenMetrics adds counters' `_total`, exemplars and `# EOF`.

use std::collections::HashSet;
use std::fmt::Write as _;
use std::sync::Arc;

use super::store::{Exemplar, Kind, Series, Target, Value};
use crate::exporters::prometheus_translate::{float_label, target_info_name, Label};

/// Content type of the text format.
pub const TEXT_CONTENT_TYPE: &str = "text/plain; version=0.0.4; charset=utf-8";
/// Content type of OpenMetrics.
pub const OPENMETRICS_CONTENT_TYPE: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";

/// How to write.
#[derive(Clone, Copy, Debug, Default)]
pub struct Format {
    /// OpenMetrics rather than text.
    pub open_metrics: bool,
    /// Write sample timestamps (`send_timestamps`).
    pub timestamps: bool,
}

/// What the writer had to leave out.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Skipped {
    /// Series whose family already has another type.
    pub type_conflicts: usize,
    /// The first such family.
    pub first: Option<String>,
}

/// Writes the series (in name and label order, as the store returns them).
pub fn write(series: &[Arc<Series>], namespace: &str, f: Format) -> (String, Skipped) {
    let mut out = String::with_capacity(series.len() * 96 + 256);
    let mut skipped = Skipped::default();
    write_target_info(&mut out, series, namespace, f);
    let mut i = 0;
    while i < series.len() {
        let family = &series[i];
        let end = i + series[i..].iter().take_while(|s| s.name == family.name).count();
        write_header(&mut out, &family.name, family.kind, &family.help, f);
        for s in &series[i..end] {
            if s.kind != family.kind {
                skipped.type_conflicts += 1;
                skipped.first.get_or_insert_with(|| s.name.clone());
                continue;
            }
            write_series(&mut out, s, f);
        }
        i = end;
    }
    if f.open_metrics {
        out.push_str("# EOF\n");
    }
    (out, skipped)
}

fn write_target_info(out: &mut String, series: &[Arc<Series>], namespace: &str, f: Format) {
    let mut seen: HashSet<&(String, String)> = HashSet::new();
    let mut targets: Vec<&Target> = Vec::new();
    for s in series {
        if let Some(t) = &s.target {
            if seen.insert(&t.key) {
                targets.push(t);
            }
        }
    }
    if targets.is_empty() {
        return;
    }
    targets.sort_by(|a, b| a.labels.cmp(&b.labels));
    let name = target_info_name(namespace);
    write_header(out, &name, Kind::Gauge, "Target metadata", f);
    for t in targets {
        sample(out, &name, "", &t.labels, None, 1.0, None, f);
        out.push('\n');
    }
}

fn write_header(out: &mut String, name: &str, kind: Kind, help: &str, f: Format) {
    let family =
        if f.open_metrics && kind == Kind::Counter { name.strip_suffix("_total").unwrap_or(name) } else { name };
    if !help.is_empty() {
        let _ = write!(out, "# HELP {family} ");
        escape(out, help, f.open_metrics);
        out.push('\n');
    }
    let ty = match kind {
        Kind::Counter => "counter",
        Kind::Gauge => "gauge",
        Kind::Histogram => "histogram",
        Kind::Summary => "summary",
        Kind::Untyped if f.open_metrics => "unknown",
        Kind::Untyped => "untyped",
    };
    let _ = writeln!(out, "# TYPE {family} {ty}");
}

fn write_series(out: &mut String, s: &Series, f: Format) {
    let ts = f.timestamps.then_some(s.time_ns);
    match &s.value {
        Value::Number(v) => {
            let suffix =
                if f.open_metrics && s.kind == Kind::Counter && !s.name.ends_with("_total") { "_total" } else { "" };
            sample(out, &s.name, suffix, &s.labels, None, *v, ts, f);
            if f.open_metrics && s.kind == Kind::Counter {
                if let Some(e) = s.exemplars.last() {
                    exemplar(out, e);
                }
            }
            out.push('\n');
        }
        Value::Histogram { count, sum, bounds, counts } => {
            // Bounds sorted and deduplicated (the first count of a repeated bound), as the Collector.
            let mut order: Vec<(f64, u64)> = Vec::with_capacity(bounds.len());
            for (i, b) in bounds.iter().enumerate() {
                if !order.iter().any(|(x, _)| x == b) {
                    order.push((*b, counts.get(i).copied().unwrap_or(0)));
                }
            }
            order.sort_by(|a, b| a.0.total_cmp(&b.0));
            let mut cumulative = 0u64;
            let mut lower = f64::NEG_INFINITY;
            for (bound, c) in order.iter().filter(|(b, _)| *b != f64::INFINITY) {
                cumulative += c;
                sample(out, &s.name, "_bucket", &s.labels, Some(("le", float_label(*bound))), cumulative as f64, ts, f);
                bucket_exemplar(out, &s.exemplars, lower, *bound, f);
                out.push('\n');
                lower = *bound;
            }
            sample(out, &s.name, "_bucket", &s.labels, Some(("le", "+Inf".into())), *count as f64, ts, f);
            bucket_exemplar(out, &s.exemplars, lower, f64::INFINITY, f);
            out.push('\n');
            sample(out, &s.name, "_sum", &s.labels, None, *sum, ts, f);
            out.push('\n');
            sample(out, &s.name, "_count", &s.labels, None, *count as f64, ts, f);
            out.push('\n');
        }
        Value::Summary { count, sum, quantiles } => {
            for (q, v) in quantiles {
                sample(out, &s.name, "", &s.labels, Some(("quantile", float_label(*q))), *v, ts, f);
                out.push('\n');
            }
            sample(out, &s.name, "_sum", &s.labels, None, *sum, ts, f);
            out.push('\n');
            sample(out, &s.name, "_count", &s.labels, None, *count as f64, ts, f);
            out.push('\n');
        }
    }
}

/// The last exemplar whose value falls in `(lower, upper]` (client_golang keeps one per bucket).
fn bucket_exemplar(out: &mut String, exemplars: &[Exemplar], lower: f64, upper: f64, f: Format) {
    if !f.open_metrics {
        return;
    }
    if let Some(e) = exemplars.iter().rev().find(|e| e.value > lower && e.value <= upper) {
        exemplar(out, e);
    }
}

fn exemplar(out: &mut String, e: &Exemplar) {
    out.push_str(" # {");
    for (i, l) in e.labels.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        let _ = write!(out, "{}=\"", l.name);
        escape(out, &l.value, true);
        out.push('"');
    }
    out.push_str("} ");
    number(out, e.value);
    if e.time_ns > 0 {
        out.push(' ');
        seconds(out, e.time_ns);
    }
}

/// `name<suffix>{labels[,extra]} value[ timestamp]` (no newline: an exemplar may follow).
#[allow(clippy::too_many_arguments)]
fn sample(
    out: &mut String,
    name: &str,
    suffix: &str,
    labels: &[Label],
    extra: Option<(&str, String)>,
    value: f64,
    ts: Option<u64>,
    f: Format,
) {
    out.push_str(name);
    out.push_str(suffix);
    if !labels.is_empty() || extra.is_some() {
        out.push('{');
        let mut first = true;
        let extra_name = extra.as_ref().map(|(k, _)| *k);
        for l in labels.iter().filter(|l| Some(l.name.as_str()) != extra_name) {
            if !first {
                out.push(',');
            }
            first = false;
            out.push_str(&l.name);
            out.push_str("=\"");
            escape(out, &l.value, true);
            out.push('"');
        }
        if let Some((k, v)) = &extra {
            if !first {
                out.push(',');
            }
            let _ = write!(out, "{k}=\"{v}\"");
        }
        out.push('}');
    }
    out.push(' ');
    number(out, value);
    if let Some(ns) = ts {
        out.push(' ');
        if f.open_metrics {
            seconds(out, ns);
        } else {
            let _ = write!(out, "{}", ns / 1_000_000);
        }
    }
}

/// Seconds with millisecond precision (OpenMetrics timestamps).
fn seconds(out: &mut String, ns: u64) {
    let ms = ns / 1_000_000;
    let _ = write!(out, "{}.{:03}", ms / 1000, ms % 1000);
}

/// A sample value as Go's `strconv.FormatFloat(v, 'g', -1, 64)` would parse back:
/// integers plainly, very large or small numbers in exponent form.
pub fn number(out: &mut String, v: f64) {
    if v.is_nan() {
        out.push_str("NaN");
    } else if v == f64::INFINITY {
        out.push_str("+Inf");
    } else if v == f64::NEG_INFINITY {
        out.push_str("-Inf");
    } else if v != 0.0 && (v.abs() >= 1e21 || v.abs() < 1e-4) {
        let _ = write!(out, "{v:e}");
    } else {
        let _ = write!(out, "{v}");
    }
}

/// Label values (and OpenMetrics help): `\`, `"`, newline; text-format help: `\` and newline.
fn escape(out: &mut String, s: &str, quotes: bool) {
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '"' if quotes => out.push_str("\\\""),
            c => out.push(c),
        }
    }
}

#[cfg(test)]
#[path = "exposition_tests.rs"]
mod tests;
