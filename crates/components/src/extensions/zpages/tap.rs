//! `GET /debug/tap?component=processors/transform&pipeline=traces&rate=10`: a live sample of
//! the data passing one component of one pipeline, streamed as newline-delimited OTLP/JSON
//! (one export request per line), for `switchyard tap`.
//!
//! The graph's tap point does the sampling (rate limit, bounded channel, counted skips: see
//! `switchyard_core::tap`); this handler only encodes what it is given, on the server's
//! task, never on the pipeline's. An empty line is written when nothing passed for a while
//! so that a client that went away is noticed and its listener detached. The stream ends
//! when the extension shuts down.

use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;

use axum::body::Body;
use axum::extract::{RawQuery, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use switchyard_core::tap::{TapData, MAX_TAP_RATE};
use switchyard_pdata::{json, Signal, SignalData};

use super::Shared;

/// Batches per second when the query gives no `rate`.
pub const DEFAULT_RATE: f64 = 10.0;

/// Quiet time after which an empty keep-alive line is written.
const KEEPALIVE: Duration = Duration::from_secs(2);

fn plain(status: StatusCode, msg: String) -> Response {
    (status, [(header::CONTENT_TYPE, "text/plain; charset=utf-8")], msg + "\n").into_response()
}

/// One sample as a line of OTLP/JSON.
fn encode(d: &TapData) -> Bytes {
    let mut line = match d {
        TapData::Traces(t) => json::encode_traces(t.request()),
        TapData::Metrics(m) => json::encode_metrics(m.request()),
        TapData::Logs(l) => json::encode_logs(l.request()),
        // Refused before attaching (no OTLP/JSON for profiles): never reached.
        TapData::Profiles(_) => b"{}".to_vec(),
    };
    line.push(b'\n');
    Bytes::from(line)
}

struct Query {
    component: Option<String>,
    pipeline: Option<String>,
    rate: Option<String>,
}

fn parse_query(raw: Option<&str>) -> Query {
    let mut q = Query { component: None, pipeline: None, rate: None };
    for (k, v) in form_urlencoded::parse(raw.unwrap_or_default().as_bytes()) {
        match k.as_ref() {
            "component" => q.component = Some(v.into_owned()),
            "pipeline" => q.pipeline = Some(v.into_owned()).filter(|p| !p.is_empty()),
            "rate" => q.rate = Some(v.into_owned()),
            _ => {}
        }
    }
    q
}

/// The handler.
pub(crate) async fn tap(State(s): State<Arc<Shared>>, RawQuery(raw): RawQuery) -> Response {
    let Some(view) = s.view() else {
        return plain(StatusCode::NOT_FOUND, "no pipelines: this gateway has no service view".into());
    };
    let q = parse_query(raw.as_deref());
    let Some(component) = q.component else {
        let known: Vec<String> = view.taps.list().iter().map(|p| format!("{} in {}", p.name(), p.pipeline())).collect();
        return plain(
            StatusCode::BAD_REQUEST,
            format!("give ?component=<kind>s/<id>&pipeline=<id>[&rate=N]; tap points: {}", known.join(", ")),
        );
    };
    let rate = match q.rate.as_deref().map(str::parse::<f64>) {
        None => DEFAULT_RATE,
        Some(Ok(r)) if r > 0.0 && r <= MAX_TAP_RATE => r,
        Some(_) => {
            return plain(
                StatusCode::BAD_REQUEST,
                format!("rate must be a number of batches per second in (0, {MAX_TAP_RATE}]"),
            )
        }
    };
    let point = match view.taps.find(&component, q.pipeline.as_deref()) {
        Ok(p) => p,
        Err(e) => return plain(StatusCode::NOT_FOUND, e.to_string()),
    };
    if point.pipeline().signal() == Signal::Profiles {
        return plain(
            StatusCode::BAD_REQUEST,
            "profiles pipelines cannot be tapped: there is no OTLP/JSON encoding for profiles yet".into(),
        );
    }
    let name = format!("{} in {}", point.name(), point.pipeline());
    tracing::info!(tap = %name, rate, "Tap attached.");
    let rx = point.attach(rate);
    let stop = s.stop.clone();
    let stream = futures::stream::unfold((rx, stop), |(mut rx, stop)| async move {
        let chunk = tokio::select! {
            _ = stop.cancelled() => return None,
            d = rx.recv() => encode(&d?),
            _ = tokio::time::sleep(KEEPALIVE) => Bytes::from_static(b"\n"),
        };
        Some((Ok::<Bytes, Infallible>(chunk), (rx, stop)))
    });
    let mut resp = Response::new(Body::from_stream(stream));
    let h = resp.headers_mut();
    h.insert(header::CONTENT_TYPE, header::HeaderValue::from_static("application/x-ndjson"));
    h.insert(header::CACHE_CONTROL, header::HeaderValue::from_static("no-store"));
    if let Ok(v) = header::HeaderValue::from_str(&name) {
        h.insert("x-switchyard-tap", v);
    }
    h.insert("x-switchyard-tap-signal", header::HeaderValue::from_static(point.pipeline().signal().as_str()));
    resp
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_query_is_url_decoded() {
        let q = parse_query(Some("component=exporters%2Fotlp%2Fsink&pipeline=traces&rate=2.5"));
        assert_eq!(q.component.as_deref(), Some("exporters/otlp/sink"));
        assert_eq!(q.pipeline.as_deref(), Some("traces"));
        assert_eq!(q.rate.as_deref(), Some("2.5"));
        assert!(parse_query(None).component.is_none());
    }
}
