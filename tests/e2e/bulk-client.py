#!/usr/bin/env python3
"""bulk-client.py -- submit a mail the way a recruiter's mail client does
(tests/e2e/bulk-mail.sh, template-send.sh): SMTP AUTH PLAIN on the
submission port, the recipients in the envelope only (Bcc is never in the
header a client sends), a Japanese subject and body in ISO-2022-JP with merge
tags, optionally a PDF attachment and an attached CSV of recipients.

usage: bulk-client.py PORT USER PASSWORD RCPTS MSGID SUBJECT BODY
                      [--pdf] [--csv FILE] [--to HEADER-VALUE] [--raw FILE]
  RCPTS   comma-separated envelope recipients (the command addresses too)
  --raw   send FILE (an RFC 5322 message) as it is instead of composing one

Prints the server's reply to the end of DATA ("250 ..."), or to the command
it refused ("550 5.7.1 ..."); exit 0 either way, 1 when it could not talk.
"""
import email.policy
import smtplib
import sys
from email.header import Header
from email.message import EmailMessage
from email.utils import formatdate


def compose(user, msgid, subject, body, to, pdf, csv):
    m = EmailMessage(policy=email.policy.SMTP)
    m["From"] = "Alice Recruiter <%s>" % user
    m["To"] = to
    m["Subject"] = Header(subject, "iso-2022-jp").encode()
    m["Date"] = formatdate(localtime=True)
    m["Message-ID"] = msgid
    m["MIME-Version"] = "1.0"
    m.set_content(body.encode("iso-2022-jp"), maintype="text", subtype="plain",
                  cte="7bit", params={"charset": "iso-2022-jp"})
    if pdf:
        m.add_attachment(b"%PDF-1.4\n% atsmail bulk test\n" + bytes(range(256)) * 8,
                         maintype="application", subtype="pdf", filename="guide.pdf")
    if csv:
        with open(csv, "rb") as f:
            m.add_attachment(f.read(), maintype="text", subtype="csv",
                             filename="recipients.csv")
    return m.as_bytes()


def main(argv):
    args = argv[1:]
    opts = {"--pdf": False, "--csv": None, "--to": "undisclosed-recipients:;", "--raw": None}
    pos = []
    while args:
        a = args.pop(0)
        if a == "--pdf":
            opts[a] = True
        elif a in opts:
            opts[a] = args.pop(0)
        else:
            pos.append(a)
    if len(pos) != 7:
        print(__doc__, file=sys.stderr)
        return 2
    port, user, pw, rcpts, msgid, subject, body = pos
    if opts["--raw"]:
        with open(opts["--raw"], "rb") as f:
            data = f.read()
    else:
        data = compose(user, msgid, subject, body.replace("\\n", "\n"), opts["--to"],
                       opts["--pdf"], opts["--csv"])
    try:
        s = smtplib.SMTP("127.0.0.1", int(port), timeout=120)
        s.ehlo("client.e2e.test")
        s.login(user, pw)
        s.mail(user)
        for r in rcpts.split(","):
            code, text = s.rcpt(r)
            if code >= 400:
                print("%d %s" % (code, text.decode(errors="replace")))
                s.quit()
                return 0
        code, text = s.data(data)
        print("%d %s" % (code, text.decode(errors="replace")))
        s.quit()
    except smtplib.SMTPDataError as e:
        print("%d %s" % (e.smtp_code, e.smtp_error.decode(errors="replace")))
    except (OSError, smtplib.SMTPException) as e:
        print("error: %s" % e)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
