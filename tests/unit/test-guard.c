/* test-guard.c -- unit tests of the candidates-to-each-other guard
 * (lib/rules/guard.c). */
#include "atsm-check.h"
#include "rules/guard.h"

#include <stdio.h>
#include <string.h>

#define TO ATSM_HEADER_TO
#define CC ATSM_HEADER_CC
#define BCC ATSM_HEADER_BCC
#define RES ATSM_RECORD_RESUME
#define CON ATSM_RECORD_CONTACT
#define NONE ATSM_RECORD_NONE

static struct atsm_buf sentence;
static size_t ncand;

static void
setup(void)
{
	atsm_buf_init(&sentence, 0);
	ncand = 999;
}

static void
teardown(void)
{
	atsm_buf_free(&sentence);
}

START_TEST(test_no_candidate_is_ok)
{
	struct atsm_guard_recipient v[] = {
		{ "boss@client.example", TO, CON, 3 },
		{ "friend@else.example", CC, NONE, 0 },
	};

	ck_assert_int_eq(atsm_guard_check(v, 2, &ncand, &sentence),
	    ATSM_GUARD_OK);
	ck_assert_uint_eq(ncand, 0);
	ck_assert_int_eq(atsm_guard_check(NULL, 0, &ncand, &sentence),
	    ATSM_GUARD_OK);
	ck_assert_str_eq(atsm_buf_str(&sentence), "");
}
END_TEST

START_TEST(test_one_candidate_is_ok)
{
	struct atsm_guard_recipient v[] = {
		{ "taro@x.example", TO, RES, 12 },
	};

	ck_assert_int_eq(atsm_guard_check(v, 1, &ncand, &sentence),
	    ATSM_GUARD_OK);
	ck_assert_uint_eq(ncand, 1);
}
END_TEST

START_TEST(test_two_candidates_violate)
{
	struct atsm_guard_recipient v[] = {
		{ "taro@x.example", TO, RES, 12 },
		{ "hanako@y.example", CC, RES, 13 },
	};

	ck_assert_int_eq(atsm_guard_check(v, 2, &ncand, &sentence),
	    ATSM_GUARD_VIOLATION);
	ck_assert_uint_eq(ncand, 2);
	ck_assert_str_eq(atsm_buf_str(&sentence), "This mail shows 2 "
	    "candidates' addresses to each other in To/Cc (taro@x.example, "
	    "hanako@y.example): send one mail per candidate, or put the "
	    "candidates in Bcc.");
}
END_TEST

START_TEST(test_three_candidates_in_to)
{
	struct atsm_guard_recipient v[] = {
		{ "a@x.example", TO, RES, 1 },
		{ "b@x.example", TO, RES, 2 },
		{ "c@x.example", TO, RES, 3 },
	};

	ck_assert_int_eq(atsm_guard_check(v, 3, &ncand, &sentence),
	    ATSM_GUARD_VIOLATION);
	ck_assert_uint_eq(ncand, 3);
	ck_assert(strstr(atsm_buf_str(&sentence),
	    "shows 3 candidates' addresses to each other in To/Cc (a@x.example, "
	    "b@x.example, c@x.example):") != NULL);
}
END_TEST

START_TEST(test_same_resume_two_addresses_counts_once)
{
	struct atsm_guard_recipient v[] = {
		{ "taro@home.example", TO, RES, 12 },
		{ "taro@work.example", CC, RES, 12 },
	};

	ck_assert_int_eq(atsm_guard_check(v, 2, &ncand, &sentence),
	    ATSM_GUARD_OK);
	ck_assert_uint_eq(ncand, 1);
}
END_TEST

START_TEST(test_bcc_never_counts)
{
	struct atsm_guard_recipient v[] = {
		{ "taro@x.example", TO, RES, 12 },
		{ "hanako@y.example", BCC, RES, 13 },
		{ "jiro@z.example", BCC, RES, 14 },
	};

	ck_assert_int_eq(atsm_guard_check(v, 3, &ncand, &sentence),
	    ATSM_GUARD_OK);
	ck_assert_uint_eq(ncand, 1);
	/* every candidate in Bcc: the recommended way of bulk mail */
	v[0].header = BCC;
	ck_assert_int_eq(atsm_guard_check(v, 3, &ncand, &sentence),
	    ATSM_GUARD_OK);
	ck_assert_uint_eq(ncand, 0);
}
END_TEST

START_TEST(test_candidate_with_contact_in_cc_is_ok)
{
	struct atsm_guard_recipient v[] = {
		{ "taro@x.example", TO, RES, 12 },
		{ "boss@client.example", CC, CON, 3 },
		{ "hr@client.example", CC, CON, 4 },
	};

	ck_assert_int_eq(atsm_guard_check(v, 3, &ncand, &sentence),
	    ATSM_GUARD_OK);
	ck_assert_uint_eq(ncand, 1);
}
END_TEST

START_TEST(test_more_than_five_names_truncated)
{
	struct atsm_guard_recipient v[8];
	char addrs[8][32];
	size_t i;

	for (i = 0; i < 8; i++) {
		snprintf(addrs[i], sizeof(addrs[i]), "c%zu@x.example", i + 1);
		v[i].addr = addrs[i];
		v[i].header = i % 2 ? CC : TO;
		v[i].record = RES;
		v[i].record_id = 100 + i;
	}
	ck_assert_int_eq(atsm_guard_check(v, 8, &ncand, &sentence),
	    ATSM_GUARD_VIOLATION);
	ck_assert_uint_eq(ncand, 8);
	ck_assert_str_eq(atsm_buf_str(&sentence), "This mail shows 8 "
	    "candidates' addresses to each other in To/Cc (c1@x.example, "
	    "c2@x.example, c3@x.example, c4@x.example, c5@x.example and 3 "
	    "more): send one mail per candidate, or put the candidates in "
	    "Bcc.");
}
END_TEST

START_TEST(test_sentence_is_bounded_ascii)
{
	struct atsm_guard_recipient v[6];
	char addrs[6][300];
	const char *s;
	size_t i;

	for (i = 0; i < 6; i++) {
		memset(addrs[i], 'a' + (int)i, 250);
		snprintf(addrs[i] + 250, 50, "\xc3\xa9@x.example");
		v[i] = (struct atsm_guard_recipient){ addrs[i], TO, RES, i + 1 };
	}
	ck_assert_int_eq(atsm_guard_check(v, 6, NULL, &sentence),
	    ATSM_GUARD_VIOLATION);
	s = atsm_buf_str(&sentence);
	ck_assert_uint_lt(strlen(s), 400);
	for (i = 0; s[i] != '\0'; i++)
		ck_assert(s[i] >= 0x20 && s[i] < 0x7f);
	ck_assert(strstr(s, "and 1 more") != NULL);
}
END_TEST

START_TEST(test_duplicate_address_order_keeps_first_name)
{
	struct atsm_guard_recipient v[] = {
		{ "taro@home.example", CC, RES, 12 },
		{ "hanako@y.example", TO, RES, 13 },
		{ "taro@work.example", TO, RES, 12 },
	};

	ck_assert_int_eq(atsm_guard_check(v, 3, &ncand, &sentence),
	    ATSM_GUARD_VIOLATION);
	ck_assert_uint_eq(ncand, 2);
	ck_assert(strstr(atsm_buf_str(&sentence),
	    "(taro@home.example, hanako@y.example)") != NULL);
}
END_TEST

START_TEST(test_action_names)
{
	enum atsm_guard_action a;
	struct atsm_err err;

	ck_assert_int_eq(atsm_guard_action_from_name("hold", &a, &err), 0);
	ck_assert_int_eq(a, ATSM_GUARD_HOLD);
	ck_assert_int_eq(atsm_guard_action_from_name("REJECT", &a, &err), 0);
	ck_assert_int_eq(a, ATSM_GUARD_REJECT);
	ck_assert_int_eq(atsm_guard_action_from_name("allow", &a, &err), 0);
	ck_assert_int_eq(a, ATSM_GUARD_ALLOW);
	ck_assert_str_eq(atsm_guard_action_name(ATSM_GUARD_HOLD), "hold");
	ck_assert_int_eq(atsm_guard_action_from_name("drop", &a, &err), -1);
	ck_assert_str_eq(err.msg, "unknown guard action \"drop\"; use reject, "
	    "hold or allow");
}
END_TEST

static Suite *
suite(void)
{
	Suite *s = suite_create("guard");
	TCase *tc = tcase_create("core");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_no_candidate_is_ok);
	tcase_add_test(tc, test_one_candidate_is_ok);
	tcase_add_test(tc, test_two_candidates_violate);
	tcase_add_test(tc, test_three_candidates_in_to);
	tcase_add_test(tc, test_same_resume_two_addresses_counts_once);
	tcase_add_test(tc, test_bcc_never_counts);
	tcase_add_test(tc, test_candidate_with_contact_in_cc_is_ok);
	tcase_add_test(tc, test_more_than_five_names_truncated);
	tcase_add_test(tc, test_sentence_is_bounded_ascii);
	tcase_add_test(tc, test_duplicate_address_order_keeps_first_name);
	tcase_add_test(tc, test_action_names);
	suite_add_tcase(s, tc);
	return s;
}

ATSM_CHECK_MAIN()
