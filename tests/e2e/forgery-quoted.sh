#!/bin/bash
# tests/e2e/forgery-quoted.sh -- command addresses in other written forms
# (issue 10, item 4) through the real Postfix of the test bed: alice submits
# (SMTP AUTH) a mail whose commands are written quoted in RCPT
# ("ats+job.3005"@...), in capitals with a trailing dot, as a percent-hack
# route (ats+private%ats.atsmail.test@atsmail.test), quoted with a
# quoted-pair in To ("ats+job\.3005"@...).  A Bcc header the client left
# in the mail (a command in it, with an encoded display name) is removed by
# Postfix before any milter sees it: that command is neither applied nor
# shown (atsmaild would apply it and cut it, tests/milter/scenarios/
# quoted-command.lua, for an MTA that passes Bcc on).  Every one is applied (the process,
# its phase, the private visibility), none reaches the candidate's headers,
# none is delivered or recorded as a recipient.  A malformed quoted command
# and another name at the command domain are refused with 550 5.7.1 and a
# sentence that names the address as it was written; nothing is recorded.
set -u
: "${top_srcdir:=$(cd "$(dirname "$0")/../.." && pwd)}"
: "${top_builddir:=$top_srcdir}"
. "$top_srcdir/tests/e2e/e2e-lib.sh"
. "$top_srcdir/tests/e2e/atsmaild-lib.sh"

[ "$(id -u)" = 0 ] || tap_skip_all "the test bed needs root"

ad_prepare Q
W=$(ad_dir Q)
export TB_POSTFIX_MILTERS="unix:atsmail/milter.sock"
tb_start pg postfix dovecot
trap ad_cleanup EXIT
SPOOL=$TB_DIR/postfix/spool
mkdir -m 0755 "$SPOOL/atsmail"
ad_db
ad_conf Q "milter_socket = unix:$SPOOL/atsmail/milter.sock"
ad_start Q
LOG=$(ad_log Q)
RUN=$$

# submit ID RCPT... : alice over the submission port, the RCPT TO arguments
# exactly as given; To: taro and the quoted command; prints the reply to DATA
submit() {
	python3 - "$TB_SUBMISSION_PORT" "$RUN" "$@" <<'PY'
import smtplib, sys
port, run, mid, rcpts = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4:]
msg = ("From: Alice <alice@atsmail.test>\r\n"
       "To: Taro <taro@candidate.test>, \"ats+job\\.3005\"@ats.atsmail.test\r\n"
       "Bcc: =?UTF-8?B?5o6h55So?= <\"ATS+Job.3006\"@ats.atsmail.test>\r\n"
       "Subject: quoted %s %s\r\nMessage-ID: <%s.%s@atsmail.test>\r\n\r\nDear Taro,\r\n"
       % (mid, run, mid, run))
s = smtplib.SMTP("127.0.0.1", port)
s.login("alice@atsmail.test", "alicepw")
s.mail("alice@atsmail.test")
for r in rcpts:
    code, text = s.docmd("RCPT TO:<%s>" % r)
    if code != 250:
        print("RCPT %s: %d %s" % (r, code, text.decode()))
        sys.exit(1)
code, text = s.data(msg.encode())
print("%d %s" % (code, " ".join(text.decode().split())))
s.quit()
PY
}
q() { tb_psql -c "$1" 2>&1; }
q_wait() {
	local v
	for _ in $(seq 1 150); do
		v=$(q "$2")
		[ "$v" = "$1" ] && break
		sleep 0.2
	done
	printf '%s\n' "$v"
}
imap() { TB_IMAP_PORT=$TB_IMAP_PORT "$top_srcdir/tests/testbed/imap.py" "$@"; }

# ---- 1. every written form applied, removed, never delivered or recorded
r=$(submit forms taro@candidate.test '"ats+job.3005"@ats.atsmail.test' \
	'ATS+Phase.Interview1@ATS.ATSMAIL.TEST.' 'ats+private%ats.atsmail.test@atsmail.test')
tap_like() { if printf '%s' "$2" | grep -q -- "$3"; then tap_pass "$1"; else tap_fail "$1" "got: $2"; fi; }
tap_like "the mail with quoted, capital and routed commands is accepted" "$r" "^250 "
tap_ok "taro receives it" imap -w 20 taro@candidate.test taropw find "<forms.$RUN@atsmail.test>"
h=$(imap taro@candidate.test taropw headers "<forms.$RUN@atsmail.test>" 2>&1)
tap_ok "no command address in its headers, in any form" \
	sh -c "! printf '%s' \"\$1\" | grep -qi 'ats+\|ats\.atsmail\.test'" _ "$h"
tap_is "its To shows taro alone" \
	"$(imap taro@candidate.test taropw header "<forms.$RUN@atsmail.test>" To | tr -d '\r' | sed 's/^[ \t]*//; s/[ \t]*$//')" \
	"Taro <taro@candidate.test>"
tok=$(imap taro@candidate.test taropw header "<forms.$RUN@atsmail.test>" X-ATS-Ref | tr -d ' ')
tap_ok "it carries X-ATS-Ref" test -n "$tok"
tap_is "it is recorded as alice's, private (ats+private written as a percent-hack route)" \
	"$(q_wait "1|private" "SELECT owner_id || '|' || visibility FROM atsmail.messages
	     WHERE rfc_message_id = 'forms.$RUN@atsmail.test'")" "1|private"
tap_is "the quoted ats+job.3005 and the capital phase made the process, in interview1" \
	"$(q_wait interview1 "SELECT phase FROM atsmail.processes WHERE resume_id = 1001 AND job_id = 3005")" \
	"interview1"
tap_is "Postfix dropped the Bcc header before the milters: its command (job 3006) is not applied" \
	"$(q "SELECT count(*) FROM atsmail.processes WHERE job_id = 3006")" "0"
tap_ok "and taro's copy has no Bcc header" \
	sh -c "! printf '%s' \"\$1\" | grep -qi '^bcc:'" _ "$h"
tap_is "no command address recorded as a recipient" \
	"$(q "SELECT count(*) FROM atsmail.message_recipients r JOIN atsmail.messages m ON m.id = r.message_id
	     WHERE m.rfc_message_id = 'forms.$RUN@atsmail.test' AND r.address ILIKE '%ats%'")" "0"
tap_is "taro is recorded as its one recipient" \
	"$(q "SELECT string_agg(r.address, ',') FROM atsmail.message_recipients r JOIN atsmail.messages m
	     ON m.id = r.message_id WHERE m.rfc_message_id = 'forms.$RUN@atsmail.test'")" "taro@candidate.test"
tap_ok "atsmaild removed the three envelope commands and rewrote To" \
	grep -q "tag: token=$tok commands_removed=3 headers_rewritten=1" "$LOG"
tap_is "Postfix delivered nothing to a command address" \
	"$(grep -ci 'to=<[^>]*ats[+.]' "$TB_MAILLOG")" "0"

# ---- 2. a malformed quoted command, another name at the command domain: refused
r=$(submit bad taro@candidate.test '"ats+job.30x5"@ats.atsmail.test')
tap_like "a malformed quoted command is refused at its RCPT with 550 5.7.1, naming it as written" "$r" \
	'^RCPT "ats+job.30x5"@ats.atsmail.test: 550 5.7.1 invalid job id "30x5": "ats+job.30x5"@ats.atsmail.test; '
r=$(submit other taro@candidate.test '"info"@ats.atsmail.test')
tap_like "another name at the command domain is refused, never delivered" "$r" \
	'^RCPT "info"@ats.atsmail.test: 550 5.7.1 not a command address: "info"@ats.atsmail.test; '
tap_is "neither is recorded" \
	"$(q "SELECT count(*) FROM atsmail.messages WHERE rfc_message_id IN
	     ('bad.$RUN@atsmail.test', 'other.$RUN@atsmail.test')")" "0"
# imap.py exits 1 when nothing matches
n=0
for subj in "quoted bad $RUN" "quoted other $RUN"; do
	imap taro@candidate.test taropw search "SUBJECT \"$subj\"" >/dev/null 2>&1
	[ $? -eq 1 ] && n=$((n + 1))
done
tap_is "and taro received neither" "$n" "2"

if [ "$TAP_FAILED" -gt 0 ]; then
	tap_diag "--- atsmaild's log:"; tail -n 40 "$LOG" | sed 's/^/# /'
	tap_diag "--- maillog:"; tail -n 30 "$TB_MAILLOG" | sed 's/^/# /'
fi
tap_done
