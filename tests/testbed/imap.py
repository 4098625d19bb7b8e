#!/usr/bin/env python3
r"""imap.py -- a small IMAP client for the test-bed tests (shell friendly).

usage: imap.py [-H HOST] [-p PORT] [-m MAILBOX] [-w SECONDS] USER PASSWORD COMMAND [ARG...]

  -p PORT      default $TB_IMAP_PORT;  -H HOST default 127.0.0.1
  -m MAILBOX   mailbox to select, default INBOX
  -w SECONDS   wait up to SECONDS (polling every 0.1 s) for the message or
               search result to appear; default 0 (look once)

A message (MSG below) is named by its Message-ID ("<id@host>"; the angle
brackets may be left out), or by "uid:N".  With several messages of the
same Message-ID, the newest (highest UID) is used.

commands and their output (one line unless said otherwise):
  login                 "ok" when the password is accepted
  list                  every mailbox name, one per line
  count                 number of messages in MAILBOX
  find MSG              the message's UID
  search CRITERIA       UIDs matching the IMAP SEARCH CRITERIA (IMAP syntax,
                        one argument, e.g. 'HEADER Subject "x" UNSEEN'),
                        space-separated; exit 1 when none
  header MSG NAME       raw value of header NAME, unfolded (first one)
  subject MSG           the Subject decoded from RFC 2047 to UTF-8
  headers MSG           the raw header block (several lines)
  body MSG              the raw body, without headers (several lines)
  raw MSG               the whole raw message (several lines)
  flags MSG             FLAGS, keywords included, space-separated ("" if
                        none); \Recent (session-dependent) is left out
  store MSG OP FLAG...  OP is +, - or = (add, remove, replace flags/keywords)
  copy MSG MAILBOX / move MSG MAILBOX
  create MAILBOX
  append MAILBOX FILE [FLAG...]   append FILE ("-" = stdin), prints its UID
                        when the server reports it (APPENDUID), else "ok"
Mailbox names are given and printed in UTF-8 (sent in modified UTF-7).
Raw output turns CRLF into LF and is otherwise byte for byte what the
server holds.

exit codes: 0 done; 1 message or result not found (after -w); 2 usage;
3 login refused; 4 connection or protocol error.
"""
import base64
import email.header
import imaplib
import os
import re
import sys
import time

EXIT_NOTFOUND, EXIT_USAGE, EXIT_LOGIN, EXIT_ERROR = 1, 2, 3, 4


class NotFound(Exception):
    pass


class Usage(Exception):
    pass


def quote(s):
    """An IMAP quoted string (for mailbox names and search values)."""
    return '"' + s.replace("\\", "\\\\").replace('"', '\\"') + '"'


def mutf7(name):
    """A mailbox name in IMAP's modified UTF-7 (RFC 3501 5.1.3): names are
    given and printed in UTF-8 (未対応/alice), sent as &ZypbfF.../alice."""
    res, run = [], []

    def flush():
        if run:
            b = "".join(run).encode("utf-16-be")
            res.append("&" + base64.b64encode(b).decode().rstrip("=").replace("/", ",") + "-")
            run.clear()
    for ch in name:
        if 0x20 <= ord(ch) <= 0x7e:
            flush()
            res.append("&-" if ch == "&" else ch)
        else:
            run.append(ch)
    flush()
    return "".join(res)


def from_mutf7(name):
    """The UTF-8 of a name in modified UTF-7."""
    def dec(mo):
        b64 = mo.group(1)
        if not b64:
            return "&"
        b64 = b64.replace(",", "/")
        return base64.b64decode(b64 + "=" * (-len(b64) % 4)).decode("utf-16-be")
    return re.sub(r"&([A-Za-z0-9+,]*)-", dec, name)


def mbox(name):
    return quote(mutf7(name))


def out(data):
    if isinstance(data, str):
        data = data.encode("utf-8")
    sys.stdout.buffer.write(data.replace(b"\r\n", b"\n"))
    if not data.endswith(b"\n"):
        sys.stdout.buffer.write(b"\n")


def check(typ, data, what):
    if typ != "OK":
        raise imaplib.IMAP4.error("%s: %s %s" % (what, typ, data))
    return data


class Client:
    def __init__(self, host, port, user, password, mailbox, wait):
        self.m = imaplib.IMAP4(host, port)
        self.mailbox = mailbox
        self.wait = wait
        try:
            self.m.login(user, password)
        except imaplib.IMAP4.error as e:
            print("login refused for %s: %s" % (user, e), file=sys.stderr)
            sys.exit(EXIT_LOGIN)

    def select(self, readonly=True):
        check(*self.m.select(mbox(self.mailbox), readonly=readonly), "SELECT " + self.mailbox)

    def polled(self, fn):
        """fn() until it returns something true or -w expires (then NotFound)."""
        deadline = time.monotonic() + self.wait
        while True:
            got = fn()
            if got:
                return got
            if time.monotonic() >= deadline:
                raise NotFound()
            time.sleep(0.1)
            self.m.noop()

    def uid_search(self, criteria):
        data = check(*self.m.uid("SEARCH", criteria), "SEARCH " + criteria)
        return [int(x) for x in b" ".join(d for d in data if d).split()]

    def fetch(self, uid, item):
        data = check(*self.m.uid("FETCH", str(uid), item), "FETCH")
        for d in data:
            if isinstance(d, tuple):
                return d[1]
        # no literal in the answer: a plain response such as FLAGS
        for d in data:
            if d:
                return d
        raise NotFound()

    def resolve(self, msg):
        if msg.startswith("uid:"):
            uid = int(msg[4:])
            return self.polled(lambda: uid in self.uid_search("UID %d" % uid) and uid)
        want = msg.strip().strip("<>")

        def find():
            # SEARCH HEADER is a substring match: confirm the exact id
            for uid in sorted(self.uid_search("HEADER Message-ID " + quote(want)), reverse=True):
                got = self.fetch(uid, "(BODY.PEEK[HEADER.FIELDS (MESSAGE-ID)])")
                ids = re.findall(rb"<([^>]*)>", got)
                if want.encode() in ids:
                    return uid
            return None

        return self.polled(find)


def raw_header(block, name):
    """First header NAME of a raw header block, unfolded, as bytes."""
    lines = block.replace(b"\r\n", b"\n").split(b"\n")
    field, value = name.lower().encode() + b":", None
    for line in lines:
        if value is not None:
            if line[:1] in (b" ", b"\t"):
                value += line
                continue
            break
        if line.lower().startswith(field):
            value = line[len(field):]
    if value is None:
        raise NotFound()
    return value.strip(b" \t")


def run(c, cmd, args):
    def need(n):
        if len(args) < n:
            raise Usage("%s needs %d argument(s)" % (cmd, n))

    if cmd == "login":
        out("ok")
    elif cmd == "list":
        data = check(*c.m.list(), "LIST")
        for d in data:
            # (\Flags) "/" name   -- name is an atom or a quoted string
            mo = re.match(rb'\([^)]*\) (?:"(?:[^"\\]|\\.)*"|NIL) (.*)$', d)
            if mo:
                name = mo.group(1)
                if name.startswith(b'"'):
                    name = re.sub(rb"\\(.)", rb"\1", name[1:-1])
                out(from_mutf7(name.decode("ascii", "replace")))
    elif cmd == "count":
        typ, data = c.m.select(mbox(c.mailbox), readonly=True)
        out(check(typ, data, "SELECT")[0])
    elif cmd == "create":
        need(1)
        check(*c.m.create(mbox(args[0])), "CREATE")
        out("ok")
    elif cmd == "append":
        need(2)
        if args[1] == "-":
            data = sys.stdin.buffer.read()
        else:
            with open(args[1], "rb") as f:
                data = f.read()
        data = re.sub(rb"\r?\n", b"\r\n", data)
        flags = "(%s)" % " ".join(args[2:]) if len(args) > 2 else None
        typ, resp = c.m.append(mbox(args[0]), flags, None, data)
        check(typ, resp, "APPEND")
        mo = re.search(rb"APPENDUID \d+ (\d+)", resp[0] or b"")
        out(mo.group(1) if mo else "ok")
    elif cmd == "search":
        need(1)
        c.select()
        out(" ".join(str(u) for u in c.polled(lambda: c.uid_search(args[0]))))
    elif cmd in ("find", "header", "subject", "headers", "body", "raw", "flags",
                 "store", "copy", "move"):
        need({"header": 2, "store": 3, "copy": 2, "move": 2}.get(cmd, 1))
        c.select(readonly=cmd not in ("store", "move"))
        uid = c.resolve(args[0])
        if cmd == "find":
            out(str(uid))
        elif cmd == "header":
            out(raw_header(c.fetch(uid, "(BODY.PEEK[HEADER])"), args[1]))
        elif cmd == "subject":
            value = raw_header(c.fetch(uid, "(BODY.PEEK[HEADER])"), "Subject")
            text = str(email.header.make_header(email.header.decode_header(
                value.decode("ascii", "replace"))))
            out(text)
        elif cmd == "headers":
            out(c.fetch(uid, "(BODY.PEEK[HEADER])"))
        elif cmd == "body":
            out(c.fetch(uid, "(BODY.PEEK[TEXT])"))
        elif cmd == "raw":
            out(c.fetch(uid, "(BODY.PEEK[])"))
        elif cmd == "flags":
            resp = c.fetch(uid, "(FLAGS)")
            mo = re.search(rb"FLAGS \(([^)]*)\)", resp)
            # \Recent depends on which session saw the message first
            flags = [f for f in (mo.group(1).split() if mo else []) if f != rb"\Recent"]
            out(b" ".join(flags))
        elif cmd == "store":
            op = {"+": "+FLAGS.SILENT", "-": "-FLAGS.SILENT", "=": "FLAGS.SILENT"}.get(args[1])
            if op is None:
                raise Usage("store: OP must be +, - or =")
            check(*c.m.uid("STORE", str(uid), op, "(%s)" % " ".join(args[2:])), "STORE")
            out("ok")
        elif cmd == "copy":
            check(*c.m.uid("COPY", str(uid), mbox(args[1])), "COPY")
            out("ok")
        elif cmd == "move":
            check(*c.m.uid("MOVE", str(uid), mbox(args[1])), "MOVE")
            out("ok")
    else:
        raise Usage("unknown command " + cmd)


def main(argv):
    host, port, mailbox, wait = "127.0.0.1", os.environ.get("TB_IMAP_PORT"), "INBOX", 0.0
    opts = {"-H": "host", "-p": "port", "-m": "mailbox", "-w": "wait"}
    while argv and argv[0] in opts:
        if len(argv) < 2:
            raise Usage("option %s needs a value" % argv[0])
        name, value = opts[argv[0]], argv[1]
        argv = argv[2:]
        if name == "host":
            host = value
        elif name == "port":
            port = value
        elif name == "mailbox":
            mailbox = value
        else:
            wait = float(value)
    if len(argv) < 3:
        raise Usage("USER PASSWORD COMMAND needed")
    if not port:
        raise Usage("no port: give -p or set TB_IMAP_PORT")
    user, password, cmd, args = argv[0], argv[1], argv[2], argv[3:]
    c = Client(host, int(port), user, password, mailbox, wait)
    try:
        run(c, cmd, args)
    finally:
        try:
            c.m.logout()
        except (imaplib.IMAP4.error, OSError):
            pass
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main(sys.argv[1:]))
    except Usage as e:
        print("imap.py: %s\n%s" % (e, __doc__.split("\n\n")[1]), file=sys.stderr)
        sys.exit(EXIT_USAGE)
    except NotFound:
        print("imap.py: not found", file=sys.stderr)
        sys.exit(EXIT_NOTFOUND)
    except (imaplib.IMAP4.error, OSError, ValueError) as e:
        print("imap.py: %s" % e, file=sys.stderr)
        sys.exit(EXIT_ERROR)
