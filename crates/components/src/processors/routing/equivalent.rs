//! The routing connector config that does what a legacy routing processor config does:
//! printed in the deprecation warning so users can move over by copy and paste.

use switchyard_core::component::PipelineId;

use super::config::{ottl_string, RoutingProcessorConfig};

/// A YAML scalar in single quotes.
fn quoted(s: &str) -> String {
    format!("'{}'", s.replace('\'', "''"))
}

/// The `connectors:` and `service: pipelines:` sections replacing `routing` in `pipeline`:
/// one new pipeline per table row (`<signal>/<name>_route<i>`), one for the defaults.
pub fn connector_yaml(cfg: &RoutingProcessorConfig, pipeline: &PipelineId) -> String {
    let signal = pipeline.signal();
    let base = pipeline.to_string();
    let prefix = match base.split_once('/') {
        Some((_, name)) => format!("{signal}/{name}_"),
        None => format!("{signal}/"),
    };
    let route_pipeline = |i: usize| format!("{prefix}route{i}");
    let default_pipeline = format!("{prefix}default");
    let mut out = String::from("connectors:\n  routing:\n");
    if !cfg.default_exporters.is_empty() {
        out.push_str(&format!("    default_pipelines: [{default_pipeline}]\n"));
    }
    out.push_str("    table:\n");
    for (i, row) in cfg.table.iter().enumerate() {
        if cfg.by_header() {
            let Some(v) = &row.value else { continue };
            out.push_str("      - context: request\n");
            let cond = format!("request[{}] == {}", ottl_string(&cfg.from_attribute), ottl_string(v));
            out.push_str(&format!("        condition: {}\n", quoted(&cond)));
        } else if let Some(s) = cfg.resource_statement(row) {
            out.push_str(&format!("      - statement: {}\n", quoted(&s)));
        }
        out.push_str(&format!("        pipelines: [{}]\n", route_pipeline(i)));
    }
    out.push_str(&format!(
        "service:\n  pipelines:\n    {base}:  # keep its receivers and the processors before routing\n      exporters: [routing]\n"
    ));
    for (i, row) in cfg.table.iter().enumerate() {
        if cfg.by_header() && row.value.is_none() {
            continue;
        }
        out.push_str(&format!(
            "    {}:\n      receivers: [routing]\n      exporters: [{}]\n",
            route_pipeline(i),
            row.exporters.join(", ")
        ));
    }
    if !cfg.default_exporters.is_empty() {
        out.push_str(&format!(
            "    {default_pipeline}:\n      receivers: [routing]\n      exporters: [{}]\n",
            cfg.default_exporters.join(", ")
        ));
    }
    out
}
