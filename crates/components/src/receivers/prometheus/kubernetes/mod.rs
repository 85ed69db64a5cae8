//! `kubernetes_sd_configs`: Prometheus's Kubernetes service discovery. Each entry watches
//! the kinds its role needs (`pod`: pods; `service`: services; `endpoints`: endpoints,
//! services and pods; `endpointslice`: slices, services and pods; `node`: nodes) in the
//! configured namespaces, through the shared Kubernetes client ([`crate::k8s`], kube-rs
//! watchers: list, then watch, relist on `410 Gone`, backoff). The objects are kept here;
//! `targets.rs` turns them into target groups with the `__meta_kubernetes_*` labels whenever
//! the job asks, and every change wakes the job (`changed`), which reconciles its targets.

mod config;
mod targets;
#[cfg(test)]
mod tests;

pub use config::{KubernetesSdConfig, Role};

use std::fmt::Debug;
use std::sync::{Arc, Mutex, PoisonError};

use futures::StreamExt;
use k8s_openapi::api::core::v1::{Endpoints, Node, Pod, Service};
use k8s_openapi::api::discovery::v1::EndpointSlice;
use k8s_openapi::NamespaceResourceScope;
use kube::runtime::watcher::{self, watcher, Event};
use kube::runtime::WatchStreamExt;
use kube::{Api, Resource};
use serde::de::DeserializeOwned;
use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;

use super::discovery::TargetGroup;
use crate::k8s::{self, ApiConfig, AuthType};
use targets::Objects;

/// The watched objects of one `kubernetes_sd_configs` entry.
#[derive(Default)]
struct Store {
    pods: Objects<Pod>,
    services: Objects<Service>,
    endpoints: Objects<Endpoints>,
    slices: Objects<EndpointSlice>,
    nodes: Objects<Node>,
}

/// A kind kept in the [`Store`].
trait Kept: Resource<DynamicType = ()> + Clone + DeserializeOwned + Debug + Send + Sync + 'static {
    /// The `selectors[].role` that applies to this kind.
    const ROLE: &'static str;
    fn objects(s: &mut Store) -> &mut Objects<Self>;
}

macro_rules! kept {
    ($t:ty, $role:literal, $field:ident) => {
        impl Kept for $t {
            const ROLE: &'static str = $role;
            fn objects(s: &mut Store) -> &mut Objects<Self> {
                &mut s.$field
            }
        }
    };
}
kept!(Pod, "pod", pods);
kept!(Service, "service", services);
kept!(Endpoints, "endpoints", endpoints);
kept!(EndpointSlice, "endpointslice", slices);
kept!(Node, "node", nodes);

/// One running `kubernetes_sd_configs` entry.
pub struct KubernetesDiscovery {
    role: Role,
    store: Arc<Mutex<Store>>,
    tasks: Vec<tokio::task::JoinHandle<()>>,
}

/// Why discovery could not start (logged; the entry then contributes no targets).
#[derive(Debug, thiserror::Error)]
pub enum DiscoveryError {
    /// The role is not one that is built (validate refuses it first).
    #[error("unsupported role \"{0}\"")]
    Role(String),
    /// No client configuration.
    #[error("{0}")]
    Client(#[from] k8s::K8sClientError),
    /// `api_server` is not a URL.
    #[error("api_server {0:?} is not a valid URL")]
    Url(String),
    /// A credentials file could not be read.
    #[error("cannot read {0}: {1}")]
    File(String, std::io::Error),
    /// The credentials could not be put into the client's configuration.
    #[error("credentials: {0}")]
    Auth(serde_json::Error),
    /// The client could not be built from its configuration.
    #[error("client: {0}")]
    Kube(#[from] kube::Error),
}

impl KubernetesDiscovery {
    /// Connects and starts the watches; `changed` is notified after every change of the
    /// watched objects, `stop` ends the watches.
    pub async fn start(
        cfg: &KubernetesSdConfig,
        changed: Arc<Notify>,
        stop: CancellationToken,
    ) -> Result<KubernetesDiscovery, DiscoveryError> {
        let role = Role::parse(&cfg.role).ok_or_else(|| DiscoveryError::Role(cfg.role.clone()))?;
        let config = client_config(cfg).await?;
        let own = config.default_namespace.clone();
        let client = kube::Client::try_from(config)?;
        let namespaces: Vec<Option<String>> = {
            let mut names = cfg.namespaces.names.clone();
            if cfg.namespaces.own_namespace {
                names.push(own);
            }
            if names.is_empty() {
                vec![None]
            } else {
                names.into_iter().map(Some).collect()
            }
        };
        let store = Arc::new(Mutex::new(Store::default()));
        let w = Watches { client, cfg, namespaces: &namespaces, store: &store, changed: &changed, stop: &stop };
        let mut tasks = Vec::new();
        match role {
            Role::Pod => w.namespaced::<Pod>(&mut tasks),
            Role::Service => w.namespaced::<Service>(&mut tasks),
            Role::Endpoints => {
                w.namespaced::<Endpoints>(&mut tasks);
                w.namespaced::<Service>(&mut tasks);
                w.namespaced::<Pod>(&mut tasks);
            }
            Role::EndpointSlice => {
                w.namespaced::<EndpointSlice>(&mut tasks);
                w.namespaced::<Service>(&mut tasks);
                w.namespaced::<Pod>(&mut tasks);
            }
            Role::Node => {
                let api = Api::<Node>::all(w.client.clone());
                tasks.push(tokio::spawn(watch_loop(api, w.config::<Node>(), None, store.clone(), changed, stop)));
            }
        }
        Ok(KubernetesDiscovery { role, store, tasks })
    }

    /// The current target groups (one per target, its labels merged with its object's).
    pub fn groups(&self) -> Vec<TargetGroup> {
        let st = self.store.lock().unwrap_or_else(PoisonError::into_inner);
        let targets: Vec<_> = match self.role {
            Role::Pod => st.pods.values().flat_map(targets::pod_targets).collect(),
            Role::Service => st.services.values().flat_map(targets::service_targets).collect(),
            Role::Endpoints => {
                st.endpoints.values().flat_map(|e| targets::endpoints_targets(e, &st.services, &st.pods)).collect()
            }
            Role::EndpointSlice => {
                st.slices.values().flat_map(|e| targets::endpointslice_targets(e, &st.services, &st.pods)).collect()
            }
            Role::Node => st.nodes.values().flat_map(targets::node_targets).collect(),
        };
        targets.into_iter().map(group).collect()
    }

    /// Waits for the watches to end (after the `stop` given to [`Self::start`]).
    pub async fn stopped(self) {
        for t in self.tasks {
            let _ = t.await;
        }
    }
}

/// A one-target group: `__address__` becomes the target, the rest its labels.
fn group(mut labels: super::relabel::Labels) -> TargetGroup {
    let addr = labels.remove("__address__").unwrap_or_default();
    TargetGroup { targets: vec![addr], labels: labels.into_iter().collect(), source: None }
}

struct Watches<'a> {
    client: kube::Client,
    cfg: &'a KubernetesSdConfig,
    namespaces: &'a [Option<String>],
    store: &'a Arc<Mutex<Store>>,
    changed: &'a Arc<Notify>,
    stop: &'a CancellationToken,
}

impl Watches<'_> {
    /// The watcher config of `K`: the selectors given for its role.
    fn config<K: Kept>(&self) -> watcher::Config {
        let mut c = watcher::Config::default();
        if let Some(s) = self.cfg.selectors.iter().find(|s| s.role == K::ROLE) {
            if let Some(l) = s.label.as_deref().filter(|l| !l.is_empty()) {
                c = c.labels(l);
            }
            if let Some(f) = s.field.as_deref().filter(|f| !f.is_empty()) {
                c = c.fields(f);
            }
        }
        c
    }

    /// One watch of `K` per namespace (or one over all namespaces).
    fn namespaced<K: Kept + Resource<Scope = NamespaceResourceScope>>(
        &self,
        tasks: &mut Vec<tokio::task::JoinHandle<()>>,
    ) {
        for ns in self.namespaces {
            let api = match ns {
                Some(n) => Api::<K>::namespaced(self.client.clone(), n),
                None => Api::<K>::all(self.client.clone()),
            };
            tasks.push(tokio::spawn(watch_loop(
                api,
                self.config::<K>(),
                ns.clone(),
                self.store.clone(),
                self.changed.clone(),
                self.stop.clone(),
            )));
        }
    }
}

/// Keeps the store's objects of `K` in `ns` (all: `None`) current until `stop`.
async fn watch_loop<K: Kept>(
    api: Api<K>,
    cfg: watcher::Config,
    ns: Option<String>,
    store: Arc<Mutex<Store>>,
    changed: Arc<Notify>,
    stop: CancellationToken,
) {
    let stream = watcher(api, cfg).default_backoff();
    futures::pin_mut!(stream);
    let mut listing: Option<Objects<K>> = None;
    let prefix = ns.map(|n| format!("{n}/"));
    loop {
        let ev = tokio::select! {
            _ = stop.cancelled() => return,
            ev = stream.next() => ev,
        };
        let mut st = store.lock().unwrap_or_else(PoisonError::into_inner);
        match ev {
            None => return,
            Some(Err(e)) => {
                tracing::warn!(kind = K::ROLE, error = %e, "Kubernetes SD watch failed; retrying.");
                continue;
            }
            Some(Ok(Event::Init)) => {
                listing = Some(Objects::new());
                continue;
            }
            Some(Ok(Event::InitApply(o))) => {
                listing.get_or_insert_with(Objects::new).insert(targets::key(o.meta()), o);
                continue;
            }
            // A (re)list is complete: it replaces what this watch had, atomically.
            Some(Ok(Event::InitDone)) => {
                let objects = K::objects(&mut st);
                objects.retain(|k, _| prefix.as_deref().is_some_and(|p| !k.starts_with(p)));
                objects.extend(listing.take().unwrap_or_default());
            }
            Some(Ok(Event::Apply(o))) => {
                K::objects(&mut st).insert(targets::key(o.meta()), o);
            }
            Some(Ok(Event::Delete(o))) => {
                K::objects(&mut st).remove(&targets::key(o.meta()));
            }
        }
        drop(st);
        changed.notify_one();
    }
}

/// The client configuration of an entry, as Prometheus resolves it: `api_server` with the
/// entry's HTTP client fields, else `kubeconfig_file`, else the in-cluster service account.
async fn client_config(cfg: &KubernetesSdConfig) -> Result<kube::Config, DiscoveryError> {
    let Some(url) = &cfg.api_server else {
        let api = match &cfg.kubeconfig_file {
            Some(f) => ApiConfig { auth_type: AuthType::KubeConfig, context: None, kubeconfig: Some(f.into()) },
            None => ApiConfig { auth_type: AuthType::ServiceAccount, ..Default::default() },
        };
        return Ok(k8s::client_config(&api).await?);
    };
    let uri = url.parse::<http::Uri>().map_err(|_| DiscoveryError::Url(url.clone()))?;
    let mut c = kube::Config::new(uri);
    k8s::set_watch_timeouts(&mut c);
    let read = |f: &String| std::fs::read_to_string(f).map_err(|e| DiscoveryError::File(f.clone(), e));
    // kube's AuthInfo keeps secrets in its own string type; building it through serde
    // keeps that crate out of our dependencies.
    let mut auth = serde_json::Map::new();
    let credentials = cfg.authorization.as_ref().and_then(|a| a.credentials.clone()).or(cfg.bearer_token.clone());
    let credentials_file =
        cfg.authorization.as_ref().and_then(|a| a.credentials_file.clone()).or(cfg.bearer_token_file.clone());
    if let Some(t) = credentials {
        auth.insert("token".into(), t.into());
    }
    if let Some(f) = credentials_file {
        read(&f)?;
        auth.insert("tokenFile".into(), f.into());
    }
    if let Some(b) = &cfg.basic_auth {
        auth.insert("username".into(), b.username.clone().into());
        let password = match (&b.password, &b.password_file) {
            (Some(p), _) => p.clone(),
            (None, Some(f)) => read(f)?.trim_end().to_string(),
            (None, None) => String::new(),
        };
        auth.insert("password".into(), password.into());
    }
    let t = &cfg.tls_config;
    if let (Some(cert), Some(key)) = (&t.cert_file, &t.key_file) {
        auth.insert("client-certificate".into(), cert.clone().into());
        auth.insert("client-key".into(), key.clone().into());
    }
    c.auth_info = serde_json::from_value(auth.into()).map_err(DiscoveryError::Auth)?;
    c.root_cert_file = t.ca_file.as_ref().map(Into::into);
    c.accept_invalid_certs = t.insecure_skip_verify;
    c.tls_server_name = t.server_name.clone();
    Ok(c)
}
