//! The processor as a user configures it: validation errors at the right key, error modes,
//! logs, self-metrics.

use switchyard_core::component::{ComponentConfig, FieldError, Kind, Settings};
use switchyard_core::config;
use switchyard_core::consumer::RequestContext;
use switchyard_core::processorhelper::SignalProcessor;
use switchyard_core::telemetry::names;
use switchyard_pdata::proto::collector::logs::v1::ExportLogsServiceRequest;
use switchyard_pdata::proto::logs::v1::{LogRecord, ResourceLogs, ScopeLogs};

use super::super::process::count_spans;
use super::super::{FilterProcessor, FilterProcessorConfig};
use super::fixtures::{self, kv};

fn parse(yaml: &str) -> Result<FilterProcessorConfig, String> {
    let node = config::parse("t.yaml", yaml).map_err(|e| e.to_string())?;
    config::from_node(&node, "filter").map_err(|e| e.to_string())
}

fn errors(yaml: &str) -> Vec<FieldError> {
    parse(yaml).expect("config decodes").validate()
}

fn processor(yaml: &str) -> (FilterProcessor, Settings) {
    let set = switchyard_core::testing::settings(Kind::Processor, "filter");
    let p = FilterProcessor::new(&set, &parse(yaml).expect("config decodes")).expect("config is valid");
    (p, set)
}

fn counter(set: &Settings, name: &str, labels: &[(&str, &str)]) -> u64 {
    set.telemetry.metrics.counter(name, "", labels).get()
}

#[test]
fn an_invalid_condition_is_reported_at_its_key_with_the_position() {
    let e = errors("traces:\n  span:\n    - name == \"a\"\n    - name ==\n");
    assert_eq!(e.len(), 1, "{e:?}");
    assert_eq!(e[0].field, "traces::span::1");
    assert!(e[0].message.contains("name =="), "{}", e[0].message);
    assert!(e[0].message.contains("column"), "{}", e[0].message);

    let e =
        errors("trace_conditions:\n  - context: span\n    conditions:\n      - name == \"a\"\n      - nme == \"b\"\n");
    assert_eq!(e.len(), 1, "{e:?}");
    assert_eq!(e[0].field, "trace_conditions::0::conditions::1");
}

#[test]
fn a_flat_condition_without_a_context_prefix_is_refused() {
    let e = errors("log_conditions:\n  - body == \"x\"\n");
    assert_eq!(e.len(), 1, "{e:?}");
    assert_eq!(e[0].field, "log_conditions::0");
}

#[test]
fn an_unknown_key_gets_a_suggestion() {
    let e = parse("trace_condition:\n  - span.name == \"a\"\n").expect_err("unknown key");
    assert!(e.contains("trace_conditions"), "{e}");
    let e = parse("spans:\n  include:\n    match_type: strict\n    span_name: [a]\n").expect_err("unknown key");
    assert!(e.contains("span_names"), "{e}");
    let e = parse("trace_conditions:\n  - contxt: span\n    conditions: ['name == \"a\"']\n").expect_err("unknown key");
    assert!(e.contains("trace_conditions[0]") && e.contains("did you mean \"context\""), "{e}");
    let e = parse("error_mode: ignor\n").expect_err("unknown variant");
    assert!(e.contains("ignore"), "{e}");
}

#[test]
fn mixing_forms_for_one_signal_is_refused() {
    let e = errors("metric_conditions: ['metric.name == \"a\"']\nmetrics:\n  metric: ['name == \"b\"']\n");
    assert_eq!(e.iter().map(|e| e.field.as_str()).collect::<Vec<_>>(), ["metric_conditions"]);
    let e =
        errors("metrics:\n  metric: ['name == \"b\"']\n  exclude:\n    match_type: strict\n    metric_names: [a]\n");
    assert_eq!(e.iter().map(|e| e.field.as_str()).collect::<Vec<_>>(), ["metrics"]);
    let e =
        errors("traces:\n  span: ['name == \"b\"']\nspans:\n  exclude:\n    match_type: strict\n    span_names: [a]\n");
    assert_eq!(e.iter().map(|e| e.field.as_str()).collect::<Vec<_>>(), ["traces"]);
    let e = errors("log_conditions:\n  - log.body == \"a\"\n  - conditions: ['log.body == \"b\"']\n");
    assert_eq!(e.iter().map(|e| e.field.as_str()).collect::<Vec<_>>(), ["log_conditions"]);
}

#[test]
fn legacy_properties_are_checked() {
    let e = errors("spans:\n  include:\n    services: [a]\n");
    assert_eq!(e[0].field, "spans::include::match_type");
    let e = errors("spans:\n  exclude:\n    match_type: strict\n    span_kinds: [CLIENT]\n");
    assert_eq!(e[0].field, "spans::exclude::span_kinds::0");
    let e = errors("spans:\n  exclude:\n    match_type: regexp\n    span_names: ['(']\n");
    assert_eq!(e[0].field, "spans::exclude::span_names::0");
    let e = errors("spans:\n  exclude:\n    match_type: regexp\n    attributes: [{key: a, value: 1}]\n");
    assert_eq!(e[0].field, "spans::exclude::attributes::0::value");
    let e = errors("metrics:\n  include:\n    match_type: expr\n    expressions: ['MetricName == \"a\"']\n");
    assert_eq!(e[0].field, "metrics::include::match_type");
    assert!(e[0].message.contains("not supported"), "{}", e[0].message);
    let e = errors("logs:\n  include:\n    match_type: strict\n    severity_number: {min: LOUD}\n");
    assert_eq!(e[0].field, "logs::include::severity_number::min");
    let e = errors("trace_conditions:\n  - context: log\n    conditions: ['body == \"a\"']\n");
    assert_eq!(e[0].field, "trace_conditions::0::context");
    let e = errors("profiles:\n  profile: ['nme == \"x\"']\n");
    assert_eq!(e[0].field, "profiles::profile::0", "profile conditions are checked");
    assert!(errors("profiles:\n  profile: ['IsMatch(resource.attributes[\"service.name\"], \"x.*\")']\n").is_empty());
}

#[test]
fn a_valid_config_has_no_errors() {
    let e = errors(
        "error_mode: ignore\nspans:\n  include:\n    match_type: regexp\n    services: ['svc-.*']\n    libraries: [{Name: otel, Version: '1'}]\n    attributes: [{Key: a, Value: 'b.*'}]\nmetrics:\n  exclude:\n    match_type: strict\n    metric_names: [a]\n    resource_attributes: [{key: k, value: 1}]\n  regexp:\n    cacheenabled: true\nlogs:\n  log_record: ['severity_number < SEVERITY_NUMBER_WARN']\n",
    );
    assert!(e.is_empty(), "{e:?}");
}

#[test]
fn a_mixed_prefix_condition_runs_at_its_lowest_level() {
    // The replacement the docs give for an `expr` match: drops only the matching points.
    let (p, _) = processor("metric_conditions:\n  - metric.name == \"operationA\" and datapoint.value_double == 1.0\n");
    let mut req = fixtures::filter_metrics();
    p.process_metrics(&RequestContext::default(), &mut req).expect("filters");
    assert_eq!(super::super::process::count_data_points(&req), 8, "one of the nine points dropped");
    assert_eq!(req.resource_metrics[0].scope_metrics[0].metrics[0].name, "operationA");
}

#[test]
fn a_failing_condition_follows_its_groups_error_mode() {
    // `attributes[1]`: an int index into a map fails at run time.
    let ignore = "error_mode: propagate\ntrace_conditions:\n  - error_mode: ignore\n    conditions:\n      - span.attributes[1] == \"x\"\n      - span.name == \"operationA\"\n";
    let (p, set) = processor(ignore);
    let mut req = fixtures::filter_traces();
    p.process_traces(&RequestContext::default(), &mut req).expect("ignored errors do not fail the batch");
    assert_eq!(count_spans(&req), 2, "operationA dropped in both scopes, operationB kept");
    assert_eq!(counter(&set, crate::ottl::OTTL_ERRORS, &[("component", "filter")]), 4);

    let propagate = format!("{ignore}  - conditions: ['span.attributes[1] == \"y\"']\n");
    let (p, _) = processor(&propagate);
    let mut req = fixtures::filter_traces();
    let err = p.process_traces(&RequestContext::default(), &mut req).expect_err("propagate fails the batch");
    assert!(err.to_string().contains("failed to eval condition: span.attributes[1] == \"y\""), "{err}");

    let (p, set) = processor("error_mode: silent\ntraces:\n  span: ['attributes[1] == \"x\"']\n");
    let mut req = fixtures::filter_traces();
    p.process_traces(&RequestContext::default(), &mut req).expect("silent");
    assert_eq!(count_spans(&req), 4);
    assert_eq!(counter(&set, crate::ottl::OTTL_ERRORS, &[("component", "filter")]), 0);
}

#[test]
fn dropped_spans_are_counted_per_processor() {
    let (p, set) = processor("traces:\n  span: ['name == \"operationB\"']\n");
    let mut req = fixtures::filter_traces();
    p.process_traces(&RequestContext::default(), &mut req).expect("filters");
    assert_eq!(counter(&set, names::PROCESSOR_FILTER_SPANS_FILTERED, &[("filter", "filter")]), 2);
}

#[test]
fn data_point_drops_are_counted_and_empty_metrics_go() {
    let (p, set) = processor("metric_conditions:\n  - datapoint.attributes[\"flags\"] == \"C|D\"\n");
    let mut req = fixtures::filter_metrics();
    p.process_metrics(&RequestContext::default(), &mut req).expect("filters");
    let names: Vec<&str> = req.resource_metrics[0].scope_metrics[0].metrics.iter().map(|m| m.name.as_str()).collect();
    assert_eq!(names, ["operationA", "operationC", "operationD", "operationE"]);
    assert_eq!(counter(&set, names::PROCESSOR_FILTER_DATAPOINTS_FILTERED, &[("filter", "filter")]), 2);
}

fn log(body: &str, severity: i32, attrs: &[(&str, &str)]) -> LogRecord {
    LogRecord {
        body: Some(kv("", body).value.unwrap_or_default()),
        severity_number: severity,
        attributes: attrs.iter().map(|(k, v)| kv(k, v)).collect(),
        ..Default::default()
    }
}

fn logs() -> ExportLogsServiceRequest {
    ExportLogsServiceRequest {
        resource_logs: vec![ResourceLogs {
            resource: fixtures::resource(&[("service.name", "api")]),
            scope_logs: vec![ScopeLogs {
                log_records: vec![
                    log("health check ok", 9, &[]),
                    log("payment failed", 17, &[("team", "pay")]),
                    log("no severity", 0, &[("team", "pay")]),
                ],
                ..Default::default()
            }],
            ..Default::default()
        }],
    }
}

fn bodies(req: &ExportLogsServiceRequest) -> Vec<String> {
    req.resource_logs
        .iter()
        .flat_map(|r| &r.scope_logs)
        .flat_map(|s| &s.log_records)
        .map(|l| l.body.as_ref().map(switchyard_pdata::value::as_string).unwrap_or_default().into_owned())
        .collect()
}

#[test]
fn log_conditions_drop_records() {
    let (p, set) =
        processor("log_conditions:\n  - log.severity_number < SEVERITY_NUMBER_WARN and log.severity_number != 0\n");
    let mut req = logs();
    p.process_logs(&RequestContext::default(), &mut req).expect("filters");
    assert_eq!(bodies(&req), ["payment failed", "no severity"]);
    assert_eq!(counter(&set, names::PROCESSOR_FILTER_LOGS_FILTERED, &[("filter", "filter")]), 1);

    let (p, _) = processor("log_conditions:\n  - resource.attributes[\"service.name\"] == \"api\"\n");
    let mut req = logs();
    p.process_logs(&RequestContext::default(), &mut req).expect("filters");
    assert!(req.resource_logs.is_empty(), "the whole resource is dropped");
}

#[test]
fn legacy_log_include_and_exclude() {
    let yaml = "logs:\n  include:\n    match_type: strict\n    severity_number: {min: error, match_undefined: true}\n  exclude:\n    match_type: regexp\n    bodies: ['^no ']\n";
    let (p, _) = processor(yaml);
    let mut req = logs();
    p.process_logs(&RequestContext::default(), &mut req).expect("filters");
    assert_eq!(bodies(&req), ["payment failed"]);

    let (p, _) =
        processor("logs:\n  exclude:\n    match_type: strict\n    record_attributes: [{key: team, value: pay}]\n");
    let mut req = logs();
    p.process_logs(&RequestContext::default(), &mut req).expect("filters");
    assert_eq!(bodies(&req), ["health check ok"]);
}

#[test]
fn no_filter_for_a_signal_leaves_it_alone() {
    let (p, _) = processor("logs:\n  log_record: ['body == \"x\"']\n");
    let mut req = fixtures::filter_traces();
    let before = req.clone();
    p.process_traces(&RequestContext::default(), &mut req).expect("passes");
    assert_eq!(req, before);
}

#[tokio::test]
async fn through_the_factory_a_fully_filtered_batch_is_not_forwarded() {
    use switchyard_core::component::ProcessorFactory;
    use switchyard_core::consumer::{AnyConsumer, ConsumeError};
    use switchyard_core::testing::SinkConsumer;
    use switchyard_pdata::Traces;

    let set = switchyard_core::testing::settings(Kind::Processor, "filter");
    let sink = SinkConsumer::<Traces>::new();
    let cfg = parse("error_mode: propagate\ntrace_conditions:\n  - span.name == \"operationA\"\n  - span.attributes[1] == \"x\" and span.name == \"operationB\"\n").expect("decodes");
    let (consumer, component) =
        super::super::FilterProcessorFactory.create(set, &cfg, AnyConsumer::Traces(sink.clone())).expect("creates");
    assert!(component.is_none(), "stateless");
    let AnyConsumer::Traces(c) = consumer else { panic!("a traces consumer") };
    let cx = RequestContext::default();

    // Only operationA spans: all dropped, nothing forwarded, success.
    let mut only_a = fixtures::filter_traces();
    for s in &mut only_a.resource_spans[0].scope_spans {
        s.spans.truncate(1);
    }
    c.consume(&cx, Traces::from(only_a)).await.expect("success");
    assert_eq!(sink.batches().len(), 0);

    // operationB makes the second condition fail: propagate refuses the batch permanently.
    let err = c.consume(&cx, Traces::from(fixtures::filter_traces())).await.expect_err("fails");
    assert!(matches!(err, ConsumeError::Permanent { .. }), "{err:?}");
    assert_eq!(sink.batches().len(), 0);
}
