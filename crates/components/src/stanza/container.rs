//! container: parses Kubernetes container runtime log lines — docker's JSON, and the
//! `time stream tag log` lines of CRI-O and containerd — into body, `log.iostream` and
//! the timestamp; joins CRI partial lines (tag `P`) per file; and reads the namespace,
//! pod, uid, container and restart count from the `/var/log/pods/...` path into `k8s.*`
//! resource attributes, as stanza's container parser does.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use chrono::DateTime;
use regex::Regex;
use serde_json::Value;

use super::config::ContainerConfig;
use super::entry::{value_string, Entry, Field};
use super::pipeline::Stateful;

/// Partial lines waiting longer than this are sent as they are.
const PARTIAL_FLUSH: Duration = Duration::from_secs(5);

/// The container operator.
pub struct Container {
    format: String,
    metadata: bool,
    max_log_size: usize,
    parse_from: Field,
    severity: Option<super::time::SeverityParserConfig>,
    cri: Regex,
    path: Regex,
    partial: HashMap<String, (Entry, Instant)>,
}

impl Container {
    /// Checks the format name.
    pub fn new(c: &ContainerConfig) -> Result<Container, String> {
        if !["", "docker", "crio", "containerd"].contains(&c.format.as_str()) {
            return Err(format!("format must be docker, crio or containerd, not {:?}", c.format));
        }
        let re = |s: &str| Regex::new(s).map_err(|e| e.to_string());
        Ok(Container {
            format: c.format.clone(),
            metadata: c.add_metadata_from_filepath,
            max_log_size: usize::try_from(c.max_log_size).unwrap_or(usize::MAX),
            parse_from: c.parse_from.clone(),
            severity: c.severity.clone(),
            cri: re(r"^(?P<time>[^ ]+) (?P<stream>stdout|stderr) (?P<logtag>[^ ]*) ?(?P<log>.*)$")?,
            path: re(
                r"^.*/(?P<namespace>[^_]+)_(?P<pod_name>[^_]+)_(?P<uid>[a-f0-9\-]+)/(?P<container_name>[^._]+)/(?P<restart_count>\d+)\.log$",
            )?,
            partial: HashMap::new(),
        })
    }

    fn detect(&self, line: &str) -> &'static str {
        match self.format.as_str() {
            "docker" => "docker",
            "crio" | "containerd" => "cri",
            _ if line.starts_with('{') => "docker",
            _ => "cri",
        }
    }

    fn set_time(e: &mut Entry, t: &str) -> Result<(), String> {
        let d = DateTime::parse_from_rfc3339(t).map_err(|err| format!("time {t:?}: {err}"))?;
        e.timestamp = d.timestamp_nanos_opt().and_then(|n| u64::try_from(n).ok());
        Ok(())
    }

    fn add_metadata(&self, e: &mut Entry) {
        if let Some(s) = &self.severity {
            if let Err(m) = s.apply(e) {
                tracing::debug!(error = %m, "Container log severity not parsed.");
            }
        }
        if !self.metadata {
            return;
        }
        let Some(Value::String(p)) = e.attributes.get("log.file.path") else { return };
        let Some(c) = self.path.captures(p) else {
            tracing::debug!(path = %p, "Not a Kubernetes pod log path; no k8s metadata.");
            return;
        };
        for (group, attr) in [
            ("namespace", "k8s.namespace.name"),
            ("pod_name", "k8s.pod.name"),
            ("uid", "k8s.pod.uid"),
            ("container_name", "k8s.container.name"),
            ("restart_count", "k8s.container.restart_count"),
        ] {
            if let Some(m) = c.name(group) {
                e.resource.insert(attr.into(), Value::String(m.as_str().into()));
            }
        }
    }
}

impl Stateful for Container {
    fn process(&mut self, mut e: Entry, out: &mut Vec<Entry>) -> Result<(), String> {
        let line = self.parse_from.get(&e).map(value_string).ok_or("entry has no body to parse")?;
        if self.detect(&line) == "docker" {
            let v: serde_json::Map<String, Value> =
                serde_json::from_str(&line).map_err(|err| format!("docker log line: {err}"))?;
            let log = v.get("log").map(value_string).unwrap_or_default();
            e.body = Value::String(log.strip_suffix('\n').unwrap_or(&log).to_string());
            if let Some(s) = v.get("stream") {
                e.attributes.insert("log.iostream".into(), s.clone());
            }
            if let Some(t) = v.get("time") {
                Self::set_time(&mut e, &value_string(t))?;
            }
            self.add_metadata(&mut e);
            out.push(e);
            return Ok(());
        }
        let c = self.cri.captures(&line).ok_or("not a docker, crio or containerd log line")?;
        let get = |n: &str| c.name(n).map(|m| m.as_str().to_string()).unwrap_or_default();
        let (time, stream, tag, log) = (get("time"), get("stream"), get("logtag"), get("log"));
        Self::set_time(&mut e, &time)?;
        e.body = Value::String(log);
        e.attributes.insert("log.iostream".into(), Value::String(stream));
        e.attributes.insert("logtag".into(), Value::String(tag.clone()));
        self.add_metadata(&mut e);
        let key = e.attributes.get("log.file.path").map(value_string).unwrap_or_default();
        let merged = match self.partial.remove(&key) {
            Some((mut held, since)) => {
                let joined = format!("{}{}", value_string(&held.body), value_string(&e.body));
                held.body = Value::String(joined);
                held.attributes.insert("logtag".into(), Value::String(tag.clone()));
                Some((held, since))
            }
            None => None,
        };
        let (e, since) = merged.unwrap_or((e, Instant::now()));
        let too_big = self.max_log_size > 0 && value_string(&e.body).len() >= self.max_log_size;
        if tag == "P" && !too_big {
            self.partial.insert(key, (e, since));
        } else {
            out.push(e);
        }
        Ok(())
    }

    fn flush(&mut self, now: Instant, force: bool, out: &mut Vec<Entry>) {
        let due: Vec<String> = self
            .partial
            .iter()
            .filter(|(_, (_, since))| force || now.duration_since(*since) >= PARTIAL_FLUSH)
            .map(|(k, _)| k.clone())
            .collect();
        for k in due {
            if let Some((e, _)) = self.partial.remove(&k) {
                out.push(e);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn op() -> Container {
        Container::new(&ContainerConfig {
            id: None,
            output: None,
            cond: None,
            on_error: Default::default(),
            format: String::new(),
            add_metadata_from_filepath: true,
            max_log_size: 0,
            parse_from: Field::body(),
            parse_to: None,
            severity: None,
        })
        .unwrap()
    }

    fn entry(line: &str) -> Entry {
        let mut e = Entry::new(json!(line), 0);
        e.attributes.insert(
            "log.file.path".into(),
            json!("/var/log/pods/ns1_pod-a_0123abcd-0000-1111-2222-333344445555/app/2.log"),
        );
        e
    }

    #[test]
    fn docker_and_cri_lines_with_pod_metadata() {
        let mut c = op();
        let mut out = Vec::new();
        c.process(entry(r#"{"log":"hello\n","stream":"stderr","time":"2024-05-06T07:08:09.5Z"}"#), &mut out).unwrap();
        assert_eq!(out[0].body, json!("hello"));
        assert_eq!(out[0].attributes["log.iostream"], json!("stderr"));
        assert_eq!(out[0].timestamp, Some(1_714_979_289_500_000_000));
        assert_eq!(out[0].resource["k8s.pod.name"], json!("pod-a"));
        assert_eq!(out[0].resource["k8s.namespace.name"], json!("ns1"));
        assert_eq!(out[0].resource["k8s.container.name"], json!("app"));
        assert_eq!(out[0].resource["k8s.container.restart_count"], json!("2"));
        c.process(entry("2024-05-06T07:08:09.5Z stdout P part one "), &mut out).unwrap();
        assert_eq!(out.len(), 1);
        c.process(entry("2024-05-06T07:08:09.6Z stdout F and two"), &mut out).unwrap();
        assert_eq!(out[1].body, json!("part one and two"));
        assert_eq!(out[1].attributes["logtag"], json!("F"));
        c.process(entry("2024-05-06T09:08:09.5+02:00 stdout F crio"), &mut out).unwrap();
        assert_eq!(out[2].timestamp, Some(1_714_979_289_500_000_000));
        assert!(c.process(entry("garbage"), &mut out).is_err());
    }
}
