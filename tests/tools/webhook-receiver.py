#!/usr/bin/env python3
"""A webhook receiver for tests: answers every POST with 200 and appends one
line per request to LOG: "<X-Dev2Prod-Delivery header> <path> <body on one line>".
A path ending in /fail-once gets, the first time, a 500 whose body echoes
the path (as some servers' error pages do).
Usage: webhook-receiver.py PORT LOG (PORT 0: any; the port is printed)."""
import http.server
import json
import sys


class Handler(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        if self.path.endswith("/fail-once") and not getattr(Handler, "failed", False):
            # an error page that echoes the path (and so the URL's token)
            Handler.failed = True
            body = ("Cannot POST %s" % self.path).encode()
            self.send_response(500)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
            return
        n = int(self.headers.get("Content-Length", "0"))
        body = self.rfile.read(n)
        try:
            text = json.dumps(json.loads(body), separators=(",", ":"))
        except ValueError:
            text = "NOT-JSON"
        with open(sys.argv[2], "a") as f:
            f.write("%s %s %s\n" % (self.headers.get("X-Dev2Prod-Delivery", "-"), self.path, text))
        self.send_response(200)
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"ok")

    def log_message(self, *args):
        pass


srv = http.server.HTTPServer(("127.0.0.1", int(sys.argv[1])), Handler)
print(srv.server_address[1], flush=True)
srv.serve_forever()
