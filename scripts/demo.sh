#!/bin/bash
# demo.sh -- set everything up on a fresh Debian 12 machine and play the
# recruiter's story on atsmail's private test bed.
#
#   sudo scripts/demo.sh          (ATSM_SKIP_INSTALL=1: the packages are there;
#                                  DEMO_KEEP=1: keep the test bed afterwards)
#
# Installs the packages, builds, starts private PostgreSQL, Postfix and
# Dovecot on loopback under a temporary directory, with atsmaild beside
# them (Postfix's milter is its milter socket, the Dovecot plugin asks it on
# its filing socket), applies the data model with sample records
# (tests/data/seed.sql, seed-inbound.sql), then plays the recruiter's story:
#  1. recruiter alice, in her ordinary mail client (here: SMTP submission with
#     AUTH), sends a Japanese (ISO-2022-JP) job offer to the candidate taro
#     with ats+job.3001 and ats+phase.screening in Bcc; taro reads it over IMAP
#     (no command addresses, an X-ATS-Ref tag);
#  2. taro replies in Japanese (ISO-2022-JP): atsmaild files the reply on his
#     resume (alice's client shows the keyword $ATS) and the phase rules move
#     him on;
#  3. alice writes to a candidate whose address no longer exists: Postfix
#     bounces it, and the sent item's recipient is marked bounced;
#  4. a newcomer writes to the intake address recruit@: a new resume;
#  5. PostgreSQL stops.  alice sends an offer to hanako (ats+job.3002), hanako
#     replies at once, and a mail showing taro and hanako to each other is
#     refused: atsmaild decides all three from its local snapshot and
#     journals the two it accepts.  PostgreSQL comes back and the recorder
#     records them, exactly once;
# then prints taro's and hanako's mail history, the phase history, the new
# record and the bounce, and stops atsmaild and the test bed.  The test bed
# is removed at the end (DEMO_KEEP=1 keeps it).
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
ctl=build/ctl/atsmailctl

# ------------------------------------------------------------ the test bed
# $tb/bed: PostgreSQL, Postfix, Dovecot (tests/testbed/testbed.sh);
# $tb/atsmaild: atsmaild's configuration, secret, sockets, journal, snapshot.
tb=$(mktemp -d /tmp/atsm-demo.XXXXXX)
chmod 755 "$tb"
ad=$tb/atsmaild
ad_pid= ad_rc=
stop_atsmaild() {
	[ -n "$ad_pid" ] || return 0
	kill -TERM "$ad_pid" 2>/dev/null || true
	for _ in $(seq 1 300); do kill -0 "$ad_pid" 2>/dev/null || break; sleep 0.05; done
	kill -0 "$ad_pid" 2>/dev/null && { echo "(atsmaild did not stop: killed)"; kill -KILL "$ad_pid"; }
	ad_rc=0; wait "$ad_pid" 2>/dev/null || ad_rc=$?
	ad_pid=
}
cleanup() {
	local rc=$?
	if [ "$rc" != 0 ] && [ -s "$ad/atsmaild.log" ]; then
		echo "demo.sh: stopped early (exit $rc); the last lines of atsmaild's log:" >&2
		tail -5 "$ad/atsmaild.log" >&2
	fi
	stop_atsmaild
	tests/testbed/testbed.sh stop "$tb/bed" >/dev/null 2>&1 || true
	if [ "${DEMO_KEEP:-0}" = 1 ]; then
		echo "(kept in $tb: atsmaild/ holds its configuration, log, journal and snapshot;"
		echo " bed/ the test bed's data and logs, stopped -- rm -rf $tb when done)"
	else
		rm -rf "$tb"
	fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

echo "== starting the test bed (PostgreSQL, Postfix, Dovecot) in $tb"
# atsmaild holds the secret, the journal and the snapshot (root's, 0700);
# the Dovecot plugin, running as the test bed's mail user (uid 5000), holds
# nothing but the filing socket's name.
mkdir -p "$ad/modules"
install -d -m 700 "$ad/journal" "$ad/snapshot"
cp build/dovecot-plugin/.libs/lib90_atsmail_plugin.so "$ad/modules/"
head -c 48 /dev/urandom | base64 | tr -d '\n/+=' >"$ad/secret"; chmod 600 "$ad/secret"
export TB_POSTFIX_MILTERS="unix:$ad/milter.sock"
export TB_DOVECOT_PLUGIN_DIR="$ad/modules" TB_DOVECOT_MAIL_PLUGINS=atsmail
export TB_DOVECOT_PLUGIN_SETTINGS="  atsmail_socket = $ad/filing.sock
  atsmail_timeout = 10s"
tests/testbed/testbed.sh start "$tb/bed" pg postfix dovecot
. "$tb/bed/testbed.env"

echo "== applying the data model and loading sample records"
"$ctl" --db "$TB_PG_ADMIN" --sql-dir sql db migrate
psql "$TB_PG_ADMIN" -qAt -f tests/data/seed.sql >/dev/null
psql "$TB_PG_ADMIN" -qAt -f tests/data/seed-inbound.sql >/dev/null
# atsmaild's own login: a writer, nothing more
psql "$TB_PG_ADMIN" -qAt -c "CREATE ROLE atsm_service LOGIN IN ROLE atsmail_writer" >/dev/null
q() { psql "$TB_PG_ADMIN" -qAt -F ' | ' -c "$1"; }

echo "== starting atsmaild (milter for Postfix, filing service for Dovecot)"
cat >"$ad/atsmail.conf" <<CONF
db_conninfo = host=$TB_PGHOST port=$TB_PGPORT dbname=$TB_DB user=atsm_service
db_connect_timeout = 2s
db_statement_timeout = 5s
ats_domain = ats.atsmail.test
company_domains = atsmail.test
secret_file = $ad/secret
milter_socket = unix:$ad/milter.sock
filing_socket = unix:$ad/filing.sock
milter_peers = postfix
filing_peers = 5000
journal_dir = $ad/journal
snapshot_dir = $ad/snapshot
CONF
build/atsmaild/atsmaild -f -c "$ad/atsmail.conf" -P "$ad/atsmaild.pid" </dev/null >"$ad/atsmaild.log" 2>&1 &
ad_pid=$!
ready=0
for _ in $(seq 1 200); do  # 10 s at most: until its snapshot is loaded from PostgreSQL
	kill -0 "$ad_pid" 2>/dev/null || break
	[ -S "$ad/milter.sock" ] && [ -S "$ad/filing.sock" ] &&
		"$ctl" -c "$ad/atsmail.conf" snapshot status >/dev/null 2>&1 && { ready=1; break; }
	sleep 0.05
done
if [ "$ready" != 1 ]; then
	echo "demo.sh: atsmaild did not become ready:" >&2; tail -5 "$ad/atsmaild.log" >&2; exit 1
fi
"$ctl" -c "$ad/atsmail.conf" snapshot status | sed 's/^/   /'

# ------------------------------------------------------------ helpers
# send PORT [--login USER PASSWORD] FROM TO SUBJECT BODY [--bcc ADDR]... [--cc ADDR]...
#      [--id MESSAGE-ID] [--reply-to-id MESSAGE-ID]
# Sends one mail as a mail client does (Bcc only in the envelope); Japanese
# names, subjects and bodies go out as ISO-2022-JP.  Prints "accepted", or
# the server's refusal and exits 1.
send() {
	python3 - "$@" <<'PY'
import smtplib, sys
from email.header import Header
from email.utils import formataddr, parseaddr, getaddresses
a = sys.argv[1:]
port, login, a = int(a[0]), None, a[1:]
if a[0] == "--login":
    login, a = (a[1], a[2]), a[3:]
frm, to, subject, body, a = a[0], a[1], a[2], a[3], a[4:]
bcc, cc, mid, orig = [], [], None, None
while a:
    opt, val, a = a[0], a[1], a[2:]
    if opt == "--bcc": bcc.append(val)
    elif opt == "--cc": cc.append(val)
    elif opt == "--id": mid = val
    elif opt == "--reply-to-id": orig = val
def enc(s):
    return Header(s, "iso-2022-jp").encode() if not s.isascii() else s
def addrs(s):
    return ", ".join(formataddr(p, charset="iso-2022-jp") for p in getaddresses([s]))
head = "From: " + addrs(frm) + "\r\nTo: " + addrs(to) + "\r\n"
if cc: head += "Cc: " + addrs(", ".join(cc)) + "\r\n"
head += "Subject: " + enc(subject) + "\r\n"
if mid: head += "Message-ID: " + mid + "\r\n"
if orig: head += "In-Reply-To: " + orig + "\r\nReferences: " + orig + "\r\n"
head += "MIME-Version: 1.0\r\nContent-Type: text/plain; charset=ISO-2022-JP\r\n" \
        "Content-Transfer-Encoding: 7bit\r\n\r\n"
msg = head.encode() + body.replace("\n", "\r\n").encode("iso-2022-jp") + b"\r\n"
rcpts = [x for _, x in getaddresses([to] + cc)] + bcc
s = smtplib.SMTP("127.0.0.1", port)
try:
    if login: s.login(*login)
    s.sendmail(parseaddr(frm)[1], rcpts, msg)
    print("   -> accepted")
except smtplib.SMTPRecipientsRefused as e:
    for r, (code, text) in e.recipients.items():
        print("   -> refused at RCPT %s: %d %s" % (r, code, text.decode(errors="replace")))
    sys.exit(1)
except smtplib.SMTPResponseException as e:
    print("   -> refused: %d %s" % (e.smtp_code, e.smtp_error.decode(errors="replace")))
    sys.exit(1)
finally:
    try: s.quit()
    except smtplib.SMTPException: pass
PY
}
imap() { python3 tests/testbed/imap.py -p "$TB_IMAP_PORT" "$@"; }
# a header as a mail client shows it (RFC 2047 words decoded)
decoded() {
	python3 -c 'import sys, email.header as h; print(h.make_header(h.decode_header(sys.argv[1])))' "$1"
}
# poll until QUERY prints WANT (20 s at most)
sqlwait() {
	for _ in $(seq 1 200); do
		[ "$(psql "$TB_PG_ADMIN" -qAt -c "$1" 2>/dev/null)" = "$2" ] && return 0
		sleep 0.1
	done
	echo "   (gave up waiting for: $1)"; return 1
}
# entries of atsmaild's journal that the recorder has not recorded yet
journal_waiting() {
	local seg=0 off=0 n=0 f s
	[ -s "$ad/journal/atsmaild.checkpoint" ] && read -r seg off <"$ad/journal/atsmaild.checkpoint"
	for f in "$ad"/journal/atsmaild.*.jsonl; do
		s=${f##*/atsmaild.}; s=${s%.jsonl}
		case $s in *[!0-9a-f]*) continue ;; esac  # not a segment (rejected.jsonl)
		if [ "$s" = "$seg" ]; then
			n=$((n + $(tail -c +$((off + 1)) "$f" | wc -l)))
		elif [[ $s > $seg ]]; then
			n=$((n + $(wc -l <"$f")))
		fi
	done
	echo "$n"
}
stamp=$(date +%s).$$
offer_mid="<offer-$stamp@atsmail.test>"
reply_mid="<reply-$stamp@candidate.test>"

# ------------------------------------------------------------ the story
echo
echo "== 1. alice@atsmail.test sends a job offer to taro@candidate.test"
echo "   Subject: 一次面接のご案内   (ISO-2022-JP)"
echo "   Bcc: ats+job.3001@ats.atsmail.test, ats+phase.screening@ats.atsmail.test"
send "$TB_SUBMISSION_PORT" --login alice@atsmail.test alicepw \
	"Alice <alice@atsmail.test>" "山田太郎 <taro@candidate.test>" "一次面接のご案内" \
	"山田太郎様

Acme社 営業職の一次面接のご案内です。" \
	--bcc ats+job.3001@ats.atsmail.test --bcc ats+phase.screening@ats.atsmail.test --id "$offer_mid"
echo "   taro reads his mailbox over IMAP:"
imap -w 20 taro@candidate.test taropw find "$offer_mid" >/dev/null
echo "     Subject:   $(imap taro@candidate.test taropw subject "$offer_mid")"
echo "     To:        $(decoded "$(imap taro@candidate.test taropw header "$offer_mid" To)")"
echo "     X-ATS-Ref: $(imap taro@candidate.test taropw header "$offer_mid" X-ATS-Ref)"
if imap taro@candidate.test taropw headers "$offer_mid" | grep -qi 'ats+'; then
	echo "     (a command address is visible: unexpected)"
else
	echo "     no command address is visible to taro"
fi

echo
echo "== 2. taro replies in Japanese (ISO-2022-JP) from his own mail client"
echo "   Subject: Re: 一次面接のご案内"
send "$TB_SMTP_PORT" "山田太郎 <taro@candidate.test>" "alice@atsmail.test" "Re: 一次面接のご案内" \
	"お世話になっております。山田です。
一次面接の件、ぜひよろしくお願いいたします。" --id "$reply_mid" --reply-to-id "$offer_mid"
echo "   alice's mail client shows the reply with the keywords:" \
	"$(imap -w 20 alice@atsmail.test alicepw flags "$reply_mid")"
sqlwait "SELECT count(*) FROM atsmail.messages WHERE rfc_message_id = '${reply_mid:1:-1}'" 1
echo "   recorded; taro's process for job 3001 is now:" \
	"$(q "SELECT phase FROM atsmail.processes WHERE resume_id = 1001 AND job_id = 3001")"

echo
echo "== 3. alice writes to saburo@candidate.test, whose mailbox no longer exists"
send "$TB_SUBMISSION_PORT" --login alice@atsmail.test alicepw \
	"alice@atsmail.test" "saburo@candidate.test" "Interview" "Hello."
sqlwait "SELECT count(*) FROM atsmail.message_recipients WHERE address = 'saburo@candidate.test' AND status = 'bounced'" 1
bounce_uid=$(imap -w 20 alice@atsmail.test alicepw search 'KEYWORD $ATSBounce')
echo "   Postfix bounced it; alice's mail client shows the bounce with the keywords:" \
	"$(imap alice@atsmail.test alicepw flags "uid:${bounce_uid##* }")"
echo "   and saburo's address is marked bounced on the sent item"

echo
echo "== 4. a newcomer, shiro.kato@example.org, writes to the intake address recruit@atsmail.test"
intake_mid="<apply-$stamp@example.org>"
send "$TB_SMTP_PORT" "加藤四郎 <shiro.kato@example.org>" "recruit@atsmail.test" "営業職への応募" \
	"履歴書を添付いたします。" --id "$intake_mid"
echo "   the recruit@ mailbox shows it with the keywords:" \
	"$(imap -w 20 recruit@atsmail.test recruitpw flags "$intake_mid")"
sqlwait "SELECT count(*) FROM atsmail.addresses WHERE addr_norm = 'shiro.kato@example.org' AND owner_kind = 'resume'" 1
echo "   a new resume is recorded for him"

echo
echo "== 5. PostgreSQL stops (a database outage); the mail goes on"
tests/testbed/testbed.sh pg-stop "$tb/bed"
offer2_mid="<offer2-$stamp@atsmail.test>"
reply2_mid="<reply2-$stamp@candidate.test>"
echo "-- alice sends an offer to hanako@candidate.test, Bcc ats+job.3002, ats+phase.screening"
send "$TB_SUBMISSION_PORT" --login alice@atsmail.test alicepw \
	"Alice <alice@atsmail.test>" "佐藤花子 <hanako@candidate.test>" "書類選考のご案内" \
	"佐藤花子様

Acme社 経理職の書類選考を開始いたします。" \
	--bcc ats+job.3002@ats.atsmail.test --bcc ats+phase.screening@ats.atsmail.test --id "$offer2_mid"
echo "   hanako's mailbox shows it with X-ATS-Ref:" \
	"$(imap -w 20 hanako@candidate.test hanakopw header "$offer2_mid" X-ATS-Ref)"
echo "-- hanako replies at once"
send "$TB_SMTP_PORT" "佐藤花子 <hanako@candidate.test>" "alice@atsmail.test" "Re: 書類選考のご案内" \
	"ご連絡ありがとうございます。よろしくお願いいたします。" --id "$reply2_mid" --reply-to-id "$offer2_mid"
echo "   alice's mail client shows the reply with the keywords:" \
	"$(imap -w 20 alice@atsmail.test alicepw flags "$reply2_mid")"
echo "   (filed against the offer PostgreSQL has not seen yet)"
echo "-- alice writes to taro and hanako in one mail, both in To; her mail client says:"
send "$TB_SUBMISSION_PORT" --login alice@atsmail.test alicepw \
	"Alice <alice@atsmail.test>" "taro@candidate.test, hanako@candidate.test" "面接日程" \
	"皆様、面接日程のご案内です。" || true
echo "-- meanwhile: the database has none of it; atsmaild's journal holds" \
	"$(journal_waiting) mails for the recorder"
q "SELECT 1" >/dev/null 2>&1 && echo "   (PostgreSQL answers: unexpected)"
for _ in $(seq 1 50); do grep -q 'mail stays in the journal' "$ad/atsmaild.log" && break; sleep 0.1; done
echo "   atsmaild's log:"
sed -n -e 's/.*\(snapshot: lost the database connection\).*\(decisions use.*\)/     \1: \2/p' \
	-e 's/.*recorder: the database is unavailable.*\(mail stays in the journal.*\)/     recorder: \1/p' \
	"$ad/atsmaild.log"

echo
echo "== PostgreSQL starts again; the recorder catches up"
tests/testbed/testbed.sh pg-start "$tb/bed"
sqlwait "SELECT count(*) FROM atsmail.messages WHERE rfc_message_id IN ('${offer2_mid:1:-1}', '${reply2_mid:1:-1}')" 2
for _ in $(seq 1 100); do [ "$(journal_waiting)" = 0 ] && break; sleep 0.1; done
echo "   the journal holds $(journal_waiting) mails for the recorder"
echo "-- each arrived exactly once: Message-ID | direction | times recorded"
q "SELECT rfc_message_id, direction, count(*) FROM atsmail.messages
   WHERE rfc_message_id IN ('${offer2_mid:1:-1}', '${reply2_mid:1:-1}')
   GROUP BY 1, 2 ORDER BY 2 DESC"

# ------------------------------------------------------------ the records
echo
echo "================ what a recruiter reads ================"
for r in "1001 taro" "1002 hanako"; do
	set -- $r
	echo "-- $2's mail history (resume $1): when | direction | from/to | subject | visibility"
	q "SELECT to_char(coalesce(m.sent_at, m.received_at, m.created_at), 'YYYY-MM-DD HH24:MI'),
	          CASE m.direction WHEN 'out' THEN 'sent  ->' ELSE 'reply <-' END,
	          array_to_string(m.counterparts, ', '), m.subject, m.visibility
	   FROM atsmail.messages m JOIN atsmail.message_links l ON l.message_id = m.id
	   WHERE l.target_kind = 'resume' AND l.target_id = $1 ORDER BY m.id"
done
echo "-- phase history: record | from | to | cause | user"
q "SELECT h.kind || ' ' || h.record_id, coalesce(h.from_phase, '-'), h.to_phase, h.cause,
          coalesce(u.login, '-')
   FROM atsmail.phase_history h LEFT JOIN atsmail.users u ON u.id = h.actor_id ORDER BY h.id"
echo "-- selection processes: candidate | job | phase | label"
q "SELECT r.name, p.job_id, p.phase, ph.label FROM atsmail.processes p
   JOIN atsmail.resumes r ON r.id = p.resume_id
   JOIN atsmail.phases ph ON ph.kind = 'process' AND ph.code = p.phase
   WHERE (p.resume_id, p.job_id) IN ((1001, 3001), (1002, 3002)) ORDER BY p.id"
echo "-- the record created from intake mail: resume | name | address | phase"
q "SELECT r.id, r.name, a.addr_norm, r.phase FROM atsmail.resumes r
   JOIN atsmail.addresses a ON a.owner_kind = 'resume' AND a.owner_id = r.id
   WHERE r.created_from = 'mail'"
echo "-- the bounce: address | status | code | diagnostic"
q "SELECT address, status, status_code, left(diagnostic, 70) FROM atsmail.message_recipients
   WHERE status = 'bounced'"
echo "-- the audit log is intact: ok | rows checked"
q "SELECT ok, checked FROM atsmail.audit_verify()"

echo
echo "== stopping atsmaild"
stop_atsmaild
echo "   exit status $ad_rc; $(grep -o 'recorder: [0-9]* batches.*' "$ad/atsmaild.log" | tail -1)"
