//! The `process` scraper: one resource per process (`process.pid`,
//! `process.executable.name`, `process.command_line`, ...) with its CPU, memory, disk and
//! optional metrics, read from `/proc/<pid>/{stat,status,statm,io,cmdline,exe,fd,cgroup}`.
//! Sums start at the process's start time, as the Collector's do. A process that exits
//! while being read is skipped silently; other read errors are reported unless muted
//! (`mute_process_*_error`), as upstream.

use std::collections::HashMap;
use std::time::Duration;

use switchyard_core::component::FieldError;
use switchyard_pdata::proto::common::v1::KeyValue;
use switchyard_pdata::value::{int_value, str_value};

use super::config::{Filter, ProcessConfig, PROCESS_FIELDS};
use super::metadata::{Builder, Enabled, PROCESS, PROCESS_RESOURCE};
use super::procfs;
use super::system::pids;
use super::{Context, Scraped};

/// CPU seconds of one process at one collection.
#[derive(Clone, Copy, Debug)]
struct CpuSample {
    at_ns: u64,
    user: f64,
    system: f64,
    wait: f64,
}

/// `process`.
pub struct ProcessScraper {
    enabled: Enabled,
    resource: Vec<bool>,
    filter: Filter,
    mute_name: bool,
    mute_exe: bool,
    mute_io: bool,
    mute_user: bool,
    mute_cgroup: bool,
    delay: Duration,
    prev: HashMap<i64, CpuSample>,
}

/// What identifies one process, read before its metrics.
struct Identity {
    name: String,
    exe: String,
    cmdline: Option<Vec<String>>,
    owner: Option<String>,
    cgroup: Option<String>,
}

/// The executable name: `Name` of `/proc/<pid>/status`, which the kernel cuts to 15
/// bytes, extended from the command's first argument as gopsutil does.
pub fn process_name(status: &HashMap<String, String>, stat: &procfs::PidStat, cmdline: Option<&Vec<String>>) -> String {
    let mut name = status.get("Name").cloned().unwrap_or_else(|| stat.comm.clone());
    if name.len() >= 15 {
        if let Some(base) = cmdline.and_then(|c| c.first()).and_then(|a| a.rsplit('/').next()) {
            if base.starts_with(&name) {
                name = base.to_string();
            }
        }
    }
    name
}

impl ProcessScraper {
    /// A scraper with `cfg`'s metrics, resource attributes and filters.
    pub fn new(cfg: &ProcessConfig) -> Result<Self, Vec<FieldError>> {
        let all = cfg.mute_process_all_errors;
        Ok(ProcessScraper {
            enabled: Enabled::new(PROCESS, &cfg.metrics),
            resource: PROCESS_RESOURCE
                .iter()
                .map(|(n, on)| cfg.resource_attributes.get(*n).and_then(|t| t.enabled).unwrap_or(*on))
                .collect(),
            filter: Filter::new(PROCESS_FIELDS, &cfg.include, &cfg.exclude, "names")?,
            mute_name: all || cfg.mute_process_name_error,
            mute_exe: all || cfg.mute_process_exe_error,
            mute_io: all || cfg.mute_process_io_error,
            mute_user: all || cfg.mute_process_user_error,
            mute_cgroup: all || cfg.mute_process_cgroup_error,
            delay: cfg.scrape_process_delay,
            prev: HashMap::new(),
        })
    }

    fn resource_on(&self, name: &str) -> bool {
        PROCESS_RESOURCE
            .iter()
            .position(|(n, _)| *n == name)
            .and_then(|i| self.resource.get(i).copied())
            .unwrap_or(false)
    }

    /// One collection.
    pub fn scrape(&mut self, cx: &Context, now_ns: u64) -> Scraped {
        let mut out = Scraped::default();
        let pids = match pids(cx) {
            Ok(p) => p,
            Err(e) => {
                out.fail(format!("failed to list processes: {e}"), PROCESS.len());
                return out;
            }
        };
        let passwd = std::fs::read_to_string(cx.root.host("/etc/passwd")).unwrap_or_default();
        let cpus = cx.root.read_proc("stat").map(|t| procfs::parse_stat(&t).cpus.len()).unwrap_or(1).max(1);
        let mem_total =
            cx.root.read_proc("meminfo").map(|t| procfs::memory(&procfs::parse_meminfo(&t)).total).unwrap_or(0);
        let mut seen = Vec::with_capacity(pids.len());
        for pid in pids {
            if self.scrape_one(cx, now_ns, pid, &passwd, cpus, mem_total, &mut out) {
                seen.push(pid);
            }
        }
        self.prev.retain(|pid, _| seen.contains(pid));
        out
    }

    #[allow(clippy::too_many_arguments)]
    fn identity(
        &self,
        cx: &Context,
        pid: i64,
        name: String,
        cmdline: std::io::Result<Vec<String>>,
        status: &HashMap<String, String>,
        passwd: &str,
        out: &mut Scraped,
    ) -> Identity {
        let cmdline = match cmdline {
            Ok(c) => Some(c),
            Err(e) => {
                out.fail(format!("error reading command for process {name:?} (pid {pid}): {e}"), 0);
                None
            }
        };
        let exe = match std::fs::read_link(cx.root.proc(&format!("{pid}/exe"))) {
            Ok(p) => p.to_string_lossy().into_owned(),
            Err(e) => {
                if !self.mute_exe {
                    out.fail(format!("error reading process executable for pid {pid}: {e}"), 0);
                }
                String::new()
            }
        };
        let uid = status.get("Uid").and_then(|u| u.split_whitespace().next()).unwrap_or("");
        let owner = procfs::user_name(passwd, uid);
        if owner.is_none() && !self.mute_user {
            out.fail(format!("error reading username for process {name:?} (pid {pid}): user: unknown userid {uid}"), 0);
        }
        let cgroup = if self.resource_on("process.cgroup") {
            match std::fs::read_to_string(cx.root.proc(&format!("{pid}/cgroup"))) {
                Ok(c) => Some(c.trim_end_matches('\n').to_string()),
                Err(e) => {
                    if !self.mute_cgroup {
                        out.fail(format!("error reading process cgroup for pid {pid}: {e}"), 0);
                    }
                    None
                }
            }
        } else {
            None
        };
        Identity { name, exe, cmdline, owner, cgroup }
    }

    fn resource(&self, pid: i64, ppid: i64, id: &Identity) -> Vec<KeyValue> {
        let mut r = Vec::new();
        let mut put = |k: &str, v| {
            if self.resource_on(k) {
                r.push(KeyValue { key: k.to_string(), value: Some(v), ..Default::default() });
            }
        };
        put("process.pid", int_value(pid));
        put("process.parent_pid", int_value(ppid));
        put("process.executable.name", str_value(id.name.clone()));
        put("process.executable.path", str_value(id.exe.clone()));
        if let Some(c) = &id.cmdline {
            put("process.command", str_value(c.first().cloned().unwrap_or_default()));
            put("process.command_line", str_value(c.join(" ")));
        }
        if let Some(o) = &id.owner {
            put("process.owner", str_value(o.clone()));
        }
        if let Some(c) = &id.cgroup {
            put("process.cgroup", str_value(c.clone()));
        }
        r
    }

    /// Scrapes one process into `out`; false when it is gone or filtered out.
    #[allow(clippy::too_many_arguments)]
    fn scrape_one(
        &mut self,
        cx: &Context,
        now_ns: u64,
        pid: i64,
        passwd: &str,
        cpus: usize,
        mem_total: u64,
        out: &mut Scraped,
    ) -> bool {
        let read = |f: &str| cx.root.read_proc(&format!("{pid}/{f}"));
        // Gone since the listing: not an error.
        let Ok(stat_text) = read("stat") else { return false };
        let Some(stat) = procfs::parse_pid_stat(&stat_text) else {
            if !self.mute_name {
                out.fail(format!("error reading process name for pid {pid}: unparseable stat"), 1);
            }
            return false;
        };
        let status = read("status").map(|t| procfs::parse_status(&t)).unwrap_or_default();
        let cmdline = std::fs::read(cx.root.proc(&format!("{pid}/cmdline"))).map(|b| procfs::parse_cmdline(&b));
        let name = process_name(&status, &stat, cmdline.as_ref().ok());
        if !self.filter.allows(&name) {
            return false;
        }
        let id = self.identity(cx, pid, name, cmdline, &status, passwd, out);
        let hz = procfs::ticks_per_second();
        let boot_ms = cx.boot_ns / 1_000_000;
        let create_ms = boot_ms + (stat.starttime as f64 * 1000.0 / hz) as u64;
        let now_ms = now_ns / 1_000_000;
        if !self.delay.is_zero() && (now_ms.saturating_sub(create_ms) as u128) < self.delay.as_millis() {
            return false;
        }
        let mut b = Builder::new(PROCESS, &self.enabled, create_ms * 1_000_000, now_ns);
        let cpu = CpuSample {
            at_ns: now_ns,
            user: stat.utime as f64 / hz,
            system: stat.stime as f64 / hz,
            wait: stat.blkio_ticks as f64 / hz,
        };
        b.double("process.cpu.time", cpu.user, &[("state", "user")]);
        b.double("process.cpu.time", cpu.system, &[("state", "system")]);
        b.double("process.cpu.time", cpu.wait, &[("state", "wait")]);
        if let Some(p) = self.prev.get(&pid) {
            let elapsed = now_ns.saturating_sub(p.at_ns) as f64 / 1e9;
            if elapsed > 0.0 {
                let u = |now: f64, before: f64| ((now - before) / elapsed / cpus as f64).max(0.0);
                b.double("process.cpu.utilization", u(cpu.user, p.user), &[("state", "user")]);
                b.double("process.cpu.utilization", u(cpu.system, p.system), &[("state", "system")]);
                b.double("process.cpu.utilization", u(cpu.wait, p.wait), &[("state", "wait")]);
            }
        }
        self.prev.insert(pid, cpu);
        let page = procfs::page_size();
        match read("statm").ok().and_then(|t| procfs::parse_statm(&t)) {
            Some((size, resident)) => {
                b.uint("process.memory.usage", resident * page, &[]);
                b.uint("process.memory.virtual", size * page, &[]);
                if mem_total > 0 {
                    // A percentage, as the Collector records gopsutil's MemoryPercent.
                    b.double("process.memory.utilization", (resident * page) as f64 / mem_total as f64 * 100.0, &[]);
                }
            }
            None => out.fail(format!("error reading memory info for process {:?} (pid {pid})", id.name), 2),
        }
        if b.on("process.disk.io") || b.on("process.disk.operations") {
            match read("io") {
                Ok(t) => {
                    let io = procfs::parse_key_values(&t);
                    let g = |k: &str| io.get(k).copied().unwrap_or(0);
                    b.uint("process.disk.io", g("read_bytes"), &[("direction", "read")]);
                    b.uint("process.disk.io", g("write_bytes"), &[("direction", "write")]);
                    b.uint("process.disk.operations", g("syscr"), &[("direction", "read")]);
                    b.uint("process.disk.operations", g("syscw"), &[("direction", "write")]);
                }
                Err(e) if !self.mute_io => {
                    out.fail(format!("error reading disk usage for process {:?} (pid {pid}): {e}", id.name), 1)
                }
                Err(_) => {}
            }
        }
        b.uint("process.paging.faults", stat.majflt, &[("type", "major")]);
        b.uint("process.paging.faults", stat.minflt, &[("type", "minor")]);
        let num = |k: &str| status.get(k).and_then(|v| v.split_whitespace().next()?.parse::<u64>().ok());
        if let Some(q) = status.get("SigQ").and_then(|v| v.split('/').next()?.trim().parse::<u64>().ok()) {
            b.uint("process.signals_pending", q, &[]);
        }
        if let Some(t) = num("Threads") {
            b.uint("process.threads", t, &[]);
        }
        if let (Some(inv), Some(vol)) = (num("nonvoluntary_ctxt_switches"), num("voluntary_ctxt_switches")) {
            b.uint("process.context_switches", inv, &[("type", "involuntary")]);
            b.uint("process.context_switches", vol, &[("type", "voluntary")]);
        }
        if b.on("process.open_file_descriptors") {
            match std::fs::read_dir(cx.root.proc(&format!("{pid}/fd"))) {
                Ok(d) => b.uint("process.open_file_descriptors", d.count() as u64, &[]),
                Err(e) => out.fail(
                    format!("error reading open file descriptor count for process {:?} (pid {pid}): {e}", id.name),
                    1,
                ),
            }
        }
        b.double("process.uptime", now_ms.saturating_sub(create_ms) as f64 / 1e3, &[]);
        let resource = self.resource(pid, stat.ppid, &id);
        out.add_with(b, "process", cx, resource);
        true
    }
}
