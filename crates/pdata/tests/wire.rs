//! Property tests of the protobuf walker (`switchyard_pdata::wire`) against prost:
//! random requests of every shape are accepted with the decoded request's item count and
//! chunks that reassemble them; random byte mutations of them are accepted exactly when
//! prost decodes them. 5,000 cases per property (under a second in release).

use std::cell::Cell;

use proptest::collection::vec;
use proptest::option;
use proptest::prelude::*;
use proptest::sample::Index;
use proptest::test_runner::{Config, TestRunner};
use prost::Message;

use switchyard_pdata::proto::collector::logs::v1::ExportLogsServiceRequest;
use switchyard_pdata::proto::collector::metrics::v1::ExportMetricsServiceRequest;
use switchyard_pdata::proto::collector::trace::v1::ExportTraceServiceRequest;
use switchyard_pdata::proto::common::v1::{
    any_value, AnyValue, ArrayValue, InstrumentationScope, KeyValue, KeyValueList,
};
use switchyard_pdata::proto::logs::v1::{LogRecord, ResourceLogs, ScopeLogs};
use switchyard_pdata::proto::metrics::v1::{
    exemplar, exponential_histogram_data_point::Buckets, metric::Data, number_data_point,
    summary_data_point::ValueAtQuantile, Exemplar, ExponentialHistogram, ExponentialHistogramDataPoint, Gauge,
    Histogram, HistogramDataPoint, Metric, NumberDataPoint, ResourceMetrics, ScopeMetrics, Sum, Summary,
    SummaryDataPoint,
};
use switchyard_pdata::proto::resource::v1::Resource;
use switchyard_pdata::proto::trace::v1::{span, ResourceSpans, ScopeSpans, Span, Status};
use switchyard_pdata::wire::walk;
use switchyard_pdata::{Logs, Metrics, Signal, SignalData, Traces};

const CASES: u32 = 5_000;

fn config() -> Config {
    Config { cases: CASES, failure_persistence: None, ..Config::default() }
}

fn text() -> impl Strategy<Value = String> {
    ".{0,8}"
}

fn bytes(max: usize) -> impl Strategy<Value = Vec<u8>> {
    vec(any::<u8>(), 0..=max)
}

fn any_value() -> impl Strategy<Value = AnyValue> {
    let leaf = prop_oneof![
        text().prop_map(any_value::Value::StringValue),
        any::<bool>().prop_map(any_value::Value::BoolValue),
        any::<i64>().prop_map(any_value::Value::IntValue),
        any::<f64>().prop_map(any_value::Value::DoubleValue),
        bytes(6).prop_map(any_value::Value::BytesValue),
        any::<i32>().prop_map(any_value::Value::StringValueStrindex),
    ]
    .prop_map(|v| AnyValue { value: Some(v) });
    let leaf = prop_oneof![9 => leaf, 1 => Just(AnyValue::default())];
    leaf.prop_recursive(4, 24, 3, |inner| {
        prop_oneof![
            vec(inner.clone(), 0..3)
                .prop_map(|values| AnyValue { value: Some(any_value::Value::ArrayValue(ArrayValue { values })) }),
            vec((text(), inner), 0..3).prop_map(|kvs| AnyValue {
                value: Some(any_value::Value::KvlistValue(KeyValueList {
                    values: kvs.into_iter().map(|(key, v)| KeyValue { key, value: Some(v), key_strindex: 0 }).collect(),
                })),
            }),
        ]
    })
}

fn attributes() -> impl Strategy<Value = Vec<KeyValue>> {
    vec((text(), option::of(any_value()), any::<i32>()), 0..4).prop_map(|kvs| {
        kvs.into_iter().map(|(key, value, key_strindex)| KeyValue { key, value, key_strindex }).collect()
    })
}

fn resource() -> impl Strategy<Value = Option<Resource>> {
    option::of((attributes(), any::<u32>()).prop_map(|(attributes, dropped_attributes_count)| Resource {
        attributes,
        dropped_attributes_count,
        entity_refs: Vec::new(),
    }))
}

fn scope() -> impl Strategy<Value = Option<InstrumentationScope>> {
    option::of((text(), text(), attributes()).prop_map(|(name, version, attributes)| InstrumentationScope {
        name,
        version,
        attributes,
        dropped_attributes_count: 1,
    }))
}

fn span() -> impl Strategy<Value = Span> {
    let event = (any::<u64>(), text(), attributes()).prop_map(|(time_unix_nano, name, attributes)| span::Event {
        time_unix_nano,
        name,
        attributes,
        dropped_attributes_count: 0,
    });
    let link = (bytes(16), bytes(8), text(), attributes(), any::<u32>()).prop_map(
        |(trace_id, span_id, trace_state, attributes, flags)| span::Link {
            trace_id,
            span_id,
            trace_state,
            attributes,
            dropped_attributes_count: 2,
            flags,
        },
    );
    let status = option::of((text(), 0..3i32).prop_map(|(message, code)| Status { message, code }));
    (
        (bytes(16), bytes(8), text(), any::<u32>(), -1..7i32, any::<u64>()),
        (attributes(), vec(event, 0..3), vec(link, 0..2), status),
    )
        .prop_map(|((trace_id, span_id, name, flags, kind, start), (attributes, events, links, status))| Span {
            trace_id,
            span_id,
            trace_state: String::new(),
            parent_span_id: Vec::new(),
            flags,
            name,
            kind,
            start_time_unix_nano: start,
            end_time_unix_nano: start.wrapping_add(1),
            attributes,
            dropped_attributes_count: 0,
            events,
            dropped_events_count: 1,
            links,
            dropped_links_count: 0,
            status,
        })
}

fn traces() -> impl Strategy<Value = ExportTraceServiceRequest> {
    let scope_spans = (scope(), vec(span(), 0..4), text()).prop_map(|(scope, spans, schema_url)| ScopeSpans {
        scope,
        spans,
        schema_url,
    });
    let resource_spans = (resource(), vec(scope_spans, 0..3)).prop_map(|(resource, scope_spans)| ResourceSpans {
        resource,
        scope_spans,
        schema_url: String::new(),
    });
    vec(resource_spans, 0..3).prop_map(|resource_spans| ExportTraceServiceRequest { resource_spans })
}

fn exemplars() -> impl Strategy<Value = Vec<Exemplar>> {
    let value = option::of(prop_oneof![
        any::<f64>().prop_map(exemplar::Value::AsDouble),
        any::<i64>().prop_map(exemplar::Value::AsInt)
    ]);
    vec(
        (attributes(), any::<u64>(), bytes(8), value).prop_map(
            |(filtered_attributes, time_unix_nano, span_id, value)| Exemplar {
                filtered_attributes,
                time_unix_nano,
                span_id,
                trace_id: vec![1; 16],
                value,
            },
        ),
        0..3,
    )
}

fn number_point() -> impl Strategy<Value = NumberDataPoint> {
    let value = option::of(prop_oneof![
        any::<f64>().prop_map(number_data_point::Value::AsDouble),
        any::<i64>().prop_map(number_data_point::Value::AsInt),
    ]);
    (attributes(), exemplars(), value, any::<u32>()).prop_map(|(attributes, exemplars, value, flags)| NumberDataPoint {
        attributes,
        start_time_unix_nano: 1,
        time_unix_nano: 2,
        exemplars,
        flags,
        value,
    })
}

fn histogram_point() -> impl Strategy<Value = HistogramDataPoint> {
    (attributes(), exemplars(), vec(any::<u64>(), 0..5), vec(any::<f64>(), 0..4), option::of(any::<f64>())).prop_map(
        |(attributes, exemplars, bucket_counts, explicit_bounds, sum)| HistogramDataPoint {
            attributes,
            start_time_unix_nano: 1,
            time_unix_nano: 2,
            count: bucket_counts.len() as u64,
            sum,
            bucket_counts,
            explicit_bounds,
            exemplars,
            flags: 0,
            min: sum,
            max: None,
        },
    )
}

fn exp_point() -> impl Strategy<Value = ExponentialHistogramDataPoint> {
    let buckets = option::of(
        (any::<i32>(), vec(any::<u64>(), 0..5)).prop_map(|(offset, bucket_counts)| Buckets { offset, bucket_counts }),
    );
    (attributes(), exemplars(), any::<i32>(), buckets.clone(), buckets).prop_map(
        |(attributes, exemplars, scale, positive, negative)| ExponentialHistogramDataPoint {
            attributes,
            count: 3,
            sum: Some(1.5),
            scale,
            zero_count: 1,
            positive,
            negative,
            exemplars,
            zero_threshold: 0.5,
            ..Default::default()
        },
    )
}

fn summary_point() -> impl Strategy<Value = SummaryDataPoint> {
    let quantiles =
        vec((any::<f64>(), any::<f64>()).prop_map(|(quantile, value)| ValueAtQuantile { quantile, value }), 0..3);
    (attributes(), quantiles, any::<f64>()).prop_map(|(attributes, quantile_values, sum)| SummaryDataPoint {
        attributes,
        count: 2,
        sum,
        quantile_values,
        ..Default::default()
    })
}

fn metric() -> impl Strategy<Value = Metric> {
    let data = option::of(prop_oneof![
        vec(number_point(), 0..3).prop_map(|data_points| Data::Gauge(Gauge { data_points })),
        (vec(number_point(), 0..3), 0..3i32, any::<bool>()).prop_map(|(data_points, t, m)| Data::Sum(Sum {
            data_points,
            aggregation_temporality: t,
            is_monotonic: m,
        })),
        vec(histogram_point(), 0..3)
            .prop_map(|data_points| Data::Histogram(Histogram { data_points, aggregation_temporality: 1 })),
        vec(exp_point(), 0..3).prop_map(|data_points| Data::ExponentialHistogram(ExponentialHistogram {
            data_points,
            aggregation_temporality: 2
        })),
        vec(summary_point(), 0..3).prop_map(|data_points| Data::Summary(Summary { data_points })),
    ]);
    (text(), attributes(), data).prop_map(|(name, metadata, data)| Metric {
        name,
        description: String::new(),
        unit: "1".into(),
        metadata,
        data,
    })
}

fn metrics() -> impl Strategy<Value = ExportMetricsServiceRequest> {
    let scope_metrics = (scope(), vec(metric(), 0..4)).prop_map(|(scope, metrics)| ScopeMetrics {
        scope,
        metrics,
        schema_url: String::new(),
    });
    let resource_metrics = (resource(), vec(scope_metrics, 0..3))
        .prop_map(|(resource, scope_metrics)| ResourceMetrics { resource, scope_metrics, schema_url: "s".into() });
    vec(resource_metrics, 0..3).prop_map(|resource_metrics| ExportMetricsServiceRequest { resource_metrics })
}

fn logs() -> impl Strategy<Value = ExportLogsServiceRequest> {
    let record = (any::<u64>(), 0..25i32, text(), option::of(any_value()), attributes(), bytes(16)).prop_map(
        |(time, severity_number, severity_text, body, attributes, trace_id)| LogRecord {
            time_unix_nano: time,
            observed_time_unix_nano: time,
            severity_number,
            severity_text,
            body,
            attributes,
            dropped_attributes_count: 0,
            flags: 1,
            trace_id,
            span_id: Vec::new(),
            event_name: String::new(),
        },
    );
    let scope_logs = (scope(), vec(record, 0..4)).prop_map(|(scope, log_records)| ScopeLogs {
        scope,
        log_records,
        schema_url: String::new(),
    });
    let resource_logs = (resource(), vec(scope_logs, 0..3)).prop_map(|(resource, scope_logs)| ResourceLogs {
        resource,
        scope_logs,
        schema_url: String::new(),
    });
    vec(resource_logs, 0..3).prop_map(|resource_logs| ExportLogsServiceRequest { resource_logs })
}

/// A random request of a random signal, encoded by prost.
fn request() -> impl Strategy<Value = (Signal, Vec<u8>)> {
    prop_oneof![
        traces().prop_map(|r| (Signal::Traces, r.encode_to_vec())),
        metrics().prop_map(|r| (Signal::Metrics, r.encode_to_vec())),
        logs().prop_map(|r| (Signal::Logs, r.encode_to_vec())),
    ]
}

/// prost's verdict: the decoded request's item count, if it decodes.
fn prost_items(signal: Signal, buf: &[u8]) -> Option<usize> {
    match signal {
        Signal::Traces => ExportTraceServiceRequest::decode(buf).ok().map(|r| Traces::from_request(r).item_count()),
        Signal::Metrics => ExportMetricsServiceRequest::decode(buf).ok().map(|r| Metrics::from_request(r).item_count()),
        Signal::Logs => ExportLogsServiceRequest::decode(buf).ok().map(|r| Logs::from_request(r).item_count()),
        Signal::Profiles => None,
    }
}

/// Asserts the walker and prost agree on `buf`; returns whether it was accepted.
fn agree(signal: Signal, buf: &[u8]) -> Result<bool, TestCaseError> {
    let walked = walk(signal, buf);
    let decoded = prost_items(signal, buf);
    prop_assert_eq!(walked.is_ok(), decoded.is_some(), "walker {:?}, prost {:?}", walked, decoded);
    if let (Ok(w), Some(items)) = (&walked, decoded) {
        prop_assert_eq!(w.items, items);
        let joined: Vec<u8> = w.chunks.iter().flat_map(|c| &buf[c.start..c.end]).copied().collect();
        prop_assert_eq!(&joined[..], buf);
        prop_assert_eq!(w.chunks.iter().map(|c| c.items as usize).sum::<usize>(), items);
    }
    Ok(walked.is_ok())
}

#[test]
fn encoded_requests_walk_with_their_item_count() {
    TestRunner::new(config())
        .run(&request(), |(signal, buf)| {
            prop_assert!(agree(signal, &buf)?, "an encoded request was refused");
            Ok(())
        })
        .unwrap();
}

#[test]
fn concatenated_requests_walk_as_one() {
    // What a batcher relies on: two encoded requests back to back are one request whose
    // chunks are those of the first followed by those of the second.
    let pair = request().prop_flat_map(|(signal, a)| {
        let second = match signal {
            Signal::Traces => traces().prop_map(|r| r.encode_to_vec()).boxed(),
            Signal::Metrics => metrics().prop_map(|r| r.encode_to_vec()).boxed(),
            _ => logs().prop_map(|r| r.encode_to_vec()).boxed(),
        };
        (Just(signal), Just(a), second)
    });
    TestRunner::new(Config { cases: CASES / 4, ..config() })
        .run(&pair, |(signal, a, b)| {
            let both = [a.as_slice(), b.as_slice()].concat();
            prop_assert!(agree(signal, &both)?);
            let (wa, wb, w) = (walk(signal, &a).unwrap(), walk(signal, &b).unwrap(), walk(signal, &both).unwrap());
            prop_assert_eq!(w.items, wa.items + wb.items);
            let shifted = wb.chunks.iter().map(|c| (c.start + a.len(), c.end + a.len(), c.items));
            let expected: Vec<_> = wa.chunks.iter().map(|c| (c.start, c.end, c.items)).chain(shifted).collect();
            prop_assert_eq!(w.chunks.iter().map(|c| (c.start, c.end, c.items)).collect::<Vec<_>>(), expected);
            Ok(())
        })
        .unwrap();
}

#[derive(Clone, Debug)]
enum Mutation {
    Flip(Index, u8),
    Set(Index, u8),
    Insert(Index, u8),
    Delete(Index),
    Truncate(Index),
}

fn mutation() -> impl Strategy<Value = Mutation> {
    prop_oneof![
        (any::<Index>(), 0..8u8).prop_map(|(i, bit)| Mutation::Flip(i, bit)),
        (any::<Index>(), any::<u8>()).prop_map(|(i, b)| Mutation::Set(i, b)),
        (any::<Index>(), any::<u8>()).prop_map(|(i, b)| Mutation::Insert(i, b)),
        any::<Index>().prop_map(Mutation::Delete),
        any::<Index>().prop_map(Mutation::Truncate),
    ]
}

fn apply(buf: &mut Vec<u8>, m: &Mutation) {
    if buf.is_empty() {
        if let Mutation::Insert(_, b) = m {
            buf.push(*b);
        }
        return;
    }
    let len = buf.len();
    match m {
        Mutation::Flip(i, bit) => buf[i.index(len)] ^= 1 << bit,
        Mutation::Set(i, b) => buf[i.index(len)] = *b,
        Mutation::Insert(i, b) => buf.insert(i.index(len + 1), *b),
        Mutation::Delete(i) => {
            buf.remove(i.index(len));
        }
        Mutation::Truncate(i) => buf.truncate(i.index(len)),
    }
}

#[test]
fn mutated_requests_get_prosts_verdict() {
    let accepted = Cell::new(0u32);
    let refused = Cell::new(0u32);
    TestRunner::new(config())
        .run(&(request(), vec(mutation(), 1..4)), |((signal, mut buf), mutations)| {
            for m in &mutations {
                apply(&mut buf, m);
            }
            let cell = if agree(signal, &buf)? { &accepted } else { &refused };
            cell.set(cell.get() + 1);
            Ok(())
        })
        .unwrap();
    eprintln!("mutated requests: {} accepted, {} refused", accepted.get(), refused.get());
    // Both verdicts must be common for the property to say anything.
    assert!(accepted.get() > CASES / 20 && refused.get() > CASES / 20, "{accepted:?} accepted, {refused:?} refused");
}

/// Drops scopes without items and resources without scopes: what a split leaves out.
fn pruned_traces(mut r: ExportTraceServiceRequest) -> ExportTraceServiceRequest {
    for rs in &mut r.resource_spans {
        rs.scope_spans.retain(|s| !s.spans.is_empty());
    }
    r.resource_spans.retain(|rs| !rs.scope_spans.is_empty());
    r
}

fn pruned_logs(mut r: ExportLogsServiceRequest) -> ExportLogsServiceRequest {
    for rl in &mut r.resource_logs {
        rl.scope_logs.retain(|s| !s.log_records.is_empty());
    }
    r.resource_logs.retain(|rl| !rl.scope_logs.is_empty());
    r
}

/// The part of an id in a split of `n`: its first byte modulo `n + 1`, so the out-of-range
/// index (which goes to the last part) occurs too.
fn part_of(id: &[u8], n: usize) -> usize {
    id.first().map_or(0, |b| *b as usize % (n + 1))
}

#[test]
fn splitting_by_trace_id_from_the_bytes_gives_the_decoded_split() {
    // Load balancing and tail-sampling shards read trace ids from the bytes (`wire::regroup`);
    // each part must decode to what the decoded split (`walk::partition_spans`) builds, stay
    // encoded, and count its items. Two requests back to back stand for a batch of two chunks.
    let case = (traces(), traces(), 2..5usize);
    TestRunner::new(Config { cases: CASES / 2, ..config() })
        .run(&case, |(a, b, n)| {
            let mut batch = Traces::from_encoded(a.encode_to_vec().into()).unwrap();
            batch.append(Traces::from_encoded(b.encode_to_vec().into()).unwrap()).unwrap();
            let mut whole = a.clone();
            whole.resource_spans.extend(b.resource_spans.clone());
            let expected = switchyard_pdata::walk::partition_spans(whole, n, |_, s| part_of(&s.trace_id, n).min(n - 1));
            let parts = batch.partition_by_trace_id(n, |id| part_of(id, n));
            prop_assert_eq!(parts.len(), n);
            for (part, want) in parts.iter().zip(expected) {
                prop_assert!(part.is_encoded() || part.item_count() == 0);
                prop_assert_eq!(pruned_traces(part.request().clone()), pruned_traces(want.clone()));
                prop_assert_eq!(part.item_count(), Traces::from_request(want).item_count());
                prop_assert!(walk(Signal::Traces, &part.to_bytes()).is_ok());
            }
            Ok(())
        })
        .unwrap();
}

#[test]
fn splitting_logs_by_trace_id_from_the_bytes_gives_the_decoded_split() {
    let case = (logs(), logs(), 2..5usize);
    TestRunner::new(Config { cases: CASES / 2, ..config() })
        .run(&case, |(a, b, n)| {
            let mut batch = Logs::from_encoded(a.encode_to_vec().into()).unwrap();
            batch.append(Logs::from_encoded(b.encode_to_vec().into()).unwrap()).unwrap();
            let mut whole = a.clone();
            whole.resource_logs.extend(b.resource_logs.clone());
            let expected =
                switchyard_pdata::walk::partition_log_records(whole, n, |_, l| part_of(&l.trace_id, n).min(n - 1));
            let parts = batch.partition_by_trace_id(n, |id| part_of(id, n));
            prop_assert_eq!(parts.len(), n);
            for (part, want) in parts.iter().zip(expected) {
                prop_assert!(part.is_encoded() || part.item_count() == 0);
                prop_assert_eq!(pruned_logs(part.request().clone()), pruned_logs(want.clone()));
                prop_assert_eq!(part.item_count(), Logs::from_request(want).item_count());
            }
            Ok(())
        })
        .unwrap();
}
