#!/bin/bash
# tests/e2e/plugin-inbound.sh -- inbound filing end to end: mail goes
# through the test bed's Postfix (MX or submission) -> LMTP -> Dovecot with
# lib90_atsmail_plugin.so -> atsmaild, which decides it from its snapshot,
# journals it and answers the keywords; its recorder puts it into
# PostgreSQL.  Each check reads the IMAP keywords the recruiter's client
# sees (tests/testbed/imap.py flags) and the database, waiting (bounded
# poll) for the recorder.
# Covers: a reply by In-Reply-To and the phase rule it fires, a known
# sender and its phase rule, an unknown sender, an ambiguous sender, the two intake addresses,
# a Postfix bounce of ATS mail sent through atsmaild's milter, an
# auto-reply, a phase rule on a process, one mail to two recruiters, an
# IMAP APPEND of a Sent copy, a private-mode owner, an ISO-2022-JP subject,
# and the journal drained with nothing set aside.  (A bad plugin setting
# is tests/e2e/plugin-client.sh's: the mail is then refused for now.)
set -u
: "${top_srcdir:=$(cd "$(dirname "$0")/../.." && pwd)}"
: "${top_builddir:=$top_srcdir}"
. "$top_srcdir/tests/e2e/plugin-lib.sh"

plugin_start
"$top_srcdir/tests/testbed/testbed.sh" adduser "$TB_DIR" jobs@atsmail.test jobspw >/dev/null \
	|| tap_bail "cannot add jobs@atsmail.test"

in_msg() { tb_psql -c "select id from atsmail.messages where direction='in' and rfc_message_id='$1'"; }
# the phase rules that fired for a message (outbox phase.changed events)
rules_of() {
	tb_psql -c "select string_agg(o.payload->>'kind'||':'||(o.payload->>'record_id')||':'||(o.payload->>'rule_id'), ',' order by o.id) from atsmail.outbox o join atsmail.messages m on (o.payload->>'message_id')::bigint = m.id where o.event_type = 'phase.changed' and m.rfc_message_id = '$1'"
}

# 1. a reply to recorded outbound mail (In-Reply-To), and the phase rule
#    "resume on reply while new -> active" (9001) on resume 1001
M=$(mid reply)
mx taro@candidate.test alice@atsmail.test --header "Message-Id: $M" \
	--header "In-Reply-To: <out-5001@atsmail.test>" --header "Subject: Re: Interview" --body "Thank you."
F=$(flags_of alice@atsmail.test alicepw "$M")
tap_ok "reply by In-Reply-To: keyword \$ATS (flags: $F)" has "$F" '$ATS'
tap_is "reply by In-Reply-To: linked to resume 1001 by rule in_reply_to" \
	"$(wait_sql "select l.target_kind||':'||l.target_id||':'||l.rule from atsmail.message_links l join atsmail.messages m on m.id=l.message_id where m.direction='in' and m.rfc_message_id='$(strip "$M")'" "resume:1001:in_reply_to")" \
	"resume:1001:in_reply_to"
tap_is "reply by In-Reply-To: in the thread of message 5001, owned by alice" \
	"$(tb_psql -c "select thread_id||':'||owner_id from atsmail.messages where rfc_message_id='$(strip "$M")'")" "5001:1"
tap_is "phase rule on a reply: resume 1001 new -> active, cause reply" \
	"$(wait_sql "select h.from_phase||'->'||h.to_phase||':'||h.cause from atsmail.phase_history h join atsmail.messages m on m.id=h.message_id where m.rfc_message_id='$(strip "$M")' and h.kind='resume' and h.record_id=1001" "new->active:reply")" \
	"new->active:reply"
tap_is "phase rule on a reply: the rule that fired is 9001" "$(rules_of "$(strip "$M")")" "resume:1001:9001"
tap_is "phase rule on a reply: resume 1001 is active" \
	"$(tb_psql -c "select phase from atsmail.resumes where id=1001")" "active"

# 2. mail from a known candidate address, no thread: filed by the
#    sender's address, and (as any mail filed FILE, docs/inbound.md
#    "Phase rules") a reply for the rules: resume 1003 new -> active
M=$(mid known)
mx jiro@candidate.test bob@atsmail.test --header "Message-Id: $M" --header "Subject: Question" --body "Hello."
F=$(flags_of bob@atsmail.test bobpw "$M")
tap_ok "known sender: keyword \$ATS (flags: $F)" has "$F" '$ATS'
tap_is "known sender: linked to resume 1003 by rule sender_address, owned by bob" \
	"$(wait_sql "select l.target_kind||':'||l.target_id||':'||l.rule||':'||m.owner_id from atsmail.message_links l join atsmail.messages m on m.id=l.message_id where m.rfc_message_id='$(strip "$M")'" "resume:1003:sender_address:2")" \
	"resume:1003:sender_address:2"
tap_is "known sender: the resume rule fired (9001)" "$(rules_of "$(strip "$M")")" "resume:1003:9001"

# 3. an unknown sender to a recruiter: nothing recorded, no keyword
M_UNKNOWN=$(mid unknown)
mx someone@elsewhere.example alice@atsmail.test --header "Message-Id: $M_UNKNOWN" --header "Subject: Lunch?" --body "Hi."
F=$(flags_of alice@atsmail.test alicepw "$M_UNKNOWN")
tap_is "unknown sender: delivered, without keyword" \
	"$(imap alice@atsmail.test alicepw find "$M_UNKNOWN" >/dev/null && echo delivered)|$F" "delivered|"
tap_ok "unknown sender: atsmaild answered 'not ATS mail'" \
	grep -q "$M_UNKNOWN: not ATS mail" "$(ad_log H)"

# 4. an address on two resumes: linked to both, $ATSAmbiguous
M=$(mid ambiguous)
mx family@candidate.test alice@atsmail.test --header "Message-Id: $M" --header "Subject: About us" --body "Hi."
F=$(flags_of alice@atsmail.test alicepw "$M")
tap_ok "ambiguous sender: keywords \$ATS and \$ATSAmbiguous (flags: $F)" has_all "$F" '$ATS' '$ATSAmbiguous'
tap_is "ambiguous sender: no phase rule on an ambiguous record" "$(rules_of "$(strip "$M")")" ""
tap_is "ambiguous sender: linked to resumes 1004 and 1005, both marked ambiguous" \
	"$(wait_sql "select string_agg(l.target_id||':'||l.ambiguous, ',' order by l.target_id) from atsmail.message_links l join atsmail.messages m on m.id=l.message_id where m.rfc_message_id='$(strip "$M")'" "1004:true,1005:true")" \
	"1004:true,1005:true"

# 5. intake: a newcomer writes to recruit@ -> a new resume
M=$(mid intake)
NEW="newcomer.$RUN@example.org"
mx "$NEW" recruit@atsmail.test --header "Message-Id: $M" --header "From: Kenji Sato <$NEW>" \
	--header "Subject: Application" --body "Please find my CV."
F=$(flags_of recruit@atsmail.test recruitpw "$M")
tap_ok "intake recruit@: keyword \$ATSNewRecord (flags: $F)" has "$F" '$ATSNewRecord'
tap_is "intake recruit@: a resume made from mail holds the newcomer's address, named from From" \
	"$(wait_sql "select count(*)||':'||min(r.name)||':'||min(r.created_from) from atsmail.addresses a join atsmail.resumes r on r.id=a.owner_id where a.addr_norm='$NEW' and a.owner_kind='resume'" "1:Kenji Sato:mail")" \
	"1:Kenji Sato:mail"
tap_is "intake recruit@: the mail is linked to the new resume (rule intake)" \
	"$(tb_psql -c "select l.rule from atsmail.message_links l join atsmail.messages m on m.id=l.message_id join atsmail.addresses a on a.owner_kind='resume' and a.owner_id=l.target_id where m.rfc_message_id='$(strip "$M")' and a.addr_norm='$NEW'")" \
	"intake"
tap_is "intake recruit@: one record.created event" \
	"$(tb_psql -c "select count(*) from atsmail.outbox o join atsmail.messages m on (o.payload->>'message_id')::bigint=m.id where o.event_type='record.created' and m.rfc_message_id='$(strip "$M")'")" "1"

# 6. intake: jobs@ -> an unresolved item
M=$(mid jobs)
mx "other.$RUN@example.org" jobs@atsmail.test --header "Message-Id: $M" --header "Subject: Enquiry" --body "Hello."
F=$(flags_of jobs@atsmail.test jobspw "$M")
tap_ok "intake jobs@: keyword \$ATSUnfiled (flags: $F)" has "$F" '$ATSUnfiled'
tap_is "intake jobs@: one unresolved item" \
	"$(wait_sql "select count(*) from atsmail.unresolved_items u join atsmail.messages m on m.id=u.message_id where m.rfc_message_id='$(strip "$M")'" "1")" "1"
tap_is "intake jobs@: no resume made for the sender" \
	"$(tb_psql -c "select count(*) from atsmail.addresses where addr_norm='other.$RUN@example.org'")" "0"

# 7. a Postfix bounce of ATS mail: a candidate's address that has no
#    mailbox; alice's mail to it is decided and recorded by atsmaild's
#    milter, Postfix bounces it (5.1.1), and the DSN delivered to alice is
#    filed as a bounce of that sent item
tb_psql >/dev/null <<SQL || tap_bail "cannot add the resume of the bounce"
WITH r AS (INSERT INTO atsmail.resumes (name, phase, shared) VALUES ('Bounce Nobody', 'new', true) RETURNING id)
INSERT INTO atsmail.addresses (owner_kind, owner_id, addr_norm, is_primary) SELECT 'resume', id, 'nobody@candidate.test', true FROM r;
SQL
BR=$(tb_psql -c "select owner_id from atsmail.addresses where addr_norm='nobody@candidate.test'")
"$AD_CTL" -c "$PW/atsmail.conf" snapshot sync >"$PW/sync.log" 2>&1 || tap_bail "snapshot sync failed: $(cat "$PW/sync.log")"
BM=$(mid bounced)
swaks --server 127.0.0.1 --port "$TB_SUBMISSION_PORT" --auth PLAIN --auth-user alice@atsmail.test \
	--auth-password alicepw --from alice@atsmail.test --to nobody@candidate.test \
	--header "Message-Id: $BM" --header "Subject: Offer" --body "An offer." >>"$PW/swaks.log" 2>&1
tap_is "bounce: the sent item is recorded, to resume $BR" \
	"$(wait_sql "select l.target_kind||':'||l.target_id from atsmail.message_links l join atsmail.messages m on m.id=l.message_id where m.direction='out' and m.rfc_message_id='$(strip "$BM")'" "resume:$BR")" \
	"resume:$BR"
UIDS=$(imap -w 20 alice@atsmail.test alicepw search "TEXT \"$(strip "$BM")\"" 2>/dev/null)
F=$(imap alice@atsmail.test alicepw flags "uid:${UIDS%% *}" 2>&1)
tap_ok "bounce: the DSN carries \$ATSBounce (flags: $F)" has "$F" '$ATSBounce'
tap_is "bounce: the recipient of the sent item is marked bounced (5.1.1)" \
	"$(wait_sql "select r.status||':'||coalesce(r.status_code,'') from atsmail.message_recipients r join atsmail.messages m on m.id=r.message_id where m.rfc_message_id='$(strip "$BM")'" "bounced:5.1.1")" \
	"bounced:5.1.1"
tap_is "bounce: the address is flagged hard-bounced" \
	"$(tb_psql -c "select bounce_code from atsmail.address_flags where addr_norm='nobody@candidate.test'")" "5.1.1"
tap_is "bounce: one message.bounced event naming the sent item" \
	"$(tb_psql -c "select count(*) from atsmail.outbox o join atsmail.messages m on (o.payload->>'sent_message_id')::bigint=m.id where o.event_type='message.bounced' and m.rfc_message_id='$(strip "$BM")'")" "1"
tap_is "bounce: no phase rule on the resume" "$(tb_psql -c "select phase from atsmail.resumes where id=$BR")" "new"

# 8. an auto-reply with a Japanese subject: filed, $ATSAutoReply, no phase change
M=$(mid auto)
SUBJ=$(python3 -c 'import email.header; print(email.header.Header("自動返信: 不在のお知らせ", "utf-8").encode())')
mx hanako@candidate.test alice@atsmail.test --header "Message-Id: $M" --header "Auto-Submitted: auto-replied" \
	--header "In-Reply-To: <out-5002@atsmail.test>" --header "Subject: $SUBJ" --body "I am away."
F=$(flags_of alice@atsmail.test alicepw "$M")
tap_ok "auto-reply: keywords \$ATS and \$ATSAutoReply (flags: $F)" has_all "$F" '$ATS' '$ATSAutoReply' 
tap_is "auto-reply: filed, marked, linked to resume 1002 and process 4001, no phase change" \
	"$(wait_sql "select m.is_auto_reply||':'||(select string_agg(l.target_kind||l.target_id, ',' order by l.target_kind) from atsmail.message_links l where l.message_id=m.id)||':'||(select count(*) from atsmail.phase_history h where h.message_id=m.id) from atsmail.messages m where m.rfc_message_id='$(strip "$M")'" "true:process4001,resume1002:0")" \
	"true:process4001,resume1002:0"
tap_is "auto-reply: the subject decoded to UTF-8" \
	"$(tb_psql -c "select subject from atsmail.messages where rfc_message_id='$(strip "$M")'")" "自動返信: 不在のお知らせ"
tap_is "auto-reply: process 4001 still in screening, resume 1002 still new" \
	"$(tb_psql -c "select p.phase||':'||r.phase from atsmail.processes p join atsmail.resumes r on r.id=p.resume_id where p.id=4001")" "screening:new"

# 9. a phase rule on a process: hanako answers out-5002 (process 4001 in screening)
M=$(mid process)
mx hanako@candidate.test alice@atsmail.test --header "Message-Id: $M" \
	--header "In-Reply-To: <out-5002@atsmail.test>" --header "Subject: Re: Screening" --body "Yes."
F=$(flags_of alice@atsmail.test alicepw "$M")
tap_is "phase rule on a process: the reply carries exactly \$ATS" "$F" '$ATS'
tap_is "phase rule: process 4001 screening -> interview1" \
	"$(wait_sql "select phase from atsmail.processes where id=4001" "interview1")" "interview1"
tap_is "phase rule: process 4001 by rule 9002, resume 1002 new -> active by rule 9001" \
	"$(wait_sql "select string_agg(o.payload->>'kind'||':'||(o.payload->>'record_id')||':'||(o.payload->>'rule_id'), ',' order by o.payload->>'kind') from atsmail.outbox o join atsmail.messages m on (o.payload->>'message_id')::bigint = m.id where o.event_type = 'phase.changed' and m.rfc_message_id = '$(strip "$M")'" "process:4001:9002,resume:1002:9001")" \
	"process:4001:9002,resume:1002:9001"
tap_is "phase rule: the process's history row, cause reply" \
	"$(tb_psql -c "select h.from_phase||'->'||h.to_phase||':'||h.cause from atsmail.phase_history h join atsmail.messages m on m.id=h.message_id where m.rfc_message_id='$(strip "$M")' and h.kind='process'")" \
	"screening->interview1:reply"

# 10. one mail to two recruiters: one message, two copies
M=$(mid twice)
mx suzuki@client.test alice@atsmail.test,bob@atsmail.test --header "Message-Id: $M" --header "Subject: Two candidates" --body "See attached."
FA=$(flags_of alice@atsmail.test alicepw "$M"); FB=$(flags_of bob@atsmail.test bobpw "$M")
tap_is "two recruiters: both copies carry exactly \$ATS" "$FA / $FB" '$ATS / $ATS'
tap_is "two recruiters: one message, two copies" \
	"$(wait_sql "select count(distinct m.id)||':'||count(c.id) from atsmail.messages m join atsmail.message_copies c on c.message_id=m.id where m.rfc_message_id='$(strip "$M")'" "1:2")" "1:2"
tap_is "two recruiters: linked to contact 2001, and the contact rule fired (9003)" \
	"$(wait_sql "select (select string_agg(l.target_kind||l.target_id||':'||l.rule, ',') from atsmail.message_links l where l.message_id=m.id)||'|'||(select phase from atsmail.contacts where id=2001) from atsmail.messages m where m.rfc_message_id='$(strip "$M")'" "contact2001:sender_address|active")" \
	"contact2001:sender_address|active"

# 11. a client appends its Sent copy of recorded mail over IMAP
imap alice@atsmail.test alicepw create Sent >/dev/null 2>&1
printf 'From: alice@atsmail.test\r\nTo: taro@candidate.test\r\nSubject: Interview\r\nMessage-Id: <out-5001@atsmail.test>\r\nDate: %s\r\n\r\nSee you.\r\n' \
	"$(date -R)" >"$PW/sent.eml"
SUID=$(imap alice@atsmail.test alicepw append Sent "$PW/sent.eml" 2>&1)
F=$(imap -m Sent alice@atsmail.test alicepw flags "uid:$SUID" 2>&1)
tap_ok "Sent copy over IMAP APPEND: keyword \$ATSSent (flags: $F)" has "$F" '$ATSSent'
tap_is "Sent copy: no new message, a copy row in Sent on message 5001" \
	"$(wait_sql "select (select count(*) from atsmail.messages where rfc_message_id='out-5001@atsmail.test')||':'||(select count(*) from atsmail.message_copies where message_id=5001 and mailbox='Sent')" "1:1")" "1:1"

# 12. a private-mode owner's received mail is private
M=$(mid private)
mx taro@candidate.test carol@atsmail.test --header "Message-Id: $M" --header "Subject: For Carol" --body "Hi."
F=$(flags_of carol@atsmail.test carolpw "$M")
tap_ok "private-mode owner: filed (\$ATS, flags: $F)" has "$F" '$ATS'
tap_is "private-mode owner: visibility private, owner carol" \
	"$(wait_sql "select visibility||':'||owner_id from atsmail.messages where rfc_message_id='$(strip "$M")'" "private:3")" "private:3"

# 13. an ISO-2022-JP subject is decoded in the database
M=$(mid jis)
SUBJ=$(python3 -c 'import email.header; print(email.header.Header("Re: 面接日程のご連絡", "iso-2022-jp").encode())')
mx taro@candidate.test alice@atsmail.test --header "Message-Id: $M" --header "Subject: $SUBJ" \
	--header "In-Reply-To: <out-5001@atsmail.test>" --body "Thank you."
F=$(flags_of alice@atsmail.test alicepw "$M")
tap_ok "ISO-2022-JP: filed (\$ATS, flags: $F)" has "$F" '$ATS'
tap_is "ISO-2022-JP subject decoded to UTF-8 in the database" \
	"$(wait_sql "select subject from atsmail.messages where rfc_message_id='$(strip "$M")'" "Re: 面接日程のご連絡")" \
	"Re: 面接日程のご連絡"
tap_is "ISO-2022-JP: resume 1001 already active, so no second phase change" "$(rules_of "$(strip "$M")")" ""

# 14. the recorder drained the journal, set nothing aside, and the
#     unknown sender's mail (never journaled) is not recorded
tap_ok "the recorder's checkpoint reaches the end of the journal" journal_drained
tap_is "no entry set aside" "$(cat "$PW/journal/atsmaild.rejected.jsonl" 2>/dev/null | wc -l)" "0"
tap_is "unknown sender: no message recorded" "$(in_msg "$(strip "$M_UNKNOWN")")" ""
tap_is "every mail filed here is recorded once (one message per Message-ID of this run)" \
	"$(tb_psql -c "select count(*) from (select rfc_message_id from atsmail.messages where rfc_message_id like '%.$RUN.%' group by rfc_message_id, direction having count(*) > 1) d")" "0"
tap_is "atsmailctl audit verify passes" \
	"$(: >"$PW/empty.conf"; "$AD_CTL" -c "$PW/empty.conf" --db "$TB_PG_ADMIN" audit verify >"$PW/audit.log" 2>&1; echo $?)" "0"
tap_done
