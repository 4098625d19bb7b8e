/* test-outbound-refusal.c -- the refusals of the outbound decision: which
 * are given at RCPT (atsm_out_decide_rcpt) and which only at the end of
 * the message, every kind rendered in English and Japanese, and the
 * process phase inferred from the thread a reply belongs to. */
#include "test-outbound.h"

#define DOM "ats.atsmail.test"

/* The RCPT decision for one address with alice's login (or login). */
static int
rcpt_as(const char *login, const char *env_from, const char *addr, struct atsm_refusal *r)
{
	struct atsm_out_facts f;
	struct atsm_err err;
	int rc;

	atsm_out_facts_init(&f);
	f.login = xstrdup(login);
	f.env_from = xstrdup(env_from);
	rc = atsm_out_decide_rcpt(&dir, &conf, &f, addr, r, &err);
	atsm_out_facts_free(&f);
	return rc;
}

static int
rcpt(const char *addr, struct atsm_refusal *r)
{
	return rcpt_as("alice@atsmail.test", "alice@atsmail.test", addr, r);
}

/* Refused at RCPT with kind, the sentence starting with start, and the
 * same kind at the end of the message (a mail that skipped RCPT). */
static void
at_rcpt(const char *addr, enum atsm_refusal_kind kind, const char *start)
{
	struct atsm_refusal r;
	struct atsm_out_facts f;
	struct atsm_out_plan p;

	ck_assert_msg(rcpt(addr, &r) == 1, "%s accepted at RCPT", addr);
	ck_assert_msg(r.kind == kind, "%s: kind %s", addr, atsm_refusal_kind_name(r.kind));
	ck_assert(r.at_rcpt);
	ck_assert_msg(strncmp(r.text, start, strlen(start)) == 0, "%s: \"%s\"", addr, r.text);
	TARO_MAIL(&f, addr, NULL);
	decide(&f, ATSM_OUT_LIVE, &p);
	ck_assert_int_eq(p.verdict, ATSM_OUT_REJECT);
	ck_assert_msg(p.refusal.kind == kind, "%s at the end: kind %s", addr,
	    atsm_refusal_kind_name(p.refusal.kind));
	ck_assert_str_eq(p.reply_text, r.text);
	done(&f, &p);
}

START_TEST(refused_at_rcpt)
{
	at_rcpt(CMD("frobnicate"), ATSM_REFUSAL_UNKNOWN_COMMAND, "unknown command \"frobnicate\": "
	    CMD("frobnicate"));
	at_rcpt(CMD("job.abc"), ATSM_REFUSAL_JOB_INVALID, "invalid job id \"abc\": ");
	at_rcpt(CMD("job."), ATSM_REFUSAL_JOB_MISSING, "job id missing: ");
	at_rcpt(CMD("phase.-x"), ATSM_REFUSAL_PHASE_INVALID, "invalid phase code \"-x\": ");
	at_rcpt(CMD("phase."), ATSM_REFUSAL_PHASE_MISSING, "phase code missing: ");
	at_rcpt(CMD("resume.x1"), ATSM_REFUSAL_ID_INVALID, "invalid resume id \"x1\": ");
	at_rcpt(CMD("contact."), ATSM_REFUSAL_ID_MISSING, "contact id missing: ");
	at_rcpt("ats@" DOM, ATSM_REFUSAL_NO_COMMAND, "no command given: ats@" DOM);
	at_rcpt("someone@" DOM, ATSM_REFUSAL_NOT_COMMAND, "not a command address: someone@");
	at_rcpt(CMD("job.9999"), ATSM_REFUSAL_NO_JOB, "no job 9999: " CMD("job.9999")
	    " names a job that does not exist; check the id in the ATS");
	at_rcpt(CMD("resume.99999"), ATSM_REFUSAL_NO_RECORD, "no resume 99999: ");
	at_rcpt(CMD("contact.99999"), ATSM_REFUSAL_NO_RECORD, "no contact 99999: ");
	at_rcpt(CMD("phase.nosuch"), ATSM_REFUSAL_NO_PHASE, "no phase \"nosuch\": ");
	/* templates and bulk send: what the address shows alone */
	at_rcpt(CMD("template."), ATSM_REFUSAL_TEMPLATE_MISSING, "template code missing: "
	    CMD("template."));
	at_rcpt(CMD("template._x"), ATSM_REFUSAL_TEMPLATE_INVALID, "invalid template code \"_x\": ");
	at_rcpt(CMD("bulk."), ATSM_REFUSAL_LIST_MISSING, "list name missing: " CMD("bulk."));
	at_rcpt(CMD("bulk.a.b"), ATSM_REFUSAL_LIST_INVALID, "invalid list name \"a.b\": ");
	/* any written form: quoted, mixed case */
	at_rcpt("\"ats+JOB.9999\"@" DOM, ATSM_REFUSAL_NO_JOB, "no job 9999: \"ats+JOB.9999\"@" DOM);
}
END_TEST

START_TEST(accepted_at_rcpt)
{
	struct atsm_refusal r;
	struct atsm_err err;
	struct atsm_out_facts f;

	/* good commands, and what needs the whole mail */
	ck_assert_int_eq(rcpt(CMD("job.3001"), &r), 0);
	ck_assert_int_eq(rcpt(CMD("phase.active"), &r), 0);
	ck_assert_int_eq(rcpt(CMD("bulk"), &r), 0);
	ck_assert_int_eq(rcpt(CMD("bulk.spring-2026"), &r), 0);
	ck_assert_int_eq(rcpt(CMD("template.offer"), &r), 0);
	ck_assert_int_eq(rcpt(CMD("phase.interview1"), &r), 0);   /* a job or thread may follow */
	ck_assert_int_eq(rcpt(CMD("share"), &r), 0);
	ck_assert_int_eq(rcpt(CMD("private"), &r), 0);             /* the contradiction waits */
	ck_assert_int_eq(rcpt("taro@candidate.test", &r), 0);      /* not a command */
	/* over SMTP without a login, From may still name a recruiter */
	ck_assert_int_eq(rcpt_as(NULL, "nobody@example.com", CMD("job.9999"), &r), 0);
	/* a failing directory: the end of the message decides */
	fake_dir_fail(&fd, true);
	atsm_out_facts_init(&f);
	f.login = xstrdup("alice@atsmail.test");
	ck_assert_int_eq(atsm_out_decide_rcpt(&dir, &conf, &f, CMD("job.3001"), &r, &err), -1);
	atsm_out_facts_free(&f);
	fake_dir_fail(&fd, false);
}
END_TEST

START_TEST(sender_refused_at_rcpt_and_at_the_end)
{
	struct atsm_refusal r;
	struct atsm_out_facts f;
	struct atsm_out_plan p;

	ck_assert_int_eq(rcpt_as("intern@atsmail.test", "intern@atsmail.test", CMD("job.3001"),
	    &r), 1);
	ck_assert_int_eq(r.kind, ATSM_REFUSAL_NOT_USER);
	ck_assert_str_eq(r.text, "not a recruiter: intern@atsmail.test is no registered user "
	    "and may not use " CMD("job.3001") "; send it from your recruiter account, or "
	    "remove the ats+ addresses");
	mail(&f, "intern@atsmail.test", "intern@atsmail.test", "taro@candidate.test", NULL,
	    "taro@candidate.test", CMD("job.3001"), NULL);
	decide(&f, ATSM_OUT_LIVE, &p);
	ck_assert_int_eq(p.refusal.kind, ATSM_REFUSAL_NOT_USER);
	ck_assert_str_eq(p.reply_text, r.text);
	done(&f, &p);
}
END_TEST

/* Refused only at the end of the message, with kind. */
static void
at_end(struct atsm_out_facts *f, enum atsm_refusal_kind kind)
{
	struct atsm_out_plan p;
	size_t i;

	for (i = 0; i < f->n_env_rcpts; i++) {
		struct atsm_refusal r;

		ck_assert_msg(rcpt(f->env_rcpts[i], &r) == 0, "%s refused at RCPT: %s",
		    f->env_rcpts[i], r.text);
	}
	decide(f, ATSM_OUT_LIVE, &p);
	ck_assert_int_eq(p.verdict, ATSM_OUT_REJECT);
	ck_assert_msg(p.refusal.kind == kind, "kind %s: %s", atsm_refusal_kind_name(p.refusal.kind),
	    p.reply_text);
	ck_assert(!p.refusal.at_rcpt);
	done(f, &p);
}

START_TEST(refused_at_the_end)
{
	struct atsm_out_facts f;

	TARO_MAIL(&f, CMD("share"), CMD("private"), NULL);
	at_end(&f, ATSM_REFUSAL_SHARE_CONFLICT);
	TARO_MAIL(&f, CMD("phase.active"), CMD("phase.placed"), NULL);
	at_end(&f, ATSM_REFUSAL_PHASE_CONFLICT);
	TARO_MAIL(&f, CMD("job.3001"), CMD("phase.active"), NULL);
	at_end(&f, ATSM_REFUSAL_NOT_PROCESS_PHASE);
	TARO_MAIL(&f, CMD("phase.interview1"), NULL);
	at_end(&f, ATSM_REFUSAL_PHASE_NEEDS_JOB);
	mail(&f, "alice@atsmail.test", "alice@atsmail.test", "friend@example.com", NULL,
	    "friend@example.com", CMD("private"), NULL);
	at_end(&f, ATSM_REFUSAL_NO_RECORD_LINKED);
	mail(&f, "alice@atsmail.test", "alice@atsmail.test", "friend@example.com", NULL,
	    "friend@example.com", CMD("job.3001"), NULL);
	at_end(&f, ATSM_REFUSAL_NO_CANDIDATE);
	mail(&f, "alice@atsmail.test", "alice@atsmail.test", "family@candidate.test", NULL,
	    "family@candidate.test", CMD("phase.active"), NULL);
	at_end(&f, ATSM_REFUSAL_AMBIGUOUS);
	mail(&f, "alice@atsmail.test", "alice@atsmail.test", "friend@example.com", NULL,
	    "friend@example.com", CMD("phase.active"), NULL);
	at_end(&f, ATSM_REFUSAL_NOTHING_TO_PHASE);
	mail(&f, "alice@atsmail.test", "alice@atsmail.test",
	    "taro@candidate.test, hanako@candidate.test", NULL, "taro@candidate.test",
	    "hanako@candidate.test", NULL);
	at_end(&f, ATSM_REFUSAL_GUARD);
}
END_TEST

/* Every kind: English and Japanese, what first, the full address. */
START_TEST(every_kind_in_both_languages)
{
	int k;

	for (k = ATSM_REFUSAL_NOT_COMMAND; k < ATSM_REFUSAL_KIND_COUNT; k++) {
		struct atsm_refusal r;
		char what[1024], fix[1024];
		const char *colon, *s;
		bool non_ascii = false;

		atsm_refusal_set(&r, (enum atsm_refusal_kind)k, "ats", DOM, CMD("job.12"), "resume",
		    "12");
		ck_assert_str_ne(atsm_refusal_kind_name(r.kind), "?");
		ck_assert_msg(r.text[0] != '\0', "kind %d: no text", k);
		for (s = r.text; *s != '\0'; s++)
			ck_assert_msg(*s >= 0x20 && *s < 0x7f, "%s: not ASCII", r.text);
		/* what is wrong, in a few words before the first colon */
		colon = strchr(r.text, ':');
		ck_assert_msg(colon != NULL && colon - r.text <= 45, "%s: \"%s\"",
		    atsm_refusal_kind_name(r.kind), r.text);
		/* the command address, in full, unless about the whole mail */
		if (k != ATSM_REFUSAL_TOO_MANY_ADDRESSES && k != ATSM_REFUSAL_TOO_MANY_RECORDS &&
		    k != ATSM_REFUSAL_GUARD)
			ck_assert_msg(strstr(r.text, CMD("job.12")) != NULL, "%s", r.text);
		atsm_refusal_render(&r, ATSM_LANG_EN, what, sizeof(what), fix, sizeof(fix));
		ck_assert_msg(what[0] != '\0' && fix[0] != '\0', "%s", r.text);
		ck_assert_msg(strncmp(r.text, what, strlen(what)) == 0, "%s / %s", r.text, what);
		atsm_refusal_render(&r, ATSM_LANG_JA, what, sizeof(what), fix, sizeof(fix));
		ck_assert_msg(what[0] != '\0' && fix[0] != '\0', "ja %s", r.text);
		for (s = what; *s != '\0'; s++)
			non_ascii = non_ascii || (unsigned char)*s >= 0xe3;  /* kana and kanji */
		ck_assert_msg(non_ascii, "ja is not Japanese: %s", what);
		/* Japanese also starts with the problem, not the address */
		ck_assert_msg(strncmp(what, "ats+", 4) != 0, "%s", what);
	}
}
END_TEST

START_TEST(phase_needs_job_says_add_ats_job)
{
	struct atsm_out_facts f;
	struct atsm_out_plan p;
	char what[1024], fix[1024];

	TARO_MAIL(&f, CMD("phase.interview1"), NULL);
	decide(&f, ATSM_OUT_LIVE, &p);
	ck_assert_int_eq(p.refusal.kind, ATSM_REFUSAL_PHASE_NEEDS_JOB);
	ck_assert_msg(strncmp(p.reply_text, "phase \"interview1\" needs a job: "
	    CMD("phase.interview1"), 32) == 0, "%s", p.reply_text);
	ck_assert_msg(strstr(p.reply_text, "add ats+job.<id>@" DOM) != NULL, "%s", p.reply_text);
	atsm_refusal_render(&p.refusal, ATSM_LANG_JA, what, sizeof(what), fix, sizeof(fix));
	ck_assert_str_eq(fix, "ats+job.<ID>@" DOM " を宛先に追加してください");
	done(&f, &p);
}
END_TEST

/* A reply in the thread of out-5002 (alice's, shared: resume 1002 x job
 * 3001, process 4001 in screening). */
static void
reply_to_hanako(struct atsm_out_facts *f, const char *ref, const char *cmd)
{
	mail(f, "alice@atsmail.test", "alice@atsmail.test", "hanako@candidate.test", NULL,
	    "hanako@candidate.test", cmd, NULL);
	f->hdr_in_reply_to = xstrdup(ref);
}

START_TEST(phase_in_thread_moves_its_process)
{
	struct atsm_out_facts f;
	struct atsm_out_plan p;

	reply_to_hanako(&f, "<out-5002@atsmail.test>", CMD("phase.interview1"));
	decide(&f, ATSM_OUT_LIVE, &p);
	ck_assert_msg(p.verdict == ATSM_OUT_RECORD, "%s", p.reply_text);
	ck_assert_uint_eq(p.n_procs, 1);
	ck_assert(p.procs[0].exists);
	ck_assert_int_eq(p.procs[0].process_id, 4001);
	ck_assert_str_eq(p.procs[0].from_phase, "screening");
	ck_assert_str_eq(p.procs[0].to_phase, "interview1");
	ck_assert(link_of(&p, ATSM_RECORD_PROCESS, 4001) != NULL);
	ck_assert(link_of(&p, ATSM_RECORD_RESUME, 1002) != NULL);
	ck_assert_uint_eq(p.n_phases, 0);
	done(&f, &p);
}
END_TEST

START_TEST(phase_in_a_thread_not_believed_is_refused)
{
	struct atsm_out_facts f;
	struct atsm_out_plan p;
	struct atsm_dir_message m;
	struct atsm_dir_link l[2];
	const char *parts[1] = { "hanako@candidate.test" };

	/* bob's private mail about the same process: not alice's to act on */
	memset(&m, 0, sizeof(m));
	memset(l, 0, sizeof(l));
	m.ref.id = 5099;
	snprintf(m.ref.key, sizeof(m.ref.key), "bob-private");
	m.thread = m.ref;
	m.direction = ATSM_DIR_OUT;
	m.visibility = ATSM_VIS_PRIVATE;
	m.owner_id = 2;
	l[0].kind = ATSM_RECORD_RESUME;
	l[0].id = 1002;
	l[1].kind = ATSM_RECORD_PROCESS;
	l[1].id = 4001;
	l[1].resume_id = 1002;
	l[1].job_id = 3001;
	m.links = l;
	m.n_links = 2;
	m.participants = parts;
	m.n_participants = 1;
	fake_dir_add_message(&fd, "bob-private@atsmail.test", &m);
	reply_to_hanako(&f, "<bob-private@atsmail.test>", CMD("phase.interview1"));
	decide(&f, ATSM_OUT_LIVE, &p);
	ck_assert_int_eq(p.verdict, ATSM_OUT_REJECT);
	ck_assert_int_eq(p.refusal.kind, ATSM_REFUSAL_PHASE_NEEDS_JOB);
	done(&f, &p);
	/* the same message shared: believed */
	m.visibility = ATSM_VIS_SHARED;
	fake_dir_add_message(&fd, "bob-shared@atsmail.test", &m);
	reply_to_hanako(&f, "<bob-shared@atsmail.test>", CMD("phase.interview1"));
	decide(&f, ATSM_OUT_LIVE, &p);
	ck_assert_msg(p.verdict == ATSM_OUT_RECORD, "%s", p.reply_text);
	ck_assert_uint_eq(p.n_procs, 1);
	done(&f, &p);
}
END_TEST

START_TEST(phase_shared_with_resumes_unchanged)
{
	struct atsm_out_facts f;
	struct atsm_out_plan p;

	/* "offer" made a resume phase too: the resume's phase is set, as
	 * before, and the thread's process is left alone */
	fake_dir_add_phase(&fd, ATSM_RECORD_RESUME, "offer", 50, true);
	reply_to_hanako(&f, "<out-5002@atsmail.test>", CMD("phase.offer"));
	decide(&f, ATSM_OUT_LIVE, &p);
	ck_assert_msg(p.verdict == ATSM_OUT_RECORD, "%s", p.reply_text);
	ck_assert_uint_eq(p.n_procs, 0);
	ck_assert_uint_eq(p.n_phases, 1);
	ck_assert_int_eq(p.phases[0].id, 1002);
	ck_assert_str_eq(p.phases[0].to_phase, "offer");
	done(&f, &p);
}
END_TEST

static Suite *
suite(void)
{
	Suite *s = suite_create("outbound-refusal");
	TCase *tc = tcase_create("refusal");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, refused_at_rcpt);
	tcase_add_test(tc, accepted_at_rcpt);
	tcase_add_test(tc, sender_refused_at_rcpt_and_at_the_end);
	tcase_add_test(tc, refused_at_the_end);
	tcase_add_test(tc, every_kind_in_both_languages);
	tcase_add_test(tc, phase_needs_job_says_add_ats_job);
	tcase_add_test(tc, phase_in_thread_moves_its_process);
	tcase_add_test(tc, phase_in_a_thread_not_believed_is_refused);
	tcase_add_test(tc, phase_shared_with_resumes_unchanged);
	suite_add_tcase(s, tc);
	return s;
}

ATSM_CHECK_MAIN()
