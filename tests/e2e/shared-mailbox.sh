#!/bin/bash
# shared-mailbox.sh -- a shared mailbox end to end (docs/shared-mailboxes.md):
# Postfix -> LMTP -> Dovecot with the plugin -> atsmaild -> PostgreSQL, and
# two members' IMAP sessions through Dovecot's shared namespace.
#   - atsmailctl shared sync makes the status folders and a folder per
#     member, and gives alice and bob (members) their rights: both LIST
#     them, carol (no member) does not;
#   - mail to recruit@ arrives unhandled, in 未対応/bob by a sender-domain
#     rule, in 未対応/alice by a subject rule (before it), in 未対応 by no
#     rule; the assignee is notified (shared.assigned: the mail in bob's
#     INBOX, through Postfix);
#   - alice MOVEs the mail to 対応中: bob sees it there; it is recorded as
#     in progress, assigned to alice, by alice (shared_events, audit log);
#     bob moves it to 完了 (done, assignee kept), another to 対応中/bob;
#   - a move to a folder that is no status folder records nothing; a
#     delivery retried with the same Message-ID makes no second item;
#   - PostgreSQL down: a delivery is accepted and stays in INBOX, a
#     member's move is made; both failures to record are logged.
set -u
: "${top_srcdir:=$(cd "$(dirname "$0")/../.." && pwd)}"
: "${top_builddir:=$top_srcdir}"
. "$top_srcdir/tests/e2e/plugin-lib.sh"

plugin_start "shared_mailboxes = recruit@atsmail.test"
# again, now that the test bed's SMTP port is known: notifications go
# through Postfix to the assignee's INBOX
ad_stop H
ad_conf H "shared_mailboxes = recruit@atsmail.test" "notify_smtp = 127.0.0.1:$TB_SMTP_PORT"
ad_start H
SH="Shared/recruit@atsmail.test"
DOVEADM="doveadm -c $TB_DIR/dovecot/dovecot.conf"
sql() { tb_psql -c "$*"; }

sql "insert into atsmail.shared_members (mailbox, user_id) values ('recruit@atsmail.test', 1), ('recruit@atsmail.test', 2)" >/dev/null
sql "insert into atsmail.shared_rules (mailbox, prio, match, pattern, assignee_user_id) values
	('recruit@atsmail.test', 100, 'sender_domain', 'candidate.test', 2),
	('recruit@atsmail.test', 10, 'subject', '^\\[urgent\\]', 1)" >/dev/null

# ---- shared sync
"$AD_CTL" -c "$PW/atsmail.conf" --db "$TB_PG_ADMIN" shared sync --doveadm "$DOVEADM" \
	>"$PW/sync.out" 2>"$PW/sync.err"
tap_is "shared sync: exit 0" "$?" 0
sed 's/^/# /' "$PW/sync.err"
tap_ok "shared sync: two members, seven folders" \
	grep -qx "recruit@atsmail.test: 2 member(s), 7 folder(s)" "$PW/sync.out"
"$AD_CTL" -c "$PW/atsmail.conf" --db "$TB_PG_ADMIN" shared sync --doveadm "$DOVEADM" \
	>"$PW/sync2.out" 2>&1
tap_is "a second sync succeeds too" "$?" 0
imap alice@atsmail.test alicepw list >"$PW/alice.list" 2>&1
for f in 未対応 未対応/alice 未対応/bob 対応中 対応中/alice 対応中/bob 完了; do
	tap_ok "alice LISTs $SH/$f" grep -qxF "$SH/$f" "$PW/alice.list"
done
tap_ok "bob LISTs the shared mailbox too" \
	eval "imap bob@atsmail.test bobpw list | grep -qxF '$SH/未対応/bob'"
tap_ok "carol (no member) does not see it" \
	eval "! imap carol@atsmail.test carolpw list | grep -q '^Shared/'"

# ---- delivery: rules, folders, notification
M1=$(mid shared1)
mx taro@candidate.test recruit@atsmail.test --header "Message-Id: $M1" \
	--header "Subject: 応募します" --body "よろしくお願いします。"
tap_ok "by the sender-domain rule the mail arrives in 未対応/bob (bob's session)" \
	imap -m "$SH/未対応/bob" -w 15 bob@atsmail.test bobpw find "$M1"
# gone_from_inbox MSG: not in recruit's INBOX (polled 5 s: the copy is
# committed before the original is expunged)
gone_from_inbox() {
	for _ in $(seq 1 50); do
		imap recruit@atsmail.test recruitpw find "$1" >/dev/null 2>&1 || return 0
		sleep 0.1
	done
	return 1
}
tap_ok "and is no longer in the shared mailbox's INBOX" gone_from_inbox "$M1"
tap_is "recorded: unhandled, assigned to bob, by the rule" \
	"$(sql "select i.status || '|' || u.login || '|' || (e.detail->>'rule' like 'rule % (sender_domain candidate.test)') from atsmail.shared_items i join atsmail.users u on u.id = i.assignee_user_id join atsmail.shared_events e on e.item_id = i.id and e.what = 'delivered' where i.rfc_message_id = '$(strip "$M1")'")" \
	"unhandled|bob@atsmail.test|true"
tap_is "the thread key of a new mail is its own Message-ID" \
	"$(sql "select thread_key from atsmail.shared_items where rfc_message_id = '$(strip "$M1")'")" "$(strip "$M1")"
tap_is "bob is notified (shared.assigned, to his address, with the subject)" \
	"$(sql "select n.to_addr || '|' || (n.params->>'subject') || '|' || (n.params->>'mailbox') from atsmail.notifications n join atsmail.shared_items i on n.ref_kind = 'shared_item' and n.ref_id = i.id::text where n.kind = 'shared.assigned' and i.rfc_message_id = '$(strip "$M1")'")" \
	"bob@atsmail.test|応募します|recruit@atsmail.test"

tap_is "the notification is sent" \
	"$(wait_sql "select n.state from atsmail.notifications n join atsmail.shared_items i on n.ref_kind = 'shared_item' and n.ref_id = i.id::text where i.rfc_message_id = '$(strip "$M1")'" sent)" sent
U=$(imap -w 20 bob@atsmail.test bobpw search 'HEADER X-ATS-Notification "shared.assigned"' 2>/dev/null)
tap_ok "the notification mail is in bob's INBOX" test -n "$U"
tap_ok "it is marked Auto-Submitted (no loops)" \
	eval "imap bob@atsmail.test bobpw header 'uid:${U%% *}' Auto-Submitted | grep -q auto-generated"

M2=$(mid shared2)
mx taro@candidate.test recruit@atsmail.test --header "Message-Id: $M2" \
	--header "Subject: [urgent] 至急" --body "x"
tap_ok "a subject rule of a lower prio wins: 未対応/alice" \
	imap -m "$SH/未対応/alice" -w 15 alice@atsmail.test alicepw find "$M2"
M3=$(mid shared3)
mx someone@example.org recruit@atsmail.test --header "Message-Id: $M3" \
	--header "Subject: hello" --body "x"
tap_ok "no rule: 未対応 itself" imap -m "$SH/未対応" -w 15 alice@atsmail.test alicepw find "$M3"
tap_is "no rule: no assignee, no notification" \
	"$(sql "select (assignee_user_id is null) || '|' || (select count(*) from atsmail.notifications n where n.ref_id = i.id::text) from atsmail.shared_items i where rfc_message_id = '$(strip "$M3")'")" "true|0"

# ---- moves by members
tap_ok "alice MOVEs the first mail to 対応中" \
	imap -m "$SH/未対応/bob" alice@atsmail.test alicepw move "$M1" "$SH/対応中"
tap_ok "bob sees it in 対応中" imap -m "$SH/対応中" -w 15 bob@atsmail.test bobpw find "$M1"
tap_is "recorded: in progress, assigned to alice (the mover), by alice" \
	"$(wait_sql "select i.status || '|' || u.login || '|' || i.status_by from atsmail.shared_items i join atsmail.users u on u.id = i.assignee_user_id where i.rfc_message_id = '$(strip "$M1")'" "progress|alice@atsmail.test|alice@atsmail.test")" \
	"progress|alice@atsmail.test|alice@atsmail.test"
tap_is "history: delivered, then status and assignee changed by alice's login" \
	"$(sql "select string_agg(e.what || ':' || coalesce(e.from_value, '-') || '>' || coalesce(e.to_value, '-') || ':' || e.actor, ',' order by e.id) from atsmail.shared_events e join atsmail.shared_items i on i.id = e.item_id where i.rfc_message_id = '$(strip "$M1")'")" \
	"delivered:->unhandled:atsmail,status:unhandled>progress:alice@atsmail.test,assignee:bob@atsmail.test>alice@atsmail.test:alice@atsmail.test"
tap_is "the move is in the audit log with alice as the actor" \
	"$(sql "select count(*) from atsmail.audit_log a join atsmail.shared_items i on a.object_kind = 'shared_item' and a.object_id = i.id::text where a.action = 'shared.status' and a.actor = 'alice@atsmail.test' and i.rfc_message_id = '$(strip "$M1")'")" 1
tap_ok "the time of the move is recorded" \
	test "$(sql "select e.at > i.received_at from atsmail.shared_events e join atsmail.shared_items i on i.id = e.item_id where e.what = 'status' and i.rfc_message_id = '$(strip "$M1")'")" = t

tap_ok "bob moves it to 完了" imap -m "$SH/対応中" bob@atsmail.test bobpw move "$M1" "$SH/完了"
tap_is "done, the assignee kept, by bob" \
	"$(wait_sql "select i.status || '|' || u.login || '|' || i.status_by from atsmail.shared_items i join atsmail.users u on u.id = i.assignee_user_id where i.rfc_message_id = '$(strip "$M1")'" "done|alice@atsmail.test|bob@atsmail.test")" \
	"done|alice@atsmail.test|bob@atsmail.test"
tap_ok "alice sees it in 完了" imap -m "$SH/完了" -w 15 alice@atsmail.test alicepw find "$M1"

tap_ok "bob takes the third mail: 対応中/bob" \
	imap -m "$SH/未対応" bob@atsmail.test bobpw move "$M3" "$SH/対応中/bob"
tap_is "in progress, assigned to bob by the folder's name" \
	"$(wait_sql "select i.status || '|' || u.login from atsmail.shared_items i join atsmail.users u on u.id = i.assignee_user_id where i.rfc_message_id = '$(strip "$M3")'" "progress|bob@atsmail.test")" \
	"progress|bob@atsmail.test"
tap_ok "alice puts it back to 未対応 (no assignee)" \
	imap -m "$SH/対応中/bob" alice@atsmail.test alicepw move "$M3" "$SH/未対応"
tap_is "unhandled, no assignee, by alice" \
	"$(wait_sql "select status || '|' || (assignee_user_id is null) || '|' || status_by from atsmail.shared_items where rfc_message_id = '$(strip "$M3")'" "unhandled|true|alice@atsmail.test")" \
	"unhandled|true|alice@atsmail.test"

n=$(sql "select count(*) from atsmail.shared_events")
tap_ok "a move to the shared INBOX (no status folder) is allowed" \
	imap -m "$SH/未対応/alice" alice@atsmail.test alicepw move "$M2" "$SH/INBOX"
sleep 0.5
tap_is "and records nothing" "$(sql "select count(*) from atsmail.shared_events")" "$n"
tap_is "the item keeps its status" \
	"$(sql "select status from atsmail.shared_items where rfc_message_id = '$(strip "$M2")'")" unhandled

# ---- the same mail delivered again (a retry): one item
mx taro@candidate.test recruit@atsmail.test --header "Message-Id: $M1" \
	--header "Subject: 応募します" --body "よろしくお願いします。"
tap_ok "the retried copy is filed in the folder of the item's status (完了)" \
	eval "imap -m '$SH/完了' -w 15 alice@atsmail.test alicepw search 'HEADER Message-ID \"$(strip "$M1")\"' | grep -q ' '"
tap_is "still one item for it" \
	"$(sql "select count(*) from atsmail.shared_items where rfc_message_id = '$(strip "$M1")'")" 1
tap_ok "atsmaild logged no error" eval "! grep -i 'shared.*not recorded\|stays in INBOX' '$PW/atsmaild.log'"
tap_ok "Dovecot logged no refile error" \
	eval "! grep -q 'not moved to' '$TB_DIR/dovecot/dovecot.log'"

# ---- PostgreSQL down: nothing lost, nothing refused
"$top_srcdir/tests/testbed/testbed.sh" pg-stop "$TB_DIR" >/dev/null || tap_bail "pg-stop failed"
M4=$(mid shared4)
mx taro@candidate.test recruit@atsmail.test --header "Message-Id: $M4" \
	--header "Subject: while the database is down" --body "x"
tap_ok "database down: the mail is delivered all the same, and stays in INBOX" \
	imap -w 20 recruit@atsmail.test recruitpw find "$M4"
tap_ok "atsmaild says it is not recorded and stays in INBOX" \
	grep -q "shared mailbox recruit@atsmail.test: not recorded as a shared item: .*; the mail stays in INBOX" \
	"$PW/atsmaild.log"
tap_ok "a member's move is made all the same" \
	imap -m "$SH/INBOX" alice@atsmail.test alicepw move "$M2" "$SH/完了"
tap_ok "bob sees it moved" imap -m "$SH/完了" -w 15 bob@atsmail.test bobpw find "$M2"
tap_ok "and the failure to record it is logged with the mover" \
	eval "grep -q 'moved to 完了 by alice@atsmail.test is not recorded' '$PW/atsmaild.log'"
"$top_srcdir/tests/testbed/testbed.sh" pg-start "$TB_DIR" >/dev/null || tap_bail "pg-start failed"

tap_done
