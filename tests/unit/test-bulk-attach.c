/* test-bulk-attach.c -- unit tests of the files attached to every mail of
 * a bulk job (lib/bulk/attach.c): the draft becomes the first part with
 * its Content-* fields, each file a base64 part with its name (RFC 2231
 * when not ASCII) and type; a boundary found in the mail is refused. */
#include "atsm-check.h"
#include "bulk/attach.h"

#include <string.h>

#define DRAFT "From: <alice@example.com>\r\nSubject: Hi\r\nMIME-Version: 1.0\r\n" \
	"Content-Type: text/plain; charset=UTF-8\r\nContent-Transfer-Encoding: 8bit\r\n" \
	"\r\nDear {{resume.name}},\r\n"

START_TEST(draft_first_then_files)
{
	struct atsm_bulk_file f[2] = {
		{ "guide.pdf", "%PDF-1.4 hello", 14 },
		{ "\xe6\xa1\x88\xe5\x86\x85.txt", "abc", 3 }       /* 案内.txt */
	};
	struct atsm_buf out;
	struct atsm_err err;
	const char *s, *p;

	atsm_buf_init(&out, 0);
	ck_assert_int_eq(atsm_bulk_attach(DRAFT, strlen(DRAFT), f, 2, "=_b1", &out, &err), 0);
	s = atsm_buf_str(&out);
	ck_assert_ptr_nonnull(strstr(s, "From: <alice@example.com>\r\nSubject: Hi\r\n"
	    "MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=\"=_b1\"\r\n\r\n"));
	p = strstr(s, "\r\n--=_b1\r\nContent-Type: text/plain; charset=UTF-8\r\n"
	    "Content-Transfer-Encoding: 8bit\r\n\r\nDear {{resume.name}},\r\n");
	ck_assert_ptr_nonnull(p);
	ck_assert_ptr_nonnull(strstr(s, "--=_b1\r\nContent-Type: application/pdf; name=\"guide.pdf\"\r\n"
	    "Content-Disposition: attachment; filename=\"guide.pdf\"\r\n"
	    "Content-Transfer-Encoding: base64\r\n\r\nJVBERi0xLjQgaGVsbG8=\r\n"));
	ck_assert_ptr_nonnull(strstr(s, "Content-Type: text/plain; name*=UTF-8''%E6%A1%88%E5%86%85.txt"));
	ck_assert_ptr_nonnull(strstr(s, "filename*=UTF-8''%E6%A1%88%E5%86%85.txt\r\n"));
	ck_assert_ptr_nonnull(strstr(s, "\r\nYWJj\r\n--=_b1--\r\n"));
	/* the top level has no other Content-Type */
	ck_assert_ptr_null(strstr(s, "\r\n\r\nContent-Type: text/plain; charset=UTF-8\r\n"
	    "Content-Type"));
	atsm_buf_free(&out);
}
END_TEST

START_TEST(no_mime_headers)
{
	struct atsm_bulk_file f = { "a.bin", "x", 1 };
	struct atsm_buf out;
	struct atsm_err err;
	const char *m = "From: a@b\nSubject: s\n\nbody\n", *s;

	atsm_buf_init(&out, 0);
	ck_assert_int_eq(atsm_bulk_attach(m, strlen(m), &f, 1, "=_b2", &out, &err), 0);
	s = atsm_buf_str(&out);
	ck_assert_ptr_nonnull(strstr(s, "From: a@b\r\nSubject: s\r\nMIME-Version: 1.0\r\n"));
	ck_assert_ptr_nonnull(strstr(s, "--=_b2\r\nContent-Type: text/plain; charset=us-ascii\r\n"
	    "\r\nbody\r\n--=_b2\r\nContent-Type: application/octet-stream; name=\"a.bin\""));
	atsm_buf_free(&out);
}
END_TEST

START_TEST(refused)
{
	struct atsm_bulk_file f = { "a.pdf", "x", 1 };
	struct atsm_bulk_file bad = { "a\r\nb.pdf", "x", 1 };
	struct atsm_buf out;
	struct atsm_err err;

	atsm_buf_init(&out, 0);
	ck_assert_int_eq(atsm_bulk_attach(DRAFT, strlen(DRAFT), &f, 1, "resume", &out, &err), -1);
	ck_assert_int_eq(atsm_bulk_attach(DRAFT, strlen(DRAFT), &bad, 1, "=_b3", &out, &err), -1);
	ck_assert_ptr_nonnull(strstr(err.msg, "attachment 1"));
	ck_assert_int_eq(atsm_bulk_attach(DRAFT, strlen(DRAFT), &f, ATSM_BULK_ATTACH_FILES_MAX + 1,
	    "=_b4", &out, &err), -1);
	atsm_buf_free(&out);
}
END_TEST

START_TEST(types)
{
	ck_assert_str_eq(atsm_bulk_attach_type("x.PDF"), "application/pdf");
	ck_assert_str_eq(atsm_bulk_attach_type("x.csv"), "text/csv");
	ck_assert_str_eq(atsm_bulk_attach_type("noext"), "application/octet-stream");
}
END_TEST

static Suite *
suite(void)
{
	Suite *s = suite_create("bulk-attach");
	TCase *tc = tcase_create("attach");

	tcase_add_test(tc, draft_first_then_files);
	tcase_add_test(tc, no_mime_headers);
	tcase_add_test(tc, refused);
	tcase_add_test(tc, types);
	suite_add_tcase(s, tc);
	return s;
}

ATSM_CHECK_MAIN()
