//! Runs `shared/conformance/filter-cases.yaml` (upstream filter processor tests) in place:
//! each case's config through the real config decoder, its fixture as pdata, the
//! processor's per-signal function, then the case's expectation on what is left. Skip
//! reasons and the pass count are printed on purpose (`--nocapture` shows them).
#![allow(clippy::print_stdout)]

use std::collections::BTreeSet;

use switchyard_core::component::Kind;
use switchyard_core::config::{self, Node, Value};
use switchyard_core::consumer::RequestContext;
use switchyard_core::processorhelper::SignalProcessor;
use switchyard_pdata::proto::collector::metrics::v1::ExportMetricsServiceRequest;
use switchyard_pdata::proto::collector::trace::v1::ExportTraceServiceRequest;
use switchyard_pdata::proto::metrics::v1::metric::Data;
use switchyard_pdata::proto::metrics::v1::Metric;

use super::super::{FilterProcessor, FilterProcessorConfig};
use super::fixtures;

const CASES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared/conformance/filter-cases.yaml");

/// Cases that cannot pass yet, with the reason printed when skipped. Besides these, a
/// case whose config uses an OTTL function the library does not have yet is skipped with
/// the loader's message (so it runs as soon as the function lands).
const SKIPS: &[(&str, &str)] = &[];

/// The loader's wording for a cataloged function that is not implemented.
const NOT_YET: &str = "is not supported by Switchyard yet";

enum Outcome {
    Passed,
    Skipped(String),
}

/// At least this many cases must pass.
const MIN_PASSED: usize = 20;

enum Data2 {
    Traces(ExportTraceServiceRequest),
    Metrics(ExportMetricsServiceRequest),
}

fn scalar(node: &Node) -> Option<&str> {
    match &node.value {
        Value::Scalar { text, .. } => Some(text),
        _ => None,
    }
}

fn seq(node: Option<&Node>) -> Vec<&Node> {
    match node.map(|n| &n.value) {
        Some(Value::Seq(items)) => items.iter().collect(),
        _ => Vec::new(),
    }
}

fn strings(node: Option<&Node>) -> Vec<String> {
    seq(node).into_iter().filter_map(scalar).map(str::to_string).collect()
}

fn fixture(root: &Node, name: &str) -> Result<Data2, String> {
    let f = root.find(&["fixtures", name]).ok_or_else(|| format!("no fixture {name}"))?;
    Ok(match name {
        "filter_traces" => Data2::Traces(fixtures::filter_traces()),
        "filter_metrics" => Data2::Metrics(fixtures::filter_metrics()),
        "legacy_redis_traces" => Data2::Traces(fixtures::legacy_redis_traces()),
        "legacy_name_traces" => Data2::Traces(fixtures::legacy_name_traces()),
        "legacy_metric_names" => Data2::Metrics(fixtures::metrics_by_resource(&[(Vec::new(), strings(Some(f)))])),
        "legacy_two_resources" => {
            let mut resources = Vec::new();
            for r in seq(Some(f)) {
                let attrs: Vec<(String, String)> = r
                    .find(&["resource"])
                    .and_then(|n| n.as_map())
                    .map(|m| m.iter().filter_map(|(k, e)| Some((k.clone(), scalar(&e.node)?.to_string()))).collect())
                    .unwrap_or_default();
                resources.push((attrs, strings(r.find(&["metrics"]))));
            }
            Data2::Metrics(fixtures::metrics_by_resource(&resources))
        }
        other => return Err(format!("fixture {other} is not built by this harness")),
    })
}

/// Paths of everything in a traces request: `scope`, `scope/span`, `scope/span/events/event`.
fn trace_inventory(req: &ExportTraceServiceRequest) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    for rs in &req.resource_spans {
        for ss in &rs.scope_spans {
            let scope = ss.scope.as_ref().map_or("", |s| s.name.as_str());
            out.insert(scope.to_string());
            for span in &ss.spans {
                out.insert(format!("{scope}/{}", span.name));
                for e in &span.events {
                    out.insert(format!("{scope}/{}/events/{}", span.name, e.name));
                }
            }
        }
    }
    out
}

fn points(m: &Metric) -> Vec<Vec<u8>> {
    use prost::Message;
    match &m.data {
        Some(Data::Gauge(g)) => g.data_points.iter().map(Message::encode_to_vec).collect(),
        Some(Data::Sum(s)) => s.data_points.iter().map(Message::encode_to_vec).collect(),
        Some(Data::Histogram(h)) => h.data_points.iter().map(Message::encode_to_vec).collect(),
        Some(Data::ExponentialHistogram(e)) => e.data_points.iter().map(Message::encode_to_vec).collect(),
        Some(Data::Summary(s)) => s.data_points.iter().map(Message::encode_to_vec).collect(),
        None => Vec::new(),
    }
}

fn all_metrics(req: &ExportMetricsServiceRequest) -> impl Iterator<Item = &Metric> {
    req.resource_metrics.iter().flat_map(|r| &r.scope_metrics).flat_map(|s| &s.metrics)
}

/// Paths of everything in a metrics request: `metric`, `metric/datapoints[i]` where `i` is
/// the point's index in the original fixture (found by content).
fn metric_inventory(req: &ExportMetricsServiceRequest, original: &ExportMetricsServiceRequest) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    for m in all_metrics(req) {
        out.insert(m.name.clone());
        let before = all_metrics(original).find(|o| o.name == m.name).map(points).unwrap_or_default();
        for p in points(m) {
            let i = before.iter().position(|b| *b == p).map_or("?".to_string(), |i| i.to_string());
            out.insert(format!("{}/datapoints[{i}]", m.name));
        }
    }
    out
}

fn inventory(d: &Data2, original: &Data2) -> BTreeSet<String> {
    match (d, original) {
        (Data2::Traces(t), _) => trace_inventory(t),
        (Data2::Metrics(m), Data2::Metrics(o)) => metric_inventory(m, o),
        (Data2::Metrics(m), _) => metric_inventory(m, m),
    }
}

fn item_count(d: &Data2) -> usize {
    match d {
        Data2::Traces(t) => super::super::process::count_spans(t),
        Data2::Metrics(m) => super::super::process::count_data_points(m),
    }
}

fn metric_names(req: &ExportMetricsServiceRequest) -> Vec<String> {
    all_metrics(req).map(|m| m.name.clone()).collect()
}

/// Runs one case; `Err` is a failure with its reason.
fn run_case(root: &Node, case: &Node) -> Result<Outcome, String> {
    let fixture_name = case.find(&["fixture"]).and_then(scalar).ok_or("case without fixture")?;
    let cfg_node = case.find(&["config"]).ok_or("case without config")?;
    let cfg: FilterProcessorConfig = config::from_node(cfg_node, "filter").map_err(|e| e.to_string())?;
    let set = switchyard_core::testing::settings(Kind::Processor, "filter");
    let processor = match FilterProcessor::new(&set, &cfg) {
        Ok(p) => p,
        Err(errors) if errors.iter().all(|e| e.message.contains(NOT_YET)) => {
            let first = errors[0].message.lines().next().unwrap_or_default().to_string();
            return Ok(Outcome::Skipped(first));
        }
        Err(errors) => return Err(format!("config refused: {errors:?}")),
    };
    let original = fixture(root, fixture_name)?;
    let mut data = fixture(root, fixture_name)?;
    let cx = RequestContext::default();
    let result = match &mut data {
        Data2::Traces(t) => processor.process_traces(&cx, t),
        Data2::Metrics(m) => processor.process_metrics(&cx, m),
    };
    let expect = case.find(&["expect"]).ok_or("case without expect")?;
    if let Some(want) = expect.find(&["error_contains"]).and_then(scalar) {
        return match result {
            Err(e) if e.to_string().contains(want) => Ok(Outcome::Passed),
            Err(e) => Err(format!("error {e:?} does not contain {want:?}")),
            Ok(()) => Err(format!("expected an error containing {want:?}, got none")),
        };
    }
    result.map_err(|e| format!("processing failed: {e}"))?;
    let before = inventory(&original, &original);
    let after = inventory(&data, &original);
    if expect.find(&["drops_everything"]).and_then(scalar) == Some("true") && item_count(&data) != 0 {
        return Err(format!("expected everything dropped, left {after:?}"));
    }
    if expect.find(&["unchanged"]).and_then(scalar) == Some("true") && after != before {
        return Err(format!("expected unchanged, got {after:?}"));
    }
    let dropped = strings(expect.find(&["dropped"]));
    if !dropped.is_empty() {
        let gone = |p: &String| dropped.iter().any(|d| p == d || p.starts_with(&format!("{d}/")));
        let want: BTreeSet<String> = before.iter().filter(|p| !gone(p)).cloned().collect();
        if after != want {
            return Err(format!("after dropping {dropped:?}: want {want:?}, got {after:?}"));
        }
    }
    for r in strings(expect.find(&["remaining"])) {
        if !after.contains(&r) {
            return Err(format!("{r} should remain; left {after:?}"));
        }
    }
    if let Some(n) = expect.find(&["remaining_span_count"]).and_then(scalar) {
        let got = item_count(&data);
        if n.parse::<usize>().ok() != Some(got) {
            return Err(format!("remaining_span_count {n}, got {got}"));
        }
    }
    if let Data2::Metrics(m) = &data {
        let names = strings(expect.find(&["remaining_metric_names"]));
        if expect.find(&["remaining_metric_names"]).is_some() && metric_names(m) != names {
            return Err(format!("remaining metrics {:?}, want {names:?}", metric_names(m)));
        }
        if let Some(per) = expect.find(&["remaining_metric_names_per_resource"]) {
            let want: Vec<Vec<String>> = seq(Some(per)).into_iter().map(|r| strings(Some(r))).collect();
            let got: Vec<Vec<String>> = m
                .resource_metrics
                .iter()
                .map(|r| r.scope_metrics.iter().flat_map(|s| &s.metrics).map(|x| x.name.clone()).collect())
                .collect();
            if got != want {
                return Err(format!("metrics per resource {got:?}, want {want:?}"));
            }
        }
    }
    Ok(Outcome::Passed)
}

#[test]
fn upstream_filter_cases() {
    let text = std::fs::read_to_string(CASES).expect("filter-cases.yaml is readable");
    let root = config::parse(CASES, &text).expect("filter-cases.yaml parses");
    let cases = seq(root.find(&["cases"]));
    assert!(!cases.is_empty(), "no cases found");
    let (mut passed, mut skipped, mut failures) = (0, 0, Vec::new());
    for case in cases {
        let id = case.find(&["id"]).and_then(scalar).unwrap_or("?").to_string();
        if let Some((_, why)) = SKIPS.iter().find(|(s, _)| *s == id) {
            println!("SKIP {id}: {why}");
            skipped += 1;
            continue;
        }
        match run_case(&root, case) {
            Ok(Outcome::Passed) => passed += 1,
            Ok(Outcome::Skipped(why)) => {
                println!("SKIP {id}: {why}");
                skipped += 1;
            }
            Err(e) => failures.push(format!("{id}: {e}")),
        }
    }
    println!("filter cases: {passed} passed, {skipped} skipped");
    assert!(failures.is_empty(), "failing cases:\n{}", failures.join("\n"));
    assert!(passed >= MIN_PASSED, "only {passed} cases passed");
}

const CONFIGS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared/conformance/configs");

/// Every `filter` processor in the public configs decodes and validates (functions the
/// OTTL library lacks yet are printed, not failed).
#[test]
fn filter_sections_of_public_configs_load() {
    let mut dir: Vec<_> = std::fs::read_dir(CONFIGS).expect("configs dir").filter_map(Result::ok).collect();
    dir.sort_by_key(|e| e.path());
    let (mut loaded, mut failures) = (0, Vec::new());
    for entry in dir {
        let path = entry.path();
        if !path.extension().is_some_and(|x| x == "yaml" || x == "yml") {
            continue;
        }
        let text = std::fs::read_to_string(&path).expect("readable");
        let Ok(root) = config::parse(&path.to_string_lossy(), &text) else { continue };
        let Some(processors) = root.find(&["processors"]).and_then(Node::as_map) else { continue };
        for (id, entry) in processors {
            if id != "filter" && !id.starts_with("filter/") {
                continue;
            }
            let name = format!("{}: {id}", path.file_name().unwrap_or_default().to_string_lossy());
            let cfg: FilterProcessorConfig = match config::from_node(&entry.node, id) {
                Ok(c) => c,
                Err(e) => {
                    failures.push(format!("{name}: {e}"));
                    continue;
                }
            };
            let errors = switchyard_core::component::ComponentConfig::validate(&cfg);
            if errors.is_empty() {
                loaded += 1;
            } else if errors.iter().all(|e| e.message.contains(NOT_YET)) {
                println!("SKIP {name}: {}", errors[0].message.lines().next().unwrap_or_default());
            } else {
                failures.push(format!("{name}: {errors:?}"));
            }
        }
    }
    println!("public configs: {loaded} filter processors loaded");
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    assert!(loaded > 0, "no filter processor found in the public configs");
}
