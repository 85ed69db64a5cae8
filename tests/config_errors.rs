//! `switchyard validate` on broken configs: every error, with file:line:col, the key path
//! and a did-you-mean, is what a user sees. Snapshots in tests/snapshots/ are the contract.

mod support;

use std::process::Command;

fn validate(file: &str) -> (bool, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_switchyard"))
        .current_dir(support::root().join("tests/configs"))
        .args(["validate", "--config", file])
        .env_remove("SWITCHYARD_TEST_TOKEN")
        .output()
        .expect("run validate");
    (out.status.success(), String::from_utf8_lossy(&out.stderr).into_owned())
}

macro_rules! invalid {
    ($($name:ident),* $(,)?) => {$(
        #[test]
        fn $name() {
            let (ok, stderr) = validate(concat!("invalid/", stringify!($name), ".yaml"));
            assert!(!ok, "validate accepted an invalid config:\n{stderr}");
            insta::assert_snapshot!(stringify!($name), stderr);
        }
    )*};
}

invalid!(
    duplicate_key,
    unknown_field,
    unknown_type,
    undefined_component,
    many_errors,
    connector_one_side,
    connector_cycle,
    connector_signal_pair,
    bad_tls,
    yaml_syntax,
    enrichment_errors,
);

#[test]
fn env_expansion_aliases_and_unused_warning() {
    let (ok, stderr) = validate("valid/env_and_aliases.yaml");
    assert!(ok, "{stderr}");
    insta::assert_snapshot!("env_and_aliases", stderr);
}

#[test]
fn validate_binds_no_port() {
    // The port is held by this test; validate must still succeed.
    let held = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = held.local_addr().expect("addr").port();
    let dir = tempfile::tempdir().expect("tempdir");
    let cfg = support::write(
        dir.path(),
        "c.yaml",
        &format!("receivers: {{otlp: {{protocols: {{grpc: {{endpoint: \"127.0.0.1:{port}\"}}}}}}}}\nexporters: {{debug: }}\nservice: {{pipelines: {{traces: {{receivers: [otlp], exporters: [debug]}}}}}}\n"),
    );
    let out = support::switchyard(&["validate", "--config", &cfg.display().to_string()]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
}

#[test]
fn later_config_files_merge_over_earlier_ones() {
    let dir = tempfile::tempdir().expect("tempdir");
    let base = support::write(dir.path(), "base.yaml", "receivers: {otlp: {protocols: {grpc: }}}\nexporters: {debug: }\nservice: {pipelines: {traces: {receivers: [otlp], exporters: [debug]}}}\n");
    let overlay = support::write(dir.path(), "overlay.yaml", "exporters: {debug: {verbosity: loud}}\n");
    let out = support::switchyard(&[
        "validate",
        "--config",
        &base.display().to_string(),
        "--config",
        &overlay.display().to_string(),
    ]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("overlay.yaml:1:32: exporters::debug::verbosity: unknown value \"loud\""), "{err}");
}

#[test]
fn components_lists_every_type_with_stability() {
    let out = support::switchyard(&["components"]);
    assert!(out.status.success());
    let text = String::from_utf8_lossy(&out.stdout);
    for needle in [
        "- name: otlp\n",
        "- name: otlphttp\n",
        "aliases: [otlp_http]",
        "- name: batch",
        "- name: debug",
        "traces-to-traces: beta",
        "extension: beta",
    ] {
        assert!(text.contains(needle), "missing {needle:?} in\n{text}");
    }
}

#[test]
fn every_example_validates_without_warnings() {
    let dir = support::root().join("examples");
    let mut n = 0;
    for entry in std::fs::read_dir(&dir).expect("examples/") {
        let path = entry.expect("entry").path();
        if path.extension().is_none_or(|e| e != "yaml") {
            continue;
        }
        n += 1;
        let out = Command::new(env!("CARGO_BIN_EXE_switchyard"))
            .args(["validate", "--config", &path.display().to_string()])
            .env("OPENLIT_TOKEN", "t")
            .env("GATEWAY_TOKEN", "g")
            .env("TEMPO_BASIC_AUTH", "dXNlcjpwYXNz")
            .output()
            .expect("validate");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(out.status.success(), "{}: {stderr}", path.display());
        assert!(!stderr.contains("warning:"), "{}: {stderr}", path.display());
    }
    assert!(n >= 5, "expected an example per seed scenario, found {n}");
}
