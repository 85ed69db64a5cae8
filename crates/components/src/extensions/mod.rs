//! Extensions: services of the process outside pipelines.

#[cfg(feature = "extension-health_check")]
pub mod health_check;
