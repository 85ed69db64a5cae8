//! From `--config` sources to a checked [`Config`]: every component's body decoded by its
//! factory, every pipeline reference resolved, every problem collected with its location.

use std::sync::Arc;

use indexmap::IndexMap;

use super::diagnostics::{suggestion, ConfigError, ConfigErrors};
use super::document::{merge, parse, Location, Node, Value};
use super::expand::{expand_tree, Env};
use super::from_node;
use super::telemetry::TelemetryConfig;
use crate::component::{AnyConfig, ComponentId, ErasedFactory, Kind, PipelineId, Registry};

/// Loads and merges config sources in order (later ones win), then expands variables.
///
/// A source is a file path (optionally `file:`-prefixed), `env:NAME` (the whole YAML in a
/// variable) or `yaml:key::path: value` (inline, like the Collector's `--set`).
pub fn load_sources(sources: &[String], env: &dyn Env) -> Result<(Node, Vec<ConfigError>), ConfigErrors> {
    let mut root: Option<Node> = None;
    for src in sources {
        let (name, text) = if let Some(var) = src.strip_prefix("env:") {
            let text = env
                .get(var)
                .ok_or_else(|| ConfigError::general(src.as_str(), format!("environment variable {var} is not set")))?;
            (src.clone(), text)
        } else if let Some(inline) = src.strip_prefix("yaml:") {
            ("--set".to_string(), inline_yaml(inline))
        } else {
            let path = src.strip_prefix("file:").unwrap_or(src);
            let text = std::fs::read_to_string(path)
                .map_err(|e| ConfigError::general(path, format!("cannot read config file: {e}")))?;
            (path.to_string(), text)
        };
        let node = parse(&name, &text)?;
        match &mut root {
            None => root = Some(node),
            // An empty (or comments-only) source changes nothing, as in the Collector.
            Some(_) if matches!(node.value, Value::Null) => {}
            Some(r) => merge(r, node),
        }
    }
    let mut root = root.ok_or_else(|| ConfigError::general("", "at least one --config must be given"))?;
    let mut errors = Vec::new();
    let mut warnings = Vec::new();
    expand_tree(&mut root, env, &mut errors, &mut warnings);
    if errors.is_empty() {
        Ok((root, warnings))
    } else {
        Err(ConfigErrors(errors))
    }
}

/// `a::b::c: v` → nested YAML.
fn inline_yaml(inline: &str) -> String {
    let (path, value) = inline.split_once(": ").unwrap_or((inline, ""));
    let mut out = String::new();
    let parts: Vec<&str> = path.split("::").collect();
    for (depth, p) in parts.iter().enumerate() {
        out.push_str(&"  ".repeat(depth));
        out.push_str(p);
        out.push(':');
        if depth + 1 == parts.len() {
            out.push(' ');
            out.push_str(value);
        }
        out.push('\n');
    }
    out
}

/// Types the Collector has removed that still run here, as aliases, with the warning their
/// use gets: old configs keep working while they are moved to the new name.
const REMOVED_UPSTREAM: &[(Kind, &str, &str)] = &[(
    Kind::Exporter,
    "logging",
    "the logging exporter was removed from the Collector in v0.111.0; it runs here as `debug` \
     (`loglevel` is ignored): rename it to `debug`",
)];

/// A component defined in a section.
pub struct ComponentDef {
    /// Its id.
    pub id: ComponentId,
    /// Where its key is written.
    pub loc: Location,
    /// Its factory.
    pub factory: Arc<dyn ErasedFactory>,
    /// Its decoded, validated config.
    pub config: AnyConfig,
    /// Its body as written (`None` for a null body), kept so checks made after decoding (a
    /// connector's table against its pipelines) can point at the line they are about.
    pub body: Option<Node>,
}

/// A reference to a component from the service section.
#[derive(Clone, Debug)]
pub struct Ref {
    /// The referenced id.
    pub id: ComponentId,
    /// Where the reference is written.
    pub loc: Location,
}

/// One pipeline.
#[derive(Clone, Debug)]
pub struct PipelineDef {
    /// Its id.
    pub id: PipelineId,
    /// Where its key is written.
    pub loc: Location,
    /// Receivers (or connectors).
    pub receivers: Vec<Ref>,
    /// Processors, in order.
    pub processors: Vec<Ref>,
    /// Exporters (or connectors).
    pub exporters: Vec<Ref>,
}

/// The `service` section.
#[derive(Default)]
pub struct ServiceConfig {
    /// Extensions to start.
    pub extensions: Vec<Ref>,
    /// Pipelines, in file order.
    pub pipelines: IndexMap<PipelineId, PipelineDef>,
    /// Self-telemetry.
    pub telemetry: TelemetryConfig,
}

/// A whole configuration, decoded and checked.
pub struct Config {
    /// `receivers`, `processors`, `exporters`, `connectors`, `extensions`.
    pub components: IndexMap<(Kind, ComponentId), ComponentDef>,
    /// `service`.
    pub service: ServiceConfig,
    /// Problems that do not stop the gateway (unused components, deprecated names).
    pub warnings: Vec<ConfigError>,
}

impl Config {
    /// The definition of a component of a kind.
    pub fn get(&self, kind: Kind, id: &ComponentId) -> Option<&ComponentDef> {
        self.components.get(&(kind, id.clone()))
    }
}

const KINDS: [Kind; 5] = [Kind::Receiver, Kind::Processor, Kind::Exporter, Kind::Connector, Kind::Extension];
const TOP_KEYS: [&str; 6] = ["receivers", "processors", "exporters", "connectors", "extensions", "service"];

/// Decodes the merged document: every error is collected, none stops the others.
pub fn parse_config(root: &Node, registry: &Registry) -> Result<Config, ConfigErrors> {
    let mut errors = Vec::new();
    let mut warnings = Vec::new();
    let empty = IndexMap::new();
    let top = match &root.value {
        Value::Map(m) => m,
        Value::Null => &empty,
        _ => return Err(ConfigError::at(root.loc.clone(), "", "the configuration must be a mapping").into()),
    };
    for (key, entry) in top {
        if !TOP_KEYS.contains(&key.as_str()) {
            let hint = suggestion(key, TOP_KEYS);
            errors.push(ConfigError::at(entry.key_loc.clone(), key.as_str(), format!("unknown top-level key{hint}")));
        }
    }
    let mut components = IndexMap::new();
    // Components defined but whose body did not decode: references to them are not errors too.
    let mut invalid = std::collections::HashSet::new();
    for kind in KINDS {
        let Some(section) = top.get(kind.section()) else {
            continue;
        };
        let entries = match &section.node.value {
            Value::Map(m) => m,
            Value::Null => continue,
            _ => {
                errors.push(ConfigError::at(
                    section.node.loc.clone(),
                    kind.section(),
                    "expected a mapping of component ids",
                ));
                continue;
            }
        };
        for (key, entry) in entries {
            let path = format!("{}::{key}", kind.section());
            let id = match ComponentId::parse(key) {
                Ok(id) => id,
                Err(e) => {
                    errors.push(ConfigError::at(entry.key_loc.clone(), path, e));
                    continue;
                }
            };
            let Some(factory) = registry.get(kind, id.ty()) else {
                let known = registry.types(kind);
                let hint = suggestion(id.ty(), known.iter().copied());
                errors.push(ConfigError::at(
                    entry.key_loc.clone(),
                    path,
                    format!("unknown {} type \"{}\"{hint} (known types: {})", kind.word(), id.ty(), known.join(", ")),
                ));
                invalid.insert(id);
                continue;
            };
            if factory.component_type() != id.ty() && factory.aliases().contains(&id.ty()) {
                tracing::debug!(alias = id.ty(), canonical = factory.component_type(), "Component type alias used.");
                if let Some((_, _, note)) = REMOVED_UPSTREAM.iter().find(|(k, ty, _)| *k == kind && *ty == id.ty()) {
                    warnings.push(ConfigError::at(entry.key_loc.clone(), path.clone(), (*note).to_string()));
                }
            }
            let body = match &entry.node.value {
                Value::Null => None,
                _ => Some(&entry.node),
            };
            match factory.parse_config(body, &path) {
                Ok(config) => {
                    let def = ComponentDef {
                        id: id.clone(),
                        loc: entry.key_loc.clone(),
                        factory: factory.clone(),
                        config,
                        body: body.cloned(),
                    };
                    components.insert((kind, id), def);
                }
                Err(errs) => {
                    errors.extend(errs);
                    invalid.insert(id);
                }
            }
        }
    }
    // Connector ids may not equal receiver or exporter ids (the pipeline reference would be ambiguous).
    for ((kind, id), def) in &components {
        if *kind == Kind::Connector
            && (components.contains_key(&(Kind::Receiver, id.clone()))
                || components.contains_key(&(Kind::Exporter, id.clone())))
        {
            errors.push(ConfigError::at(
                def.loc.clone(),
                format!("connectors::{id}"),
                format!("ambiguous id: \"{id}\" is also a receiver or exporter id; rename the connector, e.g. \"{id}/connector\""),
            ));
        }
    }
    let service = match top.get("service") {
        Some(s) => parse_service(&s.node, &mut errors),
        None => ServiceConfig::default(),
    };
    let mut config = Config { components, service, warnings: Vec::new() };
    check_service(&config, &invalid, &mut errors, &mut warnings);
    if all_sections_empty(top) {
        errors.insert(
            0,
            ConfigError::at(root.loc.clone(), "", "empty configuration: define receivers, exporters and a pipeline"),
        );
    }
    // Report in file order: easier to walk through than by check.
    errors.sort_by(|a, b| {
        let key = |e: &ConfigError| e.loc.as_ref().map(|l| (l.file.clone(), l.line, l.col));
        key(a).cmp(&key(b))
    });
    if errors.is_empty() {
        config.warnings = warnings;
        Ok(config)
    } else {
        Err(ConfigErrors(errors))
    }
}

fn all_sections_empty(top: &IndexMap<String, super::document::Entry>) -> bool {
    KINDS.iter().all(|k| top.get(k.section()).is_none_or(|e| e.node.as_map().is_none_or(|m| m.is_empty())))
}

fn parse_refs(node: &Node, path: &str, errors: &mut Vec<ConfigError>) -> Vec<Ref> {
    let items = match &node.value {
        Value::Seq(items) => items.as_slice(),
        Value::Null => &[],
        _ => {
            errors.push(ConfigError::at(node.loc.clone(), path, "expected a list of component ids"));
            return Vec::new();
        }
    };
    items
        .iter()
        .filter_map(|n| {
            let text = match &n.value {
                Value::Scalar { text, .. } => text.as_str(),
                _ => {
                    errors.push(ConfigError::at(n.loc.clone(), path, "expected a component id"));
                    return None;
                }
            };
            match ComponentId::parse(text) {
                Ok(id) => Some(Ref { id, loc: n.loc.clone() }),
                Err(e) => {
                    errors.push(ConfigError::at(n.loc.clone(), path, e));
                    None
                }
            }
        })
        .collect()
}

fn parse_service(node: &Node, errors: &mut Vec<ConfigError>) -> ServiceConfig {
    let mut service = ServiceConfig::default();
    let Some(map) = node.as_map() else {
        if !matches!(node.value, Value::Null) {
            errors.push(ConfigError::at(node.loc.clone(), "service", "expected a mapping"));
        }
        return service;
    };
    const KEYS: [&str; 3] = ["extensions", "pipelines", "telemetry"];
    for (key, entry) in map {
        let path = format!("service::{key}");
        match key.as_str() {
            "extensions" => service.extensions = parse_refs(&entry.node, &path, errors),
            "telemetry" => match from_node::<TelemetryConfig>(&entry.node, &path) {
                Ok(t) => service.telemetry = t,
                Err(e) => errors.push(e),
            },
            "pipelines" => {
                let Some(pipelines) = entry.node.as_map() else {
                    errors.push(ConfigError::at(entry.node.loc.clone(), path, "expected a mapping of pipeline ids"));
                    continue;
                };
                for (pkey, pentry) in pipelines {
                    let ppath = format!("service::pipelines::{pkey}");
                    let id = match PipelineId::parse(pkey) {
                        Ok(id) => id,
                        Err(e) => {
                            errors.push(ConfigError::at(pentry.key_loc.clone(), ppath, e));
                            continue;
                        }
                    };
                    let mut def = PipelineDef {
                        id: id.clone(),
                        loc: pentry.key_loc.clone(),
                        receivers: Vec::new(),
                        processors: Vec::new(),
                        exporters: Vec::new(),
                    };
                    for (k, e) in pentry.node.as_map().into_iter().flatten() {
                        let kpath = format!("{ppath}::{k}");
                        match k.as_str() {
                            "receivers" => def.receivers = parse_refs(&e.node, &kpath, errors),
                            "processors" => def.processors = parse_refs(&e.node, &kpath, errors),
                            "exporters" => def.exporters = parse_refs(&e.node, &kpath, errors),
                            other => {
                                let hint = suggestion(other, ["receivers", "processors", "exporters"]);
                                errors.push(ConfigError::at(
                                    e.key_loc.clone(),
                                    kpath,
                                    format!("unknown pipeline key{hint}"),
                                ));
                            }
                        }
                    }
                    service.pipelines.insert(id, def);
                }
            }
            other => {
                let hint = suggestion(other, KEYS);
                errors.push(ConfigError::at(entry.key_loc.clone(), path, format!("unknown key{hint}")));
            }
        }
    }
    service
}

/// Reference and signal checks of the service section (§3 of the Collector's validation rules).
fn check_service(
    cfg: &Config,
    invalid: &std::collections::HashSet<ComponentId>,
    errors: &mut Vec<ConfigError>,
    warnings: &mut Vec<ConfigError>,
) {
    let defined =
        |kind: Kind, id: &ComponentId| cfg.components.contains_key(&(kind, id.clone())) || invalid.contains(id);
    let names_of = |kind: Kind| {
        cfg.components.keys().filter(|(k, _)| *k == kind).map(|(_, id)| id.to_string()).collect::<Vec<_>>()
    };
    let undefined = |r: &Ref, path: String, what: &str, kinds: &[Kind]| {
        let known: Vec<String> = kinds.iter().flat_map(|k| names_of(*k)).collect();
        let hint = suggestion(&r.id.to_string(), known.iter().map(String::as_str));
        ConfigError::at(r.loc.clone(), path, format!("references {what} \"{}\" which is not configured{hint}", r.id))
    };
    for r in &cfg.service.extensions {
        if !defined(Kind::Extension, &r.id) {
            errors.push(undefined(r, "service::extensions".into(), "extension", &[Kind::Extension]));
        }
    }
    if cfg.service.pipelines.is_empty() && !cfg.components.is_empty() {
        errors.push(ConfigError::general("service::pipelines", "service must have at least one pipeline"));
    }
    for p in cfg.service.pipelines.values() {
        let signal = p.id.signal();
        let base = format!("service::pipelines::{}", p.id);
        if p.receivers.is_empty() {
            errors.push(ConfigError::at(p.loc.clone(), base.clone(), "must have at least one receiver"));
        }
        if p.exporters.is_empty() {
            errors.push(ConfigError::at(p.loc.clone(), base.clone(), "must have at least one exporter"));
        }
        let sides = [("receivers", Kind::Receiver, &p.receivers), ("exporters", Kind::Exporter, &p.exporters)];
        for (field, kind, refs) in sides {
            for r in refs {
                let path = format!("{base}::{field}");
                let def = cfg.get(kind, &r.id).or_else(|| cfg.get(Kind::Connector, &r.id));
                match def {
                    None if invalid.contains(&r.id) => {}
                    None => errors.push(undefined(r, path, kind.word(), &[kind, Kind::Connector])),
                    Some(d) if d.factory.kind() == Kind::Connector => {} // checked by the graph build
                    Some(d) => {
                        if d.factory.stability(signal).is_none() {
                            errors.push(ConfigError::at(
                                r.loc.clone(),
                                path,
                                format!("{} \"{}\" does not support {signal}", kind.word(), r.id),
                            ));
                        }
                    }
                }
            }
        }
        for (i, r) in p.processors.iter().enumerate() {
            let path = format!("{base}::processors");
            match cfg.get(Kind::Processor, &r.id) {
                None if invalid.contains(&r.id) => {}
                None => errors.push(undefined(r, path, "processor", &[Kind::Processor])),
                Some(d) if d.factory.stability(signal).is_none() => errors.push(ConfigError::at(
                    r.loc.clone(),
                    path,
                    format!("processor \"{}\" does not support {signal}", r.id),
                )),
                Some(_) => {}
            }
            if p.processors[..i].iter().any(|o| o.id == r.id) {
                errors.push(ConfigError::at(
                    r.loc.clone(),
                    format!("{base}::processors"),
                    format!("processor \"{}\" is used twice in this pipeline", r.id),
                ));
            }
        }
    }
    // Defined but unused: a warning, as in the Collector.
    for ((kind, id), def) in &cfg.components {
        let used = match kind {
            Kind::Extension => cfg.service.extensions.iter().any(|r| &r.id == id),
            _ => cfg.service.pipelines.values().any(|p| {
                let refs: &[&Vec<Ref>] = match kind {
                    Kind::Receiver => &[&p.receivers],
                    Kind::Processor => &[&p.processors],
                    Kind::Exporter => &[&p.exporters],
                    _ => &[&p.receivers, &p.exporters],
                };
                refs.iter().any(|v| v.iter().any(|r| &r.id == id))
            }),
        };
        if !used {
            warnings.push(ConfigError::at(
                def.loc.clone(),
                format!("{}::{id}", kind.section()),
                format!("{} \"{id}\" is defined but not used in any pipeline", kind.word()),
            ));
        }
    }
}
