//! `switchyard graph`: the pipeline graph of a configuration, for docs and reviews. The
//! configuration is loaded and checked as `validate` does (an invalid one prints its errors
//! and no graph), but nothing is built or started.

use std::io::Write;
use std::process::ExitCode;

use anyhow::Result;
use switchyard_core::graph::Picture;

use super::run::load_config;
use crate::cli::{GraphArgs, GraphFormat};

/// Prints the graph on stdout; errors go to stderr with exit 1.
pub fn graph(args: &GraphArgs) -> Result<ExitCode> {
    let cfg = match load_config(&args.config) {
        Ok(cfg) => cfg,
        Err(errors) => {
            eprintln!("{errors}");
            eprintln!("configuration is invalid: {} error(s)", errors.0.len());
            return Ok(ExitCode::from(1));
        }
    };
    let picture = Picture::of(&cfg);
    let out = match args.format {
        GraphFormat::Text => picture.to_text(),
        GraphFormat::Dot => picture.to_dot(),
        GraphFormat::Mermaid => picture.to_mermaid(),
    };
    std::io::stdout().write_all(out.as_bytes())?;
    Ok(ExitCode::SUCCESS)
}
