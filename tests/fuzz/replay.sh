# replay.sh TARGET -- replay the corpus of one fuzz target (sourced by
# tests/fuzz/replay-TARGET.sh).  In ordinary builds the target is linked
# with replay-main.c; in --enable-fuzzing builds it is the libFuzzer binary,
# which also runs the files it is given once each.  Under --enable-sanitizers
# a memory error in any input fails the test.
. "$top_srcdir/tests/tap.sh"

target=$1
bin="$top_builddir/tests/fuzz/fuzz-$target"
corpus="$top_srcdir/tests/fuzz/corpus/$target"
n=$(find "$corpus" -type f 2>/dev/null | wc -l)
if [ "$n" -ge 10 ]; then tap_pass "corpus of $target has $n seed inputs"
else tap_fail "corpus of $target has at least 10 seed inputs" "found $n in $corpus"; fi
if out=$(find "$corpus" -type f -print0 | sort -z | xargs -0 "$bin" 2>&1); then
	tap_pass "fuzz-$target replays its corpus without a crash or sanitizer report"
else
	tap_fail "fuzz-$target replays its corpus without a crash or sanitizer report" "$(printf '%s\n' "$out" | tail -30)"
fi
tap_done
