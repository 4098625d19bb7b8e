# replay-rfc2047.sh -- see tests/fuzz/replay.sh
. "$top_srcdir/tests/fuzz/replay.sh" rfc2047
