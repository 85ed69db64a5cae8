//! The legacy routing processor in graphs built from YAML (no ports, no backends): by a
//! header, by a resource attribute (dropped or not), by statements; its config errors; and
//! the connector config its warning prints, which must route the same way.

use std::sync::Arc;

use switchyard_core::component::PipelineId;
use switchyard_core::config::ConfigErrors;
use switchyard_core::consumer::RequestContext;
use switchyard_core::graph::Graph;
use switchyard_core::testing::{traces, GraphHarness};
use switchyard_pdata::proto::common::v1::{any_value, AnyValue, KeyValue};
use switchyard_pdata::{attrs, SignalData, Traces};

use super::{connector_yaml, RoutingProcessorConfig, RoutingProcessorFactory};
use crate::connectors::routing::RoutingConnectorFactory;

fn build(h: &GraphHarness, yaml: &str) -> Result<Graph, ConfigErrors> {
    let mut r = h.registry();
    r.processor(RoutingProcessorFactory).unwrap();
    r.connector(RoutingConnectorFactory).unwrap();
    h.build(&r, yaml)
}

fn config(routing: &str) -> String {
    format!(
        "
receivers: {{source: }}
processors:
  routing:
{routing}
exporters: {{sink/acme: , sink/globex: , sink/default: }}
service:
  pipelines:
    traces: {{receivers: [source], processors: [routing], exporters: [sink/acme, sink/globex, sink/default]}}
"
    )
}

const SEED_001: &str = "    from_attribute: X-Tenant-ID
    attribute_source: context
    default_exporters: [sink/default]
    table:
      - {value: acme, exporters: [sink/acme]}
      - {value: globex, exporters: [sink/globex, sink/acme]}";

fn header(tenant: &str) -> RequestContext {
    let mut m = http::HeaderMap::new();
    m.insert("x-tenant-id", tenant.parse().unwrap());
    RequestContext::with_metadata(Some(Arc::new(m)))
}

fn counts(h: &GraphHarness) -> [usize; 3] {
    ["sink/acme", "sink/globex", "sink/default"].map(|s| h.sink::<Traces>(s).unwrap().item_count())
}

#[tokio::test]
async fn by_header_the_whole_request_goes_to_the_rows_exporters() {
    let h = GraphHarness::new();
    let _g = build(&h, &config(SEED_001)).expect("valid");
    let input = h.source("source").traces.unwrap();
    input.consume(&header("acme"), traces(1)).await.unwrap();
    assert_eq!(counts(&h), [1, 0, 0]);
    input.consume(&header("globex"), traces(2)).await.unwrap();
    assert_eq!(counts(&h), [3, 2, 0], "both exporters of the row");
    input.consume(&header("initech"), traces(4)).await.unwrap();
    input.consume(&RequestContext::default(), traces(8)).await.unwrap();
    assert_eq!(counts(&h), [3, 2, 12], "unknown value or no header: default_exporters");
}

fn with_tenants(tenants: &[&str]) -> Traces {
    let mut t = traces(0);
    let req = t.make_mut();
    let template = traces(1).request().resource_spans[0].clone();
    req.resource_spans = tenants
        .iter()
        .map(|tenant| {
            let mut rs = template.clone();
            rs.resource.as_mut().unwrap().attributes.push(KeyValue {
                key: "tenant".into(),
                value: Some(AnyValue { value: Some(any_value::Value::StringValue(tenant.to_string())) }),
                ..Default::default()
            });
            rs
        })
        .collect();
    t
}

fn tenants_at(h: &GraphHarness, sink: &str) -> Vec<Option<String>> {
    h.sink::<Traces>(sink)
        .unwrap()
        .batches()
        .iter()
        .flat_map(|b| {
            b.request()
                .resource_spans
                .iter()
                .map(|rs| attrs::get_str(&rs.resource.as_ref().unwrap().attributes, "tenant").map(str::to_string))
                .collect::<Vec<_>>()
        })
        .collect()
}

#[tokio::test]
async fn by_resource_attribute_each_resource_goes_its_way_and_the_attribute_can_be_dropped() {
    for drop in [false, true] {
        let h = GraphHarness::new();
        let cfg = format!(
            "    from_attribute: tenant
    attribute_source: resource
    drop_resource_routing_attribute: {drop}
    default_exporters: [sink/default]
    table:
      - {{value: acme, exporters: [sink/acme]}}
      - {{value: globex, exporters: [sink/globex]}}"
        );
        let _g = build(&h, &config(&cfg)).expect("valid");
        let input = h.source("source").traces.unwrap();
        input.consume(&RequestContext::default(), with_tenants(&["globex", "acme", "initech", "acme"])).await.unwrap();
        let kept = |t: &str| if drop { None } else { Some(t.to_string()) };
        assert_eq!(tenants_at(&h, "sink/acme"), [kept("acme"), kept("acme")], "drop={drop}");
        assert_eq!(tenants_at(&h, "sink/globex"), [kept("globex")], "drop={drop}");
        assert_eq!(tenants_at(&h, "sink/default"), [Some("initech".to_string())], "drop={drop}");

        // The same request as a receiver hands it on (its bytes): routed the same way, and
        // forwarded as the received bytes unless the attribute is to be dropped.
        let h = GraphHarness::new();
        let _g = build(&h, &config(&cfg)).expect("valid");
        let input = h.source("source").traces.unwrap();
        let encoded = Traces::from_encoded(with_tenants(&["globex", "acme", "initech", "acme"]).to_bytes()).unwrap();
        input.consume(&RequestContext::default(), encoded).await.unwrap();
        assert_eq!(tenants_at(&h, "sink/acme"), [kept("acme"), kept("acme")], "encoded, drop={drop}");
        assert_eq!(tenants_at(&h, "sink/globex"), [kept("globex")], "encoded, drop={drop}");
        assert_eq!(tenants_at(&h, "sink/default"), [Some("initech".to_string())], "encoded, drop={drop}");
        for sink in ["sink/acme", "sink/globex", "sink/default"] {
            let batches = h.sink::<Traces>(sink).unwrap().batches();
            assert_eq!(batches.len(), 1, "{sink}: one batch");
            assert_eq!(batches[0].is_encoded(), !drop, "{sink}, drop={drop}");
        }
    }
}

#[tokio::test]
async fn statement_rows_send_a_resource_to_every_row_it_matches() {
    let cfg = r#"    default_exporters: [sink/default]
    table:
      - statement: route() where attributes["tenant"] == "acme"
        exporters: [sink/acme]
      - statement: route() where attributes["tenant"] != "globex"
        exporters: [sink/globex]"#;
    for encoded in [false, true] {
        let h = GraphHarness::new();
        let _g = build(&h, &config(cfg)).expect("valid");
        let input = h.source("source").traces.unwrap();
        let mut batch = with_tenants(&["acme", "globex", "initech"]);
        if encoded {
            batch = Traces::from_encoded(batch.to_bytes()).unwrap();
        }
        input.consume(&RequestContext::default(), batch).await.unwrap();
        let t = |s: &str| Some(s.to_string());
        assert_eq!(tenants_at(&h, "sink/acme"), [t("acme")], "encoded={encoded}");
        assert_eq!(tenants_at(&h, "sink/globex"), [t("acme"), t("initech")], "acme matched both rows: a copy each");
        assert_eq!(tenants_at(&h, "sink/default"), [t("globex")], "encoded={encoded}");
        for sink in ["sink/acme", "sink/globex", "sink/default"] {
            assert!(h.sink::<Traces>(sink).unwrap().batches().iter().all(|b| b.is_encoded() == encoded), "{sink}");
        }
    }
}

fn errors(yaml: &str) -> String {
    match build(&GraphHarness::new(), yaml) {
        Ok(_) => panic!("config should be rejected"),
        Err(e) => e.to_string(),
    }
}

#[test]
fn an_exporter_outside_the_pipeline_and_bad_rows_are_errors() {
    let e = errors(&config(SEED_001.replace("sink/globex, sink/acme", "otlp/globex").as_str()));
    assert!(
        e.contains(
            "exporter \"otlp/globex\" in the routing table is not an exporter of pipeline \"traces\" \
                    (its exporters: sink/acme, sink/globex, sink/default)"
        ),
        "{e}"
    );
    assert!(e.contains("did you mean \"sink/globex\"?"), "{e}");
    let e = errors(&config(
        "    drop_resource_routing_attribute: true
    table:
      - {value: acme, exporters: [sink/acme]}
      - {exporters: [sink/acme]}
      - {value: x}",
    ));
    for want in [
        "processors::routing::table::1: invalid (empty) route",
        "processors::routing::table::2::exporters: invalid route: no exporters defined",
        "processors::routing::from_attribute: invalid attribute to read the route's value from",
        "processors::routing::drop_resource_routing_attribute: drop_resource_routing_attribute needs attribute_source: resource",
    ] {
        assert!(e.contains(want), "missing {want:?} in:\n{e}");
    }
}

#[test]
fn the_printed_connector_config_is_the_documented_equivalent() {
    let cfg = processor_config(SEED_001);
    let text = connector_yaml(&cfg, &PipelineId::parse("traces").unwrap());
    assert_eq!(
        text,
        r#"connectors:
  routing:
    default_pipelines: [traces/default]
    table:
      - context: request
        condition: 'request["X-Tenant-ID"] == "acme"'
        pipelines: [traces/route0]
      - context: request
        condition: 'request["X-Tenant-ID"] == "globex"'
        pipelines: [traces/route1]
service:
  pipelines:
    traces:  # keep its receivers and the processors before routing
      exporters: [routing]
    traces/route0:
      receivers: [routing]
      exporters: [sink/acme]
    traces/route1:
      receivers: [routing]
      exporters: [sink/globex, sink/acme]
    traces/default:
      receivers: [routing]
      exporters: [sink/default]
"#
    );
}

/// The printed config, completed with the pipeline's receiver, routes like the processor.
#[tokio::test]
async fn the_printed_connector_config_routes_the_same() {
    for (source, drop) in [("context", false), ("resource", false), ("resource", true)] {
        let processor = format!(
            "    from_attribute: tenant
    attribute_source: {source}
    drop_resource_routing_attribute: {drop}
    default_exporters: [sink/default]
    table:
      - {{value: acme, exporters: [sink/acme]}}
      - {{value: globex, exporters: [sink/globex, sink/acme]}}"
        );
        let cfg = processor_config(&processor);
        let equivalent = connector_yaml(&cfg, &PipelineId::parse("traces").unwrap())
            .replace("  # keep its receivers and the processors before routing", "\n      receivers: [source]");
        let connector_graph =
            format!("receivers: {{source: }}\nexporters: {{sink/acme: , sink/globex: , sink/default: }}\n{equivalent}");
        let mut results = Vec::new();
        for yaml in [config(&processor), connector_graph] {
            let h = GraphHarness::new();
            let _g = build(&h, &yaml).unwrap_or_else(|e| panic!("{e}\n{yaml}"));
            let input = h.source("source").traces.unwrap();
            for tenant in ["acme", "globex", "initech"] {
                let cx = if source == "context" { header_named("tenant", tenant) } else { RequestContext::default() };
                input.consume(&cx, with_tenants(&[tenant, "acme"])).await.unwrap();
            }
            results.push(["sink/acme", "sink/globex", "sink/default"].map(|s| tenants_at(&h, s)));
        }
        assert_eq!(results[0], results[1], "source={source} drop={drop}");
    }
}

/// The processor body written for [`config`] (indented by 4), decoded.
fn processor_config(body: &str) -> RoutingProcessorConfig {
    let text: Vec<&str> = body.lines().map(|l| l.strip_prefix("    ").unwrap_or(l)).collect();
    let node = switchyard_core::config::parse("t.yaml", &text.join("\n")).unwrap();
    switchyard_core::config::from_node(&node, "").unwrap()
}

fn header_named(key: &str, value: &str) -> RequestContext {
    let mut m = http::HeaderMap::new();
    m.insert(http::HeaderName::from_bytes(key.as_bytes()).unwrap(), value.parse().unwrap());
    RequestContext::with_metadata(Some(Arc::new(m)))
}
