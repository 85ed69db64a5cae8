//! Loki's push request: `logproto.PushRequest` (protobuf, snappy block-compressed) or the
//! JSON body of `POST /loki/api/v1/push`.

use std::fmt::Write as _;

use switchyard_pdata::value::{write_json_str, JsonEscape};

use super::convert::TenantBatch;

/// `logproto.PushRequest`.
#[derive(Clone, PartialEq, prost::Message)]
pub(crate) struct PushRequest {
    /// The streams.
    #[prost(message, repeated, tag = "1")]
    pub streams: Vec<StreamAdapter>,
}

/// `logproto.StreamAdapter`.
#[derive(Clone, PartialEq, prost::Message)]
pub(crate) struct StreamAdapter {
    /// `{name="value", ...}`.
    #[prost(string, tag = "1")]
    pub labels: String,
    /// The entries.
    #[prost(message, repeated, tag = "2")]
    pub entries: Vec<EntryAdapter>,
    /// Set by Loki's distributor; 0 from clients.
    #[prost(uint64, tag = "3")]
    pub hash: u64,
}

/// `logproto.EntryAdapter`.
#[derive(Clone, PartialEq, prost::Message)]
pub(crate) struct EntryAdapter {
    /// When.
    #[prost(message, optional, tag = "1")]
    pub timestamp: Option<Timestamp>,
    /// The line.
    #[prost(string, tag = "2")]
    pub line: String,
    /// Structured metadata (Loki 2.9+); not used.
    #[prost(message, repeated, tag = "3")]
    pub structured_metadata: Vec<LabelPairAdapter>,
}

/// `logproto.LabelPairAdapter`.
#[derive(Clone, PartialEq, prost::Message)]
pub(crate) struct LabelPairAdapter {
    /// Name.
    #[prost(string, tag = "1")]
    pub name: String,
    /// Value.
    #[prost(string, tag = "2")]
    pub value: String,
}

/// `google.protobuf.Timestamp`.
#[derive(Clone, Copy, PartialEq, Eq, prost::Message)]
pub(crate) struct Timestamp {
    /// Seconds since the Unix epoch.
    #[prost(int64, tag = "1")]
    pub seconds: i64,
    /// Nanoseconds within the second.
    #[prost(int32, tag = "2")]
    pub nanos: i32,
}

impl Timestamp {
    /// From Unix nanoseconds.
    pub(crate) fn from_unix_nanos(ns: u64) -> Self {
        Timestamp { seconds: (ns / 1_000_000_000) as i64, nanos: (ns % 1_000_000_000) as i32 }
    }
}

/// The protobuf request, consuming the batch (lines are moved, not copied).
pub(crate) fn to_proto(batch: TenantBatch) -> PushRequest {
    PushRequest {
        streams: batch
            .streams
            .into_iter()
            .map(|s| StreamAdapter {
                labels: s.labels,
                entries: s
                    .entries
                    .into_iter()
                    .map(|e| EntryAdapter {
                        timestamp: Some(Timestamp::from_unix_nanos(e.ts)),
                        line: e.line,
                        structured_metadata: Vec::new(),
                    })
                    .collect(),
                hash: 0,
            })
            .collect(),
    }
}

/// The protobuf body: the encoded request, snappy block-compressed (not framed).
pub(crate) fn encode_proto(batch: TenantBatch) -> Result<Vec<u8>, String> {
    let raw = prost::Message::encode_to_vec(&to_proto(batch));
    snap::raw::Encoder::new().compress_vec(&raw).map_err(|e| format!("snappy: {e}"))
}

/// The JSON body: `{"streams":[{"stream":{"k":"v"},"values":[["<unix ns>","<line>"]]}]}`.
pub(crate) fn encode_json(batch: &TenantBatch) -> Vec<u8> {
    let size: usize = batch
        .streams
        .iter()
        .map(|s| s.labels.len() + 32 + s.entries.iter().map(|e| e.line.len() + 32).sum::<usize>())
        .sum();
    let mut out = String::with_capacity(size + 16);
    out.push_str("{\"streams\":[");
    for (i, s) in batch.streams.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        out.push_str("{\"stream\":{");
        for (j, (name, value)) in s.pairs.iter().enumerate() {
            if j > 0 {
                out.push(',');
            }
            write_json_str(&mut out, name, JsonEscape::Html);
            out.push(':');
            write_json_str(&mut out, value, JsonEscape::Html);
        }
        out.push_str("},\"values\":[");
        for (j, e) in s.entries.iter().enumerate() {
            if j > 0 {
                out.push(',');
            }
            let _ = write!(out, "[\"{}\",", e.ts);
            write_json_str(&mut out, &e.line, JsonEscape::Html);
            out.push(']');
        }
        out.push_str("]}");
    }
    out.push_str("]}");
    out.into_bytes()
}
