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

command -v gnuplot >/dev/null || {
	[ -n "${ATSM_NO_SKIP:-}" ] && { echo "1..1"; echo "not ok 1 - gnuplot is not installed (gnuplot-nox)"; exit 1; }
	tap_skip_all "gnuplot is not installed (gnuplot-nox)"
}
tb_start pg
if ! tb_migrate >"$TB_DIR/migrate.log" 2>&1; then
	echo "1..1"; echo "not ok 1 - migrations did not apply"; sed 's/^/# /' "$TB_DIR/migrate.log"
	exit 1
fi

CTL=$top_builddir/ctl/atsmailctl
WORK=$TB_DIR/report-page-test
mkdir -p "$WORK"
: >"$WORK/empty.conf"
PWNED=$WORK/pwned
# page CONF LANG FILE: the page of the week of 2026-11-02 in Tokyo
page() {
	LC_ALL= LC_MESSAGES= LANG=$2 PGTZ=Asia/Tokyo "$CTL" -c "$1" --db "$TB_PG_ADMIN" report \
		--from 2026-11-02 --to 2026-11-08 --html "$3" >"$WORK/out" 2>"$WORK/err"
	RC=$?
}

# alice (Japanese name), and a recruiter whose name tries everything
tb_psql >/dev/null <<SQL
INSERT INTO atsmail.users (id, login, display_name) OVERRIDING SYSTEM VALUE VALUES
	(1, 'alice@corp.test', '山田 花子'),
	(2, 'eve@corp.test', E'x'' ; system(''touch $PWNED'')\n\`touch $PWNED\` <script>alert(1)</script>');
INSERT INTO atsmail.jobs (id, title) OVERRIDING SYSTEM VALUE VALUES (1, 'バックエンドエンジニア');
INSERT INTO atsmail.resumes (id, name, owner_id) OVERRIDING SYSTEM VALUE VALUES
	(1, '候補者 一', 1), (2, '候補者 二', 1);
INSERT INTO atsmail.processes (id, resume_id, job_id, phase, owner_id) OVERRIDING SYSTEM VALUE VALUES
	(1, 1, 1, 'interview1', 1), (2, 2, 1, 'screening', 1);
INSERT INTO atsmail.messages (id, direction, thread_id, owner_id, counterparts, subject, sent_at, received_at,
		visibility, status, is_bounce, is_auto_reply) OVERRIDING SYSTEM VALUE VALUES
	(1, 'out', NULL, 1, '{c1@cand.test}', 'ご案内', '2026-11-02 10:00+09', NULL, 'shared', 'recorded', false, false),
	(2, 'in', 1, 1, '{c1@cand.test}', 'Re: ご案内', NULL, '2026-11-02 12:00+09', 'shared', 'recorded', false, false),
	(3, 'out', NULL, 1, '{c2@cand.test}', '面接日程', '2026-11-03 09:00+09', NULL, 'shared', 'recorded', false, false),
	(4, 'out', NULL, 2, '{c3@cand.test}', 'Hello', '2026-11-05 15:00+09', NULL, 'shared', 'recorded', false, false);
INSERT INTO atsmail.message_links (message_id, target_kind, target_id, rule) VALUES
	(1, 'process', 1, 'command'), (2, 'process', 1, 'in_reply_to'), (3, 'process', 2, 'command');
INSERT INTO atsmail.phase_history (kind, record_id, from_phase, to_phase, cause, actor_id, message_id, at) VALUES
	('process', 1, 'entry', 'screening', 'mail_sent', 1, 1, '2026-11-02 10:00+09'),
	('process', 1, 'screening', 'interview1', 'reply', 1, 2, '2026-11-02 12:00+09'),
	('process', 2, 'entry', 'screening', 'mail_sent', 1, 3, '2026-11-03 09:00+09');
SQL

# ---------------------------------------------------------- the page, Japanese
page "$WORK/empty.conf" ja_JP.UTF-8 "$WORK/ja.html"
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
page "$WORK/empty.conf" C.UTF-8 "$WORK/en.html"
tap_ok "in the C locale the page is English" \
	eval "grep -q '<html lang=\"en\">' '$WORK/en.html' && grep -q '<text>Sent and replies per recruiter</text>' '$WORK/en.html'"
printf 'report_gnuplot = /nonexistent/gnuplot\n' >"$WORK/nognuplot.conf"
page "$WORK/nognuplot.conf" C.UTF-8 "$WORK/no.html"
tap_is "report_gnuplot that does not exist: exit 1" "$RC" 1
tap_ok "... the error names it and the package" \
	eval "grep -q '/nonexistent/gnuplot' '$WORK/err' && grep -q 'gnuplot-nox' '$WORK/err'"

tap_done
