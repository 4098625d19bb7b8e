/* test-outbound-record.c -- what a decided sent mail records and changes
 * (lib/outbound/record.c): the exact record payload (format 2,
 * docs/journal.md "Record payloads") of representative plans, its
 * refusals, and the effects on the directory -- applied to the fake
 * directory as atsmaild applies them to its snapshot, after which the
 * next decision sees the message, the process and the phase. */
#include "test-outbound.h"

/* got equals the JSON text want (members in any order); got is released. */
static void
expect_json(json_t *got, const char *want)
{
	json_error_t jerr;
	json_t *w = json_loads(want, 0, &jerr);
	char *g;

	ck_assert_msg(w != NULL, "expected JSON: %s", jerr.text);
	ck_assert(got != NULL);
	g = json_dumps(got, JSON_COMPACT | JSON_SORT_KEYS);
	ck_assert_msg(json_equal(got, w), "payload\n  %s\nwanted\n  %s", g, want);
	free(g);
	json_decref(w);
	json_decref(got);
}

static json_t *
payload(const struct atsm_out_facts *f, const struct atsm_out_plan *p)
{
	struct atsm_err err = { .msg = "" };
	json_t *j = atsm_out_record_payload(f, p, &err);

	ck_assert_msg(j != NULL, "payload: %s", err.msg);
	return j;
}

/* Decide, then do what atsmaild does once the payload is journaled. */
static void
decide_and_apply(const struct atsm_out_facts *f, struct atsm_out_plan *p)
{
	struct atsm_arena a;
	struct atsm_dir_effects e;
	struct atsm_err err = { .msg = "" };

	decide(f, ATSM_OUT_LIVE, p);
	atsm_arena_init(&a, 1024 * 1024);
	ck_assert_msg(atsm_out_effects(f, p, &a, &e, &err) == 0, "effects: %s", err.msg);
	fake_dir_apply(&fd, &e);
	atsm_arena_free(&a);
}

/* ------------------------------------------------------------- payload */

START_TEST(payload_of_a_new_process)
{
	struct atsm_out_facts f;
	struct atsm_out_plan p;

	mail(&f, "alice@atsmail.test", "alice@atsmail.test", "Taro <taro@candidate.test>",
	    "suzuki@client.test", "taro@candidate.test", "suzuki@client.test", "bob@atsmail.test",
	    CMD("phase.interview1"), CMD("job.3006"), NULL);
	f.body_size = 2048;
	memset(f.body_sha256, 'a', 64);
	strcpy(f.token, "abcdefghijklmnopqrstuvwxyz234567abcdef");
	decide(&f, ATSM_OUT_LIVE, &p);
	ck_assert_int_eq(p.verdict, ATSM_OUT_RECORD);
	/* with ats+job, ats+phase is the new process's; links come in
	 * address order (suzuki before taro), then jobs */
	expect_json(payload(&f, &p), "{\"v\":2,\"actor\":\"alice@atsmail.test\",\"key\":\"key-1\","
	    "\"message_id\":\"t1@atsmail.test\",\"refs\":[],\"owner\":1,"
	    "\"counterparts\":[\"taro@candidate.test\",\"suzuki@client.test\",\"bob@atsmail.test\"],"
	    "\"subject\":\"Interview\",\"sent\":1795000000,\"size\":2048,"
	    "\"sha256\":\"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\","
	    "\"token\":\"abcdefghijklmnopqrstuvwxyz234567abcdef\","
	    "\"visibility\":\"shared\",\"reason\":\"sender mode public\","
	    "\"rcpts\":[{\"a\":\"taro@candidate.test\",\"k\":\"to\"},"
	    "{\"a\":\"suzuki@client.test\",\"k\":\"cc\"},{\"a\":\"bob@atsmail.test\",\"k\":\"bcc\"}],"
	    "\"procs\":[{\"resume\":1001,\"job\":3006,\"process\":0,\"to\":\"interview1\"}],"
	    "\"phases\":[],"
	    "\"links\":[{\"kind\":\"contact\",\"id\":2001,\"rule\":\"recipient_address\","
	    "\"ambiguous\":false},{\"kind\":\"resume\",\"id\":1001,\"rule\":\"recipient_address\","
	    "\"ambiguous\":false},{\"kind\":\"job\",\"id\":3006,\"rule\":\"command\","
	    "\"ambiguous\":false}],"
	    "\"recipients\":3}");
	done(&f, &p);
}
END_TEST

START_TEST(payload_of_a_held_mail_moving_a_process)
{
	struct atsm_out_facts f;
	struct atsm_out_plan p;

	mail(&f, "erin@atsmail.test", "erin@atsmail.test", "hanako@candidate.test", NULL,
	    "hanako@candidate.test", CMD("job.3001.3002"), CMD("phase.interview1"), NULL);
	f.queue_id = xstrdup("4XyZ0a1b2C");
	decide(&f, ATSM_OUT_LIVE, &p);
	ck_assert_int_eq(p.verdict, ATSM_OUT_HOLD);
	/* the existing process is linked with its id, resume and job; the new
	 * one is made (and linked) by the SQL function */
	expect_json(payload(&f, &p), "{\"v\":2,\"actor\":\"erin@atsmail.test\",\"key\":\"key-1\","
	    "\"message_id\":\"t1@atsmail.test\",\"refs\":[],\"owner\":6,"
	    "\"counterparts\":[\"hanako@candidate.test\"],\"subject\":\"Interview\","
	    "\"sent\":1795000000,\"size\":0,\"sha256\":\"\",\"token\":\"\","
	    "\"visibility\":\"shared\",\"reason\":\"sender mode public\","
	    "\"rcpts\":[{\"a\":\"hanako@candidate.test\",\"k\":\"to\"}],"
	    "\"procs\":[{\"resume\":1002,\"job\":3001,\"process\":4001,\"to\":\"interview1\"},"
	    "{\"resume\":1002,\"job\":3002,\"process\":0,\"to\":\"interview1\"}],"
	    "\"phases\":[],"
	    "\"links\":[{\"kind\":\"resume\",\"id\":1002,\"rule\":\"recipient_address\","
	    "\"ambiguous\":false},{\"kind\":\"job\",\"id\":3001,\"rule\":\"command\","
	    "\"ambiguous\":false},{\"kind\":\"job\",\"id\":3002,\"rule\":\"command\","
	    "\"ambiguous\":false},{\"kind\":\"process\",\"id\":4001,\"resume\":1002,\"job\":3001,"
	    "\"rule\":\"command\",\"ambiguous\":false}],"
	    "\"recipients\":1,\"held\":true,\"queue_id\":\"4XyZ0a1b2C\","
	    "\"hold_reason\":\"mail from erin@atsmail.test waits for approval (the user "
	    "needs approval before mail to candidates leaves)\","
	    "\"command_at\":\"ats@ats.atsmail.test\"}");
	done(&f, &p);
}
END_TEST

/* A queue id the database would refuse is not sent: the mail is then
 * released by hand (docs/atsmailctl.md, "held"). */
START_TEST(payload_of_a_held_mail_without_a_usable_queue_id)
{
	static const char *const bad[] = { NULL, "", "NO QUEUE", "4Xy;rm" };
	struct atsm_out_facts f;
	struct atsm_out_plan p;
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		json_t *j;

		mail(&f, "erin@atsmail.test", "erin@atsmail.test", "taro@candidate.test", NULL,
		    "taro@candidate.test", NULL);
		f.queue_id = bad[i] != NULL ? xstrdup(bad[i]) : NULL;
		decide(&f, ATSM_OUT_LIVE, &p);
		ck_assert_int_eq(p.verdict, ATSM_OUT_HOLD);
		j = payload(&f, &p);
		ck_assert(json_is_true(json_object_get(j, "held")));
		ck_assert_msg(json_is_null(json_object_get(j, "queue_id")), "queue id %zu", i);
		json_decref(j);
		done(&f, &p);
	}
}
END_TEST

START_TEST(payload_of_a_reply_setting_phases)
{
	struct atsm_out_facts f;
	struct atsm_out_plan p;

	/* one of an ambiguous pair named; a reply; no Message-ID, no Subject */
	mail(&f, "dave@atsmail.test", "dave@atsmail.test", "family@candidate.test", NULL,
	    "family@candidate.test", CMD("resume.1005"), CMD("phase.active"), CMD("private"), NULL);
	free(f.hdr_message_id);
	free(f.hdr_subject);
	f.hdr_message_id = f.hdr_subject = NULL;
	f.hdr_references = xstrdup("<out-5004@atsmail.test>\r\n <x@y.example>");
	f.hdr_in_reply_to = xstrdup("<x@y.example>");
	decide(&f, ATSM_OUT_LIVE, &p);
	ck_assert_int_eq(p.verdict, ATSM_OUT_RECORD);
	expect_json(payload(&f, &p), "{\"v\":2,\"actor\":\"dave@atsmail.test\",\"key\":\"key-1\","
	    "\"message_id\":null,"
	    "\"refs\":[\"out-5004@atsmail.test\",\"x@y.example\",\"x@y.example\"],\"owner\":4,"
	    "\"counterparts\":[\"family@candidate.test\"],\"subject\":null,"
	    "\"sent\":1795000000,\"size\":0,\"sha256\":\"\",\"token\":\"\","
	    "\"visibility\":\"private\",\"reason\":\"ats+private command\","
	    "\"rcpts\":[{\"a\":\"family@candidate.test\",\"k\":\"to\"}],"
	    "\"procs\":[],"
	    "\"phases\":[{\"kind\":\"resume\",\"id\":1005,\"to\":\"active\"}],"
	    "\"links\":[{\"kind\":\"resume\",\"id\":1004,\"rule\":\"recipient_address\","
	    "\"ambiguous\":true},{\"kind\":\"resume\",\"id\":1005,\"rule\":\"command\","
	    "\"ambiguous\":false}],"
	    "\"recipients\":1}");
	done(&f, &p);
}
END_TEST

START_TEST(payload_refused)
{
	struct atsm_out_facts f;
	struct atsm_out_plan p;
	struct atsm_err err = { .msg = "" };

	/* a rejected plan records nothing */
	TARO_MAIL(&f, CMD("job.3099"), NULL);
	decide(&f, ATSM_OUT_LIVE, &p);
	ck_assert_ptr_null(atsm_out_record_payload(&f, &p, &err));
	ck_assert_int_eq(err.cls, ATSM_ERR_INPUT);
	ck_assert_msg(strstr(err.msg, "key-1: the plan says reject") != NULL, "%s", err.msg);
	done(&f, &p);
	/* no idempotency key: the record could not be made exactly once */
	TARO_MAIL(&f, NULL);
	f.idem_key[0] = '\0';
	decide(&f, ATSM_OUT_LIVE, &p);
	ck_assert_ptr_null(atsm_out_record_payload(&f, &p, &err));
	ck_assert_msg(strstr(err.msg, "no idempotency key") != NULL, "%s", err.msg);
	done(&f, &p);
	/* a Message-ID that is not UTF-8 cannot be journaled: named */
	TARO_MAIL(&f, NULL);
	free(f.hdr_message_id);
	f.hdr_message_id = xstrdup("<\xff\xfe@atsmail.test>");
	decide(&f, ATSM_OUT_LIVE, &p);
	ck_assert_int_eq(p.verdict, ATSM_OUT_RECORD);
	ck_assert_ptr_null(atsm_out_record_payload(&f, &p, &err));
	ck_assert_int_eq(err.cls, ATSM_ERR_INPUT);
	ck_assert_msg(strstr(err.msg, "field 'message_id' is not UTF-8") != NULL, "%s", err.msg);
	done(&f, &p);
}
END_TEST

/* ------------------------------------------------------------- effects */

START_TEST(effects_of_a_new_process)
{
	struct atsm_out_facts f;
	struct atsm_out_plan p;
	struct atsm_arena a;
	struct atsm_dir_effects e;
	const struct atsm_dir_message *m;

	mail(&f, "alice@atsmail.test", "alice@atsmail.test", "taro@candidate.test",
	    "suzuki@client.test", "taro@candidate.test", "suzuki@client.test", "bob@atsmail.test",
	    CMD("phase.interview1"), CMD("job.3006"), CMD("private"), NULL);
	strcpy(f.token, "abcdefghijklmnopqrstuvwxyz234567abcdef");
	decide(&f, ATSM_OUT_LIVE, &p);
	atsm_arena_init(&a, 0);
	ck_assert_int_eq(atsm_out_effects(&f, &p, &a, &e, NULL), 0);
	ck_assert_str_eq(e.msgid, "t1@atsmail.test");
	ck_assert_int_eq(e.at, SENT_AT);
	ck_assert_ptr_null(e.intake_sender);
	ck_assert((m = e.message) != NULL);
	ck_assert_int_eq(m->direction, ATSM_DIR_OUT);
	ck_assert_int_eq(m->ref.id, 0);
	ck_assert_str_eq(m->ref.key, "key-1");
	/* no reference: it starts its own thread */
	ck_assert_int_eq(m->thread.id, 0);
	ck_assert_str_eq(m->thread.key, "key-1");
	ck_assert_int_eq(m->visibility, ATSM_VIS_PRIVATE);
	ck_assert_str_eq(m->token, f.token);
	/* contact, resume, job, then the process to be made */
	ck_assert_uint_eq(m->n_links, 4);
	ck_assert_int_eq(m->links[0].kind, ATSM_RECORD_CONTACT);
	ck_assert_int_eq(m->links[1].kind, ATSM_RECORD_RESUME);
	ck_assert_int_eq(m->links[1].id, 1001);
	ck_assert_int_eq(m->links[2].kind, ATSM_RECORD_JOB);
	ck_assert_int_eq(m->links[3].kind, ATSM_RECORD_PROCESS);
	ck_assert_int_eq(m->links[3].id, 0);
	ck_assert_int_eq(m->links[3].resume_id, 1001);
	ck_assert_int_eq(m->links[3].job_id, 3006);
	ck_assert_uint_eq(m->n_participants, 3);
	ck_assert_str_eq(m->participants[0], "taro@candidate.test");
	ck_assert_str_eq(m->participants[1], "suzuki@client.test");
	ck_assert_str_eq(m->participants[2], "bob@atsmail.test");
	ck_assert_uint_eq(e.n_phases, 1);
	ck_assert_int_eq(e.phases[0].kind, ATSM_RECORD_PROCESS);
	ck_assert_int_eq(e.phases[0].id, 0);
	ck_assert_int_eq(e.phases[0].resume_id, 1001);
	ck_assert_int_eq(e.phases[0].job_id, 3006);
	ck_assert_str_eq(e.phases[0].phase, "interview1");
	atsm_arena_free(&a);
	done(&f, &p);
}
END_TEST

/* A held mail is a message in the directory at once, but its phases and
 * the processes it would make wait for the release: the next decision
 * sees the process unmoved and no new one. */
START_TEST(effects_of_a_held_mail_set_no_phase)
{
	struct atsm_out_facts f;
	struct atsm_out_plan p;
	struct atsm_arena a;
	struct atsm_dir_effects e;
	struct atsm_dir_process pr;
	struct atsm_err err = { .msg = "" };
	size_t i;

	mail(&f, "erin@atsmail.test", "erin@atsmail.test", "hanako@candidate.test", NULL,
	    "hanako@candidate.test", CMD("job.3001.3002"), CMD("phase.interview1"), NULL);
	f.queue_id = xstrdup("4XyZ0a1b2C");
	decide(&f, ATSM_OUT_LIVE, &p);
	ck_assert_int_eq(p.verdict, ATSM_OUT_HOLD);
	atsm_arena_init(&a, 0);
	ck_assert_int_eq(atsm_out_effects(&f, &p, &a, &e, NULL), 0);
	ck_assert(e.message != NULL);
	ck_assert_str_eq(e.msgid, "t1@atsmail.test");
	ck_assert_uint_eq(e.n_phases, 0);
	/* resume, two jobs, the existing process; not the one to be made */
	ck_assert_uint_eq(e.message->n_links, 4);
	for (i = 0; i < e.message->n_links; i++)
		ck_assert(e.message->links[i].kind != ATSM_RECORD_PROCESS ||
		    e.message->links[i].id == 4001);
	fake_dir_apply(&fd, &e);
	atsm_arena_free(&a);
	ck_assert_int_eq(dir.ops->process(dir.ctx, 1002, 3001, &pr, &err), 1);
	ck_assert_str_eq(pr.phase, "screening");
	ck_assert_int_eq(dir.ops->process(dir.ctx, 1002, 3002, &pr, &err), 0);
	done(&f, &p);
}
END_TEST

START_TEST(effects_make_the_next_decision_see_process_and_phase)
{
	struct atsm_out_facts f;
	struct atsm_out_plan p;
	const struct atsm_dir_process *pr;

	/* the first mail makes the process, and moves nothing else */
	TARO_MAIL(&f, CMD("job.3006"), NULL);
	decide_and_apply(&f, &p);
	ck_assert((pr = fake_dir_process(&fd, 1001, 3006)) != NULL);
	ck_assert_int_eq(pr->id, 0);
	ck_assert_str_eq(pr->phase, "entry");
	done(&f, &p);
	/* the second finds it (no id yet) and moves it */
	TARO_MAIL(&f, CMD("job.3006"), CMD("phase.final"), NULL);
	decide_and_apply(&f, &p);
	ck_assert(p.procs[0].exists);
	ck_assert_int_eq(p.procs[0].process_id, 0);
	ck_assert_str_eq(p.procs[0].from_phase, "entry");
	ck_assert_str_eq(p.procs[0].to_phase, "final");
	ck_assert_str_eq(fake_dir_process(&fd, 1001, 3006)->phase, "final");
	done(&f, &p);
	/* a resume's phase, set by one mail, is the next one's "from" */
	TARO_MAIL(&f, CMD("phase.active"), NULL);
	decide_and_apply(&f, &p);
	ck_assert_uint_eq(p.n_phases, 1);
	ck_assert_str_eq(fake_dir_record(&fd, ATSM_RECORD_RESUME, 1001)->phase, "active");
	done(&f, &p);
	TARO_MAIL(&f, CMD("phase.active"), NULL);
	decide(&f, ATSM_OUT_LIVE, &p);
	ck_assert_uint_eq(p.n_phases, 0);
	done(&f, &p);
	TARO_MAIL(&f, CMD("phase.placed"), NULL);
	decide(&f, ATSM_OUT_LIVE, &p);
	ck_assert_str_eq(p.phases[0].from_phase, "active");
	done(&f, &p);
}
END_TEST

START_TEST(effects_thread_replies)
{
	struct atsm_out_facts f, g, h;
	struct atsm_out_plan p, q, r;
	struct atsm_arena a;
	struct atsm_dir_effects e;
	struct atsm_dir_message in;
	const struct atsm_dir_message *m;

	/* A starts a thread; B answers A; C answers B: all in A's thread */
	TARO_MAIL(&f, NULL);
	decide_and_apply(&f, &p);
	ck_assert(!p.in_thread);
	ck_assert((m = fake_dir_message(&fd, "t1@atsmail.test", ATSM_DIR_OUT)) != NULL);
	ck_assert_str_eq(m->ref.key, "key-1");
	TARO_MAIL(&g, NULL);
	g.hdr_in_reply_to = xstrdup(f.hdr_message_id);
	decide_and_apply(&g, &q);
	ck_assert(q.in_thread);
	ck_assert_int_eq(q.thread.id, 0);
	ck_assert_str_eq(q.thread.key, "key-1");
	TARO_MAIL(&h, NULL);
	h.hdr_references = xstrdup("<unknown@example.com> <t2@atsmail.test>");
	decide(&h, ATSM_OUT_LIVE, &r);
	ck_assert(r.in_thread);
	ck_assert_str_eq(r.thread.key, "key-1");
	atsm_arena_init(&a, 0);
	ck_assert_int_eq(atsm_out_effects(&h, &r, &a, &e, NULL), 0);
	ck_assert_str_eq(e.message->thread.key, "key-1");
	ck_assert_str_eq(e.message->ref.key, "key-3");
	atsm_arena_free(&a);
	done(&f, &p);
	done(&g, &q);
	done(&h, &r);
	/* a reply to a recorded message: its thread, by id */
	TARO_MAIL(&f, NULL);
	f.hdr_in_reply_to = xstrdup("<out-5002@atsmail.test>");
	decide(&f, ATSM_OUT_LIVE, &p);
	ck_assert(p.in_thread);
	ck_assert_int_eq(p.thread.id, 5002);
	done(&f, &p);
	/* and to a received one */
	memset(&in, 0, sizeof(in));
	in.ref.id = 7001;
	in.thread.id = 5001;
	in.direction = ATSM_DIR_IN;
	fake_dir_add_message(&fd, "in-7001@candidate.test", &in);
	TARO_MAIL(&f, NULL);
	f.hdr_in_reply_to = xstrdup("<in-7001@candidate.test>");
	decide(&f, ATSM_OUT_LIVE, &p);
	ck_assert(p.in_thread);
	ck_assert_int_eq(p.thread.id, 5001);
	done(&f, &p);
}
END_TEST

START_TEST(effects_of_a_message_id_already_recorded)
{
	struct atsm_out_facts f;
	struct atsm_out_plan p;
	struct atsm_arena a;
	struct atsm_dir_effects e;
	json_t *j;

	/* the same mail submitted twice: decided alike, recorded once */
	TARO_MAIL(&f, CMD("job.3007"), NULL);
	decide_and_apply(&f, &p);
	ck_assert(!p.msgid_recorded);
	atsm_out_plan_free(&p);
	ck_assert_ptr_nonnull(fake_dir_process(&fd, 1001, 3007));
	snprintf(f.idem_key, sizeof(f.idem_key), "key-again");
	decide(&f, ATSM_OUT_LIVE, &p);
	ck_assert_int_eq(p.verdict, ATSM_OUT_RECORD);
	ck_assert(p.msgid_recorded);
	atsm_arena_init(&a, 0);
	ck_assert_int_eq(atsm_out_effects(&f, &p, &a, &e, NULL), 0);
	ck_assert_ptr_null(e.message);
	ck_assert_ptr_null(e.msgid);
	ck_assert_uint_eq(e.n_phases, 0);
	/* the payload is still journaled: the SQL function records nothing */
	ck_assert((j = payload(&f, &p)) != NULL);
	json_decref(j);
	atsm_arena_free(&a);
	done(&f, &p);
}
END_TEST

/* A client that sends a mail again because the answer to the first
 * attempt was lost after it was journaled: the record keeps the first
 * attempt's token, so the copy that is delivered must carry it too. */
START_TEST(a_mail_sent_again_carries_the_recorded_token)
{
	struct atsm_out_facts f;
	struct atsm_out_plan p;

	TARO_MAIL(&f, NULL);
	strcpy(f.token, "abcdefghijklmnopqrstuvwxyz234567abcdef");
	decide_and_apply(&f, &p);
	ck_assert_str_eq(p.token, "abcdefghijklmnopqrstuvwxyz234567abcdef");
	atsm_out_plan_free(&p);
	/* the second attempt got a token of its own in the milter front */
	strcpy(f.token, "zyxwvutsrqponmlkjihgfedcba765432fedcba");
	snprintf(f.idem_key, sizeof(f.idem_key), "key-again");
	decide(&f, ATSM_OUT_LIVE, &p);
	ck_assert(p.msgid_recorded);
	ck_assert_str_eq(p.token, "abcdefghijklmnopqrstuvwxyz234567abcdef");
	atsm_out_plan_free(&p);
	/* replay decides what the journal holds: its own token */
	decide(&f, ATSM_OUT_REPLAY, &p);
	ck_assert_str_eq(p.token, "zyxwvutsrqponmlkjihgfedcba765432fedcba");
	done(&f, &p);
}
END_TEST

/* A recruiter writing to a newcomer whose intake mail is in the journal
 * only (the database is down): the resume in the making is linked, gets a
 * selection process and a phase, all named by its address. */
START_TEST(newcomer_resume_in_the_making_gets_process_and_phase)
{
	struct atsm_out_facts f;
	struct atsm_out_plan p;
	struct atsm_dir_effects e;
	const struct atsm_dir_process *dp;
	const struct atsm_out_link *l;
	struct atsm_arena a;
	struct atsm_err err;
	json_t *j;
	size_t i;

	memset(&e, 0, sizeof(e));
	e.new_resume = "kenji@applicant.test";
	fake_dir_apply(&fd, &e);
	/* ats+job: a new process of it, in the first phase */
	mail(&f, "alice@atsmail.test", "alice@atsmail.test", "kenji@applicant.test", NULL,
	    "kenji@applicant.test", CMD("job.3006"), NULL);
	decide(&f, ATSM_OUT_LIVE, &p);
	ck_assert_int_eq(p.verdict, ATSM_OUT_RECORD);
	ck_assert_uint_eq(p.n_procs, 1);
	ck_assert(!p.procs[0].exists);
	ck_assert_int_eq(p.procs[0].resume_id, 0);
	ck_assert_str_eq(p.procs[0].resume_addr, "kenji@applicant.test");
	j = payload(&f, &p);
	expect_json(json_incref(json_object_get(j, "procs")),
	    "[{\"resume\":0,\"addr\":\"kenji@applicant.test\",\"job\":3006,"
	    "\"process\":0,\"to\":\"entry\"}]");
	expect_json(json_incref(json_object_get(j, "links")),
	    "[{\"kind\":\"resume\",\"id\":0,\"addr\":\"kenji@applicant.test\","
	    "\"rule\":\"recipient_address\",\"ambiguous\":false},"
	    "{\"kind\":\"job\",\"id\":3006,\"rule\":\"command\",\"ambiguous\":false}]");
	json_decref(j);
	atsm_arena_init(&a, 1024 * 1024);
	ck_assert_msg(atsm_out_effects(&f, &p, &a, &e, &err) == 0, "%s", err.msg);
	/* the message: the resume, the job, the new process, by address */
	ck_assert_uint_eq(e.message->n_links, 3);
	for (i = 0; i < 3; i++)
		if (e.message->links[i].kind != ATSM_RECORD_JOB)
			ck_assert_str_eq(e.message->links[i].resume_addr, "kenji@applicant.test");
	ck_assert_uint_eq(e.n_phases, 1);
	ck_assert_int_eq(e.phases[0].resume_id, 0);
	ck_assert_str_eq(e.phases[0].resume_addr, "kenji@applicant.test");
	fake_dir_apply(&fd, &e);
	atsm_arena_free(&a);
	done(&f, &p);
	ck_assert((dp = fake_dir_new_process(&fd, "kenji@applicant.test", 3006)) != NULL);
	ck_assert_str_eq(dp->phase, "entry");
	/* the next ats+job finds it and moves it */
	mail(&f, "alice@atsmail.test", "alice@atsmail.test", "kenji@applicant.test", NULL,
	    "kenji@applicant.test", CMD("job.3006"), CMD("phase.screening"), NULL);
	decide_and_apply(&f, &p);
	ck_assert_int_eq(p.verdict, ATSM_OUT_RECORD);
	ck_assert(p.procs[0].exists);
	ck_assert_str_eq(p.procs[0].from_phase, "entry");
	j = payload(&f, &p);
	expect_json(json_incref(json_object_get(j, "procs")),
	    "[{\"resume\":0,\"addr\":\"kenji@applicant.test\",\"job\":3006,\"process\":0,"
	    "\"to\":\"screening\"}]");
	json_decref(j);
	ck_assert((l = link_of(&p, ATSM_RECORD_PROCESS, 0)) != NULL);
	ck_assert_str_eq(l->resume_addr, "kenji@applicant.test");
	ck_assert_str_eq(fake_dir_new_process(&fd, "kenji@applicant.test", 3006)->phase,
	    "screening");
	done(&f, &p);
	/* ats+phase of the resume itself */
	mail(&f, "alice@atsmail.test", "alice@atsmail.test", "kenji@applicant.test", NULL,
	    "kenji@applicant.test", CMD("phase.active"), NULL);
	decide_and_apply(&f, &p);
	ck_assert_int_eq(p.verdict, ATSM_OUT_RECORD);
	j = payload(&f, &p);
	expect_json(json_incref(json_object_get(j, "phases")),
	    "[{\"kind\":\"resume\",\"id\":0,\"addr\":\"kenji@applicant.test\",\"to\":\"active\"}]");
	json_decref(j);
	ck_assert_str_eq(fake_dir_new_resume(&fd, "kenji@applicant.test")->phase, "active");
	done(&f, &p);
}
END_TEST

START_TEST(effects_of_nothing_and_a_full_arena)
{
	struct atsm_out_facts f;
	struct atsm_out_plan p;
	struct atsm_arena a;
	struct atsm_dir_effects e;
	struct atsm_err err = { .msg = "" };

	TARO_MAIL(&f, CMD("frobnicate"), NULL);
	decide(&f, ATSM_OUT_LIVE, &p);
	ck_assert_int_eq(p.verdict, ATSM_OUT_REJECT);
	atsm_arena_init(&a, 0);
	ck_assert_int_eq(atsm_out_effects(&f, &p, &a, &e, NULL), 0);
	ck_assert_ptr_null(e.message);
	ck_assert_uint_eq(e.n_phases, 0);
	atsm_arena_free(&a);
	done(&f, &p);
	/* an arena too small for the effects: said, nothing half given */
	TARO_MAIL(&f, CMD("job.3002"), NULL);
	decide(&f, ATSM_OUT_LIVE, &p);
	atsm_arena_init(&a, 64);
	ck_assert_int_eq(atsm_out_effects(&f, &p, &a, &e, &err), -1);
	ck_assert_int_eq(err.cls, ATSM_ERR_NOMEM);
	ck_assert_msg(strstr(err.msg, "key-2") != NULL, "%s", err.msg);
	ck_assert_ptr_null(e.message);
	atsm_arena_free(&a);
	done(&f, &p);
}
END_TEST

static Suite *
suite(void)
{
	Suite *s = suite_create("outbound-record");
	TCase *tc = tcase_create("record");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, payload_of_a_new_process);
	tcase_add_test(tc, payload_of_a_held_mail_moving_a_process);
	tcase_add_test(tc, payload_of_a_held_mail_without_a_usable_queue_id);
	tcase_add_test(tc, payload_of_a_reply_setting_phases);
	tcase_add_test(tc, payload_refused);
	tcase_add_test(tc, effects_of_a_new_process);
	tcase_add_test(tc, effects_of_a_held_mail_set_no_phase);
	tcase_add_test(tc, effects_make_the_next_decision_see_process_and_phase);
	tcase_add_test(tc, effects_thread_replies);
	tcase_add_test(tc, effects_of_a_message_id_already_recorded);
	tcase_add_test(tc, a_mail_sent_again_carries_the_recorded_token);
	tcase_add_test(tc, newcomer_resume_in_the_making_gets_process_and_phase);
	tcase_add_test(tc, effects_of_nothing_and_a_full_arena);
	suite_add_tcase(s, tc);
	return s;
}

ATSM_CHECK_MAIN()
