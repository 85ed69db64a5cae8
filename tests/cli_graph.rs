//! `switchyard graph` on a shipped example (seed 004's RED metrics: a traces pipeline feeding
//! `spanmetrics` and `servicegraph` into a metrics pipeline): the text form lists what a
//! reader checks, the DOT form renders with Graphviz's own `dot` (Debian's `graphviz`,
//! installed by `scripts/backends/install.sh`), and a broken config gives errors, no graph.

mod support;

use std::io::Write;
use std::process::{Command, Stdio};

use support::{root, switchyard};

fn graph(format: &str) -> String {
    let example = root().join("examples/red-metrics.yaml");
    let out = switchyard(&["graph", "--config", &example.to_string_lossy(), "--format", format]);
    assert!(out.status.success(), "graph failed: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).expect("utf-8")
}

#[test]
fn text_lists_each_pipeline_with_its_connectors() {
    assert_eq!(
        graph("text"),
        "pipeline traces
  in:   otlp (receiver)
  then: batch
  out:  otlp/tempo (exporter), spanmetrics (connector to metrics/red), servicegraph (connector to metrics/red)
pipeline metrics/red
  in:   spanmetrics (connector from traces), servicegraph (connector from traces)
  then: batch
  out:  prometheusremotewrite (exporter)
"
    );
}

#[test]
fn dot_renders_with_graphviz() {
    let dot = graph("dot");
    let mut child = match Command::new("dot").arg("-Tsvg").stdin(Stdio::piped()).stdout(Stdio::piped()).spawn() {
        Ok(c) => c,
        Err(e) => panic!("Graphviz `dot` is needed (scripts/backends/install.sh installs it): {e}"),
    };
    child.stdin.take().expect("stdin").write_all(dot.as_bytes()).expect("write DOT");
    let out = child.wait_with_output().expect("dot runs");
    assert!(out.status.success(), "dot rejected the graph: {}\n{dot}", String::from_utf8_lossy(&out.stderr));
    let svg = String::from_utf8_lossy(&out.stdout);
    for label in ["otlp", "batch", "otlp/tempo", "spanmetrics", "servicegraph", "prometheusremotewrite"] {
        assert!(svg.contains(&format!(">{label}</text>")), "the picture shows {label}");
    }
    assert!(svg.contains(">pipeline metrics/red</text>"), "each pipeline is a box with its name");
    // 1 + 3 edges in traces, 2 + 1 in metrics/red.
    assert_eq!(svg.matches("class=\"edge\"").count(), 7);
}

#[test]
fn mermaid_and_errors() {
    let m = graph("mermaid");
    assert!(m.starts_with("flowchart LR\n") && m.contains("subgraph pl1[\"pipeline metrics/red\"]"), "{m}");
    let dir = std::env::temp_dir().join(format!("switchyard-graph-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let bad = support::write(&dir, "bad.yaml", "receivers: {otlp: }\nexporters: {debug: }\nservice:\n  pipelines:\n    traces: {receivers: [otlp], exporters: [debugg]}\n");
    let out = switchyard(&["graph", "--config", &bad.to_string_lossy()]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1));
    assert!(out.stdout.is_empty(), "no graph for an invalid config");
    assert!(err.contains("bad.yaml:5:") && err.contains("debugg") && err.contains("debug"), "{err}");
    let _ = std::fs::remove_dir_all(&dir);
}
