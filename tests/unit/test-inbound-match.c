/* test-inbound-match.c -- the inbound decision (lib/inbound/decide*.c)
 * against the fake directory: matching (In-Reply-To, References, tokens
 * with and without the sender taking part, the sender's address, several
 * records), whose mailbox it is, visibility, LIVE and REPLAY, and a
 * directory that fails.  No server.
 */
#include "test-inbound-fixture.h"

START_TEST(reply_by_in_reply_to)
{
	struct atsm_in_facts f;
	struct atsm_in_plan p;

	mail(&f, "alice@atsmail.test", "taro@candidate.test", "alice@atsmail.test");
	set(&f.hdr_in_reply_to, "<out-5001@atsmail.test>");
	decide(&f, &p);
	ck_assert_int_eq(p.verdict, ATSM_IN_FILE);
	ck_assert_int_eq(p.n_links, 1);
	expect_link(&p, ATSM_RECORD_RESUME, 1001, "in_reply_to");
	ck_assert_int_eq(p.thread.id, 5001);
	ck_assert_str_eq(p.thread.key, "seed-out-5001");
	ck_assert(has_keyword(&p, ATSM_KW_FILED));
	ck_assert(!has_keyword(&p, ATSM_KW_AMBIGUOUS));
	expect_note(&p, "matched by in_reply_to");
	done(&f, &p);
}
END_TEST

START_TEST(reply_by_references_links_process)
{
	struct atsm_in_facts f;
	struct atsm_in_plan p;
	const struct atsm_in_link *l;

	mail(&f, "alice@atsmail.test", "hanako@candidate.test", "alice@atsmail.test");
	set(&f.hdr_references, "<unknown-root@x.test> <out-5002@atsmail.test>");
	decide(&f, &p);
	ck_assert_int_eq(p.verdict, ATSM_IN_FILE);
	expect_link(&p, ATSM_RECORD_RESUME, 1002, "references");
	expect_link(&p, ATSM_RECORD_PROCESS, 4001, "references");
	l = link_of(&p, ATSM_RECORD_PROCESS, 4001);
	ck_assert_int_eq(l->resume_id, 1002);
	ck_assert_int_eq(l->job_id, 3001);
	ck_assert_str_eq(p.thread_root, "unknown-root@x.test");
	ck_assert_int_eq(p.thread.id, 5002);
	done(&f, &p);
}
END_TEST

START_TEST(in_reply_to_links_the_author_too)
{
	struct atsm_in_facts f;
	struct atsm_in_plan p;
	const char *parts[2] = { "taro@candidate.test", "jiro@candidate.test" };
	struct atsm_dir_message m = *seeded("out-5001@atsmail.test");

	/* jiro (resume 1003) was copied on alice's mail to taro (resume 1001)
	 * and answers it: the thread decides, and jiro's own resume is
	 * linked too */
	m.ref.id = m.thread.id = 5101;
	snprintf(m.ref.key, sizeof(m.ref.key), "seed-out-5101");
	m.thread = m.ref;
	m.participants = parts;
	m.n_participants = 2;
	fake_dir_add_message(&fd, "cc-5101@atsmail.test", &m);
	mail(&f, "alice@atsmail.test", "jiro@candidate.test", "alice@atsmail.test");
	set(&f.hdr_in_reply_to, "<cc-5101@atsmail.test>");
	decide(&f, &p);
	ck_assert_int_eq(p.n_links, 2);
	expect_link(&p, ATSM_RECORD_RESUME, 1001, "in_reply_to");
	expect_link(&p, ATSM_RECORD_RESUME, 1003, "sender_address");
	ck_assert(!link_of(&p, ATSM_RECORD_RESUME, 1003)->ambiguous);
	ck_assert_int_eq(p.thread.id, 5101);
	expect_note(&p, "the author's own record linked too");
	done(&f, &p);
}
END_TEST

START_TEST(in_reply_to_before_references_last_to_first)
{
	struct atsm_in_facts f;
	struct atsm_in_plan p;

	/* In-Reply-To first, whatever References say */
	mail(&f, "alice@atsmail.test", "taro@candidate.test", "alice@atsmail.test");
	set(&f.hdr_in_reply_to, "<out-5001@atsmail.test>");
	set(&f.hdr_references, "<out-5003@atsmail.test> <out-5001@atsmail.test>"
	    " <out-5003@atsmail.test>");
	decide(&f, &p);
	ck_assert_int_eq(p.n_links, 1);
	expect_link(&p, ATSM_RECORD_RESUME, 1001, "in_reply_to");
	ck_assert_str_eq(p.thread_root, "out-5003@atsmail.test");
	done(&f, &p);
	/* without it, the last of References (the nearest message) first */
	mail(&f, "bob@atsmail.test", "suzuki@client.test", "bob@atsmail.test");
	set(&f.hdr_references, "<out-5001@atsmail.test> <out-5003@atsmail.test>");
	decide(&f, &p);
	ck_assert_int_eq(p.n_links, 1);
	expect_link(&p, ATSM_RECORD_CONTACT, 2001, "references");
	ck_assert_int_eq(p.thread.id, 5003);
	ck_assert_str_eq(p.thread_root, "out-5001@atsmail.test");
	done(&f, &p);
}
END_TEST

START_TEST(linkless_message_gives_thread_sender_gives_records)
{
	struct atsm_in_facts f;
	struct atsm_in_plan p;
	struct atsm_dir_message m;
	const char *parts[1] = { "taro@candidate.test" };

	memset(&m, 0, sizeof(m));
	m.ref.id = 5100;
	snprintf(m.ref.key, sizeof(m.ref.key), "seed-out-5100");
	m.thread = m.ref;
	m.direction = ATSM_DIR_OUT;
	m.participants = parts;
	m.n_participants = 1;
	fake_dir_add_message(&fd, "nolinks@atsmail.test", &m);
	mail(&f, "alice@atsmail.test", "taro@candidate.test", "alice@atsmail.test");
	set(&f.hdr_in_reply_to, "<nolinks@atsmail.test>");
	decide(&f, &p);
	ck_assert_int_eq(p.verdict, ATSM_IN_FILE);
	expect_link(&p, ATSM_RECORD_RESUME, 1001, "sender_address");
	ck_assert_int_eq(p.thread.id, 5100);
	done(&f, &p);
}
END_TEST

START_TEST(token_accepted_when_sender_takes_part)
{
	struct atsm_in_facts f;
	struct atsm_in_plan p;

	mail(&f, "alice@atsmail.test", "Taro <taro@candidate.test>", "alice@atsmail.test");
	set(&f.hdr_ats_ref, tok[0]);
	decide(&f, &p);
	ck_assert_int_eq(p.verdict, ATSM_IN_FILE);
	expect_link(&p, ATSM_RECORD_RESUME, 1001, "token");
	ck_assert_int_eq(p.thread.id, 5001);
	done(&f, &p);
}
END_TEST

START_TEST(token_accepted_through_an_address_of_the_linked_record)
{
	struct atsm_in_facts f;
	struct atsm_in_plan p;
	struct atsm_dir_message m;
	struct atsm_dir_link l = { .kind = ATSM_RECORD_RESUME, .id = 1003 };
	const char *parts[1] = { "jiro@candidate.test" };
	unsigned char id[ATSM_TOKEN_ID_LEN];
	char t[ATSM_TOKEN_MAX];

	/* sent to jiro@; the reply comes from his other address */
	memset(id, 0x55, sizeof(id));
	ck_assert(atsm_token_make(&keys, id, t) == 0);
	memset(&m, 0, sizeof(m));
	m.ref.id = 5101;
	m.thread = m.ref;
	m.direction = ATSM_DIR_OUT;
	snprintf(m.token, sizeof(m.token), "%s", t);
	m.links = &l;
	m.n_links = 1;
	m.participants = parts;
	m.n_participants = 1;
	fake_dir_add_message(&fd, "to-jiro@atsmail.test", &m);
	mail(&f, "alice@atsmail.test", "jiro.home@example.net", "alice@atsmail.test");
	set(&f.hdr_ats_ref, t);
	decide(&f, &p);
	expect_link(&p, ATSM_RECORD_RESUME, 1003, "token");
	ck_assert_int_eq(p.thread.id, 5101);
	done(&f, &p);
}
END_TEST

START_TEST(token_refused_when_sender_takes_no_part)
{
	struct atsm_in_facts f;
	struct atsm_in_plan p;

	/* customer B (jiro) holds customer A's (taro's) token: not A's record */
	mail(&f, "alice@atsmail.test", "jiro@candidate.test", "alice@atsmail.test");
	set(&f.hdr_ats_ref, tok[0]);
	decide(&f, &p);
	ck_assert_int_eq(p.verdict, ATSM_IN_FILE);
	ck_assert_ptr_null(link_of(&p, ATSM_RECORD_RESUME, 1001));
	expect_link(&p, ATSM_RECORD_RESUME, 1003, "sender_address");
	expect_note(&p, "takes no part");
	ck_assert_int_eq(p.thread.id, 0);
	done(&f, &p);
	/* a stranger with a valid token: nothing */
	mail(&f, "alice@atsmail.test", "stranger@example.org", "alice@atsmail.test");
	set(&f.hdr_ats_ref, tok[0]);
	decide(&f, &p);
	ck_assert_int_eq(p.verdict, ATSM_IN_IGNORE);
	ck_assert_int_eq(p.n_links, 0);
	ck_assert_ptr_null(p.keywords[0]);
	done(&f, &p);
}
END_TEST

START_TEST(reply_to_token_address)
{
	struct atsm_in_facts f;
	struct atsm_in_plan p;
	char addr[128];

	snprintf(addr, sizeof(addr), "alice+ats-%s@atsmail.test", tok[0]);
	mail(&f, "alice@atsmail.test", "taro@candidate.test", addr);
	decide(&f, &p);
	ck_assert_int_eq(p.verdict, ATSM_IN_FILE);
	expect_link(&p, ATSM_RECORD_RESUME, 1001, "reply_to");
	done(&f, &p);
	/* in Cc only, the envelope naming the mailbox */
	mail(&f, "alice@atsmail.test", "taro@candidate.test", "alice@atsmail.test");
	set(&f.hdr_cc, addr);
	decide(&f, &p);
	expect_link(&p, ATSM_RECORD_RESUME, 1001, "reply_to");
	done(&f, &p);
}
END_TEST

START_TEST(forged_token_is_not_a_match)
{
	struct atsm_in_facts f;
	struct atsm_in_plan p;
	char forged[ATSM_TOKEN_MAX];

	snprintf(forged, sizeof(forged), "%s", tok[0]);
	forged[ATSM_TOKEN_LEN - 1] = forged[ATSM_TOKEN_LEN - 1] == 'a' ? 'b' : 'a';
	mail(&f, "alice@atsmail.test", "stranger@example.org", "alice@atsmail.test");
	set(&f.hdr_ats_ref, forged);
	decide(&f, &p);
	ck_assert_int_eq(p.verdict, ATSM_IN_IGNORE);
	done(&f, &p);
	/* it is the MAC that fails: even a message that carried the forged
	 * text (5001, which taro takes part in) is not looked up by it */
	snprintf(seeded("out-5001@atsmail.test")->token, ATSM_DIR_TOKEN_MAX, "%s", forged);
	mail(&f, "alice@atsmail.test", "taro@candidate.test", "alice@atsmail.test");
	set(&f.hdr_ats_ref, forged);
	decide(&f, &p);
	expect_link(&p, ATSM_RECORD_RESUME, 1001, "sender_address");
	done(&f, &p);
}
END_TEST

START_TEST(replay_without_secret_matches_exact_tokens)
{
	struct atsm_in_facts f;
	struct atsm_in_plan p;
	char other[ATSM_TOKEN_MAX];

	mail(&f, "alice@atsmail.test", "taro@candidate.test", "alice@atsmail.test");
	set(&f.hdr_ats_ref, tok[0]);
	set(&f.hdr_from, "Taro <TARO@candidate.test>");
	decide_mode(&f, ATSM_IN_REPLAY, NULL, &p);
	expect_link(&p, ATSM_RECORD_RESUME, 1001, "token");
	done(&f, &p);
	/* a token-shaped text no message carries matches nothing */
	snprintf(other, sizeof(other), "%s", tok[0]);
	other[ATSM_TOKEN_LEN - 1] = other[ATSM_TOKEN_LEN - 1] == 'a' ? 'b' : 'a';
	mail(&f, "alice@atsmail.test", "stranger@example.org", "alice@atsmail.test");
	set(&f.hdr_ats_ref, other);
	decide_mode(&f, ATSM_IN_REPLAY, NULL, &p);
	ck_assert_int_eq(p.verdict, ATSM_IN_IGNORE);
	done(&f, &p);
}
END_TEST

START_TEST(sender_address_resume_and_contact)
{
	struct atsm_in_facts f;
	struct atsm_in_plan p;

	mail(&f, "alice@atsmail.test", "Taro <TARO@Candidate.test>", "alice@atsmail.test");
	decide(&f, &p);
	ck_assert_int_eq(p.verdict, ATSM_IN_FILE);
	expect_link(&p, ATSM_RECORD_RESUME, 1001, "sender_address");
	ck_assert(!p.ambiguous);
	ck_assert_str_eq(p.sender, "taro@candidate.test");
	ck_assert_str_eq(p.sender_name, "Taro");
	done(&f, &p);
	mail(&f, "bob@atsmail.test", "suzuki@client.test", "bob@atsmail.test");
	decide(&f, &p);
	expect_link(&p, ATSM_RECORD_CONTACT, 2001, "sender_address");
	done(&f, &p);
	/* no From: the envelope sender */
	mail(&f, "bob@atsmail.test", "suzuki@client.test", "bob@atsmail.test");
	set(&f.hdr_from, NULL);
	decide(&f, &p);
	expect_link(&p, ATSM_RECORD_CONTACT, 2001, "sender_address");
	done(&f, &p);
}
END_TEST

START_TEST(ambiguous_sender_links_all)
{
	struct atsm_in_facts f;
	struct atsm_in_plan p;

	mail(&f, "alice@atsmail.test", "family@candidate.test", "alice@atsmail.test");
	decide(&f, &p);
	ck_assert_int_eq(p.verdict, ATSM_IN_FILE);
	ck_assert_int_eq(p.n_links, 2);
	ck_assert(link_of(&p, ATSM_RECORD_RESUME, 1004)->ambiguous);
	ck_assert(link_of(&p, ATSM_RECORD_RESUME, 1005)->ambiguous);
	ck_assert_str_eq(link_of(&p, ATSM_RECORD_RESUME, 1004)->rule, "sender_address");
	ck_assert(p.ambiguous && has_keyword(&p, ATSM_KW_AMBIGUOUS));
	ck_assert_int_eq(p.n_phases, 0);          /* never pick silently */
	expect_note(&p, "several records");
	done(&f, &p);
}
END_TEST

START_TEST(unknown_sender_and_non_user_mailbox_ignored)
{
	struct atsm_in_facts f;
	struct atsm_in_plan p;

	mail(&f, "alice@atsmail.test", "friend@example.com", "alice@atsmail.test");
	decide(&f, &p);
	ck_assert_int_eq(p.verdict, ATSM_IN_IGNORE);
	ck_assert_int_eq(p.n_links, 0);
	ck_assert_ptr_null(p.keywords[0]);
	expect_note(&p, "not ATS mail");
	done(&f, &p);
	/* a known candidate, but the mailbox is no user's */
	mail(&f, "nobody@atsmail.test", "taro@candidate.test", "nobody@atsmail.test");
	decide(&f, &p);
	ck_assert_int_eq(p.verdict, ATSM_IN_IGNORE);
	ck_assert_int_eq(p.mailbox_user_id, 0);
	expect_note(&p, "not a user");
	done(&f, &p);
}
END_TEST

START_TEST(mailbox_owner_by_user_address_active_only)
{
	struct atsm_in_facts f;
	struct atsm_in_plan p;

	/* a Dovecot user name that is one of alice's additional addresses */
	mail(&f, "alice.sales@atsmail.test", "taro@candidate.test", "alice.sales@atsmail.test");
	decide(&f, &p);
	ck_assert_int_eq(p.verdict, ATSM_IN_FILE);
	ck_assert_int_eq(p.mailbox_user_id, 1);
	ck_assert_str_eq(p.owner_login, "alice@atsmail.test");
	done(&f, &p);
	/* an inactive user owns no mailbox */
	fd.users[0].active = false;
	mail(&f, "alice@atsmail.test", "taro@candidate.test", "alice@atsmail.test");
	decide(&f, &p);
	ck_assert_int_eq(p.verdict, ATSM_IN_IGNORE);
	ck_assert_int_eq(p.mailbox_user_id, 0);
	expect_note(&p, "not a user");
	done(&f, &p);
}
END_TEST

START_TEST(visibility_follows_owner_and_exclusions)
{
	struct atsm_in_facts f;
	struct atsm_in_plan p;

	mail(&f, "alice@atsmail.test", "taro@candidate.test", "alice@atsmail.test");
	decide(&f, &p);
	ck_assert_int_eq(p.visibility, ATSM_VIS_SHARED);
	done(&f, &p);
	mail(&f, "carol@atsmail.test", "taro@candidate.test", "carol@atsmail.test");
	decide(&f, &p);
	ck_assert_int_eq(p.visibility, ATSM_VIS_PRIVATE);
	done(&f, &p);
	mail(&f, "admin@atsmail.test", "taro@candidate.test", "admin@atsmail.test");
	decide(&f, &p);
	ck_assert_int_eq(p.visibility, ATSM_VIS_ADMINS);
	done(&f, &p);
	/* custom mode: the linked records' share flags */
	mail(&f, "dave@atsmail.test", "saburo@candidate.test", "dave@atsmail.test");
	decide(&f, &p);
	ck_assert_int_eq(p.visibility, ATSM_VIS_PRIVATE);
	ck_assert_msg(strstr(p.visibility_reason, "1006") != NULL, "%s", p.visibility_reason);
	done(&f, &p);
	mail(&f, "dave@atsmail.test", "taro@candidate.test", "dave@atsmail.test");
	decide(&f, &p);
	ck_assert_int_eq(p.visibility, ATSM_VIS_SHARED);
	done(&f, &p);
	/* a counterpart (another recipient) in an excluded domain */
	mail(&f, "alice@atsmail.test", "taro@candidate.test", "alice@atsmail.test");
	set(&f.hdr_cc, "boss@hq.rival.example, alice@atsmail.test");
	decide(&f, &p);
	ck_assert_int_eq(p.visibility, ATSM_VIS_PRIVATE);
	ck_assert_msg(strstr(p.visibility_reason, "rival.example") != NULL, "%s",
	    p.visibility_reason);
	/* the counterparts: the sender and the others, not the mailbox */
	ck_assert_int_eq(p.n_counterparts, 2);
	ck_assert_str_eq(p.counterparts[0], "taro@candidate.test");
	ck_assert_str_eq(p.counterparts[1], "boss@hq.rival.example");
	done(&f, &p);
}
END_TEST

START_TEST(replay_decides_like_live)
{
	struct atsm_in_facts f, g;
	struct atsm_in_plan p, q;
	struct atsm_err err;
	char *a, *b;
	json_t *j;

	mail(&f, "alice@atsmail.test", "hanako@candidate.test", "alice@atsmail.test");
	set(&f.hdr_in_reply_to, "<out-5002@atsmail.test>");
	decide(&f, &p);
	j = atsm_in_facts_to_json(&f);
	ck_assert_msg(atsm_in_facts_from_json(j, &g, &err) == 0, "%s", err.msg);
	json_decref(j);
	decide_mode(&g, ATSM_IN_REPLAY, &keys, &q);
	ck_assert_int_eq(q.verdict, ATSM_IN_FILE);
	ck_assert_int_eq(q.n_phases, 2);
	a = payload_text(&f, &p);
	b = payload_text(&g, &q);
	ck_assert_str_eq(a, b);
	free(a);
	free(b);
	atsm_in_plan_free(&q);
	atsm_in_facts_free(&g);
	done(&f, &p);
}
END_TEST

START_TEST(failing_directory_decides_nothing)
{
	struct atsm_in_facts f;
	struct atsm_in_plan p;
	struct atsm_err err = { .msg = "" };

	mail(&f, "alice@atsmail.test", "taro@candidate.test", "alice@atsmail.test");
	set(&f.hdr_in_reply_to, "<out-5001@atsmail.test>");
	fake_dir_fail(&fd, true);
	ck_assert_int_eq(atsm_in_decide(&dir, &conf, &keys, &f, ATSM_IN_LIVE, &p, &err), -1);
	ck_assert_int_eq(err.cls, ATSM_ERR_UNAVAILABLE);
	ck_assert_msg(strstr(err.msg, "failing on purpose") != NULL &&
	    strstr(err.msg, "alice@atsmail.test") != NULL, "%s", err.msg);
	ck_assert_int_eq(p.verdict, ATSM_IN_IGNORE);
	ck_assert_int_eq(p.n_links, 0);
	ck_assert_int_eq(p.n_phases, 0);
	ck_assert_ptr_null(p.keywords[0]);
	ck_assert_ptr_null(p.links);
	atsm_in_plan_free(&p);
	/* the same mail, once the directory answers */
	fake_dir_fail(&fd, false);
	decide(&f, &p);
	ck_assert_int_eq(p.verdict, ATSM_IN_FILE);
	done(&f, &p);
	/* facts without a mailbox user: an input error */
	mail(&f, "alice@atsmail.test", "taro@candidate.test", "alice@atsmail.test");
	set(&f.mailbox_user, "");
	ck_assert_int_eq(atsm_in_decide(&dir, &conf, &keys, &f, ATSM_IN_LIVE, &p, &err), -1);
	ck_assert_int_eq(err.cls, ATSM_ERR_INPUT);
	done(&f, &p);
}
END_TEST

START_TEST(decide_changes_nothing_in_the_directory)
{
	struct atsm_in_facts f;
	struct atsm_in_plan p;
	size_t nmsg = fd.n_msgs, nev = fd.n_events, nproc = fd.n_procs;

	mail(&f, "alice@atsmail.test", "hanako@candidate.test", "alice@atsmail.test");
	set(&f.hdr_in_reply_to, "<out-5002@atsmail.test>");
	decide(&f, &p);
	ck_assert_int_eq(p.n_phases, 2);     /* it would move resume 1002 and process 4001 */
	done(&f, &p);
	mail(&f, "recruit@atsmail.test", "new@applicant.test", "recruit@atsmail.test");
	decide(&f, &p);
	ck_assert_int_eq(p.verdict, ATSM_IN_INTAKE);
	done(&f, &p);
	ck_assert_str_eq(fake_dir_record(&fd, ATSM_RECORD_RESUME, 1002)->phase, "new");
	ck_assert_str_eq(fake_dir_process(&fd, 1002, 3001)->phase, "screening");
	ck_assert_uint_eq(fd.n_msgs, nmsg);
	ck_assert_uint_eq(fd.n_events, nev);
	ck_assert_uint_eq(fd.n_procs, nproc);
}
END_TEST

static Suite *
suite(void)
{
	Suite *s = suite_create("inbound-match");
	TCase *tc = tcase_create("match");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, reply_by_in_reply_to);
	tcase_add_test(tc, reply_by_references_links_process);
	tcase_add_test(tc, in_reply_to_links_the_author_too);
	tcase_add_test(tc, in_reply_to_before_references_last_to_first);
	tcase_add_test(tc, linkless_message_gives_thread_sender_gives_records);
	tcase_add_test(tc, token_accepted_when_sender_takes_part);
	tcase_add_test(tc, token_accepted_through_an_address_of_the_linked_record);
	tcase_add_test(tc, token_refused_when_sender_takes_no_part);
	tcase_add_test(tc, reply_to_token_address);
	tcase_add_test(tc, forged_token_is_not_a_match);
	tcase_add_test(tc, replay_without_secret_matches_exact_tokens);
	tcase_add_test(tc, sender_address_resume_and_contact);
	tcase_add_test(tc, ambiguous_sender_links_all);
	tcase_add_test(tc, unknown_sender_and_non_user_mailbox_ignored);
	tcase_add_test(tc, mailbox_owner_by_user_address_active_only);
	tcase_add_test(tc, visibility_follows_owner_and_exclusions);
	tcase_add_test(tc, replay_decides_like_live);
	tcase_add_test(tc, failing_directory_decides_nothing);
	tcase_add_test(tc, decide_changes_nothing_in_the_directory);
	suite_add_tcase(s, tc);
	return s;
}

ATSM_CHECK_MAIN()
