//! The resource processor on every signal, and its config errors.

use std::sync::Arc;

use switchyard_core::component::ComponentConfig;
use switchyard_core::config;
use switchyard_core::consumer::{AuthData, RequestContext};
use switchyard_core::processorhelper::SignalProcessor;
use switchyard_pdata::attrs;
use switchyard_pdata::proto::collector::logs::v1::ExportLogsServiceRequest;
use switchyard_pdata::proto::collector::metrics::v1::ExportMetricsServiceRequest;
use switchyard_pdata::proto::collector::profiles::v1development::ExportProfilesServiceRequest;
use switchyard_pdata::proto::collector::trace::v1::ExportTraceServiceRequest;
use switchyard_pdata::proto::logs::v1::ResourceLogs;
use switchyard_pdata::proto::metrics::v1::ResourceMetrics;
use switchyard_pdata::proto::profiles::v1development::ResourceProfiles;
use switchyard_pdata::proto::resource::v1::Resource;
use switchyard_pdata::proto::trace::v1::ResourceSpans;
use switchyard_pdata::value::str_value;

use super::{ResourceProcessor, ResourceProcessorConfig};

fn parse(yaml: &str) -> ResourceProcessorConfig {
    let node = config::parse("t.yaml", yaml).expect("yaml");
    config::from_node(&node, "resource").expect("decodes")
}

const CFG: &str = "attributes:\n  - {key: deployment.environment, value: prod, action: upsert}\n  - {key: tenant, from_context: auth.username, action: insert}\n  - {key: secret, action: delete}\n";

fn resource() -> Option<Resource> {
    Some(Resource {
        attributes: vec![
            switchyard_pdata::proto::common::v1::KeyValue {
                key: "secret".into(),
                value: Some(str_value("x")),
                ..Default::default()
            },
            switchyard_pdata::proto::common::v1::KeyValue {
                key: "deployment.environment".into(),
                value: Some(str_value("dev")),
                ..Default::default()
            },
        ],
        ..Default::default()
    })
}

fn check(r: Option<&Resource>) {
    let a = &r.expect("a resource").attributes;
    assert_eq!(attrs::get_str(a, "deployment.environment"), Some("prod"));
    assert_eq!(attrs::get_str(a, "tenant"), Some("bob"));
    assert_eq!(attrs::get(a, "secret"), None);
}

#[test]
fn acts_on_the_resource_of_every_signal() {
    let p = ResourceProcessor::new(&parse(CFG)).expect("valid");
    let cx = RequestContext {
        auth: Some(Arc::new(AuthData::new(vec![("username".into(), "bob".into())]))),
        ..Default::default()
    };
    let mut t = ExportTraceServiceRequest {
        resource_spans: vec![ResourceSpans { resource: resource(), ..Default::default() }],
    };
    p.process_traces(&cx, &mut t).expect("runs");
    check(t.resource_spans[0].resource.as_ref());
    let mut l =
        ExportLogsServiceRequest { resource_logs: vec![ResourceLogs { resource: resource(), ..Default::default() }] };
    p.process_logs(&cx, &mut l).expect("runs");
    check(l.resource_logs[0].resource.as_ref());
    let mut m = ExportMetricsServiceRequest {
        resource_metrics: vec![ResourceMetrics { resource: resource(), ..Default::default() }],
    };
    p.process_metrics(&cx, &mut m).expect("runs");
    check(m.resource_metrics[0].resource.as_ref());
    let mut pr = ExportProfilesServiceRequest {
        resource_profiles: vec![ResourceProfiles { resource: resource(), ..Default::default() }],
        ..Default::default()
    };
    p.process_profiles(&cx, &mut pr).expect("runs");
    check(pr.resource_profiles[0].resource.as_ref());
}

#[test]
fn a_missing_resource_is_created_when_an_attribute_is_added() {
    let p = ResourceProcessor::new(&parse(CFG)).expect("valid");
    let mut t = ExportTraceServiceRequest { resource_spans: vec![ResourceSpans::default()] };
    p.process_traces(&RequestContext::default(), &mut t).expect("runs");
    let a = &t.resource_spans[0].resource.as_ref().expect("created").attributes;
    assert_eq!(attrs::get_str(a, "deployment.environment"), Some("prod"));
    assert_eq!(attrs::get(a, "tenant"), None, "no authenticated user: nothing inserted");
}

#[test]
fn config_errors_are_placed_under_attributes() {
    let e = parse("attributes: []\n").validate();
    assert_eq!(e[0].field, "attributes");
    assert!(e[0].message.contains("missing required field \"attributes\""));
    let e = parse("attributes:\n  - {key: a, action: hash, pattern: '(('}\n").validate();
    assert_eq!(e[0].field, "attributes::0::pattern");
    let node = config::parse("t.yaml", "actions: []\n").expect("yaml");
    let e =
        config::from_node::<ResourceProcessorConfig>(&node, "resource").expect_err("the attributes processor's key");
    assert!(e.to_string().contains("unknown field \"actions\""), "{e}");
}
