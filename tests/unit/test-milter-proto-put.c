/* test-milter-proto-put.c -- unit tests of the milter codec's encoders
 * (lib/service/milter-proto.c): the exact bytes of each reply and
 * modification, texts made safe for Postfix, and a full buffer left as it
 * was.  Part of the test-milter-proto program (helpers in
 * test-milter-proto.h).
 */
#include "test-milter-proto.h"

#include <stdlib.h>
#include <string.h>

START_TEST(test_put_optneg_plain_and_with_symlists)
{
	static const unsigned char plain[] = {
		0, 0, 0, 13, 'O', 0, 0, 0, 6, 0, 0, 0, 0x79, 0, 0, 0x04, 0x42
	};
	static const unsigned char lists[] = {
		0, 0, 0, 37, 'O', 0, 0, 0, 6, 0, 0, 0x01, 0x79, 0, 0, 0, 0,
		0, 0, 0, 2, '{', 'a', 'u', 't', 'h', '_', 'a', 'u', 't', 'h', 'e', 'n', '}', 0,
		0, 0, 0, 5, 'i', 0
	};
	const char *sym[7] = { NULL, NULL, "{auth_authen}", NULL, NULL, "i", NULL };
	struct atsm_milter_optneg o = { 6, 0x79, 0x442 };
	struct atsm_buf b;

	atsm_buf_init(&b, 0);
	ck_assert_int_eq(atsm_milter_put_optneg(&b, &o, NULL), 0);
	assert_bytes(&b, plain, sizeof(plain));
	/* lists without SETSYMLIST are not sent */
	atsm_buf_reset(&b);
	ck_assert_int_eq(atsm_milter_put_optneg(&b, &o, sym), 0);
	assert_bytes(&b, plain, sizeof(plain));
	atsm_buf_reset(&b);
	o.actions |= ATSM_MILTER_F_SETSYMLIST;
	o.protocol = 0;
	ck_assert_int_eq(atsm_milter_put_optneg(&b, &o, sym), 0);
	assert_bytes(&b, lists, sizeof(lists));
	atsm_buf_free(&b);
}
END_TEST

START_TEST(test_put_simple_codes)
{
	static const unsigned char cont[] = { 0, 0, 0, 1, 'c' }, acc[] = { 0, 0, 0, 1, 'a' };
	struct atsm_buf b;

	atsm_buf_init(&b, 0);
	ck_assert_int_eq(atsm_milter_put_simple(&b, ATSM_MILTER_R_CONTINUE), 0);
	assert_bytes(&b, cont, sizeof(cont));
	atsm_buf_reset(&b);
	ck_assert_int_eq(atsm_milter_put_simple(&b, ATSM_MILTER_R_ACCEPT), 0);
	assert_bytes(&b, acc, sizeof(acc));
	/* codes with data have their own encoders */
	ck_assert_int_eq(atsm_milter_put_simple(&b, ATSM_MILTER_R_REPLYCODE), -1);
	ck_assert_int_eq(atsm_milter_put_simple(&b, ATSM_MILTER_R_ADDHEADER), -1);
	assert_bytes(&b, acc, sizeof(acc));
	atsm_buf_free(&b);
}
END_TEST

START_TEST(test_put_replycode_exact_and_defaults)
{
	static const char want[] = "\0\0\0\x17y550 5.7.1 not allowed";   /* and its NUL */
	static const char wantx[] = "\0\0\0\x13y451 4.0.0 ";
	struct atsm_buf b;

	atsm_buf_init(&b, 0);
	ck_assert_int_eq(atsm_milter_put_replycode(&b, "550", "5.7.1", "not allowed"), 0);
	assert_bytes(&b, want, sizeof(want));
	atsm_buf_reset(&b);
	/* no xcode: the class's x.0.0, so a text that starts with a digit
	 * is not read as a malformed code */
	ck_assert_int_eq(atsm_milter_put_replycode(&b, "451", NULL, "2 tries"), 0);
	ck_assert_uint_eq(b.len, 5 + 18);
	ck_assert_int_eq(memcmp(b.data, wantx, sizeof(wantx) - 1), 0);
	ck_assert_str_eq(b.data + 5, "451 4.0.0 2 tries");
	atsm_buf_reset(&b);
	ck_assert_int_eq(atsm_milter_put_replycode(&b, "554", "5.7.0", NULL), 0);
	ck_assert_str_eq(b.data + 5, "554 5.7.0");
	ck_assert_uint_eq(b.len, 5 + 10);
	atsm_buf_free(&b);
}
END_TEST

START_TEST(test_put_replycode_refuses_bad_codes)
{
	static const char *rc[] = { "250", "55", "5500", "5x0", "", "650" };
	static const char *xc[] = { "4.7.1", "5.7", "5..1", "5.1234.1", "5.7.1 ", "x.7.1", "" };
	struct atsm_buf b;
	size_t i;

	atsm_buf_init(&b, 0);
	ck_assert_int_eq(atsm_milter_put_replycode(&b, NULL, NULL, "x"), -1);
	for (i = 0; i < sizeof(rc) / sizeof(rc[0]); i++)
		ck_assert_msg(atsm_milter_put_replycode(&b, rc[i], NULL, "x") == -1, "rcode %s", rc[i]);
	for (i = 0; i < sizeof(xc) / sizeof(xc[0]); i++)
		ck_assert_msg(atsm_milter_put_replycode(&b, "550", xc[i], "x") == -1, "xcode %s", xc[i]);
	ck_assert_uint_eq(b.len, 0);
	ck_assert_int_eq(atsm_milter_put_replycode(&b, "550", "5.123.999", "x"), 0);
	atsm_buf_free(&b);
}
END_TEST

/* What Postfix does with a reply (milter8_event, SMFIR_REPLYCODE): check
 * the code, then "%%" -> "%" and a lone '%' dropped. */
static char *
postfix_reply(const struct atsm_buf *b)
{
	const char *s = b->data + 5;
	char *r = malloc(strlen(s) + 1), *w = r;

	ck_assert_ptr_nonnull(r);
	ck_assert(s[0] == '4' || s[0] == '5');
	ck_assert(s[1] >= '0' && s[1] <= '9' && s[2] >= '0' && s[2] <= '9');
	ck_assert(s[3] == ' ' || s[3] == '-');
	ck_assert(!(s[4] >= '0' && s[4] <= '9') || s[4] == s[0]);
	for (;;) {
		char c = *s++;

		if (c == '%')
			c = *s++;
		*w++ = c;
		if (c == '\0')
			break;
	}
	return r;
}

START_TEST(test_put_replycode_text_made_safe)
{
	struct atsm_buf b;
	char *r;

	atsm_buf_init(&b, 0);
	ck_assert_int_eq(atsm_milter_put_replycode(&b, "550", "5.7.1",
	    "100% sure\r\n550 injected\tline \x01 caf\xc3\xa9 \xe6\x97\xa5"), 0);
	ck_assert_str_eq(b.data + 5,
	    "550 5.7.1 100%% sure  550 injected line   caf? ?");
	r = postfix_reply(&b);
	ck_assert_str_eq(r, "550 5.7.1 100% sure  550 injected line   caf? ?");
	free(r);
	atsm_buf_free(&b);
}
END_TEST

START_TEST(test_put_replycode_cut_to_one_line)
{
	char text[2000];
	struct atsm_buf b;
	char *r;

	atsm_buf_init(&b, 0);
	memset(text, 'a', sizeof(text) - 1);
	text[sizeof(text) - 1] = '\0';
	ck_assert_int_eq(atsm_milter_put_replycode(&b, "550", "5.7.1", text), 0);
	r = postfix_reply(&b);
	ck_assert_uint_eq(strlen(r), 510);
	free(r);
	/* '%' counts once against the line, though sent twice */
	memset(text, '%', sizeof(text) - 1);
	atsm_buf_reset(&b);
	ck_assert_int_eq(atsm_milter_put_replycode(&b, "451", "4.3.0", text), 0);
	ck_assert_uint_eq(b.len, 5 + 10 + 2 * 500 + 1);
	r = postfix_reply(&b);
	ck_assert_uint_eq(strlen(r), 510);
	ck_assert_int_eq(r[509], '%');
	free(r);
	atsm_buf_free(&b);
}
END_TEST

START_TEST(test_put_addheader_exact)
{
	static const char want[] = "\0\0\0\x17hX-ATS-Record\0rec-42 a";
	struct atsm_buf b;

	atsm_buf_init(&b, 0);
	ck_assert_int_eq(atsm_milter_put_addheader(&b, "X-ATS-Record", "rec-42 a"), 0);
	assert_bytes(&b, want, sizeof(want));
	ck_assert_int_eq(atsm_milter_put_addheader(&b, "", "v"), -1);
	ck_assert_int_eq(atsm_milter_put_addheader(&b, "X:Y", "v"), -1);
	ck_assert_int_eq(atsm_milter_put_addheader(&b, "X Y", "v"), -1);
	ck_assert_int_eq(atsm_milter_put_addheader(&b, "X\xc3\xa9", "v"), -1);
	ck_assert_int_eq(atsm_milter_put_addheader(&b, "X", NULL), -1);
	assert_bytes(&b, want, sizeof(want));
	atsm_buf_free(&b);
}
END_TEST

START_TEST(test_put_header_value_made_safe)
{
	static const struct {
		const char *in, *out;
	} cases[] = {
		{ "one\r\n\ttwo", "one\n\ttwo" },          /* CRLF fold -> Postfix's LF fold */
		{ "one\n two", "one\n two" },
		{ "one\nInjected: yes", "one Injected: yes" }, /* no new header */
		{ "one\r\nInjected: yes", "one Injected: yes" },
		{ "end\n", "end " },
		{ "end\n \t", "end  \t" },                /* a fold into white space only */
		{ "a\n\n b", "a \n b" },
		{ "one\n \x01\r\n two", "one   \n two" },  /* the control is white too */
		{ "bare\rcr", "bare cr" },
		{ "tab\tkept \x01\x7f", "tab\tkept   " },
		{ "caf\xc3\xa9", "caf\xc3\xa9" },         /* 8-bit text stays */
		{ "", "" },
	};
	struct atsm_buf b;
	size_t i;

	atsm_buf_init(&b, 0);
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		atsm_buf_reset(&b);
		ck_assert_int_eq(atsm_milter_put_addheader(&b, "X-T", cases[i].in), 0);
		ck_assert_str_eq(b.data + 5, "X-T");
		ck_assert_msg(strcmp(b.data + 9, cases[i].out) == 0, "case %zu: '%s'", i, b.data + 9);
		ck_assert_uint_eq(b.len, 5 + 4 + strlen(cases[i].out) + 1);
		ck_assert_uint_eq((unsigned char)b.data[3], b.len - 4);
	}
	atsm_buf_free(&b);
}
END_TEST

START_TEST(test_put_chgheader_exact_and_delete)
{
	static const char change[] = "\0\0\0\x16m\0\0\0\x02Subject\0[ATS] hi";
	static const char del[] = "\0\0\0\x13m\0\0\0\x01X-ATS-Record\0";
	struct atsm_buf b;

	atsm_buf_init(&b, 0);
	ck_assert_int_eq(atsm_milter_put_chgheader(&b, 2, "Subject", "[ATS] hi"), 0);
	assert_bytes(&b, change, sizeof(change));
	atsm_buf_reset(&b);
	ck_assert_int_eq(atsm_milter_put_chgheader(&b, 1, "X-ATS-Record", NULL), 0);
	assert_bytes(&b, del, sizeof(del));
	atsm_buf_reset(&b);
	ck_assert_int_eq(atsm_milter_put_chgheader(&b, 1, "X-ATS-Record", ""), 0);
	assert_bytes(&b, del, sizeof(del));
	ck_assert_int_eq(atsm_milter_put_chgheader(&b, 0, "Subject", "x"), -1);
	ck_assert_int_eq(atsm_milter_put_chgheader(&b, 1, "", "x"), -1);
	ck_assert_int_eq(atsm_milter_put_chgheader(&b, 1, NULL, "x"), -1);
	assert_bytes(&b, del, sizeof(del));
	atsm_buf_free(&b);
}
END_TEST

START_TEST(test_put_delrcpt_chgfrom_quarantine_exact)
{
	static const char rcpt[] = "\0\0\0\x11-<b@example.com>";
	static const char from[] = "\0\0\0\x10" "e<a@example.jp>";
	static const char from_args[] = "\0\0\0\x19" "e<a@example.jp>\0RET=HDRS";
	static const char quar[] = "\0\0\0\x14qheld for  review x";
	struct atsm_buf b;

	atsm_buf_init(&b, 0);
	ck_assert_int_eq(atsm_milter_put_delrcpt(&b, "<b@example.com>"), 0);
	assert_bytes(&b, rcpt, sizeof(rcpt));
	atsm_buf_reset(&b);
	ck_assert_int_eq(atsm_milter_put_chgfrom(&b, "<a@example.jp>", NULL), 0);
	assert_bytes(&b, from, sizeof(from));
	atsm_buf_reset(&b);
	ck_assert_int_eq(atsm_milter_put_chgfrom(&b, "<a@example.jp>", ""), 0);
	assert_bytes(&b, from, sizeof(from));
	atsm_buf_reset(&b);
	ck_assert_int_eq(atsm_milter_put_chgfrom(&b, "<a@example.jp>", "RET=HDRS"), 0);
	assert_bytes(&b, from_args, sizeof(from_args));
	atsm_buf_reset(&b);
	ck_assert_int_eq(atsm_milter_put_quarantine(&b, "held for\r\nreview\tx"), 0);
	assert_bytes(&b, quar, sizeof(quar));
	/* refused: nothing appended */
	ck_assert_int_eq(atsm_milter_put_delrcpt(&b, ""), -1);
	ck_assert_int_eq(atsm_milter_put_delrcpt(&b, NULL), -1);
	ck_assert_int_eq(atsm_milter_put_delrcpt(&b, "<b@x>\r\n"), -1);
	ck_assert_int_eq(atsm_milter_put_chgfrom(&b, "", NULL), -1);
	ck_assert_int_eq(atsm_milter_put_chgfrom(&b, "<a@x>", "RET=HDRS\n"), -1);
	ck_assert_int_eq(atsm_milter_put_quarantine(&b, ""), -1);
	ck_assert_int_eq(atsm_milter_put_quarantine(&b, NULL), -1);
	assert_bytes(&b, quar, sizeof(quar));
	atsm_buf_free(&b);
}
END_TEST

START_TEST(test_put_full_buffer_left_as_it_was)
{
	struct atsm_buf b;
	size_t len;

	/* room for one CONTINUE and a few bytes more */
	atsm_buf_init(&b, 12);
	ck_assert_int_eq(atsm_milter_put_simple(&b, ATSM_MILTER_R_CONTINUE), 0);
	len = b.len;
	ck_assert_int_eq(atsm_milter_put_addheader(&b, "X-ATS-Record", "rec-42"), -1);
	ck_assert_uint_eq(b.len, len);
	ck_assert_int_eq(b.data[len], '\0');
	ck_assert_int_eq(atsm_milter_put_replycode(&b, "550", "5.7.1", "no"), -1);
	ck_assert_int_eq(atsm_milter_put_chgheader(&b, 1, "Subject", "x"), -1);
	ck_assert_uint_eq(b.len, len);
	/* the packet that fits still goes in */
	ck_assert_int_eq(atsm_milter_put_simple(&b, ATSM_MILTER_R_ACCEPT), 0);
	ck_assert_uint_eq(b.len, 10);
	ck_assert_int_eq(b.data[9], 'a');
	atsm_buf_free(&b);
}
END_TEST

TCase *
milter_put_tcase(void)
{
	TCase *tc = tcase_create("encoders");

	tcase_add_test(tc, test_put_optneg_plain_and_with_symlists);
	tcase_add_test(tc, test_put_simple_codes);
	tcase_add_test(tc, test_put_replycode_exact_and_defaults);
	tcase_add_test(tc, test_put_replycode_refuses_bad_codes);
	tcase_add_test(tc, test_put_replycode_text_made_safe);
	tcase_add_test(tc, test_put_replycode_cut_to_one_line);
	tcase_add_test(tc, test_put_addheader_exact);
	tcase_add_test(tc, test_put_header_value_made_safe);
	tcase_add_test(tc, test_put_chgheader_exact_and_delete);
	tcase_add_test(tc, test_put_delrcpt_chgfrom_quarantine_exact);
	tcase_add_test(tc, test_put_full_buffer_left_as_it_was);
	return tc;
}
