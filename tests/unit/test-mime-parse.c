/* test-mime-parse.c -- unit tests of the MIME structure parser (lib/mail/mime.c):
 * header unfolding and lookup, Content-Type parameters, multipart nesting,
 * embedded messages, transfer decodings, limits and malformed input. */
#include "atsm-check.h"
#include "base/buf.h"
#include "mail/mime.h"

#include <stdlib.h>
#include <string.h>

static void
parse(const char *s, struct atsm_mime_msg *m)
{
	ck_assert_int_eq(atsm_mime_parse(s, strlen(s), NULL, m, NULL), 0);
}

static char *
body_of(const struct atsm_mime_part *p)
{
	struct atsm_buf b;

	atsm_buf_init(&b, 0);
	(void)atsm_mime_body_text(p, &b);
	return atsm_buf_steal(&b);
}

START_TEST(test_headers_unfolded_case_insensitive)
{
	struct atsm_mime_msg m;
	const struct atsm_mime_field *f;
	size_t it = 0;
	int n = 0;

	parse("Subject: one\r\n two\r\n\tthree\r\nreceived: a\r\nReceived: b\r\n"
	    "X-Empty:\r\n\r\nbody\r\n", &m);
	ck_assert_str_eq(atsm_mime_header(&m.v[0].hdr, "SUBJECT"), "one two\tthree");
	ck_assert_str_eq(atsm_mime_header(&m.v[0].hdr, "x-empty"), "");
	ck_assert_ptr_null(atsm_mime_header(&m.v[0].hdr, "To"));
	while ((f = atsm_mime_header_next(&m.v[0].hdr, "Received", &it)) != NULL)
		n++;
	ck_assert_int_eq(n, 2);
	ck_assert_uint_eq(m.v[0].body_len, 6);
	ck_assert(memcmp(m.v[0].body, "body\r\n", 6) == 0);
	atsm_mime_free(&m);
}
END_TEST

START_TEST(test_header_decoded_iso2022jp)
{
	struct atsm_mime_msg m;
	struct atsm_buf b;

	/* =?ISO-2022-JP?B?...?= of 自動返信 */
	parse("Subject: =?ISO-2022-JP?B?GyRCPCtGMEpWPy4bKEI=?=\n\nx", &m);
	atsm_buf_init(&b, 0);
	ck_assert_int_eq(atsm_mime_header_decoded(&m.v[0].hdr, "Subject", &b), 1);
	ck_assert_str_eq(atsm_buf_str(&b), "自動返信");
	atsm_buf_free(&b);
	atsm_mime_free(&m);
}
END_TEST

START_TEST(test_multipart_nested_and_params)
{
	struct atsm_mime_msg m;
	char *t;
	int c;

	parse("Content-Type: multipart/mixed; boundary=\"outer\"\n\npreamble\n"
	    "--outer\nContent-Type: multipart/alternative; boundary=inner\n\n"
	    "--inner\nContent-Type: text/plain; charset=UTF-8\n\nplain\n"
	    "--inner\nContent-Type: text/html\n\n<p>h</p>\n--inner--\n"
	    "--outer\nContent-Type: Application/PDF; name=\"a.pdf\"\n"
	    "Content-Transfer-Encoding: BASE64\n\nJVBERg==\n--outer--\nepilogue\n", &m);
	ck_assert_uint_eq(m.n, 5);
	ck_assert_int_eq(m.v[0].kind, ATSM_MIME_MULTIPART);
	ck_assert_str_eq(m.v[0].boundary, "outer");
	ck_assert_str_eq(m.v[1].type, "multipart/alternative");
	ck_assert_int_eq(m.v[2].parent, 1);
	ck_assert_uint_eq(m.v[2].depth, 2);
	ck_assert_str_eq(m.v[2].charset, "utf-8");
	t = body_of(&m.v[2]);
	ck_assert_str_eq(t, "plain");
	free(t);
	ck_assert_str_eq(m.v[4].type, "application/pdf");
	ck_assert_str_eq(m.v[4].cte, "base64");
	t = body_of(&m.v[4]);
	ck_assert_str_eq(t, "%PDF");
	free(t);
	c = atsm_mime_child(&m, 0, 1);
	ck_assert_int_eq(c, 4);
	ck_assert_int_eq(atsm_mime_child(&m, 0, 2), -1);
	ck_assert(!m.v[0].unterminated);
	atsm_mime_free(&m);
}
END_TEST

START_TEST(test_message_rfc822_and_headers_parts)
{
	struct atsm_mime_msg m;

	parse("Content-Type: multipart/report; report-type=delivery-status; boundary=b\n\n"
	    "--b\nContent-Type: message/rfc822\n\nMessage-ID: <x@y>\nSubject: hi\n\ninner body\n"
	    "--b\nContent-Type: text/rfc822-headers\n\nMessage-ID: <z@y>\nFrom: a@b.example\n"
	    "--b--\n", &m);
	ck_assert_uint_eq(m.n, 5);
	ck_assert_int_eq(m.v[1].kind, ATSM_MIME_MESSAGE);
	ck_assert_int_eq(m.v[2].parent, 1);
	ck_assert_str_eq(atsm_mime_header(&m.v[2].hdr, "Message-ID"), "<x@y>");
	ck_assert_int_eq(m.v[3].kind, ATSM_MIME_HEADERS);
	ck_assert_str_eq(atsm_mime_header(&m.v[4].hdr, "message-id"), "<z@y>");
	ck_assert_str_eq(atsm_mime_header(&m.v[4].hdr, "From"), "a@b.example");
	atsm_mime_free(&m);
}
END_TEST

START_TEST(test_base64_embedded_message_is_decoded)
{
	struct atsm_mime_msg m;

	/* "Message-ID: <b64@x>\n\nhi\n" */
	parse("Content-Type: message/rfc822\nContent-Transfer-Encoding: base64\n\n"
	    "TWVzc2FnZS1JRDogPGI2NEB4PgoKaGkK\n", &m);
	ck_assert_uint_eq(m.n, 2);
	ck_assert_str_eq(atsm_mime_header(&m.v[1].hdr, "Message-ID"), "<b64@x>");
	atsm_mime_free(&m);
}
END_TEST

START_TEST(test_qp_and_bad_base64)
{
	struct atsm_buf b;
	const char *qp = "caf=C3=A9 =\r\nsoft=3D break=\nend =ZZ";

	atsm_buf_init(&b, 0);
	ck_assert_int_eq(atsm_mime_qp_decode(qp, strlen(qp), &b), 0);
	ck_assert_str_eq(atsm_buf_str(&b), "café soft= breakend =ZZ");
	atsm_buf_reset(&b);
	/* junk characters are skipped, not fatal */
	ck_assert_int_eq(atsm_mime_base64_decode("aG!!Vs\nbG8*", 11, &b), 0);
	ck_assert_str_eq(atsm_buf_str(&b), "hello");
	atsm_buf_free(&b);
}
END_TEST

START_TEST(test_missing_end_boundary_and_cr_only)
{
	struct atsm_mime_msg m;
	char *t;

	parse("Content-Type: multipart/mixed; boundary=zz\r\r--zz\rContent-Type: text/plain\r\r"
	    "first\r--zz\r\rsecond part runs to the end\r", &m);
	ck_assert_uint_eq(m.n, 3);
	ck_assert(m.v[0].unterminated);
	t = body_of(&m.v[1]);
	ck_assert_str_eq(t, "first");
	free(t);
	ck_assert_str_eq(m.v[2].type, "text/plain");
	atsm_mime_free(&m);
}
END_TEST

START_TEST(test_wrong_declared_boundary_is_guessed)
{
	struct atsm_mime_msg m;

	parse("Content-Type: multipart/mixed; boundary=declared\n\n--real\n\none\n"
	    "--real\n\ntwo\n--real--\n", &m);
	ck_assert_uint_eq(m.n, 3);
	ck_assert_str_eq(m.v[0].boundary, "real");
	atsm_mime_free(&m);
}
END_TEST

START_TEST(test_nul_bytes_and_no_overread)
{
	struct atsm_mime_msg m;
	const char raw[] = "Subject: a\0b\nX: y\n\nbo\0dy";
	char *copy = malloc(sizeof(raw) - 1);

	/* an exact-size heap copy: ASan reports any read past its end */
	memcpy(copy, raw, sizeof(raw) - 1);
	ck_assert_int_eq(atsm_mime_parse(copy, sizeof(raw) - 1, NULL, &m, NULL), 0);
	ck_assert_str_eq(atsm_mime_header(&m.v[0].hdr, "Subject"), "a b");
	ck_assert_uint_eq(m.v[0].body_len, 5);
	atsm_mime_free(&m);
	free(copy);
}
END_TEST

START_TEST(test_limits_depth_and_parts)
{
	struct atsm_mime_limits lim = { 3, 2, 0, 0 };
	struct atsm_mime_msg m;
	const char *deep = "Content-Type: multipart/mixed; boundary=a\n\n--a\n"
	    "Content-Type: multipart/mixed; boundary=b\n\n--b\n"
	    "Content-Type: multipart/mixed; boundary=c\n\n--c\n\nx\n--c--\n--b--\n--a--\n";
	const char *many = "Content-Type: multipart/mixed; boundary=a\n\n"
	    "--a\n\n1\n--a\n\n2\n--a\n\n3\n--a\n\n4\n--a--\n";

	ck_assert_int_eq(atsm_mime_parse(deep, strlen(deep), &lim, &m, NULL), 0);
	ck_assert(m.truncated);
	ck_assert_uint_eq(m.n, 3);
	atsm_mime_free(&m);
	ck_assert_int_eq(atsm_mime_parse(many, strlen(many), &lim, &m, NULL), 0);
	ck_assert(m.truncated);
	ck_assert_uint_eq(m.n, 3);
	atsm_mime_free(&m);
}
END_TEST

START_TEST(test_header_byte_limit)
{
	struct atsm_mime_headers h;
	size_t at = 0;
	char big[3000];

	memset(big, 'a', sizeof(big));
	memcpy(big, "A: 1\nB: ", 8);
	memcpy(big + sizeof(big) - 3, "\n\nz", 3);
	ck_assert_int_eq(atsm_mime_headers_parse(big, sizeof(big), 100, 0, &h, &at), 0);
	ck_assert(h.truncated);
	ck_assert_uint_eq(h.n, 1);
	ck_assert_uint_eq(at, sizeof(big) - 1);
	atsm_mime_headers_free(&h);
}
END_TEST

START_TEST(test_body_text_converts_charset)
{
	struct atsm_mime_msg m;
	char *t;

	/* 配信 in Shift_JIS, quoted-printable */
	parse("Content-Type: text/plain; charset=Shift_JIS\n"
	    "Content-Transfer-Encoding: quoted-printable\n\n=94z=90M\n", &m);
	t = body_of(&m.v[0]);
	ck_assert_str_eq(t, "配信\n");
	free(t);
	atsm_mime_free(&m);
}
END_TEST

static Suite *
suite(void)
{
	Suite *s = suite_create("mime-parse");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, test_headers_unfolded_case_insensitive);
	tcase_add_test(tc, test_header_decoded_iso2022jp);
	tcase_add_test(tc, test_multipart_nested_and_params);
	tcase_add_test(tc, test_message_rfc822_and_headers_parts);
	tcase_add_test(tc, test_base64_embedded_message_is_decoded);
	tcase_add_test(tc, test_qp_and_bad_base64);
	tcase_add_test(tc, test_missing_end_boundary_and_cr_only);
	tcase_add_test(tc, test_wrong_declared_boundary_is_guessed);
	tcase_add_test(tc, test_nul_bytes_and_no_overread);
	tcase_add_test(tc, test_limits_depth_and_parts);
	tcase_add_test(tc, test_header_byte_limit);
	tcase_add_test(tc, test_body_text_converts_charset);
	suite_add_tcase(s, tc);
	return s;
}

ATSM_CHECK_MAIN()
