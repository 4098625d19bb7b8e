/* test-inbound-facts.c -- the facts of a mail that reached a mailbox
 * (lib/inbound/facts.c): read from raw messages (a Japanese reply, a
 * bounce, an auto-reply), the format-1 JSON form and its errors, the
 * idempotency key of one copy; and that facts read from a raw message
 * decide as expected against the fake directory.  No server.
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
	suite_add_tcase(s, tc);
	return s;
}

ATSM_CHECK_MAIN()
