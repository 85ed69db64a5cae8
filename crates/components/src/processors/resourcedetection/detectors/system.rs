//! `system`: the host, read from the kernel's files (`/proc`, `/sys`, `/etc`): upstream's
//! internal/system (gopsutil and otel-go's resource package there; we read the same files).
//!
//! `host.name` comes from the first `hostname_sources` entry that works (default `dns`,
//! then `os`); if none does, the detector fails, as upstream:
//!
//! - `os`: the kernel's host name;
//! - `dns`: the FQDN as go-fqdn finds it: the hosts file, then the canonical name (CNAME),
//!   then a reverse lookup of the host's addresses;
//! - `cname`: the canonical name (`net.LookupCNAME`: hosts file, then DNS);
//! - `lookup`: a reverse lookup of the host's addresses (`net.LookupHost` + `LookupAddr`).

mod dns;

use std::net::IpAddr;

use super::{Builder, DetectError, Detected, SCHEMA_URL};
use crate::processors::resourcedetection::attrs::Enabled;
use crate::processors::resourcedetection::config::SystemConfig;

/// The longest one hostname source may take (only DNS queries can take long).
const DNS_BUDGET: std::time::Duration = std::time::Duration::from_secs(2);

/// The `system` detector.
pub struct SystemDetector {
    sources: Vec<String>,
    enabled: Enabled,
    root: std::path::PathBuf,
    /// Tests: a resolver instead of `/etc/resolv.conf`'s.
    resolver: Option<dns::Resolver>,
}

impl SystemDetector {
    /// From `system:`.
    pub fn new(cfg: &SystemConfig, enabled: Enabled) -> Self {
        let sources = if cfg.hostname_sources.is_empty() {
            vec!["dns".to_string(), "os".to_string()]
        } else {
            cfg.hostname_sources.clone()
        };
        SystemDetector { sources, enabled, root: std::path::PathBuf::from("/"), resolver: None }
    }

    /// Reads files under `root` instead of `/` (tests).
    #[cfg(test)]
    pub fn with_root(mut self, root: &std::path::Path) -> Self {
        self.root = root.to_path_buf();
        self
    }

    /// Uses `resolver` instead of `/etc/resolv.conf`'s (tests).
    #[cfg(test)]
    pub fn with_resolver(mut self, resolver: dns::Resolver) -> Self {
        self.resolver = Some(resolver);
        self
    }

    /// The test's resolver, else one from `resolv.conf` under the root (hickory's parser).
    fn resolver(&self) -> Result<dns::Resolver, String> {
        match &self.resolver {
            Some(r) => Ok(r.clone()),
            None => dns::Resolver::from_resolv_conf(&self.read("/etc/resolv.conf").unwrap_or_default()),
        }
    }

    fn read(&self, path: &str) -> Option<String> {
        std::fs::read_to_string(self.root.join(path.trim_start_matches('/'))).ok()
    }

    /// Reads the host now.
    pub async fn detect(&self) -> Result<Detected, DetectError> {
        let mut failures = Vec::new();
        let mut hostname = None;
        for source in &self.sources {
            // A DNS source that gets no answer must leave time for the next source (`os`
            // by default) within the detector's timeout.
            let attempt = tokio::time::timeout(DNS_BUDGET, self.hostname_from(source));
            match attempt.await.unwrap_or_else(|_| Err(format!("no answer within {DNS_BUDGET:?}"))) {
                Ok(h) => {
                    hostname = Some(h);
                    break;
                }
                Err(e) => failures.push(format!("{source}: {e}")),
            }
        }
        let Some(hostname) = hostname else {
            return Err(DetectError::Failed(format!(
                "all hostname sources failed to get hostname ({})",
                failures.join("; ")
            )));
        };
        let mut b = Builder::new(&self.enabled, SCHEMA_URL);
        b.str("host.name", hostname);
        b.str("os.type", os_type(std::env::consts::OS));
        if b.wants("host.id") {
            match self.host_id() {
                Some(id) => b.str("host.id", id),
                None => tracing::warn!("resourcedetection system: failed to get host ID (no /etc/machine-id)"),
            }
        }
        b.str("host.arch", host_arch(std::env::consts::ARCH));
        if b.wants("host.ip") {
            b.strs("host.ip", self.host_ips());
        }
        if b.wants("host.mac") || b.wants("host.interface") {
            let (names, macs) = self.interfaces();
            b.strs("host.mac", macs);
            b.strs("host.interface", names);
        }
        let os_release = self.os_release();
        if b.wants("os.description") {
            b.str("os.description", self.os_description(&os_release));
        }
        if let Some(name) = field(&os_release, "NAME") {
            b.str("os.name", name);
        }
        if let Some(version) = field(&os_release, "VERSION_ID") {
            b.str("os.version", version);
        }
        if b.wants("host.cpu.vendor.id")
            || b.wants("host.cpu.family")
            || b.wants("host.cpu.model.id")
            || b.wants("host.cpu.model.name")
            || b.wants("host.cpu.stepping")
            || b.wants("host.cpu.cache.l2.size")
        {
            self.cpu(&mut b);
        }
        Ok(b.finish())
    }

    async fn hostname_from(&self, source: &str) -> Result<String, String> {
        match source {
            "os" => self.os_hostname(),
            "dns" => {
                let host = self.os_hostname()?;
                if let Some(fqdn) = self.fqdn_from_hosts(&host) {
                    return Ok(fqdn);
                }
                let resolver = self.resolver()?;
                match resolver.canonical_name(&host).await {
                    Ok(name) if name.contains('.') => Ok(name),
                    _ => self.reverse_lookup(&resolver, &host).await,
                }
            }
            "cname" => {
                let host = self.os_hostname()?;
                match self.fqdn_from_hosts(&host) {
                    Some(name) => Ok(name),
                    None => self.resolver()?.canonical_name(&host).await.map_err(|e| format!("lookupCNAME: {e}")),
                }
            }
            "lookup" => {
                let host = self.os_hostname()?;
                self.reverse_lookup(&self.resolver()?, &host).await
            }
            other => Err(format!("hostname source \"{other}\" is not supported")),
        }
    }

    /// The host's addresses (`net.LookupHost`: hosts file, else DNS), then the first that
    /// has a name: in the hosts file, else by PTR query (`net.LookupAddr`).
    async fn reverse_lookup(&self, resolver: &dns::Resolver, host: &str) -> Result<String, String> {
        let addrs = match self.addresses_in_hosts(host) {
            Some(addrs) => addrs,
            None => resolver.addresses(host).await.map_err(|e| format!("lookup {host}: {e}"))?,
        };
        let mut last = format!("{host} has no address");
        for ip in addrs {
            if let Some(name) = self.name_in_hosts(ip) {
                return Ok(name);
            }
            match resolver.reverse(ip).await {
                Ok(name) => return Ok(name),
                Err(e) => last = e,
            }
        }
        Err(format!("reverseLookup failed to convert IP addresses to name: {last}"))
    }

    /// The addresses of the hosts-file lines listing `host`, if any.
    fn addresses_in_hosts(&self, host: &str) -> Option<Vec<IpAddr>> {
        let hosts = self.read("/etc/hosts")?;
        let addrs: Vec<IpAddr> = hosts
            .lines()
            .filter_map(|line| {
                let mut f = line.split('#').next().unwrap_or("").split_whitespace();
                let addr = f.next()?.parse::<IpAddr>().ok()?;
                f.any(|n| n.trim_end_matches('.').eq_ignore_ascii_case(host)).then_some(addr)
            })
            .collect();
        (!addrs.is_empty()).then_some(addrs)
    }

    /// The first name of the hosts-file line for `ip`.
    fn name_in_hosts(&self, ip: IpAddr) -> Option<String> {
        let hosts = self.read("/etc/hosts")?;
        hosts.lines().find_map(|line| {
            let mut f = line.split('#').next().unwrap_or("").split_whitespace();
            let addr = f.next()?.parse::<IpAddr>().ok()?;
            (addr == ip).then(|| f.next().map(|n| n.trim_end_matches('.').to_string())).flatten()
        })
    }

    /// The kernel's host name (`os.Hostname`).
    fn os_hostname(&self) -> Result<String, String> {
        self.read("/proc/sys/kernel/hostname")
            .map(|s| s.trim().to_string())
            .filter(|s| !s.is_empty())
            .or_else(|| std::env::var("HOSTNAME").ok().filter(|s| !s.is_empty()))
            .ok_or_else(|| "cannot read the OS host name".to_string())
    }

    /// The canonical name of the hosts-file line listing `host` (go-fqdn's first step).
    fn fqdn_from_hosts(&self, host: &str) -> Option<String> {
        let hosts = self.read("/etc/hosts")?;
        for line in hosts.lines() {
            let line = line.split('#').next().unwrap_or("");
            let fields: Vec<&str> = line.split_whitespace().collect();
            if fields.len() < 2 {
                continue;
            }
            if fields[1..].iter().any(|n| n.eq_ignore_ascii_case(host)) {
                return Some(fields[1].trim_end_matches('.').to_string());
            }
        }
        None
    }

    /// `/etc/machine-id`, else `/var/lib/dbus/machine-id` (otel-go's Linux host id).
    fn host_id(&self) -> Option<String> {
        ["/etc/machine-id", "/var/lib/dbus/machine-id"]
            .iter()
            .filter_map(|p| self.read(p))
            .map(|s| s.trim().to_string())
            .find(|s| !s.is_empty())
    }

    /// Non-loopback addresses: IPv4 from the kernel's local routing table, IPv6 from
    /// `/proc/net/if_inet6` of interfaces that are up.
    fn host_ips(&self) -> Vec<String> {
        let mut ips: Vec<String> = Vec::new();
        if let Some(trie) = self.read("/proc/net/fib_trie") {
            let mut last: Option<&str> = None;
            for line in trie.lines() {
                let t = line.trim_start_matches([' ', '|', '-', '+']).trim();
                if t.contains("host LOCAL") {
                    if let Some(ip) = last {
                        if !ip.starts_with("127.") && !ips.iter().any(|x| x == ip) {
                            ips.push(ip.to_string());
                        }
                    }
                } else if t.parse::<std::net::Ipv4Addr>().is_ok() {
                    last = Some(t);
                }
            }
        }
        if let Some(v6) = self.read("/proc/net/if_inet6") {
            for line in v6.lines() {
                let f: Vec<&str> = line.split_whitespace().collect();
                if f.len() < 6 || f[5] == "lo" || !self.iface_up(f[5]) {
                    continue;
                }
                if let Ok(bits) = u128::from_str_radix(f[0], 16) {
                    let ip = std::net::Ipv6Addr::from(bits);
                    if !ip.is_loopback() {
                        ips.push(ip.to_string());
                    }
                }
            }
        }
        ips
    }

    fn iface_up(&self, name: &str) -> bool {
        let flags = self.read(&format!("/sys/class/net/{name}/flags"));
        let flags = flags.and_then(|f| u32::from_str_radix(f.trim().trim_start_matches("0x"), 16).ok());
        flags.is_some_and(|f| f & 0x1 != 0 && f & 0x8 == 0)
    }

    /// Names and MAC addresses (IEEE RA form, `AA-BB-...`) of the interfaces that are up
    /// and not loopback.
    fn interfaces(&self) -> (Vec<String>, Vec<String>) {
        let (mut names, mut macs) = (Vec::new(), Vec::new());
        let Ok(dir) = std::fs::read_dir(self.root.join("sys/class/net")) else { return (names, macs) };
        let mut all: Vec<String> =
            dir.filter_map(|e| e.ok()).map(|e| e.file_name().to_string_lossy().into_owned()).collect();
        all.sort();
        for name in all {
            if !self.iface_up(&name) {
                continue;
            }
            if let Some(mac) = self.read(&format!("/sys/class/net/{name}/address")) {
                let mac = mac.trim();
                if !mac.is_empty() && mac != "00:00:00:00:00:00" {
                    macs.push(mac.replace(':', "-").to_ascii_uppercase());
                }
            }
            names.push(name);
        }
        (names, macs)
    }

    fn os_release(&self) -> String {
        self.read("/etc/os-release").or_else(|| self.read("/usr/lib/os-release")).unwrap_or_default()
    }

    /// otel-go's form: `<PRETTY_NAME> (<sysname> <nodename> <release> <version> <machine>)`.
    fn os_description(&self, os_release: &str) -> String {
        let k = |p: &str| self.read(p).map(|s| s.trim().to_string()).unwrap_or_default();
        let uname = format!(
            "{} {} {} {} {}",
            k("/proc/sys/kernel/ostype"),
            k("/proc/sys/kernel/hostname"),
            k("/proc/sys/kernel/osrelease"),
            k("/proc/sys/kernel/version"),
            std::env::consts::ARCH
        );
        match field(os_release, "PRETTY_NAME").or_else(|| field(os_release, "NAME")) {
            Some(pretty) => format!("{pretty} ({uname})"),
            None => uname,
        }
    }

    /// The first processor of `/proc/cpuinfo` (x86 field names; absent ones are skipped).
    fn cpu(&self, b: &mut Builder<'_>) {
        let Some(info) = self.read("/proc/cpuinfo") else { return };
        let first = info.split("\n\n").next().unwrap_or("");
        let get = |name: &str| {
            first.lines().find_map(|l| {
                let (k, v) = l.split_once(':')?;
                (k.trim() == name).then(|| v.trim().to_string())
            })
        };
        if let Some(v) = get("vendor_id") {
            b.str("host.cpu.vendor.id", v);
        }
        if let Some(v) = get("cpu family") {
            b.str("host.cpu.family", v);
        }
        if let Some(v) = get("model") {
            b.str("host.cpu.model.id", v);
        }
        if let Some(v) = get("model name") {
            b.str("host.cpu.model.name", v);
        }
        if let Some(v) = get("stepping") {
            b.str("host.cpu.stepping", v);
        }
        if let Some(kb) = get("cache size").and_then(|v| v.split_whitespace().next()?.parse::<i64>().ok()) {
            b.int("host.cpu.cache.l2.size", kb);
        }
    }
}

/// A value of an os-release file, quotes removed.
fn field(os_release: &str, key: &str) -> Option<String> {
    os_release.lines().find_map(|l| {
        let (k, v) = l.split_once('=')?;
        (k.trim() == key).then(|| v.trim().trim_matches('"').trim_matches('\'').to_string())
    })
}

/// Go's GOOS as semantic-conventions `os.type` (upstream `GOOSToOSType`).
pub fn os_type(os: &str) -> &str {
    match os {
        "macos" => "darwin",
        "dragonfly" => "dragonflybsd",
        other => other,
    }
}

/// Rust's target arch as semantic-conventions `host.arch` (upstream `GOARCHtoHostArch`).
pub fn host_arch(arch: &str) -> &str {
    match arch {
        "x86_64" => "amd64",
        "aarch64" => "arm64",
        "x86" => "x86",
        "arm" => "arm32",
        "powerpc" => "ppc32",
        "powerpc64" => "ppc64",
        "s390x" => "s390x",
        other => other,
    }
}

#[cfg(test)]
mod tests;
