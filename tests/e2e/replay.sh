#!/bin/bash
# replay.sh -- `atsmailctl replay` records journaled outbound mail exactly
# once, through the same code as live mail (atsm_out_plan in REPLAY mode,
# atsm_out_record), on a private PostgreSQL of the test bed.
#
# The journal entries are written here by hand, as the milter writes them
# (one JSON document per line, docs/journal.md).  Stories: a first replay
# records the ATS mail (a bad command is skipped, not fatal: the mail has
# left), drops the non-ATS mail, sets aside a bad entry and a torn line; a
# second replay of the same key records nothing; with PostgreSQL stopped
# replay exits 4 and keeps the entry; once it is back the entry is applied.
set -u
. "$top_srcdir/tests/e2e/e2e-lib.sh"

tb_start pg
tb_migrate >/dev/null 2>&1 || tap_bail "migrations failed"
tb_psql -f "$top_srcdir/tests/data/seed.sql" >/dev/null || tap_bail "seed failed"

J=$TB_DIR/journal
mkdir -m 700 "$J"
CONF=$TB_DIR/atsmail.conf
cat >"$CONF" <<CONF
db_conninfo = $TB_PG_ADMIN
db_connect_timeout = 2s
ats_domain = ats.atsmail.test
company_domains = atsmail.test
journal_dir = $J
CONF

SUBJECT='=?ISO-2022-JP?B?GyRCRnxLXDhsJE43b0w+GyhC?='

# facts KEY LOGIN TO ENV_RCPTS_JSON MESSAGE_ID
facts() {
	printf '{"v":1,"queue_id":"Q%s","login":"%s","env_from":"%s","env_rcpts":%s,' \
		"$1" "$2" "$2" "$4"
	printf '"hdr_from":null,"hdr_to":"%s","hdr_cc":null,"hdr_message_id":"<%s>",' "$3" "$5"
	printf '"hdr_subject":"%s","hdr_in_reply_to":null,"hdr_references":null,' "$SUBJECT"
	printf '"hdr_date":null,"body_size":42,"body_sha256":"","idem_key":"%s","token":"",' "$1"
	printf '"submitted_at":1795000000}'
}
# entry KEY DATA: one journal line, as atsm_journal_append writes it
entry() {
	printf '{"v":1,"key":"%s","kind":"outbound.message","at":"2026-11-21T05:00:00Z","host":"test","data":%s}\n' \
		"$1" "$2" >>"$J/milter.jsonl"
}
replay() {
	OUT=$("$top_builddir/ctl/atsmailctl" -c "$CONF" replay 2>"$TB_DIR/replay.err")
	RC=$?
	SUMMARY=$(printf '%s\n' "$OUT" | head -1)
}
q() { tb_psql -c "$1"; }

ATS1=$(facts replay-key-1 alice@atsmail.test taro@candidate.test \
	'["taro@candidate.test","ats+phase.active@ats.atsmail.test","ats+nosuch.1@ats.atsmail.test"]' \
	m1@atsmail.test)
entry replay-key-1 "$ATS1"
entry replay-key-2 "$(facts replay-key-2 alice@atsmail.test friend@example.com \
	'["friend@example.com"]' m2@atsmail.test)"
entry replay-key-bad '{"v":1,"env_rcpts":[],"idem_key":"replay-key-bad"}'
printf '{"v":1,"key":"torn' >>"$J/milter.jsonl"     # a torn last line
echo >>"$J/milter.jsonl"

replay
tap_is "first replay exits 1 (entries set aside)" "$RC" 1
tap_is "first replay summary" "$SUMMARY" "applied 2, duplicate 0, rejected 1, malformed 1, remaining 0"
tap_is "ATS mail recorded once" "$(q "SELECT count(*) FROM atsmail.messages WHERE idempotency_key = 'replay-key-1'")" 1
tap_is "subject stored in UTF-8" "$(q "SELECT subject FROM atsmail.messages WHERE idempotency_key = 'replay-key-1'")" "日本語の件名"
tap_is "phase command applied" "$(q "SELECT phase FROM atsmail.resumes WHERE id = 1001")" active
tap_is "one phase_history row, cause mail_sent, actor alice" \
	"$(q "SELECT count(*) FROM atsmail.phase_history h JOIN atsmail.messages m ON m.id = h.message_id WHERE m.idempotency_key = 'replay-key-1' AND h.cause = 'mail_sent' AND h.actor_id = 1")" 1
tap_ok "the bad command was skipped and named" grep -q "ats+nosuch.1@ats.atsmail.test: unknown command" "$TB_DIR/replay.err"
tap_is "non-ATS mail not recorded" "$(q "SELECT count(*) FROM atsmail.messages WHERE idempotency_key = 'replay-key-2'")" 0
tap_is "bad entry and torn line set aside" "$(wc -l <"$J/rejected.jsonl")" 2
tap_ok "the reason names the field" grep -q "env_from" "$TB_DIR/replay.err"

# the same mail journaled a second time (e.g. a retry of the milter)
entry replay-key-1 "$ATS1"
replay
tap_is "second replay exits 0" "$RC" 0
tap_is "second replay finds a duplicate" "$SUMMARY" "applied 0, duplicate 1, rejected 0, malformed 0, remaining 0"
tap_is "still one message" "$(q "SELECT count(*) FROM atsmail.messages WHERE idempotency_key = 'replay-key-1'")" 1
tap_is "still one outbox message.sent" \
	"$(q "SELECT count(*) FROM atsmail.outbox o JOIN atsmail.messages m ON (o.payload->>'message_id')::bigint = m.id WHERE m.idempotency_key = 'replay-key-1' AND o.event_type = 'message.sent'")" 1

# database down: exit 4, the entry stays
"$top_srcdir/tests/testbed/testbed.sh" pg-stop "$TB_DIR" >/dev/null 2>&1
entry replay-key-3 "$(facts replay-key-3 bob@atsmail.test hanako@candidate.test \
	'["hanako@candidate.test"]' m3@atsmail.test)"
replay
tap_is "database down: exit 4" "$RC" 4
tap_ok "database down: the entry is kept" grep -rq "replay-key-3" "$J" --include='*.jsonl' --include='*.replaying'
"$top_srcdir/tests/testbed/testbed.sh" pg-start "$TB_DIR" >/dev/null 2>&1
replay
tap_is "database back: exit 0" "$RC" 0
tap_is "database back: applied" "$SUMMARY" "applied 1, duplicate 0, rejected 0, malformed 0, remaining 0"
tap_is "kept entry recorded once" "$(q "SELECT count(*) FROM atsmail.messages WHERE idempotency_key = 'replay-key-3' AND owner_id = 2")" 1
replay
tap_is "nothing left" "$SUMMARY" "applied 0, duplicate 0, rejected 0, malformed 0, remaining 0"

tap_done
