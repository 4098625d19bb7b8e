#!/bin/bash
# rls.sh -- roles, row-level security, the hash-chained audit log and the
# outbox NOTIFY, against a private PostgreSQL with the migrations applied.
# Every check connects as a real login role (trust authentication in the
# test bed): readers mapped to users through users.db_role, an application
# role acting for a user through SET atsmail.acting_user, an auditor and a
# writer.
set -u
. "$top_srcdir/tests/e2e/e2e-lib.sh"

tb_start pg

if ! tb_migrate >"$TB_DIR/migrate.log" 2>&1; then
	echo "1..1"; echo "not ok 1 - migrations did not apply"; sed 's/^/# /' "$TB_DIR/migrate.log"
	exit 1
fi

# as ROLE SQL: run SQL logged in as ROLE; prints -qAt output and errors
as() {
	local role=$1; shift
	psql "host=$TB_PGHOST port=$TB_PGPORT dbname=$TB_DB user=$role" \
		-v ON_ERROR_STOP=1 -qAt -c "$*" 2>&1
}
# refused ROLE SQL: the statement fails with a permission or trigger error
refused() {
	local out
	out=$(as "$@") && { echo "unexpectedly succeeded: $out"; return 1; }
	grep -Eq "permission denied|append-only|violates row-level security" <<<"$out" \
		|| { echo "failed for another reason: $out"; return 1; }
}

tb_psql >/dev/null <<'SQL'
CREATE ROLE alice_r LOGIN IN ROLE atsmail_reader;
CREATE ROLE bob_r LOGIN IN ROLE atsmail_reader;
CREATE ROLE carol_r LOGIN IN ROLE atsmail_reader;
CREATE ROLE nobody_r LOGIN IN ROLE atsmail_reader;
CREATE ROLE webapp_r LOGIN IN ROLE atsmail_app;
CREATE ROLE audit_r LOGIN IN ROLE atsmail_auditor;
CREATE ROLE milter_r LOGIN IN ROLE atsmail_writer;

INSERT INTO atsmail.users (login, display_name, role, sharing_mode, db_role) VALUES
	('alice@corp.test', 'Alice', 'recruiter', 'private', 'alice_r'),
	('bob@corp.test', 'Bob', 'recruiter', 'public', 'bob_r'),
	('carol@corp.test', 'Carol', 'admin', 'admin', 'carol_r');
INSERT INTO atsmail.resumes (id, name, owner_id)
	SELECT 1, '山田 太郎', id FROM atsmail.users WHERE login = 'alice@corp.test';

INSERT INTO atsmail.messages (id, direction, rfc_message_id, owner_id, subject, visibility, visibility_reason)
	SELECT 1, 'out', '<private@corp.test>', id, '面接日程', 'private', 'user mode private'
	FROM atsmail.users WHERE login = 'alice@corp.test';
INSERT INTO atsmail.messages (id, direction, rfc_message_id, owner_id, subject, visibility)
	SELECT 2, 'out', '<shared@corp.test>', id, 'ご紹介', 'shared'
	FROM atsmail.users WHERE login = 'alice@corp.test';
INSERT INTO atsmail.messages (id, direction, rfc_message_id, owner_id, subject, visibility)
	SELECT 3, 'out', '<admins@corp.test>', id, 'admins only', 'admins'
	FROM atsmail.users WHERE login = 'alice@corp.test';

INSERT INTO atsmail.message_recipients (message_id, address, kind) VALUES
	(1, 'taro@cand.test', 'to'), (1, 'boss@corp.test', 'bcc'),
	(2, 'taro@cand.test', 'to'), (2, 'hidden@corp.test', 'bcc');
INSERT INTO atsmail.message_links (message_id, target_kind, target_id, rule) VALUES
	(1, 'resume', 1, 'recipient_address'), (2, 'resume', 1, 'recipient_address');
INSERT INTO atsmail.message_copies (message_id, user_id, mailbox, imap_uid)
	SELECT 1, id, 'Sent', 7 FROM atsmail.users WHERE login = 'alice@corp.test';
INSERT INTO atsmail.unresolved_items (message_id, sender) VALUES (1, 'taro@cand.test');
-- the rows above took fixed ids: move the identities past them
SELECT setval(pg_get_serial_sequence('atsmail.messages', 'id'), 100);
SELECT setval(pg_get_serial_sequence('atsmail.resumes', 'id'), 100);
SQL

# ------------------------------------------------------------ reading
visible() { as "$1" "select coalesce(string_agg(id::text, ',' order by id), '-') from atsmail.messages"; }

tap_is "bob cannot read alice's private message" \
	"$(as bob_r "select count(*) from atsmail.messages where id = 1")" 0
tap_is "bob sees none of its recipients" \
	"$(as bob_r "select count(*) from atsmail.message_recipients where message_id = 1")" 0
tap_is "bob sees none of its links" \
	"$(as bob_r "select count(*) from atsmail.message_links where message_id = 1")" 0
tap_is "bob sees none of its mailbox copies" \
	"$(as bob_r "select count(*) from atsmail.message_copies where message_id = 1")" 0
tap_is "bob sees no unresolved item of it" \
	"$(as bob_r "select count(*) from atsmail.unresolved_items where message_id = 1")" 0
tap_is "alice (the owner) reads her private message" \
	"$(as alice_r "select subject from atsmail.messages where id = 1")" "面接日程"
tap_is "alice reads its recipients, Bcc included" \
	"$(as alice_r "select string_agg(kind, ',' order by kind) from atsmail.message_recipients where message_id = 1")" "bcc,to"
tap_is "alice reads its link and copy" \
	"$(as alice_r "select (select count(*) from atsmail.message_links where message_id = 1) || '/' || (select count(*) from atsmail.message_copies where message_id = 1)")" "1/1"
tap_is "the auditor reads the private message" \
	"$(as audit_r "select count(*) from atsmail.messages where id = 1")" 1
tap_is "the auditor reads every recipient, Bcc included" \
	"$(as audit_r "select count(*) from atsmail.message_recipients")" 4
tap_is "the admin (carol) reads the admins message" \
	"$(as carol_r "select count(*) from atsmail.messages where id = 3")" 1
tap_is "bob cannot read the admins message" \
	"$(as bob_r "select count(*) from atsmail.messages where id = 3")" 0
tap_is "the admin cannot read a private message of someone else" \
	"$(as carol_r "select count(*) from atsmail.messages where id = 1")" 0
tap_is "alice sees all three of her messages" "$(visible alice_r)" "1,2,3"
tap_is "bob sees only the shared one" "$(visible bob_r)" "2"
tap_is "carol sees the shared and the admins one" "$(visible carol_r)" "2,3"
tap_is "an unmapped reader sees only the shared one" "$(visible nobody_r)" "2"
tap_is "bob does not see the Bcc recipient of the shared message" \
	"$(as bob_r "select string_agg(address, ',') from atsmail.message_recipients where message_id = 2")" "taro@cand.test"
tap_is "alice (owner) sees the Bcc recipient of the shared message" \
	"$(as alice_r "select count(*) from atsmail.message_recipients where message_id = 2 and kind = 'bcc'")" 1
tap_is "the writer sees the Bcc recipient of the shared message" \
	"$(as milter_r "select count(*) from atsmail.message_recipients where message_id = 2 and kind = 'bcc'")" 1

# ------------------------------------------------- an application acting
tap_is "the app role acting for bob sees what bob sees" \
	"$(as webapp_r "set atsmail.acting_user = 'bob@corp.test'; select string_agg(id::text, ',' order by id) from atsmail.messages")" \
	"$(visible bob_r)"
tap_is "the app role acting for alice sees what alice sees" \
	"$(as webapp_r "set atsmail.acting_user = 'alice@corp.test'; select string_agg(id::text, ',' order by id) from atsmail.messages")" \
	"$(visible alice_r)"
tap_is "the app role acting for alice sees the Bcc of her messages" \
	"$(as webapp_r "set atsmail.acting_user = 'alice@corp.test'; select count(*) from atsmail.message_recipients where kind = 'bcc'")" 2
tap_is "the app role acting for nobody sees only shared messages" "$(visible webapp_r)" "2"
tap_is "a reader outside atsmail_app cannot act for alice by SET" \
	"$(as nobody_r "set atsmail.acting_user = 'alice@corp.test'; select string_agg(id::text, ',' order by id) from atsmail.messages")" "2"
tap_is "a mapped reader's own mapping wins over SET" \
	"$(as bob_r "set atsmail.acting_user = 'alice@corp.test'; select string_agg(id::text, ',' order by id) from atsmail.messages")" "2"
tb_psql -c "update atsmail.users set active = false where login = 'bob@corp.test'"
tap_is "a deactivated user's login role acts for nobody" \
	"$(as bob_r "select atsmail.acting_user_id() is null")" t
tb_psql -c "update atsmail.users set active = true where login = 'bob@corp.test'"

# ------------------------------------------- phase history follows the mail
# Phase changes caused by alice's private message (1), her shared one (2),
# and by no mail (an import): bob sees the latter two only.
tb_psql >/dev/null <<'SQL'
INSERT INTO atsmail.phase_history (kind, record_id, from_phase, to_phase, cause, message_id) VALUES
	('contact', 1, 'new', 'active', 'mail_sent', 1),
	('contact', 1, 'active', 'inactive', 'mail_sent', 2),
	('contact', 1, 'inactive', 'new', 'import', NULL);
SQL
ph() { as "$1" "select coalesce(string_agg(to_phase, ',' order by id), '-') from atsmail.phase_history where record_id = 1 and kind = 'contact'"; }
tap_is "bob sees no phase history caused by alice's private mail" "$(ph bob_r)" "inactive,new"
tap_is "an unmapped reader neither" "$(ph nobody_r)" "inactive,new"
tap_is "the app role acting for bob neither" \
	"$(as webapp_r "set atsmail.acting_user = 'bob@corp.test'; select string_agg(to_phase, ',' order by id) from atsmail.phase_history where record_id = 1 and kind = 'contact'")" \
	"inactive,new"
tap_is "alice (the owner) sees all of it" "$(ph alice_r)" "active,inactive,new"
tap_is "the writer sees all of it" "$(ph milter_r)" "active,inactive,new"
tap_is "the auditor sees all of it" "$(ph audit_r)" "active,inactive,new"
tap_ok "a reader cannot write phase history" refused bob_r \
	"insert into atsmail.phase_history (kind, record_id, to_phase, cause) values ('resume', 1, 'new', 'manual')"
tap_is "held mail follows its message too" \
	"$(as bob_r "select count(*) from atsmail.held_messages")" 0

# ------------------------------------------------------- privacy defaults
# sql/013: a new user is 'custom' without default share, a new record is
# not shared (docs/data-model.md, "Privacy defaults").
tb_psql -c "insert into atsmail.users (login) values ('newcomer@corp.test')" >/dev/null
tap_is "a new user's default sharing mode is custom, default_share false" \
	"$(tb_psql -c "select sharing_mode || ' ' || default_share from atsmail.users where login = 'newcomer@corp.test'")" \
	"custom false"
tap_is "a new resume and a new contact are not shared" \
	"$(tb_psql -c "insert into atsmail.resumes (name) values ('r') returning shared")|$(tb_psql -c "insert into atsmail.contacts (name) values ('c') returning shared")" \
	"f|f"

# ------------------------------------------------------------ writing
tap_ok "a reader cannot INSERT a message" refused alice_r \
	"insert into atsmail.messages (direction, owner_id) values ('out', 1)"
tap_ok "a reader cannot UPDATE a message" refused alice_r \
	"update atsmail.messages set visibility = 'shared' where id = 1"
tap_ok "a reader cannot DELETE a message" refused alice_r "delete from atsmail.messages where id = 2"
tap_ok "a reader cannot read the audit log" refused bob_r "select count(*) from atsmail.audit_log"
tap_ok "a reader cannot read the outbox" refused bob_r "select count(*) from atsmail.outbox"
tap_ok "the auditor cannot INSERT a message" refused audit_r \
	"insert into atsmail.messages (direction) values ('in')"
tap_ok "the auditor cannot UPDATE a message" refused audit_r \
	"update atsmail.messages set visibility = 'shared' where id = 1"
tap_is "the writer can insert a message" \
	"$(as milter_r "insert into atsmail.messages (direction, rfc_message_id, visibility, idempotency_key) values ('in', '<w@cand.test>', 'private', 'k1') returning visibility")" private
tap_is "the writer sees every message" "$(as milter_r "select count(*) from atsmail.messages")" 4
tap_is "one mail is one record: a second insert of the same Message-ID is refused" \
	"$(as milter_r "insert into atsmail.messages (direction, rfc_message_id) values ('in', '<w@cand.test>') on conflict do nothing returning id" | wc -l)" 0
tap_ok "the writer cannot DELETE a message" refused milter_r "delete from atsmail.messages where id = 2"

# ---------------------------------------------------- automatic audit
as milter_r "set atsmail.actor = 'alice@corp.test'; update atsmail.messages set visibility = 'shared', visibility_reason = 'ats+share' where id = 1" >/dev/null
tap_is "a visibility change writes an audit entry with actor and detail" \
	"$(tb_psql -c "select actor || ' ' || action || ' ' || object_id || ' ' || (detail->>'from') || '>' || (detail->>'to') from atsmail.audit_log where action = 'message.visibility'")" \
	"alice@corp.test message.visibility 1 private>shared"
as milter_r "update atsmail.messages set visibility = 'private' where id = 1" >/dev/null
tap_is "without atsmail.actor the login is the actor" \
	"$(tb_psql -c "select actor from atsmail.audit_log where action = 'message.visibility' order by id desc limit 1")" milter_r
as milter_r "insert into atsmail.phase_history (kind, record_id, from_phase, to_phase, cause, actor_id, message_id) select 'resume', 1, 'new', 'active', 'mail_sent', id, 1 from atsmail.users where login = 'alice@corp.test'" >/dev/null
tap_is "a phase change writes an audit entry" \
	"$(tb_psql -c "select actor || ' ' || object_kind || ' ' || object_id || ' ' || (detail->>'to') || ' ' || (detail->>'cause') from atsmail.audit_log where action = 'phase.changed' and object_kind = 'resume'")" \
	"alice@corp.test resume 1 active mail_sent"
as milter_r "insert into atsmail.resumes (name, created_from) values ('intake candidate', 'mail')" >/dev/null
as milter_r "insert into atsmail.resumes (name, created_from) values ('imported candidate', 'import')" >/dev/null
tap_is "a record created from mail is audited, an imported one is not" \
	"$(tb_psql -c "select string_agg(detail->>'name', ',') from atsmail.audit_log where action = 'record.created'")" "intake candidate"
as milter_r "select atsmail.audit('atsmailctl', 'policy.set', 'user', 'bob@corp.test', '{\"mode\": \"custom\"}')" >/dev/null
as milter_r "insert into atsmail.audit_log (actor, action) values ('atsmail-milter', 'direct.insert')" >/dev/null
tap_is "the writer can append through atsmail.audit() and directly" \
	"$(tb_psql -c "select count(*) from atsmail.audit_log where action in ('policy.set', 'direct.insert')")" 2
tap_is "the audit chain verifies" "$(as audit_r "select ok || ' ' || checked from atsmail.audit_verify()")" "true 11"

# ----------------------------------------------------- append-only
tap_ok "the writer cannot UPDATE the audit log" refused milter_r "update atsmail.audit_log set actor = 'x'"
tap_ok "the writer cannot DELETE from the audit log" refused milter_r "delete from atsmail.audit_log"
tap_ok "even a superuser's UPDATE is refused by the trigger" refused postgres "update atsmail.audit_log set actor = 'x'"
tap_ok "even a superuser's DELETE is refused by the trigger" refused postgres "delete from atsmail.audit_log"
tap_ok "TRUNCATE is refused" refused postgres "truncate atsmail.audit_log"
tap_ok "the auditor cannot write the audit log" refused audit_r \
	"insert into atsmail.audit_log (actor, action) values ('x', 'y')"

# ------------------------------------------------------ tampering
verify() { tb_psql -c "select ok || '|' || coalesce(first_bad_id::text, '-') || '|' || coalesce(problem, '') from atsmail.audit_verify()"; }
# bypass ROLE-SQL: run SQL with the append-only trigger disabled, as a
# superuser who means harm would
bypass() {
	tb_psql -c "alter table atsmail.audit_log disable trigger audit_log_append_only; $1; alter table atsmail.audit_log enable trigger audit_log_append_only"
}
mapfile -t ids < <(tb_psql -c "select id from atsmail.audit_log order by id")
second=${ids[1]}; third=${ids[2]}; last=${ids[${#ids[@]}-1]}
tb_psql -c "create table public.saved as select * from atsmail.audit_log"

bypass "update atsmail.audit_log set detail = '{\"to\": \"private\"}' where id = $second"
r=$(verify)
tap_is "an edited row is detected, naming it" "${r%%|*}|$(cut -d'|' -f2 <<<"$r")" "false|$second"
tap_ok "the problem says the row was edited" grep -q "row $second: .*edited" <<<"$r"
bypass "update atsmail.audit_log a set detail = s.detail from public.saved s where a.id = s.id and a.id = $second"
tap_is "restoring the row makes the chain verify again" "$(verify | cut -d'|' -f1)" true

bypass "delete from atsmail.audit_log where id = $second"
r=$(verify)
tap_is "a deleted row is detected at the row after it" "$(cut -d'|' -f1,2 <<<"$r")" "false|$third"
tap_ok "the problem says a row is missing or reordered" grep -q "prev_hash does not match" <<<"$r"
tb_psql -c "alter table atsmail.audit_log disable trigger audit_log_chain; insert into atsmail.audit_log select * from public.saved where id = $second; alter table atsmail.audit_log enable trigger audit_log_chain"
tap_is "re-inserting the deleted row makes the chain verify again" "$(verify | cut -d'|' -f1)" true

bypass "update atsmail.audit_log set id = -1 where id = $second; update atsmail.audit_log set id = $second where id = $third; update atsmail.audit_log set id = $third where id = -1"
r=$(verify)
tap_is "two swapped rows are detected" "$(cut -d'|' -f1,2 <<<"$r")" "false|$second"
bypass "update atsmail.audit_log set id = -1 where id = $second; update atsmail.audit_log set id = $second where id = $third; update atsmail.audit_log set id = $third where id = -1"
tap_is "swapping them back makes the chain verify again" "$(verify | cut -d'|' -f1)" true

bypass "delete from atsmail.audit_log where id = $last"
r=$(verify)
tap_is "a deleted last row is detected through the chain head" "$(cut -d'|' -f1 <<<"$r")" false
tap_ok "the problem says rows at the end were deleted" grep -q "rows at the end were deleted" <<<"$r"

# ------------------------------------------------------------ outbox
# A second session LISTENs; psql prints the notification after its next
# statement.  The notification is sent at the writer's COMMIT.
(psql "host=$TB_PGHOST port=$TB_PGPORT dbname=$TB_DB user=audit_r" -qAt \
	-c "listen atsmail_outbox" -c "select pg_sleep(3)" -c "select 1" >"$TB_DIR/listen.out" 2>&1) &
lpid=$!
sleep 1
oid=$(as milter_r "insert into atsmail.outbox (event_type, payload) values ('message.sent', '{\"message_id\": 2}') returning id")
wait $lpid
tap_ok "an outbox insert notifies a listener on atsmail_outbox with the id as payload" \
	grep -q "notification \"atsmail_outbox\" with payload \"$oid\"" "$TB_DIR/listen.out"
tap_is "the outbox row waits as pending" \
	"$(tb_psql -c "select state || ' ' || attempts from atsmail.outbox where id = $oid")" "pending 0"
tap_ok "an unknown event type is refused" eval "! as milter_r \"insert into atsmail.outbox (event_type, payload) values ('bogus', '{}')\" >/dev/null"

# ------------------------------------------------------ the data model
tap_ok "a user address belongs to one user only" eval "! tb_psql -c \"insert into atsmail.addresses (owner_kind, owner_id, addr_norm) select 'user', id, 'same@corp.test' from atsmail.users\" 2>/dev/null"
tb_psql -c "insert into atsmail.resumes (id, name) values (2, 'twin')"
tap_ok "one candidate address may sit on two resumes" \
	tb_psql -c "insert into atsmail.addresses (owner_kind, owner_id, addr_norm) values ('resume', 1, 'family@cand.test'), ('resume', 2, 'family@cand.test')"
tap_ok "but not twice on the same resume" eval "! tb_psql -c \"insert into atsmail.addresses (owner_kind, owner_id, addr_norm) values ('resume', 1, 'family@cand.test')\" 2>/dev/null"
tap_ok "an address that is not normalised is refused" eval "! tb_psql -c \"insert into atsmail.addresses (owner_kind, owner_id, addr_norm) values ('resume', 1, 'Taro@Cand.test')\" 2>/dev/null"
tap_ok "an address of a record that does not exist is refused" eval "! tb_psql -c \"insert into atsmail.addresses (owner_kind, owner_id, addr_norm) values ('resume', 999, 'x@cand.test')\" 2>/dev/null"
tap_ok "a phase that is not configured is refused" eval "! tb_psql -c \"update atsmail.resumes set phase = 'nonsense' where id = 1\" 2>/dev/null"
tap_ok "a phase code that is not ASCII is refused" eval "! tb_psql -c \"insert into atsmail.phases (kind, code, label) values ('process', '面接', 'x')\" 2>/dev/null"
plan=$(tb_psql -c "set enable_seqscan = off; explain (costs off) select owner_kind, owner_id from atsmail.addresses where addr_norm = 'family@cand.test'")
tap_ok "an address lookup uses the addr_norm index" grep -q "addresses_addr_idx" <<<"$plan"
# ------------------------------------------------------ shared mailboxes
# sql/018: a reader sees the items, history, members and rules of the
# shared mailboxes it is a member of, and nothing of the others.
tb_psql >/dev/null <<'SQL'
INSERT INTO atsmail.shared_members (mailbox, user_id)
	SELECT 'recruit@corp.test', id FROM atsmail.users WHERE login IN ('alice@corp.test', 'bob@corp.test');
INSERT INTO atsmail.shared_members (mailbox, user_id)
	SELECT 'sales@corp.test', id FROM atsmail.users WHERE login = 'carol@corp.test';
INSERT INTO atsmail.shared_rules (mailbox, match, pattern, assignee_user_id)
	SELECT 'recruit@corp.test', 'sender_domain', 'cand.test', id FROM atsmail.users WHERE login = 'bob@corp.test';
SQL
as milter_r "select item_id from atsmail.shared_deliver('recruit@corp.test', 'r1@cand.test', 'r1@cand.test', 'recruit@corp.test', 'taro@cand.test', 'entry', now(), NULL, true)" >/dev/null
as milter_r "select item_id from atsmail.shared_deliver('sales@corp.test', 's1@client.test', 's1@client.test', 'sales@corp.test', 'x@client.test', 'order', now(), NULL, true)" >/dev/null
sh_items() { as "$1" "select coalesce(string_agg(mailbox, ',' order by mailbox), '-') from atsmail.shared_items"; }
tap_is "a member (alice) sees the items of her shared mailbox only" "$(sh_items alice_r)" "recruit@corp.test"
tap_is "carol sees the items of hers only" "$(sh_items carol_r)" "sales@corp.test"
tap_is "a reader that is no member sees no item" "$(sh_items nobody_r)" "-"
tap_is "the app role acting for bob sees what bob sees" \
	"$(as webapp_r "set atsmail.acting_user = 'bob@corp.test'; select string_agg(mailbox, ',') from atsmail.shared_items")" "recruit@corp.test"
tap_is "the history follows the item" \
	"$(as carol_r "select string_agg(what, ',') from atsmail.shared_events")|$(as nobody_r "select count(*) from atsmail.shared_events")" "delivered|0"
tap_is "members and rules follow the membership" \
	"$(as carol_r "select count(*) from atsmail.shared_members")/$(as carol_r "select count(*) from atsmail.shared_rules")" "1/0"
tap_is "the writer and the auditor see every item" \
	"$(as milter_r "select count(*) from atsmail.shared_items")/$(as audit_r "select count(*) from atsmail.shared_items")" "2/2"
tap_ok "a reader cannot change an item" refused alice_r "update atsmail.shared_items set status = 'done'"
tap_ok "a reader cannot record a move" refused alice_r \
	"select atsmail.shared_move('recruit@corp.test', 'r1@cand.test', 'alice@corp.test', 'done', NULL)"
tap_is "nothing in schema atsmail is granted to PUBLIC" \
	"$(tb_psql -c "select count(*) from pg_class c join pg_namespace n on n.oid = c.relnamespace, aclexplode(c.relacl) a where n.nspname = 'atsmail' and a.grantee = 0")" 0
tap_is "no function of schema atsmail is executable by PUBLIC" \
	"$(tb_psql -c "select count(*) from pg_proc p join pg_namespace n on n.oid = p.pronamespace where n.nspname = 'atsmail' and (p.proacl is null or exists (select 1 from aclexplode(p.proacl) a where a.grantee = 0))")" 0
tap_is "every table is owned by atsmail_owner" \
	"$(tb_psql -c "select count(*) from pg_class c join pg_namespace n on n.oid = c.relnamespace where n.nspname = 'atsmail' and c.relkind = 'r' and c.relowner <> 'atsmail_owner'::regrole")" 0

tap_done
