#!/bin/bash
# tests/milter/run-scenarios.sh -- the miltertest scenarios of atsmaild's
# milter front (tests/milter/scenarios/*.lua, one per behaviour), against a
# test bed with PostgreSQL only.
#
# atsmaild is started with tests/e2e/atsmaild-lib.sh (migrated database,
# seeds, the service's login); miltertest connects as root, which the peer
# check allows.  Every decision scenario runs twice with the same
# expectations: once with PostgreSQL up, once with it stopped (testbed.sh
# pg-stop) -- decisions come from atsmaild's snapshot, mail is journaled
# first -- and the second pass must show the MTA the same outcome: the
# scenario's own checks, the same OUTCOME lines (reply, recipients removed,
# headers changed, removed and added, hold), the same decision lines in the
# log (verdict, reply code and sentence, commands removed, headers
# rewritten, VERP sender, hold reason; tokens masked), and the reply text of
# every rejection and the reason of every hold exactly as the first pass got
# them (miltertest compares them: -D replies).
# What a scenario cannot see from the milter protocol (rows in the
# database, the log) is checked here, as lines of their own; the database
# checks wait (bounded) for the recorder: first until every mail journaled
# in the pass is recorded, exactly once, then the scenario's own rows.  The
# mails of the down pass are recorded once PostgreSQL is back.
# Configuration changes between groups go through SIGHUP, so they exercise
# reload too.  Then what the front does that libmilter did, or that is
# new: a refused negotiation, SMFIC_QUIT_NC (tests/milter/quit-nc.py),
# ABORT, several messages on a connection, 451 when the snapshot was never
# loaded (a second atsmaild, started with PostgreSQL down and no snapshot)
# or the journal cannot be written (a third, its journal on a full tmpfs),
# a peer that is not in milter_peers, a clean stop.
# TB_KEEP=1 keeps the directories for a post-mortem.
set -u
: "${top_srcdir:=$(cd "$(dirname "$0")/../.." && pwd)}"
: "${top_builddir:=$top_srcdir}"
. "$top_srcdir/tests/e2e/e2e-lib.sh"
. "$top_srcdir/tests/e2e/atsmaild-lib.sh"

TESTBED=$top_srcdir/tests/testbed/testbed.sh
SCN=$top_srcdir/tests/milter/scenarios
command -v miltertest >/dev/null || tap_skip_all "miltertest is not installed"
command -v python3 >/dev/null || tap_skip_all "python3 is not installed"

ad_prepare M
tb_start pg
JMNT=
cleanup() {
	if [ -n "$JMNT" ]; then ad_stop J; umount "$JMNT" 2>/dev/null; fi
	ad_cleanup
}
trap cleanup EXIT
ad_db

W=$(ad_dir M)
O=$W/out
mkdir -p "$O"
RUN=$$
CONF=$W/atsmail.conf
LOG=$(ad_log M)
SOCK=unix:$W/milter.sock
PASS=up

# write_conf KEY=VALUE...: the base configuration with some settings changed
write_conf() {
	local guard=reject verp=no amax=1000 bmax=5000 kv
	for kv in "$@"; do
		case "$kv" in
		guard_action=*) guard=${kv#*=} ;;
		verp=*) verp=${kv#*=} ;;
		address_max_count=*) amax=${kv#*=} ;;
		bulk_max_recipients=*) bmax=${kv#*=} ;;
		esac
	done
	ad_conf M "internal_networks = 10.0.0.0/8" "guard_action = $guard" "verp = $verp" \
		"address_max_count = $amax" "bulk_max_recipients = $bmax"
}

# reload KEY=VALUE...: rewrite the configuration and SIGHUP; waits for the log line
reload() {
	local n
	n=$(grep -c 'configuration reloaded\|reload failed' "$LOG")
	write_conf "$@"
	kill -HUP "$(ad_pid M)"
	for _ in $(seq 1 100); do
		[ "$(grep -c 'configuration reloaded\|reload failed' "$LOG")" -gt "$n" ] && return 0
		sleep 0.05
	done
	tap_fail "reload $*" "no 'configuration reloaded' in the log"
}

# PASS: up, down (PostgreSQL stopped), back (PostgreSQL started again)
label() { echo "PostgreSQL $PASS"; }

# scenario NAME [-D k=v ...]: one TAP line; its output stays in $O/NAME.PASS.out,
# the log lines written meanwhile in $O/NAME.PASS.log
# scenario_as NAME LUA [-D ...]: the same with another name for another run
# scenario_on SOCK NAME LUA [-D ...]: against another atsmaild
scenario() { scenario_as "$1" "$@"; }
scenario_as() { scenario_on "$SOCK" "$@"; }
scenario_on() {
	local sock=$1 name=$2 lua=$3 out=$O/$2.$PASS.out mark rep=()
	shift 3
	mark=$(wc -l <"$LOG")
	[ "$PASS" = down ] && [ -s "$O/replies" ] && rep=(-D "replies=$O/replies")
	if miltertest -s "$SCN/$lua.lua" -D "sock=$sock" -D "dir=$SCN" -D "run=$RUN" \
	    -D "pass=$PASS" -D "scn=$name" "${rep[@]}" "$@" >"$out" 2>&1; then
		tap_pass "$name ($(label))"
	else
		tap_fail "$name ($(label))" "$(grep -m1 '^FAIL' "$out" || tail -n 5 "$out")
--- end of atsmaild's log:
$(tail -n 8 "$LOG")"
	fi
	tail -n +"$((mark + 1))" "$LOG" >"$O/$name.$PASS.log"
}

# token_of NAME [N]: the Nth X-ATS-Ref (default 1) a scenario printed in this pass
token_of() { awk -v n="${2:-1}" '/^TOKEN /{ if (++k == n) { print $3; exit } }' "$O/$1.$PASS.out"; }
# qid NAME N: the queue id (and Message-ID's local part) of message N of a scenario
qid() { echo "Q$RUN.$PASS.$1.$2"; }
# logged NAME PATTERN: a line of the scenario's log (this pass) matches
logged() { grep -q -- "$2" "$O/$1.$PASS.log"; }
log_ok() {  # log_ok NAME WHAT PATTERN
	if logged "$1" "$3"; then tap_pass "$1: $2 ($(label))"; else
		tap_fail "$1: $2 ($(label))" "no line matches: $3
$(grep -v 'debug: ' "$O/$1.$PASS.log" | tail -n 5)"; fi
}
reject_ok() {  # reject_ok NAME N SENTENCE-PATTERN
	log_ok "$1" "message $2 is 550 5.7.1 with the sentence" \
		"$(qid "$1" "$2"): reject 550 5.7.1: from=<[^>]*>: .*$3"
}
# sql QUERY: one value from the database (as the superuser: sees everything)
sql() { tb_psql -c "$1" 2>&1; }
# sql_wait WANT QUERY: the query's value once it is WANT, or after ~30 s the last one
sql_wait() {
	local v
	for _ in $(seq 1 150); do
		v=$(sql "$2")
		[ "$v" = "$1" ] && break
		sleep 0.2
	done
	printf '%s\n' "$v"
}
# wait_log PATTERN: a line of atsmaild's log matches, within ~10 s
wait_log() {
	for _ in $(seq 1 200); do grep -q -- "$1" "$LOG" && return 0; sleep 0.05; done
	return 1
}
# MSGNO: in SQL, the number of the message in its scenario (from its Message-ID)
MSGNO="split_part(split_part(rfc_message_id, '@', 1), '.', 4)"
# rows NAME: messages recorded for a scenario in this pass
rows() { echo "SELECT count(*) FROM atsmail.messages WHERE rfc_message_id LIKE 'Q$RUN.$PASS.$1.%'"; }

# ---- one pass: every decision scenario, the log checks ----------------------

TWO_PASS="negotiate inbound-forged tagged inbound-genuine not-ats unknown-sender bcc-command
	header-rewrite quoted-command unknown-command malformed-command too-many-jobs share-private bare-ats
	unknown-sender-command unknown-target guard-reject private share exclusion internal-network
	approval-hold several-messages abort reload guard-hold guard-allow verp too-many-addresses
	bulk-too-many template-several bulk-genuine bulk-forged"

# reload-hold.sh: called by reload.lua in the middle of its first message
cat >"$W/reload-hold.sh" <<SH
#!/bin/sh
n=\$(grep -c 'configuration reloaded' '$LOG')
sed 's/^guard_action = .*/guard_action = hold/' '$CONF' >'$CONF.new' && mv '$CONF.new' '$CONF'
kill -HUP \$(cat '$W/atsmaild.pid')
for i in \$(seq 1 100); do
	[ "\$(grep -c 'configuration reloaded' '$LOG')" -gt "\$n" ] && exit 0
	sleep 0.05
done
exit 1
SH

run_pass() {
	local id tok
	PASS=$1
	reload guard_action=reject verp=no

	# ---- protocol and inbound
	scenario negotiate
	for what in "6 without SMFIF_QUARANTINE" "2:"; do
		id=$(sed -n "s/^.*milter connection \([0-9]*\): the MTA offers milter protocol version $what.*connection refused.*/\1/p" \
			"$O/negotiate.$PASS.log" | tail -n 1)
		if [ -n "$id" ] && wait_log "milter connection $id: closed"; then
			tap_pass "negotiate: version ${what%:} refused, logged, connection closed ($(label))"
		else
			tap_fail "negotiate: version ${what%:} refused, logged, connection closed ($(label))" \
				"$(grep 'MTA offers' "$O/negotiate.$PASS.log")"
		fi
	done
	scenario inbound-forged
	log_ok inbound-forged "the removal is logged" "$(qid inbound-forged 1): inbound: removed 3 forged X-ATS-\* header(s), kept 0"

	# ---- outbound
	scenario tagged
	scenario inbound-genuine -D "token=$(token_of tagged)"
	scenario not-ats
	log_ok not-ats "passed untouched" "$(qid not-ats 1): not ATS mail: passed untouched"
	scenario unknown-sender
	log_ok unknown-sender "passed untouched" "$(qid unknown-sender 1): not ATS mail: passed untouched"
	scenario bcc-command
	log_ok bcc-command "one command removed, no header rewritten" \
		"$(qid bcc-command 1): tag: token=$(token_of bcc-command) commands_removed=1 headers_rewritten=0"
	scenario header-rewrite
	log_ok header-rewrite "two commands removed, two headers rewritten" \
		"$(qid header-rewrite 1): tag: token=$(token_of header-rewrite) commands_removed=2 headers_rewritten=2"

	scenario quoted-command
	log_ok quoted-command "two quoted or capital commands removed, To and Bcc rewritten" \
		"$(qid quoted-command 1): tag: token=$(token_of quoted-command) commands_removed=2 headers_rewritten=2"
	reject_ok quoted-command 2 'RCPT .*(job-invalid): invalid job id "30x2": "ats+job.30x2"@ats.atsmail.test'

	# ---- each malformed command, refused
	scenario unknown-command
	reject_ok unknown-command 1 'RCPT .*(unknown-command): unknown command "frobnicate": ats+frobnicate@ats.atsmail.test'
	scenario malformed-command
	reject_ok malformed-command 1 'RCPT .*invalid job id "abc": ats+job.abc@ats.atsmail.test'
	reject_ok malformed-command 2 'RCPT .*invalid job id "007": ats+job.007@ats.atsmail.test'
	reject_ok malformed-command 3 'RCPT .*invalid phase code "-bad": ats+phase.-bad@ats.atsmail.test'
	reject_ok malformed-command 4 'RCPT .*invalid resume id "x1": ats+resume.x1@ats.atsmail.test'
	scenario too-many-jobs
	reject_ok too-many-jobs 1 'too many jobs: .* makes 21, at most 20 per mail'
	scenario share-private
	reject_ok share-private 1 'both "\(share\|private\)" and "\(private\|share\)" in one mail: ats+'
	scenario bare-ats
	reject_ok bare-ats 1 'RCPT .*no command given: ats@ats.atsmail.test'
	scenario unknown-sender-command
	reject_ok unknown-sender-command 1 'not a recruiter: intern@atsmail.test is no registered user and may not use ats+'
	scenario unknown-target
	reject_ok unknown-target 1 'RCPT .*(no-job): no job 9999: ats+job.9999@ats.atsmail.test names a job that does not exist'
	reject_ok unknown-target 2 'RCPT .*(no-phase): no phase "nosuchphase": ats+phase.nosuchphase@ats.atsmail.test'
	reject_ok unknown-target 3 'RCPT .*(no-record): no resume 99999: ats+resume.99999@ats.atsmail.test'
	reject_ok unknown-target 4 'RCPT .*(no-record): no contact 99999: ats+contact.99999@ats.atsmail.test'

	# ---- guards and policies
	scenario guard-reject
	reject_ok guard-reject 1 'candidates would see each other: .*taro@candidate.test.*hanako@candidate.test'
	scenario private
	scenario share
	scenario exclusion
	scenario internal-network
	scenario approval-hold
	log_ok approval-hold "held" "$(qid approval-hold 1): hold: token=$(token_of approval-hold)"

	# ---- several messages on one connection; ABORT
	scenario several-messages
	reject_ok several-messages 3 'taro@candidate.test.*hanako@candidate.test'
	scenario abort
	if logged abort "$(qid abort 1):"; then
		tap_fail "abort: nothing decided or journaled for the aborted message ($(label))" \
			"$(grep "$(qid abort 1):" "$O/abort.$PASS.log")"
	else
		tap_pass "abort: nothing decided or journaled for the aborted message ($(label))"
	fi

	# ---- SMFIC_QUIT_NC (miltertest cannot send it)
	local mark out=$O/quit-nc.$PASS.out
	mark=$(wc -l <"$LOG")
	if python3 "$top_srcdir/tests/milter/quit-nc.py" "$W/milter.sock" "Q$RUN.$PASS.quit-nc" >"$out" 2>&1 &&
		grep -q '^PASS' "$out"; then
		tap_pass "quit-nc: a session after SMFIC_QUIT_NC keeps nothing of the one before ($(label))"
	else
		tap_fail "quit-nc: a session after SMFIC_QUIT_NC keeps nothing of the one before ($(label))" \
			"$(tail -n 5 "$out")"
	fi
	tail -n +"$((mark + 1))" "$LOG" >"$O/quit-nc.$PASS.log"
	log_ok quit-nc "the queue id is {i} of the end of message" "Q$RUN.$PASS.quit-nc.1: tag: token="

	# ---- reload: a message keeps the configuration of its MAIL
	scenario reload -D "reload_cmd=sh $W/reload-hold.sh"
	reject_ok reload 1 'taro@candidate.test.*hanako@candidate.test'
	log_ok reload "the next message on the connection is held" "$(qid reload 2): hold: token="
	scenario guard-hold
	log_ok guard-hold "held" "$(qid guard-hold 1): hold: token=$(token_of guard-hold)"
	reload guard_action=allow
	scenario guard-allow
	log_ok guard-allow "tagged, not held" "$(qid guard-allow 1): tag: token=$(token_of guard-allow)"
	reload guard_action=hold verp=yes
	scenario verp
	tok=$(token_of verp)
	log_ok verp "the envelope sender is stamped with the token and names its one recipient" \
		"$(qid verp 1): tag: token=$tok .*verp_sender=alice+ats-$tok-[a-z2-7]\{8\}@atsmail.test"
	reload address_max_count=3
	scenario too-many-addresses
	reject_ok too-many-addresses 2 'too many recipients: more than 3 addresses (address_max_count)'

	# ---- ats+bulk / ats+template: refused from the snapshot alone (PostgreSQL
	# up or down); the bulk runner's mail (docs/bulk.md, "SMTP-time checks")
	reload bulk_max_recipients=2
	scenario bulk-too-many
	reject_ok bulk-too-many 1 'too many recipients for one bulk mail: ats+bulk@ats.atsmail.test has 3 recipients; at most 2 (bulk_max_recipients)'
	reload guard_action=reject verp=no
	scenario template-several
	reject_ok template-several 1 'a template mail is merged for one record: ats+template.offer@ats.atsmail.test, but the recipients name 2 records; name one, or add ats+bulk@ats.atsmail.test to send one mail each'
	scenario bulk-genuine -D "marker=$("$top_builddir/tests/milter/bulk-marker" "$W/secret" 7 1 \
		alice@atsmail.test "$(qid bulk-genuine 1)@atsmail.test")"
	log_ok bulk-genuine "the marker verifies: decided as alice's sent mail" \
		"bulk job 7 item 1 of user alice@atsmail.test: decided as sent mail"
	log_ok bulk-genuine "tagged, its command address removed" \
		"$(qid bulk-genuine 1): tag: token=$(token_of bulk-genuine) commands_removed=1"
	# a genuine marker of another mail (its Message-ID) is a forgery here
	scenario bulk-forged -D "marker=$("$top_builddir/tests/milter/bulk-marker" "$W/secret" 7 1 \
		alice@atsmail.test "$(qid bulk-genuine 1)@atsmail.test")"
	log_ok bulk-forged "the forged marker is logged" "forged X-ATS-Bulk header"
	log_ok bulk-forged "and the mail is inbound, its X-ATS-* removed" \
		"$(qid bulk-forged 1): inbound: removed 1 forged X-ATS-\* header(s), kept 0"
}

# ---- the database after a pass ------------------------------------------------

db_checks() {
	local tok want got
	PASS=$1
	# everything journaled in the pass is recorded, each mail once
	want=$(grep -c "Q$RUN\.$PASS\.[^:]*: journaled: " "$LOG")
	got=$(sql_wait "$want $want" "SELECT count(*) || ' ' || count(DISTINCT idempotency_key)
		FROM atsmail.messages WHERE rfc_message_id LIKE 'Q$RUN.$PASS.%'")
	tap_is "recorder: the $want mails journaled are recorded, each exactly once ($(label))" "$got" "$want $want"

	tok=$(token_of tagged)
	tap_is "tagged: one message row with the token, owner alice, linked to resume 1001 ($(label))" \
		"$(sql_wait 1 "SELECT count(*) FROM atsmail.messages m JOIN atsmail.message_links l ON l.message_id = m.id
		        WHERE m.token = '$tok' AND m.direction = 'out' AND m.owner_id = 1
		          AND l.target_kind = 'resume' AND l.target_id = 1001")" "1"
	for s in not-ats unknown-sender unknown-command malformed-command too-many-jobs share-private \
		bare-ats unknown-sender-command unknown-target guard-reject; do
		tap_is "$s: nothing recorded ($(label))" "$(sql "$(rows "$s")")" "0"
	done
	tok=$(token_of bcc-command)
	tap_is "bcc-command: the selection process resume 1001 x job 3002 exists and the mail is linked to it ($(label))" \
		"$(sql_wait 1 "SELECT count(*) FROM atsmail.processes p JOIN atsmail.message_links l
		          ON l.target_kind = 'process' AND l.target_id = p.id
		        JOIN atsmail.messages m ON m.id = l.message_id
		        WHERE p.resume_id = 1001 AND p.job_id = 3002 AND m.token = '$tok'")" "1"
	tap_is "bcc-command: the command address is not recorded as a recipient ($(label))" \
		"$(sql "SELECT count(*) FROM atsmail.message_recipients r JOIN atsmail.messages m ON m.id = r.message_id
		        WHERE m.token = '$tok' AND r.address LIKE 'ats+%'")" "0"
	tok=$(token_of quoted-command)
	tap_is "quoted-command: the quoted ats+job.3012 made the process resume 1001 x job 3012, linked to the mail ($(label))" \
		"$(sql_wait 1 "SELECT count(*) FROM atsmail.processes p JOIN atsmail.message_links l
		          ON l.target_kind = 'process' AND l.target_id = p.id
		        JOIN atsmail.messages m ON m.id = l.message_id
		        WHERE p.resume_id = 1001 AND p.job_id = 3012 AND m.token = '$tok'")" "1"
	tap_is "quoted-command: the quoted ats+private of the Bcc header made it private ($(label))" \
		"$(sql_wait private "SELECT visibility FROM atsmail.messages WHERE token = '$tok'")" "private"
	tap_is "quoted-command: no command address recorded as a recipient ($(label))" \
		"$(sql "SELECT count(*) FROM atsmail.message_recipients r JOIN atsmail.messages m ON m.id = r.message_id
		        WHERE m.token = '$tok' AND (r.address ILIKE '%ats+%' OR r.address ILIKE '%ats.atsmail.test%')")" "0"
	tap_is "quoted-command: only the first mail is recorded ($(label))" \
		"$(sql "$(rows quoted-command)")" "1"
	tap_is "header-rewrite: resume 1001 is in phase active ($(label))" \
		"$(sql_wait active "SELECT phase FROM atsmail.resumes WHERE id = 1001")" "active"
	tap_is "private: ats+private makes the record private ($(label))" \
		"$(sql_wait private "SELECT visibility FROM atsmail.messages WHERE token = '$(token_of private)'")" "private"
	tap_is "share: carol (private mode) with ats+share records a shared item ($(label))" \
		"$(sql_wait shared "SELECT visibility FROM atsmail.messages WHERE token = '$(token_of share)'")" "shared"
	tap_is "exclusion: a counterpart in rival.example makes the record private ($(label))" \
		"$(sql_wait private "SELECT visibility FROM atsmail.messages WHERE token = '$(token_of exclusion)'")" "private"
	tap_is "internal-network: recorded as alice's ($(label))" \
		"$(sql_wait 1 "SELECT owner_id FROM atsmail.messages WHERE token = '$(token_of internal-network)'")" "1"
	tap_is "approval-hold: erin's held mail is recorded ($(label))" \
		"$(sql_wait 1 "SELECT count(*) FROM atsmail.messages WHERE token = '$(token_of approval-hold)' AND owner_id = 6")" "1"
	tap_is "several-messages: messages 1 and 5 recorded, 2 and 3 not ($(label))" \
		"$(sql_wait "1,5" "SELECT string_agg($MSGNO, ',' ORDER BY rfc_message_id)
		        FROM atsmail.messages WHERE rfc_message_id LIKE 'Q$RUN.$PASS.several-messages.%'")" "1,5"
	tap_is "several-messages: message 1 (ats+private) is private, message 5 shared ($(label))" \
		"$(sql_wait "private shared" "SELECT string_agg(visibility::text, ' ' ORDER BY rfc_message_id)
		        FROM atsmail.messages WHERE rfc_message_id LIKE 'Q$RUN.$PASS.several-messages.%'")" "private shared"
	tap_is "abort: the aborted message is not recorded, the third is ($(label))" \
		"$(sql_wait 3 "SELECT string_agg($MSGNO, ',')
		        FROM atsmail.messages WHERE rfc_message_id LIKE 'Q$RUN.$PASS.abort.%'")" "3"
	tap_is "abort: its ats+job.3004 made no selection process ($(label))" \
		"$(sql "SELECT count(*) FROM atsmail.processes WHERE job_id = 3004")" "0"
	tap_is "quit-nc: sessions 1 and 3 recorded as alice's, session 2 not at all ($(label))" \
		"$(sql_wait "1:1,3:1" "SELECT string_agg($MSGNO || ':' || owner_id, ','
		        ORDER BY rfc_message_id) FROM atsmail.messages WHERE rfc_message_id LIKE 'Q$RUN.$PASS.quit-nc.%'")" "1:1,3:1"
	tap_is "reload: the rejected message is not recorded, the two held ones are ($(label))" \
		"$(sql_wait "2,3" "SELECT string_agg($MSGNO, ',' ORDER BY rfc_message_id)
		        FROM atsmail.messages WHERE rfc_message_id LIKE 'Q$RUN.$PASS.reload.%'")" "2,3"
	tap_is "guard-hold: the held mail is recorded ($(label))" \
		"$(sql_wait 1 "SELECT count(*) FROM atsmail.messages WHERE token = '$(token_of guard-hold)'")" "1"
	tap_is "guard-allow: the mail is recorded ($(label))" \
		"$(sql_wait 1 "SELECT count(*) FROM atsmail.messages WHERE token = '$(token_of guard-allow)'")" "1"
	for s in bulk-too-many template-several bulk-forged; do
		tap_is "$s: nothing recorded ($(label))" "$(sql "$(rows "$s")")" "0"
	done
	tap_is "bulk-genuine: the runner's mail is recorded as sent by alice, its ats+private applied ($(label))" \
		"$(sql_wait "out 1 private" "SELECT direction || ' ' || owner_id || ' ' || visibility FROM atsmail.messages
		        WHERE token = '$(token_of bulk-genuine)'")" "out 1 private"
	tap_is "bulk-too-many, template-several: no bulk job made ($(label))" \
		"$(sql "SELECT count(*) FROM atsmail.bulk_jobs WHERE subject LIKE 'scenario Q$RUN.$PASS.%'")" "0"
	tap_is "too-many-addresses: the mail cut at the envelope is recorded, the rejected one not ($(label))" \
		"$(sql_wait 1 "SELECT string_agg($MSGNO, ',')
		        FROM atsmail.messages WHERE rfc_message_id LIKE 'Q$RUN.$PASS.too-many-addresses.%'")" "1"
}

# ---- the two passes compared ---------------------------------------------------------

# decisions NAME PASS: the scenario's decision lines, queue ids without the pass, tokens masked
decisions() {
	sed -n "s/^.*Q$RUN\.$2\.\($1\.[0-9]*: \(reject\|tag:\|hold:\|inbound:\|not ATS\|cannot\).*\)$/\1/p" \
		"$O/$1.$2.log" | sed 's/a[a-z2-7]\{37\}\(-[a-z2-7]\{8\}\)\{0,1\}/<token>/g' | sort
}
compare() {
	local s a b
	for s in $TWO_PASS; do
		a=$(grep '^OUTCOME' "$O/$s.up.out"; echo "--"; decisions "$s" up)
		b=$(grep '^OUTCOME' "$O/$s.down.out"; echo "--"; decisions "$s" down)
		if [ "$a" = "$b" ]; then
			tap_pass "$s: the same outcome with PostgreSQL up and down"
		else
			tap_fail "$s: the same outcome with PostgreSQL up and down" \
				"$(diff <(printf '%s\n' "$a") <(printf '%s\n' "$b"))"
		fi
	done
}

# replies: the reply every rejected message of the up pass got, and the
# reason every held one was held for, for the down pass
# (a RCPT refused is not: miltertest sees no end of message to compare; its
# sentence is checked in the log, as the same decision line of both passes)
replies_of_up_pass() {
	sed -n -e "/: RCPT [^ ]* ([a-z-]*): /d" -e "s/^.*Q$RUN\.up\.\([^ ]*\)\.\([0-9]*\): reject \([245][0-9][0-9]\) \([245]\.[0-9.]*\): from=<[^>]*>: \(.*\)$/\1\t\2\t\3\t\4\t\5/p" \
		-e "s/^.*Q$RUN\.up\.\([^ ]*\)\.\([0-9]*\): hold: token=[^ ]* commands_removed=[0-9]* headers_rewritten=[0-9]*\( verp_sender=[^ :]*\)\?: \(.*\)$/\1\t\2\thold\t-\t\4/p" \
		"$LOG" >"$O/replies"
}

# ============================================================================
write_conf
ad_start M

run_pass up
db_checks up
replies_of_up_pass
tap_is "the up pass's replies and hold reasons are kept for the down pass" \
	"$(awk -F '\t' '{ n[$3 == "hold" ? "hold" : "reject"]++ } END { printf "%d rejections, %d holds", n["reject"], n["hold"] }' "$O/replies")" \
	"7 rejections, 4 holds"    # 13 more are refused at RCPT (their sentences: reject_ok)

# ---- PostgreSQL stopped: the same scenarios; mail journaled
"$TESTBED" pg-stop "$TB_DIR" >/dev/null 2>&1
tap_ok "PostgreSQL is stopped" sh -c "! psql '$TB_PG_ADMIN' -c 'SELECT 1' >/dev/null 2>&1"
run_pass down
compare
tap_is "every rejection and hold of the down pass reached the MTA with the up pass's reply or reason, word for word" \
	"$(cat "$O"/*.down.out | grep -c '^SAME-REPLY ')" "$(wc -l <"$O/replies")"

# journaled while down: a process made, then moved, by two mails
scenario journaled
tap_is "journaled: both mails journaled while the database is down" \
	"$(grep -c "Q$RUN\.down\.journaled\.[0-9]*: journaled: " "$O/journaled.down.log")" "2"
tap_is "journaled: both tokens are in atsmaild's journal segments" \
	"$(cat "$W"/journal/atsmaild.*.jsonl 2>/dev/null | grep -c -e "$(token_of journaled 1)" -e "$(token_of journaled 2)")" "2"

# a snapshot that was never loaded: another atsmaild, started with
# PostgreSQL down and an empty snapshot directory
ad_prepare C
ad_conf C
CD=$(ad_dir C)
setsid "$ATSMAILD" -f -c "$CD/atsmail.conf" -P "$CD/atsmaild.pid" </dev/null >>"$CD/atsmaild.log" 2>&1 &
for _ in $(seq 1 100); do [ -s "$CD/atsmaild.pid" ] && [ -S "$CD/milter.sock" ] && break; sleep 0.05; done
tap_ok "cold start: atsmaild starts with PostgreSQL down and no snapshot" test -S "$CD/milter.sock"
tap_ok "cold start: its snapshot is not loaded" sh -c "! '$AD_CTL' -c '$CD/atsmail.conf' snapshot status >/dev/null 2>&1"
scenario_on "unix:$CD/milter.sock" cold-start tempfail -D "text=atsmail: starting up, try again later"
tap_ok "cold start: the reason is logged" \
	grep -q "Q$RUN.down.cold-start.1: the snapshot has not been loaded from the database yet: mail tempfailed" "$CD/atsmaild.log"

# ---- PostgreSQL back: the down pass is recorded, once
"$TESTBED" pg-start "$TB_DIR" >/dev/null 2>&1
tap_ok "PostgreSQL is back" sh -c "for i in \$(seq 1 50); do psql '$TB_PG_ADMIN' -c 'SELECT 1' >/dev/null 2>&1 && exit 0; sleep 0.2; done; exit 1"
db_checks down
tap_is "journaled: both mails recorded once" \
	"$(sql_wait 2 "$(rows journaled)")" "2"
tap_is "journaled: one selection process resume 1002 x job 3003, moved to interview1 by the second mail" \
	"$(sql_wait "1 interview1" "SELECT count(*) || ' ' || min(phase) FROM atsmail.processes WHERE resume_id = 1002 AND job_id = 3003")" \
	"1 interview1"
tap_is "journaled: both mails are linked to that process" \
	"$(sql_wait 2 "SELECT count(*) FROM atsmail.message_links l JOIN atsmail.messages m ON m.id = l.message_id
	      JOIN atsmail.processes p ON l.target_kind = 'process' AND l.target_id = p.id
	      WHERE p.resume_id = 1002 AND p.job_id = 3003 AND m.rfc_message_id LIKE 'Q$RUN.down.journaled.%'")" "2"
tap_is "the up pass is still recorded once (no duplicate from the outage)" \
	"$(sql "SELECT count(*) - count(DISTINCT idempotency_key) FROM atsmail.messages WHERE rfc_message_id LIKE 'Q$RUN.%'")" "0"
PASS=back
scenario_as after-db-back tagged

# (ad_ready waits ~10 s; the follower retries every second)
if ad_ready C || ad_ready C || ad_ready C; then
	tap_pass "cold start: the snapshot loads once PostgreSQL is back"
else
	tap_fail "cold start: the snapshot loads once PostgreSQL is back" "$(tail -n 5 "$CD/atsmaild.log")"
fi
scenario_on "unix:$CD/milter.sock" cold-start-ready tagged
tap_is "cold start: the mail is then recorded" \
	"$(sql_wait 1 "SELECT count(*) FROM atsmail.messages WHERE token = '$(token_of cold-start-ready)'")" "1"
tap_is "cold start: the tempfailed mail was not recorded" "$(sql "$(rows cold-start)")" "0"
ad_stop C

# ---- a journal that cannot be written: a full tmpfs under journal_dir
PASS=up
ad_prepare J
JD=$(ad_dir J)
if mount -t tmpfs -o size=256k,mode=0700 tmpfs "$JD/journal"; then
	JMNT=$JD/journal
	ad_conf J
	ad_start J
	dd if=/dev/zero of="$JMNT/filler" bs=4k status=none 2>/dev/null
	scenario_on "unix:$JD/milter.sock" journal-full tempfail \
		-D "text=atsmail: cannot record this mail now, try again later"
	tap_ok "journal-full: the reason is logged" grep -q \
		"Q$RUN.up.journal-full.1: cannot journal the record (mail tempfailed): .*No space left on device" \
		"$JD/atsmaild.log"
	rm -f "$JMNT/filler"
	scenario_on "unix:$JD/milter.sock" journal-room tagged
	tap_is "journal-full: with room again the mail is journaled and recorded once" \
		"$(sql_wait 1 "SELECT count(*) FROM atsmail.messages WHERE token = '$(token_of journal-room)'")" "1"
	tap_is "journal-full: the tempfailed mail was not recorded" "$(sql "$(rows journal-full)")" "0"
	ad_stop J
	umount "$JMNT" && JMNT=
else
	tap_fail "journal-full: mount a tmpfs for the journal" "mount failed"
fi

# ---- reload failures and SIGHUP storms
MPID=$(ad_pid M)
echo "this is not a setting" >>"$CONF"
kill -HUP "$MPID"
wait_log 'reload failed'
tap_ok "reload: a bad configuration is logged and the old one kept" \
	grep -q 'reload failed, keeping the running configuration: .*line' "$LOG"
scenario_as still-serving tagged
tap_ok "reload: 20 SIGHUPs in a row leave atsmaild running" sh -c "
	for i in \$(seq 1 20); do kill -HUP $MPID; sleep 0.02; done; sleep 0.5; kill -0 $MPID"
write_conf

# ---- who may connect: root (miltertest here) and milter_peers (postfix);
# another local user is refused unread and logged with its uid
NOBODY=$(id -u nobody)
runuser -u nobody -- python3 - "$W/milter.sock" >"$O/peer.out" 2>&1 <<'PY'
import socket, struct, sys
s = socket.socket(socket.AF_UNIX)
s.settimeout(10)
s.connect(sys.argv[1])
try:
    s.sendall(struct.pack(">I", 13) + b"O" + struct.pack(">III", 6, 0x1ff, 0x1fffff))
    print("answer %r" % s.recv(64))
except OSError as e:
    print("error %s" % e)
PY
tap_ok "peer: a user not in milter_peers gets no answer" grep -q "^answer b''\|^error" "$O/peer.out"
tap_ok "peer: the refusal is logged with its uid" \
	wait_log "connection from pid [0-9]* uid $NOBODY refused: that user is not in milter_peers"

# ---- atsmaild listens on unix sockets only (it checks who connects)
sed 's|^milter_socket = .*|milter_socket = inet:127.0.0.1:8893|' "$CONF" >"$W/inet.conf"
"$ATSMAILD" -f -c "$W/inet.conf" >"$O/inet.log" 2>&1 </dev/null
tap_is "inet: milter_socket is refused (exit 71)" "$?" "71"
tap_ok "inet: with a sentence that says why" grep -q 'atsmaild listens on unix sockets only' "$O/inet.log"

# ---- SIGTERM: clean stop
kill -TERM "$MPID"
wait "$MPID"
tap_is "SIGTERM: exit status 0" "$?" "0"
tap_ok "SIGTERM: logged, PID file and sockets removed" sh -c "grep -q 'stopped' '$LOG' &&
	[ ! -e '$W/atsmaild.pid' ] && [ ! -e '$W/milter.sock' ]"

tap_done
