#!/bin/bash
# ctl-audit.sh -- `atsmailctl audit verify` and `audit export` against a
# private PostgreSQL: an intact chain; then, as a superuser who disables
# the audit log's triggers, an edited row, a deleted row, two rows whose
# contents were swapped and a deleted last row are each caught (exit 1)
# naming the row; the chain is restored between cases.  export prints
# valid JSON lines, filtered by --since.  anchor appends the verified
# head to the auditor's file; a tail a superuser deleted (with the head
# rewritten to match) and a chain rewritten consistently both pass plain
# verify but fail verify --anchor, naming the anchored entry.
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

# --- anchor: the head kept outside the database
ANCH=$WORK/anchors
aud anchor
tap_is "anchor without --file: usage (2)" "$RC" 2
aud anchor --file "$ANCH"
tap_is "anchor: exit 0" "$RC" 0
HEAD=$(sql "select last_id || ' ' || encode(last_hash, 'hex') from atsmail.audit_head")
tap_ok "anchor: the file holds the head's id and hash" \
	grep -Eq "^[0-9T:Z-]+ id=${HEAD% *} hash=${HEAD#* } rows=[0-9]+$" "$ANCH"
aud verify --anchor "$ANCH"
tap_is "verify --anchor on an intact chain: exit 0" "$RC" 0
tap_ok "... saying the anchor matches" grep -q "^1 anchor of $ANCH match$" "$WORK/out"
ANCHORED=${HEAD% *}
sql "select atsmail.audit('tester', 'after.anchor', NULL, g::text, '{}') from generate_series(1, 3) g" >/dev/null
aud anchor --file "$ANCH"
tap_is "a second anchor is appended" "$(grep -c ' id=' "$ANCH")" 2
ANCHORED2=$(sql "select last_id from atsmail.audit_head")
sql "drop table public.audit_saved; drop table public.head_saved" >/dev/null
sql "create table public.audit_saved as select * from atsmail.audit_log; create table public.head_saved as select * from atsmail.audit_head" >/dev/null

# the tail cut back to the first anchor's row, and the head rewritten to match
tamper "DELETE FROM atsmail.audit_log WHERE id > $ANCHORED;
UPDATE atsmail.audit_head SET last_id = l.id, last_hash = l.hash FROM atsmail.audit_log l WHERE l.id = $ANCHORED;"
aud verify
tap_is "a deleted tail with a rewritten head passes plain verify" "$RC" 0
aud verify --anchor "$ANCH"
tap_is "... but not verify --anchor: exit 1" "$RC" 1
tap_ok "... naming the anchored entry that is missing" \
	grep -q "anchored entry $ANCHORED2 ($ANCH line 2, anchored .*) is missing" "$WORK/err"
restore

# the chain rewritten consistently from row 2 on: an edited row, every
# later hash recomputed, the head too
tamper "UPDATE atsmail.audit_log SET actor = 'mallory' WHERE id = $I2;
DO \$\$ DECLARE r record; prev bytea; BEGIN
	SELECT hash INTO prev FROM atsmail.audit_log WHERE id = $I1;
	FOR r IN SELECT * FROM atsmail.audit_log WHERE id >= $I2 ORDER BY id LOOP
		UPDATE atsmail.audit_log SET prev_hash = prev, hash = atsmail.audit_hash(prev,
			atsmail.audit_canonical(r.id, r.at, r.actor, r.action, r.object_kind, r.object_id, r.detail))
			WHERE id = r.id RETURNING hash INTO prev;
	END LOOP;
	UPDATE atsmail.audit_head SET last_hash = prev;
END \$\$;"
aud verify
tap_is "a consistently rewritten chain passes plain verify" "$RC" 0
aud verify --anchor "$ANCH"
tap_is "... but not verify --anchor: exit 1" "$RC" 1
tap_ok "... naming the first anchored entry whose hash changed" \
	grep -q "anchored entry $ANCHORED ($ANCH line 1, anchored .*) has hash [0-9a-f]*, but ${HEAD#* } was anchored" "$WORK/err"
restore
aud verify --anchor "$ANCH"
tap_is "restored: verify --anchor passes again" "$RC" 0

tamper "UPDATE atsmail.audit_log SET actor = 'mallory' WHERE id = $I3;"
n=$(grep -c ' id=' "$ANCH")
aud anchor --file "$ANCH"
tap_is "anchor refuses a broken chain: exit 1" "$RC" 1
tap_is "... and appends nothing" "$(grep -c ' id=' "$ANCH")" "$n"
restore
aud verify --anchor "$WORK/no-such-file"
tap_is "verify --anchor of a missing file: exit 1" "$RC" 1
printf '# kept by the auditor\n\nnot an anchor\n' >"$WORK/bad-anchors"
aud verify --anchor "$WORK/bad-anchors"
tap_is "verify --anchor of a file with a bad line: exit 1" "$RC" 1
tap_ok "... naming the line (comments and blank lines skipped)" grep -q "bad-anchors line 3: not an anchor line" "$WORK/err"

tap_done
