#!/usr/bin/env python3
"""A real Jaeger client: the OpenTelemetry Python SDK with its Jaeger exporters
(opentelemetry-exporter-jaeger-thrift / -proto-grpc 1.21.0, the last releases), sending one
small trace to a Jaeger receiver. Runs in the venv of jaeger-venv.sh.

usage: jaeger_client.py --mode agent-compact|agent-binary|collector-http|grpc --port P
                        [--host 127.0.0.1] [--run-id ID] [--service NAME]
prints: one JSON line {"trace_id", "parent_span_id", "child_span_id", "mode"} (hex ids).
The trace: a server span `checkout` (attribute run.id, an event `cache.miss` with key=user:1)
with a client child `GET /cart` (http.status_code=503, status ERROR "backend down").
"""
import argparse
import json
import sys

from opentelemetry import trace
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.trace import SpanKind, Status, StatusCode


def exporter(mode, host, port):
    if mode == "grpc":
        from opentelemetry.exporter.jaeger.proto.grpc import JaegerExporter

        return JaegerExporter(collector_endpoint=f"{host}:{port}", insecure=True, timeout=10)
    from opentelemetry.exporter.jaeger.thrift import JaegerExporter

    if mode == "collector-http":
        return JaegerExporter(collector_endpoint=f"http://{host}:{port}/api/traces", timeout=10)
    exp = JaegerExporter(agent_host_name=host, agent_port=port)
    if mode == "agent-binary":
        # The agent client with the binary protocol (the Jaeger agent's 6832 port) instead
        # of the compact one it uses by default.
        from opentelemetry.exporter.jaeger.thrift.gen.agent import Agent
        from thrift.protocol import TBinaryProtocol

        c = exp._agent_client
        c.client = Agent.Client(iprot=TBinaryProtocol.TBinaryProtocol(trans=c.buffer))
    return exp


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--mode", required=True, choices=["agent-compact", "agent-binary", "collector-http", "grpc"])
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--run-id", default="run")
    ap.add_argument("--service", default="jaeger-e2e")
    a = ap.parse_args()
    provider = TracerProvider(resource=Resource.create({"service.name": a.service}))
    provider.add_span_processor(SimpleSpanProcessor(exporter(a.mode, a.host, a.port)))
    tracer = provider.get_tracer("e2e.tracer", "0.9")
    with tracer.start_as_current_span("checkout", kind=SpanKind.SERVER, attributes={"run.id": a.run_id}) as parent:
        parent.add_event("cache.miss", {"key": "user:1"})
        with tracer.start_as_current_span("GET /cart", kind=SpanKind.CLIENT) as child:
            child.set_attribute("http.status_code", 503)
            child.set_attribute("run.id", a.run_id)
            child.set_status(Status(StatusCode.ERROR, "backend down"))
    provider.shutdown()
    ctx_p, ctx_c = parent.get_span_context(), child.get_span_context()
    print(json.dumps({
        "mode": a.mode,
        "trace_id": format(ctx_p.trace_id, "032x"),
        "parent_span_id": format(ctx_p.span_id, "016x"),
        "child_span_id": format(ctx_c.span_id, "016x"),
    }))
    sys.stdout.flush()


if __name__ == "__main__":
    main()
