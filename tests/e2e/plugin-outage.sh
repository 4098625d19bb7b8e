#!/bin/bash
# tests/e2e/plugin-outage.sh -- the database stops during a run of 20
# deliveries: every mail still reaches the mailbox, in bounded time, the
# plugin journals the facts (as the mail user, uid 5000), and
# `atsmailctl replay` files each of them exactly once, twice run.
set -u
: "${top_srcdir:=$(cd "$(dirname "$0")/../.." && pwd)}"
: "${top_builddir:=$top_srcdir}"
. "$top_srcdir/tests/e2e/plugin-lib.sh"

CTL=$top_builddir/ctl/atsmailctl
[ -x "$CTL" ] || tap_skip_all "atsmailctl is not built"
plugin_start
N=20
TAG="outage.$RUN"

# One delivery while the database is up warms the LMTP process's connection.
mx taro@candidate.test alice@atsmail.test --header "Message-Id: $(mid warm)" --body "warm"
"$top_srcdir/tests/testbed/testbed.sh" pg-stop "$TB_DIR" >/dev/null || tap_bail "pg-stop failed"
t0=$(date +%s)
for i in $(seq 1 $N); do
	mx taro@candidate.test alice@atsmail.test --header "Message-Id: <$TAG.$i@e2e.test>" \
		--header "In-Reply-To: <out-5001@atsmail.test>" --header "Subject: outage $i" --body "mail $i"
done
for _ in $(seq 1 300); do
	n=$(imap alice@atsmail.test alicepw search "SUBJECT \"outage\"" 2>/dev/null | wc -w)
	[ "$n" -ge $N ] && break
	sleep 0.1
done
t1=$(date +%s)
tap_is "database down: all $N mails are in the mailbox" "$n" "$N"
tap_ok "database down: $N deliveries took $((t1 - t0)) s (< 60 s)" test $((t1 - t0)) -lt 60
J=$(cat "$PW"/journal/*.jsonl 2>/dev/null | grep -c "$TAG")
tap_is "database down: $N facts journaled (kind inbound.message)" "$J" "$N"
tap_is "journal file belongs to the mail user" "$(stat -c %u "$PW"/journal/dovecot.jsonl 2>/dev/null)" "$MAIL_UID"
tap_is "database down: the mails carry no keyword yet" \
	"$(imap alice@atsmail.test alicepw flags "<$TAG.1@e2e.test>" 2>&1)" ""

"$top_srcdir/tests/testbed/testbed.sh" pg-start "$TB_DIR" >/dev/null || tap_bail "pg-start failed"
"$CTL" -c "$PW/atsmail.conf" --db "$TB_PG_ADMIN" replay >"$PW/replay1.log" 2>&1
tap_ok "atsmailctl replay succeeds" test $? -eq 0
tap_is "after replay: each mail filed once" \
	"$(tb_psql -c "select count(*)||':'||count(distinct rfc_message_id) from atsmail.messages where direction='in' and rfc_message_id like '$TAG.%'")" "$N:$N"
tap_is "after replay: each linked to resume 1001 by in_reply_to" \
	"$(tb_psql -c "select count(*) from atsmail.message_links l join atsmail.messages m on m.id=l.message_id where m.rfc_message_id like '$TAG.%' and l.target_id=1001 and l.rule='in_reply_to'")" "$N"
"$CTL" -c "$PW/atsmail.conf" --db "$TB_PG_ADMIN" replay >"$PW/replay2.log" 2>&1
tap_is "a second replay files nothing again" \
	"$(tb_psql -c "select count(*) from atsmail.messages where rfc_message_id like '$TAG.%'")|$(tb_psql -c "select count(*) from atsmail.message_copies c join atsmail.messages m on m.id=c.message_id where m.rfc_message_id like '$TAG.%'")" "$N|$N"

# Delivery after the outage is filed live again (the pool reconnects).
M=$(mid after)
mx taro@candidate.test alice@atsmail.test --header "Message-Id: $M" --header "In-Reply-To: <out-5001@atsmail.test>" --body "back"
tap_is "database back: live filing resumes (\$ATS)" "$(imap -w 10 alice@atsmail.test alicepw flags "$M" 2>&1)" '$ATS'
tap_done
