//! From API objects to cache entries: a pod becomes a [`PodInfo`] holding only what the
//! rules extract (contrib `podFromAPI`, `extractPodAttributes`,
//! `extractPodContainersAttributes`), and a namespace or node a [`MetaInfo`].

use std::collections::HashSet;
use std::sync::{Arc, Mutex, PoisonError};

use k8s_openapi::api::core::v1::Pod;
use kube::api::ObjectMeta;
use regex::Regex;

use super::cache::{ContainerInfo, MetaInfo, PodInfo};
use super::rules::{parse_image, From, Rules};

/// The pod annotation that opts a pod out (`"true"`).
pub const IGNORE_ANNOTATION: &str = "opentelemetry.io/k8s-processor/ignore";

/// Builds cache entries; shared by the watch tasks.
pub struct Converter {
    rules: Arc<Rules>,
    exclude: Vec<Regex>,
    /// Attribute keys are shared by every pod (one allocation per distinct key, not per pod).
    keys: Mutex<HashSet<Arc<str>>>,
}

impl Converter {
    /// A converter for these rules and excluded pod-name patterns.
    pub fn new(rules: Arc<Rules>, exclude: Vec<Regex>) -> Self {
        Converter { rules, exclude, keys: Mutex::new(HashSet::new()) }
    }

    fn intern(&self, out: Vec<(Arc<str>, Box<str>)>) -> Box<[(Arc<str>, Box<str>)]> {
        let mut keys = self.keys.lock().unwrap_or_else(PoisonError::into_inner);
        out.into_iter()
            .map(|(k, v)| match keys.get(&k) {
                Some(shared) => (shared.clone(), v),
                None => {
                    keys.insert(k.clone());
                    (k, v)
                }
            })
            .collect()
    }

    /// The cache entry for `pod`.
    pub fn pod(&self, pod: &Pod) -> PodInfo {
        let r = &self.rules;
        let m = &pod.metadata;
        let spec = pod.spec.as_ref();
        let status = pod.status.as_ref();
        let s = |o: &Option<String>| -> Box<str> { o.as_deref().unwrap_or_default().into() };
        let mut info = PodInfo {
            uid: s(&m.uid),
            name: s(&m.name),
            namespace: s(&m.namespace),
            node: spec.map(|sp| s(&sp.node_name)).unwrap_or_default(),
            ip: status.map(|st| s(&st.pod_ip)).unwrap_or_default(),
            host_network: spec.and_then(|sp| sp.host_network).unwrap_or(false),
            start_time: status.and_then(|st| st.start_time.as_ref()).map_or(i64::MIN, |t| t.0.as_second()),
            ..Default::default()
        };
        info.ignore = self.ignored(m);
        if info.ignore {
            return info;
        }
        let mut out: Vec<(Arc<str>, Box<str>)> = Vec::new();
        let mut add = |k: &str, v: &str| out.push((k.into(), v.into()));
        if r.has("k8s.pod.name") {
            add("k8s.pod.name", &info.name);
        }
        if r.has("k8s.pod.hostname") {
            add("k8s.pod.hostname", spec.and_then(|sp| sp.hostname.as_deref()).unwrap_or_default());
        }
        if r.has("k8s.pod.ip") {
            add("k8s.pod.ip", &info.ip);
        }
        if r.has("k8s.namespace.name") {
            add("k8s.namespace.name", &info.namespace);
        }
        if r.has("k8s.pod.start_time") {
            if let Some(t) = &m.creation_timestamp {
                add("k8s.pod.start_time", &t.0.strftime("%Y-%m-%dT%H:%M:%SZ").to_string());
            }
        }
        if r.has("k8s.pod.uid") {
            add("k8s.pod.uid", &info.uid);
        }
        for o in m.owner_references.iter().flatten() {
            match o.kind.as_str() {
                "ReplicaSet" => {
                    info.replicaset_uid = o.uid.as_str().into();
                    if r.has("k8s.replicaset.uid") {
                        add("k8s.replicaset.uid", &o.uid);
                    }
                    if r.has("k8s.replicaset.name") {
                        add("k8s.replicaset.name", &o.name);
                    }
                    let hash = m.labels.as_ref().and_then(|l| l.get("pod-template-hash"));
                    if let Some(d) = hash.and_then(|h| o.name.strip_suffix(h.as_str())?.strip_suffix('-')) {
                        info.deployment_hint = d.into();
                    }
                }
                "DaemonSet" | "StatefulSet" | "Job" => {
                    let kind = match o.kind.as_str() {
                        "DaemonSet" => "daemonset",
                        "StatefulSet" => "statefulset",
                        _ => "job",
                    };
                    if r.has(&format!("k8s.{kind}.uid")) {
                        add(&format!("k8s.{kind}.uid"), &o.uid);
                    }
                    if r.has(&format!("k8s.{kind}.name")) {
                        add(&format!("k8s.{kind}.name"), &o.name);
                    }
                    if kind == "job" && r.has("k8s.cronjob.name") {
                        if let Some(c) = cronjob_of(&o.name) {
                            add("k8s.cronjob.name", c);
                        }
                    }
                }
                _ => {}
            }
        }
        if r.has("k8s.node.name") {
            add("k8s.node.name", &info.node);
        }
        r.extract_meta(From::Pod, m.labels.as_ref(), m.annotations.as_ref(), &mut out);
        info.attrs = self.intern(out);
        if r.needs_containers() {
            info.containers = containers(r, pod);
        }
        info
    }

    fn ignored(&self, m: &ObjectMeta) -> bool {
        let by_annotation = m
            .annotations
            .as_ref()
            .and_then(|a| a.get(IGNORE_ANNOTATION))
            .is_some_and(|v| v.trim().eq_ignore_ascii_case("true"));
        let name = m.name.as_deref().unwrap_or_default();
        by_annotation || self.exclude.iter().any(|re| re.is_match(name))
    }

    /// The cache entry for a namespace or node (`from` says which rules apply).
    pub fn meta(&self, from: From, m: &ObjectMeta) -> MetaInfo {
        let mut out = Vec::new();
        self.rules.extract_meta(from, m.labels.as_ref(), m.annotations.as_ref(), &mut out);
        MetaInfo { uid: m.uid.as_deref().unwrap_or_default().into(), attrs: self.intern(out) }
    }
}

/// `hello-28934521` → `hello`: a job a CronJob created is named after it plus the scheduled
/// time in minutes (contrib's heuristic when jobs are not watched).
fn cronjob_of(job: &str) -> Option<&str> {
    let (name, suffix) = job.rsplit_once('-')?;
    (suffix.len() >= 8 && suffix.bytes().all(|b| b.is_ascii_digit()) && !name.is_empty()).then_some(name)
}

/// The containers with the attributes the rules need (images from the spec, ids and digests
/// from the status of the current run).
fn containers(r: &Rules, pod: &Pod) -> Box<[ContainerInfo]> {
    let mut out: Vec<ContainerInfo> = Vec::new();
    let images = r.has("container.image.name") || r.has("container.image.tag");
    if let Some(spec) = &pod.spec {
        for c in spec.containers.iter().chain(spec.init_containers.iter().flatten()) {
            let mut info = ContainerInfo { name: c.name.as_str().into(), ..Default::default() };
            if images {
                if let Some((name, tag)) = c.image.as_deref().and_then(parse_image) {
                    if r.has("container.image.name") {
                        info.image_name = name.into();
                    }
                    if r.has("container.image.tag") {
                        info.image_tag = tag.into();
                    }
                }
            }
            out.push(info);
        }
    }
    if let Some(st) = &pod.status {
        for s in st.container_statuses.iter().flatten().chain(st.init_container_statuses.iter().flatten()) {
            let idx = match out.iter().position(|c| *c.name == *s.name) {
                Some(i) => i,
                None => {
                    out.push(ContainerInfo { name: s.name.as_str().into(), ..Default::default() });
                    out.len() - 1
                }
            };
            let c = &mut out[idx];
            let id = s.container_id.as_deref().unwrap_or_default();
            c.id = id.split_once("://").map_or(id, |(_, rest)| rest).into();
            if r.has("container.image.repo_digests") {
                let d = s.image_id.split_once("://").map_or(s.image_id.as_str(), |(_, rest)| rest);
                if d.contains('@') {
                    c.repo_digest = d.into();
                }
            }
        }
    }
    out.into_boxed_slice()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cronjob_names_come_from_the_job_name_suffix() {
        assert_eq!(cronjob_of("hello-28934521"), Some("hello"));
        assert_eq!(cronjob_of("my-backup-29000000"), Some("my-backup"));
        assert_eq!(cronjob_of("migrate-1"), None);
        assert_eq!(cronjob_of("nodash"), None);
    }
}
