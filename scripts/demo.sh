#!/bin/bash
# demo.sh -- set everything up on a fresh Debian 12 machine and play the
# recruiter's story on atsmail's private test bed.
#
#   sudo scripts/demo.sh
#
# Installs the packages, builds, starts private PostgreSQL, Postfix (with
# atsmail-milter) and Dovecot (with the atsmail plugin) on loopback under a
# temporary directory, applies the data model with sample records
# (tests/data/seed.sql, seed-inbound.sql), then plays the recruiter's story:
#  1. recruiter alice, in her ordinary mail client (here: SMTP submission with
#     AUTH), sends a Japanese (ISO-2022-JP) job offer to the candidate taro
#     with ats+job.3001 and ats+phase.screening in Bcc; taro reads it over IMAP
#     (no command addresses, an X-ATS-Ref tag);
#  2. taro replies in Japanese (ISO-2022-JP): the plugin files the reply on
#     his resume and the phase rules move him on;
#  3. alice writes to a candidate whose address no longer exists: Postfix
#     bounces it, and the plugin marks the sent item's recipient bounced;
#  4. a newcomer writes to the intake address recruit@: a new resume;
# then prints taro's mail history, the phase history, the new record and the
# bounce, and the IMAP keywords alice's mail client shows.
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
	# libmilter needs a few seconds to leave its accept loop after SIGTERM
	if [ -n "$milter_pid" ] && kill "$milter_pid" 2>/dev/null; then
		for _ in $(seq 1 150); do kill -0 "$milter_pid" 2>/dev/null || break; sleep 0.1; done
	fi
	tests/testbed/testbed.sh stop "$tb/bed" >/dev/null 2>&1 || true
	if [ "${DEMO_KEEP:-0}" = 1 ]; then echo "(test bed kept in $tb)"; else rm -rf "$tb"; fi
}
trap cleanup EXIT

echo "== starting atsmail-milter and the test bed (PostgreSQL, Postfix, Dovecot) in $tb"
# The plugin runs as the mail user (uid 5000 in the test bed): it must read
# the secret and the configuration and write its journal.
mkdir -p "$tb/modules" "$tb/journal"
cp build/dovecot-plugin/.libs/lib90_atsmail_plugin.so "$tb/modules/"
head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n' >"$tb/secret"; echo >>"$tb/secret"
chown 5000:5000 "$tb/secret" "$tb/journal"; chmod 600 "$tb/secret"; chmod 700 "$tb/journal"
: >"$tb/atsmail.conf"; chmod 644 "$tb/atsmail.conf"
export TB_POSTFIX_MILTERS="unix:$tb/milter.sock"
export TB_DOVECOT_PLUGIN_DIR="$tb/modules" TB_DOVECOT_MAIL_PLUGINS=atsmail
export TB_DOVECOT_PLUGIN_SETTINGS="  atsmail_config = $tb/atsmail.conf"
tests/testbed/testbed.sh start "$tb/bed" pg postfix dovecot
. "$tb/bed/testbed.env"
cat >"$tb/atsmail.conf" <<CONF
db_conninfo = host=127.0.0.1 port=$TB_PGPORT dbname=$TB_DB user=postgres
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
psql "$TB_PG_ADMIN" -qAt -f tests/data/seed-inbound.sql >/dev/null
q() { psql "$TB_PG_ADMIN" -qAt -F ' | ' -c "$1"; }

echo
echo "== alice@atsmail.test sends a job offer to taro@candidate.test"
echo "   Bcc: ats+job.3001@ats.atsmail.test, ats+phase.screening@ats.atsmail.test"
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
           "ats+phase.screening@ats.atsmail.test"], msg)
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

sqlwait() {  # sqlwait QUERY WANT: poll until the query prints WANT (20 s at most)
	for _ in $(seq 1 200); do [ "$(psql "$TB_PG_ADMIN" -qAt -c "$1")" = "$2" ] && return 0; sleep 0.1; done
	echo "   (still waiting for: $1)"; return 1
}

echo
echo "== taro replies in Japanese (ISO-2022-JP) from his own mail client"
reply_mid="<reply-$(date +%s)@candidate.test>"
python3 - "$TB_SMTP_PORT" "$mid" "$reply_mid" <<'PY'
import smtplib, sys
from email.header import Header
port, orig, mid = int(sys.argv[1]), sys.argv[2], sys.argv[3]
body = "お世話になっております。山田です。\r\n一次面接の件、ぜひよろしくお願いいたします。\r\n".encode("iso-2022-jp")
msg = ("From: " + Header("山田太郎", "iso-2022-jp").encode() + " <taro@candidate.test>\r\n"
       "To: alice@atsmail.test\r\nSubject: " + Header("Re: 一次面接のご案内", "iso-2022-jp").encode()
       + "\r\nMessage-ID: " + mid + "\r\nIn-Reply-To: " + orig + "\r\nReferences: " + orig
       + "\r\nMIME-Version: 1.0\r\nContent-Type: text/plain; charset=ISO-2022-JP\r\n\r\n").encode() + body
s = smtplib.SMTP("127.0.0.1", port)
s.sendmail("taro@candidate.test", ["alice@atsmail.test"], msg)
s.quit()
PY
sqlwait "SELECT count(*) FROM atsmail.messages WHERE rfc_message_id = '${reply_mid:1:${#reply_mid}-2}'" 1
echo "   alice's mail client shows the reply with the keywords:" \
	"$(imap -w 20 alice@atsmail.test alicepw flags "$reply_mid")"

echo
echo "== alice writes to saburo@candidate.test, whose mailbox no longer exists"
python3 - "$TB_SUBMISSION_PORT" <<'PY'
import smtplib, sys
s = smtplib.SMTP("127.0.0.1", int(sys.argv[1]))
s.login("alice@atsmail.test", "alicepw")
s.sendmail("alice@atsmail.test", ["saburo@candidate.test"],
           b"From: alice@atsmail.test\r\nTo: saburo@candidate.test\r\nSubject: Interview\r\n\r\nHello.\r\n")
s.quit()
PY
sqlwait "SELECT count(*) FROM atsmail.message_recipients WHERE address = 'saburo@candidate.test' AND status = 'bounced'" 1
echo "   Postfix bounced it; the plugin marked the sent item's recipient bounced"

echo
echo "== a newcomer writes to the intake address recruit@atsmail.test"
python3 - "$TB_SMTP_PORT" <<'PY'
import smtplib, sys
from email.header import Header
msg = ("From: " + Header("加藤四郎", "iso-2022-jp").encode() + " <shiro.kato@example.org>\r\n"
       "To: recruit@atsmail.test\r\nSubject: " + Header("営業職への応募", "iso-2022-jp").encode()
       + "\r\nMIME-Version: 1.0\r\nContent-Type: text/plain; charset=ISO-2022-JP\r\n\r\n").encode() \
      + "履歴書を添付いたします。\r\n".encode("iso-2022-jp")
s = smtplib.SMTP("127.0.0.1", int(sys.argv[1]))
s.sendmail("shiro.kato@example.org", ["recruit@atsmail.test"], msg)
s.quit()
PY
sqlwait "SELECT count(*) FROM atsmail.addresses WHERE addr_norm = 'shiro.kato@example.org' AND owner_kind = 'resume'" 1

echo
echo "================ what a recruiter reads ================"
echo "-- taro's mail history (resume 1001): when | direction | from/to | subject | visibility"
q "SELECT to_char(coalesce(m.sent_at, m.received_at, m.created_at), 'YYYY-MM-DD HH24:MI'),
          CASE m.direction WHEN 'out' THEN 'sent  ->' ELSE 'reply <-' END,
          array_to_string(m.counterparts, ', '), m.subject, m.visibility
   FROM atsmail.messages m JOIN atsmail.message_links l ON l.message_id = m.id
   WHERE l.target_kind = 'resume' AND l.target_id = 1001 ORDER BY m.id"
echo "-- phase history: record | from | to | cause | by"
q "SELECT h.kind || ' ' || h.record_id, coalesce(h.from_phase, '-'), h.to_phase, h.cause,
          coalesce(u.login, 'rule')
   FROM atsmail.phase_history h LEFT JOIN atsmail.users u ON u.id = h.actor_id ORDER BY h.id"
echo "-- taro's selection process for job 3001: phase | label"
q "SELECT p.phase, ph.label FROM atsmail.processes p
   JOIN atsmail.phases ph ON ph.kind = 'process' AND ph.code = p.phase
   WHERE p.resume_id = 1001 AND p.job_id = 3001"
echo "-- the record created from intake mail: resume | name | address | phase"
q "SELECT r.id, r.name, a.addr_norm, r.phase FROM atsmail.resumes r
   JOIN atsmail.addresses a ON a.owner_kind = 'resume' AND a.owner_id = r.id
   WHERE r.created_from = 'mail'"
echo "-- the bounce: address | status | code | diagnostic"
q "SELECT address, status, status_code, left(diagnostic, 70) FROM atsmail.message_recipients
   WHERE status = 'bounced'"
echo "-- the audit log is intact: ok | rows checked"
q "SELECT ok, checked FROM atsmail.audit_verify()"
