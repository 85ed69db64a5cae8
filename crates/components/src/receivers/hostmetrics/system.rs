//! The machine-wide scrapers that read one or two `/proc` files each: `cpu`, `memory`,
//! `load`, `paging`, `processes` and `system`. Values and attributes follow the
//! Collector's Linux scrapers (which read these files through gopsutil).

use std::collections::BTreeMap;

use super::config::{LoadConfig, MetricsOnly};
use super::metadata::{Builder, Enabled, CPU, LOAD, MEMORY, PAGING, PROCESSES, SYSTEM};
use super::procfs::{self, CpuTicks};
use super::{Context, Scraped};

/// Seconds per state of one CPU line, with the Collector's state names.
fn states(c: &CpuTicks) -> [(&'static str, u64); 8] {
    [
        ("user", c.user),
        ("system", c.system),
        ("idle", c.idle),
        ("interrupt", c.irq),
        ("nice", c.nice),
        ("softirq", c.softirq),
        ("steal", c.steal),
        ("wait", c.iowait),
    ]
}

/// `cpu`: `system.cpu.time` per CPU and state; utilization from the previous collection.
pub struct CpuScraper {
    enabled: Enabled,
    prev: Option<(u64, Vec<CpuTicks>)>,
}

impl CpuScraper {
    /// A scraper with `cfg`'s metrics.
    pub fn new(cfg: &MetricsOnly) -> Self {
        CpuScraper { enabled: Enabled::new(CPU, &cfg.metrics), prev: None }
    }

    /// One collection.
    pub fn scrape(&mut self, cx: &Context, now_ns: u64) -> Scraped {
        let mut out = Scraped::default();
        let mut b = Builder::new(CPU, &self.enabled, cx.boot_ns, now_ns);
        let hz = procfs::ticks_per_second();
        match cx.root.read_proc("stat") {
            Err(e) => out.fail(format!("failed to read /proc/stat: {e}"), 2),
            Ok(text) => {
                let cpus = procfs::parse_stat(&text).cpus;
                for c in &cpus {
                    for (state, ticks) in states(c) {
                        b.double("system.cpu.time", ticks as f64 / hz, &[("cpu", c.cpu.as_str()), ("state", state)]);
                    }
                }
                if let Some((prev_ns, prev)) = &self.prev {
                    let elapsed = now_ns.saturating_sub(*prev_ns) as f64 / 1e9;
                    for c in cpus.iter().filter(|_| elapsed > 0.0) {
                        let Some(p) = prev.iter().find(|p| p.cpu == c.cpu) else { continue };
                        for ((state, now), (_, before)) in states(c).into_iter().zip(states(p)) {
                            let v = now.saturating_sub(before) as f64 / hz / elapsed;
                            b.double("system.cpu.utilization", v, &[("cpu", c.cpu.as_str()), ("state", state)]);
                        }
                    }
                }
                b.uint("system.cpu.logical.count", cpus.len() as u64, &[]);
                self.prev = Some((now_ns, cpus));
            }
        }
        if b.on("system.cpu.frequency") || b.on("system.cpu.physical.count") {
            match cx.root.read_proc("cpuinfo") {
                Err(e) => out.fail(format!("failed to read /proc/cpuinfo: {e}"), 1),
                Ok(text) => {
                    let infos = procfs::parse_cpuinfo(&text);
                    for i in &infos {
                        if let Some(mhz) = i.mhz {
                            let cpu = format!("cpu{}", i.processor);
                            b.double("system.cpu.frequency", mhz * 1e6, &[("cpu", cpu.as_str())]);
                        }
                    }
                    let mut cores: Vec<_> = infos.iter().filter_map(|i| i.core.clone()).collect();
                    cores.sort();
                    cores.dedup();
                    let physical = if cores.is_empty() { infos.len() } else { cores.len() };
                    b.uint("system.cpu.physical.count", physical as u64, &[]);
                }
            }
        }
        out.add(b, "cpu", cx);
        out
    }
}

/// `memory`: `/proc/meminfo` as gopsutil reads it.
pub struct MemoryScraper {
    enabled: Enabled,
}

impl MemoryScraper {
    /// A scraper with `cfg`'s metrics.
    pub fn new(cfg: &MetricsOnly) -> Self {
        MemoryScraper { enabled: Enabled::new(MEMORY, &cfg.metrics) }
    }

    /// One collection.
    pub fn scrape(&mut self, cx: &Context, now_ns: u64) -> Scraped {
        let mut out = Scraped::default();
        let mut b = Builder::new(MEMORY, &self.enabled, cx.boot_ns, now_ns);
        match cx.root.read_proc("meminfo") {
            Err(e) => out.fail(format!("failed to read /proc/meminfo: {e}"), 2),
            Ok(text) => {
                let m = procfs::memory(&procfs::parse_meminfo(&text));
                let states = [
                    ("used", m.used),
                    ("free", m.free),
                    ("buffered", m.buffers),
                    ("cached", m.cached),
                    ("slab_reclaimable", m.slab_reclaimable),
                    ("slab_unreclaimable", m.slab_unreclaimable),
                ];
                for (state, v) in states {
                    b.uint("system.memory.usage", v, &[("state", state)]);
                }
                if m.total == 0 {
                    out.fail("invalid total memory: 0".to_string(), 2);
                } else {
                    for (state, v) in states {
                        b.double("system.memory.utilization", v as f64 / m.total as f64, &[("state", state)]);
                    }
                    b.uint("system.memory.limit", m.total, &[]);
                    b.uint("system.linux.memory.available", m.available, &[]);
                    b.uint("system.linux.memory.dirty", m.dirty, &[]);
                }
            }
        }
        out.add(b, "memory", cx);
        out
    }
}

/// `load`: `/proc/loadavg`.
pub struct LoadScraper {
    enabled: Enabled,
    cpu_average: bool,
}

impl LoadScraper {
    /// A scraper with `cfg`'s settings.
    pub fn new(cfg: &LoadConfig) -> Self {
        LoadScraper { enabled: Enabled::new(LOAD, &cfg.metrics), cpu_average: cfg.cpu_average }
    }

    /// One collection.
    pub fn scrape(&mut self, cx: &Context, now_ns: u64) -> Scraped {
        let mut out = Scraped::default();
        let mut b = Builder::new(LOAD, &self.enabled, cx.boot_ns, now_ns);
        let text = cx.root.read_proc("loadavg").map_err(|e| e.to_string());
        match text.and_then(|t| procfs::parse_loadavg(&t).ok_or_else(|| "unparseable".to_string())) {
            Err(e) => out.fail(format!("failed to read /proc/loadavg: {e}"), 3),
            Ok(mut avg) => {
                if self.cpu_average {
                    let cpus = cx.root.read_proc("stat").map(|t| procfs::parse_stat(&t).cpus.len()).unwrap_or(0);
                    for a in avg.iter_mut().filter(|_| cpus > 0) {
                        *a /= cpus as f64;
                    }
                }
                b.double("system.cpu.load_average.1m", avg[0], &[]);
                b.double("system.cpu.load_average.5m", avg[1], &[]);
                b.double("system.cpu.load_average.15m", avg[2], &[]);
            }
        }
        out.add(b, "load", cx);
        out
    }
}

/// `paging`: swap devices (`/proc/swaps`) and paging counters (`/proc/vmstat`).
pub struct PagingScraper {
    enabled: Enabled,
}

impl PagingScraper {
    /// A scraper with `cfg`'s metrics.
    pub fn new(cfg: &MetricsOnly) -> Self {
        PagingScraper { enabled: Enabled::new(PAGING, &cfg.metrics) }
    }

    /// One collection.
    pub fn scrape(&mut self, cx: &Context, now_ns: u64) -> Scraped {
        let mut out = Scraped::default();
        let mut b = Builder::new(PAGING, &self.enabled, cx.boot_ns, now_ns);
        let swaps = cx.root.read_proc("swaps").map_err(|e| e.to_string()).and_then(|t| procfs::parse_swaps(&t));
        match swaps {
            Err(e) => out.fail(format!("failed to read page file stats: {e}"), 2),
            Ok(devices) => {
                for d in devices {
                    let dev = d.name.as_str();
                    let (used, free) = (d.used_kib * 1024, d.total_kib.saturating_sub(d.used_kib) * 1024);
                    b.uint("system.paging.usage", used, &[("device", dev), ("state", "used")]);
                    b.uint("system.paging.usage", free, &[("device", dev), ("state", "free")]);
                    if d.total_kib > 0 {
                        let total = (d.total_kib * 1024) as f64;
                        b.double(
                            "system.paging.utilization",
                            used as f64 / total,
                            &[("device", dev), ("state", "used")],
                        );
                        b.double(
                            "system.paging.utilization",
                            free as f64 / total,
                            &[("device", dev), ("state", "free")],
                        );
                    }
                }
            }
        }
        match cx.root.read_proc("vmstat") {
            Err(e) => out.fail(format!("failed to read swap info: {e}"), 2),
            Ok(text) => {
                let v = procfs::parse_key_values(&text);
                let g = |k: &str| v.get(k).copied().unwrap_or(0);
                let op = "system.paging.operations";
                b.uint(op, g("pswpin"), &[("direction", "page_in"), ("type", "major")]);
                b.uint(op, g("pswpout"), &[("direction", "page_out"), ("type", "major")]);
                b.uint(op, g("pgpgin"), &[("direction", "page_in"), ("type", "minor")]);
                b.uint(op, g("pgpgout"), &[("direction", "page_out"), ("type", "minor")]);
                b.uint("system.paging.faults", g("pgmajfault"), &[("type", "major")]);
                b.uint("system.paging.faults", g("pgfault").saturating_sub(g("pgmajfault")), &[("type", "minor")]);
            }
        }
        out.add(b, "paging", cx);
        out
    }
}

/// The Collector's `status` value of a `/proc/<pid>/stat` state letter (gopsutil's mapping).
pub fn process_status(state: char) -> &'static str {
    match state {
        'R' => "running",
        'S' => "sleeping",
        'D' | 'U' => "blocked",
        'I' => "idle",
        'L' => "locked",
        'T' | 't' => "stopped",
        'W' => "paging",
        'Z' => "zombies",
        _ => "unknown",
    }
}

/// The pids under `<root>/proc`.
pub fn pids(cx: &Context) -> Result<Vec<i64>, String> {
    let dir = cx.root.proc("");
    let entries = std::fs::read_dir(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    let mut pids: Vec<i64> = entries.filter_map(|e| e.ok()?.file_name().to_str()?.parse().ok()).collect();
    pids.sort_unstable();
    Ok(pids)
}

/// `processes`: counts by state (each `/proc/<pid>/stat`; running and blocked from
/// `/proc/stat`, which is one consistent read) and processes created since boot.
pub struct ProcessesScraper {
    enabled: Enabled,
}

impl ProcessesScraper {
    /// A scraper with `cfg`'s metrics.
    pub fn new(cfg: &MetricsOnly) -> Self {
        ProcessesScraper { enabled: Enabled::new(PROCESSES, &cfg.metrics) }
    }

    /// One collection.
    pub fn scrape(&mut self, cx: &Context, now_ns: u64) -> Scraped {
        let mut out = Scraped::default();
        let mut b = Builder::new(PROCESSES, &self.enabled, cx.boot_ns, now_ns);
        let mut counts: BTreeMap<&'static str, u64> = BTreeMap::new();
        match pids(cx) {
            Err(e) => out.fail(format!("failed to list processes: {e}"), 1),
            Ok(pids) => {
                for pid in pids {
                    // A process that exited since the listing is not an error.
                    let Ok(text) = cx.root.read_proc(&format!("{pid}/stat")) else { continue };
                    let status = procfs::parse_pid_stat(&text).map_or("unknown", |s| process_status(s.state));
                    *counts.entry(status).or_default() += 1;
                }
            }
        }
        match cx.root.read_proc("stat") {
            Err(e) => out.fail(format!("failed to read /proc/stat: {e}"), 1),
            Ok(text) => {
                let stat = procfs::parse_stat(&text);
                if let Some(r) = stat.procs_running {
                    counts.insert("running", r);
                }
                if let Some(bl) = stat.procs_blocked {
                    counts.insert("blocked", bl);
                }
                if let Some(p) = stat.processes {
                    b.uint("system.processes.created", p, &[]);
                }
            }
        }
        for (status, n) in counts {
            b.uint("system.processes.count", n, &[("status", status)]);
        }
        out.add(b, "processes", cx);
        out
    }
}

/// `system`: `system.uptime` from `/proc/uptime`.
pub struct SystemScraper {
    enabled: Enabled,
}

impl SystemScraper {
    /// A scraper with `cfg`'s metrics.
    pub fn new(cfg: &MetricsOnly) -> Self {
        SystemScraper { enabled: Enabled::new(SYSTEM, &cfg.metrics) }
    }

    /// One collection.
    pub fn scrape(&mut self, cx: &Context, now_ns: u64) -> Scraped {
        let mut out = Scraped::default();
        let mut b = Builder::new(SYSTEM, &self.enabled, cx.boot_ns, now_ns);
        match cx.root.read_proc("uptime").ok().and_then(|t| procfs::parse_uptime(&t)) {
            None => out.fail("failed to read /proc/uptime".to_string(), 1),
            Some(up) => b.double("system.uptime", up, &[]),
        }
        out.add(b, "system", cx);
        out
    }
}
