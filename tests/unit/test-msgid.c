/* test-msgid.c -- unit tests of Message-ID values (lib/mail/msgid.c). */
#include "atsm-check.h"
#include "mail/msgid.h"

#include <string.h>

START_TEST(test_bare_strips_brackets_and_space)
{
	char *id;

	ck_assert_int_eq(atsm_msgid_bare("  <abc.123@example.jp>  ", &id), 0);
	ck_assert_str_eq(id, "abc.123@example.jp");
	free(id);
	ck_assert_int_eq(atsm_msgid_bare("\r\n\tbare@example.jp trailing", &id), 0);
	ck_assert_str_eq(id, "bare@example.jp");
	free(id);
}
END_TEST

START_TEST(test_bare_no_id)
{
	char *id = (char *)1;
	char *big = malloc(ATSM_MSGID_MAX + 4);

	ck_assert_int_eq(atsm_msgid_bare("   ", &id), 0);
	ck_assert_ptr_null(id);
	ck_assert_int_eq(atsm_msgid_bare(NULL, &id), 0);
	ck_assert_ptr_null(id);
	ck_assert_int_eq(atsm_msgid_bare("<>", &id), 0);
	ck_assert_ptr_null(id);
	big[0] = '<';
	memset(big + 1, 'a', ATSM_MSGID_MAX + 1);
	big[ATSM_MSGID_MAX + 2] = '>';
	big[ATSM_MSGID_MAX + 3] = '\0';
	ck_assert_int_eq(atsm_msgid_bare(big, &id), 0);
	ck_assert_ptr_null(id);
	free(big);
}
END_TEST

START_TEST(test_bare_unclosed_bracket_keeps_the_word)
{
	char *id;

	ck_assert_int_eq(atsm_msgid_bare("<open@example.jp", &id), 0);
	ck_assert_str_eq(id, "<open@example.jp");
	free(id);
}
END_TEST

START_TEST(test_list_references)
{
	char *v[4];
	size_t n, i;

	n = atsm_msgid_list("<a@x>\r\n <b@y> junk <> <c@z> <unclosed", v, 4);
	ck_assert_uint_eq(n, 3);
	ck_assert_str_eq(v[0], "a@x");
	ck_assert_str_eq(v[1], "b@y");
	ck_assert_str_eq(v[2], "c@z");
	for (i = 0; i < n; i++)
		free(v[i]);
	n = atsm_msgid_list("<a@x> <b@y> <c@z>", v, 2);
	ck_assert_uint_eq(n, 2);
	for (i = 0; i < n; i++)
		free(v[i]);
	ck_assert_uint_eq(atsm_msgid_list(NULL, v, 4), 0);
}
END_TEST

static Suite *
suite(void)
{
	Suite *s = suite_create("msgid");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, test_bare_strips_brackets_and_space);
	tcase_add_test(tc, test_bare_no_id);
	tcase_add_test(tc, test_bare_unclosed_bracket_keeps_the_word);
	tcase_add_test(tc, test_list_references);
	suite_add_tcase(s, tc);
	return s;
}

ATSM_CHECK_MAIN()
