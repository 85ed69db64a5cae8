#!/usr/bin/env python3
"""A backend that takes every POST and answers 204 (200 for OTLP paths), counting requests
and bytes: the far end for exporter benchmarks, so the backend never limits the gateway.
GET /counts -> {"requests": n, "bytes": n}.  usage: null_sink.py PORT"""
import json
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

COUNTS = {"requests": 0, "bytes": 0}
LOCK = threading.Lock()


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *a):
        pass

    def do_POST(self):
        n = int(self.headers.get("Content-Length") or 0)
        self.rfile.read(n)
        with LOCK:
            COUNTS["requests"] += 1
            COUNTS["bytes"] += n
        otlp = self.path.startswith("/v1/")
        self.send_response(200 if otlp else 204)
        self.send_header("Content-Length", "0")
        if otlp:
            self.send_header("Content-Type", "application/x-protobuf")
        self.end_headers()

    def do_GET(self):
        body = json.dumps(COUNTS).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


ThreadingHTTPServer(("127.0.0.1", int(sys.argv[1])), Handler).serve_forever()
