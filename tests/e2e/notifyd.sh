#!/bin/bash
# notifyd.sh -- atsmail-notifyd against a test-bed PostgreSQL and a webhook
# receiver on loopback (tests/notifyd/receiver.py, which checks every
# signature with its own copy of the secret and logs each request).
#
# Covers: a bad configuration names its line; --once without a database; events arrive signed and
# verifiable (and a receiver with another secret rejects them); 500s,
# timeouts and a receiver that is not up yet are retried until every
# event arrives; max attempts gives 'dead' with last_error; a crashed
# instance's expired lease is taken over, a live lease is not; two
# instances deliver 200 events exactly once in total; SIGTERM in the middle
# of 300 events to a slow receiver loses none and duplicates none; a second
# SIGTERM puts unfinished events back; NOTIFY wakes an idle instance long
# before its poll; the PID file; every webhook_* setting is in the man page.
set -u
. "$top_srcdir/tests/e2e/e2e-lib.sh"

NOTIFYD=$top_builddir/notifyd/atsmail-notifyd
RECEIVER=$top_srcdir/tests/notifyd/receiver.py

# ---- checks that need no server
man=$top_srcdir/docs/atsmail-notifyd.8
missing=
for s in $(grep -o '"webhook_[a-z_]*"' "$top_srcdir/lib/base/conf-table.c" | tr -d '"' | sort -u); do
	grep -q "$s" "$man" || missing="$missing $s"
done
settings=$(grep -c '"webhook_[a-z_]*"' "$top_srcdir/lib/base/conf-table.c")

tb_start pg
W=$TB_DIR/notifyd
mkdir -p "$W"

tap_is "every webhook_* setting of the table ($settings) is in atsmail-notifyd(8)" "${missing:-none}" none

if ! out=$(tb_migrate 2>&1); then
	tap_fail "schema" "$out"; tap_done; exit 1
fi

SECRET=$W/secret
printf '# webhook secret of the test\n%s\n' "test-webhook-secret-0123456789abcdef-0123" >"$SECRET"
chmod 600 "$SECRET"
OTHER_SECRET=$W/other-secret
printf '%s\n' "another-secret-the-ats-does-not-share-0123456789" >"$OTHER_SECRET"
chmod 600 "$OTHER_SECRET"

RPIDS=
# start_receiver NAME SECRET [PORT]: sets RPORT; DIR is $W/NAME
start_receiver() {
	local d=$W/$1
	mkdir -p "$d"; rm -f "$d/port"
	python3 "$RECEIVER" --secret-file "$2" --dir "$d" ${3:+--port "$3"} 2>"$d/stderr" &
	RPIDS="$RPIDS $!"
	for _ in $(seq 1 100); do [ -s "$d/port" ] && break; sleep 0.05; done
	RPORT=$(cat "$d/port" 2>/dev/null)
}
NPIDS=
cleanup() {
	local p
	for p in $NPIDS $RPIDS; do kill "$p" 2>/dev/null; done
	for p in $NPIDS $RPIDS; do wait "$p" 2>/dev/null; done
	tb_cleanup
}
trap cleanup EXIT

# write_conf FILE URL [extra setting lines...]
write_conf() {
	local f=$1 url=$2; shift 2
	{
		echo "db_conninfo = $TB_PG_ADMIN"
		echo "webhook_urls = $url"
		echo "webhook_secret_file = $SECRET"
		echo "webhook_connect_timeout = 1s"
		echo "webhook_timeout = 2s"
		echo "webhook_max_attempts = 10"
		echo "webhook_retry_base = 100ms"
		echo "webhook_retry_max = 1s"
		echo "log_level = debug"
		for l in "$@"; do echo "$l"; done
	} >"$f"
}
# start_notifyd CONF LOG: sets NPID
start_notifyd() {
	"$NOTIFYD" -f -c "$1" >"$2" 2>&1 &
	NPID=$!
	NPIDS="$NPIDS $NPID"
}
stop_notifyd() {   # stop_notifyd PID: SIGTERM, wait; SRC = its exit status
	kill -TERM "$1" 2>/dev/null
	wait "$1"
	SRC=$?
}
insert() {   # insert N [TYPE]
	tb_psql -c "INSERT INTO atsmail.outbox (event_type, payload)
		SELECT '${2:-message.sent}', jsonb_build_object('n', g, 'subject', '面接のご案内 ' || g)
		FROM generate_series(1, $1) g"
}
count() { tb_psql -c "SELECT count(*) FROM atsmail.outbox WHERE $1"; }
wait_until() {   # wait_until SECONDS SQL-CONDITION-ON-OUTBOX-COUNTS
	local t=$(( $1 * 10 ))
	for _ in $(seq 1 "$t"); do
		[ "$(tb_psql -c "SELECT $2")" = t ] && return 0
		sleep 0.1
	done
	return 1
}
reset() { tb_psql -c "DELETE FROM atsmail.outbox"; }
all_delivered="(SELECT count(*) = 0 FROM atsmail.outbox WHERE state <> 'delivered')"
# answered 2xx lines in a receiver log: total, distinct ids, verified
ok_lines() { awk '$3 ~ /^2/ && $4 == "answered"' "$1/log" 2>/dev/null | wc -l; }
ok_ids() { awk '$3 ~ /^2/ && $4 == "answered" {print $1}' "$1/log" 2>/dev/null | sort -u | wc -l; }
unverified() { awk '$2 != 1' "$1/log" 2>/dev/null | wc -l; }

# ---- configuration errors
write_conf "$W/bad.conf" "http://127.0.0.1:9/hook" "no_such_setting = 1"
out=$("$NOTIFYD" --once -c "$W/bad.conf" 2>&1); rc=$?
line=$(grep -n no_such_setting "$W/bad.conf" | cut -d: -f1)
tap_is "unknown key: exit 78" "$rc" 78
case "$out" in *"line $line"*no_such_setting*|*no_such_setting*"line $line"*)
	tap_pass "the error names the key and line $line" ;;
*) tap_fail "the error names the key and line $line" "$out" ;; esac
write_conf "$W/bad2.conf" "http://ats.example.com/hook"
out=$("$NOTIFYD" --once -c "$W/bad2.conf" 2>&1); rc=$?
case "$rc:$out" in 78:*webhook_urls*http://*) tap_pass "plain http to another host is refused" ;;
*) tap_fail "plain http to another host is refused" "$rc $out" ;; esac
write_conf "$W/bad3.conf" ""
out=$("$NOTIFYD" --once -c "$W/bad3.conf" 2>&1); rc=$?
case "$rc:$out" in 78:*webhook_urls*empty*) tap_pass "no endpoint is a configuration error" ;;
*) tap_fail "no endpoint is a configuration error" "$rc $out" ;; esac
chmod 644 "$SECRET"
write_conf "$W/bad4.conf" "http://127.0.0.1:9/hook"
out=$("$NOTIFYD" --once -c "$W/bad4.conf" 2>&1); rc=$?
chmod 600 "$SECRET"
case "$rc:$out" in 78:*webhook_secret_file*) tap_pass "a secret file others can read is refused" ;;
*) tap_fail "a secret file others can read is refused" "$rc $out" ;; esac
out=$("$NOTIFYD" -x 2>&1); tap_is "unknown option: exit 64" "$?" 64
DOWN_PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
write_conf "$W/down.conf" "http://127.0.0.1:9/hook" "db_conninfo = host=127.0.0.1 port=$DOWN_PORT dbname=atsmail"
out=$("$NOTIFYD" --once -c "$W/down.conf" 2>&1); rc=$?
case "$rc:$out" in 75:*"cannot connect to the database"*) tap_pass "--once with the database down: exit 75" ;;
*) tap_fail "--once with the database down: exit 75" "$rc $out" ;; esac

# ---- signed and verifiable
start_receiver r1 "$SECRET"
R1=$W/r1
write_conf "$W/r1.conf" "http://127.0.0.1:$RPORT/hook"
for t in message.sent message.received message.bounced phase.changed record.created; do insert 1 "$t"; done
out=$("$NOTIFYD" --once -c "$W/r1.conf" 2>&1); rc=$?
tap_is "--once exits 0" "$rc" 0
tap_is "five events of five types delivered" "$(count "state = 'delivered' AND attempts = 1 AND delivered_at IS NOT NULL AND locked_by IS NULL")" 5
tap_is "the receiver verified five signatures and ids" "$(awk '$2 == 1 && $3 == 200' "$R1/log" | wc -l)" 5
tap_is "the receiver logged the outbox ids" \
	"$(awk '{print $1}' "$R1/log" | sort -n | tr '\n' ' ')" \
	"$(tb_psql -c "SELECT id FROM atsmail.outbox ORDER BY id" | tr '\n' ' ')"
start_receiver rx "$OTHER_SECRET"
write_conf "$W/rx.conf" "http://127.0.0.1:$RPORT/hook"
reset; insert 1
"$NOTIFYD" --once -c "$W/rx.conf" >/dev/null 2>&1
tap_is "a receiver with another secret does not verify" "$(awk '$2 == 0' "$W/rx/log" | wc -l)" 1

# ---- 500 for the first requests: every event arrives later, none lost
reset; : >"$R1/log"
start_receiver r500 "$SECRET"; R500=$W/r500
echo "fail_first=6" >"$R500/control"
write_conf "$W/r500.conf" "http://127.0.0.1:$RPORT/hook"
start_notifyd "$W/r500.conf" "$W/n500.log"; N500=$NPID
insert 4
if wait_until 20 "$all_delivered"; then tap_pass "after six 500s all four events are delivered"
else tap_fail "after six 500s all four events are delivered" "$(tb_psql -c 'SELECT id, state, attempts, last_error FROM atsmail.outbox')"; fi
tap_is "each event answered 200 once" "$(ok_lines "$R500"):$(ok_ids "$R500")" "4:4"
tap_is "six 500 answers were seen" "$(awk '$3 == 500' "$R500/log" | wc -l)" 6
tap_is "retried events keep attempts and the last error" \
	"$(count "attempts > 1 AND last_error LIKE '%HTTP 500%'")" \
	"$(tb_psql -c "SELECT count(*) FROM atsmail.outbox WHERE attempts > 1")"
tap_ok "at least one event needed more than one attempt" \
	test "$(count "attempts > 1")" -ge 1

# ---- NOTIFY wakes an idle instance well before the 30 s poll
sleep 1.5   # all retries done: the instance waits for NOTIFY or its poll
: >"$R500/log"; reset
t0=$(date +%s%N)
insert 1
if wait_until 5 "$all_delivered"; then
	ms=$(( ($(date +%s%N) - t0) / 1000000 ))
	tap_ok "a NOTIFY woke the idle instance (${ms} ms)" test "$ms" -lt 3000
else
	tap_fail "a NOTIFY woke the idle instance" "not delivered within 5 s"
fi

# ---- PID file, SIGTERM when idle
write_conf "$W/pid.conf" "http://127.0.0.1:$RPORT/hook"
"$NOTIFYD" -f -c "$W/pid.conf" -P "$W/notifyd.pid" >"$W/pid.log" 2>&1 &
PP=$!; NPIDS="$NPIDS $PP"
for _ in $(seq 1 50); do [ -s "$W/notifyd.pid" ] && break; sleep 0.1; done
tap_is "the PID file holds the process id" "$(cat "$W/notifyd.pid" 2>/dev/null)" "$PP"
stop_notifyd "$PP"; tap_is "SIGTERM when idle: exit 0" "$SRC" 0
tap_ok "the PID file is removed at exit" test ! -e "$W/notifyd.pid"
stop_notifyd "$N500"; tap_is "SIGTERM to the first instance: exit 0" "$SRC" 0

# ---- the receiver times out: retried, arrives later
reset
start_receiver rslow "$SECRET"; RS=$W/rslow
printf 'sleep=3\nsleep_first=2\n' >"$RS/control"
write_conf "$W/rslow.conf" "http://127.0.0.1:$RPORT/hook" "webhook_timeout = 500ms"
start_notifyd "$W/rslow.conf" "$W/nslow.log"; NS=$NPID
insert 2
if wait_until 20 "$all_delivered"; then tap_pass "events that timed out are delivered later"
else tap_fail "events that timed out are delivered later" "$(tb_psql -c 'SELECT id, state, attempts, last_error FROM atsmail.outbox')"; fi
tap_ok "the timeout is the last error (curl error 28)" \
	test "$(count "last_error LIKE '%curl error 28%'")" -ge 1
tap_is "each answered in time once" "$(ok_lines "$RS"):$(ok_ids "$RS")" "2:2"
stop_notifyd "$NS"

# ---- the receiver is not up yet: arrives once it starts
reset
PORT_LATER=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
# attempts enough for a slow start of the receiver on a loaded machine
# (10 attempts at 100 ms doubling to 1 s are spent in about 6 s)
write_conf "$W/rlate.conf" "http://127.0.0.1:$PORT_LATER/hook" "webhook_max_attempts = 1000"
start_notifyd "$W/rlate.conf" "$W/nlate.log"; NL=$NPID
insert 3
sleep 1.5
tap_is "while the receiver is down the events wait (pending, connection refused)" \
	"$(count "state = 'pending' AND attempts >= 1 AND last_error LIKE '%curl error 7%'")" 3
start_receiver rlate "$SECRET" "$PORT_LATER"
if wait_until 30 "$all_delivered"; then tap_pass "they arrive after it starts"
else tap_fail "they arrive after it starts" "$(tb_psql -c 'SELECT id, state, attempts, last_error FROM atsmail.outbox')"; fi
tap_is "each arrived once" "$(ok_lines "$W/rlate"):$(ok_ids "$W/rlate")" "3:3"
stop_notifyd "$NL"

# ---- max attempts: dead with last_error
reset; : >"$R1/log"
write_conf "$W/dead.conf" "http://127.0.0.1:$(cat "$R1/port")/status/503" "webhook_max_attempts = 3"
start_notifyd "$W/dead.conf" "$W/ndead.log"; ND=$NPID
insert 2
if wait_until 15 "(SELECT count(*) = 2 FROM atsmail.outbox WHERE state = 'dead')"; then
	tap_pass "after webhook_max_attempts failures the events are dead"
else tap_fail "after webhook_max_attempts failures the events are dead" "$(tb_psql -c 'SELECT id, state, attempts, last_error FROM atsmail.outbox')"; fi
tap_is "dead rows: 3 attempts, last_error with the status, no lease" \
	"$(count "state = 'dead' AND attempts = 3 AND last_error LIKE '%HTTP 503%' AND locked_by IS NULL")" 2
sleep 1
tap_is "a dead event is not tried again (3 requests each)" "$(wc -l <"$R1/log")" 6
stop_notifyd "$ND"

# ---- leases: an expired one (crashed instance) is taken over, a live one is not
reset; : >"$R1/log"
tb_psql -c "INSERT INTO atsmail.outbox (event_type, payload, state, locked_by, locked_until)
	VALUES ('message.sent', '{\"lease\": \"expired\"}', 'delivering', 'crashed/1/1', now() - interval '1 second'),
	       ('message.sent', '{\"lease\": \"live\"}', 'delivering', 'busy/2/2', now() + interval '1 hour')"
"$NOTIFYD" --once -c "$W/r1.conf" >/dev/null 2>&1
tap_is "the expired lease was taken over and delivered" \
	"$(count "state = 'delivered' AND payload->>'lease' = 'expired'")" 1
tap_is "the live lease was left alone" \
	"$(count "state = 'delivering' AND locked_by = 'busy/2/2'"):$(wc -l <"$R1/log")" "1:1"

# ---- two instances, 200 events: each delivered exactly once in total
reset
start_receiver rtwo "$SECRET"; RT=$W/rtwo
echo "sleep=0.02" >"$RT/control"
write_conf "$W/rtwo.conf" "http://127.0.0.1:$RPORT/hook"
start_notifyd "$W/rtwo.conf" "$W/ntwo-a.log"; NA=$NPID
start_notifyd "$W/rtwo.conf" "$W/ntwo-b.log"; NB=$NPID
sleep 0.5
insert 200
if wait_until 60 "$all_delivered"; then tap_pass "two instances delivered 200 events"
else tap_fail "two instances delivered 200 events" "$(tb_psql -c 'SELECT state, count(*) FROM atsmail.outbox GROUP BY 1')"; fi
tap_is "the receiver saw 200 requests, 200 distinct ids, all verified" \
	"$(wc -l <"$RT/log"):$(ok_ids "$RT"):$(unverified "$RT")" "200:200:0"
tap_is "no event was attempted twice" "$(count "attempts <> 1")" 0
ba=$(grep -c 'batch of' "$W/ntwo-a.log"); bb=$(grep -c 'batch of' "$W/ntwo-b.log")
tap_ok "both instances took batches (a: $ba, b: $bb)" test "$ba" -gt 0 -a "$bb" -gt 0
stop_notifyd "$NA"; sa=$SRC; stop_notifyd "$NB"
tap_is "SIGTERM stops both: exit 0" "$sa:$SRC" "0:0"

# ---- SIGTERM in the middle of 300 events to a slow receiver
reset
start_receiver rterm "$SECRET"; RM=$W/rterm
echo "sleep=0.25" >"$RM/control"
write_conf "$W/rterm.conf" "http://127.0.0.1:$RPORT/hook"
insert 300
start_notifyd "$W/rterm.conf" "$W/nterm.log"; NT=$NPID
wait_until 20 "(SELECT count(*) >= 40 FROM atsmail.outbox WHERE state = 'delivered')"
stop_notifyd "$NT"; tap_is "SIGTERM in the middle: exit 0" "$SRC" 0
done_before=$(count "state = 'delivered'")
tap_ok "it stopped in the middle ($done_before of 300 delivered)" test "$done_before" -lt 300
tap_is "no event is left claimed" "$(count "state = 'delivering' OR locked_by IS NOT NULL")" 0
tap_is "what was delivered matches what the receiver answered" "$(ok_ids "$RM")" "$done_before"
echo "sleep=0" >"$RM/control"
"$NOTIFYD" --once -c "$W/rterm.conf" >"$W/nterm2.log" 2>&1
tap_is "after a restart all 300 are delivered" "$(count "state = 'delivered'")" 300
tap_is "the receiver saw each of the 300 exactly once" \
	"$(wc -l <"$RM/log"):$(ok_ids "$RM"):$(unverified "$RM")" "300:300:0"

# ---- a second SIGTERM stops at once and puts unfinished events back
reset
echo "sleep=3" >"$RM/control"
start_notifyd "$W/rterm.conf" "$W/nabort.log"; NAB=$NPID
insert 5
wait_until 5 "(SELECT count(*) = 5 FROM atsmail.outbox WHERE state = 'delivering')"
t0=$(date +%s%N)
kill -TERM "$NAB"; sleep 0.2; kill -TERM "$NAB"; wait "$NAB"; rc=$?
ms=$(( ($(date +%s%N) - t0) / 1000000 ))
tap_is "a second SIGTERM: exit 0" "$rc" 0
tap_ok "without waiting for the slow requests (${ms} ms)" test "$ms" -lt 2500
tap_is "the unfinished events are pending again, attempts unchanged" \
	"$(count "state = 'pending' AND attempts = 0 AND locked_by IS NULL")" 5

tap_done
