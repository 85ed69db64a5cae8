//! The pod cache: what the watch learned, reduced to what extraction needs, indexed by
//! every pod identifier the associations can produce (contrib `WatchClient.Pods`).
//!
//! # Memory
//!
//! A pod is kept as a [`PodInfo`]: its identity (uid, name, namespace, node, IP), the
//! attributes already extracted from owners, labels and annotations (keys and common values
//! shared across pods as `Arc<str>`) and, when container attributes are asked for, one small
//! record per container. Its index keys are not kept per pod: they are recomputed from the
//! entry when it changes or goes. Whole pod objects are never
//! kept (a typical pod object is 5-15 KB of JSON; the entry is a few hundred bytes). The
//! cache counts its own bytes as entries come and go ([`PodCache::bytes`]): string lengths,
//! struct sizes and one hash-table slot per index key; the `cache_memory_for_10k_pods` test
//! checks that count against the allocator.

use std::collections::{HashMap, HashSet, VecDeque};
use std::mem::size_of;
use std::sync::{Arc, PoisonError, RwLock};
use std::time::{Duration, Instant};

/// One part of a pod identifier.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Source {
    /// The peer address of the request.
    Connection,
    /// A resource attribute.
    Attr(Box<str>),
}

/// One `pod_association` rule.
pub type Association = Vec<Source>;

/// The Collector's associations when none are configured.
pub fn default_associations() -> Vec<Association> {
    vec![vec![Source::Attr("k8s.pod.ip".into())], vec![Source::Attr("k8s.pod.uid".into())], vec![Source::Connection]]
}

/// Appends one identifier part to `key` (the encoding both sides use).
pub fn push_part(key: &mut String, source: &Source, value: &str) {
    match source {
        Source::Connection => key.push('\u{1}'),
        Source::Attr(name) => key.push_str(name),
    }
    key.push('\u{1f}');
    key.push_str(value);
    key.push('\u{1e}');
}

/// A container of a pod, as far as attributes need it. Names and images are shared
/// between pods (interned), so a replica costs pointers, not copies.
#[derive(Debug, Default)]
pub struct ContainerInfo {
    /// `k8s.container.name`.
    pub name: Arc<str>,
    /// `container.image.name`.
    pub image_name: Arc<str>,
    /// `container.image.tag`.
    pub image_tag: Arc<str>,
    /// `container.id` of the current run (runtime prefix removed); kept only when
    /// `container.id` is extracted or associated on.
    pub id: Box<str>,
    /// What only some configurations need, boxed so a container costs one pointer for it
    /// (none at all with the default metadata).
    pub extra: Option<Box<ContainerExtra>>,
}

/// The rarely needed part of a container.
#[derive(Debug, Default)]
pub struct ContainerExtra {
    /// `container.image.repo_digests` (one entry).
    pub repo_digest: Box<str>,
    /// `service.version` from the image: `<tag>@<digest>`, `<digest>` or `<tag>`.
    pub service_version: Arc<str>,
    /// The container has a status (it was created): only such containers get a
    /// `service.instance.id` (upstream computes it from the statuses).
    pub has_status: bool,
}

impl ContainerInfo {
    fn heap(&self) -> usize {
        let extra = self.extra.as_ref().map_or(0, |e| size_of::<ContainerExtra>() + e.repo_digest.len());
        size_of::<Self>() + self.id.len() + extra
    }

    /// `container.image.repo_digests` ("" when unknown).
    pub fn repo_digest(&self) -> &str {
        self.extra.as_ref().map_or("", |e| &e.repo_digest)
    }

    /// `service.version` from the image ("" when not extracted or not derivable).
    pub fn service_version(&self) -> &str {
        self.extra.as_ref().map_or("", |e| &e.service_version)
    }

    /// Whether the container has a status.
    pub fn has_status(&self) -> bool {
        self.extra.as_ref().is_some_and(|e| e.has_status)
    }

    /// The extra part, created on first use.
    pub fn extra_mut(&mut self) -> &mut ContainerExtra {
        self.extra.get_or_insert_with(Box::default)
    }
}

/// [`PodInfo::service`] bit: `service.name` is extracted (the pod name is its last fallback).
pub const SERVICE_NAME: u8 = 1;
/// [`PodInfo::service`] bit: `service.name` comes from the owning replicaset: its
/// deployment's name when known (at request time), else the replicaset's name.
pub const SERVICE_NAME_FROM_REPLICASET: u8 = 2;
/// [`PodInfo::service`] bit: `service.namespace` is extracted (the namespace is its fallback).
pub const SERVICE_NAMESPACE: u8 = 4;

/// A pod as the cache keeps it. Values that many pods share (namespace, node, owner,
/// images) are interned `Arc<str>`s; attributes that are a field here (name, namespace,
/// node, uid, start time) are made at request time rather than stored twice.
#[derive(Debug)]
pub struct PodInfo {
    /// `metadata.uid` (also the key of the by-uid table, shared).
    pub uid: Arc<str>,
    /// `metadata.name`.
    pub name: Box<str>,
    /// `metadata.namespace`.
    pub namespace: Arc<str>,
    /// `spec.nodeName`.
    pub node: Arc<str>,
    /// `status.podIP` ("" before it has one).
    pub ip: Box<str>,
    /// `spec.hostname` (only when `k8s.pod.hostname` is extracted).
    pub hostname: Box<str>,
    /// `spec.hostNetwork`: its IP is the node's, so it is never matched by IP.
    pub host_network: bool,
    /// Excluded (config or the ignore annotation): known, but data is left alone.
    pub ignore: bool,
    /// Which service attributes fall back to fields of this entry ([`SERVICE_NAME`] and
    /// the like); in the padding after the two flags above, so it costs nothing.
    pub service: u8,
    /// `status.startTime` in seconds; a newer pod wins an identifier over an older one.
    pub start_time: i64,
    /// `metadata.creationTimestamp` in seconds (`k8s.pod.start_time`); `i64::MIN` = unknown.
    pub created: i64,
    /// Owning replicaset's uid, for the deployment lookup at request time.
    pub replicaset_uid: Arc<str>,
    /// Deployment name guessed from the replicaset name and `pod-template-hash`.
    pub deployment_hint: Arc<str>,
    /// Attributes extracted from the pod's owners, labels and annotations.
    pub attrs: Box<[(Arc<str>, Box<str>)]>,
    /// Containers (empty unless container attributes are extracted).
    pub containers: Box<[ContainerInfo]>,
}

impl Default for PodInfo {
    fn default() -> Self {
        PodInfo {
            uid: "".into(),
            name: "".into(),
            namespace: "".into(),
            node: "".into(),
            ip: "".into(),
            hostname: "".into(),
            host_network: false,
            ignore: false,
            service: 0,
            start_time: i64::MIN,
            created: i64::MIN,
            replicaset_uid: "".into(),
            deployment_hint: "".into(),
            attrs: Box::new([]),
            containers: Box::new([]),
        }
    }
}

impl PodInfo {
    /// Bytes this entry holds alone (the `Arc` header included; interned strings not).
    pub fn heap(&self) -> usize {
        let strs = self.uid.len() + self.name.len() + self.ip.len() + self.hostname.len();
        let attrs: usize = self.attrs.iter().map(|(_, v)| size_of::<(Arc<str>, Box<str>)>() + v.len()).sum();
        let containers: usize = self.containers.iter().map(ContainerInfo::heap).sum();
        size_of::<Self>() + 4 * size_of::<usize>() + strs + attrs + containers
    }

    /// An attribute extracted at conversion (owners, labels, annotations).
    pub fn attr(&self, key: &str) -> Option<&str> {
        self.attrs.iter().find(|(k, _)| &**k == key).map(|(_, v)| &**v)
    }

    /// `service.name` as upstream computes it, `deployment` being the owning replicaset's
    /// deployment from the replicaset watch ("" when unknown): the value from labels,
    /// annotations or a non-replicaset owner; else, for a replicaset's pod, the deployment
    /// (watched, else guessed from the replicaset name) or the replicaset name; else the
    /// pod name. "" when `service.name` is not extracted.
    pub fn service_name<'a>(&'a self, deployment: &'a str) -> &'a str {
        if self.service & SERVICE_NAME == 0 {
            return "";
        }
        // For a replicaset's pod the replicaset name is stored only when there is no guess.
        let stored = self.attr("service.name");
        if self.service & SERVICE_NAME_FROM_REPLICASET == 0 {
            return stored.unwrap_or(&self.name);
        }
        if !deployment.is_empty() {
            return deployment;
        }
        if !self.deployment_hint.is_empty() {
            return &self.deployment_hint;
        }
        stored.unwrap_or(&self.name)
    }

    /// Every identifier this pod is found by, for `associations` (contrib
    /// `getIdentifiersFromAssoc`), plus uid, connection IP and `k8s.pod.ip`, always.
    pub fn identifiers(&self, associations: &[Association]) -> Vec<String> {
        let mut ids = Vec::new();
        let by_ip = !self.ip.is_empty() && !self.host_network;
        'assoc: for a in associations {
            let mut key = String::new();
            let mut container_slot = None;
            for s in a {
                let value: &str = match s {
                    Source::Connection if by_ip => &self.ip,
                    Source::Connection => continue 'assoc,
                    Source::Attr(n) => match &**n {
                        "k8s.namespace.name" => &self.namespace,
                        "k8s.pod.name" => &self.name,
                        "k8s.pod.uid" => &self.uid,
                        "k8s.node.name" => &self.node,
                        "host.name" | "k8s.pod.ip" => &self.ip,
                        "container.id" => {
                            container_slot = Some(key.len());
                            ""
                        }
                        "service.name" => self.service_name(""),
                        "service.namespace" if self.service & SERVICE_NAMESPACE != 0 => {
                            self.attr("service.namespace").unwrap_or(&self.namespace)
                        }
                        other => self.attr(other).unwrap_or_default(),
                    },
                };
                if value.is_empty() && !matches!(s, Source::Attr(n) if &**n == "container.id") {
                    continue 'assoc;
                }
                push_part(&mut key, s, value);
            }
            match container_slot {
                // One identifier per container id, the id spliced in where the part was.
                Some(at) => {
                    let source = Source::Attr("container.id".into());
                    let mut empty = String::new();
                    push_part(&mut empty, &source, "");
                    for c in self.containers.iter().filter(|c| !c.id.is_empty()) {
                        let mut part = String::new();
                        push_part(&mut part, &source, &c.id);
                        let mut k = key.clone();
                        k.replace_range(at..at + empty.len(), &part);
                        ids.push(k);
                    }
                }
                None => ids.push(key),
            }
        }
        let mut push = |s: Source, v: &str| {
            let mut k = String::new();
            push_part(&mut k, &s, v);
            if !ids.contains(&k) {
                ids.push(k);
            }
        };
        if !self.uid.is_empty() {
            push(Source::Attr("k8s.pod.uid".into()), &self.uid);
        }
        if by_ip {
            push(Source::Connection, &self.ip);
            push(Source::Attr("k8s.pod.ip".into()), &self.ip);
        }
        ids
    }
}

/// A namespace or node: its uid and the attributes its rules extract.
#[derive(Debug, Default)]
pub struct MetaInfo {
    /// `metadata.uid`.
    pub uid: Box<str>,
    /// Label/annotation attributes.
    pub attrs: Box<[(Arc<str>, Box<str>)]>,
}

impl MetaInfo {
    fn heap(&self) -> usize {
        size_of::<Self>() + self.uid.len() + self.attrs.iter().map(|(_, v)| 32 + v.len()).sum::<usize>()
    }
}

/// A replicaset's owning deployment.
#[derive(Debug, Default)]
pub struct ReplicaSetInfo {
    /// Deployment name ("" when not owned by one).
    pub deployment: Box<str>,
    /// Deployment uid.
    pub deployment_uid: Box<str>,
}

/// Per index slot: the key's bytes plus the table's slot (key box, value pointer, control byte).
const SLOT: usize = size_of::<(Box<str>, Arc<PodInfo>)>() + 1;

#[derive(Default)]
struct State {
    index: HashMap<Box<str>, Arc<PodInfo>>,
    by_uid: HashMap<Arc<str>, Arc<PodInfo>>,
    namespaces: HashMap<Box<str>, MetaInfo>,
    nodes: HashMap<Box<str>, MetaInfo>,
    replicasets: HashMap<Box<str>, ReplicaSetInfo>,
    deleted: VecDeque<(Instant, Box<str>)>,
    /// When each pod in `deleted` was deleted; an upsert in between (a pod back in a
    /// label-filtered watch) cancels its deletion.
    pending: HashMap<Box<str>, Instant>,
    bytes: usize,
}

/// What a request sees of one pod: the pod and the namespace, node and replicaset data
/// it refers to, all read under one lock.
pub struct Found<'a> {
    /// The pod.
    pub pod: &'a PodInfo,
    /// Its namespace, when namespaces are watched.
    pub namespace: Option<&'a MetaInfo>,
    /// Its node, when nodes are watched.
    pub node: Option<&'a MetaInfo>,
    /// Its replicaset, when replicasets are watched.
    pub replicaset: Option<&'a ReplicaSetInfo>,
    /// `kube-system`'s uid (`k8s.cluster.uid`), when namespaces are watched.
    pub cluster_uid: Option<&'a str>,
}

/// The cache shared by the watch tasks (writers) and the processor (readers).
pub struct PodCache {
    state: RwLock<State>,
    associations: Vec<Association>,
    /// How long a deleted pod still matches (upstream: 120 s), for data sent just before it went.
    grace: Duration,
}

impl PodCache {
    /// An empty cache.
    pub fn new(associations: Vec<Association>, grace: Duration) -> Self {
        PodCache { state: RwLock::new(State::default()), associations, grace }
    }

    fn write(&self) -> std::sync::RwLockWriteGuard<'_, State> {
        self.state.write().unwrap_or_else(PoisonError::into_inner)
    }

    fn read(&self) -> std::sync::RwLockReadGuard<'_, State> {
        self.state.read().unwrap_or_else(PoisonError::into_inner)
    }

    /// Adds or replaces a pod (ADDED / MODIFIED). Identifiers the old version had and the new
    /// one has not (a changed IP) are dropped; an identifier held by a pod that started later
    /// is left to it (an IP reused before the old pod's last update arrived).
    pub fn upsert(&self, pod: PodInfo) {
        let ids = pod.identifiers(&self.associations);
        let pod = Arc::new(pod);
        let mut st = self.write();
        let st = &mut *st;
        st.pending.remove(&*pod.uid);
        if let Some(old) = st.by_uid.remove(&*pod.uid) {
            st.bytes = st.bytes.saturating_sub(old.heap() + UID_SLOT);
            for k in old.identifiers(&self.associations) {
                if !ids.contains(&k) {
                    remove_key(st, &k, &old.uid);
                }
            }
        }
        for k in ids {
            match st.index.get_mut(k.as_str()) {
                Some(cur) if cur.uid != pod.uid && cur.start_time > pod.start_time => {}
                Some(cur) => *cur = pod.clone(),
                None => {
                    st.bytes += k.len() + SLOT;
                    st.index.insert(k.into_boxed_str(), pod.clone());
                }
            }
        }
        st.bytes += pod.heap() + UID_SLOT;
        st.by_uid.insert(pod.uid.clone(), pod);
    }

    /// A pod was deleted (DELETED, or gone from a relist): it stops matching after the grace period.
    pub fn delete(&self, uid: &str, now: Instant) {
        if self.grace.is_zero() {
            forget(&mut self.write(), uid, &self.associations);
        } else {
            let mut st = self.write();
            st.pending.insert(uid.into(), now);
            st.deleted.push_back((now, uid.into()));
        }
    }

    /// Forgets pods deleted more than the grace period before `now`.
    pub fn sweep(&self, now: Instant) {
        let mut st = self.write();
        while let Some((at, _)) = st.deleted.front() {
            if now.duration_since(*at) < self.grace {
                break;
            }
            if let Some((at, uid)) = st.deleted.pop_front() {
                if st.pending.get(&uid) == Some(&at) {
                    st.pending.remove(&uid);
                    forget(&mut st, &uid, &self.associations);
                }
            }
        }
    }

    /// After a (re)list of `namespace` (`None` = all): pods not in `seen` were deleted while
    /// the watch was down.
    pub fn prune(&self, namespace: Option<&str>, seen: &HashSet<Box<str>>, now: Instant) {
        let gone: Vec<Box<str>> = self
            .read()
            .by_uid
            .iter()
            .filter(|(uid, p)| namespace.is_none_or(|n| *p.namespace == *n) && !seen.contains(&***uid))
            .map(|(uid, _)| Box::from(&**uid))
            .collect();
        for uid in gone {
            self.delete(&uid, now);
        }
    }

    /// Adds or replaces a namespace (by name).
    pub fn upsert_namespace(&self, name: &str, info: MetaInfo) {
        put_meta(&mut self.write(), |s| &mut s.namespaces, name, Some(info));
    }

    /// Removes a namespace.
    pub fn delete_namespace(&self, name: &str) {
        put_meta(&mut self.write(), |s| &mut s.namespaces, name, None);
    }

    /// Adds or replaces a node (by name).
    pub fn upsert_node(&self, name: &str, info: MetaInfo) {
        put_meta(&mut self.write(), |s| &mut s.nodes, name, Some(info));
    }

    /// Removes a node.
    pub fn delete_node(&self, name: &str) {
        put_meta(&mut self.write(), |s| &mut s.nodes, name, None);
    }

    /// Adds, replaces (`Some`) or removes (`None`) a replicaset by uid.
    pub fn set_replicaset(&self, uid: &str, info: Option<ReplicaSetInfo>) {
        let mut st = self.write();
        let size = |r: &ReplicaSetInfo| size_of::<ReplicaSetInfo>() + 16 + r.deployment.len() + r.deployment_uid.len();
        if let Some(old) = st.replicasets.remove(uid) {
            st.bytes = st.bytes.saturating_sub(size(&old) + uid.len());
        }
        if let Some(info) = info {
            st.bytes += size(&info) + uid.len();
            st.replicasets.insert(uid.into(), info);
        }
    }

    /// Calls `f` with the pod found by identifier `key` (not for ignored pods).
    pub fn with_pod<R>(&self, key: &str, f: impl FnOnce(Found<'_>) -> R) -> Option<R> {
        let st = self.read();
        let pod = st.index.get(key)?;
        if pod.ignore {
            return None;
        }
        Some(f(Found {
            pod,
            namespace: st.namespaces.get(&*pod.namespace),
            node: st.nodes.get(&*pod.node),
            replicaset: st.replicasets.get(&*pod.replicaset_uid),
            cluster_uid: st.namespaces.get("kube-system").map(|n| &*n.uid),
        }))
    }

    /// Calls `f` with the namespace and node of these names (for data whose pod is unknown).
    pub fn with_meta<R>(
        &self,
        namespace: Option<&str>,
        node: Option<&str>,
        f: impl FnOnce(Option<&MetaInfo>, Option<&MetaInfo>) -> R,
    ) -> R {
        let st = self.read();
        f(namespace.and_then(|n| st.namespaces.get(n)), node.and_then(|n| st.nodes.get(n)))
    }

    /// Pods known (deleted ones within their grace period included).
    pub fn len(&self) -> usize {
        self.read().by_uid.len()
    }

    /// Whether no pod is known.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Approximate bytes held (see the module docs).
    pub fn bytes(&self) -> usize {
        self.read().bytes
    }
}

/// A by-uid slot: key and value pointers and a control byte.
const UID_SLOT: usize = size_of::<(Arc<str>, Arc<PodInfo>)>() + 1;

/// Removes index `key` if it still points at pod `uid`.
fn remove_key(st: &mut State, key: &str, uid: &str) {
    if st.index.get(key).is_some_and(|p| *p.uid == *uid) {
        st.index.remove(key);
        st.bytes = st.bytes.saturating_sub(key.len() + SLOT);
    }
}

fn forget(st: &mut State, uid: &str, associations: &[Association]) {
    if let Some(pod) = st.by_uid.remove(uid) {
        st.bytes = st.bytes.saturating_sub(pod.heap() + UID_SLOT);
        for k in pod.identifiers(associations) {
            remove_key(st, &k, uid);
        }
    }
}

fn put_meta(
    st: &mut State,
    map: impl Fn(&mut State) -> &mut HashMap<Box<str>, MetaInfo>,
    name: &str,
    info: Option<MetaInfo>,
) {
    let mut delta_out = 0;
    if let Some(old) = map(st).remove(name) {
        delta_out = old.heap() + name.len();
    }
    let mut delta_in = 0;
    if let Some(info) = info {
        delta_in = info.heap() + name.len();
        map(st).insert(name.into(), info);
    }
    st.bytes = (st.bytes + delta_in).saturating_sub(delta_out);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pod(uid: &str, ip: &str, start: i64) -> PodInfo {
        PodInfo { uid: uid.into(), name: uid.into(), ip: ip.into(), start_time: start, ..Default::default() }
    }

    fn name_at(c: &PodCache, ip: &str) -> Option<String> {
        let mut k = String::new();
        push_part(&mut k, &Source::Connection, ip);
        c.with_pod(&k, |f| f.pod.name.to_string())
    }

    #[test]
    fn a_deleted_pod_matches_until_its_grace_period_ends_unless_it_comes_back() {
        let c = PodCache::new(default_associations(), Duration::from_secs(120));
        let t0 = Instant::now();
        c.upsert(pod("a", "10.0.0.1", 1));
        c.upsert(pod("b", "10.0.0.2", 1));
        c.delete("a", t0);
        c.delete("b", t0);
        c.upsert(pod("b", "10.0.0.2", 1)); // back (e.g. matches the label filter again)
        c.sweep(t0 + Duration::from_secs(119));
        assert_eq!(name_at(&c, "10.0.0.1").as_deref(), Some("a"), "still within the grace period");
        c.sweep(t0 + Duration::from_secs(120));
        assert_eq!(name_at(&c, "10.0.0.1"), None);
        assert_eq!(name_at(&c, "10.0.0.2").as_deref(), Some("b"));
        assert_eq!(c.len(), 1);
    }

    #[test]
    fn a_reused_ip_belongs_to_the_newer_pod_and_the_count_returns_to_zero() {
        let c = PodCache::new(default_associations(), Duration::ZERO);
        c.upsert(pod("new", "10.0.0.1", 200));
        c.upsert(pod("old", "10.0.0.1", 100)); // a late update of the pod that had the IP before
        assert_eq!(name_at(&c, "10.0.0.1").as_deref(), Some("new"));
        c.delete("old", Instant::now());
        assert_eq!(name_at(&c, "10.0.0.1").as_deref(), Some("new"), "deleting the old pod keeps the new one's key");
        c.delete("new", Instant::now());
        assert!(c.is_empty());
        assert_eq!(c.bytes(), 0, "every byte counted in is counted out");
    }
}
