//! `resolver.k8s` (alias `kubernetes`): the backends are the ready endpoints of a Service,
//! read from its EndpointSlices (`discovery.k8s.io/v1`, label
//! `kubernetes.io/service-name=<name>`) in its namespace, as the Collector's resolver does
//! since it left the deprecated `v1/Endpoints` API.
//!
//! Behaviour kept from the Collector:
//! - `service` is `name`, `name.namespace` or `name.namespace.svc.<cluster domain>`; without
//!   a namespace, the gateway's own (the service account's `namespace` file), else `default`.
//! - An endpoint counts unless its `conditions.ready` is `false` (absent means ready, as the
//!   API defines it); a terminating pod is reported not ready, so it leaves.
//! - One backend per address and port (`ports`, default `[4317]`); with `return_hostnames`,
//!   `<hostname>.<service>.<namespace>:<port>` instead (the name a headless Service gives a
//!   StatefulSet pod, which a TLS certificate can carry); an endpoint without a hostname is
//!   then left out and counted as a failed resolution.
//! - `timeout` bounds each list and watch call (the watch is re-opened from the last
//!   resourceVersion when it ends, so this is not a poll).
//! - A failed call keeps the last list, counts a failed resolution and is retried with
//!   kube's default backoff (0.8 s doubling to 30 s); the watch then resumes.
//!
//! The API connection is found as the Collector's (controller-runtime's) is: `$KUBECONFIG`,
//! else in-cluster, else `~/.kube/config` ([`crate::k8s::ApiConfig::discover`]). The client
//! is made when the resolver runs, not at build, so `validate` works outside a cluster.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use futures::future::BoxFuture;
use futures::StreamExt;
use k8s_openapi::api::discovery::v1::EndpointSlice;
use kube::runtime::watcher::{self, watcher, DefaultBackoff, Event};
use kube::runtime::WatchStreamExt;
use kube::Api;
use tokio_util::sync::CancellationToken;

use super::{backends, Backends, Publisher, Resolver};
use crate::exporters::loadbalancing::config::K8sResolverConfig;
use crate::k8s::{ApiConfig, SERVICE_ACCOUNT_DIR};

/// The label the EndpointSlice controller puts on every slice of a Service.
pub const SERVICE_NAME_LABEL: &str = "kubernetes.io/service-name";

/// The metric label and log name of this resolver.
const NAME: &str = "k8s";

/// A Service's ready endpoints.
pub struct K8sResolver {
    service: String,
    namespace: String,
    ports: Vec<u16>,
    timeout: Duration,
    return_hostnames: bool,
    api: ApiConfig,
}

/// Splits `service` into its name and namespace, if it has one. Accepts `name`,
/// `name.namespace` and `name.namespace.svc.<cluster domain>` (the Collector refuses any
/// other dotted form).
pub fn parse_service(service: &str) -> Result<(&str, Option<&str>), String> {
    let labels: Vec<&str> = service.split('.').collect();
    if labels.iter().any(|l| l.is_empty()) {
        return Err(format!("invalid service \"{service}\": empty name part"));
    }
    match labels.as_slice() {
        [name] => Ok((name, None)),
        [name, ns] => Ok((name, Some(ns))),
        [name, ns, "svc", _domain, ..] => Ok((name, Some(ns))),
        _ => Err(format!(
            "invalid service \"{service}\": use `name`, `name.namespace` or `name.namespace.svc.<cluster domain>`"
        )),
    }
}

impl K8sResolver {
    /// The resolver of `resolver.k8s`, connecting as the Collector does.
    pub fn new(cfg: &K8sResolverConfig) -> Result<K8sResolver, String> {
        K8sResolver::with(cfg, ApiConfig::discover(), &Path::new(SERVICE_ACCOUNT_DIR).join("namespace"))
    }

    /// With an explicit API connection and namespace file (tests use a stand-in server and
    /// a temporary file).
    pub(crate) fn with(cfg: &K8sResolverConfig, api: ApiConfig, namespace_file: &Path) -> Result<K8sResolver, String> {
        let (name, ns) = parse_service(cfg.service.trim()).map_err(|e| format!("resolver::k8s::service: {e}"))?;
        let namespace = match ns {
            Some(ns) => ns.to_string(),
            None => own_namespace(namespace_file),
        };
        Ok(K8sResolver {
            service: name.to_string(),
            namespace,
            ports: cfg.ports.clone(),
            timeout: cfg.timeout,
            return_hostnames: cfg.return_hostnames,
            api,
        })
    }

    /// The namespace watched (given, or defaulted).
    #[cfg(test)]
    pub fn namespace(&self) -> &str {
        &self.namespace
    }

    /// The hosts (no port) of `slice`'s ready endpoints, and whether one was left out for
    /// lack of a hostname.
    fn hosts(&self, slice: &EndpointSlice) -> (Vec<String>, bool) {
        let mut hosts = Vec::new();
        let mut missing = false;
        for ep in &slice.endpoints {
            if ep.conditions.as_ref().and_then(|c| c.ready) == Some(false) {
                continue;
            }
            if self.return_hostnames {
                match ep.hostname.as_deref().filter(|h| !h.is_empty()) {
                    Some(h) => hosts.push(format!("{h}.{}.{}", self.service, self.namespace)),
                    None => missing = true,
                }
            } else {
                hosts.extend(ep.addresses.iter().cloned());
            }
        }
        (hosts, missing)
    }

    /// Every host of every slice times every port, as `host:port` (IPv6 bracketed).
    fn list(&self, slices: &BTreeMap<String, Vec<String>>) -> Backends {
        let mut out = Vec::new();
        for host in slices.values().flatten() {
            for port in &self.ports {
                out.push(if host.contains(':') { format!("[{host}]:{port}") } else { format!("{host}:{port}") });
            }
        }
        backends(out)
    }

    /// Makes the client, retrying with backoff while it cannot be made.
    async fn client(&self, out: &Publisher) -> kube::Client {
        let mut backoff = DefaultBackoff::default();
        loop {
            match crate::k8s::client(&self.api).await {
                Ok(c) => return c,
                Err(e) => {
                    out.failed(NAME, &format!("kubernetes client: {e}"));
                    tokio::time::sleep(backoff.next().unwrap_or(Duration::from_secs(30))).await;
                }
            }
        }
    }

    async fn watch(&self, out: &Publisher) {
        let client = self.client(out).await;
        let api: Api<EndpointSlice> = Api::namespaced(client, &self.namespace);
        let secs = u32::try_from(self.timeout.as_secs()).unwrap_or(u32::MAX).max(1);
        let cfg = watcher::Config::default().labels(&format!("{SERVICE_NAME_LABEL}={}", self.service)).timeout(secs);
        let stream = watcher(api, cfg).default_backoff();
        futures::pin_mut!(stream);
        // Hosts per slice name: a Service has one slice per address family, more past 100 endpoints.
        let mut slices: BTreeMap<String, Vec<String>> = BTreeMap::new();
        let mut relist: Option<BTreeMap<String, Vec<String>>> = None;
        let mut published: Option<Backends> = None;
        while let Some(ev) = stream.next().await {
            let mut missing = false;
            let mut apply = |into: &mut BTreeMap<String, Vec<String>>, s: &EndpointSlice| {
                let (hosts, m) = self.hosts(s);
                missing |= m;
                into.insert(s.metadata.name.clone().unwrap_or_default(), hosts);
            };
            match ev {
                Ok(Event::Init) => {
                    relist = Some(BTreeMap::new());
                    continue;
                }
                Ok(Event::InitApply(s)) => {
                    apply(relist.get_or_insert_with(BTreeMap::new), &s);
                    if !missing {
                        continue;
                    }
                }
                Ok(Event::InitDone) => {
                    if let Some(r) = relist.take() {
                        slices = r;
                    }
                }
                Ok(Event::Apply(s)) => apply(&mut slices, &s),
                Ok(Event::Delete(s)) => {
                    slices.remove(s.metadata.name.as_deref().unwrap_or_default());
                }
                Err(e) => {
                    out.failed(
                        NAME,
                        &format!("watching the EndpointSlices of {}/{}: {e}", self.namespace, self.service),
                    );
                    continue;
                }
            }
            if missing {
                out.failed(NAME, "an endpoint has no hostname (return_hostnames); it is left out until it has one");
            }
            if relist.is_some() {
                continue;
            }
            // A resolution is counted when the list changes (and once at the first sync),
            // as the Collector's handler only resolves on a change.
            let list = self.list(&slices);
            if published.as_deref() != Some(&*list) {
                published = Some(list.clone());
                out.publish(list);
            }
        }
    }
}

impl Resolver for K8sResolver {
    fn name(&self) -> &'static str {
        NAME
    }

    fn run(self: Arc<Self>, out: Publisher, stop: CancellationToken) -> BoxFuture<'static, ()> {
        Box::pin(async move {
            tracing::debug!(service = %self.service, namespace = %self.namespace, ports = ?self.ports, "K8s service resolver started.");
            tokio::select! {
                _ = stop.cancelled() => {}
                _ = self.watch(&out) => {}
            }
        })
    }
}

/// The gateway's own namespace from the service account, else `default` (as the Collector).
fn own_namespace(file: &Path) -> String {
    match std::fs::read_to_string(file) {
        Ok(ns) if !ns.trim().is_empty() => ns.trim().to_string(),
        _ => {
            tracing::warn!(
                file = %file.display(),
                "Could not determine the namespace for the k8s resolver's service; using \"default\"."
            );
            "default".to_string()
        }
    }
}

#[cfg(test)]
#[path = "k8s_tests.rs"]
mod tests;
