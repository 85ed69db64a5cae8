//! Looking for the canary: one query to a backend's read API, or one read of the gateway's
//! self-metrics for an exporter's counters. Each call is a single attempt; the caller polls.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use switchyard_pdata::Signal;

use super::canary::{ID_ATTRIBUTE, METRIC_NAME};
use super::plan::{Query, QueryKind};

/// How far back the read-back looks (the canary is seconds old; clocks may differ a little).
const LOOKBACK: Duration = Duration::from_secs(15 * 60);

/// An answer body is shown up to this many bytes in an error.
const SHOWN_BODY: usize = 200;

/// The URL a query asks, for the canary `id`.
pub(super) fn query_url(q: &Query, id: &str) -> String {
    let now = SystemTime::now().duration_since(UNIX_EPOCH).unwrap_or_default();
    let start = now.saturating_sub(LOOKBACK);
    match q.kind {
        QueryKind::Prometheus => {
            // The name may carry a namespace prefix; the id label alone is unique, and the
            // name keeps `target_info` (which gets the resource's id too) out.
            let label = ID_ATTRIBUTE.replace('.', "_");
            let selector = format!("{{__name__=~\".*{METRIC_NAME}.*\",{label}=\"{id}\"}}");
            format!("{}/api/v1/series?match%5B%5D={}&start={}", q.base, encode(&selector), start.as_secs())
        }
        QueryKind::Loki => {
            let query = format!("{} |= \"{id}\"", q.selector);
            let end = now + Duration::from_secs(60);
            format!(
                "{}/loki/api/v1/query_range?query={}&start={}&end={}&limit=5&direction=backward",
                q.base,
                encode(&query),
                start.as_nanos(),
                end.as_nanos()
            )
        }
        QueryKind::Traces => format!("{}/api/traces/{id}", q.base),
    }
}

/// One look: `Ok(true)` found, `Ok(false)` not (yet), `Err` the query failed (with why).
pub(super) async fn found(http: &reqwest::Client, q: &Query, url: &str) -> Result<bool, String> {
    let mut req = http.get(url).header("Accept", "application/json");
    for (k, v) in &q.headers {
        req = req.header(k.as_str(), v.as_str());
    }
    let resp = req.send().await.map_err(|e| chain(&e.without_url()))?;
    let status = resp.status().as_u16();
    let body = resp.text().await.map_err(|e| chain(&e.without_url()))?;
    if q.kind == QueryKind::Traces {
        // Tempo and Jaeger answer 404 for a trace id they do not have.
        return match status {
            200 => Ok(true),
            404 => Ok(false),
            _ => Err(format!("HTTP {status}: {}", shorten(&body))),
        };
    }
    if status != 200 {
        return Err(format!("HTTP {status}: {}", shorten(&body)));
    }
    let v: serde_json::Value =
        serde_json::from_str(&body).map_err(|e| format!("not a query API answer ({e}): {}", shorten(&body)))?;
    if v["status"] != "success" {
        return Err(format!("query failed: {}", shorten(&body)));
    }
    let hits = match q.kind {
        QueryKind::Prometheus => &v["data"],
        _ => &v["data"]["result"],
    };
    Ok(hits.as_array().is_some_and(|a| !a.is_empty()))
}

/// An exporter's counters for one signal, as the self-metrics show them.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub(super) struct Counts {
    /// `otelcol_exporter_sent_<item>`.
    pub sent: f64,
    /// `otelcol_exporter_send_failed_<item>`.
    pub failed: f64,
    /// `otelcol_exporter_enqueue_failed_<item>`.
    pub enqueue_failed: f64,
    /// `otelcol_exporter_queue_size` (a gauge).
    pub queue: f64,
}

impl Counts {
    /// What moved since `before`, for a row's error text.
    pub(super) fn describe_since(&self, before: &Counts) -> String {
        format!(
            "sent +{}, send_failed +{}, enqueue_failed +{}, queue size {}",
            self.sent - before.sent,
            self.failed - before.failed,
            self.enqueue_failed - before.enqueue_failed,
            self.queue
        )
    }
}

/// The self-metrics text, fetched once.
pub(super) async fn scrape(http: &reqwest::Client, url: &str) -> Result<String, String> {
    let resp = http.get(url).send().await.map_err(|e| format!("self-metrics {url}: {}", chain(&e.without_url())))?;
    let status = resp.status().as_u16();
    let text = resp.text().await.map_err(|e| format!("self-metrics {url}: {}", chain(&e.without_url())))?;
    if status != 200 {
        return Err(format!("self-metrics {url}: HTTP {status}"));
    }
    Ok(text)
}

/// An exporter's counts for `signal` in a self-metrics text.
pub(super) fn counts(text: &str, exporter: &str, signal: Signal, suffix: bool) -> Counts {
    let item = match signal {
        Signal::Traces => "spans",
        Signal::Metrics => "metric_points",
        Signal::Logs => "log_records",
        Signal::Profiles => "profile_samples",
    };
    let total = if suffix { "_total" } else { "" };
    let who = format!("exporter=\"{exporter}\"");
    let data_type = format!("data_type=\"{signal}\"");
    let sum = |name: &str, extra: Option<&str>| -> f64 {
        text.lines()
            .filter_map(|l| {
                let (series, value) = l.rsplit_once(' ')?;
                let (n, labels) = series.split_once('{').unwrap_or((series, ""));
                (n == name && labels.contains(&who) && extra.is_none_or(|x| labels.contains(x)))
                    .then(|| value.parse::<f64>().ok())
                    .flatten()
            })
            .sum()
    };
    Counts {
        sent: sum(&format!("otelcol_exporter_sent_{item}{total}"), None),
        failed: sum(&format!("otelcol_exporter_send_failed_{item}{total}"), None),
        enqueue_failed: sum(&format!("otelcol_exporter_enqueue_failed_{item}{total}"), None),
        queue: sum("otelcol_exporter_queue_size", Some(&data_type)),
    }
}

/// An error with its causes (`error sending request: ... : Connection refused`), so the
/// table says what actually failed.
fn chain(e: &(dyn std::error::Error + 'static)) -> String {
    let mut out = e.to_string();
    let mut cause = e.source();
    while let Some(c) = cause {
        let s = c.to_string();
        if !out.contains(&s) {
            out.push_str(": ");
            out.push_str(&s);
        }
        cause = c.source();
    }
    out
}

fn shorten(body: &str) -> String {
    let body = body.trim();
    match body.char_indices().nth(SHOWN_BODY) {
        Some((i, _)) => format!("{}...", &body[..i]),
        None => body.to_string(),
    }
}

/// Percent-encodes a query parameter value.
fn encode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const TEXT: &str = "\
# TYPE otelcol_exporter_sent_metric_points counter
otelcol_exporter_sent_metric_points{exporter=\"prometheusremotewrite/vm\"} 3
otelcol_exporter_sent_metric_points{exporter=\"prometheusremotewrite\"} 5
otelcol_exporter_send_failed_metric_points{exporter=\"prometheusremotewrite/vm\"} 1
otelcol_exporter_queue_size{data_type=\"metrics\",exporter=\"prometheusremotewrite/vm\"} 2
otelcol_exporter_queue_size{data_type=\"logs\",exporter=\"prometheusremotewrite/vm\"} 7
";

    #[test]
    fn counters_are_read_per_exporter_and_signal() {
        let c = counts(TEXT, "prometheusremotewrite/vm", Signal::Metrics, false);
        assert_eq!(c, Counts { sent: 3.0, failed: 1.0, enqueue_failed: 0.0, queue: 2.0 });
        assert_eq!(counts(TEXT, "prometheusremotewrite", Signal::Metrics, false).sent, 5.0);
        assert_eq!(counts(TEXT, "prometheusremotewrite", Signal::Metrics, true).sent, 0.0, "names with _total");
    }

    #[test]
    fn query_urls_find_the_canary_by_id() {
        let q = |kind| Query { kind, base: "http://b:1".into(), headers: vec![], selector: "{job=\"x\"}".into() };
        let u = query_url(&q(QueryKind::Prometheus), "abc");
        assert!(u.starts_with("http://b:1/api/v1/series?match%5B%5D=%7B__name__%3D~"), "{u}");
        assert!(u.contains("switchyard_check_id%3D%22abc%22"), "{u}");
        let u = query_url(&q(QueryKind::Loki), "abc");
        assert!(u.contains("query=%7Bjob%3D%22x%22%7D%20%7C%3D%20%22abc%22&start="), "{u}");
        assert_eq!(query_url(&q(QueryKind::Traces), "abc"), "http://b:1/api/traces/abc");
    }
}
