#!/bin/bash
# report-browser.sh -- the report's HTML page as a reader sees it: the page
# `atsmailctl report --html` makes from seeded mail (the week of
# report-page.sh, in Japanese) is rendered by Debian's headless Chromium
# (tests/e2e/report-browser.py, through ChromeDriver) with no network,
# and the test judges what the browser drew (docs/reports.md, "The
# browser test"):
#   - the rendered text: the Japanese headings, names and table rows;
#   - the three charts: drawn at their size, with their bars or lines
#     (paths) and their Japanese titles and labels as drawn text;
#   - no missing glyph: every character of every drawn element is in one
#     of the fonts Chromium drew that element with (DevTools names the
#     fonts, fontconfig's charset says what each font has);
#   - the page fetched nothing;
#   - a negative control: the same page with the system's fonts less
#     every Japanese one must show missing glyphs, so the check can fail.
# Screenshots of both are kept beside the test's log:
# tests/e2e/report-browser.png and report-browser-nocjk.png in the build
# directory (ATSM_ARTIFACTS chooses another directory).
set -u
. "$top_srcdir/tests/e2e/e2e-lib.sh"

PY=/usr/bin/python3
for t in /usr/bin/chromium /usr/bin/chromedriver fc-list gnuplot; do
	command -v "$t" >/dev/null ||
		tap_skip_all "$t is not installed (chromium chromium-driver fontconfig gnuplot-nox)"
done
"$PY" -c 'import selenium' 2>/dev/null || tap_skip_all "python3-selenium is not installed"

. "$top_srcdir/tests/e2e/report-page-lib.sh"
rp_start report-browser-test
ART=${ATSM_ARTIFACTS:-$top_builddir/tests/e2e}
mkdir -p "$ART"

# render OUTDIR [FONTCONFIG_FILE]: the Japanese page in Chromium, what it
# drew into OUTDIR; BRC is the driver's exit status
render() {
	mkdir -p "$1" "$WORK/home"
	env HOME="$WORK/home" XDG_CACHE_HOME="$WORK/home/.cache" XDG_CONFIG_HOME="$WORK/home/.config" \
		${2:+FONTCONFIG_FILE="$2"} timeout 120 "$PY" "$top_srcdir/tests/e2e/report-browser.py" \
		"$WORK/ja.html" "$1" >"$1/driver.log" 2>&1
	BRC=$?
}
fact() { sed -n "s/^$1=//p" "$2/facts"; }
# japanese FILE: its lines with kana or kanji
japanese() { LC_ALL=C.UTF-8 grep -P '[\x{3040}-\x{30ff}\x{4e00}-\x{9fff}]' "$1"; }
# png_size FILE: "WIDTH HEIGHT" of a PNG, from its IHDR
png_size() {
	"$PY" -c 'import struct,sys; h=open(sys.argv[1],"rb").read(24)
assert h[:8]==b"\x89PNG\r\n\x1a\n" and h[12:16]==b"IHDR"; print(*struct.unpack(">II",h[16:24]))' "$1"
}

rp_page "$WORK/empty.conf" ja_JP.UTF-8 "$WORK/ja.html"
tap_is "report --html (Japanese): exit 0" "$RC" 0
[ "$RC" = 0 ] || sed 's/^/# /' "$WORK/err"

# ---------------------------------------------------------- rendered
B=$WORK/browser
render "$B"
tap_is "headless Chromium rendered the page" "$BRC" 0
[ "$BRC" = 0 ] || { sed 's/^/# /' "$B/driver.log"; tap_bail "the browser did not run"; }
cp "$B/page.png" "$ART/report-browser.png"
tap_diag "screenshot: $ART/report-browser.png"
tap_is "the document's language is ja" "$(fact lang "$B")" ja
tap_is "the page fetched nothing (no resource entries)" "$(fact resources "$B")" 0

T=$B/text.txt
tap_ok "the rendered text has the Japanese title and period" \
	eval "grep -qx 'atsmail レポート' '$T' && grep -qx '期間: 2026-11-02 - 2026-11-08 (Asia/Tokyo)' '$T'"
tap_ok "... the section headings" \
	eval "grep -qx '担当者別' '$T' && grep -qx '求人別' '$T' && grep -qx '求人別ファネル' '$T'"
tap_ok "... alice's row: 山田 花子, 2 sent, 1 reply, 50.0%, 2時間00分" \
	grep -qP '^山田 花子\t2\t1\t50\.0%\t0\t0\t2時間\s*00分\t' "$T"
tap_ok "... the funnel rows with the job and the phases' Japanese names" \
	eval "grep -qP '^バックエンドエンジニア\t書類選考\t2$' '$T' && grep -qP '^バックエンドエンジニア\t一次面接\t1$' '$T'"
tap_ok "... eve's injected markup shows as text, not as a script" \
	grep -qF '<script>alert(1)</script>' "$T"

# ---------------------------------------------------------- the charts
S=$B/svg.tsv
tap_is "three SVG charts drawn" "$(wc -l <"$S")" 3
tap_is "... each at least 300x200 on the page" \
	"$(awk -F'\t' '$1 >= 300 && $2 >= 200' "$S" | wc -l)" 3
tap_is "... each with drawn paths (bars, lines) and text" \
	"$(awk -F'\t' '$4 >= 3 && $5 >= 5' "$S" | wc -l)" 3
ST=$B/svg-text.txt
tap_ok "the charts' Japanese titles are drawn" \
	eval "grep -qx '担当者別の送信数と返信数' '$ST' && grep -qx '日別の送信数と返信数' '$ST' && grep -qx '求人別ファネル: メールでフェーズに進んだ選考' '$ST'"
tap_ok "the bar chart's recruiter and legend are drawn" \
	eval "grep -qx '山田 花子' '$ST' && grep -qx '送信' '$ST' && grep -qx '返信' '$ST'"
tap_ok "the line chart's days are drawn, 11-02 to 11-08" \
	eval "for d in 02 03 04 05 06 07 08; do grep -qx 11-\$d '$ST' || exit 1; done"
tap_ok "the funnel's job and phase labels are drawn" \
	eval "grep -qx 'バックエンドエンジニア: 書類選考' '$ST' && grep -qx 'バックエンドエンジニア: 一次面接' '$ST'"

# ---------------------------------------------------------- glyphs
G=$B/glyphs.tsv
jn=$(japanese "$G" | wc -l)
tap_ok "the glyph check saw the Japanese elements ($jn: headings, cells, chart text)" test "$jn" -ge 30
tap_is "no missing glyph: every character is in a font that drew it" \
	"$(awk -F'\t' '$3 != ""' "$G")" ""
tap_diag "fonts of the Japanese text: $(japanese "$G" | cut -f2 | tr ',' '\n' | sort -u | tr '\n' ' ')"

read -r w h < <(png_size "$B/page.png")
tap_ok "the screenshot is the whole page (${w:-?}x${h:-?}, page $(fact height "$B") high)" \
	test "${w:-0}" -ge 900 -a "${h:-0}" -ge "$(fact height "$B")"

# ---------------------------------------------------------- negative control
# the system's fonts less every font that has 担 (U+62C5): what a server
# without a Japanese font package draws with
cat >"$WORK/nocjk.conf" <<EOF
<?xml version="1.0"?>
<!DOCTYPE fontconfig SYSTEM "urn:fontconfig:fonts.dtd">
<fontconfig>
  <include ignore_missing="no">/etc/fonts/fonts.conf</include>
  <selectfont><rejectfont><pattern>
    <patelt name="charset"><charset><int>0x62c5</int></charset></patelt>
  </pattern></rejectfont></selectfont>
</fontconfig>
EOF
nocjk_fc() { FONTCONFIG_FILE=$WORK/nocjk.conf fc-list "$@"; }
tap_ok "that fontconfig keeps fonts, and none with 担" \
	eval 'nocjk_fc : family | grep -q . && test -z "$(nocjk_fc :charset=62c5 family)"'
N=$WORK/nocjk
render "$N" "$WORK/nocjk.conf"
tap_is "without a Japanese font: Chromium still renders" "$BRC" 0
[ "$BRC" = 0 ] && cp "$N/page.png" "$ART/report-browser-nocjk.png"
tap_ok "... and the check finds the missing glyphs (the title's 担当者 among them)" \
	eval "awk -F'\t' '\$1 == \"担当者別の送信数と返信数\" && \$3 ~ /担/ && \$3 ~ /者/' '$N/glyphs.tsv' | grep -q ."
tap_is "... in every Japanese element" \
	"$(japanese "$N/glyphs.tsv" | awk -F'\t' '$3 == ""' | wc -l)" 0

tap_done
