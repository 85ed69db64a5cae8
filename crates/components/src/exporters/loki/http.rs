//! The HTTP side: one POST per tenant, the answer classified for the retry layer.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use futures::future::BoxFuture;
use reqwest::header::{HeaderMap, HeaderValue, CONTENT_ENCODING, CONTENT_TYPE, RETRY_AFTER};
use reqwest::StatusCode;
use switchyard_core::component::ComponentId;
use switchyard_core::confignet::compression::gzip;
use switchyard_core::consumer::RequestContext;
use switchyard_core::exporterhelper::{ExportError, Sender};
use switchyard_core::telemetry::{names, Counter, LogThrottle, Telemetry};
use switchyard_pdata::{Logs, SignalData};

use super::config::{DefaultLabels, LokiExporterConfig, PushFormat};
use super::convert::{convert, Dropped, TenantBatch};
use super::push;
use crate::exporters::client::{error_chain, ExporterAuth};
use crate::exporters::{header_map, http_client, parse_retry_after, read_limited, redact_url, HttpClientSettings};

/// Most of a response body we read.
const MAX_RESPONSE: usize = 64 * 1024;
/// Most of an error body quoted in the error message.
const MAX_ERROR_TEXT: usize = 512;

/// The tenant header.
pub(crate) const TENANT_HEADER: &str = "X-Scope-OrgID";

/// The exporter's HTTP client: timeout, TLS for an https endpoint, no redirects.
pub(super) fn client(cfg: &LokiExporterConfig) -> Result<reqwest::Client, String> {
    http_client(HttpClientSettings {
        timeout: cfg.timeout,
        max_idle_conns: cfg.max_idle_conns,
        idle_conn_timeout: cfg.idle_conn_timeout,
        tls: &cfg.tls,
        https: cfg.endpoint.starts_with("https://"),
        proxy_url: cfg.proxy_url.as_deref(),
    })
}

/// Counters of records left out of the push (labelled `exporter`, `reason`).
struct DropCounters {
    no_labels: Counter,
    invalid_format: Counter,
    invalid_tenant: Counter,
}

impl DropCounters {
    fn new(telemetry: &Telemetry, id: &ComponentId) -> Self {
        let id = id.to_string();
        let name = format!("{}_log_records", names::EXPORTER_DROPPED);
        let c = |reason: &str| {
            telemetry.metrics.counter(
                &name,
                "Items the exporter dropped, by reason.",
                &[("exporter", id.as_str()), ("reason", reason)],
            )
        };
        DropCounters {
            no_labels: c("no_labels"),
            invalid_format: c("invalid_format"),
            invalid_tenant: c("invalid_tenant"),
        }
    }

    fn add(&self, d: &Dropped) {
        self.no_labels.add(d.no_labels);
        self.invalid_format.add(d.invalid_format);
        self.invalid_tenant.add(d.invalid_tenant);
    }
}

/// Converts each batch of logs to Loki streams and POSTs them, one request per tenant.
pub(super) struct LokiSender {
    id: ComponentId,
    client: reqwest::Client,
    url: String,
    format: PushFormat,
    gzip_level: Option<u32>,
    headers: HeaderMap,
    auth: ExporterAuth,
    defaults: DefaultLabels,
    dropped: DropCounters,
    drop_log: LogThrottle,
}

impl LokiSender {
    pub(super) fn new(
        id: ComponentId,
        telemetry: &Telemetry,
        client: reqwest::Client,
        cfg: &LokiExporterConfig,
    ) -> Result<Self, String> {
        let mut headers = header_map(&cfg.headers)?;
        // The body's encoding is ours to say.
        let ct = match cfg.format {
            PushFormat::Protobuf => "application/x-protobuf",
            PushFormat::Json => "application/json",
        };
        headers.insert(CONTENT_TYPE, HeaderValue::from_static(ct));
        headers.remove(CONTENT_ENCODING);
        let gzip_level =
            (cfg.compression == "gzip").then(|| cfg.compression_params.level.unwrap_or(1).clamp(1, 9) as u32);
        if gzip_level.is_some() {
            headers.insert(CONTENT_ENCODING, HeaderValue::from_static("gzip"));
        }
        Ok(LokiSender {
            dropped: DropCounters::new(telemetry, &id),
            id,
            client,
            url: cfg.endpoint.clone(),
            format: cfg.format,
            gzip_level,
            headers,
            auth: ExporterAuth::new(cfg.auth.clone()),
            defaults: cfg.default_labels(),
            drop_log: LogThrottle::new(Duration::from_secs(10)),
        })
    }

    fn body(&self, batch: TenantBatch) -> Result<Vec<u8>, ExportError> {
        let raw = match self.format {
            PushFormat::Protobuf => push::encode_proto(batch).map_err(ExportError::permanent)?,
            PushFormat::Json => push::encode_json(&batch),
        };
        Ok(match self.gzip_level {
            Some(level) => gzip(&raw, level),
            None => raw,
        })
    }

    /// One POST; `Ok` on 2xx.
    async fn post(&self, headers: HeaderMap, tenant: &str, body: Vec<u8>) -> Result<(), ExportError> {
        let resp = self.client.post(&self.url).headers(headers).body(body).send().await.map_err(|e| {
            ExportError::retryable(format!("failed to make an HTTP request: {}", error_chain(&e.without_url())))
        })?;
        let status = resp.status();
        let retry_after = resp.headers().get(RETRY_AFTER).and_then(|v| v.to_str().ok()).and_then(parse_retry_after);
        let bytes = read_limited(resp, MAX_RESPONSE).await;
        if status.is_success() {
            return Ok(());
        }
        let text = String::from_utf8_lossy(&bytes[..bytes.len().min(MAX_ERROR_TEXT)]);
        let text = text.trim();
        let tenant = if tenant.is_empty() { String::new() } else { format!(" (tenant \"{tenant}\")") };
        let mut message = format!(
            "error exporting items, request to {}{tenant} responded with HTTP Status Code {}",
            redact_url(&self.url),
            status.as_u16()
        );
        if !text.is_empty() {
            message.push_str(", Message=");
            message.push_str(text);
        }
        if status == StatusCode::TOO_MANY_REQUESTS || status.is_server_error() {
            Err(ExportError::Retryable { message, throttle: retry_after })
        } else {
            if status.is_redirection() {
                message.push_str(" (redirects are not followed: check the endpoint)");
            }
            Err(ExportError::Permanent { message })
        }
    }
}

fn now_unix_nanos() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_nanos().min(u64::MAX as u128) as u64)
}

impl Sender<Logs> for LokiSender {
    fn start(&self, host: &switchyard_core::component::Host) -> Result<(), String> {
        self.auth.start(host, &self.id.to_string(), self.url.starts_with("https://"))
    }

    fn send<'a>(&'a self, cx: &'a RequestContext, data: &'a Logs) -> BoxFuture<'a, Result<(), ExportError>> {
        Box::pin(async move {
            let converted = convert(data.request(), self.defaults, now_unix_nanos());
            let dropped = converted.dropped;
            if converted.batches.is_empty() {
                if dropped.total() == 0 {
                    return Ok(());
                }
                return Err(ExportError::permanent(format!(
                    "failed to transform logs into Loki log streams: {}",
                    describe(&dropped)
                )));
            }
            let mut headers = self.headers.clone();
            self.auth.apply(cx, &mut headers)?;
            // One request per tenant, in turn; a failure fails the whole batch, and a retry
            // sends every tenant's part again (Loki drops the exact duplicates).
            for batch in converted.batches {
                let mut h = headers.clone();
                if !batch.tenant.is_empty() {
                    // Checked when grouping: a tenant that is not a header value is dropped.
                    let v = HeaderValue::from_str(&batch.tenant)
                        .map_err(|_| ExportError::permanent(format!("invalid tenant \"{}\"", batch.tenant)))?;
                    h.insert(TENANT_HEADER, v);
                }
                let tenant = batch.tenant.clone();
                let body = self.body(batch)?;
                self.post(h, &tenant, body).await?;
            }
            if dropped.total() > 0 {
                self.dropped.add(&dropped);
                if let Some(held_back) = self.drop_log.allow() {
                    tracing::warn!(
                        exporter = %self.id,
                        dropped = dropped.total(),
                        sent = data.item_count() as u64 - dropped.total(),
                        similar_since_last_report = held_back,
                        "Not all log records were converted to Loki entries: {}.",
                        describe(&dropped)
                    );
                }
            }
            Ok(())
        })
    }
}

fn describe(d: &Dropped) -> String {
    let mut parts = Vec::new();
    if d.no_labels > 0 {
        parts.push(format!("{} without any label", d.no_labels));
    }
    if d.invalid_format > 0 {
        parts.push(format!("{} with a loki.format other than json, logfmt or raw", d.invalid_format));
    }
    if d.invalid_tenant > 0 {
        parts.push(format!("{} with a tenant that is not a valid header value", d.invalid_tenant));
    }
    parts.join(", ")
}
