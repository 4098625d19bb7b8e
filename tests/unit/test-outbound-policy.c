/* test-outbound-policy.c -- the last steps of the outbound decision
 * (lib/outbound/decide-guard.c) against the fake directory: the guard and
 * its three actions and its count (resumes in the making counted apart),
 * approval (HOLD), the visibility of each sharing mode
 * and the excluded domains, the token and the VERP stamp, and the decoded
 * subject. */
#include "test-outbound.h"
#include "rules/verp.h"

/* -------------------------------------------------------------- guard */

static void
guard_case(const char *action, enum atsm_out_verdict want)
{
	struct atsm_out_facts f;
	struct atsm_out_plan p;

	set_conf("guard_action", action);
	mail(&f, "alice@atsmail.test", "alice@atsmail.test", "taro@candidate.test",
	    "hanako@candidate.test", "taro@candidate.test", "hanako@candidate.test", NULL);
	decide(&f, ATSM_OUT_LIVE, &p);
	ck_assert_msg(p.verdict == want, "%s: verdict %s", action, atsm_out_verdict_name(p.verdict));
	ck_assert_uint_eq(p.n_candidates, 2);
	if (want != ATSM_OUT_RECORD) {
		ck_assert_msg(strstr(p.reply_text, "Bcc") != NULL, "%s", p.reply_text);
		ck_assert_msg(strstr(p.reply_text, "taro@candidate.test") != NULL, "%s",
		    p.reply_text);
	} else {
		ck_assert_str_eq(p.reply_text, "");
		ck_assert_msg(strstr(p.notes, "guard allowed: ") != NULL, "%s", p.notes);
	}
	if (want == ATSM_OUT_REJECT)
		ck_assert_uint_eq(p.n_links, 0);
	else
		ck_assert_uint_eq(p.n_links, 2);     /* held and allowed mail is recorded */
	done(&f, &p);
}

START_TEST(guard_rejects_two_candidates_in_to_cc)
{
	guard_case("reject", ATSM_OUT_REJECT);
}
END_TEST

START_TEST(guard_holds_by_configuration)
{
	guard_case("hold", ATSM_OUT_HOLD);
}
END_TEST

START_TEST(guard_allows_by_configuration)
{
	guard_case("allow", ATSM_OUT_RECORD);
}
END_TEST

START_TEST(guard_ignores_bcc_candidates_and_contacts)
{
	struct atsm_out_facts f;
	struct atsm_out_plan p;

	mail(&f, "alice@atsmail.test", "alice@atsmail.test", "alice@atsmail.test", NULL,
	    "taro@candidate.test", "hanako@candidate.test", NULL);
	decide(&f, ATSM_OUT_LIVE, &p);
	ck_assert_int_eq(p.verdict, ATSM_OUT_RECORD);
	ck_assert_uint_eq(p.n_links, 2);
	ck_assert_uint_eq(p.n_candidates, 0);
	done(&f, &p);
	/* a candidate introduced to a client contact */
	mail(&f, "alice@atsmail.test", "alice@atsmail.test", "taro@candidate.test",
	    "suzuki@client.test", "taro@candidate.test", "suzuki@client.test", NULL);
	decide(&f, ATSM_OUT_LIVE, &p);
	ck_assert_int_eq(p.verdict, ATSM_OUT_RECORD);
	ck_assert_uint_eq(p.n_candidates, 1);
	done(&f, &p);
}
END_TEST

/* Newcomers whose intake mail is in the journal only: resumes of id 0,
 * each its own candidate. */
START_TEST(guard_counts_resumes_in_the_making_apart)
{
	struct atsm_out_facts f;
	struct atsm_out_plan p;
	struct atsm_dir_effects e;

	memset(&e, 0, sizeof(e));
	e.new_resume = "kenji@applicant.test";
	fake_dir_apply(&fd, &e);
	e.new_resume = "yuki@applicant.test";
	fake_dir_apply(&fd, &e);
	/* two newcomers shown to each other: two candidates */
	mail(&f, "alice@atsmail.test", "alice@atsmail.test", "kenji@applicant.test",
	    "yuki@applicant.test", "kenji@applicant.test", "yuki@applicant.test", NULL);
	decide(&f, ATSM_OUT_LIVE, &p);
	ck_assert_uint_eq(p.n_candidates, 2);
	ck_assert_int_eq(p.verdict, ATSM_OUT_REJECT);
	ck_assert_msg(strstr(p.reply_text, "kenji@applicant.test") != NULL &&
	    strstr(p.reply_text, "yuki@applicant.test") != NULL, "%s", p.reply_text);
	done(&f, &p);
	/* a newcomer and a recorded candidate: two */
	mail(&f, "alice@atsmail.test", "alice@atsmail.test", "kenji@applicant.test",
	    "taro@candidate.test", "kenji@applicant.test", "taro@candidate.test", NULL);
	decide(&f, ATSM_OUT_LIVE, &p);
	ck_assert_uint_eq(p.n_candidates, 2);
	ck_assert_int_eq(p.verdict, ATSM_OUT_REJECT);
	done(&f, &p);
	/* one newcomer, in To and in Bcc of the other: one */
	mail(&f, "alice@atsmail.test", "alice@atsmail.test", "kenji@applicant.test", NULL,
	    "kenji@applicant.test", "yuki@applicant.test", NULL);
	decide(&f, ATSM_OUT_LIVE, &p);
	ck_assert_uint_eq(p.n_candidates, 1);
	ck_assert_int_eq(p.verdict, ATSM_OUT_RECORD);
	ck_assert_uint_eq(p.n_links, 2);
	done(&f, &p);
}
END_TEST

START_TEST(guard_is_not_applied_in_replay)
{
	struct atsm_out_facts f;
	struct atsm_out_plan p;

	mail(&f, "alice@atsmail.test", "alice@atsmail.test", "taro@candidate.test",
	    "hanako@candidate.test", "taro@candidate.test", "hanako@candidate.test", NULL);
	decide(&f, ATSM_OUT_REPLAY, &p);
	ck_assert_int_eq(p.verdict, ATSM_OUT_RECORD);
	ck_assert_str_eq(p.reply_text, "");
	done(&f, &p);
}
END_TEST

START_TEST(needs_approval_holds)
{
	struct atsm_out_facts f;
	struct atsm_out_plan p;

	mail(&f, "erin@atsmail.test", "erin@atsmail.test", "taro@candidate.test", NULL,
	    "taro@candidate.test", NULL);
	decide(&f, ATSM_OUT_LIVE, &p);
	ck_assert_int_eq(p.verdict, ATSM_OUT_HOLD);
	ck_assert_str_eq(p.reply_text, "mail from erin@atsmail.test waits for approval (the user "
	    "needs approval before mail to candidates leaves)");
	/* a held mail is still recorded: it has what the record needs */
	ck_assert_uint_eq(p.n_links, 1);
	ck_assert_str_eq(p.vis.name, "shared");
	done(&f, &p);
	/* REPLAY: the mail has left, nothing to hold */
	mail(&f, "erin@atsmail.test", "erin@atsmail.test", "taro@candidate.test", NULL,
	    "taro@candidate.test", NULL);
	decide(&f, ATSM_OUT_REPLAY, &p);
	ck_assert_int_eq(p.verdict, ATSM_OUT_RECORD);
	done(&f, &p);
}
END_TEST

/* ---------------------------------------------------------- visibility */

static void
vis_case(const char *login, const char *to, const char *cc, const char *want, const char *reason)
{
	struct atsm_out_facts f;
	struct atsm_out_plan p;

	mail(&f, login, login, to, cc, NULL);
	decide(&f, ATSM_OUT_LIVE, &p);
	ck_assert_msg(p.verdict == ATSM_OUT_RECORD, "%s -> %s: %s", login, to,
	    atsm_out_verdict_name(p.verdict));
	ck_assert_msg(strcmp(p.vis.name, want) == 0, "%s -> %s: %s (%s), want %s", login, to,
	    p.vis.name, p.vis.reason, want);
	if (reason != NULL)
		ck_assert_msg(strstr(p.vis.reason, reason) != NULL, "reason \"%s\" lacks %s",
		    p.vis.reason, reason);
	done(&f, &p);
}

START_TEST(visibility_follows_the_sender_mode)
{
	vis_case("alice@atsmail.test", "taro@candidate.test", NULL, "shared", "public");
	vis_case("carol@atsmail.test", "taro@candidate.test", NULL, "private", "private");
	vis_case("admin@atsmail.test", "taro@candidate.test", NULL, "admins", "admin");
}
END_TEST

START_TEST(visibility_custom_mode_uses_record_share_flags)
{
	vis_case("dave@atsmail.test", "taro@candidate.test", NULL, "shared", NULL);
	vis_case("dave@atsmail.test", "saburo@candidate.test", NULL, "private",
	    "resume 1006 not shared");
	vis_case("dave@atsmail.test", "sato@client.test", NULL, "private", "contact 2002");
	/* one record not shared among shared ones is enough */
	vis_case("dave@atsmail.test", "taro@candidate.test", "sato@client.test", "private", NULL);
}
END_TEST

START_TEST(visibility_exclusion_domain_makes_private)
{
	vis_case("alice@atsmail.test", "ken@rival.example", NULL, "private", "rival.example");
	/* a counterpart that is no record, in a subdomain, is enough */
	vis_case("alice@atsmail.test", "taro@candidate.test", "boss@hr.rival.example",
	    "private", "rival.example");
	/* any number of domains: one added to the directory works at once */
	fake_dir_add_excluded(&fd, "other-rival.example");
	vis_case("alice@atsmail.test", "taro@candidate.test", "x@other-rival.example",
	    "private", "other-rival.example");
}
END_TEST

START_TEST(visibility_exclusion_wins_over_share)
{
	struct atsm_out_facts f;
	struct atsm_out_plan p;

	mail(&f, "alice@atsmail.test", "alice@atsmail.test", "ken@rival.example", NULL,
	    "ken@rival.example", CMD("share"), NULL);
	decide(&f, ATSM_OUT_LIVE, &p);
	ck_assert_int_eq(p.verdict, ATSM_OUT_RECORD);
	ck_assert_str_eq(p.vis.name, "private");
	ck_assert_int_eq(p.vis.visibility, ATSM_VIS_PRIVATE);
	ck_assert_uint_eq(p.vis.nexcluded, 1);
	done(&f, &p);
}
END_TEST

/* -------------------------------------------------------------- stamps */

START_TEST(token_and_verp_stamp)
{
	struct atsm_out_facts f;
	struct atsm_out_plan p;
	struct atsm_token_keys keys;
	struct atsm_err err;
	unsigned char tid[ATSM_TOKEN_ID_LEN];
	char want[320], rmac[ATSM_VERP_RMAC_LEN + 1];

	ck_assert(atsm_token_keys_from_string("0123456789abcdef0123456789abcdef-test\n", &keys,
	    &err) == 0);
	set_conf("verp", "yes");
	TARO_MAIL(&f, NULL);
	decide_with(&f, ATSM_OUT_LIVE, &keys, &p);
	ck_assert_int_eq(p.verdict, ATSM_OUT_RECORD);
	ck_assert_uint_eq(strlen(p.token), ATSM_TOKEN_LEN);
	ck_assert_int_eq(atsm_token_verify(&keys, p.token, strlen(p.token), tid), 0);
	/* one recipient: the stamp names it (format 2, docs/tokens.md) */
	ck_assert_int_eq(atsm_verp_rcpt_mac(&keys, 0, p.token, "taro@candidate.test", rmac), 0);
	snprintf(want, sizeof(want), "alice+ats-%s-%s@atsmail.test", p.token, rmac);
	ck_assert_str_eq(p.verp_sender, want);
	done(&f, &p);
	/* a token already given to the mail is kept */
	TARO_MAIL(&f, NULL);
	strcpy(f.token, "abcdefghijklmnopqrstuvwxyz234567abcdef");
	decide_with(&f, ATSM_OUT_LIVE, &keys, &p);
	ck_assert_str_eq(p.token, f.token);
	ck_assert_int_eq(atsm_verp_rcpt_mac(&keys, 0, f.token, "taro@candidate.test", rmac), 0);
	snprintf(want, sizeof(want), "alice+ats-abcdefghijklmnopqrstuvwxyz234567abcdef-%s@atsmail.test",
	    rmac);
	ck_assert_str_eq(p.verp_sender, want);
	done(&f, &p);
	/* REPLAY: the token the mail carried, no new one, no stamp */
	TARO_MAIL(&f, NULL);
	decide_with(&f, ATSM_OUT_REPLAY, &keys, &p);
	ck_assert_str_eq(p.token, "");
	ck_assert_str_eq(p.verp_sender, "");
	done(&f, &p);
	/* a null sender is never stamped */
	mail(&f, "alice@atsmail.test", "", "taro@candidate.test", NULL, "taro@candidate.test", NULL);
	decide_with(&f, ATSM_OUT_LIVE, &keys, &p);
	ck_assert_uint_eq(strlen(p.token), ATSM_TOKEN_LEN);
	ck_assert_str_eq(p.verp_sender, "");
	done(&f, &p);
	/* two recipients outside the company: the stamp names none (format 1);
	 * a colleague and a command beside one outside recipient do not count */
	mail(&f, "alice@atsmail.test", "alice@atsmail.test", "taro@candidate.test",
	    "suzuki@client.test", "taro@candidate.test", "suzuki@client.test", NULL);
	decide_with(&f, ATSM_OUT_LIVE, &keys, &p);
	snprintf(want, sizeof(want), "alice+ats-%s@atsmail.test", p.token);
	ck_assert_str_eq(p.verp_sender, want);
	done(&f, &p);
	mail(&f, "alice@atsmail.test", "alice@atsmail.test", "taro@candidate.test",
	    "bob@atsmail.test", "taro@candidate.test", "bob@atsmail.test",
	    "ats+share@ats.atsmail.test", NULL);
	decide_with(&f, ATSM_OUT_LIVE, &keys, &p);
	ck_assert_int_eq(atsm_verp_rcpt_mac(&keys, 0, p.token, "taro@candidate.test", rmac), 0);
	snprintf(want, sizeof(want), "alice+ats-%s-%s@atsmail.test", p.token, rmac);
	ck_assert_str_eq(p.verp_sender, want);
	done(&f, &p);
	atsm_token_keys_wipe(&keys);
}
END_TEST

START_TEST(no_keys_no_token)
{
	struct atsm_out_facts f;
	struct atsm_out_plan p;

	set_conf("verp", "yes");
	TARO_MAIL(&f, NULL);
	decide(&f, ATSM_OUT_LIVE, &p);
	ck_assert_int_eq(p.verdict, ATSM_OUT_RECORD);
	ck_assert_str_eq(p.token, "");
	ck_assert_str_eq(p.verp_sender, "");
	done(&f, &p);
	/* and a rejected mail gets no stamp either */
	TARO_MAIL(&f, CMD("job.3099"), NULL);
	decide(&f, ATSM_OUT_LIVE, &p);
	ck_assert_int_eq(p.verdict, ATSM_OUT_REJECT);
	ck_assert_str_eq(p.verp_sender, "");
	done(&f, &p);
}
END_TEST

START_TEST(japanese_subject_is_decoded_to_utf8)
{
	struct atsm_out_facts f;
	struct atsm_out_plan p;

	TARO_MAIL(&f, NULL);
	free(f.hdr_subject);
	f.hdr_subject = xstrdup("=?ISO-2022-JP?B?GyRCRnxLXDhsJE43b0w+GyhC?=");
	decide(&f, ATSM_OUT_LIVE, &p);
	ck_assert_str_eq(p.subject, "日本語の件名");
	done(&f, &p);
	/* no Subject, no Message-ID */
	TARO_MAIL(&f, NULL);
	free(f.hdr_subject);
	free(f.hdr_message_id);
	f.hdr_subject = f.hdr_message_id = NULL;
	decide(&f, ATSM_OUT_LIVE, &p);
	ck_assert_int_eq(p.verdict, ATSM_OUT_RECORD);
	ck_assert_ptr_null(p.subject);
	ck_assert_ptr_null(p.message_id);
	done(&f, &p);
}
END_TEST

static Suite *
suite(void)
{
	Suite *s = suite_create("outbound-policy");
	TCase *tc = tcase_create("policy");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, guard_rejects_two_candidates_in_to_cc);
	tcase_add_test(tc, guard_holds_by_configuration);
	tcase_add_test(tc, guard_allows_by_configuration);
	tcase_add_test(tc, guard_ignores_bcc_candidates_and_contacts);
	tcase_add_test(tc, guard_counts_resumes_in_the_making_apart);
	tcase_add_test(tc, guard_is_not_applied_in_replay);
	tcase_add_test(tc, needs_approval_holds);
	tcase_add_test(tc, visibility_follows_the_sender_mode);
	tcase_add_test(tc, visibility_custom_mode_uses_record_share_flags);
	tcase_add_test(tc, visibility_exclusion_domain_makes_private);
	tcase_add_test(tc, visibility_exclusion_wins_over_share);
	tcase_add_test(tc, token_and_verp_stamp);
	tcase_add_test(tc, no_keys_no_token);
	tcase_add_test(tc, japanese_subject_is_decoded_to_utf8);
	suite_add_tcase(s, tc);
	return s;
}

ATSM_CHECK_MAIN()
