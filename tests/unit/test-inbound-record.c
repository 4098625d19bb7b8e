/* test-inbound-record.c -- what a decided inbound mail records and
 * changes (lib/inbound/record.c): the exact format-2 payload of
 * representative plans (docs/journal.md "Record payloads"), the effects,
 * and, applied to the fake directory as atsmaild applies them after
 * journaling, what the next decision sees: a second copy of the mail is
 * already recorded, a reply to a mail decided a moment earlier (known
 * only through its effects, id 0) is matched and names the thread by
 * key.  No server.
 */
#include "test-inbound-fixture.h"

#define SHA "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

/* Fixed facts, so that the payload can be compared byte for byte. */
static void
fixed(struct atsm_in_facts *f, const char *key, const char *msgid)
{
	snprintf(f->idem_key, sizeof(f->idem_key), "%s", key);
	set(&f->hdr_message_id, msgid);
	snprintf(f->body_sha256, sizeof(f->body_sha256), "%s", SHA);
	f->imap_uid = 7;
}

static void
expect_payload(const struct atsm_in_facts *f, const struct atsm_in_plan *p, const char *want)
{
	char *got = payload_text(f, p);

	ck_assert_str_eq(got, want);
	free(got);
}

START_TEST(payload_of_a_reply_with_process_and_phases)
{
	struct atsm_in_facts f;
	struct atsm_in_plan p;

	mail(&f, "alice@atsmail.test", "hanako@candidate.test", "alice@atsmail.test");
	fixed(&f, "k-hanako", "<r1@candidate.test>");
	set(&f.hdr_in_reply_to, "<out-5002@atsmail.test>");
	decide(&f, &p);
	expect_payload(&f, &p, "{"
	    "\"actor\":\"alice@atsmail.test\",\"auto_reply\":false,\"bounce\":false,"
	    "\"bounced\":{\"id\":0,\"key\":\"\"},\"bounced_rcpts\":[],"
	    "\"counterparts\":[\"hanako@candidate.test\"],\"generated\":false,\"imap_uid\":7,"
	    "\"intake\":null,\"intake_unresolved\":false,\"key\":\"k-hanako\","
	    "\"links\":[{\"ambiguous\":false,\"id\":1002,\"kind\":\"resume\",\"rule\":\"in_reply_to\"},"
	    "{\"ambiguous\":false,\"id\":4001,\"job\":3001,\"kind\":\"process\",\"resume\":1002,"
	    "\"rule\":\"in_reply_to\"}],"
	    "\"mailbox\":\"INBOX\",\"owner\":1,"
	    "\"phases\":[{\"cause\":\"reply\",\"from\":\"new\",\"id\":1002,\"kind\":\"resume\","
	    "\"rule\":9001,\"to\":\"active\"},"
	    "{\"cause\":\"reply\",\"from\":\"screening\",\"id\":4001,\"job\":3001,\"kind\":\"process\","
	    "\"resume\":1002,\"rule\":9002,\"to\":\"interview1\"}],"
	    "\"reason\":\"sender mode public\",\"received\":1795000000,"
	    "\"rfc_message_id\":\"r1@candidate.test\",\"sender\":\"hanako@candidate.test\","
	    "\"sender_name\":null,\"sent\":{\"id\":0,\"key\":\"\"},\"sha256\":\"" SHA "\","
	    "\"size\":1234,\"subject\":\"Re: Interview\","
	    "\"thread\":{\"id\":5002,\"key\":\"seed-out-5002\"},"
	    "\"thread_root\":\"out-5002@atsmail.test\",\"v\":2,\"verdict\":\"file\","
	    "\"visibility\":\"shared\"}");
	done(&f, &p);
}
END_TEST

START_TEST(payload_of_a_bounce)
{
	struct atsm_in_facts f;
	struct atsm_in_plan p;
	char addr[128];

	snprintf(addr, sizeof(addr), "bob+ats-%s@atsmail.test", tok[2]);
	mail(&f, "bob@atsmail.test", "MAILER-DAEMON@mx.client.test", addr);
	fixed(&f, "k-bounce", "<b1@mx.client.test>");
	set(&f.env_from, "");
	set(&f.hdr_subject, "Undelivered Mail Returned to Sender");
	f.is_bounce = f.from_mailer_daemon = true;
	f.bounced = calloc(2, sizeof(*f.bounced));
	f.n_bounced = 2;
	f.bounced[0].addr = strdup("suzuki@client.test");
	snprintf(f.bounced[0].status, sizeof(f.bounced[0].status), "5.1.1");
	f.bounced[0].hard = true;
	f.bounced[0].diagnostic = strdup("550 5.1.1 ユーザ不明");
	f.bounced[1].addr = strdup("sato@client.test");
	snprintf(f.bounced[1].status, sizeof(f.bounced[1].status), "4.2.2");
	decide(&f, &p);
	ck_assert_int_eq(p.verdict, ATSM_IN_BOUNCE);
	expect_payload(&f, &p, "{"
	    "\"actor\":\"bob@atsmail.test\",\"auto_reply\":false,\"bounce\":true,"
	    "\"bounced\":{\"id\":5003,\"key\":\"seed-out-5003\"},"
	    "\"bounced_rcpts\":[{\"a\":\"suzuki@client.test\",\"diag\":\"550 5.1.1 ユーザ不明\","
	    "\"hard\":true,\"st\":\"5.1.1\"}],"   /* sato: not a recipient of 5003 */
	    "\"counterparts\":[\"mailer-daemon@mx.client.test\"],\"generated\":false,\"imap_uid\":7,"
	    "\"intake\":null,\"intake_unresolved\":false,\"key\":\"k-bounce\","
	    "\"links\":[{\"ambiguous\":false,\"id\":2001,\"kind\":\"contact\",\"rule\":\"verp\"}],"
	    "\"mailbox\":\"INBOX\",\"owner\":2,"
	    "\"phases\":[{\"cause\":\"bounce\",\"from\":\"new\",\"id\":2001,\"kind\":\"contact\","
	    "\"rule\":9004,\"to\":\"inactive\"}],"
	    "\"reason\":\"bounce of message 5003 (its visibility)\",\"received\":1795000000,"
	    "\"rfc_message_id\":\"b1@mx.client.test\",\"sender\":\"mailer-daemon@mx.client.test\","
	    "\"sender_name\":null,\"sent\":{\"id\":0,\"key\":\"\"},\"sha256\":\"" SHA "\","
	    "\"size\":1234,\"subject\":\"Undelivered Mail Returned to Sender\","
	    "\"thread\":{\"id\":5003,\"key\":\"seed-out-5003\"},\"thread_root\":null,\"v\":2,"
	    "\"verdict\":\"bounce\",\"visibility\":\"shared\"}");
	done(&f, &p);
}
END_TEST

START_TEST(payload_of_intake_and_of_a_sent_copy)
{
	struct atsm_in_facts f;
	struct atsm_in_plan p;

	mail(&f, "recruit@atsmail.test", "=?UTF-8?B?5bGx5pysIOiKseWtkA==?= <new@applicant.test>",
	    "recruit@atsmail.test");
	fixed(&f, "k-intake", "<apply-1@applicant.test>");
	set(&f.hdr_subject, "=?UTF-8?B?5b+c5Yuf?=");      /* 応募 */
	decide(&f, &p);
	expect_payload(&f, &p, "{"
	    "\"actor\":\"atsmaild\",\"auto_reply\":false,\"bounce\":false,"
	    "\"bounced\":{\"id\":0,\"key\":\"\"},\"bounced_rcpts\":[],"
	    "\"counterparts\":[\"new@applicant.test\"],\"generated\":false,\"imap_uid\":7,"
	    "\"intake\":\"recruit@atsmail.test\",\"intake_unresolved\":false,\"key\":\"k-intake\",\"links\":[],"
	    "\"mailbox\":\"INBOX\",\"owner\":null,\"phases\":[],"
	    "\"reason\":\"sender mode public\",\"received\":1795000000,"
	    "\"rfc_message_id\":\"apply-1@applicant.test\",\"sender\":\"new@applicant.test\","
	    "\"sender_name\":\"山本 花子\",\"sent\":{\"id\":0,\"key\":\"\"},\"sha256\":\"" SHA "\","
	    "\"size\":1234,\"subject\":\"応募\",\"thread\":{\"id\":0,\"key\":\"\"},"
	    "\"thread_root\":null,\"v\":2,\"verdict\":\"intake\",\"visibility\":\"shared\"}");
	done(&f, &p);
	/* a Sent copy names the sent item; nothing else is recorded of it */
	mail(&f, "alice@atsmail.test", "alice@atsmail.test", "taro@candidate.test");
	f.how = ATSM_IN_APPEND;
	set(&f.mailbox, "Sent");
	set(&f.env_to, NULL);                    /* an APPEND has no envelope */
	fixed(&f, "k-sent", "<out-5001@atsmail.test>");
	decide(&f, &p);
	expect_payload(&f, &p, "{"
	    "\"actor\":\"alice@atsmail.test\",\"auto_reply\":false,\"bounce\":false,"
	    "\"bounced\":{\"id\":0,\"key\":\"\"},\"bounced_rcpts\":[],"
	    "\"counterparts\":[\"alice@atsmail.test\",\"taro@candidate.test\"],\"generated\":false,\"imap_uid\":7,"
	    "\"intake\":null,\"intake_unresolved\":false,\"key\":\"k-sent\",\"links\":[],"
	    "\"mailbox\":\"Sent\",\"owner\":1,\"phases\":[],\"reason\":\"\",\"received\":1795000000,"
	    "\"rfc_message_id\":\"out-5001@atsmail.test\",\"sender\":\"alice@atsmail.test\","
	    "\"sender_name\":null,\"sent\":{\"id\":5001,\"key\":\"seed-out-5001\"},"
	    "\"sha256\":\"" SHA "\",\"size\":1234,\"subject\":\"Re: Interview\","
	    "\"thread\":{\"id\":0,\"key\":\"\"},\"thread_root\":null,\"v\":2,"
	    "\"verdict\":\"sent_copy\",\"visibility\":\"shared\"}");
	done(&f, &p);
}
END_TEST

START_TEST(payload_refused_for_ignore_or_without_key)
{
	struct atsm_in_facts f;
	struct atsm_in_plan p;
	struct atsm_err err = { .msg = "" };

	mail(&f, "alice@atsmail.test", "friend@example.com", "alice@atsmail.test");
	decide(&f, &p);
	ck_assert_int_eq(p.verdict, ATSM_IN_IGNORE);
	ck_assert_ptr_null(atsm_in_record_payload(&f, &p, &err));
	ck_assert_int_eq(err.cls, ATSM_ERR_INPUT);
	ck_assert_msg(strstr(err.msg, "ignore") != NULL, "%s", err.msg);
	done(&f, &p);
	mail(&f, "alice@atsmail.test", "taro@candidate.test", "alice@atsmail.test");
	decide(&f, &p);
	f.idem_key[0] = '\0';
	ck_assert_ptr_null(atsm_in_record_payload(&f, &p, &err));
	ck_assert_int_eq(err.cls, ATSM_ERR_INPUT);
	ck_assert_msg(strstr(err.msg, "idempotency key") != NULL, "%s", err.msg);
	done(&f, &p);
}
END_TEST

/* ------------------------------------------------------------ effects */

START_TEST(effects_of_a_filed_reply)
{
	struct atsm_in_facts f;
	struct atsm_in_plan p;
	struct atsm_dir_effects e;
	struct atsm_err err;

	mail(&f, "alice@atsmail.test", "hanako@candidate.test", "alice@atsmail.test");
	fixed(&f, "k-hanako", "<r1@candidate.test>");
	set(&f.hdr_in_reply_to, "<out-5002@atsmail.test>");
	set(&f.hdr_cc, "suzuki@client.test");
	decide(&f, &p);
	ck_assert_int_eq(atsm_in_effects(&f, &p, &arena, &e, &err), 0);
	ck_assert_str_eq(e.msgid, "r1@candidate.test");
	ck_assert_ptr_nonnull(e.message);
	ck_assert_int_eq(e.message->direction, ATSM_DIR_IN);
	ck_assert_int_eq(e.message->ref.id, 0);
	ck_assert_str_eq(e.message->ref.key, "k-hanako");
	ck_assert_int_eq(e.message->thread.id, 5002);
	ck_assert_int_eq(e.message->visibility, ATSM_VIS_SHARED);
	ck_assert_str_eq(e.message->token, "");
	ck_assert_uint_eq(e.message->n_links, 2);
	ck_assert_int_eq(e.message->links[1].kind, ATSM_RECORD_PROCESS);
	ck_assert_int_eq(e.message->links[1].id, 4001);
	ck_assert_int_eq(e.message->links[1].resume_id, 1002);
	ck_assert_int_eq(e.message->links[1].job_id, 3001);
	ck_assert_uint_eq(e.message->n_participants, 2);
	ck_assert_str_eq(e.message->participants[0], "hanako@candidate.test");
	ck_assert_str_eq(e.message->participants[1], "suzuki@client.test");
	ck_assert_uint_eq(e.n_phases, 2);
	ck_assert_int_eq(e.phases[0].kind, ATSM_RECORD_RESUME);
	ck_assert_int_eq(e.phases[0].id, 1002);
	ck_assert_str_eq(e.phases[0].phase, "active");
	ck_assert_int_eq(e.phases[1].kind, ATSM_RECORD_PROCESS);
	ck_assert_int_eq(e.phases[1].resume_id, 1002);
	ck_assert_int_eq(e.phases[1].job_id, 3001);
	ck_assert_str_eq(e.phases[1].phase, "interview1");
	ck_assert_ptr_null(e.intake_sender);
	ck_assert_int_eq(e.at, NOW);
	/* atsmaild applies them: the snapshot has the phases at once */
	fake_dir_apply(&fd, &e);
	ck_assert_str_eq(fake_dir_record(&fd, ATSM_RECORD_RESUME, 1002)->phase, "active");
	ck_assert_str_eq(fake_dir_process(&fd, 1002, 3001)->phase, "interview1");
	ck_assert_ptr_nonnull(fake_dir_message(&fd, "r1@candidate.test", ATSM_DIR_IN));
	done(&f, &p);
}
END_TEST

START_TEST(effects_of_intake_copies_and_mail_without_message_id)
{
	struct atsm_in_facts f;
	struct atsm_in_plan p;
	struct atsm_dir_effects e;
	struct atsm_err err;
	char *text;

	mail(&f, "recruit@atsmail.test", "new@applicant.test", "recruit@atsmail.test");
	decide(&f, &p);
	ck_assert_int_eq(atsm_in_effects(&f, &p, &arena, &e, &err), 0);
	ck_assert_str_eq(e.intake_sender, "new@applicant.test");
	/* it makes a resume: in the directory at once, in the making */
	ck_assert_str_eq(e.new_resume, "new@applicant.test");
	ck_assert_int_eq(e.new_resume_owner, 0);
	ck_assert_ptr_nonnull(e.message);
	/* linked to it, as the record function links it (rule intake) */
	ck_assert_uint_eq(e.message->n_links, 1);
	ck_assert_int_eq(e.message->links[0].kind, ATSM_RECORD_RESUME);
	ck_assert_int_eq(e.message->links[0].id, 0);
	ck_assert_str_eq(e.message->links[0].resume_addr, "new@applicant.test");
	/* but the payload has no link: the function makes it */
	text = payload_text(&f, &p);
	ck_assert_msg(strstr(text, "\"links\":[]") != NULL, "%s", text);
	free(text);
	done(&f, &p);
	/* an unresolved item makes no resume */
	mail(&f, "alice@atsmail.test", "ask@company.test", "jobs@atsmail.test");
	decide(&f, &p);
	ck_assert(p.intake_unresolved);
	ck_assert_int_eq(atsm_in_effects(&f, &p, &arena, &e, &err), 0);
	ck_assert_str_eq(e.intake_sender, "ask@company.test");
	ck_assert_ptr_null(e.new_resume);
	ck_assert_uint_eq(e.message->n_links, 0);
	done(&f, &p);
	/* a Sent copy changes nothing */
	mail(&f, "alice@atsmail.test", "alice@atsmail.test", "taro@candidate.test");
	set(&f.hdr_message_id, "<out-5001@atsmail.test>");
	rekey(&f);
	decide(&f, &p);
	ck_assert_int_eq(p.verdict, ATSM_IN_SENT_COPY);
	ck_assert_int_eq(atsm_in_effects(&f, &p, &arena, &e, &err), 0);
	ck_assert_ptr_null(e.message);
	ck_assert_ptr_null(e.msgid);
	ck_assert_uint_eq(e.n_phases, 0);
	done(&f, &p);
	/* no Message-ID: the message is known by its key only */
	mail(&f, "alice@atsmail.test", "taro@candidate.test", "alice@atsmail.test");
	set(&f.hdr_message_id, NULL);
	rekey(&f);
	decide(&f, &p);
	ck_assert_int_eq(atsm_in_effects(&f, &p, &arena, &e, &err), 0);
	ck_assert_ptr_null(e.msgid);
	ck_assert_ptr_nonnull(e.message);
	ck_assert_str_eq(e.message->ref.key, f.idem_key);
	ck_assert_uint_eq(e.n_phases, 1);
	text = payload_text(&f, &p);
	ck_assert_msg(strstr(text, "\"rfc_message_id\":null") != NULL, "%s", text);
	free(text);
	/* nothing decided, nothing changed */
	p.verdict = ATSM_IN_IGNORE;
	ck_assert_int_eq(atsm_in_effects(&f, &p, &arena, &e, &err), 0);
	ck_assert_ptr_null(e.message);
	ck_assert_uint_eq(e.n_phases, 0);
	done(&f, &p);
}
END_TEST

/* ------------------------------------------- the next decision sees it */

START_TEST(second_copy_after_the_first_is_already_recorded)
{
	struct atsm_in_facts f;
	struct atsm_in_plan p;
	struct atsm_dir_effects e;
	struct atsm_err err;
	char key1[65];

	mail(&f, "alice@atsmail.test", "taro@candidate.test", "alice@atsmail.test");
	set(&f.hdr_cc, "bob@atsmail.test");
	decide(&f, &p);
	ck_assert_int_eq(p.n_phases, 1);
	ck_assert(!p.already_recorded);
	snprintf(key1, sizeof(key1), "%s", f.idem_key);
	/* the message only: the rule must stay silent for the second copy
	 * because the mail is recorded, not because the phase has moved */
	ck_assert_int_eq(atsm_in_effects(&f, &p, &arena, &e, &err), 0);
	e.n_phases = 0;
	fake_dir_apply(&fd, &e);
	atsm_in_plan_free(&p);
	/* the same mail delivered to bob */
	set(&f.mailbox_user, "bob@atsmail.test");
	set(&f.env_to, "bob@atsmail.test");
	rekey(&f);
	ck_assert_str_ne(f.idem_key, key1);
	decide(&f, &p);
	ck_assert_int_eq(p.verdict, ATSM_IN_FILE);
	ck_assert(p.already_recorded);
	ck_assert_int_eq(p.message.id, 0);
	ck_assert_str_eq(p.message.key, key1);
	ck_assert_int_eq(p.n_phases, 0);           /* the first copy did it */
	expect_link(&p, ATSM_RECORD_RESUME, 1001, "sender_address");
	ck_assert_int_eq(atsm_in_effects(&f, &p, &arena, &e, &err), 0);
	ck_assert_ptr_null(e.message);
	ck_assert_uint_eq(e.n_phases, 0);
	done(&f, &p);
}
END_TEST

START_TEST(reply_to_a_mail_decided_a_moment_earlier)
{
	struct atsm_in_facts f, g;
	struct atsm_in_plan p, q;
	char want[128], refs[256], *text;

	/* during an outage: taro writes, filed by his address ... */
	mail(&f, "alice@atsmail.test", "taro@candidate.test", "alice@atsmail.test");
	set(&f.hdr_message_id, "<first@candidate.test>");
	rekey(&f);
	decide(&f, &p);
	ck_assert_int_eq(p.n_phases, 1);
	apply(&f, &p);
	/* ... and writes again, in reply to his first mail */
	mail(&g, "alice@atsmail.test", "taro@candidate.test", "alice@atsmail.test");
	set(&g.hdr_in_reply_to, "<first@candidate.test>");
	decide(&g, &q);
	ck_assert_int_eq(q.verdict, ATSM_IN_FILE);
	expect_link(&q, ATSM_RECORD_RESUME, 1001, "in_reply_to");
	ck_assert_int_eq(q.thread.id, 0);
	ck_assert_str_eq(q.thread.key, f.idem_key);
	/* the first moved 1001 to active: nothing more to move */
	ck_assert_str_eq(fake_dir_record(&fd, ATSM_RECORD_RESUME, 1001)->phase, "active");
	ck_assert_int_eq(q.n_phases, 0);
	text = payload_text(&g, &q);
	snprintf(want, sizeof(want), "\"thread\":{\"id\":0,\"key\":\"%s\"}", f.idem_key);
	ck_assert_msg(strstr(text, want) != NULL, "%s", text);
	free(text);
	/* a third mail in the thread keeps the thread's first message */
	apply(&g, &q);
	snprintf(refs, sizeof(refs), "<first@candidate.test> %s", g.hdr_message_id);
	atsm_in_plan_free(&q);
	atsm_in_facts_free(&g);
	mail(&g, "alice@atsmail.test", "taro@candidate.test", "alice@atsmail.test");
	set(&g.hdr_references, refs);
	decide(&g, &q);
	ck_assert_str_eq(q.thread.key, f.idem_key);
	ck_assert_str_eq(q.thread_root, "first@candidate.test");
	atsm_in_plan_free(&q);
	atsm_in_facts_free(&g);
	done(&f, &p);
}
END_TEST

static Suite *
suite(void)
{
	Suite *s = suite_create("inbound-record");
	TCase *tc = tcase_create("record");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, payload_of_a_reply_with_process_and_phases);
	tcase_add_test(tc, payload_of_a_bounce);
	tcase_add_test(tc, payload_of_intake_and_of_a_sent_copy);
	tcase_add_test(tc, payload_refused_for_ignore_or_without_key);
	tcase_add_test(tc, effects_of_a_filed_reply);
	tcase_add_test(tc, effects_of_intake_copies_and_mail_without_message_id);
	tcase_add_test(tc, second_copy_after_the_first_is_already_recorded);
	tcase_add_test(tc, reply_to_a_mail_decided_a_moment_earlier);
	suite_add_tcase(s, tc);
	return s;
}

ATSM_CHECK_MAIN()
