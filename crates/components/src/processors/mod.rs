//! Processors: what runs inside a pipeline, in order.

#[cfg(feature = "processor-batch")]
pub mod batch;
