mod conformance;
mod fixtures;
mod unit;
