#!/bin/bash
# run-fuzzers.sh BUILDDIR [SECONDS] -- run every libFuzzer target built in
# BUILDDIR/tests/fuzz/ (fuzz-<target>) for a bounded time on a scratch copy
# of the corpus kept in tests/fuzz/corpus/<target>/.
# BUILDDIR was configured with CC=clang --enable-fuzzing.  Prints TAP; a crash,
# leak, timeout or sanitizer report fails the target, and the input that
# caused it is kept in BUILDDIR/fuzz-artifacts/ for reproduction.
set -u
here=$(cd "$(dirname "$0")" && pwd)
top_srcdir=$(cd "$here/../.." && pwd)
build=$1
secs=${2:-${ATSM_FUZZ_SECONDS:-60}}
. "$top_srcdir/tests/tap.sh"

mkdir -p "$build/fuzz-artifacts"
for bin in "$build"/tests/fuzz/fuzz-*; do
	[ -x "$bin" ] && [ -f "$bin" ] || continue
	t=${bin##*/fuzz-}
	work=$(mktemp -d /tmp/atsm-fuzz-$t.XXXXXX)
	cp "$top_srcdir/tests/fuzz/corpus/$t/"* "$work/" 2>/dev/null
	log="$build/fuzz-artifacts/fuzz-$t.log"
	if "$bin" -max_total_time="$secs" -max_len=4096 -timeout=10 -rss_limit_mb=2048 \
		-artifact_prefix="$build/fuzz-artifacts/$t-" "$work" >"$log" 2>&1; then
		tap_pass "fuzz-$t ran ${secs}s: $(grep -o 'Done [0-9]* runs' "$log" | tail -1)"
	else
		tap_fail "fuzz-$t ran ${secs}s without a finding" "$(tail -40 "$log")"
	fi
	rm -rf "$work"
done
tap_done
