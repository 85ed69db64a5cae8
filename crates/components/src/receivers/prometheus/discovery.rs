//! Targets: target groups from `static_configs` and `file_sd_configs`, turned into scrape
//! targets as Prometheus does (`scrape/target.go` `PopulateLabels`): the group's labels
//! and the scrape config's defaults (`__address__`, `job`, `__scheme__`,
//! `__metrics_path__`, `__scrape_interval__`, `__scrape_timeout__`, `__param_<name>`),
//! then `relabel_configs`, then `instance` defaults to `__address__` and labels starting
//! with `__` are removed.

use std::collections::BTreeMap;
use std::hash::{Hash, Hasher};
use std::path::Path;
use std::time::Duration;

use serde::Deserialize;

use super::promconfig::{parse_duration, FileSdConfig, GlobalConfig, ScrapeConfig};
use super::relabel::{process, Labels, Rule};

/// A group of targets sharing labels.
#[derive(Clone, Debug, Default, Deserialize, PartialEq)]
#[serde(default)]
pub struct TargetGroup {
    /// Addresses.
    pub targets: Vec<String>,
    /// Labels of every target.
    pub labels: BTreeMap<String, String>,
    /// Where the group came from (`__meta_filepath`), not read from the file.
    #[serde(skip)]
    pub source: Option<String>,
}

/// A target to scrape.
#[derive(Clone, Debug, PartialEq)]
pub struct Target {
    /// Labels added to every sample (`job`, `instance`, static labels...).
    pub labels: Labels,
    /// The URL scraped.
    pub url: String,
    /// `http` or `https`.
    pub scheme: String,
    /// Interval.
    pub interval: Duration,
    /// Timeout.
    pub timeout: Duration,
}

impl Target {
    /// A stable hash of the target (spreads scrape start times).
    pub fn hash(&self) -> u64 {
        let mut h = std::collections::hash_map::DefaultHasher::new();
        self.labels.hash(&mut h);
        self.url.hash(&mut h);
        h.finish()
    }
}

/// The targets of one scrape config's groups (dropped ones left out).
pub fn targets(sc: &ScrapeConfig, g: &GlobalConfig, rules: &[Rule], groups: &[TargetGroup]) -> Vec<Target> {
    let mut out = Vec::new();
    for group in groups {
        for addr in &group.targets {
            let mut ls: Labels = group.labels.clone().into_iter().collect();
            ls.insert("__address__".into(), addr.clone());
            if let Some(src) = &group.source {
                ls.insert("__meta_filepath".into(), src.clone());
            }
            let mut set_default = |k: &str, v: String| {
                ls.entry(k.to_string()).or_insert(v);
            };
            set_default("job", sc.job_name.clone());
            set_default("__scheme__", sc.scheme().to_string());
            set_default("__metrics_path__", sc.metrics_path().to_string());
            set_default("__scrape_interval__", fmt_duration(sc.interval(g)));
            set_default("__scrape_timeout__", fmt_duration(sc.timeout(g)));
            for (k, v) in &sc.params {
                if let Some(first) = v.first() {
                    set_default(&format!("__param_{k}"), first.clone());
                }
            }
            if !process(rules, &mut ls) {
                continue;
            }
            if let Some(t) = finish(sc, g, ls) {
                out.push(t);
            }
        }
    }
    if sc.target_limit > 0 && out.len() as u64 > sc.target_limit {
        tracing::warn!(job = %sc.job_name, limit = sc.target_limit, found = out.len(), "target_limit exceeded: no target of this job is scraped.");
        out.clear();
    }
    out
}

fn fmt_duration(d: Duration) -> String {
    let ms = d.as_millis();
    if ms.is_multiple_of(1000) {
        format!("{}s", ms / 1000)
    } else {
        format!("{ms}ms")
    }
}

fn finish(sc: &ScrapeConfig, g: &GlobalConfig, mut ls: Labels) -> Option<Target> {
    let addr = ls.get("__address__").filter(|a| !a.is_empty())?.clone();
    // As Prometheus: an address is checked when the target is made, not when the config
    // is loaded; a bad one drops the target with an error.
    if addr.contains('/') {
        tracing::error!(job = %sc.job_name, address = %addr, "Dropping target: \"{addr}\" is not a valid hostname (write host:port; the scheme and path go in scheme and metrics_path).");
        return None;
    }
    let scheme = ls.get("__scheme__").cloned().unwrap_or_else(|| sc.scheme().to_string());
    let path = ls.get("__metrics_path__").cloned().unwrap_or_else(|| sc.metrics_path().to_string());
    let interval = ls.get("__scrape_interval__").and_then(|v| parse_duration(v).ok()).unwrap_or_else(|| sc.interval(g));
    let timeout = ls.get("__scrape_timeout__").and_then(|v| parse_duration(v).ok()).unwrap_or_else(|| sc.timeout(g));
    let mut params: Vec<(String, String)> = Vec::new();
    for (k, vs) in &sc.params {
        match ls.get(&format!("__param_{k}")) {
            Some(v) => params.push((k.clone(), v.clone())),
            None => params.extend(vs.iter().map(|v| (k.clone(), v.clone()))),
        }
    }
    for (k, v) in &ls {
        if let Some(name) = k.strip_prefix("__param_") {
            if !sc.params.contains_key(name) {
                params.push((name.to_string(), v.clone()));
            }
        }
    }
    ls.entry("instance".into()).or_insert_with(|| addr.clone());
    ls.retain(|k, v| !k.starts_with("__") && !v.is_empty());
    let mut url = format!("{scheme}://{addr}{path}");
    if !params.is_empty() {
        let q: Vec<String> = params.iter().map(|(k, v)| format!("{}={}", encode(k), encode(v))).collect();
        url.push(if path.contains('?') { '&' } else { '?' });
        url.push_str(&q.join("&"));
    }
    Some(Target { labels: ls, url, scheme, interval, timeout })
}

fn encode(s: &str) -> String {
    let mut out = String::new();
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// The static groups of a scrape config.
pub fn static_groups(sc: &ScrapeConfig) -> Vec<TargetGroup> {
    sc.static_configs
        .iter()
        .map(|s| TargetGroup { targets: s.targets.clone(), labels: s.labels.clone(), source: None })
        .collect()
}

/// The files a `file_sd_configs` entry names now (a `*` in the last element globs).
fn expand_files(pattern: &str) -> Vec<String> {
    let p = Path::new(pattern);
    let name = p.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    if !name.contains('*') {
        return vec![pattern.to_string()];
    }
    let (pre, post) = name.split_once('*').unwrap_or((&name, ""));
    let dir = p.parent().filter(|d| !d.as_os_str().is_empty()).unwrap_or(Path::new("."));
    let mut out: Vec<String> = std::fs::read_dir(dir)
        .map(|rd| {
            rd.filter_map(|e| e.ok())
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .filter(|n| n.starts_with(pre) && n.ends_with(post) && n.len() >= pre.len() + post.len())
                .map(|n| dir.join(n).to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default();
    out.sort();
    out
}

/// Reads the groups of one `file_sd_configs` entry; an unreadable or invalid file is
/// logged and contributes nothing (as in Prometheus, the other files still count).
pub fn file_groups(f: &FileSdConfig) -> Vec<TargetGroup> {
    let mut out = Vec::new();
    for pattern in &f.files {
        for path in expand_files(pattern) {
            match read_groups(&path) {
                Ok(gs) => out.extend(gs.into_iter().map(|mut g| {
                    g.source = Some(path.clone());
                    g
                })),
                Err(e) => tracing::warn!(file = %path, error = %e, "Cannot read file_sd targets."),
            }
        }
    }
    out
}

fn read_groups(path: &str) -> Result<Vec<TargetGroup>, String> {
    let text = std::fs::read_to_string(path).map_err(|e| e.to_string())?;
    if path.ends_with(".json") {
        return serde_json::from_str(&text).map_err(|e| e.to_string());
    }
    if text.trim().is_empty() {
        return Ok(Vec::new());
    }
    let node = switchyard_core::config::parse(path, &text).map_err(|e| e.to_string())?;
    switchyard_core::config::from_node(&node, "").map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::receivers::prometheus::relabel::RelabelConfig;

    #[test]
    fn defaults_relabel_and_url() {
        let sc = ScrapeConfig {
            job_name: "node".into(),
            params: [("module".to_string(), vec!["http_2xx".to_string()])].into(),
            ..Default::default()
        };
        let rules = Rule::compile_all(&[
            RelabelConfig {
                source_labels: vec!["__address__".into()],
                regex: Some("(.*):9100".into()),
                target_label: "host".into(),
                ..Default::default()
            },
            RelabelConfig {
                source_labels: vec!["env".into()],
                regex: Some("dev".into()),
                action: Some("drop".into()),
                ..Default::default()
            },
        ])
        .unwrap();
        let groups = vec![
            TargetGroup {
                targets: vec!["a:9100".into()],
                labels: [("env".into(), "prod".into())].into(),
                source: None,
            },
            TargetGroup { targets: vec!["b:9100".into()], labels: [("env".into(), "dev".into())].into(), source: None },
        ];
        let ts = targets(&sc, &GlobalConfig::default(), &rules, &groups);
        assert_eq!(ts.len(), 1, "the dev group is dropped");
        let t = &ts[0];
        assert_eq!(t.url, "http://a:9100/metrics?module=http_2xx");
        assert_eq!(t.interval, Duration::from_secs(60));
        assert_eq!(t.timeout, Duration::from_secs(10));
        let want: Labels = [("env", "prod"), ("host", "a"), ("instance", "a:9100"), ("job", "node")]
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        assert_eq!(t.labels, want);
    }

    #[test]
    fn an_address_with_a_scheme_or_path_drops_the_target() {
        let sc = ScrapeConfig { job_name: "j".into(), ..Default::default() };
        let groups = vec![TargetGroup {
            targets: vec!["http://h:1".into(), "h:2/x".into(), "h:3".into()],
            ..Default::default()
        }];
        let ts = targets(&sc, &GlobalConfig::default(), &[], &groups);
        assert_eq!(ts.iter().map(|t| t.url.as_str()).collect::<Vec<_>>(), ["http://h:3/metrics"]);
    }

    #[test]
    fn file_sd_json_and_yaml() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("a.json"), r#"[{"targets":["x:1"],"labels":{"team":"a"}}]"#).unwrap();
        std::fs::write(dir.path().join("b.yml"), "- targets: ['y:2']\n").unwrap();
        std::fs::write(dir.path().join("c.json"), "not json").unwrap();
        let f = FileSdConfig {
            files: vec![format!("{}/*.json", dir.path().display()), format!("{}/b.yml", dir.path().display())],
            refresh_interval: None,
        };
        let gs = file_groups(&f);
        let addrs: Vec<&str> = gs.iter().flat_map(|g| g.targets.iter().map(String::as_str)).collect();
        assert_eq!(addrs, ["x:1", "y:2"], "the invalid c.json is skipped");
        assert_eq!(gs[0].labels["team"], "a");
        assert!(gs[0].source.as_deref().unwrap().ends_with("a.json"));
    }
}
