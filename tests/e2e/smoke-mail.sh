#!/bin/bash
# tests/e2e/smoke-mail.sh -- smoke test of the test bed's mail part: Postfix
# (MX + submission with Dovecot SASL) delivering over LMTP into Dovecot, read
# back over IMAP with tests/testbed/imap.py; Postfix-generated DSNs; the
# ISO-2022-JP round trip; adding a mailbox; the milter/plugin hooks; and a
# stop that leaves no process behind.  Every mail goes through atsmaild's
# milter front, as in production (smtpd_milters and non_smtpd_milters): it
# must not disturb any of it, tags the ATS mail among it, and the recorder
# records that.  TAP output, bounded waits only.
: "${top_srcdir:=$(cd "$(dirname "$0")/../.." && pwd)}"
: "${top_builddir:=$top_srcdir}"
. "$top_srcdir/tests/e2e/e2e-lib.sh"
. "$top_srcdir/tests/e2e/atsmaild-lib.sh"
TESTBED=$top_srcdir/tests/testbed/testbed.sh
IMAP=$top_srcdir/tests/testbed/imap.py
WAIT=20

# atsmaild is Postfix's milter (only the milter: delivery into Dovecot goes
# without the plugin here)
ad_prepare M
TB_POSTFIX_MILTERS="unix:$(ad_dir M)/milter.sock"
export TB_POSTFIX_MILTERS
tb_start pg postfix dovecot
trap ad_cleanup EXIT
ad_db
ad_conf M
ad_start M
export TB_IMAP_PORT
TAG=$$.$RANDOM
imap() { python3 "$IMAP" -w "$WAIT" "$@"; }
# wait_log FILE FIXED-STRING: the daemons log asynchronously (postlogd, Dovecot's log process)
wait_log() {
	local i
	for ((i = 0; i < WAIT * 10; i++)); do
		grep -qF -- "$2" "$1" && return 0
		sleep 0.1
	done
	echo "not in $1 within ${WAIT}s: $2"
	return 1
}

# send PORT ARGS...: swaks against the test bed, transcript in $OUT, status in $RC
send() {
	local port=$1
	shift
	OUT=$(swaks --server 127.0.0.1 --port "$port" --helo client.example "$@" 2>&1)
	RC=$?
}
# auth USER PASSWORD: the swaks options of an AUTH PLAIN login
auth() { echo --auth PLAIN --auth-user "$1" --auth-password "$2"; }

# ---- submission
send "$TB_SUBMISSION_PORT" --from alice@atsmail.test --to someone@example.com
if [ "$RC" = 24 ] && grep -q '^<\*\* *554 5\.7\.1 ' <<<"$OUT"; then
	tap_pass "submission without AUTH refuses an outside domain (554 5.7.1)"
else
	tap_fail "submission without AUTH refuses an outside domain (554 5.7.1)" "rc=$RC
$OUT"
fi

send "$TB_SUBMISSION_PORT" --from alice@atsmail.test --to taro@candidate.test
if [ "$RC" = 24 ]; then tap_pass "submission without AUTH refuses a hosted domain too"
else tap_fail "submission without AUTH refuses a hosted domain too" "rc=$RC
$OUT"; fi

# shellcheck disable=SC2046
send "$TB_SUBMISSION_PORT" --from alice@atsmail.test --to taro@candidate.test $(auth alice@atsmail.test wrongpw)
if [ "$RC" = 28 ] && grep -q '^<\*\* *535 ' <<<"$OUT"; then
	tap_pass "submission refuses a wrong password (535)"
else
	tap_fail "submission refuses a wrong password (535)" "rc=$RC
$OUT"
fi

MID1="<smoke-sub-$TAG@atsmail.test>"
# shellcheck disable=SC2046
send "$TB_SUBMISSION_PORT" --from alice@atsmail.test --to taro@candidate.test \
	$(auth alice@atsmail.test alicepw) \
	--header "Message-Id: $MID1" --header "Subject: interview $TAG" --body "Dear Taro"
if [ "$RC" = 0 ] && wait_log "$TB_MAILLOG" 'sasl_method=PLAIN, sasl_username=alice@atsmail.test' >/dev/null; then
	tap_pass "alice authenticates (AUTH PLAIN) and submits to taro@candidate.test"
else
	tap_fail "alice authenticates (AUTH PLAIN) and submits to taro@candidate.test" "rc=$RC
$OUT"
fi
got=$(imap taro@candidate.test taropw header "$MID1" Subject 2>&1)/$(imap taro@candidate.test taropw header "$MID1" Message-ID 2>&1)
tap_is "taro reads it over IMAP: subject and Message-ID" "$got" "interview $TAG/$MID1"
tok=$(imap taro@candidate.test taropw header "$MID1" X-ATS-Ref 2>&1)
tap_ok "atsmaild tagged it (alice writes to a candidate): X-ATS-Ref is a token" \
	sh -c "printf '%s' '$tok' | grep -Eq '^a[a-z2-7]{37}\$'"
rec=
for ((i = 0; i < WAIT * 5; i++)); do
	rec=$(tb_psql -c "SELECT count(*) FROM atsmail.messages WHERE token = '$tok'" 2>&1)
	[ "$rec" = 1 ] && break
	sleep 0.2
done
tap_is "the recorder records it once" "$rec" 1

# ---- MX
MID2="<smoke-mx-$TAG@client.example>"
send "$TB_SMTP_PORT" --from recruiter@agency.example --to alice@atsmail.test \
	--header "Message-Id: $MID2" --header "Subject: candidate list $TAG"
tap_is "MX accepts an unauthenticated external sender for alice@atsmail.test" "$RC" 0
tap_is "alice reads it over IMAP" "$(imap alice@atsmail.test alicepw subject "$MID2" 2>&1)" "candidate list $TAG"
tap_is "atsmaild left the inbound mail untouched (no X-ATS-Ref)" \
	"$(imap alice@atsmail.test alicepw header "$MID2" X-ATS-Ref 2>/dev/null)" ""

imap alice@atsmail.test alicepw store "$MID2" + '$Interview' '\Flagged' >/dev/null
tap_is "imap.py sets and reads back a keyword" "$(imap alice@atsmail.test alicepw flags "$MID2" 2>&1)" '\Flagged $Interview'
imap alice@atsmail.test alicepw create Candidates >/dev/null &&
	imap alice@atsmail.test alicepw copy "$MID2" Candidates >/dev/null
tap_is "imap.py creates and lists a folder and copies into it" \
	"$(imap alice@atsmail.test alicepw list | sort | tr '\n' ' ')/$(imap -m Candidates alice@atsmail.test alicepw subject "$MID2" 2>&1)" \
	"Candidates Drafts INBOX Junk Sent Trash /candidate list $TAG"

send "$TB_SMTP_PORT" --from x@example.org --to someone@example.com
if [ "$RC" = 24 ] && grep -q '^<\*\* *554 5.7.1 .*Relay access denied' <<<"$OUT"; then
	tap_pass "MX refuses to relay to an outside domain from 127.0.0.1 (554)"
else
	tap_fail "MX refuses to relay to an outside domain from 127.0.0.1 (554)" "rc=$RC
$OUT"
fi

send "$TB_SMTP_PORT" --quit-after EHLO
if [ "$RC" = 0 ] && ! grep -q '^<-  250.AUTH' <<<"$OUT"; then tap_pass "MX offers no AUTH"
else tap_fail "MX offers no AUTH" "rc=$RC
$OUT"; fi

MID3="<smoke-plus-$TAG@client.example>"
send "$TB_SMTP_PORT" --from bounces+x=y@client.example --to alice+jobs@atsmail.test --header "Message-Id: $MID3"
tap_ok "a plus address (alice+jobs@) lands in alice's INBOX" imap alice@atsmail.test alicepw find "$MID3"

# ---- sink.test relays to TB_SINK_PORT (the benchmarks' smtp-sink)
smtp-sink -u postfix -M 1 "127.0.0.1:$TB_SINK_PORT" 10 >/dev/null 2>&1 &
sink=$!
# shellcheck disable=SC2046
send "$TB_SUBMISSION_PORT" --from alice@atsmail.test --to bench@sink.test $(auth alice@atsmail.test alicepw)
for ((i = 0; i < WAIT * 10; i++)); do kill -0 "$sink" 2>/dev/null || break; sleep 0.1; done
if kill -0 "$sink" 2>/dev/null; then
	kill "$sink"
	tap_fail "mail to sink.test reaches smtp-sink on TB_SINK_PORT" "rc=$RC
$(tail -n 3 "$TB_MAILLOG")"
else
	tap_pass "mail to sink.test reaches smtp-sink on TB_SINK_PORT"
fi
wait "$sink" 2>/dev/null

# ---- Postfix-generated DSN for an unknown user of a hosted domain
MID4="<smoke-dsn-$TAG@atsmail.test>"
# shellcheck disable=SC2046
send "$TB_SUBMISSION_PORT" --from alice@atsmail.test --to nobody@candidate.test \
	$(auth alice@atsmail.test alicepw) --header "Message-Id: $MID4" --header "Subject: to nobody $TAG"
tap_is "submission accepts nobody@candidate.test (the DSN comes later)" "$RC" 0
uid=$(imap alice@atsmail.test alicepw search \
	"HEADER Content-Type \"report-type=delivery-status\" TEXT \"$MID4\"" 2>&1)
if [[ "$uid" =~ ^[0-9]+$ ]]; then
	ct=$(imap alice@atsmail.test alicepw header "uid:$uid" Content-Type)
	from=$(imap alice@atsmail.test alicepw header "uid:$uid" From)
	body=$(imap alice@atsmail.test alicepw body "uid:$uid")
	if [[ "$ct" == multipart/report*report-type=delivery-status* ]] && [[ "$from" == *MAILER-DAEMON@* ]] &&
		grep -qi '^Final-Recipient: rfc822; *nobody@candidate.test' <<<"$body" &&
		grep -q '^Status: 5\.1\.1' <<<"$body"; then
		tap_pass "Postfix returns a DSN (multipart/report) naming nobody@candidate.test to alice"
	else
		tap_fail "Postfix returns a DSN (multipart/report) naming nobody@candidate.test to alice" "Content-Type: $ct
From: $from
$body"
	fi
else
	tap_fail "Postfix returns a DSN (multipart/report) naming nobody@candidate.test to alice" \
		"no DSN within ${WAIT}s: $uid
$(tail -n 5 "$TB_MAILLOG")"
fi

# ---- ISO-2022-JP, byte for byte (python's smtplib: swaks would rewrite "\n" and %TOKENS%)
MID5="<smoke-jp-$TAG@atsmail.test>"
JP=$TB_DIR/jp.eml
python3 - "$JP" "$MID5" "$TB_SUBMISSION_PORT" <<'PY'
import email.header, smtplib, sys
path, mid, port = sys.argv[1], sys.argv[2], int(sys.argv[3])
subject = email.header.Header("面接日程のご案内（山田太郎様）", "iso-2022-jp").encode()
body = "山田様\r\n\r\n一次面接の日程をご連絡いたします。\r\n".encode("iso-2022-jp")
msg = (b"From: alice@atsmail.test\r\nTo: hanako@candidate.test\r\nMessage-ID: " + mid.encode() +
       b"\r\nSubject: " + subject.encode() + b"\r\nMIME-Version: 1.0\r\n"
       b"Content-Type: text/plain; charset=ISO-2022-JP\r\nContent-Transfer-Encoding: 7bit\r\n\r\n" + body)
open(path, "wb").write(msg)
s = smtplib.SMTP("127.0.0.1", port)
s.login("alice@atsmail.test", "alicepw")
s.sendmail("alice@atsmail.test", ["hanako@candidate.test"], msg)
s.quit()
PY
tap_is "alice submits an ISO-2022-JP message" "$?" 0
want_subj=$(python3 - "$JP" <<'PY'
import re, sys
m = open(sys.argv[1], "rb").read().split(b"\r\n\r\n", 1)[0]
v = re.search(rb"^Subject:([^\r\n]*(?:\r\n[ \t][^\r\n]*)*)", m, re.M).group(1)
sys.stdout.buffer.write(v.replace(b"\r\n", b"").strip(b" \t"))
PY
)
got_subj=$(imap hanako@candidate.test hanakopw header "$MID5" Subject 2>&1)
if [ -n "$want_subj" ] && [ "$got_subj" = "$want_subj" ] &&
	[ "$(imap hanako@candidate.test hanakopw subject "$MID5")" = "面接日程のご案内（山田太郎様）" ]; then
	tap_pass "the ISO-2022-JP subject survives byte for byte and decodes"
else
	tap_fail "the ISO-2022-JP subject survives byte for byte and decodes" "sent: $want_subj
got:  $got_subj"
fi
if cmp -s <(imap hanako@candidate.test hanakopw body "$MID5") \
	<(python3 -c 'import sys; sys.stdout.buffer.write(open(sys.argv[1], "rb").read().split(b"\r\n\r\n", 1)[1].replace(b"\r\n", b"\n"))' "$JP"); then
	tap_pass "the ISO-2022-JP body survives byte for byte"
else
	tap_fail "the ISO-2022-JP body survives byte for byte"
fi

# ---- adding a mailbox while the test bed runs
tap_ok "testbed.sh adduser adds newbie@client.test" "$TESTBED" adduser "$TB_DIR" newbie@client.test newbiepw
MID6="<smoke-new-$TAG@client.example>"
send "$TB_SMTP_PORT" --from x@agency.example --to newbie@client.test --header "Message-Id: $MID6"
tap_ok "the new mailbox receives mail and reads it over IMAP" imap newbie@client.test newbiepw find "$MID6"
if "$TESTBED" adduser "$TB_DIR" someone@example.com pw 2>/dev/null; then
	tap_fail "adduser refuses a domain the test bed does not host"
else
	tap_pass "adduser refuses a domain the test bed does not host"
fi

# ---- stop leaves nothing behind
pids=$(awk 'FNR == 1 { printf "%s%s", sep, $1; sep = " " }' "$TB_DIR/postfix/spool/pid/master.pid" "$TB_DIR/dovecot/run/master.pid")
"$TESTBED" stop "$TB_DIR"
left=$(ps -e -o sid=,pid=,stat=,args= | awk -v s="$pids" '
	BEGIN { n = split(s, a, " "); for (i = 1; i <= n; i++) want[a[i]] = 1 }
	($1 in want || $2 in want) && $3 !~ /^Z/')
tap_is "after stop no process of the test bed is left (the masters and their sessions)" "$left" ""
apid=$(ad_pid M)
ad_stop M
tap_ok "atsmaild stops, and leaves no process" sh -c "! kill -0 '$apid' 2>/dev/null"

# ---- hooks: a second test bed with a (missing) milter and Dovecot's mail_log plugin
TB2=$(mktemp -d /tmp/atsm-tb.XXXXXX)
trap '"$TESTBED" stop "$TB2" >/dev/null 2>&1; rm -rf "$TB2"; ad_cleanup' EXIT
if TB_POSTFIX_MILTERS="unix:$TB2/run/no-milter.sock" TB_MILTER_DEFAULT_ACTION=accept \
	TB_DOVECOT_MAIL_PLUGINS="notify mail_log" \
	TB_DOVECOT_PLUGIN_SETTINGS=$'  mail_log_events = save\n  mail_log_fields = box msgid' \
	"$TESTBED" start "$TB2" postfix dovecot >"$TB2.log" 2>&1; then
	tap_pass "a test bed starts with the milter and plugin hooks set"
	TB1=$TB_DIR
	. "$TB2/testbed.env"
	TB_DIR=$TB1
	MID7="<smoke-hook-$TAG@client.example>"
	send "$TB_SMTP_PORT" --from x@agency.example --to bob@atsmail.test --header "Message-Id: $MID7"
	tap_ok "hooks: the milter is missing, milter_default_action=accept lets mail through" \
		imap bob@atsmail.test bobpw find "$MID7"
	tap_ok "hooks: testbed.env records them" grep -qx "TB_POSTFIX_MILTERS=unix:$TB2/run/no-milter.sock" "$TB2/testbed.env"
	tap_ok "hooks: Postfix tried the milter of TB_POSTFIX_MILTERS" \
		wait_log "$TB_MAILLOG" "connect to Milter service unix:$TB2/run/no-milter.sock"
	tap_ok "hooks: the Dovecot plugin runs for LMTP with the plugin { } settings" \
		wait_log "$TB_DOVECOT_LOG" "save: box=INBOX, msgid=$MID7"
else
	tap_fail "a test bed starts with the milter and plugin hooks set" "$(cat "$TB2.log")"
fi
rm -f "$TB2.log"

tap_done
