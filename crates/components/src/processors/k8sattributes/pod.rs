//! From API objects to cache entries: a pod becomes a [`PodInfo`] holding only what the
//! rules extract (contrib `podFromAPI`, `extractPodAttributes`,
//! `extractPodContainersAttributes`), and a namespace or node a [`MetaInfo`].

use std::collections::HashSet;
use std::sync::{Arc, Mutex, PoisonError};

use k8s_openapi::api::core::v1::Pod;
use kube::api::ObjectMeta;
use regex::Regex;

use super::cache::{ContainerInfo, MetaInfo, PodInfo, SERVICE_NAME, SERVICE_NAMESPACE, SERVICE_NAME_FROM_REPLICASET};
use super::rules::{parse_image, service_version, From, Rules};

/// The pod annotation that opts a pod out (`"true"`).
pub const IGNORE_ANNOTATION: &str = "opentelemetry.io/k8s-processor/ignore";

/// Shared strings: one allocation per distinct value (namespace, node, image, owner,
/// attribute key) however many pods carry it. Entries no pod uses any more are dropped when
/// the table has doubled since the last cleanup, so churn (new replicasets per rollout)
/// does not grow it without bound.
#[derive(Default)]
struct Interner {
    set: HashSet<Arc<str>>,
    next_cleanup: usize,
}

impl Interner {
    fn get(&mut self, s: &str) -> Arc<str> {
        if let Some(a) = self.set.get(s) {
            return a.clone();
        }
        if self.set.len() >= self.next_cleanup {
            self.set.retain(|a| Arc::strong_count(a) > 1);
            self.next_cleanup = (self.set.len() * 2).max(1024);
        }
        let a: Arc<str> = s.into();
        self.set.insert(a.clone());
        a
    }
}

/// Builds cache entries; shared by the watch tasks.
pub struct Converter {
    rules: Arc<Rules>,
    exclude: Vec<Regex>,
    keep_container_ids: bool,
    strings: Mutex<Interner>,
}

impl Converter {
    /// A converter for these rules and excluded pod-name patterns; `keep_container_ids`
    /// when `container.id` is extracted or an association uses it.
    pub fn new(rules: Arc<Rules>, exclude: Vec<Regex>, keep_container_ids: bool) -> Self {
        Converter { rules, exclude, keep_container_ids, strings: Mutex::new(Interner::default()) }
    }

    fn intern(&self, out: Vec<(Arc<str>, Box<str>)>) -> Box<[(Arc<str>, Box<str>)]> {
        let mut strings = self.strings.lock().unwrap_or_else(PoisonError::into_inner);
        out.into_iter().map(|(k, v)| (strings.get(&k), v)).collect()
    }

    /// The cache entry for `pod`.
    pub fn pod(&self, pod: &Pod) -> PodInfo {
        let r = &self.rules;
        let m = &pod.metadata;
        let spec = pod.spec.as_ref();
        let status = pod.status.as_ref();
        let s = |o: Option<&String>| -> Box<str> { o.map_or("", |v| v.as_str()).into() };
        let mut strings = self.strings.lock().unwrap_or_else(PoisonError::into_inner);
        let mut info = PodInfo {
            uid: m.uid.as_deref().unwrap_or_default().into(),
            name: s(m.name.as_ref()),
            namespace: strings.get(m.namespace.as_deref().unwrap_or_default()),
            node: strings.get(spec.and_then(|sp| sp.node_name.as_deref()).unwrap_or_default()),
            ip: s(status.and_then(|st| st.pod_ip.as_ref())),
            host_network: spec.and_then(|sp| sp.host_network).unwrap_or(false),
            start_time: status.and_then(|st| st.start_time.as_ref()).map_or(i64::MIN, |t| t.0.as_second()),
            ..Default::default()
        };
        info.ignore = self.ignored(m);
        if info.ignore {
            return info;
        }
        if r.has("k8s.pod.hostname") {
            info.hostname = s(spec.and_then(|sp| sp.hostname.as_ref()));
        }
        if r.has("k8s.pod.start_time") {
            info.created = m.creation_timestamp.as_ref().map_or(i64::MIN, |t| t.0.as_second());
        }
        let mut out: Vec<(Arc<str>, Box<str>)> = Vec::new();
        let mut add = |k: &str, v: &str| out.push((k.into(), v.into()));
        // `service.name` from the owners (the last one wins, as upstream): the replicaset's
        // (its deployment's at request time), daemonset's, statefulset's, or the job's
        // cronjob's, else the job's.
        let mut owner_service: Option<(&str, bool)> = None;
        for o in m.owner_references.iter().flatten() {
            match o.kind.as_str() {
                "ReplicaSet" => {
                    owner_service = Some((&o.name, true));
                    info.replicaset_uid = strings.get(&o.uid);
                    if r.has("k8s.replicaset.uid") {
                        add("k8s.replicaset.uid", &o.uid);
                    }
                    if r.has("k8s.replicaset.name") {
                        add("k8s.replicaset.name", &o.name);
                    }
                    let hash = m.labels.as_ref().and_then(|l| l.get("pod-template-hash"));
                    if let Some(d) = hash.and_then(|h| o.name.strip_suffix(h.as_str())?.strip_suffix('-')) {
                        info.deployment_hint = strings.get(d);
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
                    let cronjob = if kind == "job" { cronjob_of(&o.name) } else { None };
                    if let (Some(c), true) = (cronjob, r.has("k8s.cronjob.name")) {
                        add("k8s.cronjob.name", c);
                    }
                    owner_service = Some((cronjob.unwrap_or(&o.name), false));
                }
                _ => {}
            }
        }
        r.extract_pod(m.labels.as_ref(), m.annotations.as_ref(), &mut out);
        if r.has("service.name") {
            info.service |= SERVICE_NAME;
            // Labels and annotations beat the owners; the pod name is the last fallback
            // (made at request time, not stored).
            if !out.iter().any(|(k, _)| &**k == "service.name") {
                match owner_service {
                    Some((rs, true)) => {
                        info.service |= SERVICE_NAME_FROM_REPLICASET;
                        // The deployment (watched or guessed) wins; the replicaset name is
                        // needed only when there is no guess.
                        if info.deployment_hint.is_empty() {
                            out.push(("service.name".into(), rs.into()));
                        }
                    }
                    Some((name, false)) => out.push(("service.name".into(), name.into())),
                    None => {}
                }
            }
        }
        if r.has("service.namespace") {
            info.service |= SERVICE_NAMESPACE;
        }
        info.attrs = out.into_iter().map(|(k, v)| (strings.get(&k), v)).collect();
        if r.needs_containers() {
            info.containers = containers(r, pod, self.keep_container_ids, &mut strings);
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
fn containers(r: &Rules, pod: &Pod, keep_ids: bool, strings: &mut Interner) -> Box<[ContainerInfo]> {
    let mut out: Vec<ContainerInfo> = Vec::new();
    let images = r.has("container.image.name") || r.has("container.image.tag") || r.has("service.version");
    if let Some(spec) = &pod.spec {
        for c in spec.containers.iter().chain(spec.init_containers.iter().flatten()) {
            let mut info = ContainerInfo { name: strings.get(&c.name), ..Default::default() };
            if images {
                let image = c.image.as_deref().unwrap_or_default();
                if let Some((name, tag)) = parse_image(image) {
                    if r.has("container.image.name") {
                        info.image_name = strings.get(&name);
                    }
                    if r.has("container.image.tag") {
                        info.image_tag = strings.get(&tag);
                    }
                    if r.has("service.version") {
                        if let Some(v) = service_version(image) {
                            info.extra_mut().service_version = strings.get(&v);
                        }
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
                    out.push(ContainerInfo { name: strings.get(&s.name), ..Default::default() });
                    out.len() - 1
                }
            };
            let c = &mut out[idx];
            if keep_ids {
                let id = s.container_id.as_deref().unwrap_or_default();
                c.id = id.split_once("://").map_or(id, |(_, rest)| rest).into();
            }
            if r.has("container.image.repo_digests") {
                let d = s.image_id.split_once("://").map_or(s.image_id.as_str(), |(_, rest)| rest);
                if d.contains('@') {
                    c.extra_mut().repo_digest = d.into();
                }
            }
            if r.has("service.instance.id") {
                c.extra_mut().has_status = true;
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
