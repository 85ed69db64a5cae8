//! `resolver.static`: the list from the config, published once.

use std::sync::Arc;

use futures::future::BoxFuture;
use tokio_util::sync::CancellationToken;

use super::{backends, Publisher, Resolver};
use crate::exporters::loadbalancing::config::StaticResolverConfig;

/// A fixed list of backends.
pub struct StaticResolver {
    hostnames: Vec<String>,
}

impl StaticResolver {
    /// The list from `resolver.static.hostnames`.
    pub fn new(cfg: &StaticResolverConfig) -> StaticResolver {
        StaticResolver { hostnames: cfg.hostnames.iter().map(|h| h.trim().to_string()).collect() }
    }
}

impl Resolver for StaticResolver {
    fn name(&self) -> &'static str {
        "static"
    }

    fn run(self: Arc<Self>, out: Publisher, stop: CancellationToken) -> BoxFuture<'static, ()> {
        Box::pin(async move {
            out.publish(backends(self.hostnames.clone()));
            stop.cancelled().await;
        })
    }
}
