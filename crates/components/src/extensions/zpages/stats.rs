//! Live numbers per component, read from the telemetry registry every component counts
//! into (the same series `/metrics` serves), and items per second from two snapshots a
//! sampling tick apart.

use std::sync::{Mutex, PoisonError};
use std::time::Instant;

use switchyard_core::telemetry::{names, Sample, Telemetry};

/// Totals (or per-second rates) of one component. `None` where the kind has no such count.
#[derive(Clone, Copy, Debug, Default, PartialEq, serde::Serialize)]
pub struct Counts {
    /// Items in: accepted by a receiver, handed to a processor.
    pub r#in: Option<f64>,
    /// Items out: passed on by a processor, sent by an exporter.
    pub out: Option<f64>,
    /// Items refused: by the pipeline behind a receiver, or at an exporter's queue.
    pub refused: Option<f64>,
    /// Items an exporter failed to send.
    pub failed: Option<f64>,
    /// Items dropped: by a filter processor, or by an exporter (by any reason).
    pub dropped: Option<f64>,
}

/// The kind of a component, as the page groups them.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Kind {
    /// A receiver.
    Receiver,
    /// A processor.
    Processor,
    /// An exporter.
    Exporter,
    /// A connector (not counted by the registry: it is shown without numbers).
    Connector,
}

fn sum(samples: &[Sample], matches: impl Fn(&Sample) -> bool) -> f64 {
    samples.iter().filter(|s| matches(s)).map(|s| s.value).sum()
}

fn family(s: &Sample, prefix: &str) -> bool {
    s.name.strip_prefix(prefix).is_some_and(|rest| rest.starts_with('_'))
}

/// The counts of component `id` of `kind` in one snapshot.
pub fn counts(samples: &[Sample], kind: Kind, id: &str) -> Counts {
    let by = |label: &'static str| move |s: &Sample| s.label(label) == Some(id);
    match kind {
        Kind::Receiver => {
            let is = by("receiver");
            Counts {
                r#in: Some(sum(samples, |s| family(s, names::RECEIVER_ACCEPTED) && is(s))),
                refused: Some(sum(samples, |s| family(s, names::RECEIVER_REFUSED) && is(s))),
                ..Counts::default()
            }
        }
        Kind::Processor => {
            let is = by("processor");
            let filtered = [
                names::PROCESSOR_FILTER_SPANS_FILTERED,
                names::PROCESSOR_FILTER_LOGS_FILTERED,
                names::PROCESSOR_FILTER_DATAPOINTS_FILTERED,
            ];
            Counts {
                r#in: Some(sum(samples, |s| s.name == names::PROCESSOR_INCOMING_ITEMS && is(s))),
                out: Some(sum(samples, |s| s.name == names::PROCESSOR_OUTGOING_ITEMS && is(s))),
                dropped: Some(sum(samples, |s| filtered.contains(&s.name.as_str()) && s.label("filter") == Some(id))),
                ..Counts::default()
            }
        }
        Kind::Exporter => {
            let is = by("exporter");
            Counts {
                out: Some(sum(samples, |s| family(s, names::EXPORTER_SENT) && is(s))),
                failed: Some(sum(samples, |s| family(s, names::EXPORTER_SEND_FAILED) && is(s))),
                refused: Some(sum(samples, |s| family(s, names::EXPORTER_ENQUEUE_FAILED) && is(s))),
                dropped: Some(sum(samples, |s| family(s, names::EXPORTER_DROPPED) && is(s))),
                ..Counts::default()
            }
        }
        Kind::Connector => Counts::default(),
    }
}

/// An exporter's queue occupancy and capacity (summed over its signals), if it has a queue.
pub fn queue(samples: &[Sample], id: &str) -> Option<(f64, f64)> {
    let is = |s: &Sample| s.label("exporter") == Some(id);
    let cap = sum(samples, |s| s.name == names::EXPORTER_QUEUE_CAPACITY && is(s));
    let size = sum(samples, |s| s.name == names::EXPORTER_QUEUE_SIZE && is(s));
    (cap > 0.0).then_some((size, cap))
}

fn rate(now: Option<f64>, before: Option<f64>, secs: f64) -> Option<f64> {
    Some(((now? - before.unwrap_or(0.0)) / secs).max(0.0))
}

/// Two snapshots of the registry a tick apart, refreshed by [`Sampler::tick`].
pub struct Sampler {
    telemetry: Telemetry,
    state: Mutex<State>,
}

struct State {
    before: (Instant, Vec<Sample>),
    now: (Instant, Vec<Sample>),
}

impl Sampler {
    /// A sampler with one snapshot taken now.
    pub fn new(telemetry: Telemetry) -> Sampler {
        let first = (Instant::now(), telemetry.metrics.snapshot());
        Sampler { telemetry, state: Mutex::new(State { before: first.clone(), now: first }) }
    }

    /// Takes a new snapshot; the previous one becomes the base of the rates.
    pub fn tick(&self) {
        let fresh = (Instant::now(), self.telemetry.metrics.snapshot());
        let mut st = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        st.before = std::mem::replace(&mut st.now, fresh);
    }

    /// Current totals (a fresh snapshot) and per-second rates over the last tick.
    pub fn read<T>(&self, f: impl FnOnce(&[Sample], &dyn Fn(Kind, &str) -> Counts) -> T) -> T {
        let current = self.telemetry.metrics.snapshot();
        let st = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        let secs = st.now.0.duration_since(st.before.0).as_secs_f64();
        let rates = |kind: Kind, id: &str| {
            if secs <= 0.0 {
                return Counts::default();
            }
            let (a, b) = (counts(&st.now.1, kind, id), counts(&st.before.1, kind, id));
            Counts {
                r#in: rate(a.r#in, b.r#in, secs),
                out: rate(a.out, b.out, secs),
                refused: rate(a.refused, b.refused, secs),
                failed: rate(a.failed, b.failed, secs),
                dropped: rate(a.dropped, b.dropped, secs),
            }
        };
        f(&current, &rates)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use switchyard_core::component::ComponentId;
    use switchyard_core::telemetry::{DropReason, ExporterObs, ReceiverObs};
    use switchyard_pdata::Signal;

    #[test]
    fn counts_follow_the_components_own_counters() {
        let t = Telemetry::new();
        let r = ReceiverObs::new(&t, &ComponentId::parse("otlp").unwrap(), "grpc");
        r.record(Signal::Traces, 7, true);
        r.record(Signal::Logs, 2, false);
        let e = ExporterObs::new(&t, &ComponentId::parse("otlp/tempo").unwrap(), Signal::Traces);
        e.sent.add(5);
        e.dropped(DropReason::Shutdown).add(1);
        e.queue_capacity.set(1000);
        e.queue_size.set(3);
        let snap = t.metrics.snapshot();
        let rc = counts(&snap, Kind::Receiver, "otlp");
        assert_eq!((rc.r#in, rc.refused, rc.out), (Some(7.0), Some(2.0), None));
        let ec = counts(&snap, Kind::Exporter, "otlp/tempo");
        assert_eq!((ec.out, ec.dropped, ec.failed), (Some(5.0), Some(1.0), Some(0.0)));
        assert_eq!(counts(&snap, Kind::Receiver, "otlp/other").r#in, Some(0.0), "another id is not summed in");
        assert_eq!(queue(&snap, "otlp/tempo"), Some((3.0, 1000.0)));
        assert_eq!(queue(&snap, "otlp"), None);

        let s = Sampler::new(t.clone());
        std::thread::sleep(std::time::Duration::from_millis(20));
        r.record(Signal::Traces, 100, true);
        s.tick();
        let (total, per_sec) =
            s.read(|now, rates| (counts(now, Kind::Receiver, "otlp").r#in, rates(Kind::Receiver, "otlp").r#in));
        assert_eq!(total, Some(107.0));
        assert!(per_sec.unwrap() > 100.0, "100 items in ~20 ms: {per_sec:?}");
    }
}
