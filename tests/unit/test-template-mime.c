/* test-template-mime.c -- template/mime.c: tags merged in a whole message,
 * whatever its charset and transfer encoding; the rest byte for byte. */
#include <stdio.h>
#include <string.h>

#include "atsm-check.h"
#include "mail/mime.h"
#include "template/template.h"

static struct atsm_tpl_fields f;
static struct atsm_tpl_fault fault;
static struct atsm_err err;
static struct atsm_buf out;

static void
setup(void)
{
	atsm_tpl_fields_init(&f);
	snprintf(f.what, sizeof(f.what), "resume 12 <hanako@example.jp>");
	ck_assert_int_eq(atsm_tpl_fields_set(&f, "resume.name", "山田 花子"), 0);
	ck_assert_int_eq(atsm_tpl_fields_set(&f, "user.name", "佐藤 & 鈴木"), 0);
	ck_assert_int_eq(atsm_tpl_fields_set(&f, "company.name", NULL), 0);
	atsm_buf_init(&out, 0);
}

static void
teardown(void)
{
	atsm_tpl_fields_free(&f);
	atsm_buf_free(&out);
}

static int
merge(const char *msg)
{
	atsm_buf_reset(&out);
	return atsm_tpl_merge_message(msg, strlen(msg), &f, ATSM_TPL_MISSING_REFUSE,
	    &out, &fault, &err);
}

/* What a reader sees of the output: the decoded Subject and the text of
 * the part-th text leaf; its charset and transfer encoding. */
struct seen {
	char subject[512];
	char text[2048];
	char charset[64];
	char cte[32];
	char type[512];
};

static void
look(int part, struct seen *s)
{
	struct atsm_mime_msg m;
	struct atsm_buf b;
	const char *ct;

	memset(s, 0, sizeof(*s));
	ck_assert_int_eq(atsm_mime_parse(out.data, out.len, NULL, &m, NULL), 0);
	ck_assert_int_lt(part, (int)m.n);
	atsm_buf_init(&b, 0);
	(void)atsm_mime_header_decoded(&m.v[0].hdr, "Subject", &b);
	snprintf(s->subject, sizeof(s->subject), "%s", atsm_buf_str(&b));
	atsm_buf_reset(&b);
	ck_assert_int_eq(atsm_mime_body_text(&m.v[part], &b), 0);
	snprintf(s->text, sizeof(s->text), "%s", atsm_buf_str(&b));
	snprintf(s->charset, sizeof(s->charset), "%s", m.v[part].charset);
	snprintf(s->cte, sizeof(s->cte), "%s", m.v[part].cte);
	ct = atsm_mime_header(&m.v[part].hdr, "Content-Type");
	snprintf(s->type, sizeof(s->type), "%s", ct != NULL ? ct : "");
	atsm_buf_free(&b);
	atsm_mime_free(&m);
}

static void
strip_cr(char *s)
{
	char *d = s;

	for (; *s != '\0'; s++)
		if (*s != '\r')
			*d++ = *s;
	*d = '\0';
}

static const char jis_msg[] =
    "From: Sato <sato@atsmail.test>\n"
    "To: hanako@example.jp\n"
    "Subject: =?ISO-2022-JP?B?GyRCIVpMTEBcJE4kNDBGRmIhWxsoQnt7cmVzdW1lLm5hbWV9fSAbJEJNTRsoQg==?=\n"
    "MIME-Version: 1.0\n"
    "Content-Type: text/plain; charset=ISO-2022-JP\n"
    "Content-Transfer-Encoding: 7bit\n"
    "X-Other: kept\n"
    "\n"
    "{{resume.name}} \x1b$BMM\x1b(B\n\n"
    "\x1b$B$41~Jg$\x22$j$,$H$&$4$6$$$^$9!#\x1b(B\n{{user.name}}\n";

START_TEST(test_tpl_mime_iso2022jp_stays_iso2022jp)
{
	struct seen s;

	ck_assert_int_eq(merge(jis_msg), 0);
	look(0, &s);
	ck_assert_str_eq(s.subject, "【面接のご案内】山田 花子 様");
	ck_assert_str_eq(s.text, "山田 花子 様\n\nご応募ありがとうございます。\n佐藤 & 鈴木\n");
	ck_assert_str_eq(s.charset, "iso-2022-jp");
	ck_assert_str_eq(s.cte, "7bit");
	/* the Subject stays in ISO-2022-JP words; other headers as they were */
	ck_assert_ptr_nonnull(strstr(out.data, "Subject: =?ISO-2022-JP?B?"));
	ck_assert_ptr_nonnull(strstr(out.data, "X-Other: kept\n"));
	ck_assert_ptr_nonnull(strstr(out.data, "From: Sato <sato@atsmail.test>\n"));
	/* LF in, LF out */
	ck_assert_ptr_null(strchr(out.data, '\r'));
}
END_TEST

START_TEST(test_tpl_mime_iso2022jp_falls_back_to_utf8)
{
	struct seen s;

	/* 髙 is not in JIS X 0208: the part becomes UTF-8, 8-bit safe */
	ck_assert_int_eq(atsm_tpl_fields_set(&f, "resume.name", "髙橋 一郎"), 0);
	ck_assert_int_eq(merge(jis_msg), 0);
	look(0, &s);
	ck_assert_str_eq(s.subject, "【面接のご案内】髙橋 一郎 様");
	/* base64 text is in canonical form: CRLF */
	strip_cr(s.text);
	ck_assert_str_eq(s.text, "髙橋 一郎 様\n\nご応募ありがとうございます。\n佐藤 & 鈴木\n");
	ck_assert_str_eq(s.charset, "utf-8");
	ck_assert(strcmp(s.cte, "base64") == 0 || strcmp(s.cte, "quoted-printable") == 0);
	ck_assert_ptr_nonnull(strstr(out.data, "Subject: =?UTF-8?B?"));
}
END_TEST

START_TEST(test_tpl_mime_shift_jis_crlf)
{
	static const char msg[] =
	    "Subject: {{resume.name}} 様\r\n"
	    "Content-Type: text/plain; charset=Shift_JIS\r\n"
	    "Content-Transfer-Encoding: 8bit\r\n"
	    "\r\n"
	    "{{resume.name}} \x97l\r\n\x82\xe6\x82\xeb\x82\xb5\x82\xad\x82\xa8"
	    "\x8a\xe8\x82\xa2\x82\xa2\x82\xbd\x82\xb5\x82\xdc\x82\xb7\x81" "B\r\n";
	struct seen s;
	const char *p;

	ck_assert_int_eq(merge(msg), 0);
	look(0, &s);
	ck_assert_str_eq(s.subject, "山田 花子 様");
	ck_assert_str_eq(s.text, "山田 花子 様\r\nよろしくお願いいたします。\r\n");
	ck_assert_str_eq(s.charset, "shift_jis");
	ck_assert_str_eq(s.cte, "8bit");
	/* every line end is CRLF */
	for (p = out.data; (p = strchr(p, '\n')) != NULL; p++)
		ck_assert_int_eq(p[-1], '\r');
}
END_TEST

START_TEST(test_tpl_mime_utf8_qp_keeps_flowed)
{
	static const char msg[] =
	    "Subject: hello\n"
	    "Content-Type: text/plain; charset=utf-8; format=flowed; delsp=yes\n"
	    "Content-Transfer-Encoding: quoted-printable\n"
	    "\n"
	    "Dear {{resume.name}} =E6=A7=98\n"
	    "{{company.name|=E8=B2=B4=E7=A4=BE}}\n";
	struct seen s;

	ck_assert_int_eq(merge(msg), 0);
	look(0, &s);
	ck_assert_str_eq(s.subject, "hello");
	ck_assert_str_eq(s.text, "Dear 山田 花子 様\n貴社\n");
	ck_assert_str_eq(s.cte, "quoted-printable");
	ck_assert_ptr_nonnull(strstr(s.type, "format=flowed"));
	ck_assert_ptr_nonnull(strstr(s.type, "delsp=yes"));
	ck_assert_ptr_nonnull(strstr(out.data, "Subject: hello\n"));
}
END_TEST

START_TEST(test_tpl_mime_utf8_base64)
{
	static const char msg[] =
	    "Subject: =?UTF-8?B?e3tyZXN1bWUubmFtZX19IOanmA==?=\r\n"
	    "Content-Type: text/plain; charset=UTF-8\r\n"
	    "Content-Transfer-Encoding: base64\r\n"
	    "\r\n"
	    "e3tyZXN1bWUubmFtZX19IOanmA0K5pys5paH44Gn44GZ44CCDQo=\r\n";
	struct seen s;

	ck_assert_int_eq(merge(msg), 0);
	look(0, &s);
	ck_assert_str_eq(s.subject, "山田 花子 様");
	ck_assert_str_eq(s.text, "山田 花子 様\r\n本文です。\r\n");
	ck_assert_str_eq(s.cte, "base64");
	ck_assert_str_eq(s.charset, "utf-8");
}
END_TEST

static const char alt_msg[] =
    "Subject: test\r\n"
    "MIME-Version: 1.0\r\n"
    "Content-Type: multipart/alternative; boundary=\"b1\"\r\n"
    "\r\n"
    "--b1\r\n"
    "Content-Type: text/plain; charset=UTF-8\r\n"
    "\r\n"
    "Hi {{user.name}}\r\n"
    "--b1\r\n"
    "Content-Type: text/html; charset=UTF-8\r\n"
    "\r\n"
    "<p>Hi {{user.name}}</p>\r\n"
    "--b1--\r\n";

START_TEST(test_tpl_mime_alternative_both_merged_html_escaped)
{
	struct seen s;

	ck_assert_int_eq(merge(alt_msg), 0);
	look(1, &s);
	ck_assert_str_eq(s.text, "Hi 佐藤 & 鈴木");
	look(2, &s);
	ck_assert_str_eq(s.text, "<p>Hi 佐藤 &amp; 鈴木</p>");
	ck_assert_ptr_nonnull(strstr(out.data, "\r\n--b1\r\n"));
	ck_assert_ptr_nonnull(strstr(out.data, "\r\n--b1--\r\n"));
}
END_TEST

START_TEST(test_tpl_mime_attachments_byte_identical)
{
	static const char att[] =
	    "--m\r\n"
	    "Content-Type: application/pdf; name=\"cv.pdf\"\r\n"
	    "Content-Disposition: attachment; filename=\"cv.pdf\"\r\n"
	    "Content-Transfer-Encoding: base64\r\n"
	    "\r\n"
	    "JVBERi0xLjQKe3tyZXN1bWUubmFtZX19Cg==\r\n"
	    "--m\r\n"
	    "Content-Type: text/plain; charset=us-ascii\r\n"
	    "Content-Disposition: attachment; filename=\"notes.txt\"\r\n"
	    "\r\n"
	    "{{resume.name}} stays as written {{unknown.tag}}\r\n"
	    "--m\r\n"
	    "Content-Type: message/rfc822\r\n"
	    "\r\n"
	    "Subject: {{resume.name}}\r\n"
	    "\r\n"
	    "forwarded {{nope}}\r\n"
	    "--m--\r\n";
	char msg[4096];
	struct seen s;

	snprintf(msg, sizeof(msg),
	    "Subject: CV\r\n"
	    "Content-Type: multipart/mixed; boundary=m\r\n"
	    "\r\n"
	    "preamble {{x}}\r\n"
	    "--m\r\n"
	    "Content-Type: text/plain; charset=ISO-2022-JP\r\n"
	    "\r\n"
	    "{{resume.name}} \x1b$BMM\x1b(B\r\n"
	    "%s", att);
	ck_assert_int_eq(merge(msg), 0);
	look(1, &s);
	ck_assert_str_eq(s.text, "山田 花子 様");
	ck_assert_str_eq(s.charset, "iso-2022-jp");
	/* the attachments, the attached message and the preamble as they were */
	ck_assert_ptr_nonnull(strstr(out.data, att));
	ck_assert_ptr_nonnull(strstr(out.data, "preamble {{x}}\r\n--m\r\n"));
}
END_TEST

START_TEST(test_tpl_mime_faults_name_tag_and_record)
{
	static const char missing[] =
	    "Subject: x\n\nDear {{company.name}}\n";
	static const char unknown[] =
	    "Subject: {{resume.nmae}}\n\nbody\n";

	ck_assert_int_eq(merge(missing), -1);
	ck_assert_int_eq(fault.code, ATSM_TPL_FAULT_MISSING);
	ck_assert_str_eq(fault.tag, "company.name");
	ck_assert_ptr_nonnull(strstr(err.msg, "resume 12 <hanako@example.jp>"));
	ck_assert_int_eq(merge(unknown), -1);
	ck_assert_int_eq(fault.code, ATSM_TPL_FAULT_UNKNOWN_TAG);
	ck_assert_str_eq(fault.tag, "resume.nmae");
	ck_assert_ptr_nonnull(strstr(err.msg, "Subject"));
}
END_TEST

START_TEST(test_tpl_mime_untagged_message_unchanged)
{
	static const char msg[] =
	    "Subject: =?ISO-2022-JP?B?GyRCJDMkcyRLJEEkTxsoQg==?=\r\n"
	    "Content-Type: text/plain; charset=ISO-2022-JP\r\n"
	    "\r\n"
	    "\x1b$B$3$s$K$A$O\x1b(B\r\n";

	ck_assert_int_eq(merge(msg), 0);
	ck_assert_uint_eq(out.len, strlen(msg));
	ck_assert_mem_eq(out.data, msg, out.len);
	ck_assert_int_eq(merge(alt_msg + 0), 0);
}
END_TEST

START_TEST(test_tpl_mime_unknown_charset_is_a_fault)
{
	static const char msg[] =
	    "Content-Type: text/plain; charset=x-no-such\n\n{{resume.name}}\n";

	ck_assert_int_eq(merge(msg), -1);
	ck_assert_int_eq(fault.code, ATSM_TPL_FAULT_CHARSET);
}
END_TEST

START_TEST(test_tpl_mime_lone_tag_merged_to_empty)
{
	static const char msg[] = "Subject: s\n\n{{company.name}}";
	struct seen s;

	ck_assert_int_eq(atsm_tpl_merge_message(msg, strlen(msg), &f,
	    ATSM_TPL_MISSING_EMPTY, &out, &fault, &err), 0);
	look(0, &s);
	ck_assert_str_eq(s.text, "");
	ck_assert_ptr_null(strstr(out.data, "{{"));
}
END_TEST

START_TEST(test_tpl_mime_headers_only_keep_their_lines)
{
	static const char msg[] = "X-A: a\nSubject: {{resume.name}}\nX-B: b";

	ck_assert_int_eq(merge(msg), 0);
	ck_assert_ptr_nonnull(strstr(out.data, "X-A: a\n"));
	ck_assert_ptr_nonnull(strstr(out.data, "X-B: b\nSubject: =?UTF-8?B?"));
	ck_assert_ptr_null(strstr(out.data, "{{"));
}
END_TEST

static Suite *
suite(void)
{
	Suite *s = suite_create("template-mime");
	TCase *tc = tcase_create("mime");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_tpl_mime_iso2022jp_stays_iso2022jp);
	tcase_add_test(tc, test_tpl_mime_iso2022jp_falls_back_to_utf8);
	tcase_add_test(tc, test_tpl_mime_shift_jis_crlf);
	tcase_add_test(tc, test_tpl_mime_utf8_qp_keeps_flowed);
	tcase_add_test(tc, test_tpl_mime_utf8_base64);
	tcase_add_test(tc, test_tpl_mime_alternative_both_merged_html_escaped);
	tcase_add_test(tc, test_tpl_mime_attachments_byte_identical);
	tcase_add_test(tc, test_tpl_mime_faults_name_tag_and_record);
	tcase_add_test(tc, test_tpl_mime_untagged_message_unchanged);
	tcase_add_test(tc, test_tpl_mime_unknown_charset_is_a_fault);
	tcase_add_test(tc, test_tpl_mime_lone_tag_merged_to_empty);
	tcase_add_test(tc, test_tpl_mime_headers_only_keep_their_lines);
	suite_add_tcase(s, tc);
	return s;
}

ATSM_CHECK_MAIN()
