//! The router a connector emits into: the first consumer of every pipeline it feeds, by
//! pipeline id, plus the fan-out to all of them (the Collector's
//! `connector.TracesRouterAndConsumer`).
//!
//! A connector like `forward` sends everything to [`Router::all`]; one like `routing` picks
//! pipelines per batch with [`Router::consumer`], resolving its table once at creation.

use std::sync::Arc;

use indexmap::IndexMap;
use switchyard_pdata::{Signal, SignalData};

use super::{AnyConsumer, DynConsumer, Fanout};
use crate::component::PipelineId;

/// A pipeline id the router does not feed was asked for.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum RouterError {
    /// Some ids are not pipelines this connector feeds (they do not list it as a receiver,
    /// or are of another signal).
    #[error("not fed by this connector: {}", .missing.iter().map(|p| format!("\"{p}\"")).collect::<Vec<_>>().join(", "))]
    Missing {
        /// The ids asked for and not found.
        missing: Vec<PipelineId>,
    },
    /// No pipeline id was given.
    #[error("no pipeline given")]
    Empty,
}

/// The consumers of the pipelines one connector instance feeds (all of one signal), by
/// pipeline id, in config order. Cheap to clone.
pub struct Router<S: SignalData> {
    routes: IndexMap<PipelineId, DynConsumer<S>>,
    all: DynConsumer<S>,
}

impl<S: SignalData> Clone for Router<S> {
    fn clone(&self) -> Self {
        Router { routes: self.routes.clone(), all: self.all.clone() }
    }
}

impl<S: SignalData> Router<S> {
    /// A router over these pipelines (their first consumers). Listing an id twice keeps
    /// the first. An empty router's [`Router::all`] accepts and drops everything.
    pub fn new(routes: impl IntoIterator<Item = (PipelineId, DynConsumer<S>)>) -> Self {
        let mut map = IndexMap::new();
        for (id, c) in routes {
            map.entry(id).or_insert(c);
        }
        let all = fan(map.values().cloned().collect());
        Router { routes: map, all }
    }

    /// The ids of the pipelines it feeds, in config order.
    pub fn pipeline_ids(&self) -> impl Iterator<Item = &PipelineId> {
        self.routes.keys()
    }

    /// The first consumer of one pipeline.
    pub fn get(&self, id: &PipelineId) -> Option<&DynConsumer<S>> {
        self.routes.get(id)
    }

    /// One consumer for several pipelines (a fan-out when more than one): what a routing
    /// table entry resolves to, once, when the connector is created. Every missing id is
    /// reported, not just the first.
    pub fn consumer(&self, ids: &[PipelineId]) -> Result<DynConsumer<S>, RouterError> {
        if ids.is_empty() {
            return Err(RouterError::Empty);
        }
        let missing: Vec<PipelineId> = ids.iter().filter(|id| !self.routes.contains_key(*id)).cloned().collect();
        if !missing.is_empty() {
            return Err(RouterError::Missing { missing });
        }
        let mut chosen: Vec<DynConsumer<S>> = Vec::with_capacity(ids.len());
        for (i, id) in ids.iter().enumerate() {
            // Named twice in one entry is one edge: the pipeline gets the batch once.
            if ids[..i].contains(id) {
                continue;
            }
            chosen.extend(self.routes.get(id).cloned());
        }
        Ok(fan(chosen))
    }

    /// The fan-out to every pipeline it feeds.
    pub fn all(&self) -> &DynConsumer<S> {
        &self.all
    }
}

fn fan<S: SignalData>(mut consumers: Vec<DynConsumer<S>>) -> DynConsumer<S> {
    if consumers.len() == 1 {
        if let Some(c) = consumers.pop() {
            return c;
        }
    }
    Arc::new(Fanout::new(consumers))
}

/// A router of any one signal: what a connector factory gets, so wiring code is written once.
#[derive(Clone)]
pub enum AnyRouter {
    /// Into traces pipelines.
    Traces(Router<switchyard_pdata::Traces>),
    /// Into metrics pipelines.
    Metrics(Router<switchyard_pdata::Metrics>),
    /// Into logs pipelines.
    Logs(Router<switchyard_pdata::Logs>),
    /// Into profiles pipelines.
    Profiles(Router<switchyard_pdata::Profiles>),
}

impl AnyRouter {
    /// The signal of the pipelines it feeds.
    pub fn signal(&self) -> Signal {
        match self {
            AnyRouter::Traces(_) => Signal::Traces,
            AnyRouter::Metrics(_) => Signal::Metrics,
            AnyRouter::Logs(_) => Signal::Logs,
            AnyRouter::Profiles(_) => Signal::Profiles,
        }
    }

    /// The fan-out to every pipeline it feeds (what `forward` passes data to).
    pub fn all(&self) -> AnyConsumer {
        match self {
            AnyRouter::Traces(r) => AnyConsumer::Traces(r.all().clone()),
            AnyRouter::Metrics(r) => AnyConsumer::Metrics(r.all().clone()),
            AnyRouter::Logs(r) => AnyConsumer::Logs(r.all().clone()),
            AnyRouter::Profiles(r) => AnyConsumer::Profiles(r.all().clone()),
        }
    }

    /// The ids of the pipelines it feeds, in config order.
    pub fn pipeline_ids(&self) -> Vec<PipelineId> {
        crate::with_any_router!(self, r => r.pipeline_ids().cloned().collect())
    }

    /// A router over pipelines given as untyped consumers; `None` if one is not of `signal`.
    pub fn from_any(signal: Signal, routes: Vec<(PipelineId, AnyConsumer)>) -> Option<AnyRouter> {
        macro_rules! typed {
            ($variant:ident) => {
                routes
                    .into_iter()
                    .map(|(id, c)| match c {
                        AnyConsumer::$variant(c) => Some((id, c)),
                        _ => None,
                    })
                    .collect::<Option<Vec<_>>>()
                    .map(|r| AnyRouter::$variant(Router::new(r)))
            };
        }
        match signal {
            Signal::Traces => typed!(Traces),
            Signal::Metrics => typed!(Metrics),
            Signal::Logs => typed!(Logs),
            Signal::Profiles => typed!(Profiles),
        }
    }
}

/// Runs a generic expression on whichever router an [`AnyRouter`] holds; every arm must give
/// the same type: `with_any_router!(next, r => build(r))`.
#[macro_export]
macro_rules! with_any_router {
    ($any:expr, $r:ident => $body:expr) => {
        match $any {
            $crate::consumer::AnyRouter::Traces($r) => $body,
            $crate::consumer::AnyRouter::Metrics($r) => $body,
            $crate::consumer::AnyRouter::Logs($r) => $body,
            $crate::consumer::AnyRouter::Profiles($r) => $body,
        }
    };
}

#[cfg(test)]
mod tests {
    use switchyard_pdata::Traces;

    use super::*;
    use crate::consumer::RequestContext;
    use crate::testing::{traces, SinkConsumer};

    fn id(s: &str) -> PipelineId {
        PipelineId::parse(s).unwrap()
    }

    #[tokio::test]
    async fn resolves_pipelines_by_id_and_fans_out_to_all() {
        let a = SinkConsumer::<Traces>::new();
        let b = SinkConsumer::<Traces>::new();
        let r = Router::new([(id("traces/a"), a.clone() as DynConsumer<Traces>), (id("traces/b"), b.clone())]);
        assert_eq!(r.pipeline_ids().map(ToString::to_string).collect::<Vec<_>>(), ["traces/a", "traces/b"]);
        let cx = RequestContext::default();
        r.consumer(&[id("traces/b")]).unwrap().consume(&cx, traces(1)).await.unwrap();
        assert_eq!((a.item_count(), b.item_count()), (0, 1));
        r.consumer(&[id("traces/a"), id("traces/b"), id("traces/a")]).unwrap().consume(&cx, traces(2)).await.unwrap();
        assert_eq!((a.item_count(), b.item_count()), (2, 3), "named twice, delivered once");
        r.all().consume(&cx, traces(4)).await.unwrap();
        assert_eq!((a.item_count(), b.item_count()), (6, 7));
        let err = r.consumer(&[id("traces/a"), id("traces/x"), id("logs")]).err().unwrap();
        assert_eq!(err.to_string(), "not fed by this connector: \"traces/x\", \"logs\"");
        assert_eq!(r.consumer(&[]).err(), Some(RouterError::Empty));
    }
}
