#!/bin/bash
# run-all.sh -- set up and run every atsmail test on a Debian 12 machine.
#
#   sudo tests/run-all.sh            (from a clone of the repository)
#
# 1. installs the Debian packages it needs (scripts/install-deps.sh);
# 2. builds with autotools in build/ (warnings are errors) and runs
#    make check: unit tests, corpus replays, and the test-bed tests, which
#    start private PostgreSQL, Postfix and Dovecot instances on loopback;
# 3. builds in build-asan/ with --enable-sanitizers and runs make check
#    there: every test of step 2 again, our programs, the database-backed
#    unit tests and the Dovecot plugin (inside the test bed's Dovecot)
#    under ASan/UBSan; a report of any process fails its test
#    (tests/san-run.sh, docs/development.md);
# 4. builds the libFuzzer targets in build-fuzz/ with clang and runs each for
#    ATSM_FUZZ_SECONDS (default 60) seconds;
# 5. runs make distcheck (unit tests) so the release tarball builds;
# 6. builds the Debian packages, installs them with Debian's own Postfix,
#    Dovecot and PostgreSQL into a fresh Debian 12 root and runs
#    docs/install.md verbatim there (tests/deploy/deploy.sh), then the same
#    with a deliberate break the test must catch (docs/deploy-test.md);
# and prints last "N passed, N failed" (", N skipped" if any).  Exits
# non-zero when anything failed.  ATSM_SKIP_INSTALL=1 skips step 1;
# ATSM_STEPS="check asan fuzz distcheck deploy" selects steps.
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
steps=${ATSM_STEPS:-check asan fuzz distcheck deploy}
jobs=${ATSM_JOBS:-$(nproc)}
# In CI a test that cannot run fails instead of skipping.
export ATSM_NO_SKIP=${ATSM_NO_SKIP:-0}

passed=0 failed=0 skipped=0
log() { echo "== $*"; }
count_suite() {  # count_suite BUILDDIR: add the totals of its test-suite.log
	local f=$1/test-suite.log p fl e x s
	[ -f "$f" ] || { failed=$((failed + 1)); echo "no $f: counted as one failure"; return; }
	p=$(awk '/^# PASS:/ {print $3}' "$f"); fl=$(awk '/^# FAIL:/ {print $3}' "$f")
	e=$(awk '/^# ERROR:/ {print $3}' "$f"); x=$(awk '/^# XPASS:/ {print $3}' "$f")
	s=$(awk '/^# SKIP:/ {print $3}' "$f")
	passed=$((passed + ${p:-0})); failed=$((failed + ${fl:-0} + ${e:-0} + ${x:-0}))
	skipped=$((skipped + ${s:-0}))
	# show what failed, so a CI log says why without digging
	awk '/^(FAIL|ERROR|XPASS): / && $0 !~ /^# /' "$f" | head -40
}
step_fail() { failed=$((failed + 1)); echo "FAILED: $*"; }

if [ "${ATSM_SKIP_INSTALL:-0}" != 1 ]; then
	log "installing packages"
	"$top/scripts/install-deps.sh" || { echo "0 passed, 1 failed"; exit 1; }
fi

log "autoreconf"
autoreconf -fi >/tmp/atsm-autoreconf.log 2>&1 || { cat /tmp/atsm-autoreconf.log; echo "0 passed, 1 failed"; exit 1; }

configure_in() {  # configure_in DIR ARGS...: fresh VPATH build directory
	local d=$1; shift
	rm -rf "$d"; mkdir -p "$d"
	(cd "$d" && "$top/configure" -q --enable-werror "$@") || return 1
}

# The unit tests, corpus replays and symbol check of a configured build
# directory, as its Makefile lists them (no second list to keep).
unit_tests_of() { make -s -C "$1" print-unit-tests; }

for step in $steps; do
	case $step in
	check)
		log "build and make check (build/)"
		if configure_in build && make -C build -j"$jobs" >build.log 2>&1; then
			make -C build -j"$jobs" check >build/check.out 2>&1
			count_suite build
		else
			tail -40 build.log 2>/dev/null; step_fail "build"
		fi
		;;
	asan)
		log "sanitizer build and tests (build-asan/)"
		if configure_in build-asan --enable-sanitizers && make -C build-asan -j"$jobs" >build-asan.log 2>&1; then
			# everything that runs our C code: the whole make check
			make -C build-asan -j"$jobs" check >build-asan/check.out 2>&1
			count_suite build-asan
		else
			tail -40 build-asan.log 2>/dev/null; step_fail "sanitizer build"
		fi
		;;
	fuzz)
		log "libFuzzer targets (build-fuzz/), ${ATSM_FUZZ_SECONDS:-60}s each"
		if configure_in build-fuzz CC=clang --enable-fuzzing &&
		   make -C build-fuzz -j"$jobs" $(make -s -C build-fuzz print-fuzz-targets) \
			>build-fuzz.log 2>&1; then
			out=$("$top/tests/fuzz/run-fuzzers.sh" "$top/build-fuzz")
			printf '%s\n' "$out"
			passed=$((passed + $(printf '%s\n' "$out" | grep -c '^ok ')))
			failed=$((failed + $(printf '%s\n' "$out" | grep -c '^not ok ')))
		else
			tail -40 build-fuzz.log 2>/dev/null; step_fail "fuzzing build"
		fi
		;;
	distcheck)
		log "make distcheck (release tarball builds and passes its unit tests)"
		[ -f build/Makefile ] || configure_in build || step_fail "configure for distcheck"
		if make -C build -j"$jobs" distcheck TESTS="$(unit_tests_of build)" \
			>build/distcheck.out 2>&1; then
			passed=$((passed + 1)); echo "ok - make distcheck"
		else
			tail -40 build/distcheck.out; step_fail "make distcheck"
		fi
		;;
	deploy)
		log "deploy test: the packages on a fresh Debian 12 root, docs/install.md verbatim (tests/deploy/)"
		for args in "" "--break milter-path"; do
			# shellcheck disable=SC2086
			"$top/tests/deploy/deploy.sh" $args >deploy.out 2>&1
			rc=$?
			cat deploy.out
			passed=$((passed + $(grep -c '^ok ' deploy.out)))
			failed=$((failed + $(grep -c '^not ok ' deploy.out)))
			[ $rc = 0 ] || grep -q '^not ok ' deploy.out || step_fail "deploy.sh $args exited $rc"
		done
		rm -f deploy.out
		;;
	*) step_fail "unknown step '$step'" ;;
	esac
done

if [ "$skipped" -gt 0 ]; then
	echo "$passed passed, $failed failed, $skipped skipped"
else
	echo "$passed passed, $failed failed"
fi
[ "$failed" -eq 0 ] && [ "$passed" -gt 0 ]
