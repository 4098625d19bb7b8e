/* test-autoreply.c -- unit tests of auto-reply and mailer-daemon detection
 * (lib/mail/autoreply.c; the samples of each kind are test-mailkind.c's).  Japanese subjects are ISO-2022-JP encoded words made
 * with python3 ('...'.encode('iso-2022-jp') and base64). */
#include "atsm-check.h"
#include "mail/autoreply.h"
#include "base/buf.h"
#include "mail/mime.h"

#include <string.h>

/* Detect on a message given as text; reason is returned in r. */
static bool
detect(const char *msg, const char *env_from, struct atsm_buf *r)
{
	struct atsm_mime_msg m;
	bool yes;

	ck_assert_int_eq(atsm_mime_parse(msg, strlen(msg), NULL, &m, NULL), 0);
	atsm_buf_reset(r);
	yes = atsm_autoreply_detect(&m, env_from, r);
	atsm_mime_free(&m);
	return yes;
}

START_TEST(test_auto_submitted)
{
	struct atsm_buf r;

	atsm_buf_init(&r, 0);
	ck_assert(detect("Auto-Submitted: auto-replied\nSubject: Re: x\n\nb", "a@b.example", &r));
	ck_assert_ptr_nonnull(strstr(atsm_buf_str(&r), "Auto-Submitted"));
	ck_assert(detect("Auto-Submitted: auto-generated (vacation)\n\nb", "a@b.example", &r));
	ck_assert(!detect("Auto-Submitted: no\nSubject: Re: interview\n\nb", "a@b.example", &r));
	ck_assert(!detect("Auto-Submitted: No ; comment\n\nb", "a@b.example", &r));
	ck_assert_str_eq(atsm_buf_str(&r), "");
	atsm_buf_free(&r);
}
END_TEST

START_TEST(test_x_headers_and_precedence)
{
	struct atsm_buf r;

	atsm_buf_init(&r, 0);
	ck_assert(detect("X-Autoreply: yes\n\nb", NULL, &r));
	ck_assert(detect("X-Autorespond: 1\n\nb", NULL, &r));
	ck_assert(detect("Precedence: auto_reply\n\nb", NULL, &r));
	/* bulk / junk on an answer (vacation(1)); answering nothing it is
	 * bulk mail, not an auto-reply (mail/mailkind.c) */
	ck_assert(detect("Precedence: bulk\nIn-Reply-To: <x@y.example>\n\nb", NULL, &r));
	ck_assert(detect("Precedence: junk\nReferences: <x@y.example>\n\nb", NULL, &r));
	ck_assert(!detect("From: a@b.example\nPrecedence: bulk\n\nb", NULL, &r));
	ck_assert(!detect("Precedence: list\nSubject: weekly news\n\nb", NULL, &r));
	ck_assert(detect("X-MS-Exchange-Inbox-Rules-Loop: a@b.example\n\nb", NULL, &r));
	/* the suppression header is not a marker: Outlook and Exchange put it
	 * on ordinary replies (with In-Reply-To and Thread-Topic) and relays
	 * on the mail they pass on */
	ck_assert(!detect("X-Auto-Response-Suppress: All\nSubject: hello\n\nb", NULL, &r));
	ck_assert(!detect("From: t@c.example\nX-Auto-Response-Suppress: OOF\nIn-Reply-To: <x@y.example>\n"
	    "Thread-Topic: Interview\nSubject: RE: Interview\n\nb", "t@c.example", &r));
	atsm_buf_free(&r);
}
END_TEST

START_TEST(test_subjects_english_and_japanese)
{
	struct atsm_buf r;

	atsm_buf_init(&r, 0);
	ck_assert(detect("Subject: Out of Office: Re: interview\n\nb", "a@b.example", &r));
	ck_assert(detect("Subject: Automatic reply: Interview\n\nb", "a@b.example", &r));
	ck_assert(detect("Subject: I am on vacation\n\nb", "a@b.example", &r));
	/* 自動返信 */
	ck_assert(detect("Subject: =?ISO-2022-JP?B?GyRCPCtGMEpWPy4bKEI=?=\n\nb", "a@b.example", &r));
	ck_assert_ptr_nonnull(strstr(atsm_buf_str(&r), "自動返信"));
	/* 不在のお知らせ */
	ck_assert(detect("Subject: =?ISO-2022-JP?B?GyRCSVQ6XyROJCpDTiRpJDsbKEI=?=\n\nb", "a@b.example", &r));
	/* Automatic reply: 面接 */
	ck_assert(detect("Subject: =?iso-2022-jp?B?QXV0b21hdGljIHJlcGx5OiAbJEJMTEBcGyhC?=\n\nb", "a@b.example", &r));
	/* 面接 alone is an ordinary reply */
	ck_assert(!detect("Subject: Re: =?ISO-2022-JP?B?GyRCTExAXBsoQg==?=\n\nb", "a@b.example", &r));
	atsm_buf_free(&r);
}
END_TEST

START_TEST(test_daemon_senders)
{
	struct atsm_buf r;

	ck_assert(atsm_mailer_daemon("MAILER-DAEMON@mx.example.com"));
	ck_assert(atsm_mailer_daemon("<postmaster@example.jp>"));
	ck_assert(atsm_mailer_daemon("<>"));
	ck_assert(atsm_mailer_daemon(""));
	ck_assert(atsm_mailer_daemon(NULL));
	ck_assert(atsm_mailer_daemon("MAILER-DAEMON"));
	ck_assert(atsm_mailer_daemon("no-reply@service.example"));
	ck_assert(!atsm_mailer_daemon("taro@example.jp"));
	ck_assert(!atsm_mailer_daemon("postmaster-jobs@example.jp"));
	ck_assert(!atsm_mailer_daemon("<daemon.fan@example.jp>"));
	atsm_buf_init(&r, 0);
	ck_assert(detect("Subject: hello\n\nb", "<>", &r));
	ck_assert_ptr_nonnull(strstr(atsm_buf_str(&r), "envelope sender"));
	/* the envelope alone, under a person's From, is a relay's habit */
	ck_assert(!detect("From: Taro <taro@example.jp>\nSubject: hello\n\nb", "<>", &r));
	ck_assert(!detect("From: Taro <taro@example.jp>\nSubject: hello\n\nb", "no-reply@form.example", &r));
	ck_assert(detect("From: Mail Delivery System <MAILER-DAEMON@mx.example>\nSubject: x\n\nb", "x@y.example", &r));
	ck_assert(!detect("From: Taro <taro@example.jp>\nSubject: Re: interview\n\nb", "taro@example.jp", &r));
	atsm_buf_free(&r);
}
END_TEST

static Suite *
suite(void)
{
	Suite *s = suite_create("autoreply");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, test_auto_submitted);
	tcase_add_test(tc, test_x_headers_and_precedence);
	tcase_add_test(tc, test_subjects_english_and_japanese);
	tcase_add_test(tc, test_daemon_senders);
	suite_add_tcase(s, tc);
	return s;
}

ATSM_CHECK_MAIN()
