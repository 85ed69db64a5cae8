//! Receivers: where data enters.

#[cfg(feature = "receiver-kafka")]
pub mod kafka;
#[cfg(feature = "receiver-otlp")]
pub mod otlp;
