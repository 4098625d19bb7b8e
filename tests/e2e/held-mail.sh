#!/bin/bash
# tests/e2e/held-mail.sh -- mail held for approval, through the real test
# bed: erin (needs_approval in tests/data/seed.sql) submits ATS mail with
# ats+job and ats+phase in Bcc; atsmaild's milter puts it in Postfix's hold
# queue and journals it; the recorder records it as held: no phase moved,
# no process made, no message.sent in the outbox, the audit entry
# message.held.  `atsmailctl held release` runs postsuper -H (Postfix
# delivers it) and then the phase changes, the new process, message.sent
# and its audit entry exist.  A second held mail is rejected (postsuper -d:
# never delivered, nothing moved); a third, released by hand with
# postsuper, is refused by `held release` until --db-only says so.
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
ad_conf M
ad_start M
W=$(ad_dir M)
LOG=$(ad_log M)
"$top_srcdir/tests/testbed/testbed.sh" adduser "$TB_DIR" erin@atsmail.test erinpw >/dev/null ||
	tap_bail "cannot add erin's mailbox"

ATS=ats.atsmail.test
CTL=$top_builddir/ctl/atsmailctl
: >"$W/empty.conf"
held() {
	"$CTL" -c "$W/empty.conf" --db "$TB_PG_ADMIN" held "$@" >"$W/out" 2>"$W/err"
	RC=$?
}
# the queue ids in Postfix's hold queue, one a line
on_hold() {
	postqueue -c "$TB_POSTFIX_CONF" -j 2>/dev/null | python3 -c '
import json, sys
for line in sys.stdin:
    if line.strip():
        q = json.loads(line)
        if q["queue_name"] == "hold":
            print(q["queue_id"])'
}
q() { am_sql "$1"; }
qw() { am_wait_sql "$1" "$2" 20; }

# ---- 1. held: recorded as held, nothing moved -------------------------------
M1=$(am_mid held1)
r=$(am_submit "$TB_SUBMISSION_PORT" erin@atsmail.test erin@atsmail.test \
	"hanako@candidate.test,ats+job.3001.3002@$ATS,ats+phase.interview1@$ATS" \
	--header "To: hanako@candidate.test" --header "Subject: held one $AM_RUN" \
	--header "Message-Id: $M1")
tap_ok "erin's ATS mail is accepted" grep -q "^250" <<<"$r"
MID1=$(am_bare "$M1")
tap_is "it is recorded as held" \
	"$(qw "select status from atsmail.messages where rfc_message_id = '$MID1'" held)" held
ID1=$(q "select id from atsmail.messages where rfc_message_id = '$MID1'")
QID1=$(q "select queue_id from atsmail.held_messages where message_id = ${ID1:-0}")
tap_ok "the recorded queue id is the one in Postfix's hold queue" \
	eval "[ -n '$QID1' ] && on_hold | grep -qx '$QID1'"
tap_is "no phase change is recorded for it" \
	"$(q "select count(*) from atsmail.phase_history where message_id = ${ID1:-0}")" 0
tap_is "process 4001 (resume 1002 x job 3001) keeps its phase" \
	"$(q "select phase from atsmail.processes where id = 4001")" screening
tap_is "no process of resume 1002 and job 3002 is made" \
	"$(q "select count(*) from atsmail.processes where resume_id = 1002 and job_id = 3002")" 0
tap_is "no message.sent or phase.changed event is in the outbox" \
	"$(q "select count(*) from atsmail.outbox where (payload->>'message_id')::bigint = ${ID1:-0}")" 0
tap_is "the audit log says message.held, not message.sent" \
	"$(q "select string_agg(action, ',' order by id) from atsmail.audit_log
	     where object_kind = 'message' and object_id = '${ID1:-0}' and action like 'message.%'
	       and action not in ('message.linked')")" "message.held"
held list
tap_ok "held list shows it with its queue id and sender" \
	grep -Eq "^$ID1	$QID1	erin@atsmail.test	" "$W/out"

# ---- 2. release: postsuper -H, then the record ------------------------------
held release "$ID1" --postfix-config "$TB_POSTFIX_CONF" --actor approver@atsmail.test
tap_is "held release exits 0" "$RC" 0
tap_ok "Postfix no longer holds it" eval "! on_hold | grep -qx '$QID1'"
tap_is "it is recorded as released" \
	"$(q "select status || ' ' || (select decided_by from atsmail.held_messages where message_id = $ID1)
	     from atsmail.messages where id = $ID1")" "released approver@atsmail.test"
tap_ok "hanako receives it" am_imap -w 20 "$TB_IMAP_PORT" hanako@candidate.test find "$M1"
tap_is "process 4001 moved to interview1" \
	"$(q "select phase from atsmail.processes where id = 4001")" interview1
tap_is "the process of resume 1002 and job 3002 is made, in interview1, and linked" \
	"$(q "select p.phase || ' ' || count(l.id) from atsmail.processes p
	     left join atsmail.message_links l on l.target_kind = 'process' and l.target_id = p.id
	       and l.message_id = $ID1
	     where p.resume_id = 1002 and p.job_id = 3002 group by p.phase")" "interview1 1"
tap_is "both phase changes are in the history, caused by the sent mail" \
	"$(q "select count(*) from atsmail.phase_history where message_id = $ID1 and cause = 'mail_sent'")" 2
tap_is "the outbox has message.sent and the two phase.changed" \
	"$(q "select string_agg(event_type, ',' order by event_type) from atsmail.outbox
	     where (payload->>'message_id')::bigint = $ID1")" "message.sent,phase.changed,phase.changed"
tap_is "the audit log has message.sent, released by the approver" \
	"$(q "select count(*) || ' ' || max(detail->>'released_by') from atsmail.audit_log
	     where action = 'message.sent' and object_id = '$ID1'")" "1 approver@atsmail.test"
held release "$ID1" --postfix-config "$TB_POSTFIX_CONF"
tap_is "releasing it again: exit 1" "$RC" 1
tap_ok "... saying it was released already" grep -q "released already" "$W/err"
held list
tap_ok "held list no longer shows it" eval "! grep -q '^$ID1	' '$W/out'"

# ---- 3. reject: postsuper -d, nothing moved ---------------------------------
M2=$(am_mid held2)
r=$(am_submit "$TB_SUBMISSION_PORT" erin@atsmail.test erin@atsmail.test \
	"taro@candidate.test,ats+phase.active@$ATS" \
	--header "To: taro@candidate.test" --header "Subject: held two $AM_RUN" \
	--header "Message-Id: $M2")
MID2=$(am_bare "$M2")
tap_is "a second mail is recorded as held" \
	"$(qw "select status from atsmail.messages where rfc_message_id = '$MID2'" held)" held
ID2=$(q "select id from atsmail.messages where rfc_message_id = '$MID2'")
QID2=$(q "select queue_id from atsmail.held_messages where message_id = ${ID2:-0}")
held reject "$ID2" --postfix-config "$TB_POSTFIX_CONF" --reason "wrong candidate" --actor approver@atsmail.test
tap_is "held reject exits 0" "$RC" 0
tap_is "Postfix holds nothing of it any more (deleted)" \
	"$(postqueue -c "$TB_POSTFIX_CONF" -j 2>/dev/null | grep -c "\"$QID2\"")" 0
tap_is "it is recorded as rejected" "$(q "select status from atsmail.messages where id = $ID2")" rejected
tap_is "resume 1001 keeps its phase" "$(q "select phase from atsmail.resumes where id = 1001")" new
tap_is "no event and no phase history for it" \
	"$(q "select (select count(*) from atsmail.outbox where (payload->>'message_id')::bigint = $ID2)
	     + (select count(*) from atsmail.phase_history where message_id = $ID2)")" 0
tap_is "the rejection is audited with its reason" \
	"$(q "select detail->>'reason' from atsmail.audit_log where action = 'message.rejected' and object_id = '$ID2'")" \
	"wrong candidate"
tap_ok "taro never receives it" eval "! am_imap -w 2 '$TB_IMAP_PORT' taro@candidate.test find '$M2' >/dev/null 2>&1"

# ---- 4. released by hand: refused until --db-only ---------------------------
M3=$(am_mid held3)
am_submit "$TB_SUBMISSION_PORT" erin@atsmail.test erin@atsmail.test taro@candidate.test \
	--header "To: taro@candidate.test" --header "Subject: held three $AM_RUN" \
	--header "Message-Id: $M3" >/dev/null
MID3=$(am_bare "$M3")
qw "select status from atsmail.messages where rfc_message_id = '$MID3'" held >/dev/null
ID3=$(q "select id from atsmail.messages where rfc_message_id = '$MID3'")
QID3=$(q "select queue_id from atsmail.held_messages where message_id = ${ID3:-0}")
postsuper -c "$TB_POSTFIX_CONF" -H "$QID3" >/dev/null 2>&1
held release "$ID3" --postfix-config "$TB_POSTFIX_CONF"
tap_is "a mail released by hand: held release exits 1" "$RC" 1
tap_ok "... saying Postfix does not hold it" grep -q "Postfix holds no mail $QID3" "$W/err"
tap_is "... and nothing is recorded" "$(q "select status from atsmail.messages where id = ${ID3:-0}")" held
held release "$ID3" --db-only
tap_is "with --db-only it is recorded as released" \
	"$RC $(q "select status from atsmail.messages where id = ${ID3:-0}")" "0 released"
held release 999999 --db-only
tap_is "a message that was never held: exit 1" "$RC" 1
held release abc
tap_is "an id that is not a number: usage (2)" "$RC" 2
tap_is "the audit chain verifies" "$(q "select ok from atsmail.audit_verify()")" t

if [ "$TAP_FAILED" -gt 0 ]; then
	tap_diag "--- atsmaild's log:"; grep -v 'debug: ' "$LOG" | tail -n 30 | sed 's/^/# /'
	tap_diag "--- maillog:"; tail -n 30 "$TB_MAILLOG" | sed 's/^/# /'
	tap_diag "--- held out/err:"; cat "$W/out" "$W/err" | sed 's/^/# /'
fi
tap_done
