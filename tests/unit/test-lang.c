/* test-lang.c -- base/lang: the names of the languages atsmail writes in. */
#include "atsm-check.h"
#include "base/lang.h"

START_TEST(test_lang_parse_names_and_regions)
{
	enum atsm_lang l = ATSM_LANG_EN;

	ck_assert_int_eq(atsm_lang_parse("ja", &l), 0);
	ck_assert_int_eq(l, ATSM_LANG_JA);
	ck_assert_int_eq(atsm_lang_parse("EN", &l), 0);
	ck_assert_int_eq(l, ATSM_LANG_EN);
	ck_assert_int_eq(atsm_lang_parse("ja-JP", &l), 0);
	ck_assert_int_eq(l, ATSM_LANG_JA);
	ck_assert_int_eq(atsm_lang_parse("ja_JP.UTF-8", &l), 0);
	ck_assert_int_eq(l, ATSM_LANG_JA);
	ck_assert_str_eq(atsm_lang_name(ATSM_LANG_JA), "ja");
	ck_assert_str_eq(atsm_lang_name(ATSM_LANG_EN), "en");
}
END_TEST

START_TEST(test_lang_parse_refuses_others)
{
	enum atsm_lang l = ATSM_LANG_JA;

	ck_assert_int_eq(atsm_lang_parse("fr", &l), -1);
	ck_assert_int_eq(atsm_lang_parse("jap", &l), -1);
	ck_assert_int_eq(atsm_lang_parse("e", &l), -1);
	ck_assert_int_eq(atsm_lang_parse("", &l), -1);
	ck_assert_int_eq(atsm_lang_parse(NULL, &l), -1);
	ck_assert_int_eq(l, ATSM_LANG_JA);            /* untouched on failure */
}
END_TEST

static Suite *
suite(void)
{
	Suite *s = suite_create("lang");
	TCase *tc = tcase_create("lang");

	tcase_add_test(tc, test_lang_parse_names_and_regions);
	tcase_add_test(tc, test_lang_parse_refuses_others);
	suite_add_tcase(s, tc);
	return s;
}

ATSM_CHECK_MAIN()
