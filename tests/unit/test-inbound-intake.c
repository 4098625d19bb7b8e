/* test-inbound-intake.c -- the inbound decision (lib/inbound/decide*.c)
 * for mail that is not a plain reply: intake (a resume, an unresolved
 * item, the duplicate check, loop guards, the hourly rate; a newcomer's
 * later mails filed on the resume their intake mail is making), bounces (VERP,
 * X-ATS-Ref, the original's Message-ID, unknown sent item), Sent copies,
 * feedback reports, and the keywords of each verdict.  Against the fake
 * directory; no server.
 */
#include "test-inbound-fixture.h"

/* ------------------------------------------------------------- intake */

START_TEST(intake_creates_resume)
{
	struct atsm_in_facts f;
	struct atsm_in_plan p;

	/* 山本 花子 */
	mail(&f, "recruit@atsmail.test", "=?UTF-8?B?5bGx5pysIOiKseWtkA==?= <new@applicant.test>",
	    "recruit@atsmail.test");
	decide(&f, &p);
	ck_assert_int_eq(p.verdict, ATSM_IN_INTAKE);
	ck_assert(!p.intake_unresolved);
	ck_assert_str_eq(p.intake_address, "recruit@atsmail.test");
	ck_assert_str_eq(p.sender, "new@applicant.test");
	ck_assert_str_eq(p.sender_name, "山本 花子");
	ck_assert(has_keyword(&p, ATSM_KW_NEWRECORD));
	ck_assert(!has_keyword(&p, ATSM_KW_FILED));
	ck_assert_int_eq(p.mailbox_user_id, 0);
	ck_assert_int_eq(p.n_links, 0);
	/* an intake mailbox of no user counts as public */
	ck_assert_int_eq(p.visibility, ATSM_VIS_SHARED);
	done(&f, &p);
	/* no display name: the address is the new resume's name */
	mail(&f, "recruit@atsmail.test", "plain@applicant.test", "recruit@atsmail.test");
	decide(&f, &p);
	ck_assert_str_eq(p.sender_name, "plain@applicant.test");
	done(&f, &p);
}
END_TEST

START_TEST(intake_unresolved_item)
{
	struct atsm_in_facts f;
	struct atsm_in_plan p;

	/* alice's mailbox, the mail sent to the enquiry address */
	mail(&f, "alice@atsmail.test", "ask@company.test", "jobs@atsmail.test");
	decide(&f, &p);
	ck_assert_int_eq(p.verdict, ATSM_IN_INTAKE);
	ck_assert(p.intake_unresolved);
	ck_assert_int_eq(p.mailbox_user_id, 1);
	ck_assert(has_keyword(&p, ATSM_KW_UNFILED));
	ck_assert(!has_keyword(&p, ATSM_KW_NEWRECORD));
	done(&f, &p);
}
END_TEST

START_TEST(intake_address_from_headers_lowest_first)
{
	struct atsm_in_facts f;
	struct atsm_in_plan p;

	/* no envelope recipient: the To/Cc addresses; of two, the lowest */
	mail(&f, "alice@atsmail.test", "ask@company.test", "recruit@atsmail.test");
	set(&f.env_to, NULL);
	set(&f.hdr_cc, "jobs@atsmail.test");
	decide(&f, &p);
	ck_assert_int_eq(p.verdict, ATSM_IN_INTAKE);
	ck_assert_str_eq(p.intake_address, "jobs@atsmail.test");
	ck_assert(p.intake_unresolved);
	done(&f, &p);
	/* with an envelope recipient, only it counts */
	mail(&f, "alice@atsmail.test", "ask@company.test", "recruit@atsmail.test");
	set(&f.hdr_cc, "jobs@atsmail.test");
	decide(&f, &p);
	ck_assert_str_eq(p.intake_address, "recruit@atsmail.test");
	done(&f, &p);
}
END_TEST

START_TEST(intake_duplicate_files_on_existing_resume)
{
	struct atsm_in_facts f;
	struct atsm_in_plan p;

	mail(&f, "recruit@atsmail.test", "shiro@candidate.test", "recruit@atsmail.test");
	decide(&f, &p);
	ck_assert_int_eq(p.verdict, ATSM_IN_FILE);
	expect_link(&p, ATSM_RECORD_RESUME, 1008, "sender_address");
	done(&f, &p);
}
END_TEST

START_TEST(intake_loop_guards)
{
	struct atsm_in_facts f;
	struct atsm_in_plan p;

	mail(&f, "recruit@atsmail.test", "loop@applicant.test", "recruit@atsmail.test");
	f.from_mailer_daemon = true;
	decide(&f, &p);
	ck_assert_int_eq(p.verdict, ATSM_IN_IGNORE);
	expect_note(&p, "mailer-daemon");
	done(&f, &p);
	mail(&f, "recruit@atsmail.test", "loop@applicant.test", "recruit@atsmail.test");
	f.is_autoreply = true;
	decide(&f, &p);
	ck_assert_int_eq(p.verdict, ATSM_IN_IGNORE);
	expect_note(&p, "auto-reply");
	done(&f, &p);
	/* a bounce of nothing recorded reaches no intake either */
	mail(&f, "recruit@atsmail.test", "loop@applicant.test", "recruit@atsmail.test");
	set(&f.env_from, "");
	f.is_bounce = true;
	decide(&f, &p);
	ck_assert_int_eq(p.verdict, ATSM_IN_IGNORE);
	expect_note(&p, "no recorded sent item");
	done(&f, &p);
	mail(&f, "recruit@atsmail.test", "", "recruit@atsmail.test");
	set(&f.hdr_from, NULL);
	decide(&f, &p);
	ck_assert_int_eq(p.verdict, ATSM_IN_IGNORE);
	expect_note(&p, "without a sender");
	done(&f, &p);
}
END_TEST

START_TEST(intake_rate_limit)
{
	struct atsm_in_facts f;
	struct atsm_in_plan p;
	struct atsm_err err;
	int i;

	ck_assert(atsm_conf_set(&conf, "intake_max_per_hour", "2", &err) == 0);
	/* one made more than an hour ago does not count */
	fake_dir_add_intake_event(&fd, "burst@applicant.test", NOW - 3700);
	for (i = 0; i < 2; i++) {
		mail(&f, "alice@atsmail.test", "burst@applicant.test", "jobs@atsmail.test");
		decide(&f, &p);
		ck_assert_int_eq(p.verdict, ATSM_IN_INTAKE);
		apply(&f, &p);           /* journaled: the snapshot counts it */
		done(&f, &p);
	}
	mail(&f, "alice@atsmail.test", "burst@applicant.test", "jobs@atsmail.test");
	decide(&f, &p);
	ck_assert_int_eq(p.verdict, ATSM_IN_IGNORE);
	expect_note(&p, "intake_max_per_hour = 2");
	done(&f, &p);
	/* another sender is not held back */
	mail(&f, "alice@atsmail.test", "calm@applicant.test", "jobs@atsmail.test");
	decide(&f, &p);
	ck_assert_int_eq(p.verdict, ATSM_IN_INTAKE);
	done(&f, &p);
}
END_TEST

/* ----------------------------------------- a newcomer's second mail */

#define NEWCOMER "kenji@applicant.test"

/* The payload's text with the resume named as {"id": 0, "addr": ...}
 * replaced by {"id": <id>}: a decision on the resume in the making must
 * say what one on the recorded resume says. */
static char *
payload_naming(const struct atsm_in_facts *f, const struct atsm_in_plan *p, long long id)
{
	char *s = payload_text(f, p), want[128], *at;

	snprintf(want, sizeof(want), "\"addr\":\"%s\",", NEWCOMER);
	while ((at = strstr(s, want)) != NULL)
		memmove(at, at + strlen(want), strlen(at + strlen(want)) + 1);
	snprintf(want, sizeof(want), "\"id\":%lld,", id);
	while ((at = strstr(s, "\"id\":0,\"kind\":\"resume\"")) != NULL) {
		char *t = malloc(strlen(s) + 32);

		ck_assert_ptr_nonnull(t);
		sprintf(t, "%.*s%s%s", (int)(at - s), s, want, at + strlen("\"id\":0,"));
		free(s);
		s = t;
	}
	return s;
}

/* Mail n of the newcomer to recruit@ (a mailbox of no user), at NOW + n. */
static void
newcomer_mail(struct atsm_in_facts *f, const char *mailbox, int n)
{
	char key[32];

	mail(f, mailbox, "Kenji Sato <" NEWCOMER ">", "recruit@atsmail.test");
	f->received_at = NOW + n;
	snprintf(key, sizeof(key), "k-newcomer-%d", n);
	snprintf(f->idem_key, sizeof(f->idem_key), "%s", key);
}

START_TEST(newcomer_second_mail_filed_on_the_resume_in_the_making)
{
	struct atsm_in_facts f;
	struct atsm_in_plan p;
	const struct atsm_dir_record *nr;
	struct atsm_dir_record rec[4];
	struct atsm_dir_effects e;
	struct atsm_err err;
	size_t n;
	char *text;

	/* the first: intake, a new resume (PostgreSQL is down: no id yet) */
	newcomer_mail(&f, "recruit@atsmail.test", 1);
	decide(&f, &p);
	ck_assert_int_eq(p.verdict, ATSM_IN_INTAKE);
	ck_assert(has_keyword(&p, ATSM_KW_NEWRECORD));
	apply(&f, &p);
	done(&f, &p);
	nr = fake_dir_new_resume(&fd, NEWCOMER);
	ck_assert_ptr_nonnull(nr);
	ck_assert_str_eq(nr->phase, "new");
	ck_assert(!nr->shared);   /* resumes.shared defaults to false (sql/013) */
	ck_assert_int_eq(nr->owner_id, 0);
	/* the directory answers it for the address, id 0 */
	ck_assert_int_eq(dir.ops->records_by_addr(dir.ctx, NEWCOMER, rec, 4, &n, &err), 1);
	ck_assert_uint_eq(n, 1);
	ck_assert_int_eq(rec[0].kind, ATSM_RECORD_RESUME);
	ck_assert_int_eq(rec[0].id, 0);

	/* the second: filed on it, as with the database up */
	newcomer_mail(&f, "recruit@atsmail.test", 2);
	decide(&f, &p);
	ck_assert_int_eq(p.verdict, ATSM_IN_FILE);
	ck_assert(has_keyword(&p, ATSM_KW_FILED));
	ck_assert(!has_keyword(&p, ATSM_KW_NEWRECORD));
	ck_assert(!has_keyword(&p, ATSM_KW_AMBIGUOUS));
	ck_assert_uint_eq(p.n_links, 1);
	expect_link(&p, ATSM_RECORD_RESUME, 0, "sender_address");
	ck_assert_str_eq(p.links[0].resume_addr, NEWCOMER);
	/* an answer: the reply rule fires from its phase 'new' */
	ck_assert_uint_eq(p.n_phases, 1);
	ck_assert_int_eq(p.phases[0].kind, ATSM_RECORD_RESUME);
	ck_assert_int_eq(p.phases[0].record_id, 0);
	ck_assert_str_eq(p.phases[0].resume_addr, NEWCOMER);
	ck_assert_str_eq(p.phases[0].from_phase, "new");
	ck_assert_str_eq(p.phases[0].to_phase, "active");
	ck_assert_int_eq(p.phases[0].rule_id, 9001);
	ck_assert_int_eq(p.visibility, ATSM_VIS_SHARED);
	/* the payload names the resume by its address */
	text = payload_text(&f, &p);
	ck_assert_msg(strstr(text, "\"links\":[{\"addr\":\"" NEWCOMER "\",\"ambiguous\":false,"
	    "\"id\":0,\"kind\":\"resume\",\"rule\":\"sender_address\"}]") != NULL, "%s", text);
	ck_assert_msg(strstr(text, "\"phases\":[{\"addr\":\"" NEWCOMER "\",\"cause\":\"reply\","
	    "\"from\":\"new\",\"id\":0,\"kind\":\"resume\",\"rule\":9001,\"to\":\"active\"}]") != NULL,
	    "%s", text);
	ck_assert_msg(strstr(text, "\"verdict\":\"file\"") != NULL, "%s", text);
	free(text);
	/* the effects: the message linked to it, its phase set; no new resume */
	ck_assert_int_eq(atsm_in_effects(&f, &p, &arena, &e, &err), 0);
	ck_assert_ptr_null(e.new_resume);
	ck_assert_ptr_null(e.intake_sender);
	ck_assert_uint_eq(e.message->n_links, 1);
	ck_assert_int_eq(e.message->links[0].id, 0);
	ck_assert_str_eq(e.message->links[0].resume_addr, NEWCOMER);
	ck_assert_uint_eq(e.n_phases, 1);
	ck_assert_int_eq(e.phases[0].id, 0);
	ck_assert_str_eq(e.phases[0].resume_addr, NEWCOMER);
	ck_assert_str_eq(e.phases[0].phase, "active");
	fake_dir_apply(&fd, &e);
	ck_assert_str_eq(fake_dir_new_resume(&fd, NEWCOMER)->phase, "active");
	done(&f, &p);

	/* the third: filed again, no rule fires from 'active' */
	newcomer_mail(&f, "recruit@atsmail.test", 3);
	decide(&f, &p);
	ck_assert_int_eq(p.verdict, ATSM_IN_FILE);
	expect_link(&p, ATSM_RECORD_RESUME, 0, "sender_address");
	ck_assert_uint_eq(p.n_phases, 0);
	done(&f, &p);

	/* PostgreSQL's resume arrives: it, not the one in the making, is filed on */
	fake_dir_add_record(&fd, ATSM_RECORD_RESUME, 10001, true, "active");
	fake_dir_add_addr(&fd, ATSM_RECORD_RESUME, 10001, NEWCOMER);
	newcomer_mail(&f, "recruit@atsmail.test", 4);
	decide(&f, &p);
	ck_assert_int_eq(p.verdict, ATSM_IN_FILE);
	ck_assert_uint_eq(p.n_links, 1);
	expect_link(&p, ATSM_RECORD_RESUME, 10001, "sender_address");
	ck_assert_str_eq(p.links[0].resume_addr, "");
	done(&f, &p);
}
END_TEST

/* The same mails with the resume recorded at once (the database up): the
 * same verdicts, keywords, rules and payloads but for the resume's name. */
START_TEST(newcomer_decided_alike_with_the_resume_recorded)
{
	struct atsm_in_facts f;
	struct atsm_in_plan p, q;
	struct fake_dir up;
	struct atsm_dir dir_up, dir_down = dir;
	char *a, *b;
	int i;

	fake_dir_init(&up);
	fake_dir_seed(&up);
	dir_up = fake_dir_dir(&up);
	for (i = 1; i <= 3; i++) {
		newcomer_mail(&f, "alice@atsmail.test", i);
		dir = dir_down;
		decide(&f, &p);
		dir = dir_up;
		decide(&f, &q);
		dir = dir_down;
		ck_assert_int_eq(p.verdict, q.verdict);
		ck_assert_str_eq(p.notes, q.notes);
		for (size_t k = 0; k < ATSM_IN_MAX_KEYWORDS; k++) {
			ck_assert(p.keywords[k] == q.keywords[k]);
			if (p.keywords[k] == NULL)
				break;
		}
		a = payload_naming(&f, &p, 10001);
		b = payload_text(&f, &q);
		ck_assert_str_eq(a, b);
		free(a);
		free(b);
		apply(&f, &p);
		if (i == 1) {
			/* intake mail to alice's mailbox: she owns the resume */
			ck_assert_int_eq(fake_dir_new_resume(&fd, NEWCOMER)->owner_id, 1);
			/* the recorder, with the database up: recorded at once */
			fake_dir_add_record(&up, ATSM_RECORD_RESUME, 10001, true, "new");
			fake_dir_add_addr(&up, ATSM_RECORD_RESUME, 10001, NEWCOMER);
		} else {
			struct atsm_dir_effects e;
			struct atsm_err err;

			ck_assert_int_eq(atsm_in_effects(&f, &q, &arena, &e, &err), 0);
			fake_dir_apply(&up, &e);
		}
		atsm_in_plan_free(&q);
		done(&f, &p);
	}
	ck_assert_str_eq(fake_dir_new_resume(&fd, NEWCOMER)->phase,
	    fake_dir_record(&up, ATSM_RECORD_RESUME, 10001)->phase);
	fake_dir_free(&up);
}
END_TEST

/* A reply of the newcomer to mail sent to them meanwhile, and the process
 * an ats+job of that mail made: by In-Reply-To, named by the address. */
START_TEST(newcomer_reply_by_thread_moves_its_process)
{
	struct atsm_in_facts f;
	struct atsm_in_plan p;
	struct atsm_dir_effects e;
	struct atsm_dir_phase_set ps;
	struct atsm_dir_message m;
	struct atsm_dir_link l[2];
	const char *parts[1] = { NEWCOMER };
	char *text;

	/* what the intake mail and alice's ats+job.3001 (+ phase screening) did */
	memset(&e, 0, sizeof(e));
	e.new_resume = NEWCOMER;
	fake_dir_apply(&fd, &e);
	memset(&ps, 0, sizeof(ps));
	ps.kind = ATSM_RECORD_PROCESS;
	ps.job_id = 3001;
	ps.resume_addr = NEWCOMER;
	snprintf(ps.phase, sizeof(ps.phase), "screening");
	memset(&m, 0, sizeof(m));
	memset(l, 0, sizeof(l));
	l[0].kind = ATSM_RECORD_RESUME;
	l[0].resume_addr = NEWCOMER;
	l[1].kind = ATSM_RECORD_PROCESS;
	l[1].job_id = 3001;
	l[1].resume_addr = NEWCOMER;
	snprintf(m.ref.key, sizeof(m.ref.key), "k-offer");
	m.thread = m.ref;
	m.direction = ATSM_DIR_OUT;
	m.links = l;
	m.n_links = 2;
	m.participants = parts;
	m.n_participants = 1;
	memset(&e, 0, sizeof(e));
	e.msgid = "offer@atsmail.test";
	e.message = &m;
	e.phases = &ps;
	e.n_phases = 1;
	fake_dir_apply(&fd, &e);
	ck_assert_ptr_nonnull(fake_dir_new_process(&fd, NEWCOMER, 3001));

	newcomer_mail(&f, "alice@atsmail.test", 5);
	set(&f.hdr_in_reply_to, "<offer@atsmail.test>");
	decide(&f, &p);
	ck_assert_int_eq(p.verdict, ATSM_IN_FILE);
	ck_assert_uint_eq(p.n_links, 2);
	expect_link(&p, ATSM_RECORD_RESUME, 0, "in_reply_to");
	expect_link(&p, ATSM_RECORD_PROCESS, 0, "in_reply_to");
	ck_assert_str_eq(p.links[1].resume_addr, NEWCOMER);
	ck_assert_str_eq(p.thread.key, "k-offer");
	/* the resume new -> active, the process screening -> interview1 */
	ck_assert_uint_eq(p.n_phases, 2);
	ck_assert_int_eq(p.phases[1].rule_id, 9002);
	ck_assert_str_eq(p.phases[1].resume_addr, NEWCOMER);
	text = payload_text(&f, &p);
	ck_assert_msg(strstr(text, "{\"addr\":\"" NEWCOMER "\",\"cause\":\"reply\","
	    "\"from\":\"screening\",\"id\":0,\"job\":3001,\"kind\":\"process\",\"resume\":0,"
	    "\"rule\":9002,\"to\":\"interview1\"}") != NULL, "%s", text);
	ck_assert_msg(strstr(text, "{\"addr\":\"" NEWCOMER "\",\"ambiguous\":false,\"id\":0,"
	    "\"job\":3001,\"kind\":\"process\",\"resume\":0,\"rule\":\"in_reply_to\"}") != NULL,
	    "%s", text);
	free(text);
	apply(&f, &p);
	ck_assert_str_eq(fake_dir_new_process(&fd, NEWCOMER, 3001)->phase, "interview1");
	done(&f, &p);
	/* a plain mail of theirs: the open process of their resume is moved */
	newcomer_mail(&f, "alice@atsmail.test", 6);
	decide(&f, &p);
	ck_assert_int_eq(p.verdict, ATSM_IN_FILE);
	ck_assert_uint_eq(p.n_links, 1);
	ck_assert_uint_eq(p.n_phases, 0);      /* active, interview1: no rule */
	done(&f, &p);
}
END_TEST

/* A token of mail linked to the resume in the making: the newcomer takes
 * part in it through that link, a stranger does not. */
START_TEST(newcomer_takes_part_through_the_link_to_their_resume)
{
	struct atsm_in_facts f;
	struct atsm_in_plan p;
	struct atsm_dir_effects e;
	struct atsm_dir_message m;
	struct atsm_dir_link l;
	const char *parts[1] = { "someone.else@applicant.test" };
	unsigned char id[ATSM_TOKEN_ID_LEN];
	char t[ATSM_TOKEN_MAX];

	memset(&e, 0, sizeof(e));
	e.new_resume = NEWCOMER;
	fake_dir_apply(&fd, &e);
	memset(id, 0x55, sizeof(id));
	ck_assert(atsm_token_make(&keys, id, t) == 0);
	memset(&m, 0, sizeof(m));
	memset(&l, 0, sizeof(l));
	l.kind = ATSM_RECORD_RESUME;
	l.resume_addr = NEWCOMER;
	snprintf(m.ref.key, sizeof(m.ref.key), "k-sent");
	snprintf(m.token, sizeof(m.token), "%s", t);
	m.thread = m.ref;
	m.direction = ATSM_DIR_OUT;
	m.links = &l;
	m.n_links = 1;
	m.participants = parts;      /* sent to another address of theirs, say */
	m.n_participants = 1;
	memset(&e, 0, sizeof(e));
	e.msgid = "sent@atsmail.test";
	e.message = &m;
	fake_dir_apply(&fd, &e);

	newcomer_mail(&f, "alice@atsmail.test", 7);
	set(&f.hdr_ats_ref, t);
	decide(&f, &p);
	ck_assert_int_eq(p.verdict, ATSM_IN_FILE);
	expect_link(&p, ATSM_RECORD_RESUME, 0, "token");
	ck_assert_str_eq(p.links[0].resume_addr, NEWCOMER);
	done(&f, &p);
	mail(&f, "alice@atsmail.test", "stranger@elsewhere.example", "alice@atsmail.test");
	set(&f.hdr_ats_ref, t);
	decide(&f, &p);
	ck_assert_int_eq(p.verdict, ATSM_IN_IGNORE);
	expect_note(&p, "takes no part");
	done(&f, &p);
}
END_TEST

/* ------------------------------------------------------------- bounces */

static void
bounce(struct atsm_in_facts *f, const char *env_to, const char *failed)
{
	mail(f, "bob@atsmail.test", "MAILER-DAEMON@mx.client.test", env_to);
	set(&f->env_from, "");
	set(&f->hdr_subject, "Undelivered Mail Returned to Sender");
	f->is_bounce = true;
	f->from_mailer_daemon = true;
	f->bounced = calloc(1, sizeof(*f->bounced));
	f->n_bounced = 1;
	f->bounced[0].addr = strdup(failed);
	snprintf(f->bounced[0].status, sizeof(f->bounced[0].status), "5.1.1");
	f->bounced[0].hard = true;
	f->bounced[0].diagnostic = strdup("550 5.1.1 user unknown");
}

START_TEST(bounce_by_verp)
{
	struct atsm_in_facts f;
	struct atsm_in_plan p;
	char addr[128];

	snprintf(addr, sizeof(addr), "bob+ats-%s@atsmail.test", tok[2]);
	bounce(&f, addr, "suzuki@client.test");
	decide(&f, &p);
	ck_assert_int_eq(p.verdict, ATSM_IN_BOUNCE);
	ck_assert_int_eq(p.bounced.id, 5003);
	ck_assert_int_eq(p.thread.id, 5003);
	expect_link(&p, ATSM_RECORD_CONTACT, 2001, "verp");
	ck_assert(has_keyword(&p, ATSM_KW_BOUNCE) && has_keyword(&p, ATSM_KW_FILED));
	ck_assert_int_eq(p.n_phases, 1);          /* contact: on bounce -> inactive */
	ck_assert_int_eq(p.phases[0].rule_id, 9004);
	ck_assert_str_eq(p.phases[0].to_phase, "inactive");
	ck_assert_str_eq(p.phases[0].cause, "bounce");
	/* it quotes the sent item: its visibility */
	ck_assert_int_eq(p.visibility, ATSM_VIS_SHARED);
	ck_assert_str_eq(p.visibility_reason, "bounce of message 5003 (its visibility)");
	done(&f, &p);
	/* the original's envelope sender, quoted by the bounce, is as good */
	bounce(&f, "bob@atsmail.test", "suzuki@client.test");
	set(&f.orig_env_from, addr);
	decide(&f, &p);
	expect_link(&p, ATSM_RECORD_CONTACT, 2001, "verp");
	done(&f, &p);
}
END_TEST

START_TEST(bounce_by_x_ats_ref_and_message_id)
{
	struct atsm_in_facts f;
	struct atsm_in_plan p;

	bounce(&f, "bob@atsmail.test", "suzuki@client.test");
	set(&f.orig_ats_ref, tok[2]);
	decide(&f, &p);
	ck_assert_int_eq(p.verdict, ATSM_IN_BOUNCE);
	expect_link(&p, ATSM_RECORD_CONTACT, 2001, "token");
	done(&f, &p);
	bounce(&f, "bob@atsmail.test", "suzuki@client.test");
	set(&f.orig_message_id, "<out-5003@atsmail.test>");
	decide(&f, &p);
	ck_assert_int_eq(p.verdict, ATSM_IN_BOUNCE);
	ck_assert_int_eq(p.bounced.id, 5003);
	expect_link(&p, ATSM_RECORD_CONTACT, 2001, "references");
	done(&f, &p);
}
END_TEST

START_TEST(bounce_visibility_of_the_sent_item_unless_excluded)
{
	struct atsm_in_facts f;
	struct atsm_in_plan p;

	seeded("out-5003@atsmail.test")->visibility = ATSM_VIS_PRIVATE;
	bounce(&f, "bob@atsmail.test", "suzuki@client.test");
	set(&f.orig_message_id, "<out-5003@atsmail.test>");
	decide(&f, &p);
	/* bob's mode is public; the bounce is seen as its sent item is */
	ck_assert_int_eq(p.visibility, ATSM_VIS_PRIVATE);
	done(&f, &p);
	seeded("out-5003@atsmail.test")->visibility = ATSM_VIS_SHARED;
	bounce(&f, "bob@atsmail.test", "suzuki@client.test");
	set(&f.orig_message_id, "<out-5003@atsmail.test>");
	set(&f.hdr_cc, "postmaster@rival.example");
	decide(&f, &p);
	ck_assert_int_eq(p.visibility, ATSM_VIS_PRIVATE);
	ck_assert_msg(strstr(p.visibility_reason, "rival.example") != NULL, "%s",
	    p.visibility_reason);
	done(&f, &p);
}
END_TEST

START_TEST(bounce_of_unknown_item_ignored)
{
	struct atsm_in_facts f;
	struct atsm_in_plan p;

	bounce(&f, "bob@atsmail.test", "suzuki@client.test");
	set(&f.orig_message_id, "<never-sent@atsmail.test>");
	decide(&f, &p);
	ck_assert_int_eq(p.verdict, ATSM_IN_IGNORE);
	expect_note(&p, "no recorded sent item");
	ck_assert_ptr_null(p.keywords[0]);
	done(&f, &p);
	/* a received message with that Message-ID is no sent item either */
	bounce(&f, "bob@atsmail.test", "taro@candidate.test");
	set(&f.orig_message_id, "<in-seeded@candidate.test>");
	{
		struct atsm_dir_message m;

		memset(&m, 0, sizeof(m));
		m.ref.id = 5200;
		m.thread = m.ref;
		m.direction = ATSM_DIR_IN;
		fake_dir_add_message(&fd, "in-seeded@candidate.test", &m);
	}
	decide(&f, &p);
	ck_assert_int_eq(p.verdict, ATSM_IN_IGNORE);
	done(&f, &p);
}
END_TEST

/* --------------------------------------------------- copies, feedback */

START_TEST(sent_copy_by_message_id_or_token)
{
	struct atsm_in_facts f;
	struct atsm_in_plan p;

	mail(&f, "alice@atsmail.test", "alice@atsmail.test", "taro@candidate.test");
	f.how = ATSM_IN_APPEND;
	set(&f.mailbox, "Sent");
	set(&f.hdr_message_id, "<out-5001@atsmail.test>");
	rekey(&f);
	decide(&f, &p);
	ck_assert_int_eq(p.verdict, ATSM_IN_SENT_COPY);
	ck_assert_int_eq(p.message.id, 5001);
	ck_assert(has_keyword(&p, ATSM_KW_SENT));
	ck_assert_ptr_null(p.keywords[1]);
	ck_assert_int_eq(p.n_links, 0);
	done(&f, &p);
	/* a client that rewrote the Message-ID: the X-ATS-Ref token finds it */
	mail(&f, "alice@atsmail.test", "alice@atsmail.test", "hanako@candidate.test");
	f.how = ATSM_IN_APPEND;
	set(&f.mailbox, "Sent Items");
	set(&f.hdr_ats_ref, tok[1]);
	decide(&f, &p);
	ck_assert_int_eq(p.verdict, ATSM_IN_SENT_COPY);
	ck_assert_int_eq(p.message.id, 5002);
	done(&f, &p);
	/* delivered (a Cc to herself): the Message-ID alone decides */
	mail(&f, "bob@atsmail.test", "alice@atsmail.test", "bob@atsmail.test");
	set(&f.hdr_message_id, "<out-5001@atsmail.test>");
	rekey(&f);
	decide(&f, &p);
	ck_assert_int_eq(p.verdict, ATSM_IN_SENT_COPY);
	done(&f, &p);
}
END_TEST

START_TEST(sent_copy_in_a_mailbox_of_no_user_ignored)
{
	struct atsm_in_facts f;
	struct atsm_in_plan p;

	mail(&f, "recruit@atsmail.test", "alice@atsmail.test", "recruit@atsmail.test");
	set(&f.hdr_message_id, "<out-5001@atsmail.test>");
	rekey(&f);
	decide(&f, &p);
	ck_assert_int_eq(p.verdict, ATSM_IN_IGNORE);
	expect_note(&p, "mailbox of no user");
	done(&f, &p);
}
END_TEST

START_TEST(feedback_report_not_filed)
{
	struct atsm_in_facts f;
	struct atsm_in_plan p;

	mail(&f, "alice@atsmail.test", "taro@candidate.test", "alice@atsmail.test");
	set(&f.hdr_in_reply_to, "<out-5001@atsmail.test>");
	f.is_feedback = true;
	decide(&f, &p);
	ck_assert_int_eq(p.verdict, ATSM_IN_IGNORE);
	ck_assert_int_eq(p.n_links, 0);
	ck_assert_ptr_null(p.keywords[0]);
	expect_note(&p, "feedback report");
	done(&f, &p);
}
END_TEST

START_TEST(keywords_never_repeat_and_end_with_null)
{
	struct atsm_in_facts f;
	struct atsm_in_plan p;
	size_t i, k;

	mail(&f, "alice@atsmail.test", "family@candidate.test", "alice@atsmail.test");
	f.is_autoreply = true;
	decide(&f, &p);
	ck_assert_str_eq(p.keywords[0], ATSM_KW_FILED);
	ck_assert_str_eq(p.keywords[1], ATSM_KW_AMBIGUOUS);
	ck_assert_str_eq(p.keywords[2], ATSM_KW_AUTOREPLY);
	ck_assert_ptr_null(p.keywords[3]);
	for (i = 0; p.keywords[i] != NULL; i++)
		for (k = i + 1; p.keywords[k] != NULL; k++)
			ck_assert_str_ne(p.keywords[i], p.keywords[k]);
	done(&f, &p);
}
END_TEST

static Suite *
suite(void)
{
	Suite *s = suite_create("inbound-intake");
	TCase *tc = tcase_create("intake");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, intake_creates_resume);
	tcase_add_test(tc, intake_unresolved_item);
	tcase_add_test(tc, intake_address_from_headers_lowest_first);
	tcase_add_test(tc, intake_duplicate_files_on_existing_resume);
	tcase_add_test(tc, intake_loop_guards);
	tcase_add_test(tc, intake_rate_limit);
	tcase_add_test(tc, newcomer_second_mail_filed_on_the_resume_in_the_making);
	tcase_add_test(tc, newcomer_decided_alike_with_the_resume_recorded);
	tcase_add_test(tc, newcomer_reply_by_thread_moves_its_process);
	tcase_add_test(tc, newcomer_takes_part_through_the_link_to_their_resume);
	tcase_add_test(tc, bounce_by_verp);
	tcase_add_test(tc, bounce_by_x_ats_ref_and_message_id);
	tcase_add_test(tc, bounce_visibility_of_the_sent_item_unless_excluded);
	tcase_add_test(tc, bounce_of_unknown_item_ignored);
	tcase_add_test(tc, sent_copy_by_message_id_or_token);
	tcase_add_test(tc, sent_copy_in_a_mailbox_of_no_user_ignored);
	tcase_add_test(tc, feedback_report_not_filed);
	tcase_add_test(tc, keywords_never_repeat_and_end_with_null);
	suite_add_tcase(s, tc);
	return s;
}

ATSM_CHECK_MAIN()
