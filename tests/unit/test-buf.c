/* test-buf.c -- unit tests of the bounded buffer (lib/base/buf.c). */
#include "atsm-check.h"
#include "base/buf.h"

#include <stdarg.h>
#include <string.h>

START_TEST(test_buf_appends_and_terminates)
{
	struct atsm_buf b;

	atsm_buf_init(&b, 0);
	ck_assert_str_eq(atsm_buf_str(&b), "");
	ck_assert_int_eq(atsm_buf_puts(&b, "abc"), 0);
	ck_assert_int_eq(atsm_buf_putc(&b, '-'), 0);
	ck_assert_int_eq(atsm_buf_printf(&b, "%d/%s", 42, "x"), 0);
	ck_assert_str_eq(atsm_buf_str(&b), "abc-42/x");
	ck_assert_uint_eq(b.len, 8);
	atsm_buf_free(&b);
}
END_TEST

START_TEST(test_buf_limit_refuses_and_flags)
{
	struct atsm_buf b;

	atsm_buf_init(&b, 5);
	ck_assert_int_eq(atsm_buf_puts(&b, "12345"), 0);
	ck_assert(!b.overflow);
	ck_assert_int_eq(atsm_buf_putc(&b, '6'), -1);
	ck_assert(b.overflow);
	ck_assert_int_eq(atsm_buf_printf(&b, "%s", "long"), -1);
	ck_assert_str_eq(atsm_buf_str(&b), "12345");
	atsm_buf_free(&b);
}
END_TEST

START_TEST(test_buf_grows_past_initial_capacity)
{
	struct atsm_buf b;
	char chunk[1000];
	int i;

	memset(chunk, 'a', sizeof(chunk));
	atsm_buf_init(&b, 100000);
	for (i = 0; i < 50; i++)
		ck_assert_int_eq(atsm_buf_append(&b, chunk, sizeof(chunk)), 0);
	ck_assert_uint_eq(b.len, 50000);
	ck_assert_uint_eq(strlen(atsm_buf_str(&b)), 50000);
	atsm_buf_free(&b);
}
END_TEST

START_TEST(test_buf_steal_hands_over_and_resets)
{
	struct atsm_buf b;
	char *s;

	atsm_buf_init(&b, 0);
	s = atsm_buf_steal(&b);
	ck_assert_str_eq(s, "");
	free(s);
	atsm_buf_puts(&b, "kept");
	s = atsm_buf_steal(&b);
	ck_assert_str_eq(s, "kept");
	ck_assert_uint_eq(b.len, 0);
	ck_assert_str_eq(atsm_buf_str(&b), "");
	free(s);
	atsm_buf_free(&b);
}
END_TEST

static void join(char *dst, size_t size, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void
join(char *dst, size_t size, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	atsm_str_vjoin(dst, size, "; ", fmt, ap);
	va_end(ap);
}

START_TEST(test_str_vjoin_separates_and_bounds)
{
	char notes[16] = "";

	join(notes, sizeof(notes), "a=%d", 1);
	ck_assert_str_eq(notes, "a=1");
	join(notes, sizeof(notes), "%s", "bb");
	ck_assert_str_eq(notes, "a=1; bb");
	join(notes, sizeof(notes), "%s", "toolongtext");
	ck_assert_str_eq(notes, "a=1; bb; toolon");   /* cut, still terminated */
	ck_assert_uint_eq(strlen(notes), sizeof(notes) - 1);
	join(notes, sizeof(notes), "%s", "more");      /* full: unchanged */
	ck_assert_str_eq(notes, "a=1; bb; toolon");
}
END_TEST

static Suite *
suite(void)
{
	Suite *s = suite_create("buf");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, test_buf_appends_and_terminates);
	tcase_add_test(tc, test_buf_limit_refuses_and_flags);
	tcase_add_test(tc, test_buf_grows_past_initial_capacity);
	tcase_add_test(tc, test_buf_steal_hands_over_and_resets);
	tcase_add_test(tc, test_str_vjoin_separates_and_bounds);
	suite_add_tcase(s, tc);
	return s;
}

ATSM_CHECK_MAIN()
