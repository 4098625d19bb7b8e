/* test-addr.c -- unit tests of address-list parsing (lib/mail/addr.c) and of
 * address normalisation and domain matching (lib/mail/addr-norm.c).  Each test
 * is one form that real clients send, or one normalisation decision. */
#include "atsm-check.h"
#include "mail/addr.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static struct atsm_addr_list L;
static struct atsm_err E;

/* Parse s (its strlen) with the default limit; the result stays in L. */
static void
parse(const char *s)
{
	atsm_addr_list_free(&L);
	ck_assert_int_eq(atsm_addr_parse_list(s, strlen(s), 0, &L, &E), 0);
}

/* Parse exactly len bytes from a heap copy of that size, so that ASan
 * reports any read past the end. */
static void
parse_n(const char *s, size_t len)
{
	char *copy = malloc(len ? len : 1);

	ck_assert_ptr_nonnull(copy);
	memcpy(copy, s, len);
	atsm_addr_list_free(&L);
	ck_assert_int_eq(atsm_addr_parse_list(copy, len, 0, &L, &E), 0);
	free(copy);
}

static void
expect(size_t i, const char *addr, const char *display)
{
	ck_assert_uint_gt(L.n, i);
	ck_assert_str_eq(L.v[i].addr, addr);
	if (display == NULL)
		ck_assert_ptr_null(L.v[i].display);
	else
		ck_assert_pstr_eq(L.v[i].display, display);
}

/* Normalise s, which must succeed, and compare with want. */
static void
norm_is(const char *s, const char *want)
{
	char *out = NULL;

	ck_assert_msg(atsm_addr_normalize(s, &out, &E) == 0,
	    "normalize(%s) failed: %s", s, E.msg);
	ck_assert_str_eq(out, want);
	free(out);
}

/* Normalise s, which must fail with a message containing each of the
 * given fragments. */
static void
norm_fails(const char *s, const char *frag1, const char *frag2)
{
	char *out = (char *)"unset";

	E.msg[0] = '\0';
	ck_assert_int_eq(atsm_addr_normalize(s, &out, &E), -1);
	ck_assert_ptr_null(out);
	ck_assert_msg(strstr(E.msg, frag1) != NULL, "'%s' lacks '%s'",
	    E.msg, frag1);
	if (frag2 != NULL)
		ck_assert_msg(strstr(E.msg, frag2) != NULL, "'%s' lacks '%s'",
		    E.msg, frag2);
}

static void
teardown(void)
{
	atsm_addr_list_free(&L);
}

START_TEST(test_plain_addr_spec)
{
	parse("taro@example.jp");
	ck_assert_uint_eq(L.n, 1);
	ck_assert_str_eq(L.v[0].local, "taro");
	ck_assert_str_eq(L.v[0].domain, "example.jp");
	expect(0, "taro@example.jp", NULL);
	ck_assert_ptr_null(L.v[0].group);
	ck_assert_uint_eq(L.malformed, 0);
}
END_TEST

START_TEST(test_angle_only)
{
	parse("  <taro@example.jp>  ");
	ck_assert_uint_eq(L.n, 1);
	expect(0, "taro@example.jp", NULL);
}
END_TEST

START_TEST(test_name_angle)
{
	parse("Taro Yamada <taro@example.jp>");
	ck_assert_uint_eq(L.n, 1);
	expect(0, "taro@example.jp", "Taro Yamada");
}
END_TEST

START_TEST(test_quoted_display_with_comma)
{
	parse("\"Yamada, Taro\" <taro@example.jp>, hanako@example.jp");
	ck_assert_uint_eq(L.n, 2);
	expect(0, "taro@example.jp", "Yamada, Taro");
	expect(1, "hanako@example.jp", NULL);
}
END_TEST

START_TEST(test_quoted_local_double_dot)
{
	parse("\"john..doe\"@example.com");
	ck_assert_uint_eq(L.n, 1);
	ck_assert_str_eq(L.v[0].local, "john..doe");
	expect(0, "\"john..doe\"@example.com", NULL);
}
END_TEST

START_TEST(test_quoted_local_with_space)
{
	parse("\"a b\"@c, x <\"c d\"@e>");
	ck_assert_uint_eq(L.n, 2);
	ck_assert_str_eq(L.v[0].local, "a b");
	ck_assert_str_eq(L.v[0].domain, "c");
	expect(0, "\"a b\"@c", NULL);
	expect(1, "\"c d\"@e", "x");
}
END_TEST

START_TEST(test_quoted_pair_escapes)
{
	parse("\"Taro \\\"T\\\" \\\\ Yamada\" <\"a\\\"b\"@example.jp>");
	ck_assert_uint_eq(L.n, 1);
	ck_assert_str_eq(L.v[0].display, "Taro \"T\" \\ Yamada");
	ck_assert_str_eq(L.v[0].local, "a\"b");
	ck_assert_str_eq(L.v[0].addr, "\"a\\\"b\"@example.jp");
}
END_TEST

START_TEST(test_comment_as_display)
{
	parse("taro@example.jp (Taro Yamada), <hanako@example.jp> (Hanako)");
	ck_assert_uint_eq(L.n, 2);
	expect(0, "taro@example.jp", "Taro Yamada");
	expect(1, "hanako@example.jp", "Hanako");
}
END_TEST

START_TEST(test_comment_inside_name_dropped)
{
	parse("Taro (sales dept) Yamada <taro@example.jp>");
	ck_assert_uint_eq(L.n, 1);
	expect(0, "taro@example.jp", "Taro Yamada");
}
END_TEST

START_TEST(test_nested_comments)
{
	parse("taro@example.jp (Taro (sales (Tokyo)) Yamada), "
	    "(outer (inner)) hanako@example.jp");
	ck_assert_uint_eq(L.n, 2);
	expect(0, "taro@example.jp", "Taro (sales (Tokyo)) Yamada");
	expect(1, "hanako@example.jp", "outer (inner)");
	ck_assert_uint_eq(L.malformed, 0);
}
END_TEST

START_TEST(test_empty_group)
{
	parse("undisclosed-recipients:;");
	ck_assert_uint_eq(L.n, 0);
	ck_assert_uint_eq(L.malformed, 0);
}
END_TEST

START_TEST(test_group_members)
{
	parse("Team: a@example.jp, Hanako <c@example.jp>; d@example.jp");
	ck_assert_uint_eq(L.n, 3);
	ck_assert_pstr_eq(L.v[0].group, "Team");
	ck_assert_pstr_eq(L.v[1].group, "Team");
	expect(1, "c@example.jp", "Hanako");
	ck_assert_ptr_null(L.v[2].group);
	expect(2, "d@example.jp", NULL);
}
END_TEST

START_TEST(test_empty_items)
{
	parse("a@example.jp,,  , c@example.jp");
	ck_assert_uint_eq(L.n, 2);
	expect(0, "a@example.jp", NULL);
	expect(1, "c@example.jp", NULL);
	ck_assert_uint_eq(L.malformed, 0);
}
END_TEST

START_TEST(test_trailing_commas)
{
	parse(",a@example.jp, ,\r\n ,");
	ck_assert_uint_eq(L.n, 1);
	expect(0, "a@example.jp", NULL);
	ck_assert_uint_eq(L.malformed, 0);
}
END_TEST

START_TEST(test_semicolon_separated)
{
	parse("Taro <a@example.jp>; b@example.jp;c@example.jp;");
	ck_assert_uint_eq(L.n, 3);
	expect(0, "a@example.jp", "Taro");
	expect(2, "c@example.jp", NULL);
	ck_assert_ptr_null(L.v[1].group);
}
END_TEST

START_TEST(test_missing_closing_angle)
{
	parse("Taro <taro@example.jp, Hanako <hanako@example.jp");
	ck_assert_uint_eq(L.n, 2);
	expect(0, "taro@example.jp", "Taro");
	expect(1, "hanako@example.jp", "Hanako");
}
END_TEST

START_TEST(test_unbalanced_quotes)
{
	parse("\"Taro <taro@example.jp>, Hanako\" <hanako@example.jp>");
	/* the first quote closes after "Hanako": one item, whose name is
	 * the quoted text -- what a standard parser also sees */
	ck_assert_uint_eq(L.n, 1);
	expect(0, "hanako@example.jp", "Taro <taro@example.jp>, Hanako");
	parse("\"Taro <taro@example.jp>");
	ck_assert_uint_eq(L.n, 1);
	expect(0, "taro@example.jp", "Taro");
	parse("Taro\" <taro@example.jp>");
	ck_assert_uint_eq(L.n, 1);
	expect(0, "taro@example.jp", "Taro");
	parse("\"Taro <taro@example.jp>, hanako@example.jp, Jiro <j@x.jp>");
	ck_assert_uint_eq(L.n, 3);
	expect(0, "taro@example.jp", "Taro");
	expect(1, "hanako@example.jp", NULL);
	expect(2, "j@x.jp", "Jiro");
}
END_TEST

START_TEST(test_utf8_display)
{
	parse("山田 太郎 <taro@example.jp>, 花子<hanako@example.jp>");
	ck_assert_uint_eq(L.n, 2);
	expect(0, "taro@example.jp", "山田 太郎");
	expect(1, "hanako@example.jp", "花子");
}
END_TEST

START_TEST(test_encoded_word_iso2022jp)
{
	parse("=?ISO-2022-JP?B?GyRCOzNFRBsoQg==?= <taro@example.jp>");
	ck_assert_uint_eq(L.n, 1);
	expect(0, "taro@example.jp", "山田");
	parse("=?iso-2022-jp?B?GyRCOzNFREJATzobKEI=?=\r\n <taro@example.jp>");
	expect(0, "taro@example.jp", "山田太郎");
}
END_TEST

START_TEST(test_encoded_word_utf8)
{
	parse("=?UTF-8?B?5bGx55SwIOWkqumDjg==?= <taro@example.jp>, "
	    "=?utf-8?Q?Hanako_=E8=8A=B1=E5=AD=90?= <hanako@example.jp>");
	ck_assert_uint_eq(L.n, 2);
	expect(0, "taro@example.jp", "山田 太郎");
	expect(1, "hanako@example.jp", "Hanako 花子");
}
END_TEST

START_TEST(test_encoded_word_in_quotes)
{
	parse("\"=?utf-8?b?5o6h55So5ouF5b2T?=\" <recruit@example.jp>");
	ck_assert_uint_eq(L.n, 1);
	expect(0, "recruit@example.jp", "採用担当");
}
END_TEST

START_TEST(test_encoded_word_in_group_name)
{
	parse("=?utf-8?b?5o6h55So5ouF5b2T?=: a@example.jp;");
	ck_assert_uint_eq(L.n, 1);
	ck_assert_pstr_eq(L.v[0].group, "採用担当");
}
END_TEST

START_TEST(test_fullwidth_spaces)
{
	parse("\xe3\x80\x80山田\xe3\x80\x80太郎\xe3\x80\x80<taro@example.jp>"
	    "\xe3\x80\x80,\xe3\x80\x80hanako@example.jp\xe3\x80\x80");
	ck_assert_uint_eq(L.n, 2);
	expect(0, "taro@example.jp", "山田\xe3\x80\x80太郎");
	expect(1, "hanako@example.jp", NULL);
	ck_assert_str_eq(L.v[1].domain, "example.jp");
}
END_TEST

START_TEST(test_route_address)
{
	parse("<@relay1.example.net,@relay2.example.net:taro@example.jp>, "
	    "Hanako <@relay.example.net:hanako@example.jp>");
	ck_assert_uint_eq(L.n, 2);
	expect(0, "taro@example.jp", NULL);
	expect(1, "hanako@example.jp", "Hanako");
	ck_assert_uint_eq(L.malformed, 0);
}
END_TEST

START_TEST(test_domain_literal)
{
	parse("root@[127.0.0.1], <admin@[IPv6:::1]>");
	ck_assert_uint_eq(L.n, 2);
	ck_assert_str_eq(L.v[0].domain, "[127.0.0.1]");
	expect(0, "root@[127.0.0.1]", NULL);
	expect(1, "admin@[IPv6:::1]", NULL);
}
END_TEST

START_TEST(test_uppercase_domain_kept_as_written)
{
	parse("Taro <Taro@EXAMPLE.JP>");
	ck_assert_uint_eq(L.n, 1);
	ck_assert_str_eq(L.v[0].domain, "EXAMPLE.JP");
	ck_assert_str_eq(L.v[0].local, "Taro");
	norm_is(L.v[0].addr, "taro@example.jp");
}
END_TEST

START_TEST(test_idn_domain)
{
	parse("太郎 <taro@例え.jp>");
	ck_assert_uint_eq(L.n, 1);
	ck_assert_str_eq(L.v[0].domain, "例え.jp");
	expect(0, "taro@例え.jp", "太郎");
	norm_is(L.v[0].addr, "taro@xn--r8jz45g.jp");
}
END_TEST

START_TEST(test_limit_exceeded)
{
	char *big = malloc(100 * 1024);
	size_t len = 0;
	int i, rc;

	ck_assert_ptr_nonnull(big);
	for (i = 0; i < 5000; i++)
		len += (size_t)snprintf(big + len, 100 * 1024 - len,
		    "%su%d@example.jp", i ? ", " : "", i);
	ck_assert_uint_lt(len, 100 * 1024);
	E.msg[0] = '\0';
	rc = atsm_addr_parse_list(big, len, 1000, &L, &E);
	ck_assert_int_eq(rc, -1);
	ck_assert_uint_eq(L.n, 1000);
	ck_assert_str_eq(L.v[999].addr, "u999@example.jp");
	ck_assert_msg(strstr(E.msg, "more than 1000 addresses") != NULL,
	    "message: %s", E.msg);
	free(big);
}
END_TEST

START_TEST(test_many_addresses_within_limit)
{
	struct atsm_buf b;
	int i;

	atsm_buf_init(&b, 0);
	for (i = 0; i < 1000; i++)
		ck_assert_int_eq(atsm_buf_printf(&b, "N%d <u%d@example.jp>,", i, i), 0);
	atsm_addr_list_free(&L);
	ck_assert_int_eq(atsm_addr_parse_list(b.data, b.len, 1000, &L, &E), 0);
	ck_assert_uint_eq(L.n, 1000);
	expect(500, "u500@example.jp", "N500");
	atsm_buf_free(&b);
}
END_TEST

START_TEST(test_nul_bytes_and_exact_length)
{
	static const char in[] = "Ta\0ro <taro@example.jp>,\0hanako@exam";

	/* NULs count as white space; the length, not a NUL, ends input */
	parse_n(in, sizeof(in) - 1);
	ck_assert_uint_eq(L.n, 2);
	expect(0, "taro@example.jp", "Ta ro");
	expect(1, "hanako@exam", NULL);
	/* cut in the middle of a quote, a comment and a literal */
	parse_n("\"abc", 4);
	parse_n("a@b (x", 6);
	ck_assert_uint_eq(L.n, 1);
	expect(0, "a@b", "x");
	parse_n("a@[1.2", 6);
	parse_n("a@b\xe3\x80", 5);        /* a cut ideographic space */
	ck_assert_uint_eq(L.n, 1);
	ck_assert_str_eq(L.v[0].domain, "b\xe3\x80");
	parse_n("", 0);
	ck_assert_uint_eq(L.n, 0);
}
END_TEST

START_TEST(test_folding)
{
	parse("Taro\r\n Yamada <taro@example.jp>,\r\n\thanako@example.jp,\n "
	    "\"Jiro\r\n Suzuki\" <jiro@example.jp>");
	ck_assert_uint_eq(L.n, 3);
	expect(0, "taro@example.jp", "Taro Yamada");
	expect(1, "hanako@example.jp", NULL);
	expect(2, "jiro@example.jp", "Jiro Suzuki");
}
END_TEST

START_TEST(test_malformed_items_counted)
{
	parse("a@example.jp, <>, @example.jp, d@, Taro Yamada, e@example.jp");
	ck_assert_uint_eq(L.n, 2);
	expect(0, "a@example.jp", NULL);
	expect(1, "e@example.jp", NULL);
	ck_assert_uint_eq(L.malformed, 4);
}
END_TEST

START_TEST(test_bare_local_part)
{
	parse("postmaster, <root>");
	ck_assert_uint_eq(L.n, 2);
	ck_assert_str_eq(L.v[0].local, "postmaster");
	ck_assert_ptr_null(L.v[0].domain);
	ck_assert_str_eq(L.v[0].addr, "postmaster");
	ck_assert_str_eq(L.v[1].addr, "root");
}
END_TEST

START_TEST(test_unquoted_address_as_display)
{
	parse("taro@example.jp <taro@example.jp>");
	ck_assert_uint_eq(L.n, 1);
	expect(0, "taro@example.jp", "taro@example.jp");
}
END_TEST

START_TEST(test_missing_comma)
{
	parse("a@example.jp b@example.jp (Bee)");
	ck_assert_uint_eq(L.n, 2);
	expect(0, "a@example.jp", NULL);
	expect(1, "b@example.jp", "Bee");
	parse("Hanako <c@example.jp> Jiro <d@example.jp>");
	ck_assert_uint_eq(L.n, 2);
	expect(0, "c@example.jp", "Hanako");
	expect(1, "d@example.jp", "Jiro");
	/* before a '<', an unbracketed address is part of the name */
	parse("a@example.jp Hanako <c@example.jp>");
	ck_assert_uint_eq(L.n, 1);
	expect(0, "c@example.jp", "a@example.jp Hanako");
}
END_TEST

START_TEST(test_obsolete_spaces_around_dots)
{
	parse("taro . yamada @ example . jp, John Q. Public <jqp@example.com>");
	ck_assert_uint_eq(L.n, 2);
	expect(0, "taro.yamada@example.jp", NULL);
	expect(1, "jqp@example.com", "John Q. Public");
}
END_TEST

START_TEST(test_control_chars_never_in_output)
{
	parse("=?utf-8?q?evil=0D=0ABcc:_x?= <a@example.jp>, \"b\x01\"@example.jp");
	ck_assert_uint_eq(L.n, 2);
	ck_assert_ptr_null(strpbrk(L.v[0].display, "\r\n"));
	ck_assert_str_eq(L.v[1].local, "b");
}
END_TEST

START_TEST(test_quote_local_rules)
{
	struct atsm_buf b;

	atsm_buf_init(&b, 0);
	ck_assert_int_eq(atsm_addr_quote_local("taro.yamada+job", &b), 0);
	ck_assert_str_eq(atsm_buf_str(&b), "taro.yamada+job");
	atsm_buf_reset(&b);
	ck_assert_int_eq(atsm_addr_quote_local("taro.", &b), 0);
	ck_assert_str_eq(atsm_buf_str(&b), "\"taro.\"");
	atsm_buf_reset(&b);
	ck_assert_int_eq(atsm_addr_quote_local("a\"b\\", &b), 0);
	ck_assert_str_eq(atsm_buf_str(&b), "\"a\\\"b\\\\\"");
	atsm_buf_reset(&b);
	ck_assert_int_eq(atsm_addr_quote_local("太郎", &b), 0);
	ck_assert_str_eq(atsm_buf_str(&b), "太郎");
	atsm_buf_free(&b);
}
END_TEST

START_TEST(test_every_parsed_address_normalises)
{
	size_t i;
	char *out;

	parse("\"Yamada, Taro\" <Taro@Example.JP>, \"john..doe\"@example.com, "
	    "=?UTF-8?B?5bGx55SwIOWkqumDjg==?= <taro@例え.jp>, root@[127.0.0.1]");
	ck_assert_uint_eq(L.n, 4);
	for (i = 0; i < L.n; i++) {
		ck_assert_msg(atsm_addr_normalize(L.v[i].addr, &out, &E) == 0,
		    "%s: %s", L.v[i].addr, E.msg);
		free(out);
	}
}
END_TEST

/* ---- normalisation ---- */

START_TEST(test_norm_case_and_trim)
{
	norm_is("  <Taro.Yamada@Example.CO.JP>  ", "taro.yamada@example.co.jp");
	norm_is("\xe3\x80\x80taro@example.jp\t", "taro@example.jp");
	/* a quoted local part that begins with what trimming takes keeps its
	 * quotes: the normal form is a fixed point (found by fuzz-addr) */
	norm_is("\"\xe3\x80\x80" "b\"@example.jp", "\"\xe3\x80\x80" "b\"@example.jp");
	norm_is("\"b\xe3\x80\x80\"@example.jp", "b\xe3\x80\x80@example.jp");
}
END_TEST

START_TEST(test_norm_idn_to_alabel)
{
	norm_is("taro@例え.jp", "taro@xn--r8jz45g.jp");
	norm_is("info@Bücher.de", "info@xn--bcher-kva.de");
	/* non-transitional: ß is kept, not mapped to "ss" */
	norm_is("a@faß.de", "a@xn--fa-hia.de");
}
END_TEST

START_TEST(test_norm_fullwidth_domain)
{
	norm_is("taro@例え。ｊｐ", "taro@xn--r8jz45g.jp");
	norm_is("taro@ＥＸＡＭＰＬＥ.jp", "taro@example.jp");
}
END_TEST

START_TEST(test_norm_alabel_stays)
{
	norm_is("taro@xn--r8jz45g.jp", "taro@xn--r8jz45g.jp");
	norm_is("taro@XN--R8JZ45G.JP", "taro@xn--r8jz45g.jp");
}
END_TEST

START_TEST(test_norm_trailing_dot)
{
	norm_is("taro@example.jp.", "taro@example.jp");
	norm_is("taro@例え.jp.", "taro@xn--r8jz45g.jp");
	norm_fails("taro@example.jp..", "taro@example.jp..", "empty label");
}
END_TEST

START_TEST(test_norm_bad_idn)
{
	norm_fails("taro@xn--zz.jp", "'taro@xn--zz.jp' is not an address",
	    "not a valid IDN");
	norm_fails("taro@-例え.jp", "taro@-例え.jp", "not a valid IDN");
	norm_fails("taro@\xff\xfe.jp", "taro@", "UTF-8");
}
END_TEST

START_TEST(test_norm_no_at)
{
	norm_fails("taro.example.jp", "'taro.example.jp' is not an address",
	    "no '@'");
	norm_fails("", "is not an address", "no '@'");
	norm_fails("  <>  ", "is not an address", "no '@'");
}
END_TEST

START_TEST(test_norm_empty_parts)
{
	norm_fails("@example.jp", "'@example.jp'", "local part is empty");
	norm_fails("taro@", "'taro@'", "domain is empty");
	norm_fails("taro@.", "'taro@.'", "domain is empty");
	norm_fails("\"\"@example.jp", "example.jp", "local part is empty");
}
END_TEST

START_TEST(test_norm_too_long)
{
	char in[400];

	memset(in, 'a', 250);
	strcpy(in + 250, "@example.jp");
	norm_fails(in, "is not an address", "longer than 254");
	/* 64 + 1 + 189 = 254 octets passes */
	memset(in, 'b', 64);
	in[64] = '@';
	memset(in + 65, 'c', 185);
	strcpy(in + 250, ".com");
	in[65 + 60] = '.';
	in[65 + 120] = '.';
	in[65 + 180] = '.';
	ck_assert_uint_eq(strlen(in), 254);
	{
		char *out;
		ck_assert_int_eq(atsm_addr_normalize(in, &out, &E), 0);
		ck_assert_uint_eq(strlen(out), 254);
		free(out);
	}
}
END_TEST

START_TEST(test_norm_quoted_local)
{
	norm_is("\"Taro\"@example.jp", "taro@example.jp");
	norm_is("\"taro.\"@docomo.ne.jp", "taro.@docomo.ne.jp");
	norm_is("taro.@docomo.ne.jp", "taro.@docomo.ne.jp");
	norm_is("\"john..doe\"@example.com", "john..doe@example.com");
	norm_is("\"A B\"@example.jp", "\"a b\"@example.jp");
	norm_is("\"a\\\"b\"@example.jp", "\"a\\\"b\"@example.jp");
	norm_fails("a b@example.jp", "'a b@example.jp'", "needs quotes");
}
END_TEST

START_TEST(test_norm_domain_literal_and_control)
{
	norm_is("Root@[IPv6:2001:DB8::1]", "root@[ipv6:2001:db8::1]");
	norm_fails("root@[127.0.0.1", "root@[127.0.0.1", "literal");
	norm_fails("ta\nro@example.jp", "'ta?ro@example.jp'", "control");
	norm_fails("taro@exa mple.jp", "exa mple.jp", "not allowed");
}
END_TEST

/* ---- domain matching ---- */

START_TEST(test_domain_in_exact_and_subdomain)
{
	char *list[] = { "example.com", "xn--r8jz45g.jp" };

	ck_assert(atsm_addr_domain_in("example.com", list, 2));
	ck_assert(atsm_addr_domain_in("mail.example.com", list, 2));
	ck_assert(atsm_addr_domain_in("a.b.Example.COM.", list, 2));
	ck_assert(atsm_addr_domain_in("sub.xn--r8jz45g.jp", list, 2));
	ck_assert(!atsm_addr_domain_in("example.org", list, 2));
	ck_assert(!atsm_addr_domain_in("com", list, 2));
	ck_assert(!atsm_addr_domain_in("example.com", list, 0));
}
END_TEST

START_TEST(test_domain_in_not_substring)
{
	char *list[] = { "example.com" };

	ck_assert(!atsm_addr_domain_in("evil-example.com", list, 1));
	ck_assert(!atsm_addr_domain_in("evilexample.com", list, 1));
	ck_assert(!atsm_addr_domain_in("example.com.evil.org", list, 1));
	ck_assert(!atsm_addr_domain_in("xample.com", list, 1));
}
END_TEST

START_TEST(test_domain_in_entry_forms)
{
	char *list[] = { NULL, "", ".example.co.jp", "@corp.example" };

	ck_assert(atsm_addr_domain_in("hr.example.co.jp", list, 4));
	ck_assert(atsm_addr_domain_in("corp.example", list, 4));
	ck_assert(!atsm_addr_domain_in("", list, 4));
	ck_assert(!atsm_addr_domain_in(NULL, list, 4));
	ck_assert(!atsm_addr_domain_in("other.jp", list, 4));
}
END_TEST

static Suite *
suite(void)
{
	Suite *s = suite_create("addr");
	TCase *p = tcase_create("parse");
	TCase *n = tcase_create("normalize");
	TCase *d = tcase_create("domain");

	tcase_add_checked_fixture(p, NULL, teardown);
	tcase_add_checked_fixture(n, NULL, teardown);
	tcase_add_test(p, test_plain_addr_spec);
	tcase_add_test(p, test_angle_only);
	tcase_add_test(p, test_name_angle);
	tcase_add_test(p, test_quoted_display_with_comma);
	tcase_add_test(p, test_quoted_local_double_dot);
	tcase_add_test(p, test_quoted_local_with_space);
	tcase_add_test(p, test_quoted_pair_escapes);
	tcase_add_test(p, test_comment_as_display);
	tcase_add_test(p, test_comment_inside_name_dropped);
	tcase_add_test(p, test_nested_comments);
	tcase_add_test(p, test_empty_group);
	tcase_add_test(p, test_group_members);
	tcase_add_test(p, test_empty_items);
	tcase_add_test(p, test_trailing_commas);
	tcase_add_test(p, test_semicolon_separated);
	tcase_add_test(p, test_missing_closing_angle);
	tcase_add_test(p, test_unbalanced_quotes);
	tcase_add_test(p, test_utf8_display);
	tcase_add_test(p, test_encoded_word_iso2022jp);
	tcase_add_test(p, test_encoded_word_utf8);
	tcase_add_test(p, test_encoded_word_in_quotes);
	tcase_add_test(p, test_encoded_word_in_group_name);
	tcase_add_test(p, test_fullwidth_spaces);
	tcase_add_test(p, test_route_address);
	tcase_add_test(p, test_domain_literal);
	tcase_add_test(p, test_uppercase_domain_kept_as_written);
	tcase_add_test(p, test_idn_domain);
	tcase_add_test(p, test_limit_exceeded);
	tcase_add_test(p, test_many_addresses_within_limit);
	tcase_add_test(p, test_nul_bytes_and_exact_length);
	tcase_add_test(p, test_folding);
	tcase_add_test(p, test_malformed_items_counted);
	tcase_add_test(p, test_bare_local_part);
	tcase_add_test(p, test_unquoted_address_as_display);
	tcase_add_test(p, test_missing_comma);
	tcase_add_test(p, test_obsolete_spaces_around_dots);
	tcase_add_test(p, test_control_chars_never_in_output);
	tcase_add_test(p, test_quote_local_rules);
	tcase_add_test(p, test_every_parsed_address_normalises);
	tcase_add_test(n, test_norm_case_and_trim);
	tcase_add_test(n, test_norm_idn_to_alabel);
	tcase_add_test(n, test_norm_fullwidth_domain);
	tcase_add_test(n, test_norm_alabel_stays);
	tcase_add_test(n, test_norm_trailing_dot);
	tcase_add_test(n, test_norm_bad_idn);
	tcase_add_test(n, test_norm_no_at);
	tcase_add_test(n, test_norm_empty_parts);
	tcase_add_test(n, test_norm_too_long);
	tcase_add_test(n, test_norm_quoted_local);
	tcase_add_test(n, test_norm_domain_literal_and_control);
	tcase_add_test(d, test_domain_in_exact_and_subdomain);
	tcase_add_test(d, test_domain_in_not_substring);
	tcase_add_test(d, test_domain_in_entry_forms);
	suite_add_tcase(s, p);
	suite_add_tcase(s, n);
	suite_add_tcase(s, d);
	return s;
}

ATSM_CHECK_MAIN()
