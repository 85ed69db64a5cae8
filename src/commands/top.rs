//! `switchyard top`: a terminal view of a running gateway, refreshed every second: items per
//! second in and out, refused, failed and dropped per receiver, processor and exporter, with
//! totals and queue fill. It reads the self-metrics endpoint (`service.telemetry.metrics`,
//! the Collector's `otelcol_*` series) and computes the figures with the same rules as the
//! zpages status page (`switchyard_core::telemetry::counts`).
//!
//! Drawn with plain ANSI escapes on the alternate screen; the terminal is put in raw mode
//! (crossterm) so `q` or Ctrl-C quit without Enter. Without a terminal (output piped), each
//! refresh is printed as a plain table after the previous one.

use std::io::{IsTerminal, Read, Write};
use std::process::ExitCode;
use std::time::{Duration, Instant, SystemTime};

use anyhow::{bail, Context, Result};
use switchyard_components::receivers::prometheus::parse_exposition;
use switchyard_core::telemetry::counts::{components_in, counts, queue, Counts, Kind};
use switchyard_core::telemetry::Sample;

use crate::cli::TopArgs;

/// Leaves raw mode and the alternate screen however `top` ends.
struct Screen {
    tty: bool,
}

impl Screen {
    fn open(tty: bool) -> Result<Screen> {
        if tty {
            crossterm::terminal::enable_raw_mode().context("cannot put the terminal in raw mode")?;
            // Alternate screen, cursor hidden.
            let mut out = std::io::stdout();
            out.write_all(b"\x1b[?1049h\x1b[?25l")?;
            out.flush()?;
        }
        Ok(Screen { tty })
    }

    fn draw(&self, lines: &[String]) -> Result<()> {
        let mut out = std::io::stdout();
        if self.tty {
            let width = crossterm::terminal::size().map_or(usize::MAX, |(w, _)| usize::from(w));
            let mut buf = String::from("\x1b[H\x1b[2J");
            for l in lines {
                buf.extend(l.chars().take(width));
                buf.push_str("\r\n"); // raw mode: no implicit carriage return
            }
            out.write_all(buf.as_bytes())?;
        } else {
            out.write_all(format!("{}\n\n", lines.join("\n")).as_bytes())?;
        }
        out.flush()?;
        Ok(())
    }
}

impl Drop for Screen {
    fn drop(&mut self) {
        if self.tty {
            let mut out = std::io::stdout();
            let _ = out.write_all(b"\x1b[?25h\x1b[?1049l");
            let _ = out.flush();
            let _ = crossterm::terminal::disable_raw_mode();
        }
    }
}

/// Reads keys on a thread of its own (stdin reads block); sends when `q` or Ctrl-C is typed.
fn watch_keys() -> tokio::sync::mpsc::Receiver<()> {
    let (tx, rx) = tokio::sync::mpsc::channel(1);
    std::thread::spawn(move || {
        let mut byte = [0u8; 1];
        let mut stdin = std::io::stdin();
        while let Ok(1) = stdin.read(&mut byte) {
            if matches!(byte[0], b'q' | b'Q' | 0x03) {
                let _ = tx.blocking_send(());
                return;
            }
        }
    });
    rx
}

/// The scraped series, counters under their registry names (without `_total`).
async fn scrape(client: &reqwest::Client, url: &str) -> Result<Vec<Sample>> {
    let resp = client.get(url).send().await.with_context(|| format!("cannot reach {url}"))?;
    if !resp.status().is_success() {
        bail!("{url}: HTTP {}", resp.status());
    }
    let text = resp.text().await.with_context(|| format!("{url}: the body did not arrive"))?;
    let exposition = parse_exposition(&text, false).with_context(|| format!("{url}: not Prometheus text"))?;
    Ok(exposition
        .samples
        .into_iter()
        .map(|s| Sample {
            name: s.name.strip_suffix("_total").map_or_else(|| s.name.clone(), str::to_string),
            labels: s.labels,
            value: s.value,
        })
        .collect())
}

fn kind_name(k: Kind) -> &'static str {
    match k {
        Kind::Receiver => "receiver",
        Kind::Processor => "processor",
        Kind::Exporter => "exporter",
        Kind::Connector => "connector",
    }
}

fn cell(v: Option<f64>) -> String {
    match v {
        None => "-".into(),
        Some(x) if x >= 1e6 => format!("{:.1}M", x / 1e6),
        Some(x) if x.fract() == 0.0 => format!("{x:.0}"),
        Some(x) => format!("{x:.1}"),
    }
}

/// The screen for one refresh: `before` is the previous scrape and its time, if any.
fn render(url: &str, now: &[Sample], before: Option<&(Instant, Vec<Sample>)>, at: Instant) -> Vec<String> {
    let clock = humantime::format_rfc3339_seconds(SystemTime::now()).to_string();
    let mut lines = vec![format!("switchyard top  {url}  {clock}  (q quits)"), String::new()];
    let comps = components_in(now);
    let w = comps.iter().map(|(_, id)| id.len()).max().unwrap_or(0).max(9);
    lines.push(format!(
        "{:<w$}  {:<9}  {:>9}  {:>9}  {:>9}  {:>9}  {:>9}  {:>10}  {:>10}  {:>11}",
        "COMPONENT", "KIND", "IN/s", "OUT/s", "REFUSED/s", "FAILED/s", "DROPPED/s", "IN", "OUT", "QUEUE"
    ));
    for (k, id) in &comps {
        let total = counts(now, *k, id);
        let rate = match before {
            Some((t, prev)) => Counts::per_second(total, counts(prev, *k, id), at.duration_since(*t).as_secs_f64()),
            None => Counts::default(),
        };
        let q = match (k, queue(now, id)) {
            (Kind::Exporter, Some((size, cap))) => format!("{size:.0}/{cap:.0}"),
            _ => "-".into(),
        };
        lines.push(format!(
            "{:<w$}  {:<9}  {:>9}  {:>9}  {:>9}  {:>9}  {:>9}  {:>10}  {:>10}  {:>11}",
            id,
            kind_name(*k),
            cell(rate.r#in),
            cell(rate.out),
            cell(rate.refused),
            cell(rate.failed),
            cell(rate.dropped),
            cell(total.r#in),
            cell(total.out),
            q
        ));
    }
    if comps.is_empty() {
        lines.push("(no receiver, processor or exporter series yet)".into());
    }
    lines
}

/// Runs until `q`, Ctrl-C, or `--iterations` refreshes.
pub async fn top(args: &TopArgs) -> Result<ExitCode> {
    let interval =
        humantime::parse_duration(&args.interval).with_context(|| format!("--interval {}", args.interval))?;
    if interval.is_zero() {
        bail!("--interval must be above 0");
    }
    let client = reqwest::Client::builder().timeout(Duration::from_secs(5)).build()?;
    let tty = std::io::stdin().is_terminal() && std::io::stdout().is_terminal();
    let screen = Screen::open(tty)?;
    let mut keys = if tty { Some(watch_keys()) } else { None };
    let mut before: Option<(Instant, Vec<Sample>)> = None;
    let mut done: u64 = 0;
    loop {
        let at = Instant::now();
        match scrape(&client, &args.metrics).await {
            Ok(now) => {
                screen.draw(&render(&args.metrics, &now, before.as_ref(), at))?;
                before = Some((at, now));
            }
            Err(e) => screen.draw(&[format!("switchyard top  {}", args.metrics), String::new(), format!("{e:#}")])?,
        }
        done += 1;
        if args.iterations.is_some_and(|n| done >= n) {
            break;
        }
        let key = async {
            match keys.as_mut() {
                Some(k) => {
                    k.recv().await;
                }
                None => std::future::pending::<()>().await,
            }
        };
        tokio::select! {
            _ = tokio::time::sleep_until((at + interval).into()) => {}
            _ = key => break,
            _ = tokio::signal::ctrl_c() => break,
        }
    }
    drop(screen);
    Ok(ExitCode::SUCCESS)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(name: &str, labels: &[(&str, &str)], value: f64) -> Sample {
        Sample {
            name: name.into(),
            labels: labels.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect(),
            value,
        }
    }

    #[test]
    fn rates_per_component_from_two_scrapes() {
        let t0 = Instant::now();
        let before = vec![
            s("otelcol_receiver_accepted_spans", &[("receiver", "otlp"), ("transport", "grpc")], 100.0),
            s("otelcol_exporter_sent_spans", &[("exporter", "otlp/sink")], 50.0),
        ];
        let now = vec![
            s("otelcol_receiver_accepted_spans", &[("receiver", "otlp"), ("transport", "grpc")], 300.0),
            s("otelcol_exporter_sent_spans", &[("exporter", "otlp/sink")], 250.0),
            s("otelcol_exporter_send_failed_spans", &[("exporter", "otlp/sink")], 4.0),
            s("otelcol_exporter_queue_size", &[("exporter", "otlp/sink"), ("data_type", "traces")], 3.0),
            s("otelcol_exporter_queue_capacity", &[("exporter", "otlp/sink"), ("data_type", "traces")], 1000.0),
        ];
        let screen = render("u", &now, Some(&(t0, before)), t0 + Duration::from_secs(2));
        let row = |id: &str| screen.iter().find(|l| l.starts_with(id)).cloned().unwrap_or_default();
        let otlp = row("otlp ");
        let otlp: Vec<&str> = otlp.split_whitespace().collect();
        assert_eq!(otlp[..4], ["otlp", "receiver", "100", "-"], "{screen:?}");
        let sink = row("otlp/sink");
        let cols: Vec<&str> = sink.split_whitespace().collect();
        assert_eq!(cols, ["otlp/sink", "exporter", "-", "100", "0", "2", "0", "-", "250", "3/1000"], "{screen:?}");
    }
}
