//! `switchyard --config ...`: load, build, start, reload on SIGHUP, wait for SIGTERM/SIGINT,
//! drain, exit 0.

use std::fmt::Write as _;
use std::io::IsTerminal;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use anyhow::{Context, Result};
use switchyard_core::config::{load_sources, parse_config, Config, ConfigError, ConfigErrors, LogsConfig, ProcessEnv};
use switchyard_core::confignet::listener;
use switchyard_core::graph::Graph;
use switchyard_core::telemetry::{serve_metrics, RecentEvent, RecentEvents, Telemetry};
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;

use super::reload::Reloader;
use crate::cli::ConfigArgs;

/// The configuration used when no `--config` is given: OTLP in on localhost, debug out.
pub const DEFAULT_CONFIG: &str = "\
receivers:
  otlp:
    protocols:
      grpc:
      http:
exporters:
  debug:
service:
  pipelines:
    traces:
      receivers: [otlp]
      exporters: [debug]
    metrics:
      receivers: [otlp]
      exporters: [debug]
    logs:
      receivers: [otlp]
      exporters: [debug]
";

/// How long shutdown (or a reload's swap) may take to flush batches and queues.
pub(crate) const DRAIN_DEADLINE: Duration = Duration::from_secs(30);

/// Loads, merges, expands and decodes the configuration (embedded default if no file).
pub fn load_config(args: &ConfigArgs) -> Result<Config, ConfigErrors> {
    let mut sources = args.configs.clone();
    if sources.is_empty() {
        sources.push(format!("yaml-default:{DEFAULT_CONFIG}"));
    }
    for set in &args.sets {
        let (key, value) =
            set.split_once('=').ok_or_else(|| ConfigError::general("--set", format!("\"{set}\" must be key=value")))?;
        sources.push(format!("yaml:{}: {value}", key.replace('.', "::")));
    }
    let (root, expansion_warnings) =
        if let Some(default) = sources.first().and_then(|s| s.strip_prefix("yaml-default:")) {
            let mut root = switchyard_core::config::parse("<embedded default config>", default)?;
            let rest = &sources[1..];
            let mut warnings = Vec::new();
            if !rest.is_empty() {
                let (overlay, w) = load_sources(rest, &ProcessEnv)?;
                switchyard_core::config::merge(&mut root, overlay);
                warnings = w;
            }
            (root, warnings)
        } else {
            load_sources(&sources, &ProcessEnv)?
        };
    let registry = switchyard_components::registry().map_err(|e| ConfigError::general("", e.to_string()))?;
    let mut config = parse_config(&root, &registry)?;
    config.warnings.splice(0..0, expansion_warnings);
    Ok(config)
}

/// Feeds WARN and ERROR events into the status page's "recent errors" ring.
struct RecentLayer(Arc<RecentEvents>);

/// The fields of one event: the message, the component it names, the rest as `k=v`.
#[derive(Default)]
struct EventText {
    message: String,
    component: Option<String>,
    fields: String,
}

impl tracing::field::Visit for EventText {
    fn record_str(&mut self, field: &tracing::field::Field, value: &str) {
        self.record(field.name(), value.to_string());
    }
    fn record_debug(&mut self, field: &tracing::field::Field, value: &dyn std::fmt::Debug) {
        self.record(field.name(), format!("{value:?}"));
    }
}

impl EventText {
    fn record(&mut self, name: &str, value: String) {
        match name {
            "message" => self.message = value,
            "receiver" | "processor" | "exporter" | "connector" | "extension" if self.component.is_none() => {
                self.component = Some(format!("{name} {value}"));
            }
            "component" if self.component.is_none() => self.component = Some(value),
            _ => {
                let _ = write!(self.fields, " {name}={value}");
            }
        }
    }
}

impl<S: tracing::Subscriber> tracing_subscriber::Layer<S> for RecentLayer {
    fn on_event(&self, event: &tracing::Event<'_>, _cx: tracing_subscriber::layer::Context<'_, S>) {
        let level = match *event.metadata().level() {
            tracing::Level::ERROR => "ERROR",
            tracing::Level::WARN => "WARN",
            _ => return,
        };
        let mut text = EventText::default();
        event.record(&mut text);
        self.0.push(RecentEvent {
            time: SystemTime::now(),
            level,
            component: text.component,
            message: format!("{}{}", text.message, text.fields),
        });
    }
}

fn init_logging(cfg: &LogsConfig, recent: Arc<RecentEvents>) {
    let filter = tracing_subscriber::EnvFilter::try_from_env("SWITCHYARD_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(cfg.level.as_filter()));
    let to_stdout = cfg.output_paths.iter().any(|p| p == "stdout");
    let ansi = if to_stdout { std::io::stdout().is_terminal() } else { std::io::stderr().is_terminal() };
    let builder = tracing_subscriber::fmt().with_env_filter(filter).with_target(false).with_ansi(ansi);
    let layer = RecentLayer(recent);
    let result = match (cfg.encoding, to_stdout) {
        (switchyard_core::config::LogEncoding::Json, true) => {
            builder.json().with_writer(std::io::stdout).finish().with(layer).try_init()
        }
        (switchyard_core::config::LogEncoding::Json, false) => {
            builder.json().with_writer(std::io::stderr).finish().with(layer).try_init()
        }
        (_, true) => builder.with_writer(std::io::stdout).finish().with(layer).try_init(),
        (_, false) => builder.with_writer(std::io::stderr).finish().with(layer).try_init(),
    };
    if let Err(e) = result {
        eprintln!("warning: logging was already initialised: {e}");
    }
}

/// Runs the gateway until SIGTERM or SIGINT; SIGHUP reloads the configuration.
pub async fn run(args: &ConfigArgs) -> Result<ExitCode> {
    // Before anything else: SIGHUP's default action would end the process.
    let mut signals = Signals::new()?;
    let cfg = match load_config(args) {
        Ok(cfg) => cfg,
        Err(errors) => {
            eprintln!("{errors}");
            eprintln!(
                "configuration is invalid: {} error(s); `switchyard validate --config ...` checks a file",
                errors.0.len()
            );
            return Ok(ExitCode::from(1));
        }
    };
    let telemetry = Telemetry::new();
    init_logging(&cfg.service.telemetry.logs, telemetry.recent.clone());
    if cfg.service.telemetry.logs.processors.is_some() {
        tracing::warn!("service.telemetry.logs.processors is ignored: Switchyard writes its own logs to stderr/stdout only (no OTLP export of its logs yet).");
    }
    if args.configs.is_empty() {
        tracing::info!("No --config given: running the embedded default (OTLP gRPC on localhost:4317 and HTTP on localhost:4318 -> debug exporter).");
    }
    for w in &cfg.warnings {
        tracing::warn!("{w}");
    }
    let graph = match Graph::build(&cfg, &telemetry) {
        Ok(g) => g,
        Err(errors) => {
            eprintln!("{errors}");
            return Ok(ExitCode::from(1));
        }
    };
    let _metrics = match cfg.service.telemetry.metrics.endpoint() {
        Some((addr, suffix)) => {
            let server = serve_metrics(&addr, telemetry.metrics.clone(), suffix)
                .await
                .with_context(|| format!("cannot serve self-metrics on {addr} (service::telemetry::metrics)"))?;
            tracing::info!(endpoint = %server.addr, "Serving self-metrics at /metrics.");
            Some(server)
        }
        None => None,
    };
    // Receivers' ports stay open across reloads (docs/reload.md).
    listener::retain_across_reloads();
    if let Err(e) = graph.start().await {
        tracing::error!(error = %e, "Failed to start the pipelines.");
        graph.shutdown(Duration::from_secs(5)).await;
        return Ok(ExitCode::from(1));
    }
    tracing::info!(pipelines = cfg.service.pipelines.len(), "Everything is ready. Begin running and processing data.");
    let mut reloader = Reloader::new(args, &telemetry, cfg);
    let mut graph = graph;
    loop {
        if signals.next().await == Sig::Stop {
            break;
        }
        // One reload at a time: SIGHUPs that arrive meanwhile coalesce into one more
        // reload afterwards; SIGTERM/SIGINT lets the reload finish, then shuts down.
        let reload = reloader.reload(graph);
        tokio::pin!(reload);
        let mut stop_after = false;
        let outcome = loop {
            tokio::select! {
                r = &mut reload => break r,
                () = signals.stop(), if !stop_after => {
                    tracing::info!("Received shutdown signal during a reload: shutting down once it is done.");
                    stop_after = true;
                }
            }
        };
        graph = match outcome {
            Ok(g) => g,
            Err(e) => {
                tracing::error!(error = %e, "Reload left no configuration running; exiting.");
                return Ok(ExitCode::from(1));
            }
        };
        if stop_after {
            break;
        }
    }
    tracing::info!("Received shutdown signal: draining pipelines.");
    graph.shutdown(DRAIN_DEADLINE).await;
    tracing::info!("Shutdown complete.");
    Ok(ExitCode::SUCCESS)
}

#[derive(Debug, PartialEq, Eq)]
enum Sig {
    Stop,
    Reload,
}

/// SIGTERM and SIGINT (stop) and SIGHUP (reload), installed once for the process.
struct Signals {
    term: tokio::signal::unix::Signal,
    int: tokio::signal::unix::Signal,
    hup: tokio::signal::unix::Signal,
}

impl Signals {
    fn new() -> Result<Signals> {
        use tokio::signal::unix::{signal, SignalKind};
        Ok(Signals {
            term: signal(SignalKind::terminate()).context("cannot listen for SIGTERM")?,
            int: signal(SignalKind::interrupt()).context("cannot listen for SIGINT")?,
            hup: signal(SignalKind::hangup()).context("cannot listen for SIGHUP")?,
        })
    }

    async fn next(&mut self) -> Sig {
        tokio::select! {
            _ = self.term.recv() => Sig::Stop,
            _ = self.int.recv() => Sig::Stop,
            _ = self.hup.recv() => Sig::Reload,
        }
    }

    async fn stop(&mut self) {
        tokio::select! {
            _ = self.term.recv() => {}
            _ = self.int.recv() => {}
        }
    }
}
