/* test-explain.c -- unit tests of the explanation mail (lib/explain/compose.c,
 * text.c): headers, the English and the Japanese text (decoded back from
 * ISO-2022-JP), the refused mail attached byte for byte, the variant
 * without the mail and the cut one, line lengths, bad input. */
#include "atsm-check.h"
#include "explain/compose.h"
#include "explain/text.h"
#include "mail/rfc2047.h"

#include <iconv.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define UNIQ "1a2b3c4d.5e6f"
#define BOUNDARY "=_atsmail_" UNIQ
#define MAIL "From: Taro <taro@example.com>\r\nTo: cand@example.net\r\n" \
	"Subject: =?UTF-8?B?6Z2i5o6l44Gu44GU5qGI5YaF?=\r\n" \
	"Message-ID: <refused.1@example.com>\r\nDate: Fri, 04 Dec 2026 12:00:00 +0900\r\n" \
	"\r\nHello,\r\n\r\nsee you at ten.\r\n"
/* 面接のご案内 */
#define SUBJ_JA "\xe9\x9d\xa2\xe6\x8e\xa5\xe3\x81\xae\xe3\x81\x94\xe6\xa1\x88\xe5\x86\x85"
/* コマンド ats+jobb.12 は知られていません。 */
#define WHAT_JA "\xe3\x82\xb3\xe3\x83\x9e\xe3\x83\xb3\xe3\x83\x89 ats+jobb.12@ats.example.com " \
	"\xe3\x81\xaf\xe7\x9f\xa5\xe3\x82\x89\xe3\x82\x8c\xe3\x81\xa6\xe3\x81\x84\xe3\x81\xbe" \
	"\xe3\x81\x9b\xe3\x82\x93\xe3\x80\x82"
/* お送りになったメールは送信されていません。 */
#define NOT_SENT_JA "\xe3\x81\x8a\xe9\x80\x81\xe3\x82\x8a\xe3\x81\xab\xe3\x81\xaa\xe3\x81\xa3" \
	"\xe3\x81\x9f\xe3\x83\xa1\xe3\x83\xbc\xe3\x83\xab\xe3\x81\xaf\xe9\x80\x81" \
	"\xe4\xbf\xa1\xe3\x81\x95\xe3\x82\x8c\xe3\x81\xa6\xe3\x81\x84\xe3\x81\xbe" \
	"\xe3\x81\x9b\xe3\x82\x93\xe3\x80\x82"
/* 添付しています */
#define ATTACHED_JA "\xe6\xb7\xbb\xe4\xbb\x98\xe3\x81\x97\xe3\x81\xa6\xe3\x81\x84\xe3\x81\xbe\xe3\x81\x99"
/* 【atsmail】送信できませんでした */
#define SUBJ_PREFIX_JA "\xe3\x80\x90" "atsmail" "\xe3\x80\x91" \
	"\xe9\x80\x81\xe4\xbf\xa1\xe3\x81\xa7\xe3\x81\x8d\xe3\x81\xbe\xe3\x81\x9b" \
	"\xe3\x82\x93\xe3\x81\xa7\xe3\x81\x97\xe3\x81\x9f"

static void
input(struct atsm_explain_in *in, enum atsm_lang lang, bool with_mail)
{
	memset(in, 0, sizeof(*in));
	in->lang = lang;
	in->from = "atsmail <postmaster@example.com>";
	in->to = "taro@example.com";
	in->what = lang == ATSM_LANG_JA ? WHAT_JA :
	    "ats+jobb.12@ats.example.com is not an atsmail command (unknown command jobb).";
	in->fix = lang == ATSM_LANG_JA ? "" : "Write ats+job.12@ats.example.com to link the "
	    "mail to job 12, or remove the address.";
	in->addr = "ats+jobb.12@ats.example.com";
	in->subject = "=?UTF-8?B?6Z2i5o6l44Gu44GU5qGI5YaF?=";
	in->message_id = "<refused.1@example.com>";
	in->date = "Fri, 04 Dec 2026 12:00:00 +0900";
	in->now = 1796385600;     /* 2026-12-04 12:00:00 UTC, a Friday */
	in->unique = UNIQ;
	in->marker = "refused; ref=abc";
	if (with_mail) {
		in->mail = MAIL;
		in->mail_len = strlen(MAIL);
	}
	in->attach_max = 1024;
}

static char *
compose(const struct atsm_explain_in *in, struct atsm_buf *out)
{
	struct atsm_err err = { .msg = "" };

	atsm_buf_init(out, ATSM_EXPLAIN_MAIL_MAX);
	ck_assert_msg(atsm_explain_compose(in, out, &err) == 0, "%s", err.msg);
	return out->data;
}

/* The value of header name (unfolded), or NULL; in a static buffer. */
static const char *
header(const char *msg, const char *name)
{
	static char v[4096];
	const char *end = strstr(msg, "\r\n\r\n"), *p = msg;
	size_t n = strlen(name), k = 0;

	while (p != NULL && p < end) {
		if (strncasecmp(p, name, n) == 0 && p[n] == ':') {
			p += n + 1;
			while (*p == ' ')
				p++;
			for (; p < end; p++) {
				if (p[0] == '\r' && p[1] == '\n' && (p[2] == ' ' || p[2] == '\t')) {
					p += 2;
					continue;
				}
				if (p[0] == '\r' && p[1] == '\n')
					break;
				if (k + 1 < sizeof(v))
					v[k++] = *p;
			}
			v[k] = '\0';
			return v;
		}
		p = strstr(p, "\r\n");
		p = p != NULL ? p + 2 : NULL;
	}
	return NULL;
}

/* The body of the first part whose headers hold ctype (malloc'd). */
static char *
part_body(const char *msg, const char *ctype, size_t *len)
{
	const char *p = strstr(msg, ctype), *b, *e;
	char *out;

	if (p == NULL)
		return NULL;
	b = strstr(p, "\r\n\r\n");
	ck_assert_ptr_nonnull(b);
	b += 4;
	e = strstr(b, "\r\n--" BOUNDARY);
	ck_assert_ptr_nonnull(e);
	*len = (size_t)(e - b);
	out = malloc(*len + 1);
	memcpy(out, b, *len);
	out[*len] = '\0';
	return out;
}

static void
lines_fit(const char *msg, size_t skip_from)
{
	const char *p = msg, *e;

	while ((e = strstr(p, "\r\n")) != NULL) {
		if ((size_t)(p - msg) >= skip_from)
			break;
		ck_assert_msg(e - p <= 78, "a line of %d bytes: %.*s", (int)(e - p), (int)(e - p), p);
		p = e + 2;
	}
}

static char *
from_jis(const char *s, size_t n)
{
	iconv_t cd = iconv_open("UTF-8", "ISO-2022-JP");
	size_t cap = 4 * n + 16, left = cap;
	char *out = calloc(1, cap), *o = out, *in = (char *)s;

	ck_assert(cd != (iconv_t)-1);
	ck_assert_msg(iconv(cd, &in, &n, &o, &left) != (size_t)-1, "not ISO-2022-JP");
	iconv_close(cd);
	return out;
}

START_TEST(en_headers)
{
	struct atsm_explain_in in;
	struct atsm_buf b;
	char *m, *subj;

	input(&in, ATSM_LANG_EN, true);
	m = compose(&in, &b);
	ck_assert_str_eq(header(m, "From"), "atsmail <postmaster@example.com>");
	ck_assert_str_eq(header(m, "To"), "<taro@example.com>");
	ck_assert_str_eq(header(m, "Auto-Submitted"), "auto-replied");
	ck_assert_str_eq(header(m, ATSM_EXPLAIN_MARKER), "refused; ref=abc");
	ck_assert_str_eq(header(m, "Message-ID"), "<atsmail-explain." UNIQ "@example.com>");
	ck_assert_str_eq(header(m, "Date"), "Fri, 04 Dec 2026 12:00:00 +0000");
	ck_assert_str_eq(header(m, "Content-Language"), "en");
	ck_assert_str_eq(header(m, "Content-Type"), "multipart/mixed; boundary=\"" BOUNDARY "\"");
	ck_assert_ptr_null(header(m, "In-Reply-To"));
	ck_assert_ptr_null(header(m, "References"));
	subj = atsm_rfc2047_decode_dup(header(m, "Subject"), 0);
	ck_assert_str_eq(subj, "atsmail: your mail was not sent: " SUBJ_JA);
	free(subj);
	ck_assert_ptr_nonnull(strstr(m, "\r\n--" BOUNDARY "--\r\n"));
	lines_fit(m, (size_t)(strstr(m, "message/rfc822") - m));
	atsm_buf_free(&b);
}
END_TEST

START_TEST(en_text)
{
	struct atsm_explain_in in;
	struct atsm_buf b;
	char *m, *t;
	size_t n;

	input(&in, ATSM_LANG_EN, true);
	m = compose(&in, &b);
	t = part_body(m, "Content-Type: text/plain; charset=UTF-8", &n);
	ck_assert_ptr_nonnull(t);
	/* the first line says it was not sent */
	ck_assert_msg(strncmp(t, "Your mail was NOT sent: atsmail refused it.\r\n", 45) == 0, "%s", t);
	ck_assert_ptr_nonnull(strstr(t, "What is wrong:\r\n    ats+jobb.12@ats.example.com is not an "
	    "atsmail command"));
	ck_assert_ptr_nonnull(strstr(t, "How to fix it:\r\n    Write ats+job.12@ats.example.com"));
	ck_assert_ptr_nonnull(strstr(t, "The refused mail is attached to this message"));
	ck_assert_ptr_nonnull(strstr(t, "Message-ID: <refused.1@example.com>"));
	ck_assert_ptr_nonnull(strstr(t, "Command:    ats+jobb.12@ats.example.com"));
	ck_assert_ptr_nonnull(strstr(t, "Subject:    " SUBJ_JA));
	free(t);
	atsm_buf_free(&b);
}
END_TEST

START_TEST(attachment_byte_equal)
{
	struct atsm_explain_in in;
	struct atsm_buf b;
	char *m, *a;
	size_t n;

	input(&in, ATSM_LANG_EN, true);
	m = compose(&in, &b);
	ck_assert_ptr_nonnull(strstr(m, "Content-Type: message/rfc822\r\n"));
	a = part_body(m, "Content-Type: message/rfc822", &n);
	ck_assert_ptr_nonnull(a);
	ck_assert_uint_eq(n, strlen(MAIL));
	ck_assert(memcmp(a, MAIL, n) == 0);
	ck_assert_ptr_null(strstr(m, "text/rfc822-headers"));
	free(a);
	atsm_buf_free(&b);
}
END_TEST

START_TEST(ja_text_iso2022jp)
{
	struct atsm_explain_in in;
	struct atsm_buf b;
	char *m, *raw, *t, *subj;
	size_t n, i;

	input(&in, ATSM_LANG_JA, true);
	m = compose(&in, &b);
	ck_assert_str_eq(header(m, "Content-Language"), "ja");
	subj = atsm_rfc2047_decode_dup(header(m, "Subject"), 0);
	ck_assert_str_eq(subj, SUBJ_PREFIX_JA ": " SUBJ_JA);
	free(subj);
	raw = part_body(m, "Content-Type: text/plain; charset=ISO-2022-JP", &n);
	ck_assert_ptr_nonnull(raw);
	for (i = 0; i < n; i++)
		ck_assert_msg((unsigned char)raw[i] < 0x80, "an 8-bit byte in ISO-2022-JP text");
	t = from_jis(raw, n);
	ck_assert_msg(strncmp(t, NOT_SENT_JA, strlen(NOT_SENT_JA)) == 0, "%s", t);
	ck_assert_ptr_nonnull(strstr(t, WHAT_JA));
	ck_assert_ptr_nonnull(strstr(t, ATTACHED_JA));
	ck_assert_ptr_nonnull(strstr(t, SUBJ_JA));
	/* no fix given: no heading for it (直し方) */
	ck_assert_ptr_null(strstr(t, "\xe7\x9b\xb4\xe3\x81\x97\xe6\x96\xb9:"));
	lines_fit(m, (size_t)(strstr(m, "message/rfc822") - m));
	free(t);
	free(raw);
	atsm_buf_free(&b);
}
END_TEST

START_TEST(ja_without_jis_code_is_utf8)
{
	struct atsm_explain_in in;
	struct atsm_buf b;
	char *m, *t;
	size_t n;

	input(&in, ATSM_LANG_JA, true);
	in.subject = "hello \xf0\x9f\x98\x80";   /* an emoji: no JIS code */
	m = compose(&in, &b);
	ck_assert_ptr_null(strstr(m, "charset=ISO-2022-JP"));
	t = part_body(m, "Content-Type: text/plain; charset=UTF-8", &n);
	ck_assert_ptr_nonnull(t);
	ck_assert_ptr_nonnull(strstr(t, "hello \xf0\x9f\x98\x80"));
	ck_assert_ptr_nonnull(strstr(t, WHAT_JA));
	free(t);
	atsm_buf_free(&b);
}
END_TEST

START_TEST(without_mail)
{
	struct atsm_explain_in in;
	struct atsm_buf b;
	char *m, *t;
	size_t n;

	input(&in, ATSM_LANG_EN, false);
	in.subject = in.message_id = in.date = NULL;
	m = compose(&in, &b);
	ck_assert_ptr_null(strstr(m, "message/rfc822"));
	ck_assert_ptr_null(strstr(m, "rfc822-headers"));
	t = part_body(m, "Content-Type: text/plain", &n);
	ck_assert_ptr_nonnull(t);
	ck_assert_ptr_nonnull(strstr(t, "Your mail client still holds the mail (in the Outbox"));
	ck_assert_ptr_nonnull(strstr(t, "Subject:    (none)"));
	ck_assert_str_eq(header(m, "Subject"), "atsmail: your mail was not sent");
	free(t);
	atsm_buf_free(&b);
}
END_TEST

START_TEST(cut_mail_headers_only)
{
	struct atsm_explain_in in;
	struct atsm_buf b;
	const char *hdrs_end = strstr(MAIL, "\r\n\r\n");
	char *m, *t, *h;
	size_t n;

	input(&in, ATSM_LANG_EN, true);
	in.mail_cut = true;
	m = compose(&in, &b);
	ck_assert_ptr_null(strstr(m, "message/rfc822"));
	h = part_body(m, "Content-Type: text/rfc822-headers", &n);
	ck_assert_ptr_nonnull(h);
	ck_assert_uint_eq(n, (size_t)(hdrs_end - MAIL) + 2);
	ck_assert(memcmp(h, MAIL, n) == 0);
	ck_assert_ptr_null(strstr(h, "see you at ten"));
	t = part_body(m, "Content-Type: text/plain", &n);
	ck_assert_ptr_nonnull(strstr(t, "larger than 1024 bytes, so only its headers are"));
	free(h);
	free(t);
	atsm_buf_free(&b);
}
END_TEST

START_TEST(bad_input)
{
	struct atsm_explain_in in;
	struct atsm_buf b;
	struct atsm_err err = { .msg = "" };

	atsm_buf_init(&b, 0);
	input(&in, ATSM_LANG_EN, false);
	in.to = "taro@example.com\r\nBcc: x@example.org";
	ck_assert_int_eq(atsm_explain_compose(&in, &b, &err), -1);
	ck_assert_ptr_nonnull(strstr(err.msg, "line break"));
	input(&in, ATSM_LANG_EN, false);
	in.from = "atsmail";
	ck_assert_int_eq(atsm_explain_compose(&in, &b, &err), -1);
	ck_assert_ptr_nonnull(strstr(err.msg, "explain_from atsmail has no domain"));
	atsm_buf_free(&b);
}
END_TEST

START_TEST(wrap_breaks)
{
	struct atsm_buf b;

	atsm_buf_init(&b, 0);
	ck_assert_int_eq(atsm_explain_wrap(&b, "aaa bbb ccc ddd", "  ", 6), 0);
	ck_assert_str_eq(b.data, "  aaa\n  bbb\n  ccc\n  ddd\n");
	atsm_buf_reset(&b);
	/* six wide characters in 8 columns: 4 then 2; 。 never starts a line */
	ck_assert_int_eq(atsm_explain_wrap(&b, "\xe3\x81\x82\xe3\x81\x84\xe3\x81\x86\xe3\x81\x88"
	    "\xe3\x80\x82\xe3\x81\x8a", "", 8), 0);
	ck_assert_str_eq(b.data, "\xe3\x81\x82\xe3\x81\x84\xe3\x81\x86\xe3\x81\x88\xe3\x80\x82\n"
	    "\xe3\x81\x8a\n");
	atsm_buf_free(&b);
}
END_TEST

static Suite *
suite(void)
{
	Suite *s = suite_create("explain");
	TCase *tc = tcase_create("compose");

	tcase_add_test(tc, en_headers);
	tcase_add_test(tc, en_text);
	tcase_add_test(tc, attachment_byte_equal);
	tcase_add_test(tc, ja_text_iso2022jp);
	tcase_add_test(tc, ja_without_jis_code_is_utf8);
	tcase_add_test(tc, without_mail);
	tcase_add_test(tc, cut_mail_headers_only);
	tcase_add_test(tc, bad_input);
	tcase_add_test(tc, wrap_breaks);
	suite_add_tcase(s, tc);
	return s;
}

ATSM_CHECK_MAIN()
