//! Running the detectors: each bounded by `timeout` (with retries inside that budget, or
//! inside `retry.max_elapsed_time`), all at once, merged in config order so the first
//! detector to set an attribute wins; then published for the hot path.

use std::sync::Arc;
use std::time::{Duration, Instant};

use arc_swap::ArcSwap;
use switchyard_core::component::ComponentId;
use switchyard_pdata::proto::common::v1::KeyValue;

use super::detectors::{DetectCx, DetectError, Detected, Detector};
use switchyard_core::exporterhelper::{Backoff, RetryConfig};

/// The merged result the hot path applies: a short list, cloned into each resource.
#[derive(Debug, Default, PartialEq)]
pub struct Merged {
    /// Attributes, first detector's value for each key.
    pub attrs: Vec<KeyValue>,
    /// Schema URL: the first non-empty one.
    pub schema_url: String,
}

/// The detectors of one processor and their last good results.
pub struct Detection {
    pub(crate) id: ComponentId,
    pub(crate) detectors: Vec<Detector>,
    pub(crate) cx: DetectCx,
    pub(crate) timeout: Duration,
    pub(crate) retry: RetryConfig,
    pub(crate) fail_on_missing: bool,
    /// Last good result per detector (kept when a refresh fails).
    last: std::sync::Mutex<Vec<Option<Detected>>>,
    /// What the hot path reads.
    pub(crate) published: ArcSwap<Merged>,
}

impl Detection {
    /// Detectors in config order, nothing detected yet.
    pub fn new(
        id: ComponentId,
        detectors: Vec<Detector>,
        cx: DetectCx,
        timeout: Duration,
        retry: RetryConfig,
        fail_on_missing: bool,
    ) -> Self {
        let n = detectors.len();
        Detection {
            id,
            detectors,
            cx,
            timeout,
            retry,
            fail_on_missing,
            last: std::sync::Mutex::new(vec![None; n]),
            published: ArcSwap::from_pointee(Merged::default()),
        }
    }

    /// Runs every detector and publishes the merge. `first`: the detection at start (its
    /// results are logged at info). Returns an error only when `fail_on_missing_metadata`
    /// is set and a network detector could not reach its metadata.
    pub async fn run(&self, first: bool) -> Result<(), String> {
        let results = futures::future::join_all(self.detectors.iter().map(|d| self.run_one(d))).await;
        let mut fatal = Vec::new();
        {
            let mut last = self.last.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
            for ((d, r), slot) in self.detectors.iter().zip(results).zip(last.iter_mut()) {
                match r {
                    Ok(found) => {
                        if first || Some(&found) != slot.as_ref() {
                            tracing::info!(processor = %self.id, detector = d.name(), attributes = ?found.keys(),
                                "Resource detected.");
                        }
                        *slot = Some(found);
                    }
                    Err(e) => {
                        let missing = matches!(e, DetectError::Missing(_));
                        if missing && !self.fail_on_missing {
                            if first {
                                tracing::info!(processor = %self.id, detector = d.name(), reason = %e,
                                    "Metadata not available: the detector sets nothing.");
                                *slot = Some(Detected::empty());
                            } else {
                                // A service gone for a moment does not wipe what it said before.
                                tracing::debug!(processor = %self.id, detector = d.name(), reason = %e,
                                    "Metadata not available on refresh: the previous result is kept.");
                            }
                            continue;
                        }
                        if self.fail_on_missing && first && (missing || d.is_network()) {
                            fatal.push(format!("detector \"{}\": {e}", d.name()));
                        }
                        if first {
                            tracing::warn!(processor = %self.id, detector = d.name(), error = %e,
                                "Resource detection failed: the detector contributes nothing.");
                        } else {
                            tracing::warn!(processor = %self.id, detector = d.name(), error = %e,
                                "Resource refresh failed: the detector's previous result is kept.");
                        }
                    }
                }
            }
            self.published.store(Arc::new(merge(last.iter().flatten())));
        }
        if fatal.is_empty() {
            Ok(())
        } else {
            Err(fatal.join("; "))
        }
    }

    /// One detector within its budget, with the retry policy.
    async fn run_one(&self, d: &Detector) -> Result<Detected, DetectError> {
        let start = Instant::now();
        let total = if self.retry.max_elapsed_time.is_zero() { self.timeout } else { self.retry.max_elapsed_time };
        let mut backoff = Backoff::new(&self.retry);
        loop {
            let left = if total.is_zero() { Duration::MAX } else { total.saturating_sub(start.elapsed()) };
            let attempt_budget = if self.retry.max_elapsed_time.is_zero() || self.timeout.is_zero() {
                left
            } else {
                left.min(self.timeout)
            };
            let err = match tokio::time::timeout(attempt_budget, d.detect(&self.cx)).await {
                Ok(Ok(found)) => return Ok(found),
                // Not on this platform: nothing to retry.
                Ok(Err(e @ DetectError::Missing(_))) if !self.fail_on_missing => return Err(e),
                Ok(Err(e)) => e,
                Err(_) => DetectError::Failed(format!("timed out after {attempt_budget:?}")),
            };
            let delay = backoff.next_delay(None);
            let elapsed = start.elapsed();
            if !self.retry.enabled || (!total.is_zero() && elapsed + delay >= total) {
                return Err(match err {
                    DetectError::Failed(m) if m.starts_with("timed out") => {
                        DetectError::Failed(format!("timed out after {:?}", elapsed))
                    }
                    e => e,
                });
            }
            tokio::time::sleep(delay).await;
        }
    }
}

/// Merges detector results in order: the first to set a key wins; the first non-empty
/// schema URL is kept.
pub fn merge<'a>(results: impl Iterator<Item = &'a Detected>) -> Merged {
    let mut out = Merged::default();
    for r in results {
        for kv in &r.attrs {
            if !out.attrs.iter().any(|x| x.key == kv.key) {
                out.attrs.push(kv.clone());
            }
        }
        if out.schema_url.is_empty() {
            out.schema_url.clone_from(&r.schema_url);
        }
    }
    out
}
