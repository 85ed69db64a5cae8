//! Processors: what runs inside a pipeline, in order.

#[cfg(feature = "processor-batch")]
pub mod batch;
#[cfg(feature = "processor-memory_limiter")]
pub mod memory_limiter;
#[cfg(feature = "processor-routing")]
pub mod routing;
