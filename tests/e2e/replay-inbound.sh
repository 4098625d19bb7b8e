#!/bin/bash
# tests/e2e/replay-inbound.sh -- `atsmailctl replay` of the entries that the
# Dovecot plugin of earlier releases journaled while the database was down
# (format 1, kind inbound.message; written here by tests/e2e/journal-v1
# with the facts reader and JSON writer of lib/inbound/facts.c, from the
# mails of tests/data/ and a few written here), against a private
# PostgreSQL of the test bed.
#
# Without a loaded snapshot replay says what to do, exits 1 and keeps the
# entries.  After `atsmailctl snapshot sync` each is decided from the
# snapshot (REPLAY) and recorded: an ISO-2022-JP reply (phase rule 9001),
# an intake mail (a resume), a Sent copy (a copy row), a bounce (the
# recipient marked, the contact rule 9004), an auto-reply (no rule), and
# then a reply of the bounced contact (rule 9003, on the phase the bounce
# left); a stranger's mail is dropped, a bad entry set aside.  The same
# entries again are duplicates; PostgreSQL down: exit 4, kept, applied
# once it is back.
set -u
: "${top_srcdir:=$(cd "$(dirname "$0")/../.." && pwd)}"
: "${top_builddir:=$top_srcdir}"
. "$top_srcdir/tests/e2e/e2e-lib.sh"
. "$top_srcdir/tests/e2e/atsmaild-lib.sh"

JV1=$top_builddir/tests/e2e/journal-v1
CTL=$AD_CTL
DATA=$top_srcdir/tests/data
[ -x "$JV1" ] || tap_skip_all "tests/e2e/journal-v1 is not built"
[ -x "$CTL" ] || tap_skip_all "atsmailctl is not built"
tb_start pg
ad_db
q() { tb_psql -c "$1"; }

J=$TB_DIR/journal
CONF=$TB_DIR/atsmail.conf
cat >"$CONF" <<CONF
db_conninfo = host=$TB_PGHOST port=$TB_PGPORT dbname=$TB_DB user=atsm_service
db_connect_timeout = 2s
ats_domain = ats.atsmail.test
company_domains = atsmail.test
journal_dir = $J
snapshot_dir = $TB_DIR/snapshot
secret_file = $TB_DIR/no-such-secret
CONF
replay() {
	OUT=$("$CTL" -c "$CONF" replay 2>"$TB_DIR/replay.err")
	RC=$?
	SUMMARY=$(printf '%s\n' "$OUT" | head -1)
}
# entry USER MAILBOX HOW FILE: one inbound.message entry; prints its key
entry() { "$JV1" inbound "$J" "$1" "$2" "$3" "$4" 7; }
eml() {  # eml NAME FROM TO MSGID [HEADER...]: a mail written here
	local name=$1 from=$2 to=$3 m=$4 h
	shift 4
	{
		printf 'Return-Path: <%s>\r\nDelivered-To: %s\r\nFrom: %s\r\nTo: %s\r\n' "$from" "$to" "$from" "$to"
		printf 'Message-ID: <%s>\r\nDate: Sat, 21 Nov 2026 06:00:00 +0900\r\n' "$m"
		for h in "$@"; do printf '%s\r\n' "$h"; done
		printf '\r\nHello.\r\n'
	} >"$TB_DIR/$name.eml"
	echo "$TB_DIR/$name.eml"
}

K_REPLY=$(entry alice@atsmail.test INBOX delivery "$DATA/inbound-reply-iso2022jp.eml")
K_INTAKE=$(entry recruit@atsmail.test INBOX delivery \
	"$(eml intake 'new.applicant@applicant.test' recruit@atsmail.test apply-1@applicant.test 'Subject: Application')")
K_SENT=$(entry alice@atsmail.test Sent append \
	"$(eml sent alice@atsmail.test taro@candidate.test out-5001@atsmail.test 'Subject: Interview')")
K_STRANGER=$(entry alice@atsmail.test INBOX delivery \
	"$(eml stranger friend@example.com alice@atsmail.test chat-1@example.com 'Subject: Lunch?')")
K_BOUNCE=$(entry bob@atsmail.test INBOX delivery "$DATA/inbound-bounce.eml")
K_AUTO=$(entry alice@atsmail.test INBOX delivery "$DATA/inbound-autoreply.eml")
K_AFTER=$(entry bob@atsmail.test INBOX delivery \
	"$(eml after suzuki@client.test bob@atsmail.test reply-2@client.test 'Subject: Re: Candidates' \
	'In-Reply-To: <out-5003@atsmail.test>')")
printf '{"v":1,"key":"in-key-bad","kind":"inbound.message","at":"2026-11-21T05:00:00Z","host":"test","data":{"v":1,"how":"delivery","idem_key":"in-key-bad"}}\n' \
	>>"$J/dovecot.jsonl"
cp "$J/dovecot.jsonl" "$TB_DIR/all.jsonl"
tap_is "seven entries and a bad one journaled, as the plugin wrote them" \
	"$(grep -c '"kind":"inbound.message"' "$J/dovecot.jsonl")" "8"

replay
tap_is "without a loaded snapshot: exit 1" "$RC" "1"
tap_ok "it says to start atsmaild or run atsmailctl snapshot sync" \
	grep -q "start atsmaild, or run \`atsmailctl snapshot sync\`, then replay again" "$TB_DIR/replay.err"
tap_is "and records nothing, keeping every entry" \
	"$(q "select count(*) from atsmail.messages where id >= 10000")|$(cat "$J"/*.jsonl "$J"/*.replaying 2>/dev/null | grep -c '"kind":"inbound.message"')" "0|8"

"$CTL" -c "$CONF" snapshot sync >"$TB_DIR/sync.log" 2>&1 || tap_bail "snapshot sync: $(cat "$TB_DIR/sync.log")"
replay
tap_is "after snapshot sync: exit 1 (an entry set aside)" "$RC" "1"
tap_is "summary" "$OUT" "applied 7, duplicate 0, rejected 1, malformed 0, remaining 0
of the applied: 6 recorded, 1 not ATS mail (nothing recorded)"
tap_is "reply: recorded once, linked to resume 1001 by In-Reply-To, subject in UTF-8" \
	"$(q "select count(*)||':'||string_agg(l.target_kind||l.target_id||':'||l.rule, ',')||':'||min(m.subject) from atsmail.messages m join atsmail.message_links l on l.message_id=m.id where m.rfc_message_id='reply-jp-1@candidate.test' and m.direction='in'")" \
	"1:resume1001:in_reply_to:Re: 面接日程のご連絡"
tap_is "reply: phase rule 9001 (resume 1001 new -> active, cause reply)" \
	"$(q "select h.from_phase||'->'||h.to_phase||':'||h.cause||':'||(select o.payload->>'rule_id' from atsmail.outbox o where o.event_type='phase.changed' and (o.payload->>'message_id')::bigint=m.id) from atsmail.phase_history h join atsmail.messages m on m.id=h.message_id where m.rfc_message_id='reply-jp-1@candidate.test'")" \
	"new->active:reply:9001"
tap_is "intake: a resume made from mail with the newcomer's address, linked by intake" \
	"$(q "select r.created_from||':'||l.rule from atsmail.addresses a join atsmail.resumes r on r.id=a.owner_id join atsmail.message_links l on l.target_kind='resume' and l.target_id=r.id join atsmail.messages m on m.id=l.message_id where a.addr_norm='new.applicant@applicant.test' and a.owner_kind='resume' and m.rfc_message_id='apply-1@applicant.test'")" \
	"mail:intake"
tap_is "Sent copy: a copy row of message 5001 in Sent, no new message" \
	"$(q "select (select count(*) from atsmail.message_copies where message_id=5001 and mailbox='Sent')||'/'||(select count(*) from atsmail.messages where rfc_message_id='out-5001@atsmail.test')")" "1/1"
tap_is "stranger's mail not recorded" "$(q "select count(*) from atsmail.messages where rfc_message_id='chat-1@example.com'")" "0"
tap_is "bounce: suzuki marked bounced (5.1.1) on message 5003, the address flagged" \
	"$(q "select r.status||':'||r.status_code||':'||(select count(*) from atsmail.address_flags f where f.addr_norm=r.address) from atsmail.message_recipients r where r.message_id=5003")" "bounced:5.1.1:1"
tap_is "bounce: rule 9004 on contact 2001 (new -> inactive, cause bounce)" \
	"$(q "select h.from_phase||'->'||h.to_phase||':'||h.cause from atsmail.phase_history h join atsmail.messages m on m.id=h.message_id where m.is_bounce and h.kind='contact' and h.record_id=2001")" \
	"new->inactive:bounce"
tap_is "auto-reply: recorded as one, no phase change" \
	"$(q "select m.is_auto_reply||':'||(select count(*) from atsmail.phase_history h where h.message_id=m.id) from atsmail.messages m where m.rfc_message_id='auto-1@candidate.test'")" "true:0"
tap_is "the contact's reply after the bounce: rule 9003 moves it from inactive (where the bounce left it) to active" \
	"$(q "select coalesce((select h.from_phase||'->'||h.to_phase from atsmail.phase_history h join atsmail.messages m on m.id=h.message_id where m.rfc_message_id='reply-2@client.test'), 'none')||':'||(select phase from atsmail.contacts where id=2001)")" \
	"inactive->active:active"
tap_is "bad entry set aside" "$(wc -l <"$J/rejected.jsonl")" "1"
tap_ok "the reason names the field" grep -q "mailbox_user" "$TB_DIR/replay.err"

# the same entries journaled a second time
grep -e "$K_REPLY" -e "$K_SENT" "$TB_DIR/all.jsonl" >>"$J/dovecot.jsonl"
replay
tap_is "the same entries again: exit 0, duplicates" "$RC|$SUMMARY" \
	"0|applied 0, duplicate 2, rejected 0, malformed 0, remaining 0"
tap_is "still one copy of the reply, one message.received event" \
	"$(q "select count(*) from atsmail.message_copies c join atsmail.messages m on m.id=c.message_id where m.rfc_message_id='reply-jp-1@candidate.test'")|$(q "select count(*) from atsmail.outbox o join atsmail.messages m on (o.payload->>'message_id')::bigint=m.id where m.rfc_message_id='reply-jp-1@candidate.test' and o.event_type='message.received'")" \
	"1|1"
tap_is "still one Sent copy row" "$(q "select count(*) from atsmail.message_copies where message_id=5001 and mailbox='Sent'")" "1"

# PostgreSQL down: exit 4, the entry stays; back: applied once
"$top_srcdir/tests/testbed/testbed.sh" pg-stop "$TB_DIR" >/dev/null 2>&1
K5=$(entry bob@atsmail.test INBOX delivery \
	"$(eml later suzuki@client.test bob@atsmail.test reply-5@client.test 'Subject: News')")
replay
tap_is "PostgreSQL stopped: exit 4" "$RC" "4"
tap_ok "the entry is kept" grep -rq "$K5" "$J" --include='*.jsonl' --include='*.replaying'
"$top_srcdir/tests/testbed/testbed.sh" pg-start "$TB_DIR" >/dev/null 2>&1
replay
tap_is "PostgreSQL back: applied" "$RC|$SUMMARY" "0|applied 1, duplicate 0, rejected 0, malformed 0, remaining 0"
tap_is "recorded once, on contact 2001 by the sender's address" \
	"$(q "select count(*) from atsmail.message_links l join atsmail.messages m on m.id=l.message_id where m.rfc_message_id='reply-5@client.test' and l.target_kind='contact' and l.target_id=2001 and l.rule='sender_address'")" "1"
replay
tap_is "nothing left" "$SUMMARY" "applied 0, duplicate 0, rejected 0, malformed 0, remaining 0"
tap_done
