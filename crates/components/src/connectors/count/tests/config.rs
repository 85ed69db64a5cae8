//! Config decoding and errors: what a user sees for each mistake, at its line.

use switchyard_core::testing::GraphHarness;

use super::super::{CountConnectorConfig, Counted, DefaultValue};
use super::{build, graph};

fn errors(connector: &str) -> Vec<String> {
    match build(&GraphHarness::new(), &graph(connector)) {
        Ok(_) => panic!("config should be rejected"),
        Err(e) => e.0.iter().map(ToString::to_string).collect(),
    }
}

fn decode(yaml: &str) -> CountConnectorConfig {
    let node = switchyard_core::config::parse("t.yaml", yaml).expect("yaml");
    switchyard_core::config::from_node(&node, "count").expect("config")
}

#[test]
fn left_out_sections_count_with_the_default_metric_and_written_ones_replace_it() {
    let cfg = decode(
        r#"
spans:
logs: {}
datapoints:
  my.points:
    attributes:
      - key: host
        default_value: 3
      - key: rack
        default_value: 2.5
      - key: zone
        default_value: ""
      - key: dc
        default_value: eu
"#,
    );
    assert!(cfg.metrics_for(Counted::Spans).is_empty(), "`spans:` written, even null, turns the default off");
    assert!(cfg.metrics_for(Counted::Logs).is_empty());
    let events = cfg.metrics_for(Counted::SpanEvents);
    assert_eq!(events.keys().collect::<Vec<_>>(), ["trace.span.event.count"]);
    assert_eq!(events[0].description, "The number of span events observed.");
    assert_eq!(cfg.metrics_for(Counted::Metrics).keys().collect::<Vec<_>>(), ["metric.count"]);
    assert_eq!(cfg.metrics_for(Counted::Profiles).keys().collect::<Vec<_>>(), ["profile.count"]);
    let points = cfg.metrics_for(Counted::DataPoints);
    let defaults: Vec<_> = points["my.points"].attributes.iter().map(|a| a.default_value.clone()).collect();
    assert_eq!(
        defaults,
        [
            Some(DefaultValue::Int(3)),
            Some(DefaultValue::Double(2.5)),
            Some(DefaultValue::Str(String::new())),
            Some(DefaultValue::Str("eu".into()))
        ]
    );
    assert_eq!(DefaultValue::Str(String::new()).value(), None, "an empty default is no default, as upstream");
    // A null body is the default config: every default metric.
    let all = decode("");
    assert_eq!(all.metrics_for(Counted::DataPoints).keys().collect::<Vec<_>>(), ["metric.datapoint.count"]);
    assert_eq!(all.metrics_for(Counted::Logs).keys().collect::<Vec<_>>(), ["log.record.count"]);
}

#[test]
fn every_mistake_is_reported_at_its_key() {
    let cfg = r#"    spans:
      "":
        description: no name
      bad.ottl:
        conditions:
          - 'attributes["a"] == "b"'
          - 'name == '
          - 'severity_number > 3'
      dup:
        attributes:
          - key: a
          - key: a
          - default_value: x
    metrics:
      by.attr:
        attributes: [{key: a}]
    profiles:
      filtered:
        conditions: ['attributes["a"] == "b"']"#;
    let errs = errors(cfg).join("\n");
    for want in [
        "test.yaml:7:7: connectors::count::spans: metric name missing",
        "test.yaml:12:13: connectors::count::spans::bad.ottl::conditions::1: invalid OTTL `name == `",
        "test.yaml:13:13: connectors::count::spans::bad.ottl::conditions::2: invalid OTTL `severity_number > 3`",
        "test.yaml:17:18: connectors::count::spans::dup::attributes::1::key: attribute \"a\" is listed twice",
        "test.yaml:18:13: connectors::count::spans::dup::attributes::2: attribute key missing",
        "test.yaml:21:21: connectors::count::metrics::by.attr::attributes: metrics attributes not supported: \
         metric \"by.attr\" (count data points by attribute with `datapoints`)",
        "test.yaml:24:22: connectors::count::profiles::filtered::conditions::0: conditions on profiles are not \
         supported yet",
    ] {
        assert!(errs.contains(want), "missing {want:?} in:\n{errs}");
    }
    assert_eq!(errs.lines().filter(|l| l.contains("bad.ottl::conditions::0")).count(), 0, "{errs}");
}

#[test]
fn a_boolean_default_value_and_an_unknown_key_are_refused() {
    let errs =
        errors("    logs:\n      flagged:\n        attributes:\n          - key: a\n            default_value: true");
    assert_eq!(
        errs,
        ["test.yaml:10:28: connectors::count::logs::flagged::attributes[0]::default_value: default_value must be a \
          string or a number; the Collector ignores a boolean default, write \"true\" in quotes for the string"]
    );
    let errs = errors("    log:\n      x: {}");
    assert!(errs[0].starts_with("test.yaml:6:5: connectors::count::log: unknown field \"log\", did you mean \"logs\"?"));
}

#[test]
fn count_only_feeds_metrics_pipelines() {
    let yaml = "
receivers: {source: }
exporters: {sink: }
connectors: {count: }
service:
  pipelines:
    traces/in: {receivers: [source], exporters: [count]}
    traces/out: {receivers: [count], exporters: [sink]}
";
    let errs: Vec<String> = match super::build(&GraphHarness::new(), yaml) {
        Ok(_) => panic!("traces to traces must be refused"),
        Err(e) => e.0.iter().map(ToString::to_string).collect(),
    };
    assert_eq!(
        errs,
        [
            "test.yaml:4:14: connectors::count: connector \"count\" used as exporter in a traces pipeline cannot feed \
             any of its receiver-side pipelines (traces)",
            "test.yaml:4:14: connectors::count: connector \"count\" used as receiver in a traces pipeline cannot be fed \
             by any of its exporter-side pipelines (traces)"
        ]
    );
}
