#!/bin/bash
# shared-reply.sh -- a member's reply in a shared mailbox's thread, end to
# end (docs/shared-reply.md): Postfix's
# submission -> atsmaild's milter -> PostgreSQL; delivery to the shared
# mailbox through LMTP and the plugin; two members' IMAP sessions through
# Dovecot's shared namespace.
#   - atsmailctl shared sync; taro's mail to recruit@ is delivered into
#     未対応/alice by a rule; carol (no member) may reply, nothing recorded;
#   - bob's reply is refused 550 5.7.1 naming alice and since when, and bob
#     (lang ja) gets the Japanese explanation; nothing is recorded;
#   - alice's reply is accepted: the thread is answered by alice, done, and
#     moved by atsmaild (doveadm move) to 完了, where bob sees it over IMAP;
#   - bob's reply again is refused as answered by alice; with ats+force it
#     is accepted, reaches taro without the command address, and 'forced'
#     is recorded;
#   - atsmailctl shared list --status open (terminal and --csv), shared
#     history, history resume;
#   - bob needing approval: his held reply answers nothing while held;
#     approved, the thread is answered by bob and moved to 完了 by
#     atsmailctl; one alice answered meanwhile gets 'forced' (taken while
#     held, the approver named); a rejected one leaves the thread as it was;
#   - PostgreSQL down: a member's reply is tempfailed 451 4.3.0, mail that
#     is no reply is not.
set -u
: "${top_srcdir:=$(cd "$(dirname "$0")/../.." && pwd)}"
: "${top_builddir:=$top_srcdir}"
. "$top_srcdir/tests/e2e/plugin-lib.sh"
. "$top_srcdir/tests/e2e/atsmaild-mail-lib.sh"

command -v doveadm >/dev/null || tap_skip_all "doveadm is not installed"
plugin_start "shared_mailboxes = recruit@atsmail.test"
MB=recruit@atsmail.test
SH="Shared/$MB"
DOVEADM="doveadm -c $TB_DIR/dovecot/dovecot.conf"
ATS=ats.atsmail.test
CTL() { "$AD_CTL" -c "$PW/atsmail.conf" --db "$TB_PG_ADMIN" "$@"; }
sql() { tb_psql -c "$*"; }
AM_LOG=$PW/swaks.log

# atsmaild runs doveadm of this test bed, and sends explanations through it
echo "shared_doveadm = $DOVEADM" >>"$PW/atsmail.conf"
echo "explain_smtp = 127.0.0.1:$TB_SMTP_PORT" >>"$PW/atsmail.conf"
ad_stop H
ad_start H

sql "insert into atsmail.shared_members (mailbox, user_id) select '$MB', id from atsmail.users
	where login in ('alice@atsmail.test', 'bob@atsmail.test')" >/dev/null
sql "insert into atsmail.shared_rules (mailbox, prio, match, pattern, assignee_user_id)
	select '$MB', 100, 'sender_domain', 'candidate.test', id from atsmail.users
	where login = 'alice@atsmail.test'" >/dev/null
sql "update atsmail.users set lang = 'ja' where login = 'bob@atsmail.test'" >/dev/null

# the status folders and the members' rights
CTL shared sync --doveadm "$DOVEADM" >"$PW/sync.out" 2>&1
tap_is "shared sync: exit 0" "$?" 0
tap_ok "bob LISTs the shared mailbox's 完了" \
	eval "imap bob@atsmail.test bobpw list | grep -qxF '$SH/完了'"

# reply USER MSGID SUBJECT [RCPTS]: a reply to taro in the thread of M1
reply() {
	am_submit "$TB_SUBMISSION_PORT" "$1" "$1" "${4:-taro@candidate.test}" \
		--header "To: taro@candidate.test" --header "Subject: $3" \
		--header "Message-Id: $2" --header "In-Reply-To: $M1" --header "References: $M1" \
		--body "reply"
}
# item_of MSGID: the shared item of a delivered mail (<= 15 s)
item_of() {
	local id
	for _ in $(seq 1 150); do
		id=$(sql "select id from atsmail.shared_items where rfc_message_id = '$(strip "$1")'")
		[ -n "$id" ] && break
		sleep 0.1
	done
	echo "$id"
}
answered_events() {
	sql "select count(*) from atsmail.shared_events e join atsmail.shared_items i
		on i.id = e.item_id where i.rfc_message_id = '$(strip "$M1")' and e.what = '$1'"
}

# ---- 1. the mail arrives, assigned to alice ----------------------------------
M1=$(mid shared-reply1)
mx taro@candidate.test "$MB" --header "Message-Id: $M1" --header "Subject: 応募の件" \
	--body "よろしくお願いします。"
tap_ok "taro's mail arrives in 未対応/alice (alice's session)" \
	imap -m "$SH/未対応/alice" -w 20 alice@atsmail.test alicepw find "$M1"
ITEM=$(item_of "$M1")
tap_is "recorded unhandled, assigned to alice" \
	"$(sql "select i.status || '|' || u.login from atsmail.shared_items i join atsmail.users u
		on u.id = i.assignee_user_id where i.id = ${ITEM:-0}")" "unhandled|alice@atsmail.test"
SINCE=$(sql "select to_char(received_at at time zone 'UTC', 'YYYY-MM-DD HH24:MI') || ' UTC'
	from atsmail.shared_items where id = ${ITEM:-0}")

# ---- 2. bob replies: refused, naming alice and since when ---------------------
R1=$(mid bob-reply1)
r=$(reply bob@atsmail.test "$R1" "Re: 応募の件 (bob)")
tap_ok "bob's reply is refused 550 5.7.1" grep -q "^550 5.7.1" <<<"$r"
tap_ok "the sentence says it is alice's and since when" \
	grep -qF "assigned to another member: Alice Recruiter <alice@atsmail.test> has this thread of shared mailbox $MB since $SINCE" <<<"$r"
tap_ok "and how to send it anyway (ats+force)" grep -qF "add ats+force@$ATS" <<<"$r"
tap_is "nothing is recorded: no answer" "$(answered_events answered)" 0
tap_is "the item is still unhandled" \
	"$(sql "select status from atsmail.shared_items where id = ${ITEM:-0}")" unhandled
tap_ok "bob gets the explanation in Japanese, naming alice" python3 - "$TB_IMAP_PORT" <<'PY'
import email, imaplib, sys, time
for _ in range(100):
    c = imaplib.IMAP4("127.0.0.1", int(sys.argv[1]))
    c.login("bob@atsmail.test", "bobpw")
    c.select("INBOX")
    _, d = c.search(None, "HEADER", "X-ATS-Explanation", "refused")
    for n in d[0].split():
        _, m = c.fetch(n, "(RFC822)")
        msg = email.message_from_bytes(m[0][1])
        for p in msg.walk():
            if p.get_content_type() == "text/plain":
                t = p.get_payload(decode=True).decode(p.get_content_charset() or "utf-8")
                if "他のメンバーの担当です" in t and "alice@atsmail.test" in t and "ats+force" in t:
                    sys.exit(0)
    c.logout()
    time.sleep(0.2)
sys.exit(1)
PY

# carol is no member: her reply is none of the shared mailbox's business
R0=$(mid carol-reply)
r=$(reply carol@atsmail.test "$R0" "Re: 応募の件 (carol)")
tap_ok "a non-member's reply in the thread is accepted" grep -q "^250" <<<"$r"
tap_is "and records nothing" \
	"$(sql "select count(*) from atsmail.shared_events where item_id = ${ITEM:-0} and actor = 'carol@atsmail.test'")" 0

# ---- 3. alice replies: answered, done, moved to 完了 for everyone ---------------
R2=$(mid alice-reply)
r=$(reply alice@atsmail.test "$R2" "Re: 応募の件")
tap_ok "alice's reply is accepted" grep -q "^250" <<<"$r"
tap_is "the thread is answered by alice and done" \
	"$(wait_sql "select i.status || '|' || u.login from atsmail.shared_items i join atsmail.users u
		on u.id = i.answered_by_user_id where i.id = ${ITEM:-0}" "done|alice@atsmail.test")" \
	"done|alice@atsmail.test"
tap_is "history: an 'answered' event by alice, naming the reply" \
	"$(sql "select actor || '|' || from_value || '>' || to_value || '|' || (detail->>'reply')
		from atsmail.shared_events where item_id = ${ITEM:-0} and what = 'answered'")" \
	"alice@atsmail.test|unhandled>done|$(strip "$R2")"
tap_ok "bob sees the mail in 完了 over IMAP (moved by the server)" \
	imap -m "$SH/完了" -w 20 bob@atsmail.test bobpw find "$M1"
tap_ok "alice no longer sees it in 未対応/alice" \
	eval "! imap -m '$SH/未対応/alice' alice@atsmail.test alicepw find '$M1' >/dev/null 2>&1"
tap_ok "atsmaild logged the move" \
	grep -qF "shared mailbox $MB: <$(strip "$M1")> moved to 完了 (from" "$PW/atsmaild.log"

# ---- 4. bob again: answered by alice; then ats+force ----------------------------
R3=$(mid bob-reply2)
r=$(reply bob@atsmail.test "$R3" "Re: 応募の件 (bob again)")
tap_ok "bob's reply is refused again 550 5.7.1" grep -q "^550 5.7.1" <<<"$r"
tap_ok "now as answered by alice, with the time" \
	grep -qE "answered by another member: Alice Recruiter <alice@atsmail.test> replied in this thread of shared mailbox $MB at [0-9]{4}-[0-9]{2}-[0-9]{2} [0-9]{2}:[0-9]{2} UTC" <<<"$r"
R4=$(mid bob-forced)
r=$(reply bob@atsmail.test "$R4" "Re: 応募の件 (bob forced)" "taro@candidate.test,ats+force@$ATS")
tap_ok "with ats+force bob's reply is accepted" grep -q "^250" <<<"$r"
tap_is "'forced' is recorded: bob over alice's answer" \
	"$(wait_sql "select actor || '|' || from_value || '|' || (detail->>'over') || '|' || (detail->>'reply')
		from atsmail.shared_events where item_id = ${ITEM:-0} and what = 'forced'" \
		"bob@atsmail.test|alice@atsmail.test|answered|$(strip "$R4")")" \
	"bob@atsmail.test|alice@atsmail.test|answered|$(strip "$R4")"
tap_is "and bob's answer too" \
	"$(sql "select u.login from atsmail.shared_items i join atsmail.users u
		on u.id = i.answered_by_user_id where i.id = ${ITEM:-0}")" bob@atsmail.test
tap_ok "the forced reply reaches taro" \
	am_imap -w 20 "$TB_IMAP_PORT" taro@candidate.test find "$R4"
tap_ok "ats+force was taken out of the envelope (nothing for the command domain)" \
	eval "! grep -q 'to=<ats+force@$ATS>' '$TB_DIR/postfix/maillog'"

# ---- 5. atsmailctl shared list / history, history resume ----------------------
M2=$(mid shared-reply2)
mx someone@example.org "$MB" --header "Message-Id: $M2" --header "Subject: open one" --body x
ITEM2=$(item_of "$M2")
tap_ok "a second mail arrives: an item" test -n "$ITEM2"
CTL shared list --status open >"$PW/list.out" 2>"$PW/list.err"
tap_is "shared list --status open: exit 0" "$?" 0
tap_ok "its header names the columns" \
	grep -qxP "id\tmailbox\tstatus\tassignee\tsince\tfrom\tsubject\tanswered_by" "$PW/list.out"
tap_ok "the open mail is listed, unhandled, no assignee" \
	grep -qP "^${ITEM2:-x}\t$MB\tunhandled\t\t[0-9-]+ [0-9:]+\tsomeone@example.org\topen one\t$" "$PW/list.out"
tap_ok "the answered (done) one is not" eval "! grep -qP '^${ITEM:-x}\t' '$PW/list.out'"
CTL shared list --status all --csv >"$PW/list.csv"
tap_ok "--status all --csv: the done one with alice as assignee and bob as answerer" \
	grep -qE "^${ITEM:-x},$MB,done,alice@atsmail.test,[0-9-]+ [0-9:]+,taro@candidate.test,応募の件,bob@atsmail.test"$'\r'"$" "$PW/list.csv"
tap_is "the CSV header" "$(head -1 "$PW/list.csv" | tr -d '\r')" \
	"id,mailbox,status,assignee,since,from,subject,answered_by"
CTL shared list --status nope >/dev/null 2>"$PW/err"
tap_is "--status nope is a usage error (exit 2)" "$?" 2
tap_ok "naming the bad value" grep -q "'nope' is not open" "$PW/err"
CTL shared history "${ITEM:-0}" >"$PW/hist.out"
tap_is "shared history: exit 0" "$?" 0
tap_is "shared history: delivered, answered by alice, forced and answered by bob" \
	"$(awk -F'\t' 'NR > 5 { print $2 ":" $3 }' "$PW/hist.out" | grep -v ':assignee$' | paste -sd,)" \
	"atsmail:delivered,alice@atsmail.test:answered,bob@atsmail.test:forced,bob@atsmail.test:answered"
CTL shared history "${ITEM:-0}" --csv >"$PW/hist.csv"
tap_ok "shared history --csv: the forced row" \
	grep -q "^[0-9-]* [0-9:]*,bob@atsmail.test,forced,alice@atsmail.test,bob@atsmail.test," "$PW/hist.csv"
CTL history resume 1001 >"$PW/resume.out" 2>&1
tap_ok "history resume 1001 (taro) shows the shared mailbox's answered event" \
	grep -qE "shared $MB item ${ITEM:-x}  answered unhandled → done  \(by alice@atsmail.test\)" "$PW/resume.out"

# ---- 5b. a held reply answers its thread when it is released -----------------
# bob needs approval (carol approves): his reply in a thread nobody has is
# held; it answers nothing until carol's approval releases it, and a
# rejected one never does.  One thread alice answers while bob's reply
# waits: the release records it over alice's answer (docs/shared-reply.md).
CTL policy approval bob@atsmail.test --approver carol@atsmail.test >/dev/null 2>&1
tap_is "bob needs approval now" \
	"$(wait_sql "select needs_approval from atsmail.users where login = 'bob@atsmail.test'" t)" t
# reply_in THREAD USER MSGID SUBJECT: a reply to taro in the thread of THREAD
reply_in() {
	am_submit "$TB_SUBMISSION_PORT" "$2" "$2" taro@candidate.test \
		--header "To: taro@candidate.test" --header "Subject: $4" \
		--header "Message-Id: $3" --header "In-Reply-To: $1" --header "References: $1" \
		--body "held reply"
}
# held_id MSGID: the messages.id of a held mail, once recorded (<= 15 s)
held_id() {
	wait_sql "select count(*) from atsmail.held_messages h join atsmail.messages m
		on m.id = h.message_id where m.rfc_message_id = '$(strip "$1")'" 1 >/dev/null
	sql "select m.id from atsmail.held_messages h join atsmail.messages m
		on m.id = h.message_id where m.rfc_message_id = '$(strip "$1")'"
}
pending() {
	sql "select count(*) from atsmail.shared_held_answers where reply = '$(strip "$1")'"
}
state_of() {
	sql "select i.status || '|' || coalesce(u.login, '-') from atsmail.shared_items i
		left join atsmail.users u on u.id = i.answered_by_user_id where i.id = ${1:-0}"
}
# on_hold QID: Postfix holds it
on_hold() {
	postqueue -c "$TB_POSTFIX_CONF" -j 2>/dev/null | python3 -c '
import json, sys
sys.exit(0 if any(json.loads(l).get("queue_name") == "hold" and json.loads(l).get("queue_id") == sys.argv[1]
                  for l in sys.stdin if l.strip()) else 1)' "$1"
}

M3=$(mid shared-held1)
mx someone@example.org "$MB" --header "Message-Id: $M3" --header "Subject: held one" --body x
ITEM3=$(item_of "$M3")
tap_ok "a new mail in the shared mailbox, nobody's: an item" test -n "$ITEM3"
tap_ok "it is in 未対応 (bob's session)" imap -m "$SH/未対応" -w 20 bob@atsmail.test bobpw find "$M3"
R7=$(mid bob-held)
r=$(reply_in "$M3" bob@atsmail.test "$R7" "Re: held one (bob)")
tap_ok "bob's reply is accepted (250) to be held" grep -q "^250" <<<"$r"
HID=$(held_id "$R7")
tap_ok "it is held for approval" test -n "$HID"
QID=$(sql "select queue_id from atsmail.held_messages where message_id = ${HID:-0}")
tap_ok "... in Postfix's hold queue" on_hold "${QID:-none}"
tap_is "its answer waits: one pending row, bob's, done" \
	"$(sql "select login || '|' || mailbox || '|' || status || '|' || coalesce(forced_over, '-')
		from atsmail.shared_held_answers where reply = '$(strip "$R7")'")" \
	"bob@atsmail.test|$MB|done|-"
tap_is "the thread is unchanged while held: unhandled, not answered" "$(state_of "$ITEM3")" "unhandled|-"
tap_is "... and no event but its delivery" \
	"$(sql "select string_agg(what, ',' order by id) from atsmail.shared_events where item_id = ${ITEM3:-0}")" \
	delivered
CTL approval approve "${HID:-0}" --postfix-config "$TB_POSTFIX_CONF" --actor carol@atsmail.test \
	>"$PW/approve.out" 2>"$PW/approve.err"
tap_is "carol approves: exit 0" "$?" 0
tap_is "the thread is answered by bob now, done" "$(state_of "$ITEM3")" "done|bob@atsmail.test"
tap_is "history: 'answered' by bob, unhandled → done, naming the held reply" \
	"$(sql "select actor || '|' || from_value || '>' || to_value || '|' || (detail->>'reply')
		from atsmail.shared_events where item_id = ${ITEM3:-0} and what = 'answered'")" \
	"bob@atsmail.test|unhandled>done|$(strip "$R7")"
tap_is "bob is its assignee (it had none)" \
	"$(sql "select u.login from atsmail.shared_items i join atsmail.users u
		on u.id = i.assignee_user_id where i.id = ${ITEM3:-0}")" bob@atsmail.test
tap_is "the pending answer is gone" "$(pending "$R7")" 0
tap_ok "atsmailctl says it moved the mail to 完了" \
	grep -qF "shared mailbox $MB: <$(strip "$M3")> moved to 完了" "$PW/approve.out"
tap_ok "alice sees it in 完了 over IMAP" imap -m "$SH/完了" -w 20 alice@atsmail.test alicepw find "$M3"
tap_ok "... and no longer in 未対応" \
	eval "! imap -m '$SH/未対応' alice@atsmail.test alicepw find '$M3' >/dev/null 2>&1"
tap_ok "the reply reaches taro" am_imap -w 20 "$TB_IMAP_PORT" taro@candidate.test find "$R7"
CTL shared list --status all >"$PW/list2.out"
tap_ok "shared list: the thread done, answered by bob" \
	grep -qP "^${ITEM3:-x}\t$MB\tdone\tbob@atsmail.test\t.*\tbob@atsmail.test$" "$PW/list2.out"
CTL history resume 1001 >"$PW/resume2.out" 2>&1
tap_ok "history resume 1001 shows bob's answer of the released reply" \
	grep -qE "shared $MB item ${ITEM3:-x}  answered unhandled → done  \(by bob@atsmail.test\)" "$PW/resume2.out"

# taken while held: alice answers the thread bob's held reply waits in
M4=$(mid shared-held2)
mx someone@example.org "$MB" --header "Message-Id: $M4" --header "Subject: held two" --body x
ITEM4=$(item_of "$M4")
R8=$(mid bob-held2)
r=$(reply_in "$M4" bob@atsmail.test "$R8" "Re: held two (bob)")
HID2=$(held_id "$R8")
tap_ok "a second reply of bob's is held" test -n "$HID2"
R9=$(mid alice-while-held)
r=$(reply_in "$M4" alice@atsmail.test "$R9" "Re: held two (alice)")
tap_ok "meanwhile alice answers the thread (250)" grep -q "^250" <<<"$r"
tap_is "... answered by alice" \
	"$(wait_sql "select i.status || '|' || u.login from atsmail.shared_items i join atsmail.users u
		on u.id = i.answered_by_user_id where i.id = ${ITEM4:-0}" "done|alice@atsmail.test")" \
	"done|alice@atsmail.test"
CTL approval approve "${HID2:-0}" --postfix-config "$TB_POSTFIX_CONF" --actor carol@atsmail.test \
	>"$PW/approve2.out" 2>"$PW/approve2.err"
tap_is "carol approves it anyway: exit 0" "$?" 0
tap_is "'forced' over alice's answer, naming the approver and that it was taken while held" \
	"$(sql "select actor || '|' || from_value || '|' || (detail->>'over') || '|' || (detail->>'approved_by')
		|| '|' || (detail->>'guard') from atsmail.shared_events where item_id = ${ITEM4:-0} and what = 'forced'")" \
	"bob@atsmail.test|alice@atsmail.test|answered|carol@atsmail.test|taken while held"
tap_is "then bob's answer" "$(state_of "$ITEM4")" "done|bob@atsmail.test"
tap_ok "atsmailctl says so" grep -qF "over answered of alice@atsmail.test (approved by carol@atsmail.test)" "$PW/approve2.out"

# rejected: the thread is unchanged, the pending answer gone
M5=$(mid shared-held3)
mx someone@example.org "$MB" --header "Message-Id: $M5" --header "Subject: held three" --body x
ITEM5=$(item_of "$M5")
R10=$(mid bob-held3)
r=$(reply_in "$M5" bob@atsmail.test "$R10" "Re: held three (bob)")
HID3=$(held_id "$R10")
tap_ok "a third reply of bob's is held" test -n "$HID3"
tap_is "... its answer pending" "$(pending "$R10")" 1
CTL approval reject "${HID3:-0}" --reason "not like this" --postfix-config "$TB_POSTFIX_CONF" \
	--actor carol@atsmail.test >"$PW/reject.out" 2>"$PW/reject.err"
tap_is "carol rejects it: exit 0" "$?" 0
tap_is "the pending answer is gone" "$(pending "$R10")" 0
tap_is "the thread is unchanged: unhandled, not answered" "$(state_of "$ITEM5")" "unhandled|-"
tap_is "... no event but its delivery" \
	"$(sql "select string_agg(what, ',' order by id) from atsmail.shared_events where item_id = ${ITEM5:-0}")" \
	delivered
tap_ok "the mail stays in 未対応" imap -m "$SH/未対応" -w 5 bob@atsmail.test bobpw find "$M5"
CTL policy approval bob@atsmail.test --off >/dev/null 2>&1
wait_sql "select needs_approval from atsmail.users where login = 'bob@atsmail.test'" f >/dev/null

# ---- 6. PostgreSQL down --------------------------------------------------------
"$top_srcdir/tests/testbed/testbed.sh" pg-stop "$TB_DIR" >/dev/null 2>&1 || tap_bail "pg-stop failed"
R5=$(mid bob-reply-down)
r=$(reply bob@atsmail.test "$R5" "Re: 応募の件 (db down)")
tap_ok "PostgreSQL down: a member's reply is tempfailed 451 4.3.0" grep -q "^451 4.3.0" <<<"$r"
R6=$(mid bob-new)
r=$(am_submit "$TB_SUBMISSION_PORT" bob@atsmail.test bob@atsmail.test taro@candidate.test \
	--header "To: taro@candidate.test" --header "Subject: no reply" --header "Message-Id: $R6")
tap_ok "a mail that is no reply still goes (journaled, as ATS mail is with the database down)" \
	grep -q "^250" <<<"$r"
"$top_srcdir/tests/testbed/testbed.sh" pg-start "$TB_DIR" >/dev/null 2>&1 || tap_bail "pg-start failed"
r=$(reply bob@atsmail.test "$R5" "Re: 応募の件 (db down)")
tap_ok "PostgreSQL back: the retried reply is decided again (refused: still alice's)" \
	grep -q "^550 5.7.1 assigned to another member: Alice Recruiter" <<<"$r"

tap_done
