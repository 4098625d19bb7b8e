#!/bin/bash
# jlog-disk-full.sh -- atsmaild's journal on a full disk: every append
# either returned 0 and is read back, or returned -1 (class io, the message
# names the segment and "No space left on device"); nothing half-written
# is left in a segment; once space is freed, appends work again.
#
# The journal directory is a tiny tmpfs (1 MiB) mounted here, with a
# filler file of 256 KiB beside it.  The probe is test-jlog run as
# `test-jlog fill DIR FILLER` (tests/unit/test-jlog.c): it appends until
# the file system is full, checks what was acknowledged against the
# segments and the reader, removes the filler and appends again; its TAP
# lines are this script's.  Needs root (mount), not the test bed.
set -u
. "$top_srcdir/tests/tap.sh"

[ "$(id -u)" = 0 ] || tap_skip_all "mounting a tmpfs needs root"
probe="$top_builddir/tests/unit/test-jlog"
[ -x "$probe" ] || tap_bail "$probe is not built (make check builds it)"

mnt=$(mktemp -d /tmp/atsm-jlogfull.XXXXXX) || tap_bail "mktemp failed"
cleanup() {
	umount "$mnt" 2>/dev/null
	rmdir "$mnt" 2>/dev/null
}
trap cleanup EXIT
mount -t tmpfs -o size=1m,mode=0700 tmpfs "$mnt" || tap_skip_all "cannot mount a tmpfs here"
dd if=/dev/zero of="$mnt/filler" bs=64k count=4 status=none || tap_bail "cannot write the filler"

# Not exec: the EXIT trap must still unmount.
"$probe" fill "$mnt/journal" "$mnt/filler"
exit $?
