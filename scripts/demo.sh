#!/bin/bash
# demo.sh -- set everything up on a fresh Debian 12 machine and play the
# recruiter's story on atsmail's private test bed.
#
#   sudo scripts/demo.sh
#
# Installs the packages, builds, starts private PostgreSQL, Postfix (with
# atsmail-milter) and Dovecot on loopback under a temporary directory,
# applies the data model with sample records (tests/data/seed.sql), then:
# recruiter alice, in her ordinary mail client (here: swaks over SMTP
# submission with AUTH), sends a Japanese (ISO-2022-JP) job offer to the
# candidate taro with ats+job.3001 and ats+phase.interview1 in Bcc; taro
# reads it over IMAP (no command addresses, an X-ATS-Ref tag); the database
# shows the recorded mail, the new selection process and the phase history.
# The Dovecot plugin (replies, bounces, intake: issue 4) extends the story.
# The test bed is stopped and removed at the end (DEMO_KEEP=1 keeps it).
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
[ "$(id -u)" = 0 ] || { echo "demo.sh: run as root (it installs packages and runs the test bed)" >&2; exit 1; }
[ "${ATSM_SKIP_INSTALL:-0}" = 1 ] || scripts/install-deps.sh
echo "== building"
autoreconf -fi >/dev/null 2>&1
mkdir -p build
[ -f build/Makefile ] || (cd build && ../configure -q)
make -C build -j"$(nproc)" >/dev/null

tb=$(mktemp -d /tmp/atsm-demo.XXXXXX)
chmod 755 "$tb"
milter_pid=
cleanup() {
	[ -n "$milter_pid" ] && kill "$milter_pid" 2>/dev/null && sleep 1 || true
	tests/testbed/testbed.sh stop "$tb/bed" >/dev/null 2>&1 || true
	if [ "${DEMO_KEEP:-0}" = 1 ]; then echo "(test bed kept in $tb)"; else rm -rf "$tb"; fi
}
trap cleanup EXIT

echo "== starting atsmail-milter and the test bed (PostgreSQL, Postfix, Dovecot) in $tb"
head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n' >"$tb/secret"; echo >>"$tb/secret"
chmod 600 "$tb/secret"
export TB_POSTFIX_MILTERS="unix:$tb/milter.sock"
tests/testbed/testbed.sh start "$tb/bed" pg postfix dovecot
. "$tb/bed/testbed.env"
cat >"$tb/atsmail.conf" <<CONF
db_conninfo = host=$TB_PGHOST port=$TB_PGPORT dbname=$TB_DB user=postgres
ats_domain = ats.atsmail.test
company_domains = atsmail.test
secret_file = $tb/secret
journal_dir = $tb/journal
CONF
build/milter/atsmail-milter -f -c "$tb/atsmail.conf" -p "unix:$tb/milter.sock" -P "$tb/milter.pid" \
	>"$tb/milter.log" 2>&1 </dev/null &
for _ in $(seq 1 100); do [ -S "$tb/milter.sock" ] && [ -s "$tb/milter.pid" ] && break; sleep 0.05; done
milter_pid=$(cat "$tb/milter.pid")

echo "== applying the data model and loading sample records"
build/ctl/atsmailctl --db "$TB_PG_ADMIN" --sql-dir sql db migrate
psql "$TB_PG_ADMIN" -qAt -f tests/data/seed.sql >/dev/null
q() { psql "$TB_PG_ADMIN" -qAt -F ' | ' -c "$1"; }

echo
echo "== alice@atsmail.test sends a job offer to taro@candidate.test"
echo "   Bcc: ats+job.3001@ats.atsmail.test, ats+phase.interview1@ats.atsmail.test"
mid="<demo-$(date +%s)@atsmail.test>"
python3 - "$TB_SUBMISSION_PORT" "$mid" <<'PY'
import smtplib, sys
from email.header import Header
port, mid = int(sys.argv[1]), sys.argv[2]
body = "山田太郎様\r\n\r\nAcme社 営業職の一次面接のご案内です。\r\n".encode("iso-2022-jp")
msg = ("From: Alice <alice@atsmail.test>\r\nTo: " + Header("山田太郎", "iso-2022-jp").encode()
       + " <taro@candidate.test>\r\nSubject: " + Header("一次面接のご案内", "iso-2022-jp").encode()
       + "\r\nMessage-ID: " + mid + "\r\nMIME-Version: 1.0\r\n"
       + "Content-Type: text/plain; charset=ISO-2022-JP\r\nContent-Transfer-Encoding: 7bit\r\n\r\n").encode() + body
s = smtplib.SMTP("127.0.0.1", port)
s.login("alice@atsmail.test", "alicepw")
s.sendmail("alice@atsmail.test", ["taro@candidate.test", "ats+job.3001@ats.atsmail.test",
           "ats+phase.interview1@ats.atsmail.test"], msg)
s.quit()
PY
imap() { python3 tests/testbed/imap.py -p "$TB_IMAP_PORT" "$@"; }
echo
echo "== taro reads his mailbox over IMAP"
imap -w 20 taro@candidate.test taropw find "$mid" >/dev/null
echo "   Subject:   $(imap taro@candidate.test taropw subject "$mid")"
echo "   To:        $(imap taro@candidate.test taropw header "$mid" To)"
echo "   X-ATS-Ref: $(imap taro@candidate.test taropw header "$mid" X-ATS-Ref)"
if imap taro@candidate.test taropw headers "$mid" | grep -qi 'ats+'; then
	echo "   (command addresses visible: unexpected)"
else
	echo "   no command address is visible to taro"
fi

echo
echo "== what atsmail recorded"
echo "-- the message (owner | visibility | reason | subject)"
q "SELECT u.login, m.visibility, m.visibility_reason, m.subject FROM atsmail.messages m
   JOIN atsmail.users u ON u.id = m.owner_id WHERE m.rfc_message_id = '${mid:1:${#mid}-2}'"
echo "-- its links (kind | id | rule)"
q "SELECT l.target_kind, l.target_id, l.rule FROM atsmail.message_links l
   JOIN atsmail.messages m ON m.id = l.message_id
   WHERE m.rfc_message_id = '${mid:1:${#mid}-2}' ORDER BY 1, 2"
echo "-- the selection process of taro (resume 1001) for job 3001 (phase | label | since)"
q "SELECT p.phase, ph.label, p.phase_date FROM atsmail.processes p
   JOIN atsmail.phases ph ON ph.kind = 'process' AND ph.code = p.phase
   WHERE p.resume_id = 1001 AND p.job_id = 3001"
echo "-- phase history (kind | from | to | cause | by)"
q "SELECT h.kind, coalesce(h.from_phase, '-'), h.to_phase, h.cause, u.login
   FROM atsmail.phase_history h LEFT JOIN atsmail.users u ON u.id = h.actor_id ORDER BY h.id"
echo "-- audit log is intact"
q "SELECT ok, checked FROM atsmail.audit_verify()"
