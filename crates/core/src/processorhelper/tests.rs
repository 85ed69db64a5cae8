//! The stateless scaffold with a small test processor: dispatch by signal, copy-on-write,
//! the Collector's item counters, dropping empty batches and error mapping.

use std::sync::Arc;

use switchyard_pdata::proto::collector::logs::v1::ExportLogsServiceRequest;
use switchyard_pdata::proto::collector::trace::v1::ExportTraceServiceRequest;
use switchyard_pdata::proto::common::v1::{any_value, AnyValue};
use switchyard_pdata::proto::logs::v1::{LogRecord, ResourceLogs, ScopeLogs};
use switchyard_pdata::{attrs, walk, Logs, Metrics, SignalData, Traces};

use super::*;
use crate::component::Kind;
use crate::consumer::{AnyConsumer, ConsumeError, DynConsumer, RequestContext};
use crate::testing::{settings, traces, SinkConsumer};

/// Tags every span `env=prod` and drops spans named `drop`; fails on a span named `fail`.
/// Keeps log records of severity INFO (9) and above. No metrics function.
pub(crate) struct TagProcessor;

impl SignalProcessor for TagProcessor {
    fn process_traces(&self, _cx: &RequestContext, req: &mut ExportTraceServiceRequest) -> Result<(), ProcessError> {
        if walk::spans(req).any(|s| s.span.name == "fail") {
            return Err(ProcessError::retryable("lookup timed out"));
        }
        walk::retain_spans(req, |s| s.span.name != "drop");
        walk::for_each_span_mut(req, |cx| {
            attrs::upsert(&mut cx.span.attributes, "env", string("prod"));
        });
        Ok(())
    }

    fn process_logs(&self, _cx: &RequestContext, req: &mut ExportLogsServiceRequest) -> Result<(), ProcessError> {
        walk::retain_log_records(req, |cx| cx.log.severity_number >= 9);
        Ok(())
    }
}

fn string(s: &str) -> AnyValue {
    AnyValue { value: Some(any_value::Value::StringValue(s.into())) }
}

fn logs(severities: &[i32]) -> Logs {
    let log_records = severities.iter().map(|s| LogRecord { severity_number: *s, ..Default::default() }).collect();
    ExportLogsServiceRequest {
        resource_logs: vec![ResourceLogs {
            scope_logs: vec![ScopeLogs { log_records, ..Default::default() }],
            ..Default::default()
        }],
    }
    .into()
}

fn build<S: SignalData>(set: &crate::component::Settings, sink: &Arc<SinkConsumer<S>>) -> DynConsumer<S>
where
    AnyConsumer: From<DynConsumer<S>>,
{
    let next = AnyConsumer::from(sink.clone() as DynConsumer<S>);
    let (consumer, component) = create_stateless(set, TagProcessor, next).expect("create");
    assert!(component.is_none(), "a stateless processor has nothing to start");
    crate::with_any_consumer!(consumer, c => {
        let any: Box<dyn std::any::Any> = Box::new(c);
        *any.downcast::<DynConsumer<S>>().expect("same signal out as in")
    })
}

fn addr<S: SignalData>(s: &S) -> usize {
    std::ptr::from_ref(s.request()) as usize
}

fn env_of(t: &Traces) -> Vec<Option<String>> {
    walk::spans(t.request()).map(|s| attrs::get_str(&s.span.attributes, "env").map(str::to_string)).collect()
}

#[tokio::test]
async fn dispatches_by_signal_and_changes_an_unshared_batch_in_place() {
    let set = settings(Kind::Processor, "tag");
    let sink = SinkConsumer::<Traces>::new();
    let c = build(&set, &sink);
    let data = traces(2);
    let original = addr(&data);
    c.consume(&RequestContext::default(), data).await.expect("ok");
    let out = sink.batches().pop().unwrap();
    assert_eq!(env_of(&out), [Some("prod".to_string()), Some("prod".to_string())]);
    assert_eq!(addr(&out), original, "nobody else held the batch: no copy");

    let log_sink = SinkConsumer::<Logs>::new();
    let c = build(&set, &log_sink);
    c.consume(&RequestContext::default(), logs(&[5, 9, 17])).await.expect("ok");
    assert_eq!(log_sink.item_count(), 2, "the DEBUG record is filtered out");
}

#[tokio::test]
async fn a_shared_batch_is_copied_once_and_the_other_holder_sees_the_original() {
    let set = settings(Kind::Processor, "tag");
    let sink = SinkConsumer::<Traces>::new();
    let c = build(&set, &sink);
    let data = traces(1);
    let kept = data.clone(); // another pipeline's exporter queue, say
    c.consume(&RequestContext::default(), data).await.expect("ok");
    assert_eq!(env_of(&kept), [None], "the other holder's batch is untouched");
    let out = sink.batches().pop().unwrap();
    assert_eq!(env_of(&out), [Some("prod".to_string())]);
    assert_ne!(addr(&out), addr(&kept), "the processor changed its own copy");
}

#[tokio::test]
async fn counts_items_in_and_out_under_the_collector_names() {
    let set = settings(Kind::Processor, "tag/x");
    let sink = SinkConsumer::<Logs>::new();
    let c = build(&set, &sink);
    c.consume(&RequestContext::default(), logs(&[1, 9, 9])).await.expect("ok");
    c.consume(&RequestContext::default(), logs(&[13])).await.expect("ok");
    let text = set.telemetry.metrics.render(false);
    let labels = "{otel_signal=\"logs\",processor=\"tag/x\"}";
    assert!(text.contains(&format!("otelcol_processor_incoming_items{labels} 4\n")), "{text}");
    assert!(text.contains(&format!("otelcol_processor_outgoing_items{labels} 3\n")), "{text}");
}

#[tokio::test]
async fn an_emptied_batch_is_dropped_without_calling_next() {
    let set = settings(Kind::Processor, "tag");
    let sink = SinkConsumer::<Logs>::new();
    sink.fail_with(Some(ConsumeError::permanent("next must not be called")));
    let c = build(&set, &sink);
    c.consume(&RequestContext::default(), logs(&[1, 2])).await.expect("dropped, not failed");
    let text = set.telemetry.metrics.render(false);
    assert!(text.contains("otelcol_processor_incoming_items{otel_signal=\"logs\",processor=\"tag\"} 2\n"), "{text}");
    assert!(text.contains("otelcol_processor_outgoing_items{otel_signal=\"logs\",processor=\"tag\"} 0\n"), "{text}");
}

#[tokio::test]
async fn errors_become_consume_errors_and_stop_the_batch() {
    let set = settings(Kind::Processor, "tag");
    let sink = SinkConsumer::<Traces>::new();
    let c = build(&set, &sink);
    let mut data = traces(2);
    walk::for_each_span_mut(data.make_mut(), |cx| cx.span.name = "fail".into());
    let err = c.consume(&RequestContext::default(), data).await.expect_err("processing failed");
    assert!(err.is_retryable(), "{err:?}");
    assert_eq!(err.to_string(), "processor \"tag\": lookup timed out");
    assert_eq!(sink.item_count(), 0);

    let metrics_sink = SinkConsumer::<Metrics>::new();
    let c = build(&set, &metrics_sink);
    let err = c.consume(&RequestContext::default(), Metrics::default()).await.expect_err("no metrics function");
    assert!(matches!(err, ConsumeError::Permanent { .. }), "{err:?}");
    assert_eq!(err.to_string(), "processor \"tag\": this processor does not support metrics");
}
