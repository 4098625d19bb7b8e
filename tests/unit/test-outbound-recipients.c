/* test-outbound-recipients.c -- the first steps of the outbound decision
 * (lib/outbound/decide-recipients.c, decide.c) against the fake directory:
 * what is not ATS mail, who sends, which records the recipients are, the
 * limits; and the decision's contract with the directory: a directory
 * that fails at any lookup gives -1 (UNAVAILABLE) and no half plan, and a
 * decision never changes the directory. */
#include "test-outbound.h"

/* ---------------------------------------------------------- not ATS mail */

START_TEST(pass_for_mail_that_is_not_ats_mail)
{
	struct atsm_out_facts f;
	struct atsm_out_plan p;
	struct atsm_arena a;
	struct atsm_dir_effects e;
	struct atsm_err err = { .msg = "" };

	mail(&f, "alice@atsmail.test", "alice@atsmail.test", "friend@example.com",
	    "bob@atsmail.test", "friend@example.com", "bob@atsmail.test", NULL);
	decide(&f, ATSM_OUT_LIVE, &p);
	ck_assert_int_eq(p.verdict, ATSM_OUT_PASS);
	ck_assert_uint_eq(p.n_links, 0);
	ck_assert_str_eq(p.reply_text, "");
	/* nothing to journal and nothing to change */
	ck_assert_ptr_null(atsm_out_record_payload(&f, &p, &err));
	ck_assert_msg(strstr(err.msg, "the plan says pass") != NULL, "%s", err.msg);
	atsm_arena_init(&a, 0);
	ck_assert_int_eq(atsm_out_effects(&f, &p, &a, &e, NULL), 0);
	ck_assert_ptr_null(e.message);
	ck_assert_uint_eq(e.n_phases, 0);
	atsm_arena_free(&a);
	done(&f, &p);
}
END_TEST

START_TEST(pass_for_unknown_sender)
{
	struct atsm_out_facts f;
	struct atsm_out_plan p;

	mail(&f, NULL, "stranger@example.com", "taro@candidate.test", NULL,
	    "taro@candidate.test", NULL);
	decide(&f, ATSM_OUT_LIVE, &p);
	ck_assert_int_eq(p.verdict, ATSM_OUT_PASS);
	ck_assert_int_eq(p.user_id, 0);
	done(&f, &p);
}
END_TEST

START_TEST(company_domain_is_never_a_candidate)
{
	struct atsm_out_facts f;
	struct atsm_out_plan p;

	/* even an address of the company that sits on a resume */
	fake_dir_add_addr(&fd, ATSM_RECORD_RESUME, 1008, "intern@atsmail.test");
	mail(&f, "alice@atsmail.test", "alice@atsmail.test", "intern@atsmail.test", NULL,
	    "intern@atsmail.test", NULL);
	decide(&f, ATSM_OUT_LIVE, &p);
	ck_assert_int_eq(p.verdict, ATSM_OUT_PASS);
	done(&f, &p);
}
END_TEST

/* ------------------------------------------------------------- sender */

START_TEST(sender_login_wins_over_envelope)
{
	struct atsm_out_facts f;
	struct atsm_out_plan p;

	mail(&f, "alice@atsmail.test", "bob@atsmail.test", "taro@candidate.test", NULL,
	    "taro@candidate.test", NULL);
	decide(&f, ATSM_OUT_LIVE, &p);
	ck_assert_int_eq(p.verdict, ATSM_OUT_RECORD);
	ck_assert_int_eq(p.user_id, 1);
	ck_assert_str_eq(p.user_login, "alice@atsmail.test");
	done(&f, &p);
	/* an authenticated login that is no user is not saved by MAIL FROM */
	mail(&f, "intern", "bob@atsmail.test", "taro@candidate.test", NULL,
	    "taro@candidate.test", NULL);
	decide(&f, ATSM_OUT_LIVE, &p);
	ck_assert_int_eq(p.verdict, ATSM_OUT_PASS);
	ck_assert_int_eq(p.user_id, 0);
	done(&f, &p);
}
END_TEST

START_TEST(sender_login_by_its_address)
{
	struct atsm_out_facts f;
	struct atsm_out_plan p;

	/* a login that is no user's login but a user's (additional) address */
	mail(&f, "Alice.Sales@ATSMAIL.test", "someone@example.com", "taro@candidate.test", NULL,
	    "taro@candidate.test", NULL);
	decide(&f, ATSM_OUT_LIVE, &p);
	ck_assert_int_eq(p.verdict, ATSM_OUT_RECORD);
	ck_assert_int_eq(p.user_id, 1);
	ck_assert_str_eq(p.user_login, "alice@atsmail.test");
	done(&f, &p);
}
END_TEST

START_TEST(sender_envelope_and_additional_address)
{
	struct atsm_out_facts f;
	struct atsm_out_plan p;

	mail(&f, NULL, "Bob@ATSMAIL.test", "taro@candidate.test", NULL, "taro@candidate.test", NULL);
	decide(&f, ATSM_OUT_LIVE, &p);
	ck_assert_int_eq(p.user_id, 2);
	done(&f, &p);
	mail(&f, NULL, "alice.sales@atsmail.test", "taro@candidate.test", NULL,
	    "taro@candidate.test", NULL);
	decide(&f, ATSM_OUT_LIVE, &p);
	ck_assert_int_eq(p.user_id, 1);
	done(&f, &p);
	/* null sender: the From header decides */
	mail(&f, NULL, "", "taro@candidate.test", NULL, "taro@candidate.test", NULL);
	f.hdr_from = xstrdup("Carol <carol@atsmail.test>, Bob <bob@atsmail.test>");
	decide(&f, ATSM_OUT_LIVE, &p);
	ck_assert_int_eq(p.user_id, 3);
	ck_assert_int_eq(p.sharing_mode, ATSM_SHARING_PRIVATE);
	done(&f, &p);
	/* an unknown envelope sender: the From address still decides */
	mail(&f, NULL, "bounce-handler@example.com", "taro@candidate.test", NULL,
	    "taro@candidate.test", NULL);
	f.hdr_from = xstrdup("dave@atsmail.test");
	decide(&f, ATSM_OUT_LIVE, &p);
	ck_assert_int_eq(p.user_id, 4);
	done(&f, &p);
}
END_TEST

START_TEST(inactive_user_sends_nobodys_mail)
{
	struct atsm_out_facts f;
	struct atsm_out_plan p;
	size_t i;

	for (i = 0; i < fd.n_users; i++)
		if (fd.users[i].id == 2)
			fd.users[i].active = false;
	mail(&f, "bob@atsmail.test", "bob@atsmail.test", "taro@candidate.test", NULL,
	    "taro@candidate.test", NULL);
	decide(&f, ATSM_OUT_LIVE, &p);
	ck_assert_int_eq(p.verdict, ATSM_OUT_PASS);
	done(&f, &p);
	mail(&f, NULL, "bob@atsmail.test", "taro@candidate.test", NULL, "taro@candidate.test", NULL);
	decide(&f, ATSM_OUT_LIVE, &p);
	ck_assert_int_eq(p.verdict, ATSM_OUT_PASS);
	done(&f, &p);
}
END_TEST

/* Mail submitted on the server (sendmail): the envelope sender, which
 * Postfix checked against the submitting login, decides alone; the From
 * header is any text the local account wrote. */
START_TEST(non_smtp_attributed_by_envelope_sender_only)
{
	struct atsm_out_facts f;
	struct atsm_out_plan p;

	mail(&f, NULL, "bob@atsmail.test", "taro@candidate.test", NULL, "taro@candidate.test", NULL);
	f.non_smtp = true;
	f.hdr_from = xstrdup("Alice <alice@atsmail.test>");
	decide(&f, ATSM_OUT_LIVE, &p);
	ck_assert_int_eq(p.verdict, ATSM_OUT_RECORD);
	ck_assert_int_eq(p.user_id, 2);
	ck_assert_msg(strstr(p.notes, "submitted on the server: attributed by its envelope sender "
	    "bob@atsmail.test") != NULL, "notes: %s", p.notes);
	done(&f, &p);
	/* a local account's own sender, a recruiter's From: nobody's mail */
	mail(&f, NULL, "nobody@mx.atsmail.test", "taro@candidate.test", NULL,
	    "taro@candidate.test", NULL);
	f.non_smtp = true;
	f.hdr_from = xstrdup("alice@atsmail.test");
	decide(&f, ATSM_OUT_LIVE, &p);
	ck_assert_int_eq(p.verdict, ATSM_OUT_PASS);
	ck_assert_int_eq(p.user_id, 0);
	done(&f, &p);
	/* and its commands are refused, saying why */
	mail(&f, NULL, "nobody@mx.atsmail.test", "taro@candidate.test", NULL,
	    "taro@candidate.test", CMD("job.3002"), NULL);
	f.non_smtp = true;
	f.hdr_from = xstrdup("alice@atsmail.test");
	expect_reject(&f, "not a recruiter: ats+job.3002@ats.atsmail.test in mail submitted on the server by the local account nobody@mx.atsmail.test");
}
END_TEST

START_TEST(non_smtp_untrusted_is_nobodys)
{
	struct atsm_out_facts f;
	struct atsm_out_plan p;

	set_conf("non_smtp_senders", "untrusted");
	mail(&f, NULL, "alice@atsmail.test", "taro@candidate.test", NULL, "taro@candidate.test", NULL);
	f.non_smtp = true;
	decide(&f, ATSM_OUT_LIVE, &p);
	ck_assert_int_eq(p.verdict, ATSM_OUT_PASS);
	done(&f, &p);
	mail(&f, NULL, "alice@atsmail.test", "taro@candidate.test", NULL, "taro@candidate.test",
	    CMD("private"), NULL);
	f.non_smtp = true;
	expect_reject(&f, "commands refused from sendmail: ats+private@ats.atsmail.test in mail submitted on the server");
	/* an SMTP submission is not concerned */
	mail(&f, NULL, "alice@atsmail.test", "taro@candidate.test", NULL, "taro@candidate.test", NULL);
	decide(&f, ATSM_OUT_LIVE, &p);
	ck_assert_int_eq(p.verdict, ATSM_OUT_RECORD);
	ck_assert_int_eq(p.user_id, 1);
	done(&f, &p);
}
END_TEST

/* --------------------------------------------------------- recipients */

START_TEST(one_candidate_in_to_is_recorded)
{
	struct atsm_out_facts f;
	struct atsm_out_plan p;
	const struct atsm_out_link *l;
	const struct atsm_out_rcpt *r;

	mail(&f, "alice@atsmail.test", "alice@atsmail.test", "Taro <Taro@Candidate.test>", NULL,
	    "Taro@Candidate.test", NULL);
	decide(&f, ATSM_OUT_LIVE, &p);
	ck_assert_int_eq(p.verdict, ATSM_OUT_RECORD);
	ck_assert_uint_eq(p.n_links, 1);
	ck_assert((l = link_of(&p, ATSM_RECORD_RESUME, 1001)) != NULL);
	ck_assert_str_eq(l->rule, "recipient_address");
	ck_assert(!l->ambiguous);
	ck_assert_str_eq(p.vis.name, "shared");
	ck_assert_uint_eq(p.n_rcpts, 1);
	ck_assert((r = rcpt_of(&p, "taro@candidate.test")) != NULL);
	ck_assert_int_eq(r->kind, ATSM_OUT_TO);
	ck_assert(r->in_envelope);
	ck_assert_int_eq(r->record_kind, ATSM_RECORD_RESUME);
	ck_assert_int_eq(r->record_id, 1001);
	ck_assert_uint_eq(p.n_counterparts, 1);
	ck_assert_str_eq(p.counterparts[0], "taro@candidate.test");
	ck_assert_str_eq(p.subject, "Interview");
	ck_assert_str_eq(p.message_id, "t1@atsmail.test");
	done(&f, &p);
}
END_TEST

/* A newcomer whose intake mail is in the journal only: linked to the
 * resume their mail is making, by address; once PostgreSQL's resume is
 * there, to that one. */
START_TEST(newcomer_is_linked_to_the_resume_in_the_making)
{
	struct atsm_out_facts f;
	struct atsm_out_plan p;
	struct atsm_dir_effects e;
	const struct atsm_out_link *l;
	const struct atsm_out_rcpt *r;

	memset(&e, 0, sizeof(e));
	e.new_resume = "kenji@applicant.test";
	e.new_resume_owner = 7;
	fake_dir_apply(&fd, &e);
	mail(&f, "alice@atsmail.test", "alice@atsmail.test", "Kenji <kenji@applicant.test>", NULL,
	    "kenji@applicant.test", NULL);
	decide(&f, ATSM_OUT_LIVE, &p);
	ck_assert_int_eq(p.verdict, ATSM_OUT_RECORD);
	ck_assert_uint_eq(p.n_links, 1);
	ck_assert((l = link_of(&p, ATSM_RECORD_RESUME, 0)) != NULL);
	ck_assert_str_eq(l->resume_addr, "kenji@applicant.test");
	ck_assert_str_eq(l->rule, "recipient_address");
	ck_assert(!l->ambiguous);
	ck_assert((r = rcpt_of(&p, "kenji@applicant.test")) != NULL);
	ck_assert_int_eq(r->record_kind, ATSM_RECORD_RESUME);
	ck_assert_int_eq(r->record_id, 0);
	ck_assert_uint_eq(p.n_candidates, 1);
	/* shared, as a new resume is */
	ck_assert_int_eq(p.vis.visibility, ATSM_VIS_SHARED);
	done(&f, &p);
	fake_dir_add_record(&fd, ATSM_RECORD_RESUME, 10001, true, "new");
	fake_dir_add_addr(&fd, ATSM_RECORD_RESUME, 10001, "kenji@applicant.test");
	mail(&f, "alice@atsmail.test", "alice@atsmail.test", "kenji@applicant.test", NULL,
	    "kenji@applicant.test", NULL);
	decide(&f, ATSM_OUT_LIVE, &p);
	ck_assert_uint_eq(p.n_links, 1);
	ck_assert((l = link_of(&p, ATSM_RECORD_RESUME, 10001)) != NULL);
	ck_assert_ptr_null(l->resume_addr);
	done(&f, &p);
}
END_TEST

START_TEST(bcc_only_candidate)
{
	struct atsm_out_facts f;
	struct atsm_out_plan p;

	mail(&f, "alice@atsmail.test", "alice@atsmail.test", "bob@atsmail.test", NULL,
	    "bob@atsmail.test", "hanako@candidate.test", NULL);
	decide(&f, ATSM_OUT_LIVE, &p);
	ck_assert_int_eq(p.verdict, ATSM_OUT_RECORD);
	ck_assert(link_of(&p, ATSM_RECORD_RESUME, 1002) != NULL);
	ck_assert_int_eq(rcpt_of(&p, "hanako@candidate.test")->kind, ATSM_OUT_BCC);
	ck_assert_int_eq(rcpt_of(&p, "bob@atsmail.test")->kind, ATSM_OUT_TO);
	ck_assert_uint_eq(p.n_counterparts, 2);
	done(&f, &p);
}
END_TEST

START_TEST(ambiguous_address_links_every_record)
{
	struct atsm_out_facts f;
	struct atsm_out_plan p;
	const struct atsm_out_rcpt *r;

	mail(&f, "alice@atsmail.test", "alice@atsmail.test", "family@candidate.test", NULL,
	    "family@candidate.test", NULL);
	decide(&f, ATSM_OUT_LIVE, &p);
	ck_assert_int_eq(p.verdict, ATSM_OUT_RECORD);
	ck_assert_uint_eq(p.n_links, 2);
	ck_assert(link_of(&p, ATSM_RECORD_RESUME, 1004)->ambiguous);
	ck_assert(link_of(&p, ATSM_RECORD_RESUME, 1005)->ambiguous);
	r = rcpt_of(&p, "family@candidate.test");
	ck_assert(r->ambiguous);
	ck_assert_int_eq(r->record_id, 1004);     /* the first, for the guard */
	done(&f, &p);
}
END_TEST

START_TEST(two_addresses_of_one_resume_make_one_link)
{
	struct atsm_out_facts f;
	struct atsm_out_plan p;

	mail(&f, "alice@atsmail.test", "alice@atsmail.test", "jiro@candidate.test",
	    "jiro.home@example.net", "jiro@candidate.test", "jiro.home@example.net", NULL);
	decide(&f, ATSM_OUT_LIVE, &p);
	ck_assert_int_eq(p.verdict, ATSM_OUT_RECORD);     /* one candidate: no guard */
	ck_assert_uint_eq(p.n_links, 1);
	ck_assert(!link_of(&p, ATSM_RECORD_RESUME, 1003)->ambiguous);
	ck_assert_uint_eq(p.n_candidates, 1);
	done(&f, &p);
}
END_TEST

START_TEST(links_come_in_address_order)
{
	struct atsm_out_facts f;
	struct atsm_out_plan p;

	/* asked in byte order of the addresses, as the one SQL statement did
	 * (hanako, suzuki, taro), whatever the order of To and the envelope */
	mail(&f, "alice@atsmail.test", "alice@atsmail.test", "suzuki@client.test", NULL,
	    "suzuki@client.test", "taro@candidate.test", "hanako@candidate.test", NULL);
	decide(&f, ATSM_OUT_LIVE, &p);
	ck_assert_int_eq(p.verdict, ATSM_OUT_RECORD);
	ck_assert_uint_eq(p.n_links, 3);
	ck_assert_int_eq(p.links[0].id, 1002);
	ck_assert_int_eq(p.links[1].kind, ATSM_RECORD_CONTACT);
	ck_assert_int_eq(p.links[1].id, 2001);
	ck_assert_int_eq(p.links[2].id, 1001);
	done(&f, &p);
}
END_TEST

START_TEST(command_addresses_are_set_apart)
{
	struct atsm_out_facts f;
	struct atsm_out_plan p;
	size_t i;

	TARO_MAIL(&f, CMD("private"), NULL);
	decide(&f, ATSM_OUT_LIVE, &p);
	ck_assert_int_eq(p.verdict, ATSM_OUT_RECORD);
	ck_assert(p.commands.any);
	ck_assert(rcpt_of(&p, CMD("private"))->is_command);
	ck_assert_uint_eq(p.n_counterparts, 1);
	for (i = 0; i < p.n_counterparts; i++)
		ck_assert(strstr(p.counterparts[i], "ats+") == NULL);
	done(&f, &p);
}
END_TEST

/* ------------------------------------------------------------- limits */

START_TEST(more_addresses_than_address_max_count)
{
	struct atsm_out_facts f;
	struct atsm_out_plan p;

	set_conf("address_max_count", "3");
	mail(&f, "alice@atsmail.test", "alice@atsmail.test", "taro@candidate.test",
	    "a@example.com, b@example.com", "taro@candidate.test", "c@example.com", NULL);
	expect_reject(&f, "too many recipients: more than 3 addresses (address_max_count); send it in parts");
	/* REPLAY: noted, the first three examined */
	mail(&f, "alice@atsmail.test", "alice@atsmail.test", "taro@candidate.test",
	    "a@example.com, b@example.com", "taro@candidate.test", "c@example.com", NULL);
	decide(&f, ATSM_OUT_REPLAY, &p);
	ck_assert_int_eq(p.verdict, ATSM_OUT_RECORD);
	ck_assert_uint_eq(p.n_rcpts, 3);
	ck_assert_msg(strstr(p.notes, "skipped: too many recipients: more than 3") != NULL, "%s", p.notes);
	done(&f, &p);
	/* exactly at the limit: decided as usual */
	mail(&f, "alice@atsmail.test", "alice@atsmail.test", "taro@candidate.test",
	    "a@example.com, b@example.com", "taro@candidate.test", NULL);
	decide(&f, ATSM_OUT_LIVE, &p);
	ck_assert_int_eq(p.verdict, ATSM_OUT_RECORD);
	done(&f, &p);
}
END_TEST

START_TEST(more_records_than_a_plan_holds)
{
	struct atsm_out_facts f;
	struct atsm_out_plan p;
	char addr[64];
	long long id;

	/* five addresses of 1,000 resumes each: past ATSM_OUT_MAX_LINKS */
	for (id = 10000; id < 15000; id++) {
		snprintf(addr, sizeof(addr), "pool%lld@candidate.test", (id - 10000) / 1000);
		fake_dir_add_record(&fd, ATSM_RECORD_RESUME, id, true, "new");
		fake_dir_add_addr(&fd, ATSM_RECORD_RESUME, id, addr);
	}
	mail(&f, "alice@atsmail.test", "alice@atsmail.test", NULL, NULL, "pool0@candidate.test",
	    "pool1@candidate.test", "pool2@candidate.test", "pool3@candidate.test",
	    "pool4@candidate.test", NULL);
	expect_reject(&f, "linked to more than 4096 resumes and contacts");
	mail(&f, "alice@atsmail.test", "alice@atsmail.test", NULL, NULL, "pool0@candidate.test",
	    "pool1@candidate.test", "pool2@candidate.test", "pool3@candidate.test",
	    "pool4@candidate.test", NULL);
	decide(&f, ATSM_OUT_REPLAY, &p);
	ck_assert_int_eq(p.verdict, ATSM_OUT_RECORD);
	ck_assert_uint_eq(p.n_links, ATSM_OUT_MAX_LINKS);
	ck_assert_msg(strstr(p.notes, "more than 4096") != NULL, "%s", p.notes);
	done(&f, &p);
}
END_TEST

/* ------------------------------------------------ the directory contract */

/* A directory that fails from its n-th operation on (counted from 0):
 * the fake's operations, behind a counter. */
static struct atsm_dir_ops failing_ops;
static unsigned long fail_at;

static bool
failing_now(void)
{
	fake_dir_fail(&fd, fd.calls >= fail_at);
	return fd.fail;
}

#define WRAP(name, params, args) \
	static int w_##name params \
	{ \
		const struct atsm_dir_ops *o = fake_dir_dir(&fd).ops; \
		(void)failing_now(); \
		return o->name args; \
	}
WRAP(user_by_login, (void *x, const char *l, struct atsm_dir_user *u, struct atsm_err *e),
    (x, l, u, e))
WRAP(user_by_addr, (void *x, const char *l, struct atsm_dir_user *u, struct atsm_err *e),
    (x, l, u, e))
WRAP(records_by_addr, (void *x, const char *a, struct atsm_dir_record *o2, size_t m, size_t *n,
    struct atsm_err *e), (x, a, o2, m, n, e))
WRAP(record, (void *x, enum atsm_record_kind k, long long id, struct atsm_dir_record *r,
    struct atsm_err *e), (x, k, id, r, e))
WRAP(job, (void *x, long long id, struct atsm_dir_job *j, struct atsm_err *e), (x, id, j, e))
WRAP(process, (void *x, long long r, long long j, struct atsm_dir_process *p,
    struct atsm_err *e), (x, r, j, p, e))
WRAP(phase_active, (void *x, enum atsm_record_kind k, const char *c, struct atsm_err *e),
    (x, k, c, e))
WRAP(phase_first, (void *x, enum atsm_record_kind k, char out[ATSM_DIR_PHASE_MAX],
    struct atsm_err *e), (x, k, out, e))
WRAP(excluded_domain, (void *x, const char *d, struct atsm_err *e), (x, d, e))
WRAP(message_by_msgid, (void *x, const char *m, enum atsm_dir_direction d, struct atsm_arena *a,
    struct atsm_dir_message *out, struct atsm_err *e), (x, m, d, a, out, e))

static struct atsm_dir
failing_dir(void)
{
	struct atsm_dir d = fake_dir_dir(&fd);

	failing_ops = *d.ops;
	failing_ops.user_by_login = w_user_by_login;
	failing_ops.user_by_addr = w_user_by_addr;
	failing_ops.records_by_addr = w_records_by_addr;
	failing_ops.record = w_record;
	failing_ops.job = w_job;
	failing_ops.process = w_process;
	failing_ops.phase_active = w_phase_active;
	failing_ops.phase_first = w_phase_first;
	failing_ops.excluded_domain = w_excluded_domain;
	failing_ops.message_by_msgid = w_message_by_msgid;
	d.ops = &failing_ops;
	return d;
}

static void
expect_no_half_plan(const struct atsm_out_plan *p, const struct atsm_err *err)
{
	ck_assert_int_eq(err->cls, ATSM_ERR_UNAVAILABLE);
	ck_assert_msg(strstr(err->msg, "failing on purpose") != NULL, "%s", err->msg);
	ck_assert_msg(strstr(err->msg, "outbound decision: looking up") != NULL, "%s", err->msg);
	ck_assert_int_eq(p->verdict, ATSM_OUT_PASS);
	ck_assert_str_eq(p->reply_text, "");
	ck_assert_uint_eq(p->n_rcpts, 0);
	ck_assert_uint_eq(p->n_links, 0);
	ck_assert_uint_eq(p->n_procs, 0);
	ck_assert_uint_eq(p->n_phases, 0);
	ck_assert_int_eq(p->user_id, 0);
	ck_assert_ptr_null(p->subject);
	ck_assert_str_eq(p->token, "");
}

START_TEST(failing_directory_gives_unavailable_and_no_plan)
{
	struct atsm_out_facts f;
	struct atsm_out_plan p;
	struct atsm_err err = { .msg = "" };

	fake_dir_fail(&fd, true);
	mail(&f, "alice@atsmail.test", "alice@atsmail.test", "taro@candidate.test", NULL,
	    "taro@candidate.test", CMD("job.3002"), CMD("phase.screening"), NULL);
	ck_assert_int_eq(atsm_out_decide(&dir, &conf, NULL, &f, ATSM_OUT_LIVE, &p, &err), -1);
	expect_no_half_plan(&p, &err);
	done(&f, &p);
}
END_TEST

START_TEST(failing_directory_at_every_lookup)
{
	struct atsm_out_facts f;
	struct atsm_out_plan p;
	struct atsm_dir d = failing_dir();
	unsigned long total;

	/* how many lookups a full decision of this mail makes */
	mail(&f, "alice@atsmail.test", "alice@atsmail.test", "taro@candidate.test",
	    "boss@hr.example", "taro@candidate.test", "boss@hr.example", CMD("job.3001.3002"),
	    CMD("phase.interview1"), CMD("contact.2001"), NULL);
	free(f.hdr_references);
	f.hdr_references = xstrdup("<nowhere@example.com> <out-5001@atsmail.test>");
	fail_at = (unsigned long)-1;
	fd.calls = 0;
	ck_assert_int_eq(atsm_out_decide(&d, &conf, NULL, &f, ATSM_OUT_LIVE, &p, NULL), 0);
	ck_assert_int_eq(p.verdict, ATSM_OUT_RECORD);
	ck_assert(p.in_thread);
	atsm_out_plan_free(&p);
	total = fd.calls;
	ck_assert_uint_gt(total, 10);
	/* failing at any one of them fails the whole decision */
	for (fail_at = 0; fail_at < total; fail_at++) {
		struct atsm_err err = { .msg = "" };

		fd.calls = 0;
		ck_assert_msg(atsm_out_decide(&d, &conf, NULL, &f, ATSM_OUT_LIVE, &p, &err) == -1,
		    "failing at lookup %lu of %lu was not reported", fail_at, total);
		expect_no_half_plan(&p, &err);
		atsm_out_plan_free(&p);
	}
	atsm_out_facts_free(&f);
}
END_TEST

/* What a decision could change: the users, records, jobs, processes and
 * phases of the fake, field by field, and how many of everything. */
struct dir_copy {
	struct fake_dir d;             /* counts and the arrays below */
};

static void *
dup_mem(const void *p, size_t n)
{
	void *q = calloc(1, n + 1);

	ck_assert(q != NULL);
	if (n > 0)
		memcpy(q, p, n);
	return q;
}

static void
copy_dir(struct dir_copy *c)
{
	c->d = fd;
	c->d.users = dup_mem(fd.users, fd.n_users * sizeof(*fd.users));
	c->d.records = dup_mem(fd.records, fd.n_records * sizeof(*fd.records));
	c->d.jobs = dup_mem(fd.jobs, fd.n_jobs * sizeof(*fd.jobs));
	c->d.procs = dup_mem(fd.procs, fd.n_procs * sizeof(*fd.procs));
	c->d.phases = dup_mem(fd.phases, fd.n_phases * sizeof(*fd.phases));
}

static void
same_dir(struct dir_copy *c)
{
	const struct fake_dir *d = &c->d;
	size_t i;

	ck_assert_uint_eq(d->n_users, fd.n_users);
	ck_assert_uint_eq(d->n_records, fd.n_records);
	ck_assert_uint_eq(d->n_jobs, fd.n_jobs);
	ck_assert_uint_eq(d->n_procs, fd.n_procs);
	ck_assert_uint_eq(d->n_phases, fd.n_phases);
	ck_assert_uint_eq(d->n_addrs, fd.n_addrs);
	ck_assert_uint_eq(d->n_msgs, fd.n_msgs);
	ck_assert_uint_eq(d->n_excluded, fd.n_excluded);
	ck_assert_uint_eq(d->n_events, fd.n_events);
	for (i = 0; i < fd.n_users; i++) {
		ck_assert_int_eq(d->users[i].id, fd.users[i].id);
		ck_assert_str_eq(d->users[i].login, fd.users[i].login);
		ck_assert(d->users[i].active == fd.users[i].active);
	}
	for (i = 0; i < fd.n_records; i++) {
		ck_assert_int_eq(d->records[i].id, fd.records[i].id);
		ck_assert_str_eq(d->records[i].phase, fd.records[i].phase);
		ck_assert(d->records[i].shared == fd.records[i].shared);
	}
	for (i = 0; i < fd.n_jobs; i++) {
		ck_assert_int_eq(d->jobs[i].id, fd.jobs[i].id);
		ck_assert(d->jobs[i].open == fd.jobs[i].open);
	}
	for (i = 0; i < fd.n_procs; i++) {
		ck_assert_int_eq(d->procs[i].id, fd.procs[i].id);
		ck_assert_int_eq(d->procs[i].resume_id, fd.procs[i].resume_id);
		ck_assert_int_eq(d->procs[i].job_id, fd.procs[i].job_id);
		ck_assert_str_eq(d->procs[i].phase, fd.procs[i].phase);
	}
	for (i = 0; i < fd.n_phases; i++) {
		ck_assert_str_eq(d->phases[i].code, fd.phases[i].code);
		ck_assert(d->phases[i].active == fd.phases[i].active);
	}
	free(c->d.users);
	free(c->d.records);
	free(c->d.jobs);
	free(c->d.procs);
	free(c->d.phases);
}

START_TEST(decide_changes_nothing_in_the_directory)
{
	struct atsm_out_facts f;
	struct atsm_out_plan p;
	struct dir_copy c;

	copy_dir(&c);
	/* a new process, a moved one, a phase set on a contact, a reply */
	mail(&f, "bob@atsmail.test", "bob@atsmail.test", "hanako@candidate.test",
	    "suzuki@client.test", "hanako@candidate.test", "suzuki@client.test",
	    CMD("job.3001.3002"), CMD("phase.interview1"), NULL);
	f.hdr_in_reply_to = xstrdup("<out-5002@atsmail.test>");
	decide(&f, ATSM_OUT_LIVE, &p);
	ck_assert_int_eq(p.verdict, ATSM_OUT_RECORD);
	ck_assert_uint_eq(p.n_procs, 2);
	done(&f, &p);
	mail(&f, "alice@atsmail.test", "alice@atsmail.test", "taro@candidate.test",
	    "suzuki@client.test", "taro@candidate.test", "suzuki@client.test",
	    CMD("phase.active"), NULL);
	decide(&f, ATSM_OUT_REPLAY, &p);
	ck_assert_uint_eq(p.n_phases, 2);
	done(&f, &p);
	same_dir(&c);
}
END_TEST

static Suite *
suite(void)
{
	Suite *s = suite_create("outbound-recipients");
	TCase *tc = tcase_create("recipients");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, pass_for_mail_that_is_not_ats_mail);
	tcase_add_test(tc, pass_for_unknown_sender);
	tcase_add_test(tc, company_domain_is_never_a_candidate);
	tcase_add_test(tc, sender_login_wins_over_envelope);
	tcase_add_test(tc, sender_login_by_its_address);
	tcase_add_test(tc, sender_envelope_and_additional_address);
	tcase_add_test(tc, inactive_user_sends_nobodys_mail);
	tcase_add_test(tc, non_smtp_attributed_by_envelope_sender_only);
	tcase_add_test(tc, non_smtp_untrusted_is_nobodys);
	tcase_add_test(tc, one_candidate_in_to_is_recorded);
	tcase_add_test(tc, newcomer_is_linked_to_the_resume_in_the_making);
	tcase_add_test(tc, bcc_only_candidate);
	tcase_add_test(tc, ambiguous_address_links_every_record);
	tcase_add_test(tc, two_addresses_of_one_resume_make_one_link);
	tcase_add_test(tc, links_come_in_address_order);
	tcase_add_test(tc, command_addresses_are_set_apart);
	tcase_add_test(tc, more_addresses_than_address_max_count);
	tcase_add_test(tc, more_records_than_a_plan_holds);
	tcase_add_test(tc, failing_directory_gives_unavailable_and_no_plan);
	tcase_add_test(tc, failing_directory_at_every_lookup);
	tcase_add_test(tc, decide_changes_nothing_in_the_directory);
	suite_add_tcase(s, tc);
	return s;
}

ATSM_CHECK_MAIN()
