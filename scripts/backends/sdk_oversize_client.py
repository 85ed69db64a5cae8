#!/usr/bin/env python3
"""Export one span whose request is larger than the receiver's limit, N times, with the
OpenTelemetry Python SDK's OTLP/HTTP span exporter, and report what each export saw:
the HTTP status the SDK got, or the exception its session raised (a reset connection
shows up here as ConnectionError, which the SDK retries where a 413 is final).

  sdk_oversize_client.py --endpoint http://127.0.0.1:4318/v1/traces [-n 200] [--size BYTES]

Prints {"statuses": {"413": N, ...}, "errors": {...}, "results": {"FAILURE": N}} on stdout.
"""
import argparse
import collections
import json

import requests
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.sdk.trace import TracerProvider

STATUSES = collections.Counter()
ERRORS = collections.Counter()


class RecordingSession(requests.Session):
    """Records the outcome of every request the exporter makes (retries included)."""

    def request(self, *args, **kwargs):
        try:
            r = super().request(*args, **kwargs)
        except Exception as e:  # the exporter sees it too; recorded, then re-raised
            ERRORS[type(e).__name__] += 1
            raise
        STATUSES[str(r.status_code)] += 1
        return r


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--endpoint", required=True, help="full URL of the traces path")
    ap.add_argument("-n", "--count", type=int, default=200)
    ap.add_argument("--size", type=int, default=3 << 20, help="bytes of the span's one attribute")
    args = ap.parse_args()
    tracer = TracerProvider().get_tracer("sdk_oversize_client")
    span = tracer.start_span("oversized", attributes={"payload": "x" * args.size})
    span.end()
    exporter = OTLPSpanExporter(endpoint=args.endpoint, timeout=5, session=RecordingSession())
    results = collections.Counter()
    for _ in range(args.count):
        results[exporter.export([span]).name] += 1
    exporter.shutdown()
    print(json.dumps({"statuses": STATUSES, "errors": ERRORS, "results": results}))


if __name__ == "__main__":
    main()
