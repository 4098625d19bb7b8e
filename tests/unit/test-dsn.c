/* test-dsn.c -- unit tests of the bounce parser (lib/dsn.c), one per format.
 *
 * tests/data/dsn/postfix-nobody.eml is written in the exact format Postfix
 * 3.7 (Debian 12) uses for a mail to an unknown local user (bounce(8)
 * templates, multipart/report with message/rfc822), sent by alice to
 * nobody@candidate.test.  The other samples are inline, cut down to what
 * each format's reader relies on.
 */
#include "atsm-check.h"
#include "atsm-dsn.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void
parse(const char *msg, struct atsm_dsn *d)
{
	struct atsm_err err;

	ck_assert_int_eq(atsm_dsn_parse(msg, strlen(msg), d, &err), 0);
}

START_TEST(test_postfix_rfc3464)
{
	FILE *f = fopen(ATSM_TEST_DATA "/dsn/postfix-nobody.eml", "rb");
	char buf[8192];
	size_t n;
	struct atsm_dsn d;

	ck_assert_ptr_nonnull(f);
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	ck_assert_int_eq(atsm_dsn_parse(buf, n, &d, NULL), 0);
	ck_assert(d.is_bounce);
	ck_assert(!d.is_feedback);
	ck_assert_str_eq(d.format, "rfc3464");
	ck_assert_uint_eq(d.n, 1);
	ck_assert_str_eq(d.v[0].addr, "nobody@candidate.test");
	ck_assert_str_eq(d.v[0].status, "5.1.1");
	ck_assert_str_eq(d.v[0].action, "failed");
	ck_assert(d.v[0].hard);
	ck_assert_str_eq(d.v[0].diagnostic, "unknown user: \"nobody\"");
	ck_assert_str_eq(d.orig_message_id, "<offer-1@candidate.test>");
	ck_assert_str_eq(d.orig_ats_ref, "r1.abcdef");
	ck_assert_str_eq(d.orig_env_from, "alice@candidate.test");
	ck_assert_str_eq(d.orig_subject, "面接のご案内");
	atsm_dsn_free(&d);
}
END_TEST

START_TEST(test_qmail_with_inline_original)
{
	struct atsm_dsn d;

	parse("Return-Path: <>\nFrom: MAILER-DAEMON@mx.example.jp\nTo: hr@example.jp\n"
	    "Subject: failure notice\n\n"
	    "Hi. This is the qmail-send program at mx.example.jp.\n"
	    "I'm afraid I wasn't able to deliver your message to the following addresses.\n"
	    "This is a permanent error; I've given up. Sorry it didn't work out.\n\n"
	    "<Taro@Example.NE.JP>:\n192.0.2.1 does not like recipient.\n"
	    "Remote host said: 550 5.1.1 <taro@example.ne.jp>: Recipient address rejected: User unknown\n"
	    "Giving up on 192.0.2.1.\n\n"
	    "--- Below this line is a copy of the message.\n\n"
	    "Return-Path: <hr@example.jp>\nMessage-ID: <m1@example.jp>\nX-ATS-Ref: tok123\n"
	    "From: hr@example.jp\nTo: taro@example.ne.jp\nSubject: hello\n\nbody\n", &d);
	ck_assert(d.is_bounce);
	ck_assert_uint_eq(d.n, 1);
	ck_assert_str_eq(d.v[0].addr, "taro@example.ne.jp");
	ck_assert_str_eq(d.v[0].status, "5.1.1");
	ck_assert(d.v[0].hard);
	ck_assert_str_eq(d.orig_message_id, "<m1@example.jp>");
	ck_assert_str_eq(d.orig_ats_ref, "tok123");
	atsm_dsn_free(&d);
}
END_TEST

START_TEST(test_exim_mailbox_full_is_soft)
{
	struct atsm_dsn d;

	parse("From: Mail Delivery System <Mailer-Daemon@mx.example.com>\nTo: hr@example.jp\n"
	    "Subject: Mail delivery failed: returning message to sender\n\n"
	    "This message was created automatically by mail delivery software.\n\n"
	    "A message that you sent could not be delivered to one or more of its\n"
	    "recipients. This is a permanent error. The following address(es) failed:\n\n"
	    "  hanako@example.org\n    host mx.example.org [192.0.2.9]\n"
	    "    SMTP error from remote mail server after RCPT TO:<hanako@example.org>:\n"
	    "    552 5.2.2 Mailbox full\n\n"
	    "------ This is a copy of the message, including all the headers. ------\n\n"
	    "Message-ID: <m2@example.jp>\nFrom: hr@example.jp\n\nx\n", &d);
	ck_assert(d.is_bounce);
	ck_assert_str_eq(d.v[0].addr, "hanako@example.org");
	ck_assert_str_eq(d.v[0].status, "5.2.2");
	ck_assert(!d.v[0].hard);
	ck_assert_str_eq(d.v[0].reason, "mailboxfull");
	ck_assert_str_eq(d.orig_message_id, "<m2@example.jp>");
	atsm_dsn_free(&d);
}
END_TEST

START_TEST(test_sendmail_old_style)
{
	struct atsm_dsn d;

	parse("From: Mail Delivery Subsystem <MAILER-DAEMON@mx.example.net>\n"
	    "Subject: Returned mail: see transcript for details\n\n"
	    "The original message was received at Mon, 1 Apr 2024 10:00:00 +0900\n\n"
	    "   ----- The following addresses had permanent fatal errors -----\n"
	    "<jiro@example.net>\n    (reason: 550 Host unknown)\n\n"
	    "   ----- Transcript of session follows -----\n"
	    "550 5.1.2 <jiro@example.net>... Host unknown (Name server: example.net: host not found)\n", &d);
	ck_assert(d.is_bounce);
	ck_assert_str_eq(d.v[0].addr, "jiro@example.net");
	ck_assert(d.v[0].hard);
	ck_assert_str_eq(d.v[0].reason, "hostunknown");
	atsm_dsn_free(&d);
}
END_TEST

START_TEST(test_japanese_carrier_iso2022jp)
{
	struct atsm_dsn d;

	/* ezweb style; the text is ISO-2022-JP: 宛先のメールアドレスが見つかりません */
	parse("From: <Postmaster@ezweb.ne.jp>\nTo: <hr@example.jp>\n"
	    "Subject: Mail System Error - Returned Mail\n"
	    "Content-Type: text/plain; charset=iso-2022-jp\n\n"
	    "<user.ezweb@ezweb.ne.jp>\n"
	    "\x1b$B08@h$N%a!<%k%\"%I%l%9$,8+$D$+$j$^$;$s\x1b(B\n", &d);
	ck_assert(d.is_bounce);
	ck_assert_str_eq(d.v[0].addr, "user.ezweb@ezweb.ne.jp");
	ck_assert_ptr_nonnull(d.v[0].diagnostic);
	ck_assert_ptr_nonnull(strstr(d.v[0].diagnostic, "見つかりません"));
	ck_assert(d.v[0].hard);
	atsm_dsn_free(&d);
}
END_TEST

START_TEST(test_delayed_is_soft)
{
	struct atsm_dsn d;

	parse("From: MAILER-DAEMON@mx.example.com\n"
	    "Content-Type: multipart/report; report-type=delivery-status; boundary=B\n\n"
	    "--B\nContent-Type: text/plain\n\nDelayed Mail (still being retried)\n"
	    "--B\nContent-Type: message/delivery-status\n\nReporting-MTA: dns; mx\n\n"
	    "Final-Recipient: rfc822; slow@example.org\nAction: delayed\nStatus: 4.4.1\n"
	    "Diagnostic-Code: smtp; 421 user unknown later\n--B--\n", &d);
	ck_assert(d.is_bounce);
	ck_assert_str_eq(d.v[0].action, "delayed");
	ck_assert_str_eq(d.v[0].status, "4.4.1");
	ck_assert(!d.v[0].hard);
	atsm_dsn_free(&d);
}
END_TEST

START_TEST(test_feedback_report_is_not_bounce)
{
	struct atsm_dsn d;

	parse("From: abuse@isp.example\n"
	    "Content-Type: multipart/report; report-type=feedback-report; boundary=F\n\n"
	    "--F\nContent-Type: text/plain\n\nThis is an abuse report\n"
	    "--F\nContent-Type: message/feedback-report\n\nFeedback-Type: abuse\n"
	    "Original-Rcpt-To: victim@isp.example\n--F--\n", &d);
	ck_assert(!d.is_bounce);
	ck_assert(d.is_feedback);
	ck_assert_uint_eq(d.n, 0);
	atsm_dsn_free(&d);
}
END_TEST

START_TEST(test_ordinary_mail_is_not_bounce)
{
	struct atsm_dsn d;

	parse("From: Taro <taro@example.jp>\nTo: hr@example.jp\nSubject: Re: interview\n\n"
	    "Please write to hanako@example.org: she is the user unknown to you.\n", &d);
	ck_assert(!d.is_bounce);
	ck_assert_uint_eq(d.n, 0);
	ck_assert_ptr_null(d.format);
	atsm_dsn_free(&d);
}
END_TEST

START_TEST(test_classify_rules)
{
	char r[16];

	ck_assert(atsm_dsn_classify("5.1.1", NULL, r));
	ck_assert_str_eq(r, "userunknown");
	ck_assert(atsm_dsn_classify(NULL, "550 No such user here", r));
	ck_assert(!atsm_dsn_classify("5.7.1", "550 5.7.1 Message rejected as spam", r));
	ck_assert_str_eq(r, "spamdetected");
	ck_assert(!atsm_dsn_classify("4.2.2", "452 mailbox full", r));
	ck_assert(!atsm_dsn_classify("5.1.1", "552 5.2.2 over quota", r));
	ck_assert(!atsm_dsn_classify("5.0.0", "550 user unknown (in reply to end of DATA command)", r));
	ck_assert_str_eq(r, "filtered");
	ck_assert(!atsm_dsn_classify("", "", r));
	ck_assert_str_eq(r, "undefined");
	ck_assert(atsm_dsn_classify("5.1.2", NULL, r));
	ck_assert_str_eq(r, "hostunknown");
}
END_TEST

START_TEST(test_bounded_output_and_cr_line_ends)
{
	struct atsm_dsn d;
	char *msg, *p;
	size_t i, len = 200000;

	msg = malloc(len + 1);
	p = msg;
	p += sprintf(p, "From: MAILER-DAEMON@x.example\rSubject: failure notice\r\r"
	    "<long@example.org>:\r550 ");
	for (i = (size_t)(p - msg); i < len; i++)
		msg[i] = (i % 70 == 0) ? '\r' : 'x';
	msg[len] = '\0';
	ck_assert_int_eq(atsm_dsn_parse(msg, len, &d, NULL), 0);
	ck_assert(d.is_bounce);
	ck_assert_str_eq(d.v[0].addr, "long@example.org");
	ck_assert_uint_le(strlen(d.v[0].diagnostic), ATSM_DSN_DIAG_MAX);
	atsm_dsn_free(&d);
	free(msg);
}
END_TEST

START_TEST(test_recipient_limit)
{
	struct atsm_dsn d;
	char *msg, *p;
	int i;

	msg = malloc(ATSM_DSN_MAX_RCPTS * 200 + 1000);
	p = msg;
	p += sprintf(p, "From: MAILER-DAEMON@x.example\n"
	    "Content-Type: multipart/report; report-type=delivery-status; boundary=B\n\n"
	    "--B\nContent-Type: message/delivery-status\n\nReporting-MTA: dns; x\n");
	for (i = 0; i < ATSM_DSN_MAX_RCPTS + 50; i++)
		p += sprintf(p, "\nFinal-Recipient: rfc822; u%d@example.org\nAction: failed\n"
		    "Status: 5.1.1\n", i);
	strcpy(p, "--B--\n");
	parse(msg, &d);
	ck_assert_uint_eq(d.n, ATSM_DSN_MAX_RCPTS);
	ck_assert_str_eq(d.v[ATSM_DSN_MAX_RCPTS - 1].addr, "u99@example.org");
	atsm_dsn_free(&d);
	free(msg);
}
END_TEST

static Suite *
suite(void)
{
	Suite *s = suite_create("dsn");
	TCase *tc = tcase_create("formats");

	tcase_add_test(tc, test_postfix_rfc3464);
	tcase_add_test(tc, test_qmail_with_inline_original);
	tcase_add_test(tc, test_exim_mailbox_full_is_soft);
	tcase_add_test(tc, test_sendmail_old_style);
	tcase_add_test(tc, test_japanese_carrier_iso2022jp);
	tcase_add_test(tc, test_delayed_is_soft);
	tcase_add_test(tc, test_feedback_report_is_not_bounce);
	tcase_add_test(tc, test_ordinary_mail_is_not_bounce);
	tcase_add_test(tc, test_classify_rules);
	tcase_add_test(tc, test_bounded_output_and_cr_line_ends);
	tcase_add_test(tc, test_recipient_limit);
	suite_add_tcase(s, tc);
	return s;
}

ATSM_CHECK_MAIN()
