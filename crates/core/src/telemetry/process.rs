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

/// Memory available to this process in bytes: the cgroup limit (v2 `memory.max`, v1
/// `memory.limit_in_bytes`) when one is set, else the machine's total (`/proc/meminfo`).
pub fn total_memory_bytes() -> u64 {
    let read = |p: &str| std::fs::read_to_string(p).ok().and_then(|s| s.trim().parse::<u64>().ok());
    let machine = std::fs::read_to_string("/proc/meminfo")
        .ok()
        .and_then(|m| m.lines().find_map(|l| l.strip_prefix("MemTotal:")).map(str::to_string))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
        .map_or(0, |kb| kb * 1024);
    // An unlimited cgroup reads "max" (v2) or a huge number (v1): then the machine decides.
    [read("/sys/fs/cgroup/memory.max"), read("/sys/fs/cgroup/memory/memory.limit_in_bytes")]
        .into_iter()
        .flatten()
        .find(|limit| machine == 0 || *limit < machine)
        .unwrap_or(machine)
}

/// The container's memory limit in bytes, if one is set: cgroup v2 `memory.max`, else v1
/// `memory.limit_in_bytes` ("max", or v1's near-`u64::MAX` "unlimited", mean none).
pub fn cgroup_memory_limit() -> Option<u64> {
    let read = |p: &str| std::fs::read_to_string(p).ok();
    let parse = |s: String| s.trim().parse::<u64>().ok().filter(|v| *v < (1u64 << 60));
    match read("/sys/fs/cgroup/memory.max") {
        Some(v2) => parse(v2),
        None => read("/sys/fs/cgroup/memory/memory.limit_in_bytes").and_then(parse),
    }
}
