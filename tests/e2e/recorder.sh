#!/bin/bash
# recorder.sh -- atsmaild's recorder against a private PostgreSQL of the
# test bed (schema of sql/, tests/data/seed.sql and seed-inbound.sql):
#  1. tests/unit/test-recorder: batches of format-2 payloads (one
#     transaction; duplicates; a bad entry rejected alone; references by
#     key; processes by resume and job; outages); its results are re-told
#     here as this script's TAP lines;
#  2. the follow loop across an outage: PostgreSQL is stopped, a journal is
#     filled and followed (`test-recorder follow`), PostgreSQL comes back;
#     every entry is then recorded exactly once and the outage is logged
#     once, its end once;
#  3. `atsmailctl replay` of format-2 entries moved from another host, and
#     its refusal of a directory a running atsmaild holds;
#  4. `atsmailctl audit verify` still passes after all of it.
set -u
. "$top_srcdir/tests/e2e/e2e-lib.sh"

tb_start pg
tb_migrate >/dev/null 2>&1 || tap_bail "migrations failed"
tb_psql -f "$top_srcdir/tests/data/seed.sql" >/dev/null || tap_bail "seed failed"
tb_psql -f "$top_srcdir/tests/data/seed-inbound.sql" >/dev/null || tap_bail "inbound seed failed"

ATSM_TEST_PG=$TB_PG_ADMIN
export ATSM_TEST_PG
PROBE=$top_builddir/tests/unit/test-recorder
CTL=$top_builddir/ctl/atsmailctl
q() { tb_psql -c "$1"; }

# 1. the Check tests, one TAP line each
"$PROBE" >"$TB_DIR/unit.tap" 2>"$TB_DIR/unit.err"
unit_rc=$?
while IFS= read -r line; do
	case $line in
	"ok "*) tap_pass "${line#ok * - }" ;;
	"not ok "*) tap_fail "${line#not ok * - }" ;;
	esac
done <"$TB_DIR/unit.tap"
tap_is "test-recorder exits 0" "$unit_rc" 0
[ "$unit_rc" = 0 ] || sed 's/^/# /' "$TB_DIR/unit.err" | tail -20

# 2. the follow loop across an outage
N=10
"$top_srcdir/tests/testbed/testbed.sh" pg-stop "$TB_DIR" >/dev/null 2>&1
"$PROBE" follow "$TB_DIR/journal" $N >"$TB_DIR/follow.out" 2>"$TB_DIR/follow.err" &
probe=$!
sleep 3
if kill -0 "$probe" 2>/dev/null; then
	tap_pass "while the database is down the follow loop waits"
else
	tap_fail "while the database is down the follow loop waits" "$(cat "$TB_DIR/follow.err")"
fi
"$top_srcdir/tests/testbed/testbed.sh" pg-start "$TB_DIR" >/dev/null 2>&1
wait "$probe"
tap_is "the follow probe ends" "$?" 0
tap_is "every entry recorded once the database is back, the repeat a duplicate" \
	"$(cat "$TB_DIR/follow.out")" "recorded $N, duplicates 1, rejected 0, left 0 bytes, follow 0"
tap_is "each mail recorded exactly once" \
	"$(q "SELECT count(*) || ' ' || count(DISTINCT idempotency_key) FROM atsmail.messages WHERE idempotency_key LIKE 'rec-follow-%'")" "$N $N"
tap_is "the outage logged once" "$(grep -c 'database is unavailable' "$TB_DIR/follow.err")" 1
tap_is "its end logged once" "$(grep -c 'available again' "$TB_DIR/follow.err")" 1
tap_is "consumed segments removed" "$(ls "$TB_DIR/journal" | grep -c '^atsmaild\.[0-9a-f]*\.jsonl$')" 1

# 3. atsmailctl replay of a journal moved from another host
J=$TB_DIR/moved
mkdir -m 700 "$J"
cat >"$TB_DIR/atsmail.conf" <<CONF
db_conninfo = $TB_PG_ADMIN
db_connect_timeout = 2s
journal_dir = $J
CONF
for f in outbound inbound-reply inbound-sent-copy; do
	"$PROBE" line "$f" moved >>"$J/mx2.0000000000000001.jsonl"
done
replay() {
	OUT=$("$CTL" -c "$TB_DIR/atsmail.conf" replay 2>"$TB_DIR/replay.err")
	RC=$?
}
# as atsmaild holds it: an exclusive flock on <component>.lock
( exec 9>"$J/atsmaild.lock"; flock -n 9 && exec sleep 10 ) &
holder=$!
sleep 0.5
replay
tap_is "replay refuses a journal a running atsmaild holds" "$RC" 1
tap_ok "and says so" grep -q "in use by a running atsmaild" "$TB_DIR/replay.err"
kill "$holder" 2>/dev/null
wait "$holder" 2>/dev/null
replay
tap_is "replay of format-2 entries exits 0" "$RC" 0
tap_is "replay records them" "$(printf '%s\n' "$OUT" | head -1)" \
	"applied 3, duplicate 0, rejected 0, malformed 0, remaining 0"
tap_is "the reply found the moved mail by key" \
	"$(q "SELECT count(*) FROM atsmail.messages r JOIN atsmail.messages o ON r.thread_id = o.id WHERE r.idempotency_key = 'rec-moved-reply' AND o.idempotency_key = 'rec-moved-out'")" 1
for f in outbound inbound-reply; do
	"$PROBE" line "$f" moved >>"$J/mx2.0000000000000002.jsonl"
done
replay
tap_is "a second replay finds duplicates" "$(printf '%s\n' "$OUT" | head -1)" \
	"applied 0, duplicate 2, rejected 0, malformed 0, remaining 0"

# 4. the audit chain is whole
: >"$TB_DIR/empty.conf"
tap_ok "atsmailctl audit verify passes" "$CTL" -c "$TB_DIR/empty.conf" --db "$TB_PG_ADMIN" audit verify

tap_done
