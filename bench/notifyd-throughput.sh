#!/bin/bash
# bench/notifyd-throughput.sh -- how fast atsmail-notifyd empties the outbox
# into a local receiver, on a private test bed (not part of make check).
#
#   bench/notifyd-throughput.sh [N]        default: 5000 events
#
# N message.sent events are written to atsmail.outbox, then delivered to
# tests/notifyd/receiver.py on loopback (which checks every signature):
#   once    one atsmail-notifyd --once (batches of 32 in parallel)
#   two     two daemons side by side (started first, woken by NOTIFY)
# Prints events per second for each, the ratio two/once, and the CPU time
# atsmail-notifyd spent per event in the "once" run (steadier than wall
# time on a shared machine).  The receiver is Python: on a small machine
# it, not notifyd, is usually the limit.  Run from the build directory, as root:
#   top_srcdir=/path/to/src top_builddir=. bash /path/to/src/bench/notifyd-throughput.sh
set -u
: "${top_srcdir:=$(cd "$(dirname "$0")/.." && pwd)}"
: "${top_builddir:=$top_srcdir}"
. "$top_srcdir/tests/e2e/e2e-lib.sh"

N=${1:-5000}
NOTIFYD=$top_builddir/notifyd/atsmail-notifyd
[ -x "$NOTIFYD" ] || { echo "build $NOTIFYD first" >&2; exit 1; }
[ "$(id -u)" = 0 ] || { echo "run as root (the test bed needs it)" >&2; exit 1; }

tb_start pg >/dev/null
tb_migrate >/dev/null || { echo "migration failed" >&2; exit 1; }
W=$TB_DIR/bench
mkdir -p "$W"
PIDS=()
finish() {
	local p
	for p in "${PIDS[@]}"; do kill -TERM "$p" 2>/dev/null; done
	for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null; done
	tb_cleanup
}
trap finish EXIT

printf '%s\n' "bench-webhook-secret-0123456789abcdef-0123456789" >"$W/secret"
chmod 600 "$W/secret"
python3 "$top_srcdir/tests/notifyd/receiver.py" --secret-file "$W/secret" --dir "$W" &
PIDS+=($!)
for _ in $(seq 1 100); do [ -s "$W/port" ] && break; sleep 0.05; done
cat >"$W/atsmail.conf" <<CONF
db_conninfo = $TB_PG_ADMIN
webhook_urls = http://127.0.0.1:$(cat "$W/port")/hook
webhook_secret_file = $W/secret
log_level = warning
CONF

now_ms() { echo $(( $(date +%s%N) / 1000000 )); }
fill() {
	tb_psql -c "DELETE FROM atsmail.outbox"
	tb_psql -c "INSERT INTO atsmail.outbox (event_type, payload)
		SELECT 'message.sent', jsonb_build_object('message_id', g, 'subject',
			'面接日程のご案内 ' || g, 'to', jsonb_build_array('taro' || g || '@example.jp'))
		FROM generate_series(1, $N) g"
	: >"$W/log"
}
delivered() { tb_psql -c "SELECT count(*) FROM atsmail.outbox WHERE state = 'delivered'"; }

# ---- one instance, --once
fill
t0=$(now_ms)
/usr/bin/time -f '%U %S' -o "$W/cpu" "$NOTIFYD" --once -c "$W/atsmail.conf" 2>"$W/once.err"
t1=$(now_ms)
once_ms=$((t1 - t0))
got=$(delivered)
[ "$got" = "$N" ] || { echo "once: only $got of $N delivered" >&2; cat "$W/once.err" >&2; exit 1; }
read -r cu cs <"$W/cpu"

# ---- two daemons
fill
tb_psql -c "UPDATE atsmail.outbox SET next_attempt_at = now() + interval '1 hour'"
for _ in 1 2; do
	"$NOTIFYD" -f -c "$W/atsmail.conf" 2>>"$W/two.err" &
	PIDS+=($!)
done
sleep 1
t0=$(now_ms)
tb_psql -c "UPDATE atsmail.outbox SET next_attempt_at = now(); NOTIFY atsmail_outbox"
while [ "$(delivered)" != "$N" ]; do
	[ $(( $(now_ms) - t0 )) -gt 600000 ] && { echo "two: not done in 10 min" >&2; exit 1; }
	sleep 0.05
done
two_ms=$(( $(now_ms) - t0 ))
dups=$(awk '{print $1}' "$W/log" | sort | uniq -d | wc -l)

awk -v n="$N" -v a="$once_ms" -v b="$two_ms" -v cu="$cu" -v cs="$cs" -v d="$dups" 'BEGIN {
	printf "notifyd throughput, %d events to a local receiver (%d CPUs)\n", n, '"$(nproc)"'
	printf "  once  1 instance   %6d ms  %7.0f events/s\n", a, n * 1000 / a
	printf "  two   2 instances  %6d ms  %7.0f events/s  (x%.2f)\n", b, n * 1000 / b, a / b
	printf "  notifyd CPU per event (once): %.0f us\n", (cu + cs) * 1e6 / n
	printf "  events the receiver saw twice: %d\n", d
}'
