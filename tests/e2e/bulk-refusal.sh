#!/bin/bash
# tests/e2e/bulk-refusal.sh -- ats+bulk and ats+template at SMTP time
# (docs/bulk-smtp.md), through the real test bed: alice submits with SMTP
# AUTH through Postfix's submission service to atsmaild's milter.
#   1. ats+bulk to more recipients than bulk_max_recipients: 550 5.7.1 with
#      the count and the limit, and the explanation mail in her INBOX;
#   2. ats+template.<code> of a template that does not exist: 550 naming it;
#   3. ats+bulk whose recipients match no record: 550;
#   4. PostgreSQL stopped: 451 4.3.0 (the client keeps the mail), no job;
#   5. ats+bulk to two candidates and one stranger (an address of no record): 250, a bulk_jobs row
#      (origin mail, the mail as source, the commands) with three items,
#      the stranger 'unmatched', and the original discarded by Postfix,
#      never delivered.
# The runner that sends the job's mails is tested by bulk-mail.sh.
set -u
: "${top_srcdir:=$(cd "$(dirname "$0")/../.." && pwd)}"
: "${top_builddir:=$top_srcdir}"
. "$top_srcdir/tests/e2e/e2e-lib.sh"
. "$top_srcdir/tests/e2e/atsmaild-lib.sh"
. "$top_srcdir/tests/e2e/atsmaild-mail-lib.sh"

command -v swaks >/dev/null || tap_skip_all "swaks is not installed"
[ "$(id -u)" = 0 ] || tap_skip_all "the test bed needs root"

ad_prepare M
ad_wire M
tb_start pg postfix dovecot
trap ad_cleanup EXIT
ad_db
W=$(ad_dir M)
LOG=$(ad_log M)
ATS=ats.atsmail.test
ALICE=alice@atsmail.test
TESTBED=$top_srcdir/tests/testbed/testbed.sh
"$TESTBED" adduser "$TB_DIR" "$ALICE" alicepw >/dev/null 2>&1

restart() {
	ad_stop M
	ad_conf M "explain_smtp = 127.0.0.1:$TB_SMTP_PORT" "default_language = en" "$@"
	ad_start M
}
# submit MSGID SUBJECT RCPTS [SWAKS-ARG...]: alice's mail; the last reply
submit() {
	local mid=$1 subj=$2 rcpts=$3
	shift 3
	am_submit "$TB_SUBMISSION_PORT" "$ALICE" "$ALICE" "$rcpts" \
		--header "To: $ALICE" --header "Subject: $subj $AM_RUN" --header "Message-Id: $mid" "$@"
}
logged() {  # logged PATTERN: a line of atsmaild's log, within ~5 s
	for _ in $(seq 1 50); do grep -q -- "$1" "$LOG" && return 0; sleep 0.1; done
	return 1
}
jobs_of() { am_sql "select count(*) from atsmail.bulk_jobs where subject = '$1 $AM_RUN'"; }

restart "bulk_max_recipients = 2"

# ---- 1. over the limit ----------------------------------------------------------
M1=$(am_mid bulk1)
r=$(submit "$M1" "bulk over" "taro@candidate.test,hanako@candidate.test,jiro@candidate.test,ats+bulk@$ATS")
tap_ok "over bulk_max_recipients: 550 5.7.1" grep -q "^550 5.7.1" <<<"$r"
tap_ok "the sentence says the problem first, with the command address, the count and the limit" \
	grep -q "too many recipients for one bulk mail: ats+bulk@$ATS has 3 recipients; at most 2 (bulk_max_recipients)" <<<"$r"
tap_ok "an explanation arrives in alice's INBOX" \
	am_imap -w 20 "$TB_IMAP_PORT" "$ALICE" search "HEADER X-ATS-Explanation refused SUBJECT \"bulk over $AM_RUN\""
tap_is "no bulk job made" "$(jobs_of "bulk over")" 0

restart

# ---- 2. unknown template ----------------------------------------------------------
M2=$(am_mid tpl2)
r=$(submit "$M2" "tpl unknown" "taro@candidate.test,ats+template.nosuch-tpl@$ATS")
tap_ok "an unknown template: 550 5.7.1" grep -q "^550 5.7.1" <<<"$r"
tap_ok "the sentence names the template and the command" \
	grep -q "no template \"nosuch-tpl\": ats+template.nosuch-tpl@$ATS names no template you may use" <<<"$r"
tap_is "no bulk job made" "$(jobs_of "tpl unknown")" 0

# ---- 3. no recipient matches a record ---------------------------------------------------
M3=$(am_mid bulk3)
r=$(submit "$M3" "bulk nomatch" "x1@candidate.test,x2@candidate.test,ats+bulk@$ATS")
tap_ok "no recipient matches: 550 5.7.1" grep -q "^550 5.7.1" <<<"$r"
tap_ok "the sentence says none of the 2 recipients is a record's" \
	grep -q "no recipient matches a record: none of the 2 recipients of ats+bulk@$ATS" <<<"$r"

# ---- 4. PostgreSQL stopped: 451 ----------------------------------------------------------
"$TESTBED" pg-stop "$TB_DIR" >/dev/null 2>&1 || tap_bail "pg-stop failed"
M4=$(am_mid bulk4)
r=$(submit "$M4" "bulk pgdown" "taro@candidate.test,ats+bulk@$ATS")
tap_ok "PostgreSQL stopped: 451 4.3.0 (the client retries)" grep -q "^451 4.3.0" <<<"$r"
tap_ok "atsmaild logs why" logged "cannot make the bulk job of ats+bulk@$ATS (mail tempfailed)"
"$TESTBED" pg-start "$TB_DIR" >/dev/null 2>&1 || tap_bail "pg-start failed"
for _ in $(seq 1 50); do am_sql "select 1" >/dev/null 2>&1 && break; sleep 0.2; done
tap_is "no bulk job made" "$(jobs_of "bulk pgdown")" 0

# ---- 5. taken: a job with its items, the original discarded -----------------------------------
M5=$(am_mid bulk5)
r=$(submit "$M5" "bulk ok" "taro@candidate.test,hanako@candidate.test,stranger@candidate.test,ats+bulk@$ATS,ats+phase.active@$ATS" \
	--body "Dear candidate,
this goes to each of you alone.")
tap_ok "taken: 250 (the client sees it sent)" grep -q "^250 " <<<"$r"
tap_is "one bulk job, origin mail, of alice, with the commands" \
	"$(am_wait_sql "select origin || ' ' || user_id || ' ' || commands::text from atsmail.bulk_jobs where subject = 'bulk ok $AM_RUN'" \
	  'mail 1 {"phase": "active"}')" 'mail 1 {"phase": "active"}'
tap_is "its source is the mail as the client sent it (its Message-ID)" \
	"$(am_sql "select position('$M5' in convert_from(source, 'UTF8')) > 0 from atsmail.bulk_jobs where subject = 'bulk ok $AM_RUN'")" t
tap_is "its items: taro and hanako with their resumes, the stranger unmatched" \
	"$(am_sql "select string_agg(i.rcpt || ':' || coalesce(i.record_kind::text, '-') || ':' || coalesce(i.record_id::text, '-') || ':' || (i.status = 'unmatched'), ' ' order by i.rcpt)
	     from atsmail.bulk_items i join atsmail.bulk_jobs j on j.id = i.job_id where j.subject = 'bulk ok $AM_RUN'")" \
	"hanako@candidate.test:resume:1002:false stranger@candidate.test:-:-:true taro@candidate.test:resume:1001:false"
tap_ok "atsmaild logs the job and its counts" logged "taken: bulk job [0-9]* (mail): user=$ALICE recipients=3 matched=2 unmatched=1 items=3"
tap_ok "Postfix discarded the original" \
	eval "for _ in \$(seq 1 50); do grep -q 'milter triggers DISCARD action' '$TB_MAILLOG' && exit 0; sleep 0.1; done; exit 1"
tap_is "the original is not recorded as a sent mail" \
	"$(am_sql "select count(*) from atsmail.messages where rfc_message_id = '$(am_bare "$M5")'")" 0

if [ "$TAP_FAILED" -gt 0 ]; then
	tap_diag "--- atsmaild's log:"; grep -v 'debug: ' "$LOG" | tail -n 40 | sed 's/^/# /'
	tap_diag "--- maillog:"; tail -n 40 "$TB_MAILLOG" | sed 's/^/# /'
fi
tap_done
