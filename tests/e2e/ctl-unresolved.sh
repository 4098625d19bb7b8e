#!/bin/bash
# ctl-unresolved.sh -- `atsmailctl unresolved list` and `assign` against a
# private PostgreSQL: intake mail waiting for a record is listed; assigning
# links the message to the record (rule manual), closes the item, can add
# the sender's address to the record, and is audited; wrong items, records
# and second assignments are refused.
set -u
. "$top_srcdir/tests/e2e/e2e-lib.sh"

tb_start pg
if ! tb_migrate >"$TB_DIR/migrate.log" 2>&1; then
	echo "1..1"; echo "not ok 1 - migrations did not apply"; sed 's/^/# /' "$TB_DIR/migrate.log"
	exit 1
fi

CTL=$top_builddir/ctl/atsmailctl
WORK=$TB_DIR/unresolved-test
mkdir -p "$WORK"
: >"$WORK/empty.conf"
unr() {
	PGTZ=Asia/Tokyo "$CTL" -c "$WORK/empty.conf" --db "$TB_PG_ADMIN" unresolved "$@" \
		>"$WORK/out" 2>"$WORK/err"
	RC=$?
	OUT=$(cat "$WORK/out")
}
sql() { tb_psql -c "$*"; }

tb_psql >/dev/null <<'SQL'
INSERT INTO atsmail.users (id, login, display_name) OVERRIDING SYSTEM VALUE VALUES (1, 'alice@corp.test', 'Alice');
INSERT INTO atsmail.resumes (id, name) OVERRIDING SYSTEM VALUE VALUES (10, '山田 太郎'), (11, '佐藤 花子');
INSERT INTO atsmail.contacts (id, name) OVERRIDING SYSTEM VALUE VALUES (20, '鈴木 一郎');
INSERT INTO atsmail.intake_addresses (address, action) VALUES ('recruit@corp.test', 'unresolved');
INSERT INTO atsmail.messages (id, direction, counterparts, subject, received_at) OVERRIDING SYSTEM VALUE VALUES
	(100, 'in', '{Taro.Yamada@Mail.Test}', '応募します', '2025-03-01 09:00+09'),
	(101, 'in', '{someone@mail.test}', '', '2025-03-02 10:00+09');
INSERT INTO atsmail.unresolved_items (id, message_id, sender) OVERRIDING SYSTEM VALUE VALUES
	(1, 100, 'Taro.Yamada@Mail.Test'), (2, 101, 'someone@mail.test');
SQL

unr --help
tap_is "unresolved --help exits 0" "$RC" 0
unr list
tap_is "list: exit 0" "$RC" 0
tap_ok "list: item 1 with date, sender and subject" \
	grep -qE "^1 +2025-03-01 09:00  Taro.Yamada@Mail.Test +応募します$" "$WORK/out"
tap_ok "list: an empty subject is shown as such" grep -q "^2 .*(no subject)$" "$WORK/out"
tap_ok "list: the count" grep -qx "2 waiting" "$WORK/out"

unr assign 1 resume 10 --add-address --actor alice@corp.test
tap_is "assign: exit 0" "$RC" 0
tap_is "assign: prints what it did" "$OUT" \
	"item 1 (from Taro.Yamada@Mail.Test) assigned to resume 10; address added: taro.yamada@mail.test"
tap_is "assign: the message is linked with rule manual" \
	"$(sql "select target_kind || ' ' || target_id || ' ' || rule from atsmail.message_links where message_id = 100")" \
	"resume 10 manual"
tap_is "assign: the item is closed, by the acting user" \
	"$(sql "select record_kind || ' ' || record_id || ' ' || assigned_by || ' ' || (assigned_at is not null) from atsmail.unresolved_items where id = 1")" \
	"resume 10 1 true"
tap_is "assign --add-address: the normalised sender is on the resume" \
	"$(sql "select addr_norm from atsmail.addresses where owner_kind = 'resume' and owner_id = 10")" \
	"taro.yamada@mail.test"
tap_is "assign: audited" \
	"$(sql "select actor || '|' || object_kind || '|' || object_id || '|' || (detail->>'message_id') || '|' || (detail->>'record_kind') || '|' || (detail->>'record_id') from atsmail.audit_log where action = 'unresolved.assign'")" \
	"alice@corp.test|unresolved_item|1|100|resume|10"

unr list
tap_ok "list: the assigned item is gone" grep -qx "1 waiting" "$WORK/out"
unr list --all
tap_ok "list --all: shows it with its record" grep -q "^1 .*-> resume 10$" "$WORK/out"

unr assign 1 resume 10
tap_is "assign again to the same record: exit 0, unchanged" "$RC $OUT" \
	"0 item 1: already assigned to resume 10, unchanged"
unr assign 1 resume 11
tap_is "assign to another record: exit 1" "$RC" 1
tap_ok "... saying where it went" grep -q "item 1 was assigned to resume 10" "$WORK/err"
unr assign 2 resume 999
tap_is "assign to an unknown resume: exit 1, nothing changed" \
	"$RC $(sql "select count(*) from atsmail.unresolved_items where id = 2 and record_id is null")" "1 1"
unr assign 9 resume 10
tap_is "assign an unknown item: exit 1" "$RC" 1
unr assign 2 job 10
tap_is "assign to a kind other than resume/contact: exit 2" "$RC" 2
unr assign 2 contact 20
tap_is "assign to a contact: exit 0" "$RC" 0
tap_is "assign to a contact: linked, no address added without --add-address" \
	"$(sql "select target_kind || ' ' || target_id from atsmail.message_links where message_id = 101") $(sql "select count(*) from atsmail.addresses where owner_kind = 'contact'")" \
	"contact 20 0"
tap_ok "audit chain intact" "$CTL" -c "$WORK/empty.conf" --db "$TB_PG_ADMIN" audit verify

tap_done
