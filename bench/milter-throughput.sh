#!/bin/bash
# bench/milter-throughput.sh -- what atsmaild costs Postfix on the way out,
# measured side by side in one invocation on a private test bed (not part
# of make check; docs/benchmarks.md has the method and the figures).
#
#   bench/milter-throughput.sh [N] [SESSIONS] [R]
#        defaults: 5000 mails, 20 sessions, 1 repetition
#
# The same load three ways: smtp-source (N mails of 4 KiB, SESSIONS
# parallel sessions, from alice@atsmail.test to bench@sink.test, a seeded
# resume) -> the test bed's Postfix (MX port; the client is in
# internal_networks, so the mail is outbound) -> relay sink.test -> smtp-sink.
#   none     Postfix without a milter
#   null     bench/null-milter: the milter protocol alone (libmilter), nothing done
#   atsmail  atsmaild: every mail is ATS mail, decided from the snapshot,
#            journaled (fdatasync) before Postfix is answered, tagged, and
#            recorded in PostgreSQL by the recorder thread
# The database is one in use (bench-lib.sh, bl_seed): 100,000 resumes with
# an address each and 10,000 earlier messages, analysed.  Both milters
# listen on unix sockets.  The time runs from the first
# connection until smtp-sink has every mail and, for atsmail, until the
# last message row has committed (bench/record-watch, LISTEN on
# atsmail_snapshot).  With R > 1 the three run R times, interleaved (the
# order rotates), and the medians are printed too.
#
# CPU per mail, from /proc (bench/bench-lib.sh): Postfix (the master and
# every process of the instance, with the children they reaped), atsmaild,
# PostgreSQL (the postmaster and all its processes, with reaped ones,
# minus the backend of record-watch), and the null milter.
#
# Two builds of atsmaild side by side: ATSM_BENCH_ATSMAILD_B=/path/to/atsmaild
# starts that binary as a second instance (its own journal and snapshot,
# the same database) and adds a fourth configuration, "atsmail-b", to the
# rotation.  Each instance's follower then also reads what the other one
# records, so PostgreSQL's figures of both are a little higher than with
# one instance: compare atsmail and atsmail-b with each other only.
#
# Run from the build directory, as root:
#   top_srcdir=/path/to/src top_builddir=. bash /path/to/src/bench/milter-throughput.sh
set -u
: "${top_srcdir:=$(cd "$(dirname "$0")/.." && pwd)}"
: "${top_builddir:=$top_srcdir}"
. "$top_srcdir/tests/e2e/e2e-lib.sh"
. "$top_srcdir/tests/e2e/atsmaild-lib.sh"
. "$top_srcdir/bench/bench-lib.sh"

N=${1:-5000}
S=${2:-20}
R=${3:-1}
SIZE=4096
NULL=$top_builddir/bench/null-milter
for b in "$NULL" "$ATSMAILD" "$BL_WATCH_BIN" "$AD_CTL"; do
	[ -x "$b" ] || { echo "build $b first" >&2; exit 1; }
done
command -v smtp-source >/dev/null || PATH=$PATH:/usr/sbin
[ "$(id -u)" = 0 ] || { echo "milter-throughput.sh: run as root (the test bed needs it)" >&2; exit 1; }

ad_prepare B
W=$(ad_dir B)
NULL_PID=
finish() {
	if [ -n "$NULL_PID" ]; then
		kill -TERM "$NULL_PID" 2>/dev/null
		# libmilter leaves smfi_main() up to ~5 s after SIGTERM
		for _ in $(seq 1 150); do kill -0 "$NULL_PID" 2>/dev/null || break; sleep 0.1; done
	fi
	ad_cleanup
}
export TB_POSTFIX_MILTERS=
tb_start pg postfix
trap finish EXIT
bl_profile_setup
echo "# test bed $TB_DIR; $N mails of $SIZE bytes, $S sessions, $R repetition(s); load: $(cut -d' ' -f1-3 /proc/loadavg)"

ad_db
bl_profile_db
tb_psql >/dev/null <<'SQL' || { echo "cannot seed the bench resume" >&2; exit 1; }
INSERT INTO atsmail.resumes (name, phase, shared) VALUES ('Bench Candidate', 'new', true);
INSERT INTO atsmail.addresses (owner_kind, owner_id, addr_norm, is_primary)
	SELECT 'resume', max(id), 'bench@sink.test', true FROM atsmail.resumes
	WHERE name = 'Bench Candidate';
SQL
bl_seed 1 100000 || { echo "cannot seed the resumes" >&2; exit 1; }
ad_conf B "internal_networks = 127.0.0.0/8" "log_level = warning" ${ATSM_BENCH_CONF:+"$ATSM_BENCH_CONF"}
ad_start B
bl_wait_snapshot "$W/atsmail.conf" || exit 1
ATS_PID=$(ad_pid B)
CONFIGS=(none null atsmail)
declare -A MILTER_OF=([none]="" [null]="unix:$W/null.sock" [atsmail]="unix:$W/milter.sock")
declare -A AD_PID_OF=([none]="$ATS_PID" [null]="$ATS_PID" [atsmail]="$ATS_PID")
if [ -n "${ATSM_BENCH_ATSMAILD_B:-}" ]; then
	[ -x "$ATSM_BENCH_ATSMAILD_B" ] || { echo "$ATSM_BENCH_ATSMAILD_B is not executable" >&2; exit 1; }
	ad_prepare B2
	cp "$W/secret" "$(ad_dir B2)/secret"
	ad_conf B2 "internal_networks = 127.0.0.0/8" "log_level = warning" \
		${ATSM_BENCH_CONF:+"$ATSM_BENCH_CONF"}
	ATSMAILD=$ATSM_BENCH_ATSMAILD_B ad_start B2
	bl_wait_snapshot "$(ad_dir B2)/atsmail.conf" || exit 1
	CONFIGS+=(atsmail-b)
	MILTER_OF[atsmail-b]="unix:$(ad_dir B2)/milter.sock"
	AD_PID_OF[atsmail-b]=$(ad_pid B2)
	echo "# atsmail-b: $ATSM_BENCH_ATSMAILD_B"
fi

"$NULL" -p "unix:$W/null.sock" -P "$W/null.pid" >>"$W/null.log" 2>&1 </dev/null &
for _ in $(seq 1 100); do [ -s "$W/null.pid" ] && break; sleep 0.05; done
NULL_PID=$(cat "$W/null.pid")

PF_PID=$(head -1 "$TB_DIR/postfix/spool/pid/master.pid" | tr -d ' ')
PG_PID=$(head -1 "$TB_DIR/pg/data/postmaster.pid")

use_milter() {
	postconf -c "$TB_POSTFIX_CONF" -e "smtpd_milters = $1"
	postfix -c "$TB_POSTFIX_CONF" reload >/dev/null 2>&1
	sleep 2
}

recorded_count() {
	tb_psql -c "SELECT count(*) FROM atsmail.message_links l
		JOIN atsmail.addresses a ON a.owner_kind = 'resume' AND a.owner_id = l.target_id
		WHERE l.target_kind = 'resume' AND a.addr_norm = 'bench@sink.test'"
}

# run NAME: one measured run; prints
# "NAME seconds rate postfix_ms atsmaild_ms pg_ms null_ms recorded lag"
run() {
	local name=$1 t0 t1 sink lag=- pf0 pf1 pg0 pg1 ad0 ad1 nm0 nm1 c0 c1 wt=0 rec=-
	local ap=${AD_PID_OF[$1]} ats=false
	case $name in atsmail*) ats=true ;; esac
	postsuper -c "$TB_POSTFIX_CONF" -d ALL >/dev/null 2>&1
	bl_settle "$PG_PID" "$ATS_PID" "$PF_PID" ${AD_PID_OF[atsmail-b]:-}
	# at most 10 minutes
	timeout 600 smtp-sink -u postfix -M "$N" "127.0.0.1:$TB_SINK_PORT" 1024 >/dev/null 2>&1 &
	sink=$!
	if $ats; then
		c0=$(recorded_count)
		bl_watch_start "$W/watch.$name" "$N" || return 1
	fi
	sleep 0.3
	$ats && bl_profile_start "$name.$REP"
	pf0=$(bl_tree_ticks "$PF_PID"); pg0=$(bl_tree_ticks "$PG_PID")
	ad0=$(bl_ticks "$ap"); nm0=$(bl_ticks "$NULL_PID")
	t0=$(date +%s.%N)
	smtp-source -s "$S" -m "$N" -l "$SIZE" -f alice@atsmail.test -t bench@sink.test \
		"127.0.0.1:$TB_SMTP_PORT" >/dev/null 2>&1
	wait "$sink"
	t1=$(date +%s.%N)
	if $ats; then
		bl_watch_wait
		wt=$BL_WATCH_TICKS
		# the record lag: how long after smtp-sink had the last mail the
		# last row committed (0 when it was before)
		lag=$(awk -v a="$t1" -v b="${BL_WATCH_LAST:-0}" 'BEGIN { printf "%.2f", (b + 0 > a + 0) ? b - a : 0 }')
		t1=$(awk -v a="$t1" -v b="${BL_WATCH_LAST:-0}" 'BEGIN { printf "%.6f", (b + 0 > a + 0) ? b : a }')
		c1=$(recorded_count)
		rec=$((c1 - c0))
	fi
	pf1=$(bl_tree_ticks "$PF_PID"); pg1=$(bl_tree_ticks "$PG_PID")
	ad1=$(bl_ticks "$ap"); nm1=$(bl_ticks "$NULL_PID")
	$ats && bl_profile_stop "$name.$REP"
	awk -v n="$name" -v a="$t0" -v b="$t1" -v m="$N" -v rec="$rec" -v lag="$lag" \
	    -v pf=$((pf1 - pf0)) -v ad=$((ad1 - ad0)) -v pg=$((pg1 - pg0 - wt)) \
	    -v nm=$((nm1 - nm0)) -v hz="$BL_HZ" 'BEGIN {
		k = 1000 / hz / m
		printf "%s %.2f %.1f %.3f %.3f %.3f %.3f %s %s\n", n, b - a, m / (b - a),
		    pf * k, ad * k, pg * k, nm * k, rec, lag }'
}

declare -A RATE PF AD PG NM
NC=${#CONFIGS[@]}
FMT='%-4s %-8s %8s %8s %9s %9s %9s %9s %9s %7s\n'
# shellcheck disable=SC2059
printf "$FMT" rep config seconds "mails/s" postfix atsmaild postgres null recorded "lag s"
# shellcheck disable=SC2059
printf "$FMT" "" "" "" "" "ms/mail" "ms/mail" "ms/mail" "ms/mail" "" ""
for ((rep = 1; rep <= R; rep++)); do
	REP=$rep
	for ((k = 0; k < NC; k++)); do
		cfg=${CONFIGS[$(((k + rep - 1) % NC))]}
		use_milter "${MILTER_OF[$cfg]}"
		line=$(run "$cfg") || { echo "run $cfg failed" >&2; exit 1; }
		read -r _ sec rate pf ad pg nm rec lag <<<"$line"
		# shellcheck disable=SC2059
		printf "$FMT" "$rep" "$cfg" "$sec" "$rate" "$pf" "$ad" "$pg" "$nm" "$rec" "$lag"
		RATE[$cfg.$rep]=$rate PF[$cfg.$rep]=$pf AD[$cfg.$rep]=$ad PG[$cfg.$rep]=$pg
		NM[$cfg.$rep]=$nm
		if [ "$rec" != - ] && [ "$rec" != "$N" ]; then
			echo "# run $rep: only $rec of $N mails recorded" >&2
		fi
	done
done

# per repetition: the ratios of that repetition's runs; then the medians
vals() { local c=$1 f=$2 rep; for ((rep = 1; rep <= R; rep++)); do eval "echo \${$f[$c.$rep]}"; done; }
echo
echo "medians of $R run(s) (spread min-max):"
for c in "${CONFIGS[@]}"; do
	# shellcheck disable=SC2046
	printf '  %-9s %8s mails/s (%s)   Postfix CPU %s ms/mail\n' "$c" \
		"$(bl_median $(vals "$c" RATE))" "$(bl_spread $(vals "$c" RATE))" \
		"$(bl_median $(vals "$c" PF))"
done
for a in "${CONFIGS[@]}"; do
	case $a in atsmail*) ;; *) continue ;; esac
	r_null=() r_none=() cpu=() pfa=() ratio_cpu=()
	for ((rep = 1; rep <= R; rep++)); do
		k=$a.$rep
		r_null+=("$(awk -v a="${RATE[$k]}" -v b="${RATE[null.$rep]}" 'BEGIN { printf "%.3f", a / b }')")
		r_none+=("$(awk -v a="${RATE[$k]}" -v b="${RATE[none.$rep]}" 'BEGIN { printf "%.3f", a / b }')")
		cpu+=("$(awk -v a="${AD[$k]}" -v b="${PG[$k]}" 'BEGIN { printf "%.3f", a + b }')")
		pfa+=("${PF[$k]}")
		ratio_cpu+=("$(awk -v a="${AD[$k]}" -v b="${PG[$k]}" -v c="${PF[$k]}" \
			'BEGIN { printf "%.3f", (a + b) / c }')")
	done
	printf '  %s / null: %s (%s)   target >= 0.95\n' "$a" "$(bl_median "${r_null[@]}")" \
		"$(bl_spread "${r_null[@]}")"
	printf '  %s / none: %s (%s)\n' "$a" "$(bl_median "${r_none[@]}")" "$(bl_spread "${r_none[@]}")"
	# shellcheck disable=SC2046
	printf '  CPU per mail, %s run: atsmaild %s ms + PostgreSQL %s ms = %s ms (%s);' "$a" \
		"$(bl_median $(vals "$a" AD))" "$(bl_median $(vals "$a" PG))" \
		"$(bl_median "${cpu[@]}")" "$(bl_spread "${cpu[@]}")"
	printf ' Postfix %s ms; ratio %s (%s)\n' "$(bl_median "${pfa[@]}")" \
		"$(bl_median "${ratio_cpu[@]}")" "$(bl_spread "${ratio_cpu[@]}")"
done
