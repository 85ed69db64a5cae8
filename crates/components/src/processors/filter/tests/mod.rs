mod conformance;
mod fixtures;
