/* test-dsn.c -- unit tests of the bounce parser (lib/mail/dsn/), one per format.
 *
 * tests/data/dsn/postfix-nobody.eml is written in the exact format Postfix
 * 3.7 (Debian 12) uses for a mail to an unknown local user (bounce(8)
 * templates, multipart/report with message/rfc822), sent by alice to
 * nobody@candidate.test.  The other samples are inline, cut down to what
 * each format's reader relies on.
 */
#include "atsm-check.h"
#include "mail/dsn/dsn.h"

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
	/* a delay notice is recorded as a delay, never as a bounce */
	ck_assert(!d.is_bounce);
	ck_assert(d.is_delay);
	ck_assert_uint_eq(d.n, 1);
	ck_assert(d.v[0].delayed);
	ck_assert_str_eq(d.v[0].action, "delayed");
	ck_assert_str_eq(d.v[0].status, "4.4.1");
	ck_assert(!d.v[0].hard);
	atsm_dsn_free(&d);
}
END_TEST

/* A report with one failed and one delayed recipient is a bounce for the
 * failed one only; success reports (2.x.x, delivered) are no bounce. */
START_TEST(test_delayed_beside_failed_and_success_reports)
{
	struct atsm_dsn d;

	parse("From: MAILER-DAEMON@mx.example.com\n"
	    "Content-Type: multipart/report; report-type=delivery-status; boundary=B\n\n"
	    "--B\nContent-Type: text/plain\n\nreport\n"
	    "--B\nContent-Type: message/delivery-status\n\nReporting-MTA: dns; mx\n\n"
	    "Final-Recipient: rfc822; slow@example.org\nAction: delayed\nStatus: 4.4.1\n\n"
	    "Final-Recipient: rfc822; gone@example.org\nAction: failed\nStatus: 5.1.1\n"
	    "Diagnostic-Code: smtp; 550 5.1.1 no such user\n--B--\n", &d);
	ck_assert(d.is_bounce);
	ck_assert(!d.is_delay);
	ck_assert_uint_eq(d.n, 2);
	ck_assert(d.v[0].delayed && !d.v[0].hard);
	ck_assert(!d.v[1].delayed && d.v[1].hard);
	ck_assert_str_eq(d.v[1].reason, "userunknown");
	atsm_dsn_free(&d);
	parse("From: MAILER-DAEMON@mx.example.com\n"
	    "Content-Type: multipart/report; report-type=delivery-status; boundary=B\n\n"
	    "--B\nContent-Type: text/plain\n\nYour message was delivered.\n"
	    "--B\nContent-Type: message/delivery-status\n\nReporting-MTA: dns; mx\n\n"
	    "Final-Recipient: rfc822; ok@example.org\nAction: failed\nStatus: 2.1.5\n\n"
	    "Final-Recipient: rfc822; ok2@example.org\nAction: relayed\nStatus: 2.0.0\n"
	    "--B--\n", &d);
	ck_assert(!d.is_bounce);
	ck_assert_uint_eq(d.n, 0);
	atsm_dsn_free(&d);
}
END_TEST

/* A generic 5.0.0 (Exim, Courier, OpenSMTPD) takes the specific code of
 * the diagnostic; "user unknown" is hard with evidence that the address
 * was refused (X.1.x, RCPT TO) whatever the class, a filter's answer
 * after DATA or under X.2.x / X.7.x; a dead domain under 4xx is a name
 * server that did not answer. */
START_TEST(test_reason_and_status_together)
{
	struct atsm_dsn d;
	char r[16];

	parse("From: MAILER-DAEMON@mx.example.com\n"
	    "Content-Type: multipart/report; report-type=delivery-status; boundary=B\n\n"
	    "--B\nContent-Type: text/plain\n\nfailed\n"
	    "--B\nContent-Type: message/delivery-status\n\nReporting-MTA: dns; mx\n\n"
	    "Final-Recipient: rfc822; gone@example.org\nAction: failed\nStatus: 5.0.0\n"
	    "Diagnostic-Code: smtp; 550-5.1.1 The email account does not exist\n--B--\n", &d);
	ck_assert(d.is_bounce);
	ck_assert_str_eq(d.v[0].status, "5.1.1");
	ck_assert(d.v[0].hard);
	atsm_dsn_free(&d);
	ck_assert(atsm_dsn_classify("4.0.0",
	    "450 user unknown (in reply to RCPT TO command)", r));
	ck_assert_str_eq(r, "userunknown");
	ck_assert(!atsm_dsn_classify("5.7.1", "554 5.7.1 user unknown", r));
	ck_assert_str_eq(r, "filtered");
	ck_assert(!atsm_dsn_classify("4.4.3", "Host or domain name not found", r));
	ck_assert_str_eq(r, "networkerror");
	ck_assert(atsm_dsn_classify("5.4.4", "Host or domain name not found", r));
	ck_assert_str_eq(r, "hostunknown");
	ck_assert(!atsm_dsn_classify("5.7.1", "550 5.7.1 rejected by policy", r));
	ck_assert_str_eq(r, "policyviolation");
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
	/* the words alone: nothing says the address was refused */
	ck_assert(!atsm_dsn_classify(NULL, "550 No such user here", r));
	ck_assert_str_eq(r, "filtered");
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

/* The text order of the classification: mailbox full before the dead
 * address texts, the dead address before block lists and "try again";
 * a "user unknown" with an X.2.x status is a filter's unless RCPT TO
 * was refused. */
START_TEST(test_classify_order_and_mailbox_status)
{
	char r[16];

	/* a bare 5.0.0: hard when the reply names the recipient (the reply
	 * to RCPT TO); a filter's words otherwise, and with no status */
	ck_assert(!atsm_dsn_classify("5.0.0", "Your message wasn't delivered "
	    "because the address couldn't be found. Check and try again.", r));
	ck_assert_str_eq(r, "filtered");
	ck_assert(atsm_dsn_classify("5.0.0", "550 <gone@example.org>: the "
	    "address couldn't be found.", r));
	ck_assert_str_eq(r, "userunknown");
	ck_assert(!atsm_dsn_classify(NULL, "Your message wasn't delivered "
	    "because the address couldn't be found.", r));
	ck_assert_str_eq(r, "filtered");
	ck_assert(atsm_dsn_classify(NULL, "The account or domain may not exist, "
	    "they may be blacklisted", r));
	ck_assert_str_eq(r, "hostunknown");
	ck_assert(!atsm_dsn_classify("5.1.1", "user unknown, mailbox full", r));
	ck_assert_str_eq(r, "mailboxfull");
	ck_assert(!atsm_dsn_classify("5.2.1", "550 5.2.1 <a@example.org>... User Unknown", r));
	ck_assert_str_eq(r, "filtered");
	ck_assert(atsm_dsn_classify("5.2.1", "550 5.2.1 <a@example.org>... User "
	    "Unknown (in reply to RCPT TO command)", r));
	ck_assert_str_eq(r, "userunknown");
	ck_assert(!atsm_dsn_classify("5.0.0", "550 5.7.1 blocked as spam", r));
	ck_assert_str_eq(r, "spamdetected");
}
END_TEST

/* A Sendmail transcript with several recipients: each "NNN <addr>... text"
 * line names one, classified by its own line only. */
START_TEST(test_sendmail_transcript_lines)
{
	struct atsm_dsn d;

	parse("From: Mail Delivery Subsystem <MAILER-DAEMON@mx.example.jp>\n"
	    "Subject: Returned mail: User unknown\n\n"
	    "   ----- Transcript of session follows -----\n"
	    "554 <a@example.edu>... Remote protocol error: Connection reset by peer\n"
	    "554 <b@example.or.jp>... 550 Host unknown (Authoritative answer from name server)\n"
	    "While talking to mail.example.co.jp:\n"
	    ">>> RCPT To:<c@example.co.jp>\n"
	    "<<< 550 Requested User Mailbox not found. No such user here.\n"
	    "550 <c@example.co.jp>... User unknown\n", &d);
	ck_assert(d.is_bounce);
	ck_assert_uint_eq(d.n, 3);
	ck_assert_str_eq(d.v[0].addr, "a@example.edu");
	ck_assert(!d.v[0].hard);
	ck_assert_str_eq(d.v[1].addr, "b@example.or.jp");
	ck_assert(d.v[1].hard);
	ck_assert_str_eq(d.v[1].reason, "hostunknown");
	ck_assert_str_eq(d.v[2].addr, "c@example.co.jp");
	ck_assert(d.v[2].hard);
	ck_assert_str_eq(d.v[2].reason, "userunknown");
	atsm_dsn_free(&d);
}
END_TEST

/* An RFC 3464 report without Diagnostic-Code: the notice explains; and
 * the notice's "in reply to RCPT TO" makes an X.2.1 "user unknown" hard. */
START_TEST(test_rfc3464_explained_by_notice)
{
	struct atsm_dsn d;

	parse("From: MAILER-DAEMON@df.example.jp\n"
	    "Content-Type: multipart/report; report-type=delivery-status; boundary=B\n\n"
	    "--B\nContent-Type: text/plain\n\n"
	    "An error has occurred:\n\n"
	    "postmaster@gone.example.org: Domain does not exist\n\n"
	    "--B\nContent-Type: message/delivery-status\n\n"
	    "Reporting-MTA: dns; df.example.jp\n\n"
	    "Final-Recipient: rfc822; postmaster@gone.example.org\n"
	    "Action: failed\nStatus: 5.0.0\n\n--B--\n", &d);
	ck_assert(d.is_bounce);
	ck_assert_str_eq(d.v[0].addr, "postmaster@gone.example.org");
	ck_assert(d.v[0].hard);
	ck_assert_str_eq(d.v[0].reason, "hostunknown");
	atsm_dsn_free(&d);
	parse("From: MAILER-DAEMON@mx.example.jp\n"
	    "Content-Type: multipart/report; report-type=delivery-status; boundary=B\n\n"
	    "--B\nContent-Type: text/plain\n\n"
	    "<k@example.jp>: host mx.example.jp[192.0.2.1] said: 550 5.2.1\n"
	    "<k@example.jp>... User Unknown (in reply to RCPT TO command)\n\n"
	    "--B\nContent-Type: message/delivery-status\n\n"
	    "Final-Recipient: rfc822; k@example.jp\nAction: failed\nStatus: 5.2.1\n"
	    "Diagnostic-Code: smtp; 550 5.2.1 <k@example.jp>... User Unknown\n\n--B--\n", &d);
	ck_assert(d.is_bounce);
	ck_assert(d.v[0].hard);
	ck_assert_str_eq(d.v[0].reason, "userunknown");
	atsm_dsn_free(&d);
}
END_TEST

/* Exim: a Final-Recipient that is a file path gives way to
 * X-Failed-Recipients; "name <addr>" in the notice means addr. */
START_TEST(test_exim_failed_recipients_and_angle_address)
{
	struct atsm_dsn d;

	parse("From: Mail Delivery System <Mailer-Daemon@mx.example.com>\n"
	    "X-Failed-Recipients: nyaan%gol.com@q2.example.com\n"
	    "Content-Type: multipart/report; report-type=delivery-status; boundary=B\n\n"
	    "--B\nContent-Type: text/plain\n\n"
	    "  save to /mail/spool/n2.nyaan\n"
	    "    generated by nyaan%gol.com@q2.example.com\n"
	    "    mailbox is full: retry timeout exceeded\n\n"
	    "--B\nContent-Type: message/delivery-status\n\n"
	    "Action: failed\nFinal-Recipient: rfc822;/mail/spool/n2.nyaan\nStatus: 5.0.0\n\n--B--\n", &d);
	ck_assert(d.is_bounce);
	ck_assert_str_eq(d.v[0].addr, "nyaan%gol.com@q2.example.com");
	ck_assert(!d.v[0].hard);
	ck_assert_str_eq(d.v[0].reason, "mailboxfull");
	atsm_dsn_free(&d);
	parse("From: Mail Delivery System <mailer-daemon@neko.example.com>\n"
	    "To: s@neko.example.com\nSubject: Mail failure - malformed recipient address\n\n"
	    "A message that you sent contained one or more recipient addresses that were\n"
	    "incorrectly constructed:\n\n"
	    "  kijitora@example.com <neko@example.net>: malformed address: "
	    "<neko@example.net> may not follow kijitora@example.com\n", &d);
	ck_assert(d.is_bounce);
	ck_assert_str_eq(d.v[0].addr, "neko@example.net");
	atsm_dsn_free(&d);
}
END_TEST

/* A carrier's notice from an ordinary address with a "Re:" subject is
 * known by its SMTP dialogue; the same words without one are not. */
START_TEST(test_carrier_notice_by_transcript)
{
	struct atsm_dsn d;

	parse("From: post_master@vtext.example.com\nTo: me@example.org\n"
	    "Subject: Re:Hello\n\n"
	    "Error: Invalid user address\n\nError message below:\n"
	    "550 - Requested action not taken: no such user here\n\n"
	    "Message details:\n  MAIL FROM: me@example.org\n"
	    "  RCPT TO: gone@vtext.example.com\n", &d);
	ck_assert(d.is_bounce);
	ck_assert_str_eq(d.v[0].addr, "gone@vtext.example.com");
	ck_assert(d.v[0].hard);
	atsm_dsn_free(&d);
	parse("From: friend@example.net\nTo: me@example.org\nSubject: Re:Hello\n\n"
	    "Write to gone@vtext.example.com, error 550 was a typo.\n", &d);
	ck_assert(!d.is_bounce);
	atsm_dsn_free(&d);
}
END_TEST

/* "User unknown" with no status and no SMTP command: a filter's words
 * (soft) in a plain notice, the recipient refused (hard) when the format
 * says its MTA looked the recipient up itself (dsn-mta.c). */
START_TEST(test_stage_by_format)
{
	static const char body[] =
	    "Content-Type: text/plain\n\n"
	    "The following addresses had delivery problems:\n"
	    "<gone@example.org>   (User unknown)\n";
	char msg[1024];
	struct atsm_dsn d;

	snprintf(msg, sizeof(msg), "From: MAILER-DAEMON@mx.example.com\n"
	    "Subject: Returned mail\n%s", body);
	parse(msg, &d);
	ck_assert(d.is_bounce);
	ck_assert_str_eq(d.v[0].addr, "gone@example.org");
	ck_assert(!d.v[0].hard);
	ck_assert_str_eq(d.v[0].reason, "filtered");
	atsm_dsn_free(&d);

	snprintf(msg, sizeof(msg), "From: MAILER-DAEMON@mx.example.com\n"
	    "Subject: Undeliverable message\n%s", body);
	parse(msg, &d);
	ck_assert(d.is_bounce);
	ck_assert(d.v[0].hard);
	ck_assert_str_eq(d.v[0].reason, "userunknown");
	atsm_dsn_free(&d);

	/* a command in the text wins over the format */
	snprintf(msg, sizeof(msg), "From: MAILER-DAEMON@mx.example.com\n"
	    "Subject: Undeliverable message\n"
	    "Content-Type: text/plain\n\n"
	    "<gone@example.org>: host mx.example.org said: 550 User unknown "
	    "(in reply to end of DATA command)\n");
	parse(msg, &d);
	ck_assert(d.is_bounce);
	ck_assert(!d.v[0].hard);
	atsm_dsn_free(&d);
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
	tcase_add_test(tc, test_delayed_beside_failed_and_success_reports);
	tcase_add_test(tc, test_reason_and_status_together);
	tcase_add_test(tc, test_feedback_report_is_not_bounce);
	tcase_add_test(tc, test_ordinary_mail_is_not_bounce);
	tcase_add_test(tc, test_classify_rules);
	tcase_add_test(tc, test_bounded_output_and_cr_line_ends);
	tcase_add_test(tc, test_recipient_limit);
	tcase_add_test(tc, test_classify_order_and_mailbox_status);
	tcase_add_test(tc, test_sendmail_transcript_lines);
	tcase_add_test(tc, test_rfc3464_explained_by_notice);
	tcase_add_test(tc, test_exim_failed_recipients_and_angle_address);
	tcase_add_test(tc, test_carrier_notice_by_transcript);
	tcase_add_test(tc, test_stage_by_format);
	suite_add_tcase(s, tc);
	return s;
}

ATSM_CHECK_MAIN()
