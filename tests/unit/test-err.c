/* test-err.c -- unit tests of the one error value (lib/base/err.c): the
 * class and SQLSTATE travel with the message, so a failure policy never has
 * to read the text. */
#include "atsm-check.h"
#include "base/err.h"

#include <string.h>

START_TEST(test_class_names)
{
	ck_assert_str_eq(atsm_err_class_name(ATSM_ERR_NONE), "none");
	ck_assert_str_eq(atsm_err_class_name(ATSM_ERR_INPUT), "input");
	ck_assert_str_eq(atsm_err_class_name(ATSM_ERR_UNAVAILABLE), "unavailable");
	ck_assert_str_eq(atsm_err_class_name(ATSM_ERR_REFUSED), "refused");
	ck_assert_str_eq(atsm_err_class_name(ATSM_ERR_IO), "io");
	ck_assert_str_eq(atsm_err_class_name(ATSM_ERR_NOMEM), "nomem");
	ck_assert_str_eq(atsm_err_class_name(ATSM_ERR_INTERNAL), "internal");
	ck_assert_str_eq(atsm_err_class_name((enum atsm_err_class)99), "?");
}
END_TEST

START_TEST(test_set_is_input_and_clears_sqlstate)
{
	struct atsm_err err;

	memset(&err, 'x', sizeof(err));
	memcpy(err.sqlstate, "23505", 6);
	err.cls = ATSM_ERR_REFUSED;
	ck_assert_int_eq(atsm_err_set(&err, "line %d: unknown key '%s'", 12, "dbhost"), -1);
	ck_assert_str_eq(err.msg, "line 12: unknown key 'dbhost'");
	ck_assert_int_eq(err.cls, ATSM_ERR_INPUT);
	ck_assert_str_eq(err.sqlstate, "");
}
END_TEST

START_TEST(test_setc_takes_the_class)
{
	struct atsm_err err;

	memset(&err, 'x', sizeof(err));
	ck_assert_int_eq(atsm_err_setc(&err, ATSM_ERR_IO, "%s: cannot write: %s",
	    "/var/spool/j", "No space left on device"), -1);
	ck_assert_str_eq(err.msg, "/var/spool/j: cannot write: No space left on device");
	ck_assert_int_eq(err.cls, ATSM_ERR_IO);
	ck_assert_str_eq(err.sqlstate, "");
	ck_assert_int_eq(atsm_err_setc(&err, ATSM_ERR_UNAVAILABLE, "down"), -1);
	ck_assert_int_eq(err.cls, ATSM_ERR_UNAVAILABLE);
}
END_TEST

START_TEST(test_prefix_keeps_class_and_sqlstate)
{
	struct atsm_err err;

	atsm_err_setc(&err, ATSM_ERR_REFUSED, "statement \"INSERT\" failed: duplicate key");
	memcpy(err.sqlstate, "23505", 6);      /* as store/db-exec.c sets it */
	ck_assert_int_eq(atsm_err_prefix(&err, "%s", "sql/002-x.sql"), -1);
	ck_assert_str_eq(err.msg, "sql/002-x.sql: statement \"INSERT\" failed: duplicate key");
	ck_assert_int_eq(err.cls, ATSM_ERR_REFUSED);
	ck_assert_str_eq(err.sqlstate, "23505");
}
END_TEST

START_TEST(test_prefix_truncates_within_bounds)
{
	struct atsm_err err;
	char longer[ATSM_ERR_MAX + 100];

	memset(longer, 'a', sizeof(longer) - 1);
	longer[sizeof(longer) - 1] = '\0';
	atsm_err_setc(&err, ATSM_ERR_NOMEM, "%s", longer);
	ck_assert_uint_eq(strlen(err.msg), ATSM_ERR_MAX - 1);
	atsm_err_prefix(&err, "ctx");
	ck_assert_uint_eq(strlen(err.msg), ATSM_ERR_MAX - 1);
	ck_assert(strncmp(err.msg, "ctx: aaa", 8) == 0);
	ck_assert_int_eq(err.cls, ATSM_ERR_NOMEM);
}
END_TEST

START_TEST(test_clear)
{
	struct atsm_err err;

	atsm_err_setc(&err, ATSM_ERR_REFUSED, "refused");
	memcpy(err.sqlstate, "42601", 6);
	atsm_err_clear(&err);
	ck_assert_str_eq(err.msg, "");
	ck_assert_int_eq(err.cls, ATSM_ERR_NONE);
	ck_assert_str_eq(err.sqlstate, "");
}
END_TEST

START_TEST(test_null_err_is_allowed)
{
	ck_assert_int_eq(atsm_err_set(NULL, "x"), -1);
	ck_assert_int_eq(atsm_err_setc(NULL, ATSM_ERR_IO, "x"), -1);
	ck_assert_int_eq(atsm_err_prefix(NULL, "x"), -1);
	atsm_err_clear(NULL);
}
END_TEST

static Suite *
suite(void)
{
	Suite *s = suite_create("err");
	TCase *tc = tcase_create("err");

	tcase_add_test(tc, test_class_names);
	tcase_add_test(tc, test_set_is_input_and_clears_sqlstate);
	tcase_add_test(tc, test_setc_takes_the_class);
	tcase_add_test(tc, test_prefix_keeps_class_and_sqlstate);
	tcase_add_test(tc, test_prefix_truncates_within_bounds);
	tcase_add_test(tc, test_clear);
	tcase_add_test(tc, test_null_err_is_allowed);
	suite_add_tcase(s, tc);
	return s;
}

ATSM_CHECK_MAIN()
