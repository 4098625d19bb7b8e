#!/bin/bash
# tests/e2e/plugin-outage.sh -- PostgreSQL is stopped and mail keeps
# flowing: atsmaild decides every delivery from its snapshot, journals it
# and answers the keywords at once; when PostgreSQL is back its recorder
# records each mail exactly once, no `atsmailctl replay` needed.
#
# Run "down" (PostgreSQL stopped): 22 deliveries -- replies (In-Reply-To,
# References, to mail sent during the outage), an auto-reply, a known and
# an ambiguous sender, intake mail to recruit@ and jobs@ (and the
# newcomer's second mail, filed on the resume their first is making,
# though that exists only in the journal and the snapshot), a Postfix bounce
# of ATS mail sent through atsmaild's milter, one mail to two recruiters,
# a private owner's mail, an ISO-2022-JP subject, an IMAP APPEND of a Sent
# copy, a stranger's mail.  Half-way atsmaild is restarted (PostgreSQL
# still down): its snapshot still decides, its journal survives.  One
# delivery is refused for now (atsmaild frozen past atsmail_timeout, so
# LMTP answers 451 after atsmaild has journaled it) and retried by
# Postfix: it is journaled twice under one key and recorded once.
# Each mail is checked for its keywords as it arrives; with atsmaild
# stopped PostgreSQL is started and holds nothing of the run; atsmaild is
# started and records all of it: rows, links, phase changes (the rules
# that fired), the bounced recipient, intake records, copies.
# Run "up": the database is made anew, atsmaild starts afresh, and the
# same mails are delivered with PostgreSQL up: the same keywords and the
# same rows (compared line by line, ids of rows made by mail replaced by
# their addresses, Message-IDs by their number).
set -u
: "${top_srcdir:=$(cd "$(dirname "$0")/../.." && pwd)}"
: "${top_builddir:=$top_srcdir}"
. "$top_srcdir/tests/e2e/plugin-lib.sh"

plugin_start
TB=$top_srcdir/tests/testbed/testbed.sh
CONF=$PW/atsmail.conf
NEW="newcomer.$RUN@example.org"
OTHER="other.$RUN@example.org"

# Message-ID of mail NN of run PH ("down" or "up")
omid() { echo "<o.$2.$1@outage.test>"; }
# queue ID of a mail (from the maillog)
queue_id() {
	local q=
	for _ in $(seq 1 150); do
		q=$(awk -v m="message-id=$1" 'index($0, m) { sub(":", "", $6); print $6; exit }' "$TB_MAILLOG")
		[ -n "$q" ] && break
		sleep 0.1
	done
	echo "$q"
}
# wait_status QID WANT: the last LMTP status of the queue ID ("deferred
# 4.2.0", "sent 2.0.0"), once it is WANT or after 20 s
wait_status() {
	local s=
	for _ in $(seq 1 200); do
		s=$(awk -v q="$1:" '$6 == q && /relay=127\.0\.0\.1/ && /status=/ {
			match($0, /dsn=[0-9.]+/); d = substr($0, RSTART + 4, RLENGTH - 4)
			match($0, /status=[a-z]+/); st = substr($0, RSTART + 7, RLENGTH - 7); last = st " " d }
			END { print last }' "$TB_MAILLOG")
		[ "$s" = "$2" ] && break
		sleep 0.1
	done
	echo "$s"
}
# postfix_defer lmtp | "": keep LMTP deliveries in the queue, or not; once
# Postfix's queue manager has been restarted with the setting (bounded poll)
postfix_defer() {
	local m old new=
	m=$(tr -d ' \n' <"$TB_DIR/postfix/spool/pid/master.pid")
	old=$(pgrep -P "$m" -x qmgr)
	postconf -c "$TB_POSTFIX_CONF" -e "defer_transports = $1" &&
		postfix -c "$TB_POSTFIX_CONF" reload >/dev/null 2>&1 || tap_bail "cannot set defer_transports"
	for _ in $(seq 1 150); do
		new=$(pgrep -P "$m" -x qmgr)
		[ -n "$new" ] && [ "$new" != "$old" ] && return 0
		sleep 0.1
	done
	tap_bail "Postfix's queue manager did not restart after a reload"
}
count_of() { imap "$1" "$2" search "HEADER Message-ID \"$3\"" 2>/dev/null | wc -w; }
submit() {  # submit FROM-USER PW TO MSGID [swaks args]
	local u=$1 p=$2 to=$3 m=$4
	shift 4
	swaks --server 127.0.0.1 --port "$TB_SUBMISSION_PORT" --auth PLAIN --auth-user "$u" \
		--auth-password "$p" --from "$u" --to "$to" --header "Message-Id: $m" "$@" >>"$PW/swaks.log" 2>&1
}
sorted() { printf '%s\n' $1 | sort | tr '\n' ' ' | sed 's/ $//'; }

# What each mail of a run showed the recruiter: "NN user flags" lines.
SEEN=
seen() { SEEN="$SEEN$1 $2 $(sorted "$3")
"; }
# deliver NN FROM TO USER PW [swaks args]: over the MX, then its flags
deliver() {
	local n=$1 from=$2 to=$3 user=$4 pw=$5 m
	shift 5
	m=$(omid "$n" "$PH")
	mx "$from" "$to" --header "Message-Id: $m" "$@"
	seen "$n" "$user" "$(flags_of "$user" "$pw" "$m")"
}

# PostgreSQL's rows of a run, normalised so that two runs compare: a
# message by its number in the run (or DSN / its seeded Message-ID), a
# record made by mail by its address, times and ids of rows left out.
dump_rows() {
	tb_psql <<'SQL'
CREATE TEMP VIEW mm AS SELECT m.*, CASE
	WHEN m.rfc_message_id ~ '^o\.[a-z]+\.[0-9]+@outage\.test$'
		THEN regexp_replace(m.rfc_message_id, '^o\.[a-z]+\.', 'o.')
	WHEN m.is_bounce THEN 'DSN' ELSE coalesce(m.rfc_message_id, '?') END AS tag
	FROM atsmail.messages m;
CREATE TEMP VIEW rec AS
	SELECT 'resume' AS kind, r.id, CASE WHEN r.id < 10000 THEN r.id::text ELSE
		(SELECT min(a.addr_norm) FROM atsmail.addresses a WHERE a.owner_kind = 'resume' AND a.owner_id = r.id) END AS label
	FROM atsmail.resumes r
	UNION ALL SELECT 'contact', id, id::text FROM atsmail.contacts
	UNION ALL SELECT 'process', id, id::text FROM atsmail.processes
	UNION ALL SELECT 'job', id, id::text FROM atsmail.jobs;
SELECT line FROM (
	SELECT 'msg|' || m.tag || '|' || m.direction || '|' || coalesce(m.owner_id::text, '-') || '|' ||
		m.visibility || '|' || m.is_auto_reply || '|' || m.is_bounce || '|' || coalesce(m.subject, '') ||
		'|thread ' || coalesce((SELECT t.tag FROM mm t WHERE t.id = m.thread_id), '-') ||
		'|counterparts ' || array_to_string(ARRAY(SELECT unnest(m.counterparts) ORDER BY 1), ',') AS line
	FROM mm m WHERE m.id >= 10000
	UNION ALL SELECT 'link|' || m.tag || '|' || l.target_kind || ':' || r.label || '|' || l.rule || '|' || l.ambiguous
	FROM atsmail.message_links l JOIN mm m ON m.id = l.message_id
	JOIN rec r ON r.kind = l.target_kind AND r.id = l.target_id WHERE m.id >= 10000
	UNION ALL SELECT 'copy|' || m.tag || '|' || c.user_id || '|' || c.mailbox
	FROM atsmail.message_copies c JOIN mm m ON m.id = c.message_id
	UNION ALL SELECT 'rcpt|' || m.tag || '|' || r.address || '|' || r.kind || '|' || r.status || '|' || coalesce(r.status_code, '')
	FROM atsmail.message_recipients r JOIN mm m ON m.id = r.message_id WHERE m.id >= 10000 OR r.status <> 'pending'
	UNION ALL SELECT 'phase|' || coalesce(m.tag, '-') || '|' || h.kind || ':' || r.label || '|' ||
		coalesce(h.from_phase, '') || '->' || h.to_phase || '|' || h.cause || '|' || coalesce(h.actor_id::text, '-')
	FROM atsmail.phase_history h JOIN rec r ON r.kind = h.kind AND r.id = h.record_id
	LEFT JOIN mm m ON m.id = h.message_id
	UNION ALL SELECT 'event|' || coalesce(m.tag, '-') || '|' || o.event_type || coalesce('|rule ' || (o.payload->>'rule_id'), '')
	FROM atsmail.outbox o LEFT JOIN mm m ON m.id = (o.payload->>'message_id')::bigint
	WHERE o.event_type IN ('message.received', 'message.sent', 'message.bounced', 'record.created', 'phase.changed')
	UNION ALL SELECT 'unresolved|' || m.tag || '|' || u.sender
	FROM atsmail.unresolved_items u JOIN mm m ON m.id = u.message_id
	UNION ALL SELECT 'newrecord|' || r.label || '|' || x.name || '|' || x.created_from || '|' || x.phase || '|' || coalesce(x.owner_id::text, '-')
	FROM atsmail.resumes x JOIN rec r ON r.kind = 'resume' AND r.id = x.id WHERE x.id >= 10000
	UNION ALL SELECT 'flag|' || addr_norm || '|' || coalesce(bounce_code, '') || '|' || bounce_count FROM atsmail.address_flags
	UNION ALL SELECT 'phase-now|resume:' || id || '|' || phase FROM atsmail.resumes WHERE id < 10000
	UNION ALL SELECT 'phase-now|contact:' || id || '|' || phase FROM atsmail.contacts
	UNION ALL SELECT 'phase-now|process:' || id || '|' || phase FROM atsmail.processes
) x ORDER BY line;
SQL
}

# the resume of a candidate address that has no mailbox: mail to it bounces
add_nobody() {
	tb_psql >/dev/null <<SQL || tap_bail "cannot add the resume of the bounce"
WITH r AS (INSERT INTO atsmail.resumes (name, phase, shared) VALUES ('Bounce Nobody', 'new', true) RETURNING id)
INSERT INTO atsmail.addresses (owner_kind, owner_id, addr_norm, is_primary) SELECT 'resume', id, 'nobody@candidate.test', true FROM r;
SQL
	"$AD_CTL" -c "$CONF" snapshot sync >"$PW/sync.log" 2>&1 || tap_bail "snapshot sync failed: $(cat "$PW/sync.log")"
}

# The mails of a run, in order.  $PH names the run; between the two
# halves, mid_run runs (the down run restarts atsmaild there); mail 20 is
# delivered by deliver_20 (the down run has it refused once).
run_mails() {
	local m
	deliver 01 taro@candidate.test alice@atsmail.test alice@atsmail.test alicepw \
		--header "In-Reply-To: <out-5001@atsmail.test>" --header "Subject: Re: Interview" --body "Thank you."
	deliver 02 hanako@candidate.test alice@atsmail.test alice@atsmail.test alicepw \
		--header "In-Reply-To: <out-5002@atsmail.test>" --header "Subject: Re: Screening" --body "Yes."
	deliver 03 suzuki@client.test bob@atsmail.test bob@atsmail.test bobpw \
		--header "In-Reply-To: <out-5003@atsmail.test>" --header "Subject: Re: Candidates" --body "Thanks."
	deliver 04 family@candidate.test alice@atsmail.test alice@atsmail.test alicepw \
		--header "Subject: About us" --body "Hi."
	deliver 05 jiro@candidate.test bob@atsmail.test bob@atsmail.test bobpw \
		--header "Subject: Question" --body "Hello."
	deliver 06 "$NEW" recruit@atsmail.test recruit@atsmail.test recruitpw \
		--header "From: Kenji Sato <$NEW>" --header "Subject: Application" --body "My CV."
	"$TB" adduser "$TB_DIR" jobs@atsmail.test jobspw >/dev/null 2>&1
	deliver 07 "$OTHER" jobs@atsmail.test jobs@atsmail.test jobspw \
		--header "Subject: Enquiry" --body "Hello."
	deliver 08 someone@elsewhere.example alice@atsmail.test alice@atsmail.test alicepw \
		--header "Subject: Lunch?" --body "Hi."
	imap alice@atsmail.test alicepw create Sent >/dev/null 2>&1
	printf 'From: alice@atsmail.test\r\nTo: taro@candidate.test\r\nSubject: Interview\r\nMessage-Id: <out-5001@atsmail.test>\r\nDate: %s\r\n\r\nSee you.\r\n' \
		"$(date -R)" >"$PW/sent.eml"
	m=$(imap alice@atsmail.test alicepw append Sent "$PW/sent.eml" 2>&1)
	seen 09 alice@atsmail.test/Sent "$(imap -m Sent alice@atsmail.test alicepw flags "uid:$m" 2>&1)"
	deliver 10 suzuki@client.test alice@atsmail.test,bob@atsmail.test alice@atsmail.test alicepw \
		--header "Subject: Two candidates" --body "See attached."
	seen 10 bob@atsmail.test "$(flags_of bob@atsmail.test bobpw "$(omid 10 "$PH")")"
	deliver 11 taro@candidate.test carol@atsmail.test carol@atsmail.test carolpw \
		--header "Subject: For Carol" --body "Hi."
	m=$(omid 12 "$PH")
	submit alice@atsmail.test alicepw nobody@candidate.test "$m" --header "Subject: Offer" --body "An offer."
	m=$(imap -w 30 alice@atsmail.test alicepw search "TEXT \"$(strip "$m")\"" 2>/dev/null)
	seen 12 alice@atsmail.test "$(imap alice@atsmail.test alicepw flags "uid:${m%% *}" 2>&1)"

	mid_run

	deliver 13 taro@candidate.test alice@atsmail.test alice@atsmail.test alicepw \
		--header "In-Reply-To: $(omid 01 "$PH")" \
		--header "References: <out-5001@atsmail.test> $(omid 01 "$PH")" --header "Subject: Re: Re: Interview" --body "Again."
	deliver 14 hanako@candidate.test alice@atsmail.test alice@atsmail.test alicepw \
		--header "Auto-Submitted: auto-replied" --header "In-Reply-To: $(omid 02 "$PH")" \
		--header "Subject: =?UTF-8?B?6Ieq5YuV6L+U5L+hOiDkuI3lnKjjga7jgYrnn6XjgonjgZs=?=" --body "I am away."
	deliver 15 "$NEW" recruit@atsmail.test recruit@atsmail.test recruitpw \
		--header "From: Kenji Sato <$NEW>" --header "Subject: My CV again" --body "Did you get it?"
	deliver 16 taro@candidate.test alice@atsmail.test alice@atsmail.test alicepw \
		--header "In-Reply-To: <out-5001@atsmail.test>" \
		--header "Subject: =?ISO-2022-JP?B?UmU6IBskQkxMQFxGfER4JE4kNE8iTW0bKEI=?=" --body "Thank you."
	m=$(omid 17 "$PH")
	submit alice@atsmail.test alicepw hanako@candidate.test "$m" --header "Subject: Next step" --body "Can we talk?"
	imap -w 15 hanako@candidate.test hanakopw find "$m" >/dev/null 2>&1
	deliver 18 hanako@candidate.test alice@atsmail.test alice@atsmail.test alicepw \
		--header "In-Reply-To: $m" --header "Subject: Re: Next step" --body "Sure."
	deliver 19 suzuki@client.test bob@atsmail.test bob@atsmail.test bobpw \
		--header "In-Reply-To: $(omid 03 "$PH")" --header "Subject: Re: Re: Candidates" --body "And one more."
	deliver_20
	deliver 21 sato@client.test alice@atsmail.test alice@atsmail.test alicepw \
		--header "Subject: From Globex" --body "Hello."
	deliver 22 jiro.home@example.net alice@atsmail.test alice@atsmail.test alicepw \
		--header "Subject: From home" --body "Hi."
}

# ------------------------------------------------------------ run "down"
PH=down
add_nobody
"$TB" pg-stop "$TB_DIR" >/dev/null || tap_bail "pg-stop failed"
J0=$(journal_count)

mid_run() {
	local before after l0
	before=$(journal_count)
	ad_stop H
	tap_ok "database down: atsmaild stopped with entries still in its journal ($before)" test "$before" -gt 0
	l0=$(wc -l <"$(ad_log H)")
	ad_start H
	after=$(journal_count)
	tap_is "database down: atsmaild restarted from its snapshot, its journal kept every entry" "$after" "$before"
	for _ in $(seq 1 100); do tail -n +$((l0 + 1)) "$(ad_log H)" | grep -q "recorder: the database is unavailable" && break; sleep 0.1; done
	tap_ok "database down: the restarted atsmaild's recorder waits for the database" \
		sh -c "tail -n +$((l0 + 1)) '$(ad_log H)' | grep -q 'recorder: the database is unavailable'"
}
R20=
deliver_20() {
	local m q p
	m=$(omid 20 "$PH")
	# queued first (the milter is atsmaild too), then atsmaild frozen and
	# the queue let go: the plugin's request waits past atsmail_timeout
	postfix_defer lmtp
	mx taro@candidate.test alice@atsmail.test --header "Message-Id: $m" \
		--header "In-Reply-To: <out-5001@atsmail.test>" --header "Subject: Re: once more" --body "Retried."
	q=$(queue_id "$m")
	for _ in $(seq 1 150); do grep -q "$q: .*status=deferred (deferred transport)" "$TB_MAILLOG" && break; sleep 0.1; done
	tap_ok "mail 20 waits in Postfix's queue (defer_transports = lmtp)" \
		grep -q "$q: .*status=deferred (deferred transport)" "$TB_MAILLOG"
	p=$(ad_pid H)
	kill -STOP "$p"
	postfix_defer ""
	postqueue -c "$TB_POSTFIX_CONF" -f
	tap_is "atsmaild frozen past atsmail_timeout: LMTP 451, Postfix defers mail 20" \
		"$(wait_status "$q" "deferred 4.2.0")" "deferred 4.2.0"
	kill -CONT "$p"
	for _ in $(seq 1 100); do grep -q "$m: file for alice@atsmail.test/INBOX" "$(ad_log H)" && break; sleep 0.1; done
	tap_ok "atsmaild, thawed, journaled the request it had been sent" \
		grep -q "$m: file for alice@atsmail.test/INBOX" "$(ad_log H)"
	tap_is "and nothing is in the mailbox yet" "$(count_of alice@atsmail.test alicepw "$m")" "0"
	postqueue -c "$TB_POSTFIX_CONF" -f
	seen 20 alice@atsmail.test "$(flags_of alice@atsmail.test alicepw "$m")"
	tap_is "Postfix's retry is delivered, once" \
		"$(wait_status "$q" "sent 2.0.0")|$(count_of alice@atsmail.test alicepw "$m")" "sent 2.0.0|1"
	R20=$m
}
run_mails
DOWN_SEEN=$SEEN

EXPECT='01 alice@atsmail.test $ATS
02 alice@atsmail.test $ATS
03 bob@atsmail.test $ATS
04 alice@atsmail.test $ATS $ATSAmbiguous
05 bob@atsmail.test $ATS
06 recruit@atsmail.test $ATSNewRecord
07 jobs@atsmail.test $ATSUnfiled
08 alice@atsmail.test 
09 alice@atsmail.test/Sent $ATSSent
10 alice@atsmail.test $ATS
10 bob@atsmail.test $ATS
11 carol@atsmail.test $ATS
12 alice@atsmail.test $ATS $ATSBounce
13 alice@atsmail.test $ATS
14 alice@atsmail.test $ATS $ATSAutoReply
15 recruit@atsmail.test $ATS
16 alice@atsmail.test $ATS
18 alice@atsmail.test $ATS
19 bob@atsmail.test $ATS
20 alice@atsmail.test $ATS
21 alice@atsmail.test $ATS
22 alice@atsmail.test $ATS
'
while IFS= read -r line; do
	n=${line%% *}
	u=$(echo "$line" | cut -d' ' -f2)
	got=$(printf '%s' "$DOWN_SEEN" | awk -v n="$n" -v u="$u" '$1 == n && $2 == u')
	tap_is "database down: mail $n delivered to $u with its keywords" "$got" "$line"
done <<<"$(printf '%s' "$EXPECT" | sed '/^$/d')"

N_JOURNALED=$(journal_count)
tap_is "database down: 24 entries journaled (21 filings, mail 20 twice, 2 sent mails; not the stranger's)" \
	"$((N_JOURNALED - J0))" "24"
tap_is "mail 20 is in the journal twice, under one key" \
	"$(cat "$PW"/journal/atsmaild.$SEG_GLOB.jsonl | grep -F "$(strip "$R20")" | python3 -c 'import json,sys; ks=[json.loads(l)["key"] for l in sys.stdin]; print(len(ks), len(set(ks)))')" "2 1"

# PostgreSQL back, atsmaild still stopped: nothing of the run is there
ad_stop H
"$TB" pg-start "$TB_DIR" >/dev/null || tap_bail "pg-start failed"
tap_is "database back, atsmaild stopped: no mail of the run recorded, no phase moved" \
	"$(tb_psql -c "select (select count(*) from atsmail.messages where id >= 10000)||':'||(select count(*) from atsmail.phase_history)||':'||(select phase from atsmail.resumes where id=1001)")" \
	"0:0:new"

# atsmaild started: its recorder records everything, once
ad_start H
tap_ok "the recorder drains the journal" journal_drained
tap_is "no entry set aside" "$(cat "$PW/journal/atsmaild.rejected.jsonl" 2>/dev/null | wc -l)" "0"
q() { tb_psql -c "$1"; }
tap_is "every inbound mail of the run recorded exactly once (18 messages, one per Message-ID)" \
	"$(q "select count(*)||':'||count(distinct rfc_message_id) from atsmail.messages where direction='in' and rfc_message_id like 'o.down.%'")" "18:18"
tap_is "the two sent mails recorded once each" \
	"$(q "select count(*) from atsmail.messages where direction='out' and rfc_message_id like 'o.down.%'")" "2"
tap_is "mail 20, journaled twice: one message, one copy" \
	"$(q "select count(distinct m.id)||':'||count(c.id) from atsmail.messages m join atsmail.message_copies c on c.message_id=m.id where m.rfc_message_id='$(strip "$R20")'")" "1:1"
tap_is "mail 10: one message, two copies (alice, bob)" \
	"$(q "select string_agg(c.user_id::text, ',' order by c.user_id) from atsmail.message_copies c join atsmail.messages m on m.id=c.message_id where m.rfc_message_id='o.down.10@outage.test'")" "1,2"
tap_is "the stranger's mail (08) not recorded" \
	"$(q "select count(*) from atsmail.messages where rfc_message_id='o.down.08@outage.test'")" "0"
NEWID=$(q "select owner_id from atsmail.addresses where addr_norm='$NEW' and owner_kind='resume'")
tap_is "the phase rules that fired, each once: 1001 by 9001 (01), 1002 and 4001 by 9001/9002 (02), 2001 by 9003 (03), 1003 by 9001 (05), the newcomer's resume by 9001 (15, decided while 06 was in the journal only), 2002 by 9003 (21)" \
	"$(q "select string_agg(regexp_replace(m.rfc_message_id, '^o\.down\.([0-9]+)@.*', '\1')||':'||(o.payload->>'kind')||(o.payload->>'record_id')||':'||(o.payload->>'rule_id'), ',' order by m.rfc_message_id, o.payload->>'kind') from atsmail.outbox o join atsmail.messages m on m.id=(o.payload->>'message_id')::bigint where o.event_type='phase.changed'")" \
	"01:resume1001:9001,02:process4001:9002,02:resume1002:9001,03:contact2001:9003,05:resume1003:9001,15:resume$NEWID:9001,21:contact2002:9003"
tap_is "phases now: resumes 1001, 1002, 1003 active, process 4001 interview1, contacts 2001, 2002 active" \
	"$(q "select (select string_agg(id||phase, ',' order by id) from atsmail.resumes where id in (1001,1002,1003))||'|'||(select phase from atsmail.processes where id=4001)||'|'||(select string_agg(id||phase, ',' order by id) from atsmail.contacts)")" \
	"1001active,1002active,1003active|interview1|2001active,2002active"
tap_is "mail 13 (References through 01, in its thread) and 16 filed on resume 1001 by their thread, no phase change" \
	"$(q "select string_agg(regexp_replace(m.rfc_message_id, '^o\.down\.([0-9]+)@.*', '\1')||':'||l.rule, ',' order by m.rfc_message_id) from atsmail.message_links l join atsmail.messages m on m.id=l.message_id where m.rfc_message_id in ('o.down.13@outage.test','o.down.16@outage.test') and l.target_kind='resume'")" \
	"13:in_reply_to,16:in_reply_to"
tap_is "mail 18 answers mail 17, sent during the outage: filed by In-Reply-To, in its thread" \
	"$(q "select l.target_kind||l.target_id||':'||l.rule||':'||(t.rfc_message_id) from atsmail.message_links l join atsmail.messages m on m.id=l.message_id join atsmail.messages t on t.id=m.thread_id where m.rfc_message_id='o.down.18@outage.test' and l.target_kind='resume'")" \
	"resume1002:in_reply_to:o.down.17@outage.test"
tap_is "intake: one resume for the newcomer, made by 06, and 15 filed on it (by address, then its id)" \
	"$(q "select count(distinct a.owner_id)||':'||string_agg(regexp_replace(m.rfc_message_id, '^o\.down\.([0-9]+)@.*', '\1')||':'||l.rule, ',' order by m.rfc_message_id) from atsmail.addresses a join atsmail.message_links l on l.target_kind='resume' and l.target_id=a.owner_id join atsmail.messages m on m.id=l.message_id where a.addr_norm='$NEW'")" \
	"1:06:intake,15:sender_address"
tap_is "intake: an unresolved item for 07" \
	"$(q "select count(*) from atsmail.unresolved_items u join atsmail.messages m on m.id=u.message_id where m.rfc_message_id='o.down.07@outage.test'")" "1"
tap_is "bounce: the sent item's recipient marked bounced (5.1.1)" \
	"$(q "select r.status||':'||coalesce(r.status_code,'') from atsmail.message_recipients r join atsmail.messages m on m.id=r.message_id where m.rfc_message_id='o.down.12@outage.test'")" "bounced:5.1.1"
tap_is "auto-reply 14: marked, no phase change" \
	"$(q "select m.is_auto_reply||':'||(select count(*) from atsmail.phase_history h where h.message_id=m.id) from atsmail.messages m where m.rfc_message_id='o.down.14@outage.test'")" "true:0"
tap_is "ISO-2022-JP subject of 16 decoded" "$(q "select subject from atsmail.messages where rfc_message_id='o.down.16@outage.test'")" "Re: 面接日程のご連絡"
tap_is "Sent copy: a copy row of 5001 in Sent, no new message" \
	"$(q "select (select count(*) from atsmail.message_copies where message_id=5001 and mailbox='Sent')||':'||(select count(*) from atsmail.messages where rfc_message_id='out-5001@atsmail.test')")" "1:1"
tap_is "carol's mail (11) is private" "$(q "select visibility from atsmail.messages where rfc_message_id='o.down.11@outage.test'")" "private"
tap_is "each journal key recorded once (journal_applied has no more keys than entries)" \
	"$(q "select count(*) from atsmail.journal_applied")" "$((N_JOURNALED - J0 - 1))"
DOWN_ROWS=$(dump_rows)
# a new delivery is filed live again
PH=down
deliver 23 taro@candidate.test alice@atsmail.test alice@atsmail.test alicepw \
	--header "In-Reply-To: <out-5001@atsmail.test>" --body "back"
tap_is "database back: a new delivery is recorded at once" \
	"$(wait_sql "select count(*) from atsmail.messages where rfc_message_id='o.down.23@outage.test'" "1")" "1"

# ------------------------------------------------------------ run "up"
ad_stop H
tap_ok "the recorder recorded 24 entries (23 mails and mail 23) and found mail 20's second entry a duplicate" \
	grep -q "recorder: [0-9]* batches, 24 recorded, 1 duplicates, 0 set aside" "$(ad_log H)"
psql "host=$TB_PGHOST port=$TB_PGPORT dbname=postgres user=postgres" -qAt -v ON_ERROR_STOP=1 \
	-c "DROP DATABASE $TB_DB WITH (FORCE)" -c "CREATE DATABASE $TB_DB" >/dev/null || tap_bail "cannot make the database anew"
ad_db
rm -rf "${PW:?}/journal" "${PW:?}/snapshot"
mkdir -p "$PW/journal" "$PW/snapshot"
ad_start H
PH=up
SEEN=
add_nobody
mid_run() { :; }
deliver_20() {
	deliver 20 taro@candidate.test alice@atsmail.test alice@atsmail.test alicepw \
		--header "In-Reply-To: <out-5001@atsmail.test>" --header "Subject: Re: once more" --body "Retried."
}
run_mails
# Mail 15 is the second mail of a newcomer whose resume mail 06 made.
# With the database up that resume is in PostgreSQL, and so in the
# snapshot, by then; during the outage it was in the snapshot as the
# resume in the making of the newcomer's address (id 0).  Either way 15 is
# filed on it ($ATS, rule sender_address) and, being an answer, fires 9001
# (new -> active): the same keywords and the same rows.
tap_is "database up: every mail delivered with the same keywords as during the outage" \
	"$SEEN" "$DOWN_SEEN"
tap_ok "database up: the recorder drains the journal" journal_drained
UP_ROWS=$(dump_rows)
tap_ok "database up: the run's rows ($(printf '%s\n' "$UP_ROWS" | wc -l) lines) are those of the outage run" \
	diff <(printf '%s\n' "$DOWN_ROWS") <(printf '%s\n' "$UP_ROWS")
tap_is "database up: the newcomer's resume, made by 06, is active (9001 by 15)" \
	"$(printf '%s\n' "$UP_ROWS" | grep "^newrecord|$NEW|" | cut -d'|' -f5)|$(printf '%s\n' "$DOWN_ROWS" | grep "^newrecord|$NEW|" | cut -d'|' -f5)" "active|active"
tap_done
