//! The scrapers with include/exclude filters over named things: `disk` (block devices of
//! `/proc/diskstats`), `filesystem` (mounts of `/proc/1/mountinfo`, sized with statvfs
//! under `root_path`) and `network` (interfaces of `/proc/net/dev`, TCP sockets of
//! `/proc/net/tcp{,6}`).

use std::collections::BTreeMap;

use switchyard_core::component::FieldError;

use super::config::{
    DiskConfig, FilesystemConfig, Filter, NetworkConfig, DISK_FIELDS, FS_DEVICE_FIELDS, FS_MOUNT_FIELDS,
    FS_TYPE_FIELDS, NETWORK_FIELDS,
};
use super::metadata::{Builder, Enabled, DISK, FILESYSTEM, NETWORK};
use super::procfs::{self, Mount};
use super::{Context, Scraped};

/// Bytes per sector in `/proc/diskstats` (fixed by the kernel, whatever the device's).
const SECTOR: u64 = 512;

/// `disk`.
pub struct DiskScraper {
    enabled: Enabled,
    filter: Filter,
}

impl DiskScraper {
    /// A scraper with `cfg`'s metrics and filters.
    pub fn new(cfg: &DiskConfig) -> Result<Self, Vec<FieldError>> {
        Ok(DiskScraper {
            enabled: Enabled::new(DISK, &cfg.metrics),
            filter: Filter::new(DISK_FIELDS, &cfg.include, &cfg.exclude, "devices")?,
        })
    }

    /// One collection.
    pub fn scrape(&mut self, cx: &Context, now_ns: u64) -> Scraped {
        let mut out = Scraped::default();
        let mut b = Builder::new(DISK, &self.enabled, cx.boot_ns, now_ns);
        match cx.root.read_proc("diskstats") {
            Err(e) => out.fail(format!("failed to read /proc/diskstats: {e}"), DISK.len()),
            Ok(text) => {
                for d in procfs::parse_diskstats(&text).iter().filter(|d| self.filter.allows(&d.name)) {
                    let dev = d.name.as_str();
                    let (r, w) =
                        (&[("device", dev), ("direction", "read")], &[("device", dev), ("direction", "write")]);
                    b.uint("system.disk.io", d.sectors_read * SECTOR, r);
                    b.uint("system.disk.io", d.sectors_written * SECTOR, w);
                    b.uint("system.disk.operations", d.reads, r);
                    b.uint("system.disk.operations", d.writes, w);
                    b.double("system.disk.io_time", d.io_ms as f64 / 1e3, &[("device", dev)]);
                    b.double("system.disk.operation_time", d.read_ms as f64 / 1e3, r);
                    b.double("system.disk.operation_time", d.write_ms as f64 / 1e3, w);
                    b.double("system.disk.weighted_io_time", d.weighted_io_ms as f64 / 1e3, &[("device", dev)]);
                    b.uint("system.disk.pending_operations", d.in_progress, &[("device", dev)]);
                    b.uint("system.disk.merged", d.reads_merged, r);
                    b.uint("system.disk.merged", d.writes_merged, w);
                }
            }
        }
        out.add(b, "disk", cx);
        out
    }
}

/// `filesystem`.
pub struct FilesystemScraper {
    enabled: Enabled,
    include_virtual: bool,
    devices: Filter,
    types: Filter,
    mounts: Filter,
}

/// Space and inodes of one mount (statvfs).
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Usage {
    /// Bytes used.
    pub used: u64,
    /// Bytes available to unprivileged users.
    pub free: u64,
    /// Bytes only root may use.
    pub reserved: u64,
    /// Inodes used.
    pub inodes_used: u64,
    /// Inodes free.
    pub inodes_free: u64,
}

/// The usage of the filesystem holding `path`.
pub fn usage(path: &std::path::Path) -> std::io::Result<Usage> {
    let s = rustix::fs::statvfs(path)?;
    let unit = if s.f_frsize > 0 { s.f_frsize } else { s.f_bsize };
    let total = s.f_blocks.saturating_mul(unit);
    let used = s.f_blocks.saturating_sub(s.f_bfree).saturating_mul(unit);
    let free = s.f_bavail.saturating_mul(unit);
    Ok(Usage {
        used,
        free,
        reserved: total.saturating_sub(used).saturating_sub(free),
        inodes_used: s.f_files.saturating_sub(s.f_ffree),
        inodes_free: s.f_ffree,
    })
}

/// `rw`, `ro` or `unknown`, from a mount's options.
pub fn mount_mode(opts: &[String]) -> &'static str {
    if opts.iter().any(|o| o == "rw") {
        "rw"
    } else if opts.iter().any(|o| o == "ro") {
        "ro"
    } else {
        "unknown"
    }
}

impl FilesystemScraper {
    /// A scraper with `cfg`'s metrics and filters.
    pub fn new(cfg: &FilesystemConfig) -> Result<Self, Vec<FieldError>> {
        Ok(FilesystemScraper {
            enabled: Enabled::new(FILESYSTEM, &cfg.metrics),
            include_virtual: cfg.include_virtual_filesystems,
            devices: Filter::new(FS_DEVICE_FIELDS, &cfg.include_devices, &cfg.exclude_devices, "devices")?,
            types: Filter::new(FS_TYPE_FIELDS, &cfg.include_fs_types, &cfg.exclude_fs_types, "fs_types")?,
            mounts: Filter::new(FS_MOUNT_FIELDS, &cfg.include_mount_points, &cfg.exclude_mount_points, "mount_points")?,
        })
    }

    /// The mounts to report: physical ones (or all with `include_virtual_filesystems`)
    /// that pass the filters.
    pub fn select(&self, mounts: Vec<Mount>, physical: &[String]) -> Vec<Mount> {
        mounts
            .into_iter()
            .filter(|m| self.include_virtual || (m.device != "none" && physical.contains(&m.fstype)))
            .filter(|m| {
                self.devices.allows(&m.device) && self.types.allows(&m.fstype) && self.mounts.allows(&m.mountpoint)
            })
            .collect()
    }

    /// One collection.
    pub fn scrape(&mut self, cx: &Context, now_ns: u64) -> Scraped {
        let mut out = Scraped::default();
        let mut b = Builder::new(FILESYSTEM, &self.enabled, cx.boot_ns, now_ns);
        let text = cx.root.read_proc("1/mountinfo").or_else(|_| cx.root.read_proc("self/mountinfo"));
        let mounts = match text {
            Ok(t) => procfs::parse_mountinfo(&t),
            Err(e) => {
                out.fail(format!("failed collecting partitions information: {e}"), FILESYSTEM.len());
                Vec::new()
            }
        };
        let physical = cx.root.read_proc("filesystems").map(|t| procfs::parse_filesystems(&t)).unwrap_or_default();
        for m in self.select(mounts, &physical) {
            let path = cx.root.host(&m.mountpoint);
            let u = match usage(&path) {
                Ok(u) => u,
                Err(e) => {
                    out.fail(format!("failed to read usage at {}: {e}", path.display()), 0);
                    continue;
                }
            };
            let (dev, mode, mp, ty) =
                (m.device.as_str(), mount_mode(&m.opts), m.mountpoint.as_str(), m.fstype.as_str());
            for (state, v) in [("used", u.used), ("free", u.free), ("reserved", u.reserved)] {
                let attrs = [("device", dev), ("mode", mode), ("mountpoint", mp), ("type", ty), ("state", state)];
                b.uint("system.filesystem.usage", v, &attrs);
            }
            for (state, v) in [("used", u.inodes_used), ("free", u.inodes_free)] {
                let attrs = [("device", dev), ("mode", mode), ("mountpoint", mp), ("type", ty), ("state", state)];
                b.uint("system.filesystem.inodes.usage", v, &attrs);
            }
            let denom = u.used + u.free;
            let ratio = if denom == 0 { 0.0 } else { u.used as f64 / denom as f64 };
            let attrs = [("device", dev), ("mode", mode), ("mountpoint", mp), ("type", ty)];
            b.double("system.filesystem.utilization", ratio, &attrs);
        }
        out.add(b, "filesystem", cx);
        out
    }
}

/// The Collector's list of TCP states, each reported (as 0) even with no socket in it.
/// (FIN_WAIT_1/2 are spelled as the Collector lists them; the counts of sockets in those
/// states come under gopsutil's FIN_WAIT1/2, exactly as upstream reports them.)
const ALL_TCP_STATES: [&str; 12] = [
    "CLOSE_WAIT",
    "CLOSE",
    "CLOSING",
    "DELETE",
    "ESTABLISHED",
    "FIN_WAIT_1",
    "FIN_WAIT_2",
    "LAST_ACK",
    "LISTEN",
    "SYN_SENT",
    "SYN_RECV",
    "TIME_WAIT",
];

/// `network`.
pub struct NetworkScraper {
    enabled: Enabled,
    filter: Filter,
}

impl NetworkScraper {
    /// A scraper with `cfg`'s metrics and filters.
    pub fn new(cfg: &NetworkConfig) -> Result<Self, Vec<FieldError>> {
        Ok(NetworkScraper {
            enabled: Enabled::new(NETWORK, &cfg.metrics),
            filter: Filter::new(NETWORK_FIELDS, &cfg.include, &cfg.exclude, "interfaces")?,
        })
    }

    /// One collection.
    pub fn scrape(&mut self, cx: &Context, now_ns: u64) -> Scraped {
        let mut out = Scraped::default();
        let mut b = Builder::new(NETWORK, &self.enabled, cx.boot_ns, now_ns);
        match cx.root.read_proc("net/dev") {
            Err(e) => out.fail(format!("failed to read network IO stats: {e}"), 4),
            Ok(text) => {
                for d in procfs::parse_net_dev(&text).iter().filter(|d| self.filter.allows(&d.name)) {
                    let dev = d.name.as_str();
                    let (tx, rx) =
                        (&[("device", dev), ("direction", "transmit")], &[("device", dev), ("direction", "receive")]);
                    b.uint("system.network.packets", d.tx_packets, tx);
                    b.uint("system.network.packets", d.rx_packets, rx);
                    b.uint("system.network.dropped", d.tx_dropped, tx);
                    b.uint("system.network.dropped", d.rx_dropped, rx);
                    b.uint("system.network.errors", d.tx_errors, tx);
                    b.uint("system.network.errors", d.rx_errors, rx);
                    b.uint("system.network.io", d.tx_bytes, tx);
                    b.uint("system.network.io", d.rx_bytes, rx);
                }
            }
        }
        if b.on("system.network.connections") {
            match cx.root.read_proc("net/tcp") {
                Err(e) => out.fail(format!("failed to read TCP connections: {e}"), 1),
                Ok(text) => {
                    let mut counts: BTreeMap<&str, u64> = ALL_TCP_STATES.iter().map(|s| (*s, 0)).collect();
                    let v6 = cx.root.read_proc("net/tcp6").unwrap_or_default();
                    for s in procfs::parse_tcp_states(&text).into_iter().chain(procfs::parse_tcp_states(&v6)) {
                        *counts.entry(s).or_default() += 1;
                    }
                    for (state, n) in counts {
                        b.uint("system.network.connections", n, &[("protocol", "tcp"), ("state", state)]);
                    }
                }
            }
        }
        if b.on("system.network.conntrack.count") || b.on("system.network.conntrack.max") {
            let read = |f: &str| {
                cx.root
                    .read_proc(&format!("sys/net/netfilter/{f}"))
                    .map_err(|e| e.to_string())
                    .and_then(|t| t.trim().parse::<u64>().map_err(|e| e.to_string()))
            };
            match (read("nf_conntrack_count"), read("nf_conntrack_max")) {
                (Ok(count), Ok(max)) => {
                    b.uint("system.network.conntrack.count", count, &[]);
                    b.uint("system.network.conntrack.max", max, &[]);
                }
                (Err(e), _) | (_, Err(e)) => out.fail(format!("failed to read conntrack info: {e}"), 1),
            }
        }
        out.add(b, "network", cx);
        out
    }
}
