#!/bin/bash
# tests/e2e/plugin-inbound.sh -- the Dovecot plugin end to end: mail goes
# through the test bed's Postfix (MX or submission) -> LMTP -> Dovecot with
# lib90_atsmail_plugin.so; each check reads the database (psql) and the
# IMAP keywords the recruiter's client sees (tests/testbed/imap.py flags).
# Covers: a reply by In-Reply-To, a known sender, an unknown sender, an
# ambiguous sender, the two intake addresses, a Postfix bounce, an
# auto-reply, a phase rule, one mail to two recruiters, an IMAP APPEND of
# a Sent copy, a private-mode owner, an ISO-2022-JP subject, and a bad
# setting that leaves delivery alone.
set -u
: "${top_srcdir:=$(cd "$(dirname "$0")/../.." && pwd)}"
: "${top_builddir:=$top_srcdir}"
. "$top_srcdir/tests/e2e/plugin-lib.sh"

plugin_start
"$top_srcdir/tests/testbed/testbed.sh" adduser "$TB_DIR" jobs@atsmail.test jobspw >/dev/null \
	|| tap_bail "cannot add jobs@atsmail.test"

# flags_of USER PW MSG: its FLAGS, once it is there (<= 10 s); has FLAGS KW
flags_of() { imap -w 10 "$1" "$2" flags "$3" 2>&1; }
has() { case " $1 " in *" $2 "*) return 0 ;; esac; return 1; }
in_msg() { tb_psql -c "select id from atsmail.messages where direction='in' and rfc_message_id='$1'"; }
strip() { local m=${1#<}; echo "${m%>}"; }

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
tap_is "phase rule on a reply: resume 1001 new -> active, cause reply" \
	"$(tb_psql -c "select h.from_phase||'->'||h.to_phase||':'||h.cause from atsmail.phase_history h join atsmail.messages m on m.id=h.message_id where m.rfc_message_id='$(strip "$M")' and h.kind='resume' and h.record_id=1001")" \
	"new->active:reply"

# 2. mail from a known candidate address, no thread
M=$(mid known)
mx hanako@candidate.test bob@atsmail.test --header "Message-Id: $M" --header "Subject: Question" --body "Hello."
F=$(flags_of bob@atsmail.test bobpw "$M")
tap_ok "known sender: keyword \$ATS (flags: $F)" has "$F" '$ATS'
tap_is "known sender: linked to resume 1002 by rule sender_address" \
	"$(wait_sql "select l.target_kind||':'||l.target_id||':'||l.rule from atsmail.message_links l join atsmail.messages m on m.id=l.message_id where m.rfc_message_id='$(strip "$M")'" "resume:1002:sender_address")" \
	"resume:1002:sender_address"

# 3. an unknown sender to a recruiter: nothing recorded, no keyword
M=$(mid unknown)
mx someone@elsewhere.example alice@atsmail.test --header "Message-Id: $M" --header "Subject: Lunch?" --body "Hi."
F=$(flags_of alice@atsmail.test alicepw "$M")
tap_is "unknown sender: delivered, without keyword" \
	"$(imap alice@atsmail.test alicepw find "$M" >/dev/null && echo delivered)|$F" "delivered|"
tap_is "unknown sender: no message recorded" "$(in_msg "$(strip "$M")")" ""

# 4. an address on two resumes: linked to both, $ATSAmbiguous
M=$(mid ambiguous)
mx family@candidate.test alice@atsmail.test --header "Message-Id: $M" --header "Subject: About us" --body "Hi."
F=$(flags_of alice@atsmail.test alicepw "$M")
tap_ok "ambiguous sender: keyword \$ATSAmbiguous (flags: $F)" has "$F" '$ATSAmbiguous'
tap_is "ambiguous sender: linked to resumes 1004 and 1005, both marked ambiguous" \
	"$(tb_psql -c "select string_agg(l.target_id||':'||l.ambiguous, ',' order by l.target_id) from atsmail.message_links l join atsmail.messages m on m.id=l.message_id where m.rfc_message_id='$(strip "$M")'")" \
	"1004:true,1005:true"

# 5. intake: a newcomer writes to recruit@ -> a new resume
M=$(mid intake)
NEW="newcomer.$RUN@example.org"
mx "$NEW" recruit@atsmail.test --header "Message-Id: $M" --header "From: Kenji Sato <$NEW>" \
	--header "Subject: Application" --body "Please find my CV."
F=$(flags_of recruit@atsmail.test recruitpw "$M")
tap_ok "intake recruit@: keyword \$ATSNewRecord (flags: $F)" has "$F" '$ATSNewRecord'
tap_is "intake recruit@: a resume holds the newcomer's address" \
	"$(tb_psql -c "select count(*) from atsmail.addresses where addr_norm='$NEW' and owner_kind='resume'")" "1"

# 6. intake: jobs@ -> an unresolved item
M=$(mid jobs)
mx "other.$RUN@example.org" jobs@atsmail.test --header "Message-Id: $M" --header "Subject: Enquiry" --body "Hello."
F=$(flags_of jobs@atsmail.test jobspw "$M")
tap_ok "intake jobs@: keyword \$ATSUnfiled (flags: $F)" has "$F" '$ATSUnfiled'
tap_is "intake jobs@: one unresolved item" \
	"$(tb_psql -c "select count(*) from atsmail.unresolved_items u join atsmail.messages m on m.id=u.message_id where m.rfc_message_id='$(strip "$M")'")" "1"

# 7. a Postfix bounce of recorded mail: alice's message to a mailbox that
#    does not exist (recorded here as the milter would have).
BM=$(mid bounced)
tb_psql >/dev/null <<SQL
INSERT INTO atsmail.messages (direction, rfc_message_id, owner_id, counterparts, subject, sent_at, idempotency_key)
	VALUES ('out', '$(strip "$BM")', 1, '{nobody@candidate.test}', 'Offer', now(), 'e2e-bounce-$RUN');
INSERT INTO atsmail.message_recipients (message_id, address, kind)
	SELECT id, 'nobody@candidate.test', 'to' FROM atsmail.messages WHERE rfc_message_id = '$(strip "$BM")';
SQL
swaks --server 127.0.0.1 --port "$TB_SUBMISSION_PORT" --auth PLAIN --auth-user alice@atsmail.test \
	--auth-password alicepw --from alice@atsmail.test --to nobody@candidate.test \
	--header "Message-Id: $BM" --header "Subject: Offer" --body "An offer." >>"$PW/swaks.log" 2>&1
UIDS=$(imap -w 15 alice@atsmail.test alicepw search "TEXT \"$(strip "$BM")\"" 2>/dev/null)
F=$(imap alice@atsmail.test alicepw flags "uid:${UIDS%% *}" 2>&1)
tap_ok "bounce: the DSN carries \$ATSBounce (flags: $F)" has "$F" '$ATSBounce'
tap_is "bounce: the recipient of the sent item is marked bounced (5.1.1)" \
	"$(wait_sql "select r.status||':'||coalesce(r.status_code,'') from atsmail.message_recipients r join atsmail.messages m on m.id=r.message_id where m.rfc_message_id='$(strip "$BM")'" "bounced:5.1.1")" \
	"bounced:5.1.1"

# 8. an auto-reply with a Japanese subject: filed, $ATSAutoReply, no phase change
M=$(mid auto)
SUBJ=$(python3 -c 'import email.header; print(email.header.Header("自動返信: 不在のお知らせ", "utf-8").encode())')
mx hanako@candidate.test alice@atsmail.test --header "Message-Id: $M" --header "Auto-Submitted: auto-replied" \
	--header "In-Reply-To: <out-5002@atsmail.test>" --header "Subject: $SUBJ" --body "I am away."
F=$(flags_of alice@atsmail.test alicepw "$M")
tap_ok "auto-reply: keywords \$ATS and \$ATSAutoReply (flags: $F)" sh -c "case ' $F ' in *' \$ATSAutoReply '*) exit 0;; esac; exit 1"
tap_is "auto-reply: filed, marked, and no phase change" \
	"$(tb_psql -c "select m.is_auto_reply||':'||(select count(*) from atsmail.message_links l where l.message_id=m.id)||':'||(select count(*) from atsmail.phase_history h where h.message_id=m.id) from atsmail.messages m where m.rfc_message_id='$(strip "$M")'")" \
	"true:2:0"

# 9. a phase rule on a process: hanako answers out-5002 (process 4001 in screening)
M=$(mid process)
mx hanako@candidate.test alice@atsmail.test --header "Message-Id: $M" \
	--header "In-Reply-To: <out-5002@atsmail.test>" --header "Subject: Re: Screening" --body "Yes."
flags_of alice@atsmail.test alicepw "$M" >/dev/null
tap_is "phase rule: process 4001 screening -> interview1 (rule 9002)" \
	"$(wait_sql "select phase from atsmail.processes where id=4001" "interview1")" "interview1"

# 10. one mail to two recruiters: one message, two copies
M=$(mid twice)
mx suzuki@client.test alice@atsmail.test,bob@atsmail.test --header "Message-Id: $M" --header "Subject: Two candidates" --body "See attached."
FA=$(flags_of alice@atsmail.test alicepw "$M"); FB=$(flags_of bob@atsmail.test bobpw "$M")
tap_is "two recruiters: both copies carry exactly \$ATS" "$FA / $FB" '$ATS / $ATS'
tap_is "two recruiters: one message, two copies" \
	"$(wait_sql "select count(distinct m.id)||':'||count(c.id) from atsmail.messages m join atsmail.message_copies c on c.message_id=m.id where m.rfc_message_id='$(strip "$M")'" "1:2")" "1:2"

# 11. a client appends its Sent copy of recorded mail over IMAP
imap alice@atsmail.test alicepw create Sent >/dev/null 2>&1
printf 'From: alice@atsmail.test\r\nTo: taro@candidate.test\r\nSubject: Interview\r\nMessage-Id: <out-5001@atsmail.test>\r\nDate: %s\r\n\r\nSee you.\r\n' \
	"$(date -R)" >"$PW/sent.eml"
SUID=$(imap alice@atsmail.test alicepw append Sent "$PW/sent.eml" 2>&1)
F=$(imap -m Sent alice@atsmail.test alicepw flags "uid:$SUID" 2>&1)
tap_ok "Sent copy over IMAP APPEND: keyword \$ATSSent (flags: $F)" has "$F" '$ATSSent'
tap_is "Sent copy: no new message, a copy row in Sent on message 5001" \
	"$(tb_psql -c "select (select count(*) from atsmail.messages where rfc_message_id='out-5001@atsmail.test')||':'||(select count(*) from atsmail.message_copies where message_id=5001 and mailbox='Sent')")" "1:1"

# 12. a private-mode owner's received mail is private
M=$(mid private)
mx taro@candidate.test carol@atsmail.test --header "Message-Id: $M" --header "Subject: For Carol" --body "Hi."
flags_of carol@atsmail.test carolpw "$M" >/dev/null
tap_is "private-mode owner: visibility private" \
	"$(wait_sql "select visibility from atsmail.messages where rfc_message_id='$(strip "$M")'" "private")" "private"

# 13. an ISO-2022-JP subject is decoded in the database
M=$(mid jis)
SUBJ=$(python3 -c 'import email.header; print(email.header.Header("Re: 面接日程のご連絡", "iso-2022-jp").encode())')
mx taro@candidate.test alice@atsmail.test --header "Message-Id: $M" --header "Subject: $SUBJ" \
	--header "In-Reply-To: <out-5001@atsmail.test>" --body "Thank you."
flags_of alice@atsmail.test alicepw "$M" >/dev/null
tap_is "ISO-2022-JP subject decoded to UTF-8 in the database" \
	"$(wait_sql "select subject from atsmail.messages where rfc_message_id='$(strip "$M")'" "Re: 面接日程のご連絡")" \
	"Re: 面接日程のご連絡"

# 14. nothing went to the journal while the database was up
tap_is "no journal entry while the database is up" "$(cat "$PW"/journal/*.jsonl 2>/dev/null | wc -l)" "0"

# 15. a bad setting (here a userdb override for one user) is logged once,
#     naming the setting and its value, and that user's mail is delivered
echo "erin@atsmail.test:{PLAIN}erinpw::::::userdb_atsmail_db_statement_timeout=banana" >>"$TB_DOVECOT_USERS"
sleep 1.2
M=$(mid badsetting)
mx taro@candidate.test erin@atsmail.test --header "Message-Id: $M" --header "In-Reply-To: <out-5001@atsmail.test>" --body "Hi."
F=$(flags_of erin@atsmail.test erinpw "$M")
tap_is "bad setting: the mail is delivered, without keyword" \
	"$(imap erin@atsmail.test erinpw find "$M" >/dev/null && echo delivered)|$F" "delivered|"
# (once per user session: the one LMTP delivery here; each IMAP login logs it again)
tap_is "bad setting: logged once for the delivery, with its name and value" \
	"$(grep 'lmtp(erin@' "$TB_DOVECOT_LOG" | grep -c 'atsmail: plugin setting atsmail_db_statement_timeout = banana')" "1"
tap_done
