//! Switchyard's components: one folder per kind, one module per Collector type string.
//! [`registry()`] is the one list of what ships.

#[cfg(any(feature = "processor-attributes", feature = "processor-resource"))]
pub mod attraction;
pub mod connectors;
pub mod exporters;
pub mod extensions;
#[cfg(any(
    feature = "processor-filter",
    feature = "processor-attributes",
    feature = "processor-resource",
    feature = "receiver-hostmetrics"
))]
pub mod filterconfig;
#[cfg(feature = "k8s")]
pub mod k8s;
#[cfg(any(feature = "exporter-kafka", feature = "receiver-kafka"))]
pub mod kafka_client;
pub mod otlp_signal;
pub mod ottl;
pub mod processors;
pub mod receivers;
mod registry;
#[cfg(feature = "receiver-filelog")]
pub mod stanza;

pub use registry::registry;
