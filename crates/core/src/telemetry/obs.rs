//! Pre-resolved counters for receivers and exporters, so a component counts with one
//! atomic add per batch and cannot get the Collector's names or labels wrong.

use switchyard_pdata::Signal;

use super::metrics::{Counter, Gauge};
use super::{names, Telemetry};
use crate::component::ComponentId;

fn per_signal(t: &Telemetry, prefix: &str, help: &str, labels: &[(&str, &str)]) -> [Counter; 4] {
    Signal::ALL.map(|s| t.metrics.counter(&format!("{prefix}_{}", s.item_name()), help, labels))
}

/// Counters of one receiver on one transport (`grpc`, `http`).
#[derive(Clone)]
pub struct ReceiverObs {
    accepted: [Counter; 4],
    refused: [Counter; 4],
    /// Requests turned away before being read because too many bytes were in flight.
    pub admission_refused: Counter,
    /// Connections and requests stopped by a limit or a failed check.
    pub guard: GuardObs,
}

/// Counters of the checks at a receiver's door: connections closed before being served
/// and requests refused before being decoded, each by reason.
#[derive(Clone)]
pub struct GuardObs {
    /// Connection refused: the receiver holds `max_connections` already.
    pub conn_max_connections: Counter,
    /// Connection closed: the TLS handshake failed (no or bad client certificate, plaintext).
    pub conn_tls_handshake: Counter,
    /// Connection closed: nothing arrived (or no handshake finished) in `read_header_timeout`.
    pub conn_timeout: Counter,
    /// Connections open now.
    pub open_connections: Gauge,
    /// Request refused: missing or wrong credentials.
    pub req_unauthenticated: Counter,
    /// Request refused: too large before or after decompression.
    pub req_too_large: Counter,
    /// Request refused: JSON nested deeper than allowed.
    pub req_json_depth: Counter,
    /// Request refused: could not be decompressed or decoded.
    pub req_malformed: Counter,
    /// Request refused: its body did not arrive within `read_timeout`.
    pub req_read_timeout: Counter,
}

impl GuardObs {
    /// Registers (or finds) the counters for these labels (`receiver`, `transport`).
    pub fn new(t: &Telemetry, l: &[(&str, &str)]) -> Self {
        let conn = |reason: &str| {
            let mut l = l.to_vec();
            l.push(("reason", reason));
            t.metrics.counter(
                names::RECEIVER_REFUSED_CONNECTIONS,
                "Connections closed before being served, by reason.",
                &l,
            )
        };
        let req = |reason: &str| {
            let mut l = l.to_vec();
            l.push(("reason", reason));
            t.metrics.counter(names::RECEIVER_REJECTED_REQUESTS, "Requests refused before decoding, by reason.", &l)
        };
        GuardObs {
            conn_max_connections: conn("max_connections"),
            conn_tls_handshake: conn("tls_handshake"),
            conn_timeout: conn("timeout"),
            open_connections: t.metrics.gauge(names::RECEIVER_OPEN_CONNECTIONS, "Connections open.", l),
            req_unauthenticated: req("unauthenticated"),
            req_too_large: req("too_large"),
            req_json_depth: req("json_depth"),
            req_malformed: req("malformed"),
            req_read_timeout: req("read_timeout"),
        }
    }
}

impl ReceiverObs {
    /// Registers (or finds) the counters for `receiver` on `transport`.
    pub fn new(t: &Telemetry, receiver: &ComponentId, transport: &str) -> Self {
        let id = receiver.to_string();
        let l = [("receiver", id.as_str()), ("transport", transport)];
        ReceiverObs {
            accepted: per_signal(
                t,
                names::RECEIVER_ACCEPTED,
                "Number of items successfully pushed into the pipeline.",
                &l,
            ),
            refused: per_signal(
                t,
                names::RECEIVER_REFUSED,
                "Number of items that could not be pushed into the pipeline.",
                &l,
            ),
            admission_refused: t.metrics.counter(
                names::RECEIVER_ADMISSION_REFUSED,
                "Requests refused before being read because the receiver held too many bytes.",
                &l,
            ),
            guard: GuardObs::new(t, &l),
        }
    }

    /// Records the outcome of one request of `items` items.
    pub fn record(&self, signal: Signal, items: usize, ok: bool) {
        let i = signal as usize;
        if ok {
            self.accepted[i].add(items as u64);
        } else {
            self.refused[i].add(items as u64);
        }
    }
}

/// The Collector's processorhelper counters of one processor for one signal: items in and
/// items out, so a dashboard shows what each processor dropped (`incoming - outgoing`).
#[derive(Clone)]
pub struct ProcessorObs {
    /// Items handed to the processor.
    pub incoming: Counter,
    /// Items it passed on.
    pub outgoing: Counter,
}

impl ProcessorObs {
    /// Registers (or finds) the counters of `processor` for `signal`.
    pub fn new(t: &Telemetry, processor: &ComponentId, signal: Signal) -> Self {
        let id = processor.to_string();
        let l = [("otel_signal", signal.as_str()), ("processor", id.as_str())];
        ProcessorObs {
            incoming: t.metrics.counter(
                names::PROCESSOR_INCOMING_ITEMS,
                "Number of items passed to the processor.",
                &l,
            ),
            outgoing: t.metrics.counter(
                names::PROCESSOR_OUTGOING_ITEMS,
                "Number of items emitted from the processor.",
                &l,
            ),
        }
    }

    /// Records one batch: `incoming` items in, `outgoing` passed on.
    pub fn record(&self, incoming: usize, outgoing: usize) {
        self.incoming.add(incoming as u64);
        self.outgoing.add(outgoing as u64);
    }
}

/// Why an exporter dropped data: the `reason` label of `switchyard_exporter_dropped_<item>`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DropReason {
    /// The backend refused it for good (HTTP 400, INVALID_ARGUMENT...).
    PermanentError,
    /// `max_elapsed_time` passed without a successful attempt.
    RetriesExhausted,
    /// A retryable failure with `retry_on_failure.enabled: false`.
    RetryDisabled,
    /// Still failing at shutdown, in an in-memory queue.
    Shutdown,
    /// A damaged record in a persistent queue.
    CorruptRecord,
}

impl DropReason {
    const ALL: [DropReason; 5] = [
        DropReason::PermanentError,
        DropReason::RetriesExhausted,
        DropReason::RetryDisabled,
        DropReason::Shutdown,
        DropReason::CorruptRecord,
    ];

    /// The label value.
    pub fn as_str(self) -> &'static str {
        match self {
            DropReason::PermanentError => "permanent_error",
            DropReason::RetriesExhausted => "retries_exhausted",
            DropReason::RetryDisabled => "retry_disabled",
            DropReason::Shutdown => "shutdown",
            DropReason::CorruptRecord => "corrupt_record",
        }
    }
}

/// Counters and gauges of one exporter for one signal.
#[derive(Clone)]
pub struct ExporterObs {
    /// Items sent successfully.
    pub sent: Counter,
    /// Items dropped after a permanent error or exhausted retries.
    pub send_failed: Counter,
    /// Items refused because the queue was full.
    pub enqueue_failed: Counter,
    /// Queue occupancy, in the queue's sizer unit.
    pub queue_size: Gauge,
    /// Queue capacity, in the queue's sizer unit.
    pub queue_capacity: Gauge,
    /// Items a persistent queue sends again after a restart (they were in flight: maybe duplicates).
    pub redelivered: Counter,
    /// Damaged records a persistent queue skipped.
    pub corrupt_records: Counter,
    /// Bytes waiting in the memory queue (`switchyard_component_memory_used_bytes`).
    pub memory: crate::component::MemoryUse,
    dropped: [Counter; 5],
}

impl ExporterObs {
    /// Registers (or finds) the metrics of `exporter` for `signal`.
    pub fn new(t: &Telemetry, exporter: &ComponentId, signal: Signal) -> Self {
        let id = exporter.to_string();
        let l = [("exporter", id.as_str())];
        let lq = [("exporter", id.as_str()), ("data_type", signal.as_str())];
        let item = signal.item_name();
        let m = &t.metrics;
        ExporterObs {
            sent: m.counter(
                &format!("{}_{item}", names::EXPORTER_SENT),
                "Number of items successfully sent to destination.",
                &l,
            ),
            send_failed: m.counter(
                &format!("{}_{item}", names::EXPORTER_SEND_FAILED),
                "Number of items in failed attempts to send to destination.",
                &l,
            ),
            enqueue_failed: m.counter(
                &format!("{}_{item}", names::EXPORTER_ENQUEUE_FAILED),
                "Number of items failed to be added to the sending queue.",
                &l,
            ),
            queue_size: m.gauge(names::EXPORTER_QUEUE_SIZE, "Current size of the retry queue (in the sizer unit).", &lq),
            queue_capacity: m.gauge(
                names::EXPORTER_QUEUE_CAPACITY,
                "Fixed capacity of the retry queue (in the sizer unit).",
                &lq,
            ),
            redelivered: m.counter(
                &format!("{}_{item}", names::EXPORTER_QUEUE_REDELIVERED),
                "Items a persistent queue sends again after a restart because they were in flight (possible duplicates).",
                &l,
            ),
            corrupt_records: m.counter(
                names::EXPORTER_QUEUE_CORRUPT_RECORDS,
                "Damaged records a persistent queue skipped.",
                &lq,
            ),
            memory: crate::component::MemoryUse::new(t, crate::component::Kind::Exporter, exporter, "refuse"),
            dropped: DropReason::ALL.map(|r| {
                m.counter(
                    &format!("{}_{item}", names::EXPORTER_DROPPED),
                    "Items the exporter dropped, by reason.",
                    &[("exporter", id.as_str()), ("reason", r.as_str())],
                )
            }),
        }
    }

    /// The drop counter for `reason`.
    pub fn dropped(&self, reason: DropReason) -> &Counter {
        &self.dropped[reason as usize]
    }
}
