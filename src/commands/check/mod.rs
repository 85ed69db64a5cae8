//! `switchyard check --config FILE`: is the running gateway's fan-out delivering? It sends a
//! canary (a span, a gauge point and a log record tagged with a unique id) to the OTLP
//! receivers of the configuration, then confirms per exporter that the canary arrived: read
//! back from the backend where it can be queried, by the exporter's sent / failed counters
//! where it cannot. The configuration is loaded by the same code as `run`, so the pipelines
//! checked are the ones the gateway runs.
//!
//! Output: a table on stdout (exporter, signal, how it was judged, result, latency, error);
//! exit 0 when every row is ok or skipped, 1 when one failed, 2 for a configuration or usage
//! error.

mod canary;
mod plan;
mod probe;

use std::io::Write;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use switchyard_components::otlp_signal::OtlpSignal;
use switchyard_pdata::Signal;

use self::canary::Canary;
use self::plan::{Plan, Probe, Receiver, Row};
use super::gen::{otlp_sender, OtlpTarget};
use super::run::load_config;
use crate::cli::{CheckArgs, OtlpClientArgs};

/// One HTTP request to a backend or to the self-metrics may take this long.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(5);
/// Sending the canary to one receiver may take this long.
const SEND_TIMEOUT: Duration = Duration::from_secs(10);
/// Pause between two looks.
const POLL: Duration = Duration::from_millis(250);

/// Runs the check; see the module docs for the exit codes.
pub async fn check(args: &CheckArgs) -> Result<ExitCode> {
    let usage_error = |msg: String| -> Result<ExitCode> {
        eprintln!("error: {msg}");
        Ok(ExitCode::from(2))
    };
    let timeout = match humantime::parse_duration(&args.timeout) {
        Ok(t) => t,
        Err(e) => return usage_error(format!("--timeout {}: {e}", args.timeout)),
    };
    let cfg = match load_config(&args.config) {
        Ok(cfg) => cfg,
        Err(errors) => {
            eprintln!("{errors}");
            eprintln!("configuration is invalid: {} error(s)", errors.0.len());
            return Ok(ExitCode::from(2));
        }
    };
    let plan = match Plan::new(&cfg, args) {
        Ok(p) => p,
        Err(e) => return usage_error(format!("{e:#}")),
    };
    if plan.rows.iter().all(|r| matches!(r.probe, Probe::Skipped(_))) {
        return usage_error(
            "nothing to check: no traces, metrics or logs pipeline with an exporter has an otlp receiver".into(),
        );
    }
    let http = reqwest::Client::builder().timeout(REQUEST_TIMEOUT).build().context("cannot build an HTTP client")?;
    let canary = Canary::new();
    let before = match &plan.metrics_url {
        Some(url) => probe::scrape(&http, url).await,
        None => Err("the gateway serves no self-metrics (service.telemetry.metrics.level is none)".to_string()),
    };
    let mut sends = Vec::new();
    for r in &plan.receivers {
        for &signal in &r.signals {
            let result = send(r, signal, &canary, &args.client).await;
            match &result {
                Ok(()) => eprintln!("canary {} ({signal}) accepted by {} at {}", canary.id, r.id, r.endpoint),
                Err(e) => eprintln!("canary {} ({signal}) refused by {} at {}: {e}", canary.id, r.id, r.endpoint),
            }
            sends.push(Send { receiver: r.id.clone(), signal, result });
        }
    }
    let watch_ctx = Ctx { http, plan: &plan, canary: &canary, before, sends, timeout, sent_at: Instant::now() };
    let outcomes = futures::future::join_all(plan.rows.iter().map(|row| watch(&watch_ctx, row))).await;
    let table = render(&plan.rows, &outcomes);
    std::io::stdout().write_all(table.as_bytes())?;
    let failed = outcomes.iter().filter(|o| o.result == Verdict::Failed).count();
    let ok = outcomes.iter().filter(|o| o.result == Verdict::Ok).count();
    eprintln!("canary {}: {ok} ok, {failed} failed, {} skipped", canary.id, outcomes.len() - ok - failed);
    Ok(if failed == 0 { ExitCode::SUCCESS } else { ExitCode::from(1) })
}

/// What sending the canary of one signal to one receiver gave.
struct Send {
    receiver: String,
    signal: Signal,
    result: Result<(), String>,
}

async fn send(r: &Receiver, signal: Signal, canary: &Canary, client: &OtlpClientArgs) -> Result<(), String> {
    let target = OtlpTarget {
        protocol: r.protocol,
        endpoint: r.endpoint.clone(),
        signal_url: r.signal_urls.get(signal.as_str()).cloned(),
        json: false,
        client,
    };
    let attempt = async {
        match signal {
            Signal::Traces => send_one(&target, canary.traces()).await,
            Signal::Metrics => send_one(&target, canary.metrics()).await,
            Signal::Logs => send_one(&target, canary.logs()).await,
            Signal::Profiles => Err("profiles are not checked".to_string()),
        }
    };
    tokio::time::timeout(SEND_TIMEOUT, attempt)
        .await
        .unwrap_or_else(|_| Err(format!("no answer within {}", humantime::format_duration(SEND_TIMEOUT))))
}

async fn send_one<S: OtlpSignal>(target: &OtlpTarget<'_>, data: S) -> Result<(), String> {
    let sender = otlp_sender::<S>(target).map_err(|e| format!("{e:#}"))?;
    sender.send(&Default::default(), &data).await.map_err(|e| e.to_string())
}

/// What every row's watcher shares.
struct Ctx<'a> {
    http: reqwest::Client,
    plan: &'a Plan,
    canary: &'a Canary,
    /// The self-metrics text before the canary was sent.
    before: Result<String, String>,
    sends: Vec<Send>,
    timeout: Duration,
    sent_at: Instant,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Verdict {
    Ok,
    Failed,
    Skipped,
}

/// A row's result.
struct Outcome {
    result: Verdict,
    /// Send to confirmation.
    latency: Option<Duration>,
    error: String,
}

impl Outcome {
    fn failed(error: String) -> Outcome {
        Outcome { result: Verdict::Failed, latency: None, error }
    }
}

/// Polls until the row's canary is confirmed, the exporter reports a failure, or the timeout.
async fn watch(ctx: &Ctx<'_>, row: &Row) -> Outcome {
    if let Probe::Skipped(why) = &row.probe {
        return Outcome { result: Verdict::Skipped, latency: None, error: why.clone() };
    }
    let mine = |s: &&Send| s.signal == row.signal && row.receivers.contains(&s.receiver);
    if !ctx.sends.iter().filter(mine).any(|s| s.result.is_ok()) {
        let why = ctx
            .sends
            .iter()
            .filter(mine)
            .find_map(|s| s.result.as_ref().err().map(|e| format!("receiver {}: {e}", s.receiver)))
            .unwrap_or_else(|| "no receiver took it".into());
        return Outcome::failed(format!("the canary was not accepted: {why}"));
    }
    let suffix = ctx.plan.counter_suffix;
    let before = ctx.before.clone().map(|t| probe::counts(&t, &row.exporter, row.signal, suffix));
    let query_url = match &row.probe {
        Probe::Query(q) => probe::query_url(q, &ctx.canary.id),
        _ => String::new(),
    };
    let deadline = ctx.sent_at + ctx.timeout;
    loop {
        let now = match &ctx.plan.metrics_url {
            Some(url) => {
                probe::scrape(&ctx.http, url).await.map(|t| probe::counts(&t, &row.exporter, row.signal, suffix))
            }
            None => Err("no self-metrics".to_string()),
        };
        let last = match &row.probe {
            Probe::Query(q) => match probe::found(&ctx.http, q, &query_url).await {
                Ok(true) => return ok(ctx),
                Ok(false) => format!("not found by {} at {}", q.kind.name(), q.base),
                Err(e) => format!("query {}: {e}", q.base),
            },
            _ => match (&before, &now) {
                (Ok(b), Ok(c)) if c.sent > b.sent => return ok(ctx),
                (Ok(_), Ok(_)) => "the exporter has sent nothing since the canary".to_string(),
                (Err(e), _) | (_, Err(e)) => format!("cannot judge by counters: {e}"),
            },
        };
        let moved = match (&before, &now) {
            (Ok(b), Ok(c)) => Some(c.describe_since(b)),
            _ => None,
        };
        // The exporter gave data up (dropped or refused): waiting longer will not bring it.
        if let (Ok(b), Ok(c)) = (&before, &now) {
            if c.failed > b.failed || c.enqueue_failed > b.enqueue_failed {
                return Outcome::failed(format!("{last}; the exporter failed data: {}", moved.unwrap_or_default()));
            }
        }
        if Instant::now() >= deadline {
            let counters = moved.map(|m| format!("; exporter {m}")).unwrap_or_default();
            return Outcome::failed(format!("{last} within {}{counters}", humantime::format_duration(ctx.timeout)));
        }
        tokio::time::sleep(POLL.min(deadline.saturating_duration_since(Instant::now()))).await;
    }
}

fn ok(ctx: &Ctx<'_>) -> Outcome {
    Outcome { result: Verdict::Ok, latency: Some(ctx.sent_at.elapsed()), error: String::new() }
}

/// The table: aligned columns, the error last (it may be long).
fn render(rows: &[Row], outcomes: &[Outcome]) -> String {
    let mut lines = vec![["EXPORTER".to_string(), "SIGNAL".into(), "VIA".into(), "RESULT".into(), "LATENCY".into()]];
    let mut errors = vec!["ERROR".to_string()];
    for (row, o) in rows.iter().zip(outcomes) {
        let via = match &row.probe {
            Probe::Query(q) => q.kind.name(),
            Probe::Counters => "counters",
            Probe::Skipped(_) => "-",
        };
        let result = match o.result {
            Verdict::Ok => "ok",
            Verdict::Failed => "failed",
            Verdict::Skipped => "skipped",
        };
        let latency = o.latency.map(|d| format!("{}ms", d.as_millis())).unwrap_or_else(|| "-".into());
        lines.push([row.exporter.clone(), row.signal.to_string(), via.into(), result.into(), latency]);
        errors.push(if o.error.is_empty() { "-".into() } else { o.error.clone() });
    }
    let mut widths = [0usize; 5];
    for l in &lines {
        for (w, cell) in widths.iter_mut().zip(l) {
            *w = (*w).max(cell.len());
        }
    }
    let mut out = String::new();
    for (l, e) in lines.iter().zip(errors) {
        for (w, cell) in widths.iter().zip(l) {
            out.push_str(&format!("{cell:<w$}  "));
        }
        out.push_str(&e);
        out.push('\n');
    }
    out
}
