//! The host: what a running component can reach beyond its own pipeline.

use std::any::Any;
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, PoisonError, RwLock};

use super::{Component, ComponentId};

/// An extension: a component outside pipelines that others may look up by id.
pub trait Extension: Component {
    /// For typed look-ups of capabilities (an authenticator, a storage).
    fn as_any(&self) -> &dyn Any;

    /// The persistent-queue storage this extension offers, if it is a storage extension.
    fn queue_storage(&self) -> Option<&dyn crate::storage::QueueStorage> {
        None
    }

    /// The request checker this extension offers to receivers (`auth:` on a receiver).
    fn server_authenticator(&self) -> Option<&dyn crate::confignet::auth::ServerAuthenticator> {
        None
    }

    /// The credential setter this extension offers to exporters (`auth:` on an exporter).
    fn client_authenticator(&self) -> Option<&dyn crate::confignet::auth::ClientAuthenticator> {
        None
    }
}

/// Shared state of the running service, handed to every component's `start`.
///
/// The readiness flag and the service view outlive one graph: after a configuration
/// reload the next graph's host shares them ([`Host::successor`]), so an extension kept
/// running across the reload (`health_check`, `zpages`) reports the current graph.
#[derive(Clone, Default)]
pub struct Host {
    extensions: Arc<BTreeMap<ComponentId, Arc<dyn Extension>>>,
    state: Arc<State>,
}

#[derive(Default)]
struct State {
    ready: AtomicBool,
    service: RwLock<Option<Arc<crate::graph::ServiceView>>>,
}

impl Host {
    /// A host with these extensions, not ready yet.
    pub fn new(extensions: BTreeMap<ComponentId, Arc<dyn Extension>>) -> Self {
        Host { extensions: Arc::new(extensions), state: Arc::default() }
    }

    /// The host of the graph that replaces this one: its own extensions, the same
    /// readiness flag and service view (both updated when the new graph starts).
    pub fn successor(&self, extensions: BTreeMap<ComponentId, Arc<dyn Extension>>) -> Self {
        Host { extensions: Arc::new(extensions), state: self.state.clone() }
    }

    /// This host with a view of the service it runs (set by the graph builder).
    pub fn with_service(self, view: crate::graph::ServiceView) -> Self {
        self.set_service(Arc::new(view));
        self
    }

    /// Replaces the service view (a reloaded graph publishes its own when it starts).
    pub fn set_service(&self, view: Arc<crate::graph::ServiceView>) {
        *self.state.service.write().unwrap_or_else(PoisonError::into_inner) = Some(view);
    }

    /// The service's graph, config and telemetry, for extensions that show them (zpages);
    /// `None` for a host made outside a graph (component tests). Read it per use: a reload
    /// replaces it.
    pub fn service(&self) -> Option<Arc<crate::graph::ServiceView>> {
        self.state.service.read().unwrap_or_else(PoisonError::into_inner).clone()
    }

    /// The extension with this id, if configured.
    pub fn extension(&self, id: &ComponentId) -> Option<&Arc<dyn Extension>> {
        self.extensions.get(id)
    }

    /// True while every pipeline is running (set after start, cleared at shutdown and
    /// during a reload's swap).
    pub fn is_ready(&self) -> bool {
        self.state.ready.load(Ordering::Acquire)
    }

    /// Marks the pipelines running or not; health checks report it.
    pub fn set_ready(&self, ready: bool) {
        self.state.ready.store(ready, Ordering::Release);
    }
}
