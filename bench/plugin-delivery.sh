#!/bin/bash
# bench/plugin-delivery.sh -- what filing costs a delivery: LMTP into
# Dovecot without the plugin and with it (the plugin asks atsmaild, which
# decides from its snapshot, journals, and records in PostgreSQL), side by
# side in one invocation on a private test bed, at 100,000 resumes and
# then at 1,000,000 (not part of make check; docs/benchmarks-plugin.md has
# the method and the figures).
#
#   bench/plugin-delivery.sh [N] [SESSIONS] [R]
#        defaults: 2000 mails per pass, 10 sessions, 1 repetition
#   ATSM_BENCH_SIZES="100000 1000000"   the directory sizes, in order
#
# Every resume has one address, candK@bench.example, and every tenth an
# earlier mail recorded as sent to it (bench-lib.sh, bl_seed); mail i of a
# pass is a reply to one of those, from that address (bench/lmtp-load), so
# with the plugin every mail is ATS mail and is filed (In-Reply-To and the
# sender's address; the phase rule new -> active fires on most).  Each pass delivers to a mailbox of its
# own, empty at its start.  At each size R repetitions of "off" and "on"
# run, interleaved (the order alternates); the plugin is switched by
# editing mail_plugins of protocol lmtp and `doveadm reload`.
#
# What is timed: from the first LMTP connection until the last mail is
# delivered (off) or recorded in PostgreSQL (on: bench/record-watch sees
# the commit of every message row, LISTEN on atsmail_snapshot).  The
# delivery-to-record latency of a mail: from the moment its LMTP
# transaction ended (the client's clock) to the moment its row's commit
# was notified.  CPU per mail from /proc (bench/bench-lib.sh): atsmaild,
# PostgreSQL (every process, with reaped ones, minus record-watch's
# backend) and Dovecot (the master and every process under it).
#
# Run from the build directory, as root:
#   top_srcdir=/path/to/src top_builddir=. bash /path/to/src/bench/plugin-delivery.sh
set -u
: "${top_srcdir:=$(cd "$(dirname "$0")/.." && pwd)}"
: "${top_builddir:=$top_srcdir}"
. "$top_srcdir/tests/e2e/e2e-lib.sh"
. "$top_srcdir/tests/e2e/atsmaild-lib.sh"
. "$top_srcdir/bench/bench-lib.sh"

N=${1:-2000}
S=${2:-10}
R=${3:-1}
SIZES=${ATSM_BENCH_SIZES:-100000 1000000}
LOAD=$top_builddir/bench/lmtp-load
for b in "$ATSMAILD" "$LOAD" "$BL_WATCH_BIN" "$AD_CTL" "$AD_PLUGIN_SO"; do
	[ -e "$b" ] || { echo "build $b first" >&2; exit 1; }
done
[ "$(id -u)" = 0 ] || { echo "plugin-delivery.sh: run as root (the test bed needs it)" >&2; exit 1; }

ad_prepare B
ad_wire B
W=$(ad_dir B)
tb_start pg dovecot
trap ad_cleanup EXIT
bl_profile_setup
echo "# test bed $TB_DIR; $N mails per pass, $S LMTP sessions, $R repetition(s), sizes $SIZES;" \
	"load: $(cut -d' ' -f1-3 /proc/loadavg)"

ad_db
bl_profile_db
# one mailbox per pass: a Dovecot user and an atsmail user of that login
USERS=()
for size in $SIZES; do
	for ((rep = 1; rep <= R; rep++)); do
		for mode in off on; do
			u="bench-$size-$rep-$mode@atsmail.test"
			USERS+=("$u")
			"$top_srcdir/tests/testbed/testbed.sh" adduser "$TB_DIR" "$u" benchpw >/dev/null ||
				{ echo "cannot add the mailbox $u" >&2; exit 1; }
		done
	done
done
for u in "${USERS[@]}"; do
	echo "INSERT INTO atsmail.users (login, display_name, role, sharing_mode, default_share,
		needs_approval) VALUES ('$u', 'Bench', 'recruiter', 'public', true, false);"
done | tb_psql >/dev/null || { echo "cannot create the bench users" >&2; exit 1; }

ad_conf B "log_level = warning" ${ATSM_BENCH_CONF:+"$ATSM_BENCH_CONF"}
ad_start B
ATS_PID=$(ad_pid B)
PG_PID=$(head -1 "$TB_DIR/pg/data/postmaster.pid")
DC_PID=$(head -1 "$TB_DIR/dovecot/run/master.pid")

plugin() {   # on | off
	local want=""
	[ "$1" = on ] && want=" atsmail"
	sed -i "/^protocol lmtp {/,/^}/ s/^\(  mail_plugins = \$mail_plugins\).*/\1$want/" \
		"$TB_DOVECOT_CONF"
	doveadm -c "$TB_DOVECOT_CONF" reload
	sleep 2
}

# latency TAG: "filed median p90 p99 max" (ms) of the pass TAG
latency() {
	tb_psql -F ' ' -c "SELECT m.id, m.rfc_message_id, EXISTS (SELECT 1 FROM atsmail.message_links l
		WHERE l.message_id = m.id) FROM atsmail.messages m
		WHERE m.direction = 'in' AND m.rfc_message_id LIKE '$1.%'" >"$W/$1.ids"
	python3 - "$W/$1.times" "$W/$1.watch" "$W/$1.ids" <<'PY'
import sys
done = dict(l.split() for l in open(sys.argv[1]))
seen = {i: float(t) for t, i in (l.split() for l in open(sys.argv[2]))}
lat, filed = [], 0
for l in open(sys.argv[3]):
    i, mid, linked = l.split()
    filed += linked == "t"
    if i in seen and mid in done:
        lat.append((seen[i] - float(done[mid])) * 1000)
lat.sort()
q = lambda f: lat[min(len(lat) - 1, int(f * len(lat)))] if lat else float("nan")
print(f"{filed} {q(0.5):.1f} {q(0.9):.1f} {q(0.99):.1f} {lat[-1] if lat else float('nan'):.1f}")
PY
}

# pass SIZE REP MODE: prints "rate dovecot_ms atsmaild_ms pg_ms filed med p90 p99 max"
pass() {
	local size=$1 rep=$2 mode=$3 tag="p$1r$2$3" rcpt="bench-$1-$2-$3@atsmail.test"
	local dc0 dc1 pg0 pg1 ad0 ad1 out start end wt=0 lat="- - - - -"
	bl_settle "$PG_PID" "$ATS_PID" "$DC_PID"
	if [ "$mode" = on ]; then
		bl_watch_start "$W/$tag.watch" "$N" || return 1
	fi
	bl_profile_start "$tag"
	dc0=$(bl_tree_ticks "$DC_PID"); pg0=$(bl_tree_ticks "$PG_PID"); ad0=$(bl_ticks "$ATS_PID")
	out=$("$LOAD" "$TB_LMTP_PORT" "$N" "$S" "$tag" "$rcpt" "$size" "$W/$tag.times") ||
		return 1
	start=$(echo "$out" | sed -n 's/.*start=\([0-9.]*\).*/\1/p')
	end=$(echo "$out" | sed -n 's/.*end=\([0-9.]*\).*/\1/p')
	if [ "$mode" = on ]; then
		bl_watch_wait
		wt=$BL_WATCH_TICKS
		end=$(awk -v a="$end" -v b="${BL_WATCH_LAST:-0}" 'BEGIN { printf "%.6f", (b + 0 > a + 0) ? b : a }')
	fi
	dc1=$(bl_tree_ticks "$DC_PID"); pg1=$(bl_tree_ticks "$PG_PID"); ad1=$(bl_ticks "$ATS_PID")
	bl_profile_stop "$tag"
	[ "$mode" = on ] && lat=$(latency "$tag")
	awk -v a="$start" -v b="$end" -v n="$N" -v hz="$BL_HZ" -v dc=$((dc1 - dc0)) \
	    -v ad=$((ad1 - ad0)) -v pg=$((pg1 - pg0 - wt)) -v lat="$lat" 'BEGIN {
		k = 1000 / hz / n
		printf "%.1f %.3f %.3f %.3f %s\n", n / (b - a), dc * k, ad * k, pg * k, lat }'
}

FMT='%-9s %-3s %-4s %8s %8s %8s %8s %7s %7s %7s %7s %7s\n'
# shellcheck disable=SC2059
printf "$FMT" resumes rep mode "mails/s" dovecot atsmaild postgres filed "med" "p90" "p99" "max"
# shellcheck disable=SC2059
printf "$FMT" "" "" "" "" "ms/mail" "ms/mail" "ms/mail" "" "ms" "ms" "ms" "ms"
declare -A RATE DC AD PG P50 P90 P99 PMAX
have=0
cur=
for size in $SIZES; do
	if [ "$size" -gt "$have" ]; then
		t0=$(date +%s)
		bl_seed $((have + 1)) "$size" || { echo "cannot add resumes up to $size" >&2; exit 1; }
		bl_wait_snapshot "$W/atsmail.conf" || exit 1
		bl_settle "$PG_PID" "$ATS_PID"
		echo "# $size resumes in PostgreSQL and in the snapshot ($(( $(date +%s) - t0 )) s)"
		have=$size
	fi
	for ((rep = 1; rep <= R; rep++)); do
		if ((rep % 2)); then order="off on"; else order="on off"; fi
		for mode in $order; do
			[ "$mode" != "$cur" ] && plugin "$mode" && cur=$mode
			line=$(pass "$size" "$rep" "$mode") || { echo "pass $size/$rep/$mode failed" >&2; exit 1; }
			read -r rate dc ad pg filed p50 p90 p99 pmax <<<"$line"
			# shellcheck disable=SC2059
			printf "$FMT" "$size" "$rep" "$mode" "$rate" "$dc" "$ad" "$pg" "$filed" "$p50" \
				"$p90" "$p99" "$pmax"
			k=$size.$rep.$mode
			RATE[$k]=$rate DC[$k]=$dc AD[$k]=$ad PG[$k]=$pg
			P50[$k]=$p50 P90[$k]=$p90 P99[$k]=$p99 PMAX[$k]=$pmax
			if [ "$mode" = on ] && [ "$filed" != "$N" ]; then
				echo "# pass $k: only $filed of $N mails filed" >&2
			fi
		done
	done
done

# per size: medians over the repetitions (spread min-max)
vals() { local f=$1 size=$2 mode=$3 rep; for ((rep = 1; rep <= R; rep++)); do eval "echo \${$f[$size.$rep.$mode]}"; done; }
per_rep() {   # per_rep SIZE AWK-EXPR-of-on-and-off-fields... : one value per repetition
	local size=$1 expr=$2 rep k
	for ((rep = 1; rep <= R; rep++)); do
		k=$size.$rep
		awk -v ron="${RATE[$k.on]}" -v roff="${RATE[$k.off]}" -v ad="${AD[$k.on]}" \
		    -v pg="${PG[$k.on]}" -v dc="${DC[$k.on]}" -v dcoff="${DC[$k.off]}" \
		    "BEGIN { printf \"%.3f\\n\", $expr }"
	done
}
med() { bl_median "$@"; }
declare -A COST ONRATE
echo
echo "medians of $R repetition(s) (spread min-max):"
for size in $SIZES; do
	# shellcheck disable=SC2046
	{
	ratio=$(per_rep "$size" 'ron / roff')
	cost=$(per_rep "$size" 'ad + pg')
	rel=$(per_rep "$size" '(ad + pg) / dc')
	printf '  %s resumes: without %s mails/s (%s), with %s mails/s (%s)\n' "$size" \
		"$(med $(vals RATE "$size" off))" "$(bl_spread $(vals RATE "$size" off))" \
		"$(med $(vals RATE "$size" on))" "$(bl_spread $(vals RATE "$size" on))"
	printf '    with / without: %s (%s)   target >= 0.90\n' "$(med $ratio)" "$(bl_spread $ratio)"
	printf '    delivery-to-record: median %s ms, p90 %s, p99 %s (%s; target <= 50), max %s\n' \
		"$(med $(vals P50 "$size" on))" "$(med $(vals P90 "$size" on))" \
		"$(med $(vals P99 "$size" on))" "$(bl_spread $(vals P99 "$size" on))" \
		"$(med $(vals PMAX "$size" on))"
	printf '    CPU per mail: atsmaild %s ms + PostgreSQL %s ms = %s ms (%s); Dovecot %s ms with the plugin, %s without; (atsmaild + PostgreSQL) / Dovecot %s\n' \
		"$(med $(vals AD "$size" on))" "$(med $(vals PG "$size" on))" "$(med $cost)" \
		"$(bl_spread $cost)" "$(med $(vals DC "$size" on))" "$(med $(vals DC "$size" off))" \
		"$(med $rel)"
	}
	COST[$size]=$(med $cost)
	ONRATE[$size]=$(med $(vals RATE "$size" on))
done
set -- $SIZES
if [ $# -ge 2 ]; then
	first=$1
	eval "last=\${$#}"
	awk -v a="${COST[$first]}" -v b="${COST[$last]}" -v ra="${ONRATE[$first]}" \
	    -v rb="${ONRATE[$last]}" -v f="$first" -v l="$last" 'BEGIN {
		printf "  %s vs %s resumes: CPU per mail (atsmaild + PostgreSQL) x%.2f (target <= 1.20), rate with the plugin x%.2f\n",
		    l, f, b / a, rb / ra }'
fi
