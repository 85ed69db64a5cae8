//! Parser tests over /proc fixtures, config tests (public configs, did-you-mean, filters),
//! and whole scrapes of a fake root tree whose values the test controls.

use std::path::Path;

use switchyard_core::component::ComponentConfig;
use switchyard_pdata::proto::metrics::v1::{metric::Data, number_data_point::Value, Metric, ResourceMetrics};

use super::procfs::*;
use super::*;

fn config(yaml: &str) -> Result<HostMetricsReceiverConfig, String> {
    let node = switchyard_core::config::parse("t.yaml", yaml).map_err(|e| e.to_string())?;
    switchyard_core::config::from_node(&node, "receivers::hostmetrics").map_err(|e| e.to_string())
}

fn errors(yaml: &str) -> Vec<String> {
    config(yaml).expect("decodes").validate().into_iter().map(|e| format!("{}: {}", e.field, e.message)).collect()
}

const STAT: &str = "cpu  300 20 100 5000 30 0 12 7 0 0
cpu0 200 10 60 2500 20 0 8 4 0 0
cpu1 100 10 40 2500 10 0 4 3 0 0
intr 12345 0 0
ctxt 999
btime 1700000000
processes 4321
procs_running 3
procs_blocked 1
";

#[test]
fn parses_proc_stat_per_cpu_and_counters() {
    let s = parse_stat(STAT);
    assert_eq!(s.cpus.len(), 2, "the aggregate line is left out");
    assert_eq!(
        s.cpus[0],
        CpuTicks {
            cpu: "cpu0".into(),
            user: 200,
            nice: 10,
            system: 60,
            idle: 2500,
            iowait: 20,
            irq: 0,
            softirq: 8,
            steal: 4
        }
    );
    assert_eq!(
        (s.btime, s.processes, s.procs_running, s.procs_blocked),
        (Some(1700000000), Some(4321), Some(3), Some(1))
    );
}

const MEMINFO: &str = "MemTotal:        8000000 kB
MemFree:         1000000 kB
MemAvailable:    5000000 kB
Buffers:          200000 kB
Cached:          3000000 kB
SwapCached:            0 kB
Dirty:               512 kB
SReclaimable:     300000 kB
SUnreclaim:       100000 kB
HugePages_Total:       0
";

#[test]
fn memory_states_follow_gopsutil() {
    let m = memory(&parse_meminfo(MEMINFO));
    assert_eq!(m.total, 8_000_000 * 1024);
    assert_eq!(m.cached, 3_300_000 * 1024, "cached counts SReclaimable, as free(1)");
    assert_eq!(m.used, (8_000_000 - 5_000_000) * 1024, "used is MemTotal - MemAvailable, the Collector's default");
    let old_kernel = memory(&parse_meminfo("MemTotal: 100 kB\nMemFree: 10 kB\nBuffers: 5 kB\nCached: 20 kB\n"));
    assert_eq!(old_kernel.used, (100 - 10 - 20) * 1024, "without MemAvailable: free + cached are available");
    assert_eq!((m.available, m.dirty, m.slab_unreclaimable), (5_000_000 * 1024, 512 * 1024, 100_000 * 1024));
    assert_eq!(parse_meminfo(MEMINFO).get("HugePages_Total"), Some(&0), "a count without kB stays a count");
}

#[test]
fn parses_devices_interfaces_and_sockets() {
    let d =
        parse_diskstats("   8       0 sda 100 5 2000 300 50 6 4000 700 2 900 1000 0 0 0 0\n   7       0 loop0 1 2 3\n");
    assert_eq!(d.len(), 1, "short lines are skipped");
    assert_eq!((d[0].name.as_str(), d[0].reads, d[0].sectors_read, d[0].writes_merged), ("sda", 100, 2000, 6));
    assert_eq!((d[0].in_progress, d[0].io_ms, d[0].weighted_io_ms), (2, 900, 1000));

    let n = parse_net_dev(
        "Inter-|   Receive                                                |  Transmit\n \
         face |bytes    packets errs drop fifo frame compressed multicast|bytes    packets errs drop fifo colls carrier compressed\n\
             lo: 1000 10 1 2 0 0 0 0 2000 20 3 4 0 0 0 0\n",
    );
    assert_eq!(
        n,
        vec![NetDev {
            name: "lo".into(),
            rx_bytes: 1000,
            rx_packets: 10,
            rx_errors: 1,
            rx_dropped: 2,
            tx_bytes: 2000,
            tx_packets: 20,
            tx_errors: 3,
            tx_dropped: 4
        }]
    );

    let tcp = "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n   \
               0: 0100007F:0CEA 00000000:0000 0A 00000000:00000000 00:00000000 00000000  1000        0 1\n   \
               1: 0100007F:A1B2 0100007F:0CEA 01 00000000:00000000 00:00000000 00000000  1000        0 2\n   \
               2: 0100007F:A1B3 0100007F:0CEA 04 00000000:00000000 00:00000000 00000000  1000        0 3\n";
    assert_eq!(parse_tcp_states(tcp), vec!["LISTEN", "ESTABLISHED", "FIN_WAIT1"]);
}

#[test]
fn parses_mounts_filesystems_and_swaps() {
    let m = parse_mountinfo(
        "27 1 254:0 / / rw,relatime - ext4 /dev/vda rw,discard\n\
         40 27 254:0 /srv/data /mnt/my\\040data ro,nosuid shared:1 - ext4 /dev/vda rw\n\
         22 27 0:21 / /proc rw,relatime - proc proc rw\n",
    );
    assert_eq!(
        m[0],
        Mount {
            device: "/dev/vda".into(),
            mountpoint: "/".into(),
            fstype: "ext4".into(),
            opts: vec!["rw".into(), "relatime".into()]
        }
    );
    assert_eq!(m[1].mountpoint, "/mnt/my data", "octal escapes are undone");
    assert_eq!(m[1].opts, vec!["ro", "nosuid", "bind"], "a subtree mount is a bind mount");
    assert_eq!(devices::mount_mode(&m[1].opts), "ro");
    assert_eq!(m[2].fstype, "proc");

    let fs = parse_filesystems("nodev\tsysfs\nnodev\tproc\n\text4\n\txfs\nnodev\tzfs\n");
    assert_eq!(fs, vec!["ext4", "xfs", "zfs"]);

    let s = parse_swaps("Filename\t\t\t\tType\t\tSize\t\tUsed\t\tPriority\n/dev/sdb2 partition 1048572 1024 -2\n")
        .expect("swaps");
    assert_eq!(s, vec![Swap { name: "/dev/sdb2".into(), total_kib: 1048572, used_kib: 1024 }]);
    assert!(parse_swaps("Name Size\n").is_err(), "an unexpected header is an error, as upstream");
    assert!(parse_swaps("Filename Type Size Used Priority\n").expect("empty").is_empty());
}

#[test]
fn parses_process_files() {
    let stat = "4242 (my (odd) prog) S 1 4242 4242 0 -1 4194560 500 0 7 0 150 50 0 0 20 0 4 0 12345 \
                100000000 2000 18446744073709551615 1 1 0 0 0 0 0 0 0 0 0 0 17 1 0 0 9 0 0";
    let s = parse_pid_stat(stat).expect("stat");
    assert_eq!(s.comm, "my (odd) prog", "the name may hold parentheses and spaces");
    assert_eq!(
        (s.state, s.ppid, s.minflt, s.majflt, s.utime, s.stime, s.starttime, s.blkio_ticks),
        ('S', 1, 500, 7, 150, 50, 12345, 9)
    );
    let st = parse_status("Name:\tprog\nUid:\t1000\t1000\t1000\t1000\nThreads:\t4\nSigQ:\t2/63432\n");
    assert_eq!(st.get("Threads").map(String::as_str), Some("4"));
    assert_eq!(parse_statm("25000 500 100 1 0 300 0\n"), Some((25000, 500)));
    assert_eq!(parse_cmdline(b"/usr/bin/prog\0--flag\0a b\0"), vec!["/usr/bin/prog", "--flag", "a b"]);
    assert!(parse_cmdline(b"").is_empty(), "kernel threads have no command line");
    assert_eq!(parse_key_values("rchar: 10\nread_bytes: 4096\n").get("read_bytes"), Some(&4096));
    assert_eq!(
        user_name("root:x:0:0::/root:/bin/sh\nalice:x:1000:1000::/home/a:/bin/sh\n", "1000").as_deref(),
        Some("alice")
    );
    // The kernel cuts names to 15 bytes; the command line gives the full one.
    let long = parse_status("Name:\tsupervisor-proc\n");
    let ps = parse_pid_stat("1 (supervisor-proc) S 0 0 0 0 0 0 0 0 0 0 0 0").expect("stat");
    let cmd = vec!["/opt/bin/supervisor-process-manager".to_string()];
    assert_eq!(process::process_name(&long, &ps, Some(&cmd)), "supervisor-process-manager");
    assert_eq!(system::process_status('D'), "blocked");
    assert_eq!(system::process_status('Z'), "zombies");
}

#[test]
fn public_config_blocks_decode_and_validate() {
    let c = config(
        "collection_interval: 30s\nscrapers:\n  cpu:\n    metrics:\n      system.cpu.utilization:\n        enabled: true\n  \
         disk: null\n  load:\n  filesystem:\n    exclude_mount_points:\n      mount_points: [/dev/*, /proc/*]\n      \
         match_type: regexp\n    exclude_fs_types:\n      fs_types: [autofs, overlay]\n      match_type: strict\n  \
         memory:\n    metrics:\n      system.memory.utilization: {enabled: true}\n      system.memory.limit: {enabled: true}\n  \
         network:\n  paging:\n  processes:\n  process:\n    mute_process_exe_error: true\n    mute_process_io_error: true\n    \
         mute_process_user_error: true\n    metrics:\n      process.threads: {enabled: true}\n  system:\n",
    )
    .expect("decodes");
    assert!(c.validate().is_empty(), "{:?}", c.validate());
    assert_eq!(c.collection_interval, Duration::from_secs(30));
    assert_eq!(c.initial_delay, Duration::from_secs(1), "the Collector's default");
    assert!(c.scrapers.disk.get().is_some(), "`disk: null` turns the scraper on");
    assert!(c.scrapers.process.get().is_some_and(|p| p.mute_process_exe_error));
    assert_eq!(build_scrapers(&c.scrapers).map(|s| s.len()).ok(), Some(10));
    assert_eq!(HostMetricsReceiverConfig::default().collection_interval, Duration::from_secs(60));
}

#[test]
fn config_errors_name_the_field_and_suggest() {
    let e = config("scrapers:\n  cpux:\n").expect_err("unknown scraper");
    assert!(e.contains("unknown field \"cpux\", did you mean \"cpu\"?"), "{e}");
    assert_eq!(
        errors("collection_interval: 1m\n"),
        vec!["scrapers: must specify at least one scraper when using hostmetrics receiver"]
    );
    assert_eq!(
        errors("scrapers:\n  cpu:\n    metrics:\n      system.cpu.utilisation: {enabled: true}\n"),
        vec!["scrapers::cpu::metrics::system.cpu.utilisation: unknown metric \"system.cpu.utilisation\", did you mean \"system.cpu.utilization\"?"]
    );
    assert_eq!(
        errors("scrapers:\n  network:\n    include:\n      interfaces: [lo]\n"),
        vec!["scrapers::network::include::match_type: unrecognized match_type: '', valid types are: [regexp strict]"]
    );
    assert_eq!(
        errors("scrapers:\n  disk:\n    exclude:\n      interfaces: [lo]\n      match_type: strict\n"),
        vec!["scrapers::disk::exclude::interfaces: not a key here: the list is `devices`"]
    );
    let bad_re = errors("scrapers:\n  process:\n    include:\n      names: ['(']\n      match_type: regexp\n");
    assert!(
        bad_re.len() == 1 && bad_re[0].starts_with("scrapers::process::include::names::0: error parsing regexp"),
        "{bad_re:?}"
    );
    assert_eq!(
        errors("root_path: /no/such/hostfs\nscrapers:\n  memory:\n"),
        vec!["root_path: invalid root_path: stat /no/such/hostfs: No such file or directory (os error 2)"]
    );
    assert_eq!(
        errors("scrapers:\n  process:\n    resource_attributes:\n      process.cgroups: {enabled: true}\n"),
        vec!["scrapers::process::resource_attributes::process.cgroups: unknown resource attribute \"process.cgroups\", did you mean \"process.cgroup\"?"]
    );
}

/// A fake host: `<dir>/proc/...` files with values the tests assert.
pub(super) fn fake_root(dir: &Path) {
    let w = |rel: &str, text: &str| {
        let p = dir.join(rel);
        std::fs::create_dir_all(p.parent().expect("parent")).expect("mkdir");
        std::fs::write(p, text).expect("write");
    };
    w("proc/stat", STAT);
    w("proc/meminfo", MEMINFO);
    w("proc/loadavg", "0.50 1.25 2.00 3/200 999\n");
    w("proc/uptime", "12345.67 20000.00\n");
    w("proc/diskstats", "   8       0 fakedisk 100 5 2000 300 50 6 4000 700 2 900 1000 0 0 0 0\n");
    w(
        "proc/net/dev",
        "h1\nh2\n  fake0: 1000 10 1 2 0 0 0 0 2000 20 3 4 0 0 0 0\n    lo: 5 1 0 0 0 0 0 0 5 1 0 0 0 0 0 0\n",
    );
    w("proc/net/tcp", "header\n 0: 0100007F:0CEA 00000000:0000 0A 0:0 0:0 0 0 0 1\n 1: 0100007F:A1B2 0100007F:0CEA 01 0:0 0:0 0 0 0 2\n");
    w("proc/swaps", "Filename Type Size Used Priority\n/fakeswap file 2048 512 -2\n");
    w("proc/vmstat", "pgpgin 11\npgpgout 12\npswpin 13\npswpout 14\npgfault 100\npgmajfault 15\n");
    w("proc/filesystems", "nodev\tproc\n\text4\n");
    w("proc/1/mountinfo", "1 0 8:1 / / rw,relatime - ext4 /dev/fake1 rw\n2 1 0:5 / /proc rw - proc proc rw\n");
    w("proc/4242/stat", "4242 (fakeproc) S 1 4242 4242 0 -1 0 500 0 7 0 150 50 0 0 20 0 4 0 1000 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 9 0 0\n");
    w("proc/4242/status", "Name:\tfakeproc\nUid:\t0\t0\t0\t0\nThreads:\t4\n");
    w("proc/4242/statm", "1000 300 0 0 0 0 0\n");
    w("proc/4242/io", "syscr: 5\nsyscw: 6\nread_bytes: 4096\nwrite_bytes: 8192\n");
    w("proc/4242/cmdline", "/usr/bin/fakeproc\0--serve\0");
    w("etc/passwd", "root:x:0:0:root:/root:/bin/sh\n");
    std::os::unix::fs::symlink("/usr/bin/fakeproc", dir.join("proc/4242/exe")).expect("exe link");
}

fn metric<'a>(rms: &'a [ResourceMetrics], name: &str) -> &'a Metric {
    rms.iter()
        .flat_map(|r| &r.scope_metrics)
        .flat_map(|s| &s.metrics)
        .find(|m| m.name == name)
        .unwrap_or_else(|| panic!("{name} is emitted"))
}

/// The value of the point of `name` whose attributes include all of `want`.
fn value(rms: &[ResourceMetrics], name: &str, want: &[(&str, &str)]) -> f64 {
    let points = match metric(rms, name).data.as_ref() {
        Some(Data::Sum(s)) => &s.data_points,
        Some(Data::Gauge(g)) => &g.data_points,
        other => panic!("{name}: {other:?}"),
    };
    let p = points
        .iter()
        .find(|p| {
            want.iter().all(|(k, v)| {
                p.attributes.iter().any(|a| {
                    a.key == *k && a.value.as_ref().map(switchyard_pdata::value::as_string).as_deref() == Some(*v)
                })
            })
        })
        .unwrap_or_else(|| panic!("{name} {want:?}"));
    match p.value {
        Some(Value::AsInt(i)) => i as f64,
        Some(Value::AsDouble(d)) => d,
        None => panic!("no value"),
    }
}

#[test]
fn every_scraper_reads_the_fake_root() {
    let dir = tempfile::tempdir().expect("tempdir");
    fake_root(dir.path());
    let c = config(&format!(
        "root_path: {}\nscrapers:\n  cpu:\n  memory:\n  load:\n  disk:\n  filesystem:\n  network:\n  paging:\n  processes:\n  \
         system:\n  process:\n    metrics:\n      process.threads: {{enabled: true}}\n",
        dir.path().display()
    ))
    .expect("config");
    assert!(c.validate().is_empty(), "{:?}", c.validate());
    let root = Root::new(&c.root_path);
    let cx = Context { root: root.clone(), boot_ns: boot_ns(&root).expect("btime"), version: "t".into() };
    assert_eq!(cx.boot_ns, 1_700_000_000 * 1_000_000_000);
    let mut scrapers = build_scrapers(&c.scrapers).expect("scrapers");
    let mut rms = Vec::new();
    for s in &mut scrapers {
        let r = s.scrape(&cx, 1_700_000_100 * 1_000_000_000);
        assert!(r.errors.is_empty(), "{}: {:?}", s.name(), r.errors);
        rms.extend(r.resources);
    }
    let hz = ticks_per_second();
    assert_eq!(value(&rms, "system.cpu.time", &[("cpu", "cpu1"), ("state", "user")]), 100.0 / hz);
    assert_eq!(value(&rms, "system.cpu.time", &[("cpu", "cpu0"), ("state", "wait")]), 20.0 / hz);
    assert_eq!(value(&rms, "system.memory.usage", &[("state", "used")]), (3_000_000u64 * 1024) as f64);
    assert_eq!(value(&rms, "system.cpu.load_average.5m", &[]), 1.25);
    assert_eq!(value(&rms, "system.disk.io", &[("device", "fakedisk"), ("direction", "write")]), 4000.0 * 512.0);
    assert_eq!(value(&rms, "system.disk.operation_time", &[("device", "fakedisk"), ("direction", "read")]), 0.3);
    assert_eq!(value(&rms, "system.network.io", &[("device", "fake0"), ("direction", "receive")]), 1000.0);
    assert_eq!(value(&rms, "system.network.connections", &[("state", "LISTEN")]), 1.0);
    assert_eq!(value(&rms, "system.network.connections", &[("state", "TIME_WAIT")]), 0.0);
    assert_eq!(value(&rms, "system.paging.usage", &[("device", "/fakeswap"), ("state", "free")]), 1536.0 * 1024.0);
    assert_eq!(value(&rms, "system.paging.faults", &[("type", "minor")]), 85.0);
    assert_eq!(value(&rms, "system.processes.count", &[("status", "running")]), 3.0);
    assert_eq!(value(&rms, "system.processes.created", &[]), 4321.0);
    assert_eq!(value(&rms, "system.uptime", &[]), 12345.67);
    // The root mount of the fake mount table, sized with statvfs under the root path.
    let used =
        value(&rms, "system.filesystem.usage", &[("mountpoint", "/"), ("device", "/dev/fake1"), ("state", "used")]);
    assert!(used > 0.0);
    assert_eq!(value(&rms, "process.memory.usage", &[]), 300.0 * page_size() as f64);
    assert_eq!(value(&rms, "process.disk.io", &[("direction", "write")]), 8192.0);
    assert_eq!(value(&rms, "process.threads", &[]), 4.0);
    let m = metric(&rms, "system.cpu.time");
    match &m.data {
        Some(Data::Sum(s)) => {
            assert!(s.is_monotonic && s.aggregation_temporality == 2);
            assert_eq!(s.data_points[0].start_time_unix_nano, cx.boot_ns, "counters start at boot");
        }
        other => panic!("{other:?}"),
    }
    let proc_rm = rms
        .iter()
        .find(|r| r.scope_metrics[0].scope.as_ref().is_some_and(|s| s.name.ends_with("processscraper")))
        .expect("process");
    let attrs: Vec<(String, String)> = proc_rm
        .resource
        .as_ref()
        .expect("resource")
        .attributes
        .iter()
        .map(|a| {
            (a.key.clone(), a.value.as_ref().map(switchyard_pdata::value::as_string).unwrap_or_default().into_owned())
        })
        .collect();
    for want in [
        ("process.pid", "4242"),
        ("process.parent_pid", "1"),
        ("process.executable.name", "fakeproc"),
        ("process.command", "/usr/bin/fakeproc"),
        ("process.command_line", "/usr/bin/fakeproc --serve"),
        ("process.owner", "root"),
    ] {
        assert!(attrs.contains(&(want.0.to_string(), want.1.to_string())), "{want:?} in {attrs:?}");
    }
    let start = proc_rm.scope_metrics[0].metrics[0].data.as_ref().map(|d| match d {
        Data::Sum(s) => s.data_points[0].start_time_unix_nano,
        _ => 0,
    });
    let expect_start = (1_700_000_000_000 + (1000.0 * 1000.0 / hz) as u64) * 1_000_000;
    assert_eq!(start, Some(expect_start), "process sums start when the process started");
}

#[test]
fn filters_and_utilization_from_the_second_collection() {
    let dir = tempfile::tempdir().expect("tempdir");
    fake_root(dir.path());
    let c = config(&format!(
        "root_path: {}\nscrapers:\n  cpu:\n    metrics:\n      system.cpu.utilization: {{enabled: true}}\n  network:\n    \
         exclude:\n      interfaces: [fake.*]\n      match_type: regexp\n  process:\n    include:\n      names: [other]\n      \
         match_type: strict\n",
        dir.path().display()
    ))
    .expect("config");
    let root = Root::new(&c.root_path);
    let cx = Context { root: root.clone(), boot_ns: 0, version: "t".into() };
    let mut s = build_scrapers(&c.scrapers).expect("scrapers");
    let first: Vec<_> = s.iter_mut().flat_map(|x| x.scrape(&cx, 1_000_000_000).resources).collect();
    assert!(first
        .iter()
        .flat_map(|r| &r.scope_metrics)
        .flat_map(|s| &s.metrics)
        .all(|m| m.name != "system.cpu.utilization"));
    assert!(first.iter().all(|r| r.resource.as_ref().is_none_or(|r| r.attributes.is_empty())), "process filtered out");
    std::fs::write(dir.path().join("proc/stat"), STAT.replace("cpu1 100 ", "cpu1 150 ")).expect("write");
    let second: Vec<_> = s.iter_mut().flat_map(|x| x.scrape(&cx, 2_000_000_000).resources).collect();
    let hz = ticks_per_second();
    assert!((value(&second, "system.cpu.utilization", &[("cpu", "cpu1"), ("state", "user")]) - 50.0 / hz).abs() < 1e-9);
    assert_eq!(value(&second, "system.network.io", &[("device", "lo"), ("direction", "transmit")]), 5.0);
    let net = metric(&second, "system.network.io");
    let Some(Data::Sum(sum)) = &net.data else { panic!("sum") };
    assert!(sum.data_points.iter().all(|p| p.attributes.iter().all(|a| a
        .value
        .as_ref()
        .map(switchyard_pdata::value::as_string)
        .as_deref()
        != Some("fake0"))));
}
