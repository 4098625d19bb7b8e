#!/bin/bash
# tests/san-run.sh -- runs one test of a --enable-sanitizers build (it is
# that build's LOG_COMPILER, Makefile.am) and fails the test on any report
# of AddressSanitizer, LeakSanitizer or UBSan, whichever process wrote it.
#
#   tests/san-run.sh PROGRAM [ARGS...]
#
# A unit test fails by itself when its code is caught (halt_on_error, the
# exit code), but the test-bed tests run our code in daemons (atsmaild,
# atsmail-notifyd, the Dovecot plugin inside lmtp and imap) whose exit
# status no test sees, and in commands some tests expect to fail.  So
# every sanitized process of the test writes its reports into one
# directory of this run (log_path; the environment carries it to the
# daemons, and the test bed bakes it into the Dovecot processes that load
# the plugin: tests/testbed/testbed-mail.sh), and a report found there
# after the test -- daemons are stopped by then -- is printed into the
# test's log and turns the result into an error ("Bail out!", exit 1).
# The directory is under /tmp and writable by all: the plugin runs as
# the test bed's mail uid, atsmaild in ctl-setup.sh as its service user.
# With gcc's shared runtimes UBSan writes its own diagnostic to stderr
# whatever its log_path says (found on Debian 12, gcc 12); so UBSan
# aborts (abort_on_error) and the abort is reported (handle_abort) -- a
# stack through __ubsan_handle_<kind>_abort -- into the directory; the
# diagnostic's sentence stays on the program's stderr (for a daemon, its
# log).
# Options the caller already set in ASAN_OPTIONS / UBSAN_OPTIONS come
# last and win.  docs/development.md, "What runs under ASan/UBSan".
set -u
[ $# -ge 1 ] || { echo "usage: $0 PROGRAM [ARGS...]" >&2; exit 2; }

san=$(mktemp -d /tmp/atsm-san.XXXXXX) || exit 99
chmod 1777 "$san"
ASAN_OPTIONS="log_path=$san/asan:log_exe_name=1:halt_on_error=1:detect_leaks=1:check_initialization_order=1:handle_abort=1${ASAN_OPTIONS:+:$ASAN_OPTIONS}"
UBSAN_OPTIONS="log_path=$san/ubsan:log_exe_name=1:halt_on_error=1:abort_on_error=1:print_stacktrace=1:report_error_type=1${UBSAN_OPTIONS:+:$UBSAN_OPTIONS}"
export ASAN_OPTIONS UBSAN_OPTIONS

"$@"
rc=$?

reports=$(find "$san" -type f -size +0c | sort)
if [ -n "$reports" ]; then
	for f in $reports; do
		echo "# sanitizer report ${f##*/} (kind.program.pid):"
		sed 's/^/#   /' "$f"
	done
	echo "Bail out! sanitizer report(s) while running $*: $(printf '%s\n' "$reports" | sed 's|.*/||' | tr '\n' ' ')"
	[ "$rc" = 0 ] && rc=1
fi
rm -rf "$san"
exit "$rc"
