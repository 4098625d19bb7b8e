/* test-template-draft.c -- template/draft.c: a template as a message
 * (the draft of "ATS Templates"): headers, ISO-2022-JP when the text fits,
 * UTF-8 otherwise, multipart/alternative with HTML; and the draft merged
 * back (mime.c) reads as the template merged. */
#include <stdio.h>
#include <string.h>

#include "atsm-check.h"
#include "mail/mime.h"
#include "template/template.h"

static struct atsm_template t;
static struct atsm_buf out;
static struct atsm_err err;

static void
setup(void)
{
	memset(&t, 0, sizeof(t));
	snprintf(t.code, sizeof(t.code), "interview");
	snprintf(t.lang, sizeof(t.lang), "ja");
	t.revision = 3;
	t.name = strdup("面接");
	t.subject = strdup("【面接のご案内】{{resume.name}} 様");
	t.body = strdup("{{resume.name}} 様\n\n面接のご案内です。\n");
	atsm_buf_init(&out, 0);
}

static void
teardown(void)
{
	atsm_template_free(&t);
	atsm_buf_free(&out);
}

static void
draft(void)
{
	atsm_buf_reset(&out);
	ck_assert_int_eq(atsm_tpl_draft(&t, "佐藤 花子 <alice@atsmail.test>",
	    "ats+template.interview@ats.atsmail.test", "Fri, 04 Dec 2026 16:00:00 +0000",
	    "template.interview.r3.u1@ats.atsmail.test", &out, &err), 0);
}

static const char *
header(struct atsm_mime_msg *m, const char *name, char *buf, size_t n)
{
	struct atsm_buf b;

	atsm_buf_init(&b, 0);
	(void)atsm_mime_header_decoded(&m->v[0].hdr, name, &b);
	snprintf(buf, n, "%s", atsm_buf_str(&b));
	atsm_buf_free(&b);
	return buf;
}

START_TEST(test_tpl_draft_japanese_iso2022jp)
{
	struct atsm_mime_msg m;
	struct atsm_buf b;
	char h[512];
	const char *p;

	draft();
	ck_assert_int_eq(atsm_mime_parse(out.data, out.len, NULL, &m, NULL), 0);
	ck_assert_str_eq(header(&m, "Subject", h, sizeof(h)), "【面接のご案内】{{resume.name}} 様");
	ck_assert_str_eq(header(&m, "From", h, sizeof(h)), "佐藤 花子 <alice@atsmail.test>");
	ck_assert_str_eq(header(&m, "Bcc", h, sizeof(h)), "ats+template.interview@ats.atsmail.test");
	ck_assert_str_eq(header(&m, "X-ATS-Template", h, sizeof(h)), "interview; rev=3");
	ck_assert_str_eq(header(&m, "Message-ID", h, sizeof(h)),
	    "<template.interview.r3.u1@ats.atsmail.test>");
	ck_assert_str_eq(m.v[0].charset, "iso-2022-jp");
	ck_assert_str_eq(m.v[0].cte, "7bit");
	ck_assert_ptr_nonnull(strstr(out.data, "Subject: =?ISO-2022-JP?B?"));
	atsm_buf_init(&b, 0);
	ck_assert_int_eq(atsm_mime_body_text(&m.v[0], &b), 0);
	ck_assert_str_eq(atsm_buf_str(&b), "{{resume.name}} 様\r\n\r\n面接のご案内です。\r\n");
	atsm_buf_free(&b);
	atsm_mime_free(&m);
	/* 7-bit, CRLF only, no line over 78 */
	for (p = out.data; *p != '\0'; p++) {
		ck_assert_int_lt((unsigned char)*p, 0x80);
		if (*p == '\n')
			ck_assert_int_eq(p[-1], '\r');
	}
}
END_TEST

START_TEST(test_tpl_draft_utf8_when_jis_cannot)
{
	struct atsm_mime_msg m;
	struct atsm_buf b;
	char h[512];

	free(t.body);
	t.body = strdup("髙橋様 ①\n");
	draft();
	ck_assert_int_eq(atsm_mime_parse(out.data, out.len, NULL, &m, NULL), 0);
	ck_assert_str_eq(m.v[0].charset, "utf-8");
	atsm_buf_init(&b, 0);
	ck_assert_int_eq(atsm_mime_body_text(&m.v[0], &b), 0);
	ck_assert_str_eq(atsm_buf_str(&b), "髙橋様 ①\r\n");
	ck_assert_str_eq(header(&m, "Subject", h, sizeof(h)), "【面接のご案内】{{resume.name}} 様");
	atsm_buf_free(&b);
	atsm_mime_free(&m);
}
END_TEST

START_TEST(test_tpl_draft_html_alternative_and_merge_back)
{
	struct atsm_mime_msg m;
	struct atsm_tpl_fields f;
	struct atsm_tpl_fault fault;
	struct atsm_buf merged, b;
	char h[512];

	t.body_html = strdup("<p>{{resume.name}} 様</p>\n");
	draft();
	ck_assert_int_eq(atsm_mime_parse(out.data, out.len, NULL, &m, NULL), 0);
	ck_assert_str_eq(m.v[0].type, "multipart/alternative");
	ck_assert_uint_eq(m.n, 3);
	ck_assert_str_eq(m.v[1].type, "text/plain");
	ck_assert_str_eq(m.v[2].type, "text/html");
	atsm_mime_free(&m);

	/* what the client sends back is merged by mime.c */
	atsm_tpl_fields_init(&f);
	ck_assert_int_eq(atsm_tpl_fields_set(&f, "resume.name", "山田 <花子>"), 0);
	atsm_buf_init(&merged, 0);
	ck_assert_int_eq(atsm_tpl_merge_message(out.data, out.len, &f, ATSM_TPL_MISSING_REFUSE,
	    &merged, &fault, &err), 0);
	ck_assert_int_eq(atsm_mime_parse(merged.data, merged.len, NULL, &m, NULL), 0);
	ck_assert_str_eq(header(&m, "Subject", h, sizeof(h)), "【面接のご案内】山田 <花子> 様");
	atsm_buf_init(&b, 0);
	ck_assert_int_eq(atsm_mime_body_text(&m.v[2], &b), 0);
	ck_assert_str_eq(atsm_buf_str(&b), "<p>山田 &lt;花子&gt; 様</p>\r\n");
	atsm_buf_free(&b);
	atsm_mime_free(&m);
	atsm_buf_free(&merged);
	atsm_tpl_fields_free(&f);
}
END_TEST

START_TEST(test_tpl_draft_english_ascii)
{
	struct atsm_mime_msg m;

	snprintf(t.lang, sizeof(t.lang), "en");
	free(t.subject);
	t.subject = strdup("Interview {{date}}");
	free(t.body);
	t.body = strdup("Dear {{resume.name}}\n");
	ck_assert_int_eq(atsm_tpl_draft(&t, "alice@atsmail.test", NULL, "Fri, 04 Dec 2026 16:00:00 +0000",
	    "x@y", &out, &err), 0);
	ck_assert_ptr_nonnull(strstr(out.data, "\r\nSubject: Interview {{date}}\r\n"));
	ck_assert_ptr_null(strstr(out.data, "Bcc:"));
	ck_assert_int_eq(atsm_mime_parse(out.data, out.len, NULL, &m, NULL), 0);
	ck_assert_str_eq(m.v[0].charset, "us-ascii");
	atsm_mime_free(&m);
}
END_TEST

START_TEST(test_tpl_draft_refuses_bad_code)
{
	snprintf(t.code, sizeof(t.code), "Bad Code");
	ck_assert_int_eq(atsm_tpl_draft(&t, "a@b", NULL, "d", "m@x", &out, &err), -1);
	ck_assert_ptr_nonnull(strstr(err.msg, "Bad Code"));
}
END_TEST

static Suite *
suite(void)
{
	Suite *s = suite_create("template-draft");
	TCase *tc = tcase_create("draft");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_tpl_draft_japanese_iso2022jp);
	tcase_add_test(tc, test_tpl_draft_utf8_when_jis_cannot);
	tcase_add_test(tc, test_tpl_draft_html_alternative_and_merge_back);
	tcase_add_test(tc, test_tpl_draft_english_ascii);
	tcase_add_test(tc, test_tpl_draft_refuses_bad_code);
	suite_add_tcase(s, tc);
	return s;
}

ATSM_CHECK_MAIN()
