/* test-explain-dedupe.c -- unit tests of once-per-refused-mail
 * (lib/explain/dedupe.c): inside the window, after it, other keys, the
 * bound. */
#include "atsm-check.h"
#include "explain/dedupe.h"

#include <stdio.h>

#define HOUR 3600

START_TEST(same_key_inside_window)
{
	struct atsm_explain_dedupe d;

	ck_assert_int_eq(atsm_explain_dedupe_init(&d, 0), 0);
	ck_assert(atsm_explain_dedupe_check(&d, "taro@example.com", "<a@x>", 1000, HOUR));
	ck_assert(!atsm_explain_dedupe_check(&d, "taro@example.com", "<a@x>", 1001, HOUR));
	/* the recruiter is case-blind */
	ck_assert(!atsm_explain_dedupe_check(&d, "Taro@Example.COM", "<a@x>", 1000 + HOUR - 1,
	    HOUR));
	atsm_explain_dedupe_free(&d);
}
END_TEST

START_TEST(after_window_again)
{
	struct atsm_explain_dedupe d;

	ck_assert_int_eq(atsm_explain_dedupe_init(&d, 0), 0);
	ck_assert(atsm_explain_dedupe_check(&d, "taro@example.com", "<a@x>", 1000, HOUR));
	ck_assert(atsm_explain_dedupe_check(&d, "taro@example.com", "<a@x>", 1000 + HOUR, HOUR));
	/* the window counts again from then */
	ck_assert(!atsm_explain_dedupe_check(&d, "taro@example.com", "<a@x>", 1000 + HOUR + 5,
	    HOUR));
	atsm_explain_dedupe_free(&d);
}
END_TEST

START_TEST(different_keys)
{
	struct atsm_explain_dedupe d;

	ck_assert_int_eq(atsm_explain_dedupe_init(&d, 0), 0);
	ck_assert(atsm_explain_dedupe_check(&d, "taro@example.com", "<a@x>", 1000, HOUR));
	ck_assert(atsm_explain_dedupe_check(&d, "taro@example.com", "<b@x>", 1000, HOUR));
	ck_assert(atsm_explain_dedupe_check(&d, "hanako@example.com", "<a@x>", 1000, HOUR));
	/* the parts are kept apart: "ab" + "c" is not "a" + "bc" */
	ck_assert(atsm_explain_dedupe_check(&d, "ab", "c", 1000, HOUR));
	ck_assert(atsm_explain_dedupe_check(&d, "a", "bc", 1000, HOUR));
	atsm_explain_dedupe_free(&d);
}
END_TEST

START_TEST(zero_window_always)
{
	struct atsm_explain_dedupe d;

	ck_assert_int_eq(atsm_explain_dedupe_init(&d, 0), 0);
	ck_assert(atsm_explain_dedupe_check(&d, "t@example.com", "<a@x>", 1000, 0));
	ck_assert(atsm_explain_dedupe_check(&d, "t@example.com", "<a@x>", 1000, 0));
	atsm_explain_dedupe_free(&d);
}
END_TEST

START_TEST(bounded_evicts_oldest)
{
	struct atsm_explain_dedupe d;
	char id[32];
	int i;

	ck_assert_int_eq(atsm_explain_dedupe_init(&d, 4), 0);
	for (i = 0; i < 4; i++) {
		snprintf(id, sizeof(id), "<m%d@x>", i);
		ck_assert(atsm_explain_dedupe_check(&d, "t@example.com", id, 1000 + i, HOUR));
	}
	/* a fifth key takes the place of the oldest (m0) */
	ck_assert(atsm_explain_dedupe_check(&d, "t@example.com", "<m4@x>", 1010, HOUR));
	ck_assert(atsm_explain_dedupe_check(&d, "t@example.com", "<m0@x>", 1011, HOUR));
	/* m0 took m1's place now; m2, m3 and m4 are remembered still */
	ck_assert(!atsm_explain_dedupe_check(&d, "t@example.com", "<m3@x>", 1012, HOUR));
	ck_assert(!atsm_explain_dedupe_check(&d, "t@example.com", "<m4@x>", 1012, HOUR));
	ck_assert(atsm_explain_dedupe_check(&d, "t@example.com", "<m1@x>", 1013, HOUR));
	atsm_explain_dedupe_free(&d);
}
END_TEST

static Suite *
suite(void)
{
	Suite *s = suite_create("explain-dedupe");
	TCase *tc = tcase_create("dedupe");

	tcase_add_test(tc, same_key_inside_window);
	tcase_add_test(tc, after_window_again);
	tcase_add_test(tc, different_keys);
	tcase_add_test(tc, zero_window_always);
	tcase_add_test(tc, bounded_evicts_oldest);
	suite_add_tcase(s, tc);
	return s;
}

ATSM_CHECK_MAIN()
