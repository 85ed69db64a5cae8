//! Process metrics read from /proc (Linux): RSS, CPU seconds, uptime.

use std::time::Instant;

use super::{names, MetricsRegistry};

/// Resident set size in bytes (0 if unknown).
pub fn rss_bytes() -> u64 {
    let statm = std::fs::read_to_string("/proc/self/statm").unwrap_or_default();
    let pages: u64 = statm.split_whitespace().nth(1).and_then(|p| p.parse().ok()).unwrap_or(0);
    pages * 4096
}

/// User + system CPU seconds of this process (0 if unknown).
pub fn cpu_seconds() -> f64 {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    // Fields after the command name (which may contain spaces) start after the last ')'.
    let rest = stat.rsplit_once(')').map(|(_, r)| r).unwrap_or("");
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let ticks = |i: usize| fields.get(i).and_then(|v| v.parse::<f64>().ok()).unwrap_or(0.0);
    // utime and stime are fields 14 and 15 of stat; 12 and 13 after the ')'. Clock ticks are 100/s on Linux.
    (ticks(11) + ticks(12)) / 100.0
}

pub(super) fn register(m: &MetricsRegistry) {
    let start = Instant::now();
    m.gauge_fn(names::PROCESS_UPTIME, "Uptime of the process in seconds.", move || start.elapsed().as_secs_f64());
    m.gauge_fn(names::PROCESS_CPU_SECONDS, "Total CPU user and system time in seconds.", cpu_seconds);
    m.gauge_fn(names::PROCESS_MEMORY_RSS, "Total physical memory (resident set size) in bytes.", || rss_bytes() as f64);
}
