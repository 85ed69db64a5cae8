//! A real DNS server for the tests: Debian's dnsmasq on 127.0.0.1 and a free high port,
//! answering only from its hosts file and options (no upstream, no `/etc` files), killed by
//! its PID when dropped.

use std::net::{SocketAddr, TcpStream, UdpSocket};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A running dnsmasq.
pub struct Dnsmasq {
    child: Child,
    /// The port it answers on (UDP and TCP), on 127.0.0.1.
    pub port: u16,
    _dir: tempfile::TempDir,
}

/// Where Debian's `dnsmasq-base` installs it (often not on a non-root PATH).
fn binary() -> Option<std::path::PathBuf> {
    let on_path = std::env::var_os("PATH")
        .map(|p| std::env::split_paths(&p).map(|d| d.join("dnsmasq")).collect::<Vec<_>>())
        .unwrap_or_default();
    on_path.into_iter().chain([std::path::PathBuf::from("/usr/sbin/dnsmasq")]).find(|p| p.is_file())
}

impl Dnsmasq {
    /// Starts one serving `hosts` (hosts-file text, which also gives PTR records) and
    /// `options` (`--cname=..`, `--ptr-record=..`, `--address=..`, `--local=..`). `None`,
    /// with the reason printed, when dnsmasq is not installed (`scripts/backends/install.sh`
    /// installs `dnsmasq-base`).
    pub fn start(hosts: &str, options: &[&str]) -> Option<Dnsmasq> {
        let Some(bin) = binary() else {
            eprintln!("SKIPPED: dnsmasq is not installed (apt-get install dnsmasq-base)");
            return None;
        };
        let dir = tempfile::tempdir().expect("tempdir");
        let hosts_file = dir.path().join("hosts");
        std::fs::write(&hosts_file, hosts).expect("write hosts");
        // A free port can be taken between our probe and dnsmasq's bind: try a few.
        for _ in 0..5 {
            let port = UdpSocket::bind("127.0.0.1:0").expect("bind").local_addr().expect("addr").port();
            let mut child = Command::new(&bin)
                .arg("--keep-in-foreground")
                .arg("--conf-file=/dev/null")
                .arg("--no-resolv")
                .arg("--no-hosts")
                .arg("--no-poll")
                .arg("--bind-interfaces")
                .arg("--listen-address=127.0.0.1")
                .arg(format!("--port={port}"))
                .arg(format!("--addn-hosts={}", hosts_file.display()))
                .arg(format!("--pid-file={}", dir.path().join("pid").display()))
                .arg("--user=root")
                .arg(format!("--log-facility={}", dir.path().join("log").display()))
                .args(options)
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(Stdio::piped())
                .spawn()
                .expect("spawn dnsmasq");
            let addr = SocketAddr::from(([127, 0, 0, 1], port));
            let deadline = Instant::now() + Duration::from_secs(5);
            while Instant::now() < deadline {
                if let Ok(Some(_)) = child.try_wait() {
                    break;
                }
                if TcpStream::connect_timeout(&addr, Duration::from_millis(100)).is_ok() {
                    return Some(Dnsmasq { child, port, _dir: dir });
                }
                std::thread::sleep(Duration::from_millis(20));
            }
            let _ = child.kill();
            let out = child.wait_with_output().expect("wait dnsmasq");
            eprintln!("dnsmasq on port {port} did not start: {}", String::from_utf8_lossy(&out.stderr));
        }
        panic!("dnsmasq did not start on any free port");
    }
}

impl Drop for Dnsmasq {
    fn drop(&mut self) {
        // SIGKILL to this child's PID only.
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
