#!/bin/bash
# shared-rules.sh -- sql/018's shared_deliver and shared_move against a
# private PostgreSQL: each kind of assignment rule (rcpt, sender_domain
# with subdomains, subject regular expression, record_owner), priorities,
# a rule whose assignee is no member skipped, the thread's assignee when no
# rule matches, idempotent delivery, no notification for machine mail, a
# bad regular expression refused when written, and shared_move's
# assignee by folder name (login or local part), "keep" and "none", and
# its refusals naming what is wrong.
set -u
. "$top_srcdir/tests/e2e/e2e-lib.sh"

tb_start pg
tb_migrate >"$TB_DIR/migrate.log" 2>&1 || tap_bail "migrations did not apply"
tb_psql -f "$top_srcdir/tests/data/seed.sql" >/dev/null || tap_bail "cannot load seed.sql"
sql() { tb_psql -c "$*" 2>&1; }
MB=desk@atsmail.test
sql "insert into atsmail.shared_members (mailbox, user_id) values ('$MB', 1), ('$MB', 2), ('$MB', 3)" >/dev/null
sql "insert into atsmail.shared_rules (mailbox, prio, match, pattern, assignee_user_id) values
	('$MB', 10, 'rcpt', 'Desk+Eng@atsmail.test', 3),
	('$MB', 20, 'subject', '(?i)^\\[VIP\\]', 1),
	('$MB', 30, 'sender_domain', 'client.test', 2),
	('$MB', 40, 'sender_domain', 'skip.test', 5)" >/dev/null
sql "insert into atsmail.shared_rules (mailbox, prio, match, pattern) values ('$MB', 50, 'record_owner', 'resume')" >/dev/null
sql "update atsmail.resumes set owner_id = 2 where id = 1002" >/dev/null

# deliver ID FROM RCPT SUBJECT [AUTO] [THREAD]: "is_new|status|assignee"
deliver() {
	sql "select is_new || '|' || status || '|' || coalesce(assignee_login, '-') from atsmail.shared_deliver('$MB', '$1', '${6:-$1}', '$3', '$2', '$4', now(), NULL, ${5:-false})"
}
tap_is "rcpt rule (case-insensitive), first by prio" \
	"$(deliver r1@x taro@candidate.test desk+eng@atsmail.test hi)" "true|unhandled|carol@atsmail.test"
tap_is "subject rule (regular expression)" \
	"$(deliver r2@x a@client.test desk@atsmail.test '[vip] order')" "true|unhandled|alice@atsmail.test"
tap_is "sender-domain rule covers subdomains" \
	"$(deliver r3@x a@tokyo.client.test desk@atsmail.test order)" "true|unhandled|bob@atsmail.test"
tap_is "a rule whose assignee is no member is skipped" \
	"$(deliver r4@x a@skip.test desk@atsmail.test x)" "true|unhandled|-"
tap_is "record_owner: the owner of the sender's resume" \
	"$(deliver r5@x hanako@candidate.test desk@atsmail.test x)" "true|unhandled|bob@atsmail.test"
tap_is "no rule: the assignee of the thread" \
	"$(deliver r6@x nobody@else.test desk@atsmail.test 'Re: x' false r5@x)" "true|unhandled|bob@atsmail.test"
tap_is "the same Message-ID again: the item as it is" \
	"$(deliver r1@x taro@candidate.test desk@atsmail.test hi)" "false|unhandled|carol@atsmail.test"
tap_is "one item, one delivered event" \
	"$(sql "select count(*) || '/' || (select count(*) from atsmail.shared_events e join atsmail.shared_items i on i.id = e.item_id where i.rfc_message_id = 'r1@x') from atsmail.shared_items where rfc_message_id = 'r1@x'")" "1/1"
tap_is "each assignee by rule is notified once" \
	"$(sql "select count(*) from atsmail.notifications where kind = 'shared.assigned'")" 5
deliver r7@x a@client.test desk@atsmail.test auto true >/dev/null
tap_is "machine mail (p_auto) is assigned but not notified" \
	"$(sql "select count(*) from atsmail.notifications where kind = 'shared.assigned'")" 5
tap_ok "a subject pattern that is no regular expression is refused, named" \
	eval "sql \"insert into atsmail.shared_rules (mailbox, match, pattern, assignee_user_id) values ('$MB', 'subject', '([', 1)\" | grep -q 'subject pattern \"(\[\" is not a valid regular expression'"
tap_ok "a record_owner rule with an assignee is refused" \
	eval "sql \"insert into atsmail.shared_rules (mailbox, match, pattern, assignee_user_id) values ('$MB', 'record_owner', '*', 1)\" | grep -q 'violates check constraint'"

# move ID ACTOR STATUS ASSIGNEE(NULL|''|name): "status|assignee|changed"
move() {
	sql "select status || '|' || coalesce(assignee_login, '-') || '|' || changed from atsmail.shared_move('$MB', '$1', '$2', '$3', $4)"
}
tap_is "move: assignee by the local part" "$(move r4@x bob@atsmail.test progress "'alice'")" \
	"progress|alice@atsmail.test|true"
tap_is "move: NULL keeps the assignee" "$(move r4@x bob@atsmail.test done NULL)" \
	"done|alice@atsmail.test|true"
tap_is "move: the same again changes nothing" "$(move r4@x bob@atsmail.test done NULL)" \
	"done|alice@atsmail.test|false"
tap_is "move: '' takes the assignee away" "$(move r4@x carol@atsmail.test unhandled "''")" \
	"unhandled|-|true"
tap_is "the history names the actors" \
	"$(sql "select string_agg(what || ':' || actor, ',' order by e.id) from atsmail.shared_events e join atsmail.shared_items i on i.id = e.item_id where i.rfc_message_id = 'r4@x'")" \
	"delivered:atsmail,status:bob@atsmail.test,assignee:bob@atsmail.test,status:bob@atsmail.test,status:carol@atsmail.test,assignee:carol@atsmail.test"
tap_is "move: an unknown Message-ID is no row" "$(move nosuch@x bob@atsmail.test done NULL)" ""
tap_ok "move: a folder naming no member is refused, named" \
	eval "move r4@x bob@atsmail.test progress \"'zed'\" | grep -q '\"zed\" names no member of shared mailbox $MB'"
tap_ok "move: a status that is none is refused, named" \
	eval "move r4@x bob@atsmail.test closed NULL | grep -q 'status \"closed\" is not unhandled, progress or done'"
tap_is "the audit chain verifies" "$(sql "select ok from atsmail.audit_verify()")" t

tap_done
