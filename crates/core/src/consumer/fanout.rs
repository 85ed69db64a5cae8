//! Fan-out: one batch to several consumers, all of them called even when one fails.
//!
//! Consumers run concurrently, so a slow one (an exporter whose queue blocks) does not delay
//! handing the batch to the others.
//!
//! # Why there is no `mutates_data` here
//!
//! The Collector's fan-out asks each consumer whether it mutates and clones the batch for
//! those that do, because Go's pdata is shared mutable memory. Ours is copy-on-write: every
//! consumer gets a reference-counted handle, and the only way to change a batch is
//! [`SignalData::make_mut`], which copies it first if any other handle is alive. So:
//!
//! - a batch shared by N consumers is never changed under another one: the type system
//!   forbids it, no flag has to be right;
//! - an unshared batch (one consumer, or the last holder) is changed in place, never copied;
//! - copies happen lazily, only in consumers that really change the data, and only while the
//!   batch is still shared: with M mutating consumers and no reader keeping the batch, the
//!   last one to mutate finds itself the sole holder, so there are at most M-1 copies (the
//!   Collector's count), and none for a processor that in the end leaves the data alone.
//!
//! A deep copy up front (what this module did before) was never needed for correctness and
//! cost a copy even when the mutating consumer would have been the sole holder.

use futures::future::{join_all, BoxFuture};
use switchyard_pdata::SignalData;

use super::{ConsumeError, Consumer, DynConsumer, RequestContext};

/// Calls every consumer with the same (shared) batch and joins their errors with
/// [`ConsumeError::join`]: success only if every consumer succeeded.
pub struct Fanout<S: SignalData> {
    consumers: Vec<DynConsumer<S>>,
}

impl<S: SignalData> Fanout<S> {
    /// A fan-out to these consumers, in this order (the order only affects polling).
    pub fn new(consumers: Vec<DynConsumer<S>>) -> Self {
        Fanout { consumers }
    }

    /// How many consumers it calls.
    pub fn len(&self) -> usize {
        self.consumers.len()
    }

    /// True when it calls no one (consuming then always succeeds).
    pub fn is_empty(&self) -> bool {
        self.consumers.is_empty()
    }
}

impl<S: SignalData> Consumer<S> for Fanout<S> {
    fn consume<'a>(&'a self, cx: &'a RequestContext, data: S) -> BoxFuture<'a, Result<(), ConsumeError>> {
        Box::pin(async move {
            let Some((last, rest)) = self.consumers.split_last() else { return Ok(()) };
            if rest.is_empty() {
                return last.consume(cx, data).await;
            }
            // Every consumer but the last gets a new handle; the last takes ours, so once
            // the others are done with theirs it may change the batch without a copy.
            let mut calls: Vec<_> = rest.iter().map(|c| c.consume(cx, data.clone())).collect();
            calls.push(last.consume(cx, data));
            let errors: Vec<ConsumeError> = join_all(calls).await.into_iter().filter_map(Result::err).collect();
            ConsumeError::join(errors).map_or(Ok(()), Err)
        })
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::{Arc, Mutex};
    use std::time::Duration;

    use switchyard_pdata::Traces;

    use super::*;
    use crate::testing::{traces, SinkConsumer};

    /// Renames every span and records the address of the request it changed.
    #[derive(Default)]
    struct Renamer {
        changed_at: Mutex<Vec<usize>>,
        seen: Mutex<Vec<Traces>>,
    }

    impl Consumer<Traces> for Renamer {
        fn consume<'a>(&'a self, _cx: &'a RequestContext, mut data: Traces) -> BoxFuture<'a, Result<(), ConsumeError>> {
            Box::pin(async move {
                let req = data.make_mut();
                for rs in &mut req.resource_spans {
                    for ss in &mut rs.scope_spans {
                        for span in &mut ss.spans {
                            span.name = "renamed".into();
                        }
                    }
                }
                self.changed_at.lock().unwrap().push(addr(&data));
                self.seen.lock().unwrap().push(data);
                Ok(())
            })
        }
    }

    fn addr(t: &Traces) -> usize {
        std::ptr::from_ref(t.request()) as usize
    }

    fn names(t: &Traces) -> Vec<String> {
        switchyard_pdata::walk::spans(t.request()).map(|s| s.span.name.clone()).collect()
    }

    #[tokio::test]
    async fn calls_every_consumer_and_joins_errors() {
        let a = SinkConsumer::<Traces>::new();
        let b = SinkConsumer::<Traces>::new();
        let c = SinkConsumer::<Traces>::new();
        b.fail_with(Some(ConsumeError::retryable("b is down")));
        c.fail_with(Some(ConsumeError::permanent("c refuses")));
        let f = Fanout::new(vec![a.clone() as DynConsumer<Traces>, b.clone(), c.clone()]);
        let err = f.consume(&RequestContext::default(), traces(3)).await.expect_err("two failed");
        assert_eq!(a.item_count(), 3, "the healthy consumer still got the batch");
        assert!(matches!(err, ConsumeError::Permanent { .. }), "any permanent error makes the join permanent: {err:?}");
        assert_eq!(err.to_string(), "b is down; c refuses");

        c.fail_with(None);
        let err = f.consume(&RequestContext::default(), traces(1)).await.expect_err("b failed");
        assert!(err.is_retryable());
        assert_eq!(err.to_string(), "b is down", "a single error is kept as it is");
        b.fail_with(None);
        f.consume(&RequestContext::default(), traces(1)).await.expect("all succeed");
        assert_eq!((a.item_count(), b.item_count(), c.item_count()), (5, 1, 2), "a failing sink keeps nothing");
    }

    #[tokio::test]
    async fn a_mutating_consumer_never_changes_what_a_reader_sees() {
        let reader = SinkConsumer::<Traces>::new();
        let mutator = Arc::new(Renamer::default());
        // Both orders: the mutator polled first (reader not yet holding) and last.
        for consumers in [
            vec![mutator.clone() as DynConsumer<Traces>, reader.clone()],
            vec![reader.clone() as DynConsumer<Traces>, mutator.clone()],
        ] {
            let data = traces(2);
            let original = addr(&data);
            Fanout::new(consumers).consume(&RequestContext::default(), data).await.expect("ok");
            let read = reader.batches().pop().unwrap();
            assert_eq!(names(&read), ["span-1", "span-2"], "the reader's batch is untouched");
            assert_eq!(addr(&read), original, "the reader shares the original, no copy");
            let changed = mutator.seen.lock().unwrap().pop().unwrap();
            assert_eq!(names(&changed), ["renamed", "renamed"]);
            assert_ne!(addr(&changed), original, "the mutator changed its own copy");
        }
    }

    #[tokio::test]
    async fn mutating_consumers_copy_only_while_the_batch_is_shared() {
        let m1 = Arc::new(Renamer::default());
        let m2 = Arc::new(Renamer::default());
        let data = traces(1);
        let original = addr(&data);
        Fanout::new(vec![m1.clone() as DynConsumer<Traces>, m2.clone()])
            .consume(&RequestContext::default(), data)
            .await
            .expect("ok");
        let at = [m1.changed_at.lock().unwrap()[0], m2.changed_at.lock().unwrap()[0]];
        assert_eq!(at.iter().filter(|a| **a == original).count(), 1, "one copy for two mutators: {at:?}");

        // Alone, a mutator changes the batch in place.
        let data = traces(1);
        let original = addr(&data);
        Fanout::new(vec![m1.clone() as DynConsumer<Traces>]).consume(&RequestContext::default(), data).await.unwrap();
        assert_eq!(*m1.changed_at.lock().unwrap().last().unwrap(), original, "unshared: changed in place");
    }

    /// Waits, then counts; proves the consumers run concurrently.
    struct Slow(Arc<AtomicUsize>);

    impl Consumer<Traces> for Slow {
        fn consume<'a>(&'a self, _cx: &'a RequestContext, _data: Traces) -> BoxFuture<'a, Result<(), ConsumeError>> {
            Box::pin(async move {
                tokio::time::sleep(Duration::from_millis(100)).await;
                self.0.fetch_add(1, Ordering::Relaxed);
                Ok(())
            })
        }
    }

    #[tokio::test(start_paused = true)]
    async fn consumers_run_concurrently() {
        let n = Arc::new(AtomicUsize::new(0));
        let f = Fanout::new((0..3).map(|_| Arc::new(Slow(n.clone())) as DynConsumer<Traces>).collect());
        let start = tokio::time::Instant::now();
        f.consume(&RequestContext::default(), traces(1)).await.unwrap();
        assert_eq!(n.load(Ordering::Relaxed), 3);
        assert_eq!(
            start.elapsed(),
            Duration::from_millis(100),
            "not 300ms: one slow consumer does not delay the others"
        );
    }
}
