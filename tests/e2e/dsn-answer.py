#!/usr/bin/env python3
"""tests/e2e/dsn-answer.py PORT -- a remote SMTP server for dsn-sisimai.sh that
refuses by local part, so that the test bed's Postfix writes the bounces and
delay notices of real refusals:

  unknown.*  RCPT  550 5.1.1 ... User unknown in virtual mailbox table
  generic.*  RCPT  550 5.0.0 ... no such user here   (a generic status)
  full.*     RCPT  552 5.2.2 ... Mailbox full
  spam.*     DATA  550 5.7.1 Message rejected as spam by content filter
  policy.*   RCPT  553 5.7.1 ... rejected by local policy
  big.*      DATA  552 5.3.4 Message size exceeds fixed maximum message size
  relay.*    RCPT  554 5.7.1 ... Relay access denied
  nohost.*   RCPT  550 5.1.2 ... Host or domain name not found
  later.*    RCPT  450 4.2.0 ... temporarily unavailable, try again later
anything else is accepted.  Runs until killed; one connection at a time."""
import socket, sys

RCPT = {"unknown": "550 5.1.1 <{a}>: Recipient address rejected: User unknown in virtual mailbox table",
        "generic": "550 5.0.0 <{a}>... no such user here",
        "full": "552 5.2.2 <{a}>: Mailbox full",
        "policy": "553 5.7.1 <{a}>: Recipient address rejected by local policy",
        "relay": "554 5.7.1 <{a}>: Relay access denied",
        "nohost": "550 5.1.2 <{a}>: Recipient address rejected: Host or domain name not found",
        "later": "450 4.2.0 <{a}>: mailbox temporarily unavailable, try again later"}
DATA = {"spam": "550 5.7.1 Message rejected as spam by content filter",
        "big": "552 5.3.4 Message size exceeds fixed maximum message size"}

def serve(c):
    f = c.makefile("rwb")
    def say(s): f.write((s + "\r\n").encode()); f.flush()
    say("220 remote.test ESMTP dsn-answer")
    data_reply = None
    while True:
        line = f.readline()
        if not line: return
        cmd = line.decode("latin-1").strip()
        up = cmd.upper()
        if up.startswith(("EHLO", "HELO")): say("250 remote.test")
        elif up.startswith("MAIL"): data_reply = None; say("250 2.1.0 Ok")
        elif up.startswith("RCPT"):
            a = cmd[cmd.find("<") + 1:cmd.rfind(">")]
            kind = a.split("@")[0].split(".")[0].lower()
            if kind in RCPT: say(RCPT[kind].format(a=a))
            else:
                data_reply = data_reply or DATA.get(kind)
                say("250 2.1.5 Ok")
        elif up == "DATA":
            say("354 go ahead")
            while True:
                l = f.readline()
                if not l or l in (b".\r\n", b".\n"): break
            say(data_reply or "250 2.0.0 Ok: queued")
        elif up == "QUIT": say("221 2.0.0 Bye"); return
        else: say("250 2.0.0 Ok")

s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", int(sys.argv[1])))
s.listen(8)
while True:
    c, _ = s.accept()
    try: serve(c)
    except OSError: pass
    finally: c.close()
