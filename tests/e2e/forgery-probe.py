#!/usr/bin/env python3
"""forgery-probe.py -- a milter that only watches, for tests/e2e/forgery-local.sh.

    forgery-probe.py SOCKET OUTFILE

Listens on the unix socket SOCKET (mode 0666: Postfix's cleanup connects as
postfix), negotiates milter protocol 6 with no actions and every event, and
writes one JSON line per event to OUTFILE: the connection (host, family,
port, address), each macro packet, MAIL and RCPT arguments, each header,
and "eom".  It answers CONTINUE to everything and changes nothing.  It shows
what any milter, atsmaild included, is told about a mail submitted with
sendmail(1): which of Postfix's own headers reach a milter, and which
macros.  Runs until killed.
"""
import json
import os
import socket
import struct
import sys
import threading

sock_path, out_path = sys.argv[1], sys.argv[2]
lock = threading.Lock()


def log(rec):
    with lock, open(out_path, "a", encoding="utf-8") as f:
        f.write(json.dumps(rec, ensure_ascii=False) + "\n")


def cstrings(data):
    return [s.decode("utf-8", "replace") for s in data.split(b"\0")[:-1]]


def recv_exact(conn, n):
    buf = b""
    while len(buf) < n:
        chunk = conn.recv(n - len(buf))
        if not chunk:
            return None
        buf += chunk
    return buf


def reply(conn, code, data=b""):
    conn.sendall(struct.pack("!I", len(data) + 1) + code + data)


def serve(conn):
    with conn:
        while True:
            head = recv_exact(conn, 4)
            if head is None:
                return
            (n,) = struct.unpack("!I", head)
            pkt = recv_exact(conn, n)
            if pkt is None or n == 0:
                return
            cmd, data = pkt[:1], pkt[1:]
            if cmd == b"O":
                # version 6, no actions, every step with a reply
                reply(conn, b"O", struct.pack("!III", 6, 0, 0))
            elif cmd == b"D":
                v = cstrings(data[1:])
                log({"ev": "macro", "for": data[:1].decode(), "macros": dict(zip(v[0::2], v[1::2]))})
            elif cmd == b"C":
                host, rest = data.split(b"\0", 1)
                fam = rest[:1].decode()
                port = struct.unpack("!H", rest[1:3])[0] if fam in "46" else 0
                addr = rest[3:].split(b"\0", 1)[0].decode() if fam in "46" else ""
                log({"ev": "connect", "host": host.decode(), "family": fam, "port": port, "addr": addr})
                reply(conn, b"c")
            elif cmd in (b"M", b"R"):
                log({"ev": "mail" if cmd == b"M" else "rcpt", "args": cstrings(data)})
                reply(conn, b"c")
            elif cmd == b"L":
                v = cstrings(data)
                log({"ev": "header", "name": v[0], "value": v[1] if len(v) > 1 else ""})
                reply(conn, b"c")
            elif cmd == b"E":
                log({"ev": "eom"})
                reply(conn, b"c")
            elif cmd in (b"A", b"Q", b"K"):
                if cmd == b"Q":
                    return
            else:
                # HELO, DATA, end of headers, body, unknown
                reply(conn, b"c")


def main():
    try:
        os.unlink(sock_path)
    except FileNotFoundError:
        pass
    old = os.umask(0)
    srv = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    srv.bind(sock_path)
    os.umask(old)
    srv.listen(16)
    while True:
        conn, _ = srv.accept()
        threading.Thread(target=serve, args=(conn,), daemon=True).start()


if __name__ == "__main__":
    main()
