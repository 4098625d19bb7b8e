#!/bin/bash
# tests/e2e/atsmaild-restart.sh -- atsmaild stopped, killed and started
# again, with PostgreSQL up or down.  Shown:
#   1. the snapshot survives a restart: a resume imported while atsmaild
#      runs is still known after a restart made while PostgreSQL is down
#      (so no resync can have run): mail to it is ATS mail, tagged and
#      journaled; the guard and malformed commands are refused as always;
#      the candidate's reply is filed from the snapshot; once PostgreSQL
#      is back, each is recorded once;
#   2. an empty snapshot with PostgreSQL down: ATS mail is answered
#      451 4.3.0 and a reply is deferred (LMTP 451), with a log line that
#      says why; once PostgreSQL is back both go through, recorded once;
#   3. SIGTERM while mail flows (submit-flow.py, 4 clients): every mail
#      accepted before the stop is recorded after the next start, none
#      that was refused is recorded, the stop is orderly;
#   4. SIGKILL while mail flows: every accepted mail is recorded after the
#      next start; the refused ones, sent again by their client, are then
#      recorded once too (a mail journaled just before the kill, whose
#      answer never left, is not recorded twice);
#   5. the journal of an atsmaild stopped while PostgreSQL is down is
#      recorded by the next start, not before, and exactly once; started
#      again before PostgreSQL is back, it files a reply to one of those
#      journaled mails by In-Reply-To (their effects on the snapshot
#      survived the restart);
#   6. a second atsmaild on the same journal and snapshot (sockets of its
#      own) is refused -- the journal is locked -- and leaves the running
#      one alone: its snapshot's open-boot.<pid> marker stays, it still serves.
set -u
: "${top_srcdir:=$(cd "$(dirname "$0")/../.." && pwd)}"
: "${top_builddir:=$top_srcdir}"
. "$top_srcdir/tests/e2e/e2e-lib.sh"
. "$top_srcdir/tests/e2e/atsmaild-lib.sh"
. "$top_srcdir/tests/e2e/atsmaild-mail-lib.sh"

PROBE=$top_builddir/tests/e2e/snapshot-probe
FLOW=$top_srcdir/tests/e2e/submit-flow.py
TESTBED=$top_srcdir/tests/testbed/testbed.sh
ATS=ats.atsmail.test

[ "$(id -u)" = 0 ] || tap_skip_all "the test bed needs root"
command -v swaks >/dev/null || tap_skip_all "swaks is not installed"
[ -x "$PROBE" ] || tap_bail "$PROBE is not built (make check builds it)"
[ -f "$AD_PLUGIN_SO" ] || tap_skip_all "the Dovecot plugin is not built"

ad_prepare R
ad_wire R
tb_start pg postfix dovecot
trap ad_cleanup EXIT
AM_LOG=$TB_DIR/swaks.log
ad_db
ad_conf R
ad_start R
LOG=$(ad_log R)
W=$TB_DIR/restart
mkdir -p "$W"

pg_stop() { "$TESTBED" pg-stop "$TB_DIR" >/dev/null 2>&1 || tap_bail "pg-stop failed"; }
pg_start() { "$TESTBED" pg-start "$TB_DIR" >/dev/null 2>&1 || tap_bail "pg-start failed"; }
# start without waiting for the snapshot (it may never have been loaded)
start_unready() {
	local d=$AD_R
	rm -f "$d/atsmaild.pid"
	setsid "$ATSMAILD" -f -c "$d/atsmail.conf" -P "$d/atsmaild.pid" \
		</dev/null >>"$d/atsmaild.log" 2>&1 &
	for _ in $(seq 1 100); do [ -s "$d/atsmaild.pid" ] && [ -S "$d/filing.sock" ] && break; sleep 0.05; done
	[ -s "$d/atsmaild.pid" ] || tap_bail "atsmaild did not start: $(tail -5 "$d/atsmaild.log")"
}
# wait until atsmaild (pid) is gone
wait_gone() {
	for _ in $(seq 1 300); do kill -0 "$1" 2>/dev/null || return 0; sleep 0.05; done
	return 1
}
# the bytes of the journal not yet recorded (after the checkpoint)
journal_pending() {
	python3 - "$AD_R/journal" <<'PY'
import glob, os, sys
d = sys.argv[1]
segs = sorted(s for s in glob.glob(os.path.join(d, "atsmaild.*.jsonl")) if "rejected" not in s)
try:
    seq, off = open(os.path.join(d, "atsmaild.checkpoint")).read().split()
    seq, off = int(seq, 16), int(off)
except (OSError, ValueError):
    seq, off = 0, 0
n = 0
for s in segs:
    num = int(os.path.basename(s).split(".")[1], 16)
    size = os.path.getsize(s)
    if num > seq:
        n += size
    elif num == seq:
        n += max(0, size - off)
print(n)
PY
}
# journal_lines MSGID...: how many entries of the journal name these Message-IDs
journal_lines() {
	local m n=0
	for m in "$@"; do
		n=$((n + $(cat "$AD_R"/journal/atsmaild.*.jsonl 2>/dev/null | grep -c "$(am_bare "$m")")))
	done
	echo "$n"
}
in_db() {  # in_db MSGID...: how many of them are recorded
	local list="" m
	for m in "$@"; do list="$list,'$(am_bare "$m")'"; done
	am_sql "select count(*) from atsmail.messages where rfc_message_id in (${list#,})"
}

# ---- 1. the snapshot survives a restart made while PostgreSQL is down ------------------
NEW=later.$AM_RUN@candidate.test
"$TESTBED" adduser "$TB_DIR" "$NEW" "$(am_pw "$NEW")" >/dev/null || tap_bail "cannot add $NEW"
out=$("$PROBE" -t 5000 -d "$TB_PG_ADMIN" -s "
	WITH r AS (INSERT INTO atsmail.resumes (name, phase, shared) VALUES ('Later', 'new', true) RETURNING id)
	INSERT INTO atsmail.addresses (owner_kind, owner_id, addr_norm, is_primary)
	SELECT 'resume', id, '$NEW', true FROM r" "addr:$NEW" "$AD_R/snapshot" 2>&1)
tap_ok "a resume imported while atsmaild runs reaches its snapshot (${out#* })" \
	sh -c "printf '%s' '$out' | grep -q ' found '"
NEWID=$(am_sql "select owner_id from atsmail.addresses where addr_norm = '$NEW'")
ad_stop R
tap_ok "stopped: the snapshot on disk says it was loaded (atsmailctl snapshot status)" \
	"$AD_CTL" -c "$AD_R/atsmail.conf" snapshot status
pg_stop
n0=$(grep -c "snapshot: full resync" "$LOG")
ad_start R
tap_pass "started with PostgreSQL down: ready at once, from the snapshot it had"

M1=$(am_mid later) R1=$(am_mid later-reply)
reply=$(am_submit "$TB_SUBMISSION_PORT" alice@atsmail.test alice@atsmail.test "$NEW" \
	--header "Message-Id: $M1" --header "Subject: Hello" --body "Hello.")
tap_is "PostgreSQL down, after the restart: mail to the imported resume is accepted" "${reply%% *}" 250
ref=$(am_imap -w 15 "$TB_IMAP_PORT" "$NEW" header "$M1" X-ATS-Ref 2>&1)
tap_ok "... it is ATS mail: tagged X-ATS-Ref ($ref)" sh -c "printf '%s' '$ref' | grep -Eq '^a[a-z2-7]{37}\$'"
tap_is "... and journaled" "$(journal_lines "$M1")" 1
G1=$(am_mid guard)
reply=$(am_submit "$TB_SUBMISSION_PORT" alice@atsmail.test alice@atsmail.test \
	"taro@candidate.test,hanako@candidate.test" --header "To: taro@candidate.test, hanako@candidate.test" \
	--header "Message-Id: $G1" --header "Subject: Both" --body "Hello both.")
tap_is "... the guard holds: two candidates shown to each other -> 550 5.7.1" \
	"$(echo "$reply" | cut -d' ' -f1-2)" "550 5.7.1"
G2=$(am_mid badcmd)
reply=$(am_submit "$TB_SUBMISSION_PORT" alice@atsmail.test alice@atsmail.test \
	"taro@candidate.test,ats+frobnicate@$ATS" --header "To: taro@candidate.test" \
	--header "Message-Id: $G2" --header "Subject: Cmd" --body "Hello.")
tap_is "... an unknown command -> 550 5.7.1" "$(echo "$reply" | cut -d' ' -f1-2)" "550 5.7.1"
G3=$(am_mid jobs)
reply=$(am_submit "$TB_SUBMISSION_PORT" alice@atsmail.test alice@atsmail.test \
	"taro@candidate.test,ats+job.$(seq -s. 3001 3021)@$ATS" --header "To: taro@candidate.test" \
	--header "Message-Id: $G3" --header "Subject: Jobs" --body "Hello.")
tap_is "... 21 jobs in one command -> 550 5.7.1" "$(echo "$reply" | cut -d' ' -f1-2)" "550 5.7.1"
reply=$(am_mx "$TB_SMTP_PORT" "$NEW" alice@atsmail.test --header "Message-Id: $R1" \
	--header "In-Reply-To: $M1" --header "Subject: Re: Hello" --body "Thanks.")
flags=$(am_imap -w 15 "$TB_IMAP_PORT" alice@atsmail.test flags "$R1" 2>&1)
tap_ok "... the reply is filed from the snapshot (\$ATS; flags: $flags)" \
	sh -c "case ' $flags ' in *' \$ATS '*) exit 0;; esac; exit 1"
tap_is "... no full resync has run since the restart" "$(grep -c "snapshot: full resync" "$LOG")" "$n0"
pg_start
tap_is "PostgreSQL back: the sent mail is recorded once, linked to the imported resume" \
	"$(am_wait_sql "select count(*)||':'||string_agg(l.target_kind||':'||l.target_id, ',') from atsmail.messages m
	     join atsmail.message_links l on l.message_id = m.id where m.rfc_message_id = '$(am_bare "$M1")'" \
	     "1:resume:$NEWID")" "1:resume:$NEWID"
tap_is "... the reply once, linked to it by In-Reply-To" \
	"$(am_wait_sql "select count(*)||':'||string_agg(l.target_kind||':'||l.target_id||':'||l.rule, ',')
	     from atsmail.messages m join atsmail.message_links l on l.message_id = m.id
	     where m.rfc_message_id = '$(am_bare "$R1")'" "1:resume:$NEWID:in_reply_to")" \
	"1:resume:$NEWID:in_reply_to"
tap_is "... the refused ones are not recorded" "$(in_db "$G1" "$G2" "$G3")" 0

# ---- 2. an empty snapshot with PostgreSQL down ------------------------------------------
ad_stop R
pg_stop
mv "$AD_R/snapshot" "$W/snapshot.before"
mkdir -m 700 "$AD_R/snapshot"
start_unready
tap_ok "a new snapshot is empty: atsmailctl snapshot status says not loaded" \
	sh -c "! '$AD_CTL' -c '$AD_R/atsmail.conf' snapshot status >/dev/null 2>&1"
M2=$(am_mid empty) R2=$(am_mid empty-reply)
reply=$(am_submit "$TB_SUBMISSION_PORT" alice@atsmail.test alice@atsmail.test taro@candidate.test \
	--header "Message-Id: $M2" --header "Subject: Interview" --body "Hello.")
tap_is "empty snapshot, PostgreSQL down: ATS mail is answered 451 4.3.0 ($reply)" \
	"$(echo "$reply" | cut -d' ' -f1-2)" "451 4.3.0"
tap_ok "... atsmaild logs why (the snapshot has not been loaded yet)" \
	grep -q "the snapshot has not been loaded from the database yet: mail tempfailed" "$LOG"
from=$(wc -l <"$TB_MAILLOG")
reply=$(am_mx "$TB_SMTP_PORT" taro@candidate.test alice@atsmail.test --header "Message-Id: $R2" \
	--header "In-Reply-To: <out-5001@atsmail.test>" --header "Subject: Re: Interview" --body "Thanks.")
tap_ok "... a reply is deferred by Postfix (LMTP 451 4.2.0)" sh -c "for i in \$(seq 1 150); do
	tail -n +$((from + 1)) '$TB_MAILLOG' | grep -q 'status=deferred.*451 4.2.0' && exit 0; sleep 0.1; done; exit 1"
tap_ok "... atsmaild logs why" grep -q "$(am_bare "$R2")>: atsmaild has not loaded its snapshot from the database yet" "$LOG"
pg_start
tap_ok "PostgreSQL back: the snapshot is loaded" ad_ready R
reply=$(am_submit "$TB_SUBMISSION_PORT" alice@atsmail.test alice@atsmail.test taro@candidate.test \
	--header "Message-Id: $M2" --header "Subject: Interview" --body "Hello.")
tap_is "... the client's retry is accepted" "${reply%% *}" 250
postqueue -c "$TB_POSTFIX_CONF" -f
tap_ok "... the deferred reply is delivered" am_imap -w 15 "$TB_IMAP_PORT" alice@atsmail.test find "$R2"
tap_is "... both are recorded once" "$(am_wait_sql "select count(*) from atsmail.messages
	where rfc_message_id in ('$(am_bare "$M2")', '$(am_bare "$R2")')" 2)" 2
rm -rf "$W/snapshot.before"

# ---- 3 and 4. SIGTERM / SIGKILL while mail flows ----------------------------------------
# flow_stop TAG SIGNAL: 80 mails over 4 clients; the signal once 10 of
# them are journaled; the flow runs on to its end; sets ACC and REF
# (accepted and refused Message-IDs)
flow_stop() {
	local tag=$1 sig=$2 pid n0 t0 out=$W/flow-$1
	pid=$(ad_pid R)
	n0=$(grep -c "journaled: user=alice" "$LOG")
	python3 "$FLOW" "$TB_SUBMISSION_PORT" alice@atsmail.test alicepw taro@candidate.test \
		"flow-$tag.$AM_RUN" 80 4 0.02 >"$out" 2>"$out.err" &
	local fpid=$!
	for _ in $(seq 1 300); do
		[ "$(grep -c "journaled: user=alice" "$LOG")" -ge $((n0 + 10)) ] && break
		sleep 0.02
	done
	t0=$(date +%s%N)
	kill "-$sig" "$pid"
	wait_gone "$pid" || tap_fail "$tag: atsmaild is gone after SIG$sig"
	tap_diag "$tag: atsmaild was gone $((($(date +%s%N) - t0) / 1000000)) ms after the signal"
	wait "$fpid"
	ACC=$(awk '$2 == 250 { print $1 }' "$out")
	REF=$(awk '$2 != 250 { print $1 }' "$out")
	tap_ok "$tag: the signal came while mail flowed ($(echo $ACC | wc -w) accepted before, $(echo $REF | wc -w) refused after, of $(wc -l <"$out"))" \
		sh -c "[ -n '$ACC' ] && [ -n '$REF' ] && [ \$(wc -l <'$out') = 80 ]"
}

flow_stop SIGTERM TERM
tap_is "SIGTERM: the stop was orderly (the log ends with 'stopped')" "$(tail -1 "$LOG" | sed 's/.*: //')" stopped
rm -f "$AD_R/atsmaild.pid"
ad_start R
tap_is "SIGTERM: after the next start, every accepted mail is recorded" \
	"$(am_wait_sql "select count(*) from atsmail.messages where rfc_message_id in
	     ($(for m in $ACC; do printf "'%s'," "$(am_bare "$m")"; done | sed 's/,$//'))" "$(echo $ACC | wc -w)")" \
	"$(echo $ACC | wc -w)"
tap_is "SIGTERM: none of the refused ones is recorded" "$(in_db $REF)" 0

flow_stop SIGKILL KILL
ad_start R
tap_is "SIGKILL: after the next start, every accepted mail is recorded" \
	"$(am_wait_sql "select count(*) from atsmail.messages where rfc_message_id in
	     ($(for m in $ACC; do printf "'%s'," "$(am_bare "$m")"; done | sed 's/,$//'))" "$(echo $ACC | wc -w)")" \
	"$(echo $ACC | wc -w)"
GHOSTS=$(for m in $REF; do [ "$(in_db "$m")" = 1 ] && echo "$m"; done)
tap_diag "SIGKILL: $(echo $GHOSTS | wc -w) refused mail(s) journaled before the kill and recorded although their answer never left"
# the clients send the refused ones again (same Message-ID)
for m in $REF; do
	printf 'From: alice@atsmail.test\nTo: taro@candidate.test\nSubject: Flow %s\nMessage-Id: %s\n\nAbout the position.\n' \
		"$m" "$m" >"$W/again"
	reply=$(am_submit "$TB_SUBMISSION_PORT" alice@atsmail.test alice@atsmail.test taro@candidate.test \
		--data "@$W/again")
	[ "${reply%% *}" = 250 ] || tap_fail "SIGKILL: the retry of $m is accepted" "$reply"
done
tap_is "SIGKILL: the refused ones, sent again, are recorded once each" \
	"$(am_wait_sql "select count(*) from atsmail.messages where rfc_message_id like 'flow-SIGKILL.$AM_RUN.%'" 80)" 80
# A mail journaled before the kill keeps the token of that first attempt;
# the copy its client's retry delivered carries the retry's token.
for m in $GHOSTS; do
	rec=$(am_sql "select token from atsmail.messages where rfc_message_id = '$(am_bare "$m")'")
	got=$(am_imap -w 15 "$TB_IMAP_PORT" taro@candidate.test header "$m" X-ATS-Ref 2>&1)
	[ "$rec" = "$got" ] || tap_diag "SIGKILL: $m: recorded token $rec, delivered X-ATS-Ref $got"
done
tap_is "SIGKILL: no entry was set aside" "$(cat "$AD_R"/journal/atsmaild.rejected.jsonl 2>/dev/null | wc -l)" 0

# ---- 5. the journal of a stopped atsmaild is recorded by the next start ----------------
pg_stop
MS=()
for i in 1 2 3 4 5; do
	m=$(am_mid "offline-$i")
	MS+=("$m")
	reply=$(am_submit "$TB_SUBMISSION_PORT" alice@atsmail.test alice@atsmail.test taro@candidate.test \
		--header "Message-Id: $m" --header "Subject: Offline $i" --body "Hello.")
	[ "${reply%% *}" = 250 ] || tap_fail "PostgreSQL down: mail $i is accepted" "$reply"
done
tap_is "PostgreSQL down: 5 mails accepted and journaled" "$(journal_lines "${MS[@]}")" 5
ad_stop R
tap_is "atsmaild stopped (orderly) with them in its journal" "$(tail -1 "$LOG" | sed 's/.*: //')" stopped
tap_ok "... the journal holds them after the checkpoint ($(journal_pending) bytes)" \
	test "$(journal_pending)" -gt 0
# started again, PostgreSQL still down: what those mails did to the
# snapshot (applied when they were journaled) survived the restart
ad_start R
R5=$(am_mid offline-reply)
reply=$(am_mx "$TB_SMTP_PORT" taro@candidate.test alice@atsmail.test --header "Message-Id: $R5" \
	--header "In-Reply-To: ${MS[0]}" --header "Subject: Re: Offline 1" --body "Thanks.")
flags=$(am_imap -w 15 "$TB_IMAP_PORT" alice@atsmail.test flags "$R5" 2>&1)
tap_ok "restarted, PostgreSQL still down: a reply to one of them is filed (\$ATS; flags: $flags)" \
	sh -c "case ' $flags ' in *' \$ATS '*) exit 0;; esac; exit 1"
tap_ok "... by In-Reply-To: the journaled, unrecorded mail is in the snapshot after the restart" \
	grep -q "$(am_bare "$R5")>: file for alice@atsmail.test/INBOX, .*matched by in_reply_to" "$LOG"
MS+=("$R5")
ad_stop R
pg_start
sleep 1
tap_is "PostgreSQL back, atsmaild stopped: nothing of the six is recorded" "$(in_db "${MS[@]}")" 0
ad_start R
tap_is "the next start records them, once each" \
	"$(am_wait_sql "select count(*) from atsmail.messages where rfc_message_id in
	     ($(for m in "${MS[@]}"; do printf "'%s'," "$(am_bare "$m")"; done | sed 's/,$//'))" 6)" 6
tap_is "... the reply linked to resume 1001 by In-Reply-To, in the sent mail's thread" \
	"$(am_sql "select l.target_kind||':'||l.target_id||':'||l.rule||':'||(r.thread_id = coalesce(s.thread_id, s.id))
	     from atsmail.messages r join atsmail.message_links l on l.message_id = r.id and l.target_kind = 'resume',
	     atsmail.messages s where r.rfc_message_id = '$(am_bare "$R5")' and r.direction = 'in'
	     and s.rfc_message_id = '$(am_bare "${MS[0]}")' and s.direction = 'out'")" "resume:1001:in_reply_to:true"
tap_is "... and the journal is drained (nothing after the checkpoint)" \
	"$(for _ in $(seq 1 100); do [ "$(journal_pending)" = 0 ] && break; sleep 0.1; done; journal_pending)" 0
tap_is "... their keys applied once each (journal_applied)" \
	"$(am_sql "select count(*) from atsmail.journal_applied a join atsmail.messages m
	     on m.idempotency_key = a.idempotency_key where m.rfc_message_id in
	     ($(for m in "${MS[@]}"; do printf "'%s'," "$(am_bare "$m")"; done | sed 's/,$//'))")" 6

# ---- 6. a second atsmaild on the same directories ----------------------------------------
sed -e "s|^milter_socket = .*|milter_socket = unix:$W/second-milter.sock|" \
	-e "s|^filing_socket = .*|filing_socket = unix:$W/second-filing.sock|" \
	"$AD_R/atsmail.conf" >"$W/second.conf"
# one marker per process that has the snapshot open for writing (docs/snapshot.md)
marker="$AD_R/snapshot/open-boot.$(ad_pid R)"
tap_ok "the running atsmaild's snapshot has its open-boot marker" test -s "$marker"
"$ATSMAILD" -f -c "$W/second.conf" -P "$W/second.pid" </dev/null >"$W/second.log" 2>&1
rc=$?
tap_is "a second atsmaild on the same journal and snapshot exits 73 (cannot open the journal)" "$rc" 73
tap_ok "... saying the journal is open in another process" grep -q "the journal of atsmaild is open in another process" "$W/second.log"
tap_ok "... it left the running one's open-boot marker in place" test -s "$marker"
tap_ok "... and its own sockets are gone" sh -c "[ ! -e '$W/second-milter.sock' ] && [ ! -e '$W/second-filing.sock' ]"
M6=$(am_mid second)
reply=$(am_submit "$TB_SUBMISSION_PORT" alice@atsmail.test alice@atsmail.test taro@candidate.test \
	--header "Message-Id: $M6" --header "Subject: Still here" --body "Hello.")
tap_is "... the running one still serves and records" \
	"${reply%% *}:$(am_wait_sql "select count(*) from atsmail.messages where rfc_message_id = '$(am_bare "$M6")'" 1)" "250:1"
tap_done
