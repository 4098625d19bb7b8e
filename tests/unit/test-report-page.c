/* test-report-page.c -- the report's page made by running gnuplot
 * (ctl/report-html.c): three SVG charts in a page with no network
 * reference and the Japanese names as text, the PNG of the mail, the
 * errors of a gnuplot that is missing or fails (its standard error in the
 * message), the period in the report's zone, the language from the
 * locale.  Needs gnuplot (Debian: gnuplot-nox) for the drawing tests.
 */
#include "atsm-check.h"
#include "report.h"
#include "report-page.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "report/html.h"

static struct atsm_report_row rows[2];
static struct atsm_report_day days[2];
static struct atsm_report_step steps[2];
static struct atsm_report rep;

static void
fill(void)
{
	memset(&rep, 0, sizeof(rep));
	rows[0] = (struct atsm_report_row){ .key = "alice", .label = "山田 花子", .sent = 12,
		.replies = 5, .reply_rate = 0.5, .in_median = 3600, .in_p90 = 7200,
		.out_median = -1, .out_p90 = -1 };
	rows[1] = (struct atsm_report_row){ .key = "evil",
		.label = "x' ; system('touch /tmp/atsm-page-pwned')\n<script>", .sent = 1,
		.reply_rate = -1, .in_median = -1, .in_p90 = -1, .out_median = -1, .out_p90 = -1 };
	rep.recruiters.v = rows;
	rep.recruiters.n = 2;
	strcpy(days[0].date, "2026-11-30");
	days[0].sent = 4;
	strcpy(days[1].date, "2026-12-01");
	days[1].sent = 9, days[1].replies = 5;
	rep.days = days;
	rep.ndays = 2;
	steps[0] = (struct atsm_report_step){ "j1", "エンジニア", "entry", "応募", 1, 9 };
	steps[1] = (struct atsm_report_step){ "j1", "エンジニア", "interview", "面接", 2, 3 };
	rep.funnel = steps;
	rep.nfunnel = 2;
	rep.from = 1795964400;        /* 2026-11-30 00:00 in Tokyo */
	rep.to = 1796569200;          /* 2026-12-07 00:00 */
	strcpy(rep.zone, "Asia/Tokyo");
}

static int
count(const char *s, const char *what)
{
	int n = 0;

	while ((s = strstr(s, what)) != NULL)
		n++, s += strlen(what);
	return n;
}

static bool
have_gnuplot(void)
{
	if (system("command -v gnuplot >/dev/null 2>&1") == 0)
		return true;
	ck_assert_msg(getenv("ATSM_NO_SKIP") == NULL, "gnuplot is not installed (gnuplot-nox)");
	return false;
}

START_TEST(page_with_three_charts)
{
	struct atsm_buf html, png;
	struct atsm_err err;
	struct stat st;
	const char *s;

	if (!have_gnuplot())
		return;
	fill();
	unlink("/tmp/atsm-page-pwned");
	atsm_buf_init(&html, ATSM_REPORT_HTML_MAX);
	atsm_buf_init(&png, CTL_GNUPLOT_OUT_MAX);
	ck_assert_msg(ctl_report_page(&rep, ATSM_LANG_JA, NULL, &html, &png, &err) == 0, "%s",
	    err.msg);
	s = atsm_buf_str(&html);
	ck_assert_int_eq(count(s, "<svg"), 3);
	ck_assert_ptr_null(strstr(s, "http://"));
	ck_assert_ptr_null(strstr(s, "https://"));
	ck_assert_ptr_null(strstr(s, "<script"));
	/* the names as text of the chart (gnuplot's <text>) and of the table */
	ck_assert_int_ge(count(s, "山田 花子"), 2);
	ck_assert_ptr_nonnull(strstr(s, "<text>担当者別の送信数と返信数</text>"));
	ck_assert_ptr_nonnull(strstr(s, "エンジニア: 面接"));
	ck_assert_ptr_nonnull(strstr(s, "期間: 2026-11-30 - 2026-12-06 (Asia/Tokyo)"));
	ck_assert_int_ne(stat("/tmp/atsm-page-pwned", &st), 0);
	ck_assert_uint_gt(png.len, 1000);
	ck_assert_int_eq(memcmp(png.data, "\x89PNG\r\n\x1a\n", 8), 0);
	atsm_buf_free(&html);
	atsm_buf_free(&png);
}
END_TEST

START_TEST(html_to_a_file_in_the_locale_language)
{
	struct atsm_err err;
	char buf[256];
	FILE *fp;
	size_t n;

	if (!have_gnuplot())
		return;
	fill();
	setenv("LC_ALL", "ja_JP.UTF-8", 1);
	ck_assert_ptr_nonnull(fp = tmpfile());
	ck_assert_msg(ctl_report_html(&rep, "gnuplot", fp, &err) == 0, "%s", err.msg);
	rewind(fp);
	n = fread(buf, 1, sizeof(buf) - 1, fp);
	buf[n] = '\0';
	ck_assert_ptr_nonnull(strstr(buf, "<html lang=\"ja\">"));
	fclose(fp);
	setenv("LC_ALL", "C.UTF-8", 1);
	ck_assert_int_eq(ctl_report_env_lang(), ATSM_LANG_EN);
	unsetenv("LC_ALL");
}
END_TEST

START_TEST(missing_gnuplot_named)
{
	struct atsm_buf out;
	struct atsm_err err;

	atsm_buf_init(&out, 0);
	ck_assert_int_eq(ctl_report_gnuplot("/nonexistent/gnuplot", "set terminal svg\n", &out,
	    &err), -1);
	ck_assert_ptr_nonnull(strstr(err.msg, "cannot run /nonexistent/gnuplot"));
	ck_assert_ptr_nonnull(strstr(err.msg, "gnuplot-nox"));
	atsm_buf_free(&out);
}
END_TEST

START_TEST(failing_gnuplot_says_why)
{
	char path[] = "/tmp/atsm-fake-gnuplot-XXXXXX";
	struct atsm_buf out;
	struct atsm_err err;
	FILE *fp;
	int fd;

	ck_assert_int_ge(fd = mkstemp(path), 0);
	ck_assert_ptr_nonnull(fp = fdopen(fd, "w"));
	/* reads its script, prints half a chart and an error, fails */
	fputs("#!/bin/sh\ncat >/dev/null\necho '<svg>'\n"
	    "printf 'line 3: undefined variable: foo\\n' >&2\nexit 1\n", fp);
	fclose(fp);
	chmod(path, 0700);
	atsm_buf_init(&out, 0);
	ck_assert_int_eq(ctl_report_gnuplot(path, "plot foo\n", &out, &err), -1);
	ck_assert_ptr_nonnull(strstr(err.msg, "failed (exit status 1): line 3: undefined "
	    "variable: foo"));
	ck_assert_int_eq(out.len, 0);
	/* one that succeeds but draws nothing */
	fp = fopen(path, "w");
	fputs("#!/bin/sh\ncat >/dev/null\nexit 0\n", fp);
	fclose(fp);
	ck_assert_int_eq(ctl_report_gnuplot(path, "x\n", &out, &err), -1);
	ck_assert_ptr_nonnull(strstr(err.msg, "drew nothing"));
	/* one that exits without reading a long script: no SIGPIPE kills us */
	fp = fopen(path, "w");
	fputs("#!/bin/sh\necho ok\nexit 0\n", fp);
	fclose(fp);
	{
		char *big = malloc(1u << 20);

		memset(big, 'x', (1u << 20) - 1);
		big[(1u << 20) - 1] = '\0';
		ck_assert_int_eq(ctl_report_gnuplot(path, big, &out, &err), 0);
		ck_assert_str_eq(atsm_buf_str(&out), "ok\n");
		free(big);
	}
	unlink(path);
	atsm_buf_free(&out);
}
END_TEST

START_TEST(period_in_the_zone)
{
	char b[160];

	fill();
	ctl_report_period(&rep, b, sizeof(b));
	ck_assert_str_eq(b, "2026-11-30 - 2026-12-06 (Asia/Tokyo)");
	strcpy(rep.zone, "UTC");
	ctl_report_period(&rep, b, sizeof(b));
	ck_assert_str_eq(b, "2026-11-29 - 2026-12-06 (UTC)");
}
END_TEST

static Suite *
suite(void)
{
	Suite *s = suite_create("report-page");
	TCase *tc = tcase_create("core");

	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, page_with_three_charts);
	tcase_add_test(tc, html_to_a_file_in_the_locale_language);
	tcase_add_test(tc, missing_gnuplot_named);
	tcase_add_test(tc, failing_gnuplot_says_why);
	tcase_add_test(tc, period_in_the_zone);
	suite_add_tcase(s, tc);
	return s;
}

ATSM_CHECK_MAIN()
