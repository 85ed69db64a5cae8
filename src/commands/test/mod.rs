//! `switchyard test FILE...`: config unit tests, as Vector's `vector test` does for its
//! transforms. A test file names a configuration and lists cases; each case pushes given
//! telemetry in where a receiver (or a pipeline, or a processor) takes it, runs the real
//! processors and connectors of that configuration, and checks what the exporters (or the
//! pipelines a connector feeds) received.
//!
//! The graph is the production one ([`Graph::build_substituted`]): only receivers and
//! exporters are replaced, so nothing binds a port or reaches a backend. Each case gets a
//! fresh graph and ends by shutting it down, which flushes stateful processors (batch,
//! tail_sampling, spanmetrics) so their output is checked too.

mod capture;
mod input;
mod plan;
mod spec;
mod verify;

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

use anyhow::Result;
use switchyard_core::component::{ComponentId, PipelineId};
use switchyard_core::config::{from_node, parse, Config};
use switchyard_core::consumer::{AnyConsumer, ConsumeError, RequestContext};
use switchyard_core::graph::{Graph, Inlets, Substitutes};
use switchyard_core::telemetry::Telemetry;
use switchyard_pdata::Signal;

use super::run::load_config;
use crate::cli::{ConfigArgs, TestArgs};
use capture::Captures;
use input::Data;
use plan::{CasePlan, Inlet, InputPlan};

/// How long a case's shutdown may take to flush batches and pending traces.
const DRAIN_DEADLINE: Duration = Duration::from_secs(30);

/// Runs every file; exit 1 if a case fails or a file is invalid.
pub async fn test(args: &TestArgs) -> Result<ExitCode> {
    init_logging();
    let (mut passed, mut failed, mut invalid) = (0, 0, 0);
    for file in &args.files {
        match run_file(file).await? {
            Some((p, f)) => {
                passed += p;
                failed += f;
            }
            None => invalid += 1,
        }
    }
    let mut out = std::io::stdout().lock();
    write!(out, "{passed} passed, {failed} failed")?;
    if invalid > 0 {
        write!(out, ", {invalid} invalid test file(s)")?;
    }
    writeln!(out)?;
    Ok(if failed == 0 && invalid == 0 { ExitCode::SUCCESS } else { ExitCode::from(1) })
}

/// Processor warnings (OTTL errors skipped by `error_mode: ignore`, for instance) help
/// explain a failure; `SWITCHYARD_LOG` chooses more.
fn init_logging() {
    let filter = tracing_subscriber::EnvFilter::try_from_env("SWITCHYARD_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn"));
    // Fails only if a subscriber is already set, which then serves as well.
    let _ =
        tracing_subscriber::fmt().with_env_filter(filter).with_target(false).with_writer(std::io::stderr).try_init();
}

/// Runs one file's cases, printing a line per case; `None` when the file (or the
/// configuration it names) is invalid, after printing its errors.
async fn run_file(path: &Path) -> Result<Option<(usize, usize)>> {
    let name = path.display().to_string();
    let text = match std::fs::read_to_string(path) {
        Ok(t) => t,
        Err(e) => {
            eprintln!("{name}: cannot read the test file: {e}");
            return Ok(None);
        }
    };
    let loaded = parse(&name, &text).and_then(|root| Ok((from_node::<spec::TestFile>(&root, "")?, root)));
    let (file, root) = match loaded {
        Ok(v) => v,
        Err(e) => {
            eprintln!("{e}");
            eprintln!("{name}: invalid test file");
            return Ok(None);
        }
    };
    let dir = path.parent().map(Path::to_path_buf).unwrap_or_default();
    let configs = file.config.to_vec().into_iter().map(|c| config_path(&dir, &c)).collect();
    let cfg = match load_config(&ConfigArgs { configs, sets: Vec::new() }) {
        Ok(cfg) => cfg,
        Err(errors) => {
            eprintln!("{errors}");
            eprintln!("{name}: the configuration under test is invalid: {} error(s)", errors.0.len());
            return Ok(None);
        }
    };
    for w in &cfg.warnings {
        eprintln!("warning: {w}");
    }
    let cases = match plan::plan(&file, &root, &cfg) {
        Ok(c) => c,
        Err(errors) => {
            eprintln!("{errors}");
            eprintln!("{name}: invalid test file: {} error(s)", errors.0.len());
            return Ok(None);
        }
    };
    let mut out = std::io::stdout().lock();
    writeln!(out, "{name}")?;
    drop(out);
    let (mut passed, mut failed) = (0, 0);
    for case in &cases {
        let mismatches = run_case(&cfg, case).await;
        let mut out = std::io::stdout().lock();
        if mismatches.is_empty() {
            passed += 1;
            writeln!(out, "PASS {}", case.name)?;
        } else {
            failed += 1;
            writeln!(out, "FAIL {}", case.name)?;
            for m in mismatches {
                writeln!(out, "  {m}")?;
            }
        }
    }
    Ok(Some((passed, failed)))
}

/// A `config:` entry: a path relative to the test file, unless absolute or a source that
/// is not a file (`env:`, `yaml:`).
fn config_path(dir: &Path, entry: &str) -> String {
    if entry.starts_with("env:") || entry.starts_with("yaml:") {
        return entry.to_string();
    }
    let p = PathBuf::from(entry.strip_prefix("file:").unwrap_or(entry));
    if p.is_absolute() {
        entry.to_string()
    } else {
        dir.join(p).display().to_string()
    }
}

/// Builds a fresh graph, pushes the inputs, drains it, then checks every expectation; the
/// mismatches (empty: the case passed).
async fn run_case(cfg: &Config, case: &CasePlan) -> Vec<String> {
    let captures = Captures::default();
    let exporter = |id: &ComponentId, signal: Signal| captures.exporter(id, signal);
    let pipeline_output = |id: &PipelineId, next: AnyConsumer| captures.pipeline_output(id, next);
    let subs = Substitutes { exporter: &exporter, pipeline_output: &pipeline_output };
    let (graph, inlets) = match Graph::build_substituted(cfg, &Telemetry::default(), &subs) {
        Ok(g) => g,
        Err(errors) => return errors.0.iter().map(|e| format!("cannot build the graph: {e}")).collect(),
    };
    if let Err(e) = graph.start().await {
        graph.shutdown(Duration::from_secs(5)).await;
        return vec![format!("cannot start the pipelines: {e}")];
    }
    let mut mismatches = Vec::new();
    for (i, input) in case.inputs.iter().enumerate() {
        if let Err(e) = push(&inlets, input).await {
            mismatches.push(format!("input {i} ({} item(s)) was refused: {e}", input.data.item_count()));
        }
    }
    graph.shutdown(DRAIN_DEADLINE).await;
    for exp in &case.expects {
        mismatches.extend(verify::verify(exp, &captures));
    }
    mismatches
}

/// Hands one input to its inlet, as a receiver would.
async fn push(inlets: &Inlets, input: &InputPlan) -> Result<(), ConsumeError> {
    let target = match &input.inlet {
        Inlet::Receiver(id) => inlets.receivers.get(id).and_then(|out| match input.data.signal() {
            Signal::Traces => out.traces.clone().map(AnyConsumer::Traces),
            Signal::Metrics => out.metrics.clone().map(AnyConsumer::Metrics),
            Signal::Logs => out.logs.clone().map(AnyConsumer::Logs),
            Signal::Profiles => None,
        }),
        Inlet::Stage { pipeline, index } => inlets.pipelines.get(pipeline).and_then(|s| s.get(*index)).cloned(),
    };
    let cx: &RequestContext = &input.cx;
    match (target, &input.data) {
        (Some(AnyConsumer::Traces(c)), Data::Traces(d)) => c.consume(cx, d.clone()).await,
        (Some(AnyConsumer::Metrics(c)), Data::Metrics(d)) => c.consume(cx, d.clone()).await,
        (Some(AnyConsumer::Logs(c)), Data::Logs(d)) => c.consume(cx, d.clone()).await,
        // The plan checked the inlet carries this signal; a pipeline that failed to build
        // has already been reported.
        _ => Err(ConsumeError::permanent("no pipeline takes this input")),
    }
}
