//! Fixtures shared by the walk tests: requests whose items are named after the resource and
//! scope that enclose them (`r0/s1/...`), so a test can check every item arrived with the
//! right envelopes.

mod logs;
mod metrics;
mod properties;
mod traces;

use crate::proto::common::v1::{InstrumentationScope, KeyValue};
use crate::proto::resource::v1::Resource;
use crate::value::str_value;

/// A resource with attribute `r` = `name`.
fn resource(name: &str) -> Option<Resource> {
    Some(Resource { attributes: vec![kv("r", name)], ..Default::default() })
}

/// A scope named `name`.
fn scope(name: &str) -> Option<InstrumentationScope> {
    Some(InstrumentationScope { name: name.into(), ..Default::default() })
}

fn kv(k: &str, v: &str) -> KeyValue {
    KeyValue { key: k.into(), value: Some(str_value(v)), ..Default::default() }
}

/// `r`, or `-` for an absent resource.
fn resource_name(attrs: &[KeyValue]) -> String {
    crate::attrs::get_str(attrs, "r").unwrap_or("-").to_string()
}
