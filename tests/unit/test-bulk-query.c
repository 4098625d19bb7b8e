/* test-bulk-query.c -- unit tests of the bulk send query language
 * (lib/bulk/query.c): every term, spaces and order, and every malformed
 * term named in the error. */
#include "atsm-check.h"
#include "bulk/query.h"

#include <string.h>

START_TEST(all_terms)
{
	struct atsm_bulk_query q;
	struct atsm_err err;

	ck_assert_int_eq(atsm_bulk_query_parse("phase=interview1, job=12, phase-older-than=30d, "
	    "kind=resume, owner=sato", &q, &err), 0);
	ck_assert_str_eq(q.phase, "interview1");
	ck_assert_int_eq(q.job, 12);
	ck_assert_int_eq(q.older_days, 30);
	ck_assert_int_eq(q.kind, 'r');
	ck_assert_str_eq(q.owner, "sato");
}
END_TEST

START_TEST(defaults_and_spacing)
{
	struct atsm_bulk_query q;
	struct atsm_err err;

	ck_assert_int_eq(atsm_bulk_query_parse("  kind = contact ,phase-older-than=7 ,", &q, &err), 0);
	ck_assert_str_eq(q.phase, "");
	ck_assert_int_eq(q.job, 0);
	ck_assert_int_eq(q.older_days, 7);
	ck_assert_int_eq(q.kind, 'c');
	ck_assert_str_eq(q.owner, "");
	ck_assert_int_eq(atsm_bulk_query_parse("phase=new", &q, &err), 0);
	ck_assert_int_eq(q.older_days, -1);
	ck_assert_int_eq(q.kind, 0);
}
END_TEST

static void
refused(const char *text, const char *named)
{
	struct atsm_bulk_query q;
	struct atsm_err err;

	atsm_err_clear(&err);
	ck_assert_int_eq(atsm_bulk_query_parse(text, &q, &err), -1);
	ck_assert_msg(strstr(err.msg, named) != NULL, "'%s': error '%s' does not name '%s'",
	    text, err.msg, named);
}

START_TEST(malformed_named)
{
	refused("phase=new, colour=red", "'colour=red'");
	refused("phase=New!", "'phase=New!'");
	refused("job=abc", "'job=abc'");
	refused("job=0", "'job=0'");
	refused("phase-older-than=soon", "'phase-older-than=soon'");
	refused("phase-older-than=30w", "'phase-older-than=30w'");
	refused("kind=company", "'kind=company'");
	refused("phase", "'phase'");
	refused("phase=a, phase=b", "phase given twice");
	refused("owner=a b", "'owner=a b'");
	refused("", "empty term");
	refused(",phase=new", "empty term");
}
END_TEST

START_TEST(too_long)
{
	char big[ATSM_BULK_QUERY_MAX + 10];
	struct atsm_bulk_query q;
	struct atsm_err err;

	memset(big, 'a', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	ck_assert_int_eq(atsm_bulk_query_parse(big, &q, &err), -1);
	ck_assert_int_eq(atsm_bulk_query_parse(NULL, &q, &err), -1);
}
END_TEST

static Suite *
suite(void)
{
	Suite *s = suite_create("bulk-query");
	TCase *tc = tcase_create("parse");

	tcase_add_test(tc, all_terms);
	tcase_add_test(tc, defaults_and_spacing);
	tcase_add_test(tc, malformed_named);
	tcase_add_test(tc, too_long);
	suite_add_tcase(s, tc);
	return s;
}

ATSM_CHECK_MAIN()
