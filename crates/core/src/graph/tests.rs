//! The graph built from YAML with test components ([`GraphHarness`]): fan-out from a shared
//! receiver, copy-on-write across pipelines, connectors wired on both sides and routing by
//! pipeline id, and the config errors the build reports (with their lines).

use futures::future::{join_all, BoxFuture};
use serde::Deserialize;
use switchyard_pdata::proto::common::v1::{any_value, AnyValue, KeyValue};
use switchyard_pdata::{attrs, walk, Signal, SignalData, Traces};

use crate::component::{
    BuildError, Component, ComponentConfig, ConnectorFactory, ConnectorPipelines, FieldError, PipelineId,
    ProcessorFactory, Registry, Settings, Stability,
};
use crate::config::ConfigErrors;
use crate::consumer::{AnyConsumer, AnyRouter, ConsumeError, Consumer, DynConsumer, RequestContext};
use crate::processorhelper::create_stateless;
use crate::processorhelper::tests::TagProcessor;
use crate::testing::{traces, GraphHarness};

/// `processors: tag:` — the scaffold's test processor (tags spans `env=prod`).
struct TagProcessorFactory;

impl ProcessorFactory for TagProcessorFactory {
    type Config = crate::testing::TestComponentConfig;
    fn component_type(&self) -> &'static str {
        "tag"
    }
    fn stability(&self, signal: Signal) -> Option<Stability> {
        matches!(signal, Signal::Traces | Signal::Logs).then_some(Stability::Development)
    }
    fn create(
        &self,
        set: Settings,
        _cfg: &Self::Config,
        next: AnyConsumer,
    ) -> Result<(AnyConsumer, Option<Box<dyn Component>>), BuildError> {
        create_stateless(&set, TagProcessor, next)
    }
}

/// `connectors: by_tenant:` — routes each resource by its `tenant` attribute to the
/// pipelines of the matching table entry, else to `default_pipelines` (else drops it).
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
struct ByTenantConfig {
    table: Vec<Route>,
    default_pipelines: Vec<PipelineId>,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Route {
    value: String,
    pipelines: Vec<PipelineId>,
}

impl ComponentConfig for ByTenantConfig {}

struct ByTenantFactory;

impl ConnectorFactory for ByTenantFactory {
    type Config = ByTenantConfig;
    fn component_type(&self) -> &'static str {
        "by_tenant"
    }
    fn stability(&self, from: Signal, to: Signal) -> Option<Stability> {
        (from == Signal::Traces && to == Signal::Traces).then_some(Stability::Development)
    }
    fn validate_pipelines(&self, cfg: &ByTenantConfig, pipelines: &ConnectorPipelines) -> Vec<FieldError> {
        let table = cfg.table.iter().enumerate().flat_map(|(i, r)| {
            r.pipelines.iter().enumerate().map(move |(j, p)| (format!("table::{i}::pipelines::{j}"), p))
        });
        let default = cfg.default_pipelines.iter().enumerate().map(|(j, p)| (format!("default_pipelines::{j}"), p));
        table.chain(default).filter_map(|(field, p)| pipelines.check_fed(field, p)).collect()
    }
    fn create(
        &self,
        set: Settings,
        cfg: &ByTenantConfig,
        _from: Signal,
        next: AnyRouter,
    ) -> Result<(AnyConsumer, Option<Box<dyn Component>>), BuildError> {
        let AnyRouter::Traces(router) = next else { return Err(BuildError::new(&set, "traces only")) };
        let resolve = |ids: &[PipelineId]| router.consumer(ids).map_err(|e| BuildError::new(&set, e.to_string()));
        let routes =
            cfg.table.iter().map(|r| Ok((r.value.clone(), resolve(&r.pipelines)?))).collect::<Result<_, _>>()?;
        let default = if cfg.default_pipelines.is_empty() { None } else { Some(resolve(&cfg.default_pipelines)?) };
        let c: DynConsumer<Traces> = std::sync::Arc::new(ByTenant { routes, default });
        Ok((c.into(), None))
    }
}

struct ByTenant {
    routes: Vec<(String, DynConsumer<Traces>)>,
    default: Option<DynConsumer<Traces>>,
}

impl Consumer<Traces> for ByTenant {
    fn consume<'a>(&'a self, cx: &'a RequestContext, data: Traces) -> BoxFuture<'a, Result<(), ConsumeError>> {
        Box::pin(async move {
            let groups = walk::split_traces_by_resource(data.into_request(), |rs| {
                rs.resource.as_ref().and_then(|r| attrs::get_str(&r.attributes, "tenant")).map(str::to_string)
            });
            let calls = groups.into_iter().filter_map(|(tenant, req)| {
                let route = self.routes.iter().find(|(v, _)| Some(v) == tenant.as_ref()).map(|(_, c)| c);
                route.or(self.default.as_ref()).map(|c| c.consume(cx, Traces::from(req)))
            });
            let errors = join_all(calls).await.into_iter().filter_map(Result::err).collect();
            ConsumeError::join(errors).map_or(Ok(()), Err)
        })
    }
}

fn registry(h: &GraphHarness) -> Registry {
    let mut r = h.registry();
    r.processor(TagProcessorFactory).unwrap();
    r.connector(ByTenantFactory).unwrap();
    r
}

fn build_err(yaml: &str) -> ConfigErrors {
    let h = GraphHarness::new();
    match h.build(&registry(&h), yaml) {
        Ok(_) => panic!("config should be rejected"),
        Err(e) => e,
    }
}

fn with_tenant(t: Traces, tenant: &str) -> Traces {
    let mut t = t;
    for rs in &mut t.make_mut().resource_spans {
        let r = rs.resource.get_or_insert_with(Default::default);
        r.attributes.push(KeyValue {
            key: "tenant".into(),
            value: Some(AnyValue { value: Some(any_value::Value::StringValue(tenant.into())) }),
            ..Default::default()
        });
    }
    t
}

fn env_of(t: &Traces) -> Vec<Option<&str>> {
    walk::spans(t.request()).map(|s| attrs::get_str(&s.span.attributes, "env")).collect()
}

#[tokio::test]
async fn a_receiver_shared_by_two_pipelines_feeds_each_and_a_mutator_does_not_leak() {
    let h = GraphHarness::new();
    let yaml = "
receivers: {source: }
processors: {tag: }
exporters: {sink/raw: , sink/tagged: }
service:
  pipelines:
    traces/raw: {receivers: [source], exporters: [sink/raw]}
    traces/tagged: {receivers: [source], processors: [tag], exporters: [sink/tagged]}
";
    let _graph = h.build(&registry(&h), yaml).expect("valid");
    let input = h.source("source").traces.expect("traces wired");
    input.consume(&RequestContext::default(), traces(2)).await.expect("ok");
    let raw = h.sink::<Traces>("sink/raw").unwrap().batches();
    let tagged = h.sink::<Traces>("sink/tagged").unwrap().batches();
    assert_eq!((raw.len(), tagged.len()), (1, 1), "each pipeline got the batch once");
    assert_eq!(env_of(&tagged[0]), [Some("prod"), Some("prod")]);
    assert_eq!(env_of(&raw[0]), [None, None], "the read-only pipeline never sees the other's change");
    assert!(h.source("source").logs.is_none(), "no logs pipeline: no logs output");
}

#[tokio::test]
async fn a_pipeline_listing_an_exporter_twice_delivers_once_and_exporters_are_shared() {
    let h = GraphHarness::new();
    let yaml = "
receivers: {source/a: , source/b: }
exporters: {sink: }
service:
  pipelines:
    traces/a: {receivers: [source/a], exporters: [sink, sink]}
    traces/b: {receivers: [source/b], exporters: [sink]}
";
    let _graph = h.build(&registry(&h), yaml).expect("valid");
    let cx = RequestContext::default();
    h.source("source/a").traces.unwrap().consume(&cx, traces(1)).await.unwrap();
    h.source("source/b").traces.unwrap().consume(&cx, traces(2)).await.unwrap();
    assert_eq!(h.sink::<Traces>("sink").unwrap().item_count(), 3, "one exporter instance, each batch once");
}

#[tokio::test]
async fn a_connector_routes_by_pipeline_id_end_to_end() {
    let h = GraphHarness::new();
    let yaml = "
receivers: {source: }
processors: {tag: }
exporters: {sink/a: , sink/b: , sink/other: }
connectors:
  by_tenant:
    table:
      - {value: a, pipelines: [traces/a]}
      - {value: b, pipelines: [traces/b, traces/a]}
    default_pipelines: [traces/other]
service:
  pipelines:
    traces/in: {receivers: [source], exporters: [by_tenant]}
    traces/a: {receivers: [by_tenant], processors: [tag], exporters: [sink/a]}
    traces/b: {receivers: [by_tenant], exporters: [sink/b]}
    traces/other: {receivers: [by_tenant], exporters: [sink/other]}
";
    let _graph = h.build(&registry(&h), yaml).expect("valid");
    let input = h.source("source").traces.unwrap();
    let cx = RequestContext::default();
    input.consume(&cx, with_tenant(traces(1), "a")).await.unwrap();
    input.consume(&cx, with_tenant(traces(2), "b")).await.unwrap();
    input.consume(&cx, with_tenant(traces(4), "zzz")).await.unwrap();
    let count = |id: &str| h.sink::<Traces>(id).unwrap().item_count();
    assert_eq!((count("sink/a"), count("sink/b"), count("sink/other")), (3, 2, 4));
    let b = h.sink::<Traces>("sink/b").unwrap().batches();
    assert_eq!(env_of(&b[0]), [None, None], "traces/a's processor copied its share of tenant b");
}

#[test]
fn a_table_naming_a_pipeline_the_connector_does_not_feed_is_an_error_at_its_line() {
    let errs = build_err(
        "
receivers: {source: }
exporters: {sink: }
connectors:
  by_tenant:
    table:
      - value: a
        pipelines: [traces/a, traces/b]
    default_pipelines: [traces/aa]
service:
  pipelines:
    traces/in: {receivers: [source], exporters: [by_tenant]}
    traces/a: {receivers: [by_tenant], exporters: [sink]}
    traces/b: {receivers: [source], exporters: [sink]}
",
    );
    let text = errs.to_string();
    assert_eq!(errs.0.len(), 2, "{text}");
    assert_eq!(
        errs.0[0].to_string(),
        "test.yaml:8:31: connectors::by_tenant::table::0::pipelines::1: pipeline \"traces/b\" is not fed by this \
         connector: it must list the connector under receivers (fed: traces/a)"
    );
    assert_eq!(
        errs.0[1].to_string(),
        "test.yaml:9:25: connectors::by_tenant::default_pipelines::0: pipeline \"traces/aa\" is not configured, \
         did you mean \"traces/a\"? (fed by this connector: traces/a)"
    );
}

#[test]
fn a_cycle_through_connectors_is_rejected_at_the_pipeline() {
    let errs = build_err(
        "
receivers: {source: }
exporters: {sink: }
connectors: {by_tenant: }
service:
  pipelines:
    traces/in: {receivers: [source], exporters: [by_tenant]}
    traces/loop: {receivers: [by_tenant], exporters: [by_tenant, sink]}
",
    );
    assert_eq!(errs.0.len(), 1, "{errs}");
    let e = &errs.0[0];
    assert_eq!(e.loc.as_ref().map(|l| l.line), Some(8), "{e}");
    assert!(e.message.starts_with("cycle detected through connectors: traces/loop -> traces/loop"), "{e}");
}

#[test]
fn unknown_references_and_one_sided_connectors_are_rejected_with_locations() {
    let errs = build_err(
        "
receivers: {source: }
exporters: {sink: }
service:
  pipelines:
    traces: {receivers: [source], processors: [tga], exporters: [snk]}
",
    );
    let lines: Vec<_> = errs.0.iter().map(|e| (e.loc.as_ref().map(|l| (l.line, l.col)), e.message.clone())).collect();
    assert_eq!(
        lines,
        [
            (Some((6, 48)), "references processor \"tga\" which is not configured".to_string()),
            (Some((6, 66)), "references exporter \"snk\" which is not configured, did you mean \"sink\"?".to_string()),
        ]
    );

    let errs = build_err(
        "
receivers: {source: }
exporters: {sink: }
connectors: {by_tenant: }
service:
  pipelines:
    traces: {receivers: [source], exporters: [by_tenant, sink]}
",
    );
    assert_eq!(errs.0.len(), 1, "{errs}");
    assert_eq!(
        errs.0[0].to_string(),
        "test.yaml:4:14: connectors::by_tenant: connector \"by_tenant\" must be used as both receiver and exporter, \
         but is never used as a receiver"
    );
}

/// `processors: pick:` — sends every batch to the pipeline's exporter `sink/b` only, by id
/// (what the legacy routing processor needs), and records the processors it bypasses.
struct PickProcessorFactory(std::sync::Arc<std::sync::Mutex<Vec<String>>>);

struct Pick(DynConsumer<Traces>);

impl Consumer<Traces> for Pick {
    fn consume<'a>(&'a self, cx: &'a RequestContext, data: Traces) -> BoxFuture<'a, Result<(), ConsumeError>> {
        self.0.consume(cx, data)
    }
}

impl ProcessorFactory for PickProcessorFactory {
    type Config = crate::testing::TestComponentConfig;
    fn component_type(&self) -> &'static str {
        "pick"
    }
    fn stability(&self, _signal: Signal) -> Option<Stability> {
        Some(Stability::Development)
    }
    fn create(
        &self,
        set: Settings,
        _cfg: &Self::Config,
        _next: AnyConsumer,
    ) -> Result<(AnyConsumer, Option<Box<dyn Component>>), BuildError> {
        Err(BuildError::new(&set, "pick needs its pipeline's exporters"))
    }
    fn create_in_pipeline(
        &self,
        set: Settings,
        _cfg: &Self::Config,
        _next: AnyConsumer,
        exporters: &crate::component::PipelineExporters,
    ) -> Result<(AnyConsumer, Option<Box<dyn Component>>), BuildError> {
        let mut seen = self.0.lock().unwrap();
        seen.push(format!(
            "{}: exporters [{}], after [{}]",
            exporters.pipeline.as_ref().map(ToString::to_string).unwrap_or_default(),
            exporters.ids().map(ToString::to_string).collect::<Vec<_>>().join(", "),
            exporters.processors_after.iter().map(ToString::to_string).collect::<Vec<_>>().join(", "),
        ));
        let b = crate::component::ComponentId::parse("sink/b").unwrap();
        match exporters.get(&b) {
            Some(AnyConsumer::Traces(c)) => Ok((AnyConsumer::Traces(std::sync::Arc::new(Pick(c.clone()))), None)),
            _ => Err(BuildError::new(&set, "no traces exporter sink/b in this pipeline")),
        }
    }
}

#[tokio::test]
async fn a_processor_can_reach_its_pipelines_exporters_by_id() {
    let h = GraphHarness::new();
    let seen = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let mut r = registry(&h);
    r.processor(PickProcessorFactory(seen.clone())).unwrap();
    let yaml = "
receivers: {source: }
processors: {tag: , pick: }
exporters: {sink/a: , sink/b: }
service:
  pipelines:
    traces: {receivers: [source], processors: [pick, tag], exporters: [sink/a, sink/b, sink/a]}
    traces/2: {receivers: [source], processors: [tag, pick], exporters: [sink/a]}
";
    let err = h.build(&r, yaml).err().expect("traces/2 has no sink/b");
    assert!(err.to_string().contains("processors::pick: no traces exporter sink/b in this pipeline"), "{err}");
    assert_eq!(
        *seen.lock().unwrap(),
        ["traces: exporters [sink/a, sink/b], after [tag]", "traces/2: exporters [sink/a], after []"]
    );
    let h = GraphHarness::new();
    let mut r = registry(&h);
    r.processor(PickProcessorFactory(seen.clone())).unwrap();
    let _g = h.build(&r, yaml.split("    traces/2").next().unwrap()).expect("valid");
    h.source("source").traces.unwrap().consume(&RequestContext::default(), traces(2)).await.unwrap();
    assert_eq!(h.sink::<Traces>("sink/a").unwrap().item_count(), 0, "not picked");
    let b = h.sink::<Traces>("sink/b").unwrap().batches();
    assert_eq!(env_of(&b[0]), [None, None], "straight to the exporter: the processor after it is bypassed");
}

/// `switchyard graph`: a shared receiver, processors per pipeline, a connector between
/// pipelines, and a pipeline without processors, in all three forms.
#[test]
fn the_picture_shows_pipelines_shared_components_and_connectors() {
    let h = GraphHarness::new();
    let yaml = r#"
receivers: {source: }
processors: {tag: , tag/"x": }
exporters: {sink/a: , sink/b: }
connectors:
  by_tenant:
    default_pipelines: [traces/b]
service:
  pipelines:
    traces/in: {receivers: [source], processors: [tag, tag/"x"], exporters: [sink/a, by_tenant]}
    traces/b: {receivers: [by_tenant, source], exporters: [sink/b, sink/a]}
"#;
    let root = crate::config::parse("test.yaml", yaml).unwrap();
    let cfg = crate::config::parse_config(&root, &registry(&h)).expect("valid");
    let pic = super::Picture::of(&cfg);
    assert_eq!(
        pic.to_text(),
        "pipeline traces/in
  in:   source (receiver)
  then: tag -> tag/\"x\"
  out:  sink/a (exporter), by_tenant (connector to traces/b)
pipeline traces/b
  in:   by_tenant (connector from traces/in), source (receiver)
  out:  sink/b (exporter), sink/a (exporter)
"
    );
    let dot = pic.to_dot();
    for line in [
        "r0 [label=\"source\"",
        "p0_1 [label=\"tag/\\\"x\\\"\", shape=box];",
        "j1 [label=\"traces/b\", shape=circle];",
        "c0 [label=\"by_tenant\", shape=diamond];",
        "r0 -> p0_0;",
        "p0_0 -> p0_1;",
        "p0_1 -> e0;",
        "p0_1 -> c0;",
        "c0 -> j1;",
        "r0 -> j1;",
        "j1 -> e1;",
        "j1 -> e0;",
    ] {
        assert!(dot.contains(line), "DOT lacks {line:?}:\n{dot}");
    }
    assert_eq!(dot.matches(" -> ").count(), 8, "{dot}");
    assert_eq!(dot.matches("e0 [label").count(), 1, "an exporter shared by two pipelines is one node");
    let mermaid = pic.to_mermaid();
    assert!(mermaid.starts_with("flowchart LR\n"));
    for line in [
        "  subgraph pl0[\"pipeline traces/in\"]",
        "    p0_1[\"tag/#quot;x#quot;\"]",
        "  c0{\"by_tenant\"}",
        "  c0 --> j1",
    ] {
        assert!(mermaid.contains(line), "Mermaid lacks {line:?}:\n{mermaid}");
    }
    assert_eq!(mermaid.matches(" --> ").count(), 8);
}

/// The status page's picture: every component a node, every edge an arrow, a box per
/// pipeline, the caller's notes escaped; and the service view the host carries.
#[test]
fn the_svg_picture_and_the_service_view() {
    let h = GraphHarness::new();
    let yaml = r#"
receivers: {source: }
processors: {tag: }
exporters: {sink/a: , sink/b: {}}
connectors:
  by_tenant:
    default_pipelines: [traces/b]
service:
  pipelines:
    traces/in: {receivers: [source], processors: [tag], exporters: [sink/a, by_tenant]}
    traces/b: {receivers: [by_tenant, source], exporters: [sink/b, sink/a]}
"#;
    let root = crate::config::parse("test.yaml", yaml).unwrap();
    let cfg = crate::config::parse_config(&root, &registry(&h)).expect("valid");
    let svg = super::Picture::of(&cfg).to_svg(&|n| (n.kind == "exporter").then(|| format!("{} <sent>", n.id)));
    assert!(svg.starts_with("<svg ") && svg.ends_with("</svg>"), "{svg}");
    for (kind, id) in [
        ("receiver", "source"),
        ("processor", "tag"),
        ("connector", "by_tenant"),
        ("pipeline", "traces/b"),
        ("exporter", "sink/a"),
        ("exporter", "sink/b"),
    ] {
        assert!(svg.contains(&format!("<g class=\"node {kind}\" data-id=\"{id}\">")), "{kind} {id}: {svg}");
    }
    assert_eq!(svg.matches("class=\"edge\"").count(), 7, "{svg}");
    assert_eq!(svg.matches("<g class=\"pipeline\"").count(), 2, "{svg}");
    assert!(svg.contains("sink/b &lt;sent&gt;"), "notes are escaped: {svg}");

    let graph = h.build(&registry(&h), yaml).expect("builds");
    let view = graph.host().service().expect("the graph's host carries the view");
    assert_eq!(view.connectors, ["by_tenant"]);
    assert_eq!(view.pipelines[1].receivers, ["by_tenant", "source"]);
    assert!(view.is_connector("by_tenant") && !view.is_connector("source"));
    assert!(
        view.config_yaml.contains("  by_tenant:\n    default_pipelines:\n      - traces/b\n"),
        "{}",
        view.config_yaml
    );
}

#[tokio::test]
async fn a_substituted_build_creates_no_receiver_or_exporter_and_exposes_every_stage() {
    use crate::config::{parse, parse_config};
    use crate::graph::{Graph, Substitutes};
    use crate::telemetry::Telemetry;
    use crate::testing::SinkConsumer;
    use std::collections::HashMap;
    use std::sync::{Arc, Mutex};

    let h = GraphHarness::new();
    let yaml = "
receivers: {source: }
processors: {tag: }
exporters: {sink/a: , sink/b: }
connectors:
  by_tenant:
    table: [{value: a, pipelines: [traces/a]}]
    default_pipelines: [traces/b]
service:
  pipelines:
    traces/in: {receivers: [source], processors: [tag], exporters: [by_tenant]}
    traces/a: {receivers: [by_tenant], exporters: [sink/a]}
    traces/b: {receivers: [by_tenant], exporters: [sink/b]}
";
    let cfg = parse_config(&parse("test.yaml", yaml).unwrap(), &registry(&h)).unwrap();
    let sinks: Mutex<HashMap<String, Arc<SinkConsumer<Traces>>>> = Mutex::default();
    let outputs: Mutex<Vec<String>> = Mutex::default();
    let exporter = |id: &crate::component::ComponentId, signal: Signal| {
        assert_eq!(signal, Signal::Traces);
        let sink = SinkConsumer::<Traces>::new();
        sinks.lock().unwrap().insert(id.to_string(), sink.clone());
        AnyConsumer::Traces(sink)
    };
    let pipeline_output = |id: &PipelineId, next: AnyConsumer| {
        outputs.lock().unwrap().push(id.to_string());
        next
    };
    let subs = Substitutes { exporter: &exporter, pipeline_output: &pipeline_output };
    let (graph, inlets) = Graph::build_substituted(&cfg, &Telemetry::default(), &subs).expect("valid");
    assert!(h.source("source").traces.is_none(), "the receiver factory was never called");
    assert!(h.sink::<Traces>("sink/a").is_none(), "the exporter factory was never called");
    let mut seen = outputs.lock().unwrap().clone();
    seen.sort();
    assert_eq!(seen, ["traces/a", "traces/b", "traces/in"]);
    let stages = &inlets.pipelines[&PipelineId::parse("traces/in").unwrap()];
    assert_eq!(stages.len(), 2, "in front of `tag`, then the output");
    graph.start().await.unwrap();
    let cx = RequestContext::default();
    let AnyConsumer::Traces(after_tag) = &stages[1] else { panic!("traces") };
    after_tag.consume(&cx, with_tenant(traces(1), "a")).await.unwrap();
    let source = inlets.receivers[&crate::component::ComponentId::parse("source").unwrap()].traces.clone().unwrap();
    source.consume(&cx, with_tenant(traces(2), "zzz")).await.unwrap();
    graph.shutdown(std::time::Duration::from_secs(1)).await;
    let sinks = sinks.lock().unwrap();
    let a = sinks["sink/a"].batches();
    assert_eq!(env_of(&a[0]), [None], "pushed after the processor: not tagged");
    let b = sinks["sink/b"].batches();
    assert_eq!(env_of(&b[0]), [Some("prod"), Some("prod")], "pushed where the receiver would: tagged");
}
