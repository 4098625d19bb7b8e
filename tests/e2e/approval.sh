#!/bin/bash
# tests/e2e/approval.sh -- the approval round trip through the real test
# bed (Postfix, atsmaild, Dovecot, PostgreSQL): bob is made erin's approver
# with `atsmailctl policy approval`; erin's ATS mail is held, recorded as
# held with a preview of its text, and bob is told (approval.request, with
# the address to approve at); carol, no approver of erin, is refused 550
# 5.7.1 at ats+approve.<id>; bob's reply to ats+approve.<id> is recorded
# and delivered nowhere, and only `atsmailctl approval run` (root:
# postsuper) releases it: hanako receives it, the phase moves then and not
# before, erin is told (approval.approved).  `approval reject --reason`
# removes a second mail from the hold queue and tells erin why; bob's
# ats+reject.<id> with a reason in the body does the same through
# `approval run`; a mail held longer than approval_remind_after reminds
# bob once; PostgreSQL failing a decision by mail is 451.  Every
# notification is checked where it is read: in the IMAP INBOX of its
# recipient, sent by atsmaild's notification sender.
# Groups: a group that needs approval makes its members need it.
set -u
: "${top_srcdir:=$(cd "$(dirname "$0")/../.." && pwd)}"
: "${top_builddir:=$top_srcdir}"
. "$top_srcdir/tests/e2e/e2e-lib.sh"
. "$top_srcdir/tests/e2e/atsmaild-lib.sh"
. "$top_srcdir/tests/e2e/atsmaild-mail-lib.sh"

command -v swaks >/dev/null || tap_skip_all "swaks is not installed"
command -v postsuper >/dev/null || tap_skip_all "postsuper is not installed"
[ "$(id -u)" = 0 ] || tap_skip_all "the test bed needs root"

ad_prepare M
ad_wire M
tb_start pg postfix dovecot
trap ad_cleanup EXIT
ad_db
ad_conf M "notify_smtp = 127.0.0.1:$TB_SMTP_PORT" "explain_smtp = 127.0.0.1:$TB_SMTP_PORT"
ad_start M
W=$(ad_dir M)
LOG=$(ad_log M)
for u in erin; do
	"$top_srcdir/tests/testbed/testbed.sh" adduser "$TB_DIR" "$u@atsmail.test" "${u}pw" \
		>/dev/null || tap_bail "cannot add $u's mailbox"
done

ATS=ats.atsmail.test
CTL=$top_builddir/ctl/atsmailctl
printf 'approval_remind_after = 1h\n' >"$W/ctl.conf"
ctl() {
	"$CTL" -c "$W/ctl.conf" --db "$TB_PG_ADMIN" "$@" >"$W/out" 2>"$W/err"
	RC=$?
}
on_hold() { # the queue ids in Postfix's hold queue, one a line
	postqueue -c "$TB_POSTFIX_CONF" -j 2>/dev/null | python3 -c '
import json, sys
for line in sys.stdin:
    if line.strip():
        q = json.loads(line)
        if q["queue_name"] == "hold":
            print(q["queue_id"])'
}
q() { am_sql "$1"; }
msgid_of() { q "select '<' || rfc_message_id || '>' from atsmail.messages where id = ${1:-0}"; }
has() { grep -q -- "$2" <<<"$1"; }   # has TEXT PATTERN
qw() { am_wait_sql "$1" "$2" 20; }
# the params of the last notification of KIND to LOGIN about message ID, as
# "key=value" for each key named
notified() {
	q "select coalesce((select $4 from atsmail.notifications n
	     where n.kind = '$1' and n.to_addr = '$2' and n.ref_kind = 'message' and n.ref_id = '$3'
	     order by n.id desc limit 1), '(none)')"
}
# the UID of the newest notification of KIND (whose subject holds WORD) in
# USER's INBOX, waiting up to 30 s; "" when none came
inbox_uid() {
	local uids u
	for _ in $(seq 1 60); do
		uids=$(am_imap "$TB_IMAP_PORT" "$1" search "HEADER X-ATS-Notification \"$2\"" 2>/dev/null)
		for u in $(tr ' ' '\n' <<<"$uids" | sort -rn); do
			am_imap "$TB_IMAP_PORT" "$1" subject "uid:$u" | grep -qF -- "$3" && { echo "$u"; return; }
		done
		sleep 0.5
	done
}
# the text of message UID in USER's INBOX, decoded
inbox_text() {
	am_imap "$TB_IMAP_PORT" "$1" raw "uid:$2" | python3 -c '
import email, email.policy, sys
m = email.message_from_bytes(sys.stdin.buffer.read(), policy=email.policy.default)
print(m.get_body(("plain",)).get_content())'
}
# erin's held mail: "ID QID"
hold_one() {
	local mid r
	mid=$(am_mid "$1")
	r=$(am_submit "$TB_SUBMISSION_PORT" erin@atsmail.test erin@atsmail.test "$2" \
		--header "To: ${2%%,*}" --header "Subject: $1 $AM_RUN" --header "Message-Id: $mid" \
		--body "Dear candidate,
the interview is on Monday at 10:00 ($1).")
	grep -q "^250" <<<"$r" || { echo "submit: $r"; return; }
	qw "select status from atsmail.messages where rfc_message_id = '$(am_bare "$mid")'" held \
		>/dev/null
	q "select m.id || ' ' || coalesce(h.queue_id, '-') from atsmail.messages m
	   join atsmail.held_messages h on h.message_id = m.id
	   where m.rfc_message_id = '$(am_bare "$mid")'"
}

# ---- 1. policy: approvers of a user, of a group -------------------------------
ctl policy approval erin@atsmail.test --approver bob@atsmail.test --actor admin@atsmail.test
tap_is "policy approval USER --approver: exit 0" "$RC" 0
tap_ok "... it says bob was added" grep -q "approver bob@atsmail.test added" "$W/out"
ctl policy approval erin@atsmail.test
tap_ok "policy approval USER shows bob as the one who approves erin's mail" \
	grep -Eq "^approved_by +bob@atsmail.test$" "$W/out"
tap_is "the change is audited with its actor" \
	"$(q "select actor from atsmail.audit_log where action = 'policy.approval'
	     and object_id = 'erin@atsmail.test' order by id desc limit 1")" admin@atsmail.test
ctl policy group trainees add dave@atsmail.test
tap_is "policy group GROUP add: exit 0" "$RC" 0
ctl policy approval @trainees --approver carol@atsmail.test
tap_is "a group given an approver needs approval: its member dave needs it now" \
	"$(q "select needs_approval from atsmail.users where login = 'dave@atsmail.test'")" t
ctl policy approval dave@atsmail.test
tap_ok "dave's mail is approved by carol, through the group" \
	grep -Eq "^approved_by +carol@atsmail.test$" "$W/out"
ctl policy approval @trainees --off
tap_is "the group turned off: dave no longer needs approval" \
	"$(q "select needs_approval from atsmail.users where login = 'dave@atsmail.test'")" f
ctl policy approval nobody@atsmail.test --approver bob@atsmail.test
tap_is "policy approval of an unknown user: exit 1" "$RC" 1
ctl policy approval erin@atsmail.test --approver ghost@atsmail.test
tap_ok "an approver who is no user is named in the error" grep -q "no active user 'ghost@atsmail.test'" "$W/err"

# ---- 2. held: bob is told, with a preview and where to answer ------------------
read -r ID1 QID1 <<<"$(hold_one "approve-me" "hanako@candidate.test,ats+job.3001@$ATS,ats+phase.interview1@$ATS")"
tap_ok "erin's ATS mail is held, with its queue id in Postfix's hold queue" \
	eval "[ -n '${QID1:-}' ] && on_hold | grep -qx '$QID1'"
tap_ok "its preview is the start of its text" \
	has "$(q "select preview from atsmail.held_messages where message_id = ${ID1:-0}")" \
	"^the interview is on Monday at 10:00 (approve-me)"
tap_is "bob gets approval.request naming the address to approve at" \
	"$(notified approval.request bob@atsmail.test "${ID1:-0}" "params->>'approve_addr'")" \
	"ats+approve.${ID1:-0}@$ATS"
tap_ok "... with the preview and the sender" \
	has "$(notified approval.request bob@atsmail.test "${ID1:-0}" \
		"(params->>'sender') || ' ' || (params->>'preview')")" "^erin@atsmail.test Dear candidate"
U1=$(inbox_uid bob@atsmail.test approval.request "approve-me")
tap_ok "the approval request is in bob's IMAP INBOX" test -n "$U1"
REPLY_TO=$(am_imap "$TB_IMAP_PORT" bob@atsmail.test header "uid:${U1:-0}" Reply-To)
tap_is "... a reply to it goes to ats+approve.$ID1" "$REPLY_TO" "<ats+approve.$ID1@$ATS>"
tap_ok "... it shows the start of the held mail's text" \
	has "$(inbox_text bob@atsmail.test "${U1:-0}")" "the interview is on Monday at 10:00 (approve-me)"
tap_is "nobody else is asked (not carol, not the admins)" \
	"$(q "select count(*) from atsmail.notifications where kind = 'approval.request'
	     and ref_id = '${ID1:-0}' and to_addr <> 'bob@atsmail.test'")" 0

# ---- 3. a non-approver's ats+approve is refused --------------------------------
r=$(am_submit "$TB_SUBMISSION_PORT" carol@atsmail.test carol@atsmail.test "ats+approve.$ID1@$ATS" \
	--header "Subject: ok" --body "fine")
tap_ok "carol (no approver of erin) at ats+approve.$ID1: 550 5.7.1 saying why" \
	has "$r" "^550 5.7.1 not an approver of its sender: ats+approve.$ID1@$ATS decides on held mail $ID1 of erin@atsmail.test"
tap_is "... and nothing is recorded" \
	"$(q "select count(*) from atsmail.approval_requests where message_id = ${ID1:-0}")" 0
r=$(am_submit "$TB_SUBMISSION_PORT" bob@atsmail.test bob@atsmail.test \
	"hanako@candidate.test,ats+approve.$ID1@$ATS" --header "Subject: ok" --body "fine")
tap_ok "bob's decision beside another recipient: 550 5.7.1, sent alone" \
	has "$r" "^550 5.7.1 a decision on held mail is sent alone"

# ---- 4. bob approves by mail; approval run releases it -------------------------
NOTE_ID=$(am_imap "$TB_IMAP_PORT" bob@atsmail.test header "uid:${U1:-0}" Message-ID)
r=$(am_submit "$TB_SUBMISSION_PORT" bob@atsmail.test bob@atsmail.test "${REPLY_TO:-<none>}" \
	--header "To: $REPLY_TO" --header "Subject: Re: approve-me" \
	--header "In-Reply-To: $NOTE_ID" --body "OK to send.")
tap_ok "bob's reply to the approval request (ats+approve.$ID1) is accepted" grep -q "^250" <<<"$r"
tap_is "the request is recorded, not applied" \
	"$(q "select decision || ' ' || (applied_at is null) from atsmail.approval_requests
	     where message_id = ${ID1:-0}")" "approve true"
tap_ok "the mail is still in the hold queue" eval "on_hold | grep -qx '$QID1'"
tap_is "no phase moved before the release (process 4001 in screening)" \
	"$(q "select phase from atsmail.processes where id = 4001")" screening
ctl approval list
tap_ok "approval list shows the request" grep -q "^$ID1	$QID1	erin@atsmail.test	.*held, approve asked by bob@atsmail.test" "$W/out"
ctl approval run --postfix-config "$TB_POSTFIX_CONF"
tap_is "approval run exits 0" "$RC" 0
tap_ok "Postfix no longer holds it" eval "! on_hold | grep -qx '$QID1'"
tap_ok "hanako receives it" am_imap -w 20 "$TB_IMAP_PORT" hanako@candidate.test find "$(msgid_of "$ID1")"
tap_is "released by bob, and the request is applied" \
	"$(q "select m.status || ' ' || h.decided_by || ' ' || r.outcome from atsmail.messages m
	     join atsmail.held_messages h on h.message_id = m.id
	     join atsmail.approval_requests r on r.message_id = m.id where m.id = $ID1")" \
	"released bob@atsmail.test applied"
tap_is "the phase is applied now (process 4001 in interview1)" \
	"$(q "select phase from atsmail.processes where id = 4001")" interview1
tap_is "erin is told it was approved, by bob" \
	"$(notified approval.approved erin@atsmail.test "$ID1" "params->>'approver'")" bob@atsmail.test
U=$(inbox_uid erin@atsmail.test approval.approved "approve-me")
tap_ok "... in her IMAP INBOX, naming bob" has "$(inbox_text erin@atsmail.test "${U:-0}")" "bob@atsmail.test"
ctl approval run --postfix-config "$TB_POSTFIX_CONF"
tap_is "a second run has nothing to do: exit 0, no request" "$RC $(grep -c '^request' "$W/out")" "0 0"
r=$(am_submit "$TB_SUBMISSION_PORT" bob@atsmail.test bob@atsmail.test "ats+reject.$ID1@$ATS" \
	--header "Subject: no" --body "too late")
tap_ok "deciding on a decided mail: 550 5.7.1 decided already" \
	has "$r" "^550 5.7.1 decided already: ats+reject.$ID1@$ATS; held mail $ID1 was released by bob@atsmail.test"

# ---- 5. reject with atsmailctl: removed, erin told why -------------------------
read -r ID2 QID2 <<<"$(hold_one "reject-me" "taro@candidate.test,ats+phase.active@$ATS")"
tap_ok "a second mail is held" eval "[ -n '${QID2:-}' ] && on_hold | grep -qx '$QID2'"
ctl approval reject "$ID2" --postfix-config "$TB_POSTFIX_CONF"
tap_is "approval reject without --reason: usage (2)" "$RC" 2
ctl approval reject "$ID2" --reason "wrong candidate" --postfix-config "$TB_POSTFIX_CONF" \
	--actor bob@atsmail.test
tap_is "approval reject --reason: exit 0" "$RC" 0
tap_is "Postfix holds nothing of it any more" \
	"$(postqueue -c "$TB_POSTFIX_CONF" -j 2>/dev/null | grep -c "\"$QID2\"")" 0
tap_is "it is recorded as rejected" "$(q "select status from atsmail.messages where id = $ID2")" rejected
tap_is "erin is told why" \
	"$(notified approval.rejected erin@atsmail.test "$ID2" "(params->>'reason') || ' / ' || (params->>'approver')")" \
	"wrong candidate / bob@atsmail.test"
U=$(inbox_uid erin@atsmail.test approval.rejected "reject-me")
tap_ok "... in her IMAP INBOX, with the reason" \
	has "$(inbox_text erin@atsmail.test "${U:-0}")" "wrong candidate"
tap_is "resume 1001 keeps its phase" "$(q "select phase from atsmail.resumes where id = 1001")" new

# ---- 6. reject by mail, the reason in the body ---------------------------------
read -r ID3 QID3 <<<"$(hold_one "reject-by-mail" "taro@candidate.test")"
r=$(am_submit "$TB_SUBMISSION_PORT" bob@atsmail.test bob@atsmail.test "ats+reject.$ID3@$ATS" \
	--header "Subject: Re: reject-by-mail" --body "Please use the interview template.

On Fri, erin wrote:
> Dear candidate,")
tap_ok "bob's ats+reject.$ID3 is accepted" grep -q "^250" <<<"$r"
tap_is "the reason is the text above the quote" \
	"$(q "select reason from atsmail.approval_requests where message_id = ${ID3:-0}")" \
	"Please use the interview template."
ctl approval run --postfix-config "$TB_POSTFIX_CONF"
tap_is "approval run applies it: exit 0" "$RC" 0
tap_ok "it is gone from the hold queue" eval "! on_hold | grep -qx '$QID3'"
tap_is "erin is told bob's reason" \
	"$(notified approval.rejected erin@atsmail.test "$ID3" "params->>'reason'")" \
	"Please use the interview template."
tap_ok "taro never receives it" \
	eval "! am_imap -w 2 '$TB_IMAP_PORT' taro@candidate.test find '$(msgid_of "$ID3")' >/dev/null 2>&1"

# ---- 7. a reminder after approval_remind_after, once ---------------------------
read -r ID4 QID4 <<<"$(hold_one "remind-me" "hanako@candidate.test")"
ctl approval run --postfix-config "$TB_POSTFIX_CONF"
tap_is "held a moment ago: no reminder" \
	"$(notified approval.reminder bob@atsmail.test "${ID4:-0}" "params->>'waiting'")" "(none)"
q "update atsmail.held_messages set held_at = now() - interval '2 hours 5 minutes'
   where message_id = ${ID4:-0}" >/dev/null
ctl approval run --postfix-config "$TB_POSTFIX_CONF"
tap_ok "held over approval_remind_after (1h): the run says it reminded" \
	grep -q "reminded the approvers of 1 held mail" "$W/out"
tap_is "bob gets approval.reminder saying how long it waits" \
	"$(notified approval.reminder bob@atsmail.test "${ID4:-0}" "params->>'waiting'")" 2h
tap_ok "... in his IMAP INBOX" test -n "$(inbox_uid bob@atsmail.test approval.reminder "remind-me")"
ctl approval run --postfix-config "$TB_POSTFIX_CONF"
tap_is "... once: a second run reminds nobody" \
	"$(q "select count(*) from atsmail.notifications where kind = 'approval.reminder'
	     and ref_id = '${ID4:-0}'")" 1
tap_ok "it still waits for a decision" eval "on_hold | grep -qx '$QID4'"

# ---- 8. the database failing: 451, nothing lost ---------------------------------
q "revoke execute on function atsmail.approval_by_mail(bigint, text, text, text, text)
   from atsmail_writer" >/dev/null
r=$(am_submit "$TB_SUBMISSION_PORT" bob@atsmail.test bob@atsmail.test "ats+approve.$ID4@$ATS" \
	--header "Subject: ok" --body "fine")
q "grant execute on function atsmail.approval_by_mail(bigint, text, text, text, text)
   to atsmail_writer" >/dev/null
tap_ok "PostgreSQL failing the decision's statement: 451 4.3.0 (the client retries)" \
	has "$r" "^451 4.3.0 atsmail: cannot take this decision now"
tap_is "... and nothing is recorded" \
	"$(q "select count(*) from atsmail.approval_requests where message_id = ${ID4:-0}")" 0

# ---- 9. a request that cannot be applied is closed as failed ----------------------
read -r ID5 QID5 <<<"$(hold_one "gone-by-hand" "hanako@candidate.test")"
am_submit "$TB_SUBMISSION_PORT" bob@atsmail.test bob@atsmail.test "ats+approve.$ID5@$ATS" \
	--header "Subject: ok" --body "fine" >/dev/null
postsuper -c "$TB_POSTFIX_CONF" -H "${QID5:-none}" >/dev/null 2>&1
ctl approval run --postfix-config "$TB_POSTFIX_CONF"
tap_is "a mail released by hand: approval run exits 1" "$RC" 1
tap_is "... its request is closed as failed, the mail still recorded as held" \
	"$(q "select r.outcome || ' ' || m.status from atsmail.approval_requests r
	     join atsmail.messages m on m.id = r.message_id where r.message_id = ${ID5:-0}")" \
	"failed held"
ctl approval run --postfix-config "$TB_POSTFIX_CONF"
tap_is "... and is not tried again: the next run exits 0" "$RC" 0

# ---- 10. held is an alias --------------------------------------------------------
ctl held release "$ID4" --postfix-config "$TB_POSTFIX_CONF"
tap_is "held release (the older name) approves: exit 0" "$RC" 0
tap_is "... and erin is told" \
	"$(q "select count(*) from atsmail.notifications where kind = 'approval.approved'
	     and ref_id = '${ID4:-0}'")" 1
tap_is "the audit chain verifies" "$(q "select ok from atsmail.audit_verify()")" t

if [ "$TAP_FAILED" -gt 0 ]; then
	tap_diag "--- atsmaild's log:"; grep -v 'debug: ' "$LOG" | tail -n 30 | sed 's/^/# /'
	tap_diag "--- maillog:"; tail -n 30 "$TB_MAILLOG" | sed 's/^/# /'
	tap_diag "--- ctl out/err:"; cat "$W/out" "$W/err" | sed 's/^/# /'
fi
tap_done
