//! The processor as a user runs it: detectors against stand-ins of their metadata services
//! (`standins`), the merge rules, refresh, timeouts, and config errors (`config`).

mod config_errors;
mod conformance;
mod detectors;
mod k8s;
mod merge;
mod standins;

use std::io::Write;
use std::sync::{Arc, Mutex};

use switchyard_core::component::{Component, Host, Kind};
use switchyard_core::config;
use switchyard_core::consumer::RequestContext;
use switchyard_core::processorhelper::SignalProcessor;
use switchyard_pdata::proto::collector::trace::v1::ExportTraceServiceRequest;
use switchyard_pdata::proto::common::v1::KeyValue;
use switchyard_pdata::proto::resource::v1::Resource;
use switchyard_pdata::proto::trace::v1::ResourceSpans;
use switchyard_pdata::value::{as_string, str_value};

use super::detectors::EnvLookup;
use super::{build, DetectionRunner, ResourceDetectionConfig, ResourceDetectionProcessor};
use switchyard_core::component::ComponentConfig;

/// A decoded and validated config.
pub fn cfg(yaml: &str) -> ResourceDetectionConfig {
    let node = config::parse("t.yaml", yaml).expect("yaml");
    let c: ResourceDetectionConfig = config::from_node(&node, "resourcedetection").expect("config decodes");
    let errors = c.validate();
    assert!(errors.is_empty(), "{errors:?}");
    c
}

/// An environment holding only `vars`.
pub fn env_of(vars: &[(&str, &str)]) -> EnvLookup {
    let vars: Vec<(String, String)> = vars.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
    Arc::new(move |k| vars.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone()))
}

/// The processor and its runner, started.
pub async fn started(yaml: &str, env: EnvLookup) -> (ResourceDetectionProcessor, DetectionRunner) {
    let set = switchyard_core::testing::settings(Kind::Processor, "resourcedetection");
    let (p, r) = build(&set, &cfg(yaml), env).expect("builds");
    r.start(&Host::default()).await.expect("starts");
    (p, r)
}

/// Runs one resource with `attrs` through the processor; returns its attributes as strings
/// and the envelope's schema URL.
pub fn through(p: &ResourceDetectionProcessor, attrs: &[(&str, &str)]) -> (Vec<(String, String)>, String) {
    let attributes = attrs
        .iter()
        .map(|(k, v)| KeyValue { key: k.to_string(), value: Some(str_value(*v)), ..Default::default() })
        .collect();
    let mut req = ExportTraceServiceRequest {
        resource_spans: vec![ResourceSpans {
            resource: Some(Resource { attributes, ..Default::default() }),
            ..Default::default()
        }],
    };
    p.process_traces(&RequestContext::default(), &mut req).expect("processes");
    let rs = &req.resource_spans[0];
    let out = rs
        .resource
        .as_ref()
        .map(|r| {
            r.attributes
                .iter()
                .map(|kv| (kv.key.clone(), as_string(kv.value.as_ref().expect("value")).into_owned()))
                .collect()
        })
        .unwrap_or_default();
    (out, rs.schema_url.clone())
}

/// The value of `key` in `attrs`.
pub fn get<'a>(attrs: &'a [(String, String)], key: &str) -> Option<&'a str> {
    attrs.iter().find(|(k, _)| k == key).map(|(_, v)| v.as_str())
}

/// Log lines written while the guard lives (the current thread's subscriber).
#[derive(Clone, Default)]
pub struct Logs(Arc<Mutex<Vec<u8>>>);

impl Logs {
    /// Starts capturing.
    pub fn capture() -> (Logs, tracing::subscriber::DefaultGuard) {
        let logs = Logs::default();
        let sub = tracing_subscriber::fmt().with_writer(logs.clone()).with_ansi(false).finish();
        (logs.clone(), tracing::subscriber::set_default(sub))
    }

    /// Everything written so far.
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().expect("lock")).into_owned()
    }
}

impl Write for Logs {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().expect("lock").extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<'a> tracing_subscriber::fmt::MakeWriter<'a> for Logs {
    type Writer = Logs;
    fn make_writer(&'a self) -> Logs {
        self.clone()
    }
}
