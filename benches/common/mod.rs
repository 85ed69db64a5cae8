//! The request every benchmark uses, shaped like the load harness's: 1 resource with 8
//! attributes, spans with 10 attributes (strings, ints, bools) and 1 event each.

use switchyard_pdata::proto::collector::trace::v1::ExportTraceServiceRequest;
use switchyard_pdata::proto::common::v1::{any_value::Value, AnyValue, InstrumentationScope, KeyValue};
use switchyard_pdata::proto::resource::v1::Resource;
use switchyard_pdata::proto::trace::v1::{span::Event, ResourceSpans, ScopeSpans, Span, Status};

fn kv(k: &str, v: Value) -> KeyValue {
    KeyValue { key: k.into(), value: Some(AnyValue { value: Some(v) }), ..Default::default() }
}

pub fn request(spans: usize) -> ExportTraceServiceRequest {
    let resource = Resource {
        attributes: (0..8)
            .map(|i| kv(&format!("resource.attr.{i}"), Value::StringValue(format!("value-{i}"))))
            .collect(),
        ..Default::default()
    };
    let spans = (0..spans)
        .map(|i| Span {
            trace_id: (0..16).map(|b| (b * 7 + i) as u8).collect(),
            span_id: (0..8).map(|b| (b * 3 + i) as u8).collect(),
            parent_span_id: vec![9; 8],
            name: format!("GET /api/v1/items/{i}"),
            kind: 2,
            start_time_unix_nano: 1_700_000_000_000_000_000 + i as u64,
            end_time_unix_nano: 1_700_000_000_100_000_000 + i as u64,
            attributes: (0..10)
                .map(|a| match a % 3 {
                    0 => kv(&format!("attr.str.{a}"), Value::StringValue(format!("some string value {a}"))),
                    1 => kv(&format!("attr.int.{a}"), Value::IntValue(a * 1000)),
                    _ => kv(&format!("attr.bool.{a}"), Value::BoolValue(a % 2 == 0)),
                })
                .collect(),
            events: vec![Event {
                name: "event".into(),
                time_unix_nano: 1_700_000_000_050_000_000,
                ..Default::default()
            }],
            status: Some(Status { code: 1, ..Default::default() }),
            ..Default::default()
        })
        .collect();
    ExportTraceServiceRequest {
        resource_spans: vec![ResourceSpans {
            resource: Some(resource),
            scope_spans: vec![ScopeSpans {
                scope: Some(InstrumentationScope { name: "bench".into(), version: "1.0".into(), ..Default::default() }),
                spans,
                ..Default::default()
            }],
            ..Default::default()
        }],
    }
}
