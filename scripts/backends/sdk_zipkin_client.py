#!/usr/bin/env python3
"""Send a small known trace with the OpenTelemetry Python SDK's Zipkin exporters, flush,
and exit 0 only if every export succeeded.

  sdk_zipkin_client.py --endpoint URL --encoding json-v2|json-v1|proto
                       [--service-name S] [--run-id ID] [--timeout S]

--endpoint is the full URL (http://127.0.0.1:9411/api/v2/spans, or /api/v1/spans for
json-v1). The trace: "zipkin.root" (SERVER; http.request.method=GET,
http.response.status_code=200, an event "cache-miss" with key=user:1), its children
"zipkin.query" (CLIENT; db.system=postgresql; status ERROR "db down") and "zipkin.work"
(INTERNAL; status OK), and "zipkin.publish" (PRODUCER), a child of "zipkin.work". Every span
has run.id=<run id>. The local endpoint is 127.0.0.5:8080. Prints a JSON summary on stdout:
exported count, the trace id and each span's id and parent id (hex).
Needs: opentelemetry-exporter-zipkin-json and opentelemetry-exporter-zipkin-proto-http
(requirements.txt); the proto exporter's generated code needs
PROTOCOL_BUFFERS_PYTHON_IMPLEMENTATION=python with protobuf >= 4 (set here).
"""
import argparse
import json
import os
import sys

# zipkin-proto-http ships protoc-3 generated code; the pure-Python protobuf runtime loads it.
os.environ.setdefault("PROTOCOL_BUFFERS_PYTHON_IMPLEMENTATION", "python")

from opentelemetry import trace  # noqa: E402
from opentelemetry.sdk.resources import Resource  # noqa: E402
from opentelemetry.sdk.trace import TracerProvider  # noqa: E402
from opentelemetry.sdk.trace.export import BatchSpanProcessor  # noqa: E402
from opentelemetry.trace import SpanKind, Status, StatusCode  # noqa: E402

STATS = {"export_calls": 0, "failed_calls": 0, "exported": 0}


def exporter_class(encoding):
    if encoding == "proto":
        from opentelemetry.exporter.zipkin.proto.http import ZipkinExporter
        return ZipkinExporter, {}
    from opentelemetry.exporter.zipkin.json import Protocol, ZipkinExporter
    return ZipkinExporter, {"version": Protocol.V1 if encoding == "json-v1" else Protocol.V2}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--endpoint", required=True)
    ap.add_argument("--encoding", choices=["json-v2", "json-v1", "proto"], default="json-v2")
    ap.add_argument("--service-name", default="zipkin-client")
    ap.add_argument("--run-id", default="run")
    ap.add_argument("--timeout", type=int, default=10)
    args = ap.parse_args()

    cls, extra = exporter_class(args.encoding)

    class Checked(cls):
        def export(self, spans):
            result = super().export(spans)
            STATS["export_calls"] += 1
            if getattr(result, "name", str(result)) == "SUCCESS":
                STATS["exported"] += len(spans)
            else:
                STATS["failed_calls"] += 1
            return result

    exporter = Checked(endpoint=args.endpoint, local_node_ipv4="127.0.0.5", local_node_port=8080,
                       max_tag_value_length=256,
                       timeout=args.timeout, **extra)
    provider = TracerProvider(resource=Resource.create({"service.name": args.service_name,
                                                        "service.version": "1.2.3"}))
    provider.add_span_processor(BatchSpanProcessor(exporter))
    tracer = provider.get_tracer("zipkin-e2e", "0.1")
    ids = {}
    run = {"run.id": args.run_id}
    with tracer.start_as_current_span("zipkin.root", kind=SpanKind.SERVER,
                                      attributes={**run, "http.request.method": "GET",
                                                  "http.response.status_code": 200}) as root:
        root.add_event("cache-miss", {"key": "user:1"})
        with tracer.start_as_current_span("zipkin.query", kind=SpanKind.CLIENT,
                                          attributes={**run, "db.system": "postgresql"}) as q:
            q.set_status(Status(StatusCode.ERROR, "db down"))
            ids["zipkin.query"] = q.get_span_context().span_id
        with tracer.start_as_current_span("zipkin.work", kind=SpanKind.INTERNAL, attributes=run) as w:
            w.set_status(Status(StatusCode.OK))
            ids["zipkin.work"] = w.get_span_context().span_id
            with tracer.start_as_current_span("zipkin.publish", kind=SpanKind.PRODUCER, attributes=run) as p:
                ids["zipkin.publish"] = p.get_span_context().span_id
        ids["zipkin.root"] = root.get_span_context().span_id
        trace_id = root.get_span_context().trace_id
    provider.force_flush(args.timeout * 1000)
    provider.shutdown()
    summary = {
        **STATS,
        "trace_id": format(trace_id, "032x"),
        "span_ids": {name: format(i, "016x") for name, i in ids.items()},
    }
    print(json.dumps(summary))
    ok = STATS["failed_calls"] == 0 and STATS["exported"] == 4
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
