//! Extensions: services of the process outside pipelines.

#[cfg(feature = "extension-basicauth")]
pub mod basicauth;
#[cfg(feature = "extension-bearertokenauth")]
pub mod bearertokenauth;
#[cfg(feature = "extension-file_storage")]
pub mod file_storage;
#[cfg(feature = "extension-headers_setter")]
pub mod headers_setter;
#[cfg(feature = "extension-health_check")]
pub mod health_check;
#[cfg(feature = "extension-healthcheckv2")]
pub mod healthcheckv2;
#[cfg(feature = "extension-pprof")]
pub mod pprof;
#[cfg(any(feature = "extension-basicauth", feature = "extension-bearertokenauth"))]
mod watch;
#[cfg(feature = "extension-zpages")]
pub mod zpages;
