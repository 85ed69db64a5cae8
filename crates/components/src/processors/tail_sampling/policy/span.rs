//! The policies that read span fields: `latency`, `status_code`, `span_count`,
//! `trace_state` and `trace_flags`.

use switchyard_core::component::FieldError;
use switchyard_pdata::proto::trace::v1::{ResourceSpans, Span};

use super::config::{LatencyCfg, SpanCountCfg, StatusCodeCfg, TraceStateCfg};
use super::Decision;

/// Every span of the trace, batch by batch.
pub(super) fn spans(batches: &[ResourceSpans]) -> impl Iterator<Item = &Span> {
    batches.iter().flat_map(|rs| &rs.scope_spans).flat_map(|ss| &ss.spans)
}

fn sampled_if(b: bool) -> Decision {
    if b {
        Decision::Sampled
    } else {
        Decision::NotSampled
    }
}

/// `latency`: the trace's duration, from its earliest span start to its latest span end,
/// in whole milliseconds (truncated, as Go's `Duration.Milliseconds`). Samples when the
/// duration is above `threshold_ms` (exclusive since contrib v0.157) and, with an upper
/// bound, at most `upper_threshold_ms`.
#[derive(Debug)]
pub(super) struct Latency {
    threshold_ms: i64,
    upper_threshold_ms: i64,
}

impl Latency {
    pub(super) fn compile(cfg: &LatencyCfg) -> Self {
        Latency { threshold_ms: cfg.threshold_ms, upper_threshold_ms: cfg.upper_threshold_ms }
    }

    pub(super) fn evaluate(&self, batches: &[ResourceSpans]) -> Decision {
        let mut bounds: Option<(u64, u64)> = None;
        for s in spans(batches) {
            let (lo, hi) = bounds.get_or_insert((s.start_time_unix_nano, s.end_time_unix_nano));
            *lo = (*lo).min(s.start_time_unix_nano);
            *hi = (*hi).max(s.end_time_unix_nano);
        }
        let Some((start, end)) = bounds else { return Decision::NotSampled };
        let ms = ((i128::from(end) - i128::from(start)) / 1_000_000) as i64;
        if self.upper_threshold_ms == 0 {
            sampled_if(ms > self.threshold_ms)
        } else {
            sampled_if(self.threshold_ms < ms && ms <= self.upper_threshold_ms)
        }
    }
}

/// `status_code`: any span with one of the codes (a span without a status is `UNSET`).
#[derive(Debug)]
pub(super) struct StatusCode {
    codes: Vec<i32>,
}

impl StatusCode {
    /// Texts as upstream's `NewStatusCodeFilter`.
    pub(super) fn compile(cfg: &StatusCodeCfg, path: &str) -> Result<Self, Vec<FieldError>> {
        if cfg.status_codes.is_empty() {
            return Err(vec![FieldError::new(
                format!("{path}::status_codes"),
                "expected at least one status code to filter on",
            )]);
        }
        let mut codes = Vec::new();
        let mut errors = Vec::new();
        for (i, c) in cfg.status_codes.iter().enumerate() {
            match c.as_str() {
                "UNSET" => codes.push(0),
                "OK" => codes.push(1),
                "ERROR" => codes.push(2),
                _ => errors.push(FieldError::new(
                    format!("{path}::status_codes::{i}"),
                    format!("unknown status code {c:?}, supported: OK, ERROR, UNSET"),
                )),
            }
        }
        if errors.is_empty() {
            Ok(StatusCode { codes })
        } else {
            Err(errors)
        }
    }

    pub(super) fn evaluate(&self, batches: &[ResourceSpans]) -> Decision {
        sampled_if(spans(batches).any(|s| self.codes.contains(&s.status.as_ref().map_or(0, |st| st.code))))
    }
}

/// `span_count`: the trace's span count within `[min_spans, max_spans]` (no upper bound
/// when `max_spans` is 0).
#[derive(Debug)]
pub(super) struct SpanCount {
    min: i64,
    max: i64,
}

impl SpanCount {
    pub(super) fn compile(cfg: &SpanCountCfg) -> Self {
        SpanCount { min: i64::from(cfg.min_spans), max: i64::from(cfg.max_spans) }
    }

    pub(super) fn evaluate(&self, span_count: u64) -> Decision {
        let n = i64::try_from(span_count).unwrap_or(i64::MAX);
        sampled_if(n >= self.min && (self.max == 0 || n <= self.max))
    }
}

/// `trace_flags`: any span whose W3C trace flags have the `sampled` bit.
pub(super) fn trace_flags(batches: &[ResourceSpans]) -> Decision {
    sampled_if(spans(batches).any(|s| s.flags & 0x01 != 0))
}

/// `trace_state`: any span whose tracestate has `key` with one of `values`. A tracestate
/// that is not valid W3C syntax (as the Go SDK's `ParseTraceState` checks it) matches
/// nothing; values that could not fit a member (key + value of 256 bytes or more) are
/// ignored, as upstream does.
#[derive(Debug)]
pub(super) struct TraceStateFilter {
    key: String,
    values: Vec<String>,
}

impl TraceStateFilter {
    pub(super) fn compile(cfg: &TraceStateCfg) -> Self {
        let values = cfg.values.iter().filter(|v| !v.is_empty() && cfg.key.len() + v.len() < 256).cloned().collect();
        TraceStateFilter { key: cfg.key.clone(), values }
    }

    pub(super) fn evaluate(&self, batches: &[ResourceSpans]) -> Decision {
        sampled_if(
            spans(batches).any(|s| {
                member_value(&s.trace_state, &self.key).is_some_and(|v| self.values.iter().any(|want| want == v))
            }),
        )
    }
}

const MAX_MEMBERS: usize = 32;

fn is_lc_alnum(c: u8) -> bool {
    c.is_ascii_lowercase() || c.is_ascii_digit()
}

fn key_rest_ok(rest: &[u8]) -> bool {
    rest.iter().all(|&c| is_lc_alnum(c) || matches!(c, b'_' | b'-' | b'*' | b'/'))
}

/// `lcalpha 0*n( lcalpha / DIGIT / "_" / "-" / "*" / "/" )`.
fn key_part_ok(part: &[u8], n: usize) -> bool {
    match part.split_first() {
        Some((first, rest)) => first.is_ascii_lowercase() && rest.len() <= n && key_rest_ok(rest),
        None => false,
    }
}

fn key_ok(key: &str) -> bool {
    match key.split_once('@') {
        None => key_part_ok(key.as_bytes(), 255),
        Some((tenant, system)) => {
            let t = tenant.as_bytes();
            let tenant_ok = t.split_first().is_some_and(|(f, r)| is_lc_alnum(*f) && r.len() <= 240 && key_rest_ok(r));
            tenant_ok && key_part_ok(system.as_bytes(), 13)
        }
    }
}

fn value_ok(v: &str) -> bool {
    let b = v.as_bytes();
    let printable = |c: u8| (0x20..=0x7e).contains(&c) && c != b',' && c != b'=';
    match b.split_last() {
        Some((last, rest)) => b.len() <= 256 && *last != b' ' && printable(*last) && rest.iter().all(|&c| printable(c)),
        None => false,
    }
}

/// The value of `key` in the W3C tracestate `raw`, or `None` when absent or when `raw` is
/// invalid: a member without `=`, a bad key or value, a duplicate key, or more than 32
/// members. Empty members are skipped; spaces before a key and after a value are
/// trimmed.
pub(super) fn member_value<'a>(raw: &'a str, key: &str) -> Option<&'a str> {
    let mut found = None;
    // The keys seen so far, for the duplicate check (on the stack: at most 32 are valid).
    let mut keys = [""; MAX_MEMBERS];
    for (n, member) in raw.split(',').filter(|m| !m.is_empty()).enumerate() {
        let (k, v) = member.split_once('=')?;
        let (k, v) = (k.trim_start_matches([' ', '\t']), v.trim_end_matches([' ', '\t']));
        if !key_ok(k) || !value_ok(v) || keys[..n].contains(&k) || n == MAX_MEMBERS {
            return None;
        }
        keys[n] = k;
        if k == key {
            found = Some(v);
        }
    }
    found
}
