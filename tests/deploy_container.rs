//! The container surface (deploy/container/): `switchyard healthcheck` against a real
//! gateway; the Dockerfile read statically (multi-stage, non-root, ports, HEALTHCHECK through
//! the binary, configs that validate); and, where podman can run containers, the image's
//! runtime stage rebuilt `FROM scratch` around the locally built binary and the libraries it
//! links (no registry is reachable to pull the builder or Debian images), run with
//! gateway.yaml, certificates from deploy/tls/gen-certs.sh and a token, and fed by the
//! OpenTelemetry Python SDK while an OTLP sink reads the data back.

mod support;

use std::collections::BTreeSet;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::Duration;

use support::{free_port, sdk_client, wait_until, Gateway, Sink};

fn healthcheck(url: Option<&str>, env: &[(&str, &str)]) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_switchyard"));
    cmd.arg("healthcheck").args(["--timeout", "3s"]).env_remove("SWITCHYARD_HEALTHCHECK_URL");
    if let Some(url) = url {
        cmd.args(["--url", url]);
    }
    cmd.envs(env.iter().copied()).output().expect("run switchyard healthcheck")
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

#[test]
fn healthcheck_exits_zero_only_while_the_gateway_is_healthy() {
    let (g, h) = (free_port(), free_port());
    let config = format!(
        r#"
extensions:
  health_check: {{endpoint: "127.0.0.1:{h}"}}
receivers:
  otlp:
    protocols:
      grpc: {{endpoint: "127.0.0.1:{g}"}}
exporters:
  debug: {{}}
service:
  extensions: [health_check]
  pipelines:
    traces: {{receivers: [otlp], exporters: [debug]}}
"#
    );
    let mut gw = Gateway::start(&config, g);
    let url = format!("http://127.0.0.1:{h}/");
    assert!(
        wait_until(Duration::from_secs(10), || healthcheck(Some(&url), &[]).status.success()),
        "a running gateway is healthy: {}",
        stderr(&healthcheck(Some(&url), &[]))
    );
    let ok = healthcheck(Some(&url), &[]);
    assert!(stderr(&ok).contains("healthy (HTTP 200)"), "{}", stderr(&ok));
    // The URL from the environment, as the image's HEALTHCHECK is configured.
    let by_env = healthcheck(None, &[("SWITCHYARD_HEALTHCHECK_URL", &url)]);
    assert!(by_env.status.success(), "SWITCHYARD_HEALTHCHECK_URL is read: {}", stderr(&by_env));

    gw.stop();
    let down = healthcheck(Some(&url), &[]);
    assert!(!down.status.success(), "a stopped gateway is not healthy");
    assert!(stderr(&down).contains("cannot connect"), "the reason is printed: {}", stderr(&down));
    // The default URL (127.0.0.1:13133) is not asked when --url is given: a closed port fails.
    let nothing = healthcheck(Some(&format!("http://127.0.0.1:{}/", free_port())), &[]);
    assert!(!nothing.status.success() && stderr(&nothing).contains("unhealthy"), "{}", stderr(&nothing));
}

#[test]
fn healthcheck_fails_on_a_non_200_answer_and_on_silence() {
    // A health endpoint answering 503 (the extension's answer before start and while draining).
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = listener.local_addr().expect("addr").port();
    std::thread::spawn(move || {
        for mut conn in listener.incoming().flatten().take(1) {
            let mut buf = [0u8; 1024];
            let _ = conn.read(&mut buf);
            let body = r#"{"status":"Server not available"}"#;
            let _ = write!(conn, "HTTP/1.1 503 Service Unavailable\r\ncontent-length: {}\r\n\r\n{body}", body.len());
        }
    });
    let out = healthcheck(Some(&format!("http://127.0.0.1:{port}/")), &[]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(stderr(&out).contains("HTTP 503") && stderr(&out).contains("Server not available"), "{}", stderr(&out));

    // A port that accepts and never answers: the timeout ends the check.
    let silent = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = silent.local_addr().expect("addr").port();
    let out = healthcheck(Some(&format!("http://127.0.0.1:{port}/")), &[]);
    assert!(!out.status.success() && stderr(&out).contains("no answer within 3s"), "{}", stderr(&out));
    drop(silent);
}

/// One Dockerfile instruction: keyword (upper case) and its arguments, continuation lines joined.
#[derive(Debug, Clone)]
struct Instruction {
    op: String,
    args: String,
}

fn instructions(text: &str) -> Vec<Instruction> {
    let mut out = Vec::new();
    let mut current = String::new();
    for line in text.lines() {
        let trimmed = line.trim();
        if current.is_empty() && (trimmed.is_empty() || trimmed.starts_with('#')) {
            continue;
        }
        if let Some(head) = trimmed.strip_suffix('\\') {
            current.push_str(head);
            current.push(' ');
            continue;
        }
        current.push_str(trimmed);
        let (op, args) = current.split_once(char::is_whitespace).unwrap_or((&current, ""));
        out.push(Instruction { op: op.to_uppercase(), args: args.trim().to_string() });
        current.clear();
    }
    out
}

fn dockerfile() -> Vec<Instruction> {
    instructions(&std::fs::read_to_string(support::root().join("deploy/container/Dockerfile")).expect("Dockerfile"))
}

/// The instructions of the last stage (the image that ships), FROM included.
fn runtime_stage(all: &[Instruction]) -> Vec<Instruction> {
    let start = all.iter().rposition(|i| i.op == "FROM").expect("a FROM");
    all[start..].to_vec()
}

/// A JSON-array (exec form) argument list.
fn exec_form(args: &str) -> Vec<String> {
    serde_json::from_str(args).unwrap_or_else(|e| panic!("exec form expected, got {args}: {e}"))
}

fn validate(path: &Path, env: &[(&str, &str)]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_switchyard"))
        .args(["validate", "--config", &path.display().to_string()])
        .envs(env.iter().copied())
        .output()
        .expect("validate")
}

#[test]
fn dockerfile_builds_in_two_stages_and_ships_a_non_root_self_checking_image() {
    let all = dockerfile();
    let froms: Vec<&Instruction> = all.iter().filter(|i| i.op == "FROM").collect();
    assert!(froms.len() >= 2, "multi-stage: {froms:?}");
    assert!(froms[0].args.contains("rust:") && froms[0].args.contains(" AS "), "a Rust builder stage: {froms:?}");
    assert!(all.iter().any(|i| i.op == "RUN" && i.args.contains("cargo build --release --locked --bin switchyard")));
    let stage = runtime_stage(&all);
    assert!(!stage[0].args.contains("rust"), "the runtime image carries no toolchain: {}", stage[0].args);
    let one = |op: &str| -> Instruction {
        let found: Vec<&Instruction> = stage.iter().filter(|i| i.op == op).collect();
        assert_eq!(found.len(), 1, "one {op} in the runtime stage: {found:?}");
        found[0].clone()
    };

    let exposed: BTreeSet<&str> =
        stage.iter().filter(|i| i.op == "EXPOSE").flat_map(|i| i.args.split_whitespace()).collect();
    assert_eq!(exposed, BTreeSet::from(["4317", "4318", "13133", "8888"]));

    let user = one("USER").args;
    let uid = user.split(':').next().unwrap_or_default();
    assert!(uid.parse::<u32>().is_ok_and(|u| u != 0), "a numeric non-root user (runAsNonRoot can check it): {user}");

    // The binary the entry point runs is the one copied from the builder.
    let entry = exec_form(&one("ENTRYPOINT").args);
    let bin = entry[0].clone();
    assert!(
        stage.iter().any(|i| i.op == "COPY" && i.args.starts_with("--from=builder") && i.args.ends_with(&bin)),
        "{bin} comes from the builder"
    );
    let health = one("HEALTHCHECK").args;
    let cmd = health.split_once("CMD").map(|(_, c)| c.trim()).expect("HEALTHCHECK ... CMD");
    assert_eq!(exec_form(cmd), vec![bin.clone(), "healthcheck".to_string()], "no curl needed");

    // CMD runs the embedded config, which is the file in deploy/container/ and validates.
    let args = exec_form(&one("CMD").args);
    assert_eq!(args[0], "--config");
    let embedded = &args[1];
    let copy = stage
        .iter()
        .find(|i| i.op == "COPY" && i.args.ends_with(embedded.as_str()))
        .unwrap_or_else(|| panic!("{embedded} is copied into the image"));
    let source = support::root().join(copy.args.split_whitespace().next().expect("source"));
    let out = validate(&source, &[]);
    assert!(out.status.success(), "{}: {}", source.display(), stderr(&out));
    // Its endpoints listen on every interface, on the exposed ports.
    let text = std::fs::read_to_string(&source).expect("config");
    for endpoint in ["0.0.0.0:4317", "0.0.0.0:4318", "0.0.0.0:13133", "0.0.0.0:8888"] {
        assert!(text.contains(endpoint), "{} listens on {endpoint}", source.display());
    }
    let gateway = support::root().join("deploy/container/gateway.yaml");
    let out = validate(&gateway, &[("UPSTREAM_OTLP_ENDPOINT", "tempo.example.com:4317")]);
    assert!(out.status.success(), "gateway.yaml: {}", stderr(&out));

    // The build context leaves out the 3 GB target directory.
    let ignore = std::fs::read_to_string(support::root().join(".dockerignore")).expect(".dockerignore");
    assert!(ignore.lines().any(|l| l.trim() == "target/"), "target/ is not sent to the builder");
}

/// A podman invocation with private storage (vfs: no kernel overlay needed) under `dir`.
struct Podman {
    storage: tempfile::TempDir,
    /// Extra `run` flags this machine needs (found by probing).
    run_flags: Vec<String>,
    containers: Vec<String>,
}

impl Podman {
    fn cmd(&self) -> Command {
        let mut c = Command::new("podman");
        let root = self.storage.path().join("root").display().to_string();
        let runroot = self.storage.path().join("run").display().to_string();
        c.args(["--storage-driver", "vfs", "--root", &root, "--runroot", &runroot]);
        c
    }

    fn run(&self, args: &[&str]) -> Output {
        self.cmd().args(args).output().expect("run podman")
    }
}

impl Drop for Podman {
    fn drop(&mut self) {
        for c in &self.containers {
            let _ = self.run(&["rm", "-f", "-t", "5", c]);
        }
        let _ = self.run(&["rmi", "-a", "-f"]);
    }
}

/// The runtime stage rebuilt around local files: FROM scratch, the builder's binary and the
/// RUN-installed libraries replaced by the local binary and the libraries it links.
fn scratch_containerfile(stage: &[Instruction], context: &Path) -> String {
    let mut out = vec!["FROM scratch".to_string(), "COPY rootfs/ /".to_string()];
    for i in &stage[1..] {
        match i.op.as_str() {
            "RUN" => {}
            "COPY" if i.args.starts_with("--from=builder") => {
                let dest = i.args.split_whitespace().last().expect("dest");
                out.push(format!("COPY switchyard {dest}"));
            }
            "COPY" => {
                let mut parts = i.args.split_whitespace();
                let (src, dest) = (parts.next().expect("src"), parts.next_back().expect("dest"));
                let local = context.join("files").join(src.replace('/', "_"));
                std::fs::copy(support::root().join(src), &local).expect("copy into context");
                out.push(format!("COPY files/{} {dest}", src.replace('/', "_")));
            }
            _ => out.push(format!("{} {}", i.op, i.args)),
        }
    }
    out.join("\n") + "\n"
}

/// The binary (stripped) and the shared libraries `ldd` lists, laid out as in the image.
fn stage_context(context: &Path) {
    let bin = context.join("switchyard");
    let stripped = Command::new("strip")
        .args(["-o", &bin.display().to_string(), env!("CARGO_BIN_EXE_switchyard")])
        .status()
        .is_ok_and(|s| s.success());
    if !stripped {
        std::fs::copy(env!("CARGO_BIN_EXE_switchyard"), &bin).expect("copy binary");
    }
    let ldd = Command::new("ldd").arg(env!("CARGO_BIN_EXE_switchyard")).output().expect("ldd");
    for line in String::from_utf8_lossy(&ldd.stdout).lines() {
        // "libz.so.1 => /lib/x86_64-linux-gnu/libz.so.1 (0x...)" or "/lib64/ld-linux-x86-64.so.2 (0x...)"
        let path = line.split("=>").last().and_then(|r| r.split_whitespace().next()).unwrap_or_default();
        if !path.starts_with('/') {
            continue;
        }
        let dest = context.join("rootfs").join(path.trim_start_matches('/'));
        std::fs::create_dir_all(dest.parent().expect("parent")).expect("mkdir");
        std::fs::copy(path, &dest).expect("copy library");
    }
    std::fs::create_dir_all(context.join("rootfs/etc/switchyard")).expect("mkdir");
    std::fs::create_dir_all(context.join("rootfs/tmp")).expect("mkdir");
}

/// Builds the image; then finds the `run` flags this machine needs, or why nothing runs.
fn podman_with_image(tag: &str) -> Result<Podman, String> {
    let version = Command::new("podman").arg("--version").output();
    if !version.is_ok_and(|o| o.status.success()) {
        return Err("podman is not installed (scripts/backends/deploy-tools.sh installs it)".into());
    }
    let uid = Command::new("id").arg("-u").output().map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string());
    if uid.as_deref().ok() != Some("0") {
        return Err("needs root: rootful podman, and mounted keys chowned to the image's USER".into());
    }
    let mut podman =
        Podman { storage: tempfile::tempdir().expect("tempdir"), run_flags: Vec::new(), containers: Vec::new() };
    let context = podman.storage.path().join("context");
    std::fs::create_dir_all(context.join("files")).expect("mkdir");
    stage_context(&context);
    let containerfile = scratch_containerfile(&runtime_stage(&dockerfile()), &context);
    std::fs::write(context.join("Containerfile"), &containerfile).expect("write");
    // Docker format: the OCI image format has no HEALTHCHECK, and podman drops it there.
    let build = podman.run(&[
        "build",
        "--format",
        "docker",
        "-t",
        tag,
        "-f",
        &context.join("Containerfile").display().to_string(),
        &context.display().to_string(),
    ]);
    if !build.status.success() {
        return Err(format!("podman build failed: {}", stderr(&build)));
    }
    // crun 1.8 refuses hybrid cgroup hierarchies (runc accepts them), and without
    // CAP_SYS_RESOURCE the default rlimits (raised above this process's own) cannot be set.
    let limits = std::fs::read_to_string("/proc/self/limits").unwrap_or_default();
    let nofile = limits
        .lines()
        .find(|l| l.starts_with("Max open files"))
        .and_then(|l| l.split_whitespace().nth(3))
        .unwrap_or("1024")
        .to_string();
    let ulimits = vec![
        "--ulimit".to_string(),
        format!("nofile={nofile}:{nofile}"),
        "--ulimit".into(),
        "nproc=32768:32768".into(),
    ];
    let runc = vec!["--runtime".to_string(), "runc".to_string()];
    let mut errors = Vec::new();
    for flags in [vec![], ulimits.clone(), [runc.clone(), ulimits.clone()].concat(), runc] {
        let probe = podman
            .cmd()
            .args(["run", "--rm", "--network", "host"])
            .args(&flags)
            .args([tag, "--version"])
            .output()
            .expect("podman run");
        if probe.status.success() && String::from_utf8_lossy(&probe.stdout).contains("switchyard") {
            eprintln!("podman runs containers here with run flags {flags:?}");
            podman.run_flags = flags;
            return Ok(podman);
        }
        errors.push(format!("podman run {flags:?}: {}", stderr(&probe).trim()));
    }
    Err(format!("podman cannot run a container here:\n{}", errors.join("\n")))
}

fn gen_certs(dir: &Path) -> PathBuf {
    let certs = dir.join("certs");
    let out = Command::new(support::root().join("deploy/tls/gen-certs.sh"))
        .args(["-o", &certs.display().to_string(), "localhost", "127.0.0.1"])
        .output()
        .expect("gen-certs.sh");
    assert!(out.status.success(), "gen-certs.sh: {}", stderr(&out));
    certs
}

#[test]
fn image_runs_as_a_tls_token_gateway_and_its_healthcheck_passes() {
    let tag = format!("localhost/switchyard-test:{}", std::process::id());
    let mut podman = match podman_with_image(&tag) {
        Ok(p) => p,
        Err(why) => {
            eprintln!("SKIPPED image_runs_as_a_tls_token_gateway_and_its_healthcheck_passes: {why}");
            return;
        }
    };
    let dir = tempfile::tempdir().expect("tempdir");
    let certs = gen_certs(dir.path());
    // The image runs as its USER; mounted keys must be readable by it (docs/deploy.md says so).
    let user = runtime_stage(&dockerfile()).iter().find(|i| i.op == "USER").map(|i| i.args.clone()).expect("USER");
    let chown = Command::new("chown").args(["-R", &user, &certs.display().to_string()]).status();
    assert!(chown.is_ok_and(|s| s.success()), "chown the certificates to {user}");
    let token = std::fs::read_to_string(certs.join("token")).expect("token").trim().to_string();

    let sink = Sink::start(&[]);
    let (g, h, hc, m) = (free_port(), free_port(), free_port(), free_port());
    let name = format!("switchyard-test-{}", std::process::id());
    let gateway = support::root().join("deploy/container/gateway.yaml");
    let mounts = [
        format!("{}:/etc/switchyard/config.yaml:ro", gateway.display()),
        format!("{}:/etc/switchyard/tls:ro", certs.display()),
        format!("{}:/etc/switchyard/token:ro", certs.join("token").display()),
    ];
    let mut cmd = podman.cmd();
    cmd.args(["run", "-d", "--name", &name, "--network", "host"]).args(&podman.run_flags);
    for m in &mounts {
        cmd.args(["-v", m]);
    }
    // Host networking (no port publishing needs iptables here): move every listener to a free
    // loopback port with --set, and tell the HEALTHCHECK where health_check went.
    let run = cmd
        .args(["-e", &format!("UPSTREAM_OTLP_ENDPOINT={}", sink.grpc_endpoint()), "-e", "UPSTREAM_OTLP_INSECURE=true"])
        .args(["-e", &format!("SWITCHYARD_HEALTHCHECK_URL=http://127.0.0.1:{hc}/")])
        .arg(&tag)
        .args(["--config", "/etc/switchyard/config.yaml"])
        .args(["--set", &format!("receivers.otlp.protocols.grpc.endpoint=127.0.0.1:{g}")])
        .args(["--set", &format!("receivers.otlp.protocols.http.endpoint=127.0.0.1:{h}")])
        .args(["--set", &format!("extensions.health_check.endpoint=127.0.0.1:{hc}")])
        .args(["--set", &format!("service.telemetry.metrics.address=127.0.0.1:{m}")])
        .output()
        .expect("podman run");
    assert!(run.status.success(), "podman run: {}", stderr(&run));
    podman.containers.push(name.clone());
    let logs = |p: &Podman| {
        let o = p.run(&["logs", &name]);
        format!("{}{}", String::from_utf8_lossy(&o.stdout), stderr(&o))
    };
    let up = wait_until(Duration::from_secs(30), || support::http_get(&format!("127.0.0.1:{hc}"), "/").0 == 200);
    assert!(up, "the container's gateway became healthy:\n{}", logs(&podman));

    // The image's own HEALTHCHECK, run inside the container.
    let check = podman.run(&["healthcheck", "run", &name]);
    assert!(check.status.success(), "HEALTHCHECK passes: {}{}", String::from_utf8_lossy(&check.stdout), stderr(&check));
    // The gateway process runs as the image's USER.
    let pid = podman.run(&["inspect", "--format", "{{.State.Pid}}", &name]);
    let pid = String::from_utf8_lossy(&pid.stdout).trim().to_string();
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    let uids: Vec<String> = status
        .lines()
        .find_map(|l| l.strip_prefix("Uid:"))
        .map(|l| l.split_whitespace().map(str::to_string).collect())
        .unwrap_or_default();
    let uid = user.split(':').next().unwrap_or_default().to_string();
    // Rootful podman without a user namespace: the host sees the container's uid as is.
    assert!(uids.len() == 4 && uids.iter().all(|u| *u == uid), "pid {pid} runs as {uid}: {uids:?}");

    // The SDK over TLS with the token: gRPC and HTTP; without the token: refused.
    let ca = certs.join("ca.pem").display().to_string();
    let bearer = format!("authorization=Bearer {token}");
    for (proto, endpoint, run) in
        [("grpc", format!("127.0.0.1:{g}"), "ctr-grpc"), ("http", format!("https://127.0.0.1:{h}"), "ctr-http")]
    {
        let ok = sdk_client(proto, &endpoint, 10, run, &["--ca", &ca, "--header", &bearer]);
        assert!(ok.status.success(), "{proto} with token: {}\n{}", stderr(&ok), logs(&podman));
        let refused =
            sdk_client(proto, &endpoint, 5, &format!("{run}-no-token"), &["--signals", "traces", "--ca", &ca]);
        assert!(!refused.status.success(), "{proto} without a token is refused");
    }
    for run in ["ctr-grpc", "ctr-http"] {
        let arrived = wait_until(Duration::from_secs(20), || {
            sink.items("traces", Some(run)) == 10
                && sink.items("logs", Some(run)) == 10
                && sink.items("metrics", Some(run)) >= 30
        });
        assert!(
            arrived,
            "{run}: spans {}, logs {}, points {}\n{}",
            sink.items("traces", Some(run)),
            sink.items("logs", Some(run)),
            sink.items("metrics", Some(run)),
            logs(&podman)
        );
    }
    assert_eq!(sink.items("traces", Some("ctr-grpc-no-token")) + sink.items("traces", Some("ctr-http-no-token")), 0);

    // `podman stop` sends SIGTERM: the gateway drains and exits 0.
    let stop = podman.run(&["stop", "-t", "20", &name]);
    assert!(stop.status.success(), "podman stop: {}", stderr(&stop));
    let code = podman.run(&["inspect", "--format", "{{.State.ExitCode}}", &name]);
    assert_eq!(String::from_utf8_lossy(&code.stdout).trim(), "0", "clean exit:\n{}", logs(&podman));
}
