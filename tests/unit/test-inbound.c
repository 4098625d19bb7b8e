/* test-inbound.c -- tests of the inbound pipeline (lib/inbound-*.c: facts
 * from a raw message and their JSON form, atsm_in_plan, atsm_in_record)
 * against a real PostgreSQL holding the migrations, tests/data/seed.sql
 * and tests/data/seed-inbound.sql.
 *
 * ATSM_TEST_PG is the conninfo (superuser); without it the whole program
 * is skipped.  tests/e2e/inbound-record.sh starts a private server, loads
 * the schema and the seeds, and runs this program.  Each test runs in its
 * own process (Check's fork mode) with its own connection; the fixture
 * puts the records a test may change back into their seeded state and
 * gives the seeded sent mail tokens made with this program's test secret;
 * every mail has a Message-ID, key and (intake) sender of its own.
 */
#include "atsm-check.h"
#include "inbound/inbound.h"
#include "store/journal.h"
#include "pg-fixture.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define SECRET "inbound-test-secret-0123456789abcdefghijklmnop\n"

static struct atsm_token_keys keys;
static char tok[4][ATSM_TOKEN_MAX];     /* tokens of sent messages 5001..5004 */

/* ------------------------------------------------------------ helpers */

static void
make_token(int i)
{
	unsigned char id[ATSM_TOKEN_ID_LEN];
	char q[256];
	const char *v[1] = { tok[i] };
	PGresult *r;

	memset(id, 0x40 + i, sizeof(id));
	ck_assert(atsm_token_make(&keys, id, tok[i]) == 0);
	snprintf(q, sizeof(q), "UPDATE atsmail.messages SET token = $1 WHERE id = %d", 5001 + i);
	r = PQexecParams(conn, q, 1, NULL, v, NULL, NULL, 0);
	ck_assert_msg(PQresultStatus(r) == PGRES_COMMAND_OK, "%s", PQerrorMessage(conn));
	PQclear(r);
}

static void
setup(void)
{
	struct atsm_err err;
	int i;

	pgfx_open();
	ck_assert_msg(atsm_token_keys_from_string(SECRET, &keys, &err) == 0, "%s", err.msg);
	for (i = 0; i < 4; i++)
		make_token(i);
	pgfx_reset_records();
	sql("UPDATE atsmail.message_recipients SET status = 'pending', status_code = NULL,"
	    " diagnostic = NULL, bounced_at = NULL WHERE message_id BETWEEN 5001 AND 5004");
	sql("DELETE FROM atsmail.address_flags");
	sql("UPDATE atsmail.phase_rules SET active = (id <> 9005) WHERE id BETWEEN 9001 AND 9005");
}

static void
teardown(void)
{
	atsm_token_keys_wipe(&keys);
	pgfx_close();
}

/* "<pre><pid>.<serial>.<time><post>": different in every test and run. */
static char *
unique(const char *pre, const char *post)
{
	char buf[256];

	snprintf(buf, sizeof(buf), "%s%d.%d.%ld%s", pre, (int)getpid(), ++serial,
	    (long)time(NULL), post);
	return strdup(buf);
}

/* A delivered mail: mailbox user, From, To (also the envelope recipient
 * unless env_to is given), with a unique Message-ID and body hash. */
static void
mail(struct atsm_in_facts *f, const char *user, const char *from, const char *to)
{
	char *h;

	atsm_in_facts_init(f);
	f->how = ATSM_IN_DELIVERY;
	f->mailbox_user = strdup(user);
	f->mailbox = strdup("INBOX");
	f->imap_uid = (unsigned long)(++serial);
	f->env_from = strdup(from);
	f->env_to = strdup(to);
	f->hdr_from = strdup(from);
	f->hdr_to = strdup(to);
	f->hdr_message_id = unique("<in", "@sender.test>");
	f->hdr_subject = strdup("Re: Interview");
	f->size = 1234;
	h = unique("body ", "");
	ck_assert(atsm_journal_make_key("test", h, f->body_sha256) == 0);
	free(h);
	f->received_at = (long long)time(NULL);
	ck_assert(atsm_in_facts_make_key(f) == 0);
}

static void
set(char **field, const char *v)
{
	free(*field);
	*field = v != NULL ? strdup(v) : NULL;
}

/* Re-key after the mailbox or Message-ID changed. */
static void
rekey(struct atsm_in_facts *f)
{
	f->idem_key[0] = '\0';
	ck_assert(atsm_in_facts_make_key(f) == 0);
}

static void
plan_mode(const struct atsm_in_facts *f, enum atsm_in_mode mode, struct atsm_in_plan *p)
{
	struct atsm_err err = { .msg = "" };

	ck_assert_msg(atsm_in_plan(conn, &conf, &keys, f, mode, p, &err) == 0,
	    "plan: %s", err.msg);
}

static void
plan(const struct atsm_in_facts *f, struct atsm_in_plan *p)
{
	plan_mode(f, ATSM_IN_LIVE, p);
}

static int
record_rc(const struct atsm_in_facts *f, const struct atsm_in_plan *p)
{
	struct atsm_err err = { .msg = "" };
	int rc = atsm_in_record(conn, f, p, &err);

	ck_assert_msg(rc >= 0, "record: %s", err.msg);
	return rc;
}

/* Record a plan that must be new; the messages.id of the mail. */
static long long
record(const struct atsm_in_facts *f, const struct atsm_in_plan *p)
{
	const char *v[3] = { f->idem_key, p->rfc_message_id, f->body_sha256 };
	PGresult *r;
	long long id;

	ck_assert_int_eq(record_rc(f, p), 0);
	r = PQexecParams(conn, "SELECT id FROM atsmail.messages WHERE direction = 'in' AND"
	    " (idempotency_key = $1 OR rfc_message_id = $2 OR (rfc_message_id IS NULL AND $2 IS NULL"
	    " AND body_sha256 = decode($3, 'hex'))) ORDER BY id LIMIT 1", 3, NULL, v, NULL, NULL, 0);
	ck_assert_msg(PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) == 1, "%s",
	    PQerrorMessage(conn));
	id = strtoll(PQgetvalue(r, 0, 0), NULL, 10);
	PQclear(r);
	return id;
}

static const struct atsm_in_link *
link_of(const struct atsm_in_plan *p, const char *kind, long long id)
{
	size_t i;

	for (i = 0; i < p->n_links; i++)
		if (p->links[i].id == id && strcmp(p->links[i].kind, kind) == 0)
			return &p->links[i];
	return NULL;
}

static bool
has_keyword(const struct atsm_in_plan *p, const char *kw)
{
	size_t i;

	for (i = 0; i < ATSM_IN_MAX_KEYWORDS && p->keywords[i] != NULL; i++)
		if (strcmp(p->keywords[i], kw) == 0)
			return true;
	return false;
}

static void
expect_link(const struct atsm_in_plan *p, const char *kind, long long id, const char *rule)
{
	const struct atsm_in_link *l = link_of(p, kind, id);

	ck_assert_msg(l != NULL, "no link to %s %lld (%s)", kind, id, p->notes);
	ck_assert_str_eq(l->rule, rule);
}

static void
done(struct atsm_in_facts *f, struct atsm_in_plan *p)
{
	atsm_in_plan_free(p);
	atsm_in_facts_free(f);
}

static char *
read_data(const char *name, size_t *len)
{
	char path[1024];
	FILE *fp;
	char *b;

	snprintf(path, sizeof(path), "%s/%s", ATSM_TEST_DATA, name);
	ck_assert_msg((fp = fopen(path, "rb")) != NULL, "%s", path);
	b = malloc(65536);
	*len = fread(b, 1, 65535, fp);
	b[*len] = '\0';
	fclose(fp);
	return b;
}

/* ------------------------------------------------------------ facts */

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
}
END_TEST

START_TEST(facts_from_raw_iso2022jp_reply)
{
	struct atsm_in_facts f;
	struct atsm_in_plan p;
	struct atsm_err err;
	size_t len;
	char *raw = read_data("inbound-reply-iso2022jp.eml", &len), *subj;
	long long mid;

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
	ck_assert(!f.is_bounce && !f.is_autoreply && !f.from_mailer_daemon);
	/* a fresh Message-ID per run, so that it records each time */
	set(&f.hdr_message_id, (subj = unique("<jp", "@candidate.test>")));
	free(subj);
	rekey(&f);
	plan(&f, &p);
	ck_assert_int_eq(p.verdict, ATSM_IN_FILE);
	ck_assert_str_eq(p.subject, "Re: 面接日程のご連絡");
	expect_link(&p, "resume", 1001, "in_reply_to");
	mid = record(&f, &p);
	subj = text("SELECT subject FROM atsmail.messages WHERE idempotency_key = $1", f.idem_key);
	ck_assert_str_eq(subj, "Re: 面接日程のご連絡");
	ck_assert_int_eq(numid("SELECT thread_id FROM atsmail.messages WHERE id = $1::bigint", mid),
	    5001);
	free(subj);
	free(raw);
	done(&f, &p);
}
END_TEST

START_TEST(facts_from_raw_bounce_and_autoreply)
{
	struct atsm_in_facts f;
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
	free(raw);
	atsm_in_facts_free(&f);

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

/* ------------------------------------------------------------ matching */

START_TEST(reply_by_in_reply_to)
{
	struct atsm_in_facts f;
	struct atsm_in_plan p;

	mail(&f, "alice@atsmail.test", "taro@candidate.test", "alice@atsmail.test");
	set(&f.hdr_in_reply_to, "<out-5001@atsmail.test>");
	plan(&f, &p);
	ck_assert_int_eq(p.verdict, ATSM_IN_FILE);
	ck_assert_int_eq(p.n_links, 1);
	expect_link(&p, "resume", 1001, "in_reply_to");
	ck_assert_int_eq(p.thread_id, 5001);
	ck_assert(has_keyword(&p, ATSM_KW_FILED));
	done(&f, &p);
}
END_TEST

START_TEST(reply_by_references_links_process)
{
	struct atsm_in_facts f;
	struct atsm_in_plan p;

	mail(&f, "alice@atsmail.test", "hanako@candidate.test", "alice@atsmail.test");
	set(&f.hdr_references, "<unknown-root@x.test> <out-5002@atsmail.test>");
	plan(&f, &p);
	ck_assert_int_eq(p.verdict, ATSM_IN_FILE);
	expect_link(&p, "resume", 1002, "references");
	expect_link(&p, "process", 4001, "references");
	ck_assert_str_eq(p.thread_root, "unknown-root@x.test");
	done(&f, &p);
}
END_TEST

START_TEST(in_reply_to_wins_over_sender_address)
{
	struct atsm_in_facts f;
	struct atsm_in_plan p;

	/* jiro (resume 1003) answers a mail sent to taro: the thread decides */
	mail(&f, "alice@atsmail.test", "jiro@candidate.test", "alice@atsmail.test");
	set(&f.hdr_in_reply_to, "<out-5001@atsmail.test>");
	plan(&f, &p);
	ck_assert_int_eq(p.n_links, 1);
	expect_link(&p, "resume", 1001, "in_reply_to");
	ck_assert_ptr_null(link_of(&p, "resume", 1003));
	done(&f, &p);
}
END_TEST

START_TEST(token_accepted_when_sender_takes_part)
{
	struct atsm_in_facts f;
	struct atsm_in_plan p;

	mail(&f, "alice@atsmail.test", "Taro <taro@candidate.test>", "alice@atsmail.test");
	set(&f.hdr_ats_ref, tok[0]);
	plan(&f, &p);
	ck_assert_int_eq(p.verdict, ATSM_IN_FILE);
	expect_link(&p, "resume", 1001, "token");
	ck_assert_int_eq(p.thread_id, 5001);
	done(&f, &p);
}
END_TEST

START_TEST(token_refused_when_sender_takes_no_part)
{
	struct atsm_in_facts f;
	struct atsm_in_plan p;

	/* customer B (jiro) holds customer A's (taro's) token: not A's record */
	mail(&f, "alice@atsmail.test", "jiro@candidate.test", "alice@atsmail.test");
	set(&f.hdr_ats_ref, tok[0]);
	plan(&f, &p);
	ck_assert_int_eq(p.verdict, ATSM_IN_FILE);
	ck_assert_ptr_null(link_of(&p, "resume", 1001));
	expect_link(&p, "resume", 1003, "sender_address");
	ck_assert_msg(strstr(p.notes, "takes no part") != NULL, "%s", p.notes);
	done(&f, &p);
	/* a stranger with a valid token: nothing */
	mail(&f, "alice@atsmail.test", "stranger@example.org", "alice@atsmail.test");
	set(&f.hdr_ats_ref, tok[0]);
	plan(&f, &p);
	ck_assert_int_eq(p.verdict, ATSM_IN_IGNORE);
	ck_assert_int_eq(p.n_links, 0);
	done(&f, &p);
}
END_TEST

START_TEST(reply_to_token_address)
{
	struct atsm_in_facts f;
	struct atsm_in_plan p;
	char addr[128];

	snprintf(addr, sizeof(addr), "alice+ats-%s@atsmail.test", tok[0]);
	mail(&f, "alice@atsmail.test", "taro@candidate.test", addr);
	plan(&f, &p);
	ck_assert_int_eq(p.verdict, ATSM_IN_FILE);
	expect_link(&p, "resume", 1001, "reply_to");
	done(&f, &p);
}
END_TEST

START_TEST(forged_token_is_not_a_match)
{
	struct atsm_in_facts f;
	struct atsm_in_plan p;
	char forged[ATSM_TOKEN_MAX];

	snprintf(forged, sizeof(forged), "%s", tok[0]);
	forged[ATSM_TOKEN_LEN - 1] = forged[ATSM_TOKEN_LEN - 1] == 'a' ? 'b' : 'a';
	mail(&f, "alice@atsmail.test", "stranger@example.org", "alice@atsmail.test");
	set(&f.hdr_ats_ref, forged);
	plan(&f, &p);
	ck_assert_int_eq(p.verdict, ATSM_IN_IGNORE);
	done(&f, &p);
	/* the token of 5001 is valid: it is the MAC that failed above */
	mail(&f, "alice@atsmail.test", "taro@candidate.test", "alice@atsmail.test");
	set(&f.hdr_ats_ref, forged);
	plan(&f, &p);
	expect_link(&p, "resume", 1001, "sender_address");
	done(&f, &p);
}
END_TEST

START_TEST(sender_address_resume_and_contact)
{
	struct atsm_in_facts f;
	struct atsm_in_plan p;

	mail(&f, "alice@atsmail.test", "Taro <TARO@Candidate.test>", "alice@atsmail.test");
	plan(&f, &p);
	ck_assert_int_eq(p.verdict, ATSM_IN_FILE);
	expect_link(&p, "resume", 1001, "sender_address");
	ck_assert(!p.ambiguous);
	ck_assert_str_eq(p.sender, "taro@candidate.test");
	done(&f, &p);
	mail(&f, "bob@atsmail.test", "suzuki@client.test", "bob@atsmail.test");
	plan(&f, &p);
	expect_link(&p, "contact", 2001, "sender_address");
	done(&f, &p);
}
END_TEST

START_TEST(ambiguous_sender_links_all)
{
	struct atsm_in_facts f;
	struct atsm_in_plan p;
	long long mid;

	mail(&f, "alice@atsmail.test", "family@candidate.test", "alice@atsmail.test");
	plan(&f, &p);
	ck_assert_int_eq(p.verdict, ATSM_IN_FILE);
	ck_assert_int_eq(p.n_links, 2);
	ck_assert(link_of(&p, "resume", 1004)->ambiguous && link_of(&p, "resume", 1005)->ambiguous);
	ck_assert(p.ambiguous && has_keyword(&p, ATSM_KW_AMBIGUOUS));
	ck_assert_int_eq(p.n_phases, 0);          /* never pick silently */
	mid = record(&f, &p);
	ck_assert_int_eq(numid("SELECT count(*) FROM atsmail.message_links WHERE message_id ="
	    " $1::bigint AND ambiguous AND rule = 'sender_address'", mid), 2);
	ck_assert_int_eq(num("SELECT count(*) FROM atsmail.resumes WHERE id IN (1004, 1005)"
	    " AND phase = 'new'", NULL), 2);
	done(&f, &p);
}
END_TEST

START_TEST(unknown_sender_and_non_user_mailbox_ignored)
{
	struct atsm_in_facts f;
	struct atsm_in_plan p;

	mail(&f, "alice@atsmail.test", "friend@example.com", "alice@atsmail.test");
	plan(&f, &p);
	ck_assert_int_eq(p.verdict, ATSM_IN_IGNORE);
	ck_assert_int_eq(p.n_links, 0);
	ck_assert_ptr_null(p.keywords[0]);
	done(&f, &p);
	/* a known candidate, but the mailbox is no user's */
	mail(&f, "nobody@atsmail.test", "taro@candidate.test", "nobody@atsmail.test");
	plan(&f, &p);
	ck_assert_int_eq(p.verdict, ATSM_IN_IGNORE);
	ck_assert_int_eq(p.mailbox_user_id, 0);
	ck_assert_msg(strstr(p.notes, "not a user") != NULL, "%s", p.notes);
	done(&f, &p);
}
END_TEST

START_TEST(mailbox_owner_by_user_address)
{
	struct atsm_in_facts f;
	struct atsm_in_plan p;

	/* a Dovecot user name that is one of alice's additional addresses */
	mail(&f, "alice.sales@atsmail.test", "taro@candidate.test", "alice.sales@atsmail.test");
	plan(&f, &p);
	ck_assert_int_eq(p.verdict, ATSM_IN_FILE);
	ck_assert_int_eq(p.mailbox_user_id, 1);
	ck_assert_str_eq(p.owner_login, "alice@atsmail.test");
	done(&f, &p);
}
END_TEST

/* -------------------------------------------------------------- intake */

START_TEST(intake_creates_resume)
{
	struct atsm_in_facts f;
	struct atsm_in_plan p;
	char *from, *sender, *name;
	long long mid, rid;

	sender = unique("new", "@applicant.test");
	from = malloc(strlen(sender) + 64);
	sprintf(from, "=?UTF-8?B?5bGx5pysIOiKseWtkA==?= <%s>", sender);   /* 山本 花子 */
	mail(&f, "recruit@atsmail.test", from, "recruit@atsmail.test");
	plan(&f, &p);
	ck_assert_int_eq(p.verdict, ATSM_IN_INTAKE);
	ck_assert(!p.intake_unresolved);
	ck_assert_str_eq(p.intake_address, "recruit@atsmail.test");
	ck_assert_str_eq(p.sender_name, "山本 花子");
	ck_assert(has_keyword(&p, ATSM_KW_NEWRECORD));
	ck_assert_int_eq(p.mailbox_user_id, 0);
	mid = record(&f, &p);
	rid = num("SELECT owner_id FROM atsmail.addresses WHERE owner_kind = 'resume'"
	    " AND addr_norm = $1", sender);
	name = text("SELECT name || '/' || created_from FROM atsmail.resumes WHERE id ="
	    " (SELECT owner_id FROM atsmail.addresses WHERE addr_norm = $1)", sender);
	ck_assert_str_eq(name, "山本 花子/mail");
	ck_assert_int_eq(numid("SELECT target_id FROM atsmail.message_links WHERE message_id ="
	    " $1::bigint AND rule = 'intake'", mid), rid);
	ck_assert_int_eq(numid("SELECT count(*) FROM atsmail.outbox WHERE event_type ="
	    " 'record.created' AND (payload->>'id')::bigint = $1::bigint", rid), 1);
	ck_assert_int_eq(numid("SELECT count(*) FROM atsmail.audit_log WHERE action ="
	    " 'record.created' AND object_id = $1::text", rid), 1);
	/* no user owns the intake mailbox: no copy row */
	ck_assert_int_eq(numid("SELECT count(*) FROM atsmail.message_copies WHERE message_id ="
	    " $1::bigint", mid), 0);
	free(name);
	free(from);
	free(sender);
	done(&f, &p);
}
END_TEST

START_TEST(intake_unresolved_item)
{
	struct atsm_in_facts f;
	struct atsm_in_plan p;
	char *sender = unique("ask", "@company.test");
	long long mid;

	mail(&f, "alice@atsmail.test", sender, "jobs@atsmail.test");
	plan(&f, &p);
	ck_assert_int_eq(p.verdict, ATSM_IN_INTAKE);
	ck_assert(p.intake_unresolved);
	ck_assert(has_keyword(&p, ATSM_KW_UNFILED));
	mid = record(&f, &p);
	ck_assert_int_eq(numid("SELECT count(*) FROM atsmail.unresolved_items WHERE message_id ="
	    " $1::bigint AND record_id IS NULL", mid), 1);
	ck_assert_int_eq(num("SELECT count(*) FROM atsmail.addresses WHERE addr_norm = $1",
	    sender), 0);
	free(sender);
	done(&f, &p);
}
END_TEST

START_TEST(intake_duplicate_files_on_existing_resume)
{
	struct atsm_in_facts f;
	struct atsm_in_plan p;
	long long before = num("SELECT count(*) FROM atsmail.resumes", NULL);

	mail(&f, "recruit@atsmail.test", "shiro@candidate.test", "recruit@atsmail.test");
	plan(&f, &p);
	ck_assert_int_eq(p.verdict, ATSM_IN_FILE);
	expect_link(&p, "resume", 1008, "sender_address");
	(void)record(&f, &p);
	ck_assert_int_eq(num("SELECT count(*) FROM atsmail.resumes", NULL), before);
	done(&f, &p);
}
END_TEST

START_TEST(intake_loop_guards)
{
	struct atsm_in_facts f;
	struct atsm_in_plan p;
	char *sender = unique("loop", "@applicant.test");

	mail(&f, "recruit@atsmail.test", sender, "recruit@atsmail.test");
	f.from_mailer_daemon = true;
	plan(&f, &p);
	ck_assert_int_eq(p.verdict, ATSM_IN_IGNORE);
	ck_assert_msg(strstr(p.notes, "mailer-daemon") != NULL, "%s", p.notes);
	done(&f, &p);
	mail(&f, "recruit@atsmail.test", sender, "recruit@atsmail.test");
	f.is_autoreply = true;
	plan(&f, &p);
	ck_assert_int_eq(p.verdict, ATSM_IN_IGNORE);
	ck_assert_msg(strstr(p.notes, "auto-reply") != NULL, "%s", p.notes);
	done(&f, &p);
	ck_assert_int_eq(num("SELECT count(*) FROM atsmail.addresses WHERE addr_norm = $1",
	    sender), 0);
	free(sender);
}
END_TEST

START_TEST(intake_rate_limit)
{
	struct atsm_in_facts f;
	struct atsm_in_plan p;
	struct atsm_err err;
	char *sender = unique("burst", "@applicant.test");
	int i;

	ck_assert(atsm_conf_set(&conf, "intake_max_per_hour", "2", &err) == 0);
	for (i = 0; i < 2; i++) {
		mail(&f, "alice@atsmail.test", sender, "jobs@atsmail.test");
		plan(&f, &p);
		ck_assert_int_eq(p.verdict, ATSM_IN_INTAKE);
		(void)record(&f, &p);
		done(&f, &p);
	}
	mail(&f, "alice@atsmail.test", sender, "jobs@atsmail.test");
	plan(&f, &p);
	ck_assert_int_eq(p.verdict, ATSM_IN_IGNORE);
	ck_assert_msg(strstr(p.notes, "intake_max_per_hour") != NULL, "%s", p.notes);
	ck_assert_int_eq(num("SELECT count(*) FROM atsmail.unresolved_items WHERE sender = $1",
	    sender), 2);
	free(sender);
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
	long long mid;
	char *st;

	snprintf(addr, sizeof(addr), "bob+ats-%s@atsmail.test", tok[2]);
	bounce(&f, addr, "suzuki@client.test");
	plan(&f, &p);
	ck_assert_int_eq(p.verdict, ATSM_IN_BOUNCE);
	ck_assert_int_eq(p.bounced_message_id, 5003);
	expect_link(&p, "contact", 2001, "verp");
	ck_assert(has_keyword(&p, ATSM_KW_BOUNCE));
	ck_assert_int_eq(p.n_phases, 1);          /* contact: on bounce -> inactive */
	ck_assert_int_eq(p.phases[0].rule_id, 9004);
	mid = record(&f, &p);
	st = text("SELECT status || ' ' || status_code || ' ' || (bounced_at IS NOT NULL)"
	    " FROM atsmail.message_recipients WHERE message_id = 5003", NULL);
	ck_assert_str_eq(st, "bounced 5.1.1 true");
	free(st);
	ck_assert_int_eq(num("SELECT count(*) FROM atsmail.address_flags WHERE addr_norm ="
	    " 'suzuki@client.test' AND bounce_code = '5.1.1'", NULL), 1);
	ck_assert_int_eq(numid("SELECT count(*) FROM atsmail.outbox WHERE event_type ="
	    " 'message.bounced' AND (payload->>'message_id')::bigint = $1::bigint"
	    " AND (payload->>'sent_message_id')::bigint = 5003", mid), 1);
	ck_assert_int_eq(numid("SELECT count(*) FROM atsmail.messages WHERE id = $1::bigint"
	    " AND is_bounce", mid), 1);
	ck_assert_int_eq(numid("SELECT count(*) FROM atsmail.phase_history WHERE message_id ="
	    " $1::bigint AND cause = 'bounce' AND to_phase = 'inactive'", mid), 1);
	done(&f, &p);
}
END_TEST

START_TEST(bounce_by_original_message_id)
{
	struct atsm_in_facts f;
	struct atsm_in_plan p;

	bounce(&f, "bob@atsmail.test", "suzuki@client.test");
	set(&f.orig_message_id, "<out-5003@atsmail.test>");
	plan(&f, &p);
	ck_assert_int_eq(p.verdict, ATSM_IN_BOUNCE);
	ck_assert_int_eq(p.bounced_message_id, 5003);
	expect_link(&p, "contact", 2001, "references");
	done(&f, &p);
	/* a failed address the sent item never went to is not marked */
	bounce(&f, "bob@atsmail.test", "someone-else@client.test");
	set(&f.orig_ats_ref, tok[2]);
	plan(&f, &p);
	ck_assert_int_eq(p.verdict, ATSM_IN_BOUNCE);
	expect_link(&p, "contact", 2001, "token");
	(void)record(&f, &p);
	ck_assert_int_eq(num("SELECT count(*) FROM atsmail.message_recipients WHERE message_id ="
	    " 5003 AND status = 'pending'", NULL), 1);
	ck_assert_int_eq(num("SELECT count(*) FROM atsmail.address_flags", NULL), 0);
	done(&f, &p);
}
END_TEST

START_TEST(bounce_of_unknown_item_ignored)
{
	struct atsm_in_facts f;
	struct atsm_in_plan p;

	bounce(&f, "bob@atsmail.test", "suzuki@client.test");
	set(&f.orig_message_id, "<never-sent@atsmail.test>");
	plan(&f, &p);
	ck_assert_int_eq(p.verdict, ATSM_IN_IGNORE);
	ck_assert_msg(strstr(p.notes, "no recorded sent item") != NULL, "%s", p.notes);
	done(&f, &p);
}
END_TEST

/* --------------------------------------------------- phases, auto-reply */

START_TEST(reply_applies_phase_rules)
{
	struct atsm_in_facts f;
	struct atsm_in_plan p;
	long long mid;

	mail(&f, "alice@atsmail.test", "taro@candidate.test", "alice@atsmail.test");
	set(&f.hdr_in_reply_to, "<out-5001@atsmail.test>");
	plan(&f, &p);
	ck_assert_int_eq(p.n_phases, 1);
	ck_assert_str_eq(p.phases[0].kind, "resume");
	ck_assert_str_eq(p.phases[0].from_phase, "new");
	ck_assert_str_eq(p.phases[0].to_phase, "active");
	ck_assert_int_eq(p.phases[0].rule_id, 9001);
	mid = record(&f, &p);
	ck_assert_int_eq(num("SELECT count(*) FROM atsmail.resumes WHERE id = 1001"
	    " AND phase = 'active'", NULL), 1);
	ck_assert_int_eq(numid("SELECT count(*) FROM atsmail.phase_history WHERE message_id ="
	    " $1::bigint AND cause = 'reply' AND actor_id = 1 AND from_phase = 'new'", mid), 1);
	ck_assert_int_eq(numid("SELECT count(*) FROM atsmail.outbox WHERE event_type ="
	    " 'phase.changed' AND (payload->>'message_id')::bigint = $1::bigint"
	    " AND (payload->>'rule_id')::bigint = 9001", mid), 1);
	ck_assert_int_eq(numid("SELECT count(*) FROM atsmail.audit_log WHERE action ="
	    " 'message.received' AND object_id = $1::text"
	    " AND detail->'phase_rules' = '[9001]'::jsonb", mid), 1);
	done(&f, &p);
}
END_TEST

START_TEST(phase_rule_needs_its_from_phase)
{
	struct atsm_in_facts f;
	struct atsm_in_plan p;

	/* 1001 is placed: rule 9001 is for new, 9005 (placed) is not active */
	sql("UPDATE atsmail.resumes SET phase = 'placed' WHERE id = 1001");
	mail(&f, "alice@atsmail.test", "taro@candidate.test", "alice@atsmail.test");
	plan(&f, &p);
	ck_assert_int_eq(p.verdict, ATSM_IN_FILE);
	ck_assert_int_eq(p.n_phases, 0);
	(void)record(&f, &p);
	ck_assert_int_eq(num("SELECT count(*) FROM atsmail.resumes WHERE id = 1001"
	    " AND phase = 'placed'", NULL), 1);
	done(&f, &p);
	/* the data decides: activate 9005 and the same mail moves it */
	sql("UPDATE atsmail.phase_rules SET active = true WHERE id = 9005");
	mail(&f, "alice@atsmail.test", "taro@candidate.test", "alice@atsmail.test");
	plan(&f, &p);
	sql("UPDATE atsmail.phase_rules SET active = false WHERE id = 9005");
	ck_assert_int_eq(p.n_phases, 1);
	ck_assert_int_eq(p.phases[0].rule_id, 9005);
	ck_assert_str_eq(p.phases[0].to_phase, "inactive");
	done(&f, &p);
}
END_TEST

START_TEST(reply_moves_processes_of_the_thread_or_the_resume)
{
	struct atsm_in_facts f;
	struct atsm_in_plan p;
	size_t i;
	bool proc = false;

	/* replied-to message linked to process 4001 */
	mail(&f, "alice@atsmail.test", "hanako@candidate.test", "alice@atsmail.test");
	set(&f.hdr_in_reply_to, "<out-5002@atsmail.test>");
	plan(&f, &p);
	ck_assert_int_eq(p.n_phases, 2);
	(void)record(&f, &p);
	ck_assert_int_eq(num("SELECT count(*) FROM atsmail.processes WHERE id = 4001"
	    " AND phase = 'interview1'", NULL), 1);
	done(&f, &p);
	/* no thread: the open processes of the sender's resume */
	sql("UPDATE atsmail.processes SET phase = 'screening' WHERE id = 4001");
	mail(&f, "alice@atsmail.test", "hanako@candidate.test", "alice@atsmail.test");
	plan(&f, &p);
	for (i = 0; i < p.n_phases; i++)
		if (strcmp(p.phases[i].kind, "process") == 0 && p.phases[i].record_id == 4001)
			proc = true;
	ck_assert_msg(proc, "process 4001 not moved (%zu changes)", p.n_phases);
	ck_assert_ptr_null(link_of(&p, "process", 4001));
	done(&f, &p);
}
END_TEST

START_TEST(autoreply_filed_without_phase_rule)
{
	struct atsm_in_facts f;
	struct atsm_in_plan p;
	long long mid;

	mail(&f, "alice@atsmail.test", "taro@candidate.test", "alice@atsmail.test");
	set(&f.hdr_in_reply_to, "<out-5001@atsmail.test>");
	f.is_autoreply = true;
	plan(&f, &p);
	ck_assert_int_eq(p.verdict, ATSM_IN_FILE);
	ck_assert(has_keyword(&p, ATSM_KW_AUTOREPLY));
	ck_assert_int_eq(p.n_phases, 0);
	mid = record(&f, &p);
	ck_assert_int_eq(numid("SELECT count(*) FROM atsmail.messages WHERE id = $1::bigint"
	    " AND is_auto_reply", mid), 1);
	ck_assert_int_eq(num("SELECT count(*) FROM atsmail.resumes WHERE id = 1001"
	    " AND phase = 'new'", NULL), 1);
	done(&f, &p);
}
END_TEST

/* -------------------------------------------------------------- copies */

START_TEST(two_mailboxes_one_message_two_copies)
{
	struct atsm_in_facts f;
	struct atsm_in_plan p;
	long long m1, m2;

	mail(&f, "alice@atsmail.test", "taro@candidate.test", "alice@atsmail.test");
	set(&f.hdr_cc, "bob@atsmail.test");
	plan(&f, &p);
	ck_assert_int_eq(p.n_phases, 1);
	m1 = record(&f, &p);
	atsm_in_plan_free(&p);
	set(&f.mailbox_user, "bob@atsmail.test");
	set(&f.env_to, "bob@atsmail.test");
	rekey(&f);
	plan(&f, &p);
	ck_assert_int_eq(p.verdict, ATSM_IN_FILE);
	ck_assert(p.already_recorded);
	ck_assert_int_eq(p.message_id, m1);
	ck_assert_int_eq(p.n_phases, 0);           /* the first copy did it */
	m2 = record(&f, &p);
	ck_assert_int_eq(m1, m2);
	ck_assert_int_eq(numid("SELECT count(*) FROM atsmail.message_copies WHERE message_id ="
	    " $1::bigint", m1), 2);
	ck_assert_int_eq(numid("SELECT count(*) FROM atsmail.phase_history WHERE message_id ="
	    " $1::bigint", m1), 1);
	ck_assert_int_eq(numid("SELECT count(*) FROM atsmail.outbox WHERE event_type ="
	    " 'message.received' AND (payload->>'message_id')::bigint = $1::bigint", m1), 1);
	done(&f, &p);
}
END_TEST

START_TEST(replayed_delivery_adds_no_copy)
{
	struct atsm_in_facts f;
	struct atsm_in_plan p;
	long long mid;

	mail(&f, "alice@atsmail.test", "taro@candidate.test", "alice@atsmail.test");
	plan(&f, &p);
	mid = record(&f, &p);
	ck_assert_int_eq(record_rc(&f, &p), 1);
	atsm_in_plan_free(&p);
	plan_mode(&f, ATSM_IN_REPLAY, &p);
	ck_assert_int_eq(record_rc(&f, &p), 1);
	ck_assert_int_eq(numid("SELECT count(*) FROM atsmail.message_copies WHERE message_id ="
	    " $1::bigint", mid), 1);
	ck_assert_int_eq(num("SELECT count(*) FROM atsmail.journal_applied WHERE"
	    " idempotency_key = $1", f.idem_key), 1);
	done(&f, &p);
}
END_TEST

START_TEST(replay_mode_records_like_live)
{
	struct atsm_in_facts f, g;
	struct atsm_in_plan p;
	struct atsm_err err;
	json_t *j;
	long long mid;

	mail(&f, "alice@atsmail.test", "hanako@candidate.test", "alice@atsmail.test");
	set(&f.hdr_in_reply_to, "<out-5002@atsmail.test>");
	j = atsm_in_facts_to_json(&f);
	ck_assert_msg(atsm_in_facts_from_json(j, &g, &err) == 0, "%s", err.msg);
	json_decref(j);
	plan_mode(&g, ATSM_IN_REPLAY, &p);
	ck_assert_int_eq(p.verdict, ATSM_IN_FILE);
	mid = record(&g, &p);
	ck_assert_int_eq(numid("SELECT count(*) FROM atsmail.message_links WHERE message_id ="
	    " $1::bigint AND rule = 'in_reply_to'", mid), 2);
	ck_assert_int_eq(num("SELECT count(*) FROM atsmail.processes WHERE id = 4001"
	    " AND phase = 'interview1'", NULL), 1);
	atsm_in_facts_free(&g);
	done(&f, &p);
}
END_TEST

START_TEST(sent_copy_by_message_id_or_token)
{
	struct atsm_in_facts f;
	struct atsm_in_plan p;
	long long before = num("SELECT count(*) FROM atsmail.messages", NULL);

	mail(&f, "alice@atsmail.test", "alice@atsmail.test", "taro@candidate.test");
	f.how = ATSM_IN_APPEND;
	set(&f.mailbox, "Sent");
	set(&f.hdr_message_id, "<out-5001@atsmail.test>");
	rekey(&f);
	plan(&f, &p);
	ck_assert_int_eq(p.verdict, ATSM_IN_SENT_COPY);
	ck_assert_int_eq(p.message_id, 5001);
	ck_assert(has_keyword(&p, ATSM_KW_SENT));
	ck_assert_int_eq(record_rc(&f, &p), 0);
	ck_assert_int_eq(num("SELECT count(*) FROM atsmail.message_copies WHERE message_id = 5001"
	    " AND user_id = 1 AND mailbox = 'Sent'", NULL), 1);
	ck_assert_int_eq(num("SELECT count(*) FROM atsmail.messages", NULL), before);
	done(&f, &p);
	/* a client that rewrote the Message-ID: the X-ATS-Ref token finds it */
	mail(&f, "alice@atsmail.test", "alice@atsmail.test", "hanako@candidate.test");
	f.how = ATSM_IN_APPEND;
	set(&f.mailbox, "Sent Items");
	set(&f.hdr_ats_ref, tok[1]);
	plan(&f, &p);
	ck_assert_int_eq(p.verdict, ATSM_IN_SENT_COPY);
	ck_assert_int_eq(p.message_id, 5002);
	done(&f, &p);
}
END_TEST

START_TEST(no_message_id_dedupes_by_body_hash)
{
	struct atsm_in_facts f;
	struct atsm_in_plan p;
	long long m1, m2;

	mail(&f, "alice@atsmail.test", "taro@candidate.test", "alice@atsmail.test");
	set(&f.hdr_message_id, NULL);
	rekey(&f);
	plan(&f, &p);
	m1 = record(&f, &p);
	atsm_in_plan_free(&p);
	set(&f.mailbox_user, "bob@atsmail.test");
	rekey(&f);
	plan(&f, &p);
	m2 = record(&f, &p);
	ck_assert_int_eq(m1, m2);
	ck_assert_int_eq(numid("SELECT count(*) FROM atsmail.message_copies WHERE message_id ="
	    " $1::bigint", m1), 2);
	done(&f, &p);
}
END_TEST

/* ---------------------------------------------------------- visibility */

START_TEST(visibility_follows_owner_and_exclusions)
{
	struct atsm_in_facts f;
	struct atsm_in_plan p;
	long long mid;
	char *vis;

	mail(&f, "alice@atsmail.test", "taro@candidate.test", "alice@atsmail.test");
	plan(&f, &p);
	ck_assert_str_eq(p.visibility, "shared");
	done(&f, &p);
	mail(&f, "carol@atsmail.test", "taro@candidate.test", "carol@atsmail.test");
	plan(&f, &p);
	ck_assert_str_eq(p.visibility, "private");
	done(&f, &p);
	mail(&f, "admin@atsmail.test", "taro@candidate.test", "admin@atsmail.test");
	plan(&f, &p);
	ck_assert_str_eq(p.visibility, "admins");
	done(&f, &p);
	/* a counterpart (another recipient) in an excluded domain */
	mail(&f, "alice@atsmail.test", "taro@candidate.test", "alice@atsmail.test");
	set(&f.hdr_cc, "boss@hq.rival.example");
	plan(&f, &p);
	ck_assert_str_eq(p.visibility, "private");
	ck_assert_msg(strstr(p.visibility_reason, "rival.example") != NULL, "%s",
	    p.visibility_reason);
	mid = record(&f, &p);
	vis = text("SELECT visibility FROM atsmail.messages WHERE id = (SELECT id FROM"
	    " atsmail.messages WHERE idempotency_key = $1)", f.idem_key);
	ck_assert_str_eq(vis, "private");
	ck_assert_int_eq(numid("SELECT count(*) FROM atsmail.messages WHERE id = $1::bigint"
	    " AND 'boss@hq.rival.example' = ANY(counterparts)", mid), 1);
	free(vis);
	done(&f, &p);
}
END_TEST

/* ------------------------------------------------------------ failures */

START_TEST(writer_role_suffices)
{
	struct atsm_in_facts f;
	struct atsm_in_plan p;
	char *sender = unique("writer", "@applicant.test");

	sql("SET ROLE atsmail_writer");
	mail(&f, "recruit@atsmail.test", sender, "recruit@atsmail.test");
	plan(&f, &p);
	ck_assert_int_eq(p.verdict, ATSM_IN_INTAKE);
	(void)record_rc(&f, &p);
	sql("RESET ROLE");
	ck_assert_int_eq(num("SELECT count(*) FROM atsmail.addresses WHERE addr_norm = $1",
	    sender), 1);
	free(sender);
	done(&f, &p);
}
END_TEST

START_TEST(database_gone_is_unavailable)
{
	struct atsm_in_facts f;
	struct atsm_in_plan p;
	struct atsm_err err = { .msg = "" };
	PGconn *victim = pgfx_victim();

	mail(&f, "alice@atsmail.test", "taro@candidate.test", "alice@atsmail.test");
	ck_assert_int_eq(atsm_in_plan(victim, &conf, &keys, &f, ATSM_IN_LIVE, &p, &err), -1);
	ck_assert_int_eq(err.cls, ATSM_ERR_UNAVAILABLE);
	ck_assert_int_eq(p.verdict, ATSM_IN_IGNORE);
	atsm_in_plan_free(&p);
	/* record fails the same way: the plugin journals */
	plan(&f, &p);
	ck_assert_int_eq(atsm_in_record(victim, &f, &p, &err), -1);
	ck_assert_int_eq(err.cls, ATSM_ERR_UNAVAILABLE);
	PQfinish(victim);
	done(&f, &p);
}
END_TEST

static Suite *
suite(void)
{
	Suite *s = suite_create("inbound");
	TCase *tc = tcase_create("inbound");

	pgfx_require("tests/e2e/inbound-record.sh");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, facts_json_round_trip);
	tcase_add_test(tc, facts_json_errors_name_the_field);
	tcase_add_test(tc, facts_from_raw_iso2022jp_reply);
	tcase_add_test(tc, facts_from_raw_bounce_and_autoreply);
	tcase_add_test(tc, reply_by_in_reply_to);
	tcase_add_test(tc, reply_by_references_links_process);
	tcase_add_test(tc, in_reply_to_wins_over_sender_address);
	tcase_add_test(tc, token_accepted_when_sender_takes_part);
	tcase_add_test(tc, token_refused_when_sender_takes_no_part);
	tcase_add_test(tc, reply_to_token_address);
	tcase_add_test(tc, forged_token_is_not_a_match);
	tcase_add_test(tc, sender_address_resume_and_contact);
	tcase_add_test(tc, ambiguous_sender_links_all);
	tcase_add_test(tc, unknown_sender_and_non_user_mailbox_ignored);
	tcase_add_test(tc, mailbox_owner_by_user_address);
	tcase_add_test(tc, intake_creates_resume);
	tcase_add_test(tc, intake_unresolved_item);
	tcase_add_test(tc, intake_duplicate_files_on_existing_resume);
	tcase_add_test(tc, intake_loop_guards);
	tcase_add_test(tc, intake_rate_limit);
	tcase_add_test(tc, bounce_by_verp);
	tcase_add_test(tc, bounce_by_original_message_id);
	tcase_add_test(tc, bounce_of_unknown_item_ignored);
	tcase_add_test(tc, reply_applies_phase_rules);
	tcase_add_test(tc, phase_rule_needs_its_from_phase);
	tcase_add_test(tc, reply_moves_processes_of_the_thread_or_the_resume);
	tcase_add_test(tc, autoreply_filed_without_phase_rule);
	tcase_add_test(tc, two_mailboxes_one_message_two_copies);
	tcase_add_test(tc, replayed_delivery_adds_no_copy);
	tcase_add_test(tc, replay_mode_records_like_live);
	tcase_add_test(tc, sent_copy_by_message_id_or_token);
	tcase_add_test(tc, no_message_id_dedupes_by_body_hash);
	tcase_add_test(tc, visibility_follows_owner_and_exclusions);
	tcase_add_test(tc, writer_role_suffices);
	tcase_add_test(tc, database_gone_is_unavailable);
	suite_add_tcase(s, tc);
	return s;
}

ATSM_CHECK_MAIN()
