//! The `/proc` (and `/sys`, `/etc`) files the scrapers read, under `root_path`, and their
//! parsers. Parsers are pure functions over the file's text so tests can feed fixtures;
//! they skip lines they do not understand rather than fail a whole scrape, as gopsutil
//! (which the Collector reads through) does.
//!
//! Every path goes through [`Root`]: with `root_path: /hostfs` the receiver reads
//! `/hostfs/proc/stat`, `/hostfs/proc/1/mountinfo`, `statvfs("/hostfs/<mountpoint>")`,
//! as the Collector does by setting `HOST_PROC`, `HOST_SYS`, `HOST_ETC` from it.

use std::collections::HashMap;
use std::io;
use std::path::PathBuf;

/// Where the host's filesystem is mounted (`/` normally, `root_path` in a container).
#[derive(Clone, Debug)]
pub struct Root {
    base: PathBuf,
}

impl Root {
    /// The root for a `root_path` value (empty means `/`).
    pub fn new(root_path: &str) -> Root {
        let base = if root_path.is_empty() { PathBuf::from("/") } else { PathBuf::from(root_path) };
        Root { base }
    }

    /// A host path (absolute, as seen on the host) under the root.
    pub fn host(&self, path: &str) -> PathBuf {
        self.base.join(path.trim_start_matches('/'))
    }

    /// `<root>/proc/<rel>`.
    pub fn proc(&self, rel: &str) -> PathBuf {
        self.host(&format!("/proc/{rel}"))
    }

    /// Reads `<root>/proc/<rel>` as text.
    pub fn read_proc(&self, rel: &str) -> io::Result<String> {
        std::fs::read_to_string(self.proc(rel))
    }
}

/// The kernel's clock ticks per second (`USER_HZ`, 100 on every common build).
pub fn ticks_per_second() -> f64 {
    let t = rustix::param::clock_ticks_per_second();
    if t == 0 {
        100.0
    } else {
        t as f64
    }
}

/// The memory page size in bytes.
pub fn page_size() -> u64 {
    rustix::param::page_size() as u64
}

/// One `cpuN` line of `/proc/stat`, in clock ticks.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct CpuTicks {
    /// `cpu0`, `cpu1`, ...
    pub cpu: String,
    /// Time in user mode.
    pub user: u64,
    /// Niced user mode.
    pub nice: u64,
    /// Kernel mode.
    pub system: u64,
    /// Idle.
    pub idle: u64,
    /// Waiting for I/O.
    pub iowait: u64,
    /// Servicing interrupts.
    pub irq: u64,
    /// Servicing softirqs.
    pub softirq: u64,
    /// Stolen by the hypervisor.
    pub steal: u64,
}

/// What `/proc/stat` says.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Stat {
    /// Per-CPU times (the aggregate `cpu` line is left out, as the Collector asks per CPU).
    pub cpus: Vec<CpuTicks>,
    /// Boot time, seconds since the epoch.
    pub btime: Option<u64>,
    /// Processes created since boot.
    pub processes: Option<u64>,
    /// Runnable processes.
    pub procs_running: Option<u64>,
    /// Processes blocked on I/O.
    pub procs_blocked: Option<u64>,
}

/// Parses `/proc/stat`.
pub fn parse_stat(text: &str) -> Stat {
    let mut out = Stat::default();
    for line in text.lines() {
        let mut f = line.split_whitespace();
        let Some(key) = f.next() else { continue };
        let nums: Vec<u64> = f.map(|v| v.parse().unwrap_or(0)).collect();
        let first = nums.first().copied();
        match key {
            "btime" => out.btime = first,
            "processes" => out.processes = first,
            "procs_running" => out.procs_running = first,
            "procs_blocked" => out.procs_blocked = first,
            k if k.starts_with("cpu") && k.len() > 3 && nums.len() >= 4 => {
                let n = |i: usize| nums.get(i).copied().unwrap_or(0);
                out.cpus.push(CpuTicks {
                    cpu: k.to_string(),
                    user: n(0),
                    nice: n(1),
                    system: n(2),
                    idle: n(3),
                    iowait: n(4),
                    irq: n(5),
                    softirq: n(6),
                    steal: n(7),
                });
            }
            _ => {}
        }
    }
    out
}

/// Parses `/proc/meminfo` into bytes by key (`MemTotal`, `SReclaimable`, ...).
pub fn parse_meminfo(text: &str) -> HashMap<String, u64> {
    let mut out = HashMap::new();
    for line in text.lines() {
        let Some((k, v)) = line.split_once(':') else { continue };
        let mut parts = v.split_whitespace();
        let Some(Ok(n)) = parts.next().map(str::parse::<u64>) else { continue };
        let bytes = if parts.next() == Some("kB") { n.saturating_mul(1024) } else { n };
        out.insert(k.trim().to_string(), bytes);
    }
    out
}

/// Memory figures as gopsutil computes them on Linux (the Collector's source).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Memory {
    /// `MemTotal`.
    pub total: u64,
    /// `MemFree`.
    pub free: u64,
    /// `Buffers`.
    pub buffers: u64,
    /// `Cached` + `SReclaimable` (as `free(1)` counts the page cache).
    pub cached: u64,
    /// `SReclaimable`.
    pub slab_reclaimable: u64,
    /// `SUnreclaim`.
    pub slab_unreclaimable: u64,
    /// `total - available`: the Collector's default since v0.137 (feature gate
    /// `receiver.hostmetricsreceiver.UseLinuxMemAvailable`, beta), which counts page cache
    /// the kernel cannot drop as used.
    pub used: u64,
    /// `MemAvailable` (`MemFree + cached` on kernels without it, as gopsutil).
    pub available: u64,
    /// `Dirty`.
    pub dirty: u64,
}

/// The memory figures of a parsed `/proc/meminfo`.
pub fn memory(m: &HashMap<String, u64>) -> Memory {
    let g = |k: &str| m.get(k).copied().unwrap_or(0);
    let cached = g("Cached") + g("SReclaimable");
    let total = g("MemTotal");
    let free = g("MemFree");
    let buffers = g("Buffers");
    let available = m.get("MemAvailable").copied().unwrap_or(free + cached);
    Memory {
        total,
        free,
        buffers,
        cached,
        slab_reclaimable: g("SReclaimable"),
        slab_unreclaimable: g("SUnreclaim"),
        used: total.saturating_sub(available),
        available,
        dirty: g("Dirty"),
    }
}

/// Parses `/proc/loadavg`: the 1, 5 and 15 minute averages.
pub fn parse_loadavg(text: &str) -> Option<[f64; 3]> {
    let mut f = text.split_whitespace().map(|v| v.parse::<f64>());
    Some([f.next()?.ok()?, f.next()?.ok()?, f.next()?.ok()?])
}

/// One line of `/proc/diskstats`.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct DiskStat {
    /// Device name (`sda`, `nvme0n1p1`).
    pub name: String,
    /// Reads completed.
    pub reads: u64,
    /// Reads merged.
    pub reads_merged: u64,
    /// Sectors read (512 bytes each).
    pub sectors_read: u64,
    /// Milliseconds spent reading.
    pub read_ms: u64,
    /// Writes completed.
    pub writes: u64,
    /// Writes merged.
    pub writes_merged: u64,
    /// Sectors written.
    pub sectors_written: u64,
    /// Milliseconds spent writing.
    pub write_ms: u64,
    /// I/Os in progress.
    pub in_progress: u64,
    /// Milliseconds spent doing I/O.
    pub io_ms: u64,
    /// Weighted milliseconds spent doing I/O.
    pub weighted_io_ms: u64,
}

/// Parses `/proc/diskstats` (lines with fewer than 14 fields are skipped, as gopsutil does).
pub fn parse_diskstats(text: &str) -> Vec<DiskStat> {
    text.lines()
        .filter_map(|line| {
            let f: Vec<&str> = line.split_whitespace().collect();
            if f.len() < 14 {
                return None;
            }
            let n = |i: usize| f[i].parse::<u64>().unwrap_or(0);
            Some(DiskStat {
                name: f[2].to_string(),
                reads: n(3),
                reads_merged: n(4),
                sectors_read: n(5),
                read_ms: n(6),
                writes: n(7),
                writes_merged: n(8),
                sectors_written: n(9),
                write_ms: n(10),
                in_progress: n(11),
                io_ms: n(12),
                weighted_io_ms: n(13),
            })
        })
        .collect()
}

/// One interface of `/proc/net/dev`.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct NetDev {
    /// Interface name.
    pub name: String,
    /// Bytes received.
    pub rx_bytes: u64,
    /// Packets received.
    pub rx_packets: u64,
    /// Receive errors.
    pub rx_errors: u64,
    /// Received packets dropped.
    pub rx_dropped: u64,
    /// Bytes transmitted.
    pub tx_bytes: u64,
    /// Packets transmitted.
    pub tx_packets: u64,
    /// Transmit errors.
    pub tx_errors: u64,
    /// Transmitted packets dropped.
    pub tx_dropped: u64,
}

/// Parses `/proc/net/dev`.
pub fn parse_net_dev(text: &str) -> Vec<NetDev> {
    text.lines()
        .filter_map(|line| {
            let (name, rest) = line.split_once(':')?;
            let f: Vec<u64> = rest.split_whitespace().map(|v| v.parse().unwrap_or(0)).collect();
            if f.len() < 12 {
                return None;
            }
            Some(NetDev {
                name: name.trim().to_string(),
                rx_bytes: f[0],
                rx_packets: f[1],
                rx_errors: f[2],
                rx_dropped: f[3],
                tx_bytes: f[8],
                tx_packets: f[9],
                tx_errors: f[10],
                tx_dropped: f[11],
            })
        })
        .collect()
}

/// The state names gopsutil gives the hex states of `/proc/net/tcp`.
fn tcp_state(hex: &str) -> Option<&'static str> {
    Some(match hex {
        "01" => "ESTABLISHED",
        "02" => "SYN_SENT",
        "03" => "SYN_RECV",
        "04" => "FIN_WAIT1",
        "05" => "FIN_WAIT2",
        "06" => "TIME_WAIT",
        "07" => "CLOSE",
        "08" => "CLOSE_WAIT",
        "09" => "LAST_ACK",
        "0A" => "LISTEN",
        "0B" => "CLOSING",
        _ => return None,
    })
}

/// The state of every socket in `/proc/net/tcp` or `/proc/net/tcp6`.
pub fn parse_tcp_states(text: &str) -> Vec<&'static str> {
    text.lines().skip(1).filter_map(|l| l.split_whitespace().nth(3).and_then(tcp_state)).collect()
}

/// One mount of `/proc/1/mountinfo`.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Mount {
    /// The mount source (`/dev/sda1`, `tmpfs`).
    pub device: String,
    /// Where it is mounted, as the host sees it.
    pub mountpoint: String,
    /// Filesystem type.
    pub fstype: String,
    /// Per-mount options (`rw`, `relatime`; `bind` added for a bind mount of a subtree).
    pub opts: Vec<String>,
}

/// Undoes the octal escapes of mount paths (`\040` is a space).
fn unescape(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'\\' && i + 3 < b.len() && b[i + 1..i + 4].iter().all(|c| (b'0'..=b'7').contains(c)) {
            let v = b[i + 1..i + 4].iter().fold(0u32, |acc, c| acc * 8 + u32::from(c - b'0'));
            out.push(u8::try_from(v).unwrap_or(b'?'));
            i += 4;
        } else {
            out.push(b[i]);
            i += 1;
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Parses `/proc/<pid>/mountinfo`.
pub fn parse_mountinfo(text: &str) -> Vec<Mount> {
    text.lines()
        .filter_map(|line| {
            let (left, right) = line.split_once(" - ")?;
            let l: Vec<&str> = left.split_whitespace().collect();
            let r: Vec<&str> = right.split_whitespace().collect();
            if l.len() < 6 || r.len() < 2 {
                return None;
            }
            let mut opts: Vec<String> = l[5].split(',').map(str::to_string).collect();
            if l[3] != "/" && !l[3].is_empty() {
                opts.push("bind".into());
            }
            Some(Mount { device: unescape(r[1]), mountpoint: unescape(l[4]), fstype: r[0].to_string(), opts })
        })
        .collect()
}

/// Filesystem types backed by a device (`/proc/filesystems` lines without `nodev`, plus
/// zfs), the ones gopsutil keeps when virtual filesystems are not wanted.
pub fn parse_filesystems(text: &str) -> Vec<String> {
    text.lines()
        .filter_map(|l| match l.strip_prefix("nodev") {
            None => Some(l.trim().to_string()).filter(|s| !s.is_empty()),
            Some(rest) => Some(rest.trim().to_string()).filter(|s| s == "zfs"),
        })
        .collect()
}

/// One swap device of `/proc/swaps`, sizes in KiB.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Swap {
    /// Device or file.
    pub name: String,
    /// Size.
    pub total_kib: u64,
    /// Used.
    pub used_kib: u64,
}

/// Parses `/proc/swaps` (header line first).
pub fn parse_swaps(text: &str) -> Result<Vec<Swap>, String> {
    let mut lines = text.lines();
    let header: Vec<&str> = lines.next().unwrap_or("").split_whitespace().collect();
    if header.len() < 4 || header[0] != "Filename" || header[2] != "Size" || header[3] != "Used" {
        return Err(format!("unexpected /proc/swaps header {header:?}"));
    }
    let mut out = Vec::new();
    for line in lines {
        let f: Vec<&str> = line.split_whitespace().collect();
        if f.len() < 4 {
            continue;
        }
        let parse = |s: &str| s.parse::<u64>().map_err(|e| format!("/proc/swaps: {s:?}: {e}"));
        out.push(Swap { name: f[0].to_string(), total_kib: parse(f[2])?, used_kib: parse(f[3])? });
    }
    Ok(out)
}

/// Parses `key value` files (`/proc/vmstat`, `/proc/<pid>/io` with its colons).
pub fn parse_key_values(text: &str) -> HashMap<String, u64> {
    text.lines()
        .filter_map(|l| {
            let mut f = l.split_whitespace();
            let k = f.next()?.trim_end_matches(':');
            Some((k.to_string(), f.next()?.parse().ok()?))
        })
        .collect()
}

/// One processor of `/proc/cpuinfo`.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct CpuInfo {
    /// `processor`.
    pub processor: u32,
    /// `cpu MHz`.
    pub mhz: Option<f64>,
    /// `physical id` and `core id`, which together name a physical core.
    pub core: Option<(String, String)>,
}

/// Parses `/proc/cpuinfo`.
pub fn parse_cpuinfo(text: &str) -> Vec<CpuInfo> {
    let mut out: Vec<CpuInfo> = Vec::new();
    let mut physical = None;
    for line in text.lines() {
        let Some((k, v)) = line.split_once(':') else { continue };
        let (k, v) = (k.trim(), v.trim());
        match k {
            "processor" => {
                out.push(CpuInfo { processor: v.parse().unwrap_or(0), ..Default::default() });
                physical = None;
            }
            "cpu MHz" => {
                if let Some(c) = out.last_mut() {
                    c.mhz = v.parse().ok();
                }
            }
            "physical id" => physical = Some(v.to_string()),
            "core id" => {
                if let (Some(c), Some(p)) = (out.last_mut(), physical.clone()) {
                    c.core = Some((p, v.to_string()));
                }
            }
            _ => {}
        }
    }
    out
}

/// The first number of `/proc/uptime` (seconds since boot).
pub fn parse_uptime(text: &str) -> Option<f64> {
    text.split_whitespace().next()?.parse().ok()
}

/// The fields of `/proc/<pid>/stat` the process scraper uses.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct PidStat {
    /// The command name (in parentheses in the file; may hold spaces and parentheses).
    pub comm: String,
    /// State letter (`R`, `S`, `D`, `Z`, ...).
    pub state: char,
    /// Parent pid.
    pub ppid: i64,
    /// Minor faults.
    pub minflt: u64,
    /// Major faults.
    pub majflt: u64,
    /// User time, ticks.
    pub utime: u64,
    /// System time, ticks.
    pub stime: u64,
    /// Start time after boot, ticks.
    pub starttime: u64,
    /// Time waiting for block I/O, ticks.
    pub blkio_ticks: u64,
}

/// Parses `/proc/<pid>/stat`.
pub fn parse_pid_stat(text: &str) -> Option<PidStat> {
    let open = text.find('(')?;
    let close = text.rfind(')')?;
    let comm = text.get(open + 1..close)?.to_string();
    let f: Vec<&str> = text.get(close + 1..)?.split_whitespace().collect();
    // f[0] is field 3 (state) of proc(5).
    let n = |field: usize| f.get(field - 3).and_then(|v| v.parse::<u64>().ok()).unwrap_or(0);
    Some(PidStat {
        comm,
        state: f.first()?.chars().next()?,
        ppid: f.get(1)?.parse().ok()?,
        minflt: n(10),
        majflt: n(12),
        utime: n(14),
        stime: n(15),
        starttime: n(22),
        blkio_ticks: n(42),
    })
}

/// Parses `/proc/<pid>/status` into its `Key: value` pairs.
pub fn parse_status(text: &str) -> HashMap<String, String> {
    text.lines().filter_map(|l| l.split_once(':').map(|(k, v)| (k.trim().to_string(), v.trim().to_string()))).collect()
}

/// Parses `/proc/<pid>/statm`: total program size and resident set, in pages.
pub fn parse_statm(text: &str) -> Option<(u64, u64)> {
    let mut f = text.split_whitespace().map(|v| v.parse::<u64>());
    Some((f.next()?.ok()?, f.next()?.ok()?))
}

/// Splits `/proc/<pid>/cmdline` (NUL-separated) into its arguments.
pub fn parse_cmdline(bytes: &[u8]) -> Vec<String> {
    let trimmed = bytes.strip_suffix(&[0]).unwrap_or(bytes);
    if trimmed.is_empty() {
        return Vec::new();
    }
    trimmed.split(|b| *b == 0).map(|a| String::from_utf8_lossy(a).into_owned()).collect()
}

/// The user name of `uid` in an `/etc/passwd` text.
pub fn user_name(passwd: &str, uid: &str) -> Option<String> {
    passwd.lines().find_map(|l| {
        let f: Vec<&str> = l.split(':').collect();
        (f.len() > 2 && f[2] == uid).then(|| f[0].to_string())
    })
}
