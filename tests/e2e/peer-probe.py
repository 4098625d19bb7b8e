#!/usr/bin/env python3
r"""peer-probe.py -- connect to one of atsmaild's sockets as whoever runs
it, speak its protocol, and say whether an answer came back
(tests/e2e/atsmaild-peers.sh).

usage: peer-probe.py milter|filing SOCKET [TIMEOUT_S]
       (also as `python3 - milter|filing SOCKET < peer-probe.py`, for users
       who cannot read the source tree)

milter: sends the milter option negotiation (SMFIC_OPTNEG, version 6, as
Postfix opens every session) and waits for atsmaild's SMFIC_OPTNEG.
filing: sends one filing request (docs/filing-protocol.md) for a small
mail that is not ATS mail and waits for the answer's first line.

Prints one line: "pid PID uid UID answered WHAT" (WHAT: "optneg" or the
answer's status line) or "pid PID uid UID closed" when the connection
ended without a byte of answer (end of file, reset, or a write refused
because the other end had already closed).  Exit 0 when answered, 1 when
closed, 2 on an error (no socket, timeout: "pid ... error WHY").
"""
import os
import socket
import struct
import sys


def milter_request():
    # SMFIC_OPTNEG: 'O', version 6, every action, no protocol steps skipped
    body = b"O" + struct.pack(">III", 6, 0x1FF, 0)
    return struct.pack(">I", len(body)) + body


def filing_request():
    msg = (b"From: someone@elsewhere.example\r\nTo: nobody@atsmail.test\r\n"
           b"Subject: probe\r\nMessage-ID: <probe.%d@e2e.test>\r\n\r\nHello.\r\n" % os.getpid())
    import hashlib
    fields = [
        ("user", "nobody@atsmail.test"), ("mailbox", "INBOX"), ("how", "delivery"),
        ("env-from", "someone@elsewhere.example"), ("size", str(len(msg))),
        ("sha256", hashlib.sha256(msg).hexdigest()), ("received", "1733212800"),
        ("head", str(len(msg))),
    ]
    head = "FILE\t1\n" + "".join("%s\t%s\n" % f for f in fields) + "\n"
    return head.encode() + msg


def main():
    if len(sys.argv) not in (3, 4) or sys.argv[1] not in ("milter", "filing"):
        sys.stderr.write(__doc__)
        return 2
    kind, path = sys.argv[1], sys.argv[2]
    timeout = float(sys.argv[3]) if len(sys.argv) == 4 else 10.0
    who = "pid %d uid %d" % (os.getpid(), os.getuid())
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(timeout)
    try:
        s.connect(path)
    except OSError as e:
        print("%s error connect: %s" % (who, e))
        return 2
    got = b""
    try:
        s.sendall(milter_request() if kind == "milter" else filing_request())
        while True:
            chunk = s.recv(4096)
            if not chunk:
                break
            got += chunk
            if kind == "milter" and len(got) >= 5:
                break
            if kind == "filing" and b"\n" in got:
                break
    except (BrokenPipeError, ConnectionResetError):
        pass
    except socket.timeout:
        print("%s error timeout (%d bytes)" % (who, len(got)))
        return 2
    finally:
        s.close()
    if not got:
        print("%s closed" % who)
        return 1
    if kind == "milter":
        what = "optneg" if got[4:5] == b"O" else "packet %r" % got[4:5]
    else:
        what = got.split(b"\n", 1)[0].decode("utf-8", "replace").replace("\t", " ")
    print("%s answered %s" % (who, what))
    return 0


if __name__ == "__main__":
    sys.exit(main())
