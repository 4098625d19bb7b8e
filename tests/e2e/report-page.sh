#!/bin/bash
# report-page.sh -- `atsmailctl report --html` against a private PostgreSQL
# on seeded mail, with the real gnuplot (docs/reports.md, "HTML page"): the
# page has the three SVG charts inline, no script and no network
# reference, the Japanese names as text of the charts and of the tables, a
# recruiter whose name tries to inject a gnuplot command or HTML draws as
# text and runs nothing, the locale chooses the language, and a gnuplot
# that is missing fails the command with its name.
set -u
. "$top_srcdir/tests/e2e/e2e-lib.sh"

command -v gnuplot >/dev/null || tap_skip_all "gnuplot is not installed (gnuplot-nox)"
. "$top_srcdir/tests/e2e/report-page-lib.sh"
rp_start report-page-test

# ---------------------------------------------------------- the page, Japanese
rp_page "$WORK/empty.conf" ja_JP.UTF-8 "$WORK/ja.html"
tap_is "report --html: exit 0" "$RC" 0
[ "$RC" = 0 ] || sed 's/^/# /' "$WORK/err"
H=$WORK/ja.html
tap_is "three SVG charts, inline" "$(grep -o '<svg' "$H" | wc -l)" 3
tap_ok "one HTML page in UTF-8, in Japanese (the locale)" \
	eval "head -c 200 '$H' | grep -q '<html lang=\"ja\">' && grep -q '<meta charset=\"utf-8\">' '$H'"
tap_ok "no http:// or https:// anywhere (nothing to fetch)" eval "! grep -Eq 'https?://' '$H'"
tap_ok "no script, no external style, image or font" \
	eval "! grep -Eiq '<script|<link|<img|<iframe|@import|@font-face| src=' '$H'"
tap_ok "the recruiter's Japanese name is text of the bar chart" \
	eval "grep -q '<text>山田 花子</text>' '$H'"
tap_ok "the job and phases are text of the funnel" \
	eval "grep -q '<text>バックエンドエンジニア: ' '$H'"
tap_ok "the chart titles are Japanese" \
	eval "grep -q '<text>担当者別の送信数と返信数</text>' '$H' && grep -q '<text>日別の送信数と返信数</text>' '$H'"
tap_ok "the period in the report's zone" grep -q "期間: 2026-11-02 - 2026-11-08 (Asia/Tokyo)" "$H"
tap_ok "the table row of alice: 2 sent, 1 reply, 50.0%" \
	grep -q '<tr><td>山田 花子</td><td class="n">2</td><td class="n">1</td><td class="n">50.0%</td>' "$H"
tap_ok "the injecting name ran no gnuplot command" test ! -e "$PWNED"
tap_ok "... and is escaped in the table, its script inert" \
	eval "grep -q '&lt;script&gt;alert(1)&lt;/script&gt;' '$H' && ! grep -q 'alert(1)</script>' '$H'"
tap_ok "... and quoted as text in the chart (gnuplot escapes <)" \
	grep -q "<text>x' ; system('touch" "$H"
python3 - "$H" >"$WORK/xml.log" 2>&1 <<'PY'
import re, sys, xml.dom.minidom
s = open(sys.argv[1], encoding="utf-8").read()
for svg in re.findall(r"<svg.*?</svg>", s, re.S):
    xml.dom.minidom.parseString(svg.replace("<svg", "<svg xmlns:xlink='x'", 1))
PY
tap_is "each SVG is well-formed XML" "$?" 0

# ---------------------------------------------------------- English, gnuplot missing
rp_page "$WORK/empty.conf" C.UTF-8 "$WORK/en.html"
tap_ok "in the C locale the page is English" \
	eval "grep -q '<html lang=\"en\">' '$WORK/en.html' && grep -q '<text>Sent and replies per recruiter</text>' '$WORK/en.html'"
printf 'report_gnuplot = /nonexistent/gnuplot\n' >"$WORK/nognuplot.conf"
rp_page "$WORK/nognuplot.conf" C.UTF-8 "$WORK/no.html"
tap_is "report_gnuplot that does not exist: exit 1" "$RC" 1
tap_ok "... the error names it and the package" \
	eval "grep -q '/nonexistent/gnuplot' '$WORK/err' && grep -q 'gnuplot-nox' '$WORK/err'"

tap_done
