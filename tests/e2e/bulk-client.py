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
import smtplib
import sys
from email.header import Header
from email.mime.application import MIMEApplication
from email.mime.multipart import MIMEMultipart
from email.mime.text import MIMEText
from email.utils import formatdate


def compose(user, msgid, subject, body, to, pdf, csv):
    # compat32 classes keep the ISO-2022-JP encoding a Japanese client uses
    text = MIMEText(body.encode("iso-2022-jp"), "plain", "iso-2022-jp")
    text.replace_header("Content-Transfer-Encoding", "7bit")
    text.set_payload(body.encode("iso-2022-jp"))
    if pdf or csv:
        m = MIMEMultipart()
        m.attach(text)
        if pdf:
            a = MIMEApplication(b"%PDF-1.4\n% atsmail bulk test\n" + bytes(range(256)) * 8, "pdf")
            a.add_header("Content-Disposition", "attachment", filename="guide.pdf")
            m.attach(a)
        if csv:
            with open(csv, "rb") as f:
                a = MIMEApplication(f.read(), "csv")
            a.replace_header("Content-Type", "text/csv")
            a.add_header("Content-Disposition", "attachment", filename="recipients.csv")
            m.attach(a)
    else:
        m = text
    m["From"] = "Alice Recruiter <%s>" % user
    m["To"] = to
    m["Subject"] = Header(subject, "iso-2022-jp").encode()
    m["Date"] = formatdate(localtime=True)
    m["Message-ID"] = msgid
    return m.as_bytes().replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")


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
