//! Processors: what runs inside a pipeline, in order.

#[cfg(feature = "processor-attributes")]
pub mod attributes;
#[cfg(feature = "processor-batch")]
pub mod batch;
#[cfg(feature = "processor-filter")]
pub mod filter;
#[cfg(feature = "processor-k8sattributes")]
pub mod k8sattributes;
#[cfg(feature = "processor-memory_limiter")]
pub mod memory_limiter;
#[cfg(feature = "processor-probabilistic_sampler")]
pub mod probabilistic_sampler;
#[cfg(feature = "processor-resource")]
pub mod resource;
#[cfg(feature = "processor-resourcedetection")]
pub mod resourcedetection;
#[cfg(feature = "processor-routing")]
pub mod routing;
#[cfg(feature = "processor-tail_sampling")]
pub mod tail_sampling;
#[cfg(feature = "processor-transform")]
pub mod transform;
