//! Fan-out: one batch to several consumers, all of them called even when one fails.
//!
//! Consumers run concurrently, so a slow one (an exporter whose queue blocks) does not delay
//! handing the batch to the others. The batch is shared by reference; a mutating consumer
//! gets its own copy, except the last one when no read-only consumer remains (it may take
//! the original, as the Collector's fan-out does).

use futures::future::{join_all, BoxFuture};
use switchyard_pdata::SignalData;

use super::{Capabilities, ConsumeError, Consumer, DynConsumer, RequestContext};

/// Calls every consumer; the result is the first permanent error if any, else the first
/// retryable one, else success.
pub struct Fanout<S: SignalData> {
    consumers: Vec<DynConsumer<S>>,
}

impl<S: SignalData> Fanout<S> {
    /// A fan-out to these consumers (read-only ones first, so the copy rule works).
    pub fn new(mut consumers: Vec<DynConsumer<S>>) -> Self {
        consumers.sort_by_key(|c| c.capabilities().mutates_data);
        Fanout { consumers }
    }
}

impl<S: SignalData> Consumer<S> for Fanout<S> {
    fn capabilities(&self) -> Capabilities {
        Capabilities { mutates_data: false }
    }

    fn consume<'a>(&'a self, cx: &'a RequestContext, data: S) -> BoxFuture<'a, Result<(), ConsumeError>> {
        Box::pin(async move {
            if let [only] = self.consumers.as_slice() {
                return only.consume(cx, data).await;
            }
            let last = self.consumers.len().saturating_sub(1);
            let mut data = Some(data);
            let calls = self.consumers.iter().enumerate().map(|(i, c)| {
                let batch = if i == last {
                    data.take().unwrap_or_else(|| unreachable_batch::<S>())
                } else if c.capabilities().mutates_data {
                    // A deep copy up front: the clone would otherwise be shared with the rest.
                    data.as_ref().map(|d| S::from_request(d.request().clone())).unwrap_or_else(unreachable_batch::<S>)
                } else {
                    data.clone().unwrap_or_else(unreachable_batch::<S>)
                };
                c.consume(cx, batch)
            });
            let results = join_all(calls).await;
            let mut retryable = None;
            for r in results {
                match r {
                    Ok(()) => {}
                    Err(e @ ConsumeError::Permanent { .. }) => return Err(e),
                    Err(e) => {
                        retryable.get_or_insert(e);
                    }
                }
            }
            retryable.map_or(Ok(()), Err)
        })
    }
}

/// `data` is only taken for the last consumer, so this is never reached; an empty batch is
/// the harmless answer if it were.
fn unreachable_batch<S: SignalData>() -> S {
    S::from_request(Default::default())
}
