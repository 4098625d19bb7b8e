/* test-bulk-compose.c -- unit tests of one bulk item's mail
 * (lib/bulk/compose.c): which source headers go, the recipient's To with
 * its display name (quoted, or RFC 2047 when not ASCII), Date, the item's
 * Message-ID and the marker; origin "template" keeps To and Cc; the body
 * as it was; bad input. */
#include "atsm-check.h"
#include "bulk/compose.h"
#include "bulk/marker.h"

#include <string.h>

#define SRC "Received: from x by y\r\nReturn-Path: <a@b>\r\nFrom: Alice <alice@example.com>\r\n" \
	"To: ats+bulk@ats.example.com,\r\n c1@example.net\r\nCc: c2@example.net\r\n" \
	"Bcc: ats+bulk@ats.example.com, c3@example.net\r\nSubject: Hello\r\n" \
	"Message-ID: <orig@example.com>\r\nDate: Fri, 04 Dec 2026 12:00:00 +0900\r\n" \
	"X-ATS-Template: invite; rev=2\r\nx-ats-bulk: forged\r\nMIME-Version: 1.0\r\n" \
	"\r\nBody line\r\nTo: not a header\r\n.dot\r\n"

static void
base_in(struct atsm_bulk_compose_in *in)
{
	memset(in, 0, sizeof(*in));
	in->source = SRC;
	in->source_len = strlen(SRC);
	in->rcpt = "c1@example.net";
	in->rcpt_name = "Taro Yamada";
	in->message_id = "bulk.7.1.abcd@example.com";
	in->now = 1796385600;         /* Fri, 04 Dec 2026 12:00:00 +0000 */
	in->marker = "job=7; item=1; user=alice; sig=00";
}

static const char *
compose(const struct atsm_bulk_compose_in *in, struct atsm_buf *out)
{
	struct atsm_err err;

	atsm_buf_init(out, 0);
	ck_assert_int_eq(atsm_bulk_compose_headers(in, in->source, in->source_len, out, &err), 0);
	return atsm_buf_str(out);
}

START_TEST(source_headers_go)
{
	struct atsm_bulk_compose_in in;
	struct atsm_buf out;
	const char *m;

	base_in(&in);
	m = compose(&in, &out);
	ck_assert_ptr_null(strstr(m, "Received:"));
	ck_assert_ptr_null(strstr(m, "Return-Path:"));
	ck_assert_ptr_null(strstr(m, "Cc:"));
	ck_assert_ptr_null(strstr(m, "Bcc:"));
	ck_assert_ptr_null(strstr(m, "c3@example.net"));
	ck_assert_ptr_null(strstr(m, "ats+bulk"));
	ck_assert_ptr_null(strstr(m, "orig@example.com"));
	ck_assert_ptr_null(strstr(m, "+0900"));
	ck_assert_ptr_null(strstr(m, "X-ATS-Template"));
	ck_assert_ptr_null(strstr(m, "forged"));
	ck_assert_ptr_nonnull(strstr(m, "From: Alice <alice@example.com>\r\n"));
	ck_assert_ptr_nonnull(strstr(m, "Subject: Hello\r\n"));
	ck_assert_ptr_nonnull(strstr(m, "MIME-Version: 1.0\r\n"));
	atsm_buf_free(&out);
}
END_TEST

START_TEST(own_fields_come)
{
	struct atsm_bulk_compose_in in;
	struct atsm_buf out;
	const char *m;

	base_in(&in);
	m = compose(&in, &out);
	ck_assert_ptr_nonnull(strstr(m, "To: \"Taro Yamada\" <c1@example.net>\r\n"));
	ck_assert_ptr_nonnull(strstr(m, "Date: Fri, 04 Dec 2026 12:00:00 +0000\r\n"));
	ck_assert_ptr_nonnull(strstr(m, "Message-ID: <bulk.7.1.abcd@example.com>\r\n"));
	ck_assert_ptr_nonnull(strstr(m, ATSM_BULK_MARKER ": job=7; item=1; user=alice; sig=00\r\n"));
	/* one To only */
	ck_assert_ptr_null(strstr(strstr(m, "To: ") + 1, "\nTo: \""));
	atsm_buf_free(&out);
}
END_TEST

START_TEST(body_untouched)
{
	struct atsm_bulk_compose_in in;
	struct atsm_buf out;
	const char *m;

	base_in(&in);
	m = compose(&in, &out);
	ck_assert_ptr_nonnull(strstr(m, "\r\n\r\nBody line\r\nTo: not a header\r\n.dot\r\n"));
	atsm_buf_free(&out);
}
END_TEST

START_TEST(japanese_name_encoded)
{
	struct atsm_bulk_compose_in in;
	struct atsm_buf out;
	const char *m;

	base_in(&in);
	in.rcpt_name = "\xe5\xb1\xb1\xe7\x94\xb0 \xe5\xa4\xaa\xe9\x83\x8e";   /* 山田 太郎 */
	m = compose(&in, &out);
	ck_assert_ptr_nonnull(strstr(m, "To: =?UTF-8?B?5bGx55SwIOWkqumDjg==?= <c1@example.net>\r\n"));
	atsm_buf_free(&out);
}
END_TEST

START_TEST(no_name_quotes_escaped)
{
	struct atsm_bulk_compose_in in;
	struct atsm_buf out;
	const char *m;

	base_in(&in);
	in.rcpt_name = NULL;
	m = compose(&in, &out);
	ck_assert_ptr_nonnull(strstr(m, "To: <c1@example.net>\r\n"));
	atsm_buf_free(&out);
	in.rcpt_name = "A \"B\" C";
	m = compose(&in, &out);
	ck_assert_ptr_nonnull(strstr(m, "To: \"A \\\"B\\\" C\" <c1@example.net>\r\n"));
	atsm_buf_free(&out);
}
END_TEST

START_TEST(template_keeps_to_cc)
{
	struct atsm_bulk_compose_in in;
	struct atsm_buf out;
	const char *m;

	base_in(&in);
	in.keep_to_cc = true;
	m = compose(&in, &out);
	ck_assert_ptr_nonnull(strstr(m, "To: ats+bulk@ats.example.com,\r\n c1@example.net\r\n"));
	ck_assert_ptr_nonnull(strstr(m, "Cc: c2@example.net\r\n"));
	ck_assert_ptr_null(strstr(m, "Bcc:"));
	ck_assert_ptr_null(strstr(m, "\"Taro Yamada\""));
	atsm_buf_free(&out);
}
END_TEST

START_TEST(lf_source_becomes_crlf)
{
	struct atsm_bulk_compose_in in;
	struct atsm_buf out;
	const char *m, *src = "From: a@b\nTo: x@y\nSubject: s\n\nline\n";

	base_in(&in);
	in.source = src;
	in.source_len = strlen(src);
	m = compose(&in, &out);
	ck_assert_ptr_nonnull(strstr(m, "From: a@b\r\nSubject: s\r\n\r\nline\r\n"));
	ck_assert_ptr_null(strstr(m, "x@y"));
	atsm_buf_free(&out);
}
END_TEST

START_TEST(bad_input_refused)
{
	struct atsm_bulk_compose_in in;
	struct atsm_buf out;
	struct atsm_err err;

	atsm_buf_init(&out, 0);
	base_in(&in);
	in.rcpt = "c1@example.net>\r\nBcc: evil@example.org";
	ck_assert_int_eq(atsm_bulk_compose_headers(&in, in.source, in.source_len, &out, &err), -1);
	base_in(&in);
	in.message_id = "a>b";
	ck_assert_int_eq(atsm_bulk_compose_headers(&in, in.source, in.source_len, &out, &err), -1);
	base_in(&in);
	in.marker = "x\r\nBcc: evil@example.org";
	ck_assert_int_eq(atsm_bulk_compose_headers(&in, in.source, in.source_len, &out, &err), -1);
	base_in(&in);
	in.rcpt_name = "Taro\r\nBcc: evil@example.org";     /* a name with a break: left out */
	ck_assert_int_eq(atsm_bulk_compose_headers(&in, in.source, in.source_len, &out, &err), 0);
	ck_assert_ptr_null(strstr(atsm_buf_str(&out), "evil"));
	atsm_buf_free(&out);
}
END_TEST

static Suite *
suite(void)
{
	Suite *s = suite_create("bulk-compose");
	TCase *tc = tcase_create("compose");

	tcase_add_test(tc, source_headers_go);
	tcase_add_test(tc, own_fields_come);
	tcase_add_test(tc, body_untouched);
	tcase_add_test(tc, japanese_name_encoded);
	tcase_add_test(tc, no_name_quotes_escaped);
	tcase_add_test(tc, template_keeps_to_cc);
	tcase_add_test(tc, lf_source_becomes_crlf);
	tcase_add_test(tc, bad_input_refused);
	suite_add_tcase(s, tc);
	return s;
}

ATSM_CHECK_MAIN()
