/* test-inbound-intake.c -- the inbound decision (lib/inbound/decide*.c)
 * for mail that is not a plain reply: intake (a resume, an unresolved
 * item, the duplicate check, loop guards, the hourly rate), bounces (VERP,
 * X-ATS-Ref, the original's Message-ID, unknown sent item), Sent copies,
 * feedback reports, and the keywords of each verdict.  Against the fake
 * directory; no server.
 */
#include "test-inbound-fixture.h"

/* ------------------------------------------------------------- intake */

START_TEST(intake_creates_resume)
{
	struct atsm_in_facts f;
	struct atsm_in_plan p;

	/* 山本 花子 */
	mail(&f, "recruit@atsmail.test", "=?UTF-8?B?5bGx5pysIOiKseWtkA==?= <new@applicant.test>",
	    "recruit@atsmail.test");
	decide(&f, &p);
	ck_assert_int_eq(p.verdict, ATSM_IN_INTAKE);
	ck_assert(!p.intake_unresolved);
	ck_assert_str_eq(p.intake_address, "recruit@atsmail.test");
	ck_assert_str_eq(p.sender, "new@applicant.test");
	ck_assert_str_eq(p.sender_name, "山本 花子");
	ck_assert(has_keyword(&p, ATSM_KW_NEWRECORD));
	ck_assert(!has_keyword(&p, ATSM_KW_FILED));
	ck_assert_int_eq(p.mailbox_user_id, 0);
	ck_assert_int_eq(p.n_links, 0);
	/* an intake mailbox of no user counts as public */
	ck_assert_int_eq(p.visibility, ATSM_VIS_SHARED);
	done(&f, &p);
	/* no display name: the address is the new resume's name */
	mail(&f, "recruit@atsmail.test", "plain@applicant.test", "recruit@atsmail.test");
	decide(&f, &p);
	ck_assert_str_eq(p.sender_name, "plain@applicant.test");
	done(&f, &p);
}
END_TEST

START_TEST(intake_unresolved_item)
{
	struct atsm_in_facts f;
	struct atsm_in_plan p;

	/* alice's mailbox, the mail sent to the enquiry address */
	mail(&f, "alice@atsmail.test", "ask@company.test", "jobs@atsmail.test");
	decide(&f, &p);
	ck_assert_int_eq(p.verdict, ATSM_IN_INTAKE);
	ck_assert(p.intake_unresolved);
	ck_assert_int_eq(p.mailbox_user_id, 1);
	ck_assert(has_keyword(&p, ATSM_KW_UNFILED));
	ck_assert(!has_keyword(&p, ATSM_KW_NEWRECORD));
	done(&f, &p);
}
END_TEST

START_TEST(intake_address_from_headers_lowest_first)
{
	struct atsm_in_facts f;
	struct atsm_in_plan p;

	/* no envelope recipient: the To/Cc addresses; of two, the lowest */
	mail(&f, "alice@atsmail.test", "ask@company.test", "recruit@atsmail.test");
	set(&f.env_to, NULL);
	set(&f.hdr_cc, "jobs@atsmail.test");
	decide(&f, &p);
	ck_assert_int_eq(p.verdict, ATSM_IN_INTAKE);
	ck_assert_str_eq(p.intake_address, "jobs@atsmail.test");
	ck_assert(p.intake_unresolved);
	done(&f, &p);
	/* with an envelope recipient, only it counts */
	mail(&f, "alice@atsmail.test", "ask@company.test", "recruit@atsmail.test");
	set(&f.hdr_cc, "jobs@atsmail.test");
	decide(&f, &p);
	ck_assert_str_eq(p.intake_address, "recruit@atsmail.test");
	done(&f, &p);
}
END_TEST

START_TEST(intake_duplicate_files_on_existing_resume)
{
	struct atsm_in_facts f;
	struct atsm_in_plan p;

	mail(&f, "recruit@atsmail.test", "shiro@candidate.test", "recruit@atsmail.test");
	decide(&f, &p);
	ck_assert_int_eq(p.verdict, ATSM_IN_FILE);
	expect_link(&p, ATSM_RECORD_RESUME, 1008, "sender_address");
	done(&f, &p);
}
END_TEST

START_TEST(intake_loop_guards)
{
	struct atsm_in_facts f;
	struct atsm_in_plan p;

	mail(&f, "recruit@atsmail.test", "loop@applicant.test", "recruit@atsmail.test");
	f.from_mailer_daemon = true;
	decide(&f, &p);
	ck_assert_int_eq(p.verdict, ATSM_IN_IGNORE);
	expect_note(&p, "mailer-daemon");
	done(&f, &p);
	mail(&f, "recruit@atsmail.test", "loop@applicant.test", "recruit@atsmail.test");
	f.is_autoreply = true;
	decide(&f, &p);
	ck_assert_int_eq(p.verdict, ATSM_IN_IGNORE);
	expect_note(&p, "auto-reply");
	done(&f, &p);
	/* a bounce of nothing recorded reaches no intake either */
	mail(&f, "recruit@atsmail.test", "loop@applicant.test", "recruit@atsmail.test");
	f.is_bounce = true;
	decide(&f, &p);
	ck_assert_int_eq(p.verdict, ATSM_IN_IGNORE);
	expect_note(&p, "no recorded sent item");
	done(&f, &p);
	mail(&f, "recruit@atsmail.test", "", "recruit@atsmail.test");
	set(&f.hdr_from, NULL);
	decide(&f, &p);
	ck_assert_int_eq(p.verdict, ATSM_IN_IGNORE);
	expect_note(&p, "without a sender");
	done(&f, &p);
}
END_TEST

START_TEST(intake_rate_limit)
{
	struct atsm_in_facts f;
	struct atsm_in_plan p;
	struct atsm_err err;
	int i;

	ck_assert(atsm_conf_set(&conf, "intake_max_per_hour", "2", &err) == 0);
	/* one made more than an hour ago does not count */
	fake_dir_add_intake_event(&fd, "burst@applicant.test", NOW - 3700);
	for (i = 0; i < 2; i++) {
		mail(&f, "alice@atsmail.test", "burst@applicant.test", "jobs@atsmail.test");
		decide(&f, &p);
		ck_assert_int_eq(p.verdict, ATSM_IN_INTAKE);
		apply(&f, &p);           /* journaled: the snapshot counts it */
		done(&f, &p);
	}
	mail(&f, "alice@atsmail.test", "burst@applicant.test", "jobs@atsmail.test");
	decide(&f, &p);
	ck_assert_int_eq(p.verdict, ATSM_IN_IGNORE);
	expect_note(&p, "intake_max_per_hour = 2");
	done(&f, &p);
	/* another sender is not held back */
	mail(&f, "alice@atsmail.test", "calm@applicant.test", "jobs@atsmail.test");
	decide(&f, &p);
	ck_assert_int_eq(p.verdict, ATSM_IN_INTAKE);
	done(&f, &p);
}
END_TEST

/* ------------------------------------------------------------- bounces */

static void
bounce(struct atsm_in_facts *f, const char *env_to, const char *failed)
{
	mail(f, "bob@atsmail.test", "MAILER-DAEMON@mx.client.test", env_to);
	set(&f->env_from, "");
	set(&f->hdr_subject, "Undelivered Mail Returned to Sender");
	f->is_bounce = true;
	f->from_mailer_daemon = true;
	f->bounced = calloc(1, sizeof(*f->bounced));
	f->n_bounced = 1;
	f->bounced[0].addr = strdup(failed);
	snprintf(f->bounced[0].status, sizeof(f->bounced[0].status), "5.1.1");
	f->bounced[0].hard = true;
	f->bounced[0].diagnostic = strdup("550 5.1.1 user unknown");
}

START_TEST(bounce_by_verp)
{
	struct atsm_in_facts f;
	struct atsm_in_plan p;
	char addr[128];

	snprintf(addr, sizeof(addr), "bob+ats-%s@atsmail.test", tok[2]);
	bounce(&f, addr, "suzuki@client.test");
	decide(&f, &p);
	ck_assert_int_eq(p.verdict, ATSM_IN_BOUNCE);
	ck_assert_int_eq(p.bounced.id, 5003);
	ck_assert_int_eq(p.thread.id, 5003);
	expect_link(&p, ATSM_RECORD_CONTACT, 2001, "verp");
	ck_assert(has_keyword(&p, ATSM_KW_BOUNCE) && has_keyword(&p, ATSM_KW_FILED));
	ck_assert_int_eq(p.n_phases, 1);          /* contact: on bounce -> inactive */
	ck_assert_int_eq(p.phases[0].rule_id, 9004);
	ck_assert_str_eq(p.phases[0].to_phase, "inactive");
	ck_assert_str_eq(p.phases[0].cause, "bounce");
	/* it quotes the sent item: its visibility */
	ck_assert_int_eq(p.visibility, ATSM_VIS_SHARED);
	ck_assert_str_eq(p.visibility_reason, "bounce of message 5003 (its visibility)");
	done(&f, &p);
	/* the original's envelope sender, quoted by the bounce, is as good */
	bounce(&f, "bob@atsmail.test", "suzuki@client.test");
	set(&f.orig_env_from, addr);
	decide(&f, &p);
	expect_link(&p, ATSM_RECORD_CONTACT, 2001, "verp");
	done(&f, &p);
}
END_TEST

START_TEST(bounce_by_x_ats_ref_and_message_id)
{
	struct atsm_in_facts f;
	struct atsm_in_plan p;

	bounce(&f, "bob@atsmail.test", "suzuki@client.test");
	set(&f.orig_ats_ref, tok[2]);
	decide(&f, &p);
	ck_assert_int_eq(p.verdict, ATSM_IN_BOUNCE);
	expect_link(&p, ATSM_RECORD_CONTACT, 2001, "token");
	done(&f, &p);
	bounce(&f, "bob@atsmail.test", "suzuki@client.test");
	set(&f.orig_message_id, "<out-5003@atsmail.test>");
	decide(&f, &p);
	ck_assert_int_eq(p.verdict, ATSM_IN_BOUNCE);
	ck_assert_int_eq(p.bounced.id, 5003);
	expect_link(&p, ATSM_RECORD_CONTACT, 2001, "references");
	done(&f, &p);
}
END_TEST

START_TEST(bounce_visibility_of_the_sent_item_unless_excluded)
{
	struct atsm_in_facts f;
	struct atsm_in_plan p;

	seeded("out-5003@atsmail.test")->visibility = ATSM_VIS_PRIVATE;
	bounce(&f, "bob@atsmail.test", "suzuki@client.test");
	set(&f.orig_message_id, "<out-5003@atsmail.test>");
	decide(&f, &p);
	/* bob's mode is public; the bounce is seen as its sent item is */
	ck_assert_int_eq(p.visibility, ATSM_VIS_PRIVATE);
	done(&f, &p);
	seeded("out-5003@atsmail.test")->visibility = ATSM_VIS_SHARED;
	bounce(&f, "bob@atsmail.test", "suzuki@client.test");
	set(&f.orig_message_id, "<out-5003@atsmail.test>");
	set(&f.hdr_cc, "postmaster@rival.example");
	decide(&f, &p);
	ck_assert_int_eq(p.visibility, ATSM_VIS_PRIVATE);
	ck_assert_msg(strstr(p.visibility_reason, "rival.example") != NULL, "%s",
	    p.visibility_reason);
	done(&f, &p);
}
END_TEST

START_TEST(bounce_of_unknown_item_ignored)
{
	struct atsm_in_facts f;
	struct atsm_in_plan p;

	bounce(&f, "bob@atsmail.test", "suzuki@client.test");
	set(&f.orig_message_id, "<never-sent@atsmail.test>");
	decide(&f, &p);
	ck_assert_int_eq(p.verdict, ATSM_IN_IGNORE);
	expect_note(&p, "no recorded sent item");
	ck_assert_ptr_null(p.keywords[0]);
	done(&f, &p);
	/* a received message with that Message-ID is no sent item either */
	bounce(&f, "bob@atsmail.test", "taro@candidate.test");
	set(&f.orig_message_id, "<in-seeded@candidate.test>");
	{
		struct atsm_dir_message m;

		memset(&m, 0, sizeof(m));
		m.ref.id = 5200;
		m.thread = m.ref;
		m.direction = ATSM_DIR_IN;
		fake_dir_add_message(&fd, "in-seeded@candidate.test", &m);
	}
	decide(&f, &p);
	ck_assert_int_eq(p.verdict, ATSM_IN_IGNORE);
	done(&f, &p);
}
END_TEST

/* --------------------------------------------------- copies, feedback */

START_TEST(sent_copy_by_message_id_or_token)
{
	struct atsm_in_facts f;
	struct atsm_in_plan p;

	mail(&f, "alice@atsmail.test", "alice@atsmail.test", "taro@candidate.test");
	f.how = ATSM_IN_APPEND;
	set(&f.mailbox, "Sent");
	set(&f.hdr_message_id, "<out-5001@atsmail.test>");
	rekey(&f);
	decide(&f, &p);
	ck_assert_int_eq(p.verdict, ATSM_IN_SENT_COPY);
	ck_assert_int_eq(p.message.id, 5001);
	ck_assert(has_keyword(&p, ATSM_KW_SENT));
	ck_assert_ptr_null(p.keywords[1]);
	ck_assert_int_eq(p.n_links, 0);
	done(&f, &p);
	/* a client that rewrote the Message-ID: the X-ATS-Ref token finds it */
	mail(&f, "alice@atsmail.test", "alice@atsmail.test", "hanako@candidate.test");
	f.how = ATSM_IN_APPEND;
	set(&f.mailbox, "Sent Items");
	set(&f.hdr_ats_ref, tok[1]);
	decide(&f, &p);
	ck_assert_int_eq(p.verdict, ATSM_IN_SENT_COPY);
	ck_assert_int_eq(p.message.id, 5002);
	done(&f, &p);
	/* delivered (a Cc to herself): the Message-ID alone decides */
	mail(&f, "bob@atsmail.test", "alice@atsmail.test", "bob@atsmail.test");
	set(&f.hdr_message_id, "<out-5001@atsmail.test>");
	rekey(&f);
	decide(&f, &p);
	ck_assert_int_eq(p.verdict, ATSM_IN_SENT_COPY);
	done(&f, &p);
}
END_TEST

START_TEST(sent_copy_in_a_mailbox_of_no_user_ignored)
{
	struct atsm_in_facts f;
	struct atsm_in_plan p;

	mail(&f, "recruit@atsmail.test", "alice@atsmail.test", "recruit@atsmail.test");
	set(&f.hdr_message_id, "<out-5001@atsmail.test>");
	rekey(&f);
	decide(&f, &p);
	ck_assert_int_eq(p.verdict, ATSM_IN_IGNORE);
	expect_note(&p, "mailbox of no user");
	done(&f, &p);
}
END_TEST

START_TEST(feedback_report_not_filed)
{
	struct atsm_in_facts f;
	struct atsm_in_plan p;

	mail(&f, "alice@atsmail.test", "taro@candidate.test", "alice@atsmail.test");
	set(&f.hdr_in_reply_to, "<out-5001@atsmail.test>");
	f.is_feedback = true;
	decide(&f, &p);
	ck_assert_int_eq(p.verdict, ATSM_IN_IGNORE);
	ck_assert_int_eq(p.n_links, 0);
	ck_assert_ptr_null(p.keywords[0]);
	expect_note(&p, "feedback report");
	done(&f, &p);
}
END_TEST

START_TEST(keywords_never_repeat_and_end_with_null)
{
	struct atsm_in_facts f;
	struct atsm_in_plan p;
	size_t i, k;

	mail(&f, "alice@atsmail.test", "family@candidate.test", "alice@atsmail.test");
	f.is_autoreply = true;
	decide(&f, &p);
	ck_assert_str_eq(p.keywords[0], ATSM_KW_FILED);
	ck_assert_str_eq(p.keywords[1], ATSM_KW_AMBIGUOUS);
	ck_assert_str_eq(p.keywords[2], ATSM_KW_AUTOREPLY);
	ck_assert_ptr_null(p.keywords[3]);
	for (i = 0; p.keywords[i] != NULL; i++)
		for (k = i + 1; p.keywords[k] != NULL; k++)
			ck_assert_str_ne(p.keywords[i], p.keywords[k]);
	done(&f, &p);
}
END_TEST

static Suite *
suite(void)
{
	Suite *s = suite_create("inbound-intake");
	TCase *tc = tcase_create("intake");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, intake_creates_resume);
	tcase_add_test(tc, intake_unresolved_item);
	tcase_add_test(tc, intake_address_from_headers_lowest_first);
	tcase_add_test(tc, intake_duplicate_files_on_existing_resume);
	tcase_add_test(tc, intake_loop_guards);
	tcase_add_test(tc, intake_rate_limit);
	tcase_add_test(tc, bounce_by_verp);
	tcase_add_test(tc, bounce_by_x_ats_ref_and_message_id);
	tcase_add_test(tc, bounce_visibility_of_the_sent_item_unless_excluded);
	tcase_add_test(tc, bounce_of_unknown_item_ignored);
	tcase_add_test(tc, sent_copy_by_message_id_or_token);
	tcase_add_test(tc, sent_copy_in_a_mailbox_of_no_user_ignored);
	tcase_add_test(tc, feedback_report_not_filed);
	tcase_add_test(tc, keywords_never_repeat_and_end_with_null);
	suite_add_tcase(s, tc);
	return s;
}

ATSM_CHECK_MAIN()
