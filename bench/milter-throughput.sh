#!/bin/bash
# bench/milter-throughput.sh -- what atsmail-milter costs Postfix, measured
# side by side in one run on a private test bed (not part of make check).
#
#   bench/milter-throughput.sh [N] [SESSIONS]     defaults: 5000 messages, 20 sessions
#
# Three ways, the same load each time: smtp-source (N messages of 4 KiB,
# SESSIONS parallel sessions) -> Postfix (the test bed's MX port) -> relay
# sink.test -> smtp-sink; the time runs until smtp-sink has every message.
#   none     Postfix without a milter
#   null     bench/null-milter: the milter protocol alone, nothing done
#   atsmail  atsmail-milter: every message is ATS mail (to a seeded resume
#            at sink.test from alice, via internal_networks = 127.0.0.0/8),
#            planned, tagged and recorded in PostgreSQL
# Both milters listen on unix sockets.  Prints messages per second for each
# and the ratio against "none", and for the atsmail run the CPU time spent
# per message by atsmail-milter and by PostgreSQL (all its processes):
# unlike wall time, CPU per message hardly moves when other work shares
# the machine, so it is the figure to compare between builds.  Run from the build directory, as root:
#   top_srcdir=/path/to/src top_builddir=. sh /path/to/src/bench/milter-throughput.sh
set -u
: "${top_srcdir:=$(cd "$(dirname "$0")/.." && pwd)}"
: "${top_builddir:=$top_srcdir}"
. "$top_srcdir/tests/e2e/e2e-lib.sh"

N=${1:-5000}
S=${2:-20}
SIZE=4096
MILTER=$top_builddir/milter/atsmail-milter
NULL=$top_builddir/bench/null-milter
for b in "$MILTER" "$NULL"; do [ -x "$b" ] || { echo "build $b first" >&2; exit 1; }; done
command -v smtp-source >/dev/null || PATH=$PATH:/usr/sbin

W=$(mktemp -d /tmp/atsm-bench.XXXXXX)
chmod 755 "$W"
PIDS=()
finish() {
	local p
	for p in "${PIDS[@]}"; do kill -TERM "$p" 2>/dev/null; done
	for p in "${PIDS[@]}"; do
		for _ in $(seq 1 150); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
	done
	tb_cleanup
	rm -rf "$W"
}
export TB_POSTFIX_MILTERS=
tb_start pg postfix
trap finish EXIT
echo "# test bed $TB_DIR; $N messages of $SIZE bytes, $S sessions" >&2

tb_migrate >/dev/null 2>&1 || { echo "migrate failed" >&2; exit 1; }
tb_psql -f "$top_srcdir/tests/data/seed.sql" >/dev/null
tb_psql >/dev/null <<'SQL'
INSERT INTO atsmail.resumes (name, phase, shared) VALUES ('Bench Candidate', 'new', true);
INSERT INTO atsmail.addresses (owner_kind, owner_id, addr_norm, is_primary)
	SELECT 'resume', max(id), 'bench@sink.test', true FROM atsmail.resumes WHERE name = 'Bench Candidate';
DO $$ BEGIN
	IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'atsm_milter') THEN
		CREATE ROLE atsm_milter LOGIN IN ROLE atsmail_writer; END IF;
END $$;
SQL

head -c 48 /dev/urandom | base64 | tr -d '\n/+=' >"$W/secret"
chmod 600 "$W/secret"
cat >"$W/atsmail.conf" <<CONF
db_conninfo = host=$TB_PGHOST port=$TB_PGPORT dbname=$TB_DB user=atsm_milter
db_pool_size = 8
ats_domain = ats.atsmail.test
company_domains = atsmail.test
internal_networks = 127.0.0.0/8
secret_file = $W/secret
milter_socket = unix:$W/atsmail.sock
journal_dir = $W/journal
log_level = warning
CONF

start() {   # start PIDFILE CMD...
	local pidf=$1
	shift
	"$@" >>"$W/milters.log" 2>&1 </dev/null &
	for _ in $(seq 1 100); do [ -s "$pidf" ] && break; sleep 0.05; done
	PIDS+=("$(cat "$pidf")")
}
start "$W/null.pid" "$NULL" -p "unix:$W/null.sock" -P "$W/null.pid"
start "$W/atsmail.pid" "$MILTER" -f -c "$W/atsmail.conf" -P "$W/atsmail.pid"

# cpu_ticks PID...: user + system clock ticks of these processes so far
cpu_ticks() {
	local p t=0 v
	for p in "$@"; do
		# fields after the command name (which may hold spaces): utime is 14th
		v=$(sed 's/^.*) //' "/proc/$p/stat" 2>/dev/null | awk '{ print $12 + $13 }')
		t=$((t + ${v:-0}))
	done
	echo "$t"
}
# pg_ticks: every process of the test bed's PostgreSQL, with the children
# it has reaped (short psql sessions)
pg_ticks() {
	local pm kids
	pm=$(head -1 "$TB_DIR/pg/data/postmaster.pid")
	kids=$(ps -o pid= --ppid "$pm")
	echo $(($(cpu_ticks "$pm" $kids) + $(sed 's/^.*) //' "/proc/$pm/stat" | awk '{ print $14 + $15 }')))
}

use_milter() {
	postconf -c "$TB_POSTFIX_CONF" -e "smtpd_milters = $1"
	postfix -c "$TB_POSTFIX_CONF" reload >/dev/null 2>&1
	sleep 2
}

# run NAME: one measured run; prints "NAME seconds msg/s"
run() {
	local name=$1 t0 t1 sink
	postsuper -c "$TB_POSTFIX_CONF" -d ALL >/dev/null 2>&1
	smtp-sink -u postfix -M "$N" "127.0.0.1:$TB_SINK_PORT" 1024 >/dev/null 2>&1 &
	sink=$!
	sleep 0.3
	t0=$(date +%s.%N)
	smtp-source -s "$S" -m "$N" -l "$SIZE" -f alice@atsmail.test -t bench@sink.test \
		"127.0.0.1:$TB_SMTP_PORT" >/dev/null 2>&1
	# until smtp-sink has all of them (bounded: 10 minutes)
	for _ in $(seq 1 6000); do kill -0 "$sink" 2>/dev/null || break; sleep 0.1; done
	t1=$(date +%s.%N)
	kill "$sink" 2>/dev/null
	wait "$sink" 2>/dev/null
	awk -v n="$name" -v a="$t0" -v b="$t1" -v m="$N" 'BEGIN { printf "%s %.2f %.0f\n", n, b - a, m / (b - a) }'
}

use_milter ""
r_none=$(run none)
use_milter "unix:$W/null.sock"
r_null=$(run null)
use_milter "unix:$W/atsmail.sock"
m0=$(cpu_ticks "${PIDS[1]}")
p0=$(pg_ticks)
r_ats=$(run atsmail)
m1=$(cpu_ticks "${PIDS[1]}")
p1=$(pg_ticks)
recorded=$(tb_psql -c "SELECT count(*) FROM atsmail.messages m JOIN atsmail.message_links l
	ON l.message_id = m.id AND l.target_kind = 'resume'
	JOIN atsmail.addresses a ON a.owner_kind = 'resume' AND a.owner_id = l.target_id
	WHERE a.addr_norm = 'bench@sink.test'")

base=$(echo "$r_none" | awk '{ print $3 }')
echo "config   seconds  msg/s  vs-none"
for r in "$r_none" "$r_null" "$r_ats"; do
	echo "$r" | awk -v b="$base" '{ printf "%-8s %7s %6s  %.2f\n", $1, $2, $3, $3 / b }'
done
echo "recorded by atsmail-milter: $recorded of $N"
awk -v hz="$(getconf CLK_TCK)" -v n="$N" -v m=$((m1 - m0)) -v p=$((p1 - p0)) 'BEGIN {
	printf "CPU per message (atsmail run): milter %.3f ms, PostgreSQL %.3f ms\n",
	    m * 1000 / hz / n, p * 1000 / hz / n }'
