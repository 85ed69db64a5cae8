//! Connectors: the exporter of one pipeline and the receiver of others.

#[cfg(feature = "connector-count")]
pub mod count;
#[cfg(feature = "connector-forward")]
pub mod forward;
#[cfg(any(feature = "connector-spanmetrics", feature = "connector-servicegraph"))]
pub mod metricagg;
#[cfg(feature = "connector-routing")]
pub mod routing;
#[cfg(feature = "connector-servicegraph")]
pub mod servicegraph;
#[cfg(feature = "connector-spanmetrics")]
pub mod spanmetrics;
