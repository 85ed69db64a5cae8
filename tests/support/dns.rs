//! A real DNS server for the tests: Debian's `dnsmasq` (package `dnsmasq-base`, installed
//! by `scripts/backends/install.sh`) in the foreground on 127.0.0.1 and a free port,
//! answering only from a hosts file the test writes. Rewriting the file and sending SIGHUP
//! (to the PID we started) makes dnsmasq re-read it, which is how members join and leave.

use std::net::Ipv4Addr;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use super::{free_port, wait_until};

const DNSMASQ: &str = "/usr/sbin/dnsmasq";

/// A running dnsmasq; killed when dropped.
pub struct Dnsmasq {
    child: Child,
    pub dir: tempfile::TempDir,
    hosts: PathBuf,
    pub port: u16,
}

impl Dnsmasq {
    /// Starts dnsmasq serving `name` → each of `ips`. Names under `.test` that the file does
    /// not list get NXDOMAIN (not REFUSED: dnsmasq has no upstream here).
    pub fn start(name: &str, ips: &[Ipv4Addr]) -> Dnsmasq {
        assert!(
            std::path::Path::new(DNSMASQ).exists(),
            "{DNSMASQ} not found: run scripts/backends/install.sh (package dnsmasq-base)"
        );
        let dir = tempfile::tempdir().expect("tempdir");
        // dnsmasq may drop to `nobody`: it must still be able to read the file on SIGHUP.
        set_mode(dir.path(), 0o755);
        let hosts = dir.path().join("hosts");
        write_hosts(&hosts, name, ips);
        let log = std::fs::File::create(dir.path().join("dnsmasq.log")).expect("log");
        for _attempt in 0..4 {
            let port = free_port();
            let mut child = Command::new(DNSMASQ)
                .args(["--keep-in-foreground", "--conf-file=/dev/null", "--pid-file"])
                .args(["--no-resolv", "--no-hosts", "--local=/test/", "--local-ttl=0"])
                .arg(format!("--addn-hosts={}", hosts.display()))
                .args(["--listen-address=127.0.0.1", "--bind-interfaces", &format!("--port={port}")])
                .args(["--log-queries", "--log-facility=-"])
                .stdout(Stdio::null())
                .stderr(log.try_clone().expect("log"))
                .spawn()
                .expect("spawn dnsmasq");
            let exited = |c: &mut Child| matches!(c.try_wait(), Ok(Some(_)));
            let up = wait_until(Duration::from_secs(10), || {
                std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() || exited(&mut child)
            });
            if up && !exited(&mut child) {
                return Dnsmasq { child, dir, hosts, port };
            }
            // Most likely the port was taken between picking and binding: another one.
            let _ = child.kill();
            let _ = child.wait();
        }
        panic!("dnsmasq did not start:\n{}", read(&dir.path().join("dnsmasq.log")));
    }

    /// `ip:port` for `SWITCHYARD_DNS_SERVER`.
    pub fn server(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }

    /// Replaces the records: `name` → each of `ips` (none: the name is gone, NXDOMAIN), and
    /// makes dnsmasq re-read them.
    pub fn set(&mut self, name: &str, ips: &[Ipv4Addr]) {
        write_hosts(&self.hosts, name, ips);
        let status = Command::new("kill").arg("-HUP").arg(self.child.id().to_string()).status().expect("kill -HUP");
        assert!(status.success(), "SIGHUP to dnsmasq failed");
    }

    /// dnsmasq's log (it logs every query).
    pub fn logs(&self) -> String {
        read(&self.dir.path().join("dnsmasq.log"))
    }
}

impl Drop for Dnsmasq {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn write_hosts(hosts: &std::path::Path, name: &str, ips: &[Ipv4Addr]) {
    let text: String = ips.iter().map(|ip| format!("{ip} {name}\n")).collect();
    // Written aside then renamed: dnsmasq never reads half a file.
    let tmp = hosts.with_extension("tmp");
    std::fs::write(&tmp, text).expect("write hosts");
    set_mode(&tmp, 0o644);
    std::fs::rename(&tmp, hosts).expect("rename hosts");
}

fn set_mode(path: &std::path::Path, mode: u32) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).expect("chmod");
}

fn read(p: &std::path::Path) -> String {
    std::fs::read_to_string(p).unwrap_or_default()
}
