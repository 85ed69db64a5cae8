//! Switchyard core: the component model, configuration, pipeline graph, exporter helper
//! and self-telemetry. Knows nothing of any particular component (the compiler enforces
//! it: this crate cannot see `switchyard-components`).

pub mod component;
pub mod config;
pub mod confignet;
pub mod consumer;
pub mod exporterhelper;
pub mod graph;
pub mod processorhelper;
pub mod storage;
pub mod tap;
pub mod telemetry;
pub mod testing;
