//! Configuration reload on SIGHUP (docs/reload.md).
//!
//! The files are read, decoded, validated and built into the next graph while the running
//! graph carries on; any error there leaves it untouched. Only a graph that built is
//! swapped in: the old graph's receivers stop (their listening sockets stay open, held by
//! `confignet::listener`, so clients queue rather than being refused), its processors
//! flush, the exporters and extensions the new graph does not share drain and stop, and
//! then the new graph starts what is new. Unchanged exporters (queues, persistent queue
//! files, connections) and unchanged extensions keep running throughout. If the new graph
//! fails to start, the last good configuration is built and started again the same way.

use std::time::{Duration, Instant};

use anyhow::{anyhow, Result};
use switchyard_core::config::{Config, ConfigErrors};
use switchyard_core::confignet::listener;
use switchyard_core::graph::Graph;
use switchyard_core::telemetry::{names, Counter, Telemetry};

use super::run::{load_config, DRAIN_DEADLINE};
use crate::cli::ConfigArgs;

/// Holds what outlives one graph: the arguments to re-read, the telemetry every graph
/// counts into, and the last configuration that ran.
pub struct Reloader<'a> {
    args: &'a ConfigArgs,
    telemetry: Telemetry,
    /// `service::telemetry` as started: logging and the self-metrics endpoint are set up
    /// once per process, so a change to them needs a restart.
    telemetry_config: String,
    good: Config,
    success: Counter,
    failure: Counter,
}

impl<'a> Reloader<'a> {
    /// A reloader for the gateway started from `args` with `running` (its last good config).
    pub fn new(args: &'a ConfigArgs, telemetry: &Telemetry, running: Config) -> Self {
        let m = &telemetry.metrics;
        let help = "Configuration reloads (SIGHUP), by result.";
        Reloader {
            args,
            telemetry: telemetry.clone(),
            telemetry_config: format!("{:?}", running.service.telemetry),
            good: running,
            success: m.counter(names::CONFIG_RELOAD, help, &[("result", "success")]),
            failure: m.counter(names::CONFIG_RELOAD, help, &[("result", "failure")]),
        }
    }

    /// Replaces `graph` by the graph of the configuration files as they are now. Returns
    /// the graph that runs afterwards: the new one, or `graph` itself when the new config
    /// is invalid, or one rebuilt from the last good config when the new one failed to
    /// start. An error means nothing runs any more (not even the last good config).
    pub async fn reload(&mut self, graph: Graph) -> Result<Graph> {
        let began = Instant::now();
        tracing::info!("Received SIGHUP: reloading the configuration.");
        let cfg = match load_config(self.args) {
            Ok(cfg) => cfg,
            Err(errors) => return Ok(self.invalid(graph, &errors)),
        };
        for w in &cfg.warnings {
            tracing::warn!("{w}");
        }
        let next = match graph.build_next(&cfg, &self.telemetry) {
            Ok(next) => next,
            Err(errors) => return Ok(self.invalid(graph, &errors)),
        };
        if format!("{:?}", cfg.service.telemetry) != self.telemetry_config {
            tracing::warn!("service::telemetry changed: logging and the self-metrics endpoint keep their settings from the start; restart the gateway to apply the change.");
        }
        let changes = graph.changes(&next);
        let paused = Instant::now();
        graph.retire(&next, DRAIN_DEADLINE).await;
        listener::begin_generation();
        match next.start().await {
            Ok(()) => {
                let gap = paused.elapsed();
                release_ports();
                self.success.add(1);
                tracing::info!(
                    kept = changes.kept.len(),
                    restarted_or_new = changes.started.len(),
                    stopped = changes.stopped.len(),
                    receivers_paused_ms = tenths_of_ms(gap),
                    took_ms = millis(began.elapsed()),
                    "Configuration reloaded."
                );
                tracing::debug!(kept = ?changes.kept, started = ?changes.started, stopped = ?changes.stopped, "Reload changes.");
                self.good = cfg;
                Ok(next)
            }
            Err(e) => {
                self.failure.add(1);
                tracing::error!(error = %e, "The new configuration failed to start; going back to the last good one.");
                self.restore(next).await
            }
        }
    }

    /// Logs every error of a configuration that cannot be built and keeps `graph`.
    fn invalid(&self, graph: Graph, errors: &ConfigErrors) -> Graph {
        for e in &errors.0 {
            tracing::error!("{e}");
        }
        self.failure.add(1);
        tracing::error!(
            errors = errors.0.len(),
            "Configuration reload failed; still running the last good configuration."
        );
        graph
    }

    /// Builds and starts the last good configuration in place of `failed` (a graph whose
    /// start failed: what it started is stopped, what it shares with the old graph runs).
    async fn restore(&self, failed: Graph) -> Result<Graph> {
        let back = failed
            .build_next(&self.good, &self.telemetry)
            .map_err(|errors| anyhow!("the last good configuration no longer builds ({errors}); nothing is running"))?;
        failed.retire(&back, DRAIN_DEADLINE).await;
        listener::begin_generation();
        if let Err(e) = back.start().await {
            back.shutdown(Duration::from_secs(5)).await;
            return Err(anyhow!("the last good configuration failed to start again: {e}"));
        }
        release_ports();
        tracing::warn!("Running the last good configuration again.");
        Ok(back)
    }
}

/// Closes the listening sockets the running configuration no longer binds.
fn release_ports() {
    for addr in listener::release_unclaimed() {
        tracing::info!(%addr, "Closed a port the new configuration no longer uses.");
    }
}

/// Milliseconds to one decimal: a swap often takes less than one.
fn tenths_of_ms(d: Duration) -> f64 {
    (d.as_secs_f64() * 10_000.0).round() / 10.0
}

fn millis(d: Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX)
}
