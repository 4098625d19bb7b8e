# tests/tap.sh -- TAP helpers for the shell tests (sourced, not run).
#
#   . "$srcdir/tests/tap.sh"
#   tap_ok "name" command args...     one test: passes when the command exits 0
#   tap_is "name" "$got" "$want"      one test: passes when the strings are equal
#   tap_fail "name" "why" / tap_pass "name"
#   tap_skip_all "reason"             whole script skipped (exit 77 unless ATSM_NO_SKIP=1)
#   tap_done                          prints the plan; exits non-zero if anything failed
# Results are counted by automake's tap-driver.sh.

TAP_N=0
TAP_FAILED=0

tap_pass() { TAP_N=$((TAP_N + 1)); echo "ok $TAP_N - $1"; }
tap_fail() {
	TAP_N=$((TAP_N + 1)); TAP_FAILED=$((TAP_FAILED + 1))
	echo "not ok $TAP_N - $1"
	[ -n "${2:-}" ] && printf '%s\n' "$2" | sed 's/^/# /'
	return 0
}
tap_ok() {
	local name=$1; shift
	local out
	if out=$("$@" 2>&1); then tap_pass "$name"; else tap_fail "$name" "$out"; fi
}
tap_is() {
	if [ "$2" = "$3" ]; then tap_pass "$1"; else tap_fail "$1" "got:  $2
want: $3"; fi
}
tap_diag() { printf '%s\n' "$*" | sed 's/^/# /'; }
tap_skip_all() {
	if [ "${ATSM_NO_SKIP:-0}" = 1 ]; then
		echo "1..1"; echo "not ok 1 - cannot run: $1 (ATSM_NO_SKIP=1 forbids skipping)"; exit 1
	fi
	echo "1..0 # SKIP $1"; exit 0
}
tap_bail() { echo "Bail out! $*"; exit 1; }
tap_done() { echo "1..$TAP_N"; [ "$TAP_FAILED" -eq 0 ]; }
