/* test-report-stats.c -- report/stats.c: nearest-rank median and p90, the
 * reply rate, the office-hours settings and the office-hours length of an
 * interval across nights, weekends and a change of UTC offset. */
#include <string.h>

#include "atsm-check.h"
#include "report/stats.h"

/* 2026-12-07 is a Monday; 00:00 UTC */
#define MON 1796601600LL
#define H 3600LL
#define JST (9 * 3600L)

START_TEST(test_percentile_nearest_rank)
{
	long long v[] = { 50, 10, 40, 20, 30, 100, 90, 80, 70, 60 };
	long long one[] = { 7 };
	long long odd[] = { 3, 1, 2 };

	/* n = 10: median rank 5 (the lower middle), p90 rank 9 */
	ck_assert_int_eq(atsm_report_percentile(v, 10, 0.5), 50);
	ck_assert_int_eq(atsm_report_percentile(v, 10, 0.9), 90);
	ck_assert_int_eq(atsm_report_percentile(v, 10, 1.0), 100);
	ck_assert_int_eq(atsm_report_percentile(one, 1, 0.5), 7);
	ck_assert_int_eq(atsm_report_percentile(one, 1, 0.9), 7);
	ck_assert_int_eq(atsm_report_percentile(odd, 3, 0.5), 2);
	ck_assert_int_eq(atsm_report_percentile(odd, 3, 0.9), 3);
	ck_assert_int_eq(atsm_report_percentile(v, 0, 0.5), -1);
}
END_TEST

START_TEST(test_percentile_small_sets)
{
	long long two[] = { 600, 60 };
	long long four[] = { 4, 3, 2, 1 };

	ck_assert_int_eq(atsm_report_percentile(two, 2, 0.5), 60);
	ck_assert_int_eq(atsm_report_percentile(two, 2, 0.9), 600);
	ck_assert_int_eq(atsm_report_percentile(four, 4, 0.5), 2);
	ck_assert_int_eq(atsm_report_percentile(four, 4, 0.9), 4);
}
END_TEST

START_TEST(test_rate)
{
	ck_assert(atsm_report_rate(1, 2) == 0.5);
	ck_assert(atsm_report_rate(0, 3) == 0.0);
	ck_assert(atsm_report_rate(0, 0) == -1.0);
}
END_TEST

START_TEST(test_office_parse)
{
	struct atsm_office o;
	struct atsm_err err;

	ck_assert_int_eq(atsm_office_hours_parse("09:00-18:00", &o, &err), 0);
	ck_assert_int_eq(o.open, 540);
	ck_assert_int_eq(o.close, 1080);
	ck_assert_int_eq(atsm_office_hours_parse("00:00-24:00", &o, &err), 0);
	ck_assert_int_eq(o.close, 1440);
	ck_assert_int_eq(atsm_office_hours_parse("18:00-09:00", &o, &err), -1);
	ck_assert(strstr(err.msg, "18:00-09:00") != NULL);
	ck_assert_int_eq(atsm_office_hours_parse("9:00-18:00", &o, &err), -1);
	ck_assert_int_eq(atsm_office_hours_parse("09:00-18:00x", &o, &err), -1);
	ck_assert_int_eq(atsm_office_hours_parse("09:60-18:00", &o, &err), -1);
	ck_assert_int_eq(atsm_office_hours_parse("24:30-24:40", &o, &err), -1);

	ck_assert_int_eq(atsm_office_days_parse("mon-fri", &o, &err), 0);
	ck_assert_uint_eq(o.days, 0x3e);
	ck_assert_int_eq(atsm_office_days_parse("sun", &o, &err), 0);
	ck_assert_uint_eq(o.days, 0x01);
	ck_assert_int_eq(atsm_office_days_parse("fri-mon", &o, &err), 0);
	ck_assert_uint_eq(o.days, 0x63);
	ck_assert_int_eq(atsm_office_days_parse("mon,wed,sat", &o, &err), 0);
	ck_assert_uint_eq(o.days, 0x4a);
	ck_assert_int_eq(atsm_office_days_parse("mon-", &o, &err), -1);
	ck_assert_int_eq(atsm_office_days_parse("monday", &o, &err), -1);
	ck_assert_int_eq(atsm_office_days_parse("", &o, &err), -1);
	ck_assert(strstr(err.msg, "mon-fri") != NULL);
}
END_TEST

START_TEST(test_office_seconds)
{
	struct atsm_office o = { 540, 1080, 0x3e };   /* 09:00-18:00 mon-fri */

	/* Monday 10:00-11:30 JST (01:00-02:30 UTC): all office time */
	ck_assert_int_eq(atsm_office_seconds(MON + 1 * H, JST, MON + 2 * H + 1800, JST, &o), 5400);
	/* Monday 17:00 JST to Tuesday 10:00 JST: 1 h + 1 h */
	ck_assert_int_eq(atsm_office_seconds(MON + 8 * H, JST, MON + 25 * H, JST, &o), 2 * H);
	/* Friday 17:00 JST to Monday 09:30 JST: 1 h + 30 min, the weekend not counted */
	ck_assert_int_eq(atsm_office_seconds(MON - 3 * 24 * H + 8 * H, JST, MON + 30 * 60, JST, &o),
	    H + 1800);
	/* Saturday all day: nothing */
	ck_assert_int_eq(atsm_office_seconds(MON - 2 * 24 * H - JST, JST, MON - 24 * H - JST, JST,
	    &o), 0);
	/* at night only: nothing; reversed: nothing */
	ck_assert_int_eq(atsm_office_seconds(MON + 10 * H, JST, MON + 20 * H, JST, &o), 0);
	ck_assert_int_eq(atsm_office_seconds(MON + 2 * H, JST, MON + 1 * H, JST, &o), 0);
	/* a whole working week: 5 x 9 h */
	ck_assert_int_eq(atsm_office_seconds(MON - JST, JST, MON + 7 * 24 * H - JST, JST, &o),
	    45 * H);
}
END_TEST

START_TEST(test_office_seconds_offset_change)
{
	struct atsm_office o = { 540, 1080, 0x7f };

	/* UTC 08:00 to 17:00 on a Monday: in UTC+0 9 h minus 1 h before
	 * opening = 8 h; with the offset moving to +1 h at the end (a DST
	 * change in the night), the local end is 18:00: 9 h */
	ck_assert_int_eq(atsm_office_seconds(MON + 8 * H, 0, MON + 17 * H, 0, &o), 8 * H);
	ck_assert_int_eq(atsm_office_seconds(MON + 8 * H, 0, MON + 17 * H, 3600, &o), 9 * H);
}
END_TEST

static Suite *
suite(void)
{
	Suite *s = suite_create("report-stats");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, test_percentile_nearest_rank);
	tcase_add_test(tc, test_percentile_small_sets);
	tcase_add_test(tc, test_rate);
	tcase_add_test(tc, test_office_parse);
	tcase_add_test(tc, test_office_seconds);
	tcase_add_test(tc, test_office_seconds_offset_change);
	suite_add_tcase(s, tc);
	return s;
}

ATSM_CHECK_MAIN()
