#!/bin/bash
# tests/e2e/kinds-inbound.sh -- the kinds of mail end to end (issue 10 item
# 5): real-world-shaped samples of tests/data/kinds/ go through the test
# bed's Postfix MX with the envelope their software uses -> LMTP ->
# Dovecot with the atsmail plugin -> atsmaild, which classifies, decides,
# journals and records them.  Each check reads the IMAP keywords the
# recruiter's client sees and the database.
#   - a web form's relay (noreply@ envelope, the person's From and
#     Reply-To): filed on the person's resume, not an auto-reply, and its
#     phase rule fires;
#   - a job board's relay (bounce@ envelope) to recruit@: a new resume;
#   - Outlook's read receipt (null envelope, report names the original):
#     filed in its thread with $ATSReceipt, no phase change;
#   - a Mailman 3 post from a candidate's address outside any thread: not
#     filed, not recorded, the candidate's phase untouched;
#   - a Google Groups post inside a recorded thread: filed with $ATSList,
#     no phase change;
#   - a Japanese 不在 reply that declares nothing (subject habit): filed
#     with $ATSAutoReply, no phase change.
set -u
: "${top_srcdir:=$(cd "$(dirname "$0")/../.." && pwd)}"
: "${top_builddir:=$top_srcdir}"
. "$top_srcdir/tests/e2e/plugin-lib.sh"

plugin_start
K=$top_srcdir/tests/data/kinds

# sample FILE MSGID [EXTRA-HEADER]: the sample as its software sent it --
# without the Return-Path and Delivered-To the delivery adds, with this
# run's Message-ID, and EXTRA-HEADER (if any) after its Subject
sample() {
	awk -v mid="$2" -v extra="${3:-}" '
		hdr && /^$/ { hdr = 0 }
		hdr && /^(Return-Path|Delivered-To):/ { next }
		hdr && tolower($0) ~ /^message-id:/ { print "Message-ID: " mid; next }
		{ print }
		hdr && /^Subject:/ && extra != "" { print extra }
		BEGIN { hdr = 1 }' "$K/$1" >"$PW/$1"
	echo "$PW/$1"
}
# send FILE ENVELOPE-FROM RCPT MSGID [EXTRA-HEADER]
send() {
	mx "$2" "$3" --data @"$(sample "$1" "$4" "${5:-}")" \
		|| tap_diag "swaks failed for $1: $(tail -3 "$PW/swaks.log")"
}
msg_q() { tb_psql -c "select $2 from atsmail.messages m where m.direction='in' and m.rfc_message_id='$(strip "$1")'"; }
links_of() { echo "select string_agg(l.target_kind||':'||l.target_id||':'||l.rule, ',' order by l.target_kind, l.target_id) from atsmail.message_links l join atsmail.messages m on m.id=l.message_id where m.direction='in' and m.rfc_message_id='$(strip "$1")'"; }
history_of() { tb_psql -c "select count(*) from atsmail.phase_history h join atsmail.messages m on m.id=h.message_id where m.rfc_message_id='$(strip "$1")'"; }
rules_of() {
	tb_psql -c "select coalesce(string_agg(o.payload->>'kind'||':'||(o.payload->>'record_id')||':'||(o.payload->>'rule_id'), ',' order by o.id), '') from atsmail.outbox o join atsmail.messages m on (o.payload->>'message_id')::bigint = m.id where o.event_type = 'phase.changed' and m.rfc_message_id = '$(strip "$1")'"
}

tap_is "before: resumes 1001, 1002, 1003 new, process 4001 screening" \
	"$(tb_psql -c "select string_agg(phase, ',' order by id) from atsmail.resumes where id in (1001,1002,1003)"),$(tb_psql -c "select phase from atsmail.processes where id=4001")" \
	"new,new,new,screening"

# 1. a web form relays jiro's enquiry from noreply@: jiro's own mail
M_FORM=$(mid form)
send form-relay.eml noreply@forms.example.net alice@atsmail.test "$M_FORM"
F=$(flags_of alice@atsmail.test alicepw "$M_FORM")
tap_is "form relay from noreply@: exactly \$ATS, no \$ATSAutoReply" "$F" '$ATS'
tap_is "form relay: linked to jiro's resume 1003 by his address" \
	"$(wait_sql "$(links_of "$M_FORM")" "resume:1003:sender_address")" "resume:1003:sender_address"
tap_is "form relay: recorded as no auto-reply" "$(msg_q "$M_FORM" "m.is_auto_reply")" "f"
tap_is "form relay: the reply rule fired (9001 on resume 1003)" "$(rules_of "$M_FORM")" "resume:1003:9001"
tap_is "form relay: resume 1003 is active" "$(tb_psql -c "select phase from atsmail.resumes where id=1003")" "active"

# 2. a job board relays an application from bounce@ to recruit@: a resume
M_BOARD=$(mid board)
send jobboard-relay.eml bounce@mail.jobboard.example recruit@atsmail.test "$M_BOARD"
F=$(flags_of recruit@atsmail.test recruitpw "$M_BOARD")
tap_ok "job board relay from bounce@ to recruit@: \$ATSNewRecord (flags: $F)" has "$F" '$ATSNewRecord'
tap_is "job board relay: a resume for the applicant, named from From" \
	"$(wait_sql "select count(*)||':'||min(r.name) from atsmail.addresses a join atsmail.resumes r on r.id=a.owner_id where a.addr_norm='kenta.mori@applicant.test' and a.owner_kind='resume'" "1:Kenta Mori")" \
	"1:Kenta Mori"

# 3. Outlook's read receipt of out-5001, from <>: filed in the thread,
#    no phase change (resume 1001 is new: a reply would move it)
M_MDN=$(mid mdn)
send mdn-outlook.eml '<>' alice@atsmail.test "$M_MDN"
F=$(flags_of alice@atsmail.test alicepw "$M_MDN")
tap_ok "read receipt: keywords \$ATS and \$ATSReceipt (flags: $F)" has_all "$F" '$ATS' '$ATSReceipt'
tap_ok "read receipt: not marked a bounce or an auto-reply (flags: $F)" \
	eval '! has "$F" "\$ATSBounce" && ! has "$F" "\$ATSAutoReply"'
tap_is "read receipt: linked to resume 1001 by the message it reports on" \
	"$(wait_sql "$(links_of "$M_MDN")" "resume:1001:in_reply_to")" "resume:1001:in_reply_to"
tap_is "read receipt: recorded in the thread of 5001, not a bounce" \
	"$(msg_q "$M_MDN" "m.thread_id||':'||m.is_bounce")" "5001:false"
tap_is "read receipt: no phase history, no phase.changed event" \
	"$(history_of "$M_MDN"):$(rules_of "$M_MDN")" "0:"

# 4. a Mailman 3 post from taro (resume 1001) to a list alice reads, in
#    no recorded thread: not filed on the candidate
M_LIST=$(mid list)
send mailman3-post.eml "devjobs-bounces+alice=atsmail.test@lists.example.org" alice@atsmail.test "$M_LIST"
F=$(flags_of alice@atsmail.test alicepw "$M_LIST")
tap_is "list post outside a thread: delivered, without keyword" \
	"$(imap alice@atsmail.test alicepw find "$M_LIST" >/dev/null && echo delivered)|$F" "delivered|"
tap_ok "list post: atsmaild says why it is not filed" \
	grep -q "$M_LIST: not ATS mail (.*list mail outside a recorded thread" "$(ad_log H)"

# 5. a Google Groups post from hanako that answers out-5002: filed in
#    that thread with $ATSList, process 4001 and resume 1002 not moved
M_GG=$(mid groups)
send googlegroups-post.eml "kansai-engineers+bncBDL3XKGYZ4F@googlegroups.test" alice@atsmail.test "$M_GG" \
	"References: <out-5002@atsmail.test>"
F=$(flags_of alice@atsmail.test alicepw "$M_GG")
tap_ok "list post in a recorded thread: \$ATS and \$ATSList (flags: $F)" has_all "$F" '$ATS' '$ATSList'
tap_is "list post in a thread: linked by references to process 4001 and resume 1002" \
	"$(wait_sql "$(links_of "$M_GG")" "process:4001:references,resume:1002:references")" \
	"process:4001:references,resume:1002:references"
tap_is "list post in a thread: no phase change" "$(history_of "$M_GG"):$(rules_of "$M_GG")" "0:"

# 6. a Japanese 不在 reply that declares nothing but its subject
M_AWAY=$(mid away)
send fuzai-jp.eml taro@candidate.test alice@atsmail.test "$M_AWAY"
F=$(flags_of alice@atsmail.test alicepw "$M_AWAY")
tap_ok "不在 reply: \$ATS and \$ATSAutoReply (flags: $F)" has_all "$F" '$ATS' '$ATSAutoReply'
tap_is "不在 reply: recorded as an auto-reply, subject decoded, no phase change" \
	"$(wait_sql "select m.is_auto_reply||':'||m.subject||':'||(select count(*) from atsmail.phase_history h where h.message_id=m.id) from atsmail.messages m where m.rfc_message_id='$(strip "$M_AWAY")'" "true:不在のお知らせ (Re: 面接日程のご連絡):0")" \
	"true:不在のお知らせ (Re: 面接日程のご連絡):0"

# 7. everything recorded; what was not to be filed is not
tap_ok "the recorder's checkpoint reaches the end of the journal" journal_drained
tap_is "no entry set aside" "$(cat "$PW/journal/atsmaild.rejected.jsonl" 2>/dev/null | wc -l)" "0"
tap_is "list post outside a thread: no message recorded" "$(msg_q "$M_LIST" "m.id")" ""
tap_is "after: resumes 1001, 1002 still new, 1003 active (the relay), process 4001 still screening" \
	"$(tb_psql -c "select string_agg(phase, ',' order by id) from atsmail.resumes where id in (1001,1002,1003)"),$(tb_psql -c "select phase from atsmail.processes where id=4001")" \
	"new,new,active,screening"
tap_done
