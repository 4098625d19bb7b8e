/* test-outbound-facts.c -- the facts of a sent mail (lib/outbound/facts.c):
 * their JSON form, as format-1 journal entries hold it, written and read
 * back byte for byte, and every bad member named when it is read. */
#include "test-outbound.h"

START_TEST(facts_json_round_trip)
{
	struct atsm_out_facts f, g;
	struct atsm_err err;
	json_t *j, *back;
	char *text;

	mail(&f, "alice@atsmail.test", "alice@atsmail.test", "Taro <taro@candidate.test>", NULL,
	    "taro@candidate.test", CMD("share"), NULL);
	free(f.hdr_subject);
	f.hdr_subject = xstrdup("raw \x93\xfa\x96\x7b");   /* Shift_JIS: not UTF-8 */
	f.queue_id = xstrdup("4XyZ1");
	f.body_size = 1234;
	memset(f.body_sha256, 'a', 64);
	strcpy(f.token, "abcdefgh234567");
	ck_assert((j = atsm_out_facts_to_json(&f)) != NULL);
	ck_assert((text = json_dumps(j, JSON_COMPACT)) != NULL);
	ck_assert((back = json_loads(text, 0, NULL)) != NULL);
	ck_assert_msg(atsm_out_facts_from_json(back, &g, &err) == 0, "%s", err.msg);
	ck_assert_str_eq(g.login, f.login);
	ck_assert_str_eq(g.env_from, f.env_from);
	ck_assert_uint_eq(g.n_env_rcpts, 2);
	ck_assert_str_eq(g.env_rcpts[1], CMD("share"));
	ck_assert_str_eq(g.hdr_to, f.hdr_to);
	ck_assert_ptr_null(g.hdr_cc);
	ck_assert_ptr_null(g.hdr_bcc);
	ck_assert_str_eq(g.hdr_subject, f.hdr_subject);
	ck_assert_str_eq(g.hdr_message_id, f.hdr_message_id);
	ck_assert_str_eq(g.queue_id, "4XyZ1");
	ck_assert_uint_eq(g.body_size, 1234);
	ck_assert_str_eq(g.body_sha256, f.body_sha256);
	ck_assert_str_eq(g.idem_key, f.idem_key);
	ck_assert_str_eq(g.token, f.token);
	ck_assert_int_eq(g.submitted_at, f.submitted_at);
	/* absent: an SMTP submission, as in the entries of earlier releases */
	ck_assert_ptr_null(json_object_get(j, "non_smtp"));
	ck_assert(!g.non_smtp);
	free(text);
	json_decref(j);
	json_decref(back);
	atsm_out_facts_free(&g);
	/* a non-SMTP submission stays one in the journal and in replay */
	f.non_smtp = true;
	ck_assert((j = atsm_out_facts_to_json(&f)) != NULL);
	ck_assert(json_is_true(json_object_get(j, "non_smtp")));
	ck_assert_msg(atsm_out_facts_from_json(j, &g, &err) == 0, "%s", err.msg);
	ck_assert(g.non_smtp);
	json_decref(j);
	atsm_out_facts_free(&f);
	atsm_out_facts_free(&g);
}
END_TEST

static void
bad_json(const char *doc, const char *field)
{
	struct atsm_out_facts f;
	struct atsm_err err = { .msg = "" };
	json_t *j = json_loads(doc, JSON_ALLOW_NUL, NULL);

	ck_assert_msg(j != NULL, "test JSON: %s", doc);
	ck_assert_int_eq(atsm_out_facts_from_json(j, &f, &err), -1);
	ck_assert_msg(strstr(err.msg, field) != NULL, "\"%s\" does not name %s", err.msg, field);
	ck_assert_ptr_null(f.env_from);
	json_decref(j);
}

START_TEST(facts_json_errors_name_the_field)
{
	bad_json("[]", "object");
	bad_json("{\"v\":2,\"env_from\":\"\",\"env_rcpts\":[],\"idem_key\":\"k\"}", "'v'");
	bad_json("{\"v\":1,\"env_rcpts\":[],\"idem_key\":\"k\"}", "'env_from'");
	bad_json("{\"v\":1,\"env_from\":\"\",\"env_rcpts\":\"x\",\"idem_key\":\"k\"}", "'env_rcpts'");
	bad_json("{\"v\":1,\"env_from\":\"\",\"env_rcpts\":[\"a\",3],\"idem_key\":\"k\"}", "item 1");
	bad_json("{\"v\":1,\"env_from\":\"\",\"env_rcpts\":[]}", "'idem_key'");
	bad_json("{\"v\":1,\"env_from\":\"\",\"env_rcpts\":[],\"idem_key\":\"k\","
	    "\"body_sha256\":\"xyz\"}", "'body_sha256'");
	bad_json("{\"v\":1,\"env_from\":\"\",\"env_rcpts\":[],\"idem_key\":\"k\","
	    "\"body_size\":-1}", "'body_size'");
	bad_json("{\"v\":1,\"env_from\":\"a\\u0000b\",\"env_rcpts\":[],\"idem_key\":\"k\"}", "NUL");
}
END_TEST

static Suite *
suite(void)
{
	Suite *s = suite_create("outbound-facts");
	TCase *tc = tcase_create("facts");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, facts_json_round_trip);
	tcase_add_test(tc, facts_json_errors_name_the_field);
	suite_add_tcase(s, tc);
	return s;
}

ATSM_CHECK_MAIN()
