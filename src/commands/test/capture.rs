//! What a test build records: a [`SinkConsumer`] in place of every (exporter, signal), and
//! one behind every pipeline's last processor that records and passes the data on.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};

use futures::future::BoxFuture;
use switchyard_core::component::{ComponentId, PipelineId};
use switchyard_core::consumer::{AnyConsumer, ConsumeError, Consumer, DynConsumer, RequestContext};
use switchyard_core::testing::SinkConsumer;
use switchyard_pdata::{Logs, Metrics, Profiles, Signal, SignalData, Traces};

/// The batches one exporter or pipeline received, of one signal.
#[derive(Clone)]
pub enum Recorded {
    /// Spans.
    Traces(Arc<SinkConsumer<Traces>>),
    /// Data points.
    Metrics(Arc<SinkConsumer<Metrics>>),
    /// Log records.
    Logs(Arc<SinkConsumer<Logs>>),
    /// Profiles (recorded, never asserted).
    Profiles(Arc<SinkConsumer<Profiles>>),
}

impl Recorded {
    fn new(signal: Signal) -> Recorded {
        match signal {
            Signal::Traces => Recorded::Traces(SinkConsumer::new()),
            Signal::Metrics => Recorded::Metrics(SinkConsumer::new()),
            Signal::Logs => Recorded::Logs(SinkConsumer::new()),
            Signal::Profiles => Recorded::Profiles(SinkConsumer::new()),
        }
    }

    fn consumer(&self) -> AnyConsumer {
        match self {
            Recorded::Traces(s) => AnyConsumer::Traces(s.clone()),
            Recorded::Metrics(s) => AnyConsumer::Metrics(s.clone()),
            Recorded::Logs(s) => AnyConsumer::Logs(s.clone()),
            Recorded::Profiles(s) => AnyConsumer::Profiles(s.clone()),
        }
    }

    /// Items received (spans, data points, log records).
    pub fn item_count(&self) -> usize {
        match self {
            Recorded::Traces(s) => s.item_count(),
            Recorded::Metrics(s) => s.item_count(),
            Recorded::Logs(s) => s.item_count(),
            Recorded::Profiles(s) => s.item_count(),
        }
    }
}

/// Everything one case's graph recorded.
#[derive(Default)]
pub struct Captures {
    exporters: Mutex<HashMap<(ComponentId, Signal), Recorded>>,
    pipelines: Mutex<HashMap<PipelineId, Recorded>>,
}

impl Captures {
    /// The consumer standing in for exporter `id` of `signal`.
    pub fn exporter(&self, id: &ComponentId, signal: Signal) -> AnyConsumer {
        let rec = Recorded::new(signal);
        let consumer = rec.consumer();
        self.exporters.lock().unwrap_or_else(PoisonError::into_inner).insert((id.clone(), signal), rec);
        consumer
    }

    /// Records what pipeline `id` hands on, then passes it to `next`.
    pub fn pipeline_output(&self, id: &PipelineId, next: AnyConsumer) -> AnyConsumer {
        let rec = Recorded::new(next.signal());
        let tee = match (&rec, next) {
            (Recorded::Traces(s), AnyConsumer::Traces(n)) => AnyConsumer::Traces(Tee::arc(s, n)),
            (Recorded::Metrics(s), AnyConsumer::Metrics(n)) => AnyConsumer::Metrics(Tee::arc(s, n)),
            (Recorded::Logs(s), AnyConsumer::Logs(n)) => AnyConsumer::Logs(Tee::arc(s, n)),
            (Recorded::Profiles(s), AnyConsumer::Profiles(n)) => AnyConsumer::Profiles(Tee::arc(s, n)),
            (_, next) => return next, // cannot happen: `rec` was made for next's signal
        };
        self.pipelines.lock().unwrap_or_else(PoisonError::into_inner).insert(id.clone(), rec);
        tee
    }

    /// What exporter `id` received of `signal` (`None`: no pipeline of that signal uses it).
    pub fn of_exporter(&self, id: &ComponentId, signal: Signal) -> Option<Recorded> {
        self.exporters.lock().unwrap_or_else(PoisonError::into_inner).get(&(id.clone(), signal)).cloned()
    }

    /// What pipeline `id` handed on.
    pub fn of_pipeline(&self, id: &PipelineId) -> Option<Recorded> {
        self.pipelines.lock().unwrap_or_else(PoisonError::into_inner).get(id).cloned()
    }

    /// Exporters that received items of `signal`, with their counts, sorted by id: shown
    /// when an exporter got fewer items than expected, to say where they went.
    pub fn exporter_counts(&self, signal: Signal) -> Vec<(String, usize)> {
        let map = self.exporters.lock().unwrap_or_else(PoisonError::into_inner);
        let mut out: Vec<(String, usize)> = map
            .iter()
            .filter(|((_, s), _)| *s == signal)
            .map(|((id, _), r)| (id.to_string(), r.item_count()))
            .filter(|(_, n)| *n > 0)
            .collect();
        out.sort();
        out
    }
}

/// Records each batch (a shared handle, so later changes downstream copy instead of
/// changing the record), then hands it on.
struct Tee<S: SignalData> {
    sink: Arc<SinkConsumer<S>>,
    next: DynConsumer<S>,
}

impl<S: SignalData> Tee<S> {
    fn arc(sink: &Arc<SinkConsumer<S>>, next: DynConsumer<S>) -> DynConsumer<S> {
        Arc::new(Tee { sink: sink.clone(), next })
    }
}

impl<S: SignalData> Consumer<S> for Tee<S> {
    fn consume<'a>(&'a self, cx: &'a RequestContext, data: S) -> BoxFuture<'a, Result<(), ConsumeError>> {
        Box::pin(async move {
            self.sink.consume(cx, data.clone()).await?;
            self.next.consume(cx, data).await
        })
    }
}
