#!/bin/bash
# tests/e2e/replay.sh -- `atsmailctl replay` (ctl/cmd-replay.c) against a
# private PostgreSQL of the test bed:
#
# (a) a journal moved from another host.  A second atsmaild ("M2"), whose
#     snapshot was loaded once but which cannot reach the database any
#     more, decides and journals real mail: ATS mail sent through its
#     milter socket (miltertest; a phase command in Bcc), a reply to it and
#     an ISO-2022-JP reply filed through its filing socket (the protocol of
#     docs/filing-protocol.md), a stranger's mail (not journaled).  Replay
#     refuses M2's journal directory while M2 runs; its segments, copied
#     into a directory of their own, are recorded exactly once (the reply
#     finds the sent mail by its key, the phase command and the phase rule
#     apply); a second copy replayed is all duplicates; with PostgreSQL
#     stopped replay exits 4 and keeps them; and M2, once it reaches the
#     database again, finds every entry of its journal a duplicate.
# (b) format-1 entries of the milter of earlier releases (kind
#     outbound.message, written by tests/e2e/journal-v1 with the JSON
#     writer of lib/outbound/facts.c): without a loaded snapshot replay
#     says what to do, exits 1 and keeps them; after `atsmailctl snapshot
#     sync` they are decided and recorded (a bad command skipped and
#     named, non-ATS mail dropped, a bad entry and a torn line set aside);
#     the same mail journaled again is a duplicate; PostgreSQL down: exit
#     4, kept, applied once it is back.
# The inbound format-1 entries are tests/e2e/replay-inbound.sh's.
set -u
: "${top_srcdir:=$(cd "$(dirname "$0")/../.." && pwd)}"
: "${top_builddir:=$top_srcdir}"
. "$top_srcdir/tests/e2e/plugin-lib.sh"

JV1=$top_builddir/tests/e2e/journal-v1
CTL=$AD_CTL
[ -x "$JV1" ] || tap_skip_all "tests/e2e/journal-v1 is not built"
[ -x "$CTL" ] || tap_skip_all "atsmailctl is not built"
command -v miltertest >/dev/null || tap_skip_all "miltertest is not installed"
ad_prepare M2
tb_start pg
trap ad_cleanup EXIT
ad_db
q() { tb_psql -c "$1"; }

# file_mail SOCKET USER MAILBOX FILE: one filing request; prints
# "STATUS result keyword..." of the answer
file_mail() {
	python3 - "$@" <<'PY'
import hashlib, socket, sys, time
sock, user, mailbox, path = sys.argv[1:5]
msg = open(path, "rb").read()
def esc(v):
    return "".join("%%%02X" % ord(c) if c == "%" or ord(c) < 0x20 else c for c in v)
env_from = b""
for line in msg.split(b"\n"):
    if line.lower().startswith(b"return-path:"):
        env_from = line.split(b":", 1)[1].strip().strip(b"<>")
        break
    if not line.strip():
        break
fields = [("user", user), ("mailbox", mailbox), ("how", "delivery"),
          ("env-from", env_from.decode()), ("size", str(len(msg))),
          ("sha256", hashlib.sha256(msg).hexdigest()), ("received", str(int(time.time()))),
          ("head", str(len(msg)))]
req = "FILE\t1\n" + "".join("%s\t%s\n" % (k, esc(v)) for k, v in fields) + "\n"
s = socket.socket(socket.AF_UNIX)
s.settimeout(10)
s.connect(sock)
s.sendall(req.encode() + msg)
buf = b""
while not buf.endswith(b"\n\n"):
    d = s.recv(4096)
    if not d:
        break
    buf += d
lines = buf.decode().split("\n")
out = [lines[0].split("\t")[0]]
for l in lines[1:]:
    if l.startswith("result\t") or l.startswith("keyword\t"):
        out.append(l.split("\t", 1)[1])
print(" ".join(out))
PY
}

# ------------------------------------------------------------- (a)
M2=$AD_M2
PW=$M2     # the journal helpers of plugin-lib.sh look at $PW/journal
ad_conf M2
ad_start M2
ad_stop M2
# the "other host": its snapshot loaded, the database out of its reach
NOPORT=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
AD_PGHOST=127.0.0.1 AD_PGPORT=$NOPORT ad_conf M2
ad_start M2

SENT="sent.$$@atsmail.test"
cat >"$TB_DIR/send.lua" <<LUA
-- alice sends ATS mail to shiro (resume 1008) with ats+phase.active in Bcc
local conn = mt.connect(sock, 40, 0.25)
if conn == nil then mt.echo("FAIL: connect"); error("connect") end
mt.negotiate(conn, nil, nil, nil)
mt.conninfo(conn, "client.atsmail.test", "192.0.2.20")
mt.macro(conn, SMFIC_MAIL, "{auth_authen}", "alice@atsmail.test", "i", "QREPLAY$$")
mt.mailfrom(conn, "<alice@atsmail.test>")
mt.rcptto(conn, "<shiro@candidate.test>")
mt.rcptto(conn, "<ats+phase.active@ats.atsmail.test>")
if not mt.test_option(conn, SMFIP_NODATA) then mt.data(conn) end
for _, h in ipairs({ { "From", "Alice <alice@atsmail.test>" }, { "To", "shiro@candidate.test" },
                     { "Subject", "Interview" }, { "Message-ID", "<$SENT>" },
                     { "Date", "Sat, 21 Nov 2026 05:00:00 +0000" } }) do
	mt.header(conn, h[1], h[2])
end
if not mt.test_option(conn, SMFIP_NOEOH) then mt.eoh(conn) end
mt.bodystring(conn, "Dear Shiro,\r\nshall we meet on Monday?\r\n")
mt.eom(conn)
local rep = mt.getreply(conn)
if rep ~= SMFIR_CONTINUE and rep ~= SMFIR_ACCEPT then mt.echo("FAIL: reply " .. tostring(rep)); error("reply") end
if not mt.eom_check(conn, MT_HDRADD, "X-ATS-Ref") then mt.echo("FAIL: not tagged"); error("tag") end
mt.echo("PASS " .. mt.getheader(conn, "X-ATS-Ref", 0))
mt.disconnect(conn)
LUA
out=$(miltertest -s "$TB_DIR/send.lua" -D "sock=unix:$M2/milter.sock" 2>&1)
tap_ok "M2 (database out of reach): ATS mail through its milter is accepted and tagged" \
	sh -c "printf '%s\n' \"\$1\" | grep -q '^PASS a'" _ "$out"
TOKEN=$(printf '%s\n' "$out" | awk '/^PASS/ { print $2 }')

printf 'Return-Path: <shiro@candidate.test>\r\nDelivered-To: alice@atsmail.test\r\nFrom: shiro@candidate.test\r\nTo: alice@atsmail.test\r\nSubject: Re: Interview\r\nMessage-ID: <reply.%s@candidate.test>\r\nIn-Reply-To: <%s>\r\n\r\nMonday is fine.\r\n' \
	"$$" "$SENT" >"$TB_DIR/reply.eml"
printf 'Return-Path: <friend@example.com>\r\nFrom: friend@example.com\r\nTo: alice@atsmail.test\r\nSubject: Lunch?\r\nMessage-ID: <lunch.%s@example.com>\r\n\r\nHi.\r\n' \
	"$$" >"$TB_DIR/stranger.eml"
tap_is "M2: the reply to it is filed from M2's snapshot" \
	"$(file_mail "$M2/filing.sock" alice@atsmail.test INBOX "$TB_DIR/reply.eml")" 'OK filed $ATS'
tap_is "M2: an ISO-2022-JP reply to recorded mail is filed" \
	"$(file_mail "$M2/filing.sock" alice@atsmail.test INBOX "$top_srcdir/tests/data/inbound-reply-iso2022jp.eml")" 'OK filed $ATS'
tap_is "M2: a stranger's mail is not ATS mail" \
	"$(file_mail "$M2/filing.sock" alice@atsmail.test INBOX "$TB_DIR/stranger.eml")" 'OK ignored'
tap_is "M2: three entries in its journal" "$(journal_count)" "3"
tap_is "M2: nothing of them in PostgreSQL" \
	"$(q "select count(*) from atsmail.messages where id >= 10000")" "0"

replay() {  # replay DIR: OUT (stdout), RC, SUMMARY (its first line)
	OUT=$("$CTL" -c "$TB_DIR/replay.conf" replay --journal-dir "$1" 2>"$TB_DIR/replay.err")
	RC=$?
	SUMMARY=$(printf '%s\n' "$OUT" | head -1)
}
cat >"$TB_DIR/replay.conf" <<CONF
db_conninfo = host=$TB_PGHOST port=$TB_PGPORT dbname=$TB_DB user=atsm_service
db_connect_timeout = 2s
ats_domain = ats.atsmail.test
company_domains = atsmail.test
journal_dir = $TB_DIR/journal
snapshot_dir = $TB_DIR/snapshot
CONF

replay "$M2/journal"
tap_is "replay of a running atsmaild's journal directory: exit 1" "$RC" "1"
tap_ok "it says the directory is in use by a running atsmaild" grep -q "in use by a running atsmaild" "$TB_DIR/replay.err"
tap_is "and records nothing, leaving M2's segments as they were" \
	"$(q "select count(*) from atsmail.messages where id >= 10000")|$(journal_count)|$(ls "$M2/journal" | grep -c replaying)" "0|3|0"

ad_stop M2
MOVED=$TB_DIR/moved
mkdir -m 700 "$MOVED"
cp "$M2"/journal/atsmaild.$SEG_GLOB.jsonl "$MOVED/"
replay "$MOVED"
tap_is "the moved segments: exit 0" "$RC" "0"
tap_is "the moved segments: all three recorded" "$OUT" "applied 3, duplicate 0, rejected 0, malformed 0, remaining 0
of the applied: 3 recorded, 0 not ATS mail (nothing recorded)"
tap_is "the sent mail recorded once, with its token, on resume 1008" \
	"$(q "select count(*)||':'||min(m.token)||':'||string_agg(l.target_kind||l.target_id||':'||l.rule, ',') from atsmail.messages m join atsmail.message_links l on l.message_id=m.id where m.direction='out' and m.rfc_message_id='$SENT'")" \
	"1:$TOKEN:resume1008:recipient_address"
tap_is "its phase command applied: resume 1008 new -> active, cause mail_sent, by alice" \
	"$(q "select h.from_phase||'->'||h.to_phase||':'||h.cause||':'||h.actor_id from atsmail.phase_history h join atsmail.messages m on m.id=h.message_id where m.rfc_message_id='$SENT'")" \
	"new->active:mail_sent:1"
tap_is "the reply found the sent mail by its key: linked by In-Reply-To, in its thread" \
	"$(q "select l.target_kind||l.target_id||':'||l.rule||':'||t.rfc_message_id from atsmail.messages m join atsmail.message_links l on l.message_id=m.id join atsmail.messages t on t.id=m.thread_id where m.rfc_message_id='reply.$$@candidate.test'")" \
	"resume1008:in_reply_to:$SENT"
tap_is "the ISO-2022-JP reply: subject decoded, phase rule 9001 on resume 1001" \
	"$(q "select m.subject||':'||h.from_phase||'->'||h.to_phase||':'||(select o.payload->>'rule_id' from atsmail.outbox o where o.event_type='phase.changed' and (o.payload->>'message_id')::bigint=m.id) from atsmail.messages m join atsmail.phase_history h on h.message_id=m.id where m.rfc_message_id='reply-jp-1@candidate.test'")" \
	"Re: 面接日程のご連絡:new->active:9001"
tap_is "the stranger's mail is nowhere" "$(q "select count(*) from atsmail.messages where rfc_message_id='lunch.$$@example.com'")" "0"
tap_is "the moved directory is empty afterwards" "$(ls -A "$MOVED" | grep -v '^\.replay\.lock$' | wc -l)" "0"

cp "$M2"/journal/atsmaild.$SEG_GLOB.jsonl "$MOVED/"
replay "$MOVED"
tap_is "the same segments replayed again: exit 0, all duplicates" "$RC|$SUMMARY" \
	"0|applied 0, duplicate 3, rejected 0, malformed 0, remaining 0"
tap_is "still one message each, one outbox event each" \
	"$(q "select count(*)||':'||(select count(*) from atsmail.outbox o where (o.payload->>'message_id')::bigint in (select id from atsmail.messages where id >= 10000) and o.event_type in ('message.sent','message.received')) from atsmail.messages where id >= 10000")" "3:3"

cp "$M2"/journal/atsmaild.$SEG_GLOB.jsonl "$MOVED/"
"$top_srcdir/tests/testbed/testbed.sh" pg-stop "$TB_DIR" >/dev/null 2>&1
replay "$MOVED"
tap_is "PostgreSQL stopped: replay exits 4" "$RC" "4"
tap_ok "and keeps the entries" sh -c "cat '$MOVED'/*.jsonl '$MOVED'/*.replaying 2>/dev/null | grep -c '\"key\"' | grep -qx 3"
"$top_srcdir/tests/testbed/testbed.sh" pg-start "$TB_DIR" >/dev/null 2>&1
replay "$MOVED"
tap_is "PostgreSQL back: the kept entries are duplicates, nothing remains" "$RC|$SUMMARY" \
	"0|applied 0, duplicate 3, rejected 0, malformed 0, remaining 0"

# M2 reaches the database again: its recorder finds its whole journal recorded
ad_conf M2
ad_start M2
tap_ok "M2's recorder drains its journal" journal_drained
ad_stop M2
tap_ok "M2's recorder found all three entries duplicates" \
	grep -q "recorder: [0-9]* batches, 0 recorded, 3 duplicates, 0 set aside" "$(ad_log M2)"
tap_is "still three messages" "$(q "select count(*) from atsmail.messages where id >= 10000")" "3"

# ------------------------------------------------------------- (b)
J=$TB_DIR/journal
mkdir -m 700 "$J"
SUBJECT='=?ISO-2022-JP?B?GyRCRnxLXDhsJE43b0w+GyhC?='
# outbound N LOGIN RCPTS TO MSGID: a format-1 entry as the milter wrote it
outbound() {
	printf 'From: %s\r\nTo: %s\r\nSubject: %s\r\nMessage-ID: <%s>\r\nDate: Sat, 21 Nov 2026 05:00:00 +0000\r\n\r\nHello.\r\n' \
		"$2" "$4" "$SUBJECT" "$5" >"$TB_DIR/out$1.eml"
	"$JV1" outbound "$J" "Q$1.$$" "$2" "$2" "$3" "$TB_DIR/out$1.eml"
}
K1=$(outbound 1 alice@atsmail.test \
	jiro@candidate.test,ats+phase.active@ats.atsmail.test,ats+nosuch.1@ats.atsmail.test \
	jiro@candidate.test "m1.$$@atsmail.test")
cp "$J/milter.jsonl" "$TB_DIR/k1.line"
K2=$(outbound 2 alice@atsmail.test friend@example.com friend@example.com "m2.$$@atsmail.test")
printf '{"v":1,"key":"replay-key-bad","kind":"outbound.message","at":"2026-11-21T05:00:00Z","host":"test","data":{"v":1,"env_rcpts":[],"idem_key":"replay-key-bad"}}\n' >>"$J/milter.jsonl"
printf '{"v":1,"key":"torn' >>"$J/milter.jsonl"
echo >>"$J/milter.jsonl"

replay "$J"
tap_is "format 1 without a loaded snapshot: exit 1" "$RC" "1"
tap_ok "it says to start atsmaild or run atsmailctl snapshot sync" \
	grep -q "start atsmaild, or run \`atsmailctl snapshot sync\`, then replay again" "$TB_DIR/replay.err"
tap_is "and records nothing, keeping the entries" \
	"$(q "select count(*) from atsmail.messages where rfc_message_id like 'm_.$$@atsmail.test'")|$(cat "$J"/*.jsonl "$J"/*.replaying 2>/dev/null | grep -c "$K1")" "0|1"

"$CTL" -c "$TB_DIR/replay.conf" snapshot sync >"$TB_DIR/sync.log" 2>&1 || tap_bail "snapshot sync: $(cat "$TB_DIR/sync.log")"
replay "$J"
tap_is "format 1 after snapshot sync: exit 1 (entries set aside)" "$RC" "1"
tap_is "summary" "$SUMMARY" "applied 2, duplicate 0, rejected 1, malformed 1, remaining 0"
tap_is "ATS mail recorded once, subject in UTF-8" \
	"$(q "select count(*)||':'||min(subject) from atsmail.messages where idempotency_key = '$K1'")" "1:日本語の件名"
tap_is "its phase command applied to resume 1003, cause mail_sent, actor alice" \
	"$(q "select r.phase||':'||h.cause||':'||h.actor_id from atsmail.resumes r join atsmail.phase_history h on h.kind='resume' and h.record_id=r.id join atsmail.messages m on m.id=h.message_id where r.id=1003 and m.idempotency_key='$K1'")" \
	"active:mail_sent:1"
tap_ok "the bad command was skipped and named" grep -q "unknown command \"nosuch.1\": ats+nosuch.1@ats.atsmail.test" "$TB_DIR/replay.err"
tap_is "non-ATS mail not recorded" "$(q "select count(*) from atsmail.messages where idempotency_key = '$K2'")" "0"
tap_is "bad entry and torn line set aside" "$(wc -l <"$J/rejected.jsonl")" "2"
tap_ok "the reason names the field" grep -q "env_from" "$TB_DIR/replay.err"

cat "$TB_DIR/k1.line" >>"$J/milter.jsonl"   # the same mail journaled a second time
replay "$J"
tap_is "the same entry again: exit 0, a duplicate" "$RC|$SUMMARY" \
	"0|applied 0, duplicate 1, rejected 0, malformed 0, remaining 0"
tap_is "still one message, one message.sent event" \
	"$(q "select count(*)||':'||(select count(*) from atsmail.outbox o where o.event_type='message.sent' and (o.payload->>'message_id')::bigint=min(m.id)) from atsmail.messages m where m.idempotency_key='$K1'")" "1:1"

"$top_srcdir/tests/testbed/testbed.sh" pg-stop "$TB_DIR" >/dev/null 2>&1
K3=$(outbound 3 bob@atsmail.test hanako@candidate.test hanako@candidate.test "m3.$$@atsmail.test")
replay "$J"
tap_is "format 1, PostgreSQL stopped: exit 4" "$RC" "4"
tap_ok "the entry is kept" grep -rq "$K3" "$J" --include='*.jsonl' --include='*.replaying'
"$top_srcdir/tests/testbed/testbed.sh" pg-start "$TB_DIR" >/dev/null 2>&1
replay "$J"
tap_is "PostgreSQL back: applied" "$RC|$SUMMARY" "0|applied 1, duplicate 0, rejected 0, malformed 0, remaining 0"
tap_is "recorded once, owned by bob" "$(q "select count(*) from atsmail.messages where idempotency_key = '$K3' and owner_id = 2")" "1"
replay "$J"
tap_is "nothing left" "$SUMMARY" "applied 0, duplicate 0, rejected 0, malformed 0, remaining 0"

: >"$TB_DIR/empty.conf"
tap_ok "atsmailctl audit verify passes" "$CTL" -c "$TB_DIR/empty.conf" --db "$TB_PG_ADMIN" audit verify
tap_done
