//! A queued request and what happens once its fate is known.

use std::sync::{Arc, Mutex};

use switchyard_pdata::SignalData;
use tokio::sync::oneshot;

use super::persistent_queue::WalHandle;
use super::ExportError;
use crate::consumer::RequestContext;

/// How sending a request ended.
#[derive(Clone, Debug)]
pub(crate) enum Outcome {
    /// The backend has it.
    Delivered,
    /// Gone for good (permanent error, retries exhausted); counted and logged already.
    Dropped(ExportError),
    /// Still failing when shutdown began: a persistent queue keeps it for the next start.
    /// The count is of the items not delivered (the batch itself may be gone, sent as a body).
    Interrupted(ExportError, u64),
}

impl Outcome {
    /// The worse of two outcomes (for a request sent in several parts).
    fn worst(self, other: Outcome) -> Outcome {
        match (&self, &other) {
            (Outcome::Interrupted(..), _) => self,
            (_, Outcome::Interrupted(..)) => other,
            (Outcome::Dropped(_), _) => self,
            _ => other,
        }
    }
}

/// Who must hear about a request's outcome.
pub(crate) enum Done {
    /// Nobody (in-memory queue, `wait_for_result: false`).
    Nothing,
    /// A caller waiting with `wait_for_result: true`.
    Waiter(oneshot::Sender<Result<(), ExportError>>),
    /// A persistent queue record, acknowledged once delivered or dropped.
    Ack { handle: Arc<WalHandle>, seq: u64, items: u32 },
    /// A request split across several sends: completes when the last part does.
    Shared(Arc<SharedDone>),
}

/// Completion shared by the parts of a split request.
pub(crate) struct SharedDone {
    state: Mutex<(usize, Option<Outcome>, Vec<Done>)>,
}

impl SharedDone {
    /// `parts` sends will report to `done`.
    pub fn new(parts: usize, done: Vec<Done>) -> Arc<SharedDone> {
        Arc::new(SharedDone { state: Mutex::new((parts, None, done)) })
    }
}

impl Done {
    /// Reports `outcome`.
    pub fn complete(self, outcome: &Outcome) {
        match self {
            Done::Nothing => {}
            Done::Waiter(tx) => {
                let _ = tx.send(match outcome {
                    Outcome::Delivered => Ok(()),
                    Outcome::Dropped(e) | Outcome::Interrupted(e, _) => Err(e.clone()),
                });
            }
            Done::Ack { handle, seq, items } => {
                // Interrupted: not acknowledged, so it is sent again after the restart.
                if !matches!(outcome, Outcome::Interrupted(..)) {
                    handle.ack(seq, items);
                }
            }
            Done::Shared(shared) => {
                let finished = {
                    let mut st = shared.state.lock().unwrap_or_else(|e| e.into_inner());
                    st.0 = st.0.saturating_sub(1);
                    st.1 = Some(match st.1.take() {
                        Some(prev) => prev.worst(outcome.clone()),
                        None => outcome.clone(),
                    });
                    (st.0 == 0).then(|| (st.1.take(), std::mem::take(&mut st.2)))
                };
                if let Some((Some(outcome), dones)) = finished {
                    for d in dones {
                        d.complete(&outcome);
                    }
                }
            }
        }
    }
}

/// A request in the queue, or several merged into one batch.
pub(crate) struct Queued<S: SignalData> {
    pub data: S,
    pub cx: RequestContext,
    pub done: Vec<Done>,
}

impl<S: SignalData> Queued<S> {
    /// Reports `outcome` to everyone waiting on this request.
    pub fn complete(self, outcome: &Outcome) {
        for d in self.done {
            d.complete(outcome);
        }
    }
}
