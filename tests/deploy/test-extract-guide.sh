#!/bin/bash
# tests/deploy/test-extract-guide.sh -- unit test of extract-guide.sh, the
# piece of the deploy test that decides which commands of the install guide
# are run: each marked block verbatim and in order, nothing unmarked, and a
# marker that marks nothing (or the wrong thing) an error rather than a
# command silently left untested.  Ends with the sample guide and, when it
# exists, docs/install.md itself: its markers must be well formed.
# TAP; needs neither root nor a mail server.
: "${top_srcdir:=$(cd "$(dirname "$0")/../.." && pwd)}"
. "$top_srcdir/tests/tap.sh"
X=$top_srcdir/tests/deploy/extract-guide.sh
T=$(mktemp -d "${TMPDIR:-/tmp}/atsm-xg.XXXXXX") || tap_bail "mktemp"
trap 'rm -rf "$T"' EXIT
F='```'

# guide NAME: write $T/NAME.md from standard input
guide() { cat >"$T/$1.md"; }

guide ok <<EOF
# Guide
<!-- deploy:env RECRUITER=alice@example.com -->
Some prose.

<!-- deploy -->
${F}sh
echo one "\$HOME"
cat >/tmp/f <<'X'
a line

after a blank line
X
$F

${F}sh
echo not marked
$F

<!-- deploy -->

${F}sh
echo two
$F

<!-- deploy:service postfix -->
${F}sh
systemctl restart postfix
$F
<!-- deploy:env CANDIDATE=taro@candidate.example -->
EOF

out=$("$X" "$T/ok.md" 2>&1); rc=$?
tap_is "a well-formed guide extracts (exit 0)" "$rc" 0
tap_is "marked blocks verbatim, in order; unmarked ones left out; a service block mapped" \
	"$(grep -v '^# ---' <<<"$out")" "echo one \"\$HOME\"
cat >/tmp/f <<'X'
a line

after a blank line
X

echo two

# systemctl restart postfix
atsm_deploy_service postfix"
tap_is "each block is headed by its number and the line of its fence" \
	"$(grep '^# ---' <<<"$out" | tr '\n' '|')" \
	"# --- block 1, $T/ok.md:6|# --- block 2, $T/ok.md:21|# --- block 3, $T/ok.md:26, service postfix|"

"$X" --split "$T/split" "$T/ok.md" >/dev/null 2>&1
tap_is "--split: an index with kind, line and service name" "$(cat "$T/split/index" 2>&1)" \
	"001 deploy 6
002 deploy 21
003 service 26 postfix"
tap_is "--split: one file per block, its text exactly" "$(cat "$T/split/002.sh" 2>&1)" "echo two"
tap_is "--env: the guide's names for the test" "$("$X" --env "$T/ok.md" 2>&1)" \
	"RECRUITER=alice@example.com
CANDIDATE=taro@candidate.example"

# expect_error NAME PATTERN: the guide $T/NAME.md is refused with PATTERN
expect_error() {
	local out rc
	out=$("$X" "$T/$1.md" 2>&1); rc=$?
	if [ "$rc" = 1 ] && grep -q -- "$2" <<<"$out"; then tap_pass "refused: $3"
	else tap_fail "refused: $3" "rc=$rc
$out"; fi
}

guide bash <<EOF
<!-- deploy -->
${F}bash
echo x
$F
EOF
expect_error bash 'bash.md:2: a deploy block must be opened with ```sh' "a marked block that is not \`\`\`sh"

guide prose <<EOF
<!-- deploy -->
Then run:
${F}sh
echo x
$F
EOF
expect_error prose 'prose.md:2: the deploy marker of line 1 is not followed' "a marker followed by prose"

guide open <<EOF
<!-- deploy -->
${F}sh
echo x
EOF
expect_error open 'never closed' "a block never closed"

guide none <<EOF
# Guide
${F}sh
echo x
$F
EOF
expect_error none 'no deploy block' "a guide without any deploy block"

guide dangling <<EOF
<!-- deploy -->
${F}sh
echo x
$F
<!-- deploy -->
EOF
expect_error dangling 'dangling.md:5: a deploy marker marks nothing' "a marker at the end that marks nothing"

guide typo <<EOF
<!-- deploy:sevrice postfix -->
${F}sh
echo x
$F
EOF
expect_error typo 'unknown deploy marker' "a misspelt marker"

guide hidden <<EOF
<!--
The convention: the line
<!-- deploy
marks the next block.
-->
${F}markdown
<!-- deploy -->
$F
${F}sh
echo hidden
$F
<!-- deploy -->
${F}sh
echo shown
$F
EOF
tap_is "a marker inside a comment or an unmarked fenced block marks nothing" \
	"$("$X" "$T/hidden.md" 2>&1 | grep -v '^# ---')" "echo shown"

out=$("$X" --split "$T/sample" "$top_srcdir/tests/deploy/sample-install.md" 2>&1)
tap_is "the sample guide: 11 blocks, 4 of them services" \
	"$(wc -l <"$T/sample/index" 2>&1)/$(grep -c ' service ' "$T/sample/index" 2>&1)" "11/4"
if [ -f "$top_srcdir/docs/install.md" ]; then
	tap_ok "docs/install.md: its deploy markers are well formed" "$X" "$top_srcdir/docs/install.md"
	env=$("$X" --env "$top_srcdir/docs/install.md" 2>&1)
	tap_ok "docs/install.md names RECRUITER, RECRUITER_PASSWORD and CANDIDATE for the test" \
		sh -c 'for v in RECRUITER RECRUITER_PASSWORD CANDIDATE; do printf "%s\n" "$1" | grep -q "^$v=." || { echo "no deploy:env $v"; exit 1; }; done' - "$env"
fi
tap_done
