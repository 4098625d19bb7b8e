#!/bin/bash
# inbound-record.sh -- runs the inbound pipeline's Check tests
# (tests/unit/test-inbound: facts from raw mail, matching, intake, bounces,
# phase rules, copies, visibility, the one-transaction record) against a
# private PostgreSQL of the test bed, with the schema of sql/ and the
# fixtures tests/data/seed.sql and tests/data/seed-inbound.sql.
#
# test-inbound reads the server's conninfo from ATSM_TEST_PG.  Its TAP
# lines are this script's output and its exit status is this script's;
# the test bed is stopped on exit.
set -u
. "$top_srcdir/tests/e2e/e2e-lib.sh"

tb_start pg

if ! out=$(tb_migrate 2>&1) || ! out=$(tb_psql -f "$top_srcdir/tests/data/seed.sql" 2>&1) ||
   ! out=$(tb_psql -f "$top_srcdir/tests/data/seed-inbound.sql" 2>&1); then
	echo "1..1"; echo "not ok 1 - schema and seeds could not be loaded"
	printf '%s\n' "$out" | sed 's/^/# /'
	exit 1
fi

ATSM_TEST_PG=$TB_PG_ADMIN
export ATSM_TEST_PG

# Not exec: the EXIT trap of e2e-lib.sh must still stop the test bed.
"$top_builddir/tests/unit/test-inbound"
exit $?
