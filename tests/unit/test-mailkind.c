/* test-mailkind.c -- unit tests of the kinds of mail (lib/mail/mailkind.c,
 * lib/mail/autoreply.c) on the real-world-shaped samples of
 * tests/data/kinds/ (each written after the shape its software gives:
 * Outlook's and Thunderbird's read receipts, a Gmail vacation reply, an
 * Exchange out-of-office, a Japanese 不在 reply, Mailman 3, Google Groups,
 * fml and mailman-jp posts, a web form's and a job board's relay, an
 * Outlook reply), then on the edges of each rule: what must not count.
 */
#include "atsm-check.h"
#include "mail/autoreply.h"
#include "mail/mailkind.h"
#include "base/buf.h"
#include "mail/mime.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static char *
read_sample(const char *name, size_t *len)
{
	char path[1024];
	FILE *fp;
	char *b;

	snprintf(path, sizeof(path), "%s/kinds/%s", ATSM_TEST_DATA, name);
	ck_assert_msg((fp = fopen(path, "rb")) != NULL, "%s", path);
	b = malloc(65536);
	ck_assert_ptr_nonnull(b);
	*len = fread(b, 1, 65535, fp);
	b[*len] = '\0';
	fclose(fp);
	return b;
}

/* The kind of a message given as text, with its Return-Path as env_from
 * ("" when <>, NULL when it has none); the reason in r. */
static enum atsm_mail_kind
kind_of(const char *msg, size_t len, struct atsm_buf *r)
{
	struct atsm_mime_msg m;
	enum atsm_mail_kind k;
	char env[256];
	const char *rp;

	ck_assert_int_eq(atsm_mime_parse(msg, len, NULL, &m, NULL), 0);
	rp = atsm_mime_header(&m.v[0].hdr, "Return-Path");
	if (rp != NULL) {
		size_t n = strcspn(rp + strspn(rp, " <"), ">");

		snprintf(env, sizeof(env), "%.*s", (int)n, rp + strspn(rp, " <"));
	}
	atsm_buf_reset(r);
	k = atsm_mail_kind(&m, rp != NULL ? env : NULL, r);
	atsm_mime_free(&m);
	return k;
}

static enum atsm_mail_kind
kind_text(const char *msg, struct atsm_buf *r)
{
	return kind_of(msg, strlen(msg), r);
}

static const struct {
	const char *file;
	enum atsm_mail_kind kind;
	const char *reason;      /* a part of the reason that must be given */
} samples[] = {
	{ "mdn-outlook.eml", ATSM_MAIL_MDN, "report-type=disposition-notification" },
	{ "mdn-thunderbird.eml", ATSM_MAIL_MDN, "report-type=disposition-notification" },
	{ "vacation-gmail.eml", ATSM_MAIL_AUTOREPLY, "Auto-Submitted (auto-replied)" },
	{ "oof-exchange.eml", ATSM_MAIL_AUTOREPLY, "Auto-Submitted (auto-generated)" },
	{ "fuzai-jp.eml", ATSM_MAIL_AUTOREPLY, "auto-reply subject (不在のお知らせ" },
	{ "mailman3-post.eml", ATSM_MAIL_LIST, "List-Id" },
	{ "googlegroups-post.eml", ATSM_MAIL_LIST, "List-Id" },
	{ "fml-post.eml", ATSM_MAIL_LIST, "List-Owner" },
	{ "mailmanjp-post.eml", ATSM_MAIL_LIST, "List-Id" },
	{ "form-relay.eml", ATSM_MAIL_PERSONAL, "" },
	{ "jobboard-relay.eml", ATSM_MAIL_PERSONAL, "" },
	{ "outlook-reply.eml", ATSM_MAIL_PERSONAL, "" },
};

START_TEST(samples_by_kind)
{
	struct atsm_buf r;
	size_t len;
	char *msg = read_sample(samples[_i].file, &len);
	enum atsm_mail_kind k;

	atsm_buf_init(&r, 0);
	k = kind_of(msg, len, &r);
	ck_assert_msg(k == samples[_i].kind, "%s: %s, not %s (%s)", samples[_i].file,
	    atsm_mail_kind_name(k), atsm_mail_kind_name(samples[_i].kind), atsm_buf_str(&r));
	ck_assert_msg(strstr(atsm_buf_str(&r), samples[_i].reason) != NULL,
	    "%s: reason \"%s\" lacks \"%s\"", samples[_i].file, atsm_buf_str(&r),
	    samples[_i].reason);
	if (k == ATSM_MAIL_PERSONAL)
		ck_assert_str_eq(atsm_buf_str(&r), "");
	atsm_buf_free(&r);
	free(msg);
}
END_TEST

START_TEST(mdn_names_its_original)
{
	struct atsm_mime_msg m;
	struct atsm_buf id;
	size_t len;
	char *msg = read_sample("mdn-outlook.eml", &len);

	ck_assert_int_eq(atsm_mime_parse(msg, len, NULL, &m, NULL), 0);
	atsm_buf_init(&id, 1024);
	ck_assert_int_eq(atsm_mdn_original_id(&m, &id), 1);
	ck_assert_str_eq(atsm_buf_str(&id), "<out-5001@atsmail.test>");
	atsm_mime_free(&m);
	free(msg);
	/* a message without a disposition part names nothing */
	ck_assert_int_eq(atsm_mime_parse("Subject: x\n\nb", 13, NULL, &m, NULL), 0);
	atsm_buf_reset(&id);
	ck_assert_int_eq(atsm_mdn_original_id(&m, &id), 0);
	ck_assert_str_eq(atsm_buf_str(&id), "");
	atsm_mime_free(&m);
	atsm_buf_free(&id);
}
END_TEST

START_TEST(mdn_by_part_or_content_class_not_when_forwarded)
{
	struct atsm_buf r;

	atsm_buf_init(&r, 0);
	/* report-type missing, the disposition part says it */
	ck_assert_int_eq(kind_text("From: a@b.example\nContent-Type: multipart/report; boundary=X\n\n"
	    "--X\nContent-Type: text/plain\n\nread\n--X\n"
	    "Content-Type: message/disposition-notification\n\nDisposition: manual-action/"
	    "MDN-sent-manually; displayed\n--X--\n", &r), ATSM_MAIL_MDN);
	ck_assert(strstr(atsm_buf_str(&r), "part") != NULL);
	ck_assert_int_eq(kind_text("From: a@b.example\nContent-Class: urn:content-classes:mdn\n"
	    "Subject: Read: x\n\nread\n", &r), ATSM_MAIL_MDN);
	/* a person forwarding a receipt wrote a personal mail */
	ck_assert_int_eq(kind_text("From: a@b.example\nSubject: Fwd: Read: x\n"
	    "Content-Type: multipart/mixed; boundary=Y\n\n--Y\nContent-Type: text/plain\n\nsee below\n"
	    "--Y\nContent-Type: message/rfc822\n\nFrom: c@d.example\nContent-Type: multipart/report; "
	    "report-type=disposition-notification; boundary=X\n\n--X\n"
	    "Content-Type: message/disposition-notification\n\nDisposition: automatic-action/"
	    "MDN-sent-automatically; displayed\n--X--\n--Y--\n", &r), ATSM_MAIL_PERSONAL);
	/* a delivery report is a multipart/report too, but no MDN */
	ck_assert_int_eq(kind_text("From: MAILER-DAEMON@mx.example\nContent-Type: multipart/report; "
	    "report-type=delivery-status; boundary=X\n\n--X\nContent-Type: message/delivery-status\n\n"
	    "Reporting-MTA: dns; mx.example\n--X--\n", &r), ATSM_MAIL_AUTOREPLY);
	atsm_buf_free(&r);
}
END_TEST

START_TEST(list_markers_and_bulk)
{
	struct atsm_buf r;

	atsm_buf_init(&r, 0);
	ck_assert_int_eq(kind_text("From: a@b.example\nList-Post: <mailto:l@x.example>\n\nb", &r),
	    ATSM_MAIL_LIST);
	ck_assert_int_eq(kind_text("From: a@b.example\nMailing-List: contact l-help@x.example; run by ezmlm\n\nb", &r),
	    ATSM_MAIL_LIST);
	ck_assert_int_eq(kind_text("From: a@b.example\nX-Sequence: 42\n\nb", &r), ATSM_MAIL_LIST);
	ck_assert_int_eq(kind_text("From: a@b.example\nPrecedence: list\n\nb", &r), ATSM_MAIL_LIST);
	/* a newsletter: bulk, answering nothing */
	ck_assert_int_eq(kind_text("From: news@shop.example\nPrecedence: bulk\nSubject: November news\n\nb",
	    &r), ATSM_MAIL_LIST);
	ck_assert(strstr(atsm_buf_str(&r), "bulk mail") != NULL);
	/* vacation(1): bulk on an answer is an auto-reply */
	ck_assert_int_eq(kind_text("From: a@b.example\nPrecedence: bulk\nIn-Reply-To: <x@y.example>\n"
	    "Subject: away from my mail\n\nb", &r), ATSM_MAIL_AUTOREPLY);
	ck_assert(strstr(atsm_buf_str(&r), "Precedence on an answer") != NULL);
	ck_assert_int_eq(kind_text("From: a@b.example\nPrecedence: junk\nSubject: Out of Office\n\nb", &r),
	    ATSM_MAIL_AUTOREPLY);
	/* List-Unsubscribe alone is any bulk sender's, job boards' included */
	ck_assert_int_eq(kind_text("From: a@b.example\nList-Unsubscribe: <https://x.example/u>\n"
	    "List-Unsubscribe-Post: List-Unsubscribe=One-Click\n\nb", &r), ATSM_MAIL_PERSONAL);
	/* a vacation reply distributed by a list is list mail */
	ck_assert_int_eq(kind_text("From: a@b.example\nAuto-Submitted: auto-replied\nList-Id: <l.x.example>\n\nb",
	    &r), ATSM_MAIL_LIST);
	atsm_buf_free(&r);
}
END_TEST

START_TEST(envelope_alone_makes_no_autoreply)
{
	struct atsm_buf r;
	struct atsm_mime_msg m;
	const char *person = "From: Taro <taro@candidate.test>\nSubject: Application\n\nb";
	const char *relay = "From: Web form <noreply@forms.example>\nReply-To: taro@candidate.test\n"
	    "Subject: Enquiry\n\nb";
	const char *machine = "From: Web form <noreply@forms.example>\nSubject: Enquiry\n\nb";

	atsm_buf_init(&r, 0);
	/* the person's From under a noreply@, bounce@ or null envelope */
	ck_assert_int_eq(atsm_mime_parse(person, strlen(person), NULL, &m, NULL), 0);
	ck_assert(!atsm_autoreply_detect(&m, "noreply@forms.example", &r));
	ck_assert(!atsm_autoreply_detect(&m, "bounce@mail.jobboard.example", &r));
	ck_assert(!atsm_autoreply_detect(&m, "", &r));
	ck_assert_str_eq(atsm_buf_str(&r), "");
	atsm_mime_free(&m);
	/* a system From, but a person in Reply-To */
	ck_assert_int_eq(atsm_mime_parse(relay, strlen(relay), NULL, &m, NULL), 0);
	ck_assert(!atsm_autoreply_detect(&m, "noreply@forms.example", &r));
	atsm_mime_free(&m);
	/* nobody named: a machine speaking */
	ck_assert_int_eq(atsm_mime_parse(machine, strlen(machine), NULL, &m, NULL), 0);
	ck_assert(atsm_autoreply_detect(&m, "noreply@forms.example", &r));
	ck_assert(strstr(atsm_buf_str(&r), "system sender") != NULL);
	atsm_mime_free(&m);
	/* no From at all: then the envelope decides */
	ck_assert_int_eq(atsm_mime_parse("Subject: x\n\nb", 13, NULL, &m, NULL), 0);
	atsm_buf_reset(&r);
	ck_assert(atsm_autoreply_detect(&m, "", &r));
	ck_assert(strstr(atsm_buf_str(&r), "envelope sender") != NULL);
	ck_assert(!atsm_autoreply_detect(&m, "taro@candidate.test", NULL));
	atsm_mime_free(&m);
	ck_assert(atsm_names_person("Taro <taro@candidate.test>"));
	ck_assert(atsm_names_person("noreply@x.example, Taro <taro@candidate.test>"));
	ck_assert(!atsm_names_person("Web form <no-reply@x.example>"));
	ck_assert(!atsm_names_person("undisclosed-recipients:;"));
	ck_assert(!atsm_names_person(NULL));
	atsm_buf_free(&r);
}
END_TEST

START_TEST(subjects_of_persons_and_forms)
{
	struct atsm_buf r;

	atsm_buf_init(&r, 0);
	/* a person answering or forwarding about an absence */
	ck_assert_int_eq(kind_text("From: a@b.example\nSubject: Re: Out of office next week?\n\nb", &r),
	    ATSM_MAIL_PERSONAL);
	ck_assert_int_eq(kind_text("From: a@b.example\nSubject: RE[2]: vacation plans\n\nb", &r),
	    ATSM_MAIL_PERSONAL);
	ck_assert_int_eq(kind_text("From: a@b.example\nSubject: Fwd : Automatic reply: x\n\nb", &r),
	    ATSM_MAIL_PERSONAL);
	/* 返信：不在時の連絡先 (full-width colon) */
	ck_assert_int_eq(kind_text("From: a@b.example\nSubject: =?UTF-8?B?6L+U5L+h77ya5LiN5Zyo5pmC44Gu6YCj57Wh5YWI?=\n\nb",
	    &r), ATSM_MAIL_PERSONAL);
	/* a prefix word inside another word is no prefix: "Resume" */
	ck_assert_int_eq(kind_text("From: a@b.example\nSubject: Resume: out of office until May\n\nb",
	    &r), ATSM_MAIL_AUTOREPLY);
	/* 【自動送信】: a form's notification, a person's enquiry */
	ck_assert_int_eq(kind_text("From: a@b.example\nSubject: =?UTF-8?B?44CQ6Ieq5YuV6YCB5L+h44CR44GK5ZWP44GE5ZCI44KP44Gb?=\n\nb",
	    &r), ATSM_MAIL_PERSONAL);
	/* leave of absence is a person's subject */
	ck_assert_int_eq(kind_text("From: a@b.example\nSubject: Leave of absence\n\nb", &r),
	    ATSM_MAIL_PERSONAL);
	/* an Outlook reply carries X-Auto-Response-Suppress and Thread-Topic */
	ck_assert_int_eq(kind_text("From: a@b.example\nX-Auto-Response-Suppress: All\nThread-Topic: x\n"
	    "In-Reply-To: <x@y.example>\nSubject: RE: x\n\nb", &r), ATSM_MAIL_PERSONAL);
	atsm_buf_free(&r);
}
END_TEST

static Suite *
suite(void)
{
	Suite *s = suite_create("mailkind");
	TCase *tc = tcase_create("core");

	tcase_add_loop_test(tc, samples_by_kind, 0, (int)(sizeof(samples) / sizeof(samples[0])));
	tcase_add_test(tc, mdn_names_its_original);
	tcase_add_test(tc, mdn_by_part_or_content_class_not_when_forwarded);
	tcase_add_test(tc, list_markers_and_bulk);
	tcase_add_test(tc, envelope_alone_makes_no_autoreply);
	tcase_add_test(tc, subjects_of_persons_and_forms);
	suite_add_tcase(s, tc);
	return s;
}

ATSM_CHECK_MAIN()
