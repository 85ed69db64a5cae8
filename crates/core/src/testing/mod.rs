//! Test helpers for component authors: a consumer that records what it gets, a
//! lifecycle check every component runs, and a harness that builds whole graphs from YAML
//! with recording exporters ([`GraphHarness`]).

mod graph;

pub use graph::{GraphHarness, TestComponentConfig, SINK_TYPE, SOURCE_TYPE};

use std::sync::{Arc, Mutex, PoisonError};

use futures::future::BoxFuture;
use switchyard_pdata::SignalData;

use crate::component::{Component, Host};
use crate::consumer::{ConsumeError, Consumer, RequestContext};

/// A free TCP port on 127.0.0.1 (bound then released), never one handed out before in this
/// test process.
///
/// The tests of one binary run in parallel and many bind their port only later (a sink
/// started after a backend outage, a Python sink that takes a second to import, tier-2
/// members listening on 127.0.0.2+ where 127.0.0.1's port stays free). Linux picks the port
/// of `bind(127.0.0.1:0)` at random among about 7,000 (odd ports of the lower half of the
/// ephemeral range when SO_REUSEADDR is set, as std sets it), so two tests drew the same
/// port about once in a few hundred CI runs and one of them talked to the other's server.
pub fn free_port() -> u16 {
    static GIVEN: std::sync::Mutex<Vec<u16>> = std::sync::Mutex::new(Vec::new());
    for _ in 0..1000 {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .map(|a| a.port())
            .expect("free port");
        let mut given = GIVEN.lock().unwrap_or_else(|e| e.into_inner());
        if !given.contains(&port) {
            given.push(port);
            return port;
        }
    }
    panic!("no port left that this test process has not used");
}

/// Records every batch it consumes; can be told to fail.
pub struct SinkConsumer<S: SignalData> {
    batches: Mutex<Vec<(RequestContext, S)>>,
    fail_with: Mutex<Option<ConsumeError>>,
}

impl<S: SignalData> Default for SinkConsumer<S> {
    fn default() -> Self {
        SinkConsumer { batches: Mutex::new(Vec::new()), fail_with: Mutex::new(None) }
    }
}

impl<S: SignalData> SinkConsumer<S> {
    /// A new, empty sink, shared.
    pub fn new() -> Arc<Self> {
        Arc::new(Self::default())
    }
    /// Every batch received so far.
    pub fn batches(&self) -> Vec<S> {
        self.lock().iter().map(|(_, s)| s.clone()).collect()
    }
    /// Removes and returns every batch received so far: the caller then holds the only
    /// reference to their bytes.
    pub fn take(&self) -> Vec<S> {
        std::mem::take(&mut *self.lock()).into_iter().map(|(_, s)| s).collect()
    }
    /// Every context received so far.
    pub fn contexts(&self) -> Vec<RequestContext> {
        self.lock().iter().map(|(c, _)| c.clone()).collect()
    }
    /// Total items received.
    pub fn item_count(&self) -> usize {
        self.lock().iter().map(|(_, s)| s.item_count()).sum()
    }
    /// Makes every following `consume` return `err` (or succeed again with `None`).
    pub fn fail_with(&self, err: Option<ConsumeError>) {
        *self.fail_with.lock().unwrap_or_else(PoisonError::into_inner) = err;
    }
    fn lock(&self) -> std::sync::MutexGuard<'_, Vec<(RequestContext, S)>> {
        self.batches.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl<S: SignalData> Consumer<S> for SinkConsumer<S> {
    fn consume<'a>(&'a self, cx: &'a RequestContext, data: S) -> BoxFuture<'a, Result<(), ConsumeError>> {
        Box::pin(async move {
            if let Some(e) = self.fail_with.lock().unwrap_or_else(PoisonError::into_inner).clone() {
                return Err(e);
            }
            self.lock().push((cx.clone(), data));
            Ok(())
        })
    }
}

/// Starts and shuts down a component, then shuts down a second, never-started instance:
/// neither may fail or hang.
pub async fn lifecycle_check(started: &dyn Component, never_started: &dyn Component) {
    let host = Host::default();
    if let Err(e) = started.start(&host).await {
        panic!("start failed: {e}");
    }
    started.shutdown().await;
    never_started.shutdown().await;
}

/// `n` spans under one resource (`service.name = test`) and scope, span ids 1..=n.
pub fn traces(n: usize) -> switchyard_pdata::Traces {
    use switchyard_pdata::proto::collector::trace::v1::ExportTraceServiceRequest;
    use switchyard_pdata::proto::common::v1::{any_value, AnyValue, KeyValue};
    use switchyard_pdata::proto::resource::v1::Resource;
    use switchyard_pdata::proto::trace::v1::{ResourceSpans, ScopeSpans, Span};
    let spans = (1..=n as u64)
        .map(|i| Span {
            trace_id: vec![7; 16],
            span_id: i.to_be_bytes().to_vec(),
            name: format!("span-{i}"),
            ..Default::default()
        })
        .collect();
    let resource = Resource {
        attributes: vec![KeyValue {
            key: "service.name".into(),
            value: Some(AnyValue { value: Some(any_value::Value::StringValue("test".into())) }),
            ..Default::default()
        }],
        ..Default::default()
    };
    ExportTraceServiceRequest {
        resource_spans: vec![ResourceSpans {
            resource: Some(resource),
            scope_spans: vec![ScopeSpans { spans, ..Default::default() }],
            ..Default::default()
        }],
    }
    .into()
}

/// Settings for creating a component of `kind` with id `ty` in a unit test.
pub fn settings(kind: crate::component::Kind, ty: &str) -> crate::component::Settings {
    crate::component::Settings {
        id: crate::component::ComponentId::new(ty),
        kind,
        telemetry: crate::telemetry::Telemetry::default(),
    }
}
