/* test-mime.c -- unit tests of header decoding to UTF-8 (lib/base/charset.c,
 * lib/mail/rfc2047.c, lib/mail/rfc2231.c).
 *
 * The byte strings were produced with python3 ('...'.encode('iso-2022-jp'),
 * 'cp932', 'euc-jp', 'utf-8'; the CP50221 extension rows by translating
 * CP932 to JIS row/cell) and base64; each carries the text as a comment.
 * Every result is also checked to be valid UTF-8 without NUL.
 */
#include "atsm-check.h"
#include "base/buf.h"
#include "base/charset.h"
#include "base/err.h"
#include "mail/rfc2047.h"
#include "mail/rfc2231.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Our own strict UTF-8 check, independent of the library's. */
static bool
utf8_ok(const char *p, size_t n)
{
	const unsigned char *s = (const unsigned char *)p;
	size_t i = 0, k, j;
	unsigned long cp;

	while (i < n) {
		if (s[i] < 0x80) {
			i++;
			continue;
		}
		if (s[i] >= 0xC2 && s[i] <= 0xDF) {
			k = 1;
			cp = s[i] & 0x1F;
		} else if (s[i] >= 0xE0 && s[i] <= 0xEF) {
			k = 2;
			cp = s[i] & 0x0F;
		} else if (s[i] >= 0xF0 && s[i] <= 0xF4) {
			k = 3;
			cp = s[i] & 0x07;
		} else
			return false;
		if (i + k >= n)
			return false;
		for (j = 1; j <= k; j++) {
			if ((s[i + j] & 0xC0) != 0x80)
				return false;
			cp = cp << 6 | (s[i + j] & 0x3F);
		}
		if ((k == 2 && cp < 0x800) || (k == 3 && cp < 0x10000) ||
		    cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
			return false;
		i += k + 1;
	}
	return true;
}

static void
check_clean(const struct atsm_buf *b)
{
	ck_assert_msg(utf8_ok(atsm_buf_str(b), b->len),
	    "output is not valid UTF-8: %s", atsm_buf_str(b));
	ck_assert_uint_eq(strlen(atsm_buf_str(b)), b->len);	/* no NUL */
}

static void
expect_decode(const char *in, size_t len, const char *want)
{
	struct atsm_buf b;

	atsm_buf_init(&b, 0);
	ck_assert_int_eq(atsm_rfc2047_decode(in, len, &b), 0);
	check_clean(&b);
	ck_assert_str_eq(atsm_buf_str(&b), want);
	atsm_buf_free(&b);
}

#define DEC(lit, want) expect_decode(lit, sizeof(lit) - 1, want)

static void
expect_param(const char *value, const char *name, int rc, const char *want)
{
	struct atsm_buf b;
	struct atsm_err err;

	atsm_buf_init(&b, 0);
	ck_assert_int_eq(atsm_rfc2231_param(value, strlen(value), name, &b,
	    &err), rc);
	check_clean(&b);
	ck_assert_str_eq(atsm_buf_str(&b), want);
	atsm_buf_free(&b);
}

static void
expect_conv(const char *cs, const char *in, size_t len, const char *want)
{
	struct atsm_buf b;
	struct atsm_err err;

	atsm_buf_init(&b, 0);
	ck_assert_int_eq(atsm_charset_to_utf8(cs, in, len, &b, &err), 0);
	check_clean(&b);
	ck_assert_str_eq(atsm_buf_str(&b), want);
	atsm_buf_free(&b);
}

#define CONV(cs, lit, want) expect_conv(cs, lit, sizeof(lit) - 1, want)

/* ---- plain text --------------------------------------------------------- */

START_TEST(test_ascii_passes)
{
	DEC("Interview schedule (2nd round)", "Interview schedule (2nd round)");
	DEC("", "");
}
END_TEST

START_TEST(test_raw_utf8_passes)
{
	/* 面接日程のご案内 */
	DEC("\xe9\x9d\xa2\xe6\x8e\xa5\xe6\x97\xa5\xe7\xa8\x8b\xe3\x81\xae"
	    "\xe3\x81\x94\xe6\xa1\x88\xe5\x86\x85", "面接日程のご案内");
}
END_TEST

START_TEST(test_raw_shift_jis_guessed)
{
	/* 面接日程のご案内 in raw CP932 (a sender that did not encode) */
	DEC("Re: \x96\xca\x90\xda\x93\xfa\x92\xf6\x82\xcc\x82\xb2\x88\xc4"
	    "\x93\xe0", "Re: 面接日程のご案内");
}
END_TEST

START_TEST(test_raw_euc_jp_guessed)
{
	/* ありがとう in raw EUC-JP: also valid CP932 half-width katakana;
	 * the absence of Shift_JIS lead bytes decides */
	DEC("\xa4\xa2\xa4\xea\xa4\xac\xa4\xc8\xa4\xa6", "ありがとう");
	/* 面接日程のご案内 in raw EUC-JP */
	DEC("\xcc\xcc\xc0\xdc\xc6\xfc\xc4\xf8\xa4\xce\xa4\xb4\xb0\xc6\xc6\xe2",
	    "面接日程のご案内");
}
END_TEST

START_TEST(test_raw_iso2022jp_decoded)
{
	/* 山田太郎 <- raw ISO-2022-JP in a header, as old mailers send */
	DEC("\x1b$B;3EDB@O:\x1b(B <taro@example.jp>",
	    "山田太郎 <taro@example.jp>");
}
END_TEST

/* ---- encoded words per charset ------------------------------------------ */

START_TEST(test_b_utf8)
{
	/* 面接日程のご案内 */
	DEC("=?UTF-8?B?6Z2i5o6l5pel56iL44Gu44GU5qGI5YaF?=", "面接日程のご案内");
	DEC("=?utf-8?b?6Z2i5o6l5pel56iL44Gu44GU5qGI5YaF?=", "面接日程のご案内");
}
END_TEST

START_TEST(test_q_utf8_underscore_is_space)
{
	/* 山田 太郎 */
	DEC("=?UTF-8?Q?=E5=B1=B1=E7=94=B0_=E5=A4=AA=E9=83=8E?=", "山田 太郎");
	DEC("=?utf-8?q?a_b=3Dc=3f?=", "a b=c?");
}
END_TEST

START_TEST(test_b_iso2022jp)
{
	/* 面接日程のご案内 */
	DEC("=?ISO-2022-JP?B?GyRCTExAXEZ8RHgkTiQ0MEZGYhsoQg==?=",
	    "面接日程のご案内");
	/* 佐藤花子 */
	DEC("=?iso-2022-jp?B?GyRCOjRGIzJWO1IbKEI=?=", "佐藤花子");
}
END_TEST

START_TEST(test_q_iso2022jp)
{
	/* 山田太郎: ESC $ B ;3EDB@O: ESC ( B in Q */
	DEC("=?ISO-2022-JP?Q?=1B$B;3EDB@O:=1B(B?=", "山田太郎");
}
END_TEST

START_TEST(test_b_shift_jis)
{
	/* 面接日程のご案内 */
	DEC("=?Shift_JIS?B?lsqQ2pP6kvaCzIKyiMST4A==?=", "面接日程のご案内");
}
END_TEST

START_TEST(test_shift_jis_aliases_are_cp932)
{
	static const char *const names[] = {
		"Shift_JIS", "SHIFT-JIS", "sjis", "x-sjis", "CP932",
		"Windows-31J", "MS_Kanji", "csShiftJIS",
	};
	struct atsm_buf b;
	size_t i;
	char word[128];

	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		/* 山田太郎 ～ (0x8160, which CP932 maps to U+FF5E) */
		snprintf(word, sizeof(word), "=?%s?B?jlKTY5G+mFmBYA==?=",
		    names[i]);
		atsm_buf_init(&b, 0);
		ck_assert_int_eq(atsm_rfc2047_decode(word, strlen(word), &b), 0);
		ck_assert_msg(strcmp(atsm_buf_str(&b), "山田太郎\xef\xbd\x9e") == 0,
		    "%s gave %s", names[i], atsm_buf_str(&b));
		atsm_buf_free(&b);
		ck_assert(atsm_charset_known(names[i]));
	}
}
END_TEST

START_TEST(test_b_euc_jp)
{
	/* 面接日程のご案内 */
	DEC("=?EUC-JP?B?zMzA3Mb8xPikzqS0sMbG4g==?=", "面接日程のご案内");
	/* 佐藤花子 */
	DEC("=?euc-jp?B?urTGo7LWu9I=?=", "佐藤花子");
}
END_TEST

START_TEST(test_euc_jp_nec_rows_fall_back_to_ms)
{
	/* ①㈱ as EUC-JP-MS row 13 under an EUC-JP label */
	CONV("EUC-JP", "\xad\xa1\xad\xea", "①㈱");
	/* the standard wave dash stays U+301C in EUC-JP */
	CONV("EUC-JP", "\xa1\xc1", "\xe3\x80\x9c");
}
END_TEST

START_TEST(test_iso2022jp_ms_extensions)
{
	/* ①㈱髙: NEC row 13 and NEC-selected IBM row 92 (CP50221) */
	DEC("=?ISO-2022-JP?B?GyRCLSEtanxiGyhC?=", "①㈱髙");
	CONV("ISO-2022-JP", "\x1b$B-!-j|b\x1b(B", "①㈱髙");
	CONV("CP50221", "\x1b$B-!\x1b(B", "①");
}
END_TEST

START_TEST(test_cp932_ms_extensions)
{
	/* ①㈱髙 with NEC-selected IBM 髙 (0xEEE0) */
	DEC("=?Shift_JIS?B?h0CHiu7g?=", "①㈱髙");
	/* ① and IBM extension 髙 (0xFBFC) */
	DEC("=?windows-31j?B?h0D7/A==?=", "①髙");
}
END_TEST

START_TEST(test_halfwidth_katakana_iso2022jp)
{
	/* ｱｲｳｴｵ with ESC ( I */
	DEC("=?ISO-2022-JP?B?GyhJMTIzNDUbKEI=?=", "ｱｲｳｴｵ");
	/* ｱｲｳ with SO/SI, then ASCII */
	CONV("ISO-2022-JP", "\x0e" "123\x0f" "ok", "ｱｲｳok");
}
END_TEST

START_TEST(test_halfwidth_katakana_shift_jis)
{
	/* ｱｲｳ in CP932 single bytes */
	DEC("=?Shift_JIS?B?sbKz?=", "ｱｲｳ");
}
END_TEST

START_TEST(test_iso2022jp2_and_3_sets)
{
	/* 丂: JIS X 0212 (ESC $ ( D) from ISO-2022-JP-2 */
	CONV("ISO-2022-JP-2", "\x1b$(D0!\x1b(B", "丂");
	/* 㐂: JIS X 0213 plane 1 (ESC $ ( O) from ISO-2022-JP-3 */
	CONV("ISO-2022-JP-3", "\x1b$(O.#\x1b(B", "㐂");
	/* é: ISO-8859-1 in G2 by single shift (ISO-2022-JP-2) */
	CONV("ISO-2022-JP-2", "caf\x1b.A\x1bNi", "café");
}
END_TEST

START_TEST(test_latin1_and_windows1252)
{
	/* Café */
	DEC("=?ISO-8859-1?Q?Caf=E9?=", "Café");
	/* “Résumé” €5 */
	DEC("=?windows-1252?Q?=93R=E9sum=E9=94_=805?=", "“Résumé” €5");
	/* an ISO-8859-1 label carrying Windows-1252's euro sign */
	DEC("=?iso-8859-1?Q?=80?=", "€");
	/* ISO-8859-15 passes through iconv: € at 0xA4 */
	DEC("=?ISO-8859-15?Q?=A4?=", "€");
}
END_TEST

START_TEST(test_language_suffix_accepted)
{
	/* 山田太郎 with an RFC 2231 language tag */
	DEC("=?UTF-8*ja?B?5bGx55Sw5aSq6YOO?=", "山田太郎");
	DEC("=?ISO-2022-JP*ja-JP?B?GyRCOzNFREJATzobKEI=?=", "山田太郎");
}
END_TEST

/* ---- white space, mixing, folding --------------------------------------- */

START_TEST(test_mixed_encoded_and_plain)
{
	/* Re: 面接日程のご案内 (2回目) */
	DEC("Re: =?ISO-2022-JP?B?GyRCTExAXEZ8RHgkTiQ0MEZGYhsoQg==?= (2"
	    "\xe5\x9b\x9e\xe7\x9b\xae)", "Re: 面接日程のご案内 (2回目)");
}
END_TEST

START_TEST(test_space_between_words_dropped)
{
	/* 山田 + 太郎 in two words separated by blanks */
	DEC("=?UTF-8?B?5bGx55Sw?=   \t =?UTF-8?B?5aSq6YOO?=", "山田太郎");
	/* a word glued to text is still decoded */
	DEC("Re:=?UTF-8?B?5bGx55Sw?=", "Re:山田");
}
END_TEST

START_TEST(test_space_between_word_and_text_kept)
{
	DEC("=?UTF-8?B?5bGx55Sw?= san", "山田 san");
	DEC("Mr.  =?UTF-8?B?5bGx55Sw?=", "Mr.  山田");
	/* text between words keeps the words apart */
	DEC("=?UTF-8?B?5bGx55Sw?= / =?UTF-8?B?5aSq6YOO?=", "山田 / 太郎");
}
END_TEST

START_TEST(test_folded_crlf_space)
{
	/* Subject: 面接日程のご案内 folded in two words */
	DEC("=?UTF-8?B?6Z2i5o6l5pel56iL?=\r\n =?UTF-8?B?44Gu44GU5qGI5YaF?=",
	    "面接日程のご案内");
	DEC("Interview\r\n schedule", "Interview schedule");
}
END_TEST

START_TEST(test_folded_lf_tab)
{
	DEC("=?ISO-2022-JP?B?GyRCOzNFRBsoQg==?=\n\t=?ISO-2022-JP?B?GyRCQkBPOhsoQg==?=",
	    "山田太郎");
	DEC("Interview\n\tschedule\r\n", "Interview\tschedule");
}
END_TEST

START_TEST(test_utf8_char_split_across_words)
{
	/* 面接日程のご案内 with 接 (E6 8E A5) cut after its first byte */
	DEC("=?UTF-8?B?6Z2i5g==?= =?UTF-8?B?jqXml6XnqIvjga7jgZTmoYjlhoU=?=",
	    "面接日程のご案内");
}
END_TEST

START_TEST(test_iso2022jp_char_split_across_words)
{
	/* 面接日程のご案内: the first word ends inside the pair of 接 */
	DEC("=?ISO-2022-JP?B?GyRCTExA?= =?ISO-2022-JP?B?XEZ8RHgkTiQ0MEZGYhsoQg==?=",
	    "面接日程のご案内");
	/* and an escape sequence split between words (Q) */
	DEC("=?ISO-2022-JP?Q?=1B$?= =?iso-2022-jp?Q?B;3=1B(B?=", "山");
}
END_TEST

START_TEST(test_different_charsets_not_joined)
{
	/* 山田 in ISO-2022-JP then 太郎 in UTF-8 */
	DEC("=?ISO-2022-JP?B?GyRCOzNFRBsoQg==?= =?UTF-8?B?5aSq6YOO?=",
	    "山田太郎");
}
END_TEST

/* ---- hostile input ------------------------------------------------------ */

START_TEST(test_missing_close_keeps_literal)
{
	DEC("=?UTF-8?B?5bGx55Sw", "=?UTF-8?B?5bGx55Sw");
	DEC("a =?UTF-8?B?5bGx 55Sw?= b", "a =?UTF-8?B?5bGx 55Sw?= b");
	DEC("=?UTF-8?X?abc?=", "=?UTF-8?X?abc?=");
	DEC("=?", "=?");
}
END_TEST

START_TEST(test_truncated_word_replaced)
{
	/* 日本 cut inside 本: 日 then one U+FFFD, then the rest */
	DEC("=?UTF-8?B?5pel5p?= ok", "日\xef\xbf\xbd ok");
	/* ISO-2022-JP ending inside a pair and inside an escape */
	DEC("=?ISO-2022-JP?Q?=1B$B;3E?=", "山\xef\xbf\xbd");
	DEC("=?ISO-2022-JP?Q?ab=1B$?=", "ab\xef\xbf\xbd");
}
END_TEST

START_TEST(test_bad_base64_replaced)
{
	DEC("=?UTF-8?B?5bG!x55Sw?= =?UTF-8?B?5aSq6YOO?= end",
	    "\xef\xbf\xbd太郎 end");
	DEC("=?UTF-8?B?5b==Gx?=", "\xef\xbf\xbd");
}
END_TEST

START_TEST(test_invalid_utf8_replaced)
{
	/* 山 then a stray continuation and a truncated lead, then 田 */
	DEC("=?UTF-8?Q?=E5=B1=B1=80=E7=94_x=E7=94=B0?=",
	    "山\xef\xbf\xbd\xef\xbf\xbd x田");
	/* overlong NUL and a surrogate */
	CONV("UTF-8", "a\xc0\x80" "b\xed\xa0\x80" "c", "a\xef\xbf\xbd" "b\xef\xbf\xbd" "c");
}
END_TEST

START_TEST(test_invalid_cp932_replaced)
{
	/* 山 (8E 52), invalid pair 85 40, lone lead at the end */
	CONV("Shift_JIS", "\x8eR\x85@\x93" "c\x91", "山\xef\xbf\xbd田\xef\xbf\xbd");
	/* 0xA0 is no character in CP932 */
	CONV("CP932", "\xa0x", "\xef\xbf\xbdx");
}
END_TEST

START_TEST(test_invalid_euc_jp_replaced)
{
	/* 山 (BB B3), an unassigned pair, 田 (C5 C4), a truncated pair */
	CONV("EUC-JP", "\xbb\xb3\xa9\xa1\xc5\xc4\xbb",
	    "山\xef\xbf\xbd田\xef\xbf\xbd");
}
END_TEST

START_TEST(test_invalid_iso2022jp_replaced)
{
	/* unknown escape, half a pair before a line end, 8-bit garbage */
	CONV("ISO-2022-JP", "\x1b$Z;3\x1b$B;3E\n\x1b$BD\x1b(B\xff!",
	    "\xef\xbf\xbd;3山\xef\xbf\xbd\n\xef\xbf\xbd\xef\xbf\xbd!");
}
END_TEST

START_TEST(test_iso2022jp_label_on_shift_jis)
{
	/* 山田太郎 sent as CP932 but labelled ISO-2022-JP */
	DEC("=?ISO-2022-JP?B?jlKTY5G+mFk=?=", "山田太郎");
}
END_TEST

START_TEST(test_unknown_charset_replaced)
{
	struct atsm_buf b;
	struct atsm_err err;

	/* ASCII kept, 8-bit runs replaced, the next word still decoded */
	DEC("=?x-klingon?Q?Qapla=E9=E8!?= =?UTF-8?B?5aSq6YOO?=",
	    "Qapla\xef\xbf\xbd!太郎");
	DEC("=?x-klingon//IGNORE?Q?a?=", "a");
	ck_assert(!atsm_charset_known("x-klingon"));
	ck_assert(!atsm_charset_known("UTF-8//IGNORE"));
	atsm_buf_init(&b, 0);
	ck_assert_int_eq(atsm_charset_to_utf8("x-klingon", "abc", 3, &b, &err),
	    -1);
	ck_assert(strstr(err.msg, "x-klingon") != NULL);
	ck_assert_uint_eq(b.len, 0);
	ck_assert(!b.overflow);
	atsm_buf_free(&b);
}
END_TEST

/* Found by fuzz-rfc2047: glibc's iconv reads "UTF)8" as UTF-8 and passes
 * a 5-byte form (0xFB ...) through; what iconv writes is checked too. */
START_TEST(test_iconv_alias_output_validated)
{
	DEC("=?UTF)8*ja?B?5bGx55Sw+5aSqYOO?=",
	    "山田\xef\xbf\xbd\xef\xbf\xbd");
}
END_TEST

START_TEST(test_nul_bytes_replaced)
{
	/* a raw NUL and an encoded one */
	DEC("a\0b =?UTF-8?Q?c=00d?=", "a\xef\xbf\xbd" "b c\xef\xbf\xbd" "d");
	CONV("UTF-16BE", "\0A\0\0\0B", "A\xef\xbf\xbd" "B");
}
END_TEST

START_TEST(test_encoded_line_ends_become_spaces)
{
	DEC("=?UTF-8?Q?a=0D=0Ab?= c\rd", "a  b c d");
}
END_TEST

START_TEST(test_word_of_equals_signs)
{
	struct atsm_buf b;
	char *in;
	size_t i;

	in = malloc(10000 + 32);
	ck_assert_ptr_nonnull(in);
	for (i = 0; i < 10000; i++)
		in[i] = '=';
	atsm_buf_init(&b, 0);
	ck_assert_int_eq(atsm_rfc2047_decode(in, 10000, &b), 0);
	check_clean(&b);
	ck_assert_uint_eq(b.len, 10000);	/* literal, unchanged */
	atsm_buf_free(&b);
	/* and as the text of a B word: padding only, nothing decoded */
	memcpy(in, "=?UTF-8?B?", 10);
	memcpy(in + 10000, "?= ok", 5);
	atsm_buf_init(&b, 0);
	ck_assert_int_eq(atsm_rfc2047_decode(in, 10005, &b), 0);
	check_clean(&b);
	ck_assert_str_eq(atsm_buf_str(&b), " ok");
	atsm_buf_free(&b);
	/* as a Q word: 9990 literal '=' */
	memcpy(in, "=?UTF-8?Q?", 10);
	atsm_buf_init(&b, 0);
	ck_assert_int_eq(atsm_rfc2047_decode(in, 10005, &b), 0);
	check_clean(&b);
	ck_assert_uint_eq(b.len, 9990 + 3);
	atsm_buf_free(&b);
	free(in);
}
END_TEST

START_TEST(test_big_header_hits_limit)
{
	/* 100 KB of Q words, each 面接日程のご案内 x 25 in ISO-2022-JP (600
	 * bytes of UTF-8 from 428 of input), decoded into a 64 KB buffer */
	struct atsm_buf b;
	char *in, w[512];
	size_t n = 0, wl;
	int i;

	strcpy(w, "=?ISO-2022-JP?Q?=1B$B");
	for (i = 0; i < 25; i++)
		strcat(w, "LL@\\F|Dx$N$40FFb");
	strcat(w, "=1B(B?= ");
	wl = strlen(w);
	in = malloc(100 * 1024 + wl);
	ck_assert_ptr_nonnull(in);
	while (n < 100 * 1024) {
		memcpy(in + n, w, wl);
		n += wl;
	}
	atsm_buf_init(&b, 64 * 1024);
	ck_assert_int_eq(atsm_rfc2047_decode(in, n, &b), -1);
	ck_assert(b.overflow);
	ck_assert_uint_le(b.len, 64 * 1024);
	ck_assert_uint_gt(b.len, 64 * 1024 - 4);
	check_clean(&b);
	ck_assert(strncmp(atsm_buf_str(&b), "面接日程のご案内面接", 30) == 0);
	atsm_buf_free(&b);
	free(in);
}
END_TEST

START_TEST(test_limit_cuts_at_char_boundary)
{
	struct atsm_buf b;

	/* 面接日程 is 12 bytes; a limit of 8 keeps two whole characters */
	atsm_buf_init(&b, 8);
	ck_assert_int_eq(atsm_charset_to_utf8("EUC-JP",
	    "\xcc\xcc\xc0\xdc\xc6\xfc\xc4\xf8", 8, &b, NULL), -1);
	ck_assert(b.overflow);
	ck_assert_str_eq(atsm_buf_str(&b), "面接");
	atsm_buf_free(&b);
	atsm_buf_init(&b, 5);
	ck_assert_int_eq(atsm_rfc2047_decode("=?UTF-8?B?5bGx55Sw?=", 20, &b), -1);
	ck_assert_str_eq(atsm_buf_str(&b), "山");
	atsm_buf_free(&b);
}
END_TEST

START_TEST(test_guess_charset)
{
	ck_assert_str_eq(atsm_charset_guess("abc", 3), "UTF-8");
	ck_assert_str_eq(atsm_charset_guess("\x96\xca\x90\xda", 4), "CP932");
	ck_assert_str_eq(atsm_charset_guess("\xcc\xcc\xc0\xdc", 4), "EUC-JP");
	ck_assert_str_eq(atsm_charset_guess("\x1b$B;3\x1b(B", 8),
	    "ISO-2022-JP");
}
END_TEST

/* Many threads decoding at once (as the milter does) agree with one. */
static void *
decode_many(void *arg)
{
	static const char in[] = "=?ISO-2022-JP?B?GyRCLSEtanxiGyhC?= "
	    "=?Shift_JIS?B?lsqQ2pP6kvaCzIKyiMST4A==?= "
	    "=?EUC-JP?B?zMzA3Mb8xPikzqS0sMbG4g==?=";
	struct atsm_buf b;
	int i;
	long bad = 0;

	(void)arg;
	for (i = 0; i < 300; i++) {
		atsm_buf_init(&b, 0);
		if (atsm_rfc2047_decode(in, sizeof(in) - 1, &b) != 0 ||
		    strcmp(atsm_buf_str(&b),
		    "①㈱髙面接日程のご案内面接日程のご案内") != 0)
			bad++;
		atsm_buf_free(&b);
	}
	return (void *)bad;
}

START_TEST(test_concurrent_threads_agree)
{
	pthread_t t[8];
	void *bad;
	int i;

	for (i = 0; i < 8; i++)
		ck_assert_int_eq(pthread_create(&t[i], NULL, decode_many, NULL), 0);
	for (i = 0; i < 8; i++) {
		ck_assert_int_eq(pthread_join(t[i], &bad), 0);
		ck_assert_ptr_null(bad);
	}
}
END_TEST

/* ---- RFC 2231 ----------------------------------------------------------- */

START_TEST(test_2231_plain_and_token)
{
	expect_param("attachment; filename=resume.pdf", "filename", 1,
	    "resume.pdf");
	expect_param("attachment; FileName = \"cv 2024.docx\" ; size=12",
	    "filename", 1, "cv 2024.docx");
	expect_param("text/plain; charset=us-ascii (Plain text)", "charset",
	    1, "us-ascii");
}
END_TEST

START_TEST(test_2231_quoted_escapes)
{
	expect_param("attachment; filename=\"a\\\"b\\\\c;d.txt\"; x=1",
	    "filename", 1, "a\"b\\c;d.txt");
}
END_TEST

START_TEST(test_2231_missing_returns_zero)
{
	expect_param("attachment; name=a.txt", "filename", 0, "");
	expect_param("attachment; xfilename=a.txt; filename2=b", "filename",
	    0, "");
	expect_param("", "filename", 0, "");
	expect_param("inline", "filename", 0, "");
}
END_TEST

START_TEST(test_2231_percent_utf8_with_language)
{
	/* 履歴書.pdf */
	expect_param("attachment; filename*=UTF-8'ja'%E5%B1%A5%E6%AD%B4"
	    "%E6%9B%B8.pdf", "filename", 1, "履歴書.pdf");
	expect_param("attachment; filename*=utf-8''%E5%B1%A5%E6%AD%B4"
	    "%E6%9B%B8.pdf", "filename", 1, "履歴書.pdf");
}
END_TEST

START_TEST(test_2231_percent_iso2022jp)
{
	/* 山田太郎.doc */
	expect_param("attachment; filename*=ISO-2022-JP''%1B%24B%3B3EDB%40O%3A"
	    "%1B%28B.doc", "filename", 1, "山田太郎.doc");
}
END_TEST

START_TEST(test_2231_continuations)
{
	/* 履歴書_山田.pdf in extended sections, given out of order */
	expect_param("attachment;\r\n filename*1*=%E6%9B%B8_%E5%B1%B1;\r\n"
	    " filename*0*=UTF-8'ja'%E5%B1%A5%E6%AD%B4;\r\n"
	    " filename*2*=%E7%94%B0.pdf", "filename", 1, "履歴書_山田.pdf");
	/* plain sections; a gap ends the value */
	expect_param("attachment; filename*0=\"long \"; filename*1=name.txt;"
	    " filename*3=lost", "filename", 1, "long name.txt");
	/* an ISO-2022-JP character split across extended sections */
	expect_param("attachment; filename*0*=ISO-2022-JP''%1B%24B%3B;"
	    " filename*1*=3%1B%28B", "filename", 1, "山");
}
END_TEST

START_TEST(test_2231_rfc2047_in_quotes)
{
	/* 面接日程のご案内.pdf as Outlook and Gmail write it */
	expect_param("attachment; filename=\"=?UTF-8?B?6Z2i5o6l5pel56iL44Gu"
	    "44GU5qGI5YaF?=.pdf\"", "filename", 1, "面接日程のご案内.pdf");
	expect_param("application/octet-stream; name=\"=?ISO-2022-JP?B?"
	    "GyRCOzNFREJATzobKEI=?=\"", "name", 1, "山田太郎");
	/* raw Shift_JIS in the quotes: 山田 */
	expect_param("attachment; filename=\"\x8eR\x93" "c.txt\"", "filename",
	    1, "山田.txt");
}
END_TEST

START_TEST(test_2231_extended_preferred)
{
	expect_param("attachment; filename=\"fallback.pdf\"; "
	    "filename*=UTF-8''%E5%B1%B1.pdf", "filename", 1, "山.pdf");
}
END_TEST

START_TEST(test_2231_lenient_forms)
{
	/* no charset: guessed (CP932 山); an unknown one keeps ASCII */
	expect_param("attachment; filename*=''%8eR.txt", "filename", 1,
	    "山.txt");
	expect_param("attachment; filename*=x-bogus''a%FF.txt", "filename", 1,
	    "a\xef\xbf\xbd.txt");
	/* quoted extended value, bad percent kept literally */
	expect_param("attachment; filename*=\"UTF-8''100%25%zz\"", "filename",
	    1, "100%%zz");
	/* no type in front */
	expect_param("filename=a.txt", "filename", 1, "a.txt");
}
END_TEST

START_TEST(test_2231_limit_reported)
{
	struct atsm_buf b;
	struct atsm_err err;
	const char *v = "attachment; filename*=UTF-8''%E5%B1%A5%E6%AD%B4"
	    "%E6%9B%B8.pdf";

	atsm_buf_init(&b, 7);
	ck_assert_int_eq(atsm_rfc2231_param(v, strlen(v), "filename", &b, &err),
	    -1);
	ck_assert(strstr(err.msg, "filename") != NULL);
	ck_assert_str_eq(atsm_buf_str(&b), "履歴");
	atsm_buf_free(&b);
}
END_TEST

static Suite *
suite(void)
{
	Suite *s = suite_create("mime");
	TCase *tc = tcase_create("core");

	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, test_ascii_passes);
	tcase_add_test(tc, test_raw_utf8_passes);
	tcase_add_test(tc, test_raw_shift_jis_guessed);
	tcase_add_test(tc, test_raw_euc_jp_guessed);
	tcase_add_test(tc, test_raw_iso2022jp_decoded);
	tcase_add_test(tc, test_b_utf8);
	tcase_add_test(tc, test_q_utf8_underscore_is_space);
	tcase_add_test(tc, test_b_iso2022jp);
	tcase_add_test(tc, test_q_iso2022jp);
	tcase_add_test(tc, test_b_shift_jis);
	tcase_add_test(tc, test_shift_jis_aliases_are_cp932);
	tcase_add_test(tc, test_b_euc_jp);
	tcase_add_test(tc, test_euc_jp_nec_rows_fall_back_to_ms);
	tcase_add_test(tc, test_iso2022jp_ms_extensions);
	tcase_add_test(tc, test_cp932_ms_extensions);
	tcase_add_test(tc, test_halfwidth_katakana_iso2022jp);
	tcase_add_test(tc, test_halfwidth_katakana_shift_jis);
	tcase_add_test(tc, test_iso2022jp2_and_3_sets);
	tcase_add_test(tc, test_latin1_and_windows1252);
	tcase_add_test(tc, test_language_suffix_accepted);
	tcase_add_test(tc, test_mixed_encoded_and_plain);
	tcase_add_test(tc, test_space_between_words_dropped);
	tcase_add_test(tc, test_space_between_word_and_text_kept);
	tcase_add_test(tc, test_folded_crlf_space);
	tcase_add_test(tc, test_folded_lf_tab);
	tcase_add_test(tc, test_utf8_char_split_across_words);
	tcase_add_test(tc, test_iso2022jp_char_split_across_words);
	tcase_add_test(tc, test_different_charsets_not_joined);
	tcase_add_test(tc, test_missing_close_keeps_literal);
	tcase_add_test(tc, test_truncated_word_replaced);
	tcase_add_test(tc, test_bad_base64_replaced);
	tcase_add_test(tc, test_invalid_utf8_replaced);
	tcase_add_test(tc, test_invalid_cp932_replaced);
	tcase_add_test(tc, test_invalid_euc_jp_replaced);
	tcase_add_test(tc, test_invalid_iso2022jp_replaced);
	tcase_add_test(tc, test_iso2022jp_label_on_shift_jis);
	tcase_add_test(tc, test_unknown_charset_replaced);
	tcase_add_test(tc, test_iconv_alias_output_validated);
	tcase_add_test(tc, test_nul_bytes_replaced);
	tcase_add_test(tc, test_encoded_line_ends_become_spaces);
	tcase_add_test(tc, test_word_of_equals_signs);
	tcase_add_test(tc, test_big_header_hits_limit);
	tcase_add_test(tc, test_limit_cuts_at_char_boundary);
	tcase_add_test(tc, test_guess_charset);
	tcase_add_test(tc, test_concurrent_threads_agree);
	tcase_add_test(tc, test_2231_plain_and_token);
	tcase_add_test(tc, test_2231_quoted_escapes);
	tcase_add_test(tc, test_2231_missing_returns_zero);
	tcase_add_test(tc, test_2231_percent_utf8_with_language);
	tcase_add_test(tc, test_2231_percent_iso2022jp);
	tcase_add_test(tc, test_2231_continuations);
	tcase_add_test(tc, test_2231_rfc2047_in_quotes);
	tcase_add_test(tc, test_2231_extended_preferred);
	tcase_add_test(tc, test_2231_lenient_forms);
	tcase_add_test(tc, test_2231_limit_reported);
	suite_add_tcase(s, tc);
	return s;
}

ATSM_CHECK_MAIN()
