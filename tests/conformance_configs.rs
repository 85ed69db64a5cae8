//! `switchyard validate` over the 39 public Collector configs in
//! `../shared/conformance/configs/` (read in place): a config whose every component type is
//! built here must validate; any other must fail naming every component type we lack, and
//! nothing else. Multi-file sets are loaded together, as their INDEX.md says.

mod support;

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;

use switchyard_core::component::Kind;
use switchyard_core::config::{parse, Value};

fn configs_dir() -> PathBuf {
    support::root().join("../shared/conformance/configs")
}

/// A value for each environment variable the configs use, shaped like what it stands for.
fn env_value(name: &str) -> &'static str {
    match name {
        "LOG_EXPORTER_LOG_VERBOSITY" => "basic",
        "HYPERDX_LOG_LEVEL" | "SPLUNK_COLLECTOR_LOG_LEVEL" => "info",
        "SPLUNK_MEMORY_LIMIT_MIB" => "512",
        "KAFKA_ENCODING" => "otlp_proto",
        n if n.ends_with("NODE_NAME") => "node-1",
        n if n.ends_with("_PORT") || n.contains("_PORT_") => "4317",
        n if n.ends_with("BATCH_SIZE") || n.ends_with("MAX_SIZE") => "1000",
        n if n.ends_with("TIMEOUT") || n.ends_with("INTERVAL") => "5s",
        n if n.ends_with("_ENABLE") || n.ends_with("_SCHEMA") || n.ends_with("GROUPING") => "false",
        n if n.ends_with("_URL") || n.ends_with("ENDPOINT") => "http://localhost:4318",
        n if n.contains("KAFKA_B") => "localhost:9092",
        n if n.ends_with("_IP") || n.ends_with("_HOST") || n.ends_with("ADDR") || n.ends_with("INTERFACE") => {
            "127.0.0.1"
        }
        _ => "value",
    }
}

fn env_names(text: &str) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    let mut rest = text;
    while let Some(i) = rest.find("${") {
        rest = &rest[i + 2..];
        let name: String =
            rest.trim_start_matches("env:").chars().take_while(|c| c.is_ascii_alphanumeric() || *c == '_').collect();
        if !name.is_empty() && !name.chars().all(|c| c.is_ascii_digit()) {
            out.insert(name);
        }
    }
    // k8sattributes reads the variable `filter.node_from_env_var` names (set by the
    // downward API in the pod the config was written for) and, as upstream, validation
    // requires it to be set.
    for line in text.lines() {
        if let Some(v) = line.trim().strip_prefix("node_from_env_var:") {
            let name = v.trim().trim_matches(|c| c == '"' || c == '\'');
            if !name.is_empty() {
                out.insert(name.to_string());
            }
        }
    }
    out
}

/// Component types (kind, type) a config defines.
fn types(text: &str, file: &str) -> BTreeSet<(Kind, String)> {
    let root = parse(file, text).expect("the public configs are valid YAML");
    let mut out = BTreeSet::new();
    let Value::Map(sections) = &root.value else { return out };
    for (section, kind) in [
        ("receivers", Kind::Receiver),
        ("processors", Kind::Processor),
        ("exporters", Kind::Exporter),
        ("connectors", Kind::Connector),
        ("extensions", Kind::Extension),
    ] {
        if let Some(Value::Map(m)) = sections.get(section).map(|e| &e.node.value) {
            for id in m.keys() {
                out.insert((kind, id.split('/').next().unwrap_or(id).to_string()));
            }
        }
    }
    out
}

fn kind_name(kind: Kind) -> &'static str {
    match kind {
        Kind::Receiver => "receiver",
        Kind::Processor => "processor",
        Kind::Exporter => "exporter",
        Kind::Connector => "connector",
        Kind::Extension => "extension",
    }
}

struct Outcome {
    ok: bool,
    stderr: String,
    missing: BTreeSet<(Kind, String)>,
}

fn validate(files: &[&str], dir: &Path) -> Outcome {
    let registry = switchyard_components::registry().expect("registry");
    let mut env = BTreeSet::new();
    let mut wanted = BTreeSet::new();
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_switchyard"));
    cmd.current_dir(dir).arg("validate");
    for f in files {
        let path = configs_dir().join(f);
        let text = std::fs::read_to_string(&path).expect("read config");
        env.extend(env_names(&text));
        wanted.extend(types(&text, f));
        cmd.arg("--config").arg(&path);
    }
    for name in &env {
        cmd.env(name, env_value(name));
    }
    let out = cmd.output().expect("run switchyard validate");
    let missing = wanted.into_iter().filter(|(k, t)| registry.get(*k, t).is_none()).collect();
    Outcome { ok: out.status.success(), stderr: String::from_utf8_lossy(&out.stderr).into_owned(), missing }
}

/// Errors that are not about a missing component type but are expected, with why. Each is
/// printed when it occurs, so the gap stays visible.
const ALLOWED: &[(&str, &str)] = &[
    (
        "invalid root_path: stat /hostfs",
        "hostmetrics reads the host's filesystem where the container mounts it (/hostfs on the machine the config was written for); as in the Collector, the path must exist",
    ),
    (
        "does not exist: create it, or set create_directory: true",
        "file_storage needs its directory, as in the Collector (a path on the machine the config was written for)",
    ),
    (
        "receiver \"hostmetrics\" does not support logs",
        "hostmetrics' host entity events (the Collector's development-stage logs signal) are not built",
    ),
    ("profile statements are not supported by Switchyard yet", "the OTTL profile context is not built"),
    ("\" does not support profiles", "the OTTL profile context is not built (filter on profiles)"),
    (
        "`merge_histogram_buckets` with a method is not supported",
        "the method argument (Splunk's `limit_buckets`) is not in upstream's documentation; refused rather than guessed",
    ),
];

/// The error lines of a failed validate that are not about a missing component type.
fn other_errors(stderr: &str) -> Vec<&str> {
    stderr
        .lines()
        .filter(|l| l.contains(".yaml:") && !(l.contains(": unknown ") && l.contains(" type \"")))
        .filter(|l| match ALLOWED.iter().find(|(needle, _)| l.contains(needle)) {
            Some((_, why)) => {
                eprintln!("allowed: {l}\n  because {why}");
                false
            }
            None => true,
        })
        .collect()
}

#[test]
fn every_public_config_validates_or_names_exactly_the_missing_components() {
    let dir = configs_dir();
    assert!(dir.is_dir(), "{} is missing", dir.display());
    // Companion file of 25, at the relative path the config names.
    let work = std::env::temp_dir().join(format!("switchyard-conformance-{}", std::process::id()));
    std::fs::create_dir_all(work.join("testdata")).expect("temp dir");
    std::fs::copy(
        dir.join("25-splunk-file-provider.file_with_config_content"),
        work.join("testdata/file_with_config_content"),
    )
    .expect("companion file");

    let mut runs: Vec<Vec<String>> = vec![
        vec!["01-otel-demo-base.yaml".into(), "02-otel-demo-observability-overlay.yaml".into()],
        vec!["31-hyperdx-base.yaml".into(), "32-hyperdx-standalone-overlay.yaml".into()],
    ];
    let mut names: Vec<String> = std::fs::read_dir(&dir)
        .expect("list configs")
        .filter_map(|e| e.ok().map(|e| e.file_name().to_string_lossy().into_owned()))
        .filter(|n| n.ends_with(".yaml"))
        .collect();
    names.sort();
    for n in names {
        // Parts of the multi-file sets are invalid alone (INDEX.md).
        if !["01-", "02-", "31-", "32-"].iter().any(|p| n.starts_with(p)) {
            runs.push(vec![n]);
        }
    }

    let mut problems = Vec::new();
    let mut valid = Vec::new();
    let mut valid_here_too = Vec::new();
    for files in &runs {
        let refs: Vec<&str> = files.iter().map(String::as_str).collect();
        let label = refs.join(" + ");
        let o = validate(&refs, &work);
        let negative = label.starts_with("05-");
        if o.missing.is_empty() && !negative {
            if o.ok {
                valid.push(label);
            } else if other_errors(&o.stderr).is_empty() {
                // Only errors about the machine the config was written for (a file_storage
                // directory that is not here): the config itself is accepted.
                valid_here_too.push(label);
            } else {
                problems.push(format!("{label}: every component is built, but validate failed:\n{}", o.stderr));
            }
            continue;
        }
        if o.ok {
            problems.push(format!("{label}: validate accepted a config with missing components {:?}", o.missing));
            continue;
        }
        for (kind, ty) in &o.missing {
            let needle = format!("unknown {} type \"{ty}\"", kind_name(*kind));
            if !o.stderr.contains(&needle) {
                problems.push(format!("{label}: the error output does not name {needle}:\n{}", o.stderr));
            }
        }
        let others = other_errors(&o.stderr);
        let expected_other = negative && others.len() == 1 && others[0].contains("\"resource\"");
        if !others.is_empty() && !expected_other {
            problems.push(format!("{label}: errors other than missing components:\n{}", others.join("\n")));
        }
        if negative && !expected_other {
            problems.push(format!("{label}: the undefined `resource` processor must be reported:\n{}", o.stderr));
        }
    }
    let _ = std::fs::remove_dir_all(&work);
    eprintln!("public configs that validate: {} of {} runs: {valid:?}", valid.len(), runs.len());
    eprintln!("and that would validate on the machine they were written for: {valid_here_too:?}");
    assert!(problems.is_empty(), "{} problem(s):\n\n{}", problems.len(), problems.join("\n\n"));
    // Configs known to validate: a component type dropped from the registry would otherwise
    // only turn them into "missing components" runs (12-14 need the prometheus receiver, 17 the
    // pprof and zpages extensions, 08, 15 and 30 the filelog receiver).
    for must in [
        "04-helm-chart-default-deployment.yaml",
        "09-jaeger-lb-tier1-traceid.yaml",
        "12-grafana-mltp-tail-sampling-spanmetrics.yaml",
        "13-grafana-lgtm-current.yaml",
        "14-grafana-lgtm-2024-loki-legacy.yaml",
        "16-tempo-multitenant-orgid-header.yaml",
        "17-mimir-prometheusremotewrite.yaml",
        "37-oneuptime-headers-setter-passthrough.yaml",
        "15-grafana-lgtm-filelog-json-ecs.yaml",
        "30-elastic-nginx-ingress-ottl.yaml",
    ] {
        assert!(valid.iter().any(|v| v == must), "{must} no longer validates: {valid:?}");
    }
    // 08 needs only its file_storage directories (/var/lib/otelcol/...), as in the Collector.
    let must = "08-contrib-fault-tolerant-logs.yaml";
    assert!(valid_here_too.iter().any(|v| v == must), "{must} no longer validates: {valid_here_too:?}");
}
