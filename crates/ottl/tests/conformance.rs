//! Every OTTL statement and condition in the shared conformance files and public Collector
//! configs must parse and pass the check in the context the Collector would run it in.
//!
//! The files are read in place from `shared/conformance/` (beside the repository, as in CI),
//! never copied. Statements are grouped as the components group them, so inference sees what
//! upstream sees: a transform group (`context` given or inferred from all its statements and
//! conditions), a flat transform string (one group each), a filter condition list, a routing
//! table item. The configs' statements are also compared with the list in `configs/INDEX.md`.

#![allow(clippy::print_stdout)]

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use saphyr::{LoadableYamlNode, Scalar, Yaml};
use switchyard_ottl::{
    check_condition, check_statement, check_value, infer_context, parse_condition, parse_statement,
    parse_value_expression, CheckOptions, Component, Context, PathPrefixes, Signal,
};

/// Statements or conditions that are not expected to pass yet, with the reason. Empty: every
/// case passes. A deliberately invalid case would be listed here and asserted to fail.
const NOT_YET: &[(&str, &str)] = &[];

fn shared() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/conformance")
}

/// A YAML tree reduced to what the walk needs.
#[derive(Debug, Clone)]
enum Node {
    Str(String),
    Seq(Vec<Node>),
    Map(Vec<(String, Node)>),
    Other,
}

impl Node {
    fn get(&self, key: &str) -> Option<&Node> {
        match self {
            Node::Map(entries) => entries.iter().find(|(k, _)| k == key).map(|(_, v)| v),
            _ => None,
        }
    }
    fn str(&self) -> Option<&str> {
        match self {
            Node::Str(s) => Some(s),
            _ => None,
        }
    }
    fn seq(&self) -> &[Node] {
        match self {
            Node::Seq(items) => items,
            _ => &[],
        }
    }
    fn entries(&self) -> &[(String, Node)] {
        match self {
            Node::Map(entries) => entries,
            _ => &[],
        }
    }
    fn strings(&self) -> Vec<String> {
        self.seq().iter().filter_map(|n| n.str().map(str::to_string)).collect()
    }
}

fn convert(y: &Yaml) -> Node {
    match y {
        Yaml::Value(Scalar::String(s)) => Node::Str(s.to_string()),
        Yaml::Value(Scalar::Boolean(b)) => Node::Str(b.to_string()),
        Yaml::Value(Scalar::Integer(i)) => Node::Str(i.to_string()),
        Yaml::Value(Scalar::FloatingPoint(f)) => Node::Str(f.to_string()),
        Yaml::Value(Scalar::Null) => Node::Other,
        Yaml::Representation(s, _, _) => Node::Str(s.to_string()),
        Yaml::Sequence(items) => Node::Seq(items.iter().map(convert).collect()),
        Yaml::Mapping(map) => Node::Map(
            map.iter()
                .filter_map(|(k, v)| match convert(k) {
                    Node::Str(k) => Some((k, convert(v))),
                    _ => None,
                })
                .collect(),
        ),
        Yaml::Tagged(_, inner) => convert(inner),
        _ => Node::Other,
    }
}

fn load(path: &Path) -> Node {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let docs = Yaml::load_from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    docs.first().map_or(Node::Other, convert)
}

/// One unit as a component parses it.
#[derive(Debug, Default)]
struct Group {
    source: String,
    signal: Option<Signal>,
    /// `None`: inferred from the group's statements and conditions.
    context: Option<Context>,
    component: Option<Component>,
    /// Routing's `request` context: `request["header"] == "value"`, parsed, not checked.
    request: bool,
    statements: Vec<String>,
    conditions: Vec<String>,
    values: Vec<String>,
}

fn signal_of(key: &str) -> Option<Signal> {
    match key.split('_').next()? {
        "trace" | "traces" | "spans" => Some(Signal::Traces),
        "metric" | "metrics" => Some(Signal::Metrics),
        "log" | "logs" => Some(Signal::Logs),
        "profile" | "profiles" => Some(Signal::Profiles),
        _ => None,
    }
}

fn context_of(name: &str) -> Option<Context> {
    match name {
        "log_record" => Some(Context::Log),
        _ => Context::from_name(name),
    }
}

/// A transform processor config: `*_statements` lists of strings or groups.
fn transform(source: &str, config: &Node, out: &mut Vec<Group>) {
    for (key, value) in config.entries() {
        if !key.ends_with("_statements") {
            continue;
        }
        let signal = signal_of(key);
        for item in value.seq() {
            let mut g =
                Group { source: source.into(), signal, component: Some(Component::Transform), ..Group::default() };
            match item {
                Node::Str(s) => g.statements.push(s.clone()),
                group => {
                    g.context = group.get("context").and_then(Node::str).and_then(context_of);
                    g.statements = group.get("statements").map(Node::strings).unwrap_or_default();
                    g.conditions = group.get("conditions").map(Node::strings).unwrap_or_default();
                }
            }
            out.push(g);
        }
    }
}

/// A filter processor config: legacy `traces.span: [...]` lists and `*_conditions` groups.
fn filter(source: &str, config: &Node, out: &mut Vec<Group>) {
    for (key, value) in config.entries() {
        let signal = signal_of(key);
        if key.ends_with("_conditions") {
            for group in value.seq() {
                let context = group.get("context").and_then(Node::str).and_then(context_of);
                let conditions = group.get("conditions").map(Node::strings).unwrap_or_default();
                if context.is_some() {
                    out.push(Group { source: source.into(), signal, context, conditions, ..Group::default() });
                } else {
                    // One group may mix levels: each condition is inferred on its own.
                    for c in conditions {
                        out.push(Group { source: source.into(), signal, conditions: vec![c], ..Group::default() });
                    }
                }
            }
        } else if matches!(key.as_str(), "traces" | "metrics" | "logs" | "profiles") {
            for (ctx, list) in value.entries() {
                let Some(context) = context_of(ctx) else { continue };
                let conditions = list.strings();
                if !conditions.is_empty() {
                    out.push(Group {
                        source: source.into(),
                        signal,
                        context: Some(context),
                        conditions,
                        ..Group::default()
                    });
                }
            }
        }
    }
    for g in out.iter_mut().filter(|g| g.component.is_none()) {
        g.component = Some(Component::Filter);
    }
}

/// A routing connector config: `table` items with `condition` or `statement`.
fn routing(source: &str, config: &Node, out: &mut Vec<Group>) {
    for item in config.get("table").map(Node::seq).unwrap_or_default() {
        let name = item.get("context").and_then(Node::str).unwrap_or("resource");
        let mut g = Group { source: source.into(), component: Some(Component::Routing), ..Group::default() };
        g.request = name == "request";
        g.context = Some(context_of(name).unwrap_or(Context::Resource));
        g.statements.extend(item.get("statement").and_then(Node::str).map(str::to_string));
        g.conditions.extend(item.get("condition").and_then(Node::str).map(str::to_string));
        out.push(g);
    }
}

fn component_groups(source: &str, section: Option<&Node>, out: &mut Vec<Group>) {
    for (id, config) in section.map(Node::entries).unwrap_or_default() {
        let kind = id.split('/').next().unwrap_or_default();
        let source = format!("{source} {id}");
        match kind {
            "transform" => transform(&source, config, out),
            "filter" => filter(&source, config, out),
            "routing" => routing(&source, config, out),
            _ => {}
        }
    }
}

fn config_groups() -> Vec<Group> {
    let dir = shared().join("configs");
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "yaml"))
        .collect();
    files.sort();
    let mut out = Vec::new();
    for path in files {
        let root = load(&path);
        let name = path.file_name().map(|n| n.to_string_lossy().to_string()).unwrap_or_default();
        component_groups(&name, root.get("processors"), &mut out);
        component_groups(&name, root.get("connectors"), &mut out);
    }
    out
}

fn case_groups() -> Vec<Group> {
    let mut out = Vec::new();
    let ottl = load(&shared().join("ottl-cases.yaml"));
    for case in ottl.get("cases").map(Node::seq).unwrap_or_default() {
        let id = case.get("id").and_then(Node::str).unwrap_or("?").to_string();
        let fixture = case.get("fixture").and_then(Node::str).unwrap_or_default();
        let signal = Some(if fixture.contains("metric") {
            Signal::Metrics
        } else if fixture.starts_with("log") {
            Signal::Logs
        } else {
            Signal::Traces
        });
        if let Some(groups) = case.get("transform_config") {
            transform(&id, &Node::Map(vec![("trace_statements".into(), groups.clone())]), &mut out);
            continue;
        }
        let inferred = case.get("context_inferred").and_then(Node::str) == Some("true");
        let context = if inferred { None } else { case.get("context").and_then(Node::str).and_then(context_of) };
        let mut g = Group { source: id, signal, context, component: Some(Component::Transform), ..Group::default() };
        g.statements.extend(case.get("statement").and_then(Node::str).map(str::to_string));
        g.statements.extend(case.get("statements").map(Node::strings).unwrap_or_default());
        g.values.extend(case.get("value_expression").and_then(Node::str).map(str::to_string));
        out.push(g);
    }
    for (file, walk) in
        [("filter-cases.yaml", filter as fn(&str, &Node, &mut Vec<Group>)), ("routing-cases.yaml", routing)]
    {
        let root = load(&shared().join(file));
        for case in root.get("cases").map(Node::seq).unwrap_or_default() {
            let id = case.get("id").and_then(Node::str).unwrap_or("?");
            if let Some(config) = case.get("config") {
                walk(id, config, &mut out);
            }
        }
    }
    out
}

/// Parses and checks every group; returns (texts checked, failures as "source: text: error").
fn run(groups: &[Group]) -> (usize, Vec<String>) {
    let mut count = 0;
    let mut failures = Vec::new();
    for g in groups {
        let fail = |text: &str, e: &dyn std::fmt::Display| format!("{}: {text}\n{e}", g.source);
        let statements: Vec<_> = g.statements.iter().map(|s| (s, parse_statement(s))).collect();
        let conditions: Vec<_> = g.conditions.iter().map(|s| (s, parse_condition(s))).collect();
        let values: Vec<_> = g.values.iter().map(|s| (s, parse_value_expression(s))).collect();
        count += statements.len() + conditions.len() + values.len();
        let mut ok = true;
        for (text, r) in statements
            .iter()
            .map(|(t, r)| (t, r.as_ref().err()))
            .chain(conditions.iter().map(|(t, r)| (t, r.as_ref().err())))
        {
            if let Some(e) = r {
                failures.push(fail(text, e));
                ok = false;
            }
        }
        if let Some((text, Err(e))) = values.iter().find(|(_, r)| r.is_err()) {
            failures.push(fail(text, e));
            ok = false;
        }
        if !ok || g.request {
            continue;
        }
        let parsed_statements: Vec<_> = statements.into_iter().filter_map(|(_, r)| r.ok()).collect();
        let parsed_conditions: Vec<_> = conditions.into_iter().filter_map(|(_, r)| r.ok()).collect();
        let (context, prefixes) = match g.context {
            Some(c) => (c, PathPrefixes::Optional),
            None => match infer_context(g.signal.unwrap_or(Signal::Traces), &parsed_statements, &parsed_conditions) {
                Ok(c) => (c, PathPrefixes::Required),
                Err(e) => {
                    failures.push(fail(&format!("{:?} {:?}", g.statements, g.conditions), &e));
                    continue;
                }
            },
        };
        let options = CheckOptions::new(context).prefixes(prefixes).component(g.component.unwrap_or(Component::Any));
        let mut errors = Vec::new();
        for s in &parsed_statements {
            errors.extend(check_statement(s, &options).into_iter().map(|e| fail(&s.text, &e)));
        }
        for c in &parsed_conditions {
            errors.extend(check_condition(c, &options).into_iter().map(|e| fail(&c.text, &e)));
        }
        for (_, v) in values {
            if let Ok(v) = v {
                errors.extend(check_value(&v, &options).into_iter().map(|e| fail(&v.text, &e)));
            }
        }
        failures.extend(errors);
    }
    (count, failures)
}

fn describe(groups: &[Group]) -> String {
    let inferred = groups.iter().filter(|g| g.context.is_none()).count();
    let request = groups.iter().filter(|g| g.request).count();
    format!(
        "{} groups ({inferred} with an inferred context, {request} routing request-context items parsed only)",
        groups.len()
    )
}

fn assert_only_known_failures(what: &str, count: usize, failures: Vec<String>) {
    let unexpected: Vec<_> = failures.iter().filter(|f| !NOT_YET.iter().any(|(text, _)| f.contains(text))).collect();
    println!(
        "{what}: {count} statements, conditions and expressions parsed and checked, {} known failures",
        failures.len()
    );
    assert!(
        unexpected.is_empty(),
        "{} of {count} failed:\n\n{}",
        unexpected.len(),
        unexpected.iter().map(|s| s.as_str()).collect::<Vec<_>>().join("\n\n")
    );
    for (text, reason) in NOT_YET {
        assert!(
            failures.iter().any(|f| f.contains(text)),
            "listed as not yet handled ({reason}) but passes now: {text}"
        );
    }
}

#[test]
fn conformance_case_files() {
    let groups = case_groups();
    let (count, failures) = run(&groups);
    println!("case files: {}", describe(&groups));
    assert!(count >= 100, "only {count} cases found; is shared/conformance there?");
    assert_only_known_failures("case files", count, failures);
}

#[test]
fn collector_configs() {
    let groups = config_groups();
    let (count, failures) = run(&groups);
    println!("configs: {}", describe(&groups));
    assert_only_known_failures("configs", count, failures);

    // The INDEX lists each distinct statement and condition once.
    let mut ours = BTreeSet::new();
    for g in &groups {
        ours.extend(g.statements.iter().chain(&g.conditions).cloned());
    }
    let index = std::fs::read_to_string(shared().join("configs/INDEX.md")).unwrap_or_default();
    let section = index.split("## OTTL statements and conditions").nth(1).unwrap_or_default();
    let listed: BTreeSet<String> = section
        .lines()
        .filter(|l| l.starts_with('['))
        .filter_map(|l| {
            let body = l.split_once("] ")?.1;
            Some(body.rsplit_once("    # ").map_or(body, |(text, _)| text).to_string())
        })
        .collect();
    let missing: Vec<_> = listed.difference(&ours).collect();
    let extra: Vec<_> = ours.difference(&listed).collect();
    assert!(missing.is_empty() && extra.is_empty(), "INDEX.md differs:\nmissing {missing:#?}\nextra {extra:#?}");
    println!("configs: {} distinct texts, as INDEX.md lists", ours.len());
}

#[test]
fn the_harness_reports_failures() {
    let group = |context, statement: &str| Group {
        source: "synthetic".into(),
        context,
        signal: Some(Signal::Traces),
        statements: vec![statement.to_string()],
        ..Group::default()
    };
    let groups = [
        group(Some(Context::Span), "set(attribute[\"a\"], 1)"),
        group(Some(Context::Span), "set(x, "),
        group(None, "set(attributes[\"a\"], 1)"),
        group(None, "set(span.attributes[\"a\"], Concatt([span.name], \"\"))"),
    ];
    let (count, failures) = run(&groups);
    assert_eq!((count, failures.len()), (4, 4), "{failures:#?}");
}
