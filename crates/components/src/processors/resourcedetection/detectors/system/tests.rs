//! The `system` detector over a fake root holding the files it reads.

mod dnsmasq;

use std::path::Path;

use dnsmasq::Dnsmasq;

use super::*;
use crate::processors::resourcedetection::attrs::{self, Enabled};
use crate::processors::resourcedetection::config::{AttrToggle, ResourceAttributes};

fn write(root: &Path, path: &str, text: &str) {
    let p = root.join(path);
    std::fs::create_dir_all(p.parent().expect("parent")).expect("mkdir");
    std::fs::write(p, text).expect("write");
}

fn host(root: &Path) {
    write(root, "proc/sys/kernel/hostname", "web-1\n");
    write(root, "proc/sys/kernel/ostype", "Linux\n");
    write(root, "proc/sys/kernel/osrelease", "6.1.0-18-amd64\n");
    write(root, "proc/sys/kernel/version", "#1 SMP PREEMPT_DYNAMIC Debian 6.1.76-1\n");
    write(root, "etc/hosts", "127.0.0.1 localhost\n# comment\n10.0.0.5 web-1.example.com web-1 # app\n");
    write(root, "etc/machine-id", "4f3c1e8a9b2d4c6e8f0a1b2c3d4e5f60\n");
    write(
        root,
        "etc/os-release",
        "PRETTY_NAME=\"Debian GNU/Linux 12 (bookworm)\"\nNAME=\"Debian GNU/Linux\"\nVERSION_ID=\"12\"\nID=debian\n",
    );
    write(root, "proc/net/fib_trie", "Main:\n  +-- 0.0.0.0/0 3 0 5\n     |-- 10.0.0.5\n        /32 host LOCAL\n     |-- 127.0.0.1\n        /32 host LOCAL\nLocal:\n     |-- 10.0.0.5\n        /32 host LOCAL\n");
    write(
        root,
        "proc/net/if_inet6",
        "fe80000000000000020c29fffe8a6b2c 02 40 20 80 eth0\n00000000000000000000000000000001 01 80 10 80 lo\n",
    );
    write(root, "sys/class/net/eth0/flags", "0x1003\n");
    write(root, "sys/class/net/eth0/address", "00:0c:29:8a:6b:2c\n");
    write(root, "sys/class/net/lo/flags", "0x9\n");
    write(root, "sys/class/net/lo/address", "00:00:00:00:00:00\n");
    write(root, "sys/class/net/eth1/flags", "0x1002\n");
    write(root, "sys/class/net/eth1/address", "00:0c:29:00:00:01\n");
    write(
        root,
        "proc/cpuinfo",
        "processor\t: 0\nvendor_id\t: GenuineIntel\ncpu family\t: 6\nmodel\t\t: 85\nmodel name\t: Intel(R) Xeon(R) Platinum 8259CL CPU @ 2.50GHz\nstepping\t: 7\ncache size\t: 36608 KB\n\nprocessor\t: 1\nvendor_id\t: Other\n",
    );
}

async fn detect(root: &Path, sources: &[&str], toggles: &[(&str, bool)]) -> Result<Vec<(String, String)>, DetectError> {
    detect_with(root, sources, toggles, None).await
}

async fn detect_with(
    root: &Path,
    sources: &[&str],
    toggles: &[(&str, bool)],
    resolver: Option<dns::Resolver>,
) -> Result<Vec<(String, String)>, DetectError> {
    let mut given = ResourceAttributes::new();
    for (k, on) in toggles {
        given.insert(k.to_string(), AttrToggle { enabled: Some(*on) });
    }
    let cfg = SystemConfig {
        hostname_sources: sources.iter().map(|s| s.to_string()).collect(),
        resource_attributes: given.clone(),
    };
    let mut d = SystemDetector::new(&cfg, Enabled::new(attrs::SYSTEM, &given)).with_root(root);
    if let Some(r) = resolver {
        d = d.with_resolver(r);
    }
    let found = d.detect().await?;
    assert_eq!(found.schema_url, SCHEMA_URL);
    Ok(found
        .attrs
        .iter()
        .map(|kv| (kv.key.clone(), switchyard_pdata::value::as_string(kv.value.as_ref().expect("value")).into_owned()))
        .collect())
}

#[tokio::test]
async fn defaults_are_host_name_from_the_hosts_file_and_os_type() {
    let dir = tempfile::tempdir().expect("tempdir");
    host(dir.path());
    let out = detect(dir.path(), &[], &[]).await.expect("detects");
    assert_eq!(
        out,
        vec![
            ("host.name".into(), "web-1.example.com".into()),
            ("os.type".into(), os_type(std::env::consts::OS).into())
        ]
    );
}

#[tokio::test]
async fn hostname_sources_are_tried_in_order() {
    let dir = tempfile::tempdir().expect("tempdir");
    host(dir.path());
    let out = detect(dir.path(), &["os", "dns"], &[]).await.expect("detects");
    assert_eq!(out[0], ("host.name".into(), "web-1".into()));
    // Not in the hosts file: dns fails, os answers.
    write(dir.path(), "etc/hosts", "127.0.0.1 localhost\n");
    let out = detect(dir.path(), &["dns", "os"], &[]).await.expect("detects");
    assert_eq!(out[0], ("host.name".into(), "web-1".into()));
    let err = detect(dir.path(), &["dns"], &[]).await.expect_err("no source works");
    assert!(err.to_string().contains("all hostname sources failed"), "{err}");
}

#[tokio::test]
async fn opt_in_attributes_when_enabled() {
    let dir = tempfile::tempdir().expect("tempdir");
    host(dir.path());
    let all: Vec<(&str, bool)> = attrs::SYSTEM.iter().map(|(n, _)| (*n, true)).collect();
    let mut toggles = all.clone();
    toggles.push(("os.type", false));
    let out = detect(dir.path(), &["os"], &toggles).await.expect("detects");
    let get = |k: &str| out.iter().find(|(n, _)| n == k).map(|(_, v)| v.as_str());
    assert_eq!(get("os.type"), None, "disabled");
    assert_eq!(get("host.id"), Some("4f3c1e8a9b2d4c6e8f0a1b2c3d4e5f60"));
    assert_eq!(get("host.arch"), Some(host_arch(std::env::consts::ARCH)));
    assert_eq!(get("host.ip"), Some("[\"10.0.0.5\",\"fe80::20c:29ff:fe8a:6b2c\"]"));
    assert_eq!(get("host.mac"), Some("[\"00-0C-29-8A-6B-2C\"]"), "up, non-loopback interfaces only");
    assert_eq!(get("host.interface"), Some("[\"eth0\"]"));
    let desc = get("os.description").expect("description");
    assert!(desc.starts_with("Debian GNU/Linux 12 (bookworm) (Linux web-1 6.1.0-18-amd64 #1 SMP"), "{desc}");
    assert_eq!(get("os.name"), Some("Debian GNU/Linux"));
    assert_eq!(get("os.version"), Some("12"));
    assert_eq!(get("host.cpu.vendor.id"), Some("GenuineIntel"));
    assert_eq!(get("host.cpu.family"), Some("6"));
    assert_eq!(get("host.cpu.model.id"), Some("85"));
    assert_eq!(get("host.cpu.model.name"), Some("Intel(R) Xeon(R) Platinum 8259CL CPU @ 2.50GHz"));
    assert_eq!(get("host.cpu.stepping"), Some("7"));
    assert_eq!(get("host.cpu.cache.l2.size"), Some("36608"));
}

#[test]
fn go_names_for_arch_and_os() {
    assert_eq!(host_arch("x86_64"), "amd64");
    assert_eq!(host_arch("aarch64"), "arm64");
    assert_eq!(os_type("macos"), "darwin");
    assert_eq!(os_type("linux"), "linux");
}

#[tokio::test]
async fn on_this_machine_it_sets_host_name_and_os_type() {
    let d = SystemDetector::new(&SystemConfig::default(), Enabled::new(attrs::SYSTEM, &ResourceAttributes::new()));
    let found = d.detect().await.expect("detects");
    assert_eq!(found.keys(), vec!["host.name", "os.type"]);
}

/// A resolver reading `conf` (a test `resolv.conf`), every server asked on `port`.
fn resolver(conf: &str, port: u16) -> dns::Resolver {
    dns::Resolver::from_resolv_conf_on_port(conf, port).expect("resolver")
}

const CORP: &str = "nameserver 127.0.0.1\nsearch corp.example\n";

/// dnsmasq authoritative for `corp.example` (unknown names there are NXDOMAIN, so the
/// search list moves on) and for the 10.0.0.0/24 reverse zone.
fn corp_dns(hosts: &str, options: &[&str]) -> Option<Dnsmasq> {
    let mut all = vec!["--local=/corp.example/", "--local=/0.0.10.in-addr.arpa/"];
    all.extend_from_slice(options);
    Dnsmasq::start(hosts, &all)
}

#[tokio::test]
async fn cname_follows_the_canonical_name_over_the_search_list() {
    let Some(server) = corp_dns("10.0.0.9 lb.corp.example\n", &["--cname=web-1.corp.example,lb.corp.example"]) else {
        return;
    };
    let dir = tempfile::tempdir().expect("tempdir");
    host(dir.path());
    write(dir.path(), "etc/hosts", "127.0.0.1 localhost\n");
    let out = detect_with(dir.path(), &["cname"], &[], Some(resolver(CORP, server.port))).await.expect("detects");
    assert_eq!(out[0], ("host.name".into(), "lb.corp.example".into()));
    // dns: not in the hosts file, so the canonical name.
    let out = detect_with(dir.path(), &["dns"], &[], Some(resolver(CORP, server.port))).await.expect("detects");
    assert_eq!(out[0], ("host.name".into(), "lb.corp.example".into()));
    // A name the server does not know: cname fails, the next source answers.
    write(dir.path(), "proc/sys/kernel/hostname", "nowhere\n");
    let out = detect_with(dir.path(), &["cname", "os"], &[], Some(resolver(CORP, server.port))).await.expect("detects");
    assert_eq!(out[0], ("host.name".into(), "nowhere".into()));
}

#[tokio::test]
async fn lookup_reverses_the_host_addresses() {
    let Some(server) = corp_dns(
        "",
        &[
            "--address=/web-2.corp.example/10.0.0.7",
            "--ptr-record=7.0.0.10.in-addr.arpa,host-7.corp.example",
            // A single-label name: its canonical name has no dot, so `dns` reverses it.
            "--address=/db/10.0.0.8",
            "--ptr-record=8.0.0.10.in-addr.arpa,db-8.corp.example",
        ],
    ) else {
        return;
    };
    let dir = tempfile::tempdir().expect("tempdir");
    host(dir.path());
    write(dir.path(), "proc/sys/kernel/hostname", "web-2\n");
    write(dir.path(), "etc/hosts", "127.0.0.1 localhost\n");
    let detect_on = |sources: &'static [&'static str]| {
        let root = dir.path().to_path_buf();
        let r = resolver(CORP, server.port);
        async move { detect_with(&root, sources, &[], Some(r)).await.expect("detects")[0].1.clone() }
    };
    // lookup: web-2 -> 10.0.0.7 -> PTR; cname and dns: the searched name.
    assert_eq!(detect_on(&["lookup"]).await, "host-7.corp.example");
    assert_eq!(detect_on(&["cname"]).await, "web-2.corp.example");
    assert_eq!(detect_on(&["dns"]).await, "web-2.corp.example");
    // dns: no hosts entry, a canonical name without a dot, so the reverse lookup.
    write(dir.path(), "proc/sys/kernel/hostname", "db\n");
    assert_eq!(detect_on(&["cname"]).await, "db");
    assert_eq!(detect_on(&["dns"]).await, "db-8.corp.example");
    // A name for the address in the hosts file wins over DNS.
    write(dir.path(), "etc/hosts", "10.0.0.8 db.lan\n");
    assert_eq!(detect_on(&["lookup"]).await, "db.lan");
}

#[tokio::test]
async fn resolv_conf_search_list_and_ndots_order_the_names_tried() {
    let Some(server) = Dnsmasq::start(
        "10.0.0.1 web.sub\n10.0.0.2 web.sub.b.example\n",
        &["--local=/a.example/", "--local=/b.example/", "--local=/sub/"],
    ) else {
        return;
    };
    // One dot, ndots 1 (the default): the name as given first.
    let r = resolver("nameserver 127.0.0.1\nsearch a.example b.example.\n", server.port);
    assert_eq!(r.canonical_name("web.sub").await.expect("found"), "web.sub");
    // ndots:2: the search list first; a.example has no such name, b.example has.
    let r =
        resolver("# c\nnameserver 127.0.0.1\nsearch a.example b.example.\noptions ndots:2 timeout:1\n", server.port);
    assert_eq!(r.canonical_name("web.sub").await.expect("found"), "web.sub.b.example");
    assert_eq!(r.addresses("web.sub").await.expect("found"), vec![std::net::IpAddr::from([10, 0, 0, 2])]);
    assert_eq!(r.reverse([10, 0, 0, 1].into()).await.expect("found"), "web.sub");
}

#[tokio::test]
async fn a_dns_server_that_never_answers_falls_back_to_the_next_source_in_time() {
    let dir = tempfile::tempdir().expect("tempdir");
    host(dir.path());
    write(dir.path(), "etc/hosts", "127.0.0.1 localhost\n");
    let silent = tokio::net::UdpSocket::bind("127.0.0.1:0").await.expect("bind");
    let port = silent.local_addr().expect("addr").port();
    let start = std::time::Instant::now();
    let out = detect_with(dir.path(), &["dns", "os"], &[], Some(resolver(CORP, port))).await.expect("detects");
    assert_eq!(out[0], ("host.name".into(), "web-1".into()));
    assert!(start.elapsed() < std::time::Duration::from_secs(3), "took {:?}", start.elapsed());
    drop(silent);
}
