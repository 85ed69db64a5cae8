//! Sends one batch: translate, split into requests of at most `max_batch_size_bytes`,
//! snappy-compress, POST (a few at once), classify the answers.

use std::sync::atomic::{AtomicU8, Ordering};

use futures::future::BoxFuture;
use futures::{stream, StreamExt};
use prost::Message;
use reqwest::header::{HeaderMap, HeaderValue, CONTENT_ENCODING, CONTENT_TYPE, RETRY_AFTER};
use switchyard_core::component::ComponentId;
use switchyard_core::consumer::RequestContext;
use switchyard_core::exporterhelper::{ExportError, Sender};
use switchyard_core::telemetry::{Counter, LogThrottle};
use switchyard_pdata::{Metrics, SignalData};

use super::info_clock::InfoClock;
use super::proto::{MetricMetadata, TimeSeries, WriteRequest};
use super::translate::{translate, Settings};
use crate::exporters::client::{error_chain, ExporterAuth};
use crate::exporters::{classify_status, parse_retry_after, read_limited, redact_url};

/// Most of an error response we keep for the message.
const MAX_RESPONSE: usize = 64 * 1024;

/// Drop counters for points the translation cannot send.
pub(super) struct DropCounters {
    pub temporality: Counter,
    pub invalid: Counter,
    pub native_histograms: Counter,
}

/// What Prometheus answers (HTTP 500) to a native histogram without
/// `--enable-feature=native-histograms`.
const NATIVE_DISABLED: &str = "native histograms are disabled";
/// Not known yet whether the server takes native histograms.
pub(super) const NATIVE_UNKNOWN: u8 = 0;
/// The server took a request with native histograms.
pub(super) const NATIVE_OK: u8 = 1;
/// The server refused native histograms.
pub(super) const NATIVE_REFUSED: u8 = 2;

/// The remote-write sender behind the exporter helper.
pub(super) struct RemoteWriteSender {
    pub id: ComponentId,
    pub client: reqwest::Client,
    pub url: String,
    pub headers: HeaderMap,
    pub auth: ExporterAuth,
    pub settings: Settings,
    pub max_bytes: usize,
    pub parallelism: usize,
    pub dropped: DropCounters,
    pub drop_log: LogThrottle,
    /// Whether the server takes native histograms: [`NATIVE_UNKNOWN`], [`NATIVE_OK`] or
    /// [`NATIVE_REFUSED`] (then they are dropped from then on).
    pub native_histograms: AtomicU8,
    /// Leaves out `target_info` samples older than one already sent.
    pub info_clock: InfoClock,
}

/// Packs series (and metadata) into write requests whose encoded size stays under `max`
/// (a single series larger than `max` goes alone). Series are not split across requests.
pub(super) fn split(series: Vec<TimeSeries>, metadata: Vec<MetricMetadata>, max: usize) -> Vec<WriteRequest> {
    let mut out = Vec::new();
    let mut cur = WriteRequest::default();
    let mut size = 0usize;
    // Field tag + length prefix: at most 1 + 5 bytes over the message's own length.
    for ts in series {
        let n = ts.encoded_len() + 6;
        if size + n > max && size > 0 {
            out.push(std::mem::take(&mut cur));
            size = 0;
        }
        size += n;
        cur.timeseries.push(ts);
    }
    for md in metadata {
        let n = md.encoded_len() + 6;
        if size + n > max && size > 0 {
            out.push(std::mem::take(&mut cur));
            size = 0;
        }
        size += n;
        cur.metadata.push(md);
    }
    if size > 0 {
        out.push(cur);
    }
    out
}

impl RemoteWriteSender {
    fn headers(&self, cx: &RequestContext) -> Result<HeaderMap, ExportError> {
        let mut h = self.headers.clone();
        h.insert(CONTENT_ENCODING, HeaderValue::from_static("snappy"));
        h.insert(CONTENT_TYPE, HeaderValue::from_static("application/x-protobuf"));
        h.insert("X-Prometheus-Remote-Write-Version", HeaderValue::from_static("0.1.0"));
        self.auth.apply(cx, &mut h)?;
        Ok(h)
    }

    async fn post(&self, headers: HeaderMap, body: Vec<u8>, series: usize) -> Result<(), ExportError> {
        let resp = self.client.post(&self.url).headers(headers).body(body).send().await.map_err(|e| {
            ExportError::retryable(format!(
                "failed to send remote write request to {}: {}",
                redact_url(&self.url),
                error_chain(&e.without_url())
            ))
        })?;
        let status = resp.status();
        if status.is_success() {
            return Ok(());
        }
        let retry_after = resp.headers().get(RETRY_AFTER).and_then(|v| v.to_str().ok()).and_then(parse_retry_after);
        let body = read_limited(resp, MAX_RESPONSE).await;
        let text = String::from_utf8_lossy(&body[..body.len().min(512)]).trim().to_string();
        let message = format!(
            "remote write to {} answered HTTP {} for a request of {series} series: {text}",
            redact_url(&self.url),
            status.as_u16()
        );
        classify_status(status, retry_after, message)
    }
}

impl Sender<Metrics> for RemoteWriteSender {
    fn start(&self, host: &switchyard_core::component::Host) -> Result<(), String> {
        self.auth.start(host, &self.id.to_string(), self.url.starts_with("https://"))
    }

    fn send<'a>(&'a self, cx: &'a RequestContext, data: &'a Metrics) -> BoxFuture<'a, Result<(), ExportError>> {
        Box::pin(async move {
            let t = translate(data.request(), &self.settings);
            let (dropped, first_drop) = (t.dropped, t.first_drop.clone());
            let (mut series, metadata) = (t.series, t.metadata);
            self.info_clock.keep_newer(&mut series);
            let mut stripped = 0;
            let native = self.native_histograms.load(Ordering::Relaxed);
            if native == NATIVE_REFUSED {
                stripped = strip_native_histograms(&mut series);
            }
            // A copy is kept only while it is unknown whether the server takes native histograms.
            let has_native = series.iter().any(|s| !s.histograms.is_empty());
            let fallback = (has_native && native == NATIVE_UNKNOWN).then(|| (series.clone(), metadata.clone()));
            let mut result = self.send_translated(cx, series, metadata).await;
            if has_native && result.is_ok() && native == NATIVE_UNKNOWN {
                self.native_histograms.store(NATIVE_OK, Ordering::Relaxed);
            }
            if let (Err(ExportError::Retryable { message, .. }), Some((mut series, metadata))) = (&result, fallback) {
                if message.contains(NATIVE_DISABLED) {
                    self.native_histograms.store(NATIVE_REFUSED, Ordering::Relaxed);
                    tracing::warn!(exporter = %self.id, url = %redact_url(&self.url),
                        "The server takes no native histograms (Prometheus needs --enable-feature=native-histograms): \
                         exponential histograms are dropped from now on, and counted.");
                    stripped = strip_native_histograms(&mut series);
                    result = self.send_translated(cx, series, metadata).await;
                }
            }
            // Counted once, when the rest was delivered (a retry translates again; a batch
            // that fails for good is counted whole by the exporter helper).
            if result.is_ok() {
                self.dropped.native_histograms.add(stripped);
                if dropped.temporality + dropped.invalid > 0 {
                    self.dropped.temporality.add(dropped.temporality);
                    self.dropped.invalid.add(dropped.invalid);
                    if let Some(held_back) = self.drop_log.allow() {
                        tracing::warn!(exporter = %self.id, dropped_points = dropped.temporality + dropped.invalid,
                            similar_since_last_report = held_back, total_points = data.item_count(),
                            "Dropped metric points Prometheus cannot take: {}", first_drop.as_deref().unwrap_or(""));
                    }
                }
            }
            result
        })
    }
}

impl RemoteWriteSender {
    async fn send_translated(
        &self,
        cx: &RequestContext,
        series: Vec<TimeSeries>,
        metadata: Vec<MetricMetadata>,
    ) -> Result<(), ExportError> {
        {
            if series.is_empty() && metadata.is_empty() {
                return Ok(());
            }
            let headers = self.headers(cx)?;
            let requests = split(series, metadata, self.max_bytes);
            let results: Vec<Result<(), ExportError>> = stream::iter(requests)
                .map(|req| {
                    let series = req.timeseries.len();
                    let raw = req.encode_to_vec();
                    let body = snap::raw::Encoder::new().compress_vec(&raw);
                    let headers = headers.clone();
                    async move {
                        let body = body.map_err(|e| ExportError::permanent(format!("snappy: {e}")))?;
                        self.post(headers, body, series).await
                    }
                })
                .buffer_unordered(self.parallelism)
                .collect()
                .await;
            // A retryable failure wins: the retry sends every part again, and the parts
            // that were accepted are accepted again (same samples: no error, no double count).
            let mut permanent = None;
            for r in results {
                match r {
                    Ok(()) => {}
                    Err(e @ ExportError::Retryable { .. }) => return Err(e),
                    Err(e) => permanent = Some(e),
                }
            }
            permanent.map_or(Ok(()), Err)
        }
    }
}

/// Removes native histogram points (series left empty go too); returns how many.
fn strip_native_histograms(series: &mut Vec<TimeSeries>) -> u64 {
    let mut n = 0;
    for s in series.iter_mut() {
        n += s.histograms.len() as u64;
        s.histograms.clear();
    }
    series.retain(|s| !s.samples.is_empty());
    n
}

#[cfg(test)]
mod tests {
    use super::super::proto::{Label, Sample};
    use super::*;

    fn series(i: usize, samples: usize) -> TimeSeries {
        TimeSeries {
            labels: vec![Label { name: "__name__".into(), value: format!("m{i}") }],
            samples: (0..samples).map(|t| Sample { value: 1.0, timestamp: t as i64 }).collect(),
            ..Default::default()
        }
    }

    #[test]
    fn requests_stay_under_the_size_limit_and_keep_every_series_whole() {
        let all: Vec<TimeSeries> = (0..100).map(|i| series(i, 50)).collect();
        let one = all[0].encoded_len();
        let reqs = split(all, Vec::new(), one * 10);
        assert!(reqs.len() >= 10, "{} requests", reqs.len());
        assert!(reqs.iter().all(|r| r.encoded_len() <= one * 10 + 64));
        assert_eq!(reqs.iter().map(|r| r.timeseries.len()).sum::<usize>(), 100);
        assert!(reqs.iter().flat_map(|r| &r.timeseries).all(|s| s.samples.len() == 50));
        // One series over the limit is sent alone rather than dropped.
        let reqs = split(vec![series(0, 1000), series(1, 1)], Vec::new(), 100);
        assert_eq!(reqs.len(), 2);
    }
}
