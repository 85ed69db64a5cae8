//! Config pieces both span-to-metrics connectors read alike: lists of Go durations
//! (histogram buckets) and the aggregation temporality.

use std::fmt;
use std::time::Duration;

use serde::de::{self, Deserializer, SeqAccess, Visitor};
use switchyard_pdata::proto::metrics::v1::AggregationTemporality;

/// The `aggregation_temporality` value for cumulative sums and histograms (the default).
pub const CUMULATIVE: &str = "AGGREGATION_TEMPORALITY_CUMULATIVE";
/// The `aggregation_temporality` value for delta sums and histograms.
pub const DELTA: &str = "AGGREGATION_TEMPORALITY_DELTA";

/// Whether flushed points carry totals since the series started, or only the last period.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Temporality {
    /// Totals since the series' start.
    Cumulative,
    /// The period since the previous flush.
    Delta,
}

impl Temporality {
    /// The config value as the Collector reads it: delta only when spelled exactly so,
    /// anything else is cumulative.
    pub fn parse(s: &str) -> Temporality {
        if s == DELTA {
            Temporality::Delta
        } else {
            Temporality::Cumulative
        }
    }

    /// The OTLP enum value.
    pub fn otlp(self) -> i32 {
        match self {
            Temporality::Cumulative => AggregationTemporality::Cumulative as i32,
            Temporality::Delta => AggregationTemporality::Delta as i32,
        }
    }
}

/// Deserializes a list of durations as the Collector decodes `[]time.Duration`: strings in
/// Go syntax (`100us`, `2ms`, `1s`) or bare integers, which are nanoseconds.
pub fn deserialize_durations<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<Duration>, D::Error> {
    struct Durations;
    impl<'de> Visitor<'de> for Durations {
        type Value = Vec<Duration>;
        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("a list of durations such as [2ms, 10ms, 1s]")
        }
        fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
            let mut out = Vec::new();
            while let Some(d) = seq.next_element::<GoDuration>()? {
                out.push(d.0);
            }
            Ok(out)
        }
        fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
            Ok(Vec::new())
        }
    }
    d.deserialize_any(Durations)
}

/// Deserializes one duration as the Collector decodes `time.Duration`: a string in Go
/// syntax (`15s`, `0`) or a bare integer of nanoseconds.
pub fn deserialize_duration<'de, D: Deserializer<'de>>(d: D) -> Result<Duration, D::Error> {
    <GoDuration as serde::Deserialize>::deserialize(d).map(|g| g.0)
}

/// One duration: a string in Go syntax, or an integer count of nanoseconds.
struct GoDuration(Duration);

impl<'de> serde::Deserialize<'de> for GoDuration {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = GoDuration;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a duration such as 2ms or 1s")
            }
            fn visit_str<E: de::Error>(self, s: &str) -> Result<GoDuration, E> {
                if s.trim() == "0" {
                    return Ok(GoDuration(Duration::ZERO));
                }
                humantime::parse_duration(s.trim())
                    .map(GoDuration)
                    .map_err(|e| E::custom(format!("invalid duration {s:?}: {e}")))
            }
            fn visit_u64<E: de::Error>(self, n: u64) -> Result<GoDuration, E> {
                Ok(GoDuration(Duration::from_nanos(n)))
            }
            fn visit_i64<E: de::Error>(self, n: i64) -> Result<GoDuration, E> {
                u64::try_from(n)
                    .map(|n| GoDuration(Duration::from_nanos(n)))
                    .map_err(|_| E::custom(format!("invalid duration {n}: must not be negative")))
            }
        }
        d.deserialize_any(V)
    }
}

/// A duration in the unit a histogram records: milliseconds or seconds, as a float.
pub fn in_unit(d: Duration, seconds: bool) -> f64 {
    if seconds {
        d.as_secs_f64()
    } else {
        d.as_nanos() as f64 / 1e6
    }
}
