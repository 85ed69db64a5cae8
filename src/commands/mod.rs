//! The subcommands.

pub mod components;
pub mod gen;
pub mod run;
pub mod validate;
