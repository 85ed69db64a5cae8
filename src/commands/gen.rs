//! `switchyard gen`: a traffic generator (what `telemetrygen` is for the Collector). It
//! sends generated spans, gauge points or log records over OTLP, one attempt per request
//! (no retries, so every refusal is seen), and reports what was sent, accepted and refused.

use std::io::Write;
use std::process::ExitCode;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use anyhow::{bail, Context, Result};
use rand::Rng;
use switchyard_components::exporters::otlp::OtlpExporterConfig;
use switchyard_components::exporters::otlphttp::{BodyEncoding, OtlpHttpExporterConfig};
use switchyard_components::exporters::{otlp, otlphttp};
use switchyard_components::otlp_signal::OtlpSignal;
use switchyard_core::confignet::tls::ClientTlsConfig;
use switchyard_core::exporterhelper::Sender;
use switchyard_pdata::proto::collector::logs::v1::ExportLogsServiceRequest;
use switchyard_pdata::proto::collector::metrics::v1::ExportMetricsServiceRequest;
use switchyard_pdata::proto::collector::trace::v1::ExportTraceServiceRequest;
use switchyard_pdata::proto::common::v1::{any_value, AnyValue, InstrumentationScope, KeyValue};
use switchyard_pdata::proto::logs::v1::{LogRecord, ResourceLogs, ScopeLogs};
use switchyard_pdata::proto::metrics::v1::{
    metric, number_data_point, Gauge, Metric, NumberDataPoint, ResourceMetrics, ScopeMetrics,
};
use switchyard_pdata::proto::resource::v1::Resource;
use switchyard_pdata::proto::trace::v1::{span, ResourceSpans, ScopeSpans, Span, Status};
use switchyard_pdata::{Logs, Metrics, Traces};

use crate::cli::{GenArgs, GenProtocol, GenSignal, OtlpClientArgs};

/// Runs the generator; exit 1 if any request was refused or nothing could be sent.
pub async fn gen(args: GenArgs) -> Result<ExitCode> {
    let plan = Plan::from_args(&args)?;
    let report = match args.signal {
        GenSignal::Traces => drive::<Traces>(&args, &plan, traces).await?,
        GenSignal::Metrics => drive::<Metrics>(&args, &plan, metrics).await?,
        GenSignal::Logs => drive::<Logs>(&args, &plan, logs).await?,
    };
    let ok = report.refused_items == 0 && report.accepted_items > 0;
    let line = serde_json::json!({
        "signal": format!("{:?}", args.signal).to_lowercase(),
        "requests": report.requests,
        "sent_items": report.sent_items,
        "accepted_items": report.accepted_items,
        "refused_items": report.refused_items,
        "elapsed_s": report.elapsed.as_secs_f64(),
        "items_per_s": report.accepted_items as f64 / report.elapsed.as_secs_f64().max(1e-9),
        "first_error": report.first_error,
    });
    std::io::stdout().write_all(format!("{line}\n").as_bytes())?;
    Ok(if ok { ExitCode::SUCCESS } else { ExitCode::from(1) })
}

struct Plan {
    count: Option<u64>,
    duration: Option<Duration>,
    per_worker_interval: Option<Duration>,
    attributes: Vec<KeyValue>,
    service: String,
    batch: usize,
}

impl Plan {
    fn from_args(args: &GenArgs) -> Result<Plan> {
        let duration = args.duration.as_deref().map(humantime::parse_duration).transpose().context("--duration")?;
        let count = match (args.count, duration) {
            (Some(c), _) => Some(c),
            (None, Some(_)) => None,
            (None, None) => Some(100),
        };
        let rate: f64 =
            args.rate.trim_end_matches("/s").parse().context("--rate must be a number of items per second")?;
        if args.batch_size == 0 || args.workers == 0 {
            bail!("--batch-size and --workers must be positive");
        }
        let per_worker_interval =
            (rate > 0.0).then(|| Duration::from_secs_f64(args.batch_size as f64 * args.workers as f64 / rate));
        let attributes = pairs(&args.attributes)?.into_iter().map(|(k, v)| kv(&k, &v)).collect();
        Ok(Plan {
            count,
            duration,
            per_worker_interval,
            attributes,
            service: args.service.clone(),
            batch: args.batch_size,
        })
    }
}

fn pairs(s: &str) -> Result<Vec<(String, String)>> {
    s.split(',')
        .filter(|p| !p.trim().is_empty())
        .map(|p| {
            p.split_once('=')
                .map(|(k, v)| (k.trim().to_string(), v.trim().to_string()))
                .with_context(|| format!("\"{p}\" must be key=value"))
        })
        .collect()
}

/// A string attribute.
pub(crate) fn kv(k: &str, v: &str) -> KeyValue {
    KeyValue {
        key: k.into(),
        value: Some(AnyValue { value: Some(any_value::Value::StringValue(v.into())) }),
        ..Default::default()
    }
}

#[derive(Default)]
struct Report {
    requests: u64,
    sent_items: u64,
    accepted_items: u64,
    refused_items: u64,
    elapsed: Duration,
    first_error: Option<String>,
}

/// Where and how an OTLP client sends: shared by `gen` and `check`, so both speak to the
/// gateway through the exporters' own senders (one attempt each, no queue, no retry).
pub(crate) struct OtlpTarget<'a> {
    /// gRPC or HTTP.
    pub protocol: GenProtocol,
    /// `http(s)://host:port`; for HTTP the signal's `/v1/...` path is appended.
    pub endpoint: String,
    /// HTTP only: the signal's full URL when the receiver serves another path than `/v1/...`.
    pub signal_url: Option<String>,
    /// HTTP only: OTLP/JSON instead of protobuf.
    pub json: bool,
    /// Headers and TLS.
    pub client: &'a OtlpClientArgs,
}

/// A sender for one signal to `target`; an error names what is wrong with the options.
pub(crate) fn otlp_sender<S: OtlpSignal>(target: &OtlpTarget<'_>) -> Result<Box<dyn Sender<S>>> {
    let c = target.client;
    let headers = pairs(&c.headers)?.into_iter().collect();
    let tls = ClientTlsConfig {
        ca_file: c.tls_ca.clone(),
        cert_file: c.tls_cert.clone(),
        key_file: c.tls_key.clone(),
        server_name_override: c.tls_server_name.clone(),
        insecure_skip_verify: c.tls_insecure_skip_verify,
        ..Default::default()
    };
    let endpoint = target.endpoint.clone();
    let sender = match target.protocol {
        GenProtocol::Grpc => {
            let mut cfg =
                OtlpExporterConfig { endpoint, compression: "none".into(), headers, tls, ..Default::default() };
            cfg.tls.insecure = !cfg.endpoint.starts_with("https://");
            otlp::standalone_sender::<S>(&cfg)
        }
        GenProtocol::Http => {
            let encoding = if target.json { BodyEncoding::Json } else { BodyEncoding::Proto };
            let cfg = OtlpHttpExporterConfig {
                endpoint,
                traces_endpoint: target.signal_url.clone(),
                metrics_endpoint: target.signal_url.clone(),
                logs_endpoint: target.signal_url.clone(),
                compression: "none".into(),
                encoding,
                headers,
                tls,
                ..Default::default()
            };
            otlphttp::standalone_sender::<S>(&cfg)
        }
    };
    sender.map_err(anyhow::Error::msg)
}

fn sender<S: OtlpSignal>(args: &GenArgs) -> Result<Box<dyn Sender<S>>> {
    let endpoint = args.endpoint.clone().unwrap_or_else(|| match args.protocol {
        GenProtocol::Grpc => "http://localhost:4317".into(),
        GenProtocol::Http => "http://localhost:4318".into(),
    });
    otlp_sender(&OtlpTarget {
        protocol: args.protocol,
        endpoint,
        signal_url: None,
        json: args.json,
        client: &args.client,
    })
}

async fn drive<S: OtlpSignal>(args: &GenArgs, plan: &Plan, make: fn(&Plan, u64, usize) -> S) -> Result<Report> {
    let sender: Arc<dyn Sender<S>> = Arc::from(sender::<S>(args)?);
    let next = Arc::new(AtomicU64::new(0));
    let names = Arc::new(AtomicU64::new(0));
    let accepted_file = match &args.accepted_file {
        Some(p) => Some(Arc::new(Mutex::new(
            std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(p)
                .with_context(|| format!("{}", p.display()))?,
        ))),
        None => None,
    };
    let report = Arc::new(Mutex::new(Report::default()));
    let start = Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..args.workers {
        let (sender, next, report) = (sender.clone(), next.clone(), report.clone());
        let (names, accepted_file) = (names.clone(), accepted_file.clone());
        let plan = Plan { attributes: plan.attributes.clone(), service: plan.service.clone(), ..*plan };
        tasks.push(tokio::spawn(async move {
            let mut ticker = plan.per_worker_interval.map(tokio::time::interval);
            loop {
                if plan.duration.is_some_and(|d| start.elapsed() >= d) {
                    break;
                }
                let n = match plan.count {
                    Some(total) => {
                        let first = next.fetch_add(plan.batch as u64, Ordering::Relaxed);
                        if first >= total {
                            break;
                        }
                        (total - first).min(plan.batch as u64) as usize
                    }
                    None => plan.batch,
                };
                if let Some(t) = ticker.as_mut() {
                    t.tick().await;
                }
                let seq = names.fetch_add(n as u64, Ordering::Relaxed);
                let data = make(&plan, seq, n);
                let result = sender.send(&Default::default(), &data).await;
                let mut r = report.lock().unwrap_or_else(PoisonError::into_inner);
                r.requests += 1;
                r.sent_items += n as u64;
                match result {
                    Ok(()) => {
                        r.accepted_items += n as u64;
                        if let Some(f) = &accepted_file {
                            let mut f = f.lock().unwrap_or_else(PoisonError::into_inner);
                            let _ = writeln!(f, "{seq} {n}");
                        }
                    }
                    Err(e) => {
                        r.refused_items += n as u64;
                        r.first_error.get_or_insert_with(|| e.to_string());
                    }
                }
            }
        }));
    }
    for t in tasks {
        t.await.context("generator worker panicked")?;
    }
    let mut r = std::mem::take(&mut *report.lock().unwrap_or_else(PoisonError::into_inner));
    r.elapsed = start.elapsed();
    Ok(r)
}

impl Clone for Plan {
    fn clone(&self) -> Self {
        Plan { attributes: self.attributes.clone(), service: self.service.clone(), ..*self }
    }
}

/// Now, in Unix nanoseconds (0 if the clock is before 1970).
pub(crate) fn now_nanos() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_nanos() as u64).unwrap_or(0)
}

fn resource(plan: &Plan) -> Option<Resource> {
    Some(Resource { attributes: vec![kv("service.name", &plan.service)], ..Default::default() })
}

fn scope() -> Option<InstrumentationScope> {
    Some(InstrumentationScope {
        name: "switchyard-gen".into(),
        version: env!("CARGO_PKG_VERSION").into(),
        ..Default::default()
    })
}

fn traces(plan: &Plan, seq: u64, n: usize) -> Traces {
    let mut rng = rand::rng();
    let trace_id: [u8; 16] = rng.random();
    let now = now_nanos();
    let spans = (0..n)
        .map(|i| Span {
            trace_id: trace_id.to_vec(),
            span_id: rng.random::<[u8; 8]>().to_vec(),
            name: format!("gen-span-{}", seq + i as u64),
            kind: span::SpanKind::Server as i32,
            start_time_unix_nano: now - 1_000_000,
            end_time_unix_nano: now,
            attributes: plan.attributes.clone(),
            status: Some(Status { code: 1, ..Default::default() }),
            ..Default::default()
        })
        .collect();
    ExportTraceServiceRequest {
        resource_spans: vec![ResourceSpans {
            resource: resource(plan),
            scope_spans: vec![ScopeSpans { scope: scope(), spans, ..Default::default() }],
            ..Default::default()
        }],
    }
    .into()
}

fn metrics(plan: &Plan, seq: u64, n: usize) -> Metrics {
    let now = now_nanos();
    let points = (0..n)
        .map(|i| {
            let mut attributes = plan.attributes.clone();
            attributes.push(kv("seq", &(seq + i as u64).to_string()));
            NumberDataPoint {
                attributes,
                time_unix_nano: now,
                value: Some(number_data_point::Value::AsDouble((seq + i as u64) as f64)),
                ..Default::default()
            }
        })
        .collect();
    let metric = Metric {
        name: "gen.value".into(),
        unit: "1".into(),
        data: Some(metric::Data::Gauge(Gauge { data_points: points })),
        ..Default::default()
    };
    ExportMetricsServiceRequest {
        resource_metrics: vec![ResourceMetrics {
            resource: resource(plan),
            scope_metrics: vec![ScopeMetrics { scope: scope(), metrics: vec![metric], ..Default::default() }],
            ..Default::default()
        }],
    }
    .into()
}

fn logs(plan: &Plan, seq: u64, n: usize) -> Logs {
    let now = now_nanos();
    let records = (0..n)
        .map(|i| LogRecord {
            time_unix_nano: now,
            observed_time_unix_nano: now,
            severity_number: 9,
            severity_text: "INFO".into(),
            body: Some(AnyValue { value: Some(any_value::Value::StringValue(format!("gen log {}", seq + i as u64))) }),
            attributes: plan.attributes.clone(),
            ..Default::default()
        })
        .collect();
    ExportLogsServiceRequest {
        resource_logs: vec![ResourceLogs {
            resource: resource(plan),
            scope_logs: vec![ScopeLogs { scope: scope(), log_records: records, ..Default::default() }],
            ..Default::default()
        }],
    }
    .into()
}
