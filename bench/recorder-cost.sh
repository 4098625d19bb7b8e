#!/bin/bash
# bench/recorder-cost.sh -- what recording costs PostgreSQL, variant by
# variant, side by side: the yardstick for changes to the record functions
# (sql/010-record-v2.sql) and to the recorder (lib/store/recorder*.c,
# recorder_batch_max).  Not part of make check; docs/benchmarks.md says how
# its figures were used.
#
#   bench/recorder-cost.sh [N_OUT] [N_IN] [ROUNDS] [VARIANT...]
#        defaults: 5000 outbound mails, 2000 inbound mails, 3 rounds,
#        one variant: "tree"
#   VARIANT   tree              the record functions of this source tree
#             sql:FILE          the tree's schema, then FILE applied on top
#                               (e.g. an older sql/010 from git show)
#             batch:N           the tree's, recorded in batches of N
#             sql:FILE,batch:N  both
#
# Capture, once: a private test bed (PostgreSQL, Postfix, Dovecot with the
# plugin) and atsmaild with a snapshot of 100,000 resumes and 10,000
# earlier messages (bench-lib.sh, bl_seed: a database in use); then PostgreSQL
# is stopped, so that the recorder cannot record, and N_OUT ATS mails go
# out through Postfix (alice to a seeded resume, as in
# bench/milter-throughput.sh) and N_IN mails from random resumes' addresses
# (replies to the earlier messages) are delivered over LMTP (as in
# bench/plugin-delivery.sh): atsmaild
# decides them from its snapshot and journals them.  The two journals are
# kept.  Then, for every round and every variant (interleaved): a copy of
# the database as it was before any mail (CREATE DATABASE ... TEMPLATE),
# the variant's SQL, and bench/recorder-bench records the outbound journal
# and then the inbound one, as atsmaild's recorder would (the login of the
# service, batches of recorder_batch_max = 200 unless said), printing the
# CPU time of the server process per entry.  Only that backend is counted:
# autovacuum, the checkpointer and the snapshot follower's reads are not
# in these figures (the end-to-end benchmarks count them).
#
# CPU time is noisy on a shared machine (contention inflates it by tens
# of per cent from one minute to the next).  ATSM_BENCH_CALLGRIND=1 runs
# PostgreSQL under valgrind --tool=callgrind for the recording instead and
# prints the instructions the backend executed per entry (minus those of a
# connection that records nothing): the same on every run, so a change of
# a few per cent shows.  Slow: use a few hundred mails of each kind.
#
# Run from the build directory, as root:
#   top_srcdir=/path/to/src top_builddir=. bash /path/to/src/bench/recorder-cost.sh
set -u
: "${top_srcdir:=$(cd "$(dirname "$0")/.." && pwd)}"
: "${top_builddir:=$top_srcdir}"
. "$top_srcdir/tests/e2e/e2e-lib.sh"
. "$top_srcdir/tests/e2e/atsmaild-lib.sh"
. "$top_srcdir/bench/bench-lib.sh"

NOUT=${1:-5000}
NIN=${2:-2000}
ROUNDS=${3:-3}
shift $(($# < 3 ? $# : 3))
VARIANTS=("$@")
[ ${#VARIANTS[@]} -gt 0 ] || VARIANTS=(tree)
RESUMES=100000
BENCH=$top_builddir/bench/recorder-bench
LOAD=$top_builddir/bench/lmtp-load
for b in "$ATSMAILD" "$BENCH" "$LOAD" "$AD_CTL" "$AD_PLUGIN_SO"; do
	[ -e "$b" ] || { echo "build $b first" >&2; exit 1; }
done
for v in "${VARIANTS[@]}"; do
	case $v in
	tree | batch:[0-9]* | sql:* ) ;;
	*) echo "unknown variant '$v' (tree, sql:FILE, batch:N, sql:FILE,batch:N)" >&2; exit 2 ;;
	esac
	f=${v#sql:}; f=${f%%,batch:*}
	case $v in sql:*) [ -r "$f" ] || { echo "cannot read $f" >&2; exit 2; } ;; esac
done
command -v smtp-source >/dev/null || PATH=$PATH:/usr/sbin
[ "$(id -u)" = 0 ] || { echo "recorder-cost.sh: run as root (the test bed needs it)" >&2; exit 1; }

ad_prepare B
ad_wire B
W=$(ad_dir B)
tb_start pg postfix dovecot
trap ad_cleanup EXIT
echo "# test bed $TB_DIR; $NOUT outbound + $NIN inbound mails, $ROUNDS round(s), variants: ${VARIANTS[*]};" \
	"load: $(cut -d' ' -f1-3 /proc/loadavg)"

ad_db
"$top_srcdir/tests/testbed/testbed.sh" adduser "$TB_DIR" bench-in@atsmail.test benchpw >/dev/null ||
	{ echo "cannot add the mailbox" >&2; exit 1; }
tb_psql >/dev/null <<SQL || { echo "cannot seed" >&2; exit 1; }
INSERT INTO atsmail.users (login, display_name, role, sharing_mode, default_share, needs_approval)
	VALUES ('bench-in@atsmail.test', 'Bench', 'recruiter', 'public', true, false);
INSERT INTO atsmail.resumes (name, phase, shared) VALUES ('Bench Candidate', 'new', true);
INSERT INTO atsmail.addresses (owner_kind, owner_id, addr_norm, is_primary)
	SELECT 'resume', max(id), 'bench@sink.test', true FROM atsmail.resumes
	WHERE name = 'Bench Candidate';
SQL
bl_seed 1 "$RESUMES" || { echo "cannot seed the resumes" >&2; exit 1; }
ad_conf B "internal_networks = 127.0.0.0/8" "log_level = warning"
ad_start B
bl_wait_snapshot "$W/atsmail.conf" || exit 1

# capture KIND: the journal of atsmaild's decisions while the database is down
"$top_srcdir/tests/testbed/testbed.sh" pg-stop "$TB_DIR" >/dev/null
timeout 600 smtp-sink -u postfix -M "$NOUT" "127.0.0.1:$TB_SINK_PORT" 1024 >/dev/null 2>&1 &
sink=$!
smtp-source -s 20 -m "$NOUT" -l 4096 -f alice@atsmail.test -t bench@sink.test \
	"127.0.0.1:$TB_SMTP_PORT" >/dev/null 2>&1
wait "$sink"
ad_stop B
cp -a "$W/journal" "$W/journal.out"
rm -f "$W"/journal/*
ad_start B
"$LOAD" "$TB_LMTP_PORT" "$NIN" 10 rc bench-in@atsmail.test "$RESUMES" "$W/in.times" >/dev/null ||
	{ echo "the inbound mail was not delivered" >&2; exit 1; }
ad_stop B
cp -a "$W/journal" "$W/journal.in"
nout=$(cat "$W"/journal.out/atsmaild.*.jsonl | wc -l)
nin=$(cat "$W"/journal.in/atsmaild.*.jsonl | wc -l)
echo "# captured $nout outbound and $nin inbound journal entries"
"$top_srcdir/tests/testbed/testbed.sh" pg-start "$TB_DIR" >/dev/null

CALLGRIND=${ATSM_BENCH_CALLGRIND:-0}
if [ "$CALLGRIND" = 1 ]; then
	command -v valgrind >/dev/null || { echo "valgrind is not installed" >&2; exit 1; }
	PGBIN=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)
	CG=$W/callgrind
	mkdir -p "$CG" && chown postgres "$CG"
	"$top_srcdir/tests/testbed/testbed.sh" pg-stop "$TB_DIR" >/dev/null
	runuser -u postgres -- valgrind --tool=callgrind --trace-children=yes \
		--callgrind-out-file="$CG/cg.%p" "$PGBIN/postgres" -D "$TB_DIR/pg/data" \
		>"$W/pg-callgrind.log" 2>&1 &
	for _ in $(seq 1 600); do
		"$PGBIN/pg_isready" -q -h "$TB_PGHOST" -p "$TB_PGPORT" && break
		sleep 0.2
	done
	"$PGBIN/pg_isready" -q -h "$TB_PGHOST" -p "$TB_PGPORT" ||
		{ echo "PostgreSQL did not start under callgrind: see $W/pg-callgrind.log" >&2; exit 1; }
	echo "# PostgreSQL runs under callgrind: instructions per entry, not milliseconds"
fi

# ir PID: the instructions callgrind counted for that (ended) backend
ir() {
	local f=$CG/cg.$1 v=
	for _ in $(seq 1 600); do
		v=$(sed -n 's/^summary: *\([0-9]*\).*/\1/p' "$f" 2>/dev/null)
		[ -n "$v" ] && break
		sleep 0.2
	done
	echo "${v:-0}"
}

# rec DB JOURNAL BATCH: recorder-bench's line, with "ir=N" (instructions
# per entry beyond a connection's own) under callgrind
rec() {
	local o e n base
	o=$("$BENCH" "$(conninfo "$1")" "$2" "$3") || return 1
	if [ "$CALLGRIND" = 1 ]; then
		rm -rf "$W/j.empty"; mkdir -m 700 "$W/j.empty"
		e=$("$BENCH" "$(conninfo "$1")" "$W/j.empty" "$3") || return 1
		n=$(field "$o" entries)
		base=$(ir "$(field "$e" backend)")
		o="$o ir=$(awk -v a="$(ir "$(field "$o" backend)")" -v b="$base" -v n="$n" \
			'BEGIN { printf "%.0f", (a - b) / n }')"
	fi
	echo "$o"
}

conninfo() { echo "host=$TB_PGHOST port=$TB_PGPORT dbname=$1 user=${2:-atsm_service}"; }
admin() { psql "$(conninfo "$1" postgres)" -v ON_ERROR_STOP=1 -qAt "${@:2}"; }
field() { printf '%s\n' "$1" | tr ' ' '\n' | sed -n "s/^$2=//p"; }

# one VARIANT ROUND: "out_ms in_ms out_s in_s"
one() {
	local v=$1 db="rc_$2_$RANDOM" sql="" batch=200 o i
	case $v in *batch:*) batch=${v##*batch:} ;; esac
	case $v in sql:*) sql=${v#sql:}; sql=${sql%%,batch:*} ;; esac
	admin postgres -c "CREATE DATABASE $db TEMPLATE $TB_DB" >/dev/null || return 1
	if [ -n "$sql" ]; then
		admin "$db" -f "$sql" >/dev/null || return 1
	fi
	rm -rf "$W/j.run"; cp -a "$W/journal.out" "$W/j.run"
	o=$(rec "$db" "$W/j.run" "$batch") || return 1
	rm -rf "$W/j.run"; cp -a "$W/journal.in" "$W/j.run"
	i=$(rec "$db" "$W/j.run" "$batch") || return 1
	[ "$(field "$o" rejected)" = 0 ] && [ "$(field "$i" rejected)" = 0 ] ||
		echo "# $v: entries refused: out $(field "$o" rejected), in $(field "$i" rejected)" >&2
	admin postgres -c "DROP DATABASE $db" >/dev/null
	echo "$(field "$o" "$METRIC") $(field "$i" "$METRIC") $(field "$o" seconds) $(field "$i" seconds)"
}

METRIC=backend_ms_per_entry UNIT=ms
[ "$CALLGRIND" = 1 ] && METRIC=ir UNIT=Ir
printf '%-6s %-40s %10s %10s %8s %8s\n' round variant "out $UNIT" "in $UNIT" "out s" "in s"
declare -A OUT IN
for ((r = 1; r <= ROUNDS; r++)); do
	for v in "${VARIANTS[@]}"; do
		[ "$CALLGRIND" = 1 ] || bl_settle "$(head -1 "$TB_DIR/pg/data/postmaster.pid")"
		line=$(one "$v" "$r") || { echo "variant $v failed" >&2; exit 1; }
		read -r om im os is <<<"$line"
		printf '%-6s %-40s %10s %10s %8s %8s\n' "$r" "$v" "$om" "$im" "$os" "$is"
		OUT[$v]="${OUT[$v]:-} $om" IN[$v]="${IN[$v]:-} $im"
	done
done
echo
echo "backend $UNIT per entry, medians of $ROUNDS round(s) (spread min-max), and against the first variant:"
base=${VARIANTS[0]}
# shellcheck disable=SC2086
bo=$(bl_median ${OUT[$base]}); bi=$(bl_median ${IN[$base]})
for v in "${VARIANTS[@]}"; do
	# shellcheck disable=SC2086
	mo=$(bl_median ${OUT[$v]}); mi=$(bl_median ${IN[$v]})
	# shellcheck disable=SC2086
	printf '  %-40s outbound %s %s (%s) x%s   inbound %s %s (%s) x%s\n' "$v" "$mo" "$UNIT" \
		"$(bl_spread ${OUT[$v]})" "$(awk -v a="$mo" -v b="$bo" 'BEGIN { printf "%.2f", a / b }')" \
		"$mi" "$UNIT" "$(bl_spread ${IN[$v]})" "$(awk -v a="$mi" -v b="$bi" 'BEGIN { printf "%.2f", a / b }')"
done
