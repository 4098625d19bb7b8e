#!/bin/bash
# bench/snapshot-sync.sh -- what atsmaild's snapshot costs at 100,000 and at
# 1,000,000 resumes, side by side: the full resync into an empty snapshot,
# a second resync over an unchanged database (what snapshot_resync_interval
# costs), the lookups of a decision (the sender's records, the first one's
# processes, the sending user; one view each) for addresses that exist and
# for addresses that do not, and the size of data.mdb.
#
# One private test bed (PostgreSQL only), the schema of sql/ and
# tests/data/seed.sql; then resumes with one address each, a selection
# process for one in four, a recorded message (with a link and a
# recipient) for one in ten.  The lookups should cost the same at both
# sizes (B-tree depth grows by one level at most): the last line prints
# the ratio.
# Usage: bench/snapshot-sync.sh [LOOKUPS]      (root; ~3 minutes)
set -u
LOOKUPS=${1:-200000}
: "${top_srcdir:=$(cd "$(dirname "$0")/.." && pwd)}"
: "${top_builddir:=$top_srcdir}"
. "$top_srcdir/tests/e2e/e2e-lib.sh"

bench="$top_builddir/bench/snapshot-bench"
[ -x "$bench" ] || { echo "snapshot-sync.sh: $bench is not built (make bench/snapshot-bench)"; exit 1; }

tb_start pg
tb_migrate >/dev/null && tb_psql -f "$top_srcdir/tests/data/seed.sql" >/dev/null \
	|| { echo "snapshot-sync.sh: schema or seed could not be loaded"; exit 1; }

# add FROM TO: resumes 100000+FROM .. 100000+TO with what goes with them
add() {
	tb_psql >/dev/null <<SQL
INSERT INTO atsmail.resumes (id, name, created_from) OVERRIDING SYSTEM VALUE
	SELECT 100000 + g, 'Bench ' || g, 'import' FROM generate_series($1, $2) g;
INSERT INTO atsmail.addresses (owner_kind, owner_id, addr_norm, is_primary)
	SELECT 'resume', 100000 + g, 'cand' || g || '@bench.example', true
	FROM generate_series($1, $2) g;
INSERT INTO atsmail.processes (resume_id, job_id, phase)
	SELECT 100000 + g, 3001 + g % 25, 'entry' FROM generate_series($1, $2) g WHERE g % 4 = 0;
INSERT INTO atsmail.messages (id, direction, rfc_message_id, owner_id, counterparts, token,
	idempotency_key) OVERRIDING SYSTEM VALUE
	SELECT 100000 + g, 'out', 'bench-' || g || '@atsmail.test', 1,
		ARRAY['cand' || g || '@bench.example'], 'benchtoken' || g, 'bench-key-' || g
	FROM generate_series($1, $2) g WHERE g % 10 = 0;
INSERT INTO atsmail.message_links (message_id, target_kind, target_id, rule)
	SELECT 100000 + g, 'resume', 100000 + g, 'recipient_address'
	FROM generate_series($1, $2) g WHERE g % 10 = 0;
INSERT INTO atsmail.message_recipients (message_id, address, kind)
	SELECT 100000 + g, 'cand' || g || '@bench.example', 'to'
	FROM generate_series($1, $2) g WHERE g % 10 = 0;
ANALYZE;
SQL
}

# run N: a fresh snapshot of the database as it is
run() {
	local dir
	dir=$(mktemp -d /tmp/atsm-snapbench.XXXXXX)
	"$bench" "$TB_PG_ADMIN" "$dir/snapshot" "$1" "$LOOKUPS"
	rm -rf "$dir"
}

field() { printf '%s\n' "$1" | tr ' ' '\n' | sed -n "s/^$2=//p"; }

echo "# test bed $TB_DIR, $LOOKUPS lookups per size"
t0=$(date +%s)
add 1 100000 || { echo "cannot create 100,000 resumes"; exit 1; }
echo "# 100,000 resumes made in $(( $(date +%s) - t0 )) s"
small=$(run 100000) || { echo "the run at 100,000 resumes failed: $small"; exit 1; }
t0=$(date +%s)
add 100001 1000000 || { echo "cannot create 1,000,000 resumes"; exit 1; }
echo "# 1,000,000 resumes made in $(( $(date +%s) - t0 )) s"
large=$(run 1000000) || { echo "the run at 1,000,000 resumes failed: $large"; exit 1; }

printf '%-34s %14s %14s\n' "" "100,000" "1,000,000"
for f in records addresses processes messages; do
	printf '%-34s %14s %14s\n' "$f in the snapshot" "$(field "$small" $f)" "$(field "$large" $f)"
done
printf '%-34s %14s %14s\n' "full resync, empty snapshot (s)" "$(field "$small" full_sync_s)" \
	"$(field "$large" full_sync_s)"
printf '%-34s %14s %14s\n' "full resync, nothing changed (s)" \
	"$(field "$small" resync_unchanged_s)" "$(field "$large" resync_unchanged_s)"
printf '%-34s %14s %14s\n' "decision lookups, found (us)" "$(field "$small" lookup_us)" \
	"$(field "$large" lookup_us)"
printf '%-34s %14s %14s\n' "address not found (us)" "$(field "$small" miss_us)" \
	"$(field "$large" miss_us)"
printf '%-34s %14s %14s\n' "data.mdb (MiB)" "$(field "$small" size_mb)" "$(field "$large" size_mb)"
awk -v a="$(field "$small" lookup_us)" -v b="$(field "$large" lookup_us)" \
	'BEGIN { printf "lookup cost 1,000,000 / 100,000: %.2fx\n", b / a }'
