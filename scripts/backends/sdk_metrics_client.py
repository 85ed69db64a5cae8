#!/usr/bin/env python3
"""Send every metric kind the OpenTelemetry Python SDK has, in rounds, to an OTLP endpoint.

Each round records, with attributes {run.id, http.method=GET}:
  counter        PFX_requests     unit "1"          +1        (final value: ROUNDS)
  up-down        PFX_inflight     unit "{requests}" +2, -1    (final value: ROUNDS)
  gauge          PFX_temperature  unit "Cel"        20+round  (final value: 20+ROUNDS)
  histogram      PFX_latency      unit "ms"         10*round  (count ROUNDS, sum 5*ROUNDS*(ROUNDS+1))
  exp histogram  PFX_size         unit "By"         100*round (count ROUNDS, sum 50*ROUNDS*(ROUNDS+1))
then force_flush()es: one cumulative export (one sample per series) per round.
The resource has service.name, service.namespace, service.instance.id, run.id and
deployment.environment (so a target_info series is due). Prints a JSON summary with the
expected final values; exits 0 only if every export succeeded.
"""
import argparse
import json
import sys
import time

from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import PeriodicExportingMetricReader, MetricExportResult
from opentelemetry.sdk.metrics.view import View, ExponentialBucketHistogramAggregation
from opentelemetry.sdk.resources import Resource


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--protocol", choices=("grpc", "http"), default="grpc")
    ap.add_argument("--endpoint", required=True)
    ap.add_argument("--run-id", required=True)
    ap.add_argument("--service-name", default="metrics-client")
    ap.add_argument("--prefix", default="sdk")
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--interval", type=float, default=0.2, help="seconds between rounds")
    args = ap.parse_args()

    if args.protocol == "grpc":
        from opentelemetry.exporter.otlp.proto.grpc.metric_exporter import OTLPMetricExporter
        exporter = OTLPMetricExporter(endpoint=args.endpoint, insecure=True, timeout=10)
    else:
        from opentelemetry.exporter.otlp.proto.http.metric_exporter import OTLPMetricExporter
        exporter = OTLPMetricExporter(endpoint=args.endpoint.rstrip("/") + "/v1/metrics", timeout=10)

    results = {"ok": 0, "failed": 0}
    orig_export = exporter.export

    def export(batch, *a, **kw):
        r = orig_export(batch, *a, **kw)
        results["ok" if r == MetricExportResult.SUCCESS else "failed"] += 1
        return r

    exporter.export = export
    pfx, rid, n = args.prefix, args.run_id, args.rounds
    resource = Resource.create({
        "service.name": args.service_name, "service.namespace": "itest", "service.instance.id": f"inst-{rid[:8]}",
        "run.id": rid, "deployment.environment": "ci",
    })
    reader = PeriodicExportingMetricReader(exporter, export_interval_millis=float("inf"))
    views = [View(instrument_name=f"{pfx}_size", aggregation=ExponentialBucketHistogramAggregation(max_size=160))]
    mp = MeterProvider(resource=resource, metric_readers=[reader], views=views)
    meter = mp.get_meter("sdk_metrics_client", "1.0")
    counter = meter.create_counter(f"{pfx}_requests", unit="1", description="requests served")
    updown = meter.create_up_down_counter(f"{pfx}_inflight", unit="{requests}", description="requests in flight")
    gauge = meter.create_gauge(f"{pfx}_temperature", unit="Cel", description="temperature")
    hist = meter.create_histogram(f"{pfx}_latency", unit="ms", description="latency")
    exph = meter.create_histogram(f"{pfx}_size", unit="By", description="sizes")
    attrs = {"run.id": rid, "http.method": "GET"}
    for r in range(1, n + 1):
        counter.add(1, attrs)
        updown.add(2, attrs)
        updown.add(-1, attrs)
        gauge.set(20.0 + r, attrs)
        hist.record(10.0 * r, attrs)
        exph.record(100.0 * r, attrs)
        mp.force_flush(timeout_millis=15000)
        if r < n:
            time.sleep(args.interval)
    mp.shutdown()
    ok = results["failed"] == 0 and results["ok"] >= n
    print(json.dumps({"ok": ok, "exports": results, "rounds": n, "expected": {
        f"{pfx}_requests_total": n, f"{pfx}_inflight": n, f"{pfx}_temperature_celsius": 20 + n,
        f"{pfx}_latency_milliseconds_count": n, f"{pfx}_latency_milliseconds_sum": 5 * n * (n + 1),
        f"{pfx}_size_bytes": {"count": n, "sum": 50 * n * (n + 1)}}}))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
