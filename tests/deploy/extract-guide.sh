#!/bin/bash
# tests/deploy/extract-guide.sh -- the commands an install guide asks the
# admin to run, as the deploy test runs them (so the guide cannot drift).
#
#   extract-guide.sh GUIDE              the blocks, in order, as one script
#   extract-guide.sh --split DIR GUIDE  one file per block, and DIR/index
#   extract-guide.sh --env GUIDE        the guide's example names, NAME=VALUE
#
# The convention (written in an HTML comment at the top of docs/install.md):
#   <!-- deploy -->              the next fenced block, opened with ```sh,
#                                is run verbatim, as root, in the root's /root
#   <!-- deploy:service NAME --> the next ```sh block starts or restarts the
#                                daemon NAME (systemctl for the admin); the
#                                test, which has no systemd, (re)starts NAME
#                                the way its unit would instead
#   <!-- deploy:env NAME=VALUE --> a name the guide's examples use that the
#                                test needs for its own checks (the
#                                recruiter's login, the candidate's address)
# Blank lines may stand between a marker and its fence; anything else, or a
# fence that is not ```sh, is an error in the guide (exit 1, naming the
# line), as is a block never closed or a guide without any block: a marker
# that silently marks nothing would let a command go untested.
#
# The index of --split has one line per block: "NNN deploy LINE" or
# "NNN service LINE NAME"; DIR/NNN.sh holds the block's text (for a service
# block, what the admin would type).  LINE is the line of the opening fence.
set -u
mode='script' dir=''
case ${1:-} in
--split) mode=split dir=${2:?usage: extract-guide.sh --split DIR GUIDE}; shift 2 ;;
--env) mode='env'; shift ;;
esac
guide=${1:?usage: extract-guide.sh [--split DIR | --env] GUIDE}
[ -r "$guide" ] || { echo "extract-guide.sh: cannot read $guide" >&2; exit 1; }
[ "$mode" = split ] && { mkdir -p "$dir" || exit 1; : >"$dir/index"; }

awk -v mode="$mode" -v dir="$dir" -v guide="$guide" '
function fail(msg) { printf "extract-guide.sh: %s:%d: %s\n", guide, NR, msg > "/dev/stderr"; bad = 1; exit 1 }
function trim(s) { sub(/^[ \t]+/, "", s); sub(/[ \t\r]+$/, "", s); return s }
BEGIN { pending = ""; inblock = 0; incomment = 0; inother = 0; n = 0; bad = 0 }
inblock {
	if (trim($0) == "```") {
		inblock = 0
		if (mode == "split") close(file)
		else if (mode == "script" && kind == "service")
			printf "atsm_deploy_service %s\n", name
		next
	}
	if (mode == "split") print > file
	else if (mode == "script") {
		if (kind == "service") print "# " $0
		else print
	}
	next
}
{
	line = trim($0)
	# a comment of several lines (the convention at the top) marks nothing
	if (incomment) { if (index(line, "-->")) incomment = 0; next }
	if (line ~ /^<!--/ && !index(line, "-->")) { incomment = 1; next }
	# an unmarked fenced block is shown, not run, whatever it holds
	if (inother) { if (line == "```") inother = 0; next }
	if (line ~ /^<!-- *deploy:env +[A-Za-z_][A-Za-z0-9_]*=.* *-->$/) {
		if (mode == "env") {
			sub(/^<!-- *deploy:env +/, "", line); sub(/ *-->$/, "", line); print line
		}
		next
	}
	if (line ~ /^<!-- *deploy *-->$/) { pending = "deploy"; pline = NR; next }
	if (line ~ /^<!-- *deploy:service +[A-Za-z0-9_.@-]+ *-->$/) {
		pending = "service"; pline = NR
		name = line; sub(/^<!-- *deploy:service +/, "", name); sub(/ *-->$/, "", name)
		next
	}
	if (line ~ /^<!-- *deploy:/) fail("unknown deploy marker: " line)
	if (pending == "") { if (line ~ /^```/) inother = 1; next }
	if (line == "") next
	if (line !~ /^```/) fail("the deploy marker of line " pline " is not followed by a fenced block")
	if (line !~ /^```sh$/) fail("a deploy block must be opened with ```sh, not " line)
	kind = pending; pending = ""; inblock = 1; n++
	if (mode == "split") {
		file = sprintf("%s/%03d.sh", dir, n)
		printf "" > file
		if (kind == "service") printf "%03d service %d %s\n", n, NR, name >> (dir "/index")
		else printf "%03d deploy %d\n", n, NR >> (dir "/index")
		close(dir "/index")
	} else if (mode == "script") {
		if (n > 1) print ""
		printf "# --- block %d, %s:%d%s\n", n, guide, NR, (kind == "service" ? ", service " name : "")
	}
}
END {
	if (bad) exit 1
	if (inblock || inother) { printf "extract-guide.sh: %s: the block opened at a deploy marker is never closed\n", guide > "/dev/stderr"; exit 1 }
	if (pending != "") { printf "extract-guide.sh: %s:%d: a deploy marker marks nothing\n", guide, pline > "/dev/stderr"; exit 1 }
	if (n == 0 && mode != "env") { printf "extract-guide.sh: %s: no deploy block\n", guide > "/dev/stderr"; exit 1 }
}' "$guide"
