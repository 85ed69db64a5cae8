//! `switchyard`: an OpenTelemetry gateway that runs OpenTelemetry Collector YAML.
//! This file is the process edge: allocator, CLI dispatch and exit codes.

mod cli;
mod commands;

use std::process::ExitCode;

use clap::Parser;

#[cfg(feature = "jemalloc")]
#[global_allocator]
static ALLOC: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

fn main() -> ExitCode {
    let cli = cli::Cli::parse();
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::from(1);
        }
    };
    let result = runtime.block_on(async move {
        match cli.command {
            None => commands::run::run(&cli.run).await,
            Some(cli::Command::Validate(args)) => commands::validate::validate(&args),
            Some(cli::Command::Components) => commands::components::components(),
            Some(cli::Command::Gen(args)) => commands::gen::gen(args).await,
        }
    });
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::from(1)
        }
    }
}
