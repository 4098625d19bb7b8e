/* test-outbound.c -- tests of the outbound pipeline (lib/outbound-*.c:
 * facts JSON, atsm_out_plan, atsm_out_record) against a real PostgreSQL
 * holding the migrations and tests/data/seed.sql.
 *
 * ATSM_TEST_PG is the conninfo (superuser); without it the whole program
 * is skipped.  tests/e2e/outbound-record.sh starts a private server, loads
 * the schema and the seed, and runs this program.  Each test runs in its
 * own process (Check's fork mode) with its own connection; the fixture
 * puts the records a test may change back into their seeded state, and
 * every mail has a Message-ID and key of its own.
 */
#include "atsm-check.h"
#include "store/journal.h"
#include "outbound/outbound.h"
#include "pg-fixture.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define CMD(c) "ats+" c "@ats.atsmail.test"

static void
setup(void)
{
	pgfx_open();
	pgfx_reset_records();
}

static void
teardown(void)
{
	pgfx_close();
}

/* A mail: from (login, envelope sender), To, Cc, then NULL-terminated
 * envelope recipients.  Message-ID and key are unique. */
static void
mail(struct atsm_out_facts *f, const char *login, const char *env_from, const char *to,
    const char *cc, ...)
{
	char buf[128];
	const char *r;
	va_list ap;

	atsm_out_facts_init(f);
	f->login = login ? strdup(login) : NULL;
	f->env_from = strdup(env_from ? env_from : "");
	f->hdr_to = to ? strdup(to) : NULL;
	f->hdr_cc = cc ? strdup(cc) : NULL;
	snprintf(buf, sizeof(buf), "<t%d.%d.%ld@atsmail.test>", (int)getpid(), ++serial,
	    (long)time(NULL));
	f->hdr_message_id = strdup(buf);
	f->hdr_subject = strdup("Interview");
	f->env_rcpts = calloc(32, sizeof(char *));
	va_start(ap, cc);
	while ((r = va_arg(ap, const char *)) != NULL)
		f->env_rcpts[f->n_env_rcpts++] = strdup(r);
	va_end(ap);
	f->submitted_at = (long long)time(NULL);
	ck_assert(atsm_journal_make_key("test", buf, f->idem_key) == 0);
}

/* A token of the right alphabet, different in every run. */
static void
unique_token(char *out)
{
	char digits[40];
	size_t i;

	snprintf(digits, sizeof(digits), "%d%d%ld", (int)getpid(), ++serial, (long)time(NULL));
	strcpy(out, "tok");
	for (i = 0; digits[i] != '\0' && i < 30; i++)
		out[3 + i] = (char)('a' + (digits[i] - '0'));
	out[3 + i] = '\0';
}

static void
plan(const struct atsm_out_facts *f, enum atsm_out_mode mode, struct atsm_out_plan *p)
{
	struct atsm_err err = { .msg = "" };

	ck_assert_msg(atsm_out_plan(conn, &conf, NULL, f, mode, p, &err) == 0,
	    "plan: %s", err.msg);
}

static long long
record(const struct atsm_out_facts *f, const struct atsm_out_plan *p)
{
	struct atsm_err err = { .msg = "" };
	int rc = atsm_out_record(conn, f, p, &err);

	ck_assert_msg(rc == 0, "record: %d %s", rc, err.msg);
	return num("SELECT id FROM atsmail.messages WHERE idempotency_key = $1", f->idem_key);
}

static const struct atsm_out_link *
link_of(const struct atsm_out_plan *p, const char *kind, long long id)
{
	size_t i;

	for (i = 0; i < p->n_links; i++)
		if (p->links[i].id == id && strcmp(p->links[i].kind, kind) == 0)
			return &p->links[i];
	return NULL;
}

static void
done(struct atsm_out_facts *f, struct atsm_out_plan *p)
{
	atsm_out_plan_free(p);
	atsm_out_facts_free(f);
}

/* Plan a LIVE mail and expect a rejection whose sentence holds want. */
static void
expect_reject(struct atsm_out_facts *f, const char *want)
{
	struct atsm_out_plan p;

	plan(f, ATSM_OUT_LIVE, &p);
	ck_assert_msg(p.verdict == ATSM_OUT_REJECT, "verdict %s", atsm_out_verdict_name(p.verdict));
	ck_assert_msg(strstr(p.reply_text, want) != NULL, "reply \"%s\" lacks \"%s\"",
	    p.reply_text, want);
	ck_assert_int_eq(p.n_links, 0);
	done(f, &p);
}

/* ------------------------------------------------------------ facts */

START_TEST(facts_json_round_trip)
{
	struct atsm_out_facts f, g;
	struct atsm_err err;
	json_t *j, *back;
	char *text;

	mail(&f, "alice@atsmail.test", "alice@atsmail.test", "Taro <taro@candidate.test>", NULL,
	    "taro@candidate.test", CMD("share"), NULL);
	free(f.hdr_subject);
	f.hdr_subject = strdup("raw \x93\xfa\x96\x7b");   /* Shift_JIS: not UTF-8 */
	f.queue_id = strdup("4XyZ1");
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
	ck_assert_str_eq(g.hdr_subject, f.hdr_subject);
	ck_assert_str_eq(g.hdr_message_id, f.hdr_message_id);
	ck_assert_str_eq(g.queue_id, "4XyZ1");
	ck_assert_uint_eq(g.body_size, 1234);
	ck_assert_str_eq(g.body_sha256, f.body_sha256);
	ck_assert_str_eq(g.idem_key, f.idem_key);
	ck_assert_str_eq(g.token, f.token);
	ck_assert_int_eq(g.submitted_at, f.submitted_at);
	free(text);
	json_decref(j);
	json_decref(back);
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

/* ---------------------------------------------------------- sender */

START_TEST(pass_for_mail_that_is_not_ats_mail)
{
	struct atsm_out_facts f;
	struct atsm_out_plan p;
	long long before = num("SELECT count(*) FROM atsmail.messages", NULL);

	mail(&f, "alice@atsmail.test", "alice@atsmail.test", "friend@example.com",
	    "bob@atsmail.test", "friend@example.com", "bob@atsmail.test", NULL);
	plan(&f, ATSM_OUT_LIVE, &p);
	ck_assert_int_eq(p.verdict, ATSM_OUT_PASS);
	ck_assert_int_eq(p.n_links, 0);
	ck_assert_int_eq(atsm_out_record(conn, &f, &p, NULL), -1);
	ck_assert_int_eq(num("SELECT count(*) FROM atsmail.messages", NULL), before);
	done(&f, &p);
}
END_TEST

START_TEST(pass_for_unknown_sender)
{
	struct atsm_out_facts f;
	struct atsm_out_plan p;

	mail(&f, NULL, "stranger@example.com", "taro@candidate.test", NULL,
	    "taro@candidate.test", NULL);
	plan(&f, ATSM_OUT_LIVE, &p);
	ck_assert_int_eq(p.verdict, ATSM_OUT_PASS);
	ck_assert_int_eq(p.user_id, 0);
	done(&f, &p);
}
END_TEST

START_TEST(sender_login_wins_over_envelope)
{
	struct atsm_out_facts f;
	struct atsm_out_plan p;

	mail(&f, "alice@atsmail.test", "bob@atsmail.test", "taro@candidate.test", NULL,
	    "taro@candidate.test", NULL);
	plan(&f, ATSM_OUT_LIVE, &p);
	ck_assert_int_eq(p.verdict, ATSM_OUT_RECORD);
	ck_assert_int_eq(p.user_id, 1);
	ck_assert_str_eq(p.user_login, "alice@atsmail.test");
	done(&f, &p);
	/* an authenticated login that is no user is not saved by MAIL FROM */
	mail(&f, "intern", "bob@atsmail.test", "taro@candidate.test", NULL,
	    "taro@candidate.test", NULL);
	plan(&f, ATSM_OUT_LIVE, &p);
	ck_assert_int_eq(p.verdict, ATSM_OUT_PASS);
	done(&f, &p);
}
END_TEST

START_TEST(sender_envelope_and_additional_address)
{
	struct atsm_out_facts f;
	struct atsm_out_plan p;

	mail(&f, NULL, "Bob@ATSMAIL.test", "taro@candidate.test", NULL, "taro@candidate.test", NULL);
	plan(&f, ATSM_OUT_LIVE, &p);
	ck_assert_int_eq(p.user_id, 2);
	done(&f, &p);
	mail(&f, NULL, "alice.sales@atsmail.test", "taro@candidate.test", NULL,
	    "taro@candidate.test", NULL);
	plan(&f, ATSM_OUT_LIVE, &p);
	ck_assert_int_eq(p.user_id, 1);
	done(&f, &p);
	/* null sender: the From header decides */
	mail(&f, NULL, "", "taro@candidate.test", NULL, "taro@candidate.test", NULL);
	f.hdr_from = strdup("Carol <carol@atsmail.test>");
	plan(&f, ATSM_OUT_LIVE, &p);
	ck_assert_int_eq(p.user_id, 3);
	done(&f, &p);
}
END_TEST

START_TEST(company_domain_is_never_a_candidate)
{
	struct atsm_out_facts f;
	struct atsm_out_plan p;

	/* even an address of the company that sits on a resume */
	sql("INSERT INTO atsmail.addresses (owner_kind, owner_id, addr_norm)"
	    " VALUES ('resume', 1008, 'intern@atsmail.test') ON CONFLICT DO NOTHING");
	mail(&f, "alice@atsmail.test", "alice@atsmail.test", "intern@atsmail.test", NULL,
	    "intern@atsmail.test", NULL);
	plan(&f, ATSM_OUT_LIVE, &p);
	ck_assert_int_eq(p.verdict, ATSM_OUT_PASS);
	done(&f, &p);
	sql("DELETE FROM atsmail.addresses WHERE addr_norm = 'intern@atsmail.test'");
}
END_TEST

/* ------------------------------------------------------- recipients */

START_TEST(one_candidate_in_to_is_recorded)
{
	struct atsm_out_facts f;
	struct atsm_out_plan p;
	const struct atsm_out_link *l;
	long long id;
	char ids[24];

	mail(&f, "alice@atsmail.test", "alice@atsmail.test", "Taro <Taro@Candidate.test>", NULL,
	    "Taro@Candidate.test", NULL);
	plan(&f, ATSM_OUT_LIVE, &p);
	ck_assert_int_eq(p.verdict, ATSM_OUT_RECORD);
	ck_assert_uint_eq(p.n_links, 1);
	ck_assert((l = link_of(&p, "resume", 1001)) != NULL);
	ck_assert_str_eq(l->rule, "recipient_address");
	ck_assert(!l->ambiguous);
	ck_assert_str_eq(p.visibility, "shared");
	id = record(&f, &p);
	snprintf(ids, sizeof(ids), "%lld", id);
	ck_assert_int_eq(num("SELECT count(*) FROM atsmail.message_links WHERE message_id = $1"
	    " AND target_kind = 'resume' AND target_id = 1001 AND rule = 'recipient_address'", ids), 1);
	ck_assert_int_eq(num("SELECT count(*) FROM atsmail.message_recipients WHERE message_id = $1"
	    " AND address = 'taro@candidate.test' AND kind = 'to'", ids), 1);
	done(&f, &p);
}
END_TEST

START_TEST(bcc_only_candidate)
{
	struct atsm_out_facts f;
	struct atsm_out_plan p;
	char ids[24];

	mail(&f, "alice@atsmail.test", "alice@atsmail.test", "bob@atsmail.test", NULL,
	    "bob@atsmail.test", "hanako@candidate.test", NULL);
	plan(&f, ATSM_OUT_LIVE, &p);
	ck_assert_int_eq(p.verdict, ATSM_OUT_RECORD);
	ck_assert(link_of(&p, "resume", 1002) != NULL);
	snprintf(ids, sizeof(ids), "%lld", record(&f, &p));
	ck_assert_int_eq(num("SELECT count(*) FROM atsmail.message_recipients WHERE message_id = $1"
	    " AND address = 'hanako@candidate.test' AND kind = 'bcc'", ids), 1);
	ck_assert_int_eq(num("SELECT count(*) FROM atsmail.message_recipients WHERE message_id = $1"
	    " AND address = 'bob@atsmail.test' AND kind = 'to'", ids), 1);
	done(&f, &p);
}
END_TEST

START_TEST(ambiguous_address_links_every_record)
{
	struct atsm_out_facts f;
	struct atsm_out_plan p;
	char ids[24];

	mail(&f, "alice@atsmail.test", "alice@atsmail.test", "family@candidate.test", NULL,
	    "family@candidate.test", NULL);
	plan(&f, ATSM_OUT_LIVE, &p);
	ck_assert_int_eq(p.verdict, ATSM_OUT_RECORD);
	ck_assert_uint_eq(p.n_links, 2);
	ck_assert(link_of(&p, "resume", 1004)->ambiguous);
	ck_assert(link_of(&p, "resume", 1005)->ambiguous);
	snprintf(ids, sizeof(ids), "%lld", record(&f, &p));
	ck_assert_int_eq(num("SELECT count(*) FROM atsmail.message_links WHERE message_id = $1"
	    " AND ambiguous", ids), 2);
	done(&f, &p);
}
END_TEST

START_TEST(two_addresses_of_one_resume_make_one_link)
{
	struct atsm_out_facts f;
	struct atsm_out_plan p;

	mail(&f, "alice@atsmail.test", "alice@atsmail.test", "jiro@candidate.test",
	    "jiro.home@example.net", "jiro@candidate.test", "jiro.home@example.net", NULL);
	plan(&f, ATSM_OUT_LIVE, &p);
	ck_assert_int_eq(p.verdict, ATSM_OUT_RECORD);     /* one candidate: no guard */
	ck_assert_uint_eq(p.n_links, 1);
	ck_assert(!link_of(&p, "resume", 1003)->ambiguous);
	done(&f, &p);
}
END_TEST

/* --------------------------------------------------------- commands */

START_TEST(command_phase_updates_the_resume)
{
	struct atsm_out_facts f;
	struct atsm_out_plan p;
	char ids[24];
	long long id;

	mail(&f, "alice@atsmail.test", "alice@atsmail.test", "taro@candidate.test", NULL,
	    "taro@candidate.test", CMD("phase.active"), NULL);
	plan(&f, ATSM_OUT_LIVE, &p);
	ck_assert_int_eq(p.verdict, ATSM_OUT_RECORD);
	ck_assert_uint_eq(p.n_phases, 1);
	ck_assert_str_eq(p.phases[0].kind, "resume");
	ck_assert_int_eq(p.phases[0].record_id, 1001);
	ck_assert_str_eq(p.phases[0].from_phase, "new");
	ck_assert_str_eq(p.phases[0].to_phase, "active");
	id = record(&f, &p);
	snprintf(ids, sizeof(ids), "%lld", id);
	ck_assert_int_eq(num("SELECT count(*) FROM atsmail.resumes WHERE id = 1001 AND phase = 'active'",
	    NULL), 1);
	ck_assert_int_eq(num("SELECT count(*) FROM atsmail.phase_history WHERE message_id = $1"
	    " AND kind = 'resume' AND record_id = 1001 AND from_phase = 'new' AND to_phase = 'active'"
	    " AND cause = 'mail_sent' AND actor_id = 1", ids), 1);
	/* the command address is consumed: never a recipient */
	ck_assert_int_eq(num("SELECT count(*) FROM atsmail.message_recipients WHERE message_id = $1"
	    " AND address LIKE 'ats+%'", ids), 0);
	done(&f, &p);
}
END_TEST

START_TEST(command_job_creates_processes)
{
	struct atsm_out_facts f;
	struct atsm_out_plan p;
	char ids[24];

	mail(&f, "alice@atsmail.test", "alice@atsmail.test", "taro@candidate.test", NULL,
	    "taro@candidate.test", CMD("job.3002.3003"), NULL);
	plan(&f, ATSM_OUT_LIVE, &p);
	ck_assert_int_eq(p.verdict, ATSM_OUT_RECORD);
	ck_assert_uint_eq(p.n_procs, 2);
	ck_assert_int_eq(p.procs[0].process_id, 0);
	ck_assert_str_eq(p.procs[0].to_phase, "entry");   /* first process phase */
	ck_assert(link_of(&p, "job", 3002) != NULL && link_of(&p, "job", 3003) != NULL);
	snprintf(ids, sizeof(ids), "%lld", record(&f, &p));
	ck_assert_int_eq(num("SELECT count(*) FROM atsmail.processes WHERE resume_id = 1001"
	    " AND job_id IN (3002, 3003) AND phase = 'entry' AND owner_id = 1", NULL), 2);
	ck_assert_int_eq(num("SELECT count(*) FROM atsmail.message_links l JOIN atsmail.processes pr"
	    " ON l.target_kind = 'process' AND pr.id = l.target_id WHERE l.message_id = $1"
	    " AND l.rule = 'command'", ids), 2);
	ck_assert_int_eq(num("SELECT count(*) FROM atsmail.phase_history WHERE message_id = $1"
	    " AND kind = 'process' AND from_phase IS NULL AND to_phase = 'entry'", ids), 2);
	done(&f, &p);
}
END_TEST

START_TEST(command_job_with_phase_advances_existing_process)
{
	struct atsm_out_facts f;
	struct atsm_out_plan p;
	char ids[24];

	mail(&f, "bob@atsmail.test", "bob@atsmail.test", "hanako@candidate.test", NULL,
	    "hanako@candidate.test", CMD("job.3001"), CMD("phase.interview1"), NULL);
	plan(&f, ATSM_OUT_LIVE, &p);
	ck_assert_int_eq(p.verdict, ATSM_OUT_RECORD);
	ck_assert_uint_eq(p.n_procs, 1);
	ck_assert_int_eq(p.procs[0].process_id, 4001);
	ck_assert_str_eq(p.procs[0].from_phase, "screening");
	ck_assert_str_eq(p.procs[0].to_phase, "interview1");
	ck_assert(link_of(&p, "process", 4001) != NULL);
	snprintf(ids, sizeof(ids), "%lld", record(&f, &p));
	ck_assert_int_eq(num("SELECT count(*) FROM atsmail.processes WHERE id = 4001"
	    " AND phase = 'interview1'", NULL), 1);
	ck_assert_int_eq(num("SELECT count(*) FROM atsmail.phase_history WHERE message_id = $1"
	    " AND kind = 'process' AND record_id = 4001 AND from_phase = 'screening'"
	    " AND actor_id = 2", ids), 1);
	/* the resume's own phase is not the process's */
	ck_assert_int_eq(num("SELECT count(*) FROM atsmail.resumes WHERE id = 1002 AND phase = 'new'",
	    NULL), 1);
	done(&f, &p);
}
END_TEST

START_TEST(command_private_and_share)
{
	struct atsm_out_facts f;
	struct atsm_out_plan p;

	mail(&f, "alice@atsmail.test", "alice@atsmail.test", "taro@candidate.test", NULL,
	    "taro@candidate.test", CMD("private"), NULL);
	plan(&f, ATSM_OUT_LIVE, &p);
	ck_assert_int_eq(p.verdict, ATSM_OUT_RECORD);
	ck_assert_str_eq(p.visibility, "private");
	ck_assert_int_eq(p.commands.share, -1);
	done(&f, &p);
	/* carol's mode is private; ats+share shares this one mail */
	mail(&f, "carol@atsmail.test", "carol@atsmail.test", "taro@candidate.test", NULL,
	    "taro@candidate.test", CMD("share"), NULL);
	plan(&f, ATSM_OUT_LIVE, &p);
	ck_assert_str_eq(p.visibility, "shared");
	done(&f, &p);
}
END_TEST

START_TEST(command_explicit_links)
{
	struct atsm_out_facts f;
	struct atsm_out_plan p;
	const struct atsm_out_link *l;

	mail(&f, "alice@atsmail.test", "alice@atsmail.test", "bob@atsmail.test", NULL,
	    "bob@atsmail.test", CMD("resume.1001"), CMD("contact.2001"), NULL);
	plan(&f, ATSM_OUT_LIVE, &p);
	ck_assert_int_eq(p.verdict, ATSM_OUT_RECORD);
	ck_assert_uint_eq(p.n_links, 2);
	ck_assert((l = link_of(&p, "resume", 1001)) != NULL);
	ck_assert_str_eq(l->rule, "command");
	ck_assert((l = link_of(&p, "contact", 2001)) != NULL);
	ck_assert_str_eq(l->rule, "command");
	done(&f, &p);
	/* naming one of an ambiguous pair lets its phase be set */
	mail(&f, "alice@atsmail.test", "alice@atsmail.test", "family@candidate.test", NULL,
	    "family@candidate.test", CMD("resume.1005"), CMD("phase.active"), NULL);
	plan(&f, ATSM_OUT_LIVE, &p);
	ck_assert_int_eq(p.verdict, ATSM_OUT_RECORD);
	ck_assert(!link_of(&p, "resume", 1005)->ambiguous);
	ck_assert(link_of(&p, "resume", 1004)->ambiguous);
	ck_assert_uint_eq(p.n_phases, 1);
	ck_assert_int_eq(p.phases[0].record_id, 1005);
	done(&f, &p);
}
END_TEST

START_TEST(commands_combined)
{
	struct atsm_out_facts f;
	struct atsm_out_plan p;
	char ids[24];

	mail(&f, "alice@atsmail.test", "alice@atsmail.test", "taro@candidate.test", NULL,
	    "taro@candidate.test", CMD("phase.active"), CMD("private"), CMD("contact.2001"), NULL);
	plan(&f, ATSM_OUT_LIVE, &p);
	ck_assert_int_eq(p.verdict, ATSM_OUT_RECORD);
	ck_assert_str_eq(p.visibility, "private");
	ck_assert_str_eq(link_of(&p, "contact", 2001)->rule, "command");
	/* both linked records get the phase: resume and contact both have "active" */
	ck_assert_uint_eq(p.n_phases, 2);
	snprintf(ids, sizeof(ids), "%lld", record(&f, &p));
	ck_assert_int_eq(num("SELECT count(*) FROM atsmail.contacts WHERE id = 2001 AND phase = 'active'",
	    NULL), 1);
	ck_assert_int_eq(num("SELECT count(*) FROM atsmail.messages WHERE id = $1::bigint"
	    " AND visibility = 'private'", ids), 1);
	done(&f, &p);
}
END_TEST

START_TEST(reject_unknown_command)
{
	struct atsm_out_facts f;

	mail(&f, "alice@atsmail.test", "alice@atsmail.test", "taro@candidate.test", NULL,
	    "taro@candidate.test", CMD("frobnicate"), NULL);
	expect_reject(&f, "unknown command");
}
END_TEST

START_TEST(reject_unknown_job)
{
	struct atsm_out_facts f;

	mail(&f, "alice@atsmail.test", "alice@atsmail.test", "taro@candidate.test", NULL,
	    "taro@candidate.test", CMD("job.3001.3099"), NULL);
	expect_reject(&f, "ats+job.3099: job 3099 does not exist");
}
END_TEST

START_TEST(reject_unknown_phase)
{
	struct atsm_out_facts f;

	mail(&f, "alice@atsmail.test", "alice@atsmail.test", "taro@candidate.test", NULL,
	    "taro@candidate.test", CMD("phase.nosuch"), NULL);
	expect_reject(&f, "no resume or contact phase \"nosuch\"");
	/* with a job, the phase must be a process phase */
	mail(&f, "alice@atsmail.test", "alice@atsmail.test", "taro@candidate.test", NULL,
	    "taro@candidate.test", CMD("phase.placed"), CMD("job.3004"), NULL);
	expect_reject(&f, "no selection-process phase \"placed\"");
}
END_TEST

START_TEST(reject_unknown_record_ids)
{
	struct atsm_out_facts f;

	mail(&f, "alice@atsmail.test", "alice@atsmail.test", "taro@candidate.test", NULL,
	    "taro@candidate.test", CMD("resume.1999"), NULL);
	expect_reject(&f, "ats+resume.1999: resume 1999 does not exist");
	mail(&f, "alice@atsmail.test", "alice@atsmail.test", "taro@candidate.test", NULL,
	    "taro@candidate.test", CMD("contact.2999"), NULL);
	expect_reject(&f, "contact 2999 does not exist");
}
END_TEST

START_TEST(reject_21_jobs_accept_20)
{
	struct atsm_out_facts f;
	struct atsm_out_plan p;

	mail(&f, "alice@atsmail.test", "alice@atsmail.test", "taro@candidate.test", NULL,
	    "taro@candidate.test", CMD("job.3001.3002.3003.3004.3005.3006.3007.3008.3009.3010"),
	    CMD("job.3011.3012.3013.3014.3015.3016.3017.3018.3019.3020.3021"), NULL);
	expect_reject(&f, "at most 20");
	mail(&f, "alice@atsmail.test", "alice@atsmail.test", "taro@candidate.test", NULL,
	    "taro@candidate.test", CMD("job.3001.3002.3003.3004.3005.3006.3007.3008.3009.3010"),
	    CMD("job.3011.3012.3013.3014.3015.3016.3017.3018.3019.3020"), NULL);
	plan(&f, ATSM_OUT_LIVE, &p);
	ck_assert_int_eq(p.verdict, ATSM_OUT_RECORD);
	ck_assert_uint_eq(p.n_jobs, 20);
	ck_assert_uint_eq(p.n_procs, 20);
	done(&f, &p);
}
END_TEST

START_TEST(reject_private_with_share)
{
	struct atsm_out_facts f;

	mail(&f, "alice@atsmail.test", "alice@atsmail.test", "taro@candidate.test", NULL,
	    "taro@candidate.test", CMD("private"), CMD("share"), NULL);
	expect_reject(&f, "contradicts");
}
END_TEST

START_TEST(reject_job_without_resume)
{
	struct atsm_out_facts f;

	mail(&f, "alice@atsmail.test", "alice@atsmail.test", "suzuki@client.test", NULL,
	    "suzuki@client.test", CMD("job.3005"), NULL);
	expect_reject(&f, "linked to no candidate");
	/* an ambiguous address must be resolved before a job is applied */
	mail(&f, "alice@atsmail.test", "alice@atsmail.test", "family@candidate.test", NULL,
	    "family@candidate.test", CMD("job.3005"), NULL);
	expect_reject(&f, "family@candidate.test belongs to several records");
}
END_TEST

START_TEST(reject_commands_from_non_user)
{
	struct atsm_out_facts f;

	mail(&f, NULL, "stranger@example.com", "friend@example.com", NULL,
	    "friend@example.com", CMD("share"), NULL);
	expect_reject(&f, "only for recruiters: stranger@example.com is not a registered user");
}
END_TEST

/* ------------------------------------------------------------ guard */

static void
guard_case(const char *action, enum atsm_out_verdict want)
{
	struct atsm_out_facts f;
	struct atsm_out_plan p;
	struct atsm_err err;

	ck_assert(atsm_conf_set(&conf, "guard_action", action, &err) == 0);
	mail(&f, "alice@atsmail.test", "alice@atsmail.test", "taro@candidate.test",
	    "hanako@candidate.test", "taro@candidate.test", "hanako@candidate.test", NULL);
	plan(&f, ATSM_OUT_LIVE, &p);
	ck_assert_msg(p.verdict == want, "%s: verdict %s", action, atsm_out_verdict_name(p.verdict));
	ck_assert_uint_eq(p.n_candidates, 2);
	if (want != ATSM_OUT_RECORD)
		ck_assert_msg(strstr(p.reply_text, "Bcc") != NULL, "%s", p.reply_text);
	else
		ck_assert_str_eq(p.reply_text, "");
	done(&f, &p);
}

START_TEST(guard_rejects_two_candidates_in_to_cc)
{
	guard_case("reject", ATSM_OUT_REJECT);
}
END_TEST

START_TEST(guard_holds_by_configuration)
{
	guard_case("hold", ATSM_OUT_HOLD);
}
END_TEST

START_TEST(guard_allows_by_configuration)
{
	guard_case("allow", ATSM_OUT_RECORD);
}
END_TEST

START_TEST(guard_ignores_bcc_candidates)
{
	struct atsm_out_facts f;
	struct atsm_out_plan p;

	mail(&f, "alice@atsmail.test", "alice@atsmail.test", "alice@atsmail.test", NULL,
	    "taro@candidate.test", "hanako@candidate.test", NULL);
	plan(&f, ATSM_OUT_LIVE, &p);
	ck_assert_int_eq(p.verdict, ATSM_OUT_RECORD);
	ck_assert_uint_eq(p.n_links, 2);
	done(&f, &p);
}
END_TEST

START_TEST(needs_approval_holds)
{
	struct atsm_out_facts f;
	struct atsm_out_plan p;

	mail(&f, "erin@atsmail.test", "erin@atsmail.test", "taro@candidate.test", NULL,
	    "taro@candidate.test", NULL);
	plan(&f, ATSM_OUT_LIVE, &p);
	ck_assert_int_eq(p.verdict, ATSM_OUT_HOLD);
	ck_assert_msg(strstr(p.reply_text, "approval") != NULL, "%s", p.reply_text);
	/* a held mail is still recorded */
	ck_assert_int_gt(record(&f, &p), 0);
	done(&f, &p);
}
END_TEST

/* ----------------------------------------------------------- policy */

static void
vis_case(const char *login, const char *to, const char *cc, const char *want, const char *reason)
{
	struct atsm_out_facts f;
	struct atsm_out_plan p;

	mail(&f, login, login, to, cc, NULL);
	plan(&f, ATSM_OUT_LIVE, &p);
	ck_assert_msg(p.verdict == ATSM_OUT_RECORD, "%s -> %s: %s", login, to,
	    atsm_out_verdict_name(p.verdict));
	ck_assert_msg(strcmp(p.visibility, want) == 0, "%s -> %s: %s (%s), want %s", login, to,
	    p.visibility, p.visibility_reason, want);
	if (reason != NULL)
		ck_assert_msg(strstr(p.visibility_reason, reason) != NULL, "reason \"%s\" lacks %s",
		    p.visibility_reason, reason);
	done(&f, &p);
}

START_TEST(policy_follows_the_sender_mode)
{
	vis_case("alice@atsmail.test", "taro@candidate.test", NULL, "shared", "public");
	vis_case("carol@atsmail.test", "taro@candidate.test", NULL, "private", "private");
	vis_case("admin@atsmail.test", "taro@candidate.test", NULL, "admins", "admin");
}
END_TEST

START_TEST(policy_custom_mode_uses_record_share_flags)
{
	vis_case("dave@atsmail.test", "taro@candidate.test", NULL, "shared", NULL);
	vis_case("dave@atsmail.test", "saburo@candidate.test", NULL, "private", NULL);
	vis_case("dave@atsmail.test", "sato@client.test", NULL, "private", NULL);
}
END_TEST

START_TEST(policy_exclusion_domain_makes_private)
{
	vis_case("alice@atsmail.test", "ken@rival.example", NULL, "private", "rival.example");
	/* a counterpart that is no record, in a subdomain, is enough */
	vis_case("alice@atsmail.test", "taro@candidate.test", "boss@hr.rival.example",
	    "private", "rival.example");
	/* any number of domains: a second one added now works at once */
	sql("INSERT INTO atsmail.exclusion_domains (domain) VALUES ('other-rival.example')"
	    " ON CONFLICT DO NOTHING");
	vis_case("alice@atsmail.test", "taro@candidate.test", "x@other-rival.example",
	    "private", "other-rival.example");
	sql("DELETE FROM atsmail.exclusion_domains WHERE domain = 'other-rival.example'");
}
END_TEST

/* ------------------------------------------------------------ stamps */

START_TEST(verp_sender_is_built_with_the_token)
{
	struct atsm_out_facts f;
	struct atsm_out_plan p;
	struct atsm_token_keys keys;
	struct atsm_err err;
	char want[320];

	ck_assert(atsm_token_keys_from_string("0123456789abcdef0123456789abcdef-test\n", &keys,
	    &err) == 0);
	ck_assert(atsm_conf_set(&conf, "verp", "yes", &err) == 0);
	mail(&f, "alice@atsmail.test", "alice@atsmail.test", "taro@candidate.test", NULL,
	    "taro@candidate.test", NULL);
	ck_assert(atsm_out_plan(conn, &conf, &keys, &f, ATSM_OUT_LIVE, &p, &err) == 0);
	ck_assert_int_eq(p.verdict, ATSM_OUT_RECORD);
	ck_assert_uint_eq(strlen(p.token), ATSM_TOKEN_LEN);
	snprintf(want, sizeof(want), "alice+ats-%s@atsmail.test", p.token);
	ck_assert_str_eq(p.verp_sender, want);
	done(&f, &p);
	/* a token already given by the milter is kept */
	mail(&f, "alice@atsmail.test", "alice@atsmail.test", "taro@candidate.test", NULL,
	    "taro@candidate.test", NULL);
	strcpy(f.token, "abcdefghijklmnopqrstuvwxyz234567abcdef");
	ck_assert(atsm_out_plan(conn, &conf, &keys, &f, ATSM_OUT_LIVE, &p, &err) == 0);
	ck_assert_str_eq(p.token, f.token);
	ck_assert_str_eq(p.verp_sender, "alice+ats-abcdefghijklmnopqrstuvwxyz234567abcdef@atsmail.test");
	done(&f, &p);
	atsm_token_keys_wipe(&keys);
}
END_TEST

/* ----------------------------------------------------------- record */

START_TEST(record_writes_exactly_the_expected_rows_once)
{
	struct atsm_out_facts f;
	struct atsm_out_plan p;
	char ids[24];
	long long id, outbox, audit;
	struct atsm_err err;

	mail(&f, "alice@atsmail.test", "alice@atsmail.test", "taro@candidate.test",
	    "suzuki@client.test", "taro@candidate.test", "suzuki@client.test", "bob@atsmail.test",
	    CMD("phase.interview1"), CMD("job.3006"), NULL);
	unique_token(f.token);
	plan(&f, ATSM_OUT_LIVE, &p);
	ck_assert_int_eq(p.verdict, ATSM_OUT_RECORD);
	outbox = num("SELECT count(*) FROM atsmail.outbox", NULL);
	audit = num("SELECT count(*) FROM atsmail.audit_log", NULL);
	id = record(&f, &p);
	snprintf(ids, sizeof(ids), "%lld", id);
	ck_assert_int_eq(num("SELECT count(*) FROM atsmail.messages WHERE id = $1::bigint"
	    " AND direction = 'out' AND owner_id = 1 AND rfc_message_id NOT LIKE '<%'"
	    " AND visibility = 'shared'", ids), 1);
	ck_assert_int_eq(num("SELECT count(*) FROM atsmail.messages WHERE token = $1", f.token), 1);
	ck_assert_int_eq(num("SELECT count(*) FROM atsmail.message_recipients WHERE message_id = $1",
	    ids), 3);
	ck_assert_int_eq(num("SELECT count(*) FROM atsmail.message_recipients WHERE message_id = $1"
	    " AND address = 'bob@atsmail.test' AND kind = 'bcc'", ids), 1);
	ck_assert_int_eq(num("SELECT count(*) FROM atsmail.message_recipients WHERE message_id = $1"
	    " AND address = 'suzuki@client.test' AND kind = 'cc'", ids), 1);
	/* resume, contact, job, process */
	ck_assert_int_eq(num("SELECT count(*) FROM atsmail.message_links WHERE message_id = $1", ids), 4);
	/* with ats+job, ats+phase is the new process's: one history row */
	ck_assert_uint_eq(p.n_procs, 1);
	ck_assert_str_eq(p.procs[0].to_phase, "interview1");
	ck_assert_int_eq(num("SELECT count(*) FROM atsmail.phase_history WHERE message_id = $1"
	    " AND cause = 'mail_sent' AND actor_id = 1", ids),
	    (long long)(p.n_phases + p.n_procs));
	ck_assert_int_eq(num("SELECT count(*) FROM atsmail.outbox", NULL) - outbox,
	    1 + (long long)(p.n_phases + p.n_procs));
	ck_assert_int_eq(num("SELECT count(*) FROM atsmail.outbox WHERE event_type = 'message.sent'"
	    " AND (payload->>'message_id')::bigint = $1::bigint AND payload::text NOT LIKE '%Interview%'"
	    " AND payload::text NOT LIKE '%taro@%'", ids), 1);
	ck_assert_int_eq(num("SELECT count(*) FROM atsmail.audit_log WHERE action = 'message.sent'"
	    " AND object_kind = 'message' AND object_id = $1 AND actor = 'alice@atsmail.test'", ids), 1);
	ck_assert_int_gt(num("SELECT count(*) FROM atsmail.audit_log", NULL), audit);
	ck_assert_int_eq(num("SELECT count(*) FROM atsmail.journal_applied WHERE idempotency_key = $1",
	    f.idem_key), 1);
	/* a second record with the same key writes nothing */
	outbox = num("SELECT count(*) FROM atsmail.outbox", NULL);
	audit = num("SELECT count(*) FROM atsmail.audit_log", NULL);
	ck_assert_int_eq(atsm_out_record(conn, &f, &p, &err), 1);
	ck_assert_int_eq(num("SELECT count(*) FROM atsmail.messages WHERE idempotency_key = $1",
	    f.idem_key), 1);
	ck_assert_int_eq(num("SELECT count(*) FROM atsmail.outbox", NULL), outbox);
	ck_assert_int_eq(num("SELECT count(*) FROM atsmail.audit_log", NULL), audit);
	ck_assert_int_eq(num("SELECT count(*) FROM atsmail.processes WHERE resume_id = 1001"
	    " AND job_id = 3006", NULL), 1);
	done(&f, &p);
}
END_TEST

START_TEST(record_same_message_id_is_already_recorded)
{
	struct atsm_out_facts f;
	struct atsm_out_plan p;

	mail(&f, "alice@atsmail.test", "alice@atsmail.test", "taro@candidate.test", NULL,
	    "taro@candidate.test", NULL);
	plan(&f, ATSM_OUT_LIVE, &p);
	(void)record(&f, &p);
	/* the same mail journaled under another key */
	ck_assert(atsm_journal_make_key("other", f.hdr_message_id, f.idem_key) == 0);
	ck_assert_int_eq(atsm_out_record(conn, &f, &p, NULL), 1);
	ck_assert_int_eq(num("SELECT count(*) FROM atsmail.journal_applied WHERE idempotency_key = $1",
	    f.idem_key), 0);
	done(&f, &p);
}
END_TEST

START_TEST(record_threads_replies)
{
	struct atsm_out_facts f, g;
	struct atsm_out_plan p, q;
	long long first, second;
	char ids[24];

	mail(&f, "alice@atsmail.test", "alice@atsmail.test", "taro@candidate.test", NULL,
	    "taro@candidate.test", NULL);
	plan(&f, ATSM_OUT_LIVE, &p);
	first = record(&f, &p);
	mail(&g, "alice@atsmail.test", "alice@atsmail.test", "taro@candidate.test", NULL,
	    "taro@candidate.test", NULL);
	g.hdr_in_reply_to = strdup(f.hdr_message_id);
	g.hdr_references = strdup(f.hdr_message_id);
	plan(&g, ATSM_OUT_LIVE, &q);
	second = record(&g, &q);
	snprintf(ids, sizeof(ids), "%lld", second);
	ck_assert_int_eq(num("SELECT thread_id FROM atsmail.messages WHERE id = $1::bigint", ids), first);
	done(&f, &p);
	done(&g, &q);
}
END_TEST

START_TEST(replay_skips_invalid_commands_and_records)
{
	struct atsm_out_facts f;
	struct atsm_out_plan p;

	/* a bad job, and two candidates in To/Cc: LIVE would reject both */
	mail(&f, "alice@atsmail.test", "alice@atsmail.test", "taro@candidate.test",
	    "hanako@candidate.test", "taro@candidate.test", "hanako@candidate.test",
	    CMD("job.3099"), CMD("phase.active"), NULL);
	plan(&f, ATSM_OUT_REPLAY, &p);
	ck_assert_msg(p.verdict == ATSM_OUT_RECORD, "verdict %s", atsm_out_verdict_name(p.verdict));
	ck_assert_msg(strstr(p.notes, "job 3099 does not exist") != NULL, "notes: %s", p.notes);
	ck_assert_uint_eq(p.n_jobs, 0);
	ck_assert_str_eq(p.verp_sender, "");
	ck_assert_int_gt(record(&f, &p), 0);
	done(&f, &p);
	/* a syntax error in REPLAY: noted, the rest applied */
	mail(&f, "alice@atsmail.test", "alice@atsmail.test", "taro@candidate.test", NULL,
	    "taro@candidate.test", CMD("frobnicate"), NULL);
	plan(&f, ATSM_OUT_REPLAY, &p);
	ck_assert_int_eq(p.verdict, ATSM_OUT_RECORD);
	ck_assert_msg(strstr(p.notes, "unknown command") != NULL, "notes: %s", p.notes);
	done(&f, &p);
}
END_TEST

START_TEST(japanese_subject_is_stored_in_utf8)
{
	struct atsm_out_facts f;
	struct atsm_out_plan p;
	char ids[24], *subject;

	mail(&f, "alice@atsmail.test", "alice@atsmail.test", "taro@candidate.test", NULL,
	    "taro@candidate.test", NULL);
	free(f.hdr_subject);
	f.hdr_subject = strdup("=?ISO-2022-JP?B?GyRCRnxLXDhsJE43b0w+GyhC?=");
	plan(&f, ATSM_OUT_LIVE, &p);
	ck_assert_str_eq(p.subject, "日本語の件名");
	snprintf(ids, sizeof(ids), "%lld", record(&f, &p));
	subject = text("SELECT subject FROM atsmail.messages WHERE id = $1::bigint", ids);
	ck_assert_str_eq(subject, "日本語の件名");
	free(subject);
	done(&f, &p);
}
END_TEST

START_TEST(writer_role_suffices)
{
	struct atsm_out_facts f;
	struct atsm_out_plan p;
	char ids[24];

	sql("SET ROLE atsmail_writer");
	ck_assert_int_eq(num("SELECT count(*) FROM pg_roles WHERE rolname = current_user"
	    " AND NOT rolsuper AND NOT rolbypassrls", NULL), 1);
	mail(&f, "bob@atsmail.test", "bob@atsmail.test", "taro@candidate.test", NULL,
	    "taro@candidate.test", CMD("job.3007"), CMD("phase.screening"), NULL);
	plan(&f, ATSM_OUT_LIVE, &p);
	ck_assert_int_eq(p.verdict, ATSM_OUT_RECORD);
	snprintf(ids, sizeof(ids), "%lld", record(&f, &p));
	ck_assert_int_eq(num("SELECT count(*) FROM atsmail.message_links WHERE message_id = $1", ids), 3);
	sql("RESET ROLE");
	ck_assert_int_eq(num("SELECT count(*) FROM atsmail.processes WHERE resume_id = 1001"
	    " AND job_id = 3007 AND phase = 'screening'", NULL), 1);
	done(&f, &p);
}
END_TEST

START_TEST(database_gone_is_unavailable)
{
	struct atsm_out_facts f;
	struct atsm_out_plan p;
	struct atsm_err err = { .msg = "" };
	PGconn *victim = pgfx_victim();

	mail(&f, "alice@atsmail.test", "alice@atsmail.test", "taro@candidate.test", NULL,
	    "taro@candidate.test", NULL);
	ck_assert_int_eq(atsm_out_plan(victim, &conf, NULL, &f, ATSM_OUT_LIVE, &p, &err), -1);
	ck_assert_int_eq(err.cls, ATSM_ERR_UNAVAILABLE);
	ck_assert_int_eq(p.verdict, ATSM_OUT_PASS);
	PQfinish(victim);
	done(&f, &p);
}
END_TEST

static Suite *
suite(void)
{
	Suite *s = suite_create("outbound");
	TCase *tc = tcase_create("outbound");

	pgfx_require("tests/e2e/outbound-record.sh");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, facts_json_round_trip);
	tcase_add_test(tc, facts_json_errors_name_the_field);
	tcase_add_test(tc, pass_for_mail_that_is_not_ats_mail);
	tcase_add_test(tc, pass_for_unknown_sender);
	tcase_add_test(tc, sender_login_wins_over_envelope);
	tcase_add_test(tc, sender_envelope_and_additional_address);
	tcase_add_test(tc, company_domain_is_never_a_candidate);
	tcase_add_test(tc, one_candidate_in_to_is_recorded);
	tcase_add_test(tc, bcc_only_candidate);
	tcase_add_test(tc, ambiguous_address_links_every_record);
	tcase_add_test(tc, two_addresses_of_one_resume_make_one_link);
	tcase_add_test(tc, command_phase_updates_the_resume);
	tcase_add_test(tc, command_job_creates_processes);
	tcase_add_test(tc, command_job_with_phase_advances_existing_process);
	tcase_add_test(tc, command_private_and_share);
	tcase_add_test(tc, command_explicit_links);
	tcase_add_test(tc, commands_combined);
	tcase_add_test(tc, reject_unknown_command);
	tcase_add_test(tc, reject_unknown_job);
	tcase_add_test(tc, reject_unknown_phase);
	tcase_add_test(tc, reject_unknown_record_ids);
	tcase_add_test(tc, reject_21_jobs_accept_20);
	tcase_add_test(tc, reject_private_with_share);
	tcase_add_test(tc, reject_job_without_resume);
	tcase_add_test(tc, reject_commands_from_non_user);
	tcase_add_test(tc, guard_rejects_two_candidates_in_to_cc);
	tcase_add_test(tc, guard_holds_by_configuration);
	tcase_add_test(tc, guard_allows_by_configuration);
	tcase_add_test(tc, guard_ignores_bcc_candidates);
	tcase_add_test(tc, needs_approval_holds);
	tcase_add_test(tc, policy_follows_the_sender_mode);
	tcase_add_test(tc, policy_custom_mode_uses_record_share_flags);
	tcase_add_test(tc, policy_exclusion_domain_makes_private);
	tcase_add_test(tc, verp_sender_is_built_with_the_token);
	tcase_add_test(tc, record_writes_exactly_the_expected_rows_once);
	tcase_add_test(tc, record_same_message_id_is_already_recorded);
	tcase_add_test(tc, record_threads_replies);
	tcase_add_test(tc, replay_skips_invalid_commands_and_records);
	tcase_add_test(tc, japanese_subject_is_stored_in_utf8);
	tcase_add_test(tc, writer_role_suffices);
	tcase_add_test(tc, database_gone_is_unavailable);
	suite_add_tcase(s, tc);
	return s;
}

ATSM_CHECK_MAIN()
