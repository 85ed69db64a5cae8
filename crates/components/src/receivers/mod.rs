//! Receivers: where data enters.

#[cfg(feature = "receiver-otlp")]
pub mod otlp;
