/* test-report-plot.c -- unit tests of the report's chart scripts
 * (lib/report/plot.c): quoting of every text of the data (no name can add
 * a gnuplot command), the datablocks of numbers, the titles in English and
 * Japanese, the funnel's order, a chart without data; and, when gnuplot is
 * installed, that it really draws each script and runs nothing a name says.
 */
#include "atsm-check.h"
#include "report/plot.h"

#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* A name that tries everything: a quote that ends the string, a line break
 * that ends the command and the datablock, a backquote command, a macro,
 * a system() call, a backslash and bytes that are no UTF-8. */
#define EVIL "x' ; system('touch /tmp/atsm-plot-pwned')\nEOD\n`touch /tmp/atsm-plot-pwned`" \
	" @GPVAL_PWD \\ \"q\" \xff"

static struct atsm_report_row rows[3];
static struct atsm_report_day days[3];
static struct atsm_report_step steps[4];
static struct atsm_report rep;

static void
fill(void)
{
	memset(&rep, 0, sizeof(rep));
	memset(rows, 0, sizeof(rows));
	rows[0] = (struct atsm_report_row){ .key = "alice", .label = "山田 花子", .sent = 12,
		.replies = 5 };
	rows[1] = (struct atsm_report_row){ .key = "bob", .label = "", .sent = 3, .replies = 1 };
	rows[2] = (struct atsm_report_row){ .key = "evil", .label = EVIL, .sent = 7,
		.replies = 0 };
	rep.recruiters.v = rows;
	rep.recruiters.n = 3;
	strcpy(days[0].date, "2026-11-30");
	days[0].sent = 4, days[0].replies = 1;
	strcpy(days[1].date, "2026-12-01");
	days[1].sent = 0, days[1].replies = 2;
	strcpy(days[2].date, "20x6-12-02");             /* not a date: not drawn */
	days[2].sent = 9, days[2].replies = 3;
	rep.days = days;
	rep.ndays = 3;
	/* given out of order: the chart sorts by job, then the phase's order */
	steps[0] = (struct atsm_report_step){ "j2", "営業職", "offer", "内定", 3, 1 };
	steps[1] = (struct atsm_report_step){ "j1", "Engineer", "interview", "面接", 2, 4 };
	steps[2] = (struct atsm_report_step){ "j1", "Engineer", "entry", "応募", 1, 9 };
	steps[3] = (struct atsm_report_step){ "j2", "営業職", "entry", "応募", 1, 6 };
	rep.funnel = steps;
	rep.nfunnel = 4;
}

static char *
script(enum atsm_report_chart c, enum atsm_lang lang, enum atsm_plot_term term)
{
	struct atsm_buf out;
	struct atsm_err err;

	atsm_buf_init(&out, 0);
	ck_assert_int_eq(atsm_report_plot(&rep, c, lang, term, &out, &err), 0);
	return atsm_buf_steal(&out);
}

/* Every line of a script is one of the commands plot.c writes, a number
 * line of the datablock or its end: nothing of the data starts a line. */
static void
lines_are_ours(const char *s)
{
	static const char *const ok[] = { "set ", "unset ", "plot ", "$data << EOD", NULL };
	const char *p = s;
	int eod = 0;

	while (*p != '\0') {
		const char *nl = strchr(p, '\n');
		size_t len = nl != NULL ? (size_t)(nl - p) : strlen(p);
		bool good = false;
		size_t i;

		for (i = 0; ok[i] != NULL; i++)
			if (strncmp(p, ok[i], strlen(ok[i])) == 0)
				good = true;
		if (len == 3 && strncmp(p, "EOD", 3) == 0)
			good = true, eod++;
		if (!good) {
			for (i = 0; i < len; i++)
				if (strchr("0123456789. -", p[i]) == NULL)
					break;
			good = len > 0 && i == len;
		}
		ck_assert_msg(good, "a line that is not ours: %.*s", (int)len, p);
		p += len;
		if (*p == '\n')
			p++;
	}
	ck_assert_int_le(eod, 1);
}

START_TEST(quote_rules)
{
	struct atsm_buf b;

	atsm_buf_init(&b, 0);
	ck_assert_int_eq(atsm_plot_quote(&b, "it's", 0), 0);
	ck_assert_str_eq(atsm_buf_str(&b), "'it''s'");
	atsm_buf_reset(&b);
	ck_assert_int_eq(atsm_plot_quote(&b, "a\nb\rc\td\\e`f`@g", 0), 0);
	ck_assert_str_eq(atsm_buf_str(&b), "'a b c d\\e`f`@g'");
	atsm_buf_reset(&b);
	ck_assert_int_eq(atsm_plot_quote(&b, "ok\xff\xfe", 0), 0);
	ck_assert_str_eq(atsm_buf_str(&b), "'ok\xef\xbf\xbd\xef\xbf\xbd'");
	atsm_buf_reset(&b);
	/* cut at whole characters */
	ck_assert_int_eq(atsm_plot_quote(&b, "山田花子太郎", 3), 0);
	ck_assert_str_eq(atsm_buf_str(&b), "'山田花...'");
	atsm_buf_reset(&b);
	ck_assert_int_eq(atsm_plot_quote(&b, NULL, 0), 0);
	ck_assert_str_eq(atsm_buf_str(&b), "''");
	atsm_buf_free(&b);
}
END_TEST

START_TEST(recruiters_bars)
{
	char *s;

	fill();
	s = script(ATSM_CHART_RECRUITERS, ATSM_LANG_EN, ATSM_PLOT_SVG);
	ck_assert_ptr_nonnull(strstr(s, "set encoding utf8\n"));
	ck_assert_ptr_nonnull(strstr(s, "set terminal svg size 720,420 noenhanced font 'sans,11'"));
	ck_assert_ptr_nonnull(strstr(s, "set title 'Sent and replies per recruiter'\n"));
	ck_assert_ptr_nonnull(strstr(s, "set xtics ('山田 花子' 0, 'bob' 1, 'x'' ; system"));
	ck_assert_ptr_nonnull(strstr(s, "$data << EOD\n0 12 5\n1 3 1\n2 7 0\nEOD\n"));
	ck_assert_ptr_nonnull(strstr(s, "plot $data using 2 title 'Sent'"));
	ck_assert_ptr_nonnull(strstr(s, "'' using 3 title 'Replies'"));
	lines_are_ours(s);
	free(s);
}
END_TEST

START_TEST(injection_stays_in_its_string)
{
	char *s;
	const char *p;

	fill();
	s = script(ATSM_CHART_RECRUITERS, ATSM_LANG_EN, ATSM_PLOT_SVG);
	/* the evil name, cut at ATSM_PLOT_LABEL_MAX characters, is one string */
	p = strstr(s, "'x'' ; system(''touch /tmp/...'");
	ck_assert_ptr_nonnull(p);
	lines_are_ours(s);
	free(s);
	/* uncut (the title path) the whole name stays one line, one string */
	{
		struct atsm_buf b;
		const char *q;

		atsm_buf_init(&b, 0);
		ck_assert_int_eq(atsm_plot_quote(&b, EVIL, 0), 0);
		q = atsm_buf_str(&b);
		ck_assert_ptr_null(strchr(q, '\n'));
		ck_assert_str_eq(q, "'x'' ; system(''touch /tmp/atsm-plot-pwned'') EOD "
		    "`touch /tmp/atsm-plot-pwned` @GPVAL_PWD \\ \"q\" \xef\xbf\xbd'");
		atsm_buf_free(&b);
	}
}
END_TEST

START_TEST(days_line)
{
	char *s;

	fill();
	s = script(ATSM_CHART_DAYS, ATSM_LANG_JA, ATSM_PLOT_SVG);
	ck_assert_ptr_nonnull(strstr(s, "set title '日別の送信数と返信数'\n"));
	ck_assert_ptr_nonnull(strstr(s, "set xrange [0:2]\n"));
	ck_assert_ptr_nonnull(strstr(s, "set xtics ('11-30' 0, '12-01' 1, '' 2)\n"));
	ck_assert_ptr_nonnull(strstr(s, "$data << EOD\n0 4 1\n1 0 2\n2 9 3\nEOD\n"));
	ck_assert_ptr_nonnull(strstr(s, "with linespoints"));
	ck_assert_ptr_nonnull(strstr(s, "title '送信'"));
	ck_assert_ptr_nonnull(strstr(s, "title '返信'"));
	lines_are_ours(s);
	free(s);
}
END_TEST

START_TEST(funnel_sorted_by_job_and_order)
{
	char *s;

	fill();
	s = script(ATSM_CHART_FUNNEL, ATSM_LANG_JA, ATSM_PLOT_SVG);
	ck_assert_ptr_nonnull(strstr(s, "set title '求人別ファネル"));
	/* 4 steps and a blank row between the two jobs: rows 5 .. 1 */
	ck_assert_ptr_nonnull(strstr(s, "set yrange [0.2:5.8]\n"));
	ck_assert_ptr_nonnull(strstr(s, "set ytics ('Engineer: 応募' 5, 'Engineer: 面接' 4, "
	    "'営業職: 応募' 2, '営業職: 内定' 1)\n"));
	ck_assert_ptr_nonnull(strstr(s, "$data << EOD\n5 9 1\n4 4 1\n2 6 2\n1 1 2\nEOD\n"));
	ck_assert_ptr_nonnull(strstr(s, "with boxxyerror lc variable"));
	lines_are_ours(s);
	free(s);
}
END_TEST

START_TEST(no_data_says_so)
{
	char *s;

	memset(&rep, 0, sizeof(rep));
	s = script(ATSM_CHART_FUNNEL, ATSM_LANG_EN, ATSM_PLOT_SVG);
	ck_assert_ptr_nonnull(strstr(s, "set label 1 'No data in this period' at graph 0.5,0.5"));
	ck_assert_ptr_null(strstr(s, "EOD"));
	free(s);
	s = script(ATSM_CHART_RECRUITERS, ATSM_LANG_JA, ATSM_PLOT_SVG);
	ck_assert_ptr_nonnull(strstr(s, "'この期間のデータはありません'"));
	free(s);
}
END_TEST

START_TEST(png_terminal)
{
	char *s;

	fill();
	s = script(ATSM_CHART_RECRUITERS, ATSM_LANG_JA, ATSM_PLOT_PNG);
	ck_assert_ptr_nonnull(strstr(s, "set terminal pngcairo size 720,420 noenhanced"));
	ck_assert_ptr_null(strstr(s, "terminal svg"));
	ck_assert_ptr_nonnull(strstr(s, "set title '担当者別の送信数と返信数'"));
	free(s);
}
END_TEST

START_TEST(limit_is_an_error)
{
	struct atsm_buf out;
	struct atsm_err err;

	fill();
	atsm_buf_init(&out, 64);
	ck_assert_int_eq(atsm_report_plot(&rep, ATSM_CHART_DAYS, ATSM_LANG_EN, ATSM_PLOT_SVG,
	    &out, &err), -1);
	ck_assert_ptr_nonnull(strstr(err.msg, "days"));
	atsm_buf_free(&out);
}
END_TEST

/* gnuplot itself, when it is installed: each chart is drawn (an <svg>
 * with the names as text) and the evil name ran nothing. */
START_TEST(gnuplot_runs_nothing_a_name_says)
{
	char path[] = "/tmp/atsm-plot-XXXXXX", cmd[1024], out[64];
	struct stat st;
	int c, fd;

	if (system("command -v gnuplot >/dev/null 2>&1") != 0) {
		ck_assert_msg(getenv("ATSM_NO_SKIP") == NULL, "gnuplot is not installed");
		return;
	}
	fill();
	unlink("/tmp/atsm-plot-pwned");
	for (c = 0; c < ATSM_CHART_N; c++) {
		char *s = script((enum atsm_report_chart)c, ATSM_LANG_JA, ATSM_PLOT_SVG);
		FILE *fp;

		ck_assert_int_ge(fd = mkstemp(path), 0);
		ck_assert_ptr_nonnull(fp = fdopen(fd, "w"));
		fputs(s, fp);
		fclose(fp);
		free(s);
		snprintf(out, sizeof(out), "%s.svg", path);
		snprintf(cmd, sizeof(cmd), "gnuplot -d < %s > %s 2>/dev/null", path, out);
		ck_assert_int_eq(system(cmd), 0);
		snprintf(cmd, sizeof(cmd), "grep -q '<svg' %s", out);
		ck_assert_int_eq(system(cmd), 0);
		if (c == ATSM_CHART_RECRUITERS) {
			snprintf(cmd, sizeof(cmd), "grep -q '山田 花子' %s", out);
			ck_assert_int_eq(system(cmd), 0);
		}
		unlink(path);
		unlink(out);
		strcpy(path, "/tmp/atsm-plot-XXXXXX");
	}
	ck_assert_int_ne(stat("/tmp/atsm-plot-pwned", &st), 0);
}
END_TEST

static Suite *
suite(void)
{
	Suite *s = suite_create("report-plot");
	TCase *tc = tcase_create("core");

	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, quote_rules);
	tcase_add_test(tc, recruiters_bars);
	tcase_add_test(tc, injection_stays_in_its_string);
	tcase_add_test(tc, days_line);
	tcase_add_test(tc, funnel_sorted_by_job_and_order);
	tcase_add_test(tc, no_data_says_so);
	tcase_add_test(tc, png_terminal);
	tcase_add_test(tc, limit_is_an_error);
	tcase_add_test(tc, gnuplot_runs_nothing_a_name_says);
	suite_add_tcase(s, tc);
	return s;
}

ATSM_CHECK_MAIN()
