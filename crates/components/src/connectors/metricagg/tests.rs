//! The shared aggregation on its own: series limits and expiry, bucket placement, the
//! exponential histogram's scale, the OTLP it builds, and the duration syntax.

use std::sync::Arc;
use std::time::Duration;

use serde::Deserialize;
use switchyard_pdata::proto::common::v1::{any_value, AnyValue, KeyValue};
use switchyard_pdata::proto::metrics::v1::metric::Data;

use super::exponential::{lower_bound, map_to_index, ExponentialHistogram};
use super::histogram::{ExplicitHistogram, HistogramPoint};
use super::*;

fn kv(k: &str, v: &str) -> KeyValue {
    KeyValue {
        key: k.into(),
        value: Some(AnyValue { value: Some(any_value::Value::StringValue(v.into())) }),
        ..Default::default()
    }
}

#[test]
fn series_keep_first_seen_order_start_time_and_last_seen() {
    let mut m: SeriesMap<u64> = SeriesMap::new(0);
    m.entry("a", 10, || vec![kv("k", "a")], || 0).0.value += 1;
    m.entry("b", 20, || vec![kv("k", "b")], || 0).0.value += 1;
    let (s, overflow) = m.entry("a", 30, || panic!("attributes are built once"), || 0);
    s.value += 1;
    assert!(!overflow);
    let got: Vec<(&str, u64, u64, u64)> =
        m.iter().map(|(k, s)| (k, s.value, s.start_unix_nano, s.last_seen_unix_nano)).collect();
    assert_eq!(got, [("a", 2, 10, 30), ("b", 1, 20, 20)]);
    assert_eq!(m.expire(20), 1, "b was last seen at 20");
    assert_eq!(m.iter().map(|(k, _)| k).collect::<Vec<_>>(), ["a"]);
}

#[test]
fn past_the_cardinality_limit_new_sets_share_one_overflow_series() {
    let mut m: SeriesMap<u64> = SeriesMap::new(2);
    for key in ["a", "b", "c", "d", "a"] {
        let (s, _) = m.entry(key, 1, || vec![kv("k", key)], || 0);
        s.value += 1;
    }
    let got: Vec<(&str, u64)> = m.iter().map(|(k, s)| (k, s.value)).collect();
    assert_eq!(got, [("a", 2), ("b", 1), (OVERFLOW_KEY, 2)]);
    let overflow = m.iter().find(|(k, _)| *k == OVERFLOW_KEY).map(|(_, s)| s.attributes.clone()).expect("overflow");
    assert_eq!(overflow.len(), 1);
    assert_eq!(overflow[0].key, "otel.metric.overflow");
    assert_eq!(overflow[0].value.as_ref().and_then(|v| v.value.clone()), Some(any_value::Value::BoolValue(true)));
    assert!(m.entry("e", 1, Vec::new, || 0).1, "the caller learns the data overflowed");
}

#[test]
fn exemplars_are_capped_per_series_and_cleared_per_period() {
    let mut m: SeriesMap<u64> = SeriesMap::new(0);
    for i in 0..5u8 {
        m.entry("a", 1, Vec::new, || 0).0.add_exemplar(Some(3), &[i; 16], &[i; 8], f64::from(i));
    }
    assert_eq!(m.iter().next().map(|(_, s)| s.exemplars.len()), Some(3));
    m.clear_exemplars();
    assert_eq!(m.iter().next().map(|(_, s)| s.exemplars.len()), Some(0));
}

#[test]
fn explicit_buckets_put_a_value_equal_to_a_bound_in_that_bucket() {
    let mut h = ExplicitHistogram::new(Arc::from([2.0, 4.0, 10.0]));
    for v in [0.0, 2.0, 2.5, 4.0, 9.0, 10.0, 11.0] {
        h.observe(v, 1);
    }
    h.observe(1.0, 3);
    assert_eq!(h.bucket_counts(), [5, 2, 2, 1]);
    assert_eq!(h.sum(), 38.5 + 3.0);
}

#[test]
fn exponential_index_follows_the_data_model() {
    // Scale 0: buckets (2^i, 2^(i+1)]; powers of two are the top of their bucket.
    assert_eq!(map_to_index(1.0, 0), -1);
    assert_eq!(map_to_index(2.0, 0), 0);
    assert_eq!(map_to_index(3.0, 0), 1);
    assert_eq!(map_to_index(4.0, 0), 1);
    assert_eq!(map_to_index(4.5, 0), 2);
    assert_eq!(map_to_index(0.75, 0), -1);
    // Negative scales merge 2^-scale scale-0 buckets.
    assert_eq!(map_to_index(3.0, -1), 0);
    assert_eq!(map_to_index(5.0, -1), 1);
    // Positive scales: the bucket's bounds contain the value.
    for scale in [1, 3, 8, 20] {
        for v in [1.1, 3.0, 17.5, 1234.5678, 0.001, 4.0] {
            let i = map_to_index(v, scale);
            let (lo, hi) = (lower_bound(i, scale), lower_bound(i + 1, scale));
            assert!(
                lo < v * (1.0 + 1e-12) && v <= hi * (1.0 + 1e-12),
                "{v} at scale {scale}: bucket {i} = ({lo}, {hi}]"
            );
        }
    }
}

#[test]
fn the_exponential_histogram_lowers_its_scale_to_stay_within_max_size() {
    let mut h = ExponentialHistogram::new(4);
    h.observe(1.5, 1);
    assert_eq!(h.scale(), 20, "one value fits at the finest scale");
    for v in [1.5, 3.0, 6.0, 12.0, 24.0, 48.0, 96.0] {
        h.observe(v, 1);
    }
    let (offset, counts) = h.positive();
    assert!(counts.len() <= 4, "{counts:?}");
    assert_eq!(counts.iter().sum::<u64>(), 8);
    assert_eq!(h.count(), 8);
    assert_eq!((h.min(), h.max()), (1.5, 96.0));
    // Every value lies in the bucket its index says, at the final scale.
    for v in [1.5, 3.0, 6.0, 12.0, 24.0, 48.0, 96.0] {
        let i = map_to_index(v, h.scale());
        assert!(i >= offset && i < offset + counts.len() as i32, "{v}: {i} outside {offset}+{}", counts.len());
    }
    // 1.5..96 spans scale-0 buckets 0..=6 (7 buckets): scale -1 is the finest that fits 4.
    assert_eq!(h.scale(), -1);
}

#[test]
fn zeros_and_negatives_have_their_own_buckets() {
    let mut h = ExponentialHistogram::new(160);
    h.observe(0.0, 2);
    h.observe(-3.0, 1);
    h.observe(3.0, 1);
    h.observe(f64::NAN, 1);
    assert_eq!(h.zero_count(), 2);
    assert_eq!(h.count(), 4, "NaN is ignored");
    assert_eq!(h.negative().1.iter().sum::<u64>(), 1);
    assert_eq!(h.positive().1.iter().sum::<u64>(), 1);
    assert_eq!(h.sum(), 0.0);
}

#[test]
fn histogram_series_build_otlp_points_of_their_kind() {
    let spec = HistogramSpec::Explicit(Arc::from([1.0, 5.0]));
    let mut m: SeriesMap<Histogram> = SeriesMap::new(0);
    let (s, _) = m.entry("a", 100, || vec![kv("k", "a")], || spec.new_histogram());
    s.value.observe(3.0, 2);
    s.add_exemplar(None, &[1; 16], &[2; 8], 3.0);
    let mut points = HistogramPoints::default();
    for (_, s) in m.iter() {
        points.push(s.to_point(100, 200));
    }
    let metric = histogram_metric("d".into(), "ms", Temporality::Cumulative, points);
    let Some(Data::Histogram(h)) = metric.data else { panic!("explicit histogram") };
    assert_eq!(h.aggregation_temporality, 2);
    let p = &h.data_points[0];
    assert_eq!((p.count, p.sum, p.bucket_counts.clone()), (2, Some(6.0), vec![0, 2, 0]));
    assert_eq!(p.explicit_bounds, [1.0, 5.0]);
    assert_eq!((p.start_time_unix_nano, p.time_unix_nano), (100, 200));
    assert_eq!(p.exemplars[0].time_unix_nano, 200);
    assert_eq!(p.attributes, [kv("k", "a")]);

    let spec = HistogramSpec::Exponential { max_size: 160 };
    let mut h = spec.new_histogram();
    h.observe(3.0, 1);
    let s = Series {
        attributes: vec![],
        value: h,
        start_unix_nano: 1,
        last_seen_unix_nano: 1,
        exemplars: vec![],
        reported: false,
    };
    let HistogramPoint::Exponential(p) = s.to_point(1, 2) else { panic!("exponential") };
    assert_eq!((p.count, p.min, p.max, p.scale), (1, Some(3.0), Some(3.0), 20));
}

#[test]
fn counts_build_a_monotonic_sum() {
    let mut m: SeriesMap<u64> = SeriesMap::new(0);
    m.entry("a", 5, || vec![kv("k", "a")], || 0).0.value += 7;
    let points = m.iter().map(|(_, s)| s.to_number_point(5, 9, s.value)).collect();
    let metric = sum_metric("calls".into(), "", Temporality::Delta, points);
    let Some(Data::Sum(sum)) = metric.data else { panic!("sum") };
    assert!(sum.is_monotonic);
    assert_eq!(sum.aggregation_temporality, 1, "delta");
    assert_eq!(
        sum.data_points[0].value,
        Some(switchyard_pdata::proto::metrics::v1::number_data_point::Value::AsInt(7))
    );
}

#[derive(Deserialize)]
struct Durations {
    #[serde(deserialize_with = "config::deserialize_durations")]
    buckets: Vec<Duration>,
    #[serde(deserialize_with = "config::deserialize_duration")]
    one: Duration,
}

fn durations(yaml: &str) -> Result<Durations, String> {
    let node = switchyard_core::config::parse("t.yaml", yaml).map_err(|e| e.to_string())?;
    switchyard_core::config::from_node(&node, "x").map_err(|e| e.to_string())
}

#[test]
fn durations_read_go_syntax_and_integer_nanoseconds() {
    let d = durations("buckets: [100us, 2ms, 1s, 1400ms, 5]\none: 0\n").expect("valid");
    assert_eq!(
        d.buckets,
        [
            Duration::from_micros(100),
            Duration::from_millis(2),
            Duration::from_secs(1),
            Duration::from_millis(1400),
            Duration::from_nanos(5)
        ]
    );
    assert_eq!(d.one, Duration::ZERO);
    assert_eq!(durations("buckets: []\none: \"0\"\n").expect("valid").one, Duration::ZERO);
    assert_eq!(durations("buckets: []\none: 15s\n").expect("valid").one, Duration::from_secs(15));
    let e = durations("buckets: [2 parsecs]\none: 1s\n").err().expect("invalid");
    assert!(e.contains("invalid duration \"2 parsecs\""), "{e}");
    assert_eq!(config::in_unit(Duration::from_micros(1500), false), 1.5);
    assert_eq!(config::in_unit(Duration::from_millis(1500), true), 1.5);
    assert_eq!(Temporality::parse("AGGREGATION_TEMPORALITY_DELTA"), Temporality::Delta);
    assert_eq!(Temporality::parse("delta"), Temporality::Cumulative, "the Collector's exact spelling only");
}
