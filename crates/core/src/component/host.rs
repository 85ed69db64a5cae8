//! The host: what a running component can reach beyond its own pipeline.

use std::any::Any;
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

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
#[derive(Clone, Default)]
pub struct Host {
    extensions: Arc<BTreeMap<ComponentId, Arc<dyn Extension>>>,
    ready: Arc<AtomicBool>,
    service: Option<Arc<crate::graph::ServiceView>>,
}

impl Host {
    /// A host with these extensions, not ready yet.
    pub fn new(extensions: BTreeMap<ComponentId, Arc<dyn Extension>>) -> Self {
        Host { extensions: Arc::new(extensions), ready: Arc::new(AtomicBool::new(false)), service: None }
    }

    /// This host with a view of the service it runs (set by the graph builder).
    pub fn with_service(mut self, view: crate::graph::ServiceView) -> Self {
        self.service = Some(Arc::new(view));
        self
    }

    /// The service's graph, config and telemetry, for extensions that show them (zpages);
    /// `None` for a host made outside a graph (component tests).
    pub fn service(&self) -> Option<&Arc<crate::graph::ServiceView>> {
        self.service.as_ref()
    }

    /// The extension with this id, if configured.
    pub fn extension(&self, id: &ComponentId) -> Option<&Arc<dyn Extension>> {
        self.extensions.get(id)
    }

    /// True while every pipeline is running (set after start, cleared at shutdown).
    pub fn is_ready(&self) -> bool {
        self.ready.load(Ordering::Acquire)
    }

    /// Marks the pipelines running or not; health checks report it.
    pub fn set_ready(&self, ready: bool) {
        self.ready.store(ready, Ordering::Release);
    }
}
