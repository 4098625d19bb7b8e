#!/bin/bash
# replay-inbound.sh -- `atsmailctl replay` records mail that the Dovecot
# plugin journaled (kind "inbound.message") exactly once, through the same
# code as live delivery (atsm_in_plan in REPLAY mode, atsm_in_record), on a
# private PostgreSQL of the test bed.
#
# The journal entries are written here by hand, as the plugin writes them
# (docs/journal.md, docs/inbound.md).  Stories: a reply, an intake mail and
# a Sent copy are recorded, mail from a stranger is dropped, a bad entry is
# set aside; the same entries replayed again are duplicates; with
# PostgreSQL stopped replay exits 4 and keeps the entry; once it is back
# the entry is applied.
set -u
. "$top_srcdir/tests/e2e/e2e-lib.sh"

tb_start pg
tb_migrate >/dev/null 2>&1 || tap_bail "migrations failed"
tb_psql -f "$top_srcdir/tests/data/seed.sql" >/dev/null || tap_bail "seed failed"
tb_psql -f "$top_srcdir/tests/data/seed-inbound.sql" >/dev/null || tap_bail "inbound seed failed"

J=$TB_DIR/journal
mkdir -m 700 "$J"
CONF=$TB_DIR/atsmail.conf
cat >"$CONF" <<CONF
db_conninfo = $TB_PG_ADMIN
db_connect_timeout = 2s
ats_domain = ats.atsmail.test
company_domains = atsmail.test
journal_dir = $J
secret_file = $TB_DIR/no-such-secret
CONF

SUBJECT='=?ISO-2022-JP?B?GyRCTExAXEZ8RHgkTjdvGyhC?='

# facts KEY HOW USER MAILBOX FROM TO MESSAGE_ID IN_REPLY_TO
facts() {
	printf '{"v":1,"how":"%s","mailbox_user":"%s","mailbox":"%s","imap_uid":7,' "$2" "$3" "$4"
	printf '"env_from":"%s","env_to":"%s","hdr_from":"%s","hdr_to":"%s",' "$5" "$6" "$5" "$6"
	printf '"hdr_cc":null,"hdr_reply_to":null,"hdr_message_id":"<%s>","hdr_subject":"%s",' "$7" "$SUBJECT"
	printf '"hdr_in_reply_to":%s,"hdr_references":null,"hdr_date":null,"hdr_ats_ref":null,' "$8"
	printf '"size":42,"body_sha256":"","is_bounce":false,"is_feedback":false,'
	printf '"is_autoreply":false,"from_mailer_daemon":false,"classify_reason":"","bounced":[],'
	printf '"orig_message_id":null,"orig_env_from":null,"orig_ats_ref":null,'
	printf '"idem_key":"%s","received_at":1795000000}' "$1"
}
# entry KEY DATA: one journal line, as atsm_journal_append writes it
entry() {
	printf '{"v":1,"key":"%s","kind":"inbound.message","at":"2026-11-21T05:00:00Z","host":"test","data":%s}\n' \
		"$1" "$2" >>"$J/dovecot.jsonl"
}
replay() {
	OUT=$("$top_builddir/ctl/atsmailctl" -c "$CONF" replay 2>"$TB_DIR/replay.err")
	RC=$?
	SUMMARY=$(printf '%s\n' "$OUT" | head -1)
}
q() { tb_psql -c "$1"; }

REPLY=$(facts in-key-1 delivery alice@atsmail.test INBOX taro@candidate.test alice@atsmail.test \
	reply-1@candidate.test '"<out-5001@atsmail.test>"')
entry in-key-1 "$REPLY"
entry in-key-2 "$(facts in-key-2 delivery recruit@atsmail.test INBOX \
	new.applicant@applicant.test recruit@atsmail.test apply-1@applicant.test null)"
entry in-key-3 "$(facts in-key-3 append alice@atsmail.test Sent alice@atsmail.test \
	taro@candidate.test out-5001@atsmail.test null)"
entry in-key-4 "$(facts in-key-4 delivery alice@atsmail.test INBOX friend@example.com \
	alice@atsmail.test chat-1@example.com null)"
entry in-key-bad '{"v":1,"how":"delivery","idem_key":"in-key-bad"}'

replay
tap_is "first replay exits 1 (an entry set aside)" "$RC" 1
tap_is "first replay summary" "$SUMMARY" "applied 4, duplicate 0, rejected 1, malformed 0, remaining 0"
tap_is "reply recorded once" "$(q "SELECT count(*) FROM atsmail.messages WHERE rfc_message_id = 'reply-1@candidate.test' AND direction = 'in'")" 1
tap_is "reply linked by In-Reply-To" "$(q "SELECT target_kind || target_id || ':' || rule FROM atsmail.message_links l JOIN atsmail.messages m ON m.id = l.message_id WHERE m.rfc_message_id = 'reply-1@candidate.test'")" "resume1001:in_reply_to"
tap_is "subject stored in UTF-8" "$(q "SELECT subject FROM atsmail.messages WHERE rfc_message_id = 'reply-1@candidate.test'")" "面接日程の件"
tap_is "phase rule applied (resume 1001 new -> active)" "$(q "SELECT phase FROM atsmail.resumes WHERE id = 1001")" active
tap_is "one phase_history row, cause reply" \
	"$(q "SELECT count(*) FROM atsmail.phase_history h JOIN atsmail.messages m ON m.id = h.message_id WHERE m.rfc_message_id = 'reply-1@candidate.test' AND h.cause = 'reply'")" 1
tap_is "intake made a resume" "$(q "SELECT count(*) FROM atsmail.addresses a JOIN atsmail.resumes r ON r.id = a.owner_id WHERE a.owner_kind = 'resume' AND a.addr_norm = 'new.applicant@applicant.test' AND r.created_from = 'mail'")" 1
tap_is "Sent copy: a copy row of message 5001, no new message" \
	"$(q "SELECT count(*) FROM atsmail.message_copies WHERE message_id = 5001 AND mailbox = 'Sent'")/$(q "SELECT count(*) FROM atsmail.messages WHERE rfc_message_id = 'out-5001@atsmail.test'")" "1/1"
tap_is "stranger's mail not recorded" "$(q "SELECT count(*) FROM atsmail.messages WHERE rfc_message_id = 'chat-1@example.com'")" 0
tap_is "bad entry set aside" "$(wc -l <"$J/rejected.jsonl")" 1
tap_ok "the reason names the field" grep -q "mailbox_user" "$TB_DIR/replay.err"

# the same entries journaled a second time
entry in-key-1 "$REPLY"
entry in-key-3 "$(facts in-key-3 append alice@atsmail.test Sent alice@atsmail.test \
	taro@candidate.test out-5001@atsmail.test null)"
replay
tap_is "second replay exits 0" "$RC" 0
tap_is "second replay finds duplicates" "$SUMMARY" "applied 0, duplicate 2, rejected 0, malformed 0, remaining 0"
tap_is "still one copy of the reply" "$(q "SELECT count(*) FROM atsmail.message_copies c JOIN atsmail.messages m ON m.id = c.message_id WHERE m.rfc_message_id = 'reply-1@candidate.test'")" 1
tap_is "still one message.received event" \
	"$(q "SELECT count(*) FROM atsmail.outbox o JOIN atsmail.messages m ON (o.payload->>'message_id')::bigint = m.id WHERE m.rfc_message_id = 'reply-1@candidate.test' AND o.event_type = 'message.received'")" 1

# database down: exit 4, the entry stays
"$top_srcdir/tests/testbed/testbed.sh" pg-stop "$TB_DIR" >/dev/null 2>&1
entry in-key-5 "$(facts in-key-5 delivery bob@atsmail.test INBOX suzuki@client.test \
	bob@atsmail.test reply-5@client.test null)"
replay
tap_is "database down: exit 4" "$RC" 4
tap_ok "database down: the entry is kept" grep -rq "in-key-5" "$J" --include='*.jsonl' --include='*.replaying'
"$top_srcdir/tests/testbed/testbed.sh" pg-start "$TB_DIR" >/dev/null 2>&1
replay
tap_is "database back: exit 0" "$RC" 0
tap_is "database back: applied" "$SUMMARY" "applied 1, duplicate 0, rejected 0, malformed 0, remaining 0"
tap_is "kept entry recorded once, on contact 2001" \
	"$(q "SELECT count(*) FROM atsmail.message_links l JOIN atsmail.messages m ON m.id = l.message_id WHERE m.rfc_message_id = 'reply-5@client.test' AND l.target_kind = 'contact' AND l.target_id = 2001")" 1
replay
tap_is "nothing left" "$SUMMARY" "applied 0, duplicate 0, rejected 0, malformed 0, remaining 0"

tap_done
