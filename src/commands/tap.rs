//! `switchyard tap`: prints a live sample of the data passing one component of a running
//! gateway. The gateway's zpages extension streams it (`GET /debug/tap`, newline-delimited
//! OTLP/JSON, at most `--rate` batches per second: it skips the rest, so a slow terminal
//! never slows the pipeline); this command prints each request as it came (`--format json`)
//! or one compact line per span, data point or log record (`--format line`).

use std::fmt::Write as _;
use std::io::Write as _;
use std::process::ExitCode;
use std::time::{Duration, UNIX_EPOCH};

use anyhow::{bail, Context, Result};
use switchyard_pdata::proto::collector::logs::v1::ExportLogsServiceRequest;
use switchyard_pdata::proto::collector::metrics::v1::ExportMetricsServiceRequest;
use switchyard_pdata::proto::collector::trace::v1::ExportTraceServiceRequest;
use switchyard_pdata::proto::common::v1::{AnyValue, KeyValue};
use switchyard_pdata::proto::metrics::v1::{metric, number_data_point};
use switchyard_pdata::value::{as_string, double_string, hex_id};
use switchyard_pdata::{attrs, json, Signal};

use crate::cli::{TapArgs, TapFormat};

fn query_escape(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' | b'/' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// The URL of the tap stream.
fn tap_url(args: &TapArgs) -> String {
    let mut url = format!(
        "{}/debug/tap?component={}&rate={}",
        args.endpoint.trim_end_matches('/'),
        query_escape(&args.component),
        args.rate
    );
    if let Some(p) = &args.pipeline {
        let _ = write!(url, "&pipeline={}", query_escape(p));
    }
    url
}

/// Runs until `--limit` lines are printed, the gateway ends the stream, or Ctrl-C.
pub async fn tap(args: &TapArgs) -> Result<ExitCode> {
    if args.rate.is_nan() || args.rate <= 0.0 {
        bail!("--rate must be above 0");
    }
    let url = tap_url(args);
    let client = reqwest::Client::builder().connect_timeout(Duration::from_secs(5)).build()?;
    let mut resp =
        client.get(&url).send().await.with_context(|| {
            format!("cannot reach the zpages extension at {} (is `zpages` enabled?)", args.endpoint)
        })?;
    if !resp.status().is_success() {
        let status = resp.status();
        let body = resp.text().await.unwrap_or_default();
        bail!("{url}: {status}: {}", body.trim());
    }
    let signal = resp
        .headers()
        .get("x-switchyard-tap-signal")
        .and_then(|v| v.to_str().ok())
        .and_then(Signal::parse)
        .context("the gateway did not say which signal the tap carries (is it a Switchyard zpages endpoint?)")?;
    if let Some(point) = resp.headers().get("x-switchyard-tap").and_then(|v| v.to_str().ok()) {
        eprintln!("tapping {point} (at most {} batches/s; Ctrl-C stops)", args.rate);
    }
    let mut pending: Vec<u8> = Vec::new();
    let mut printed: u64 = 0;
    let limit = args.limit.unwrap_or(u64::MAX);
    let mut stdout = std::io::stdout();
    while printed < limit {
        let chunk = tokio::select! {
            c = resp.chunk() => c.context("the tap stream broke")?,
            _ = tokio::signal::ctrl_c() => None,
        };
        let Some(chunk) = chunk else { break };
        pending.extend_from_slice(&chunk);
        while let Some(end) = pending.iter().position(|b| *b == b'\n') {
            let line: Vec<u8> = pending.drain(..=end).collect();
            let line = &line[..line.len() - 1];
            if line.iter().all(u8::is_ascii_whitespace) {
                continue; // keep-alive
            }
            let out: Vec<String> = match args.format {
                TapFormat::Json => vec![String::from_utf8_lossy(line).into_owned()],
                TapFormat::Line => lines(signal, line)?,
            };
            for l in out {
                if printed >= limit {
                    break;
                }
                stdout.write_all(format!("{l}\n").as_bytes())?;
                printed += 1;
            }
            stdout.flush()?;
            if printed >= limit {
                break;
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// One OTLP/JSON request as compact lines, one per item.
fn lines(signal: Signal, body: &[u8]) -> Result<Vec<String>> {
    let bad = |e: json::JsonError| anyhow::anyhow!("the gateway sent OTLP/JSON that does not decode: {e}");
    Ok(match signal {
        Signal::Traces => span_lines(&json::decode_traces(body).map_err(bad)?),
        Signal::Metrics => point_lines(&json::decode_metrics(body).map_err(bad)?),
        Signal::Logs => log_lines(&json::decode_logs(body).map_err(bad)?),
        Signal::Profiles => bail!("profiles cannot be tapped"),
    })
}

fn time(nanos: u64) -> String {
    if nanos == 0 {
        return "-".into();
    }
    humantime::format_rfc3339_millis(UNIX_EPOCH + Duration::from_nanos(nanos)).to_string()
}

fn value(v: &AnyValue) -> String {
    let s = as_string(v);
    if s.is_empty() || s.contains(char::is_whitespace) || s.contains('"') {
        format!("{s:?}")
    } else {
        s.into_owned()
    }
}

/// ` k=v k2=v2`.
fn kvs(list: &[KeyValue]) -> String {
    let mut out = String::new();
    for kv in list {
        let _ = write!(out, " {}={}", kv.key, value(attrs::value_of(kv)));
    }
    out
}

fn service(resource_attrs: Option<&[KeyValue]>) -> String {
    resource_attrs
        .and_then(|a| attrs::get_string(a, "service.name"))
        .map_or_else(|| "-".to_string(), |s| s.into_owned())
}

fn span_lines(req: &ExportTraceServiceRequest) -> Vec<String> {
    let mut out = Vec::new();
    for rs in &req.resource_spans {
        let svc = service(rs.resource.as_ref().map(|r| r.attributes.as_slice()));
        for ss in &rs.scope_spans {
            for s in &ss.spans {
                out.push(format!(
                    "{} {svc} span {:?} trace={} span={}{}",
                    time(s.start_time_unix_nano),
                    s.name,
                    hex_id(&s.trace_id),
                    hex_id(&s.span_id),
                    kvs(&s.attributes)
                ));
            }
        }
    }
    out
}

fn number(v: &Option<number_data_point::Value>) -> String {
    match v {
        Some(number_data_point::Value::AsDouble(d)) => double_string(*d),
        Some(number_data_point::Value::AsInt(i)) => i.to_string(),
        None => "-".into(),
    }
}

fn point_lines(req: &ExportMetricsServiceRequest) -> Vec<String> {
    let mut out = Vec::new();
    for rm in &req.resource_metrics {
        let svc = service(rm.resource.as_ref().map(|r| r.attributes.as_slice()));
        for sm in &rm.scope_metrics {
            for m in &sm.metrics {
                let mut push = |t: u64, v: String, a: &[KeyValue]| {
                    out.push(format!("{} {svc} metric {} {v}{}", time(t), m.name, kvs(a)));
                };
                match &m.data {
                    Some(metric::Data::Gauge(g)) => {
                        g.data_points.iter().for_each(|p| push(p.time_unix_nano, number(&p.value), &p.attributes))
                    }
                    Some(metric::Data::Sum(s)) => {
                        s.data_points.iter().for_each(|p| push(p.time_unix_nano, number(&p.value), &p.attributes))
                    }
                    Some(metric::Data::Histogram(h)) => h.data_points.iter().for_each(|p| {
                        let v = format!("count={} sum={}", p.count, p.sum.map_or("-".into(), double_string));
                        push(p.time_unix_nano, v, &p.attributes)
                    }),
                    Some(metric::Data::ExponentialHistogram(h)) => h.data_points.iter().for_each(|p| {
                        let v = format!("count={} sum={}", p.count, p.sum.map_or("-".into(), double_string));
                        push(p.time_unix_nano, v, &p.attributes)
                    }),
                    Some(metric::Data::Summary(s)) => s.data_points.iter().for_each(|p| {
                        let v = format!("count={} sum={}", p.count, double_string(p.sum));
                        push(p.time_unix_nano, v, &p.attributes)
                    }),
                    None => {}
                }
            }
        }
    }
    out
}

fn log_lines(req: &ExportLogsServiceRequest) -> Vec<String> {
    let mut out = Vec::new();
    for rl in &req.resource_logs {
        let svc = service(rl.resource.as_ref().map(|r| r.attributes.as_slice()));
        for sl in &rl.scope_logs {
            for r in &sl.log_records {
                let t = if r.time_unix_nano != 0 { r.time_unix_nano } else { r.observed_time_unix_nano };
                let sev =
                    if r.severity_text.is_empty() { r.severity_number.to_string() } else { r.severity_text.clone() };
                let body = r.body.as_ref().map_or_else(|| "\"\"".to_string(), value);
                out.push(format!("{} {svc} log {sev} {body}{}", time(t), kvs(&r.attributes)));
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_compact_line_per_span_with_its_attributes() {
        let body = br#"{"resourceSpans":[{"resource":{"attributes":[{"key":"service.name","value":{"stringValue":"checkout"}}]},
            "scopeSpans":[{"spans":[{"traceId":"0102030405060708090a0b0c0d0e0f10","spanId":"0102030405060708","name":"GET /cart",
            "startTimeUnixNano":"1700000000000000000","attributes":[{"key":"env","value":{"stringValue":"prod"}},
            {"key":"note","value":{"stringValue":"two words"}},{"key":"n","value":{"intValue":"3"}}]},{"name":"second"}]}]}]}"#;
        let got = lines(Signal::Traces, body).unwrap();
        assert_eq!(
            got,
            [
                "2023-11-14T22:13:20.000Z checkout span \"GET /cart\" trace=0102030405060708090a0b0c0d0e0f10 \
                 span=0102030405060708 env=prod note=\"two words\" n=3",
                "- checkout span \"second\" trace= span=",
            ]
        );
    }

    #[test]
    fn metrics_and_logs_print_a_line_per_point_and_record() {
        let m = br#"{"resourceMetrics":[{"scopeMetrics":[{"metrics":[{"name":"queue","gauge":{"dataPoints":[
            {"asInt":"7","attributes":[{"key":"q","value":{"stringValue":"a"}}]},{"asDouble":0.5}]}}]}]}]}"#;
        assert_eq!(lines(Signal::Metrics, m).unwrap(), ["- - metric queue 7 q=a", "- - metric queue 0.5"]);
        let l = br#"{"resourceLogs":[{"scopeLogs":[{"logRecords":[{"severityText":"WARN","body":{"stringValue":"disk full"}}]}]}]}"#;
        assert_eq!(lines(Signal::Logs, l).unwrap(), ["- - log WARN \"disk full\""]);
    }

    #[test]
    fn the_url_escapes_the_query() {
        let args = TapArgs {
            endpoint: "http://127.0.0.1:55679/".into(),
            component: "exporters/otlp/a b".into(),
            pipeline: Some("traces/x".into()),
            format: TapFormat::Json,
            rate: 2.5,
            limit: None,
        };
        assert_eq!(
            tap_url(&args),
            "http://127.0.0.1:55679/debug/tap?component=exporters/otlp/a%20b&rate=2.5&pipeline=traces/x"
        );
    }
}
