/* test-report-table.c -- report/table.c: display width of Japanese text,
 * the forms of durations and rates, the terminal table aligned by display
 * width, and CSV (quoting, CRLF, the byte order mark, empty fields for
 * "no data", one part at a time). */
#include <stdlib.h>
#include <string.h>

#include "atsm-check.h"
#include "report/table.h"

START_TEST(test_width)
{
	ck_assert_uint_eq(atsm_report_width(""), 0);
	ck_assert_uint_eq(atsm_report_width("alice"), 5);
	ck_assert_uint_eq(atsm_report_width("山田 太郎"), 9);
	ck_assert_uint_eq(atsm_report_width("エントリー"), 10);
	ck_assert_uint_eq(atsm_report_width("ｱｲｳ"), 3);          /* halfwidth kana */
	ck_assert_uint_eq(atsm_report_width("ＡＢ"), 4);         /* fullwidth latin */
	ck_assert_uint_eq(atsm_report_width("e\xCC\x81"), 1);   /* e + combining acute */
	ck_assert_uint_eq(atsm_report_width("caf\xC3\xA9"), 4);
	ck_assert_uint_eq(atsm_report_width("\xFF" "a"), 2);    /* a stray byte counts 1 */
	ck_assert_uint_eq(atsm_report_width("𠮷"), 2);          /* outside the BMP */
}
END_TEST

START_TEST(test_formats)
{
	char b[32];

	atsm_report_fmt_duration(-1, b, sizeof(b));
	ck_assert_str_eq(b, "-");
	atsm_report_fmt_duration(0, b, sizeof(b));
	ck_assert_str_eq(b, "0m");
	atsm_report_fmt_duration(45 * 60, b, sizeof(b));
	ck_assert_str_eq(b, "45m");
	atsm_report_fmt_duration(3 * 3600 + 5 * 60 + 59, b, sizeof(b));
	ck_assert_str_eq(b, "3h 05m");
	atsm_report_fmt_duration(2 * 86400 + 4 * 3600 + 1, b, sizeof(b));
	ck_assert_str_eq(b, "2d 04h");
	atsm_report_fmt_rate(-1, b, sizeof(b));
	ck_assert_str_eq(b, "-");
	atsm_report_fmt_rate(0.5, b, sizeof(b));
	ck_assert_str_eq(b, "50.0%");
	atsm_report_fmt_rate(2.0 / 3.0, b, sizeof(b));
	ck_assert_str_eq(b, "66.7%");
}
END_TEST

static struct atsm_report rep;

static void
setup(void)
{
	static struct atsm_report_row rows[2];
	static struct atsm_report_day days[2] = { { "2026-12-01", 2, 1 }, { "2026-12-02", 0, 0 } };
	static struct atsm_report_step steps[1];
	static struct atsm_report_aging aging[1];

	atsm_report_init(&rep);
	strcpy(rep.zone, "Asia/Tokyo");
	memset(rows, 0, sizeof(rows));
	rows[0] = (struct atsm_report_row){ "alice@corp.test", "山田 花子", 4, 2, 0.5, 1, 0,
	    3600, 7200, 1800, 1800, 1, 0 };
	rows[1] = (struct atsm_report_row){ "bob@corp.test", "Bob, \"B\"", 0, 0, -1, 0, 0,
	    -1, -1, -1, -1, 0, 2 };
	rep.recruiters.v = rows;
	rep.recruiters.n = 2;
	rep.days = days;
	rep.ndays = 2;
	steps[0] = (struct atsm_report_step){ "7", "バックエンド", "interview1", "一次面接", 30, 2 };
	rep.funnel = steps;
	rep.nfunnel = 1;
	aging[0] = (struct atsm_report_aging){ "recruit@corp.test", { 1, 0, 2, 3 } };
	rep.aging = aging;
	rep.naging = 1;
}

/* the display column where needle starts in the line of text that holds key */
static size_t
column_of(const char *text, const char *key, const char *needle)
{
	const char *line = strstr(text, key), *at;
	char *copy;
	size_t w;

	ck_assert_ptr_nonnull(line);
	while (line > text && line[-1] != '\n')
		line--;
	at = strstr(line, needle);
	ck_assert_ptr_nonnull(at);
	copy = strndup(line, (size_t)(at - line));
	w = atsm_report_width(copy);
	free(copy);
	return w;
}

START_TEST(test_table_aligned_by_display_width)
{
	struct atsm_buf out;

	atsm_buf_init(&out, 0);
	ck_assert_int_eq(atsm_report_table(&rep, ATSM_REPORT_BY_RECRUITER, ATSM_REPORT_PART_ALL,
	    ATSM_LANG_EN, &out), 0);
	ck_assert_ptr_nonnull(strstr(out.data, "atsmail report 2026-12-01 .. 2026-12-02 (Asia/Tokyo)\n"));
	ck_assert_ptr_nonnull(strstr(out.data, "\nBy recruiter\n"));
	ck_assert_ptr_null(strstr(out.data, "By job"));
	/* the id column starts at the same display column on the Japanese
	 * name's line as on the ASCII name's line and the header */
	ck_assert_uint_eq(column_of(out.data, "山田 花子", "alice@"),
	    column_of(out.data, "Bob, ", "bob@"));
	ck_assert_uint_eq(column_of(out.data, "山田 花子", "alice@"),
	    column_of(out.data, "name", "id"));
	ck_assert_ptr_nonnull(strstr(out.data, "50.0%"));
	ck_assert_ptr_nonnull(strstr(out.data, "1h 00m"));
	ck_assert_ptr_nonnull(strstr(out.data, "2h 00m"));
	ck_assert_ptr_nonnull(strstr(out.data, "30m"));
	ck_assert_ptr_nonnull(strstr(out.data, "\nPer day\n"));
	ck_assert_ptr_nonnull(strstr(out.data, "2026-12-01     2        1\n"));
	ck_assert_ptr_nonnull(strstr(out.data, "バックエンド  7   一次面接  interview1          2\n"));
	ck_assert_ptr_nonnull(strstr(out.data, "recruit@corp.test        1         0         2      3\n"));
	atsm_buf_free(&out);
}
END_TEST

START_TEST(test_table_parts)
{
	struct atsm_buf out;

	atsm_buf_init(&out, 0);
	ck_assert_int_eq(atsm_report_table(&rep, ATSM_REPORT_BY_ALL, ATSM_REPORT_PART_ROWS, ATSM_LANG_EN,
	    &out), 0);
	ck_assert_ptr_nonnull(strstr(out.data, "\nBy job\n"));
	ck_assert_ptr_nonnull(strstr(out.data, "\nBy shared mailbox\n"));
	ck_assert_ptr_nonnull(strstr(out.data, "(none)"));
	ck_assert_ptr_null(strstr(out.data, "Per day"));
	ck_assert_ptr_null(strstr(out.data, "Funnel"));
	atsm_buf_free(&out);
}
END_TEST

START_TEST(test_csv_rows)
{
	struct atsm_buf out;

	atsm_buf_init(&out, 0);
	ck_assert_int_eq(atsm_report_csv(&rep, ATSM_REPORT_BY_ALL, ATSM_REPORT_PART_ROWS, false,
	    &out), 0);
	ck_assert_str_eq(out.data,
	    "section,label,key,sent,replies,reply_rate,bounces_hard,bounces_soft,"
	    "in_median_s,in_p90_s,out_median_s,out_p90_s,held,open\r\n"
	    "recruiter,山田 花子,alice@corp.test,4,2,0.5000,1,0,3600,7200,1800,1800,1,0\r\n"
	    "recruiter,\"Bob, \"\"B\"\"\",bob@corp.test,0,0,,0,0,,,,,0,2\r\n");
	atsm_buf_free(&out);
}
END_TEST

START_TEST(test_csv_bom_and_parts)
{
	struct atsm_buf out;

	atsm_buf_init(&out, 0);
	ck_assert_int_eq(atsm_report_csv(&rep, ATSM_REPORT_BY_ALL, ATSM_REPORT_PART_DAYS, true,
	    &out), 0);
	ck_assert_str_eq(out.data, "\xEF\xBB\xBF" "date,sent,replies\r\n2026-12-01,2,1\r\n"
	    "2026-12-02,0,0\r\n");
	atsm_buf_reset(&out);
	ck_assert_int_eq(atsm_report_csv(&rep, ATSM_REPORT_BY_ALL, ATSM_REPORT_PART_FUNNEL, false,
	    &out), 0);
	ck_assert_str_eq(out.data, "job,job_key,phase,phase_code,processes\r\n"
	    "バックエンド,7,一次面接,interview1,2\r\n");
	atsm_buf_reset(&out);
	ck_assert_int_eq(atsm_report_csv(&rep, ATSM_REPORT_BY_ALL, ATSM_REPORT_PART_AGING, false,
	    &out), 0);
	ck_assert_str_eq(out.data, "mailbox,under_1d,1d_3d,3d_7d,over_7d\r\n"
	    "recruit@corp.test,1,0,2,3\r\n");
	atsm_buf_free(&out);
}
END_TEST

/* a label a spreadsheet would run (=, +, -, @, tab) is written as text
 * with a leading apostrophe, quoted or not; figures and keys that are
 * plain stay as they are */
START_TEST(test_csv_formula_guard)
{
	static struct atsm_report_row rows[3];
	struct atsm_report r = rep;
	struct atsm_buf out;

	rows[0] = (struct atsm_report_row){ "eve@corp.test", "=HYPERLINK(\"http://x\",\"a\")", 1, 0,
	    0.0, 0, 0, -1, -1, -1, -1, 0, 0 };
	rows[1] = (struct atsm_report_row){ "@mal", "+81 3", 2, 0, 0.0, 0, 0, -1, -1, -1, -1, 0, 0 };
	rows[2] = (struct atsm_report_row){ "k", "-1 CMD", 3, 0, 0.0, 0, 0, -1, -1, -1, -1, 0, 0 };
	r.recruiters.v = rows;
	r.recruiters.n = 3;
	atsm_buf_init(&out, 0);
	ck_assert_int_eq(atsm_report_csv(&r, ATSM_REPORT_BY_RECRUITER, ATSM_REPORT_PART_ROWS, false,
	    &out), 0);
	ck_assert_ptr_nonnull(strstr(out.data,
	    "\r\nrecruiter,\"'=HYPERLINK(\"\"http://x\"\",\"\"a\"\")\",eve@corp.test,1,0,0.0000,"));
	ck_assert_ptr_nonnull(strstr(out.data, "\r\nrecruiter,'+81 3,'@mal,2,0,"));
	ck_assert_ptr_nonnull(strstr(out.data, "\r\nrecruiter,'-1 CMD,k,3,0,"));
	atsm_buf_free(&out);
}
END_TEST

/* the text part of a Japanese report mail: the page's words, Japanese
 * durations, still aligned by display width */
START_TEST(test_table_japanese)
{
	struct atsm_buf out;

	atsm_buf_init(&out, 0);
	ck_assert_int_eq(atsm_report_table(&rep, ATSM_REPORT_BY_RECRUITER, ATSM_REPORT_PART_ALL,
	    ATSM_LANG_JA, &out), 0);
	ck_assert_ptr_nonnull(strstr(out.data, "atsmail レポート 2026-12-01 .. 2026-12-02 (Asia/Tokyo)\n"));
	ck_assert_ptr_nonnull(strstr(out.data, "\n担当者別\n"));
	ck_assert_ptr_nonnull(strstr(out.data, "\n日別\n"));
	ck_assert_ptr_nonnull(strstr(out.data, "\n共通アドレスの未完了メール（経過日数別）\n"));
	ck_assert_ptr_nonnull(strstr(out.data, "1時間00分"));
	ck_assert_ptr_nonnull(strstr(out.data, "30分"));
	ck_assert_ptr_null(strstr(out.data, "By recruiter"));
	ck_assert_ptr_null(strstr(out.data, "Per day"));
	ck_assert_uint_eq(column_of(out.data, "山田 花子", "alice@"),
	    column_of(out.data, "Bob, ", "bob@"));
	ck_assert_uint_eq(column_of(out.data, "山田 花子", "alice@"),
	    column_of(out.data, "名前", "ID"));
	atsm_buf_free(&out);
}
END_TEST

START_TEST(test_full_buffer_fails)
{
	struct atsm_buf out;

	atsm_buf_init(&out, 40);
	ck_assert_int_eq(atsm_report_csv(&rep, ATSM_REPORT_BY_ALL, ATSM_REPORT_PART_ROWS, false,
	    &out), -1);
	atsm_buf_free(&out);
}
END_TEST

static Suite *
suite(void)
{
	Suite *s = suite_create("report-table");
	TCase *tc = tcase_create("core");

	tcase_add_checked_fixture(tc, setup, NULL);
	tcase_add_test(tc, test_width);
	tcase_add_test(tc, test_formats);
	tcase_add_test(tc, test_table_aligned_by_display_width);
	tcase_add_test(tc, test_table_parts);
	tcase_add_test(tc, test_csv_rows);
	tcase_add_test(tc, test_csv_bom_and_parts);
	tcase_add_test(tc, test_csv_formula_guard);
	tcase_add_test(tc, test_table_japanese);
	tcase_add_test(tc, test_full_buffer_fails);
	suite_add_tcase(s, tc);
	return s;
}

ATSM_CHECK_MAIN()
