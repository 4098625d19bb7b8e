#!/usr/bin/env python3
"""quit-nc.py -- SMFIC_QUIT_NC on atsmaild's milter socket, which miltertest
cannot send: the MTA ends one SMTP session and begins the next on the same
milter connection.  Nothing of the first session may survive into the
second: here the first is authenticated (alice), the second is not and
sends no macros at MAIL (a trimmed milter_mail_macros), so it must be
judged inbound -- not tagged, not recorded as alice's.  A third session on
the same connection authenticates again and is tagged.  The queue id comes
in {i} at the end of the message, as Postfix sends it.

    quit-nc.py SOCKET_PATH PREFIX

The queue ids (and Message-IDs) are PREFIX.1, PREFIX.2 and PREFIX.3.

Prints "FAIL: ..." and exits 1 on the first wrong answer; "PASS quit-nc"
and TOKEN lines (as the miltertest scenarios do) otherwise.
"""
import socket
import struct
import sys

SOCK, PREFIX = sys.argv[1], sys.argv[2]

ACTIONS_ALL = 0x1FF
STEPS_ALL = 0x1FFFFF
P_NR_CONN, P_NR_HDR = 0x1000, 0x80


def fail(msg):
    print("FAIL: " + msg)
    sys.exit(1)


class Milter:
    def __init__(self, path):
        self.s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.s.settimeout(20)
        self.s.connect(path)
        self.protocol = 0

    def send(self, cmd, data=b""):
        self.s.sendall(struct.pack(">I", len(data) + 1) + cmd + data)

    def read(self):
        head = self._exact(4)
        n = struct.unpack(">I", head)[0]
        body = self._exact(n)
        return body[:1], body[1:]

    def _exact(self, n):
        buf = b""
        while len(buf) < n:
            part = self.s.recv(n - len(buf))
            if not part:
                fail("atsmaild closed the connection")
            buf += part
        return buf

    def negotiate(self):
        self.send(b"O", struct.pack(">III", 6, ACTIONS_ALL, STEPS_ALL))
        cmd, data = self.read()
        if cmd != b"O":
            fail("negotiation: reply %r" % cmd)
        _, _, self.protocol = struct.unpack(">III", data[:12])

    def connect_info(self, host, addr, port):
        self.send(b"C", host.encode() + b"\0" + b"4" + struct.pack(">H", port) +
                  addr.encode() + b"\0")
        if not self.protocol & P_NR_CONN:
            self.expect_continue("connect")

    def expect_continue(self, what):
        cmd, _ = self.read()
        if cmd != b"c":
            fail("%s: reply %r, expected continue" % (what, cmd))

    def macro(self, stage, pairs):
        data = stage
        for k, v in pairs:
            data += k.encode() + b"\0" + v.encode() + b"\0"
        self.send(b"D", data)

    def message(self, login, sender, rcpt, qid):
        """One message; returns (final reply, [(action, data)...])."""
        if login is not None:
            self.macro(b"M", [("{auth_authen}", login)])
        self.send(b"M", ("<%s>" % sender).encode() + b"\0")
        self.expect_continue("MAIL")
        self.send(b"R", ("<%s>" % rcpt).encode() + b"\0")
        self.expect_continue("RCPT")
        for name, value in (("From", sender), ("To", rcpt), ("Subject", "quit-nc " + qid),
                            ("Message-ID", "<%s@atsmail.test>" % qid)):
            self.send(b"L", name.encode() + b"\0" + value.encode() + b"\0")
            if not self.protocol & P_NR_HDR:
                self.expect_continue("header")
        self.send(b"B", b"Hello,\r\nthis is a scenario.\r\n")
        cmd, _ = self.read()
        if cmd not in (b"c", b"s"):
            fail("body: reply %r" % cmd)
        self.macro(b"E", [("i", qid)])
        self.send(b"E")
        actions = []
        while True:
            cmd, data = self.read()
            if cmd in (b"c", b"a", b"y", b"t", b"r", b"d"):
                return cmd, actions
            actions.append((cmd, data))


def added_token(actions):
    for cmd, data in actions:
        if cmd == b"h":
            name, value = data.split(b"\0")[:2]
            if name == b"X-ATS-Ref":
                return value.decode()
    return None


m = Milter(SOCK)
m.negotiate()

# session 1: alice, authenticated -- tagged
m.connect_info("mx.outside.example", "192.0.2.10", 40001)
q1 = "%s.1" % PREFIX
rep, acts = m.message("alice@atsmail.test", "alice@atsmail.test", "taro@candidate.test", q1)
tok = added_token(acts)
if rep != b"c" or tok is None:
    fail("session 1 (authenticated): not tagged (reply %r, actions %r)" % (rep, acts))
print("TOKEN %s %s" % (q1, tok))

# session 2 on the same connection: no login, no MAIL macros, the same
# envelope sender -- inbound
m.send(b"K")
m.connect_info("mx.outside.example", "192.0.2.10", 40002)
q2 = "%s.2" % PREFIX
rep, acts = m.message(None, "alice@atsmail.test", "taro@candidate.test", q2)
if rep != b"c" or acts:
    fail("session 2 (after SMFIC_QUIT_NC, no login): changed as if sent by alice "
         "(reply %r, actions %r)" % (rep, acts))

# session 3: authenticated again -- tagged
m.send(b"K")
m.connect_info("mx.outside.example", "192.0.2.10", 40003)
q3 = "%s.3" % PREFIX
rep, acts = m.message("alice@atsmail.test", "alice@atsmail.test", "taro@candidate.test", q3)
tok = added_token(acts)
if rep != b"c" or tok is None:
    fail("session 3 (authenticated again): not tagged (reply %r, actions %r)" % (rep, acts))
print("TOKEN %s %s" % (q3, tok))
m.send(b"Q")
print("PASS quit-nc")
