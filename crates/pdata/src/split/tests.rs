//! Splitting keeps every item, in order, with its envelope, and respects the maximum.

use crate::proto::collector::metrics::v1::ExportMetricsServiceRequest;
use crate::proto::collector::trace::v1::ExportTraceServiceRequest;
use crate::proto::common::v1::InstrumentationScope;
use crate::proto::metrics::v1::{metric::Data, Gauge, Metric, NumberDataPoint, ResourceMetrics, ScopeMetrics, Sum};
use crate::proto::resource::v1::Resource;
use crate::proto::trace::v1::{ResourceSpans, ScopeSpans, Span};
use crate::{Metrics, SignalData, Traces};

/// `shape[r][s]` = spans in scope `s` of resource `r`; span names are `r.s.i`.
pub(crate) fn traces(shape: &[Vec<usize>]) -> Traces {
    let resource_spans = shape
        .iter()
        .enumerate()
        .map(|(r, scopes)| ResourceSpans {
            resource: Some(Resource { dropped_attributes_count: r as u32, ..Default::default() }),
            scope_spans: scopes
                .iter()
                .enumerate()
                .map(|(s, n)| ScopeSpans {
                    scope: Some(InstrumentationScope { name: format!("{r}.{s}"), ..Default::default() }),
                    spans: (0..*n).map(|i| Span { name: format!("{r}.{s}.{i}"), ..Default::default() }).collect(),
                    schema_url: String::new(),
                })
                .collect(),
            schema_url: String::new(),
        })
        .collect();
    ExportTraceServiceRequest { resource_spans }.into()
}

/// Every span as (resource marker, scope name, span name), in order.
pub(crate) fn flatten(t: &Traces) -> Vec<(u32, String, String)> {
    let mut out = Vec::new();
    for rs in &t.request().resource_spans {
        let r = rs.resource.as_ref().map_or(u32::MAX, |r| r.dropped_attributes_count);
        for ss in &rs.scope_spans {
            let s = ss.scope.as_ref().map_or(String::new(), |s| s.name.clone());
            for sp in &ss.spans {
                out.push((r, s.clone(), sp.name.clone()));
            }
        }
    }
    out
}

#[test]
fn splitting_traces_preserves_items_order_and_envelopes() {
    let shapes: Vec<Vec<Vec<usize>>> = vec![
        vec![vec![5]],
        vec![vec![1, 2, 3], vec![4], vec![0, 7]],
        vec![vec![10, 10], vec![10]],
        vec![vec![0], vec![3, 0, 2]],
    ];
    for shape in shapes {
        for max in 1..=12 {
            let mut rest = traces(&shape);
            let expected = flatten(&rest);
            let total = rest.item_count();
            let mut seen = Vec::new();
            while rest.item_count() > 0 {
                let part = rest.split_off_front(max);
                assert!(part.item_count() <= max, "shape {shape:?} max {max}");
                assert!(part.item_count() > 0, "no progress for shape {shape:?} max {max}");
                seen.extend(flatten(&part));
            }
            assert_eq!(seen, expected, "shape {shape:?} max {max}");
            assert_eq!(seen.len(), total);
        }
    }
}

#[test]
fn splitting_metrics_cuts_inside_a_metric_and_keeps_its_type() {
    let points =
        |n: usize| (0..n).map(|i| NumberDataPoint { time_unix_nano: i as u64, ..Default::default() }).collect();
    let req = ExportMetricsServiceRequest {
        resource_metrics: vec![ResourceMetrics {
            scope_metrics: vec![ScopeMetrics {
                metrics: vec![
                    Metric {
                        name: "g".into(),
                        data: Some(Data::Gauge(Gauge { data_points: points(3) })),
                        ..Default::default()
                    },
                    Metric {
                        name: "s".into(),
                        data: Some(Data::Sum(Sum {
                            data_points: points(4),
                            aggregation_temporality: 2,
                            is_monotonic: true,
                        })),
                        ..Default::default()
                    },
                ],
                ..Default::default()
            }],
            ..Default::default()
        }],
    };
    let mut m: Metrics = req.into();
    assert_eq!(m.item_count(), 7);
    let first = m.split_off_front(5);
    assert_eq!(first.item_count(), 5);
    assert_eq!(m.item_count(), 2);
    let cut = &first.request().resource_metrics[0].scope_metrics[0].metrics[1];
    assert_eq!(cut.name, "s");
    match &cut.data {
        Some(Data::Sum(s)) => assert!(s.is_monotonic && s.aggregation_temporality == 2 && s.data_points.len() == 2),
        other => panic!("expected a sum, got {other:?}"),
    }
}

#[test]
fn append_moves_items_without_losing_any() {
    let mut a = traces(&[vec![2]]);
    a.append(traces(&[vec![3], vec![1]])).expect("traces always merge");
    assert_eq!(a.item_count(), 6);
    assert_eq!(a.request().resource_spans.len(), 3);
}
