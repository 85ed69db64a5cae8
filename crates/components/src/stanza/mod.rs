//! Stanza: the Collector's log-parsing operator framework (`pkg/stanza`), as the `filelog`
//! receiver's `operators:` use it. An [`Entry`] goes through a [`Pipeline`] built from
//! [`OperatorConfig`]s; parsers, transformers, a router, a filter, recombine and the
//! container parser are built, each in its own module.

pub mod config;
pub mod container;
pub mod entry;
pub mod expr;
pub mod ops;
pub mod pipeline;
pub mod recombine;
pub mod regex;
#[cfg(test)]
mod tests;
pub mod time;

pub use config::{OnError, OperatorConfig};
pub use entry::{Entry, Field, Root};
pub use expr::Expr;
pub use pipeline::{build, Pipeline};
