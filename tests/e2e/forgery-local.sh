#!/bin/bash
# tests/e2e/forgery-local.sh -- a local account cannot be recorded as another
# recruiter (issue 10, item 3), on the real test bed: Postfix with
# local_login_sender_maps (tests/testbed/conf/main.cf.in, as the shipped
# snippet), atsmaild as its milter, and a second milter that only watches
# (forgery-probe.py) to show what any milter is told about sendmail(1) mail.
#
#   - daemon stands for recruiter alice's local account (the test bed's map
#     lets it use alice's address): its `sendmail -f alice@` is recorded as
#     alice's, with its command applied;
#   - nobody (a local account of no recruiter) and daemon trying another
#     recruiter's address: `sendmail -f alice@` / `-f bob@` is refused by
#     Postfix itself, nothing is recorded;
#   - nobody with its own sender and a recruiter's From header: its command
#     is refused by atsmaild (550 5.7.1, the sentence says why), its ATS mail
#     passes unrecorded and untagged;
#   - what a milter sees: the emulated connection localhost[127.0.0.1]:0, and
#     no Received header of Postfix's ("from userid N" is hidden from
#     milters) -- only one the submitter wrote, which proves nothing;
#   - non_smtp_senders = untrusted (reloaded): even alice's local account is
#     nobody's, its commands refused.
#
# The local accounts run sendmail with their real uid (setpriv); their real
# gid is postdrop only so that postdrop accepts the test bed's configuration
# directory (MAIL_CONFIG) without an alternate_config_directories entry in
# /etc/postfix/main.cf, which the tests do not touch.  The sender check is
# made on the real uid, which is what is tested.
set -u
: "${top_srcdir:=$(cd "$(dirname "$0")/../.." && pwd)}"
: "${top_builddir:=$top_srcdir}"
. "$top_srcdir/tests/e2e/e2e-lib.sh"
. "$top_srcdir/tests/e2e/atsmaild-lib.sh"

[ "$(id -u)" = 0 ] || tap_skip_all "the test bed needs root"
command -v setpriv >/dev/null || tap_skip_all "setpriv (util-linux) is not installed"
for u in daemon nobody; do id "$u" >/dev/null 2>&1 || tap_skip_all "no local account $u"; done
getent group postdrop >/dev/null || tap_skip_all "no group postdrop (Postfix is not installed)"

ad_prepare F
W=$(ad_dir F)
export TB_POSTFIX_MILTERS="unix:atsmail/milter.sock, unix:probe/probe.sock"
tb_start pg postfix dovecot
PROBE_PID=
cleanup() {
	[ -n "$PROBE_PID" ] && kill "$PROBE_PID" 2>/dev/null
	ad_cleanup
}
trap cleanup EXIT
SPOOL=$TB_DIR/postfix/spool
mkdir -m 0755 "$SPOOL/atsmail" "$SPOOL/probe"
PROBE=$W/probe.jsonl
: >"$PROBE"
python3 "$top_srcdir/tests/e2e/forgery-probe.py" "$SPOOL/probe/probe.sock" "$PROBE" \
	</dev/null >"$W/probe.err" 2>&1 &
PROBE_PID=$!

ad_db
ad_conf F "milter_socket = unix:$SPOOL/atsmail/milter.sock"
ad_start F
LOG=$(ad_log F)
for _ in $(seq 1 100); do [ -S "$SPOOL/probe/probe.sock" ] && break; sleep 0.05; done

RUN=$$
ATS=ats.atsmail.test

# as USER SENDMAIL-ARGS...: sendmail(1) run by a local account; the message on stdin
as() {
	local u=$1
	shift
	setpriv --reuid="$u" --regid=postdrop --clear-groups \
		env MAIL_CONFIG="$TB_POSTFIX_CONF" /usr/sbin/sendmail "$@"
}
# msg ID FROM SUBJECT [HEADER...]: a message to taro with Message-ID <ID.RUN@atsmail.test>
msg() {
	local id=$1 from=$2 subj=$3
	shift 3
	printf 'From: %s\nTo: taro@candidate.test\nSubject: %s\nMessage-ID: <%s.%s@atsmail.test>\n' \
		"$from" "$subj" "$id" "$RUN"
	for h in "$@"; do printf '%s\n' "$h"; done
	printf '\nDear Taro,\n'
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
recorded() { q "SELECT count(*) FROM atsmail.messages WHERE rfc_message_id = '$1.$RUN@atsmail.test'"; }
imap() { TB_IMAP_PORT=$TB_IMAP_PORT "$top_srcdir/tests/testbed/imap.py" "$@"; }
# untagged MSGID: taro received it (waiting up to 20 s) without X-ATS-Ref
untagged() {
	imap -w 20 taro@candidate.test taropw find "$1" >/dev/null 2>&1 || { echo "not delivered"; return; }
	if imap taro@candidate.test taropw header "$1" X-ATS-Ref >/dev/null 2>&1; then
		echo "tagged"
	else
		echo "delivered untagged"
	fi
}
wait_file() {  # wait_file FILE PATTERN: grep -q within ~20 s
	for _ in $(seq 1 200); do grep -q -- "$2" "$1" 2>/dev/null && return 0; sleep 0.1; done
	return 1
}

# ---- 1. another recruiter's address: refused by Postfix itself
msg nobody-as-alice "Alice <alice@atsmail.test>" "nobody as alice $RUN" |
	as nobody -f alice@atsmail.test taro@candidate.test "ats+job.3002@$ATS" 2>"$W/s1.err"
tap_ok "nobody's sendmail -f alice@ is refused (exit status not 0)" test "${PIPESTATUS[1]}" -ne 0
tap_ok "the refusal says the login may not use that sender" \
	grep -q "not authorized to use sender='alice@atsmail.test'" "$W/s1.err"
msg daemon-as-bob "bob@atsmail.test" "daemon as bob $RUN" |
	as daemon -f bob@atsmail.test taro@candidate.test 2>"$W/s2.err"
tap_ok "alice's local account (daemon) cannot use bob's address either" \
	grep -q "not authorized to use sender='bob@atsmail.test'" "$W/s2.err"

# ---- 2. an unmapped local account, its own sender, a recruiter's From
msg nobody-cmd "Alice <alice@atsmail.test>" "nobody command $RUN" |
	as nobody taro@candidate.test "ats+job.3003@$ATS"
tap_ok "a command from a local account of no recruiter is refused by atsmaild (550 5.7.1)" \
	wait_file "$LOG" "reject 550 5.7.1: from=<nobody@atsmail.test>: .*not a recruiter: ats+job.3003@$ATS in mail submitted on the server by the local account nobody@atsmail.test, which is no recruiter's address"
tap_ok "Postfix logs the milter's refusal" wait_file "$TB_MAILLOG" "milter-reject: .*5.7.1 not a recruiter: ats+job.3003@"
msg nobody-forged "Alice <alice@atsmail.test>" "nobody forged $RUN" \
	"Received: by mx.atsmail.test (Postfix, from userid 1)" | as nobody taro@candidate.test
tap_is "its ATS mail (From: alice) reaches taro untagged" "$(untagged "<nobody-forged.$RUN@atsmail.test>")" "delivered untagged"

# ---- 3. alice's own local account: attributed to it, command applied
msg daemon-as-alice "Alice <alice@atsmail.test>" "daemon as alice $RUN" |
	as daemon -f alice@atsmail.test taro@candidate.test "ats+job.3002@$ATS"
tap_is "alice's local account's mail is recorded as alice's" \
	"$(q_wait 1 "SELECT owner_id FROM atsmail.messages WHERE rfc_message_id = 'daemon-as-alice.$RUN@atsmail.test'")" "1"
tap_is "and its command made the selection process resume 1001 x job 3002" \
	"$(q_wait 1 "SELECT count(*) FROM atsmail.processes WHERE resume_id = 1001 AND job_id = 3002")" "1"
tap_ok "atsmaild notes how it attributed it" \
	grep -q "journaled: user=alice@atsmail.test .*notes: submitted on the server: attributed by its envelope sender alice@atsmail.test" "$LOG"
tap_is "the refused and the unattributed mails are not recorded" \
	"$(q "SELECT count(*) FROM atsmail.messages WHERE rfc_message_id IN
	     ('nobody-as-alice.$RUN@atsmail.test', 'daemon-as-bob.$RUN@atsmail.test',
	      'nobody-cmd.$RUN@atsmail.test', 'nobody-forged.$RUN@atsmail.test')")" "0"
tap_is "no selection process from the refused command (job 3003)" \
	"$(q "SELECT count(*) FROM atsmail.processes WHERE job_id = 3003")" "0"

# ---- 4. what a milter is told about sendmail(1) mail
probe() {  # probe MSGID: what the watching milter saw of that message, as lines
	python3 - "$PROBE" "$1" <<'PY'
import json, sys
path, mid = sys.argv[1], sys.argv[2]
conn, cur = None, []
for line in open(path, encoding="utf-8"):
    e = json.loads(line)
    if e["ev"] == "connect":
        conn, cur = e, []
    elif e["ev"] == "eom":
        if any(x["ev"] == "header" and x["name"].lower() == "message-id" and mid in x["value"] for x in cur):
            print("connect %s[%s]:%s" % (conn["host"], conn["addr"], conn["port"]))
            for x in cur:
                if x["ev"] == "header" and x["name"].lower() == "received":
                    print("received " + " ".join(x["value"].split()))
            sys.exit(0)
        cur = []
    else:
        cur.append(e)
sys.exit(1)
PY
}
p=$(probe "daemon-as-alice.$RUN@")
tap_is "a milter sees sendmail(1) mail on the emulated connection localhost[127.0.0.1]:0" \
	"$(printf '%s\n' "$p" | grep '^connect')" "connect localhost[127.0.0.1]:0"
tap_ok "Postfix wrote its own Received header with the submitter's uid (uid=1 in the maillog)" \
	grep -q "pickup\[[0-9]*\]: [0-9A-F]*: uid=1 from=<alice@atsmail.test>" "$TB_MAILLOG"
tap_is "but a milter is not shown it" "$(printf '%s\n' "$p" | grep -c '^received')" "0"
p=$(probe "nobody-forged.$RUN@")
tap_is "a Received header a milter sees is the submitter's own text (nobody wrote 'from userid 1')" \
	"$(printf '%s\n' "$p" | grep '^received')" "received by mx.atsmail.test (Postfix, from userid 1)"

# ---- 5. non_smtp_senders = untrusted: sendmail(1) mail is nobody's
n=$(grep -c 'configuration reloaded' "$LOG")
ad_conf F "milter_socket = unix:$SPOOL/atsmail/milter.sock" "non_smtp_senders = untrusted"
kill -HUP "$(ad_pid F)"
for _ in $(seq 1 100); do [ "$(grep -c 'configuration reloaded' "$LOG")" -gt "$n" ] && break; sleep 0.05; done
tap_ok "atsmaild reloads with non_smtp_senders = untrusted" \
	test "$(grep -c 'configuration reloaded' "$LOG")" -gt "$n"
msg untrusted-cmd "Alice <alice@atsmail.test>" "untrusted command $RUN" |
	as daemon -f alice@atsmail.test taro@candidate.test "ats+job.3004@$ATS"
tap_ok "then even alice's local account's commands are refused, saying why" \
	wait_file "$LOG" "reject 550 5.7.1: from=<alice@atsmail.test>: .*commands refused from sendmail: ats+job.3004@$ATS in mail submitted on the server, whose sender alice@atsmail.test is not verified (non_smtp_senders = untrusted)"
msg untrusted-plain "Alice <alice@atsmail.test>" "untrusted plain $RUN" |
	as daemon -f alice@atsmail.test taro@candidate.test
tap_is "and its ATS mail reaches taro untagged" "$(untagged "<untrusted-plain.$RUN@atsmail.test>")" "delivered untagged"
tap_is "neither is recorded" \
	"$(q "SELECT count(*) FROM atsmail.messages WHERE rfc_message_id IN
	     ('untrusted-cmd.$RUN@atsmail.test', 'untrusted-plain.$RUN@atsmail.test')")" "0"

if [ "$TAP_FAILED" -gt 0 ]; then
	tap_diag "--- atsmaild's log:"; grep -v 'debug: ' "$LOG" | tail -n 30 | sed 's/^/# /'
	tap_diag "--- maillog:"; tail -n 40 "$TB_MAILLOG" | sed 's/^/# /'
	tap_diag "--- probe:"; tail -n 20 "$PROBE" | sed 's/^/# /'; cat "$W/probe.err" | sed 's/^/# /'
fi
tap_done
