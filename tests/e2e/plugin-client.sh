#!/bin/bash
# tests/e2e/plugin-client.sh -- the Dovecot plugin as a thin client of
# atsmaild's filing socket, end to end: Postfix -> LMTP -> Dovecot with
# lib90_atsmail_plugin.so -> a fake service (tests/e2e/fake-filing.py)
# whose answers a control file sets; IMAP shows the outcome.
# Covers: keywords of an OK answer on the delivered mail; the request's
# fields, size and hash; TEMPFAIL / ERROR / a hanging service / a missing
# socket -> LMTP 451 4.2.0, Postfix defers, nothing in the mailbox, and a
# retry after the service is back delivers once (the service asked
# twice); dovecot-lda alike (exit 75); atsmail_on_failure = deliver ->
# stored without keywords and an error in Dovecot's log; IMAP APPEND
# refused (NO, mailbox unchanged) or given its keywords; several
# recipients of one LMTP transaction asked one by one over one kept
# connection; a connection the service closed is replaced, once; a large
# mail sends atsmail_head_max bytes; a bad setting refuses mail for that
# user; no atsmail_socket -> the plugin stands aside; the plugin's shared
# object needs no libpq, jansson, OpenSSL or libidn2, and no atsmail.conf
# exists for it.
set -u
: "${top_srcdir:=$(cd "$(dirname "$0")/../.." && pwd)}"
: "${top_builddir:=$top_srcdir}"
. "$top_srcdir/tests/e2e/e2e-lib.sh"

PLUGIN_SO=$top_builddir/dovecot-plugin/.libs/lib90_atsmail_plugin.so
RUN=$$
TIMEOUT_S=2

[ "$(id -u)" = 0 ] || tap_skip_all "the test bed needs root"
[ -f "$PLUGIN_SO" ] || tap_skip_all "the Dovecot plugin is not built"
command -v swaks >/dev/null || tap_skip_all "swaks is not installed"
command -v readelf >/dev/null || tap_skip_all "readelf (binutils) is not installed"

# ---- the shared object ----------------------------------------------------
needed=$(readelf -d "$PLUGIN_SO" | awk '/NEEDED/ { gsub(/[][]/, "", $NF); print $NF }' | tr '\n' ' ')
tap_ok "the plugin's object is readable by readelf (NEEDED: $needed)" test -n "$needed"
for lib in libpq libjansson libcrypto libssl libidn2; do
	tap_is "the plugin does not need $lib" "$(printf '%s\n' $needed | grep -c "^$lib\.")" "0"
done
tap_is "the plugin names no configuration file, secret or journal" \
	"$(strings "$PLUGIN_SO" | grep -c -E 'atsmail\.conf|secret_file|journal_dir|db_conninfo')" "0"

# ---- set-up: the fake service, then Postfix + Dovecot with the plugin --------
PW=$(mktemp -d /tmp/atsm-client.XXXXXX)
chmod 755 "$PW"
mkdir "$PW/modules"
cp "$PLUGIN_SO" "$PW/modules/"
SOCK=$PW/filing.sock
CONTROL=$PW/control
REQS=$PW/requests.log
FAKE_PID=

fake_start() {
	rm -f "$PW/fake.pid"
	setsid python3 "$top_srcdir/tests/e2e/fake-filing.py" "$SOCK" "$CONTROL" "$REQS" \
		"$PW/fake.pid" </dev/null >>"$PW/fake.out" 2>&1 &
	for _ in $(seq 1 100); do [ -s "$PW/fake.pid" ] && [ -S "$SOCK" ] && break; sleep 0.05; done
	FAKE_PID=$(cat "$PW/fake.pid" 2>/dev/null)
	[ -n "$FAKE_PID" ] || tap_bail "fake-filing.py did not start: $(cat "$PW/fake.out")"
}
fake_stop() {
	[ -n "$FAKE_PID" ] || return 0
	kill "$FAKE_PID" 2>/dev/null
	for _ in $(seq 1 100); do kill -0 "$FAKE_PID" 2>/dev/null || break; sleep 0.05; done
	FAKE_PID=
}
cleanup() {
	fake_stop
	tb_cleanup
	[ "$TB_KEEP" = 1 ] && { echo "# plugin files kept in $PW" >&2; return; }
	rm -rf "$PW"
}

trap cleanup EXIT
# Settings only in Dovecot's plugin { } block: no atsmail.conf anywhere.
export TB_DOVECOT_PLUGIN_DIR=$PW/modules TB_DOVECOT_MAIL_PLUGINS=atsmail
export TB_DOVECOT_PLUGIN_SETTINGS="  atsmail_socket = $SOCK
  atsmail_timeout = ${TIMEOUT_S}s"
tb_start postfix dovecot
trap cleanup EXIT
fake_start

# set_mode LINE...: what the fake answers from now on
set_mode() { printf '%s\n' "$@" >"$CONTROL"; }
mid() { echo "<$1.$RUN.$(date +%s%N)@e2e.test>"; }
imap() { python3 "$top_srcdir/tests/testbed/imap.py" -p "$TB_IMAP_PORT" "$@"; }
# mx FROM TO SWAKS-ARGS...: through Postfix's MX service
mx() {
	local from=$1 to=$2
	shift 2
	swaks --server 127.0.0.1 --port "$TB_SMTP_PORT" --from "$from" --to "$to" "$@" \
		>>"$PW/swaks.log" 2>&1
}
# lmtp TO MSGID: straight to Dovecot's LMTP; prints the (last) recipient's
# reply to the data ("<-  250 2.0.0 ...", "<** 451 4.2.0 ..."), not QUIT's
lmtp() {
	swaks --server 127.0.0.1 --port "$TB_LMTP_PORT" --protocol LMTP --from taro@candidate.test \
		--to "$1" --header "Message-Id: $2" --header "Subject: lmtp" --body "lmtp" 2>&1 |
		sed -n 's/^<[-*~]* *\([245][0-9][0-9] [0-9.]*\) .*/\1/p' | grep -v '^221 ' | tail -1
}
# asked MSGID: how many requests the fake got for that Message-ID
asked() { grep -c -F "\"message_id\": \"$1\"" "$REQS" 2>/dev/null; }
# request_field MSGID FIELD: a field of the last request for MSGID
request_field() {
	python3 - "$REQS" "$1" "$2" <<'PY'
import json, sys
last = None
for line in open(sys.argv[1], encoding="utf-8"):
    e = json.loads(line)
    if e.get("message_id") == sys.argv[2]:
        last = e
print("" if last is None else last.get(sys.argv[3], ""))
PY
}
# queue_id MSGID: Postfix's queue ID of the mail (from the maillog)
queue_id() {
	local q=
	for _ in $(seq 1 100); do
		q=$(awk -v m="message-id=$1" 'index($0, m) { sub(":", "", $6); print $6; exit }' "$TB_MAILLOG")
		[ -n "$q" ] && break
		sleep 0.1
	done
	echo "$q"
}
# status_of QID: "deferred <dsn>" / "sent <dsn>" of the queue ID's last LMTP attempt (<= 15 s)
status_of() {
	local s=
	for _ in $(seq 1 150); do
		s=$(awk -v q="$1:" '$6 == q && /postfix-tb\/lmtp/ && /status=/ {
			match($0, /dsn=[0-9.]+/); d = substr($0, RSTART + 4, RLENGTH - 4)
			match($0, /status=[a-z]+/); st = substr($0, RSTART + 7, RLENGTH - 7); last = st " " d }
			END { print last }' "$TB_MAILLOG")
		[ -n "$s" ] && break
		sleep 0.1
	done
	echo "$s"
}
in_queue() { postqueue -c "$TB_POSTFIX_CONF" -j 2>/dev/null | grep -c "\"queue_id\": *\"$1\""; }
count_of() { imap -m "${3:-INBOX}" "$1" "$2" search "HEADER Message-ID \"$4\"" 2>/dev/null | wc -w; }

tap_ok "no atsmail_config in Dovecot's configuration" \
	bash -c "! grep -q 'atsmail_config\|atsmail\.conf' '$TB_DOVECOT_CONF'"

# 1. OK with keywords: on the mail, written with it
set_mode "mode ok" 'keywords $ATS $ATSReply'
M=$(mid ok)
mx taro@candidate.test alice@atsmail.test --header "Message-Id: $M" --header "Subject: Re: Interview" --body "Thank you."
F=$(imap -w 10 alice@atsmail.test alicepw flags "$M" 2>&1)
tap_is "OK answer: the keywords it names are on the delivered mail" "$F" '$ATS $ATSReply'
tap_is "OK answer: asked once" "$(asked "$M")" "1"
tap_is "request: how, user, mailbox, envelope sender" \
	"$(for f in how user mailbox env-from; do printf '%s|' "$(request_field "$M" "$f")"; done)" \
	"delivery|alice@atsmail.test|INBOX|taro@candidate.test|"
tap_ok "request: size and SHA-256 are those of the whole message as delivered" python3 - "$REQS" "$M" <<'PY'
import hashlib, json, sys
e = [json.loads(l) for l in open(sys.argv[1], encoding="utf-8") if sys.argv[2] in l][-1]
head = e["head"].encode("latin-1")
ok = int(e["size"]) == len(head) == e["head_len"] and hashlib.sha256(head).hexdigest() == e["sha256"]
print(e["size"], e["head_len"], e["sha256"]); sys.exit(0 if ok else 1)
PY

# 2. TEMPFAIL -> Postfix defers (4.x.x), nothing in the mailbox; then the
#    service is back: one delivery, two requests
set_mode "mode tempfail"
M=$(mid tempfail)
mx taro@candidate.test alice@atsmail.test --header "Message-Id: $M" --header "Subject: tempfail" --body "later"
Q=$(queue_id "$M")
tap_is "TEMPFAIL: Postfix defers with LMTP's 4.2.0" "$(status_of "$Q")" "deferred 4.2.0"
tap_ok "TEMPFAIL: LMTP's reply names atsmail" grep -q "$Q: .*said: 451 4.2.0 <alice@atsmail.test> atsmail could not file this mail" "$TB_MAILLOG"
tap_is "TEMPFAIL: the mail stays in Postfix's queue" "$(in_queue "$Q")" "1"
tap_is "TEMPFAIL: nothing in the mailbox" "$(count_of alice@atsmail.test alicepw INBOX "$M")" "0"
tap_ok "TEMPFAIL: Dovecot's log says the mail is not filed and refused for now" \
	grep -q "Warning: .*atsmail: mail $M: not filed: atsmaild answered TEMPFAIL" "$TB_DOVECOT_LOG"
set_mode "mode ok" 'keywords $ATS'
postqueue -c "$TB_POSTFIX_CONF" -f
F=$(imap -w 15 alice@atsmail.test alicepw flags "$M" 2>&1)
tap_is "retry after TEMPFAIL: delivered with the keywords" "$F" '$ATS'
sleep 0.5
tap_is "retry after TEMPFAIL: delivered exactly once" "$(count_of alice@atsmail.test alicepw INBOX "$M")" "1"
tap_is "retry after TEMPFAIL: the service was asked twice" "$(asked "$M")" "2"
tap_is "retry after TEMPFAIL: the queue is empty" "$(in_queue "$Q")" "0"

# 3. ERROR (the service found the request malformed) -> temporary failure too
set_mode "mode error" "text line 3: something is off"
M=$(mid error)
tap_is "ERROR answer: LMTP answers 451 4.2.0" "$(lmtp alice@atsmail.test "$M")" "451 4.2.0"
tap_ok "ERROR answer: logged at error level with the service's text" \
	grep -q "Error: .*atsmail: mail $M: not filed: atsmaild answered ERROR.*line 3: something is off" "$TB_DOVECOT_LOG"
tap_is "ERROR answer: nothing in the mailbox" "$(count_of alice@atsmail.test alicepw INBOX "$M")" "0"

# 3b. dovecot-lda goes through the same copy(): EX_TEMPFAIL, then keywords
# (run as the test bed runs the programs that load the plugin: $TB_DOVECOT_EXEC)
LDA=/usr/lib/dovecot/dovecot-lda
if [ -x "$LDA" ]; then
	M=$(mid lda)
	printf 'From: taro@candidate.test\nMessage-ID: %s\nSubject: lda\n\nlda\n' "$M" >"$PW/lda.eml"
	set_mode "mode tempfail"
	"$TB_DOVECOT_EXEC" "$LDA" -c "$TB_DOVECOT_CONF" -d alice@atsmail.test -f taro@candidate.test <"$PW/lda.eml" >/dev/null 2>&1
	tap_is "dovecot-lda with TEMPFAIL: exits 75 (EX_TEMPFAIL)" "$?" "75"
	tap_is "dovecot-lda with TEMPFAIL: nothing in the mailbox" "$(count_of alice@atsmail.test alicepw INBOX "$M")" "0"
	set_mode "mode ok" 'keywords $ATS'
	"$TB_DOVECOT_EXEC" "$LDA" -c "$TB_DOVECOT_CONF" -d alice@atsmail.test -f taro@candidate.test <"$PW/lda.eml" >/dev/null 2>&1
	tap_is "dovecot-lda with OK: exits 0, the keyword on the mail" \
		"$?|$(imap -w 5 alice@atsmail.test alicepw flags "$M" 2>&1)" '0|$ATS'
else
	tap_pass "# SKIP dovecot-lda is not installed"
fi

# 4. a service that never answers: refused within atsmail_timeout
set_mode "mode hang"
M=$(mid hang)
t0=$(date +%s%N)
R=$(lmtp alice@atsmail.test "$M")
ms=$((($(date +%s%N) - t0) / 1000000))
tap_is "hanging service: LMTP answers 451 4.2.0" "$R" "451 4.2.0"
tap_ok "hanging service: answered after the timeout, within it + 2 s (${ms} ms)" \
	test "$ms" -ge $((TIMEOUT_S * 1000)) -a "$ms" -lt $((TIMEOUT_S * 1000 + 2000))
tap_ok "hanging service: the log names the timeout" \
	grep -q "atsmail: mail $M: not filed: no answer from $SOCK within $((TIMEOUT_S * 1000)) ms" "$TB_DOVECOT_LOG"
M=$(mid hangmx)
mx taro@candidate.test bob@atsmail.test --header "Message-Id: $M" --body "hang"
Q=$(queue_id "$M")
tap_is "hanging service: Postfix defers the mail" "$(status_of "$Q")" "deferred 4.2.0"
postsuper -c "$TB_POSTFIX_CONF" -d "$Q" >/dev/null 2>&1

# 5. the socket is missing (service stopped): deferred
set_mode "mode ok" 'keywords $ATS'
fake_stop
rm -f "$SOCK"
M=$(mid nosocket)
mx taro@candidate.test alice@atsmail.test --header "Message-Id: $M" --body "no socket"
Q=$(queue_id "$M")
tap_is "socket missing: Postfix defers with 4.2.0" "$(status_of "$Q")" "deferred 4.2.0"
tap_ok "socket missing: the log says the socket cannot be reached" \
	grep -q "atsmail: mail $M: not filed: cannot connect to the filing socket $SOCK: No such file or directory" "$TB_DOVECOT_LOG"
tap_is "socket missing: nothing in the mailbox" "$(count_of alice@atsmail.test alicepw INBOX "$M")" "0"
fake_start
postqueue -c "$TB_POSTFIX_CONF" -f
tap_is "service back: the deferred mail is delivered with its keyword" \
	"$(imap -w 15 alice@atsmail.test alicepw flags "$M" 2>&1)" '$ATS'

# 6. atsmail_on_failure = deliver (for one user, from the userdb)
printf '%s\n' "eve@atsmail.test:{PLAIN}evepw::::::userdb_atsmail_on_failure=deliver" \
	"frank@atsmail.test:{PLAIN}frankpw::::::userdb_atsmail_timeout=forever" >>"$TB_DOVECOT_USERS"
for u in eve frank; do
	for _ in $(seq 1 40); do
		doveadm -c "$TB_DOVECOT_CONF" auth login "$u@atsmail.test" "${u}pw" >/dev/null 2>&1 && break
		sleep 0.1
	done
done
set_mode "mode tempfail"
M=$(mid deliver)
mx taro@candidate.test eve@atsmail.test --header "Message-Id: $M" --header "Subject: deliver anyway" --body "x"
tap_ok "on_failure = deliver: the mail is delivered" imap -w 10 eve@atsmail.test evepw find "$M"
tap_is "on_failure = deliver: without keywords" "$(imap eve@atsmail.test evepw flags "$M" 2>&1)" ""
tap_ok "on_failure = deliver: an error in Dovecot's log names the mail and says it is not filed" \
	grep -q "Error: .*atsmail: mail $M: not filed: .*delivered without keywords (atsmail_on_failure = deliver)" "$TB_DOVECOT_LOG"

# 7. a bad setting: that user's mail is refused for now, the setting named
set_mode "mode ok" 'keywords $ATS'
M=$(mid badsetting)
tap_is "bad atsmail_timeout: LMTP answers 451 4.2.0" "$(lmtp frank@atsmail.test "$M")" "451 4.2.0"
tap_ok "bad atsmail_timeout: the error names the setting and its value" \
	grep -q "Error: .*atsmail: atsmail_timeout = 'forever': not a time" "$TB_DOVECOT_LOG"
tap_is "bad atsmail_timeout: the service is not asked" "$(asked "$M")" "0"

# 8. IMAP APPEND: TEMPFAIL -> NO, mailbox unchanged; OK -> keywords
imap alice@atsmail.test alicepw create Sent >/dev/null 2>&1
M=$(mid append)
printf 'From: alice@atsmail.test\r\nTo: taro@candidate.test\r\nMessage-ID: %s\r\nSubject: sent\r\n\r\nhello\r\n' \
	"$M" >"$PW/append.eml"
set_mode "mode tempfail"
before=$(imap -m Sent alice@atsmail.test alicepw count)
out=$(imap alice@atsmail.test alicepw append Sent "$PW/append.eml" 2>&1)
rc=$?
tap_ok "APPEND with TEMPFAIL: the APPEND fails with NO [UNAVAILABLE] naming atsmail (rc $rc: $out)" \
	bash -c "[ $rc -ne 0 ] && printf '%s' \"\$1\" | grep -q 'NO .*\[UNAVAILABLE\] atsmail could not file this mail'" _ "$out"
tap_is "APPEND with TEMPFAIL: the mailbox is unchanged" "$(imap -m Sent alice@atsmail.test alicepw count)" "$before"
SENT=$TB_MAIL_DIR/alice@atsmail.test/Maildir/.Sent
tap_is "APPEND with TEMPFAIL: no file left in the maildir (new, cur, tmp)" \
	"$(find "$SENT/new" "$SENT/cur" "$SENT/tmp" -type f | wc -l)" "$before"
set_mode "mode ok" 'keywords $ATS $ATSSent'
imap alice@atsmail.test alicepw append Sent "$PW/append.eml" >/dev/null 2>&1
tap_is "APPEND with OK: the keywords are set" "$(imap -w 5 -m Sent alice@atsmail.test alicepw flags "$M" 2>&1)" '$ATS $ATSSent'
tap_is "APPEND: asked as an append of Sent" \
	"$(request_field "$M" how)|$(request_field "$M" mailbox)|$(asked "$M")" "append|Sent|2"

# 9. several recipients in one LMTP transaction: each asked, one connection
set_mode "mode ok" 'keywords $ATS'
M=$(mid tworcpt)
mx '<>' alice@atsmail.test,bob@atsmail.test --header "Message-Id: $M" --header "Subject: two" --body "two"
Q=$(queue_id "$M")
fa=$(imap -w 10 alice@atsmail.test alicepw flags "$M" 2>&1)
fb=$(imap -w 10 bob@atsmail.test bobpw flags "$M" 2>&1)
tap_is "two recipients: both delivered with the keyword" "$fa|$fb" '$ATS|$ATS'
tap_is "two recipients: one LMTP transaction (one session ID, :R2 for the second)" \
	"$(grep -c "$Q: to=<bob@atsmail.test>.*status=sent (250 2.0.0 <bob@atsmail.test> [^ ]*:R2 Saved" "$TB_MAILLOG")" "1"
tap_ok "two recipients: each asked for itself, over one kept connection, the null sender as ''" \
	python3 - "$REQS" "$M" <<'PY'
import json, sys
es = [json.loads(l) for l in open(sys.argv[1], encoding="utf-8")]
es = [e for e in es if e.get("message_id") == sys.argv[2]]
print([(e["user"], e["conn"], e.get("env-from")) for e in es])
ok = sorted(e["user"] for e in es) == ["alice@atsmail.test", "bob@atsmail.test"] and \
    len({e["conn"] for e in es}) == 1 and all(e.get("env-from") == "" for e in es)
sys.exit(0 if ok else 1)
PY

# 10. connections the service closes: replaced (one LMTP session, so one
#     Dovecot process and its kept connection)
M1=$(mid keep1) M2=$(mid keep2) M3=$(mid keep3)
out=$(python3 - "$TB_LMTP_PORT" "$CONTROL" "$M1" "$M2" "$M3" <<'PY'
import smtplib, sys, time
port, control, m1, m2, m3 = sys.argv[1:]
def mode(*lines):
    open(control, "w").write("\n".join(lines) + "\n")
def send(s, m):
    msg = "From: taro@candidate.test\r\nTo: alice@atsmail.test\r\nMessage-ID: %s\r\nSubject: k\r\n\r\nk\r\n" % m
    try:
        s.sendmail("taro@candidate.test", ["alice@atsmail.test"], msg)
        return "250"
    except smtplib.SMTPException as e:
        return str(getattr(e, "smtp_code", "")) or str(e)
s = smtplib.LMTP("127.0.0.1", int(port))
s.ehlo("client.test")
mode("mode ok", "keywords $ATS", "close-after yes")
r1 = send(s, m1)
time.sleep(0.2)          # the service closes the idle connection
r2 = send(s, m2)
mode("mode ok", "keywords $ATS")
send(s, m1.replace("keep1", "keep0"))
mode("mode close")       # the kept connection breaks under the request
r3 = send(s, m3)
s.quit()
print(r1, r2, r3)
PY
)
tap_is "closed connections: LMTP replies (ok, ok, refused)" "$out" "250 250 451"
tap_is "a connection closed while idle is replaced: each mail asked once" "$(asked "$M1")|$(asked "$M2")" "1|1"
tap_ok "the second mail came over another connection" \
	test "$(request_field "$M2" conn)" -gt "$(request_field "$M1" conn)"
tap_is "a connection broken under the request is replaced once: asked twice, then refused" "$(asked "$M3")" "2"

# 11. a large mail: the first atsmail_head_max bytes (default 1M), size and
#     hash of all of it
M=$(mid large)
python3 - "$TB_SMTP_PORT" "$M" <<'PY'
import smtplib, sys
port, m = sys.argv[1:]
body = ("x" * 998 + "\r\n") * 2100
msg = "From: taro@candidate.test\r\nTo: bob@atsmail.test\r\nMessage-ID: %s\r\nSubject: large\r\n\r\n%s" % (m, body)
s = smtplib.SMTP("127.0.0.1", int(port)); s.sendmail("taro@candidate.test", ["bob@atsmail.test"], msg); s.quit()
PY
imap -w 15 bob@atsmail.test bobpw find "$M" >/dev/null 2>&1
tap_is "large mail: the head sent is 1048576 bytes" "$(request_field "$M" head_len)" "1048576"
tap_ok "large mail: the size is the whole message's ($(request_field "$M" size))" \
	test "$(request_field "$M" size)" -gt 2100000

# 12. no atsmail_socket: the plugin stands aside (logged once, at info)
# (Dovecot restarted without the setting: its master by its PID file)
master=$(head -1 "$TB_DIR/dovecot/run/master.pid")
doveadm -c "$TB_DOVECOT_CONF" stop >/dev/null 2>&1
for _ in $(seq 1 200); do kill -0 "$master" 2>/dev/null || break; sleep 0.05; done
sed -i "/atsmail_socket = /d" "$TB_DOVECOT_CONF"
dovecot -c "$TB_DOVECOT_CONF" 2>>"$TB_DOVECOT_LOG" || tap_bail "Dovecot did not restart"
for _ in $(seq 1 100); do ss -Hltn | grep -q "127.0.0.1:$TB_LMTP_PORT " && break; sleep 0.05; done
M=$(mid aside)
# one LMTP transaction for two users: one process
tap_is "no atsmail_socket: delivered (LMTP 250)" \
	"$(lmtp alice@atsmail.test,bob@atsmail.test "$M")" "250 2.0.0"
tap_is "no atsmail_socket: without keywords" \
	"$(imap -w 5 alice@atsmail.test alicepw flags "$M" 2>&1)|$(imap -w 5 bob@atsmail.test bobpw flags "$M" 2>&1)" "|"
tap_is "no atsmail_socket: the service is not asked" "$(asked "$M")" "0"
tap_is "no atsmail_socket: said once for the LMTP process (two users), at info" \
	"$(grep -c "lmtp(.*Info: .*atsmail: atsmail_socket is not set" "$TB_DOVECOT_LOG")" "1"
tap_is "the fake service found no malformed request" "$(grep -c '"malformed"' "$REQS")" "0"
tap_done
