# docs-settings.sh -- atsmail.conf(5) documents every setting, and is current.
#
# docs/atsmail.conf.5 is the output of ctl/atsmail-confdoc (from the table
# lib/base/conf-table.c), committed to the tree.  This test fails when the two
# differ, when a setting of the table has no section in the page, or when a
# field of struct atsm_conf has no setting in the table: no setting can be
# left undocumented.  Needs no test bed.

. "$top_srcdir/tests/tap.sh"

gen="$top_builddir/ctl/atsmail-confdoc"
page="$top_srcdir/docs/atsmail.conf.5"
header="$top_srcdir/lib/base/conf.h"
regen="run: $gen > $page   (then commit docs/atsmail.conf.5)"

[ -x "$gen" ] || tap_bail "$gen is not built (make ctl/atsmail-confdoc)"
[ -r "$page" ] || tap_bail "$page is missing; $regen"

tmp=$(mktemp -d) || tap_bail "mktemp failed"
trap 'rm -rf "$tmp"' EXIT

if "$gen" > "$tmp/page.5" 2> "$tmp/err"; then
	tap_pass "atsmail-confdoc prints the man page"
else
	tap_fail "atsmail-confdoc prints the man page" "$(cat "$tmp/err")"
fi

if d=$(diff -u "$page" "$tmp/page.5"); then
	tap_pass "docs/atsmail.conf.5 is the current output of atsmail-confdoc"
else
	tap_fail "docs/atsmail.conf.5 is the current output of atsmail-confdoc" \
		"docs/atsmail.conf.5 is out of date; $regen
$(printf '%s\n' "$d" | head -40)"
fi

"$gen" --names > "$tmp/names" || tap_bail "atsmail-confdoc --names failed"
n=$(wc -l < "$tmp/names")
if [ "$n" -ge 1 ]; then
	tap_pass "atsmail-confdoc --names lists $n settings"
else
	tap_fail "atsmail-confdoc --names lists the settings" "no names"
fi

# every setting of the table has its own section in the committed page
missing=
while read -r name; do
	grep -qxF ".SS $name" "$page" || missing="$missing $name"
done < "$tmp/names"
tap_is "every setting has a section in atsmail.conf(5)" "${missing# }" ""

# every field of struct atsm_conf is a setting of the table
sed -n '/^struct atsm_conf {/,/^};/p' "$header" |
	sed -n 's/^[[:space:]]*[a-z_ ]*[[:space:]*]\([a-z_][a-z0-9_]*\);.*/\1/p' > "$tmp/fields"
nf=$(wc -l < "$tmp/fields")
if [ "$nf" -ge 1 ]; then
	tap_pass "struct atsm_conf has $nf fields"
else
	tap_fail "struct atsm_conf fields found in lib/base/conf.h" "none parsed"
fi
unlisted=
while read -r field; do
	grep -qxF "$field" "$tmp/names" || unlisted="$unlisted $field"
done < "$tmp/fields"
tap_is "every field of struct atsm_conf is a documented setting" "${unlisted# }" ""

# Each component's man page names the settings that component reads, and
# every name it gives is a setting of the table: a page cannot drift from
# atsmail.conf(5) unnoticed.
check_page() {  # check_page PAGE SETTING...
	local pg=$1 missing= unknown=
	shift
	for name in "$@"; do
		grep -qxF "$name" "$tmp/names" || unknown="$unknown $name"
		grep -q "\b$name\b" "$top_srcdir/docs/$pg" || missing="$missing $name"
	done
	tap_is "docs/$pg names the settings it reads, all of them in the table" \
		"${missing# }${unknown:+ unknown:$unknown}" ""
}
ATSMAILD_SETTINGS="milter_socket filing_socket milter_peers filing_peers
	service_max_connections db_conninfo db_connect_timeout db_statement_timeout ats_domain
	command_localpart company_domains internal_networks secret_file guard_action verp verp_tag
	recipient_delimiter intake_max_per_hour bounce_forwarders explain_refusals explain_window
	explain_from explain_attach_max explain_smtp default_language bulk_max_recipients bulk_rate
	bulk_smtp bulk_connections notify_kinds notify_from notify_smtp notify_max_attempts
	notify_retry_base journal_dir journal_segment_size recorder_batch_max
	snapshot_dir snapshot_map_size snapshot_resync_interval header_max_bytes address_max_count
	decode_max_bytes inbound_parse_max_bytes log_level syslog_facility"
# shellcheck disable=SC2086
check_page atsmaild.8 $ATSMAILD_SETTINGS
# and its SETTINGS section lists exactly those: no more, no fewer
listed=$(awk '/^\.SH / { on = ($2 == "SETTINGS") } on' "$top_srcdir/docs/atsmaild.8" |
	sed -n 's/^\.BR \([a-z_][a-z0-9_]*\)\b.*/\1/p' | grep -xFf "$tmp/names" | sort -u)
tap_is "the SETTINGS section of docs/atsmaild.8 lists exactly the settings atsmaild reads" \
	"$(printf '%s\n' $ATSMAILD_SETTINGS | sort -u | tr '\n' ' ')" "$(printf '%s\n' "$listed" | tr '\n' ' ')"
check_page atsmail-notifyd.8 db_conninfo webhook_urls webhook_secret_file webhook_connect_timeout \
	webhook_timeout webhook_max_attempts webhook_retry_base webhook_retry_max
check_page atsmailctl.8 db_conninfo journal_dir secret_file bulk_max_recipients template_folder

# The example configuration shipped in packaging/ parses: atsmailctl stops
# with 3 on a configuration error and 4 when (as here) no database answers.
"$top_builddir/ctl/atsmailctl" -c "$top_srcdir/packaging/atsmail/atsmail.conf.example" \
	--db 'host=127.0.0.1 port=1 connect_timeout=2' db status >"$tmp/example.out" 2>&1
tap_is "packaging/atsmail/atsmail.conf.example is a valid configuration" "$?" "4"

# the page renders without roff warnings, on the device man(1) uses in a
# UTF-8 terminal (the Japanese folder names of shared mailboxes have no
# glyph in PostScript's fonts)
if command -v groff > /dev/null 2>&1; then
	w=$(groff -ww -z -Tutf8 -man "$page" 2>&1)
	tap_is "groff renders atsmail.conf(5) without warnings" "$w" ""
	out=$(groff -man -Tascii -P-cbou "$page" 2> /dev/null)
	case $out in
	*NAME*atsmail.conf*SETTINGS*db_conninfo*"SEE ALSO"*) tap_pass "rendered page has NAME, SETTINGS and SEE ALSO" ;;
	*) tap_fail "rendered page has NAME, SETTINGS and SEE ALSO" "$(printf '%s\n' "$out" | head -20)" ;;
	esac
else
	tap_pass "groff renders atsmail.conf(5) # SKIP groff not installed"
	tap_pass "rendered page has NAME, SETTINGS and SEE ALSO # SKIP groff not installed"
fi

tap_done
