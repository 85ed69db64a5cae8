//! deploy/compose as a user runs it: `docker-compose config` accepts the file (Debian's
//! docker-compose 1.29, which validates against the Compose spec schema it bundles), the
//! gateway's config passes `switchyard validate`, Prometheus' passes `promtool check
//! config`, and every service, port, mounted file and Grafana datasource the stack names
//! resolves: the gateway's exporters reach a port the backend listens on, and Grafana's
//! trace <-> logs <-> metrics links point at datasources of the right type.
//!
//! Tools come from scripts/backends/k8s-tools.sh and install.sh (promtool: Debian
//! prometheus); a test whose tool is missing says SKIPPED and why.

mod support;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;
use switchyard_core::config;

fn dir() -> PathBuf {
    support::root().join("deploy/compose")
}

fn yaml(name: &str, text: &str) -> Value {
    let node = config::parse(name, text).unwrap_or_else(|e| panic!("{name}: {e}"));
    config::from_node(&node, "").unwrap_or_else(|e| panic!("{name}: {e}"))
}

fn arr(v: &Value) -> &[Value] {
    v.as_array().map(Vec::as_slice).unwrap_or_default()
}

/// Every file under deploy/compose, by path relative to it.
fn load(root: &Path, rel: &str, out: &mut BTreeMap<String, String>) {
    for e in std::fs::read_dir(root.join(rel)).expect("deploy/compose") {
        let e = e.expect("entry");
        let r = if rel.is_empty() {
            e.file_name().to_string_lossy().into_owned()
        } else {
            format!("{rel}/{}", e.file_name().to_string_lossy())
        };
        if e.file_type().expect("type").is_dir() {
            load(root, &r, out);
        } else {
            out.insert(r, std::fs::read_to_string(e.path()).expect("text"));
        }
    }
}

fn stack() -> BTreeMap<String, String> {
    let mut files = BTreeMap::new();
    load(&dir(), "", &mut files);
    files
}

/// `(host, port, path)` of `host:port` or a URL.
fn endpoint(ep: &str) -> (String, i64, String) {
    let rest = ep.split_once("://").map_or(ep, |(_, r)| r);
    let (hostport, path) = rest.split_once('/').map_or((rest, String::new()), |(h, p)| (h, format!("/{p}")));
    let (host, port) = hostport.rsplit_once(':').expect("host:port");
    (host.to_string(), port.parse().expect("a port"), path)
}

fn port_of(ep: &Value) -> Option<i64> {
    ep.as_str().map(|e| endpoint(e).1)
}

struct Stack<'a> {
    files: &'a BTreeMap<String, String>,
    services: serde_json::Map<String, Value>,
}

impl Stack<'_> {
    /// The stack's file a service mounts at `path` (a file mount, or under a directory mount).
    fn mounted(&self, service: &str, path: &str) -> Option<&String> {
        arr(&self.services[service]["volumes"]).iter().filter_map(Value::as_str).find_map(|v| {
            let mut parts = v.split(':');
            let (src, dst) = (parts.next()?.strip_prefix("./")?, parts.next()?);
            let rel = if path == dst { src.to_string() } else { format!("{src}{}", path.strip_prefix(dst)?) };
            self.files.get(&rel)
        })
    }

    fn command(&self, service: &str) -> Vec<String> {
        arr(&self.services[service]["command"]).iter().filter_map(|x| x.as_str().map(String::from)).collect()
    }

    /// The config file a service runs, from its `--config`/`-config.file=`/`--config.file=` flag.
    fn config_of(&self, service: &str) -> Option<Value> {
        let cmd = self.command(service);
        let path = cmd.iter().enumerate().find_map(|(i, a)| {
            a.strip_prefix("-config.file=")
                .or(a.strip_prefix("--config.file="))
                .map(String::from)
                .or_else(|| (a == "--config").then(|| cmd.get(i + 1).cloned()).flatten())
        })?;
        self.mounted(service, &path).map(|t| yaml(&path, t))
    }

    /// The ports a service listens on, from its own config.
    fn listens(&self, service: &str) -> Vec<i64> {
        let cfg = self.config_of(service).unwrap_or(Value::Null);
        let mut ports = Vec::new();
        match service {
            "gateway" => {
                for r in cfg["receivers"].as_object().into_iter().flat_map(|m| m.values()) {
                    ports.extend(
                        r["protocols"]
                            .as_object()
                            .into_iter()
                            .flat_map(|m| m.values())
                            .filter_map(|p| port_of(&p["endpoint"])),
                    );
                }
                ports.extend(port_of(&cfg["extensions"]["health_check"]["endpoint"]));
                ports.extend(
                    cfg["service"]["telemetry"]["metrics"]["readers"][0]["pull"]["exporter"]["prometheus"]["port"]
                        .as_i64(),
                );
            }
            "tempo" => {
                let protos = &cfg["distributor"]["receivers"]["otlp"]["protocols"];
                ports.extend(
                    protos.as_object().into_iter().flat_map(|m| m.values()).filter_map(|p| port_of(&p["endpoint"])),
                );
                ports.extend(cfg["server"]["http_listen_port"].as_i64());
            }
            "loki" => ports.extend(cfg["server"]["http_listen_port"].as_i64()),
            "prometheus" if !self.command(service).iter().any(|a| a.starts_with("--web.listen-address")) => {
                ports.push(9090)
            }
            "grafana" => ports.push(3000),
            _ => {}
        }
        ports
    }

    /// Problems with `from`'s link `what` to URL or host:port `ep`.
    fn reach(&self, from: &str, what: &str, ep: &str, bad: &mut Vec<String>) {
        let (host, port, path) = endpoint(ep);
        if !self.services.contains_key(&host) {
            bad.push(format!("{from}: {what} {ep}: no service {host}"));
        } else if !self.listens(&host).contains(&port) {
            bad.push(format!("{from}: {what} {ep}: {host} listens on {:?}", self.listens(&host)));
        } else if path == "/api/v1/write"
            && !self.command(&host).iter().any(|a| a == "--web.enable-remote-write-receiver")
        {
            bad.push(format!("{from}: {what} {ep}: {host} is not started with --web.enable-remote-write-receiver"));
        } else if path == "/otlp"
            && self.config_of(&host).is_none_or(|c| c["limits_config"]["allow_structured_metadata"] != true)
        {
            bad.push(format!("{from}: {what} {ep}: {host} does not allow structured metadata (OTLP)"));
        }
    }
}

/// Every broken reference in the stack's files.
fn check(files: &BTreeMap<String, String>) -> Vec<String> {
    let compose = yaml("docker-compose.yml", &files["docker-compose.yml"]);
    let s = Stack { files, services: compose["services"].as_object().expect("services").clone() };
    let mut bad = Vec::new();
    for (name, svc) in &s.services {
        for v in arr(&svc["volumes"]).iter().filter_map(Value::as_str) {
            if let Some(src) = v.split(':').next().and_then(|p| p.strip_prefix("./")) {
                if !files.keys().any(|f| f == src || f.starts_with(&format!("{src}/"))) {
                    bad.push(format!("{name}: mounts ./{src}, which is not in deploy/compose"));
                }
            } else if let Some(vol) = v.split(':').next() {
                if compose["volumes"].get(vol).is_none() {
                    bad.push(format!("{name}: volume {vol} is not declared"));
                }
            }
        }
        let deps: Vec<String> = match &svc["depends_on"] {
            Value::Object(m) => m.keys().cloned().collect(),
            v => arr(v).iter().filter_map(|d| d.as_str().map(String::from)).collect(),
        };
        for d in deps.iter().filter(|d| !s.services.contains_key(*d)) {
            bad.push(format!("{name}: depends on {d}, which is not a service"));
        }
    }
    // The gateway: built from the repository's Dockerfile, its receivers published.
    let build = &s.services["gateway"]["build"];
    let context = dir().join(build["context"].as_str().unwrap_or("."));
    if !context.join(build["dockerfile"].as_str().unwrap_or("Dockerfile")).is_file() {
        bad.push(format!("gateway: no Dockerfile {build} in the repository"));
    }
    let Some(gw) = s.config_of("gateway") else {
        bad.push("gateway: its --config file is not mounted from deploy/compose".into());
        return bad;
    };
    let published: Vec<i64> = arr(&s.services["gateway"]["ports"])
        .iter()
        .filter_map(|p| p.as_str()?.rsplit(':').next()?.parse().ok())
        .collect();
    for r in gw["receivers"]["otlp"]["protocols"].as_object().into_iter().flat_map(|m| m.values()) {
        if let Some(p) = port_of(&r["endpoint"]).filter(|p| !published.contains(p)) {
            bad.push(format!("gateway: receiver port {p} is not published"));
        }
    }
    for (id, exp) in gw["exporters"].as_object().into_iter().flatten() {
        if let Some(ep) = exp["endpoint"].as_str() {
            s.reach("gateway", &format!("exporter {id}"), ep, &mut bad);
        }
    }
    // Tempo's metrics generator and Prometheus' scrapes.
    if let Some(tempo) = s.config_of("tempo") {
        for rw in arr(&tempo["metrics_generator"]["storage"]["remote_write"]) {
            s.reach("tempo", "remote_write", rw["url"].as_str().unwrap_or_default(), &mut bad);
        }
    }
    if let Some(prom) = s.config_of("prometheus") {
        for job in arr(&prom["scrape_configs"]) {
            for t in arr(&job["static_configs"]).iter().flat_map(|sc| arr(&sc["targets"])).filter_map(Value::as_str) {
                s.reach("prometheus", &format!("scrape job {}", job["job_name"]), t, &mut bad);
            }
        }
    }
    // Grafana's datasources and the links between them.
    let Some(ds_text) = s.mounted("grafana", "/etc/grafana/provisioning/datasources/datasources.yaml") else {
        bad.push("grafana: no provisioned datasources.yaml".into());
        return bad;
    };
    let ds = yaml("datasources.yaml", ds_text);
    let by_uid: BTreeMap<&str, &Value> =
        arr(&ds["datasources"]).iter().filter_map(|d| Some((d["uid"].as_str()?, d))).collect();
    let type_of =
        |uid: &Value| uid.as_str().and_then(|u| by_uid.get(u)).and_then(|d| d["type"].as_str()).unwrap_or("none");
    for (uid, d) in &by_uid {
        s.reach("grafana", &format!("datasource {uid}"), d["url"].as_str().unwrap_or_default(), &mut bad);
        let mut refs = Vec::new();
        collect_uids(&d["jsonData"], &mut refs);
        for r in refs.iter().filter(|r| !by_uid.contains_key(r.as_str())) {
            bad.push(format!("grafana: datasource {uid} links to uid {r}, which is not provisioned"));
        }
    }
    let of_type = |t: &str| by_uid.values().find(|d| d["type"] == t).copied();
    let (Some(tempo), Some(loki), Some(prom)) = (of_type("tempo"), of_type("loki"), of_type("prometheus")) else {
        bad.push("grafana: a tempo, a loki and a prometheus datasource are needed".into());
        return bad;
    };
    let j = &tempo["jsonData"];
    for (link, uid, want) in [
        ("tracesToLogsV2", &j["tracesToLogsV2"]["datasourceUid"], "loki"),
        ("tracesToMetrics", &j["tracesToMetrics"]["datasourceUid"], "prometheus"),
        ("serviceMap", &j["serviceMap"]["datasourceUid"], "prometheus"),
    ] {
        if type_of(uid) != want {
            bad.push(format!("grafana: tempo {link} goes to a {} datasource, not {want}", type_of(uid)));
        }
    }
    if !arr(&loki["jsonData"]["derivedFields"]).iter().any(|f| type_of(&f["datasourceUid"]) == "tempo") {
        bad.push("grafana: no loki derivedField opens a trace in tempo".into());
    }
    // The label the gateway's prometheusremotewrite puts exemplar trace IDs in.
    if !arr(&prom["jsonData"]["exemplarTraceIdDestinations"])
        .iter()
        .any(|e| e["name"] == "trace_id" && type_of(&e["datasourceUid"]) == "tempo")
    {
        bad.push("grafana: prometheus exemplars labelled trace_id do not open tempo".into());
    }
    bad
}

fn collect_uids(v: &Value, out: &mut Vec<String>) {
    match v {
        Value::Object(m) => {
            for (k, x) in m {
                match x.as_str() {
                    Some(u) if k == "datasourceUid" => out.push(u.to_string()),
                    _ => collect_uids(x, out),
                }
            }
        }
        Value::Array(a) => a.iter().for_each(|x| collect_uids(x, out)),
        _ => {}
    }
}

fn docker_compose(test: &str) -> Option<()> {
    if Command::new("docker-compose").arg("version").output().is_ok_and(|o| o.status.success()) {
        return Some(());
    }
    eprintln!("SKIPPED {test}: docker-compose not installed (run scripts/backends/k8s-tools.sh)");
    None
}

fn compose_config(file: &Path) -> std::process::Output {
    Command::new("docker-compose")
        .arg("--project-directory")
        .arg(dir())
        .arg("-f")
        .arg(file)
        .args(["config", "-q"])
        .output()
        .expect("run docker-compose")
}

#[test]
fn docker_compose_config_accepts_the_file_and_refuses_a_misspelt_key() {
    let test = "docker_compose_config_accepts_the_file_and_refuses_a_misspelt_key";
    if docker_compose(test).is_none() {
        return;
    }
    let out = compose_config(&dir().join("docker-compose.yml"));
    assert!(out.status.success(), "docker-compose config:\n{}", String::from_utf8_lossy(&out.stderr));
    let tmp = tempfile::tempdir().unwrap();
    let text = std::fs::read_to_string(dir().join("docker-compose.yml")).unwrap();
    let typo = support::write(tmp.path(), "typo.yml", &text.replacen("    depends_on:", "    depend_on:", 1));
    let out = compose_config(&typo);
    assert!(!out.status.success(), "a misspelt key passed docker-compose config");
    assert!(String::from_utf8_lossy(&out.stderr).contains("depend_on"), "{}", String::from_utf8_lossy(&out.stderr));
}

#[test]
fn the_gateway_config_passes_switchyard_validate() {
    let path = dir().join("gateway.yaml");
    let out = support::switchyard(&["validate", "--config", path.to_str().unwrap()]);
    assert!(out.status.success(), "switchyard validate:\n{}", String::from_utf8_lossy(&out.stderr));
    // It is the file the compose gateway runs.
    let files = stack();
    let compose = yaml("docker-compose.yml", &files["docker-compose.yml"]);
    let s = Stack { files: &files, services: compose["services"].as_object().unwrap().clone() };
    assert_eq!(s.config_of("gateway"), Some(yaml("gateway.yaml", &files["gateway.yaml"])));
}

#[test]
fn the_prometheus_config_passes_promtool() {
    let Ok(out) = Command::new("promtool").args(["check", "config"]).arg(dir().join("prometheus.yml")).output() else {
        eprintln!(
            "SKIPPED the_prometheus_config_passes_promtool: promtool not installed (Debian prometheus, install.sh)"
        );
        return;
    };
    assert!(
        out.status.success(),
        "promtool:\n{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn every_service_port_file_and_datasource_the_stack_names_resolves() {
    let bad = check(&stack());
    assert!(bad.is_empty(), "{}", bad.join("\n"));
}

/// Each broken link a user could make is reported.
#[test]
fn a_broken_reference_is_caught() {
    let cases: &[(&str, &str, &str, &str, &str)] = &[
        ("exporter host", "gateway.yaml", "endpoint: tempo:4317", "endpoint: tmpo:4317", "no service tmpo"),
        ("exporter port", "gateway.yaml", "http://loki:3100/otlp", "http://loki:3101/otlp", "loki listens on [3100]"),
        (
            "remote write receiver",
            "docker-compose.yml",
            "      - --web.enable-remote-write-receiver\n",
            "",
            "--web.enable-remote-write-receiver",
        ),
        (
            "structured metadata",
            "loki.yaml",
            "allow_structured_metadata: true",
            "allow_structured_metadata: false",
            "structured metadata",
        ),
        ("tempo OTLP port", "tempo.yaml", "endpoint: 0.0.0.0:4317", "endpoint: 0.0.0.0:14317", "tempo listens on"),
        ("mounted file", "docker-compose.yml", "./loki.yaml:", "./loki.yml:", "mounts ./loki.yml"),
        (
            "published port",
            "docker-compose.yml",
            "\"127.0.0.1:4318:4318\"",
            "\"127.0.0.1:4319:4319\"",
            "port 4318 is not published",
        ),
        (
            "dockerfile",
            "docker-compose.yml",
            "dockerfile: deploy/container/Dockerfile",
            "dockerfile: Dockerfile",
            "no Dockerfile",
        ),
        ("scrape target", "prometheus.yml", "gateway:8888", "gateway:8889", "scrape job"),
        (
            "logs link",
            "grafana/provisioning/datasources/datasources.yaml",
            "tracesToLogsV2:\n        datasourceUid: loki",
            "tracesToLogsV2:\n        datasourceUid: prometheus",
            "tracesToLogsV2 goes to a prometheus",
        ),
        (
            "metrics link",
            "grafana/provisioning/datasources/datasources.yaml",
            "tracesToMetrics:\n        datasourceUid: prometheus",
            "tracesToMetrics:\n        datasourceUid: prom",
            "uid prom",
        ),
        (
            "derived field",
            "grafana/provisioning/datasources/datasources.yaml",
            "matcherRegex: trace_id\n          datasourceUid: tempo",
            "matcherRegex: trace_id\n          datasourceUid: loki",
            "derivedField",
        ),
        (
            "exemplar label",
            "grafana/provisioning/datasources/datasources.yaml",
            "- name: trace_id\n",
            "- name: traceId\n",
            "exemplars labelled trace_id",
        ),
        (
            "datasource url",
            "grafana/provisioning/datasources/datasources.yaml",
            "url: http://tempo:3200",
            "url: http://tempo:3201",
            "datasource tempo",
        ),
    ];
    for (what, file, from, to, want) in cases {
        let mut files = stack();
        let text = files.get_mut(*file).unwrap_or_else(|| panic!("{file}"));
        assert!(text.contains(from), "{what}: {from:?} not in {file}");
        *text = text.replacen(from, to, 1);
        let bad = check(&files);
        assert!(bad.iter().any(|b| b.contains(want)), "{what}: no problem mentioning {want:?} in {bad:?}");
    }
}
