#!/usr/bin/env python3
r"""submit-flow.py -- a flow of ATS mail through a submission port, for
tests that stop or kill atsmaild while mail flows
(tests/e2e/atsmaild-restart.sh).

usage: submit-flow.py PORT USER PASSWORD RCPT TAG COUNT SESSIONS [PAUSE_S]

Sends COUNT mails from USER (SMTP AUTH with PASSWORD, no TLS: the test
bed allows it) to RCPT over SESSIONS concurrent clients, a new SMTP
connection for each mail, pausing PAUSE_S (default 0.02) between two mails
of a client.  Mail i has the Message-ID <TAG.i@e2e.test>.  Prints one line
per mail once it is done, "MESSAGE-ID CODE": the server's reply to the end
of DATA (250 when the mail was accepted), or the code that refused it
earlier (MAIL, RCPT, a 421 greeting), or 0 when the connection failed.
Exit 0 once every mail has been tried.
"""
import smtplib
import sys
import threading
import time
from email.utils import formatdate


def one(port, user, password, rcpt, msgid):
    msg = ("From: %s\r\nTo: %s\r\nSubject: Flow %s\r\nMessage-Id: %s\r\nDate: %s\r\n\r\n"
           "About the position.\r\n" % (user, rcpt, msgid, msgid, formatdate()))
    try:
        s = smtplib.SMTP("127.0.0.1", port, timeout=30)
    except smtplib.SMTPConnectError as e:
        return e.smtp_code
    except OSError:
        return 0
    try:
        s.login(user, password)
        s.mail(user)
        code, _ = s.rcpt(rcpt)
        if code >= 400:
            return code
        code, _ = s.data(msg.encode())
        return code
    except smtplib.SMTPResponseException as e:
        return e.smtp_code
    except smtplib.SMTPRecipientsRefused as e:
        return list(e.recipients.values())[0][0]
    except (smtplib.SMTPException, OSError):
        return 0
    finally:
        try:
            s.quit()
        except (smtplib.SMTPException, OSError):
            pass


def main():
    if len(sys.argv) not in (8, 9):
        sys.stderr.write(__doc__)
        return 2
    port, user, password, rcpt, tag = (int(sys.argv[1]), sys.argv[2], sys.argv[3],
                                       sys.argv[4], sys.argv[5])
    count, sessions = int(sys.argv[6]), int(sys.argv[7])
    pause = float(sys.argv[8]) if len(sys.argv) == 9 else 0.02
    lock = threading.Lock()
    next_i = [0]

    def client():
        while True:
            with lock:
                i = next_i[0]
                next_i[0] += 1
            if i >= count:
                return
            msgid = "<%s.%d@e2e.test>" % (tag, i)
            code = one(port, user, password, rcpt, msgid)
            with lock:
                print("%s %d" % (msgid, code), flush=True)
            time.sleep(pause)

    threads = [threading.Thread(target=client) for _ in range(sessions)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return 0


if __name__ == "__main__":
    sys.exit(main())
