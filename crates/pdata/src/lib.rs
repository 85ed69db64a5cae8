//! Switchyard's telemetry data model.
//!
//! A batch of telemetry travels through the pipeline as one of four signal types
//! ([`Traces`], [`Metrics`], [`Logs`], [`Profiles`]). Each wraps the OTLP export request
//! in an `Arc`, so handing the same batch to several exporters is a reference-count bump,
//! and a consumer that mutates gets its own copy only when the batch is shared
//! ([`SignalData::make_mut`]).
//!
//! The protobuf types are those of the `opentelemetry-proto` crate, re-exported as
//! [`proto`]; OTLP/JSON is our own codec in [`json`].
//!
//! Components read and change the data through one layer instead of hand-written loops:
//! [`attrs`] (attribute operations with the Collector's duplicate-key rule), [`value`]
//! (`AsString`, Go-style JSON, hex ids) and [`walk`] (resource → scope → item walks,
//! `retain` with envelope pruning, grouping that moves items).
//!
//! [`wire`] validates and counts encoded requests without decoding them, for forwarding
//! the bytes (its verdict is prost's).

pub mod attrs;
pub mod json;
mod signal;
mod split;
pub mod value;
pub mod walk;
pub mod wire;

pub use opentelemetry_proto::tonic as proto;
pub use signal::{Logs, Metrics, Profiles, Signal, SignalData, Traces};
