mod conformance;
mod unit;
