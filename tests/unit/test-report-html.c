/* test-report-html.c -- unit tests of the report's HTML page
 * (lib/report/html.c): every value escaped, the page self-contained (no
 * script, no http(s) reference, no external font or style), the Japanese
 * words present, the SVG put in without its prolog and namespaces, and an
 * SVG that holds a script or a reference refused.
 */
#include "atsm-check.h"
#include "report/html.h"
#include "report/table.h"

#include <stdio.h>
#include <string.h>

#define SVG "<?xml version=\"1.0\" encoding=\"utf-8\"  standalone=\"no\"?>\n" \
	"<svg \n width=\"600\" height=\"300\"\n viewBox=\"0 0 600 300\"\n" \
	" xmlns=\"http://www.w3.org/2000/svg\"\n xmlns:xlink=\"http://www.w3.org/1999/xlink\"\n>\n" \
	"<title>Gnuplot</title>\n<defs><filter id='textbox'><feFlood flood-color='white'/>" \
	"</filter></defs>\n<g id=\"gnuplot_canvas\"><use xlink:href='#gpPt0' x='1' y='2'/>" \
	"<g style=\"filter:url(#textbox)\"><text>山田 &lt;b&gt;</text></g></g>\n</svg>\n"

static struct atsm_report_row rows[2], mb[1];
static struct atsm_report_step steps[1];
static struct atsm_report_aging aging[1];
static struct atsm_report rep;

static void
fill(void)
{
	memset(&rep, 0, sizeof(rep));
	rows[0] = (struct atsm_report_row){ .key = "alice", .label = "山田 <b>花子</b> & \"co\" 'x'",
		.sent = 12, .replies = 5, .reply_rate = 0.4166, .bounces_hard = 1,
		.bounces_soft = 0, .in_median = 3 * 3600 + 5 * 60, .in_p90 = 2 * 86400 + 4 * 3600,
		.out_median = 45 * 60, .out_p90 = 30, .held = 2, .open = 0 };
	rows[1] = (struct atsm_report_row){ .key = "bob\xff", .label = NULL, .sent = 0,
		.replies = 0, .reply_rate = -1, .in_median = -1, .in_p90 = -1, .out_median = -1,
		.out_p90 = -1 };
	rep.recruiters.v = rows;
	rep.recruiters.n = 2;
	mb[0] = (struct atsm_report_row){ .key = "recruit@example.com", .label = "採用窓口",
		.sent = 4, .replies = 2, .reply_rate = 0.5, .in_median = -1, .in_p90 = -1,
		.out_median = 600, .out_p90 = 1200, .open = 3 };
	rep.mailboxes.v = mb;
	rep.mailboxes.n = 1;
	steps[0] = (struct atsm_report_step){ "j1", "<script>alert(1)</script>", "entry", "応募",
		1, 9 };
	rep.funnel = steps;
	rep.nfunnel = 1;
	aging[0] = (struct atsm_report_aging){ "recruit@example.com", { 1, 2, 0, 5 } };
	rep.aging = aging;
	rep.naging = 1;
	strcpy(rep.as_login, "carol@example.com");
	rep.office_hours = true;
}

static char *
page(enum atsm_lang lang, const char *svg)
{
	struct atsm_report_page p;
	struct atsm_buf out;
	struct atsm_err err;
	int i;

	memset(&p, 0, sizeof(p));
	p.r = &rep;
	p.lang = lang;
	p.period = "2026-11-30 - 2026-12-06 (Asia/Tokyo)";
	p.generated = "2026-12-07 08:00";
	for (i = 0; i < ATSM_CHART_N; i++)
		p.svg[i] = svg;
	atsm_buf_init(&out, ATSM_REPORT_HTML_MAX);
	ck_assert_int_eq(atsm_report_html(&p, &out, &err), 0);
	return atsm_buf_steal(&out);
}

static int
count(const char *s, const char *what)
{
	int n = 0;

	while ((s = strstr(s, what)) != NULL)
		n++, s += strlen(what);
	return n;
}

START_TEST(escape_rules)
{
	struct atsm_buf b;

	atsm_buf_init(&b, 0);
	ck_assert_int_eq(atsm_html_escape(&b, "<a href=\"x\">&'</a>\x01\t\xc3"), 0);
	ck_assert_str_eq(atsm_buf_str(&b),
	    "&lt;a href=&quot;x&quot;&gt;&amp;&#39;&lt;/a&gt;\t\xef\xbf\xbd");
	atsm_buf_free(&b);
}
END_TEST

START_TEST(values_escaped)
{
	char *s;

	fill();
	s = page(ATSM_LANG_EN, SVG);
	ck_assert_ptr_nonnull(strstr(s, "<td>山田 &lt;b&gt;花子&lt;/b&gt; &amp; &quot;co&quot; "
	    "&#39;x&#39;</td>"));
	ck_assert_ptr_nonnull(strstr(s, "<td>&lt;script&gt;alert(1)&lt;/script&gt;</td>"));
	ck_assert_ptr_null(strstr(s, "<b>"));
	ck_assert_ptr_null(strstr(s, "alert(1)</script>"));
	/* the key where there is no label, its bad byte replaced */
	ck_assert_ptr_nonnull(strstr(s, "<td>bob\xef\xbf\xbd</td>"));
	free(s);
}
END_TEST

START_TEST(self_contained)
{
	char *s;

	fill();
	s = page(ATSM_LANG_EN, SVG);
	ck_assert_ptr_nonnull(strstr(s, "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n"
	    "<meta charset=\"utf-8\">"));
	ck_assert_ptr_null(strstr(s, "http://"));
	ck_assert_ptr_null(strstr(s, "https://"));
	ck_assert_ptr_null(strstr(s, "<script"));
	ck_assert_ptr_null(strstr(s, "<link"));
	ck_assert_ptr_null(strstr(s, "@import"));
	ck_assert_ptr_null(strstr(s, "@font-face"));
	ck_assert_ptr_null(strstr(s, " src="));
	ck_assert_ptr_null(strstr(s, "<?xml"));
	/* the three charts, inline, with their internal references */
	ck_assert_int_eq(count(s, "<svg"), 3);
	ck_assert_int_eq(count(s, "</svg>"), 3);
	ck_assert_ptr_nonnull(strstr(s, "<svg \n width=\"600\" height=\"300\"\n"
	    " viewBox=\"0 0 600 300\"\n>\n<title>"));
	ck_assert_ptr_nonnull(strstr(s, "xlink:href='#gpPt0'"));
	ck_assert_ptr_nonnull(strstr(s, "<figure id=\"chart-recruiters\"><figcaption>"
	    "Sent and replies per recruiter</figcaption>"));
	ck_assert_ptr_nonnull(strstr(s, "<figure id=\"chart-funnel\">"));
	ck_assert_ptr_nonnull(strstr(s, "</body>\n</html>\n"));
	free(s);
}
END_TEST

START_TEST(japanese_words)
{
	char *s;

	fill();
	s = page(ATSM_LANG_JA, SVG);
	ck_assert_ptr_nonnull(strstr(s, "<html lang=\"ja\">"));
	ck_assert_ptr_nonnull(strstr(s, "<h1>atsmail レポート</h1>"));
	ck_assert_ptr_nonnull(strstr(s, "<h2>担当者別</h2>"));
	ck_assert_ptr_nonnull(strstr(s, "<th>返信率</th>"));
	ck_assert_ptr_nonnull(strstr(s, "<figcaption>担当者別の送信数と返信数</figcaption>"));
	ck_assert_ptr_nonnull(strstr(s, "<td class=\"n\">3時間05分</td>"));
	ck_assert_ptr_nonnull(strstr(s, "<td class=\"n\">2日04時間</td>"));
	ck_assert_ptr_nonnull(strstr(s, "<td class=\"n\">1分</td>"));
	ck_assert_ptr_nonnull(strstr(s, "時間は営業時間のみで数えています。"));
	ck_assert_ptr_nonnull(strstr(s, "<th>7日以上</th>"));
	/* jobs: none */
	ck_assert_ptr_nonnull(strstr(s, "<h2>求人別</h2>\n<p>この期間のデータはありません。</p>"));
	free(s);
}
END_TEST

START_TEST(figures)
{
	char *s;

	fill();
	s = page(ATSM_LANG_EN, SVG);
	/* alice: 12 sent, 5 replies, 41.7 %, held 2 */
	ck_assert_ptr_nonnull(strstr(s, "<td class=\"n\">12</td><td class=\"n\">5</td>"
	    "<td class=\"n\">41.7%</td><td class=\"n\">1</td><td class=\"n\">0</td>"
	    "<td class=\"n\">3h 05m</td><td class=\"n\">2d 04h</td><td class=\"n\">45m</td>"
	    "<td class=\"n\">1m</td><td class=\"n\">2</td></tr>"));
	/* bob: no data is "-" */
	ck_assert_ptr_nonnull(strstr(s, "<td class=\"n\">0</td><td class=\"n\">-</td>"));
	/* the shared mailbox shows its open items, the aging its four ages */
	ck_assert_ptr_nonnull(strstr(s, "<td>採用窓口</td>"));
	ck_assert_ptr_nonnull(strstr(s, "<td class=\"n\">3</td></tr>"));
	ck_assert_ptr_nonnull(strstr(s, "<td>recruit@example.com</td><td class=\"n\">1</td>"
	    "<td class=\"n\">2</td><td class=\"n\">0</td><td class=\"n\">5</td></tr>"));
	ck_assert_ptr_nonnull(strstr(s, "Counted as seen by: carol@example.com"));
	free(s);
}
END_TEST

static int
try_svg(const char *svg, char *msg, size_t size)
{
	struct atsm_buf out;
	struct atsm_err err;
	int rc;

	atsm_buf_init(&out, 0);
	err.msg[0] = '\0';
	rc = atsm_report_svg_inline(&out, svg, &err);
	snprintf(msg, size, "%s", err.msg);
	atsm_buf_free(&out);
	return rc;
}

START_TEST(bad_svg_refused)
{
	static const char *const bad[] = {
		"<svg><script>alert(1)</script></svg>",
		"<svg><SCRIPT>alert(1)</SCRIPT></svg>",
		"<svg><foreignObject><div/></foreignObject></svg>",
		"<svg><g onload=\"alert(1)\"></g></svg>",
		"<svg><use xlink:href=\"http://evil.example/x.svg#a\"/></svg>",
		"<svg><use href='data:image/svg+xml,x'/></svg>",
		"<svg><g style=\"fill:url(http://evil.example/p)\"/></svg>",
		"<svg><image href=\"#x\"/></svg>",
		"<svg><style>@import url(x.css);</style></svg>",
		"<svg><g",
		"no svg at all",
		NULL
	};
	char msg[600];
	int i;

	for (i = 0; bad[i] != NULL; i++)
		ck_assert_msg(try_svg(bad[i], msg, sizeof(msg)) == -1, "accepted: %s", bad[i]);
	ck_assert_int_eq(try_svg(SVG, msg, sizeof(msg)), 0);
	/* text that only looks like a tag is text (gnuplot escapes "<") */
	ck_assert_int_eq(try_svg("<svg><text>&lt;script&gt; onload=x url(http://a)</text></svg>",
	    msg, sizeof(msg)), 0);
}
END_TEST

START_TEST(missing_charts_said)
{
	struct atsm_report_page p;
	struct atsm_buf out;
	struct atsm_err err;

	fill();
	memset(&p, 0, sizeof(p));
	p.r = &rep;
	p.lang = ATSM_LANG_EN;
	p.chart_error = "gnuplot: <not found>";
	atsm_buf_init(&out, 0);
	ck_assert_int_eq(atsm_report_html(&p, &out, &err), 0);
	ck_assert_ptr_nonnull(strstr(atsm_buf_str(&out), "<p class=\"warn\">The charts could not "
	    "be drawn: gnuplot: &lt;not found&gt;</p>"));
	ck_assert_ptr_null(strstr(atsm_buf_str(&out), "<svg"));
	/* an unsafe chart fails the page */
	p.svg[1] = "<svg><script/></svg>";
	ck_assert_int_eq(atsm_report_html(&p, &out, &err), -1);
	ck_assert_int_eq(out.len, 0);
	atsm_buf_free(&out);
}
END_TEST

START_TEST(durations)
{
	char b[64];

	atsm_report_fmt_duration_in(-1, ATSM_LANG_JA, b, sizeof(b));
	ck_assert_str_eq(b, "-");
	atsm_report_fmt_duration_in(29, ATSM_LANG_JA, b, sizeof(b));
	ck_assert_str_eq(b, "0分");
	atsm_report_fmt_duration_in(3599, ATSM_LANG_JA, b, sizeof(b));
	ck_assert_str_eq(b, "60分");
	atsm_report_fmt_duration_in(3600, ATSM_LANG_JA, b, sizeof(b));
	ck_assert_str_eq(b, "1時間00分");
	atsm_report_fmt_duration_in(86400 * 3 + 7200, ATSM_LANG_JA, b, sizeof(b));
	ck_assert_str_eq(b, "3日02時間");
	/* English as the terminal table */
	atsm_report_fmt_duration_in(86400 * 3 + 7200, ATSM_LANG_EN, b, sizeof(b));
	ck_assert_str_eq(b, "3d 02h");
}
END_TEST

static Suite *
suite(void)
{
	Suite *s = suite_create("report-html");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, escape_rules);
	tcase_add_test(tc, values_escaped);
	tcase_add_test(tc, self_contained);
	tcase_add_test(tc, japanese_words);
	tcase_add_test(tc, figures);
	tcase_add_test(tc, bad_svg_refused);
	tcase_add_test(tc, missing_charts_said);
	tcase_add_test(tc, durations);
	suite_add_tcase(s, tc);
	return s;
}

ATSM_CHECK_MAIN()
