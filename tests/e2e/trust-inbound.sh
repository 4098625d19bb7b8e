#!/bin/bash
# tests/e2e/trust-inbound.sh -- the sender's evidence end to end (issue 10
# items 1, 2 and the APPEND half of 3): mail through the test bed's
# Postfix -> LMTP / IMAP -> Dovecot with the atsmail plugin -> atsmaild
# (VERP on), then the IMAP keywords and the database.
#
#   1. a stranger's In-Reply-To into carol's private thread files nothing
#      on that record and moves no phase; a known candidate doing the same
#      is filed on his own record only; the candidate of the thread is
#      filed and moves it (the control: the same mail from him counts); a
#      candidate copied on a mail answers it and is filed on the thread's
#      record and on her own; a reused Message-ID is not a second copy
#   2. a forged bounce -- a well-formed RFC 3464 report to the VERP
#      address the recipient's copy shows, from a non-null envelope
#      sender -- marks nothing; from the null sender but naming someone
#      the mail never went to, nothing either
#   3. a real bounce (Postfix's, null sender, to the format-2 stamp that
#      names its recipient) still marks the recipient
#   4. an IMAP APPEND of another recruiter's private message adds no copy
#      row; her own APPEND of it does, and a shared one is anyone's
set -u
: "${top_srcdir:=$(cd "$(dirname "$0")/../.." && pwd)}"
: "${top_builddir:=$top_srcdir}"
. "$top_srcdir/tests/e2e/plugin-lib.sh"

plugin_start "verp = yes"

log() { cat "$(ad_log H)"; }
sync_snapshot() {
	"$AD_CTL" -c "$PW/atsmail.conf" snapshot sync >"$PW/sync.log" 2>&1 ||
		tap_bail "snapshot sync failed: $(cat "$PW/sync.log")"
}
links_of() {   # links_of MSGID(without <>) : kind:id:rule,... of its 'in' message
	tb_psql -c "select coalesce(string_agg(l.target_kind||':'||l.target_id||':'||l.rule, ',' order by l.target_kind, l.target_id), '') from atsmail.message_links l join atsmail.messages m on m.id=l.message_id where m.direction='in' and m.rfc_message_id='$1'"
}
submit() {     # submit USER PW TO MSGID SUBJECT
	swaks --server 127.0.0.1 --port "$TB_SUBMISSION_PORT" --auth PLAIN --auth-user "$1" \
		--auth-password "$2" --from "$1" --to "$3" --header "Message-Id: $4" \
		--header "Subject: $5" --body "Hello." >>"$PW/swaks.log" 2>&1
}

# ---------------------------------------------------------------- 1. threads
# carol (private mode) wrote to saburo (resume 1006, not shared): a
# private sent item, as the milter records one
PRIV=private-5901.$RUN@atsmail.test
tb_psql >/dev/null <<SQL || tap_bail "cannot add carol's private message"
INSERT INTO atsmail.messages (direction, rfc_message_id, owner_id, counterparts, subject, sent_at,
	visibility, visibility_reason, idempotency_key)
VALUES ('out', '$PRIV', 3, '{saburo@candidate.test}', 'Private offer', now(), 'private',
	'sender mode private', 'trust-$RUN-private');
INSERT INTO atsmail.message_recipients (message_id, address, kind)
	SELECT id, 'saburo@candidate.test', 'to' FROM atsmail.messages WHERE rfc_message_id = '$PRIV';
INSERT INTO atsmail.message_links (message_id, target_kind, target_id, rule, ambiguous)
	SELECT id, 'resume', 1006, 'recipient_address', false FROM atsmail.messages
	WHERE rfc_message_id = '$PRIV';
SQL
sync_snapshot

M=$(mid stranger)
mx mallory@evil.example carol@atsmail.test --header "Message-Id: $M" \
	--header "In-Reply-To: <$PRIV>" --header "Subject: Re: Private offer" --body "I know your thread."
F=$(flags_of carol@atsmail.test carolpw "$M")
tap_is "stranger's In-Reply-To into a private thread: delivered without keyword" \
	"$(imap carol@atsmail.test carolpw find "$M" >/dev/null && echo delivered)|$F" "delivered|"
tap_ok "stranger: atsmaild says why the reference was ignored" \
	grep -q "In-Reply-To <$PRIV> ignored: the sender mallory@evil.example takes no part in that thread" \
	"$(ad_log H)"

# a known candidate (jiro, resume 1003) sets the same In-Reply-To
MJ=$(mid jiro)
mx jiro@candidate.test carol@atsmail.test --header "Message-Id: $MJ" \
	--header "In-Reply-To: <$PRIV>" --header "Subject: Re: Private offer" --body "Me too."
F=$(flags_of carol@atsmail.test carolpw "$MJ")
tap_ok "known candidate in a foreign thread: filed (\$ATS, flags: $F)" has "$F" '$ATS'
tap_is "known candidate in a foreign thread: linked to his own resume only, by his address" \
	"$(wait_sql "select count(*) from atsmail.messages where rfc_message_id='$(strip "$MJ")'" "1" >/dev/null; links_of "$(strip "$MJ")")" \
	"resume:1003:sender_address"
tap_is "known candidate in a foreign thread: not in carol's thread" \
	"$(tb_psql -c "select coalesce(m.thread_id, 0) <> p.id from atsmail.messages m, atsmail.messages p where m.rfc_message_id='$(strip "$MJ")' and p.rfc_message_id='$PRIV'")" "t"

# the record of the thread: nothing filed on it, no phase moved (after
# the recorder has caught up with both mails above)
journal_drained || tap_bail "the journal did not drain"
tap_is "stranger: no message recorded for his mail" \
	"$(tb_psql -c "select count(*) from atsmail.messages where rfc_message_id='$(strip "$M")'")" "0"
tap_is "private thread's resume 1006: no mail of this run filed on it, still new, no history" \
	"$(tb_psql -c "select (select count(*) from atsmail.message_links l join atsmail.messages m on m.id=l.message_id where m.direction='in' and l.target_kind='resume' and l.target_id=1006)||':'||(select phase from atsmail.resumes where id=1006)||':'||(select count(*) from atsmail.phase_history where kind='resume' and record_id=1006)")" \
	"0:new:0"

# the control: the candidate of the thread answers it, and it counts
MS=$(mid saburo)
mx saburo@candidate.test carol@atsmail.test --header "Message-Id: $MS" \
	--header "In-Reply-To: <$PRIV>" --header "Subject: Re: Private offer" --body "Yes."
F=$(flags_of carol@atsmail.test carolpw "$MS")
tap_ok "the thread's candidate: filed (\$ATS, flags: $F)" has "$F" '$ATS'
tap_is "the thread's candidate: linked to resume 1006 by in_reply_to" \
	"$(wait_sql "select count(*) from atsmail.messages where rfc_message_id='$(strip "$MS")'" "1" >/dev/null; links_of "$(strip "$MS")")" \
	"resume:1006:in_reply_to"
tap_is "the thread's candidate: resume 1006 new -> active by the reply rule" \
	"$(wait_sql "select phase from atsmail.resumes where id=1006" "active")" "active"

# the author's own record: alice wrote to taro (resume 1001) copying hanako
# (resume 1002); hanako answers in that thread -- filed on taro's record by
# the thread, and on her own by her address
CC=cc-5902.$RUN@atsmail.test
tb_psql >/dev/null <<SQL || tap_bail "cannot add alice's mail with a Cc"
INSERT INTO atsmail.messages (direction, rfc_message_id, owner_id, counterparts, subject, sent_at,
	visibility, visibility_reason, idempotency_key)
VALUES ('out', '$CC', 1, '{taro@candidate.test,hanako@candidate.test}', 'Joint interview', now(),
	'shared', 'sender mode public', 'trust-$RUN-cc');
INSERT INTO atsmail.message_recipients (message_id, address, kind)
	SELECT id, a, k FROM atsmail.messages, (VALUES ('taro@candidate.test', 'to'),
	('hanako@candidate.test', 'cc')) v(a, k) WHERE rfc_message_id = '$CC';
INSERT INTO atsmail.message_links (message_id, target_kind, target_id, rule, ambiguous)
	SELECT id, 'resume', 1001, 'recipient_address', false FROM atsmail.messages
	WHERE rfc_message_id = '$CC';
SQL
sync_snapshot
MA=$(mid author)
mx hanako@candidate.test alice@atsmail.test --header "Message-Id: $MA" \
	--header "In-Reply-To: <$CC>" --header "Subject: Re: Joint interview" --body "Fine by me."
F=$(flags_of alice@atsmail.test alicepw "$MA")
tap_ok "a copied candidate answers the thread: filed (\$ATS, flags: $F)" has "$F" '$ATS'
tap_is "a copied candidate's reply: on the thread's resume 1001 and on her own resume 1002" \
	"$(wait_sql "select count(*) from atsmail.messages where rfc_message_id='$(strip "$MA")'" "1" >/dev/null; links_of "$(strip "$MA")")" \
	"resume:1001:in_reply_to,resume:1002:sender_address"

# a known candidate (jiro) reuses the Message-ID of saburo's reply in a
# mail to bob: not a second copy of it (no copy row, no link of his on
# carol's private mail)
MD=$(mid dup)
mx jiro@candidate.test bob@atsmail.test --header "Message-Id: $MS" \
	--header "Subject: Re: Private offer" --body "Same id." --header "X-Run: $MD"
UIDS=$(imap -w 15 bob@atsmail.test bobpw search "HEADER X-Run \"$MD\"" 2>/dev/null)
F=$(imap bob@atsmail.test bobpw flags "uid:${UIDS%% *}" 2>&1)
tap_is "another's mail with the Message-ID of a recorded reply: delivered without keyword" \
	"${UIDS:+delivered}|$F" "delivered|"
journal_drained || tap_bail "the journal did not drain"
tap_is "that mail adds no copy row for bob and no link to jiro's resume on carol's private reply" \
	"$(tb_psql -c "select (select count(*) from atsmail.message_copies c join atsmail.messages m on m.id=c.message_id where m.rfc_message_id='$(strip "$MS")' and c.user_id=2)||':'||(select coalesce(string_agg(l.target_kind||l.target_id, ','), '') from atsmail.message_links l join atsmail.messages m on m.id=l.message_id where m.rfc_message_id='$(strip "$MS")')")" \
	"0:resume1006"

# --------------------------------------------------------------- 2. bounces
# a bounce rule for resumes (the seed has one for contacts only), so that
# a bounce believed wrongly would move taro's resume 1001
tb_psql >/dev/null <<SQL || tap_bail "cannot add the resume bounce rule"
INSERT INTO atsmail.phase_rules (kind, event, from_phase, to_phase, active, priority)
VALUES ('resume', 'bounce', NULL, 'inactive', true, 0);
SQL
sync_snapshot
# alice writes to taro (a mailbox of the test bed): one recipient outside
# the company, so the VERP stamp names him
FB=$(mid offer)
submit alice@atsmail.test alicepw taro@candidate.test "$FB" "Offer"
RP=$(imap -w 20 taro@candidate.test taropw header "$FB" Return-Path 2>&1)
STAMP=${RP#<}
STAMP=${STAMP%>}
tap_ok "the copy taro received shows a format-2 VERP stamp ($STAMP)" \
	grep -Eq '^alice\+ats-a[a-z2-7]{37}-[a-z2-7]{8}@atsmail\.test$' <<<"$STAMP"
tap_is "the sent item is recorded, its recipient pending" \
	"$(wait_sql "select r.status from atsmail.message_recipients r join atsmail.messages m on m.id=r.message_id where m.direction='out' and m.rfc_message_id='$(strip "$FB")' and r.address='taro@candidate.test'" "pending")" \
	"pending"

# dsn FILE MSGID FAILED : a well-formed RFC 3464 report of the offer
dsn() {
	cat >"$1" <<EOF
From: Mail Delivery System <MAILER-DAEMON@mx.evil.example>
To: $STAMP
Subject: Undelivered Mail Returned to Sender
Message-Id: $2
Date: $(date -R)
Auto-Submitted: auto-replied
MIME-Version: 1.0
Content-Type: multipart/report; report-type=delivery-status; boundary="b-$RUN"

--b-$RUN
Content-Type: text/plain

I'm sorry to have to inform you that your message could not be delivered.

--b-$RUN
Content-Type: message/delivery-status

Reporting-MTA: dns; mx.candidate.test

Final-Recipient: rfc822; $3
Action: failed
Status: 5.1.1
Diagnostic-Code: smtp; 550 5.1.1 <$3>: Recipient address rejected: User unknown

--b-$RUN
Content-Type: text/rfc822-headers

From: alice@atsmail.test
To: $3
Subject: Offer
Message-Id: $FB

--b-$RUN--
EOF
}

# from a non-null envelope sender, naming the real recipient
MF=$(mid forged)
dsn "$PW/forged.eml" "$MF" taro@candidate.test
swaks --server 127.0.0.1 --port "$TB_SMTP_PORT" --from mallory@evil.example --to "$STAMP" \
	--data "$PW/forged.eml" >>"$PW/swaks.log" 2>&1
F=$(flags_of alice@atsmail.test alicepw "$MF")
tap_is "forged bounce (non-null envelope sender): delivered to alice without keyword" \
	"$(imap alice@atsmail.test alicepw find "$MF" >/dev/null && echo delivered)|$F" "delivered|"
tap_ok "forged bounce: atsmaild says it is not believed" \
	grep -q "a bounce from the envelope sender mallory@evil.example: not believed" "$(ad_log H)"

# from the null sender, naming an address the offer never went to
MN=$(mid notrcpt)
dsn "$PW/notrcpt.eml" "$MN" hanako@candidate.test
swaks --server 127.0.0.1 --port "$TB_SMTP_PORT" --from '<>' --to "$STAMP" \
	--data "$PW/notrcpt.eml" >>"$PW/swaks.log" 2>&1
F=$(flags_of alice@atsmail.test alicepw "$MN")
tap_is "bounce naming no recipient of the item: delivered without keyword" \
	"$(imap alice@atsmail.test alicepw find "$MN" >/dev/null && echo delivered)|$F" "delivered|"
tap_ok "bounce naming no recipient of the item: atsmaild says so" \
	grep -q "$MN: not ATS mail.*names no recipient it went to" "$(ad_log H)"
journal_drained || tap_bail "the journal did not drain"
tap_is "forged bounces: taro still pending, no address flagged, no bounce recorded" \
	"$(tb_psql -c "select (select string_agg(r.status, ',') from atsmail.message_recipients r join atsmail.messages m on m.id=r.message_id where m.rfc_message_id='$(strip "$FB")')||':'||(select count(*) from atsmail.address_flags where addr_norm in ('taro@candidate.test', 'hanako@candidate.test'))||':'||(select count(*) from atsmail.messages where rfc_message_id in ('$(strip "$MF")', '$(strip "$MN")'))")" \
	"pending:0:0"
tap_is "forged bounces: resume 1001 not moved" \
	"$(tb_psql -c "select count(*) from atsmail.phase_history where kind='resume' and record_id=1001 and cause='bounce'")" "0"

# ---------------------------------------------------------- 3. a real bounce
tb_psql >/dev/null <<SQL || tap_bail "cannot add the resume of the bounce"
WITH r AS (INSERT INTO atsmail.resumes (name, phase, shared) VALUES ('Ghost', 'new', true) RETURNING id)
INSERT INTO atsmail.addresses (owner_kind, owner_id, addr_norm, is_primary)
	SELECT 'resume', id, 'ghost.$RUN@candidate.test', true FROM r;
SQL
sync_snapshot
BM=$(mid bounced)
submit alice@atsmail.test alicepw "ghost.$RUN@candidate.test" "$BM" "Offer to a ghost"
UIDS=$(imap -w 20 alice@atsmail.test alicepw search "TEXT \"$(strip "$BM")\"" 2>/dev/null)
F=$(imap alice@atsmail.test alicepw flags "uid:${UIDS%% *}" 2>&1)
tap_ok "real bounce (null sender, to the stamp naming its recipient): \$ATSBounce (flags: $F)" \
	has "$F" '$ATSBounce'
tap_is "real bounce: the recipient is marked bounced (5.1.1) and flagged" \
	"$(wait_sql "select r.status||':'||coalesce(r.status_code,'')||':'||(select count(*) from atsmail.address_flags f where f.addr_norm=r.address) from atsmail.message_recipients r join atsmail.messages m on m.id=r.message_id where m.rfc_message_id='$(strip "$BM")'" "bounced:5.1.1:1")" \
	"bounced:5.1.1:1"
tap_is "real bounce: the ghost's resume moved by the bounce rule (new -> inactive)" \
	"$(wait_sql "select h.from_phase||'->'||h.to_phase||':'||h.cause from atsmail.phase_history h join atsmail.addresses a on a.owner_kind='resume' and a.owner_id=h.record_id where h.kind='resume' and a.addr_norm='ghost.$RUN@candidate.test'" "new->inactive:bounce")" \
	"new->inactive:bounce"

# ---------------------------------------------------------------- 4. APPEND
sent_copy() {  # sent_copy USER PW MSGID : appends a Sent copy, prints its flags
	imap "$1" "$2" create Sent >/dev/null 2>&1
	printf 'From: carol@atsmail.test\r\nTo: saburo@candidate.test\r\nSubject: Private offer\r\nMessage-Id: <%s>\r\nDate: %s\r\n\r\nOffer.\r\n' \
		"$3" "$(date -R)" >"$PW/append.eml"
	local uid
	uid=$(imap "$1" "$2" append Sent "$PW/append.eml" 2>&1)
	imap -m Sent "$1" "$2" flags "uid:$uid" 2>&1
}
copies() {     # copies MSGID LOGIN : copy rows of that user on the message
	tb_psql -c "select count(*) from atsmail.message_copies c join atsmail.messages m on m.id=c.message_id join atsmail.users u on u.id=c.user_id where m.rfc_message_id='$1' and u.login='$2'"
}
F=$(sent_copy bob@atsmail.test bobpw "$PRIV")
tap_is "APPEND of carol's private message by bob: no keyword" "$F" ""
tap_ok "APPEND by bob: atsmaild says bob may not read it" \
	grep -q "which bob@atsmail.test may not read (private, owner 3): no copy row" "$(ad_log H)"
F=$(sent_copy carol@atsmail.test carolpw "$PRIV")
tap_ok "APPEND of her own private message by carol: \$ATSSent (flags: $F)" has "$F" '$ATSSent'
tap_is "carol's APPEND adds her copy row" \
	"$(wait_sql "select count(*) from atsmail.message_copies c join atsmail.messages m on m.id=c.message_id join atsmail.users u on u.id=c.user_id where m.rfc_message_id='$PRIV' and u.login='carol@atsmail.test'" "1")" "1"
F=$(sent_copy bob@atsmail.test bobpw out-5001@atsmail.test)
tap_ok "APPEND of alice's shared message by bob: \$ATSSent (flags: $F)" has "$F" '$ATSSent'
journal_drained || tap_bail "the journal did not drain"
tap_is "bob's APPENDs: no copy row of carol's private message, one of the shared one" \
	"$(copies "$PRIV" bob@atsmail.test):$(copies out-5001@atsmail.test bob@atsmail.test)" "0:1"

tap_is "no journal entry set aside" "$(cat "$PW/journal/atsmaild.rejected.jsonl" 2>/dev/null | wc -l)" "0"
tap_done
