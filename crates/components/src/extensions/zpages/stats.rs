//! Live numbers per component, read from the telemetry registry every component counts
//! into (the same series `/metrics` serves), and items per second from two snapshots a
//! sampling tick apart.

use std::sync::{Mutex, PoisonError};
use std::time::Instant;

pub use switchyard_core::telemetry::counts::{counts, queue, Counts, Kind};
use switchyard_core::telemetry::{Sample, Telemetry};

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
            Counts::per_second(counts(&st.now.1, kind, id), counts(&st.before.1, kind, id), secs)
        };
        f(&current, &rates)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use switchyard_core::component::ComponentId;
    use switchyard_core::telemetry::ReceiverObs;
    use switchyard_pdata::Signal;

    #[test]
    fn rates_come_from_two_snapshots_a_tick_apart() {
        let t = Telemetry::new();
        let r = ReceiverObs::new(&t, &ComponentId::parse("otlp").unwrap(), "grpc");
        r.record(Signal::Traces, 7, true);
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
