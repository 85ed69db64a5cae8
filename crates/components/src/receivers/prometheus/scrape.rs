//! The scrape loop of one target, as Prometheus runs it (`scrape/scrape.go`): first scrape
//! at an offset within the interval derived from the target's hash (so targets spread),
//! then every interval; each scrape asks for OpenMetrics or the text format with gzip,
//! parses, attaches the target labels, runs `metric_relabel_configs`, enforces
//! `sample_limit` and `body_size_limit`, writes staleness markers for series that went
//! away (all of them when the scrape fails), adds the `up` and `scrape_*` series, and
//! hands the translated batch to the pipeline.

use std::collections::{HashMap, HashSet};
use std::io::Read;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use switchyard_core::consumer::{DynConsumer, RequestContext};
use switchyard_core::telemetry::{Counter, ReceiverObs};
use switchyard_pdata::{Metrics, Signal, SignalData};
use tokio_util::sync::CancellationToken;

use super::discovery::Target;
use super::parse::{is_openmetrics, parse, Exposition, FamilyMeta};
use super::promconfig::{BasicAuth, ScrapeConfig};
use super::relabel::{process, Labels, Rule};
use super::translate::{ScrapedSample, TargetInfo, Translator, STALE_NAN};

/// Prometheus's Accept header for the formats parsed here.
pub const ACCEPT: &str = "application/openmetrics-text;version=1.0.0;q=0.5,application/openmetrics-text;version=0.0.1;q=0.4,text/plain;version=0.0.4;q=0.3,*/*;q=0.2";

/// What every target of one scrape config shares.
pub struct JobContext {
    /// The scrape config.
    pub cfg: ScrapeConfig,
    /// Compiled `metric_relabel_configs`.
    pub metric_rules: Vec<Rule>,
    /// `global.external_labels`.
    pub external_labels: Labels,
    /// The HTTP client (TLS, redirects).
    pub client: reqwest::Client,
    /// The pipeline.
    pub out: DynConsumer<Metrics>,
    /// Accepted/refused points.
    pub obs: Arc<ReceiverObs>,
    /// Failed scrapes (any reason).
    pub failed_scrapes: Counter,
    /// The sample limit (0 = none).
    pub sample_limit: u64,
    /// The body size limit (0 = none).
    pub body_size_limit: u64,
    /// Also report the extra scrape metrics.
    pub report_extra: bool,
    /// The scope version.
    pub version: String,
    /// The receiver id, for logs.
    pub receiver: String,
}

fn now_ms() -> i64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_millis() as i64).unwrap_or(0)
}

/// How long until the target's first scrape: Prometheus's offset, a fixed point within the
/// interval chosen by the target's hash.
pub fn first_delay(hash: u64, interval: Duration, now_ns: u128) -> Duration {
    let iv = interval.as_nanos().max(1);
    let base = iv - now_ns % iv;
    let offset = (hash as u128) % iv;
    let mut next = base + offset;
    if next > iv {
        next -= iv;
    }
    Duration::from_nanos(next as u64)
}

/// One target's loop state.
pub struct TargetLoop {
    job: Arc<JobContext>,
    target: Target,
    translator: Translator,
    last_series: HashSet<Labels>,
    /// Family metadata seen on this target, kept so staleness markers of a series that
    /// went away (or of a failed scrape) keep their series' type.
    families: HashMap<String, FamilyMeta>,
    openmetrics: bool,
}

/// Why a scrape failed.
#[derive(Debug, thiserror::Error)]
pub enum ScrapeError {
    /// HTTP, timeout, status.
    #[error("{0}")]
    Http(String),
    /// Body not parseable.
    #[error("invalid exposition: {0}")]
    Parse(String),
    /// More samples than `sample_limit`.
    #[error("sample limit exceeded ({0} samples, limit {1})")]
    SampleLimit(usize, u64),
}

impl TargetLoop {
    /// A loop for `target`.
    pub fn new(job: Arc<JobContext>, target: Target) -> Self {
        let translator = Translator::new(&job.version);
        TargetLoop {
            job,
            target,
            translator,
            last_series: HashSet::new(),
            families: HashMap::new(),
            openmetrics: false,
        }
    }

    /// Runs until `stop`; a target removed by discovery gets staleness markers for its series.
    pub async fn run(mut self, stop: CancellationToken, removed: CancellationToken) {
        let now_ns = SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_nanos()).unwrap_or(0);
        let delay = first_delay(self.target.hash(), self.target.interval, now_ns);
        tokio::select! {
            _ = stop.cancelled() => return,
            _ = removed.cancelled() => return,
            _ = tokio::time::sleep(delay) => {}
        }
        let mut ticker = tokio::time::interval(self.target.interval);
        ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                _ = stop.cancelled() => return,
                _ = removed.cancelled() => {
                    self.end_of_run().await;
                    return;
                }
                _ = ticker.tick() => {}
            }
            // Shutdown does not wait for a scrape in flight or a pipeline pushing back.
            tokio::select! {
                _ = stop.cancelled() => return,
                _ = self.scrape_and_report() => {}
            }
        }
    }

    /// The target went away: every series it had, `up` and `scrape_*` included, is marked
    /// stale (Prometheus's end-of-run staleness).
    async fn end_of_run(&mut self) {
        let ts = now_ms();
        let mut samples: Vec<ScrapedSample> = self.last_series.drain().map(|l| stale(l, ts)).collect();
        for name in self.report_names() {
            let mut labels = self.target.labels.clone();
            labels.insert("__name__".into(), name.into());
            samples.push(stale(labels, ts));
        }
        self.send(samples).await;
    }

    fn report_names(&self) -> Vec<&'static str> {
        let mut names = vec![
            "up",
            "scrape_duration_seconds",
            "scrape_samples_scraped",
            "scrape_samples_post_metric_relabeling",
            "scrape_series_added",
        ];
        if self.job.report_extra {
            names.extend(["scrape_timeout_seconds", "scrape_sample_limit", "scrape_body_size_bytes"]);
        }
        names
    }

    /// One scrape: fetch, parse, label, relabel, staleness, report, send.
    pub async fn scrape_and_report(&mut self) {
        let start = Instant::now();
        let ts = now_ms();
        let result = self.scrape(ts).await;
        let duration = start.elapsed().as_secs_f64();
        let (mut samples, scraped, post, added, body_len, up) = match result {
            Ok((samples, scraped, body_len, exposition)) => {
                self.openmetrics = exposition.openmetrics;
                self.families.extend(exposition.families);
                let current: HashSet<Labels> = samples.iter().map(|s| s.labels.clone()).collect();
                let added = current.difference(&self.last_series).count();
                let post = samples.len();
                let mut samples = samples;
                for gone in self.last_series.difference(&current) {
                    samples.push(stale(gone.clone(), ts));
                }
                self.last_series = current;
                (samples, scraped, post, added, body_len, 1.0)
            }
            Err(e) => {
                self.job.failed_scrapes.add(1);
                tracing::warn!(receiver = %self.job.receiver, target = %self.target.url, error = %e, "Failed to scrape Prometheus endpoint.");
                let samples = self.last_series.drain().map(|l| stale(l, ts)).collect();
                (samples, 0, 0, 0, 0, 0.0)
            }
        };
        let values = [
            up,
            duration,
            scraped as f64,
            post as f64,
            added as f64,
            self.target.timeout.as_secs_f64(),
            self.job.sample_limit as f64,
            if up == 1.0 { body_len as f64 } else { -1.0 },
        ];
        for (name, value) in self.report_names().into_iter().zip(values) {
            let mut labels = self.target.labels.clone();
            labels.insert("__name__".into(), name.into());
            samples.push(ScrapedSample { labels, value, ts_ms: ts, exemplar: None });
        }
        self.send(samples).await;
    }

    async fn send(&mut self, samples: Vec<ScrapedSample>) {
        if samples.is_empty() {
            return;
        }
        let info = TargetInfo {
            job: self.target.labels.get("job").cloned().unwrap_or_default(),
            instance: self.target.labels.get("instance").cloned().unwrap_or_default(),
            scheme: self.target.scheme.clone(),
        };
        let req = self.translator.translate(&samples, &self.families, self.openmetrics, &info);
        let data = Metrics::from_request(req);
        let n = data.item_count();
        if n == 0 {
            return;
        }
        let ok = self.job.out.consume(&RequestContext::default(), data).await;
        self.job.obs.record(Signal::Metrics, n, ok.is_ok());
        if let Err(e) = ok {
            tracing::warn!(receiver = %self.job.receiver, target = %self.target.url, error = %e, "The pipeline refused a scrape.");
        }
    }

    async fn scrape(&mut self, ts: i64) -> Result<(Vec<ScrapedSample>, usize, usize, Exposition), ScrapeError> {
        let body = self.fetch().await?;
        let (bytes, content_type) = body;
        let len = bytes.len();
        let text = String::from_utf8_lossy(&bytes);
        let exposition = parse(&text, is_openmetrics(&content_type)).map_err(|e| ScrapeError::Parse(e.to_string()))?;
        let scraped = exposition.samples.len();
        let honor_ts = self.job.cfg.honor_timestamps.unwrap_or(true);
        let mut out = Vec::with_capacity(scraped);
        for s in &exposition.samples {
            let mut labels = self.sample_labels(&s.name, &s.labels);
            if !process(&self.job.metric_rules, &mut labels) || !labels.contains_key("__name__") {
                continue;
            }
            let ts_ms = if honor_ts { s.timestamp_ms.unwrap_or(ts) } else { ts };
            out.push(ScrapedSample { labels, value: s.value, ts_ms, exemplar: s.exemplar.clone() });
        }
        if self.job.sample_limit > 0 && out.len() as u64 > self.job.sample_limit {
            return Err(ScrapeError::SampleLimit(out.len(), self.job.sample_limit));
        }
        Ok((out, scraped, len, exposition))
    }

    /// The sample's labels with the target's (Prometheus `mutateSampleLabels`): with
    /// `honor_labels` the scraped ones win; else a clash renames the scraped label
    /// `exported_<name>`. External labels are added last, never overriding.
    fn sample_labels(&self, name: &str, scraped: &[(String, String)]) -> Labels {
        let mut ls: Labels = scraped.iter().filter(|(_, v)| !v.is_empty()).cloned().collect();
        ls.insert("__name__".into(), name.to_string());
        for (k, v) in &self.target.labels {
            if self.job.cfg.honor_labels {
                ls.entry(k.clone()).or_insert_with(|| v.clone());
            } else {
                if let Some(old) = ls.remove(k) {
                    let mut exported = format!("exported_{k}");
                    while ls.contains_key(&exported) {
                        exported = format!("exported_{exported}");
                    }
                    ls.insert(exported, old);
                }
                ls.insert(k.clone(), v.clone());
            }
        }
        for (k, v) in &self.job.external_labels {
            ls.entry(k.clone()).or_insert_with(|| v.clone());
        }
        ls
    }

    async fn fetch(&self) -> Result<(Vec<u8>, String), ScrapeError> {
        let cfg = &self.job.cfg;
        let timeout = self.target.timeout;
        let mut req = self
            .job
            .client
            .get(&self.target.url)
            .timeout(timeout)
            .header(http::header::ACCEPT, ACCEPT)
            .header("X-Prometheus-Scrape-Timeout-Seconds", format!("{}", timeout.as_secs_f64()));
        if cfg.enable_compression.unwrap_or(true) {
            req = req.header(http::header::ACCEPT_ENCODING, "gzip");
        } else {
            req = req.header(http::header::ACCEPT_ENCODING, "identity");
        }
        if let Some(value) = authorization(cfg).map_err(ScrapeError::Http)? {
            req = req.header(http::header::AUTHORIZATION, value);
        }
        let resp = req.send().await.map_err(|e| ScrapeError::Http(describe(&e, timeout)))?;
        if resp.status() != reqwest::StatusCode::OK {
            return Err(ScrapeError::Http(format!("server returned HTTP status {}", resp.status())));
        }
        let headers: HashMap<String, String> = resp
            .headers()
            .iter()
            .filter_map(|(k, v)| v.to_str().ok().map(|v| (k.as_str().to_ascii_lowercase(), v.to_string())))
            .collect();
        let limit = self.job.body_size_limit;
        let mut body = Vec::new();
        let mut resp = resp;
        while let Some(chunk) = resp.chunk().await.map_err(|e| ScrapeError::Http(describe(&e, timeout)))? {
            body.extend_from_slice(&chunk);
            if limit > 0 && headers.get("content-encoding").is_none_or(|e| e != "gzip") && body.len() as u64 > limit {
                return Err(ScrapeError::Http(format!("body size limit exceeded (limit {limit} bytes)")));
            }
        }
        if headers.get("content-encoding").is_some_and(|e| e == "gzip") {
            let mut out = Vec::new();
            let dec = flate2::read::GzDecoder::new(&body[..]);
            let cap = if limit > 0 { limit + 1 } else { u64::MAX };
            dec.take(cap).read_to_end(&mut out).map_err(|e| ScrapeError::Http(format!("invalid gzip body: {e}")))?;
            if limit > 0 && out.len() as u64 > limit {
                return Err(ScrapeError::Http(format!("body size limit exceeded (limit {limit} bytes)")));
            }
            body = out;
        }
        Ok((body, headers.get("content-type").cloned().unwrap_or_default()))
    }
}

fn stale(labels: Labels, ts: i64) -> ScrapedSample {
    ScrapedSample { labels, value: f64::from_bits(STALE_NAN), ts_ms: ts, exemplar: None }
}

fn describe(e: &reqwest::Error, timeout: Duration) -> String {
    if e.is_timeout() {
        format!("context deadline exceeded (scrape_timeout {timeout:?})")
    } else {
        let mut msg = e.to_string();
        let mut src = std::error::Error::source(e);
        while let Some(s) = src {
            msg.push_str(": ");
            msg.push_str(&s.to_string());
            src = s.source();
        }
        msg
    }
}

fn read_secret(path: &str) -> Result<String, String> {
    std::fs::read_to_string(path).map(|s| s.trim().to_string()).map_err(|e| format!("cannot read {path}: {e}"))
}

/// The `Authorization` header of a scrape; files are read at every scrape (rotated
/// credentials are picked up, as in Prometheus).
pub fn authorization(cfg: &ScrapeConfig) -> Result<Option<String>, String> {
    use base64::Engine;
    if let Some(BasicAuth { username, username_file, password, password_file }) = &cfg.basic_auth {
        let user = match username_file {
            Some(f) => read_secret(f)?,
            None => username.clone(),
        };
        let pass = match (password, password_file) {
            (_, Some(f)) => read_secret(f)?,
            (Some(p), None) => p.clone(),
            (None, None) => String::new(),
        };
        let enc = base64::engine::general_purpose::STANDARD.encode(format!("{user}:{pass}"));
        return Ok(Some(format!("Basic {enc}")));
    }
    let (kind, cred) = if let Some(a) = &cfg.authorization {
        let cred = match (&a.credentials, &a.credentials_file) {
            (_, Some(f)) => Some(read_secret(f)?),
            (c, None) => c.clone(),
        };
        (a.kind.clone().unwrap_or_else(|| "Bearer".into()), cred)
    } else if let Some(f) = &cfg.bearer_token_file {
        ("Bearer".into(), Some(read_secret(f)?))
    } else {
        ("Bearer".into(), cfg.bearer_token.clone())
    };
    Ok(cred.map(|c| format!("{kind} {c}")))
}
