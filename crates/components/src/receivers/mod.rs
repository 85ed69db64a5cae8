//! Receivers: where data enters.

#[cfg(feature = "receiver-filelog")]
pub mod filelog;
#[cfg(feature = "receiver-hostmetrics")]
pub mod hostmetrics;
#[cfg(feature = "receiver-jaeger")]
pub mod jaeger;
#[cfg(feature = "receiver-kafka")]
pub mod kafka;
#[cfg(feature = "receiver-nop")]
pub mod nop;
#[cfg(feature = "receiver-otlp")]
pub mod otlp;
#[cfg(feature = "receiver-prometheus")]
pub mod prometheus;
#[cfg(feature = "receiver-zipkin")]
pub mod zipkin;
