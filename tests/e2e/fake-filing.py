#!/usr/bin/env python3
r"""fake-filing.py -- a stand-in for atsmaild's filing socket, for the
Dovecot plugin's tests (tests/e2e/plugin-client.sh).

usage: fake-filing.py SOCKET CONTROL LOG PIDFILE

Listens on the unix socket SOCKET (mode 0666, so that Dovecot's mail
processes can connect whatever their uid), speaks the filing protocol of
docs/filing-protocol.md -- its own reading of it, written apart from
lib/service/filing.c so that the two check each other -- and answers each
request as the CONTROL file says at the time the request is complete:

    mode ok | tempfail | error | hang | close
                        ok (the default), TEMPFAIL or ERROR answers; hang
                        answers nothing and keeps the connection open;
                        close closes it without answering
    keywords $ATS ...   keywords of an OK answer (default none)
    result filed        the answer's result (default: filed / tempfail / error)
    text ...            the answer's text
    close-after yes     close the connection after each answer (the plugin
                        must reconnect for the next mail)

A missing CONTROL file means "mode ok".  Every request is logged to LOG
as one JSON object per line: its fields, head_len, the head itself
(latin-1), message_id (taken from the head), conn (the connection's
number, from 1) and answer (the mode used); a malformed request is logged
with "malformed": the reason, answered ERROR, and its connection closed.
The process writes PIDFILE and stops on SIGTERM.
"""
import json
import os
import re
import signal
import socket
import socketserver
import sys
import threading
import time

LINE_MAX = 4096
LINES_MAX = 64
HEAD_MAX = 64 * 1024 * 1024
REQUIRED = ["user", "mailbox", "how", "size", "sha256", "received", "head"]

log_lock = threading.Lock()
conn_count = [0]


class Malformed(Exception):
    pass


def unescape(value, name):
    out = bytearray()
    i = 0
    while i < len(value):
        c = value[i]
        if c == 0x25:  # '%'
            h = value[i + 1:i + 3]
            if len(h) != 2 or not re.fullmatch(rb"[0-9A-F]{2}", h):
                raise Malformed("bad escape in %s" % name)
            out.append(int(h, 16))
            i += 3
            continue
        if c < 0x20:
            raise Malformed("raw byte 0x%02X in %s" % (c, name))
        out.append(c)
        i += 1
    return bytes(out)


def escape(value):
    out = bytearray()
    for c in value:
        if c < 0x20 or c == 0x25:
            out += b"%%%02X" % c
        else:
            out.append(c)
    return bytes(out)


class Reader:
    def __init__(self, sock):
        self.sock = sock
        self.buf = b""

    def fill(self):
        data = self.sock.recv(65536)
        if not data:
            raise EOFError
        self.buf += data

    def line(self):
        while b"\n" not in self.buf:
            if len(self.buf) >= LINE_MAX:
                raise Malformed("line longer than %d bytes" % LINE_MAX)
            self.fill()
        line, self.buf = self.buf.split(b"\n", 1)
        if len(line) + 1 > LINE_MAX:
            raise Malformed("line longer than %d bytes" % LINE_MAX)
        return line

    def exactly(self, n):
        while len(self.buf) < n:
            self.fill()
        data, self.buf = self.buf[:n], self.buf[n:]
        return data


def read_request(reader):
    first = reader.line()
    if first != b"FILE\t1":
        raise Malformed("first line %r" % first)
    fields = {}
    lines = 1
    while True:
        line = reader.line()
        lines += 1
        if lines > LINES_MAX:
            raise Malformed("more than %d lines" % LINES_MAX)
        if line == b"":
            break
        if b"\t" not in line:
            raise Malformed("no TAB in %r" % line)
        name, value = line.split(b"\t", 1)
        name = name.decode("ascii", "replace")
        if not re.fullmatch(r"[a-z0-9][a-z0-9-]*", name):
            raise Malformed("bad name %r" % name)
        if name in fields:
            raise Malformed("%s given twice" % name)
        fields[name] = unescape(value, name)
    for name in REQUIRED:
        if name not in fields:
            raise Malformed("%s is missing" % name)
    if fields["how"] not in (b"delivery", b"append", b"move"):
        raise Malformed("how %r" % fields["how"])
    for name in ("size", "head", "uid"):
        if name in fields and not re.fullmatch(rb"[0-9]+", fields[name]):
            raise Malformed("%s %r" % (name, fields[name]))
    if not re.fullmatch(rb"-?[0-9]+", fields["received"]):
        raise Malformed("received %r" % fields["received"])
    if not re.fullmatch(rb"([0-9a-f]{64})?", fields["sha256"]):
        raise Malformed("sha256 %r" % fields["sha256"])
    n = int(fields["head"])
    if n > HEAD_MAX:
        raise Malformed("head of %d bytes" % n)
    head = reader.exactly(n)
    return fields, head


def control(path):
    c = {"mode": "ok", "keywords": "", "result": "", "text": "", "close-after": "no"}
    try:
        with open(path, encoding="utf-8") as f:
            for line in f:
                line = line.rstrip("\n")
                if " " in line:
                    k, v = line.split(" ", 1)
                    c[k] = v
                elif line:
                    c[line] = ""
    except FileNotFoundError:
        pass
    return c


def answer(status, result, keywords, text):
    out = b"%s\t1\nresult\t%s\n" % (status, escape(result.encode()))
    for k in keywords:
        out += b"keyword\t%s\n" % escape(k.encode())
    out += b"text\t%s\n\n" % escape(text.encode())
    return out


def log(path, entry):
    with log_lock:
        with open(path, "a", encoding="utf-8") as f:
            f.write(json.dumps(entry, sort_keys=True) + "\n")


class Handler(socketserver.BaseRequestHandler):
    def handle(self):
        with log_lock:
            conn_count[0] += 1
            conn = conn_count[0]
        reader = Reader(self.request)
        while True:
            try:
                fields, head = read_request(reader)
            except EOFError:
                return
            except Malformed as e:
                log(LOG, {"conn": conn, "malformed": str(e)})
                self.request.sendall(answer(b"ERROR", "error", [], "malformed: %s" % e))
                return
            c = control(CONTROL)
            m = re.search(rb"(?im)^message-id:\s*(<[^>\r\n]*>)", head)
            entry = {k: v.decode("latin-1") for k, v in fields.items()}
            entry.update({"conn": conn, "head_len": len(head), "head": head.decode("latin-1"),
                          "message_id": m.group(1).decode("latin-1") if m else None,
                          "answer": c["mode"], "time": time.time()})
            log(LOG, entry)
            mode = c["mode"]
            if mode == "hang":
                # keep the connection until the client gives up
                while self.request.recv(65536):
                    pass
                return
            if mode == "close":
                return
            if mode == "ok":
                out = answer(b"OK", c["result"] or "filed", c["keywords"].split(),
                             c["text"] or "filed by fake-filing.py")
            elif mode == "tempfail":
                out = answer(b"TEMPFAIL", c["result"] or "tempfail", [],
                             c["text"] or "fake-filing.py says: try again later")
            else:
                out = answer(b"ERROR", c["result"] or "error", [],
                             c["text"] or "fake-filing.py says: error")
            self.request.sendall(out)
            if c["close-after"] == "yes":
                return


class Server(socketserver.ThreadingMixIn, socketserver.UnixStreamServer):
    daemon_threads = True


def main():
    global CONTROL, LOG
    if len(sys.argv) != 5:
        sys.exit(__doc__)
    path, CONTROL, LOG, pidfile = sys.argv[1:]
    if os.path.exists(path):
        os.unlink(path)
    server = Server(path, Handler)
    os.chmod(path, 0o666)
    signal.signal(signal.SIGTERM, lambda *_: os._exit(0))
    with open(pidfile, "w") as f:
        f.write("%d\n" % os.getpid())
    server.serve_forever()


if __name__ == "__main__":
    main()
