#!/usr/bin/env python3
"""OTLP receiver that counts what arrives: a stand-in OTLP backend for the gateway's OTLP
exporter and a target for otel_sdk_client.py. Needs grpcio + opentelemetry-proto (the venv
made by otel-venv.sh). Listens on 127.0.0.1 only.

  otlp_sink.py --data-dir DIR [--grpc-port 14317] [--http-port 14318]
               [--fail-status N]      answer every export with HTTP N / a matching gRPC error
               [--fail-first K]       ... only the first K exports, then accept (with --fail-status)
               [--retry-after S]      add Retry-After: S to HTTP failures
               [--reject-one]         accept, but report 1 rejected item in partial_success
               [--tls-cert F --tls-key F [--client-ca F]]  TLS on both ports (mutual with --client-ca)
               [--dump]               also append every request in full (OTLP/JSON, hex ids) and its
                                      headers to DIR/requests.jsonl, for tests that inspect content

gRPC: the three OTLP Export services. HTTP: POST /v1/traces|metrics|logs (protobuf or JSON,
optionally gzip), GET /ready, GET /stats (totals by signal, and by run.id / service.name taken
from resource or item attributes). Each request appends a summary line to DIR/received.jsonl; each refused one a line with its time
to DIR/failed.jsonl.
"""
import argparse
import base64
import gzip
import json
import os
import sys
import threading
import time
from concurrent import futures
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import grpc
from google.protobuf import json_format
from opentelemetry.proto.collector.logs.v1 import logs_service_pb2 as lpb, logs_service_pb2_grpc as lgrpc
from opentelemetry.proto.collector.metrics.v1 import metrics_service_pb2 as mpb, metrics_service_pb2_grpc as mgrpc
from opentelemetry.proto.collector.trace.v1 import trace_service_pb2 as tpb, trace_service_pb2_grpc as tgrpc

SIGNALS = {  # signal: (request class, response class, rejected field)
    "traces": (tpb.ExportTraceServiceRequest, tpb.ExportTraceServiceResponse, "rejected_spans"),
    "metrics": (mpb.ExportMetricsServiceRequest, mpb.ExportMetricsServiceResponse, "rejected_data_points"),
    "logs": (lpb.ExportLogsServiceRequest, lpb.ExportLogsServiceResponse, "rejected_log_records"),
}
HTTP_TO_GRPC = {400: grpc.StatusCode.INVALID_ARGUMENT, 429: grpc.StatusCode.RESOURCE_EXHAUSTED,
                503: grpc.StatusCode.UNAVAILABLE}


ID_KEYS = {"traceId", "spanId", "parentSpanId"}


def ids_to_base64(node):
    """OTLP/JSON carries trace/span ids as hex; protobuf's JSON parser wants base64."""
    if isinstance(node, dict):
        return {k: (base64.b64encode(bytes.fromhex(v)).decode() if k in ID_KEYS and isinstance(v, str) else ids_to_base64(v))
                for k, v in node.items()}
    if isinstance(node, list):
        return [ids_to_base64(v) for v in node]
    return node


def ids_to_hex(node):
    if isinstance(node, dict):
        return {k: (base64.b64decode(v).hex() if k in ID_KEYS and isinstance(v, str) else ids_to_hex(v))
                for k, v in node.items()}
    if isinstance(node, list):
        return [ids_to_hex(v) for v in node]
    return node


def attr_value(attrs, key):
    for kv in attrs:
        if kv.key == key:
            return json_format.MessageToDict(kv.value).popitem()[1] if kv.value.ListFields() else ""
    return None


def items(signal, req):
    """Yield (resource_attributes, item_attributes) for every span / data point / log record."""
    if signal == "traces":
        for rs in req.resource_spans:
            for ss in rs.scope_spans:
                for sp in ss.spans:
                    yield rs.resource.attributes, sp.attributes
    elif signal == "logs":
        for rl in req.resource_logs:
            for sl in rl.scope_logs:
                for lr in sl.log_records:
                    yield rl.resource.attributes, lr.attributes
    else:
        for rm in req.resource_metrics:
            for sm in rm.scope_metrics:
                for m in sm.metrics:
                    kind = m.WhichOneof("data")
                    for dp in getattr(m, kind).data_points if kind else ():
                        yield rm.resource.attributes, dp.attributes


class Sink:
    def __init__(self, args):
        self.args, self.lock = args, threading.Lock()
        self.stats = {"requests": {s: 0 for s in SIGNALS}, "items": {s: 0 for s in SIGNALS},
                      "by_run_id": {}, "by_service": {}, "failed_requests": 0}
        self.out = open(os.path.join(args.data_dir, "received.jsonl"), "a")
        self.dump = open(os.path.join(args.data_dir, "requests.jsonl"), "a") if args.dump else None
        self.failed = open(os.path.join(args.data_dir, "failed.jsonl"), "a")

    def should_fail(self, transport):
        """True if this export is to be refused (and records the refusal)."""
        if not self.args.fail_status:
            return False
        with self.lock:
            if self.args.fail_first and self.stats["failed_requests"] >= self.args.fail_first:
                return False
            self.stats["failed_requests"] += 1
            self.failed.write(json.dumps({"time": time.time(), "transport": transport,
                                          "status": self.args.fail_status}) + "\n")
            self.failed.flush()
        return True

    def record(self, signal, req, transport, headers=None):
        n, runs, svcs = 0, {}, {}
        for res_attrs, item_attrs in items(signal, req):
            n += 1
            rid = attr_value(item_attrs, "run.id") or attr_value(res_attrs, "run.id") or ""
            svc = attr_value(res_attrs, "service.name") or ""
            runs[rid] = runs.get(rid, 0) + 1
            svcs[svc] = svcs.get(svc, 0) + 1
        with self.lock:
            st = self.stats
            st["requests"][signal] += 1
            st["items"][signal] += n
            for key, counts in (("by_run_id", runs), ("by_service", svcs)):
                for k, c in counts.items():
                    d = st[key].setdefault(k, {s: 0 for s in SIGNALS})
                    d[signal] += c
            self.out.write(json.dumps({"signal": signal, "transport": transport, "items": n,
                                       "run_ids": runs, "services": svcs}) + "\n")
            self.out.flush()
            if self.dump:
                body = ids_to_hex(json_format.MessageToDict(req))
                self.dump.write(json.dumps({"signal": signal, "transport": transport, "headers": headers or {},
                                            "request": body}) + "\n")
                self.dump.flush()
        return n

    def response(self, signal):
        resp = SIGNALS[signal][1]()
        if self.args.reject_one:
            ps = resp.partial_success
            setattr(ps, SIGNALS[signal][2], 1)
            ps.error_message = "otlp_sink --reject-one"
        return resp


def grpc_servicer(sink, signal, base):
    class Servicer(base):
        def Export(self, request, context):  # noqa: N802
            if sink.should_fail("grpc"):
                context.abort(HTTP_TO_GRPC.get(sink.args.fail_status, grpc.StatusCode.INTERNAL),
                              f"otlp_sink --fail-status {sink.args.fail_status}")
            sink.record(signal, request, "grpc", {k: v for k, v in context.invocation_metadata()
                                                  if isinstance(v, str)})
            return sink.response(signal)
    return Servicer()


def http_handler(sink):
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, fmt, *a):
            sys.stderr.write("%s %s\n" % (self.log_date_time_string(), fmt % a))

        def send(self, code, body, ctype, extra=None):
            self.send_response(code)
            for k, v in (extra or {}).items():
                self.send_header(k, v)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def do_GET(self):
            if self.path == "/ready":
                return self.send(200, b"ready\n", "text/plain")
            if self.path == "/stats":
                with sink.lock:
                    return self.send(200, json.dumps(sink.stats).encode(), "application/json")
            self.send(404, b"not found\n", "text/plain")

        def do_POST(self):
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            signal = {"/v1/traces": "traces", "/v1/metrics": "metrics", "/v1/logs": "logs"}.get(self.path)
            if not signal:
                return self.send(404, b"not found\n", "text/plain")
            if sink.should_fail("http"):
                extra = {"Retry-After": str(sink.args.retry_after)} if sink.args.retry_after else {}
                return self.send(sink.args.fail_status, b"otlp_sink --fail-status\n", "text/plain", extra)
            is_json = (self.headers.get("Content-Type") or "").startswith("application/json")
            try:
                if (self.headers.get("Content-Encoding") or "").lower() == "gzip":
                    body = gzip.decompress(body)
                req = SIGNALS[signal][0]()
                if is_json:
                    json_format.ParseDict(ids_to_base64(json.loads(body)), req, ignore_unknown_fields=True)
                else:
                    req.ParseFromString(body)
            except Exception as e:  # noqa: BLE001
                return self.send(400, f"cannot decode request: {e}\n".encode(), "text/plain")
            sink.record(signal, req, "http", {k.lower(): v for k, v in self.headers.items()})
            resp = sink.response(signal)
            if is_json:
                return self.send(200, json_format.MessageToJson(resp).encode(), "application/json")
            self.send(200, resp.SerializeToString(), "application/x-protobuf")
    return Handler


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data-dir", required=True)
    ap.add_argument("--grpc-port", type=int, default=14317)
    ap.add_argument("--http-port", type=int, default=14318)
    ap.add_argument("--fail-status", type=int, default=0)
    ap.add_argument("--fail-first", type=int, default=0)
    ap.add_argument("--retry-after", type=int, default=0)
    ap.add_argument("--reject-one", action="store_true")
    ap.add_argument("--dump", action="store_true")
    ap.add_argument("--tls-cert", help="serve TLS on both ports with this certificate (PEM)")
    ap.add_argument("--tls-key", help="private key of --tls-cert (PEM)")
    ap.add_argument("--client-ca", help="require client certificates chaining to this CA (mutual TLS)")
    args = ap.parse_args()
    os.makedirs(args.data_dir, exist_ok=True)
    sink = Sink(args)
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=8), maximum_concurrent_rpcs=64,
                         options=[("grpc.max_receive_message_length", 64 * 1024 * 1024)])
    tgrpc.add_TraceServiceServicer_to_server(grpc_servicer(sink, "traces", tgrpc.TraceServiceServicer), server)
    mgrpc.add_MetricsServiceServicer_to_server(grpc_servicer(sink, "metrics", mgrpc.MetricsServiceServicer), server)
    lgrpc.add_LogsServiceServicer_to_server(grpc_servicer(sink, "logs", lgrpc.LogsServiceServicer), server)
    if args.tls_cert:
        def read(p):
            with open(p, "rb") as f:
                return f.read()
        creds = grpc.ssl_server_credentials([(read(args.tls_key), read(args.tls_cert))],
                                            root_certificates=read(args.client_ca) if args.client_ca else None,
                                            require_client_auth=bool(args.client_ca))
        server.add_secure_port(f"127.0.0.1:{args.grpc_port}", creds)
    else:
        server.add_insecure_port(f"127.0.0.1:{args.grpc_port}")
    server.start()
    httpd = ThreadingHTTPServer(("127.0.0.1", args.http_port), http_handler(sink))
    httpd.daemon_threads = True
    if args.tls_cert:
        import ssl
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(args.tls_cert, args.tls_key)
        if args.client_ca:
            ctx.load_verify_locations(args.client_ca)
            ctx.verify_mode = ssl.CERT_REQUIRED
        httpd.socket = ctx.wrap_socket(httpd.socket, server_side=True)
    print(f"otlp_sink grpc 127.0.0.1:{args.grpc_port} http 127.0.0.1:{args.http_port}", file=sys.stderr, flush=True)
    try:
        httpd.serve_forever()
    except KeyboardInterrupt:
        pass
    server.stop(1)


if __name__ == "__main__":
    main()
