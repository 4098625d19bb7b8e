/* test-notify-report.c -- unit tests of the report mail
 * (lib/notify/report-mail.c through atsm_notify_compose): the parts
 * (text/plain with the sentence and the table, the PNG inline, the page
 * as a text/html attachment), each decoded from base64; the headers every
 * notification has; a missing or bad part refused; the page's name; the
 * kind known and its larger limit.
 */
#include "atsm-check.h"
#include "notify/compose.h"
#include "notify/report-mail.h"
#include "notify/send.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <openssl/evp.h>

#define FROM "atsmail <postmaster@corp.test>"
#define PERIOD "2026-11-30 - 2026-12-06 (Asia/Tokyo)"
#define TABLE "Recruiter   Sent  Replies\n山田 花子     12        5\n"
#define PAGE "<!DOCTYPE html>\n<html lang=\"ja\"><body><svg><text>山田 花子</text></svg></body></html>\n"
/* the PNG signature and a few bytes, in base64 */
#define PNG "iVBORw0KGgoAAAANSUhEUg=="

static int
compose(enum atsm_lang lang, const char *params, struct atsm_buf *out, struct atsm_err *err)
{
	struct atsm_notify_in in;

	memset(&in, 0, sizeof(in));
	in.kind = "report.weekly";
	in.lang = lang;
	in.params = params;
	in.from = FROM;
	in.to = "boss@corp.test";
	in.id = 42;
	in.now = 1796601600;
	in.unique = "u1";
	in.token = "tok";
	return atsm_notify_compose(&in, out, err);
}

static char *
params(const char *png, const char *name, bool html)
{
	json_t *o = json_object();
	char *s;

	json_object_set_new(o, "period", json_string(PERIOD));
	json_object_set_new(o, "text", json_string(TABLE));
	if (html)
		json_object_set_new(o, "html", json_string(PAGE));
	if (png != NULL)
		json_object_set_new(o, "png", json_string(png));
	if (name != NULL)
		json_object_set_new(o, "name", json_string(name));
	s = json_dumps(o, JSON_COMPACT);
	json_decref(o);
	return s;
}

/* The decoded body of the part whose headers hold `head`. */
static char *
part_body(const char *mail, const char *head)
{
	const char *p = strstr(mail, head), *b, *e;
	char *b64, *out;
	size_t i, j, n;
	int len;

	if (p == NULL || (b = strstr(p, "\r\n\r\n")) == NULL)
		return NULL;
	b += 4;
	if ((e = strstr(b, "\r\n--=_atsm-report.")) == NULL)
		return NULL;
	n = (size_t)(e - b);
	b64 = malloc(n + 1);
	for (i = 0, j = 0; i < n; i++)
		if (b[i] != '\r' && b[i] != '\n')
			b64[j++] = b[i];
	b64[j] = '\0';
	out = calloc(1, j + 4);
	len = EVP_DecodeBlock((unsigned char *)out, (unsigned char *)b64, (int)j);
	ck_assert_int_ge(len, 0);
	while (j > 0 && b64[j - 1] == '=')
		j--, len--;
	out[len] = '\0';
	free(b64);
	return out;
}

START_TEST(three_parts)
{
	struct atsm_buf out;
	struct atsm_err err;
	char *p = params(PNG, "atsmail-report-2026-11-30.html", true), *t;
	const char *s;

	atsm_buf_init(&out, atsm_notify_mail_max("report.weekly"));
	ck_assert_msg(compose(ATSM_LANG_EN, p, &out, &err) == 0, "%s", err.msg);
	s = atsm_buf_str(&out);
	ck_assert_ptr_nonnull(strstr(s, "From: " FROM "\r\nTo: <boss@corp.test>\r\n"));
	ck_assert_ptr_nonnull(strstr(s, "Subject: [atsmail] Report " PERIOD "\r\n"));
	ck_assert_ptr_nonnull(strstr(s, "Message-ID: <atsmail-notify.42.u1@corp.test>\r\n"));
	ck_assert_ptr_nonnull(strstr(s, "Auto-Submitted: auto-generated\r\n"));
	ck_assert_ptr_nonnull(strstr(s, "X-ATS-Notification: report.weekly; ref=tok\r\n"));
	ck_assert_ptr_nonnull(strstr(s, "Content-Type: multipart/mixed; boundary=\"=_atsm-report.u1\""
	    "\r\n"));
	/* the text: the sentence, the table, the footer */
	t = part_body(s, "Content-Type: text/plain; charset=UTF-8\r\n");
	ck_assert_ptr_nonnull(t);
	ck_assert_ptr_nonnull(strstr(t, "The report of atsmail for " PERIOD ":"));
	ck_assert_ptr_nonnull(strstr(t, "Recruiter   Sent  Replies\r\n山田 花子     12        5\r\n"));
	ck_assert_ptr_nonnull(strstr(t, "report_mail_to"));
	free(t);
	/* the picture inline, then the page attached */
	ck_assert_ptr_nonnull(strstr(s, "Content-Type: image/png; name=\"atsmail-report.png\"\r\n"
	    "Content-Disposition: inline; filename=\"atsmail-report.png\"\r\n"
	    "Content-Transfer-Encoding: base64\r\n\r\n" PNG "\r\n"));
	ck_assert_ptr_nonnull(strstr(s, "Content-Type: text/html; charset=UTF-8; "
	    "name=\"atsmail-report-2026-11-30.html\"\r\nContent-Disposition: attachment; "
	    "filename=\"atsmail-report-2026-11-30.html\"\r\n"));
	t = part_body(s, "Content-Type: text/html");
	ck_assert_ptr_nonnull(t);
	ck_assert_str_eq(t, PAGE);
	free(t);
	ck_assert_ptr_nonnull(strstr(s, "\r\n--=_atsm-report.u1--\r\n"));
	/* no bare LF: every line ends CRLF */
	for (const char *q = s; (q = strchr(q, '\n')) != NULL; q++)
		ck_assert_int_eq(q[-1], '\r');
	atsm_buf_free(&out);
	free(p);
}
END_TEST

START_TEST(japanese_without_png)
{
	struct atsm_buf out;
	struct atsm_err err;
	char *p = params(NULL, "../etc/passwd.html", true), *t;
	const char *s;

	atsm_buf_init(&out, ATSM_NOTIFY_REPORT_MAIL_MAX);
	ck_assert_msg(compose(ATSM_LANG_JA, p, &out, &err) == 0, "%s", err.msg);
	s = atsm_buf_str(&out);
	ck_assert_ptr_nonnull(strstr(s, "Subject: =?UTF-8?B?"));
	ck_assert_ptr_nonnull(strstr(s, "Content-Language: ja\r\n"));
	ck_assert_ptr_null(strstr(s, "image/png"));
	/* a name that is no plain file name: the default */
	ck_assert_ptr_nonnull(strstr(s, "filename=\"atsmail-report.html\""));
	t = part_body(s, "Content-Type: text/plain; charset=UTF-8\r\n");
	ck_assert_ptr_nonnull(strstr(t, PERIOD " の atsmail レポートです。"));
	ck_assert_ptr_nonnull(strstr(t, "山田 花子"));
	free(t);
	atsm_buf_free(&out);
	free(p);
}
END_TEST

START_TEST(bad_parts_refused)
{
	struct atsm_buf out;
	struct atsm_err err;
	char *p;

	atsm_buf_init(&out, ATSM_NOTIFY_REPORT_MAIL_MAX);
	p = params(NULL, NULL, false);
	ck_assert_int_eq(compose(ATSM_LANG_EN, p, &out, &err), -1);
	ck_assert_ptr_nonnull(strstr(err.msg, "html"));
	ck_assert_int_eq(out.len, 0);
	free(p);
	p = params("R0lGODlhAQABAAAAACw=", NULL, true);          /* a GIF */
	ck_assert_int_eq(compose(ATSM_LANG_EN, p, &out, &err), -1);
	ck_assert_ptr_nonnull(strstr(err.msg, "no PNG"));
	free(p);
	p = params("iVBORw0KGgo\r\nAAAA", NULL, true);           /* not one base64 string */
	ck_assert_int_eq(compose(ATSM_LANG_EN, p, &out, &err), -1);
	free(p);
	ck_assert_int_eq(compose(ATSM_LANG_EN, "{\"period\": \"x\", \"text\": 1, \"html\": \"h\"}",
	    &out, &err), -1);
	ck_assert_ptr_nonnull(strstr(err.msg, "text"));
	/* over the limit of the buffer */
	atsm_buf_free(&out);
	atsm_buf_init(&out, 512);
	p = params(PNG, NULL, true);
	ck_assert_int_eq(compose(ATSM_LANG_EN, p, &out, &err), -1);
	ck_assert_ptr_nonnull(strstr(err.msg, "larger than its limit"));
	free(p);
	atsm_buf_free(&out);
}
END_TEST

START_TEST(kind_known_and_limits)
{
	struct atsm_conf_list kinds;
	char *v[] = { (char *)"report.weekly" };

	ck_assert(atsm_notify_kind_known("report.weekly"));
	ck_assert_uint_eq(atsm_notify_mail_max("report.weekly"), ATSM_NOTIFY_REPORT_MAIL_MAX);
	ck_assert_uint_eq(atsm_notify_mail_max("bounce.hard"), ATSM_NOTIFY_MAIL_MAX);
	/* the largest parts in base64 fit the mail, and the mail Postfix's default */
	ck_assert_uint_lt((ATSM_NOTIFY_REPORT_HTML_MAX + ATSM_NOTIFY_REPORT_PNG_MAX +
	    ATSM_NOTIFY_REPORT_TEXT_MAX + 64u * 1024u) / 3 * 4 * 78 / 76 + 4096,
	    ATSM_NOTIFY_REPORT_MAIL_MAX);
	ck_assert_uint_lt(ATSM_NOTIFY_REPORT_MAIL_MAX, 10240000u);
	/* notify_kinds turns it off like any kind */
	kinds.v = v;
	kinds.n = 1;
	ck_assert(atsm_notify_kind_on(&kinds, "report.weekly"));
	ck_assert(!atsm_notify_kind_on(&kinds, "bounce.hard"));
	ck_assert_ptr_null(atsm_notify_kinds_unknown(&kinds));
}
END_TEST

static Suite *
suite(void)
{
	Suite *s = suite_create("notify-report");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, three_parts);
	tcase_add_test(tc, japanese_without_png);
	tcase_add_test(tc, bad_parts_refused);
	tcase_add_test(tc, kind_known_and_limits);
	suite_add_tcase(s, tc);
	return s;
}

ATSM_CHECK_MAIN()
