#!/usr/bin/env python3
"""The demo's slow dependency: answers every GET after sleeping a fixed time, so p99 latencies are known.

Runs inside the api pod on its loopback; nginx proxies /api/slow to it.
usage: slow_backend.py PORT DELAY_MS
"""
import http.server
import sys
import time

PORT = int(sys.argv[1])
DELAY = int(sys.argv[2]) / 1000.0


class SlowHandler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_GET(self):
        time.sleep(DELAY)
        body = b'{"slept_ms": %d}\n' % int(DELAY * 1000)
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format, *args):  # nginx's access log already records every call
        pass


http.server.ThreadingHTTPServer(("127.0.0.1", PORT), SlowHandler).serve_forever()
