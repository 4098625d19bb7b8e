#!/bin/bash
# tests/e2e/bulk-refusal.sh -- ats+bulk and ats+template at SMTP time
# (docs/bulk.md, "SMTP-time checks"), through the real test bed: alice submits with SMTP
# AUTH through Postfix's submission service to atsmaild's milter.
#   1. ats+bulk to more recipients than bulk_max_recipients: 550 5.7.1 with
#      the count and the limit, and the explanation mail in her INBOX;
#   2. ats+template.<code> of a template that does not exist: 550 naming it;
#   3. ats+bulk whose recipients match no record: 550;
#   4. PostgreSQL stopped: 451 4.3.0 (the client keeps the mail), no job;
#   5. ats+bulk to two candidates and one stranger (an address of no record): 250, a bulk_jobs row
#      (origin mail, the mail as source, the commands) with three items,
#      the stranger 'unmatched', and the original discarded by Postfix,
#      never delivered;
#   6. ats+bulk with an attached CSV (an email column): its addresses are
#      the job's items;
#   7. ats+bulk.<list>: the list's members are the items; an unknown list:
#      550 naming it;
#   8. a taken mail larger than explain_attach_max: 552 5.3.4;
#   9. ats+template.<code> to one candidate with a colleague in Cc: a job of
#      origin template, one item (the candidate, the colleague beside it,
#      the client's Message-ID kept);
#  10. the merge check: a tag without a value for a recipient refuses the
#      whole mail naming the tag and the record, unless the template says
#      'empty'; an unknown tag is refused.
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

# ---- 6. the recipients of an attached CSV ------------------------------------------------------
printf 'name,email\r\nTaro,taro@candidate.test\r\nNobody,nobody@candidate.test\r\n' >"$W/rcpts.csv"
M6=$(am_mid bulk6)
r=$(submit "$M6" "bulk csv" "ats+bulk@$ATS" --body "Hello" --attach-type text/csv --attach "@$W/rcpts.csv")
tap_ok "ats+bulk with a CSV: 250" grep -q "^250 " <<<"$r"
tap_is "the CSV's addresses are the items, matched or not" \
	"$(am_wait_sql "select string_agg(i.rcpt || ':' || coalesce(i.record_id::text, '-'), ' ' order by i.rcpt)
	     from atsmail.bulk_items i join atsmail.bulk_jobs j on j.id = i.job_id where j.subject = 'bulk csv $AM_RUN'" \
	  "nobody@candidate.test:- taro@candidate.test:1001")" "nobody@candidate.test:- taro@candidate.test:1001"

# ---- 7. a recipient list ------------------------------------------------------------------------
am_sql "insert into atsmail.recipient_lists (name, owner_id) values ('fair-$AM_RUN', 1);
	insert into atsmail.recipient_list_members (list_id, record_kind, record_id)
	select id, 'resume', r from atsmail.recipient_lists, unnest(array[1001, 1002]) r
	where name = 'fair-$AM_RUN'" >/dev/null
M7=$(am_mid bulk7)
r=$(submit "$M7" "bulk list" "ats+bulk.fair-$AM_RUN@$ATS" --body "Hello")
tap_ok "ats+bulk.<list>: 250" grep -q "^250 " <<<"$r"
tap_is "the list's members are the items" \
	"$(am_wait_sql "select string_agg(i.record_id::text, ',' order by i.record_id)
	     from atsmail.bulk_items i join atsmail.bulk_jobs j on j.id = i.job_id where j.subject = 'bulk list $AM_RUN'" \
	  "1001,1002")" "1001,1002"
r=$(submit "$(am_mid bulk7b)" "bulk nolist" "ats+bulk.nosuch-list@$ATS" --body "Hello")
tap_ok "an unknown list: 550 naming it" \
	grep -q "^550 5.7.1 no recipient list \"nosuch-list\": ats+bulk.nosuch-list@$ATS names no list you may use" <<<"$r"

# ---- 8. larger than explain_attach_max ------------------------------------------------------------
restart "explain_attach_max = 64k"
head -c 100000 /dev/urandom | base64 >"$W/big.txt"
r=$(submit "$(am_mid bulk8)" "bulk big" "taro@candidate.test,ats+bulk@$ATS" --attach "@$W/big.txt")
tap_ok "a taken mail over explain_attach_max: 552 5.3.4 with the sentence" \
	grep -q "^552 5.3.4 mail too large for a bulk job: over 65536 bytes (explain_attach_max), with ats+bulk@$ATS" <<<"$r"
tap_is "no bulk job made" "$(jobs_of "bulk big")" 0

# ---- 9. a template mail ----------------------------------------------------------------------------
restart
am_sql "insert into atsmail.templates (code, name, subject, body, lang, shared)
	values ('offer', 'Offer', 'Offer for {{resume.name}}', 'Dear {{resume.name}},', 'en', true)
	on conflict (code) do nothing" >/dev/null
M9=$(am_mid tpl9)
r=$(submit "$M9" "tpl ok" "taro@candidate.test,bob@atsmail.test,ats+template.offer@$ATS" \
	--header "Cc: bob@atsmail.test" --body "Dear {{resume.name}},")
tap_ok "a template mail to one candidate: 250" grep -q "^250 " <<<"$r"
tap_is "one job of origin template, with the template's code" \
	"$(am_wait_sql "select origin || ' ' || template_code from atsmail.bulk_jobs where subject = 'tpl ok $AM_RUN'" "template offer")" \
	"template offer"
tap_is "one item: taro's resume, bob beside it, the client's Message-ID" \
	"$(am_sql "select i.rcpt || ' ' || i.record_id || ' ' || array_to_string(i.extra_rcpts, ',') || ' ' || (i.message_id = '$(am_bare "$M9")')
	     from atsmail.bulk_items i join atsmail.bulk_jobs j on j.id = i.job_id where j.subject = 'tpl ok $AM_RUN'")" \
	"taro@candidate.test 1001 bob@atsmail.test true"

# ---- 10. the merge check ------------------------------------------------------------------------
r=$(submit "$(am_mid tag10)" "tag missing" "taro@candidate.test,hanako@candidate.test,ats+bulk@$ATS" \
	--body "Dear {{resume.name}}, about {{job.title}}")
tap_ok "a tag without a value (no job named): 550 5.7.1" grep -q "^550 5.7.1" <<<"$r"
tap_ok "the sentence names the tag and the record" \
	eval "grep -q 'merge tag without a value: {{job.title}} for resume 100[12]' <<<\"\$r\""
tap_is "no bulk job made" "$(jobs_of "tag missing")" 0
r=$(submit "$(am_mid tag10b)" "tag unknown" "taro@candidate.test,ats+bulk@$ATS" --body "Dear {{resume.nmae}},")
tap_ok "an unknown tag: 550 naming it" grep -q "^550 5.7.1 unknown merge tag {{resume.nmae}}: ats+bulk@$ATS" <<<"$r"
am_sql "insert into atsmail.templates (code, name, subject, body, lang, shared, on_missing)
	values ('lenient', 'Lenient', 'x', 'x', 'en', true, 'empty') on conflict (code) do nothing" >/dev/null
r=$(submit "$(am_mid tag10c)" "tag empty" "taro@candidate.test,ats+template.lenient@$ATS" \
	--body "Dear {{resume.name}}, about {{job.title}}")
tap_ok "the same tag with a template whose on_missing is 'empty': 250" grep -q "^250 " <<<"$r"
tap_is "and its job is made" "$(am_wait_sql "select count(*) from atsmail.bulk_jobs where subject = 'tag empty $AM_RUN'" 1)" 1

if [ "$TAP_FAILED" -gt 0 ]; then
	tap_diag "--- atsmaild's log:"; grep -v 'debug: ' "$LOG" | tail -n 40 | sed 's/^/# /'
	tap_diag "--- maillog:"; tail -n 40 "$TB_MAILLOG" | sed 's/^/# /'
fi
tap_done
