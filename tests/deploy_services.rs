//! The deploy surfaces besides the image: deploy/tls/gen-certs.sh (its certificates and
//! token on a real gateway, clients configured only by the standard OTEL_EXPORTER_OTLP_*
//! variables docs/deploy.md gives), deploy/systemd/ (systemd-analyze verify and security,
//! the reload story against what the binary does on SIGHUP), deploy/skypilot/ (SkyPilot's
//! own task parser). A tool that cannot run here makes its test print why and return.

mod support;

use std::os::unix::fs::PermissionsExt;
use std::os::unix::process::ExitStatusExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::Duration;

use serde_json::Value;
use support::{free_port, sdk_client, wait_until, Gateway, Sink};

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

fn validate(path: &Path, env: &[(&str, &str)]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_switchyard"))
        .args(["validate", "--config", &path.display().to_string()])
        .envs(env.iter().copied())
        .output()
        .expect("validate")
}

fn gen_certs(out: &Path, names: &[&str]) -> Output {
    Command::new(support::root().join("deploy/tls/gen-certs.sh"))
        .arg("-o")
        .arg(out)
        .args(names)
        .output()
        .expect("run gen-certs.sh")
}

fn openssl(args: &[&str]) -> Output {
    Command::new("openssl").args(args).output().expect("openssl")
}

/// Exports 5 spans with the OpenTelemetry Python SDK configured by environment alone, as
/// docs/deploy.md tells users to; prints the export result. Exit 0 on SUCCESS.
const ENV_ONLY_CLIENT: &str = r#"
import os, sys
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
if os.environ["OTEL_EXPORTER_OTLP_PROTOCOL"] == "grpc":
    from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import OTLPSpanExporter
else:
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
memory = InMemorySpanExporter()
provider = TracerProvider(resource=Resource.create({"service.name": "env-client", "run.id": sys.argv[1]}))
provider.add_span_processor(SimpleSpanProcessor(memory))
tracer = provider.get_tracer("deploy-test")
for i in range(5):
    with tracer.start_as_current_span(f"env-span-{i}") as span:
        span.set_attribute("run.id", sys.argv[1])
result = OTLPSpanExporter().export(memory.get_finished_spans())
print(result.name)
sys.exit(0 if result.name == "SUCCESS" else 1)
"#;

fn env_only_client(run: &str, env: &[(&str, &str)]) -> Output {
    Command::new(support::python())
        .args(["-c", ENV_ONLY_CLIENT, run])
        .env_remove("REQUESTS_CA_BUNDLE")
        .env_remove("CURL_CA_BUNDLE")
        .env("OTEL_EXPORTER_OTLP_TIMEOUT", "10")
        .envs(env.iter().copied())
        .output()
        .expect("python")
}

#[test]
fn gen_certs_script_makes_what_a_tls_token_gateway_and_its_clients_need() {
    if Command::new("openssl").arg("version").output().is_err() {
        eprintln!("SKIPPED: openssl is not installed (scripts/backends/deploy-tools.sh installs it)");
        return;
    }
    let dir = tempfile::tempdir().expect("tempdir");
    let certs = dir.path().join("certs");
    let out = gen_certs(&certs, &["localhost", "127.0.0.1", "gateway.example.com"]);
    assert!(out.status.success(), "gen-certs.sh: {}", stderr(&out));
    let path = |f: &str| certs.join(f).display().to_string();
    for key in ["ca-key.pem", "server-key.pem", "client-key.pem", "token"] {
        let mode = std::fs::metadata(certs.join(key)).expect(key).permissions().mode() & 0o777;
        assert_eq!(mode, 0o600, "{key} is private");
    }
    let verify = openssl(&["verify", "-CAfile", &path("ca.pem"), &path("server.pem"), &path("client.pem")]);
    assert!(verify.status.success(), "both chain to the CA: {}", String::from_utf8_lossy(&verify.stdout));
    let ext = openssl(&["x509", "-in", &path("server.pem"), "-noout", "-ext", "subjectAltName,extendedKeyUsage"]);
    let ext = String::from_utf8_lossy(&ext.stdout).into_owned();
    for want in ["DNS:localhost", "IP Address:127.0.0.1", "DNS:gateway.example.com", "TLS Web Server Authentication"] {
        assert!(ext.contains(want), "server certificate has {want}: {ext}");
    }
    let client_ext = openssl(&["x509", "-in", &path("client.pem"), "-noout", "-ext", "extendedKeyUsage"]);
    assert!(String::from_utf8_lossy(&client_ext.stdout).contains("TLS Web Client Authentication"));

    // Running again renews the server and client certificates under the same CA and token.
    let (ca, server, token) = (
        std::fs::read(certs.join("ca.pem")).expect("ca"),
        std::fs::read(certs.join("server.pem")).expect("server"),
        std::fs::read_to_string(certs.join("token")).expect("token"),
    );
    assert!(gen_certs(&certs, &["localhost", "127.0.0.1"]).status.success());
    assert_eq!(std::fs::read(certs.join("ca.pem")).expect("ca"), ca, "the CA is kept");
    assert_ne!(std::fs::read(certs.join("server.pem")).expect("server"), server, "the server certificate is new");
    assert_eq!(std::fs::read_to_string(certs.join("token")).expect("token"), token, "the token is kept");
    let token = token.trim().to_string();
    assert_eq!(token.len(), 64, "32 random bytes, hex");

    // A gateway on those files: TLS + bearer token on gRPC and HTTP, and mutual TLS.
    let sink = Sink::start(&[]);
    let (g, h, m) = (free_port(), free_port(), free_port());
    let tls = format!("{{cert_file: {}, key_file: {}}}", path("server.pem"), path("server-key.pem"));
    let mtls = format!(
        "{{cert_file: {}, key_file: {}, client_ca_file: {}}}",
        path("server.pem"),
        path("server-key.pem"),
        path("ca.pem")
    );
    let config = format!(
        r#"
extensions:
  bearertokenauth:
    filename: {token_file}
receivers:
  otlp:
    protocols:
      grpc: {{endpoint: "127.0.0.1:{g}", tls: {tls}, auth: {{authenticator: bearertokenauth}}}}
      http: {{endpoint: "127.0.0.1:{h}", tls: {tls}, auth: {{authenticator: bearertokenauth}}}}
  otlp/mtls:
    protocols:
      grpc: {{endpoint: "127.0.0.1:{m}", tls: {mtls}}}
exporters:
  otlp:
    endpoint: {sink}
    tls: {{insecure: true}}
service:
  extensions: [bearertokenauth]
  pipelines:
    traces: {{receivers: [otlp, otlp/mtls], exporters: [otlp]}}
"#,
        token_file = path("token"),
        sink = sink.grpc_endpoint()
    );
    let _gw = Gateway::start(&config, h);

    // Clients set up only with the standard variables, as docs/deploy.md shows.
    let headers = format!("Authorization=Bearer%20{token}");
    let ca_file = path("ca.pem");
    for (proto, url, run) in [
        ("grpc", format!("https://localhost:{g}"), "env-grpc"),
        ("http/protobuf", format!("https://localhost:{h}"), "env-http"),
    ] {
        let base = [
            ("OTEL_EXPORTER_OTLP_PROTOCOL", proto),
            ("OTEL_EXPORTER_OTLP_ENDPOINT", url.as_str()),
            ("OTEL_EXPORTER_OTLP_CERTIFICATE", ca_file.as_str()),
        ];
        let ok = env_only_client(run, &[&base[..], &[("OTEL_EXPORTER_OTLP_HEADERS", headers.as_str())]].concat());
        assert!(ok.status.success(), "{proto} with the token: {}{}", String::from_utf8_lossy(&ok.stdout), stderr(&ok));
        let no_token = env_only_client(&format!("{run}-refused"), &base);
        assert!(!no_token.status.success(), "{proto} without the token is refused");
        let wrong = env_only_client(
            &format!("{run}-refused"),
            &[&base[..], &[("OTEL_EXPORTER_OTLP_HEADERS", "Authorization=Bearer%20not-the-token")]].concat(),
        );
        assert!(!wrong.status.success(), "{proto} with a wrong token is refused");
    }

    // Mutual TLS with the generated client certificate; without it the handshake fails.
    let (cert, key) = (path("client.pem"), path("client-key.pem"));
    let endpoint = format!("127.0.0.1:{m}");
    let with_cert = sdk_client(
        "grpc",
        &endpoint,
        5,
        "mtls",
        &["--signals", "traces", "--ca", &ca_file, "--client-cert", &cert, "--client-key", &key],
    );
    assert!(with_cert.status.success(), "mTLS with client.pem: {}", stderr(&with_cert));
    let without = sdk_client("grpc", &endpoint, 5, "mtls-refused", &["--signals", "traces", "--ca", &ca_file]);
    assert!(!without.status.success(), "mTLS without a client certificate is refused");

    for run in ["env-grpc", "env-http", "mtls"] {
        assert!(
            wait_until(Duration::from_secs(10), || sink.items("traces", Some(run)) == 5),
            "{run}: 5 spans arrive, got {}",
            sink.items("traces", Some(run))
        );
    }
    for run in ["env-grpc-refused", "env-http-refused", "mtls-refused"] {
        assert_eq!(sink.items("traces", Some(run)), 0, "{run}: nothing refused arrives");
    }
}

/// The unit with its binary path pointed at the test binary (verify wants it to exist).
fn rendered_unit(dir: &Path) -> (PathBuf, String) {
    let text = std::fs::read_to_string(support::root().join("deploy/systemd/switchyard.service")).expect("unit");
    let rendered = text.replace("/usr/local/bin/switchyard", env!("CARGO_BIN_EXE_switchyard"));
    let path = dir.join("switchyard.service");
    std::fs::write(&path, &rendered).expect("write unit");
    (path, text)
}

/// `Key=value` lines of the unit (comments skipped), in order.
fn unit_settings(text: &str) -> Vec<(String, String)> {
    text.lines()
        .map(str::trim)
        .filter(|l| !l.starts_with('#') && !l.starts_with('['))
        .filter_map(|l| l.split_once('='))
        .map(|(k, v)| (k.trim().to_string(), v.trim().to_string()))
        .collect()
}

fn setting(settings: &[(String, String)], key: &str) -> Option<String> {
    settings.iter().rev().find(|(k, _)| k == key).map(|(_, v)| v.clone())
}

#[test]
fn systemd_unit_passes_verify_and_is_locked_down() {
    if Command::new("systemd-analyze").arg("--version").output().is_err() {
        eprintln!("SKIPPED: systemd-analyze is not installed (scripts/backends/deploy-tools.sh installs systemd)");
        return;
    }
    let dir = tempfile::tempdir().expect("tempdir");
    let (unit, text) = rendered_unit(dir.path());
    let verify = Command::new("systemd-analyze").arg("verify").arg(&unit).output().expect("verify");
    assert!(verify.status.success(), "systemd-analyze verify: {}", stderr(&verify));
    // Unknown keys and unparsable values are only warnings: none allowed.
    assert!(stderr(&verify).trim().is_empty(), "no warnings: {}", stderr(&verify));

    // The check can fail: a misspelt option and a missing binary are reported.
    let broken = dir.path().join("broken.service");
    let bad = std::fs::read_to_string(&unit).expect("unit").replace("ProtectHome=yes", "ProtectHome=maybe-not");
    std::fs::write(&broken, bad.replace(env!("CARGO_BIN_EXE_switchyard"), "/nonexistent/switchyard")).expect("write");
    let out = Command::new("systemd-analyze").arg("verify").arg(&broken).output().expect("verify");
    assert!(!out.status.success() && stderr(&out).contains("maybe-not"), "{}", stderr(&out));

    // systemd's own exposure score: 0 (locked down) .. 10 (unprotected); below 2 is "OK".
    let security = Command::new("systemd-analyze")
        .args(["security", "--offline=true", "--no-pager"])
        .arg(&unit)
        .output()
        .expect("security");
    let report = String::from_utf8_lossy(&security.stdout).into_owned();
    let score: f64 = report
        .lines()
        .find(|l| l.contains("Overall exposure level"))
        .and_then(|l| l.split(':').nth(1)?.split_whitespace().next()?.parse().ok())
        .unwrap_or_else(|| panic!("no exposure level: {report}{}", stderr(&security)));
    assert!(score <= 2.0, "exposure {score}:\n{report}");

    let s = unit_settings(&text);
    for (key, want) in [
        ("ProtectSystem", "strict"),
        ("ProtectHome", "yes"),
        ("PrivateTmp", "yes"),
        ("NoNewPrivileges", "yes"),
        ("CapabilityBoundingSet", ""),
        ("RestrictAddressFamilies", "AF_UNIX AF_INET AF_INET6"),
        ("User", "switchyard"),
    ] {
        assert_eq!(setting(&s, key).as_deref(), Some(want), "{key}");
    }
    assert!(setting(&s, "MemoryMax").is_some(), "a memory ceiling");
    assert_eq!(
        setting(&s, "ExecStart").as_deref(),
        Some("/usr/local/bin/switchyard --config /etc/switchyard/config.yaml")
    );
    assert_eq!(
        setting(&s, "ExecStartPre").as_deref(),
        Some("/usr/local/bin/switchyard validate --config /etc/switchyard/config.yaml"),
        "a broken config is refused before the old one's process is replaced"
    );
    let sysusers =
        std::fs::read_to_string(support::root().join("deploy/systemd/switchyard.sysusers")).expect("sysusers");
    assert!(sysusers.lines().any(|l| l.starts_with("u switchyard ")), "the User= is created by sysusers");
}

#[test]
fn systemd_config_validates_and_reload_matches_what_sighup_does() {
    let config = support::root().join("deploy/systemd/config.yaml");
    let out = validate(&config, &[("UPSTREAM_OTLP_ENDPOINT", "tempo.example.com:4317")]);
    assert!(out.status.success(), "{}", stderr(&out));
    let text = std::fs::read_to_string(support::root().join("deploy/systemd/switchyard.service")).expect("unit");
    let reload: Vec<String> =
        unit_settings(&text).into_iter().filter(|(k, _)| k == "ExecReload").map(|(_, v)| v).collect();
    assert_eq!(
        reload,
        ["/usr/local/bin/switchyard validate --config /etc/switchyard/config.yaml", "/bin/kill -HUP $MAINPID"],
        "`systemctl reload` checks the file, then sends SIGHUP to the gateway"
    );

    // What the binary does on SIGHUP: it stays up, reloads, and keeps serving its port.
    let dir = tempfile::tempdir().expect("tempdir");
    let g = free_port();
    let cfg = support::write(
        dir.path(),
        "c.yaml",
        &format!(
            "receivers: {{otlp: {{protocols: {{grpc: {{endpoint: \"127.0.0.1:{g}\"}}}}}}}}\nexporters: {{debug: {{}}}}\nservice:\n  telemetry: {{metrics: {{address: \"127.0.0.1:{}\"}}}}\n  pipelines: {{traces: {{receivers: [otlp], exporters: [debug]}}}}\n",
            free_port()
        ),
    );
    let log = dir.path().join("gateway.log");
    let mut child = Command::new(env!("CARGO_BIN_EXE_switchyard"))
        .arg("--config")
        .arg(&cfg)
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(&log).expect("log"))
        .spawn()
        .expect("spawn");
    assert!(wait_until(Duration::from_secs(20), || std::net::TcpStream::connect(("127.0.0.1", g)).is_ok()));
    let _ = Command::new("kill").args(["-HUP", &child.id().to_string()]).status();
    let logs = || std::fs::read_to_string(&log).unwrap_or_default();
    let reloaded = wait_until(Duration::from_secs(10), || logs().contains("Configuration reloaded."));
    let alive = matches!(child.try_wait(), Ok(None));
    let serving = std::net::TcpStream::connect(("127.0.0.1", g)).is_ok();
    let _ = Command::new("kill").args(["-TERM", &child.id().to_string()]).status();
    let status = child.wait().expect("wait");
    assert!(reloaded && alive && serving, "SIGHUP reloads in place: {status:?}\n{}", logs());
    assert_eq!((status.code(), status.signal()), (Some(0), None), "then SIGTERM drains and exits 0");
}

fn skypilot_python() -> Option<PathBuf> {
    let venv = std::env::var("SKYPILOT_VENV").unwrap_or_else(|_| "/tmp/skypilot-venv".into());
    let py = PathBuf::from(venv).join("bin/python");
    let ok = Command::new(&py).args(["-c", "import sky"]).output().is_ok_and(|o| o.status.success());
    ok.then_some(py)
}

fn skypilot_task(py: &Path, task: &Path, extra: &[&str]) -> (bool, Value) {
    let out = Command::new(py)
        .arg(support::root().join("scripts/backends/skypilot_task.py"))
        .arg(task)
        .args(extra)
        .current_dir(support::root())
        .output()
        .expect("skypilot_task.py");
    let json = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|_| panic!("skypilot_task.py: {}{}", String::from_utf8_lossy(&out.stdout), stderr(&out)));
    (out.status.success(), json)
}

/// Ports as SkyPilot lists them (`"4317-4318"` or `"4317"`), expanded.
fn expand_ports(ports: &Value) -> Vec<u16> {
    let mut out = Vec::new();
    for p in ports.as_array().into_iter().flatten() {
        let p = p.as_str().map(str::to_string).unwrap_or_else(|| p.to_string());
        let (a, b) = p.split_once('-').unwrap_or((&p, &p));
        out.extend(a.parse::<u16>().expect("port")..=b.parse::<u16>().expect("port"));
    }
    out
}

#[test]
fn skypilot_task_loads_with_skypilots_own_parser() {
    let Some(py) = skypilot_python() else {
        eprintln!(
            "SKIPPED: no SkyPilot venv (scripts/backends/deploy-tools.sh installs skypilot into /tmp/skypilot-venv)"
        );
        return;
    };
    let task = support::root().join("deploy/skypilot/gateway.yaml");
    let (ok, t) = skypilot_task(
        &py,
        &task,
        &["--env", "UPSTREAM_OTLP_ENDPOINT=tempo.internal:4317", "--secret", "SWITCHYARD_TOKEN=t0k"],
    );
    assert!(ok, "SkyPilot refused the task: {t}");
    eprintln!("skypilot {}", t["sky_version"]);
    assert_eq!(t["name"], "switchyard-gateway");
    let ports = expand_ports(&t["ports"]);
    assert!(ports.contains(&4317) && ports.contains(&4318), "ports opened: {ports:?}");
    assert!(!ports.contains(&13133) && !ports.contains(&8888), "health and metrics stay closed: {ports:?}");
    // The token is a secret (`sky launch --secret`), never a plain env var in the YAML.
    assert_eq!(t["secret_refs"], serde_json::json!(["SWITCHYARD_TOKEN"]), "{t}");
    assert!(t["envs"].get("SWITCHYARD_TOKEN").is_none());
    assert_eq!(t["launched_secrets"], serde_json::json!(["SWITCHYARD_TOKEN"]));
    assert_eq!(t["launched_envs"]["UPSTREAM_OTLP_ENDPOINT"], "tempo.internal:4317");
    // Certificates come from gen-certs.sh's default output folder.
    assert_eq!(t["file_mounts"]["~/switchyard/tls"], "./certs");

    // The shell of setup and run parses, and run mounts a config that validates and whose
    // files are the ones mounted.
    for script in ["setup", "run"] {
        let text = t[script].as_str().expect(script);
        let mut sh = Command::new("bash").arg("-n").stdin(Stdio::piped()).spawn().expect("bash");
        use std::io::Write;
        sh.stdin.take().expect("stdin").write_all(text.as_bytes()).expect("write");
        assert!(sh.wait().expect("bash").success(), "{script} is valid bash");
    }
    let run = t["run"].as_str().expect("run");
    let config = run
        .split("$PWD/")
        .nth(1)
        .and_then(|r| r.split(":/etc/switchyard/config.yaml").next())
        .expect("run mounts a config from the workdir");
    let out = validate(&support::root().join(config), &[("UPSTREAM_OTLP_ENDPOINT", "tempo.internal:4317")]);
    assert!(out.status.success(), "{config}: {}", stderr(&out));
    let config_text = std::fs::read_to_string(support::root().join(config)).expect("config");
    for (file, mount) in [
        ("/etc/switchyard/tls/server.pem", ":/etc/switchyard/tls:ro"),
        ("/etc/switchyard/token", ":/etc/switchyard/token:ro"),
    ] {
        assert!(config_text.contains(file) && run.contains(mount), "{file} is read and mounted");
    }

    // The parser is not a rubber stamp: a misspelt field is refused.
    let dir = tempfile::tempdir().expect("tempdir");
    let bad = support::write(
        dir.path(),
        "bad.yaml",
        &std::fs::read_to_string(&task).expect("task").replace("  ports:\n", "  prots:\n"),
    );
    let (ok, err) = skypilot_task(&py, &bad, &[]);
    assert!(!ok && err["error"].as_str().unwrap_or_default().contains("prots"), "{err}");
}

/// Every file under deploy/ whose top level is a Collector config (`receivers:` and
/// `service:` at column 0), however deep: the issue asks that all of them validate.
/// The Kubernetes, Helm and Compose configs are validated by their own tests
/// (tests/deploy_kubernetes, tests/deploy_compose.rs) in the file layout and environment
/// their pods and containers give them (mounted certificates, `KUBE_NODE_NAME`), which this
/// walk cannot reproduce; they are left to those tests.
#[test]
fn every_collector_config_under_deploy_validates() {
    const IN_CONTEXT: [&str; 3] = ["kubernetes", "helm", "compose"];
    fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
        for entry in std::fs::read_dir(dir).expect("read_dir").flatten() {
            let path = entry.path();
            let in_context = dir.ends_with("deploy") && IN_CONTEXT.iter().any(|d| path.ends_with(d));
            if path.is_dir() && !in_context {
                walk(&path, out);
            } else if path.extension().is_some_and(|e| e == "yaml" || e == "yml") {
                let text = std::fs::read_to_string(&path).unwrap_or_default();
                let top = |k: &str| text.lines().any(|l| l.starts_with(k));
                if top("receivers:") && top("service:") {
                    out.push(path);
                }
            }
        }
    }
    let mut configs = Vec::new();
    walk(&support::root().join("deploy"), &mut configs);
    configs.sort();
    let names: Vec<String> = configs.iter().map(|p| p.display().to_string()).collect();
    for want in
        ["container/config.yaml", "container/gateway.yaml", "systemd/config.yaml", "skypilot/gateway-config.yaml"]
    {
        assert!(names.iter().any(|n| n.ends_with(want)), "{want} found among {names:?}");
    }
    for path in &configs {
        // The one variable the deploy configs require; the others have defaults.
        let out = validate(path, &[("UPSTREAM_OTLP_ENDPOINT", "backend.example.com:4317")]);
        assert!(out.status.success(), "{}: {}", path.display(), stderr(&out));
        eprintln!("valid: {}", path.display());
    }
}
