/* test-dsn-samples.c -- atsm_dsn_parse on bounces of each kind the
 * classifier must tell apart, written for these tests (tests/data/dsn/):
 * one sample per kind, each asserting what the kind must give, so that a
 * reader or a rule cannot regress on it unseen.
 *
 *   exim-alias            Exim names an alias ("save to ..."): the address
 *                         is only in X-Failed-Recipients; mailbox full, soft
 *   exim-generic-status   Status 5.0.0, diagnostic "550-5.1.1": the
 *                         specific code is taken, hard
 *   report-without-mime   a report saved from an mbox with no MIME header:
 *                         its fields are read from the text
 *   vacation-null-sender  an automatic reply from the null sender: no bounce
 *   delivered-report      a success report (relayed, 2.0.0): no bounce
 *   verp-and-fragments    a VERP address and a postmaster in the prose are
 *                         never recipients; the recipient line is
 *   host-not-found-try-again  a DNS time-out: networkerror, soft
 *   report-blocks-without-blank  per-recipient blocks with no blank line
 *                         between them: each block is its own recipient
 *   fml-not-member        fml refused a post: the list address, rejected,
 *                         soft; fml-list-post, a post the list delivered
 *                         (same X-MLServer header): no bounce
 *   exim-delay-warning    a plain-text delay warning: a delay, no bounce
 */
#include "atsm-check.h"
#include "mail/dsn/dsn.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SAMPLES ATSM_TEST_DATA "/dsn"

static void
parse_file(const char *name, struct atsm_dsn *d)
{
	char path[1024], *buf;
	FILE *f;
	size_t len;
	struct atsm_err err;

	snprintf(path, sizeof(path), "%s/%s", SAMPLES, name);
	f = fopen(path, "rb");
	ck_assert_msg(f != NULL, "cannot open %s", path);
	buf = malloc(1u << 20);
	ck_assert(buf != NULL);
	len = fread(buf, 1, 1u << 20, f);
	fclose(f);
	ck_assert_int_eq(atsm_dsn_parse(buf, len, d, &err), 0);
	free(buf);
}

START_TEST(test_exim_alias_from_failed_recipients)
{
	struct atsm_dsn d;

	parse_file("exim-alias.eml", &d);
	ck_assert(d.is_bounce);
	ck_assert_uint_eq(d.n, 1);
	ck_assert_str_eq(d.v[0].addr, "jobs-team@example.org");
	ck_assert_str_eq(d.v[0].reason, "mailboxfull");
	ck_assert(!d.v[0].hard);
	atsm_dsn_free(&d);
}
END_TEST

START_TEST(test_generic_status_made_specific)
{
	struct atsm_dsn d;

	parse_file("exim-generic-status.eml", &d);
	ck_assert(d.is_bounce);
	ck_assert_uint_eq(d.n, 1);
	ck_assert_str_eq(d.v[0].addr, "gone@candidate.example");
	ck_assert_str_eq(d.v[0].status, "5.1.1");
	ck_assert_str_eq(d.v[0].reason, "userunknown");
	ck_assert(d.v[0].hard);
	ck_assert_str_eq(d.orig_message_id, "<exim-generic-1@atsmail.test>");
	atsm_dsn_free(&d);
}
END_TEST

START_TEST(test_report_fields_in_text)
{
	struct atsm_dsn d;

	parse_file("report-without-mime.eml", &d);
	ck_assert(d.is_bounce);
	ck_assert_uint_eq(d.n, 1);
	ck_assert_str_eq(d.v[0].addr, "taro@candidate.example");
	ck_assert_str_eq(d.v[0].status, "5.1.1");
	ck_assert(d.v[0].hard);
	atsm_dsn_free(&d);
}
END_TEST

START_TEST(test_auto_reply_and_success_are_no_bounce)
{
	struct atsm_dsn d;

	parse_file("vacation-null-sender.eml", &d);
	ck_assert(!d.is_bounce);
	ck_assert_uint_eq(d.n, 0);
	atsm_dsn_free(&d);
	parse_file("delivered-report.eml", &d);
	ck_assert(!d.is_bounce);
	ck_assert(!d.is_delay);
	ck_assert_uint_eq(d.n, 0);
	atsm_dsn_free(&d);
}
END_TEST

START_TEST(test_verp_and_prose_are_no_recipients)
{
	struct atsm_dsn d;
	size_t i;

	parse_file("verp-and-fragments.eml", &d);
	ck_assert(d.is_bounce);
	ck_assert_uint_eq(d.n, 1);
	ck_assert_str_eq(d.v[0].addr, "jiro@candidate.example");
	ck_assert(d.v[0].hard);
	for (i = 0; i < d.n; i++) {
		ck_assert(strchr(d.v[i].addr, '=') == NULL);
		ck_assert(strncmp(d.v[i].addr, "postmaster@", 11) != 0);
	}
	atsm_dsn_free(&d);
}
END_TEST

START_TEST(test_dns_time_out_is_soft)
{
	struct atsm_dsn d;

	parse_file("host-not-found-try-again.eml", &d);
	ck_assert(d.is_bounce);
	ck_assert_uint_eq(d.n, 1);
	ck_assert_str_eq(d.v[0].addr, "ichiro@slow-dns.example");
	ck_assert_str_eq(d.v[0].reason, "networkerror");
	ck_assert(!d.v[0].hard);
	atsm_dsn_free(&d);
}
END_TEST

START_TEST(test_blocks_without_blank_line)
{
	struct atsm_dsn d;

	parse_file("report-blocks-without-blank.eml", &d);
	ck_assert(d.is_bounce);
	ck_assert_uint_eq(d.n, 2);
	ck_assert_str_eq(d.v[0].addr, "full@candidate.example");
	ck_assert_str_eq(d.v[0].reason, "mailboxfull");
	ck_assert(!d.v[0].hard);
	ck_assert_str_eq(d.v[1].addr, "gone@candidate.example");
	ck_assert_str_eq(d.v[1].reason, "userunknown");
	ck_assert(d.v[1].hard);
	atsm_dsn_free(&d);
}
END_TEST

START_TEST(test_fml_refusal_but_not_list_post)
{
	struct atsm_dsn d;

	parse_file("fml-not-member.eml", &d);
	ck_assert(d.is_bounce);
	ck_assert_uint_eq(d.n, 1);
	ck_assert_str_eq(d.v[0].addr, "jobs@lists.example.org");
	ck_assert_str_eq(d.v[0].reason, "rejected");
	ck_assert(!d.v[0].hard);
	atsm_dsn_free(&d);
	parse_file("fml-list-post.eml", &d);
	ck_assert(!d.is_bounce);
	ck_assert_uint_eq(d.n, 0);
	atsm_dsn_free(&d);
}
END_TEST

START_TEST(test_text_delay_warning_is_a_delay)
{
	struct atsm_dsn d;

	parse_file("exim-delay-warning.eml", &d);
	ck_assert(!d.is_bounce);
	ck_assert(d.is_delay);
	ck_assert_uint_eq(d.n, 1);
	ck_assert_str_eq(d.v[0].addr, "slow@candidate.example");
	ck_assert(d.v[0].delayed);
	ck_assert_str_eq(d.v[0].action, "delayed");
	ck_assert(!d.v[0].hard);
	atsm_dsn_free(&d);
}
END_TEST

static Suite *
suite(void)
{
	Suite *s = suite_create("dsn-samples");
	TCase *tc = tcase_create("kinds");

	tcase_add_test(tc, test_exim_alias_from_failed_recipients);
	tcase_add_test(tc, test_generic_status_made_specific);
	tcase_add_test(tc, test_report_fields_in_text);
	tcase_add_test(tc, test_auto_reply_and_success_are_no_bounce);
	tcase_add_test(tc, test_verp_and_prose_are_no_recipients);
	tcase_add_test(tc, test_dns_time_out_is_soft);
	tcase_add_test(tc, test_blocks_without_blank_line);
	tcase_add_test(tc, test_fml_refusal_but_not_list_post);
	tcase_add_test(tc, test_text_delay_warning_is_a_delay);
	suite_add_tcase(s, tc);
	return s;
}

ATSM_CHECK_MAIN()
