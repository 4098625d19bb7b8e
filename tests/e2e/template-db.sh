#!/bin/bash
# template-db.sh -- runs tests/unit/test-template-db (store/template-db.c)
# against a private PostgreSQL holding the migrations and
# tests/data/seed.sql; one TAP line per Check test.
set -u
. "$top_srcdir/tests/e2e/e2e-lib.sh"

tb_start pg
tb_migrate >/dev/null 2>&1 || tap_bail "migrations failed"
tb_psql -f "$top_srcdir/tests/data/seed.sql" >/dev/null || tap_bail "seed failed"
ATSM_TEST_PG=$TB_PG_ADMIN
export ATSM_TEST_PG
"$top_builddir/tests/unit/test-template-db" >"$TB_DIR/unit.tap" 2>"$TB_DIR/unit.err"
rc=$?
while IFS= read -r line; do
	case $line in
	"ok "*) tap_pass "${line#ok * - }" ;;
	"not ok "*) tap_fail "${line#not ok * - }" ;;
	esac
done <"$TB_DIR/unit.tap"
tap_is "test-template-db exits 0" "$rc" 0
[ "$rc" = 0 ] || sed 's/^/# /' "$TB_DIR/unit.err" | tail -20
tap_done
