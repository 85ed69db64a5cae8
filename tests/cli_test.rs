//! `switchyard test` run as a user runs it: the shipped suites in `examples/tests/` pass
//! (routing by resource and by header, filter and transform, tail sampling and spanmetrics
//! flushed at the end of a case), a suite with wrong expectations fails with the mismatches
//! and exit 1, and mistakes in a test file are reported with their line and column.

mod support;

use std::time::{Duration, Instant};

use support::{root, switchyard, write};

fn example(name: &str) -> String {
    root().join("examples/tests").join(name).display().to_string()
}

fn stdout(out: &std::process::Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn stderr(out: &std::process::Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

fn temp_dir(tag: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("switchyard-cli-test-{tag}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    dir
}

#[test]
fn the_routing_and_transform_suites_pass() {
    let out = switchyard(&["test", &example("routing.test.yaml"), &example("transform.test.yaml")]);
    let text = stdout(&out);
    assert!(out.status.success(), "exit {:?}\n{text}\n{}", out.status, stderr(&out));
    for case in [
        "PASS tenant-a spans go to the tenant-a backend only",
        "PASS the X-Tenant-ID header sends a request to tenant-b",
        "PASS other tenants fall through to the default backend",
        "PASS spans get env, a templated route and lose the e-mail address",
        "PASS health checks are dropped, the other spans kept",
        "PASS entering after the filter, a health check is kept and transformed",
        "PASS error logs are marked for paging, others are not",
    ] {
        assert!(text.lines().any(|l| l == case), "missing {case:?} in\n{text}");
    }
    assert!(!text.contains("FAIL"), "{text}");
    assert!(text.ends_with("7 passed, 0 failed\n"), "{text}");
    assert_eq!(stderr(&out), "", "no warning from the shipped suites");
}

#[test]
fn tail_sampling_and_spanmetrics_are_flushed_at_the_end_of_a_case() {
    let started = Instant::now();
    let out = switchyard(&["test", &example("sampling.test.yaml")]);
    let text = stdout(&out);
    assert!(out.status.success(), "exit {:?}\n{text}\n{}", out.status, stderr(&out));
    assert!(text.contains("PASS a trace with an error is kept, a healthy one dropped, both counted"), "{text}");
    // decision_wait is 30 s: the kept trace can only have come from the shutdown's decision.
    assert!(started.elapsed() < Duration::from_secs(20), "took {:?}", started.elapsed());
}

#[test]
fn a_wrong_expectation_fails_with_expected_and_actual() {
    let dir = temp_dir("wrong");
    let file = write(
        &dir,
        "wrong.test.yaml",
        &format!(
            "config: {config}
tests:
  - name: tenant-b by header
    inputs:
      - {{receiver: otlp, headers: {{X-Tenant-ID: tenant-b}}, spans: [{{name: charge}}]}}
    expect:
      - {{exporter: otlp/tenant-b, count: 1}}
  - name: tenant-a spans are tagged
    inputs:
      - {{receiver: otlp, resource: {{tenant: tenant-a}}, spans: [{{name: GET /cart, attributes: {{env: dev, code: 200}}}}]}}
    expect:
      - exporter: otlp/default
        count: 1
      - exporter: otlp/tenant-a
        attributes: {{env: prod, code: \"200\", tenant: null}}
        conditions: ['name == \"GET /carts\"']
",
            config = example("routing.yaml")
        ),
    );
    let path = file.display().to_string();
    let out = switchyard(&["test", &path]);
    let text = stdout(&out);
    assert_eq!(out.status.code(), Some(1), "{text}\n{}", stderr(&out));
    let expected = [
        "PASS tenant-b by header".to_string(),
        "FAIL tenant-a spans are tagged".to_string(),
        format!(
            "  {path}:12:9: exporter otlp/default: expected 1 span(s), got 0; other exporters received: otlp/tenant-a (1)"
        ),
        format!("  {path}:14:9: exporter otlp/tenant-a: span \"GET /cart\": attributes[\"env\"]: expected \"prod\", got \"dev\""),
        format!("  {path}:14:9: exporter otlp/tenant-a: span \"GET /cart\": attributes[\"code\"]: expected \"200\", got 200"),
        format!("  {path}:14:9: exporter otlp/tenant-a: span \"GET /cart\": condition not met: name == \"GET /carts\""),
        "1 passed, 1 failed".to_string(),
    ];
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines[1..], expected.iter().map(String::as_str).collect::<Vec<_>>()[..], "\n{text}");
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn mistakes_in_a_test_file_are_reported_at_their_line_and_column() {
    let dir = temp_dir("bad");
    let config = example("routing.yaml");
    let typo = write(
        &dir,
        "typo.test.yaml",
        &format!("config: {config}\ntests:\n  - name: t\n    inputs: []\n    expct: []\n"),
    );
    let out = switchyard(&["test", &typo.display().to_string()]);
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert!(
        err.contains(&format!(
            "{}:5:5: tests[0]::expct: unknown field \"expct\", did you mean \"expect\"?",
            typo.display()
        )),
        "{err}"
    );

    let bad = write(
        &dir,
        "bad.test.yaml",
        &format!(
            "config: {config}
tests:
  - name: t
    inputs:
      - receiver: otlp/x
        spans: [{{name: a, trace_id: zz}}]
      - pipeline: traces/tenant-a
        processor: batchh
        spans: [{{name: a}}]
    expect:
      - exporter: otlp/tenant-c
        count: 1
      - exporter: otlp/tenant-a
        where: nme == \"a\"
      - pipeline: traces/default
"
        ),
    );
    let path = bad.display().to_string();
    let out = switchyard(&["test", &path]);
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    for needle in [
        format!("{path}:6:37: tests[0]::inputs[0]::spans[0]::trace_id: \"zz\" is not 32 hex digits"),
        format!("{path}:8:20: tests[0]::inputs[1]::processor: pipeline \"traces/tenant-a\" has no processor \"batchh\", did you mean \"batch\"?"),
        format!("{path}:11:19: tests[0]::expect[0]::exporter: no exporter \"otlp/tenant-c\", did you mean"),
        format!("{path}:14:16: tests[0]::expect[1]::where: invalid OTTL `nme == \"a\"`"),
        format!("{path}:13:9: tests[0]::expect[1]: an expectation needs count, attributes, resource or conditions"),
        format!("{path}:15:9: tests[0]::expect[2]: an expectation needs count, attributes, resource or conditions"),
    ] {
        assert!(err.contains(&needle), "missing {needle:?} in\n{err}");
    }
    assert!(!stdout(&out).contains("PASS"), "no case runs when the file is invalid");
    let _ = std::fs::remove_dir_all(dir);
}
