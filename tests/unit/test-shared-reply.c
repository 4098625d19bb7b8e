/* test-shared-reply.c -- outbound/shared-reply.c: the double-response
 * guard of shared mailboxes (refused with who and since when, in English
 * and Japanese; ats+force; what an accepted reply makes of the thread). */
#include <stdio.h>
#include <string.h>

#include "atsm-check.h"
#include "outbound/shared-reply.h"

#define MB "recruit@atsmail.test"
#define ALICE "alice@atsmail.test"
#define BOB "bob@atsmail.test"

static struct atsm_conf conf;
static struct atsm_err err;
static struct atsm_shared_thread t[2];
static struct atsm_shared_reply r;

static void
setup(void)
{
	ck_assert_int_eq(atsm_conf_init(&conf, &err), 0);
	ck_assert_int_eq(atsm_conf_set(&conf, "ats_domain", "ats.example.com", &err), 0);
	memset(t, 0, sizeof(t));
	snprintf(t[0].mailbox, sizeof(t[0].mailbox), MB);
	snprintf(t[0].thread_key, sizeof(t[0].thread_key), "root@candidate.test");
	t[0].item_id = 7;
	t[0].member = true;
	t[0].status = ATSM_SHARED_UNHANDLED;
	memset(&r, 0, sizeof(r));
}

static void
teardown(void)
{
	atsm_conf_free(&conf);
}

static void
assign(struct atsm_shared_thread *x, const char *login, const char *name, const char *since)
{
	snprintf(x->assignee, sizeof(x->assignee), "%s", login);
	snprintf(x->assignee_name, sizeof(x->assignee_name), "%s", name);
	snprintf(x->assignee_since, sizeof(x->assignee_since), "%s", since);
}

static void
answered(struct atsm_shared_thread *x, const char *login, const char *name, const char *at)
{
	snprintf(x->answered_by, sizeof(x->answered_by), "%s", login);
	snprintf(x->answered_name, sizeof(x->answered_name), "%s", name);
	snprintf(x->answered_at, sizeof(x->answered_at), "%s", at);
}

START_TEST(test_no_thread_no_member_nothing)
{
	ck_assert_int_eq(atsm_shared_reply_decide(&conf, BOB, false, t, 0, &r),
	    ATSM_SHARED_REPLY_NONE);
	/* a shared mailbox the sender is no member of: not the sender's workflow */
	t[0].member = false;
	assign(&t[0], ALICE, "Alice", "2026-12-04 18:00 UTC");
	ck_assert_int_eq(atsm_shared_reply_decide(&conf, BOB, false, t, 1, &r),
	    ATSM_SHARED_REPLY_NONE);
	ck_assert_int_eq(r.refusal.kind, ATSM_REFUSAL_NONE);
	/* no sender login: nothing to decide */
	t[0].member = true;
	ck_assert_int_eq(atsm_shared_reply_decide(&conf, "", false, t, 1, &r),
	    ATSM_SHARED_REPLY_NONE);
}
END_TEST

START_TEST(test_unassigned_is_answered_done_by_default)
{
	ck_assert_int_eq(atsm_shared_reply_decide(&conf, BOB, false, t, 1, &r),
	    ATSM_SHARED_REPLY_ANSWER);
	ck_assert_int_eq(r.status, ATSM_SHARED_DONE);
	ck_assert_int_eq(r.refusal.kind, ATSM_REFUSAL_NONE);
	ck_assert_int_eq(atsm_conf_set(&conf, "shared_answered_status", "progress", &err), 0);
	ck_assert_int_eq(atsm_shared_reply_decide(&conf, BOB, false, t, 1, &r),
	    ATSM_SHARED_REPLY_ANSWER);
	ck_assert_int_eq(r.status, ATSM_SHARED_PROGRESS);
}
END_TEST

START_TEST(test_assignee_answers)
{
	assign(&t[0], ALICE, "Alice Example", "2026-12-04 18:00 UTC");
	ck_assert_int_eq(atsm_shared_reply_decide(&conf, "Alice@ATSmail.test", false, t, 1, &r),
	    ATSM_SHARED_REPLY_ANSWER);
	/* assigned to alice after bob answered: alice's now */
	answered(&t[0], BOB, "", "2026-12-04 17:00 UTC");
	ck_assert_int_eq(atsm_shared_reply_decide(&conf, ALICE, false, t, 1, &r),
	    ATSM_SHARED_REPLY_ANSWER);
	ck_assert_int_eq(atsm_shared_thread_whose(&t[0], ALICE), ATSM_SHARED_FREE);
}
END_TEST

START_TEST(test_other_assignee_refused_en_ja)
{
	char what[1024], fix[1024];

	assign(&t[0], ALICE, "Alice Example", "2026-12-04 18:00 UTC");
	ck_assert_int_eq(atsm_shared_reply_decide(&conf, BOB, false, t, 1, &r),
	    ATSM_SHARED_REPLY_REFUSE);
	ck_assert_int_eq(r.refusal.kind, ATSM_REFUSAL_SHARED_ASSIGNED);
	ck_assert_uint_eq(r.thread, 0);
	ck_assert_str_eq(r.refusal.text, "assigned to another member: Alice Example "
	    "<alice@atsmail.test> has this thread of shared mailbox recruit@atsmail.test "
	    "since 2026-12-04 18:00 UTC; leave it to them, or add ats+force@ats.example.com "
	    "to send it anyway");
	atsm_refusal_render(&r.refusal, ATSM_LANG_JA, what, sizeof(what), fix, sizeof(fix));
	ck_assert_str_eq(what, "他のメンバーの担当です: 共有メールボックス recruit@atsmail.test "
	    "のこのスレッドは 2026-12-04 18:00 UTC から Alice Example <alice@atsmail.test> "
	    "が担当しています");
	ck_assert_str_eq(fix, "担当者に任せるか、それでも送るときは ats+force@ats.example.com "
	    "を宛先に追加してください");
}
END_TEST

START_TEST(test_other_answer_refused_name_not_ascii)
{
	char what[1024], fix[1024];

	/* answered by alice, not assigned: "answered" names her login alone,
	 * her name not being ASCII */
	answered(&t[0], ALICE, "山田花子", "2026-12-04 18:05 UTC");
	ck_assert_int_eq(atsm_shared_reply_decide(&conf, BOB, false, t, 1, &r),
	    ATSM_SHARED_REPLY_REFUSE);
	ck_assert_int_eq(r.refusal.kind, ATSM_REFUSAL_SHARED_ANSWERED);
	ck_assert_str_eq(r.refusal.text, "answered by another member: alice@atsmail.test "
	    "replied in this thread of shared mailbox recruit@atsmail.test at 2026-12-04 18:05 "
	    "UTC; check their reply, or add ats+force@ats.example.com to send yours anyway");
	atsm_refusal_render(&r.refusal, ATSM_LANG_JA, what, sizeof(what), fix, sizeof(fix));
	ck_assert_msg(strncmp(what, "他のメンバーが返信済みです: ",
	    strlen("他のメンバーが返信済みです: ")) == 0, "%s", what);
	ck_assert_msg(strstr(what, "alice@atsmail.test") != NULL, "%s", what);
	/* answered by another and assigned to another: answered is said */
	assign(&t[0], "carol@atsmail.test", "", "2026-12-04 17:00 UTC");
	ck_assert_int_eq(atsm_shared_reply_decide(&conf, BOB, false, t, 1, &r),
	    ATSM_SHARED_REPLY_REFUSE);
	ck_assert_int_eq(r.refusal.kind, ATSM_REFUSAL_SHARED_ANSWERED);
	/* answered by the sender, nobody assigned: the sender's */
	ck_assert_int_eq(atsm_shared_reply_decide(&conf, ALICE, false, t, 1, &r),
	    ATSM_SHARED_REPLY_REFUSE);
	ck_assert_int_eq(r.refusal.kind, ATSM_REFUSAL_SHARED_ASSIGNED);
	t[0].assignee[0] = '\0';
	ck_assert_int_eq(atsm_shared_reply_decide(&conf, ALICE, false, t, 1, &r),
	    ATSM_SHARED_REPLY_ANSWER);
}
END_TEST

START_TEST(test_force)
{
	assign(&t[0], ALICE, "", "2026-12-04 18:00 UTC");
	ck_assert_int_eq(atsm_shared_reply_decide(&conf, BOB, true, t, 1, &r),
	    ATSM_SHARED_REPLY_FORCED);
	/* what was overridden is kept, for the record */
	ck_assert_int_eq(r.refusal.kind, ATSM_REFUSAL_SHARED_ASSIGNED);
	ck_assert_int_eq(r.status, ATSM_SHARED_DONE);
	/* force on a free thread: a plain answer */
	t[0].assignee[0] = '\0';
	ck_assert_int_eq(atsm_shared_reply_decide(&conf, BOB, true, t, 1, &r),
	    ATSM_SHARED_REPLY_ANSWER);
}
END_TEST

START_TEST(test_two_mailboxes_first_refusal)
{
	/* the first thread is free, the second is alice's: refused for it */
	t[1] = t[0];
	snprintf(t[1].mailbox, sizeof(t[1].mailbox), "sales@atsmail.test");
	assign(&t[1], ALICE, "", "2026-12-04 18:00 UTC");
	ck_assert_int_eq(atsm_shared_reply_decide(&conf, BOB, false, t, 2, &r),
	    ATSM_SHARED_REPLY_REFUSE);
	ck_assert_uint_eq(r.thread, 1);
	ck_assert_msg(strstr(r.refusal.text, "sales@atsmail.test") != NULL, "%s",
	    r.refusal.text);
	/* the sender no member of the second: the first is answered */
	t[1].member = false;
	ck_assert_int_eq(atsm_shared_reply_decide(&conf, BOB, false, t, 2, &r),
	    ATSM_SHARED_REPLY_ANSWER);
}
END_TEST

static Suite *
suite(void)
{
	Suite *s = suite_create("shared-reply");
	TCase *tc = tcase_create("decide");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_no_thread_no_member_nothing);
	tcase_add_test(tc, test_unassigned_is_answered_done_by_default);
	tcase_add_test(tc, test_assignee_answers);
	tcase_add_test(tc, test_other_assignee_refused_en_ja);
	tcase_add_test(tc, test_other_answer_refused_name_not_ascii);
	tcase_add_test(tc, test_force);
	tcase_add_test(tc, test_two_mailboxes_first_refusal);
	suite_add_tcase(s, tc);
	return s;
}

ATSM_CHECK_MAIN()
