#!/bin/bash
# bench/report.sh -- atsmailctl report over 100,000 and over 1,000,000
# messages, side by side, for a 7-day and a 30-day period: the report
# reads a period's mail through the indexes of sql/022-report.sql, so its
# time should follow the mail of the period, not the size of the table.
#
# One private test bed (PostgreSQL only) and the schema of sql/; then
# mail at a constant rate of about 2,740 messages a day (a pair every 63
# seconds: one sent, one received; three received mails in five answer the
# sent one, the others start a thread of their own), 20 recruiters, 200
# jobs, 50,000 selection processes; every mail linked to a process, one
# recipient per sent mail (one in 33 a hard bounce, one in 97 a soft one),
# a phase change for one reply in three, a shared-mailbox item for one
# received mail in 50 (one in 1,000 still open), one mail in five private.
# First 100,000 messages (about 36 days), measured; then 900,000 older ones
# before them (about a year in all), measured again: the periods hold the
# same mail at both sizes.  Each figure is the median of REPS runs of the
# whole command (connection, queries, the table on stdout), after one
# run not counted (warm caches, as on a server in use), as the
# database superuser (every row) and --as a recruiter (row-level
# security); last, the same at 1,000,000 without the indexes of 022.
# The seed runs with session_replication_role = replica (no triggers: no
# audit entries or NOTIFY per row) and takes about 2 minutes on 2 cores.
# Usage: bench/report.sh [REPS]      (root)
set -u
REPS=${1:-5}
REPS_ALL=$REPS
: "${top_srcdir:=$(cd "$(dirname "$0")/.." && pwd)}"
: "${top_builddir:=$top_srcdir}"
. "$top_srcdir/tests/e2e/e2e-lib.sh"

CTL=$top_builddir/ctl/atsmailctl
[ -x "$CTL" ] || { echo "report.sh: $CTL is not built"; exit 1; }

tb_start pg
tb_migrate >/dev/null || { echo "report.sh: the schema could not be loaded"; exit 1; }
CONF=$TB_DIR/report-bench.conf
echo "report_statement_timeout = 900s" >"$CONF"

# seed(a, b): pairs a..b
SEED_FN=$(cat <<'SQL'
-- pair j: sent mail 2j+1, received mail 2j+2; j = 0 is the newest
CREATE FUNCTION pg_temp.seed(a integer, b integer) RETURNS void LANGUAGE sql AS $$
	INSERT INTO atsmail.messages (id, direction, thread_id, owner_id, counterparts, subject,
		sent_at, received_at, visibility, status) OVERRIDING SYSTEM VALUE
	SELECT 2 * j + 1, 'out', NULL, j % 20 + 1, ARRAY['c' || j % 50000 || '@bench.example'],
		'ご案内 ' || j, now() - interval '2 days' - j * interval '63 seconds', NULL,
		CASE WHEN j % 5 = 0 THEN 'private' ELSE 'shared' END, 'recorded'
	FROM generate_series(a, b) j
	UNION ALL
	SELECT 2 * j + 2, 'in', CASE WHEN j % 5 < 3 THEN 2 * j + 1 END, j % 20 + 1,
		ARRAY['c' || j % 50000 || '@bench.example'], 'Re: ご案内 ' || j, NULL,
		now() - interval '2 days' - j * interval '63 seconds'
			+ ((j::bigint * 7919) % 48 + 1) * interval '1 hour',
		CASE WHEN j % 5 = 0 THEN 'private' ELSE 'shared' END, 'recorded'
	FROM generate_series(a, b) j;
	INSERT INTO atsmail.message_recipients (message_id, address, kind, status, status_code)
	SELECT 2 * j + 1, 'c' || j % 50000 || '@bench.example', 'to',
		CASE WHEN j % 33 = 0 OR j % 97 = 0 THEN 'bounced' ELSE 'delivered' END,
		CASE WHEN j % 33 = 0 THEN '5.1.1' WHEN j % 97 = 0 THEN '4.2.2' END
	FROM generate_series(a, b) j;
	INSERT INTO atsmail.message_links (message_id, target_kind, target_id, rule)
	SELECT 2 * j + 1 + k, 'process', j % 50000 + 1, 'command'
	FROM generate_series(a, b) j, generate_series(0, 1) k;
	INSERT INTO atsmail.phase_history (kind, record_id, from_phase, to_phase, cause, message_id, at)
	SELECT 'process', j % 50000 + 1, 'screening', 'interview1', 'reply', 2 * j + 2,
		now() - interval '2 days' - j * interval '63 seconds'
			+ ((j::bigint * 7919) % 48 + 1) * interval '1 hour'
	FROM generate_series(a, b) j WHERE j % 5 < 3 AND j % 3 = 0;
	INSERT INTO atsmail.shared_items (mailbox, rfc_message_id, thread_key, received_at, status,
		status_by, message_id)
	SELECT 'recruit@corp.test', 'b' || j || '@bench.example', 'b' || j || '@bench.example',
		now() - interval '2 days' - j * interval '63 seconds',
		CASE WHEN j % 1000 = 0 THEN 'unhandled' ELSE 'done' END, 'bench', 2 * j + 2
	FROM generate_series(a, b) j WHERE j % 50 = 0;
$$;
SQL
)
t0=$(date +%s)
{ cat <<'SQL'; echo "$SEED_FN"; echo "SELECT pg_temp.seed(0, 49999);"; } | tb_psql >/dev/null \
	|| { echo "report.sh: the seed failed"; exit 1; }
INSERT INTO atsmail.users (id, login, display_name) OVERRIDING SYSTEM VALUE
	SELECT g, 'r' || g || '@corp.test', 'Recruiter ' || g FROM generate_series(1, 20) g;
INSERT INTO atsmail.jobs (id, title) OVERRIDING SYSTEM VALUE
	SELECT g, 'Job ' || g FROM generate_series(1, 200) g;
SET session_replication_role = replica;
INSERT INTO atsmail.resumes (id, name, created_from) OVERRIDING SYSTEM VALUE
	SELECT g, 'Bench ' || g, 'import' FROM generate_series(1, 50000) g;
INSERT INTO atsmail.processes (id, resume_id, job_id, phase) OVERRIDING SYSTEM VALUE
	SELECT g, g, g % 200 + 1, 'screening' FROM generate_series(1, 50000) g;
INSERT INTO atsmail.shared_members (mailbox, user_id) VALUES ('recruit@corp.test', 1);
SQL
tb_psql -c "VACUUM ANALYZE" -c "CHECKPOINT" >/dev/null
t1=$(date +%s)

# the periods end on the day before the newest mail (the default period's
# way: whole days)
TODAY=$(TZ=Asia/Tokyo date +%F)
TO=$(TZ=Asia/Tokyo date -d "$TODAY -2 days" +%F)
FROM7=$(TZ=Asia/Tokyo date -d "$TO -6 days" +%F)
FROM30=$(TZ=Asia/Tokyo date -d "$TO -29 days" +%F)

# ms FROM [ARGS...]: the median wall time of REPS reports, in ms
ms() {
	local from=$1 i a b v=()
	shift
	for i in $(seq 1 "$REPS"); do
		a=$(date +%s%N)
		PGTZ=Asia/Tokyo "$CTL" -c "$CONF" --db "$TB_PG_ADMIN" report --from "$from" --to "$TO" \
			"$@" >"$TB_DIR/out" 2>"$TB_DIR/err" || { cat "$TB_DIR/err" >&2; echo "fail"; return; }
		b=$(date +%s%N)
		v+=($(( (b - a) / 1000000 )))
	done
	printf '%s\n' "${v[@]}" | sort -n | sed -n "$(( (REPS + 1) / 2 ))p"
}
# mail N FROM: the period's mail (sent + received) counted as the superuser
mail() {
	tb_psql -c "SELECT count(*) FROM atsmail.report_mail(('$1'::date)::timestamp AT TIME ZONE 'Asia/Tokyo',
		(('$TO'::date) + 1)::timestamp AT TIME ZONE 'Asia/Tokyo')"
}

# blocks FROM: shared buffers the period's query touches (hit + read), as
# the superuser: the work of the query, whatever the machine's load
blocks() {
	tb_psql -c "EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) SELECT count(*) FROM atsmail.report_mail(
		('$1'::date)::timestamp AT TIME ZONE 'Asia/Tokyo',
		(('$TO'::date) + 1)::timestamp AT TIME ZONE 'Asia/Tokyo')" |
		python3 -c 'import json,sys; p=json.load(sys.stdin)[0]["Plan"]; print(p["Shared Hit Blocks"] + p["Shared Read Blocks"])'
}

declare -A R
# measure SIZE: the figures of one size, printed as they come
measure() {
	local size=$1
	# a run not counted: the caches warm, as on a server in use
	REPS=1 ms "$FROM30" >/dev/null
	R[$size,n7]=$(mail "$FROM7")
	R[$size,n30]=$(mail "$FROM30")
	R[$size,b7]=$(blocks "$FROM7")
	R[$size,b30]=$(blocks "$FROM30")
	R[$size,a7]=$(ms "$FROM7")
	R[$size,a30]=$(ms "$FROM30")
	R[$size,r7]=$(ms "$FROM7" --as r1@corp.test)
	R[$size,r30]=$(ms "$FROM30" --as r1@corp.test)
	echo "# $size: mail ${R[$size,n7]} / ${R[$size,n30]}; blocks ${R[$size,b7]} / ${R[$size,b30]}; superuser ${R[$size,a7]} / ${R[$size,a30]} ms;" \
		"--as ${R[$size,r7]} / ${R[$size,r30]} ms (7 / 30 days)"
}
measure 100k

t2=$(date +%s)
# the older pairs, in slices of 150,000 (bounded memory)
for a in 50000 200000 350000; do
	b=$((a + 149999))
	{ echo "SET session_replication_role = replica;"; echo "$SEED_FN"
	  echo "SELECT pg_temp.seed($a, $b);"; } | tb_psql >/dev/null \
		|| { echo "report.sh: the seed failed"; exit 1; }
done
tb_psql -c "VACUUM ANALYZE" -c "CHECKPOINT" >/dev/null
t3=$(date +%s)
measure 1m

# without the indexes of 022 and 023: one run of the 7-day period each, stopped
# after CAP seconds (under row-level security every mail of the period
# scans shared_items for its mailbox, calling the membership policy on
# each item: hours)
tb_psql >/dev/null <<'SQL'
DROP INDEX atsmail.messages_out_sent_idx, atsmail.messages_in_received_idx,
	atsmail.messages_thread_dir_idx, atsmail.phase_history_at_idx,
	atsmail.shared_items_message_idx, atsmail.message_recipients_bounced_idx;
ANALYZE;
SQL
R[noidx,n7]=${R[1m,n7]}
R[noidx,n30]=-
R[noidx,b7]=-
R[noidx,b30]=-
R[noidx,a30]=-
R[noidx,r30]=-
REPS=1
CAP=120
echo "report_statement_timeout = ${CAP}s" >"$CONF"
R[noidx,a7]=$(ms "$FROM7")
echo "# without the indexes: superuser ${R[noidx,a7]} ms (7 days)"
R[noidx,r7]=$(ms "$FROM7" --as r1@corp.test 2>/dev/null)
[ "${R[noidx,r7]}" = fail ] && R[noidx,r7]=">${CAP}000"
[ "${R[noidx,a7]}" = fail ] && R[noidx,a7]=">${CAP}000"
echo "# without the indexes: blocks ${R[noidx,b7]}; superuser ${R[noidx,a7]} ms, --as ${R[noidx,r7]} ms (7 days)"

total=$(tb_psql -c "SELECT count(*) FROM atsmail.messages")
ratio() {
	case "$1$2" in
	*[!0-9]* | "") echo "-" ;;
	*) awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "-" }' ;;
	esac
}
echo "report.sh: $total messages; seed $((t1 - t0)) s (100,000) + $((t3 - t2)) s (900,000 more); median of $REPS_ALL runs (without indexes: 1); periods end $TO (Asia/Tokyo)"
printf '%-22s %10s %10s %8s %12s %8s\n' "" "100,000" "1,000,000" "ratio" "1M no index" "ratio"
for p in 7 30; do
	printf '%-22s %10s %10s %8s %12s %8s\n' "mail in ${p}-day period" "${R[100k,n$p]}" "${R[1m,n$p]}" \
		"$(ratio "${R[1m,n$p]}" "${R[100k,n$p]}")" "${R[noidx,n$p]}" ""
	printf '%-22s %10s %10s %8s %12s %8s\n' "buffers (${p} days)" "${R[100k,b$p]}" "${R[1m,b$p]}" \
		"$(ratio "${R[1m,b$p]}" "${R[100k,b$p]}")" "${R[noidx,b$p]}" "$(ratio "${R[noidx,b$p]}" "${R[1m,b$p]}")"
	for w in a r; do
		[ $w = a ] && who="superuser" || who="--as r1 (RLS)"
		printf '%-22s %8s ms %8s ms %8s %9s ms %8s\n' "${p} days, $who" "${R[100k,$w$p]}" \
			"${R[1m,$w$p]}" "$(ratio "${R[1m,$w$p]}" "${R[100k,$w$p]}")" "${R[noidx,$w$p]}" \
			"$(ratio "${R[noidx,$w$p]}" "${R[1m,$w$p]}")"
	done
done
