//! The HTTP client side: encode (protobuf or JSON), compress, POST, classify the answer.

use std::marker::PhantomData;

use bytes::Bytes;
use futures::future::BoxFuture;
use prost::Message;
use reqwest::header::{HeaderMap, HeaderName, HeaderValue, CONTENT_ENCODING, CONTENT_TYPE, RETRY_AFTER};
use reqwest::StatusCode;
use switchyard_core::component::ComponentId;
use switchyard_core::confignet::compression::{gzip, held_body};
use switchyard_core::consumer::RequestContext;
use switchyard_core::exporterhelper::{BodySender, ExportError, Sender};

use super::config::{BodyEncoding, OtlpHttpExporterConfig};
use crate::exporters::client::{error_chain, ExporterAuth};
use crate::exporters::{http_client, parse_retry_after, read_limited, redact_url, HttpClientSettings};
use crate::otlp_signal::{OtlpSignal, RpcStatus};

/// Most of an error response body we read (as the Collector: 64 KiB).
const MAX_RESPONSE: usize = 64 * 1024;

/// POSTs one signal's batches to one URL.
pub(super) struct HttpSender<S: OtlpSignal> {
    id: ComponentId,
    client: reqwest::Client,
    url: String,
    encoding: BodyEncoding,
    compression: String,
    level: i32,
    headers: HeaderMap,
    auth: ExporterAuth,
    _signal: PhantomData<S>,
}

/// The shared client of an exporter (one connection pool for every signal).
pub(super) fn client(cfg: &OtlpHttpExporterConfig) -> Result<reqwest::Client, String> {
    let https = [
        Some(&cfg.endpoint),
        cfg.traces_endpoint.as_ref(),
        cfg.metrics_endpoint.as_ref(),
        cfg.logs_endpoint.as_ref(),
        cfg.profiles_endpoint.as_ref(),
    ]
    .into_iter()
    .flatten()
    .any(|u| u.starts_with("https://"));
    http_client(HttpClientSettings {
        timeout: cfg.timeout,
        max_idle_conns: cfg.max_idle_conns,
        idle_conn_timeout: cfg.idle_conn_timeout,
        tls: &cfg.tls,
        https,
        proxy_url: cfg.proxy_url.as_deref(),
    })
}

impl<S: OtlpSignal> HttpSender<S> {
    pub(super) fn new(
        id: ComponentId,
        client: reqwest::Client,
        url: String,
        cfg: &OtlpHttpExporterConfig,
    ) -> Result<Self, String> {
        let mut headers = HeaderMap::new();
        for (k, v) in &cfg.headers {
            let name = HeaderName::try_from(k.as_str()).map_err(|_| format!("invalid header name \"{k}\""))?;
            let value = HeaderValue::try_from(v.as_str()).map_err(|_| format!("invalid value for header \"{k}\""))?;
            headers.insert(name, value);
        }
        let ct = match cfg.encoding {
            BodyEncoding::Proto => "application/x-protobuf",
            BodyEncoding::Json => "application/json",
        };
        headers.insert(CONTENT_TYPE, HeaderValue::from_static(ct));
        let compression = if cfg.compression == "none" { String::new() } else { cfg.compression.clone() };
        if !compression.is_empty() {
            let v = HeaderValue::try_from(compression.as_str()).map_err(|_| "invalid compression".to_string())?;
            headers.insert(CONTENT_ENCODING, v);
        }
        let level = cfg.compression_params.level.unwrap_or(1);
        let auth = ExporterAuth::new(cfg.auth.clone());
        Ok(HttpSender {
            id,
            client,
            url,
            encoding: cfg.encoding,
            compression,
            level,
            headers,
            auth,
            _signal: PhantomData,
        })
    }

    /// The request body: the batch's own bytes when nobody changed it (shared, not copied, when
    /// uncompressed), written chunk by chunk into the compressor otherwise.
    fn body(&self, data: &S) -> Result<Bytes, ExportError> {
        let level = self.level.clamp(1, 9) as u32;
        let failed = |e: std::io::Error| ExportError::permanent(format!("compression failed: {e}"));
        if self.encoding == BodyEncoding::Json {
            let raw = S::encode_json(data.request()).map_err(ExportError::permanent)?;
            return self.compress(&raw);
        }
        let cap = data.encoded_len() / 3;
        Ok(held_body(match self.compression.as_str() {
            "" => return Ok(data.to_bytes()),
            "gzip" => {
                let mut enc = flate2::write::GzEncoder::new(Vec::with_capacity(cap), flate2::Compression::new(level));
                data.write_encoded(&mut enc).map_err(failed)?;
                enc.finish().map_err(failed)?
            }
            "zstd" => {
                let mut enc = zstd::stream::write::Encoder::new(Vec::with_capacity(cap), self.level).map_err(failed)?;
                data.write_encoded(&mut enc).map_err(failed)?;
                enc.finish().map_err(failed)?
            }
            "deflate" | "zlib" => {
                let mut enc = flate2::write::ZlibEncoder::new(Vec::with_capacity(cap), flate2::Compression::new(level));
                data.write_encoded(&mut enc).map_err(failed)?;
                enc.finish().map_err(failed)?
            }
            _ => return self.compress(&data.to_bytes()),
        }))
    }

    /// Compresses a whole body (JSON, and snappy, whose raw format needs it in one piece).
    fn compress(&self, raw: &[u8]) -> Result<Bytes, ExportError> {
        let level = self.level.clamp(1, 9) as u32;
        Ok(Bytes::from(match self.compression.as_str() {
            "" => raw.to_vec(),
            "gzip" => gzip(raw, level),
            "zstd" => zstd::bulk::compress(raw, self.level).map_err(|e| ExportError::permanent(e.to_string()))?,
            "deflate" | "zlib" => {
                use std::io::Write;
                let mut enc = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::new(level));
                let _ = enc.write_all(raw);
                enc.finish().map_err(|e| ExportError::permanent(e.to_string()))?
            }
            "snappy" => {
                snap::raw::Encoder::new().compress_vec(raw).map_err(|e| ExportError::permanent(e.to_string()))?
            }
            other => return Err(ExportError::permanent(format!("unsupported compression {other}"))),
        }))
    }
}

impl<S: OtlpSignal> Sender<S> for HttpSender<S> {
    fn start(&self, host: &switchyard_core::component::Host) -> Result<(), String> {
        // QueuedExporter's start names the exporter in errors; the warning names it here.
        self.auth.start(host, &self.id.to_string(), self.url.starts_with("https://"))
    }

    fn send<'a>(&'a self, cx: &'a RequestContext, data: &'a S) -> BoxFuture<'a, Result<(), ExportError>> {
        match self.body(data) {
            Ok(body) => self.post(cx, body),
            Err(e) => Box::pin(std::future::ready(Err(e))),
        }
    }

    fn body_sender(&self) -> Option<&dyn BodySender<S>> {
        Some(self)
    }
}

/// The batch is encoded and compressed once; every attempt sends the same body.
impl<S: OtlpSignal> BodySender<S> for HttpSender<S> {
    fn encode_body(&self, data: &S) -> Result<Bytes, String> {
        self.body(data).map_err(|e| e.to_string())
    }

    fn send_body<'a>(&'a self, cx: &'a RequestContext, body: Bytes) -> BoxFuture<'a, Result<(), ExportError>> {
        self.post(cx, body)
    }

    /// JSON is written from the tree.
    fn reads_protobuf(&self) -> bool {
        self.encoding == BodyEncoding::Proto
    }
}

impl<S: OtlpSignal> HttpSender<S> {
    /// One POST of an encoded body.
    fn post<'a>(&'a self, cx: &'a RequestContext, body: Bytes) -> BoxFuture<'a, Result<(), ExportError>> {
        Box::pin(async move {
            let mut headers = self.headers.clone();
            self.auth.apply(cx, &mut headers)?;
            let resp = self.client.post(&self.url).headers(headers).body(body).send().await.map_err(|e| {
                ExportError::retryable(format!("failed to make an HTTP request: {}", error_chain(&e.without_url())))
            })?;
            let status = resp.status();
            let retry_after = resp.headers().get(RETRY_AFTER).and_then(|v| v.to_str().ok()).and_then(parse_retry_after);
            let is_proto = resp
                .headers()
                .get(CONTENT_TYPE)
                .and_then(|v| v.to_str().ok())
                .is_some_and(|c| c.starts_with("application/x-protobuf"));
            let bytes = read_limited(resp, MAX_RESPONSE).await;
            if status.is_success() {
                let parsed = if is_proto {
                    S::Response::decode(bytes.as_slice()).ok()
                } else {
                    S::decode_json_response(&bytes).ok()
                };
                if let Some((rejected, msg)) = parsed.as_ref().and_then(|r| S::rejected(r)) {
                    tracing::warn!(exporter = %self.id, rejected, message = msg, "Partial success response.");
                }
                return Ok(());
            }
            let detail = error_detail(&bytes, is_proto);
            let message = format!(
                "error exporting items, request to {} responded with HTTP Status Code {}{detail}",
                redact_url(&self.url),
                status.as_u16()
            );
            if matches!(
                status,
                StatusCode::TOO_MANY_REQUESTS
                    | StatusCode::BAD_GATEWAY
                    | StatusCode::SERVICE_UNAVAILABLE
                    | StatusCode::GATEWAY_TIMEOUT
            ) {
                Err(ExportError::Retryable { message, throttle: retry_after })
            } else {
                Err(ExportError::Permanent { message })
            }
        })
    }
}

fn error_detail(body: &[u8], is_proto: bool) -> String {
    if body.is_empty() {
        return String::new();
    }
    let message = if is_proto {
        RpcStatus::decode(body).ok().map(|s| s.message)
    } else {
        serde_json::from_slice::<serde_json::Value>(body)
            .ok()
            .and_then(|v| v.get("message").and_then(|m| m.as_str()).map(str::to_string))
    };
    let text = message.unwrap_or_else(|| String::from_utf8_lossy(&body[..body.len().min(512)]).into_owned());
    format!(", Message={}", text.trim())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn retry_after_seconds_and_dates() {
        assert_eq!(parse_retry_after("7"), Some(Duration::from_secs(7)));
        assert_eq!(parse_retry_after("Sun, 06 Nov 1994 08:49:37 GMT"), Some(Duration::ZERO));
        assert_eq!(parse_retry_after("soon"), None);
    }
}
