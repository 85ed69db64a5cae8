//! Exporters: where data leaves.

pub(crate) mod client;
#[cfg(feature = "exporter-debug")]
pub mod debug;
#[cfg(feature = "exporter-kafka")]
pub mod kafka;
#[cfg(feature = "exporter-loadbalancing")]
pub mod loadbalancing;
#[cfg(feature = "exporter-loki")]
pub mod loki;
#[cfg(feature = "exporter-nop")]
pub mod nop;
#[cfg(feature = "exporter-otlp")]
pub mod otlp;
#[cfg(feature = "exporter-otlphttp")]
pub mod otlphttp;
#[cfg(feature = "exporter-prometheus")]
pub mod prometheus;
#[cfg(any(feature = "exporter-prometheus", feature = "exporter-prometheusremotewrite"))]
pub mod prometheus_translate;
#[cfg(feature = "exporter-prometheusremotewrite")]
pub mod prometheusremotewrite;

pub(crate) use client::{
    classify_status, header_map, http_client, parse_retry_after, read_limited, redact_url, HttpClientSettings,
};
pub use client::{ClientTlsConfig, CompressionParams};

use std::sync::Arc;

use futures::future::BoxFuture;
use switchyard_core::component::{Component, Host, StartError};

/// A component shared with the consumer side (the exporter is both): forwards lifecycle calls.
pub(crate) struct SharedComponent<C: Component>(pub Arc<C>);

impl<C: Component> Component for SharedComponent<C> {
    fn start<'a>(&'a self, host: &'a Host) -> BoxFuture<'a, Result<(), StartError>> {
        self.0.start(host)
    }
    fn shutdown(&self) -> BoxFuture<'_, ()> {
        self.0.shutdown()
    }
}
