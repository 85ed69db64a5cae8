//! The background watches feeding the cache: pods (filtered on the server by namespace,
//! field and label selectors, as upstream's informer), and replicasets, namespaces and nodes
//! only when a rule needs them (metadata only: `PartialObjectMetadata`, no specs).
//!
//! Each watch is a `kube::runtime::watcher` stream (list, then watch from the list's
//! resourceVersion; relist on `410 Gone`; backoff on errors). A request never waits on it:
//! the processor reads whatever the cache holds.

use std::collections::HashSet;
use std::fmt::Debug;
use std::sync::Arc;
use std::time::{Duration, Instant};

use futures::{Stream, StreamExt};
use k8s_openapi::api::apps::v1::ReplicaSet;
use k8s_openapi::api::core::v1::{Namespace, Node, Pod};
use kube::api::{Api, PartialObjectMeta};
use kube::runtime::watcher::{self, watcher, Event};
use kube::runtime::WatchStreamExt;
use kube::Client;
use switchyard_core::telemetry::Gauge;
use tokio::sync::watch;
use tokio_util::sync::CancellationToken;

use super::cache::{PodCache, ReplicaSetInfo};
use super::config::{FieldFilterConfig, FilterConfig};
use super::pod::Converter;
use super::rules::{From, Rules};

/// What to watch, decided from the config once.
#[derive(Clone, Debug, Default)]
pub struct WatchPlan {
    /// Namespaces to watch pods in; empty = cluster-wide.
    pub namespaces: Vec<String>,
    /// `fieldSelector` for pods ("" = none).
    pub fields: String,
    /// `labelSelector` for pods ("" = none).
    pub labels: String,
    /// Watch replicasets (deployment name and uid).
    pub replicasets: bool,
    /// Watch namespaces (namespace rules, cluster uid).
    pub namespace_meta: bool,
    /// Watch nodes (node rules, node uid).
    pub nodes: bool,
}

impl WatchPlan {
    /// The plan for `filter` and `rules`; `node` is `filter.node` or the variable's value.
    pub fn new(filter: &FilterConfig, node: &str, rules: &Rules) -> Self {
        let mut fields: Vec<String> = filter.fields.iter().map(|f| selector(f, false)).collect();
        if !node.is_empty() {
            fields.push(format!("spec.nodeName={node}"));
        }
        let labels: Vec<String> = filter.labels.iter().map(|f| selector(f, true)).collect();
        WatchPlan {
            namespaces: filter.namespace.names(),
            fields: fields.join(","),
            labels: labels.join(","),
            replicasets: rules.replicaset_watch,
            namespace_meta: rules.watches_namespaces(),
            nodes: rules.watches_nodes(),
        }
    }

    /// Watches that must finish their first list before `wait_for_metadata` is satisfied.
    pub fn watch_count(&self) -> usize {
        let pods = self.namespaces.len().max(1);
        let rs = if self.replicasets { pods } else { 0 };
        pods + rs + usize::from(self.namespace_meta) + usize::from(self.nodes)
    }
}

/// One selector term (Kubernetes selector syntax).
fn selector(f: &FieldFilterConfig, label: bool) -> String {
    match f.op.as_str() {
        "not-equals" => format!("{}!={}", f.key, f.value),
        "exists" if label => f.key.clone(),
        "does-not-exist" if label => format!("!{}", f.key),
        _ => format!("{}={}", f.key, f.value),
    }
}

/// What the tasks share.
#[derive(Clone)]
pub struct Shared {
    /// The cache written.
    pub cache: Arc<PodCache>,
    /// Entry builder.
    pub conv: Arc<Converter>,
    /// Count of watches whose first list is in the cache.
    pub synced: watch::Sender<usize>,
    /// `switchyard_processor_k8sattributes_pods`.
    pub pods_gauge: Gauge,
    /// `switchyard_processor_k8sattributes_cache_bytes`.
    pub bytes_gauge: Gauge,
    /// Stops every task.
    pub stop: CancellationToken,
}

impl Shared {
    fn publish(&self) {
        self.pods_gauge.set(self.cache.len() as i64);
        self.bytes_gauge.set(self.cache.bytes() as i64);
    }

    fn mark_synced(&self) {
        self.synced.send_modify(|n| *n += 1);
    }
}

/// Spawns every watch of `plan`.
pub fn spawn(client: Client, plan: &WatchPlan, sh: &Shared) -> Vec<tokio::task::JoinHandle<()>> {
    let mut tasks = Vec::new();
    let cfg = {
        let mut c = watcher::Config::default();
        if !plan.fields.is_empty() {
            c = c.fields(&plan.fields);
        }
        if !plan.labels.is_empty() {
            c = c.labels(&plan.labels);
        }
        c
    };
    let scopes: Vec<Option<String>> =
        if plan.namespaces.is_empty() { vec![None] } else { plan.namespaces.iter().cloned().map(Some).collect() };
    for ns in scopes {
        let api: Api<Pod> = match &ns {
            Some(n) => Api::namespaced(client.clone(), n),
            None => Api::all(client.clone()),
        };
        tasks.push(tokio::spawn(pods(watcher(api, cfg.clone()), ns.clone(), sh.clone())));
        if plan.replicasets {
            let api: Api<PartialObjectMeta<ReplicaSet>> = match &ns {
                Some(n) => Api::namespaced(client.clone(), n),
                None => Api::all(client.clone()),
            };
            let stream = watcher(api, watcher::Config::default());
            tasks.push(tokio::spawn(meta_loop(stream, sh.clone(), Kind::ReplicaSet)));
        }
    }
    if plan.namespace_meta {
        let stream = watcher(Api::<PartialObjectMeta<Namespace>>::all(client.clone()), watcher::Config::default());
        tasks.push(tokio::spawn(meta_loop(stream, sh.clone(), Kind::Namespace)));
    }
    if plan.nodes {
        let mut c = watcher::Config::default();
        // A node filter limits the node watch to that node too (upstream does the same).
        if let Some(node) = plan.fields.split(',').find_map(|f| f.strip_prefix("spec.nodeName=")) {
            c = c.fields(&format!("metadata.name={node}"));
        }
        let stream = watcher(Api::<PartialObjectMeta<Node>>::all(client), c);
        tasks.push(tokio::spawn(meta_loop(stream, sh.clone(), Kind::Node)));
    }
    tasks
}

/// How often deleted pods past their grace period are dropped when no event comes.
const SWEEP_EVERY: Duration = Duration::from_secs(5);

async fn pods<S>(stream: S, ns: Option<String>, sh: Shared)
where
    S: Stream<Item = Result<Event<Pod>, watcher::Error>> + Send,
{
    let stream = stream.default_backoff();
    futures::pin_mut!(stream);
    let mut seen: HashSet<Box<str>> = HashSet::new();
    let mut first_sync = true;
    let mut sweep = tokio::time::interval(SWEEP_EVERY);
    loop {
        let ev = tokio::select! {
            _ = sh.stop.cancelled() => return,
            _ = sweep.tick() => {
                sh.cache.sweep(Instant::now());
                sh.publish();
                continue;
            }
            ev = stream.next() => ev,
        };
        match ev {
            None => return,
            Some(Err(e)) => tracing::warn!(error = %e, "k8sattributes: pod watch failed; retrying"),
            Some(Ok(Event::Init)) => seen.clear(),
            Some(Ok(Event::InitApply(p))) => {
                seen.insert(p.metadata.uid.as_deref().unwrap_or_default().into());
                sh.cache.upsert(sh.conv.pod(&p));
            }
            Some(Ok(Event::InitDone)) => {
                sh.cache.prune(ns.as_deref(), &seen, Instant::now());
                seen = HashSet::new();
                // The gauges are current before anyone waiting on the first sync goes on.
                sh.publish();
                if std::mem::take(&mut first_sync) {
                    sh.mark_synced();
                }
            }
            Some(Ok(Event::Apply(p))) => sh.cache.upsert(sh.conv.pod(&p)),
            Some(Ok(Event::Delete(p))) => {
                sh.cache.delete(p.metadata.uid.as_deref().unwrap_or_default(), Instant::now())
            }
        }
        sh.cache.sweep(Instant::now());
        sh.publish();
    }
}

#[derive(Clone, Copy, Debug)]
enum Kind {
    ReplicaSet,
    Namespace,
    Node,
}

async fn meta_loop<K, S>(stream: S, sh: Shared, kind: Kind)
where
    K: Debug + Send,
    S: Stream<Item = Result<Event<PartialObjectMeta<K>>, watcher::Error>> + Send,
{
    let stream = stream.default_backoff();
    futures::pin_mut!(stream);
    let mut first_sync = true;
    loop {
        let ev = tokio::select! {
            _ = sh.stop.cancelled() => return,
            ev = stream.next() => ev,
        };
        match ev {
            None => return,
            Some(Err(e)) => tracing::warn!(error = %e, kind = ?kind, "k8sattributes: watch failed; retrying"),
            Some(Ok(Event::Init)) => {}
            Some(Ok(Event::InitDone)) => {
                if std::mem::take(&mut first_sync) {
                    sh.mark_synced();
                }
            }
            Some(Ok(Event::InitApply(o) | Event::Apply(o))) => apply(&sh, kind, &o.metadata, true),
            Some(Ok(Event::Delete(o))) => apply(&sh, kind, &o.metadata, false),
        }
        sh.publish();
    }
}

fn apply(sh: &Shared, kind: Kind, m: &kube::api::ObjectMeta, present: bool) {
    let name = m.name.as_deref().unwrap_or_default();
    match (kind, present) {
        (Kind::ReplicaSet, _) => {
            let uid = m.uid.as_deref().unwrap_or_default();
            let info = present.then(|| {
                let owner =
                    m.owner_references.iter().flatten().find(|o| o.kind == "Deployment" && o.controller == Some(true));
                ReplicaSetInfo {
                    deployment: owner.map(|o| o.name.as_str()).unwrap_or_default().into(),
                    deployment_uid: owner.map(|o| o.uid.as_str()).unwrap_or_default().into(),
                }
            });
            sh.cache.set_replicaset(uid, info);
        }
        (Kind::Namespace, true) => sh.cache.upsert_namespace(name, sh.conv.meta(From::Namespace, m)),
        (Kind::Namespace, false) => sh.cache.delete_namespace(name),
        (Kind::Node, true) => sh.cache.upsert_node(name, sh.conv.meta(From::Node, m)),
        (Kind::Node, false) => sh.cache.delete_node(name),
    }
}
