#!/usr/bin/env python3
"""Writes deploy/grafana/switchyard.json, the Grafana dashboard of the gateway's self-metrics.

The dashboard is generated rather than edited by hand so that every panel follows the same
rules, which tests/grafana_dashboard.rs checks:

- Counters are selected as {__name__=~"NAME(_total)?"}: the gateway exports them without the
  `_total` suffix by default (no metrics config, or `address:`) and with it under an explicit
  Prometheus pull reader (docs/telemetry.md). One dashboard then serves both.
- rate() drops the metric name, so two signals' counters (same labels, different names) must
  never be rated in one selector: Prometheus would refuse the result ("vector cannot contain
  metrics with the same labelset"). Each signal is its own query.
- Every panel and query uses the `datasource` variable; every selector carries the `job` and
  `instance` variables.

usage: python3 deploy/grafana/generate.py [OUT]   (stdlib only; default OUT: switchyard.json next to it)
"""

import json
import os
import sys

DS = {"type": "prometheus", "uid": "${datasource}"}
SEL = 'job=~"$job", instance=~"$instance"'
RI = "$__rate_interval"
# (metric suffix, legend word). Profiles are a signal of the otlp receiver and exporters too.
ITEMS = [("spans", "spans"), ("metric_points", "metric points"), ("log_records", "log records"),
         ("profile_samples", "profile samples")]
WIDTH = 24
# Connectors on the stateful scaffold count spans in and metrics out under their own id, so their
# in - out is not a loss: left out of the "dropped" views.
NOT_LOSS = ', processor!~"(servicegraph|service_graph|spanmetrics|span_metrics|count)(/.*)?"'


def ctr(name, extra=""):
    """A counter selector matching both the bare name and the `_total` one."""
    return '{__name__=~"%s(_total)?", %s%s}' % (name, SEL, extra)


def gauge(name, extra=""):
    return "%s{%s%s}" % (name, SEL, extra)


def rate(name, by=None, extra=""):
    inner = "rate(%s[%s])" % (ctr(name, extra), RI)
    return "sum by (%s) (%s)" % (by, inner) if by else "sum(%s)" % inner


def all_signals(prefix, extra=""):
    """Items/s of one stage summed over every signal. `or vector(0)` keeps the sum when a signal
    has no series (a gateway without a logs pipeline still has a total)."""
    return " + ".join("(%s or vector(0))" % rate("%s_%s" % (prefix, item), extra=extra) for item, _ in ITEMS)


def quantile(q, bucket, by):
    return "histogram_quantile(%s, sum by (%s, le) (rate(%s[%s])))" % (q, by, gauge(bucket), RI)


def t(expr, legend):
    return {"expr": expr, "legendFormat": legend}


def per_signal(prefix, by, legend, extra="", items=None):
    """One query per signal: `prefix_<item>` summed by `by`."""
    return [t(rate("%s_%s" % (prefix, item), by, extra), "%s %s" % (legend, word) if legend else word)
            for item, word in ITEMS if items is None or item in items]


class Board:
    def __init__(self):
        self.panels = []
        self.next_id = 1
        self.x = 0
        self.y = 0
        self.row_h = 0

    def _id(self):
        i = self.next_id
        self.next_id += 1
        return i

    def row(self, title):
        self._newline()
        self.panels.append({"type": "row", "title": title, "id": self._id(), "collapsed": False, "panels": [],
                            "gridPos": {"x": 0, "y": self.y, "w": WIDTH, "h": 1}})
        self.y += 1

    def _newline(self):
        if self.x > 0:
            self.y += self.row_h
        self.x, self.row_h = 0, 0

    def _place(self, w, h):
        if self.x + w > WIDTH:
            self._newline()
        pos = {"x": self.x, "y": self.y, "w": w, "h": h}
        self.x += w
        self.row_h = max(self.row_h, h)
        return pos

    def panel(self, kind, title, desc, targets, unit="cps", w=8, h=8):
        refs = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
        p = {
            "type": kind,
            "title": title,
            "description": desc,
            "id": self._id(),
            "gridPos": self._place(w, h),
            "datasource": DS,
            "fieldConfig": {"defaults": {"unit": unit}, "overrides": []},
            "targets": [dict(x, refId=refs[i], datasource=DS, editorMode="code", range=True)
                        for i, x in enumerate(targets)],
        }
        if kind == "timeseries":
            p["fieldConfig"]["defaults"]["custom"] = {"drawStyle": "line", "lineWidth": 1, "fillOpacity": 10,
                                                      "showPoints": "never", "spanNulls": False}
            p["options"] = {"legend": {"displayMode": "table", "placement": "bottom", "showLegend": True,
                                       "calcs": ["mean", "max", "lastNotNull"]},
                            "tooltip": {"mode": "multi", "sort": "desc"}}
        else:
            p["options"] = {"reduceOptions": {"calcs": ["lastNotNull"], "fields": "", "values": False},
                            "colorMode": "value", "graphMode": "area", "textMode": "value_and_name",
                            "orientation": "auto", "justifyMode": "auto"}
        self.panels.append(p)

    def ts(self, title, desc, targets, unit="cps", w=8, h=8):
        self.panel("timeseries", title, desc, targets, unit, w, h)

    def stat(self, title, desc, targets, unit="cps", w=4, h=5):
        self.panel("stat", title, desc, targets, unit, w, h)


def overview(b):
    b.row("Overview")
    b.stat("Accepted items/s", "Items receivers pushed into the pipelines (otelcol_receiver_accepted_*).",
           per_signal("otelcol_receiver_accepted", None, ""))
    b.stat("Refused items/s", "Items the pipeline refused: the client got an error and should retry "
           "(memory_limiter above its soft limit, a full sending queue, a failure without a queue).",
           per_signal("otelcol_receiver_refused", None, ""))
    b.stat("Sent items/s", "Items exporters delivered. With fan-out one accepted item is sent once per exporter.",
           per_signal("otelcol_exporter_sent", None, ""))
    b.stat("Send failed items/s", "Items exporters gave up on (permanent error, retries exhausted or disabled, "
           "shutdown): lost.", per_signal("otelcol_exporter_send_failed", None, ""))
    b.stat("Enqueue failed items/s", "Items a sending queue refused (full, closing): the receiver refused them too.",
           per_signal("otelcol_exporter_enqueue_failed", None, ""))
    b.stat("Gateways reporting", "Gateways whose self-metrics Prometheus scrapes now.",
           [t('count({__name__=~"otelcol_process_uptime(_total)?", %s})' % SEL, "gateways")], unit="none")
    b.ts("Where am I losing data? (items/s, all signals)",
         "Each stage that can lose or refuse items, all signals summed. Refused items were reported to the "
         "client (it retries); send failed and dropped items are gone. Exporter 'dropped' is the per-reason "
         "view of send failed plus items an exporter could not convert while the rest of the batch went out.",
         [t(all_signals("otelcol_receiver_refused"), "receivers refused"),
          t(all_signals("otelcol_processor_memory_limiter_refused"), "memory_limiter refused"),
          t("(%s or vector(0)) - (%s or vector(0))" % (rate("otelcol_processor_incoming_items", extra=NOT_LOSS),
                                                       rate("otelcol_processor_outgoing_items", extra=NOT_LOSS)),
            "processors dropped: filtered, sampled out, failed (in - out)"),
          t(all_signals("otelcol_exporter_enqueue_failed"), "exporters enqueue failed"),
          t(all_signals("otelcol_exporter_send_failed"), "exporters send failed"),
          t(all_signals("switchyard_exporter_dropped"), "exporters dropped (by any reason)"),
          t("%s or vector(0)" % rate("switchyard_connector_routing_dropped_items"), "routing connector dropped")],
         w=24)


def receivers(b):
    b.row("Receivers")
    b.ts("Accepted items/s by receiver", "Per receiver, transport and signal.",
         per_signal("otelcol_receiver_accepted", "receiver, transport", "{{receiver}} {{transport}}"), w=12)
    b.ts("Refused items/s by receiver", "Items the pipeline refused after decoding; the client was told to retry.",
         per_signal("otelcol_receiver_refused", "receiver, transport", "{{receiver}} {{transport}}"), w=12)
    b.ts("Requests rejected before decoding", "By reason: unauthenticated, too_large, json_depth, malformed, "
         "read_timeout. The data was never decoded, so it is not in the refused items.",
         [t(rate("switchyard_receiver_rejected_requests", "receiver, transport, reason"),
            "{{receiver}} {{transport}} {{reason}}")], unit="reqps")
    b.ts("Connections closed before a request", "By reason: max_connections, tls_handshake, timeout.",
         [t(rate("switchyard_receiver_refused_connections", "receiver, transport, reason"),
            "{{receiver}} {{transport}} {{reason}}")])
    b.ts("Requests refused unread (HTTP 429)", "The HTTP side already held 64 MiB of request bodies.",
         [t(rate("switchyard_receiver_admission_refused_requests", "receiver, transport"),
            "{{receiver}} {{transport}}")], unit="reqps")
    b.ts("Open connections", "Connections open now, TLS handshakes in progress included.",
         [t("sum by (receiver, transport) (%s)" % gauge("switchyard_receiver_open_connections"),
            "{{receiver}} {{transport}}")], unit="none", w=24)


def processors(b):
    b.row("Processors")
    by = "processor, otel_signal"
    b.ts("Items in/s by processor", "Items handed to each processor built on the processor scaffold "
         "(batch and memory_limiter do not count this yet; stateful connectors show under their id).",
         [t(rate("otelcol_processor_incoming_items", by), "{{processor}} {{otel_signal}}")])
    b.ts("Items out/s by processor", "Items each processor passed on.",
         [t(rate("otelcol_processor_outgoing_items", by), "{{processor}} {{otel_signal}}")])
    b.ts("Items dropped/s by processor (in - out)", "Filtered, sampled out, or failed on. The servicegraph, "
         "spanmetrics and count connectors turn spans into metrics and are left out.",
         [t("%s - %s" % (rate("otelcol_processor_incoming_items", by, NOT_LOSS),
                         rate("otelcol_processor_outgoing_items", by, NOT_LOSS)),
            "{{processor}} {{otel_signal}}")])
    b.ts("memory_limiter: refused items/s", "Memory at or above the soft limit: items refused "
         "(clients get UNAVAILABLE / 503 and retry).",
         per_signal("otelcol_processor_memory_limiter_refused", "processor", "{{processor}}"))
    b.ts("memory_limiter: accepted items/s", "Items the memory_limiter passed on.",
         per_signal("otelcol_processor_memory_limiter_accepted", "processor", "{{processor}}"))
    b.ts("Held bytes (stateful processors)", "Bytes a stateful processor or connector holds now: pending batches, "
         "buffered traces, series.",
         [t("sum by (processor) (%s)" % gauge("switchyard_processor_held_bytes"), "{{processor}}")], unit="bytes")
    b.ts("batch: items per batch sent (p50, p95)", "From otelcol_processor_batch_batch_send_size.",
         [t(quantile("0.5", "otelcol_processor_batch_batch_send_size_bucket", "processor"), "{{processor}} p50"),
          t(quantile("0.95", "otelcol_processor_batch_batch_send_size_bucket", "processor"), "{{processor}} p95")],
         unit="none")
    b.ts("batch: batches sent/s by trigger", "size: send_batch_size reached; timeout: the timer fired.",
         [t(rate("otelcol_processor_batch_batch_size_trigger_send", "processor"), "{{processor}} size"),
          t(rate("otelcol_processor_batch_timeout_trigger_send", "processor"), "{{processor}} timeout")])
    b.ts("batch: metadata cardinality", "Distinct metadata_keys combinations held.",
         [t("sum by (processor) (%s)" % gauge("otelcol_processor_batch_metadata_cardinality"), "{{processor}}")],
         unit="none")
    b.ts("filter: items dropped/s", "Items the filter processor dropped, by processor id.",
         [t(rate("otelcol_processor_filter_spans_filtered", "filter"), "{{filter}} spans"),
          t(rate("otelcol_processor_filter_datapoints_filtered", "filter"), "{{filter}} data points"),
          t(rate("otelcol_processor_filter_logs_filtered", "filter"), "{{filter}} log records")])
    b.ts("probabilistic_sampler: items/s by decision", "Spans and log records, by policy and sampled.",
         [t(rate("otelcol_processor_probabilistic_sampler_count_traces_sampled", "processor, policy, sampled"),
            "{{processor}} spans {{policy}} sampled={{sampled}}"),
          t(rate("otelcol_processor_probabilistic_sampler_count_logs_sampled", "processor, policy, sampled"),
            "{{processor}} logs {{policy}} sampled={{sampled}}")])
    b.ts("OTTL run-time errors/s", "Statements or conditions that failed and were skipped (error_mode: ignore) "
         "in transform, filter or routing.",
         [t(rate("switchyard_processor_ottl_errors", "component"), "{{component}}")])


def exporters(b):
    b.row("Exporters")
    b.ts("Sent items/s by exporter", "Items delivered to the backend.",
         per_signal("otelcol_exporter_sent", "exporter", "{{exporter}}"), w=12)
    b.ts("Send failed items/s by exporter", "Items dropped after sending failed: permanent error, retries "
         "exhausted or disabled, shutdown with an in-memory queue.",
         per_signal("otelcol_exporter_send_failed", "exporter", "{{exporter}}"), w=12)
    b.ts("Enqueue failed items/s by exporter", "Items the sending queue refused (full, closing, larger than "
         "the queue, persistent queue cannot write). The receiver refused them too.",
         per_signal("otelcol_exporter_enqueue_failed", "exporter", "{{exporter}}"), w=12)
    b.ts("Dropped items/s by exporter and reason", "permanent_error, retries_exhausted, retry_disabled, shutdown, "
         "corrupt_record, and each exporter's own conversion reasons (Loki no_labels, remote write "
         "unsupported_temporality, ...).",
         per_signal("switchyard_exporter_dropped", "exporter, reason", "{{exporter}} {{reason}}"), w=12)
    b.ts("Queue size and capacity", "In the queue's sizer unit (requests by default). Capacity 0: no queue.",
         [t("max by (exporter, data_type) (%s)" % gauge("otelcol_exporter_queue_size"),
            "{{exporter}} {{data_type}} size"),
          t("max by (exporter, data_type) (%s)" % gauge("otelcol_exporter_queue_capacity"),
            "{{exporter}} {{data_type}} capacity")], unit="none")
    b.ts("Queue fill", "size / capacity of each exporter with a queue. Near 100%: the next items are refused "
         "(or block, with block_on_overflow).", [t(fill(), "{{exporter}} {{data_type}}")], unit="percentunit")
    b.ts("Persistent queue: redelivered items/s and damaged records/s", "Redelivered items were being sent when "
         "the gateway stopped and may arrive twice; damaged records were skipped.",
         per_signal("switchyard_exporter_queue_redelivered", "exporter", "{{exporter}} redelivered")
         + [t(rate("switchyard_exporter_queue_corrupt_records", "exporter, data_type"),
              "{{exporter}} {{data_type}} damaged records")])


def fill(extra=""):
    return "max by (exporter, data_type) (%s / (%s > 0))" % (
        gauge("otelcol_exporter_queue_size", extra), gauge("otelcol_exporter_queue_capacity", extra))


def tail_sampling(b):
    b.row("Tail sampling")
    p = "otelcol_processor_tail_sampling_"
    b.ts("Decisions per policy (traces/s)", "Each policy's verdict on each decided trace.",
         [t(rate(p + "count_traces_sampled", "processor, policy, sampled"),
            "{{processor}} {{policy}} sampled={{sampled}}")])
    b.ts("Final decisions (traces/s)", "What was kept (sampled=true) and dropped after all policies.",
         [t(rate(p + "global_count_traces_sampled", "processor, sampled"), "{{processor}} sampled={{sampled}}")])
    b.ts("Spans per policy decision (spans/s)", "Spans of the traces each policy decided.",
         [t(rate(p + "count_spans_sampled", "processor, policy, sampled"),
            "{{processor}} {{policy}} sampled={{sampled}}")])
    b.ts("Traces on memory", "Traces waiting for their decision (sum over shards).",
         [t("sum by (processor) (%s)" % gauge(p + "sampling_traces_on_memory"), "{{processor}}")], unit="none")
    b.ts("New traces/s", "Trace ids seen for the first time.",
         [t(rate(p + "new_trace_id_received", "processor"), "{{processor}}")])
    b.ts("Evictions: decided early, dropped too early, oversize (traces/s)", "Decided early: the buffer was full "
         "(num_traces or bytes), so the oldest trace was decided before decision_wait. Dropped too early: "
         "undecided at shutdown with drop_pending_traces_on_shutdown. Oversize: over maximum_trace_size_bytes.",
         [t(rate("switchyard_processor_tail_sampling_early_decisions", "processor, reason"),
            "{{processor}} decided early ({{reason}})"),
          t(rate(p + "sampling_trace_dropped_too_early", "processor"), "{{processor}} dropped too early"),
          t(rate("switchyard_processor_tail_sampling_oversize_traces_dropped", "processor"),
            "{{processor}} oversize dropped")])
    b.ts("Decision timer latency (p50, p95)", "Time per run of the decision timer.",
         [t(quantile("0.5", p + "sampling_decision_timer_latency_bucket", "processor"), "{{processor}} p50"),
          t(quantile("0.95", p + "sampling_decision_timer_latency_bucket", "processor"), "{{processor}} p95")],
         unit="ms")
    b.ts("Trace age at decision (p95)", "Seconds from a trace's first span to its removal from memory.",
         [t(quantile("0.95", p + "sampling_trace_removal_age_bucket", "processor"), "{{processor}} p95")], unit="s")
    b.ts("Late spans/s", "Spans arriving after their trace was decided: late ones, and those a remembered "
         "decision forwarded (sampled=true) or dropped.",
         [t("sum by (processor) (rate(%s[%s]))" % (gauge(p + "sampling_late_span_age_count"), RI),
            "{{processor}} late spans"),
          t(rate(p + "early_releases_from_cache_decision", "processor, sampled"),
            "{{processor}} released from cache sampled={{sampled}}"),
          t(rate(p + "sampling_policy_evaluation_error", "processor"), "{{processor}} policy evaluation errors")],
         w=24)


def connectors(b):
    b.row("Connectors")
    b.ts("servicegraph: edges/s", "Edges (requests) started, and those that expired before their other half "
         "arrived.",
         [t(rate("otelcol_connector_servicegraph_total_edges", "connector"), "{{connector}} total"),
          t(rate("otelcol_connector_servicegraph_expired_edges", "connector"), "{{connector}} expired")])
    b.ts("servicegraph: dropped spans/s", "Spans dropped because the edge store was full.",
         [t(rate("otelcol_connector_servicegraph_dropped_spans", "connector"), "{{connector}}")])
    b.ts("routing: items dropped/s", "Items no table row matched, with no default_pipelines.",
         [t(rate("switchyard_connector_routing_dropped_items", "component"), "{{component}}")])


BACKENDS = [
    ("OTLP backends (otlp, otlphttp)", 'exporter=~"(otlp|otlp_grpc|otlphttp|otlp_http)(/.*)?"', None),
    ("Loki backends", 'exporter=~"loki(/.*)?"', ["log_records"]),
    ("Prometheus remote write backends", 'exporter=~"(prometheusremotewrite|prometheus_remote_write)(/.*)?"',
     ["metric_points"]),
    ("Kafka backends", 'exporter=~"kafka(/.*)?"', ["spans", "metric_points", "log_records"]),
]


def backends(b):
    for title, match, items in BACKENDS:
        b.row(title)
        extra = ", " + match
        b.ts("Sent items/s", "Items delivered, per exporter of this kind.",
             per_signal("otelcol_exporter_sent", "exporter", "{{exporter}}", extra, items), w=6)
        b.ts("Failed items/s", "send failed: given up on; enqueue failed: refused by the queue.",
             [x for item, word in ITEMS if items is None or item in items
              for x in (t(rate("otelcol_exporter_send_failed_" + item, "exporter", extra),
                          "{{exporter}} %s send failed" % word),
                        t(rate("otelcol_exporter_enqueue_failed_" + item, "exporter", extra),
                          "{{exporter}} %s enqueue failed" % word))], w=6)
        b.ts("Dropped items/s by reason", "Why items were dropped, with this exporter's own reasons.",
             per_signal("switchyard_exporter_dropped", "exporter, reason", "{{exporter}} {{reason}}", extra, items),
             w=6)
        b.ts("Queue fill", "size / capacity.", [t(fill(extra), "{{exporter}} {{data_type}}")],
             unit="percentunit", w=6)


def process(b):
    b.row("Process")
    b.ts("CPU (cores)", "otelcol_process_cpu_seconds is exported as a gauge but holds the cumulative CPU "
         "seconds of the process: it only grows and restarts from 0 with the process, which is a counter in "
         "all but its TYPE line. rate() is right for it (it handles the restart); deriv() would show each "
         "restart as a negative spike.",
         [t("sum by (instance) (rate(%s[%s]))" % ('{__name__=~"otelcol_process_cpu_seconds(_total)?", %s}' % SEL,
                                                  RI), "{{instance}}")], unit="none")
    b.ts("Resident memory", "RSS; compare with memory_limiter's limit_mib.",
         [t("sum by (instance) (%s)" % gauge("otelcol_process_memory_rss"), "{{instance}}")], unit="bytes")
    b.stat("Uptime", "Seconds since each gateway started.",
           [t("max by (instance) (%s)" % ('{__name__=~"otelcol_process_uptime(_total)?", %s}' % SEL),
              "{{instance}}")], unit="s", w=4, h=8)
    b.stat("Restarts in range", "How often the uptime went back to 0 in the dashboard's time range.",
           [t("sum by (instance) (resets({__name__=~\"otelcol_process_uptime(_total)?\", %s}[$__range]))" % SEL, "{{instance}}")],
           unit="none", w=4, h=8)


def variables():
    var_query = {"type": "query", "datasource": DS, "refresh": 1, "sort": 1, "multi": True, "includeAll": True,
                 "current": {"selected": True, "text": ["All"], "value": ["$__all"]}, "options": [],
                 "hide": 0, "regex": "", "skipUrlSync": False}
    job = dict(var_query, name="job", label="Job",
               query="label_values(otelcol_process_uptime, job)",
               definition="label_values(otelcol_process_uptime, job)")
    inst = dict(var_query, name="instance", label="Instance", allValue=".*",
                query='label_values(otelcol_process_uptime{job=~"$job"}, instance)',
                definition='label_values(otelcol_process_uptime{job=~"$job"}, instance)')
    ds = {"type": "datasource", "name": "datasource", "label": "Data source", "query": "prometheus",
          "current": {}, "hide": 0, "includeAll": False, "multi": False, "options": [], "refresh": 1,
          "regex": "", "skipUrlSync": False}
    return [ds, job, inst]


def main():
    b = Board()
    for section in (overview, receivers, processors, exporters, tail_sampling, connectors, backends, process):
        section(b)
    dash = {
        "title": "Switchyard gateway",
        "uid": "switchyard-gateway",
        "description": "Self-metrics of Switchyard gateways: where data is accepted, refused, sent, failed and "
                       "dropped. See docs/grafana.md.",
        "tags": ["switchyard", "opentelemetry"],
        "schemaVersion": 39,
        "version": 1,
        "editable": True,
        "graphTooltip": 1,
        "time": {"from": "now-1h", "to": "now"},
        "refresh": "30s",
        "timezone": "",
        "fiscalYearStartMonth": 0,
        "liveNow": False,
        "links": [],
        "annotations": {"list": [{
            "builtIn": 1, "datasource": {"type": "grafana", "uid": "-- Grafana --"}, "enable": True, "hide": True,
            "iconColor": "rgba(0, 211, 255, 1)", "name": "Annotations & Alerts", "type": "dashboard"}]},
        "templating": {"list": variables()},
        "panels": b.panels,
    }
    out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                                             "switchyard.json")
    with open(out, "w") as f:
        json.dump(dash, f, indent=2)
        f.write("\n")
    queries = sum(len(p.get("targets", [])) for p in b.panels)
    sys.stderr.write("%s: %d panels (%d rows), %d queries" % (out, len(b.panels),
                                                  sum(p["type"] == "row" for p in b.panels), queries) + "\n")


if __name__ == "__main__":
    main()
