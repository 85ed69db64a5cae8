//! Extensions: services of the process outside pipelines.

#[cfg(feature = "extension-file_storage")]
pub mod file_storage;
#[cfg(feature = "extension-health_check")]
pub mod health_check;
