#!/bin/bash
# bench/bulk-throughput.sh -- a bulk job against Postfix's own pace, side by
# side in one invocation on a private test bed (not part of make check;
# docs/benchmarks.md, "Bulk send", has the method and the figures).
#
#   bench/bulk-throughput.sh [N] [SESSIONS]
#        defaults: 5000 recipients, 4 sessions
#
# Both runs go through the same Postfix (MX port, the client in
# internal_networks) with atsmaild as its milter, relay sink.test ->
# smtp-sink, N mails to N resumes at sink.test:
#   plain  smtp-source injects N mails of about the size of the bulk mails,
#          SESSIONS parallel sessions, each to its own resume (-N numbers
#          the recipients), as the bulk mails are
#   bulk   atsmailctl bulk send --template ... --ids (N resumes): the job is
#          made, atsmaild's bulk runner composes one merged mail per
#          recipient and submits it over bulk_connections = SESSIONS
#          sessions, bulk_rate = 0
# The time runs from the start until smtp-sink has every mail (for bulk
# also until the job is done and every mail is recorded).  Runs plain,
# bulk, bulk, plain; prints each run and bulk/plain over the sums
# (target >= 0.8), and checks that every bulk mail
# was recorded (a messages row per item).
#
# Run from the build directory, as root:
#   top_srcdir=/path/to/src top_builddir=. bash /path/to/src/bench/bulk-throughput.sh
set -u
: "${top_srcdir:=$(cd "$(dirname "$0")/.." && pwd)}"
: "${top_builddir:=$top_srcdir}"
. "$top_srcdir/tests/e2e/e2e-lib.sh"
. "$top_srcdir/tests/e2e/atsmaild-lib.sh"
. "$top_srcdir/bench/bench-lib.sh"

N=${1:-5000}
S=${2:-4}
for b in "$ATSMAILD" "$AD_CTL"; do
	[ -x "$b" ] || { echo "build $b first" >&2; exit 1; }
done
command -v smtp-source >/dev/null || PATH=$PATH:/usr/sbin
[ "$(id -u)" = 0 ] || { echo "bulk-throughput.sh: run as root (the test bed needs it)" >&2; exit 1; }

ad_prepare B
ad_wire B
W=$(ad_dir B)
tb_start pg postfix
trap ad_cleanup EXIT
echo "# test bed $TB_DIR; $N mails, $S sessions; load: $(cut -d' ' -f1-3 /proc/loadavg)"
ad_db
tb_psql >/dev/null <<SQL || { echo "cannot seed" >&2; exit 1; }
INSERT INTO atsmail.resumes (id, name, phase, shared) OVERRIDING SYSTEM VALUE
	SELECT 200000 + g, 'Candidate ' || g, 'new', true FROM generate_series(1, $N) g;
INSERT INTO atsmail.addresses (owner_kind, owner_id, addr_norm, is_primary)
	SELECT 'resume', 200000 + g, 'b' || g || '@sink.test', true FROM generate_series(1, $N) g;
-- smtp-source -N numbers its recipients: 1p@sink.test, 2p@sink.test, ...
INSERT INTO atsmail.resumes (id, name, phase, shared) OVERRIDING SYSTEM VALUE
	SELECT 300000 + g, 'Plain ' || g, 'new', true FROM generate_series(0, $N + 1) g;
INSERT INTO atsmail.addresses (owner_kind, owner_id, addr_norm, is_primary)
	SELECT 'resume', 300000 + g, g || 'p@sink.test', true FROM generate_series(0, $N + 1) g;
INSERT INTO atsmail.templates (code, name, subject, body, lang, shared)
	VALUES ('bench', 'Bench', 'Hello {{resume.name}}',
	        E'Dear {{resume.name}},\n\n' || repeat(E'This is a line of the bench mail body.\n', 40),
	        'en', true);
ANALYZE;
SQL
ad_conf B "internal_networks = 127.0.0.0/8" "log_level = warning" \
	"bulk_smtp = 127.0.0.1:$TB_SMTP_PORT" "bulk_rate = 0" "bulk_connections = $S" \
	"bulk_max_recipients = $N"
ad_start B
CONF=$W/atsmail.conf
SIZE=2048
AD_PID=$(ad_pid B)
PF_PID=$(head -1 "$TB_DIR/postfix/spool/pid/master.pid" | tr -d ' ')
PG_PID=$(head -1 "$TB_DIR/pg/data/postmaster.pid")
# cpu_start / cpu_end NAME: ms per mail of atsmaild, Postfix, PostgreSQL
cpu_start() { c_ad=$(bl_ticks "$AD_PID"); c_pf=$(bl_tree_ticks "$PF_PID"); c_pg=$(bl_tree_ticks "$PG_PID"); }
cpu_end() {
	CPU=$(printf '%s %s %s' "$(bl_ms_per $(($(bl_ticks "$AD_PID") - c_ad)) "$N")" \
		"$(bl_ms_per $(($(bl_tree_ticks "$PF_PID") - c_pf)) "$N")" \
		"$(bl_ms_per $(($(bl_tree_ticks "$PG_PID") - c_pg)) "$N")")
}

sink() {
	timeout 900 smtp-sink -u postfix -M "$N" "127.0.0.1:$TB_SINK_PORT" 1024 >/dev/null 2>&1 &
	SINK=$!
	sleep 0.3
}

run_plain() {
# plain: N mails from alice to one resume at the sink
postsuper -c "$TB_POSTFIX_CONF" -d ALL >/dev/null 2>&1
sink
base=$(tb_psql -c "SELECT count(*) FROM atsmail.message_links
	WHERE target_kind = 'resume' AND target_id BETWEEN 300000 AND 300000 + $N + 1")
cpu_start
t0=$(date +%s.%N)
smtp-source -s "$S" -m "$N" -l "$SIZE" -N -f alice@atsmail.test -t p@sink.test \
	"127.0.0.1:$TB_SMTP_PORT" >/dev/null 2>&1
wait "$SINK"
t_sink=$(date +%s.%N)
for _ in $(seq 1 1200); do
	prec=$(tb_psql -c "SELECT count(*) FROM atsmail.message_links
		WHERE target_kind = 'resume' AND target_id BETWEEN 300000 AND 300000 + $N + 1")
	[ "$prec" = "$((base + N))" ] && break
	sleep 0.5
done
t1=$(date +%s.%N)
cpu_end
CPU_PLAIN=$CPU
plain=$(awk -v a="$t0" -v b="$t_sink" -v n="$N" 'BEGIN { printf "%.1f", n / (b - a) }')
plain_s=$(awk -v a="$t0" -v b="$t_sink" 'BEGIN { printf "%.2f", b - a }')
plain_all=$(awk -v a="$t0" -v b="$t1" -v n="$N" 'BEGIN { printf "%.1f", n / (b - a) }')
plain_all_s=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.2f", b - a }')
row plain "$plain_s" "$plain" "$plain_all_s" "$plain_all" "" "$CPU"
P_SINK=$(awk -v a="$P_SINK" -v b="$plain_s" 'BEGIN { print a + b }')
P_ALL=$(awk -v a="$P_ALL" -v b="$plain_all_s" 'BEGIN { print a + b }')
[ "$prec" = "$((base + N))" ] || { echo "plain: only $((prec - base)) of $N recorded" >&2; return 1; }

}

run_bulk() {
# bulk: the same number of mails as one job
postsuper -c "$TB_POSTFIX_CONF" -d ALL >/dev/null 2>&1
IDS=$(seq -f 'r%g' 200001 $((200000 + N)) | paste -sd,)
sink
cpu_start
t0=$(date +%s.%N)
JOB=$("$AD_CTL" -c "$CONF" bulk send --template bench --ids "$IDS" --as alice@atsmail.test \
	--no-wait 2>"$W/send.err") || { echo "bulk send failed: $(cat "$W/send.err")" >&2; return 1; }
t_made=$(date +%s.%N)
wait "$SINK"
t_sink=$(date +%s.%N)
for _ in $(seq 1 1200); do
	read -r st rec < <(tb_psql -F ' ' -c "SELECT status, (SELECT count(*) FROM atsmail.bulk_items i
		JOIN atsmail.messages m ON m.rfc_message_id = i.message_id AND m.direction = 'out'
		WHERE i.job_id = $JOB) FROM atsmail.bulk_jobs WHERE id = $JOB")
	[ "$st" = done ] && [ "$rec" = "$N" ] && break
	sleep 0.5
done
t1=$(date +%s.%N)
cpu_end
CPU_BULK=$CPU
bulk=$(awk -v a="$t0" -v b="$t_sink" -v n="$N" 'BEGIN { printf "%.1f", n / (b - a) }')
bulk_s=$(awk -v a="$t0" -v b="$t_sink" 'BEGIN { printf "%.2f", b - a }')
made_s=$(awk -v a="$t0" -v b="$t_made" 'BEGIN { printf "%.2f", b - a }')
bulk_all=$(awk -v a="$t0" -v b="$t1" -v n="$N" 'BEGIN { printf "%.1f", n / (b - a) }')
bulk_all_s=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.2f", b - a }')
acc=$(tb_psql -c "SELECT count(*) FROM atsmail.bulk_items WHERE job_id = $JOB AND status = 'accepted'")
row bulk "$bulk_s" "$bulk" "$bulk_all_s" "$bulk_all" "(job $JOB made in $made_s s)" "$CPU"
B_SINK=$(awk -v a="$B_SINK" -v b="$bulk_s" 'BEGIN { print a + b }')
B_ALL=$(awk -v a="$B_ALL" -v b="$bulk_all_s" 'BEGIN { print a + b }')
echo "#   bulk job $JOB: $st; $acc of $N accepted, $rec recorded"
[ "$st" = done ] && [ "$rec" = "$N" ] && [ "$acc" = "$N" ] ||
	{ echo "bulk job $JOB: not every mail accepted and recorded" >&2; return 1; }

}

# A run records into tables the runs before it have filled: the order
# matters (docs/benchmarks.md).  So both kinds run twice, in the order
# plain, bulk, bulk, plain, and the ratio is taken over the sums: each kind
# has one early and one late run.
row() {
	printf '%-6s %8s %9s %8s %9s   CPU ms/mail %s %s\n' "$1" "$2" "$3" "$4" "$5" "$7" "$6"
}
P_SINK=0 P_ALL=0 B_SINK=0 B_ALL=0
printf '%-6s %18s %18s\n' "" "until at the sink" "until recorded"
printf '%-6s %8s %9s %8s %9s   (CPU: atsmaild / Postfix / PostgreSQL)\n' run seconds "mails/s" \
	seconds "mails/s"
# Each run starts from analysed tables, as a database in service has them
# (autovacuum): without it, whichever run comes first after the seed pays
# for plans made on statistics of near-empty tables (docs/benchmarks.md).
analyse() { tb_psql -c "VACUUM ANALYZE" >/dev/null 2>&1; }
analyse; run_plain || exit 1
analyse; run_bulk || exit 1
analyse; run_bulk || exit 1
analyse; run_plain || exit 1
printf 'over both runs of each (plain, bulk, bulk, plain), bulk / plain: %s at the sink, %s until recorded   target >= 0.8\n' \
	"$(awk -v b="$B_SINK" -v p="$P_SINK" 'BEGIN { printf "%.3f", p / b }')" \
	"$(awk -v b="$B_ALL" -v p="$P_ALL" 'BEGIN { printf "%.3f", p / b }')"
