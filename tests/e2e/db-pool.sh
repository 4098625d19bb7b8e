#!/bin/bash
# db-pool.sh -- runs the PostgreSQL access layer's Check tests
# (tests/unit/test-db: test-db.c, test-db-pool.c) against a private
# PostgreSQL of the test bed.
#
# test-db reads the server's conninfo from ATSM_TEST_PG and the commands
# that stop and start it from ATSM_TEST_PG_STOP / ATSM_TEST_PG_START (its
# reconnect test).  Its TAP lines are this script's output and its exit
# status is this script's; the test bed is stopped on exit.
set -u
. "$top_srcdir/tests/e2e/e2e-lib.sh"

tb_start pg

ATSM_TEST_PG=$TB_PG_ADMIN
ATSM_TEST_PG_STOP="$top_srcdir/tests/testbed/testbed.sh pg-stop $TB_DIR"
ATSM_TEST_PG_START="$top_srcdir/tests/testbed/testbed.sh pg-start $TB_DIR"
export ATSM_TEST_PG ATSM_TEST_PG_STOP ATSM_TEST_PG_START

# Not exec: the EXIT trap of e2e-lib.sh must still stop the test bed.
"$top_builddir/tests/unit/test-db"
exit $?
