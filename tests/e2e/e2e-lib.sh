# tests/e2e/e2e-lib.sh -- common set-up of the test-bed tests (sourced).
#
#   . "$top_srcdir/tests/e2e/e2e-lib.sh"
#   tb_start pg [postfix dovecot]   start a private test bed in a fresh
#                                   directory, source its testbed.env, and stop
#                                   it (and remove it) when the script exits
#   tb_psql SQL...                  run SQL as the database superuser, -qAt output
#   tb_migrate                      apply sql/ with the built atsmailctl
# Without root the whole script is skipped (exit 77 would be hidden by TAP:
# tap_skip_all prints "1..0 # SKIP"); CI sets ATSM_NO_SKIP=1 so that a skip fails.

: "${top_srcdir:=$(cd "$(dirname "$0")/../.." && pwd)}"
: "${top_builddir:=$top_srcdir}"
. "$top_srcdir/tests/tap.sh"

TB_KEEP=${TB_KEEP:-0}

tb_cleanup() {
	[ -n "${TB_DIR:-}" ] || return 0
	"$top_srcdir/tests/testbed/testbed.sh" stop "$TB_DIR" >/dev/null 2>&1
	if [ "$TB_KEEP" = 1 ]; then echo "# test bed kept in $TB_DIR" >&2; else rm -rf "$TB_DIR"; fi
}

tb_start() {
	[ "$(id -u)" = 0 ] || tap_skip_all "the test bed needs root"
	local dir
	dir=$(mktemp -d /tmp/atsm-tb.XXXXXX)
	TB_DIR=$dir
	trap tb_cleanup EXIT
	if ! "$top_srcdir/tests/testbed/testbed.sh" start "$dir" "$@" >"$dir.start.log" 2>&1; then
		echo "1..1"; echo "not ok 1 - test bed did not start"; sed 's/^/# /' "$dir.start.log"
		rm -f "$dir.start.log"; exit 1
	fi
	rm -f "$dir.start.log"
	. "$dir/testbed.env"
}

tb_psql() {
	psql "$TB_PG_ADMIN" -v ON_ERROR_STOP=1 -qAt "$@"
}

tb_migrate() {
	ATSMAIL_SQL_DIR="$top_srcdir/sql" "$top_builddir/ctl/atsmailctl" --db "$TB_PG_ADMIN" db migrate
}
