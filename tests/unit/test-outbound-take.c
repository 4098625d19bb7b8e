/* test-outbound-take.c -- mail that is taken, not delivered: ats+bulk and
 * ats+template.<code> in the outbound decision (lib/outbound/decide-take.c)
 * against the fake directory: the TAKE plan (recipients, records,
 * commands as JSON) and every refusal, with its sentence in English and
 * Japanese (lib/outbound/refusal.c). */
#include "test-outbound.h"

static const struct atsm_out_take_rcpt *
take_rcpt(const struct atsm_out_plan *p, const char *addr)
{
	size_t i;

	for (i = 0; i < p->take.n_rcpts; i++)
		if (strcmp(p->take.rcpts[i].addr, addr) == 0)
			return &p->take.rcpts[i];
	return NULL;
}

START_TEST(bulk_takes_every_envelope_recipient)
{
	struct atsm_out_facts f;
	struct atsm_out_plan p;
	const struct atsm_out_take_rcpt *r;

	/* To/Cc show candidates to each other: irrelevant, each gets their own mail */
	mail(&f, "alice@atsmail.test", "alice@atsmail.test",
	    "taro@candidate.test, hanako@candidate.test", "suzuki@client.test",
	    "taro@candidate.test", "hanako@candidate.test", "suzuki@client.test",
	    "nobody@unknown.test", CMD("bulk"), CMD("phase.active"), CMD("job.3002"),
	    CMD("share"), NULL);
	decide(&f, ATSM_OUT_LIVE, &p);
	ck_assert_msg(p.verdict == ATSM_OUT_TAKE, "verdict %s (%s)",
	    atsm_out_verdict_name(p.verdict), p.reply_text);
	ck_assert(p.take.bulk);
	ck_assert_str_eq(p.take.list, "");
	ck_assert_str_eq(p.take.template_code, "");
	ck_assert_uint_eq(p.take.n_rcpts, 4);
	ck_assert_uint_eq(p.take.n_matched, 3);
	ck_assert_int_eq(p.user_id, 1);
	r = take_rcpt(&p, "taro@candidate.test");
	ck_assert(r != NULL && r->kind == ATSM_RECORD_RESUME && r->id == 1001);
	r = take_rcpt(&p, "suzuki@client.test");
	ck_assert(r != NULL && r->kind == ATSM_RECORD_CONTACT && r->id == 2001);
	r = take_rcpt(&p, "nobody@unknown.test");
	ck_assert(r != NULL && r->kind == ATSM_RECORD_NONE);
	ck_assert(take_rcpt(&p, "ats+bulk@ats.atsmail.test") == NULL);
	ck_assert_str_eq(p.take.commands_json, "{\"jobs\":[3002],\"phase\":\"active\",\"share\":1}");
	/* nothing of an ordinary record */
	ck_assert_uint_eq(p.n_links, 0);
	ck_assert_uint_eq(p.n_procs, 0);
	done(&f, &p);
}
END_TEST

START_TEST(bulk_ignores_header_only_recipients)
{
	struct atsm_out_facts f;
	struct atsm_out_plan p;

	/* hanako only in To, not in the envelope: not a recipient of the job */
	mail(&f, "alice@atsmail.test", "alice@atsmail.test", "hanako@candidate.test", NULL,
	    "taro@candidate.test", CMD("bulk"), NULL);
	decide(&f, ATSM_OUT_LIVE, &p);
	ck_assert_int_eq(p.verdict, ATSM_OUT_TAKE);
	ck_assert_uint_eq(p.take.n_rcpts, 1);
	ck_assert_str_eq(p.take.rcpts[0].addr, "taro@candidate.test");
	ck_assert_str_eq(p.take.commands_json, "{}");
	done(&f, &p);
}
END_TEST

START_TEST(template_mail_to_one_record)
{
	struct atsm_out_facts f;
	struct atsm_out_plan p;

	/* the same record twice (two addresses of resume 1003) is one record */
	mail(&f, "alice@atsmail.test", "alice@atsmail.test", "jiro@candidate.test",
	    "jiro.home@example.net", "jiro@candidate.test", "jiro.home@example.net",
	    "boss@atsmail.test", CMD("template.offer-1"), NULL);
	decide(&f, ATSM_OUT_LIVE, &p);
	ck_assert_msg(p.verdict == ATSM_OUT_TAKE, "%s", p.reply_text);
	ck_assert(!p.take.bulk);
	ck_assert_str_eq(p.take.template_code, "offer-1");
	ck_assert_uint_eq(p.take.n_rcpts, 3);
	ck_assert_uint_eq(p.take.n_matched, 2);
	done(&f, &p);
}
END_TEST

START_TEST(bulk_with_list_or_csv_waits_for_the_milter)
{
	struct atsm_out_facts f;
	struct atsm_out_plan p;
	struct atsm_refusal r;

	mail(&f, "alice@atsmail.test", "alice@atsmail.test", NULL, NULL,
	    CMD("bulk.spring-2026"), NULL);
	decide(&f, ATSM_OUT_LIVE, &p);
	ck_assert_msg(p.verdict == ATSM_OUT_TAKE, "%s", p.reply_text);
	ck_assert_str_eq(p.take.list, "spring-2026");
	ck_assert_uint_eq(p.take.n_rcpts, 0);
	/* the milter's check once the list is read */
	ck_assert_int_eq(atsm_out_take_check(&conf, &p, 0, 0, &r), 1);
	ck_assert_int_eq(r.kind, ATSM_REFUSAL_BULK_EMPTY);
	ck_assert_int_eq(atsm_out_take_check(&conf, &p, 5001, 5001, &r), 1);
	ck_assert_str_eq(r.text, "too many recipients for one bulk mail: "
	    "ats+bulk.spring-2026@ats.atsmail.test has 5,001 recipients; at most 5,000 "
	    "(bulk_max_recipients); send it in parts");
	ck_assert_int_eq(atsm_out_take_check(&conf, &p, 5000, 1, &r), 0);
	done(&f, &p);
	mail(&f, "alice@atsmail.test", "alice@atsmail.test", NULL, NULL, CMD("bulk"), NULL);
	f.csv_attached = true;
	decide(&f, ATSM_OUT_LIVE, &p);
	ck_assert_int_eq(p.verdict, ATSM_OUT_TAKE);
	done(&f, &p);
}
END_TEST

START_TEST(reject_bulk_over_the_limit)
{
	struct atsm_out_facts f;

	set_conf("bulk_max_recipients", "2");
	mail(&f, "alice@atsmail.test", "alice@atsmail.test", NULL, NULL,
	    "taro@candidate.test", "hanako@candidate.test", "jiro@candidate.test",
	    CMD("bulk"), NULL);
	expect_reject(&f, "too many recipients for one bulk mail: ats+bulk@ats.atsmail.test "
	    "has 3 recipients; at most 2 (bulk_max_recipients)");
}
END_TEST

START_TEST(reject_bulk_without_a_match)
{
	struct atsm_out_facts f;

	mail(&f, "alice@atsmail.test", "alice@atsmail.test", NULL, NULL,
	    "x@unknown.test", "y@unknown.test", CMD("bulk"), NULL);
	expect_reject(&f, "no recipient matches a record: none of the 2 recipients of "
	    "ats+bulk@ats.atsmail.test");
	mail(&f, "alice@atsmail.test", "alice@atsmail.test", NULL, NULL, CMD("bulk"), NULL);
	expect_reject(&f, "no recipients: ats+bulk@ats.atsmail.test was given");
}
END_TEST

START_TEST(reject_template_to_two_records)
{
	struct atsm_out_facts f;

	mail(&f, "alice@atsmail.test", "alice@atsmail.test", "taro@candidate.test", NULL,
	    "taro@candidate.test", "hanako@candidate.test", CMD("template.offer"), NULL);
	expect_reject(&f, "a template mail is merged for one record: "
	    "ats+template.offer@ats.atsmail.test, but the recipients name 2 records; name one, "
	    "or add ats+bulk@ats.atsmail.test to send one mail each");
}
END_TEST

START_TEST(reject_template_and_list_faults)
{
	struct atsm_out_facts f;

	TARO_MAIL(&f, CMD("template.offer"), CMD("template.reject"), NULL);
	expect_reject(&f, "two templates in one mail");
	TARO_MAIL(&f, CMD("template.Bad!"), NULL);
	expect_reject(&f, "invalid template code \"bad!\"");
	TARO_MAIL(&f, CMD("bulk.a"), CMD("bulk.b"), NULL);
	expect_reject(&f, "two lists in one mail");
	TARO_MAIL(&f, CMD("bulk."), NULL);
	expect_reject(&f, "list name missing: ats+bulk.@ats.atsmail.test");
}
END_TEST

START_TEST(reject_bulk_from_non_user_or_bulk_runner)
{
	struct atsm_out_facts f;

	mail(&f, NULL, "stranger@else.test", NULL, NULL, "taro@candidate.test", CMD("bulk"),
	    NULL);
	expect_reject(&f, "not a recruiter");
	TARO_MAIL(&f, CMD("template.offer"), NULL);
	f.bulk_marked = true;
	expect_reject(&f, "a bulk job's mail cannot start another: "
	    "ats+template.offer@ats.atsmail.test");
}
END_TEST

START_TEST(reject_bulk_with_an_unknown_job)
{
	struct atsm_out_facts f;

	TARO_MAIL(&f, CMD("bulk"), CMD("job.9999"), NULL);
	expect_reject(&f, "no job 9999");
}
END_TEST

START_TEST(mail_without_take_commands_is_unchanged)
{
	struct atsm_out_facts f;
	struct atsm_out_plan p;

	/* the guard still applies to ordinary mail */
	mail(&f, "alice@atsmail.test", "alice@atsmail.test",
	    "taro@candidate.test, hanako@candidate.test", NULL,
	    "taro@candidate.test", "hanako@candidate.test", NULL);
	decide(&f, ATSM_OUT_LIVE, &p);
	ck_assert_int_eq(p.verdict, ATSM_OUT_REJECT);
	ck_assert_int_eq(p.refusal.kind, ATSM_REFUSAL_GUARD);
	done(&f, &p);
	/* REPLAY never takes (a journaled mail has left already) */
	TARO_MAIL(&f, CMD("bulk"), NULL);
	decide(&f, ATSM_OUT_REPLAY, &p);
	ck_assert_int_eq(p.verdict, ATSM_OUT_RECORD);
	done(&f, &p);
}
END_TEST

START_TEST(refusals_in_japanese)
{
	struct atsm_refusal r;
	char what[512], fix[512];

	atsm_refusal_set(&r, ATSM_REFUSAL_BULK_TOO_MANY, "ats", "ats.atsmail.test",
	    "ats+bulk@ats.atsmail.test", "5,012", "5,000");
	ck_assert_str_eq(r.text, "too many recipients for one bulk mail: "
	    "ats+bulk@ats.atsmail.test has 5,012 recipients; at most 5,000 "
	    "(bulk_max_recipients); send it in parts");
	atsm_refusal_render(&r, ATSM_LANG_JA, what, sizeof(what), fix, sizeof(fix));
	ck_assert_str_eq(what, "一括送信の宛先が多すぎます: ats+bulk@ats.atsmail.test の宛先は "
	    "5,012 件です（1回 5,000 件まで。bulk_max_recipients）");
	atsm_refusal_set(&r, ATSM_REFUSAL_TAG_MISSING, "ats", "ats.atsmail.test",
	    "ats+template.offer@ats.atsmail.test", "company.name", "resume 12 <a@b.test>");
	ck_assert_str_eq(r.text, "merge tag without a value: {{company.name}} for resume 12 "
	    "<a@b.test>, in the mail of ats+template.offer@ats.atsmail.test; fill it in the "
	    "ATS, give the tag a fallback ({{company.name|text}}), or leave that recipient out");
	atsm_refusal_render(&r, ATSM_LANG_JA, what, sizeof(what), fix, sizeof(fix));
	ck_assert_str_eq(what, "差し込みタグの値がありません: resume 12 <a@b.test> の "
	    "{{company.name}}（ats+template.offer@ats.atsmail.test のメール）");
	atsm_refusal_set(&r, ATSM_REFUSAL_NO_TEMPLATE, "ats", "ats.atsmail.test",
	    "ats+template.nope@ats.atsmail.test", "nope", NULL);
	ck_assert(strncmp(r.text, "no template \"nope\": ats+template.nope@", 38) == 0);
	atsm_refusal_render(&r, ATSM_LANG_JA, what, sizeof(what), fix, sizeof(fix));
	ck_assert(strstr(what, "テンプレート「nope」はありません: ") == what);
	ck_assert_str_eq(atsm_refusal_kind_name(ATSM_REFUSAL_TEMPLATE_SEVERAL), "template-several");
}
END_TEST

static Suite *
suite(void)
{
	Suite *s = suite_create("outbound-take");
	TCase *tc = tcase_create("take");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, bulk_takes_every_envelope_recipient);
	tcase_add_test(tc, bulk_ignores_header_only_recipients);
	tcase_add_test(tc, template_mail_to_one_record);
	tcase_add_test(tc, bulk_with_list_or_csv_waits_for_the_milter);
	tcase_add_test(tc, reject_bulk_over_the_limit);
	tcase_add_test(tc, reject_bulk_without_a_match);
	tcase_add_test(tc, reject_template_to_two_records);
	tcase_add_test(tc, reject_template_and_list_faults);
	tcase_add_test(tc, reject_bulk_from_non_user_or_bulk_runner);
	tcase_add_test(tc, reject_bulk_with_an_unknown_job);
	tcase_add_test(tc, mail_without_take_commands_is_unchanged);
	tcase_add_test(tc, refusals_in_japanese);
	suite_add_tcase(s, tc);
	return s;
}

ATSM_CHECK_MAIN()
