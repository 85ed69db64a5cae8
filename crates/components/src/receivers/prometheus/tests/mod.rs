//! Unit tests of the receiver: the exposition parser, translation to OTLP, the config, and
//! the scrape loop against a local HTTP target.

mod config;
mod parse;
mod scrape;
mod translate;
