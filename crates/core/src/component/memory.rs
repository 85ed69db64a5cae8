//! Memory bounds: what a component declares it may hold at worst, computed from its config.
//!
//! The Collector's users meet OOM kills because no component says how much memory its
//! settings allow (collector issue #8694). Here every factory may answer
//! [`MemoryBound`] for a config; `switchyard validate` adds the answers up and compares
//! the total with the `memory_limiter` limit and the container's limit, and the running
//! gateway publishes declared and used bytes per component
//! (`switchyard_component_memory_{declared,used}_bytes`). A component that cannot state a
//! bound answers [`MemoryBound::Undeclared`] and is listed as such, never counted as zero.
//!
//! Bytes are those of OTLP-encoded data (what `SignalData::encoded_len` measures), the
//! form a batch keeps from the wire to the exporter. A component that holds decoded data
//! declares the decoded overhead as a part of its own ([`DECODED_EXPANSION`]).

use std::fmt;

use crate::telemetry::{names, Counter, Gauge, Telemetry};

use super::{ComponentId, Kind};

/// Decoded OTLP takes about this many times its encoded size in memory (prost structs,
/// strings and vectors; DESIGN.md §3.5 measures ~4×): the factor a component that holds
/// decoded data applies to its encoded cap.
pub const DECODED_EXPANSION: u64 = 4;

/// One thing a component holds, and its worst case in bytes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MemoryPart {
    /// What is held and which setting bounds it (`pending batches (max_held_bytes)`).
    pub what: String,
    /// Worst case, bytes, for one instance of the component.
    pub bytes: u64,
}

impl MemoryPart {
    /// A part of `bytes` for `what`.
    pub fn new(what: impl Into<String>, bytes: u64) -> Self {
        MemoryPart { what: what.into(), bytes }
    }
}

/// A component's answer to "how much memory may your config make you hold?".
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub enum MemoryBound {
    /// The component cannot state a bound (the default): listed as undeclared.
    #[default]
    Undeclared,
    /// The component holds at most the sum of `parts`, per instance, and enforces it.
    Declared {
        /// What it holds (empty = nothing between requests).
        parts: Vec<MemoryPart>,
        /// The largest single request or batch it admits or emits (decompressed,
        /// encoded bytes), if it bounds one: what the components after it size their
        /// request-counted buffers with ([`BoundContext::largest_request`]).
        largest_request: Option<u64>,
    },
    /// Not a holder but the budget to compare against (`memory_limiter`'s hard limit).
    Limit {
        /// The limit in bytes.
        bytes: u64,
        /// Where it comes from (`limit_mib`).
        what: String,
    },
}

impl MemoryBound {
    /// A declared bound of these parts.
    pub fn parts(parts: Vec<MemoryPart>) -> Self {
        MemoryBound::Declared { parts, largest_request: None }
    }

    /// A component that holds nothing between requests (it works on the caller's data).
    pub fn nothing() -> Self {
        MemoryBound::Declared { parts: Vec::new(), largest_request: None }
    }

    /// This bound, declaring also the largest request it admits or emits.
    pub fn with_largest_request(self, bytes: u64) -> Self {
        match self {
            MemoryBound::Declared { parts, .. } => MemoryBound::Declared { parts, largest_request: Some(bytes) },
            other => other,
        }
    }

    /// The worst case per instance; `None` when undeclared (a limit holds nothing: 0).
    pub fn total(&self) -> Option<u64> {
        match self {
            MemoryBound::Undeclared => None,
            MemoryBound::Declared { parts, .. } => Some(parts.iter().fold(0u64, |a, p| a.saturating_add(p.bytes))),
            MemoryBound::Limit { .. } => Some(0),
        }
    }
}

/// What a component's bound may depend on beyond its own config.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BoundContext {
    /// The largest request or batch any receiver or processor of the configuration admits
    /// or emits (encoded, decompressed): a queue counted in requests holds at most its
    /// capacity times this.
    pub largest_request: u64,
}

impl Default for BoundContext {
    /// Before the receivers are known: the OTLP receiver's default gRPC message limit.
    fn default() -> Self {
        BoundContext { largest_request: 4 << 20 }
    }
}

/// The label a component's memory series carry: `receiver/otlp`, `processor/batch`.
/// One per configured component (bounded by the config), whatever its instance count.
pub fn component_label(kind: Kind, id: &ComponentId) -> String {
    format!("{}/{id}", kind.word())
}

/// A component's side of the memory self-metrics: the bytes it holds now, and how often
/// it reached its declared cap. Instances of one component (a processor in several
/// pipelines, an exporter per signal) add their deltas into the same series.
#[derive(Clone, Debug)]
pub struct MemoryUse {
    used: Gauge,
    cap_reached: Counter,
}

impl MemoryUse {
    /// The series of component `id` of `kind`; `action` says what the component does at
    /// its cap (`flush`, `evict`, `refuse`, `wait`), a label of the cap counter.
    pub fn new(t: &Telemetry, kind: Kind, id: &ComponentId, action: &'static str) -> Self {
        let label = component_label(kind, id);
        let used = t.metrics.gauge(
            names::COMPONENT_MEMORY_USED,
            "Bytes a component holds now (queued, pending, buffered or in flight).",
            &[("component", label.as_str())],
        );
        let cap_reached = t.metrics.counter(
            names::COMPONENT_MEMORY_CAP_REACHED,
            "Times a component reached its declared memory bound and acted on it.",
            &[("component", label.as_str()), ("action", action)],
        );
        MemoryUse { used, cap_reached }
    }

    /// Adds `delta` bytes (negative when released).
    pub fn add(&self, delta: i64) {
        self.used.add(delta);
    }

    /// Counts one time the cap was reached.
    pub fn cap_reached(&self) {
        self.cap_reached.add(1);
    }

    /// Bytes held now, all instances together.
    pub fn get(&self) -> i64 {
        self.used.get()
    }

    /// Times the cap was reached.
    pub fn cap_reached_count(&self) -> u64 {
        self.cap_reached.get()
    }
}

/// Bytes in binary units for people: `512 B`, `4.0 KiB`, `64.0 MiB`, `1.5 GiB`.
pub struct HumanBytes(pub u64);

impl fmt::Display for HumanBytes {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        const UNITS: [&str; 6] = ["KiB", "MiB", "GiB", "TiB", "PiB", "EiB"];
        if self.0 < 1024 {
            return write!(f, "{} B", self.0);
        }
        let mut v = self.0 as f64 / 1024.0;
        let mut unit = 0;
        while v >= 1024.0 && unit + 1 < UNITS.len() {
            v /= 1024.0;
            unit += 1;
        }
        write!(f, "{v:.1} {}", UNITS[unit])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn totals_and_units() {
        let b = MemoryBound::parts(vec![MemoryPart::new("a", 1 << 20), MemoryPart::new("b", 512 << 10)]);
        assert_eq!(b.total(), Some(1_572_864));
        assert_eq!(MemoryBound::Undeclared.total(), None, "undeclared is not zero");
        assert_eq!(MemoryBound::nothing().total(), Some(0));
        assert_eq!(HumanBytes(512).to_string(), "512 B");
        assert_eq!(HumanBytes(1_572_864).to_string(), "1.5 MiB");
        assert_eq!(HumanBytes(64 << 30).to_string(), "64.0 GiB");
        let big = MemoryBound::parts(vec![MemoryPart::new("a", u64::MAX), MemoryPart::new("b", 1)]);
        assert_eq!(big.total(), Some(u64::MAX), "saturates rather than wraps");
    }

    #[test]
    fn used_bytes_of_instances_add_up() {
        let t = Telemetry::default();
        let id = ComponentId::parse("batch/x").expect("id");
        let a = MemoryUse::new(&t, Kind::Processor, &id, "wait");
        let b = MemoryUse::new(&t, Kind::Processor, &id, "wait");
        a.add(100);
        b.add(50);
        a.add(-30);
        assert_eq!(a.get(), 120);
        let snap = t.metrics.snapshot();
        let s = snap.iter().find(|s| s.name == names::COMPONENT_MEMORY_USED).expect("series");
        assert_eq!((s.label("component"), s.value), (Some("processor/batch/x"), 120.0));
    }
}
