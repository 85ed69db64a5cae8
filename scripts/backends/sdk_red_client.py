#!/usr/bin/env python3
"""Two services talking, traced with the OpenTelemetry Python SDK: a client service calls a
server service N times, each call a CLIENT span in the client and a SERVER span (its child)
in the server, exported over OTLP by each service's own TracerProvider. The spans carry
explicit start and end times, so the latencies are known without sleeping:

  server span: 40 ms, except every 10th call (i % 10 == 9): 450 ms
  client span: server + 10 ms
  every 5th call (i % 5 == 4) fails: both spans have status ERROR

--unpaired K adds K client spans calling an outside service (peer.service=<--peer>) that
never answers: no server span, so a service graph sees them expire.

  sdk_red_client.py [--protocol grpc|http] --endpoint URL [-n N] [--client-service S]
                    [--server-service S] [--span-name NAME] [--unpaired K] [--peer P]
                    [--run-id ID] [--timeout S]

Exits 0 only if every span was exported (SDK result SUCCESS). Prints a JSON summary:
calls, errors, slow, unpaired and the expected sums in milliseconds.
Needs: pip install -r requirements.txt (opentelemetry-sdk + the OTLP exporters).
"""
import argparse
import json
import logging
import sys
import threading
import time
import uuid

from opentelemetry import trace
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor
from opentelemetry.trace import SpanKind, Status, StatusCode

LOCK = threading.Lock()
STATS = {"exported": 0, "export_calls": 0, "failed_calls": 0}

MS = 1_000_000


def checked(cls):
    """An SDK exporter that records each export's result and span count."""
    class Checked(cls):
        def export(self, batch, *args, **kwargs):
            result = super().export(batch, *args, **kwargs)
            ok = getattr(result, "name", str(result)) == "SUCCESS"
            with LOCK:
                STATS["export_calls"] += 1
                if ok:
                    STATS["exported"] += len(batch)
                else:
                    STATS["failed_calls"] += 1
            return result
    Checked.__name__ = "Checked" + cls.__name__
    return Checked


def exporter(args):
    if args.protocol == "grpc":
        from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import OTLPSpanExporter
        return checked(OTLPSpanExporter)(endpoint=args.endpoint, insecure=True, timeout=args.timeout)
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
    return checked(OTLPSpanExporter)(endpoint=args.endpoint.rstrip("/") + "/v1/traces", timeout=args.timeout)


def provider(args, service):
    tp = TracerProvider(resource=Resource.create({"service.name": service, "run.id": args.run_id}))
    tp.add_span_processor(BatchSpanProcessor(exporter(args), max_export_batch_size=256))
    return tp


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--protocol", choices=("grpc", "http"), default="grpc")
    ap.add_argument("--endpoint", required=True)
    ap.add_argument("-n", "--calls", type=int, default=100)
    ap.add_argument("--client-service", default="red-client")
    ap.add_argument("--server-service", default="red-server")
    ap.add_argument("--span-name", default="GET /api/item")
    ap.add_argument("--unpaired", type=int, default=0)
    ap.add_argument("--peer", default="payments-api")
    ap.add_argument("--run-id", default=uuid.uuid4().hex)
    ap.add_argument("--timeout", type=float, default=10.0)
    args = ap.parse_args()
    logging.basicConfig(level=logging.WARNING, stream=sys.stderr)

    client_tp, server_tp = provider(args, args.client_service), provider(args, args.server_service)
    client, server = client_tp.get_tracer("sdk_red_client"), server_tp.get_tracer("sdk_red_server")
    # Calls are laid out back to back, ending now, so every span is recent.
    t = time.time_ns() - (args.calls + args.unpaired + 1) * 500 * MS
    errors = slow = 0
    server_ms = client_ms = 0
    for i in range(args.calls):
        failed, is_slow = i % 5 == 4, i % 10 == 9
        errors += failed
        slow += is_slow
        s_ms = 450 if is_slow else 40
        c_ms = s_ms + 10
        server_ms += s_ms
        client_ms += c_ms
        attrs = {"http.request.method": "GET", "call": i}
        cspan = client.start_span(args.span_name, kind=SpanKind.CLIENT, start_time=t, attributes=attrs)
        ctx = trace.set_span_in_context(cspan)
        sspan = server.start_span(args.span_name, context=ctx, kind=SpanKind.SERVER, start_time=t + 5 * MS,
                                  attributes=attrs)
        if failed:
            sspan.set_status(Status(StatusCode.ERROR, "boom"))
            cspan.set_status(Status(StatusCode.ERROR, "upstream failed"))
        sspan.end(end_time=t + 5 * MS + s_ms * MS)
        cspan.end(end_time=t + c_ms * MS)
        t += 500 * MS
    for i in range(args.unpaired):
        span = client.start_span(f"POST /{args.peer}", kind=SpanKind.CLIENT, start_time=t,
                                 attributes={"peer.service": args.peer})
        span.end(end_time=t + 20 * MS)
        t += 20 * MS

    flushed = client_tp.force_flush(int(args.timeout * 1000) + 5000) and server_tp.force_flush(
        int(args.timeout * 1000) + 5000)
    client_tp.shutdown()
    server_tp.shutdown()
    sent = 2 * args.calls + args.unpaired
    ok = bool(flushed) and STATS["failed_calls"] == 0 and STATS["exported"] == sent
    print(json.dumps({"ok": ok, "run_id": args.run_id, "calls": args.calls, "errors": errors, "slow": slow,
                      "unpaired": args.unpaired, "spans_sent": sent, "server_ms_sum": server_ms,
                      "client_ms_sum": client_ms, **STATS}))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
