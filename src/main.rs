//! `switchyard`: an OpenTelemetry gateway that runs OpenTelemetry Collector YAML.
//! This file is the process edge: allocator, CLI dispatch and exit codes.

mod cli;
mod commands;

use std::process::ExitCode;

use clap::Parser;

#[cfg(feature = "jemalloc")]
#[global_allocator]
static ALLOC: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

/// For allocator comparisons only (docs/dependencies.md): jemalloc wins when both are on.
#[cfg(all(feature = "mimalloc", not(feature = "jemalloc")))]
#[global_allocator]
static ALLOC: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// jemalloc options, read at its start: a background thread gives freed memory back to the
/// OS within about a second (the default waits 10 s, and only when the program allocates),
/// so RSS, which `memory_limiter` and the OOM killer watch, follows real use after a burst.
// The one `unsafe` item: exporting the symbol jemalloc reads its options from (there is no
// safe API for options that must be set before the first allocation).
#[cfg(feature = "jemalloc")]
#[allow(unsafe_code)]
#[unsafe(export_name = "_rjem_malloc_conf")]
pub static JEMALLOC_CONF: &[u8; 60] = b"background_thread:true,dirty_decay_ms:1000,muzzy_decay_ms:0\0";

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
            Some(cli::Command::Gen(args)) => commands::gen::gen(*args).await,
            Some(cli::Command::Graph(args)) => commands::graph::graph(&args),
            Some(cli::Command::Test(args)) => commands::test::test(&args).await,
            Some(cli::Command::Healthcheck(args)) => commands::healthcheck::healthcheck(&args).await,
            Some(cli::Command::Tap(args)) => commands::tap::tap(&args).await,
            Some(cli::Command::Top(args)) => commands::top::top(&args).await,
            Some(cli::Command::Check(args)) => commands::check::check(&args).await,
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
