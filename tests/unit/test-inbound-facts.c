/* test-inbound-facts.c -- the facts of a mail that reached a mailbox
 * (lib/inbound/facts.c): read from raw messages (a Japanese reply, a
 * bounce, an auto-reply, and the real-world-shaped samples of each kind
 * of mail in tests/data/kinds/: read receipts, list posts, auto-replies,
 * relays), the format-1 JSON form and its errors, the idempotency key of
 * one copy; and that facts read from a raw message decide as expected
 * against the fake directory.  No server.
 */
#include "test-inbound-fixture.h"

static char *
read_data(const char *name, size_t *len)
{
	char path[1024];
	FILE *fp;
	char *b;

	snprintf(path, sizeof(path), "%s/%s", ATSM_TEST_DATA, name);
	ck_assert_msg((fp = fopen(path, "rb")) != NULL, "%s", path);
	b = malloc(65536);
	ck_assert_ptr_nonnull(b);
	*len = fread(b, 1, 65535, fp);
	b[*len] = '\0';
	fclose(fp);
	return b;
}

START_TEST(facts_json_round_trip)
{
	struct atsm_in_facts f, g;
	struct atsm_err err;
	json_t *j, *back;
	char *t1, *t2;

	mail(&f, "alice@atsmail.test", "Taro <taro@candidate.test>", "alice@atsmail.test");
	set(&f.hdr_subject, "raw \x93\xfa\x96\x7b");     /* Shift_JIS: not UTF-8 */
	set(&f.hdr_references, "<a@x> <b@y>");
	f.how = ATSM_IN_APPEND;
	f.is_bounce = true;
	f.from_mailer_daemon = true;
	f.is_list = true;       /* not together in life: each must come back */
	snprintf(f.classify_reason, sizeof(f.classify_reason), "bounce (rfc3464, 1 recipients)");
	f.bounced = calloc(1, sizeof(*f.bounced));
	f.n_bounced = 1;
	f.bounced[0].addr = strdup("taro@candidate.test");
	snprintf(f.bounced[0].status, sizeof(f.bounced[0].status), "5.1.1");
	f.bounced[0].hard = true;
	f.bounced[0].diagnostic = strdup("550 5.1.1 ユーザ不明");
	set(&f.orig_message_id, "<out-5001@atsmail.test>");
	ck_assert_ptr_nonnull(j = atsm_in_facts_to_json(&f));
	ck_assert_ptr_nonnull(json_object_get(json_object_get(j, "hdr_subject"), "hex"));
	t1 = json_dumps(j, JSON_SORT_KEYS);
	back = json_loads(t1, 0, NULL);
	ck_assert_msg(atsm_in_facts_from_json(back, &g, &err) == 0, "%s", err.msg);
	ck_assert_str_eq(g.hdr_subject, f.hdr_subject);
	ck_assert_int_eq(g.how, ATSM_IN_APPEND);
	ck_assert_int_eq(g.n_bounced, 1);
	ck_assert_str_eq(g.bounced[0].diagnostic, "550 5.1.1 ユーザ不明");
	ck_assert(g.bounced[0].hard && g.is_bounce && g.from_mailer_daemon);
	ck_assert(g.is_list && !g.is_mdn && !g.is_autoreply);
	ck_assert_str_eq(g.idem_key, f.idem_key);
	ck_assert_int_eq(g.imap_uid, f.imap_uid);
	ck_assert_int_eq(g.received_at, NOW);
	json_decref(j);
	j = atsm_in_facts_to_json(&g);
	t2 = json_dumps(j, JSON_SORT_KEYS);
	ck_assert_str_eq(t1, t2);
	free(t1);
	free(t2);
	json_decref(j);
	json_decref(back);
	atsm_in_facts_free(&g);
	atsm_in_facts_free(&f);
}
END_TEST

START_TEST(facts_json_errors_name_the_field)
{
	struct atsm_in_facts f;
	struct atsm_err err;
	json_t *j;

	j = json_loads("{\"v\":1,\"how\":\"delivery\",\"mailbox_user\":\"a\",\"idem_key\":\"k\","
	    "\"imap_uid\":-3}", 0, NULL);
	ck_assert_int_eq(atsm_in_facts_from_json(j, &f, &err), -1);
	ck_assert_msg(strstr(err.msg, "imap_uid") != NULL, "%s", err.msg);
	json_decref(j);
	j = json_loads("{\"v\":1,\"how\":\"lmtp\",\"mailbox_user\":\"a\",\"idem_key\":\"k\"}", 0, NULL);
	ck_assert_int_eq(atsm_in_facts_from_json(j, &f, &err), -1);
	ck_assert_msg(strstr(err.msg, "'how'") != NULL, "%s", err.msg);
	json_decref(j);
	j = json_loads("{\"v\":1,\"how\":\"append\",\"mailbox_user\":\"a\",\"idem_key\":\"k\","
	    "\"bounced\":[{\"addr\":\"x@y\",\"status\":\"5;1\"}]}", 0, NULL);
	ck_assert_int_eq(atsm_in_facts_from_json(j, &f, &err), -1);
	ck_assert_msg(strstr(err.msg, "bounced") != NULL && strstr(err.msg, "status") != NULL,
	    "%s", err.msg);
	json_decref(j);
	j = json_loads("{\"v\":2,\"how\":\"append\",\"mailbox_user\":\"a\",\"idem_key\":\"k\"}", 0,
	    NULL);
	ck_assert_int_eq(atsm_in_facts_from_json(j, &f, &err), -1);
	ck_assert_msg(strstr(err.msg, "'v'") != NULL, "%s", err.msg);
	json_decref(j);
}
END_TEST

START_TEST(facts_key_is_one_per_copy)
{
	struct atsm_in_facts f;
	char k1[65], k2[65];

	mail(&f, "alice@atsmail.test", "taro@candidate.test", "alice@atsmail.test");
	snprintf(k1, sizeof(k1), "%s", f.idem_key);
	ck_assert_int_eq(strlen(k1), 64);
	/* the same mail in the same mailbox: the same key (a retried delivery) */
	rekey(&f);
	ck_assert_str_eq(f.idem_key, k1);
	/* another mailbox of the same user, another user: other keys */
	set(&f.mailbox, "Archive");
	rekey(&f);
	ck_assert_str_ne(f.idem_key, k1);
	snprintf(k2, sizeof(k2), "%s", f.idem_key);
	set(&f.mailbox, "INBOX");
	set(&f.mailbox_user, "bob@atsmail.test");
	rekey(&f);
	ck_assert_str_ne(f.idem_key, k1);
	ck_assert_str_ne(f.idem_key, k2);
	/* no Message-ID: the body hash names the mail */
	set(&f.hdr_message_id, NULL);
	rekey(&f);
	snprintf(k2, sizeof(k2), "%s", f.idem_key);
	f.body_sha256[0] = f.body_sha256[0] == 'a' ? 'b' : 'a';
	rekey(&f);
	ck_assert_str_ne(f.idem_key, k2);
	/* neither: no key */
	f.body_sha256[0] = '\0';
	f.idem_key[0] = '\0';
	ck_assert_int_eq(atsm_in_facts_make_key(&f), -1);
	set(&f.hdr_message_id, "<x@y>");
	set(&f.mailbox_user, NULL);
	ck_assert_int_eq(atsm_in_facts_make_key(&f), -1);
	atsm_in_facts_free(&f);
}
END_TEST

START_TEST(facts_from_raw_iso2022jp_reply)
{
	struct atsm_in_facts f;
	struct atsm_in_plan p;
	struct atsm_err err;
	size_t len;
	char *raw = read_data("inbound-reply-iso2022jp.eml", &len);

	atsm_in_facts_init(&f);
	f.mailbox_user = strdup("alice@atsmail.test");
	f.mailbox = strdup("INBOX");
	ck_assert_msg(atsm_in_facts_from_message(&f, raw, len, &conf, &err) == 0, "%s", err.msg);
	ck_assert_str_eq(f.env_from, "taro@candidate.test");          /* Return-Path */
	ck_assert_str_eq(f.env_to, "alice@atsmail.test");             /* Delivered-To */
	ck_assert_str_eq(f.hdr_in_reply_to, "<out-5001@atsmail.test>");
	ck_assert_int_eq(f.size, len);
	ck_assert_int_eq(strlen(f.body_sha256), 64);
	ck_assert_int_eq(strlen(f.idem_key), 64);
	ck_assert(f.received_at > 0);
	ck_assert(!f.is_bounce && !f.is_autoreply && !f.from_mailer_daemon);
	decide(&f, &p);
	ck_assert_int_eq(p.verdict, ATSM_IN_FILE);
	ck_assert_str_eq(p.subject, "Re: 面接日程のご連絡");
	ck_assert_str_eq(p.rfc_message_id, "reply-jp-1@candidate.test");
	ck_assert_str_eq(p.sender, "taro@candidate.test");
	expect_link(&p, ATSM_RECORD_RESUME, 1001, "in_reply_to");
	ck_assert_int_eq(p.thread.id, 5001);
	ck_assert_str_eq(p.thread_root, "out-5001@atsmail.test");
	free(raw);
	done(&f, &p);
}
END_TEST

/* Mail that says it was generated causes no notification (sql/017):
 * Auto-Submitted other than "no", or atsmail's own markers. */
START_TEST(facts_generated_mail)
{
	static const struct { const char *hdr; bool generated; } cases[] = {
		{ "Auto-Submitted: auto-generated\r\n", true },
		{ "Auto-Submitted: auto-replied (vacation)\r\n", true },
		{ "Auto-Submitted: no\r\n", false },
		{ "Auto-Submitted: No (a person)\r\n", false },
		{ "X-ATS-Notification: intake.duplicate; ref=x\r\n", true },
		{ "X-ATS-Explanation: refused; ref=x\r\n", true },
		{ "", false },
	};
	struct atsm_in_facts f, g;
	struct atsm_err err;
	char raw[1024];
	json_t *j;
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		snprintf(raw, sizeof(raw), "From: Taro <taro@candidate.test>\r\n"
		    "To: recruit@atsmail.test\r\nSubject: hello\r\n"
		    "Message-ID: <gen-%zu@candidate.test>\r\n%s\r\nbody\r\n", i, cases[i].hdr);
		atsm_in_facts_init(&f);
		f.mailbox_user = strdup("recruit@atsmail.test");
		ck_assert_msg(atsm_in_facts_from_message(&f, raw, strlen(raw), &conf, &err) == 0,
		    "%s", err.msg);
		ck_assert_msg(f.is_generated == cases[i].generated, "%s", cases[i].hdr);
		/* and it survives the JSON form (replay) */
		ck_assert_ptr_nonnull(j = atsm_in_facts_to_json(&f));
		atsm_in_facts_init(&g);
		ck_assert_msg(atsm_in_facts_from_json(j, &g, &err) == 0, "%s", err.msg);
		ck_assert(g.is_generated == cases[i].generated);
		json_decref(j);
		atsm_in_facts_free(&g);
		atsm_in_facts_free(&f);
	}
}
END_TEST

START_TEST(facts_from_raw_bounce_and_autoreply)
{
	struct atsm_in_facts f;
	struct atsm_in_plan p;
	struct atsm_err err;
	size_t len;
	char *raw = read_data("inbound-bounce.eml", &len);

	atsm_in_facts_init(&f);
	f.mailbox_user = strdup("bob@atsmail.test");
	ck_assert_msg(atsm_in_facts_from_message(&f, raw, len, &conf, &err) == 0, "%s", err.msg);
	ck_assert(f.is_bounce);
	ck_assert(f.from_mailer_daemon);
	ck_assert_int_eq(f.n_bounced, 1);
	ck_assert_str_eq(f.bounced[0].addr, "suzuki@client.test");
	ck_assert_str_eq(f.bounced[0].status, "5.1.1");
	ck_assert_ptr_nonnull(f.orig_message_id);
	ck_assert_msg(strstr(f.orig_message_id, "out-5003@atsmail.test") != NULL, "%s",
	    f.orig_message_id);
	/* the bounce finds its sent item by the original's Message-ID */
	decide(&f, &p);
	ck_assert_int_eq(p.verdict, ATSM_IN_BOUNCE);
	ck_assert_int_eq(p.bounced.id, 5003);
	free(raw);
	done(&f, &p);

	raw = read_data("inbound-autoreply.eml", &len);
	atsm_in_facts_init(&f);
	f.mailbox_user = strdup("alice@atsmail.test");
	ck_assert_msg(atsm_in_facts_from_message(&f, raw, len, &conf, &err) == 0, "%s", err.msg);
	ck_assert(f.is_autoreply);
	ck_assert(!f.is_bounce);
	ck_assert_msg(f.classify_reason[0] != '\0', "no reason");
	free(raw);
	atsm_in_facts_free(&f);
}
END_TEST

/* ------------------------------------------------- kinds of mail, raw */

/* The facts of sample tests/data/kinds/<name> delivered to user. */
static void
sample_facts(struct atsm_in_facts *f, const char *name, const char *user)
{
	struct atsm_err err;
	char path[128];
	size_t len;
	char *raw;

	snprintf(path, sizeof(path), "kinds/%s", name);
	raw = read_data(path, &len);
	atsm_in_facts_init(f);
	f->mailbox_user = strdup(user);
	f->mailbox = strdup("INBOX");
	ck_assert_msg(atsm_in_facts_from_message(f, raw, len, &conf, &err) == 0, "%s", err.msg);
	free(raw);
}

static const struct atsm_in_phase_change *
phase_of(const struct atsm_in_plan *p, enum atsm_record_kind kind, long long id)
{
	size_t i;

	for (i = 0; i < p->n_phases; i++)
		if (p->phases[i].kind == kind && p->phases[i].record_id == id)
			return &p->phases[i];
	return NULL;
}

START_TEST(read_receipts_are_filed_in_their_thread_and_move_nothing)
{
	struct atsm_in_facts f;
	struct atsm_in_plan p;

	/* Outlook's: null envelope, no In-Reply-To; the report's
	 * Original-Message-ID names the message it is about.  Not a bounce,
	 * though a multipart/report from <> */
	sample_facts(&f, "mdn-outlook.eml", "alice@atsmail.test");
	ck_assert(f.is_mdn);
	ck_assert(!f.is_bounce && !f.is_autoreply && !f.is_list);
	ck_assert_int_eq(f.n_bounced, 0);
	ck_assert_str_eq(f.env_from, "");
	ck_assert_str_eq(f.hdr_in_reply_to, "<out-5001@atsmail.test>");
	ck_assert_msg(strstr(f.classify_reason, "MDN") != NULL, "%s", f.classify_reason);
	decide(&f, &p);
	ck_assert_int_eq(p.verdict, ATSM_IN_FILE);
	expect_link(&p, ATSM_RECORD_RESUME, 1001, "in_reply_to");
	ck_assert(has_keyword(&p, ATSM_KW_FILED) && has_keyword(&p, ATSM_KW_RECEIPT));
	ck_assert(!has_keyword(&p, ATSM_KW_AUTOREPLY));
	ck_assert_int_eq(p.n_phases, 0);       /* 1001 is new: a reply would move it */
	expect_note(&p, "read receipt");
	done(&f, &p);
	/* Thunderbird's, by References: the process of the thread stays */
	sample_facts(&f, "mdn-thunderbird.eml", "alice@atsmail.test");
	ck_assert(f.is_mdn && !f.is_bounce);
	ck_assert_ptr_null(f.hdr_in_reply_to);  /* it has References: nothing taken */
	decide(&f, &p);
	ck_assert_int_eq(p.verdict, ATSM_IN_FILE);
	expect_link(&p, ATSM_RECORD_PROCESS, 4001, "references");
	ck_assert(has_keyword(&p, ATSM_KW_RECEIPT));
	ck_assert_int_eq(p.n_phases, 0);
	done(&f, &p);
}
END_TEST

START_TEST(list_posts_from_a_candidate_are_not_filed_on_the_candidate)
{
	static const char *const posts[] = {
		"mailman3-post.eml", "googlegroups-post.eml", "fml-post.eml", "mailmanjp-post.eml",
	};
	struct atsm_in_facts f;
	struct atsm_in_plan p;
	size_t i;

	/* From taro, hanako, jiro: each a resume's address */
	for (i = 0; i < sizeof(posts) / sizeof(posts[0]); i++) {
		sample_facts(&f, posts[i], "alice@atsmail.test");
		ck_assert_msg(f.is_list && !f.is_autoreply && !f.is_bounce && !f.is_mdn, "%s: %s",
		    posts[i], f.classify_reason);
		ck_assert_msg(!f.from_mailer_daemon, "%s", posts[i]);
		decide(&f, &p);
		ck_assert_msg(p.verdict == ATSM_IN_IGNORE, "%s: %s", posts[i], p.notes);
		ck_assert_int_eq(p.n_links, 0);
		ck_assert_int_eq(p.n_phases, 0);
		ck_assert_ptr_null(p.keywords[0]);
		expect_note(&p, "list mail outside a recorded thread");
		done(&f, &p);
	}
}
END_TEST

START_TEST(auto_replies_are_filed_without_phase_rule)
{
	static const char *const replies[] = {
		"vacation-gmail.eml", "oof-exchange.eml", "fuzai-jp.eml",
	};
	struct atsm_in_facts f;
	struct atsm_in_plan p;
	size_t i;

	for (i = 0; i < sizeof(replies) / sizeof(replies[0]); i++) {
		sample_facts(&f, replies[i], "alice@atsmail.test");
		ck_assert_msg(f.is_autoreply && !f.is_list && !f.is_mdn && !f.is_bounce, "%s: %s",
		    replies[i], f.classify_reason);
		decide(&f, &p);
		ck_assert_msg(p.verdict == ATSM_IN_FILE, "%s: %s", replies[i], p.notes);
		ck_assert(has_keyword(&p, ATSM_KW_AUTOREPLY));
		ck_assert_msg(p.n_phases == 0, "%s moved %zu records", replies[i], p.n_phases);
		done(&f, &p);
	}
}
END_TEST

START_TEST(relayed_mail_of_a_person_fires_its_rule)
{
	struct atsm_in_facts f;
	struct atsm_in_plan p;
	const struct atsm_in_phase_change *pc;

	/* a web form's relay: noreply@ envelope, jiro's From and Reply-To,
	 * 【自動送信】 in the subject */
	sample_facts(&f, "form-relay.eml", "alice@atsmail.test");
	ck_assert_str_eq(f.env_from, "noreply@forms.example.net");
	ck_assert_msg(!f.is_autoreply && !f.is_list && !f.is_mdn && !f.is_bounce, "%s",
	    f.classify_reason);
	ck_assert(!f.from_mailer_daemon);
	ck_assert_str_eq(f.classify_reason, "");
	decide(&f, &p);
	ck_assert_int_eq(p.verdict, ATSM_IN_FILE);
	expect_link(&p, ATSM_RECORD_RESUME, 1003, "sender_address");
	ck_assert(!has_keyword(&p, ATSM_KW_AUTOREPLY));
	pc = phase_of(&p, ATSM_RECORD_RESUME, 1003);
	ck_assert_ptr_nonnull(pc);
	ck_assert_str_eq(pc->to_phase, "active");
	ck_assert_int_eq(pc->rule_id, 9001);
	done(&f, &p);
	/* an Outlook reply (X-Auto-Response-Suppress, Thread-Topic) */
	sample_facts(&f, "outlook-reply.eml", "alice@atsmail.test");
	ck_assert(!f.is_autoreply);
	decide(&f, &p);
	ck_assert_ptr_nonnull(phase_of(&p, ATSM_RECORD_RESUME, 1001));
	done(&f, &p);
	/* a job board's relay from bounce@ to an intake address makes the
	 * applicant's resume, named from From */
	sample_facts(&f, "jobboard-relay.eml", "recruit@atsmail.test");
	ck_assert_str_eq(f.env_from, "bounce@mail.jobboard.example");
	ck_assert_str_eq(f.env_to, "recruit@atsmail.test");
	ck_assert(!f.is_autoreply && !f.is_list && !f.from_mailer_daemon);
	decide(&f, &p);
	ck_assert_msg(p.verdict == ATSM_IN_INTAKE, "%s", p.notes);
	ck_assert(!p.intake_unresolved);
	ck_assert_str_eq(p.sender, "kenta.mori@applicant.test");
	ck_assert_str_eq(p.sender_name, "Kenta Mori");
	ck_assert(has_keyword(&p, ATSM_KW_NEWRECORD));
	done(&f, &p);
}
END_TEST

static Suite *
suite(void)
{
	Suite *s = suite_create("inbound-facts");
	TCase *tc = tcase_create("facts");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, facts_json_round_trip);
	tcase_add_test(tc, facts_json_errors_name_the_field);
	tcase_add_test(tc, facts_key_is_one_per_copy);
	tcase_add_test(tc, facts_from_raw_iso2022jp_reply);
	tcase_add_test(tc, facts_from_raw_bounce_and_autoreply);
	tcase_add_test(tc, facts_generated_mail);
	tcase_add_test(tc, read_receipts_are_filed_in_their_thread_and_move_nothing);
	tcase_add_test(tc, list_posts_from_a_candidate_are_not_filed_on_the_candidate);
	tcase_add_test(tc, auto_replies_are_filed_without_phase_rule);
	tcase_add_test(tc, relayed_mail_of_a_person_fires_its_rule);
	suite_add_tcase(s, tc);
	return s;
}

ATSM_CHECK_MAIN()
