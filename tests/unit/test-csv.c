/* test-csv.c -- unit tests of the CSV decoder and reader (lib/base/csv.c). */
#include "atsm-check.h"
#include "base/csv.h"

#include <stdio.h>
#include <string.h>

/* Read all records of text; each record's fields joined by '|', records
 * by '/', with "@LINE:" before each. */
static int
read_all(const char *text, size_t len, char *out, size_t outsz, struct atsm_err *err)
{
	struct atsm_csv_reader r;
	struct atsm_csv_record rec = { 0 };
	size_t o = 0, i;
	int rc;

	out[0] = '\0';
	atsm_csv_reader_init(&r, text, len);
	while ((rc = atsm_csv_next(&r, &rec, err)) == 1) {
		o += (size_t)snprintf(out + o, outsz - o, "%s@%u:", o > 0 ? "/" : "", rec.line);
		for (i = 0; i < rec.n; i++)
			o += (size_t)snprintf(out + o, outsz - o, "%s%s", i > 0 ? "|" : "",
			    rec.fields[i]);
	}
	atsm_csv_record_free(&rec);
	return rc;
}

START_TEST(test_csv_plain_and_crlf)
{
	char out[512];
	const char *t = "a,b,c\r\n1,2,3\n,,\r\n";

	ck_assert_int_eq(read_all(t, strlen(t), out, sizeof(out), NULL), 0);
	ck_assert_str_eq(out, "@1:a|b|c/@2:1|2|3/@3:||");
}
END_TEST

START_TEST(test_csv_quotes_commas_newlines)
{
	char out[512];
	const char *t = "name,note\n\"Yamada, Taro\",\"he said \"\"hi\"\"\"\n"
	    "\"two\r\nlines\",x\nlast,\"\"\n";

	ck_assert_int_eq(read_all(t, strlen(t), out, sizeof(out), NULL), 0);
	ck_assert_str_eq(out, "@1:name|note/@2:Yamada, Taro|he said \"hi\"/"
	    "@3:two\nlines|x/@5:last|");
}
END_TEST

START_TEST(test_csv_blank_lines_and_no_final_newline)
{
	char out[512];
	const char *t = "\n\na,b\n\n\nc,d";

	ck_assert_int_eq(read_all(t, strlen(t), out, sizeof(out), NULL), 0);
	ck_assert_str_eq(out, "@3:a|b/@6:c|d");
}
END_TEST

START_TEST(test_csv_lenient_stray_quotes)
{
	char out[512];
	const char *t = "ab\"c,\"q\"x,d\n";

	ck_assert_int_eq(read_all(t, strlen(t), out, sizeof(out), NULL), 0);
	ck_assert_str_eq(out, "@1:ab\"c|qx|d");
}
END_TEST

START_TEST(test_csv_unclosed_quote_names_line)
{
	char out[512];
	struct atsm_err err;
	const char *t = "a,b\n1,2\n3,\"open\nmore\n";

	ck_assert_int_eq(read_all(t, strlen(t), out, sizeof(out), &err), -1);
	ck_assert_ptr_nonnull(strstr(err.msg, "line 3"));
	ck_assert_str_eq(out, "@1:a|b/@2:1|2");
}
END_TEST

START_TEST(test_csv_too_many_fields_is_skipped)
{
	static char t[ATSM_CSV_FIELDS_MAX * 2 + 64];
	struct atsm_csv_reader r;
	struct atsm_csv_record rec = { 0 };
	struct atsm_err err;
	size_t o = 0;
	int i;

	o += (size_t)snprintf(t, sizeof(t), "x\n");
	for (i = 0; i <= ATSM_CSV_FIELDS_MAX; i++)
		t[o++] = ',';
	o += (size_t)snprintf(t + o, sizeof(t) - o, "\nok\n");
	atsm_csv_reader_init(&r, t, o);
	ck_assert_int_eq(atsm_csv_next(&r, &rec, &err), 1);
	ck_assert_int_eq(atsm_csv_next(&r, &rec, &err), -1);
	ck_assert_ptr_nonnull(strstr(err.msg, "line 2"));
	ck_assert_int_eq(atsm_csv_next(&r, &rec, &err), 1);
	ck_assert_str_eq(rec.fields[0], "ok");
	ck_assert_uint_eq(rec.line, 3);
	atsm_csv_record_free(&rec);
}
END_TEST

START_TEST(test_csv_decode_bom_utf8)
{
	struct atsm_buf b;
	enum atsm_csv_encoding used;
	const char *t = "\xEF\xBB\xBF" "氏名\n山田\n";

	atsm_buf_init(&b, 0);
	ck_assert_int_eq(atsm_csv_decode(t, strlen(t), ATSM_CSV_AUTO, &b, &used, NULL, NULL), 0);
	ck_assert_int_eq(used, ATSM_CSV_UTF8);
	ck_assert_str_eq(atsm_buf_str(&b), "氏名\n山田\n");
	atsm_buf_free(&b);
}
END_TEST

START_TEST(test_csv_decode_sjis_detected)
{
	struct atsm_buf b;
	enum atsm_csv_encoding used;
	size_t nbad = 99;
	/* 氏名,山田 髙橋 (髙 is a CP932 extension) in Shift_JIS */
	const char t[] = "\x8e\x81\x96\xbc,\x8e\x52\x93\x63 \xee\xe0\x8b\xb4\n";

	atsm_buf_init(&b, 0);
	ck_assert_int_eq(atsm_csv_decode(t, sizeof(t) - 1, ATSM_CSV_AUTO, &b, &used, &nbad,
	    NULL), 0);
	ck_assert_int_eq(used, ATSM_CSV_CP932);
	ck_assert_uint_eq(nbad, 0);
	ck_assert_str_eq(atsm_buf_str(&b), "氏名,山田 髙橋\n");
	atsm_buf_free(&b);
}
END_TEST

START_TEST(test_csv_decode_forced_and_limit)
{
	struct atsm_buf b;
	struct atsm_err err;
	enum atsm_csv_encoding enc;
	size_t nbad = 0;
	const char *t = "\x8e\x81\x96\xbc";

	atsm_buf_init(&b, 0);
	ck_assert_int_eq(atsm_csv_decode(t, 4, ATSM_CSV_UTF8, &b, NULL, &nbad, NULL), 0);
	ck_assert_uint_gt(nbad, 0);
	ck_assert_ptr_nonnull(strstr(atsm_buf_str(&b), "\xEF\xBF\xBD"));
	atsm_buf_free(&b);
	atsm_buf_init(&b, 3);
	ck_assert_int_eq(atsm_csv_decode(t, 4, ATSM_CSV_CP932, &b, NULL, NULL, &err), -1);
	ck_assert_ptr_nonnull(strstr(err.msg, "longer than"));
	atsm_buf_free(&b);
	ck_assert_int_eq(atsm_csv_encoding_parse("Shift_JIS", &enc, NULL), 0);
	ck_assert_int_eq(enc, ATSM_CSV_CP932);
	ck_assert_int_eq(atsm_csv_encoding_parse("latin9", &enc, &err), -1);
	ck_assert_ptr_nonnull(strstr(err.msg, "latin9"));
}
END_TEST

static Suite *
suite(void)
{
	Suite *s = suite_create("csv");
	TCase *tc = tcase_create("csv");

	tcase_add_test(tc, test_csv_plain_and_crlf);
	tcase_add_test(tc, test_csv_quotes_commas_newlines);
	tcase_add_test(tc, test_csv_blank_lines_and_no_final_newline);
	tcase_add_test(tc, test_csv_lenient_stray_quotes);
	tcase_add_test(tc, test_csv_unclosed_quote_names_line);
	tcase_add_test(tc, test_csv_too_many_fields_is_skipped);
	tcase_add_test(tc, test_csv_decode_bom_utf8);
	tcase_add_test(tc, test_csv_decode_sjis_detected);
	tcase_add_test(tc, test_csv_decode_forced_and_limit);
	suite_add_tcase(s, tc);
	return s;
}

ATSM_CHECK_MAIN()
