//! `receivers: prometheus:` configuration: the Collector's fields
//! (`receiver/prometheusreceiver/config.go`) around a Prometheus `config:`.
//!
//! `$` in the YAML: the config loader turns `$$` into `$` (the Collector's confmap does
//! the same), so a relabel replacement written `$$1` in a Collector config reaches
//! relabeling as `$1`; a bare `$1` (no braces) is left alone by both.

use std::collections::BTreeSet;

use serde::Deserialize;
use switchyard_core::component::{ComponentConfig, FieldError};

use super::promconfig::{serde_yaml_ignored::Ignored, PromConfig};

/// The `prometheus` receiver's config.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct PrometheusReceiverConfig {
    /// The Prometheus configuration (`global`, `scrape_configs`).
    pub config: PromConfig,
    /// Not supported yet: metric names keep their suffixes (the Collector's default).
    pub trim_metric_suffixes: bool,
    /// Not supported yet (start times come from `_created` or the first scrape).
    pub use_start_time_metric: bool,
    /// Goes with `use_start_time_metric`.
    pub start_time_metric_regex: String,
    /// Also report `scrape_timeout_seconds`, `scrape_sample_limit`, `scrape_body_size_bytes`.
    pub report_extra_scrape_metrics: bool,
    /// Not supported (refused).
    pub target_allocator: Option<Ignored>,
    /// Not supported (refused).
    pub api_server: Option<Ignored>,
}

impl ComponentConfig for PrometheusReceiverConfig {
    fn validate(&self) -> Vec<FieldError> {
        let mut e = Vec::new();
        let c = &self.config;
        if self.target_allocator.is_some() {
            e.push(FieldError::new(
                "target_allocator",
                "the target allocator is not supported by Switchyard; list the targets in scrape_configs",
            ));
        }
        if self.api_server.is_some() {
            e.push(FieldError::new("api_server", "the Prometheus API server is not supported by Switchyard"));
        }
        if self.trim_metric_suffixes {
            e.push(FieldError::new("trim_metric_suffixes", "not supported yet: metric names keep their suffixes"));
        }
        if self.use_start_time_metric || !self.start_time_metric_regex.is_empty() {
            e.push(FieldError::new(
                "use_start_time_metric",
                "not supported yet: start times come from _created samples or the series' first scrape",
            ));
        }
        if c.scrape_configs.is_empty() && self.target_allocator.is_none() {
            e.push(FieldError::new("config", "no Prometheus scrape_configs or target_allocator set"));
        }
        let mut unsupported = Vec::new();
        if c.rule_files.is_some() {
            unsupported.push("rule files");
        }
        if c.alerting.is_some() {
            unsupported.push("alert config");
        }
        if c.remote_write.is_some() {
            unsupported.push("remote_write");
        }
        if c.remote_read.is_some() {
            unsupported.push("remote_read");
        }
        if !unsupported.is_empty() {
            e.push(FieldError::new("config", format!("unsupported features:\n\t{}", unsupported.join("\n\t"))));
        }
        if !c.scrape_config_files.is_empty() {
            e.push(FieldError::new("config::scrape_config_files", "not supported yet; put the scrape configs inline"));
        }
        let mut jobs = BTreeSet::new();
        for (i, sc) in c.scrape_configs.iter().enumerate() {
            if !sc.job_name.is_empty() && !jobs.insert(sc.job_name.as_str()) {
                e.push(FieldError::new(
                    format!("config::scrape_configs::{i}::job_name"),
                    format!("found multiple scrape configs with job name \"{}\"", sc.job_name),
                ));
            }
            sc.validate(&format!("config::scrape_configs::{i}"), &c.global, &mut e);
        }
        e
    }
}
