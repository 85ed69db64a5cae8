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
            let Some((last, rest)) = self.consumers.split_last() else { return Ok(()) };
            if rest.is_empty() {
                return last.consume(cx, data).await;
            }
            let mut calls = Vec::with_capacity(self.consumers.len());
            for c in rest {
                // A mutating consumer gets a deep copy up front; a reader shares the batch.
                let batch =
                    if c.capabilities().mutates_data { S::from_request(data.request().clone()) } else { data.clone() };
                calls.push(c.consume(cx, batch));
            }
            calls.push(last.consume(cx, data));
            let mut retryable = None;
            for r in join_all(calls).await {
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
