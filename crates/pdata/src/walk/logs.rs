//! Walks, `retain` and grouping for logs: log records (OTTL `log` context) with their
//! resource and scope.

use std::convert::Infallible;
use std::hash::Hash;

use crate::proto::collector::logs::v1::ExportLogsServiceRequest;
use crate::proto::logs::v1::{LogRecord, ResourceLogs};

use super::tree;
use super::{ResourceMut, ResourceRef, ScopeMut, ScopeRef};
use crate::proto::resource::v1::Resource;

/// A log record with its resource and scope, all mutable: what a closure over log records
/// receives.
#[derive(Debug)]
pub struct LogContext<'a> {
    /// The enclosing resource.
    pub resource: ResourceMut<'a>,
    /// The enclosing instrumentation scope.
    pub scope: ScopeMut<'a>,
    /// The log record.
    pub log: &'a mut LogRecord,
}

/// A log record with its resource and scope, read-only.
#[derive(Clone, Copy, Debug)]
pub struct LogRecordRef<'a> {
    /// The enclosing resource.
    pub resource: ResourceRef<'a>,
    /// The enclosing instrumentation scope.
    pub scope: ScopeRef<'a>,
    /// The log record.
    pub log: &'a LogRecord,
}

/// Every log record in order, with its resource and scope.
pub fn log_records(req: &ExportLogsServiceRequest) -> impl Iterator<Item = LogRecordRef<'_>> {
    tree::items(&req.resource_logs).map(|(resource, scope, log)| LogRecordRef { resource, scope, log })
}

/// Calls `f` on every log record in order.
pub fn for_each_log_record_mut(req: &mut ExportLogsServiceRequest, mut f: impl FnMut(LogContext<'_>)) {
    let Ok(()) = try_for_each_log_record_mut(req, |cx| {
        f(cx);
        Ok::<(), Infallible>(())
    });
}

/// Calls `f` on every log record in order, stopping at (and returning) its first error;
/// records already visited keep their changes.
pub fn try_for_each_log_record_mut<E>(
    req: &mut ExportLogsServiceRequest,
    mut f: impl FnMut(LogContext<'_>) -> Result<(), E>,
) -> Result<(), E> {
    tree::try_walk(&mut req.resource_logs, |resource, scope, log| f(LogContext { resource, scope, log }))
}

/// Keeps the log records `keep` returns true for and prunes scopes and resources left
/// empty. Returns how many records were removed.
pub fn retain_log_records(req: &mut ExportLogsServiceRequest, mut keep: impl FnMut(LogContext<'_>) -> bool) -> usize {
    tree::retain(&mut req.resource_logs, |resource, scope, log| keep(LogContext { resource, scope, log }))
}

/// One request per trace id of the log records (empty for records outside a trace), in
/// the order ids first appear; records move, envelopes are copied once per group.
pub fn split_logs_by_trace_id(req: ExportLogsServiceRequest) -> Vec<(Vec<u8>, ExportLogsServiceRequest)> {
    tree::group_items(req.resource_logs, |log: &LogRecord| log.trace_id.as_slice())
        .into_iter()
        .map(|(id, resource_logs)| (id, ExportLogsServiceRequest { resource_logs }))
        .collect()
}

/// One request per `key(resource)`, in the order keys first appear; each `ResourceLogs`
/// moves whole into its group.
pub fn split_logs_by_resource<K: Hash + Eq>(
    req: ExportLogsServiceRequest,
    key: impl FnMut(&ResourceLogs) -> K,
) -> Vec<(K, ExportLogsServiceRequest)> {
    tree::group_resources(req.resource_logs, key)
        .into_iter()
        .map(|(k, resource_logs)| (k, ExportLogsServiceRequest { resource_logs }))
        .collect()
}

/// `n` requests: record `l` of resource `r` goes to request `key(r, l)` (an index below
/// `n`). Records move; envelopes are copied once per request they end up in.
pub fn partition_log_records(
    req: ExportLogsServiceRequest,
    n: usize,
    key: impl FnMut(Option<&Resource>, &LogRecord) -> usize,
) -> Vec<ExportLogsServiceRequest> {
    tree::partition_items(req.resource_logs, n, key)
        .into_iter()
        .map(|resource_logs| ExportLogsServiceRequest { resource_logs })
        .collect()
}

/// `n` requests: each `ResourceLogs` moves whole into request `key(it)` (an index below `n`).
pub fn partition_logs_by_resource(
    req: ExportLogsServiceRequest,
    n: usize,
    key: impl FnMut(&ResourceLogs) -> usize,
) -> Vec<ExportLogsServiceRequest> {
    tree::partition_resources(req.resource_logs, n, key)
        .into_iter()
        .map(|resource_logs| ExportLogsServiceRequest { resource_logs })
        .collect()
}
