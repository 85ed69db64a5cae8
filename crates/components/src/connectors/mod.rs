//! Connectors: the exporter of one pipeline and the receiver of others.

#[cfg(feature = "connector-count")]
pub mod count;
#[cfg(feature = "connector-forward")]
pub mod forward;
#[cfg(feature = "connector-routing")]
pub mod routing;
