//! The `hostmetrics` receiver end to end: the real binary reads this machine's `/proc`
//! every second with every scraper and exports over OTLP to the Python sink; the test
//! checks what a user would, against the machine itself (`/proc/meminfo`, `df`, its own
//! pid). A second gateway reads a fake host under `root_path` whose values the test wrote,
//! and exactly those values arrive: the proof that every path goes under `root_path`.

mod support;

use std::path::Path;
use std::process::Command;
use std::time::Duration;

use support::{items_of, wait_until, Gateway, Item, Sink};

fn points(sink: &Sink) -> Vec<Item> {
    sink.requests().iter().filter(|r| r["signal"] == "metrics").flat_map(|r| items_of(&r["request"], None)).collect()
}

fn num(p: &Item) -> f64 {
    let v = &p.item;
    v["asDouble"]
        .as_f64()
        .or_else(|| v["asInt"].as_str().and_then(|s| s.parse().ok()))
        .or_else(|| v["asInt"].as_f64())
        .unwrap_or(f64::NAN)
}

fn ts(p: &Item, key: &str) -> u64 {
    p.item[key].as_str().and_then(|s| s.parse().ok()).unwrap_or(0)
}

/// Points of `metric` with every attribute of `want`, oldest first.
fn find(all: &[Item], metric: &str, want: &[(&str, &str)]) -> Vec<Item> {
    let mut v: Vec<Item> = all
        .iter()
        .filter(|p| p.item["metricName"] == metric && want.iter().all(|(k, val)| p.attr(k).as_deref() == Some(*val)))
        .cloned()
        .collect();
    v.sort_by_key(|p| ts(p, "timeUnixNano"));
    v
}

fn collections(all: &[Item]) -> Vec<u64> {
    let mut t: Vec<u64> = find(all, "system.cpu.time", &[]).iter().map(|p| ts(p, "timeUnixNano")).collect();
    t.dedup();
    t
}

fn meminfo_kb(key: &str) -> u64 {
    std::fs::read_to_string("/proc/meminfo")
        .expect("meminfo")
        .lines()
        .find_map(|l| {
            l.strip_prefix(&format!("{key}:")).map(|v| v.trim().trim_end_matches(" kB").trim().parse::<u64>())
        })
        .and_then(Result::ok)
        .expect("meminfo key")
}

fn btime() -> u64 {
    std::fs::read_to_string("/proc/stat")
        .expect("stat")
        .lines()
        .find_map(|l| l.strip_prefix("btime ").map(|v| v.trim().parse::<u64>()))
        .and_then(Result::ok)
        .expect("btime")
}

fn getconf(name: &str) -> f64 {
    let out = Command::new("getconf").arg(name).output().expect("getconf");
    String::from_utf8_lossy(&out.stdout).trim().parse().expect("number")
}

fn exporter(sink: &Sink) -> String {
    format!("exporters:\n  otlp:\n    endpoint: {}\n    tls: {{insecure: true}}\n", sink.grpc_endpoint())
}

#[test]
fn reads_this_machine_every_second() {
    let sink = Sink::start(&[]);
    let cfg = format!(
        "receivers:\n  hostmetrics:\n    collection_interval: 1s\n    initial_delay: 0s\n    scrapers:\n      cpu:\n      \
         memory:\n      load:\n      disk:\n      filesystem:\n      network:\n      paging:\n      processes:\n      \
         system:\n      process:\n        include:\n          names: [switchyard]\n          match_type: strict\n{}\
         service:\n  pipelines:\n    metrics:\n      receivers: [hostmetrics]\n      exporters: [otlp]\n",
        exporter(&sink)
    );
    let gw = Gateway::start(&cfg, 0);
    let pid = gw.pid().to_string();
    let ok = wait_until(Duration::from_secs(30), || {
        let all = points(&sink);
        collections(&all).len() >= 3 && !find(&all, "process.cpu.time", &[]).is_empty()
    });
    let all = points(&sink);
    assert!(ok, "three collections expected, got {:?}\n{}", collections(&all), gw.logs());

    // CPU: per CPU and state, cumulative since boot, growing between collections.
    let cpu = find(&all, "system.cpu.time", &[("cpu", "cpu0")]);
    let states: std::collections::BTreeSet<String> = cpu.iter().filter_map(|p| p.attr("state")).collect();
    let want: std::collections::BTreeSet<String> =
        ["idle", "interrupt", "nice", "softirq", "steal", "system", "user", "wait"].map(String::from).into();
    assert_eq!(states, want);
    assert_eq!(ts(&cpu[0], "startTimeUnixNano"), btime() * 1_000_000_000, "cpu time starts at boot");
    let t = collections(&all);
    let total_at = |at: u64| -> f64 {
        find(&all, "system.cpu.time", &[]).iter().filter(|p| ts(p, "timeUnixNano") == at).map(num).sum()
    };
    let (first, last) = (total_at(t[0]), total_at(t[t.len() - 1]));
    assert!(last > first, "CPU seconds of all CPUs grow between collections: {first} then {last}");

    // Memory: used is MemTotal - MemAvailable (the Collector's default); with free, buffered
    // and cached it comes close to MemTotal (they overlap by the page cache the kernel cannot drop).
    let total = (meminfo_kb("MemTotal") * 1024) as f64;
    let state = |s: &str| find(&all, "system.memory.usage", &[("state", s)]).last().map(num).expect("memory state");
    let used_now = total - (meminfo_kb("MemAvailable") * 1024) as f64;
    assert!(
        (state("used") - used_now).abs() < total * 0.05,
        "used {} vs MemTotal-MemAvailable {used_now}",
        state("used")
    );
    let sum: f64 = ["used", "free", "buffered", "cached"].iter().map(|s| state(s)).sum();
    assert!((sum - total).abs() < total * 0.25, "states sum to {sum}, MemTotal is {total}");

    // The root filesystem: its states add up to the size `df` reports.
    let df = Command::new("df").args(["-B1", "--output=size", "/"]).output().expect("df");
    let size: f64 =
        String::from_utf8_lossy(&df.stdout).lines().nth(1).and_then(|l| l.trim().parse().ok()).expect("df size");
    let fs: f64 = ["used", "free", "reserved"]
        .iter()
        .map(|s| {
            find(&all, "system.filesystem.usage", &[("mountpoint", "/"), ("state", s)])
                .last()
                .map(num)
                .expect("root fs")
        })
        .sum();
    assert_eq!(fs, size, "the root mount's used+free+reserved is its size");
    let root_fs = find(&all, "system.filesystem.usage", &[("mountpoint", "/")]);
    assert_eq!(root_fs[0].attr("mode").as_deref(), Some("rw"));

    // Loopback traffic (the export itself) shows in lo's counters.
    let lo = find(&all, "system.network.io", &[("device", "lo"), ("direction", "receive")]);
    assert!(
        num(&lo[lo.len() - 1]) > num(&lo[0]),
        "lo receive bytes grow: {} then {}",
        num(&lo[0]),
        num(&lo[lo.len() - 1])
    );

    // The gateway's own process: one resource with its pid, name and command line.
    let own: Vec<Item> =
        all.iter().filter(|p| p.resource_attr("process.pid").as_deref() == Some(pid.as_str())).cloned().collect();
    assert!(!own.is_empty(), "no resource for pid {pid}");
    assert_eq!(own[0].resource_attr("process.executable.name").as_deref(), Some("switchyard"));
    assert!(
        own[0].resource_attr("process.command_line").is_some_and(|c| c.contains("config.yaml")),
        "{:?}",
        own[0].resource
    );
    let cpu_user = find(&own, "process.cpu.time", &[("state", "user")]);
    assert!(!cpu_user.is_empty() && num(&cpu_user[cpu_user.len() - 1]) >= num(&cpu_user[0]));
    let rss = find(&own, "process.memory.usage", &[]).last().map(num).expect("process.memory.usage");
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).expect("status");
    let vm_rss: f64 = status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
        .expect("VmRSS")
        * 1024.0;
    assert!(rss > vm_rss / 3.0 && rss < vm_rss * 3.0, "process.memory.usage {rss} vs VmRSS {vm_rss}");

    // Every scraper sent something, and the receiver counted what it pushed.
    for m in [
        "system.cpu.load_average.1m",
        "system.disk.io",
        "system.paging.faults",
        "system.processes.count",
        "system.uptime",
    ] {
        assert!(!find(&all, m, &[]).is_empty(), "{m} missing");
    }
    assert!(gw.metric("otelcol_receiver_accepted_metric_points") > 0.0, "{}", gw.logs());
    assert!(gw.metric_with("otelcol_scraper_scraped_metric_points", &["scraper=\"cpu\""]) > 0.0);
}

/// A fake host under `dir` whose every value the test chose.
fn fake_host(dir: &Path) {
    let w = |rel: &str, text: &str| {
        let p = dir.join(rel);
        std::fs::create_dir_all(p.parent().expect("parent")).expect("mkdir");
        std::fs::write(p, text).expect("write");
    };
    w("proc/stat", "cpu  3 0 1 50 0 0 0 0\ncpu0 300 10 60 2500 20 0 8 4 0 0\nbtime 1600000000\nprocesses 777\nprocs_running 2\nprocs_blocked 0\n");
    w(
        "proc/meminfo",
        "MemTotal: 4000 kB\nMemFree: 1000 kB\nMemAvailable: 1800 kB\nBuffers: 100 kB\nCached: 500 kB\nSReclaimable: 50 kB\nSUnreclaim: 25 kB\n",
    );
    w("proc/loadavg", "0.25 0.75 1.50 1/10 42\n");
    w("proc/uptime", "4321.50 100.00\n");
    w("proc/diskstats", "   8 0 fakedisk 11 1 22 33 44 2 55 66 0 77 88\n");
    w("proc/net/dev", "h\nh\n  fakenet0: 1234 5 0 0 0 0 0 0 4321 6 0 0 0 0 0 0\n");
    w("proc/net/tcp", "header\n 0: 0100007F:0CEA 00000000:0000 0A 0:0 0:0 0 0 0 1\n");
    w("proc/swaps", "Filename Type Size Used Priority\n/fakeswap file 1000 250 -2\n");
    w("proc/vmstat", "pgpgin 1\npgpgout 2\npswpin 3\npswpout 4\npgfault 50\npgmajfault 5\n");
    w("proc/filesystems", "\text4\n");
    w("proc/1/mountinfo", "1 0 8:1 / / rw,relatime - ext4 /dev/fakeroot rw\n");
    w("proc/4242/stat", "4242 (fakeproc) S 1 4242 4242 0 -1 0 10 0 2 0 250 50 0 0 20 0 3 0 100 0 0\n");
    w("proc/4242/status", "Name:\tfakeproc\nUid:\t0\t0\t0\t0\n");
    w("proc/4242/statm", "2000 300 0 0 0 0 0\n");
    w("proc/4242/io", "syscr: 1\nsyscw: 2\nread_bytes: 1024\nwrite_bytes: 2048\n");
    w("proc/4242/cmdline", "/opt/fake/fakeproc\0--mode\0test\0");
    w("etc/passwd", "root:x:0:0:root:/root:/bin/sh\n");
    std::os::unix::fs::symlink("/opt/fake/fakeproc", dir.join("proc/4242/exe")).expect("exe link");
}

#[test]
fn root_path_reads_only_the_given_tree() {
    let sink = Sink::start(&[]);
    let host = tempfile::tempdir().expect("tempdir");
    fake_host(host.path());
    let cfg = format!(
        "receivers:\n  host_metrics:\n    root_path: {}\n    collection_interval: 1s\n    initial_delay: 0s\n    scrapers:\n      \
         cpu:\n      memory:\n      load:\n      disk:\n      filesystem:\n      network:\n      paging:\n      processes:\n      \
         system:\n      process:\n{}service:\n  pipelines:\n    metrics:\n      receivers: [host_metrics]\n      exporters: [otlp]\n",
        host.path().display(),
        exporter(&sink)
    );
    let gw = Gateway::start(&cfg, 0);
    let ok = wait_until(Duration::from_secs(30), || !find(&points(&sink), "process.memory.usage", &[]).is_empty());
    let all = points(&sink);
    assert!(ok, "no process metrics\n{}", gw.logs());
    let hz = getconf("CLK_TCK");
    let page = getconf("PAGESIZE");
    let one = |metric: &str, want: &[(&str, &str)]| -> f64 {
        find(&all, metric, want).last().map(num).unwrap_or_else(|| panic!("{metric} {want:?} missing"))
    };
    // Only the fake CPU: the host's CPUs are not read.
    assert!(find(&all, "system.cpu.time", &[]).iter().all(|p| p.attr("cpu").as_deref() == Some("cpu0")));
    assert_eq!(one("system.cpu.time", &[("cpu", "cpu0"), ("state", "user")]), 300.0 / hz);
    let cpu = find(&all, "system.cpu.time", &[]);
    assert_eq!(ts(&cpu[0], "startTimeUnixNano"), 1_600_000_000 * 1_000_000_000, "boot time from the fake /proc/stat");
    assert_eq!(one("system.memory.usage", &[("state", "used")]), ((4000 - 1800) * 1024) as f64);
    assert_eq!(one("system.memory.usage", &[("state", "slab_unreclaimable")]), (25 * 1024) as f64);
    assert_eq!(one("system.memory.usage", &[("state", "cached")]), (550 * 1024) as f64);
    assert_eq!(one("system.cpu.load_average.15m", &[]), 1.5);
    assert_eq!(one("system.uptime", &[]), 4321.5);
    assert_eq!(one("system.disk.io", &[("device", "fakedisk"), ("direction", "read")]), 22.0 * 512.0);
    assert_eq!(one("system.disk.weighted_io_time", &[("device", "fakedisk")]), 0.088);
    assert_eq!(one("system.network.io", &[("device", "fakenet0"), ("direction", "transmit")]), 4321.0);
    assert!(find(&all, "system.network.io", &[("device", "lo")]).is_empty(), "the host's interfaces are not read");
    assert_eq!(one("system.network.connections", &[("protocol", "tcp"), ("state", "LISTEN")]), 1.0);
    assert_eq!(one("system.paging.usage", &[("device", "/fakeswap"), ("state", "used")]), 250.0 * 1024.0);
    assert_eq!(one("system.paging.operations", &[("direction", "page_in"), ("type", "major")]), 3.0);
    assert_eq!(one("system.processes.created", &[]), 777.0);
    assert_eq!(one("system.processes.count", &[("status", "running")]), 2.0);
    // The fake mount table's root, sized under root_path.
    let fs = find(&all, "system.filesystem.usage", &[("mountpoint", "/")]);
    assert!(!fs.is_empty() && fs.iter().all(|p| p.attr("device").as_deref() == Some("/dev/fakeroot")));
    // The one fake process, with its resource.
    let procs: Vec<Item> = all.iter().filter(|p| p.resource_attr("process.pid").is_some()).cloned().collect();
    assert!(procs.iter().all(|p| p.resource_attr("process.pid").as_deref() == Some("4242")), "only the fake pid");
    let p = &procs[0];
    assert_eq!(p.resource_attr("process.executable.name").as_deref(), Some("fakeproc"));
    assert_eq!(p.resource_attr("process.executable.path").as_deref(), Some("/opt/fake/fakeproc"));
    assert_eq!(p.resource_attr("process.command_line").as_deref(), Some("/opt/fake/fakeproc --mode test"));
    assert_eq!(p.resource_attr("process.owner").as_deref(), Some("root"));
    assert_eq!(one("process.memory.usage", &[]), 300.0 * page);
    assert_eq!(one("process.memory.virtual", &[]), 2000.0 * page);
    assert_eq!(one("process.cpu.time", &[("state", "user")]), 250.0 / hz);
    assert_eq!(one("process.disk.io", &[("direction", "write")]), 2048.0);
    let pm = find(&all, "process.cpu.time", &[]);
    let start = (1_600_000_000_000u64 + (100.0 * 1000.0 / hz) as u64) * 1_000_000;
    assert_eq!(ts(&pm[0], "startTimeUnixNano"), start, "process sums start at the process's start");
    // Every fake file parsed: nothing counted as errored, nothing logged as unreadable.
    assert!(gw.has_metric("otelcol_scraper_errored_metric_points"), "{}", gw.logs());
    assert_eq!(gw.metric("otelcol_scraper_errored_metric_points"), 0.0, "{}", gw.logs());
    assert!(!gw.logs().contains("could not read"), "{}", gw.logs());
}
