#!/usr/bin/env python3
"""receiver.py -- a webhook receiver on loopback for atsmail-notifyd's tests.

    receiver.py --secret-file FILE --dir DIR [--port N]

Listens on 127.0.0.1 (a free port unless --port), writes the port to
DIR/port once it listens, and appends one line per request to DIR/log:

    <event id> <verified 1|0> <status sent> <answered|late>

verified is 1 when X-Atsmail-Signature is the HMAC-SHA256 of the body under
a secret of FILE (the format of atsmail's secret files: one secret per
line, the first current, '#' comments; a secret longer than 64 bytes is
hashed with SHA-256 first, as HMAC does) and the body's "id" equals
X-Atsmail-Event-Id.

Behaviour, read from DIR/control at every request ("key=value" lines):
    status=N       answer N (default 200)
    fail_first=N   answer 500 to the first N requests, then the status
    sleep=S        sleep S seconds before answering every request
    sleep_first=N  sleep only during the first N requests
The path /status/N answers N whatever the control file says.
A request that slept under sleep_first is logged "late": it stands for
a receiver that answers after the client gave up.
"""
import argparse
import hashlib
import hmac
import json
import os
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

lock = threading.Lock()
state = {"n": 0}


def load_keys(path):
    keys = []
    with open(path, "rb") as f:
        for line in f:
            line = line.strip()
            if not line or line.startswith(b"#"):
                continue
            keys.append(line if len(line) <= 64 else hashlib.sha256(line).digest())
    return keys


def read_control(d):
    c = {}
    try:
        with open(os.path.join(d, "control")) as f:
            for line in f:
                if "=" in line:
                    k, v = line.strip().split("=", 1)
                    c[k.strip()] = v.strip()
    except FileNotFoundError:
        pass
    return c


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"   # keep-alive, as an ATS would
    # headers and body go out in two writes: without TCP_NODELAY the second
    # waits for the client's delayed ACK (40 ms a request)
    disable_nagle_algorithm = True

    def log_message(self, fmt, *args):
        pass

    def do_POST(self):
        n = int(self.headers.get("Content-Length", "0"))
        body = self.rfile.read(n)
        sig = self.headers.get("X-Atsmail-Signature", "")
        hdr_id = self.headers.get("X-Atsmail-Event-Id", "-")
        ok = False
        if sig.startswith("sha256="):
            for k in self.server.keys:
                want = hmac.new(k, body, hashlib.sha256).hexdigest()
                if hmac.compare_digest(want, sig[7:].lower()):
                    ok = True
        try:
            ok = ok and json.loads(body)["id"] == hdr_id
        except (ValueError, KeyError, TypeError):
            ok = False
        c = read_control(self.server.dir)
        with lock:
            state["n"] += 1
            seq = state["n"]
        status = int(c.get("status", "200"))
        if seq <= int(c.get("fail_first", "0")):
            status = 500
        if self.path.startswith("/status/"):
            status = int(self.path.split("/")[2])
        late = False
        if float(c.get("sleep", "0")) > 0 and seq <= int(c.get("sleep_first", "1000000000")):
            time.sleep(float(c["sleep"]))
            # sleep_first simulates a timeout: the client has given up
            late = "sleep_first" in c
        out = b'{"ok":true}' if 200 <= status < 300 else b'{"error":"test receiver says no"}'
        try:
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(out)))
            self.end_headers()
            self.wfile.write(out)
            self.wfile.flush()
        except OSError:
            late = True
        with lock:
            with open(os.path.join(self.server.dir, "log"), "a") as f:
                f.write("%s %d %d %s\n" % (hdr_id, 1 if ok else 0, status,
                                            "late" if late else "answered"))


class Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 256   # two notifyd instances send 64 at once


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--secret-file", required=True)
    ap.add_argument("--dir", required=True)
    ap.add_argument("--port", type=int, default=0)
    a = ap.parse_args()
    srv = Server(("127.0.0.1", a.port), Handler)
    srv.keys = load_keys(a.secret_file)
    srv.dir = a.dir
    tmp = os.path.join(a.dir, "port.tmp")
    with open(tmp, "w") as f:
        f.write("%d\n" % srv.server_address[1])
    os.rename(tmp, os.path.join(a.dir, "port"))
    srv.serve_forever()


if __name__ == "__main__":
    main()
