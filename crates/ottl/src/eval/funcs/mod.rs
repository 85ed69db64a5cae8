//! The function library: each module registers the editors and converters it builds, and a
//! builder binds a call's arguments ([`Args`]) to an implementation at load time (regular
//! expressions compile here, once). A name not found in any module is refused by config
//! validation as not supported, never ignored.

mod case;
mod cidr;
mod collections;
mod core;
mod csv;
mod editors;
mod gofmt;
mod gotime;
mod grok;
mod hash;
mod ids;
mod like;
mod metrics;
mod parse;
mod severity;
mod strftime;
mod strings;
mod strptime;
#[cfg(test)]
mod testlog;
mod time;
mod types;
mod want;
mod web;

#[cfg(test)]
mod testutil;

use super::compile::Args;
use super::expr::{ConverterFn, EditorFn};
use crate::check::CheckError;

/// Builds an editor from its arguments.
pub(crate) type EditorBuilder = fn(&Args<'_>) -> Result<EditorFn, CheckError>;
/// Builds a converter from its arguments.
pub(crate) type ConverterBuilder = fn(&Args<'_>) -> Result<ConverterFn, CheckError>;

/// The editor named `name`, if built.
pub(crate) fn editor(name: &str) -> Option<EditorBuilder> {
    core::editor(name).or_else(|| editors::editor(name)).or_else(|| metrics::editor(name))
}

/// The converter named `name`, if built.
pub(crate) fn converter(name: &str) -> Option<ConverterBuilder> {
    core::converter(name)
        .or_else(|| strings::converter(name))
        .or_else(|| types::converter(name))
        .or_else(|| hash::converter(name))
        .or_else(|| ids::converter(name))
        .or_else(|| collections::converter(name))
        .or_else(|| parse::converter(name))
        .or_else(|| time::converter(name))
}

/// Whether Switchyard runs the function `name` (for docs and the conformance report).
pub fn is_implemented(name: &str) -> bool {
    editor(name).is_some() || converter(name).is_some()
}
