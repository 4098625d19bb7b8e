/* test-preview.c -- unit tests of lib/mail/preview.c: the preview of a
 * held mail (first text part, decoded, cut at a character) and the reason
 * at the top of an approver's reply.
 */
#include "atsm-check.h"
#include "base/err.h"
#include "mail/preview.h"

#include <stdlib.h>
#include <string.h>

static char *
preview(const char *msg, size_t max)
{
	struct atsm_err err;
	char *out = NULL;

	atsm_err_clear(&err);
	ck_assert_int_eq(atsm_mail_text_preview(msg, strlen(msg), max, &out, &err), 0);
	return out;
}

START_TEST(preview_plain_crlf)
{
	char *p = preview("Subject: x\r\n\r\nHello Hanako,\r\nsee you.\r\n", 100);

	ck_assert_str_eq(p, "Hello Hanako,\nsee you.\n");
	free(p);
}
END_TEST

START_TEST(preview_base64_iso2022jp_in_multipart)
{
	/* the text part: "面接の日程" in ISO-2022-JP, base64; an HTML part first */
	const char *m =
	    "Content-Type: multipart/alternative; boundary=b\r\n\r\n"
	    "--b\r\nContent-Type: text/html\r\n\r\n<p>html</p>\r\n"
	    "--b\r\nContent-Type: text/plain; charset=iso-2022-jp\r\n"
	    "Content-Transfer-Encoding: base64\r\n\r\nGyRCTExAXCRORnxEeBsoQg==\r\n--b--\r\n";
	char *p = preview(m, 100);

	ck_assert_str_eq(p, "面接の日程");
	free(p);
}
END_TEST

START_TEST(preview_cut_at_a_character)
{
	/* "あいう" is 9 bytes: cut at 7 keeps two characters, and says it was cut */
	char *p = preview("Content-Type: text/plain; charset=utf-8\r\n\r\nあいう", 7);

	ck_assert_str_eq(p, "あい...");
	free(p);
}
END_TEST

START_TEST(preview_no_text)
{
	char *p = preview("Content-Type: application/pdf\r\n\r\n%PDF", 100);

	ck_assert_ptr_null(p);
}
END_TEST

static char *
reason(const char *text, size_t max)
{
	char *out = NULL;

	ck_assert_int_eq(atsm_mail_reply_reason(text, max, &out), 0);
	return out;
}

START_TEST(reason_first_paragraph)
{
	char *r = reason("\n  Wrong candidate: use the job 3002 template.\nPlease fix.\n\n"
	    "Thanks\n", 200);

	ck_assert_str_eq(r, "Wrong candidate: use the job 3002 template. Please fix.");
	free(r);
}
END_TEST

START_TEST(reason_stops_at_quote_and_attribution)
{
	char *r = reason("Not this one\nOn Fri, Dec 4, 2026 erin wrote:\n> held mail\n", 200);

	ck_assert_str_eq(r, "Not this one");
	free(r);
	r = reason("宛先が違います\n2026年12月4日(金) erin <erin@atsmail.test> さんは書きました:\n", 200);
	ck_assert_str_eq(r, "宛先が違います");
	free(r);
	r = reason("> only a quote\n", 200);
	ck_assert_str_eq(r, "");
	free(r);
	r = reason("short\n-- \nsignature\n", 200);
	ck_assert_str_eq(r, "short");
	free(r);
}
END_TEST

START_TEST(reason_cut_at_a_character)
{
	char *r = reason("　あいうえお　\n", 7);   /* U+3000 trimmed; 7 bytes: two characters */

	ck_assert_str_eq(r, "あい");
	free(r);
}
END_TEST

static Suite *
suite(void)
{
	Suite *s = suite_create("preview");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, preview_plain_crlf);
	tcase_add_test(tc, preview_base64_iso2022jp_in_multipart);
	tcase_add_test(tc, preview_cut_at_a_character);
	tcase_add_test(tc, preview_no_text);
	tcase_add_test(tc, reason_first_paragraph);
	tcase_add_test(tc, reason_stops_at_quote_and_attribution);
	tcase_add_test(tc, reason_cut_at_a_character);
	suite_add_tcase(s, tc);
	return s;
}

ATSM_CHECK_MAIN()
