//! `switchyard validate`: the same load and graph build as `run`, without binding ports,
//! then the memory report: every component's declared worst case and the total, checked
//! against the `memory_limiter` limit and the container's memory limit (docs/memory.md).

use std::io::Write as _;
use std::process::ExitCode;

use anyhow::Result;
use switchyard_core::component::HumanBytes;
use switchyard_core::graph::{memory_report, Graph, MemoryReport};
use switchyard_core::telemetry::{cgroup_memory_limit, Telemetry};

use super::run::load_config;
use crate::cli::ConfigArgs;

/// Prints every error (and warning) on stderr, and the memory table on stdout; exit 0 when
/// the configuration would run (memory warnings do not change it).
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
    let report = memory_report(&cfg);
    let mut out = report.to_string();
    for w in memory_warnings(&report, cgroup_memory_limit()) {
        out.push_str(&format!("warning: {w}\n"));
    }
    std::io::stdout().write_all(out.as_bytes())?;
    eprintln!("configuration is valid: {} pipeline(s)", cfg.service.pipelines.len());
    Ok(ExitCode::SUCCESS)
}

/// The total against the `memory_limiter` limit and the container's limit (`cgroup`).
fn memory_warnings(report: &MemoryReport, cgroup: Option<u64>) -> Vec<String> {
    let total = report.total();
    let mut w = Vec::new();
    if let Some(l) = report.limit() {
        if total > l.bytes {
            w.push(format!(
                "the declared worst case ({}) exceeds the {} limit ({} = {}): the limiter may refuse data \
                 before these buffers fill; lower the bounds above or raise the limit",
                HumanBytes(total),
                l.component,
                l.what,
                HumanBytes(l.bytes)
            ));
        }
    }
    if let Some(c) = cgroup {
        if total > c {
            w.push(format!(
                "the declared worst case ({}) exceeds the container's memory limit ({}, cgroup): \
                 the process can be OOM-killed at full load",
                HumanBytes(total),
                HumanBytes(c)
            ));
        }
    }
    w
}

#[cfg(test)]
mod tests {
    use super::*;
    use switchyard_core::graph::{MemoryLimit, MemoryRow};

    fn report(total: u64, limit: Option<u64>) -> MemoryReport {
        MemoryReport {
            rows: vec![MemoryRow { component: "processor/batch".into(), instances: 1, what: "x".into(), bytes: total }],
            limits: limit
                .map(|bytes| MemoryLimit {
                    component: "processor/memory_limiter".into(),
                    what: "limit_mib 1".into(),
                    bytes,
                })
                .into_iter()
                .collect(),
            ..MemoryReport::default()
        }
    }

    #[test]
    fn warns_over_the_limiter_and_the_cgroup_only() {
        assert!(memory_warnings(&report(10, Some(20)), Some(20)).is_empty());
        let w = memory_warnings(&report(30 << 20, Some(20 << 20)), Some(25 << 20));
        assert_eq!(w.len(), 2, "{w:?}");
        assert!(w[0].contains("exceeds the processor/memory_limiter limit (limit_mib 1 = 20.0 MiB)"), "{}", w[0]);
        assert!(w[1].contains("container's memory limit (25.0 MiB, cgroup)"), "{}", w[1]);
    }
}
