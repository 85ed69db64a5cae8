use crate::proto::collector::metrics::v1::ExportMetricsServiceRequest;
use crate::proto::metrics::v1::metric::Data;
use crate::proto::metrics::v1::{
    ExponentialHistogram, ExponentialHistogramDataPoint, Gauge, Histogram, HistogramDataPoint, Metric, NumberDataPoint,
    ResourceMetrics, ScopeMetrics, Sum, Summary, SummaryDataPoint,
};
use crate::walk::*;
use crate::{Metrics, SignalData};

use super::{kv, resource, resource_name, scope};

fn metric(name: &str, data: Option<Data>) -> Metric {
    Metric { name: name.into(), data, ..Default::default() }
}

fn num(p: &str) -> NumberDataPoint {
    NumberDataPoint { attributes: vec![kv("p", p)], ..Default::default() }
}

/// r0 {s0 [g: gauge(2), s: sum(1), h: histogram(1)]}, r1 {s1 [e: exp(1), q: summary(2),
/// none: no data, zero: gauge(0)]}. Point attribute `p` names the point's metric.
fn request() -> ExportMetricsServiceRequest {
    let sum = Sum { data_points: vec![num("s")], aggregation_temporality: 2, is_monotonic: true };
    let hist = Histogram {
        data_points: vec![HistogramDataPoint { attributes: vec![kv("p", "h")], ..Default::default() }],
        aggregation_temporality: 1,
    };
    let exp = ExponentialHistogram {
        data_points: vec![ExponentialHistogramDataPoint { attributes: vec![kv("p", "e")], ..Default::default() }],
        aggregation_temporality: 2,
    };
    let summary = |p: &str| SummaryDataPoint { attributes: vec![kv("p", p)], ..Default::default() };
    ExportMetricsServiceRequest {
        resource_metrics: vec![
            ResourceMetrics {
                resource: resource("r0"),
                scope_metrics: vec![ScopeMetrics {
                    scope: scope("s0"),
                    metrics: vec![
                        metric("g", Some(Data::Gauge(Gauge { data_points: vec![num("g"), num("g")] }))),
                        metric("s", Some(Data::Sum(sum))),
                        metric("h", Some(Data::Histogram(hist))),
                    ],
                    ..Default::default()
                }],
                ..Default::default()
            },
            ResourceMetrics {
                resource: resource("r1"),
                scope_metrics: vec![ScopeMetrics {
                    scope: scope("s1"),
                    metrics: vec![
                        metric("e", Some(Data::ExponentialHistogram(exp))),
                        metric("q", Some(Data::Summary(Summary { data_points: vec![summary("q"), summary("q")] }))),
                        metric("none", None),
                        metric("zero", Some(Data::Gauge(Gauge { data_points: vec![] }))),
                    ],
                    ..Default::default()
                }],
                ..Default::default()
            },
        ],
    }
}

fn point_names(req: &ExportMetricsServiceRequest) -> Vec<String> {
    data_points(req).map(|p| crate::attrs::get_str(p.point.attributes(), "p").unwrap_or("?").to_string()).collect()
}

#[test]
fn metric_walks_reach_every_metric_with_its_envelopes() {
    let mut req = request();
    let mut seen = Vec::new();
    for_each_metric_mut(&mut req, |cx| {
        seen.push(format!("{}/{}", resource_name(cx.resource.attributes()), cx.metric.name));
        cx.metric.unit = "1".into();
    });
    assert_eq!(seen, ["r0/g", "r0/s", "r0/h", "r1/e", "r1/q", "r1/none", "r1/zero"]);
    assert!(metrics(&req).all(|m| m.metric.unit == "1"));
    assert_eq!(MetricKind::of(&req.resource_metrics[1].scope_metrics[0].metrics[2]), None);
    let r = try_for_each_metric_mut(&mut req, |cx| if cx.metric.name == "h" { Err(()) } else { Ok(()) });
    assert_eq!(r, Err(()));
}

#[test]
fn data_point_walks_reach_every_point_of_every_kind_with_its_metric() {
    let mut req = request();
    let mut seen = Vec::new();
    for_each_data_point_mut(&mut req, |mut cx| {
        let p = crate::attrs::get_str(cx.point.attributes(), "p").unwrap_or("?").to_string();
        assert_eq!(&p, cx.metric.name, "point with its own metric");
        let kind = match cx.point {
            DataPointMut::Number(_) => "n",
            DataPointMut::Histogram(_) => "h",
            DataPointMut::ExponentialHistogram(_) => "e",
            DataPointMut::Summary(_) => "q",
        };
        seen.push(format!(
            "{}/{}:{kind}:{:?}:{:?}:{:?}",
            resource_name(cx.resource.attributes()),
            p,
            cx.metric.kind,
            cx.metric.aggregation_temporality.as_deref(),
            cx.metric.is_monotonic.as_deref()
        ));
        cx.point.attributes_mut().push(kv("seen", "1"));
        cx.metric.metadata.push(kv("m", "1"));
        if let Some(t) = cx.metric.aggregation_temporality {
            *t = 1;
        }
    });
    assert_eq!(
        seen,
        [
            "r0/g:n:Gauge:None:None",
            "r0/g:n:Gauge:None:None",
            "r0/s:n:Sum:Some(2):Some(true)",
            "r0/h:h:Histogram:Some(1):None",
            "r1/e:e:ExponentialHistogram:Some(2):None",
            "r1/q:q:Summary:None:None",
            "r1/q:q:Summary:None:None",
        ]
    );
    assert!(data_points(&req).all(|p| crate::attrs::get_str(p.point.attributes(), "seen") == Some("1")));
    let g = &req.resource_metrics[0].scope_metrics[0].metrics[0];
    assert_eq!(g.metadata.len(), 2, "one metadata entry per point of g");
    assert!(
        matches!(&req.resource_metrics[0].scope_metrics[0].metrics[1].data, Some(Data::Sum(s)) if s.aggregation_temporality == 1)
    );
    assert_eq!(data_points(&req).count(), Metrics::from(req.clone()).item_count());

    let mut visited = 0;
    let r = try_for_each_data_point_mut(&mut req, |cx| {
        visited += 1;
        if cx.metric.name == "g" {
            Err("g")
        } else {
            Ok(())
        }
    });
    assert_eq!((r, visited), (Err("g"), 1));
    assert_eq!(point_names(&req).len(), 7, "nothing lost on error");
}

#[test]
fn retain_data_points_prunes_metrics_scopes_and_resources() {
    let mut req = request();
    let removed = retain_data_points(&mut req, |cx| matches!(cx.point, DataPointMut::Number(_)));
    assert_eq!(removed, 4);
    assert_eq!(point_names(&req), ["g", "g", "s"]);
    let names: Vec<&str> = metrics(&req).map(|m| m.metric.name.as_str()).collect();
    // h, e, q lost their points; `zero` had none; `none` has no data and stays.
    assert_eq!(names, ["g", "s", "none"]);

    let mut req = request();
    assert_eq!(retain_data_points(&mut req, |cx| resource_name(cx.resource.attributes()) == "r1"), 4);
    assert_eq!(req.resource_metrics.len(), 1, "r0 left empty");
    let names: Vec<&str> = metrics(&req).map(|m| m.metric.name.as_str()).collect();
    assert_eq!(names, ["e", "q", "none"]);
}

#[test]
fn retain_metrics_counts_the_points_removed() {
    let mut req = request();
    assert_eq!(retain_metrics(&mut req, |cx| cx.metric.name != "q" && cx.metric.name != "g"), 4);
    let names: Vec<&str> = metrics(&req).map(|m| m.metric.name.as_str()).collect();
    assert_eq!(names, ["s", "h", "e", "none", "zero"]);
    let groups = split_metrics_by_resource(req, |rm| rm.scope_metrics.len());
    assert_eq!(groups.len(), 1);
    assert_eq!(groups[0].1.resource_metrics.len(), 2);
}

#[test]
fn appending_walk_visits_metrics_added_to_their_scope() {
    let mut req = request();
    let mut seen = Vec::new();
    try_for_each_metric_appending(&mut req, |cx, added| {
        seen.push(format!(
            "{}/{}/{}",
            resource_name(cx.resource.attributes()),
            cx.scope.get().map_or("", |s| s.name.as_str()),
            cx.metric.name
        ));
        if cx.metric.name == "s" || cx.metric.name == "q" {
            added.push(metric(&format!("{}.copy", cx.metric.name), None));
        }
        Ok::<(), ()>(())
    })
    .expect("no error");
    assert_eq!(
        seen,
        [
            "r0/s0/g",
            "r0/s0/s",
            "r0/s0/h",
            "r0/s0/s.copy",
            "r1/s1/e",
            "r1/s1/q",
            "r1/s1/none",
            "r1/s1/zero",
            "r1/s1/q.copy"
        ]
    );
    let names: Vec<&str> = req.resource_metrics[0].scope_metrics[0].metrics.iter().map(|m| m.name.as_str()).collect();
    assert_eq!(names, ["g", "s", "h", "s.copy"]);

    // A failing call still keeps what it added, and stops the walk.
    let mut req = request();
    let r = try_for_each_metric_appending(&mut req, |cx, added| {
        added.push(metric("x", None));
        if cx.metric.name == "g" {
            Err("stop")
        } else {
            Ok(())
        }
    });
    assert_eq!(r, Err("stop"));
    assert_eq!(req.resource_metrics[0].scope_metrics[0].metrics.len(), 4);
}

#[test]
fn point_walk_of_one_metric_hands_out_its_envelopes() {
    let mut req = request();
    let rm = &mut req.resource_metrics[1];
    let sm = &mut rm.scope_metrics[0];
    let (resource, scope) =
        (ResourceMut::new(&mut rm.resource, &mut rm.schema_url), ScopeMut::new(&mut sm.scope, &mut sm.schema_url));
    let mut seen = Vec::new();
    try_for_each_point_of_metric_mut(resource, scope, &mut sm.metrics[1], |cx| {
        seen.push(format!("{}/{:?}", cx.metric.name, cx.metric.kind));
        cx.resource.get().map(|_| ()).ok_or(())
    })
    .expect("no error");
    assert_eq!(seen, ["q/Summary", "q/Summary"]);
}

/// Each point of a sum with four points goes to the part its `p` attribute names; the
/// other metrics move whole. Every point arrives once, each cut metric keeps its envelope.
#[test]
fn partition_data_points_cuts_a_metric_by_point_and_keeps_its_envelope() {
    let mut req = request();
    let sum = Sum {
        data_points: vec![num("a"), num("b"), num("a"), num("c")],
        aggregation_temporality: 1,
        is_monotonic: true,
    };
    let mut cut = metric("cut", Some(Data::Sum(sum)));
    cut.unit = "By".into();
    cut.description = "bytes".into();
    req.resource_metrics[0].scope_metrics[0].metrics.push(cut);
    let total = data_points(&req).count();
    let mut metric_keys = Vec::new();
    let parts = partition_data_points(
        req,
        3,
        |r, s, m| {
            let r = r.map_or(&[][..], |r| r.attributes.as_slice());
            metric_keys.push(format!("{}/{}/{}", resource_name(r), s.map_or("", |s| s.name.as_str()), m.name));
            m.name == "cut"
        },
        |&is_cut, p| match crate::attrs::get_str(p.attributes(), "p") {
            Some("b") if is_cut => 1,
            Some("c") if is_cut => 7, // past the end: the last part
            _ => 0,
        },
    );
    assert_eq!(parts.len(), 3);
    assert_eq!(metric_keys.len(), 8, "the metric key is computed once per metric: {metric_keys:?}");
    assert_eq!(metric_keys[0], "r0/s0/g");
    assert_eq!(parts.iter().map(|p| data_points(p).count()).sum::<usize>(), total, "no point lost or copied");
    assert_eq!(point_names(&parts[0]), ["g", "g", "s", "h", "a", "a", "e", "q", "q"]);
    assert_eq!(point_names(&parts[1]), ["b"]);
    assert_eq!(point_names(&parts[2]), ["c"]);
    for part in &parts[1..] {
        let ms: Vec<&Metric> = metrics(part).map(|m| m.metric).collect();
        assert_eq!(ms.len(), 1);
        assert_eq!((ms[0].name.as_str(), ms[0].unit.as_str(), ms[0].description.as_str()), ("cut", "By", "bytes"));
        match &ms[0].data {
            Some(Data::Sum(s)) => assert_eq!((s.aggregation_temporality, s.is_monotonic), (1, true)),
            other => panic!("a sum expected: {other:?}"),
        }
        let m = metrics(part).next().unwrap();
        let scope_name = m.scope.get().map(|s| s.name.as_str());
        assert_eq!((resource_name(m.resource.attributes()), scope_name), ("r0".to_string(), Some("s0")));
    }
    // Metrics without points stay, in part 0.
    let names: Vec<&str> = metrics(&parts[0]).map(|m| m.metric.name.as_str()).collect();
    assert_eq!(names, ["g", "s", "h", "cut", "e", "q", "none", "zero"]);
}
