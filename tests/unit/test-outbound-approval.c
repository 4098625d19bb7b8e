/* test-outbound-approval.c -- a decision on held mail by mail
 * (ats+approve.<id>, ats+reject.<id>; lib/rules/command.c,
 * lib/outbound/decide-approval.c) against the fake directory: the
 * commands as parsed, the DECISION plan, every refusal, the answers of
 * atsmail.approval_by_mail() made sentences, and the held mail's
 * command_at. */
#include "test-outbound.h"

START_TEST(commands_parse_and_collide)
{
	struct atsm_command_set set;
	struct atsm_command_fault f;
	struct atsm_err err;

	atsm_command_set_init(&set);
	ck_assert_int_eq(atsm_command_add(&set, CMD("approve.42"), NULL, "ats.atsmail.test",
	    &err), 0);
	ck_assert_int_eq(set.approval, 1);
	ck_assert_uint_eq(set.approval_id, 42);
	/* the same one twice collapses */
	ck_assert_int_eq(atsm_command_add(&set, "<ATS+Approve.42@ats.atsmail.test>", NULL,
	    "ats.atsmail.test", &err), 0);
	ck_assert_int_eq(atsm_command_add_fault(&set, CMD("reject.42"), NULL, "ats.atsmail.test",
	    &f, &err), -1);
	ck_assert_int_eq(f.code, ATSM_COMMAND_FAULT_APPROVAL_CONFLICT);
	ck_assert_msg(strstr(err.msg, "\"reject.42\" contradicts \"approve.42\"") != NULL, "%s",
	    err.msg);
	ck_assert_int_eq(atsm_command_add_fault(&set, CMD("approve.43"), NULL, "ats.atsmail.test",
	    &f, &err), -1);
	ck_assert_int_eq(f.code, ATSM_COMMAND_FAULT_APPROVAL_CONFLICT);
	ck_assert_int_eq(atsm_command_add_fault(&set, CMD("reject.x1"), NULL, "ats.atsmail.test",
	    &f, &err), -1);
	ck_assert_int_eq(f.code, ATSM_COMMAND_FAULT_APPROVAL_INVALID);
	ck_assert_int_eq(atsm_command_add_fault(&set, CMD("approve"), NULL, "ats.atsmail.test",
	    &f, &err), -1);
	ck_assert_int_eq(f.code, ATSM_COMMAND_FAULT_APPROVAL_INVALID);
	ck_assert_msg(strstr(err.msg, "approve needs the id of the held mail") != NULL, "%s",
	    err.msg);
	/* the set kept the first decision only */
	ck_assert_int_eq(set.approval, 1);
	ck_assert_uint_eq(set.approval_id, 42);
}
END_TEST

START_TEST(decision_alone_from_a_login)
{
	struct atsm_out_facts f;
	struct atsm_out_plan p;

	/* bob approves by replying: the only recipient is the command */
	mail(&f, "bob@atsmail.test", "bob@atsmail.test", CMD("approve.17"), NULL,
	    CMD("approve.17"), NULL);
	decide(&f, ATSM_OUT_LIVE, &p);
	ck_assert_msg(p.verdict == ATSM_OUT_DECISION, "verdict %s (%s)",
	    atsm_out_verdict_name(p.verdict), p.reply_text);
	ck_assert_int_eq(p.commands.approval, 1);
	ck_assert_uint_eq(p.commands.approval_id, 17);
	ck_assert_uint_eq(p.n_links, 0);
	ck_assert_str_eq(atsm_out_verdict_name(p.verdict), "decision");
	done(&f, &p);
}
END_TEST

START_TEST(decision_with_others_is_refused)
{
	struct atsm_out_facts f;

	/* a candidate beside it */
	mail(&f, "bob@atsmail.test", "bob@atsmail.test", "taro@candidate.test", NULL,
	    "taro@candidate.test", CMD("reject.17"), NULL);
	expect_reject(&f, "a decision on held mail is sent alone: "
	    "ats+reject.17@ats.atsmail.test has other recipients or commands");
	/* another command beside it */
	mail(&f, "bob@atsmail.test", "bob@atsmail.test", NULL, NULL, CMD("reject.17"),
	    CMD("phase.active"), NULL);
	expect_reject(&f, "is sent alone");
}
END_TEST

START_TEST(decision_needs_a_login)
{
	struct atsm_out_facts f;

	/* sendmail on the server as bob: no SASL login */
	mail(&f, NULL, "bob@atsmail.test", NULL, NULL, CMD("approve.17"), NULL);
	f.non_smtp = true;
	expect_reject(&f, "not sent by a logged-in approver: ats+approve.17@ats.atsmail.test");
}
END_TEST

START_TEST(decision_from_no_user_is_refused)
{
	struct atsm_out_facts f;

	mail(&f, "stranger@elsewhere.test", "stranger@elsewhere.test", NULL, NULL,
	    CMD("approve.17"), NULL);
	expect_reject(&f, "stranger@elsewhere.test");
}
END_TEST

START_TEST(answers_become_sentences)
{
	struct atsm_command_set cs;
	struct atsm_refusal r;
	char what[512], fix[512];

	atsm_command_set_init(&cs);
	cs.any = true;
	cs.approval = 1;
	cs.approval_id = 17;
	ck_assert_int_eq(atsm_out_approval_answer(&conf, &cs, "recorded", "", "", &r), 0);
	ck_assert_int_eq(atsm_out_approval_answer(&conf, &cs, "not_approver", "erin@atsmail.test",
	    "", &r), 1);
	ck_assert_int_eq(r.kind, ATSM_REFUSAL_NOT_APPROVER);
	ck_assert_str_eq(r.text, "not an approver of its sender: ats+approve.17@ats.atsmail.test "
	    "decides on held mail 17 of erin@atsmail.test; ask an approver of erin@atsmail.test "
	    "(atsmailctl policy approval erin@atsmail.test names them)");
	atsm_refusal_render(&r, ATSM_LANG_JA, what, sizeof(what), fix, sizeof(fix));
	ck_assert_msg(strstr(what, "承認者ではありません") != NULL, "%s", what);
	cs.approval = -1;
	ck_assert_int_eq(atsm_out_approval_answer(&conf, &cs, "decided", "", "released by carol",
	    &r), 1);
	ck_assert_msg(strstr(r.text, "decided already: ats+reject.17@ats.atsmail.test; held "
	    "mail 17 was released by carol") != NULL, "%s", r.text);
	ck_assert_int_eq(atsm_out_approval_answer(&conf, &cs, "not_held", "", "", &r), 1);
	ck_assert_msg(strstr(r.text, "no mail 17 waits for approval") != NULL, "%s", r.text);
	ck_assert_int_eq(atsm_out_approval_answer(&conf, &cs, "not_user", "x@y.test", "", &r), 1);
	ck_assert_int_eq(r.kind, ATSM_REFUSAL_NOT_USER);
	ck_assert_int_eq(atsm_out_approval_answer(&conf, &cs, "surprise", "", "", &r), 1);
	ck_assert_msg(strstr(r.text, "cannot be recorded (surprise)") != NULL, "%s", r.text);
}
END_TEST

START_TEST(held_mail_names_where_to_answer)
{
	struct atsm_out_facts f;
	struct atsm_out_plan p;
	json_t *j;
	struct atsm_err err;

	/* erin needs approval (seed) */
	mail(&f, "erin@atsmail.test", "erin@atsmail.test", "taro@candidate.test", NULL,
	    "taro@candidate.test", NULL);
	f.preview = xstrdup("Dear Taro,\n");
	decide(&f, ATSM_OUT_LIVE, &p);
	ck_assert_int_eq(p.verdict, ATSM_OUT_HOLD);
	ck_assert_str_eq(p.command_at, "ats@ats.atsmail.test");
	ck_assert((j = atsm_out_record_payload(&f, &p, &err)) != NULL);
	ck_assert_str_eq(json_string_value(json_object_get(j, "command_at")),
	    "ats@ats.atsmail.test");
	ck_assert_str_eq(json_string_value(json_object_get(j, "preview")), "Dear Taro,\n");
	json_decref(j);
	done(&f, &p);
}
END_TEST

static Suite *
suite(void)
{
	Suite *s = suite_create("outbound-approval");
	TCase *tc = tcase_create("core");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, commands_parse_and_collide);
	tcase_add_test(tc, decision_alone_from_a_login);
	tcase_add_test(tc, decision_with_others_is_refused);
	tcase_add_test(tc, decision_needs_a_login);
	tcase_add_test(tc, decision_from_no_user_is_refused);
	tcase_add_test(tc, answers_become_sentences);
	tcase_add_test(tc, held_mail_names_where_to_answer);
	suite_add_tcase(s, tc);
	return s;
}

ATSM_CHECK_MAIN()
