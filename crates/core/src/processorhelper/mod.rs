//! Building blocks for processors, so a processor is its logic and nothing else (the
//! Collector's `processorhelper`).
//!
//! - **Stateless** ([`SignalProcessor`], [`create_stateless`]): a config struct and one
//!   function per signal. The scaffold dispatches by signal, does copy-on-write, counts
//!   `otelcol_processor_incoming_items` / `outgoing_items`, drops batches left empty and
//!   turns [`ProcessError`] into the [`ConsumeError`](crate::consumer::ConsumeError) the
//!   receiver answers with. `attributes`, `resource`, `filter` and `transform` are this.
//! - **Stateful** ([`stateful`]): a task of the processor's own fed by a bounded channel,
//!   with a timer, a flush on shutdown under a deadline and a gauge of the bytes it holds,
//!   optionally sharded over several tasks by a [`Partition`];
//!   for processors that hold data across calls (`tail_sampling`, the span-to-metrics
//!   connectors, a future `batch`).

pub mod stateful;
mod stateless;

#[cfg(test)]
pub(crate) mod tests;

pub use stateful::{create_sharded, create_stateful, Output, Partition, StatefulProcessor, StatefulSettings};
pub use stateless::{create_stateless, ProcessError, SignalProcessor};
