# replay-template.sh -- see tests/fuzz/replay.sh
. "$top_srcdir/tests/fuzz/replay.sh" template
