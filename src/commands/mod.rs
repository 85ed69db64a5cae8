//! The subcommands.

pub mod check;
pub mod components;
pub mod gen;
pub mod graph;
pub mod healthcheck;
pub mod run;
pub mod validate;
