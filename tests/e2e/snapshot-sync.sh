#!/bin/bash
# snapshot-sync.sh -- runs the snapshot's Check tests against PostgreSQL
# (tests/unit/test-snapshot-sync: the full resync answers as the SQL would,
# each kind of change is seen through the follower within the documented
# 1 s, pending effects survive a resync, and the snapshot answers while
# the server is stopped and catches up when it is back), on a private
# server of the test bed with the schema of sql/ and the shared fixtures
# tests/data/seed.sql and seed-inbound.sql.
#
# The follower reads, and the "other writer" writes, as a login that is
# only a member of atsmail_writer, so that row-level security and the
# privileges of the triggers are those of production.  Its TAP lines are
# this script's output and its exit status is this script's; the test bed
# is stopped on exit.
set -u
. "$top_srcdir/tests/e2e/e2e-lib.sh"

tb_start pg

if ! out=$(tb_migrate 2>&1) || ! out=$(tb_psql -f "$top_srcdir/tests/data/seed.sql" \
	-f "$top_srcdir/tests/data/seed-inbound.sql" \
	-c "CREATE ROLE atsm_snapshot_test LOGIN IN ROLE atsmail_writer" 2>&1); then
	echo "1..1"; echo "not ok 1 - schema, seed and writer login could not be set up"
	printf '%s\n' "$out" | sed 's/^/# /'
	exit 1
fi

ATSM_TEST_PG=$TB_PG_ADMIN
ATSM_TEST_PG_WRITER="host=$TB_PGHOST port=$TB_PGPORT dbname=$TB_DB user=atsm_snapshot_test"
ATSM_TEST_PG_STOP="$top_srcdir/tests/testbed/testbed.sh pg-stop $TB_DIR"
ATSM_TEST_PG_START="$top_srcdir/tests/testbed/testbed.sh pg-start $TB_DIR"
export ATSM_TEST_PG ATSM_TEST_PG_WRITER ATSM_TEST_PG_STOP ATSM_TEST_PG_START

# Not exec: the EXIT trap of e2e-lib.sh must still stop the test bed.
"$top_builddir/tests/unit/test-snapshot-sync"
exit $?
