//! Metrics the OTLP sink received from the `prometheus` receiver, with the job and instance
//! (the resource's `service.name` and `service.instance.id`) each came from.

use serde_json::Value;

use super::Sink;

/// One metric as the sink received it.
#[derive(Debug, Clone)]
pub struct Seen {
    /// `service.name`: the target's `job`.
    pub job: String,
    /// `service.instance.id`: the target's `instance`.
    pub instance: String,
    /// The OTLP/JSON metric.
    pub metric: Value,
}

/// A string attribute of a resource.
pub fn res_attr(r: &Value, key: &str) -> String {
    r["resource"]["attributes"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|kv| kv["key"] == key)
        .and_then(|kv| kv["value"]["stringValue"].as_str())
        .unwrap_or_default()
        .to_string()
}

/// Every metric received so far, in arrival order.
pub fn seen(sink: &Sink) -> Vec<Seen> {
    let mut out = Vec::new();
    for req in sink.requests().iter().filter(|r| r["signal"] == "metrics") {
        for r in req["request"]["resourceMetrics"].as_array().into_iter().flatten() {
            for s in r["scopeMetrics"].as_array().into_iter().flatten() {
                for m in s["metrics"].as_array().into_iter().flatten() {
                    out.push(Seen {
                        job: res_attr(r, "service.name"),
                        instance: res_attr(r, "service.instance.id"),
                        metric: m.clone(),
                    });
                }
            }
        }
    }
    out
}

/// The metrics named `name` of `job`.
pub fn find<'a>(all: &'a [Seen], job: &str, name: &str) -> Vec<&'a Seen> {
    all.iter().filter(|s| s.job == job && s.metric["name"] == name).collect()
}
