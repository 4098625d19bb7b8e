#!/bin/bash
# ctl-audit.sh -- `atsmailctl audit verify` and `audit export` against a
# private PostgreSQL: an intact chain; then, as a superuser who disables
# the audit log's triggers, an edited row, a deleted row, two rows whose
# contents were swapped and a deleted last row are each caught (exit 1)
# naming the row; the chain is restored between cases.  export prints
# valid JSON lines, filtered by --since.
set -u
. "$top_srcdir/tests/e2e/e2e-lib.sh"

tb_start pg
if ! tb_migrate >"$TB_DIR/migrate.log" 2>&1; then
	echo "1..1"; echo "not ok 1 - migrations did not apply"; sed 's/^/# /' "$TB_DIR/migrate.log"
	exit 1
fi

CTL=$top_builddir/ctl/atsmailctl
WORK=$TB_DIR/audit-test
mkdir -p "$WORK"
: >"$WORK/empty.conf"
aud() {
	"$CTL" -c "$WORK/empty.conf" --db "$TB_PG_ADMIN" audit "$@" >"$WORK/out" 2>"$WORK/err"
	RC=$?
	OUT=$(cat "$WORK/out")
}
sql() { tb_psql -c "$*"; }
# tamper SQL: run SQL with the audit log's triggers off (a superuser's power)
tamper() {
	tb_psql >/dev/null <<SQL
ALTER TABLE atsmail.audit_log DISABLE TRIGGER ALL;
$1
ALTER TABLE atsmail.audit_log ENABLE TRIGGER ALL;
SQL
}
# restore: put the saved rows and head back
restore() {
	tamper "DELETE FROM atsmail.audit_log;
INSERT INTO atsmail.audit_log SELECT * FROM public.audit_saved;
UPDATE atsmail.audit_head SET last_id = (SELECT last_id FROM public.head_saved), last_hash = (SELECT last_hash FROM public.head_saved);"
}

sql "select atsmail.audit('tester', 'test.event', 'resume', g::text, jsonb_build_object('n', g, 'name', '山田')) from generate_series(1, 5) g" >/dev/null
# ids are not dense (the chain trigger draws its own): name the rows by position
read -r I1 I2 I3 I4 I5 <<<"$(sql "select id from atsmail.audit_log order by id" | tr '\n' ' ')"
sql "create table public.audit_saved as select * from atsmail.audit_log; create table public.head_saved as select * from atsmail.audit_head" >/dev/null

aud --help
tap_is "audit --help exits 0" "$RC" 0
aud frob
tap_is "unknown subcommand: exit 2" "$RC" 2

aud verify
tap_is "verify on an intact chain: exit 0" "$RC" 0
tap_ok "verify prints the rows and the last hash" \
	grep -qE "^audit log intact: 5 rows, last id $I5, last hash [0-9a-f]{64}$" "$WORK/out"

# --- an edited row
tamper "UPDATE atsmail.audit_log SET actor = 'mallory' WHERE id = $I3;"
aud verify
tap_is "edited row: exit 1" "$RC" 1
tap_ok "edited row: row 3 is named" grep -q "broken at row $I3: .*edited" "$WORK/err"
restore
aud verify
tap_is "restored: intact again" "$RC" 0

# --- a deleted row
tamper "DELETE FROM atsmail.audit_log WHERE id = $I3;"
aud verify
tap_is "deleted row: exit 1" "$RC" 1
tap_ok "deleted row: the row after the gap (4) is named" grep -q "broken at row $I4: .*deleted" "$WORK/err"
restore

# --- two rows' contents swapped
tamper "UPDATE atsmail.audit_log a SET (at, actor, action, object_kind, object_id, detail, prev_hash, hash) =
	(SELECT at, actor, action, object_kind, object_id, detail, prev_hash, hash FROM public.audit_saved s
	 WHERE s.id = CASE a.id WHEN $I2 THEN $I3 ELSE $I2 END) WHERE a.id IN ($I2, $I3);"
tap_is "(the swap happened)" "$(sql "select object_id from atsmail.audit_log where id in ($I2, $I3) order by id" | tr '\n' ' ')" "3 2 "
aud verify
tap_is "reordered rows: exit 1" "$RC" 1
tap_ok "reordered rows: the first of them (2) is named" grep -q "broken at row $I2:" "$WORK/err"
restore

# --- the last row deleted
tamper "DELETE FROM atsmail.audit_log WHERE id = $I5;"
aud verify
tap_is "deleted last row: exit 1" "$RC" 1
tap_ok "deleted last row: the head mismatch is named" grep -q "rows at the end were deleted" "$WORK/err"
restore

# --- export
aud export --since 2000-01-01
tap_is "export: exit 0" "$RC" 0
tap_is "export: one line per row" "$(wc -l <"$WORK/out")" 5
tap_ok "export: every line is a JSON object with the fields" python3 -c '
import json, sys
ids = []
for line in open(sys.argv[1], encoding="utf-8"):
    o = json.loads(line)
    assert set(o) == {"id", "at", "actor", "action", "object_kind", "object_id", "detail", "prev_hash", "hash"}, o
    assert o["detail"]["name"] == "山田" and len(o["hash"]) == 64, o
    ids.append(o["id"])
assert ids == sorted(ids) == [int(a) for a in sys.argv[2:]], ids
' "$WORK/out" $I1 $I2 $I3 $I4 $I5
tap_ok "export: the chain links (prev_hash = previous hash)" python3 -c '
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1], encoding="utf-8")]
assert all(b["prev_hash"] == a["hash"] for a, b in zip(rows, rows[1:]))
' "$WORK/out"
aud export --since "$(date -u -d tomorrow +%F)"
tap_is "export --since tomorrow: nothing" "$RC $(wc -c <"$WORK/out")" "0 0"
sql "select atsmail.audit('tester', 'late.event', NULL, NULL, '{}')" >/dev/null
aud export --since "$(sql "select at from atsmail.audit_log where action = 'late.event'")"
tap_is "export --since a row's time: that row onwards" \
	"$(python3 -c 'import json,sys; print([json.loads(l)["action"] for l in open(sys.argv[1])])' "$WORK/out")" \
	"['late.event']"
aud export --since yesterday-ish
tap_is "export --since a non-date: usage error (2)" "$RC" 2
tap_ok "... naming it" grep -q "yesterday-ish" "$WORK/err"

tap_done
