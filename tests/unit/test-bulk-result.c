/* test-bulk-result.c -- unit tests of the bulk job's own mail and CSV
 * (lib/bulk/result.c): the CSV's columns and quoting, with and without
 * the deliveries; the acknowledgement naming the unmatched addresses; the
 * result mail in English and Japanese with its CSV attached; the marker
 * and the null-sender headers; bad input. */
#include "atsm-check.h"
#include "bulk/result.h"
#include "explain/compose.h"

#include <openssl/evp.h>
#include <string.h>

static struct atsm_bulk_item items[3];

static void
setup(void)
{
	memset(items, 0, sizeof(items));
	items[0].seq = 1;
	items[0].rcpt = "a@example.net";
	items[0].kind = 'r';
	items[0].record_id = 12;
	items[0].state = ATSM_BULK_ACCEPTED;
	items[0].message_id = "bulk.7.1.aa@example.com";
	items[0].queue_id = "4Xyz";
	items[0].reason = "250 2.0.0 Ok: queued as 4Xyz";
	items[1].seq = 2;
	items[1].rcpt = "b@example.net";
	items[1].kind = 'c';
	items[1].record_id = 7;
	items[1].state = ATSM_BULK_REFUSED;
	items[1].message_id = "bulk.7.2.bb@example.com";
	items[1].reason = "550 5.1.1 \"b\", unknown";
	items[1].delivery = "bounced";
	items[1].status_code = "5.1.1";
	items[2].seq = 3;
	items[2].rcpt = "stranger@example.net";
	items[2].state = ATSM_BULK_UNMATCHED;
}

START_TEST(csv_rows)
{
	struct atsm_buf b;
	const char *s;

	setup();
	atsm_buf_init(&b, 0);
	ck_assert_int_eq(atsm_bulk_result_csv(items, 3, false, &b), 0);
	s = atsm_buf_str(&b);
	ck_assert_ptr_nonnull(strstr(s, "recipient,record,message_id,queue_id,status,reason\r\n"));
	ck_assert_ptr_nonnull(strstr(s, "\r\na@example.net,resume 12,bulk.7.1.aa@example.com,4Xyz,"
	    "accepted,250 2.0.0 Ok: queued as 4Xyz\r\n"));
	ck_assert_ptr_nonnull(strstr(s, "\r\nb@example.net,contact 7,bulk.7.2.bb@example.com,,"
	    "refused,\"550 5.1.1 \"\"b\"\", unknown\"\r\n"));
	ck_assert_ptr_nonnull(strstr(s, "\r\nstranger@example.net,,,,unmatched,\r\n"));
	atsm_buf_free(&b);
	atsm_buf_init(&b, 0);
	ck_assert_int_eq(atsm_bulk_result_csv(items, 3, true, &b), 0);
	s = atsm_buf_str(&b);
	ck_assert_ptr_nonnull(strstr(s, ",delivery,status_code,bounced_at,diagnostic\r\n"));
	ck_assert_ptr_nonnull(strstr(s, ",bounced,5.1.1,,\r\n"));
	atsm_buf_free(&b);
}
END_TEST

static void
base_in(struct atsm_bulk_result_in *in, enum atsm_lang lang)
{
	memset(in, 0, sizeof(*in));
	in->lang = lang;
	in->from = "atsmail <postmaster@example.com>";
	in->to = "alice@example.com";
	in->job = 7;
	in->subject = "Interview";
	in->status = "done";
	in->now = 1796385600;
	in->unique = "0011aabb";
	in->marker = "bulk; ref=TOKEN";
	in->items = items;
	in->n_items = 3;
}

START_TEST(ack_names_unmatched)
{
	struct atsm_bulk_result_in in;
	struct atsm_buf b;
	struct atsm_err err;
	const char *s;

	setup();
	base_in(&in, ATSM_LANG_EN);
	atsm_buf_init(&b, 0);
	ck_assert_int_eq(atsm_bulk_ack_compose(&in, &b, &err), 0);
	s = atsm_buf_str(&b);
	ck_assert_ptr_nonnull(strstr(s, "From: atsmail <postmaster@example.com>\r\n"));
	ck_assert_ptr_nonnull(strstr(s, "To: <alice@example.com>\r\n"));
	ck_assert_ptr_nonnull(strstr(s, ATSM_EXPLAIN_MARKER ": bulk; ref=TOKEN\r\n"));
	ck_assert_ptr_nonnull(strstr(s, "Auto-Submitted: auto-generated\r\n"));
	ck_assert_ptr_nonnull(strstr(s, "Message-ID: <atsmail-bulk.0011aabb@example.com>\r\n"));
	ck_assert_ptr_nonnull(strstr(s, "  stranger@example.net\r\n"));
	ck_assert_ptr_nonnull(strstr(s, "matched no resume or contact: 1"));
	ck_assert_ptr_null(strstr(s, "text/csv"));
	atsm_buf_free(&b);
}
END_TEST

START_TEST(result_has_csv)
{
	struct atsm_bulk_result_in in;
	struct atsm_buf b, csv;
	struct atsm_err err;
	unsigned char dec[4096];
	const char *s, *p, *e;
	int n;

	setup();
	base_in(&in, ATSM_LANG_EN);
	atsm_buf_init(&b, 0);
	ck_assert_int_eq(atsm_bulk_result_compose(&in, &b, &err), 0);
	s = atsm_buf_str(&b);
	ck_assert_ptr_nonnull(strstr(s, "Subject: Bulk send 7 done: 1 sent, 1 refused\r\n"));
	ck_assert_ptr_nonnull(strstr(s, "Content-Type: text/csv; charset=UTF-8\r\n"
	    "Content-Disposition: attachment; filename=\"bulk-7.csv\"\r\n"
	    "Content-Transfer-Encoding: base64\r\n\r\n"));
	/* the attachment decodes to the CSV */
	p = strstr(s, "base64\r\n\r\n") + 10;
	e = strstr(p, "\r\n--");
	{
		char flat[4096];
		size_t k = 0;

		for (; p < e; p++)
			if (*p != '\r' && *p != '\n')
				flat[k++] = *p;
		flat[k] = '\0';
		n = EVP_DecodeBlock(dec, (const unsigned char *)flat, (int)k);
		ck_assert_int_gt(n, 0);
		while (n > 0 && dec[n - 1] == '\0')
			n--;
	}
	atsm_buf_init(&csv, 0);
	ck_assert_int_eq(atsm_bulk_result_csv(items, 3, false, &csv), 0);
	ck_assert_int_eq((int)csv.len, n);
	ck_assert_int_eq(memcmp(dec, csv.data, csv.len), 0);
	atsm_buf_free(&csv);
	atsm_buf_free(&b);
}
END_TEST

START_TEST(japanese)
{
	struct atsm_bulk_result_in in;
	struct atsm_buf b;
	struct atsm_err err;
	const char *s;

	setup();
	base_in(&in, ATSM_LANG_JA);
	atsm_buf_init(&b, 0);
	ck_assert_int_eq(atsm_bulk_result_compose(&in, &b, &err), 0);
	s = atsm_buf_str(&b);
	ck_assert_ptr_nonnull(strstr(s, "Subject: =?UTF-8?B?"));
	ck_assert_ptr_nonnull(strstr(s, "Content-Language: ja\r\n"));
	ck_assert_ptr_nonnull(strstr(s, "charset=ISO-2022-JP"));
	atsm_buf_free(&b);
}
END_TEST

START_TEST(bad_input)
{
	struct atsm_bulk_result_in in;
	struct atsm_buf b;
	struct atsm_err err;

	setup();
	atsm_buf_init(&b, 0);
	base_in(&in, ATSM_LANG_EN);
	in.to = "alice@example.com\r\nBcc: x@y";
	ck_assert_int_eq(atsm_bulk_result_compose(&in, &b, &err), -1);
	base_in(&in, ATSM_LANG_EN);
	in.marker = NULL;
	ck_assert_int_eq(atsm_bulk_ack_compose(&in, &b, &err), -1);
	atsm_buf_free(&b);
}
END_TEST

static Suite *
suite(void)
{
	Suite *s = suite_create("bulk-result");
	TCase *tc = tcase_create("result");

	tcase_add_test(tc, csv_rows);
	tcase_add_test(tc, ack_names_unmatched);
	tcase_add_test(tc, result_has_csv);
	tcase_add_test(tc, japanese);
	tcase_add_test(tc, bad_input);
	suite_add_tcase(s, tc);
	return s;
}

ATSM_CHECK_MAIN()
