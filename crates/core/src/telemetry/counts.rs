//! Per-component numbers (items in, out, refused, failed, dropped; queue fill) read from
//! self-metric samples: the registry's own snapshot (the zpages status page) or a scraped
//! `/metrics` page (`switchyard top`), so both show the same figures under the same rules.

use super::{names, Sample};

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

impl Counts {
    /// Items per second between two totals `secs` apart (a counter that went down, as after
    /// a restart, counts as 0/s).
    pub fn per_second(now: Counts, before: Counts, secs: f64) -> Counts {
        let rate = |a: Option<f64>, b: Option<f64>| {
            if secs <= 0.0 {
                return None;
            }
            Some(((a? - b.unwrap_or(0.0)) / secs).max(0.0))
        };
        Counts {
            r#in: rate(now.r#in, before.r#in),
            out: rate(now.out, before.out),
            refused: rate(now.refused, before.refused),
            failed: rate(now.failed, before.failed),
            dropped: rate(now.dropped, before.dropped),
        }
    }
}

/// The kind of a component, as the page groups them.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, serde::Serialize)]
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

/// Starts from +0.0: `Iterator::sum` of no floats is -0.0, which pages would print as "-0".
fn sum(samples: &[Sample], matches: impl Fn(&Sample) -> bool) -> f64 {
    samples.iter().filter(|s| matches(s)).fold(0.0, |acc, s| acc + s.value)
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

/// Every receiver, processor and exporter that has a series in `samples`, by kind then id.
pub fn components_in(samples: &[Sample]) -> Vec<(Kind, String)> {
    let mut out: Vec<(Kind, String)> = Vec::new();
    for s in samples {
        let found = if s.name.starts_with("otelcol_receiver_") {
            s.label("receiver").map(|id| (Kind::Receiver, id))
        } else if s.name.starts_with("otelcol_processor_") || s.name.starts_with("switchyard_processor_") {
            // Any processor series: a stateful processor (batch) may count only its own.
            s.label("processor").map(|id| (Kind::Processor, id))
        } else if s.name.starts_with("otelcol_exporter_") {
            s.label("exporter").map(|id| (Kind::Exporter, id))
        } else {
            None
        };
        if let Some((k, id)) = found {
            if !out.iter().any(|(ok, oid)| *ok == k && oid == id) {
                out.push((k, id.to_string()));
            }
        }
    }
    out.sort();
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::component::ComponentId;
    use crate::telemetry::{DropReason, ExporterObs, ProcessorObs, ReceiverObs, Telemetry};
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
        ProcessorObs::new(&t, &ComponentId::parse("batch").unwrap(), Signal::Traces).record(4, 4);
        // A processor that counts only its own series is listed too.
        t.metrics.counter(names::BATCH_TIMEOUT_TRIGGER, "", &[("processor", "batch/own")]).add(1);
        let snap = t.metrics.snapshot();
        let rc = counts(&snap, Kind::Receiver, "otlp");
        assert_eq!((rc.r#in, rc.refused, rc.out), (Some(7.0), Some(2.0), None));
        let ec = counts(&snap, Kind::Exporter, "otlp/tempo");
        assert_eq!((ec.out, ec.dropped, ec.failed), (Some(5.0), Some(1.0), Some(0.0)));
        let other = counts(&snap, Kind::Receiver, "otlp/other").r#in.unwrap();
        assert!(other == 0.0 && other.is_sign_positive(), "another id is not summed in, and no -0: {other}");
        assert_eq!(queue(&snap, "otlp/tempo"), Some((3.0, 1000.0)));
        assert_eq!(queue(&snap, "otlp"), None);
        assert_eq!(
            components_in(&snap),
            [
                (Kind::Receiver, "otlp".to_string()),
                (Kind::Processor, "batch".to_string()),
                (Kind::Processor, "batch/own".to_string()),
                (Kind::Exporter, "otlp/tempo".to_string())
            ]
        );
    }
}
