use crate::proto::collector::logs::v1::ExportLogsServiceRequest;
use crate::proto::logs::v1::{LogRecord, ResourceLogs, ScopeLogs};
use crate::walk::*;

use super::{resource, resource_name, scope};

fn record(name: &str, trace: &[u8]) -> LogRecord {
    LogRecord { event_name: name.into(), trace_id: trace.to_vec(), ..Default::default() }
}

/// r0 {s0 [a(t1), b(none)], s1 [c(t1)]}, r1 {s0 [d(none)]}.
fn request() -> ExportLogsServiceRequest {
    ExportLogsServiceRequest {
        resource_logs: vec![
            ResourceLogs {
                resource: resource("r0"),
                scope_logs: vec![
                    ScopeLogs {
                        scope: scope("s0"),
                        log_records: vec![record("r0/s0/a", &[1; 16]), record("r0/s0/b", &[])],
                        ..Default::default()
                    },
                    ScopeLogs {
                        scope: scope("s1"),
                        log_records: vec![record("r0/s1/c", &[1; 16])],
                        ..Default::default()
                    },
                ],
                ..Default::default()
            },
            ResourceLogs {
                resource: resource("r1"),
                scope_logs: vec![ScopeLogs {
                    scope: scope("s0"),
                    log_records: vec![record("r1/s0/d", &[])],
                    ..Default::default()
                }],
                ..Default::default()
            },
        ],
    }
}

fn names(req: &ExportLogsServiceRequest) -> Vec<&str> {
    log_records(req).map(|l| l.log.event_name.as_str()).collect()
}

#[test]
fn log_walks_reach_every_record_with_its_resource_and_scope() {
    let mut req = request();
    let mut seen = Vec::new();
    for_each_log_record_mut(&mut req, |mut cx| {
        let prefix = format!("{}/{}/", resource_name(cx.resource.attributes()), cx.scope.get().map_or("", |s| &s.name));
        assert!(cx.log.event_name.starts_with(&prefix));
        seen.push(cx.log.event_name.clone());
        cx.scope.get_or_insert().version = "v".into();
    });
    assert_eq!(seen, ["r0/s0/a", "r0/s0/b", "r0/s1/c", "r1/s0/d"]);
    assert!(log_records(&req).all(|l| l.scope.get().is_some_and(|s| s.version == "v")));
    let r = try_for_each_log_record_mut(&mut req, |_| Err(7));
    assert_eq!(r, Err(7));
}

#[test]
fn retain_log_records_prunes_envelopes() {
    let mut req = request();
    let removed = retain_log_records(&mut req, |cx| cx.log.trace_id.is_empty());
    assert_eq!(removed, 2);
    assert_eq!(names(&req), ["r0/s0/b", "r1/s0/d"]);
    assert_eq!(req.resource_logs[0].scope_logs.len(), 1, "s1 left empty and pruned");
}

#[test]
fn split_logs_by_trace_id_and_resource() {
    let groups = split_logs_by_trace_id(request());
    assert_eq!(groups.len(), 2);
    assert_eq!(groups[0].0, vec![1; 16]);
    assert_eq!(names(&groups[0].1), ["r0/s0/a", "r0/s1/c"]);
    assert!(groups[1].0.is_empty());
    assert_eq!(names(&groups[1].1), ["r0/s0/b", "r1/s0/d"]);
    assert_eq!(groups[1].1.resource_logs.len(), 2);

    let groups =
        split_logs_by_resource(request(), |rl| resource_name(rl.resource.as_ref().map_or(&[], |r| &r.attributes)));
    let keys: Vec<&str> = groups.iter().map(|(k, _)| k.as_str()).collect();
    assert_eq!(keys, ["r0", "r1"]);
}
