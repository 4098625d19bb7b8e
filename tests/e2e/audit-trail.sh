#!/bin/bash
# audit-trail.sh -- every change of owner, visibility, link or phase is in
# the audit log, whoever makes it (sql/012-audit-trail.sql): each ordinary
# statement of the writer role, and of a superuser, adds exactly one entry
# naming what changed; a phase change with its history row adds one entry,
# not two; a statement that changes nothing adds none; a mail recorded by
# atsmail.record_outbound() is one entry with its links counted, a link
# added to it later one more; the chain verifies.
set -u
. "$top_srcdir/tests/e2e/e2e-lib.sh"

tb_start pg
if ! tb_migrate >"$TB_DIR/migrate.log" 2>&1; then
	echo "1..1"; echo "not ok 1 - migrations did not apply"; sed 's/^/# /' "$TB_DIR/migrate.log"
	exit 1
fi
tb_psql -f "$top_srcdir/tests/data/seed.sql" >/dev/null || tap_bail "cannot load seed.sql"
tb_psql -c "CREATE ROLE trail_w LOGIN IN ROLE atsmail_writer" >/dev/null

as_w() {
	psql "host=$TB_PGHOST port=$TB_PGPORT dbname=$TB_DB user=trail_w" -v ON_ERROR_STOP=1 -qAt \
		-c "SET atsmail.actor = 'mallory@atsmail.test'" -c "$1" >/dev/null 2>"$TB_DIR/err" ||
		{ echo "# as writer: $(cat "$TB_DIR/err")"; return 1; }
}
as_su() { tb_psql -c "$1" >/dev/null; }
n() { tb_psql -c "select count(*) from atsmail.audit_log"; }
# last: actor|action|object_kind|object_id|detail of the newest entry
last() {
	tb_psql -c "select actor || '|' || action || '|' || coalesce(object_kind, '') || '|' ||
	    coalesce(object_id, '') || '|' || detail::text from atsmail.audit_log order by id desc limit 1"
}
# added STATEMENT-RUNNER SQL: how many entries the statement added
added() {
	local before after
	before=$(n)
	"$1" "$2" || return 1
	after=$(n)
	echo $((after - before))
}

tb_psql >/dev/null <<'SQL'
INSERT INTO atsmail.messages (id, direction, rfc_message_id, owner_id, visibility)
	OVERRIDING SYSTEM VALUE VALUES (9001, 'out', 'trail-1@atsmail.test', 3, 'private');
SQL

# ---- owner of a message (the issue's case: the writer moves carol's mail to bob)
tap_is "a writer's owner change of a message adds exactly one entry" \
	"$(added as_w "update atsmail.messages set owner_id = 2 where id = 9001")" 1
tap_is "... naming the actor, the message and both owners" "$(last)" \
	'mallory@atsmail.test|message.owner|message|9001|{"to": 2, "from": 3}'
tap_is "a superuser's owner change adds exactly one entry too" \
	"$(added as_su "update atsmail.messages set owner_id = 3 where id = 9001")" 1
tap_is "... with the superuser's login as actor" "$(last | cut -d'|' -f1,2)" "postgres|message.owner"
tap_is "an UPDATE that keeps the owner adds none" \
	"$(added as_w "update atsmail.messages set owner_id = 3 where id = 9001")" 0

# ---- links
tap_is "inserting two links of a message in one statement adds exactly one entry" \
	"$(added as_w "insert into atsmail.message_links (message_id, target_kind, target_id, rule)
	     values (9001, 'resume', 1001, 'manual'), (9001, 'job', 3001, 'manual')")" 1
tap_is "... naming both links" "$(last | cut -d'|' -f2,4)" "message.linked|9001"
tap_ok "... with their records" grep -q '"kind": "job"' <<<"$(last)"
tap_is "a writer's link deletion adds exactly one entry" \
	"$(added as_w "delete from atsmail.message_links where message_id = 9001 and target_kind = 'resume'")" 1
tap_is "... naming the message and the link deleted" "$(last)" \
	'mallory@atsmail.test|message.unlinked|message|9001|{"links": [{"id": 1001, "kind": "resume", "rule": "manual", "ambiguous": false}]}'
tap_is "moving a link to another record adds exactly one entry" \
	"$(added as_su "update atsmail.message_links set target_id = 3002 where message_id = 9001")" 1
tap_is "... message.relinked" "$(last | cut -d'|' -f2,4)" "message.relinked|9001"
tap_is "deleting nothing adds nothing" \
	"$(added as_w "delete from atsmail.message_links where message_id = 9001 and target_kind = 'contact'")" 0

# ---- records: owner, shared, phase
tap_is "a resume's owner change adds exactly one entry" \
	"$(added as_w "update atsmail.resumes set owner_id = 2 where id = 1008")" 1
tap_is "... record.owner" "$(last | cut -d'|' -f2,3,4)" "record.owner|resume|1008"
tap_is "un-sharing a contact adds exactly one entry" \
	"$(added as_w "update atsmail.contacts set shared = false where id = 2001")" 1
tap_is "... record.shared" "$(last)" 'mallory@atsmail.test|record.shared|contact|2001|{"to": false, "from": true}'
tap_is "a process's owner change adds exactly one entry" \
	"$(added as_w "update atsmail.processes set owner_id = 1 where id = 4001")" 1
tap_is "a phase set by a bare UPDATE adds exactly one entry (at commit)" \
	"$(added as_w "update atsmail.resumes set phase = 'active' where id = 1008")" 1
tap_is "... phase.changed with cause direct_update" "$(last)" \
	'mallory@atsmail.test|phase.changed|resume|1008|{"to": "active", "from": "new", "cause": "direct_update", "history_id": null, "message_id": null}'
tap_is "a phase set with its history row adds exactly one entry, not two" \
	"$(added as_w "begin; update atsmail.processes set phase = 'offer' where id = 4001;
	     insert into atsmail.phase_history (kind, record_id, from_phase, to_phase, cause)
	     values ('process', 4001, 'screening', 'offer', 'manual'); commit")" 1
tap_is "... the history row's entry, with its cause" "$(last | cut -d'|' -f2,3,4)" "phase.changed|process|4001"
tap_ok "... cause manual" grep -q '"cause": "manual"' <<<"$(last)"
tap_is "a rolled-back phase change adds nothing" \
	"$(added as_w "begin; update atsmail.contacts set phase = 'active' where id = 2002; rollback")" 0

# ---- a recorded mail: its links are audited once, the chain verifies
tb_psql >/dev/null <<'SQL'
SELECT atsmail.record_outbound('{"v": 2, "actor": "alice@atsmail.test", "key": "trail-key-1",
	"message_id": "trail-2@atsmail.test", "refs": [], "owner": 1,
	"counterparts": ["taro@candidate.test"], "subject": "s", "sent": 0, "size": 1,
	"sha256": "", "token": "", "visibility": "shared", "reason": "r",
	"rcpts": [{"a": "taro@candidate.test", "k": "to"}],
	"procs": [], "phases": [{"kind": "resume", "id": 1001, "to": "active"}],
	"links": [{"kind": "resume", "id": 1001, "rule": "recipient_address", "ambiguous": false}],
	"recipients": 1}'::jsonb);
SQL
tap_is "a recorded mail: its phase once, sent once (its links counted there)" \
	"$(tb_psql -c "select string_agg(action, ',' order by id) from atsmail.audit_log
	     where id > (select max(id) from atsmail.audit_log where action = 'phase.changed'
	                 and object_kind = 'process')")" "phase.changed,message.sent"
tap_is "... whose entry counts its link" \
	"$(tb_psql -c "select detail->>'links' from atsmail.audit_log where action = 'message.sent' order by id desc limit 1")" 1
RID=$(tb_psql -c "select id from atsmail.messages where rfc_message_id = 'trail-2@atsmail.test'")
tap_is "a link added to that mail later adds exactly one entry" \
	"$(added as_w "insert into atsmail.message_links (message_id, target_kind, target_id, rule)
	     values ($RID, 'contact', 2002, 'manual')")" 1
tap_is "... message.linked on it" "$(last | cut -d'|' -f2,4)" "message.linked|$RID"
tap_is "the chain verifies" "$(tb_psql -c "select ok from atsmail.audit_verify()")" t

tap_done
