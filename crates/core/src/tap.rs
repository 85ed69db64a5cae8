//! Taps: a live sample of the data passing one component of one pipeline, for
//! `switchyard tap` (served by the `zpages` extension at `/debug/tap`).
//!
//! The graph wraps every consumer it wires with a [`TapConsumer`] holding the
//! [`TapPoint`] of that position. While nobody listens, the wrapper costs one relaxed
//! atomic load and hands the batch on untouched: no clone, no lock, no extra future (it
//! returns the inner consumer's future itself). While a tap is attached, each batch that
//! the listener's rate allows is sent as a new reference to the same shared batch (a
//! refcount, not a copy) over a bounded channel with `try_send`: a slow or stalled
//! listener loses samples (counted) and never slows the pipeline. Batches over the rate
//! are skipped and counted too (`switchyard_tap_skipped_batches{reason}`).
//!
//! Where each point sits (the data it shows):
//! - a receiver (or a connector on its receiving side) in pipeline P: what it emits into P;
//! - a processor in P: what it passes on (so a tap shows the processor's changes);
//! - an exporter (or a connector on its exporting side) in P: what P hands to it.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Instant;

use futures::future::BoxFuture;
use switchyard_pdata::{Logs, Metrics, Profiles, Signal, SignalData, Traces};
use tokio::sync::mpsc;

use crate::component::{ComponentId, Kind, PipelineId};
use crate::consumer::{AnyConsumer, ConsumeError, Consumer, DynConsumer, RequestContext};
use crate::telemetry::{Counter, Telemetry};

/// Samples a listener's channel holds before further ones are dropped.
pub const TAP_CHANNEL_CAPACITY: usize = 64;

/// The most batches per second one listener may ask for.
pub const MAX_TAP_RATE: f64 = 1000.0;

/// Self-metric: batches a tap did not send to its listener, by `reason` (`rate`, `full`).
pub const TAP_SKIPPED: &str = "switchyard_tap_skipped_batches";

/// One sampled batch, of any signal (a shared reference to the batch that passed).
#[derive(Clone, Debug)]
pub enum TapData {
    /// Spans.
    Traces(Traces),
    /// Metric data points.
    Metrics(Metrics),
    /// Log records.
    Logs(Logs),
    /// Profiles.
    Profiles(Profiles),
}

/// Signal data a tap can carry.
pub trait Tappable: SignalData {
    /// Wraps the batch (a refcount increment).
    fn into_tap(self) -> TapData;
}

impl Tappable for Traces {
    fn into_tap(self) -> TapData {
        TapData::Traces(self)
    }
}
impl Tappable for Metrics {
    fn into_tap(self) -> TapData {
        TapData::Metrics(self)
    }
}
impl Tappable for Logs {
    fn into_tap(self) -> TapData {
        TapData::Logs(self)
    }
}
impl Tappable for Profiles {
    fn into_tap(self) -> TapData {
        TapData::Profiles(self)
    }
}

struct Listener {
    tx: mpsc::Sender<TapData>,
    /// Batches per second.
    rate: f64,
    /// Token bucket: up to `max(rate, 1)` batches in a burst.
    tokens: f64,
    last: Instant,
}

/// One place in the graph where data can be watched.
pub struct TapPoint {
    kind: Kind,
    component: ComponentId,
    pipeline: PipelineId,
    attached: AtomicBool,
    listeners: Mutex<Vec<Listener>>,
    skipped_rate: Counter,
    skipped_full: Counter,
}

impl TapPoint {
    fn new(telemetry: &Telemetry, kind: Kind, component: &ComponentId, pipeline: &PipelineId) -> TapPoint {
        let (c, p) = (format!("{}/{component}", kind.section()), pipeline.to_string());
        let counter = |reason: &str| {
            telemetry.metrics.counter(
                TAP_SKIPPED,
                "Batches a tap did not send to its listener: over its rate, or its channel was full.",
                &[("component", c.as_str()), ("pipeline", p.as_str()), ("reason", reason)],
            )
        };
        TapPoint {
            kind,
            component: component.clone(),
            pipeline: pipeline.clone(),
            attached: AtomicBool::new(false),
            listeners: Mutex::new(Vec::new()),
            skipped_rate: counter("rate"),
            skipped_full: counter("full"),
        }
    }

    /// The component's kind.
    pub fn kind(&self) -> Kind {
        self.kind
    }

    /// The component.
    pub fn component(&self) -> &ComponentId {
        &self.component
    }

    /// The pipeline.
    pub fn pipeline(&self) -> &PipelineId {
        &self.pipeline
    }

    /// `processors/transform`: how `switchyard tap --component` names it.
    pub fn name(&self) -> String {
        format!("{}/{}", self.kind.section(), self.component)
    }

    /// True while at least one listener is attached.
    #[inline]
    pub fn is_attached(&self) -> bool {
        self.attached.load(Ordering::Relaxed)
    }

    /// Attaches a listener taking up to `rate` batches per second (clamped to
    /// `0.01..=MAX_TAP_RATE`). It is detached when the receiver is dropped (found at the
    /// next batch).
    pub fn attach(&self, rate: f64) -> mpsc::Receiver<TapData> {
        let (tx, rx) = mpsc::channel(TAP_CHANNEL_CAPACITY);
        let rate = rate.clamp(0.01, MAX_TAP_RATE);
        let mut l = self.listeners.lock().unwrap_or_else(PoisonError::into_inner);
        l.push(Listener { tx, rate, tokens: rate.max(1.0), last: Instant::now() });
        self.attached.store(true, Ordering::Relaxed);
        rx
    }

    /// Offers one batch to every listener (only called while attached).
    fn offer(&self, make: impl Fn() -> TapData) {
        let mut listeners = self.listeners.lock().unwrap_or_else(PoisonError::into_inner);
        let now = Instant::now();
        listeners.retain_mut(|l| {
            if l.tx.is_closed() {
                return false;
            }
            let burst = l.rate.max(1.0);
            l.tokens = (l.tokens + now.duration_since(l.last).as_secs_f64() * l.rate).min(burst);
            l.last = now;
            if l.tokens < 1.0 {
                self.skipped_rate.add(1);
                return true;
            }
            match l.tx.try_send(make()) {
                Ok(()) => {
                    l.tokens -= 1.0;
                    true
                }
                Err(mpsc::error::TrySendError::Full(_)) => {
                    self.skipped_full.add(1);
                    true
                }
                Err(mpsc::error::TrySendError::Closed(_)) => false,
            }
        });
        if listeners.is_empty() {
            self.attached.store(false, Ordering::Relaxed);
        }
    }
}

impl std::fmt::Debug for TapPoint {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "TapPoint({} in {}, attached: {})", self.name(), self.pipeline, self.is_attached())
    }
}

/// Every tap point of one graph, found by component and pipeline.
#[derive(Default)]
pub struct Taps {
    points: Mutex<Vec<Arc<TapPoint>>>,
}

/// Why [`Taps::find`] found no single point.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum TapLookupError {
    /// Nothing matches.
    #[error("no tap point for component \"{component}\"{pipeline}; tap points: {known}")]
    NotFound {
        /// As asked.
        component: String,
        /// ` in pipeline "x"` or empty.
        pipeline: String,
        /// Every point, `component in pipeline`, comma-separated.
        known: String,
    },
    /// Several match: the pipeline (or kind) must be given.
    #[error("component \"{component}\" is in several places ({matches}): give --pipeline (and the kind, as in processors/x)")]
    Ambiguous {
        /// As asked.
        component: String,
        /// The matching points.
        matches: String,
    },
}

impl Taps {
    /// The point of `component` (of `kind`) in `pipeline`, made on first use.
    pub fn point(
        &self,
        telemetry: &Telemetry,
        kind: Kind,
        component: &ComponentId,
        pipeline: &PipelineId,
    ) -> Arc<TapPoint> {
        let mut points = self.points.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(p) = points.iter().find(|p| p.kind == kind && &p.component == component && &p.pipeline == pipeline)
        {
            return p.clone();
        }
        let p = Arc::new(TapPoint::new(telemetry, kind, component, pipeline));
        points.push(p.clone());
        p
    }

    /// Every point, in wiring order.
    pub fn list(&self) -> Vec<Arc<TapPoint>> {
        self.points.lock().unwrap_or_else(PoisonError::into_inner).clone()
    }

    /// The point named `component` (`processors/transform`, `processor/transform` or just
    /// `transform`) in `pipeline` (any pipeline when `None`, if that leaves one).
    pub fn find(&self, component: &str, pipeline: Option<&str>) -> Result<Arc<TapPoint>, TapLookupError> {
        let (kind, id) = split_kind(component);
        let all = self.list();
        let matches: Vec<&Arc<TapPoint>> = all
            .iter()
            .filter(|p| kind.is_none_or(|k| k == p.kind) && p.component.to_string() == id)
            .filter(|p| pipeline.is_none_or(|name| p.pipeline.to_string() == name))
            .collect();
        let describe = |ps: &mut dyn Iterator<Item = &Arc<TapPoint>>| {
            ps.map(|p| format!("{} in {}", p.name(), p.pipeline)).collect::<Vec<_>>().join(", ")
        };
        match matches.as_slice() {
            [one] => Ok((*one).clone()),
            [] => Err(TapLookupError::NotFound {
                component: component.to_string(),
                pipeline: pipeline.map_or(String::new(), |p| format!(" in pipeline \"{p}\"")),
                known: describe(&mut all.iter()),
            }),
            many => Err(TapLookupError::Ambiguous {
                component: component.to_string(),
                matches: describe(&mut many.iter().copied()),
            }),
        }
    }

    /// Wraps `inner` with the point of `component` in `pipeline`.
    pub fn wrap(
        &self,
        telemetry: &Telemetry,
        kind: Kind,
        component: &ComponentId,
        pipeline: &PipelineId,
        inner: AnyConsumer,
    ) -> AnyConsumer {
        let point = self.point(telemetry, kind, component, pipeline);
        fn typed<S: Tappable>(point: Arc<TapPoint>, inner: DynConsumer<S>) -> DynConsumer<S> {
            Arc::new(TapConsumer { point, inner })
        }
        match inner {
            AnyConsumer::Traces(c) => AnyConsumer::Traces(typed(point, c)),
            AnyConsumer::Metrics(c) => AnyConsumer::Metrics(typed(point, c)),
            AnyConsumer::Logs(c) => AnyConsumer::Logs(typed(point, c)),
            AnyConsumer::Profiles(c) => AnyConsumer::Profiles(typed(point, c)),
        }
    }
}

/// `processors/x` → (Processor, "x"); `processor/x` too; anything else is an id of any kind.
fn split_kind(s: &str) -> (Option<Kind>, &str) {
    if let Some((head, rest)) = s.split_once('/') {
        for k in [Kind::Receiver, Kind::Processor, Kind::Exporter, Kind::Connector] {
            if head == k.section() || head == k.word() {
                return (Some(k), rest);
            }
        }
    }
    (None, s)
}

/// A consumer with a tap point in front of it.
pub struct TapConsumer<S> {
    point: Arc<TapPoint>,
    inner: DynConsumer<S>,
}

impl<S: Tappable> Consumer<S> for TapConsumer<S> {
    #[inline]
    fn consume<'a>(&'a self, cx: &'a RequestContext, data: S) -> BoxFuture<'a, Result<(), ConsumeError>> {
        if self.point.is_attached() {
            self.point.offer(|| data.clone().into_tap());
        }
        self.inner.consume(cx, data)
    }
}

/// The signal of a sample.
impl TapData {
    /// Which signal it is.
    pub fn signal(&self) -> Signal {
        match self {
            TapData::Traces(_) => Signal::Traces,
            TapData::Metrics(_) => Signal::Metrics,
            TapData::Logs(_) => Signal::Logs,
            TapData::Profiles(_) => Signal::Profiles,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::SinkConsumer;
    use switchyard_pdata::proto::collector::trace::v1::ExportTraceServiceRequest;
    use switchyard_pdata::proto::trace::v1::{ResourceSpans, ScopeSpans, Span};

    fn batch(name: &str) -> Traces {
        Traces::from(ExportTraceServiceRequest {
            resource_spans: vec![ResourceSpans {
                scope_spans: vec![ScopeSpans {
                    spans: vec![Span { name: name.into(), ..Default::default() }],
                    ..Default::default()
                }],
                ..Default::default()
            }],
        })
    }

    fn setup() -> (Telemetry, Taps, Arc<SinkConsumer<Traces>>, DynConsumer<Traces>) {
        let t = Telemetry::new();
        let taps = Taps::default();
        let sink = Arc::new(SinkConsumer::<Traces>::default());
        let id = ComponentId::parse("transform").unwrap();
        let p = PipelineId::parse("traces").unwrap();
        let AnyConsumer::Traces(c) = taps.wrap(&t, Kind::Processor, &id, &p, AnyConsumer::Traces(sink.clone())) else {
            panic!("signal changed")
        };
        (t, taps, sink, c)
    }

    #[tokio::test]
    async fn detached_passes_the_same_batch_without_a_copy() {
        let (_t, taps, sink, c) = setup();
        let point = taps.find("processors/transform", Some("traces")).unwrap();
        assert!(!point.is_attached());
        let b = batch("a");
        let before = b.request() as *const ExportTraceServiceRequest;
        c.consume(&RequestContext::default(), b).await.unwrap();
        let got = sink.batches();
        assert_eq!(got[0].request() as *const ExportTraceServiceRequest, before, "the very allocation");
        assert!(!point.is_attached());
    }

    #[tokio::test]
    async fn an_attached_listener_sees_batches_up_to_its_rate_and_detaches_when_dropped() {
        let (t, taps, sink, c) = setup();
        let point = taps.find("transform", None).unwrap();
        let mut rx = point.attach(2.0);
        for i in 0..5 {
            c.consume(&RequestContext::default(), batch(&format!("s{i}"))).await.unwrap();
        }
        assert_eq!(sink.item_count(), 5, "the pipeline gets everything");
        let mut got = Vec::new();
        while let Ok(TapData::Traces(tr)) = rx.try_recv() {
            got.push(tr.request().resource_spans[0].scope_spans[0].spans[0].name.clone());
        }
        assert_eq!(got, ["s0", "s1"], "a burst of at most the rate");
        let skipped: f64 = t
            .metrics
            .snapshot()
            .iter()
            .filter(|s| s.name == TAP_SKIPPED && s.label("reason") == Some("rate"))
            .map(|s| s.value)
            .sum();
        assert_eq!(skipped, 3.0);
        drop(rx);
        c.consume(&RequestContext::default(), batch("after")).await.unwrap();
        assert!(!point.is_attached(), "a dropped listener is removed at the next batch");
    }

    #[test]
    fn lookup_names_the_kind_or_not_and_explains_misses() {
        let t = Telemetry::new();
        let taps = Taps::default();
        let otlp = ComponentId::parse("otlp").unwrap();
        let (tr, lg) = (PipelineId::parse("traces").unwrap(), PipelineId::parse("logs").unwrap());
        taps.point(&t, Kind::Receiver, &otlp, &tr);
        taps.point(&t, Kind::Exporter, &otlp, &tr);
        taps.point(&t, Kind::Receiver, &otlp, &lg);
        assert_eq!(taps.find("receivers/otlp", Some("logs")).unwrap().pipeline(), &lg);
        assert_eq!(taps.find("exporter/otlp", None).unwrap().kind(), Kind::Exporter);
        assert!(matches!(taps.find("otlp", Some("traces")), Err(TapLookupError::Ambiguous { .. })));
        let e = taps.find("processors/batch", None).unwrap_err().to_string();
        assert!(e.contains("exporters/otlp in traces"), "{e}");
    }
}
