#!/bin/bash
# bench/shared-delivery.sh -- what the shared-mailbox workflow costs a
# delivery: LMTP into Dovecot with the plugin, to a mailbox that is an
# ordinary one (workflow off) and to one named in shared_mailboxes (on:
# atsmaild records the item with shared_deliver -- a rule chooses the
# assignee, a notification is queued -- and the plugin moves the mail into
# 未対応/<assignee> after the commit), side by side in one invocation on a
# private test bed (not part of make check; docs/benchmarks.md has the
# method and the figures).
#
#   bench/shared-delivery.sh [N] [SESSIONS] [R] [RESUMES]
#        defaults: 1000 mails per pass, 10 sessions, 2 repetitions, 10000 resumes
#
# The method is bench/plugin-delivery.sh's (docs/benchmarks-plugin.md):
# bench/lmtp-load sends N candidate replies from SESSIONS parallel LMTP
# sessions to one mailbox, empty at the start of its pass; each pass has a
# mailbox of its own; R repetitions of "off" and "on", interleaved, the
# order alternating.  Both modes file every mail (the plugin is on in
# both); only the workflow differs, so the ratio is its cost.  Timed: from
# the first LMTP connection to the last reply (the delivery as Postfix
# sees it; the refile into the status folder happens inside it).  CPU per
# mail of atsmaild, PostgreSQL and Dovecot from /proc (bench-lib.sh).
# After each "on" pass the items and the mails in 未対応/alice are counted:
# a pass that did not file every mail is reported.
#
# Run from the build directory, as root:
#   top_srcdir=/path/to/src top_builddir=. bash /path/to/src/bench/shared-delivery.sh
set -u
: "${top_srcdir:=$(cd "$(dirname "$0")/.." && pwd)}"
: "${top_builddir:=$top_srcdir}"
. "$top_srcdir/tests/e2e/e2e-lib.sh"
. "$top_srcdir/tests/e2e/atsmaild-lib.sh"
. "$top_srcdir/bench/bench-lib.sh"

N=${1:-1000}
S=${2:-10}
R=${3:-2}
RESUMES=${4:-10000}
LOAD=$top_builddir/bench/lmtp-load
for b in "$ATSMAILD" "$LOAD" "$AD_CTL" "$AD_PLUGIN_SO"; do
	[ -e "$b" ] || { echo "build $b first" >&2; exit 1; }
done
[ "$(id -u)" = 0 ] || { echo "shared-delivery.sh: run as root (the test bed needs it)" >&2; exit 1; }

ad_prepare B
ad_wire B
W=$(ad_dir B)
tb_start pg dovecot
trap ad_cleanup EXIT
echo "# test bed $TB_DIR; $N mails per pass, $S LMTP sessions, $R repetition(s)," \
	"$RESUMES resumes; load: $(cut -d' ' -f1-3 /proc/loadavg)"
ad_db

# one mailbox per pass; the "on" ones are shared mailboxes of alice and
# bob, with a rule that gives the candidates' mail to alice
SHARED=
for ((rep = 1; rep <= R; rep++)); do
	for mode in off on; do
		u="sbench-$rep-$mode@atsmail.test"
		"$top_srcdir/tests/testbed/testbed.sh" adduser "$TB_DIR" "$u" benchpw >/dev/null ||
			{ echo "cannot add the mailbox $u" >&2; exit 1; }
		tb_psql -c "INSERT INTO atsmail.users (login, display_name) VALUES ('$u', 'Bench')" \
			>/dev/null || exit 1
		[ "$mode" = on ] || continue
		SHARED="$SHARED${SHARED:+, }$u"
		tb_psql >/dev/null <<SQL || { echo "cannot make $u shared" >&2; exit 1; }
INSERT INTO atsmail.shared_members (mailbox, user_id) VALUES ('$u', 1), ('$u', 2);
INSERT INTO atsmail.shared_rules (mailbox, match, pattern, assignee_user_id)
	VALUES ('$u', 'sender_domain', 'bench.example', 1);
SQL
	done
done
bl_seed 1 "$RESUMES" || { echo "cannot add $RESUMES resumes" >&2; exit 1; }
ad_conf B "log_level = warning" "shared_mailboxes = $SHARED"
ad_start B
bl_wait_snapshot "$W/atsmail.conf" || exit 1
ATS_PID=$(ad_pid B)
PG_PID=$(head -1 "$TB_DIR/pg/data/postmaster.pid")
DC_PID=$(head -1 "$TB_DIR/dovecot/run/master.pid")
DOVEADM="doveadm -c $TB_DOVECOT_CONF"

# pass REP MODE: "rate dovecot_ms atsmaild_ms pg_ms"
pass() {
	local rep=$1 mode=$2 tag="s$1$2" rcpt="sbench-$1-$2@atsmail.test"
	local dc0 dc1 pg0 pg1 ad0 ad1 out start end
	bl_settle "$PG_PID" "$ATS_PID" "$DC_PID"
	dc0=$(bl_tree_ticks "$DC_PID"); pg0=$(bl_tree_ticks "$PG_PID"); ad0=$(bl_ticks "$ATS_PID")
	out=$("$LOAD" "$TB_LMTP_PORT" "$N" "$S" "$tag" "$rcpt" "$RESUMES" "$W/$tag.times") ||
		return 1
	dc1=$(bl_tree_ticks "$DC_PID"); pg1=$(bl_tree_ticks "$PG_PID"); ad1=$(bl_ticks "$ATS_PID")
	start=$(echo "$out" | sed -n 's/.*start=\([0-9.]*\).*/\1/p')
	end=$(echo "$out" | sed -n 's/.*end=\([0-9.]*\).*/\1/p')
	awk -v a="$start" -v b="$end" -v n="$N" -v hz="$BL_HZ" -v dc=$((dc1 - dc0)) \
	    -v ad=$((ad1 - ad0)) -v pg=$((pg1 - pg0)) 'BEGIN {
		k = 1000 / hz / n
		printf "%.1f %.3f %.3f %.3f\n", n / (b - a), dc * k, ad * k, pg * k }'
}

FMT='%-3s %-4s %8s %8s %8s %8s %8s\n'
# shellcheck disable=SC2059
printf "$FMT" rep mode "mails/s" dovecot atsmaild postgres filed
# shellcheck disable=SC2059
printf "$FMT" "" "" "" "ms/mail" "ms/mail" "ms/mail" ""
declare -A RATE
for ((rep = 1; rep <= R; rep++)); do
	if ((rep % 2)); then order="off on"; else order="on off"; fi
	for mode in $order; do
		line=$(pass "$rep" "$mode") || { echo "pass $rep/$mode failed" >&2; exit 1; }
		read -r rate dc ad pg <<<"$line"
		filed=-
		if [ "$mode" = on ]; then
			items=$(tb_psql -c "SELECT count(*) FROM atsmail.shared_items WHERE mailbox = 'sbench-$rep-on@atsmail.test'")
			infolder=$($DOVEADM -f flow mailbox status -u "sbench-$rep-on@atsmail.test" messages 未対応/alice |
				sed -n 's/.*messages=\([0-9]*\).*/\1/p')
			filed="$items/${infolder:-?}"
			[ "$items" = "$N" ] && [ "${infolder:-0}" = "$N" ] ||
				echo "# pass $rep/on: $items items, ${infolder:-?} mails in 未対応/alice of $N" >&2
		fi
		# shellcheck disable=SC2059
		printf "$FMT" "$rep" "$mode" "$rate" "$dc" "$ad" "$pg" "$filed"
		RATE[$rep.$mode]=$rate
	done
done

ratios=$(for ((rep = 1; rep <= R; rep++)); do
	awk -v on="${RATE[$rep.on]}" -v off="${RATE[$rep.off]}" 'BEGIN { printf "%.3f\n", on / off }'
done)
# shellcheck disable=SC2046,SC2086
echo
echo "workflow on / off, delivery rate: $(bl_median $ratios) (median of $R; spread $(bl_spread $ratios))"
