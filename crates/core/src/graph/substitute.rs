//! A graph built for config unit tests (`switchyard test`): the processors and connectors
//! of a configuration, created and wired exactly as `run` does, with the edges replaced.
//!
//! Receivers are not created (nothing binds a port): their would-be outputs are handed back
//! in [`Inlets`], so a test pushes data in where a receiver would have. Exporters are not
//! created either (nothing connects to a backend): the caller supplies a consumer for each
//! (exporter, signal), typically one that records. Extensions are not created, since they
//! exist to serve ports and exporters that are not there. Everything between, including
//! stateful processors and connectors, is the production code; shutting the graph down
//! flushes them, so a test sees what a batch or tail sampling decision would emit.

use std::collections::HashMap;

use switchyard_pdata::Signal;

use crate::component::{ComponentId, PipelineId, ReceiverOutputs};
use crate::consumer::AnyConsumer;

/// What a test build puts in place of the graph's edges. Both functions are called while the
/// graph is built, once per (exporter, signal) and once per pipeline.
pub struct Substitutes<'a> {
    /// The consumer used in place of exporter `id` for `signal` (its factory is not called).
    pub exporter: &'a dyn Fn(&ComponentId, Signal) -> AnyConsumer,
    /// Wraps what pipeline `id` hands its exporters and connectors after its last processor
    /// (`next` is that fan-out); return `next` to leave it as it is.
    pub pipeline_output: &'a dyn Fn(&PipelineId, AnyConsumer) -> AnyConsumer,
}

/// Where data enters a graph built with [`Substitutes`].
#[derive(Default)]
pub struct Inlets {
    /// What each receiver used by a pipeline would send to, per signal: the fan-out to every
    /// pipeline that lists it.
    pub receivers: HashMap<ComponentId, ReceiverOutputs>,
    /// Per pipeline: the consumer in front of each of its processors, in order, then its
    /// output (the exporter fan-out). The first is what its receivers feed.
    pub pipelines: HashMap<PipelineId, Vec<AnyConsumer>>,
}
