# bench/bench-lib.sh -- what the benchmarks share (sourced after
# tests/e2e/e2e-lib.sh): CPU time of process trees, the record watcher,
# medians.
#
#   bl_seed FROM TO            resumes 100000+FROM .. 100000+TO, each with the
#                              address candK@bench.example (K = id - 100000),
#                              and for every tenth an earlier outbound message
#                              <bench-K@atsmail.test> from alice, linked to it,
#                              so that the tables have the shape and the
#                              statistics of a database in use; then VACUUM
#                              (ANALYZE) and CHECKPOINT
#   bl_wait_snapshot CONF      until the snapshot of the atsmaild of CONF holds
#                              every address and message of the database (at
#                              most 10 minutes)
#   bl_tree PID                PID and every process descended from it
#   bl_ticks PID...            CPU clock ticks (user + system) these processes
#                              used so far, with those of the children they
#                              have reaped (cutime + cstime)
#   bl_tree_ticks PID          bl_ticks of the whole tree under PID
#   bl_ms_per TICKS N          TICKS as milliseconds per one of N mails
#   bl_watch_start OUT N       start bench/record-watch (LISTEN on
#                              atsmail_snapshot) until N new message rows
#                              committed; sets BL_WATCH (its PID) and
#                              BL_WATCH_OUT (its stdout); OUT gets
#                              "epoch id" per row
#   bl_watch_wait              wait for it; sets BL_WATCH_SEEN, BL_WATCH_LAST
#                              (epoch of the last row) and BL_WATCH_TICKS
#                              (CPU ticks of its own PostgreSQL backend,
#                              to be subtracted from PostgreSQL's)
#   bl_settle PID...           wait (at most 2 minutes) until the trees under
#                              these PIDs use less than 3 % of a CPU over a
#                              second: the work a set-up left (autovacuum,
#                              the snapshot follower) is not measured
#   bl_median V...             the median of the values
#   bl_spread V...             "min-max"
#
# Profiling (ATSM_BENCH_PROFILE=DIR; the figures of a profiled run are not
# the benchmark's: pg_stat_statements with track = all and perf cost CPU):
#   bl_profile_setup           after tb_start: pg_stat_statements preloaded
#                              (track = all, nested statements too) and
#                              track_functions = all; restarts PostgreSQL
#   bl_profile_db              after the migration: CREATE EXTENSION
#   bl_profile_start NAME      reset the statistics; perf record -a -g
#   bl_profile_stop NAME       DIR/NAME.pgcpu.txt (CPU of each PostgreSQL
#                              process by application or backend type),
#                              DIR/NAME.pgss.txt (statements by total time),
#                              DIR/NAME.funcs.txt (functions),
#                              DIR/NAME.perf.txt (CPU by command, then the
#                              hottest symbols of each command), and the
#                              perf data itself
#
# Why a database in use: plans are cached per connection.  In a young
# database (empty tables, no statistics yet) PostgreSQL plans the lookups
# of the record functions and of its own foreign-key checks as sequential
# scans, and keeps those plans until autovacuum analyses the tables; a run
# that starts from empty tables then pays a scan of all messages per mail.
#
# Why whole trees with reaped children: Postfix and Dovecot start and end
# processes all the time (an smtpd serves 100 sessions, then exits), and a
# PostgreSQL backend can end during a run; a process that exits is reaped
# by its parent, whose cutime/cstime then hold all of its time.  A process
# alive at the first reading and reaped by the second is counted exactly:
# its time up to the first reading is in the first sum, all of it in the
# second.

BL_HZ=$(getconf CLK_TCK)
BL_WATCH_BIN=${top_builddir:-.}/bench/record-watch

bl_seed() {
	tb_psql >/dev/null <<SQL || return 1
INSERT INTO atsmail.resumes (id, name, created_from) OVERRIDING SYSTEM VALUE
	SELECT 100000 + g, 'Bench ' || g, 'import' FROM generate_series($1, $2) g;
INSERT INTO atsmail.addresses (owner_kind, owner_id, addr_norm, is_primary)
	SELECT 'resume', 100000 + g, 'cand' || g || '@bench.example', true
	FROM generate_series($1, $2) g;
INSERT INTO atsmail.messages (id, direction, rfc_message_id, owner_id, counterparts, subject,
	sent_at, token, idempotency_key) OVERRIDING SYSTEM VALUE
	SELECT 100000 + g, 'out', 'bench-' || g || '@atsmail.test', 1,
		ARRAY['cand' || g || '@bench.example'], 'Interview', now() - interval '30 days',
		'benchtoken' || g, 'bench-key-' || g
	FROM generate_series($1, $2) g WHERE g % 10 = 0;
INSERT INTO atsmail.message_links (message_id, target_kind, target_id, rule)
	SELECT 100000 + g, 'resume', 100000 + g, 'recipient_address'
	FROM generate_series($1, $2) g WHERE g % 10 = 0;
INSERT INTO atsmail.message_recipients (message_id, address, kind)
	SELECT 100000 + g, 'cand' || g || '@bench.example', 'to'
	FROM generate_series($1, $2) g WHERE g % 10 = 0;
SQL
	tb_psql -c "VACUUM (ANALYZE)" -c CHECKPOINT >/dev/null
}

bl_wait_snapshot() {
	local want_a want_m st a m
	want_a=$(tb_psql -c "SELECT count(*) FROM atsmail.addresses")
	want_m=$(tb_psql -c "SELECT count(*) FROM atsmail.messages")
	for _ in $(seq 1 1200); do
		st=$("$AD_CTL" -c "$1" snapshot status 2>/dev/null)
		a=$(printf '%s\n' "$st" | sed -n 's/^addresses: *\([0-9]*\).*/\1/p')
		m=$(printf '%s\n' "$st" | sed -n 's/^messages: *\([0-9]*\).*/\1/p')
		[ "${a:-0}" -ge "$want_a" ] && [ "${m:-0}" -ge "$want_m" ] && return 0
		sleep 0.5
	done
	echo "the snapshot did not catch up: $a of $want_a addresses, $m of $want_m messages" >&2
	return 1
}

bl_tree() {
	ps -e -o pid=,ppid= | awk -v root="$1" '
		{ kids[$2] = kids[$2] " " $1 }
		END {
			stack[1] = root; n = 1
			while (n > 0) {
				p = stack[n--]; print p
				k = split(kids[p], a, " ")
				for (i = 1; i <= k; i++) stack[++n] = a[i]
			}
		}'
}

bl_ticks() {
	local p
	for p in "$@"; do cat "/proc/$p/stat" 2>/dev/null; echo; done |
		awk 'NF { sub(/^.*\) /, ""); t += $12 + $13 + $14 + $15 } END { printf "%d\n", t }'
}

bl_tree_ticks() {
	[ -n "${1:-}" ] || { echo 0; return; }
	# shellcheck disable=SC2046
	bl_ticks $(bl_tree "$1")
}

bl_ms_per() {
	awk -v t="$1" -v n="$2" -v hz="$BL_HZ" 'BEGIN { printf "%.3f\n", t * 1000 / hz / n }'
}

bl_watch_start() {
	BL_WATCH_OUT=$1.stdout
	: >"$BL_WATCH_OUT"
	"$BL_WATCH_BIN" "$TB_PG_ADMIN" "$2" "${BL_WATCH_TIMEOUT:-600}" "$1" >"$BL_WATCH_OUT" 2>&1 &
	BL_WATCH=$!
	for _ in $(seq 1 200); do grep -q '^backend=' "$BL_WATCH_OUT" && return 0; sleep 0.02; done
	echo "record-watch did not start: $(cat "$BL_WATCH_OUT")" >&2
	return 1
}

bl_watch_wait() {
	local t0 t1
	wait "$BL_WATCH"
	BL_WATCH_SEEN=$(sed -n 's/^seen=\([0-9]*\).*/\1/p' "$BL_WATCH_OUT")
	BL_WATCH_LAST=$(sed -n 's/^seen=.* last=\([0-9.]*\).*/\1/p' "$BL_WATCH_OUT")
	t0=$(sed -n 's/^backend=.* ticks=\([0-9]*\).*/\1/p' "$BL_WATCH_OUT")
	t1=$(sed -n 's/^backend_ticks=\([0-9]*\).*/\1/p' "$BL_WATCH_OUT")
	BL_WATCH_TICKS=$(( ${t1:-0} - ${t0:-0} ))
	# the backend exits with the connection: let the postmaster reap it
	sleep 0.2
}

bl_settle() {
	local a b p
	for _ in $(seq 1 120); do
		a=0; b=0
		for p in "$@"; do a=$((a + $(bl_tree_ticks "$p"))); done
		sleep 1
		for p in "$@"; do b=$((b + $(bl_tree_ticks "$p"))); done
		[ $((b - a)) -lt $((BL_HZ * 3 / 100 + 1)) ] && return 0
	done
	echo "# the machine did not settle: $((b - a)) ticks in the last second" >&2
}

BL_PROFILE=${ATSM_BENCH_PROFILE:-}
BL_PERF=

bl_profile_setup() {
	[ -n "$BL_PROFILE" ] || return 0
	mkdir -p "$BL_PROFILE"
	cat >>"$TB_DIR/pg/data/postgresql.conf" <<CONF
shared_preload_libraries = 'pg_stat_statements'
pg_stat_statements.track = all
track_functions = all
CONF
	"$top_srcdir/tests/testbed/testbed.sh" pg-stop "$TB_DIR" >/dev/null &&
		"$top_srcdir/tests/testbed/testbed.sh" pg-start "$TB_DIR" >/dev/null
	echo "# profiling into $BL_PROFILE: these figures are not the benchmark's" >&2
}

bl_profile_db() {
	[ -n "$BL_PROFILE" ] || return 0
	tb_psql -c "CREATE EXTENSION IF NOT EXISTS pg_stat_statements" >/dev/null
}

# bl_pg_procs: "pid label" of every PostgreSQL process, labelled by its
# application_name or backend type (pg_stat_activity)
bl_pg_procs() {
	tb_psql -F ' ' -c "SELECT pid, replace(coalesce(nullif(application_name, ''), backend_type),
		' ', '_') FROM pg_stat_activity WHERE pid <> pg_backend_pid()"
}

# bl_pg_ticks FILE: "label ticks" per process listed in FILE (bl_pg_procs)
bl_pg_ticks() {
	local pid label
	while read -r pid label; do
		echo "$label $(bl_ticks "$pid")"
	done <"$1"
}

bl_profile_start() {
	[ -n "$BL_PROFILE" ] || return 0
	tb_psql -c "SELECT pg_stat_statements_reset()" -c "SELECT pg_stat_reset()" >/dev/null
	bl_pg_procs >"$BL_PROFILE/$1.pgprocs"
	bl_pg_ticks "$BL_PROFILE/$1.pgprocs" >"$BL_PROFILE/$1.pgticks0"
	if command -v perf >/dev/null; then
		perf record -a -g -F 499 -o "$BL_PROFILE/$1.perf.data" >/dev/null 2>&1 &
		BL_PERF=$!
		sleep 0.5
	fi
}

bl_profile_stop() {
	local f=$BL_PROFILE/$1
	[ -n "$BL_PROFILE" ] || return 0
	# CPU of each PostgreSQL process during the run, in ms (those that
	# ended meanwhile are missing)
	bl_pg_ticks "$f.pgprocs" | paste -d ' ' "$f.pgticks0" - | awk -v hz="$BL_HZ" \
		'{ t[$1] += $4 - $2 } END { for (k in t) printf "%-32s %8.0f ms\n", k, t[k] * 1000 / hz }' |
		sort -k2 -rn >"$f.pgcpu.txt"
	if [ -n "$BL_PERF" ]; then
		kill -INT "$BL_PERF"
		wait "$BL_PERF"
		BL_PERF=
		{
			perf report -i "$f.perf.data" --no-children --sort comm --stdio -g none 2>/dev/null |
				grep -v '^#' | grep -v '^$' | head -25
			for c in atsmaild postgres lmtp smtpd cleanup; do
				echo "== $c"
				perf report -i "$f.perf.data" --no-children --comm "$c" --sort dso,sym \
					--stdio -g none 2>/dev/null | grep -v '^#' | grep -v '^$' | head -30
			done
		} >"$f.perf.txt"
	fi
	sleep 1   # statistics reach the cumulative views within a second
	tb_psql -F ' | ' -c "SELECT calls, round(total_exec_time::numeric, 1) AS ms,
		round((total_exec_time / greatest(calls, 1))::numeric, 4) AS ms_per_call,
		left(regexp_replace(query, '\s+', ' ', 'g'), 160)
		FROM pg_stat_statements ORDER BY total_exec_time DESC LIMIT 40" >"$f.pgss.txt"
	tb_psql -F ' | ' -c "SELECT funcname, calls, round(total_time::numeric, 1) AS total_ms,
		round(self_time::numeric, 1) AS self_ms FROM pg_stat_user_functions
		ORDER BY total_time DESC" >"$f.funcs.txt"
}

bl_median() {
	printf '%s\n' "$@" | sort -g | awk '{ v[NR] = $1 }
		END { if (NR % 2) print v[(NR + 1) / 2]; else printf "%.3f\n", (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}

bl_spread() {
	printf '%s\n' "$@" | sort -g | awk 'NR == 1 { lo = $1 } { hi = $1 } END { printf "%s-%s\n", lo, hi }'
}
