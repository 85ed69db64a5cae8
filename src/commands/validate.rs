//! `switchyard validate`: the same load and graph build as `run`, without binding ports.

use std::process::ExitCode;

use anyhow::Result;
use switchyard_core::graph::Graph;
use switchyard_core::telemetry::Telemetry;

use super::run::load_config;
use crate::cli::ConfigArgs;

/// Prints every error (and warning); exit 0 when the configuration would run.
pub fn validate(args: &ConfigArgs) -> Result<ExitCode> {
    let cfg = match load_config(args) {
        Ok(cfg) => cfg,
        Err(errors) => {
            eprintln!("{errors}");
            eprintln!("configuration is invalid: {} error(s)", errors.0.len());
            return Ok(ExitCode::from(1));
        }
    };
    for w in &cfg.warnings {
        eprintln!("warning: {w}");
    }
    if let Err(errors) = Graph::build(&cfg, &Telemetry::default()) {
        eprintln!("{errors}");
        eprintln!("configuration is invalid: {} error(s)", errors.0.len());
        return Ok(ExitCode::from(1));
    }
    eprintln!("configuration is valid: {} pipeline(s)", cfg.service.pipelines.len());
    Ok(ExitCode::SUCCESS)
}
