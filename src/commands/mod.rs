//! The subcommands.

pub mod check;
pub mod components;
pub mod gen;
pub mod graph;
pub mod healthcheck;
pub mod reload;
pub mod run;
pub mod tap;
pub mod test;
pub mod top;
pub mod validate;
