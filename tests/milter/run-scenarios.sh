#!/bin/bash
# tests/milter/run-scenarios.sh -- the miltertest scenarios of atsmail-milter
# (tests/milter/scenarios/*.lua, one per behaviour), against a test-bed PostgreSQL.
#
# Starts PostgreSQL (tests/testbed), migrates, loads tests/data/seed.sql,
# writes an atsmail.conf and a site secret, starts one atsmail-milter on a
# unix socket of this run, and runs each scenario with miltertest: one TAP
# line per scenario (not ok on a non-zero exit, with the scenario's FAIL
# line and the end of the milter's log).  What a scenario cannot see from
# the milter protocol (rows in the database, the journal, the log) is
# checked here after it, as lines of their own.  Configuration changes
# between groups of scenarios go through SIGHUP, so they exercise reload
# too.  TB_KEEP=1 keeps the directory for a post-mortem.
set -u
: "${top_srcdir:=$(cd "$(dirname "$0")/../.." && pwd)}"
: "${top_builddir:=$top_srcdir}"
. "$top_srcdir/tests/e2e/e2e-lib.sh"

MILTER=$top_builddir/milter/atsmail-milter
CTL=$top_builddir/ctl/atsmailctl
SCN=$top_srcdir/tests/milter/scenarios
command -v miltertest >/dev/null || tap_skip_all "miltertest is not installed"
[ -x "$MILTER" ] || tap_skip_all "atsmail-milter is not built"

tb_start pg
W=$TB_DIR/milter
mkdir -p "$W/journal"
RUN=$$
LOG=$W/milter.log
CONF=$W/atsmail.conf
PIDF=$W/milter.pid
SOCK=unix:$W/milter.sock
MILTER_PID=
MILTER_BG=

stop_milter() {
	[ -n "$MILTER_PID" ] || return 0
	kill -TERM "$MILTER_PID" 2>/dev/null
	# libmilter leaves smfi_main() after its ~5 s poll timeout
	for _ in $(seq 1 150); do kill -0 "$MILTER_PID" 2>/dev/null || break; sleep 0.1; done
	MILTER_PID=
}
cleanup() { stop_milter; tb_cleanup; }
trap cleanup EXIT

if ! tb_migrate >"$W/migrate.log" 2>&1; then
	echo "1..1"; echo "not ok 1 - migrate"; sed 's/^/# /' "$W/migrate.log"; exit 1
fi
tb_psql -f "$top_srcdir/tests/data/seed.sql" >/dev/null || tap_bail "cannot load seed.sql"
# the milter connects as a login of atsmail_writer, as in production
tb_psql -c "DO \$\$ BEGIN IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'atsm_milter')
	THEN CREATE ROLE atsm_milter LOGIN IN ROLE atsmail_writer; END IF; END \$\$" >/dev/null
DB="host=$TB_PGHOST port=$TB_PGPORT dbname=$TB_DB user=atsm_milter"

head -c 48 /dev/urandom | base64 | tr -d '\n/+=' >"$W/secret"
chmod 600 "$W/secret"

# write_conf KEY=VALUE...: the base configuration with some settings changed
write_conf() {
	local guard=reject verp=no ondb=accept extra="" kv
	for kv in "$@"; do
		case "$kv" in
		guard_action=*) guard=${kv#*=} ;;
		verp=*) verp=${kv#*=} ;;
		on_db_failure=*) ondb=${kv#*=} ;;
		*) extra="$extra$kv"$'\n' ;;
		esac
	done
	cat >"$CONF.new" <<CONF
# written by tests/milter/run-scenarios.sh
db_conninfo = $DB
db_pool_size = 4
db_statement_timeout = 2s
db_connect_timeout = 2s
ats_domain = ats.atsmail.test
company_domains = atsmail.test
secret_file = $W/secret
milter_socket = $SOCK
internal_networks = 10.0.0.0/8
guard_action = $guard
on_db_failure = $ondb
verp = $verp
journal_dir = $W/journal
log_level = debug
$extra
CONF
	mv "$CONF.new" "$CONF"
}

start_milter() {
	: >"$LOG"
	"$MILTER" -f -c "$CONF" -P "$PIDF" >>"$LOG" 2>&1 </dev/null &
	MILTER_BG=$!
	for _ in $(seq 1 100); do
		[ -S "$W/milter.sock" ] && [ -s "$PIDF" ] && break
		sleep 0.05
	done
	MILTER_PID=$(cat "$PIDF" 2>/dev/null)
	[ -n "$MILTER_PID" ]
}

# reload KEY=VALUE...: rewrite the configuration and SIGHUP; waits for the log line
reload() {
	local n
	n=$(grep -c 'configuration reloaded\|reload failed' "$LOG")
	write_conf "$@"
	kill -HUP "$MILTER_PID"
	for _ in $(seq 1 100); do
		[ "$(grep -c 'configuration reloaded\|reload failed' "$LOG")" -gt "$n" ] && return 0
		sleep 0.05
	done
	return 1
}

# scenario NAME [-D k=v ...]: one TAP line; its output stays in $W/NAME.out
# scenario_as NAME LUA [-D ...]: the same with another name for a second run
scenario() { scenario_as "$1" "$@"; }
scenario_as() {
	local name=$1 lua=$2 out=$W/$1.out
	shift 2
	if miltertest -s "$SCN/$lua.lua" -D "sock=$SOCK" -D "dir=$SCN" -D "run=$RUN" -D "scn=$name" "$@" \
	    >"$out" 2>&1; then
		tap_pass "$name"
	else
		tap_fail "$name" "$(grep -m1 '^FAIL' "$out" || tail -n 5 "$out")
--- end of milter log:
$(tail -n 8 "$LOG")"
	fi
}

# token_of NAME: the X-ATS-Ref a scenario printed (first one)
token_of() { awk '/^TOKEN /{ print $3; exit }' "$W/$1.out"; }
# sql QUERY: one value from the database (as the superuser: sees everything)
sql() { tb_psql -c "$1" 2>&1; }

write_conf
if ! start_milter; then
	echo "1..1"; echo "not ok 1 - atsmail-milter did not start"; sed 's/^/# /' "$LOG"; exit 1
fi

# ---- protocol and inbound
scenario negotiate
tap_ok "negotiate: the refusal names the missing action" grep -q 'SMFIF_QUARANTINE' "$LOG"
scenario inbound-forged

# ---- outbound, recorded
scenario tagged
tok=$(token_of tagged)
tap_is "tagged: one message row with the token, owner alice, linked to resume 1001" \
	"$(sql "SELECT count(*) FROM atsmail.messages m JOIN atsmail.message_links l ON l.message_id = m.id
	        WHERE m.token = '$tok' AND m.direction = 'out' AND m.owner_id = 1
	          AND l.target_kind = 'resume' AND l.target_id = 1001")" "1"
scenario inbound-genuine -D "token=$tok"

scenario not-ats
tap_is "not-ats: no row for a mail that is not ATS mail" \
	"$(sql "SELECT count(*) FROM atsmail.messages WHERE rfc_message_id LIKE 'notats.$RUN.%'")" "0"
scenario unknown-sender
tap_is "unknown-sender: no row" \
	"$(sql "SELECT count(*) FROM atsmail.messages WHERE rfc_message_id LIKE 'unknown.$RUN.%'")" "0"

scenario bcc-command
tok=$(token_of bcc-command)
tap_is "bcc-command: the selection process resume 1001 x job 3002 exists and the mail is linked to it" \
	"$(sql "SELECT count(*) FROM atsmail.processes p JOIN atsmail.message_links l
	          ON l.target_kind = 'process' AND l.target_id = p.id
	        JOIN atsmail.messages m ON m.id = l.message_id
	        WHERE p.resume_id = 1001 AND p.job_id = 3002 AND m.token = '$tok'")" "1"
tap_is "bcc-command: the command address is not recorded as a recipient" \
	"$(sql "SELECT count(*) FROM atsmail.message_recipients r JOIN atsmail.messages m ON m.id = r.message_id
	        WHERE m.token = '$tok' AND r.address LIKE 'ats+%'")" "0"

scenario header-rewrite
tok=$(token_of header-rewrite)
tap_is "header-rewrite: resume 1001 moved to phase active" \
	"$(sql "SELECT phase FROM atsmail.resumes WHERE id = 1001")" "active"

scenario unknown-command
tap_ok "unknown-command: 550 5.7.1 with a sentence that names the address" \
	grep -q "Q$RUN.unknown-command.1: reject 550 5.7.1: from=<alice@atsmail.test>: .*ats+frobnicate@ats.atsmail.test" "$LOG"
scenario too-many-jobs
tap_ok "too-many-jobs: 550 5.7.1 with a sentence that gives the limit" \
	grep -q "Q$RUN.too-many-jobs.1: reject 550 5.7.1: .*20" "$LOG"
scenario guard-reject
tap_ok "guard-reject: 550 5.7.1 with a sentence that names both candidates" \
	grep -q "guard.$RUN: reject 550 5.7.1: .*taro@candidate.test.*hanako@candidate.test" "$LOG"
tap_is "guard-reject: nothing recorded" \
	"$(sql "SELECT count(*) FROM atsmail.messages WHERE rfc_message_id LIKE 'guard.$RUN.%'")" "0"

scenario private
tap_is "private: ats+private makes the record private" \
	"$(sql "SELECT visibility FROM atsmail.messages WHERE token = '$(token_of private)'")" "private"
scenario share
tap_is "share: carol (private mode) with ats+share records a shared item" \
	"$(sql "SELECT visibility FROM atsmail.messages WHERE token = '$(token_of share)'")" "shared"
scenario exclusion
tap_is "exclusion: a counterpart in rival.example makes the record private" \
	"$(sql "SELECT visibility FROM atsmail.messages WHERE token = '$(token_of exclusion)'")" "private"
scenario internal-network

scenario approval-hold
tap_is "approval-hold: erin's held mail is recorded" \
	"$(sql "SELECT count(*) FROM atsmail.messages WHERE token = '$(token_of approval-hold)' AND owner_id = 6")" "1"

# ---- reload: a connection keeps the configuration it started with
cat >"$W/reload-hold.sh" <<SH
#!/bin/sh
# called by reload.lua between its two connections
n=\$(grep -c 'configuration reloaded' '$LOG')
sed 's/^guard_action = .*/guard_action = hold/' '$CONF' >'$CONF.new' && mv '$CONF.new' '$CONF'
kill -HUP $MILTER_PID
for i in \$(seq 1 100); do
	[ "\$(grep -c 'configuration reloaded' '$LOG')" -gt "\$n" ] && exit 0
	sleep 0.05
done
exit 1
SH
scenario reload -D "reload_cmd=sh $W/reload-hold.sh"
tap_ok "reload: the connection opened before the reload got 550 5.7.1" \
	grep -q "Q$RUN.reload.1: reject 550 5.7.1: " "$LOG"
scenario guard-hold
tap_is "guard-hold: the held mail is recorded" \
	"$(sql "SELECT count(*) FROM atsmail.messages WHERE token = '$(token_of guard-hold)'")" "1"

reload guard_action=hold verp=yes
scenario verp
tap_ok "verp: the envelope sender was stamped with the token" \
	grep -q "tag: token=$(token_of verp) .*verp_sender=alice+ats-$(token_of verp)@atsmail.test" "$LOG"

# a broken file: logged, and the running configuration stays
echo "this is not a setting" >>"$CONF"
kill -HUP "$MILTER_PID"
for _ in $(seq 1 100); do grep -q 'reload failed' "$LOG" && break; sleep 0.05; done
tap_ok "reload: a bad configuration is logged and the old one kept" \
	grep -q 'reload failed, keeping the running configuration: .*line' "$LOG"
scenario_as still-serving tagged
tap_ok "reload: 20 SIGHUPs in a row leave the milter running" sh -c "
	for i in \$(seq 1 20); do kill -HUP $MILTER_PID; sleep 0.02; done; sleep 0.5; kill -0 $MILTER_PID"

# ---- database down
reload guard_action=reject verp=no on_db_failure=accept
: >"$W/journal/milter.jsonl"
"$top_srcdir/tests/testbed/testbed.sh" pg-stop "$TB_DIR" >/dev/null 2>&1
scenario db-down-accept
down_tok=$(token_of db-down-accept)
tap_is "db-down-accept: both mails are in the journal" \
	"$(grep -c '"kind":"outbound.message"' "$W/journal/milter.jsonl" 2>/dev/null)" "2"
tap_ok "db-down-accept: the journal holds the token of the tagged mail" \
	grep -q "\"token\":\"$down_tok\"" "$W/journal/milter.jsonl"
reload guard_action=reject on_db_failure=tempfail
scenario db-down-tempfail
"$top_srcdir/tests/testbed/testbed.sh" pg-start "$TB_DIR" >/dev/null 2>&1
reload guard_action=reject on_db_failure=accept

# ---- replay: exactly once
"$CTL" -c "$CONF" replay >"$W/replay1.out" 2>&1
r1=$?
"$CTL" -c "$CONF" replay >"$W/replay2.out" 2>&1
r2=$?
tap_is "replay: two runs succeed" "$r1 $r2" "0 0"
tap_is "replay: the journaled ATS mail is recorded exactly once" \
	"$(sql "SELECT count(*) FROM atsmail.messages WHERE token = '$down_tok'")" "1"
tap_is "replay: its ats+job command created the process resume 1002 x job 3003" \
	"$(sql "SELECT count(*) FROM atsmail.processes WHERE resume_id = 1002 AND job_id = 3003")" "1"
tap_is "replay: the journaled mail to saburo (ATS mail, no command) is recorded once, untagged" \
	"$(sql "SELECT count(*) FROM atsmail.messages WHERE rfc_message_id LIKE 'downplain.$RUN.%' AND token IS NULL")" "1"
scenario_as after-db-back tagged

# ---- an inet: socket works too, with TCP_NODELAY against the ~40 ms
# Nagle / delayed-ACK stall of ../shared/testbed-notes.md
IPORT=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
"$MILTER" -f -c "$CONF" -p "inet:$IPORT@127.0.0.1" -P "$W/inet.pid" >"$W/inet.log" 2>&1 </dev/null &
INET_BG=$!
for _ in $(seq 1 100); do
	[ -s "$W/inet.pid" ] && ss -ltn | grep -q "127.0.0.1:$IPORT " && break
	sleep 0.05
done
tap_ok "inet: socket: TCP_NODELAY set on the listener" grep -q "inet:$IPORT@127.0.0.1: TCP_NODELAY set" "$W/inet.log"
SOCK_UNIX=$SOCK
SOCK="inet:$IPORT@127.0.0.1"
scenario_as inet-tagged tagged
SOCK=$SOCK_UNIX
kill -TERM "$(cat "$W/inet.pid")" 2>/dev/null
wait "$INET_BG"
tap_is "inet: socket: clean stop" "$?" "0"

# ---- SIGTERM: clean stop
kill -TERM "$MILTER_PID"
wait "$MILTER_BG"
rc=$?
MILTER_PID=
tap_is "SIGTERM: exit status 0" "$rc" "0"
tap_ok "SIGTERM: logged, PID file removed" sh -c "grep -q 'stopped' '$LOG' && [ ! -e '$PIDF' ]"

tap_done
