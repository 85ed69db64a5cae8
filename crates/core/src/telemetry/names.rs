//! Every self-metric name, in one place. Collector-equivalent metrics use the Collector's
//! names verbatim (without `_total`; the renderer adds it when the config asks for it).

/// Items a receiver pushed into the pipeline: `otelcol_receiver_accepted_<item>`.
pub const RECEIVER_ACCEPTED: &str = "otelcol_receiver_accepted";
/// Items the pipeline refused: `otelcol_receiver_refused_<item>`.
pub const RECEIVER_REFUSED: &str = "otelcol_receiver_refused";
/// Requests a receiver refused unread (bytes-in-flight admission): Switchyard's own.
pub const RECEIVER_ADMISSION_REFUSED: &str = "switchyard_receiver_admission_refused_requests";
/// Items an exporter sent: `otelcol_exporter_sent_<item>`.
pub const EXPORTER_SENT: &str = "otelcol_exporter_sent";
/// Items an exporter failed to send (dropped after retries or permanent errors).
pub const EXPORTER_SEND_FAILED: &str = "otelcol_exporter_send_failed";
/// Items that could not enter the sending queue.
pub const EXPORTER_ENQUEUE_FAILED: &str = "otelcol_exporter_enqueue_failed";
/// Current queue occupancy (in the queue sizer's unit).
pub const EXPORTER_QUEUE_SIZE: &str = "otelcol_exporter_queue_size";
/// Configured queue capacity (in the queue sizer's unit).
pub const EXPORTER_QUEUE_CAPACITY: &str = "otelcol_exporter_queue_capacity";
/// Items an exporter dropped, by `reason` (Switchyard's own; the Collector only has send_failed).
pub const EXPORTER_DROPPED: &str = "switchyard_exporter_dropped";
/// Items a persistent queue re-sends after a restart (they were in flight: possible duplicates).
pub const EXPORTER_QUEUE_REDELIVERED: &str = "switchyard_exporter_queue_redelivered";
/// Damaged persistent-queue records skipped.
pub const EXPORTER_QUEUE_CORRUPT_RECORDS: &str = "switchyard_exporter_queue_corrupt_records";
/// Batch sizes the batch processor sent (items).
pub const BATCH_SEND_SIZE: &str = "otelcol_processor_batch_batch_send_size";
/// Batches sent because they reached `send_batch_size`.
pub const BATCH_SIZE_TRIGGER: &str = "otelcol_processor_batch_batch_size_trigger_send";
/// Batches sent because the timeout fired.
pub const BATCH_TIMEOUT_TRIGGER: &str = "otelcol_processor_batch_timeout_trigger_send";
/// Distinct metadata-key combinations the batch processor holds.
pub const BATCH_METADATA_CARDINALITY: &str = "otelcol_processor_batch_metadata_cardinality";
/// Seconds since start.
pub const PROCESS_UPTIME: &str = "otelcol_process_uptime";
/// CPU seconds used (user + system).
pub const PROCESS_CPU_SECONDS: &str = "otelcol_process_cpu_seconds";
/// Resident memory in bytes.
pub const PROCESS_MEMORY_RSS: &str = "otelcol_process_memory_rss";
/// Connections a receiver closed before serving them, by `reason` (`max_connections`,
/// `tls_handshake`, `timeout`): Switchyard's own.
pub const RECEIVER_REFUSED_CONNECTIONS: &str = "switchyard_receiver_refused_connections";
/// Connections a receiver has open.
pub const RECEIVER_OPEN_CONNECTIONS: &str = "switchyard_receiver_open_connections";
/// Requests a receiver turned away before decoding them, by `reason` (`unauthenticated`,
/// `too_large`, `json_depth`, `malformed`): Switchyard's own.
pub const RECEIVER_REJECTED_REQUESTS: &str = "switchyard_receiver_rejected_requests";
/// Items handed to a processor, by `processor` and `otel_signal` (the Collector's
/// `otel.signal` attribute, with the dot the Prometheus exposition turns into `_`).
pub const PROCESSOR_INCOMING_ITEMS: &str = "otelcol_processor_incoming_items";
/// Items a processor passed on, by `processor` and `otel_signal` (0 for a batch it failed or dropped).
pub const PROCESSOR_OUTGOING_ITEMS: &str = "otelcol_processor_outgoing_items";
/// Bytes a stateful processor holds (pending batches, buffered traces), by `processor`: Switchyard's own.
pub const PROCESSOR_HELD_BYTES: &str = "switchyard_processor_held_bytes";
/// Spans the filter processor dropped, by `filter` (the processor id): the Collector's
/// `otelcol_processor_filter_spans.filtered`, with the dot Prometheus turns into `_`.
pub const PROCESSOR_FILTER_SPANS_FILTERED: &str = "otelcol_processor_filter_spans_filtered";
/// Log records the filter processor dropped, by `filter` (`otelcol_processor_filter_logs.filtered`).
pub const PROCESSOR_FILTER_LOGS_FILTERED: &str = "otelcol_processor_filter_logs_filtered";
/// Data points the filter processor dropped, by `filter` (`otelcol_processor_filter_datapoints.filtered`).
pub const PROCESSOR_FILTER_DATAPOINTS_FILTERED: &str = "otelcol_processor_filter_datapoints_filtered";
/// Configuration reloads (SIGHUP), by `result` (`success`, `failure`): Switchyard's own.
/// Served as `switchyard_config_reload_total` when a Prometheus reader is configured.
pub const CONFIG_RELOAD: &str = "switchyard_config_reload";
/// Worst-case bytes a component declares from its config, by `component` (`kind/id`, all
/// its instances together): Switchyard's own (see docs/memory.md).
pub const COMPONENT_MEMORY_DECLARED: &str = "switchyard_component_memory_declared_bytes";
/// Bytes a component holds now (queued, pending, buffered, in flight), by `component`.
pub const COMPONENT_MEMORY_USED: &str = "switchyard_component_memory_used_bytes";
/// Times a component reached its declared bound and flushed, evicted, refused or waited,
/// by `component` and `action`.
pub const COMPONENT_MEMORY_CAP_REACHED: &str = "switchyard_component_memory_cap_reached";
