//! Pipeline tests: operator lists as the public configs write them.

use serde_json::json;

use super::*;

fn ops(yaml: &str) -> Vec<OperatorConfig> {
    let node = switchyard_core::config::parse("ops.yaml", yaml).expect("yaml");
    switchyard_core::config::from_node(&node, "operators").expect("operators")
}

fn run(p: &mut Pipeline, e: Entry) -> Vec<Entry> {
    let mut out = Vec::new();
    p.process(e, &mut out);
    out
}

const TELEMETRY_CONTROLLER: &str = r#"
- id: get-format
  routes:
    - expr: body matches "^\\{"
      output: parser-docker
    - expr: body matches "^[^ Z]+Z"
      output: parser-containerd
  type: router
- id: parser-containerd
  output: extract_metadata_from_filepath
  regex: ^(?P<time>[^ ^Z]+Z) (?P<stream>stdout|stderr) (?P<logtag>[^ ]*) ?(?P<log>.*)$
  timestamp:
    layout: '%Y-%m-%dT%H:%M:%S.%LZ'
    parse_from: attributes.time
  type: regex_parser
- id: parser-docker
  output: extract_metadata_from_filepath
  timestamp:
    layout: '%Y-%m-%dT%H:%M:%S.%LZ'
    parse_from: attributes.time
  type: json_parser
- cache:
    size: 128
  id: extract_metadata_from_filepath
  parse_from: attributes["log.file.path"]
  regex: ^.*\/(?P<namespace>[^_]+)_(?P<pod_name>[^_]+)_(?P<uid>[a-f0-9-]+)\/(?P<container_name>[^\/]+)\/(?P<restart_count>\d+)\.log$
  type: regex_parser
- from: attributes.log
  to: body
  type: move
- from: attributes.stream
  to: attributes["log.iostream"]
  type: move
- from: attributes.pod_name
  to: resource["k8s.pod.name"]
  type: move
"#;

#[test]
fn router_parsers_and_moves_of_the_telemetry_controller_config() {
    let mut p = build(&ops(TELEMETRY_CONTROLLER)).expect("build");
    let path = "/var/log/pods/db_web-1_0a1b2c3d-aaaa/app/0.log";
    for line in [
        r#"{"log":"docker line","stream":"stdout","time":"2024-05-06T07:08:09.123Z"}"#,
        "2024-05-06T07:08:09.123Z stdout F docker line",
    ] {
        let mut e = Entry::new(json!(line), 0);
        e.attributes.insert("log.file.path".into(), json!(path));
        let out = run(&mut p, e);
        assert_eq!(out.len(), 1, "{line}");
        assert_eq!(out[0].body, json!("docker line"));
        assert_eq!(out[0].attributes["log.iostream"], json!("stdout"));
        assert_eq!(out[0].resource["k8s.pod.name"], json!("web-1"));
        assert_eq!(out[0].timestamp, Some(1_714_979_289_123_000_000));
    }
    // No route matches and there is no default: stanza drops the entry.
    assert!(run(&mut p, Entry::new(json!("plain"), 0)).is_empty());
}

#[test]
fn if_and_on_error() {
    let mut p = build(&ops(r#"
- type: json_parser
  on_error: drop
  if: 'body matches "^\\{"'
- type: add
  field: attributes.seen
  value: yes
- type: move
  from: attributes.nope
  to: attributes.x
"#))
    .expect("build");
    let out = run(&mut p, Entry::new(json!("not json"), 0));
    assert_eq!(out.len(), 1, "`if` false: passed on");
    assert_eq!(out[0].attributes["seen"], json!("yes"));
    assert!(run(&mut p, Entry::new(json!("{broken"), 0)).is_empty(), "on_error: drop");
    assert_eq!(p.errors, 1 + 1, "the move of a missing field counts, then sends on");
}

#[test]
fn time_severity_and_retain_operators() {
    let mut p = build(&ops(r#"
- type: regex_parser
  regex: '^(?P<ts>\S+) (?P<lvl>\w+) (?P<msg>.*)$'
- type: time_parser
  parse_from: attributes.ts
  layout_type: gotime
  layout: 2006-01-02T15:04:05Z07:00
- type: severity_parser
  parse_from: attributes.lvl
- type: retain
  fields: [attributes.msg]
"#))
    .expect("build");
    let out = run(&mut p, Entry::new(json!("2024-05-06T07:08:09Z error boom"), 0));
    assert_eq!(out[0].timestamp, Some(1_714_979_289_000_000_000));
    assert_eq!(out[0].severity, 17);
    assert_eq!(out[0].attributes.len(), 1);
    assert_eq!(out[0].attributes["msg"], json!("boom"));
}

#[test]
fn config_errors_name_the_problem() {
    let node = switchyard_core::config::parse("ops.yaml", "- type: json_parsr\n").expect("yaml");
    let e = switchyard_core::config::from_node::<Vec<OperatorConfig>>(&node, "operators").unwrap_err();
    assert!(e.to_string().contains("json_parser"), "{e}");
    let node = switchyard_core::config::parse("ops.yaml", "- type: move\n  form: body\n  to: body\n").expect("yaml");
    let e = switchyard_core::config::from_node::<Vec<OperatorConfig>>(&node, "operators").unwrap_err();
    assert!(e.to_string().contains("from"), "{e}");
    assert!(build(&ops("- type: noop\n  output: nowhere\n")).is_err());
    assert!(build(&ops("- type: noop\n- type: noop\n")).is_ok(), "default ids are numbered");
    assert!(build(&ops("- type: noop\n  id: a\n- type: noop\n  id: a\n")).is_err());
    assert!(build(&ops("- type: regex_parser\n  regex: '(x'\n")).is_err());
}

/// The operators of the public config 15 (Grafana LGTM, JSON ECS logs from Kubernetes pods).
const JSON_ECS: &str = r#"
- id: container-parser
  type: container
- id: router
  type: router
  routes:
    - output: json_parser
      expr: 'body matches "\\{[^{}]*\\}" == true'
- id: json_parser
  type: json_parser
  on_error: drop_quiet
  body: attributes.message
  timestamp:
    parse_from: attributes["@timestamp"]
    layout: '%Y-%m-%dT%H:%M:%S.%LZ'
  severity:
    parse_from: attributes["log.level"]
  trace:
    trace_id:
      parse_from: attributes.trace_id
    span_id:
      parse_from: attributes.span_id
  scope_name:
    parse_from: attributes["log.logger"]
- id: move_service_name
  type: move
  from: attributes["service.name"]
  to: resource["service.name"]
- id: move_service_namespace
  type: move
  if: 'attributes["service.namespace"] != nil'
  from: attributes["service.namespace"]
  to: resource["service.namespace"]
- id: remove_message
  type: remove
  field: attributes.message
- id: remove_stream
  type: remove
  field: attributes["log.iostream"]
"#;

#[test]
fn the_json_ecs_chain_of_config_15() {
    let mut p = build(&ops(JSON_ECS)).expect("build");
    let inner = r#"{"@timestamp":"2024-05-06T07:08:09.123Z","log.level":"INFO","message":"hello","service.name":"shop","trace_id":"0af7651916cd43dd8448eb211c80319c","span_id":"b7ad6b7169203331","log.logger":"com.x.Y"}"#;
    let line = serde_json::json!({"log": format!("{inner}\n"), "stream": "stdout", "time": "2024-05-06T07:08:10Z"});
    let mut e = Entry::new(json!(line.to_string()), 0);
    e.attributes.insert("log.file.path".into(), json!("/var/log/pods/shop_web-7d9_1234abcd-0000/app/0.log"));
    let out = run(&mut p, e);
    assert_eq!(out.len(), 1);
    let o = &out[0];
    assert_eq!(o.body, json!("hello"));
    assert_eq!((o.severity, o.severity_text.as_str()), (9, "INFO"));
    assert_eq!(o.timestamp, Some(1_714_979_289_123_000_000));
    assert_eq!(o.trace_id.len(), 16);
    assert_eq!(o.span_id, vec![0xb7, 0xad, 0x6b, 0x71, 0x69, 0x20, 0x33, 0x31]);
    assert_eq!(o.scope_name, "com.x.Y");
    assert_eq!(o.resource["service.name"], json!("shop"));
    assert_eq!(o.resource["k8s.pod.name"], json!("web-7d9"));
    assert!(!o.attributes.contains_key("message") && !o.attributes.contains_key("log.iostream"));
    // A line that is not JSON has no route: dropped, as stanza's router does without a default.
    let plain = serde_json::json!({"log": "plain text\n", "stream": "stdout", "time": "2024-05-06T07:08:10Z"});
    assert!(run(&mut p, Entry::new(json!(plain.to_string()), 0)).is_empty());
}
