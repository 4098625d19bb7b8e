/* test-recorder.c -- the recorder (lib/store/recorder.c) and the record
 * functions of payload format 2 (sql/010-record-v2.sql) against a real
 * PostgreSQL holding the migrations, tests/data/seed.sql and
 * tests/data/seed-inbound.sql.
 *
 * The payloads are written by hand, one per case of docs/journal.md
 * ("Record payloads"), in tests/data/record-v2/ (one file each) -- resumes
 * named by address among them; "@S@" in them is
 * replaced by a suffix of each test's own, so that every test has keys,
 * Message-IDs and intake senders nobody used before.
 *
 * ATSM_TEST_PG is the conninfo (superuser); without it the program is
 * skipped.  tests/e2e/recorder.sh starts a private server, loads schema and
 * seeds and runs this program; then, with the server stopped, it runs
 * `test-recorder follow DIR N` (the follow loop across the outage: it
 * prints what it recorded) and starts the server again, and it builds the
 * lines of a moved journal with `test-recorder line NAME SUFFIX` for
 * `atsmailctl replay`.
 */
#include "atsm-check.h"
#include "store/jlog.h"
#include "store/recorder.h"
#include "pg-fixture.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static char S[48];        /* this test's suffix */
static bool probe_mode;   /* run by recorder.sh as a probe: no Check there */

/* ck_assert_msg inside a test, a message and exit 2 in a probe mode (Check
 * cannot report outside a test). */
#define NEED(x, ...) do {                                               \
		if (!(x)) {                                             \
			if (probe_mode) {                               \
				fprintf(stderr, __VA_ARGS__);           \
				fputc('\n', stderr);                    \
				exit(2);                                \
			}                                               \
			ck_abort_msg(__VA_ARGS__);                      \
		}                                                       \
	} while (0)

/* ------------------------------------------------------------ helpers */

/* tests/data/record-v2/<name>.json with @S@ replaced by suffix. */
static json_t *
payload_s(const char *name, const char *suffix)
{
	char path[512], *text, *out, *p, *q;
	json_error_t jerr;
	json_t *j;
	FILE *f;
	size_t n, m = strlen(suffix);
	long len;

	snprintf(path, sizeof(path), "%s/record-v2/%s.json", ATSM_TEST_DATA, name);
	f = fopen(path, "r");
	NEED(f != NULL, "%s: cannot open", path);
	fseek(f, 0, SEEK_END);
	len = ftell(f);
	rewind(f);
	text = calloc(1, (size_t)len + 1);
	out = calloc(1, (size_t)len * (m + 1) + 1);
	NEED(text != NULL && out != NULL, "out of memory");
	NEED(fread(text, 1, (size_t)len, f) == (size_t)len, "%s: cannot read", path);
	fclose(f);
	for (p = text, q = out; *p != '\0'; ) {
		if (strncmp(p, "@S@", 3) == 0) {
			memcpy(q, suffix, m);
			q += m;
			p += 3;
		} else {
			*q++ = *p++;
		}
	}
	*q = '\0';
	n = (size_t)(q - out);
	j = json_loadb(out, n, 0, &jerr);
	NEED(j != NULL, "%s: %s", path, jerr.text);
	free(text);
	free(out);
	return j;
}

static json_t *
payload(const char *name)
{
	return payload_s(name, S);
}

/* A journal entry, as jlog writes it, around a payload (taken over). */
static json_t *
entry(const char *kind, json_t *data)
{
	json_t *e = json_pack("{s:i, s:O, s:s, s:s, s:s, s:o}", "v", 1,
	    "key", json_object_get(data, "key"), "kind", kind,
	    "at", "2026-11-21T05:00:00Z", "host", "test", "data", data);

	NEED(e != NULL, "cannot build an entry of kind %s", kind);
	return e;
}

static json_t *
out_entry(const char *name)
{
	return entry(ATSM_RECORDER_KIND_OUT, payload(name));
}

static json_t *
in_entry(const char *name)
{
	return entry(ATSM_RECORDER_KIND_IN, payload(name));
}

static void
free_entries(json_t **v, size_t n)
{
	while (n > 0)
		json_decref(v[--n]);
}

static void
free_why(char **why, size_t n)
{
	while (n > 0)
		free(why[--n]);
}

/* "rec-<S>-<what>" */
static const char *
key(const char *what)
{
	static char k[8][96];
	static int i;

	i = (i + 1) % 8;
	snprintf(k[i], sizeof(k[i]), "rec-%s-%s", S, what);
	return k[i];
}

static long long
msg_id(const char *what)
{
	return num("SELECT coalesce((SELECT id FROM atsmail.messages WHERE idempotency_key = $1),"
	    " 0)", key(what));
}

/* Rows that recording a mail makes, all of them, for "nothing new" checks. */
static long long
footprint(void)
{
	return num("SELECT (SELECT count(*) FROM atsmail.messages)"
	    " + (SELECT count(*) FROM atsmail.message_links)"
	    " + (SELECT count(*) FROM atsmail.message_copies)"
	    " + (SELECT count(*) FROM atsmail.message_recipients)"
	    " + (SELECT count(*) FROM atsmail.phase_history)"
	    " + (SELECT count(*) FROM atsmail.outbox)"
	    " + (SELECT count(*) FROM atsmail.audit_log)"
	    " + (SELECT count(*) FROM atsmail.journal_applied)"
	    " + (SELECT count(*) FROM atsmail.resumes)", NULL);
}

static void
setup(void)
{
	pgfx_open();
	pgfx_reset_records();
	sql("UPDATE atsmail.contacts SET phase = 'new' WHERE id = 2001");
	snprintf(S, sizeof(S), "%d-%ld-%d", (int)getpid(), (long)time(NULL), serial++);
}

static void
teardown(void)
{
	pgfx_close();
}

/* The batch of every case: outbound, outbound with ats+job, a reply that
 * names the first by key, a reply whose phase change names the process
 * made by the second, a sent copy and a bounce of the first, an intake. */
#define FULL_N 7
static void
full_batch(json_t **v)
{
	v[0] = out_entry("outbound");
	v[1] = out_entry("outbound-job");
	v[2] = in_entry("inbound-reply");
	v[3] = in_entry("inbound-process-phase");
	v[4] = in_entry("inbound-sent-copy");
	v[5] = in_entry("inbound-bounce");
	v[6] = in_entry("inbound-intake");
}

/* ------------------------------------------------------------ tests */

START_TEST(test_batch_records_everything_in_one_transaction)
{
	enum atsm_record_outcome out[FULL_N];
	char *why[FULL_N];
	json_t *v[FULL_N];
	struct atsm_err err;
	long long out1, job, reply, jobreply, bounce, intake, proc;
	char q[512];
	int i;

	full_batch(v);
	ck_assert_msg(atsm_recorder_batch(conn, v, FULL_N, out, why, &err) == 0, "%s",
	    err.msg);
	for (i = 0; i < FULL_N; i++)
		ck_assert_msg(out[i] == ATSM_RECORDED, "entry %d: %d %s", i, out[i],
		    why[i] != NULL ? why[i] : "");
	/* one transaction: every row written by the same one */
	snprintf(q, sizeof(q), "SELECT count(DISTINCT xmin::text) FROM atsmail.journal_applied"
	    " WHERE idempotency_key LIKE 'rec-%s-%%'", S);
	ck_assert_int_eq(num(q, NULL), 1);
	ck_assert_int_eq(PQtransactionStatus(conn), PQTRANS_IDLE);

	out1 = msg_id("out");
	job = msg_id("job");
	reply = msg_id("reply");
	jobreply = msg_id("jobreply");
	bounce = msg_id("bounce");
	intake = msg_id("intake");
	ck_assert(out1 > 0 && job > 0 && reply > 0 && jobreply > 0 && bounce > 0 && intake > 0);
	ck_assert_int_eq(msg_id("sentcopy"), 0);     /* a copy is not a message */

	/* outbound: recipients, link, contact phase (history, cause mail_sent) */
	ck_assert_int_eq(numid("SELECT count(*) FROM atsmail.message_recipients WHERE"
	    " message_id = $1 AND address = 'taro@candidate.test'", out1), 1);
	ck_assert_int_eq(numid("SELECT count(*) FROM atsmail.message_links WHERE message_id = $1"
	    " AND target_kind = 'resume' AND target_id = 1001", out1), 1);
	ck_assert_int_eq(numid("SELECT count(*) FROM atsmail.phase_history WHERE message_id = $1"
	    " AND kind = 'contact' AND record_id = 2001 AND to_phase = 'active'"
	    " AND cause = 'mail_sent' AND actor_id = 1", out1), 1);
	/* ats+job made the process, linked it, at phase entry */
	proc = num("SELECT id FROM atsmail.processes WHERE resume_id = 1008 AND job_id = 3002",
	    NULL);
	ck_assert_int_eq(numid("SELECT count(*) FROM atsmail.message_links WHERE message_id = $1"
	    " AND target_kind = 'process' AND rule = 'command'", job), 1);
	ck_assert_int_eq(numid("SELECT count(*) FROM atsmail.phase_history WHERE message_id = $1"
	    " AND kind = 'process' AND from_phase IS NULL AND to_phase = 'entry'", job), 1);

	/* the reply: thread by key, resume phase by rule, copy in INBOX */
	ck_assert_int_eq(numid("SELECT thread_id FROM atsmail.messages WHERE id = $1", reply),
	    out1);
	ck_assert_int_eq(num("SELECT count(*) FROM atsmail.resumes WHERE id = 1001 AND"
	    " phase = 'active'", NULL), 1);
	ck_assert_int_eq(numid("SELECT count(*) FROM atsmail.phase_history WHERE message_id = $1"
	    " AND kind = 'resume' AND cause = 'reply'", reply), 1);
	ck_assert_int_eq(numid("SELECT count(*) FROM atsmail.message_copies WHERE message_id = $1"
	    " AND user_id = 1 AND mailbox = 'INBOX' AND imap_uid = 41", reply), 1);

	/* the process named by resume and job: phase, history, link */
	ck_assert_int_eq(numid("SELECT count(*) FROM atsmail.processes WHERE id = $1 AND"
	    " phase = 'screening'", proc), 1);
	ck_assert_int_eq(numid("SELECT count(*) FROM atsmail.phase_history WHERE message_id = $1"
	    " AND kind = 'process' AND from_phase = 'entry' AND to_phase = 'screening'"
	    " AND cause = 'reply'", jobreply), 1);
	snprintf(q, sizeof(q), "SELECT count(*) FROM atsmail.message_links WHERE message_id = $1"
	    " AND target_kind = 'process' AND target_id = %lld", proc);
	ck_assert_int_eq(numid(q, jobreply), 1);
	ck_assert_int_eq(numid("SELECT thread_id FROM atsmail.messages WHERE id = $1", jobreply),
	    job);

	/* the sent copy and the bounce found the sent item by key */
	ck_assert_int_eq(numid("SELECT count(*) FROM atsmail.message_copies WHERE message_id = $1"
	    " AND mailbox = 'Sent' AND imap_uid = 7", out1), 1);
	ck_assert_int_eq(numid("SELECT count(*) FROM atsmail.message_recipients WHERE"
	    " message_id = $1 AND status = 'bounced' AND status_code = '5.1.1'", out1), 1);
	ck_assert_int_eq(num("SELECT count(*) FROM atsmail.address_flags WHERE"
	    " addr_norm = 'taro@candidate.test'", NULL), 1);
	ck_assert_int_eq(numid("SELECT (payload->>'sent_message_id')::bigint FROM atsmail.outbox"
	    " WHERE event_type = 'message.bounced' AND (payload->>'message_id')::bigint = $1",
	    bounce), out1);
	ck_assert_int_eq(num("SELECT count(*) FROM atsmail.contacts WHERE id = 2001 AND"
	    " phase = 'inactive'", NULL), 1);

	/* intake: a resume with the sender's address, linked */
	snprintf(q, sizeof(q), "SELECT count(*) FROM atsmail.addresses a JOIN atsmail.message_links l"
	    " ON l.target_kind = 'resume' AND l.target_id = a.owner_id AND l.rule = 'intake'"
	    " WHERE a.addr_norm = 'new-%s@applicant.test' AND l.message_id = $1", S);
	ck_assert_int_eq(numid(q, intake), 1);
	ck_assert_int_eq(numid("SELECT count(*) FROM atsmail.outbox WHERE event_type ="
	    " 'record.created' AND (payload->>'message_id')::bigint = $1", intake), 1);

	/* outbox: one message event per mail; audit: one entry per mail */
	snprintf(q, sizeof(q), "SELECT count(*) FROM atsmail.outbox o JOIN atsmail.messages m"
	    " ON m.id = (o.payload->>'message_id')::bigint WHERE m.idempotency_key LIKE"
	    " 'rec-%s-%%' AND o.event_type IN ('message.sent', 'message.received',"
	    " 'message.bounced')", S);
	ck_assert_int_eq(num(q, NULL), 6);
	snprintf(q, sizeof(q), "SELECT count(*) FROM atsmail.outbox WHERE event_type ="
	    " 'phase.changed' AND (payload->>'message_id')::bigint IN (%lld, %lld, %lld, %lld,"
	    " %lld)", out1, job, reply, jobreply, bounce);
	ck_assert_int_eq(num(q, NULL), 5);
	snprintf(q, sizeof(q), "SELECT count(*) FROM atsmail.audit_log WHERE action IN"
	    " ('message.sent', 'message.received') AND detail->>'idempotency_key' LIKE"
	    " 'rec-%s-%%'", S);
	ck_assert_int_eq(num(q, NULL), 6);
	ck_assert_int_eq(num("SELECT count(*) FROM atsmail.audit_verify() WHERE ok", NULL), 1);
	free_why(why, FULL_N);
	free_entries(v, FULL_N);
}
END_TEST

START_TEST(test_same_batch_again_is_all_duplicates)
{
	enum atsm_record_outcome out[FULL_N];
	json_t *v[FULL_N];
	struct atsm_err err;
	long long before;
	int i;

	full_batch(v);
	ck_assert_msg(atsm_recorder_batch(conn, v, FULL_N, out, NULL, &err) == 0, "%s",
	    err.msg);
	for (i = 0; i < FULL_N; i++)
		ck_assert_int_eq(out[i], ATSM_RECORDED);
	before = footprint();
	ck_assert_msg(atsm_recorder_batch(conn, v, FULL_N, out, NULL, &err) == 0, "%s",
	    err.msg);
	for (i = 0; i < FULL_N; i++)
		ck_assert_int_eq(out[i], ATSM_RECORD_DUPLICATE);
	ck_assert_int_eq(footprint(), before);
	free_entries(v, FULL_N);
}
END_TEST

START_TEST(test_bad_entry_rejected_alone)
{
	enum atsm_record_outcome out[3];
	char *why[3];
	json_t *v[3];
	struct atsm_err err;

	v[0] = out_entry("outbound");
	v[1] = out_entry("bad-owner");
	v[2] = in_entry("inbound-reply");
	ck_assert_msg(atsm_recorder_batch(conn, v, 3, out, why, &err) == 0, "%s", err.msg);
	ck_assert_int_eq(out[0], ATSM_RECORDED);
	ck_assert_int_eq(out[1], ATSM_RECORD_REJECTED);
	ck_assert_int_eq(out[2], ATSM_RECORDED);
	ck_assert_ptr_null(why[0]);
	ck_assert_ptr_nonnull(why[1]);
	ck_assert_msg(strstr(why[1], "23503") != NULL, "%s", why[1]);   /* the owner FK */
	ck_assert(msg_id("out") > 0);
	ck_assert_int_eq(numid("SELECT thread_id FROM atsmail.messages WHERE id = $1",
	    msg_id("reply")), msg_id("out"));
	ck_assert_int_eq(num("SELECT count(*) FROM atsmail.journal_applied WHERE"
	    " idempotency_key = $1", key("bad")), 0);
	ck_assert_int_eq(num("SELECT count(*) FROM atsmail.messages WHERE idempotency_key = $1",
	    key("bad")), 0);
	ck_assert_int_eq(PQtransactionStatus(conn), PQTRANS_IDLE);
	free_why(why, 3);
	free_entries(v, 3);
}
END_TEST

/* A newcomer's mails decided while their intake mail was in the journal
 * only name the resume it makes by the sender's address (id 0): recorded
 * after it, in the same batch, they are that resume's -- link, phase,
 * the ats+job process and its phase, the reply that moves it. */
START_TEST(test_resume_named_by_address_is_the_one_intake_made)
{
	enum atsm_record_outcome out[4];
	char *why[4];
	json_t *v[4];
	struct atsm_err err;
	long long rid, pid, reply, job, jobreply;
	char addr[96], q[512];
	int i;

	v[0] = in_entry("inbound-intake");
	v[1] = in_entry("inbound-newcomer-reply");
	v[2] = out_entry("outbound-newcomer-job");
	v[3] = in_entry("inbound-newcomer-process");
	ck_assert_msg(atsm_recorder_batch(conn, v, 4, out, why, &err) == 0, "%s", err.msg);
	for (i = 0; i < 4; i++)
		ck_assert_msg(out[i] == ATSM_RECORDED, "entry %d: %d %s", i, out[i],
		    why[i] != NULL ? why[i] : "");
	snprintf(addr, sizeof(addr), "new-%s@applicant.test", S);
	/* one resume, made by the intake entry */
	ck_assert_int_eq(num("SELECT count(*) FROM atsmail.addresses WHERE addr_norm = $1",
	    addr), 1);
	rid = num("SELECT owner_id FROM atsmail.addresses WHERE addr_norm = $1"
	    " AND owner_kind = 'resume'", addr);
	ck_assert(rid > 0);
	reply = msg_id("newreply");
	job = msg_id("newjob");
	jobreply = msg_id("newjobreply");
	ck_assert(reply > 0 && job > 0 && jobreply > 0);
	/* the second mail: filed on it, the reply rule moved it new -> active */
	snprintf(q, sizeof(q), "SELECT count(*) FROM atsmail.message_links WHERE message_id = $1"
	    " AND target_kind = 'resume' AND target_id = %lld AND rule = 'sender_address'", rid);
	ck_assert_int_eq(numid(q, reply), 1);
	ck_assert_int_eq(numid("SELECT count(*) FROM atsmail.message_links WHERE message_id = $1",
	    reply), 1);
	snprintf(q, sizeof(q), "SELECT count(*) FROM atsmail.phase_history WHERE message_id = $1"
	    " AND kind = 'resume' AND record_id = %lld AND from_phase = 'new'"
	    " AND to_phase = 'active' AND cause = 'reply'", rid);
	ck_assert_int_eq(numid(q, reply), 1);
	ck_assert_int_eq(numid("SELECT count(*) FROM atsmail.outbox WHERE event_type ="
	    " 'phase.changed' AND (payload->>'rule_id')::bigint = 9001"
	    " AND (payload->>'message_id')::bigint = $1", reply), 1);
	/* ats+job: its process made, linked, the resume linked */
	pid = numid("SELECT id FROM atsmail.processes WHERE resume_id = $1 AND job_id = 3003",
	    rid);
	ck_assert(pid > 0);
	snprintf(q, sizeof(q), "SELECT count(*) FROM atsmail.message_links WHERE message_id = $1"
	    " AND ((target_kind = 'resume' AND target_id = %lld AND rule = 'recipient_address')"
	    " OR (target_kind = 'process' AND target_id = %lld AND rule = 'command')"
	    " OR (target_kind = 'job' AND target_id = 3003))", rid, pid);
	ck_assert_int_eq(numid(q, job), 3);
	/* the reply: the process of resume 0 and the address, moved */
	ck_assert_int_eq(numid("SELECT count(*) FROM atsmail.processes WHERE id = $1"
	    " AND phase = 'interview1'", pid), 1);
	snprintf(q, sizeof(q), "SELECT count(*) FROM atsmail.message_links WHERE message_id = $1"
	    " AND rule = 'in_reply_to' AND ((target_kind = 'resume' AND target_id = %lld)"
	    " OR (target_kind = 'process' AND target_id = %lld))", rid, pid);
	ck_assert_int_eq(numid(q, jobreply), 2);
	ck_assert_int_eq(numid("SELECT thread_id FROM atsmail.messages WHERE id = $1", jobreply),
	    job);
	snprintf(q, sizeof(q), "SELECT count(*) FROM atsmail.phase_history WHERE message_id = $1"
	    " AND kind = 'process' AND record_id = %lld AND from_phase = 'screening'"
	    " AND to_phase = 'interview1'", pid);
	ck_assert_int_eq(numid(q, jobreply), 1);
	free_why(why, 4);
	free_entries(v, 4);
}
END_TEST

/* An address no intake entry made a resume of names nothing: the entry is
 * refused (alone), saying so. */
START_TEST(test_resume_named_by_an_address_nobody_holds_is_refused)
{
	enum atsm_record_outcome out[2];
	char *why[2];
	json_t *v[2];
	struct atsm_err err;

	v[0] = in_entry("inbound-newcomer-unknown");
	v[1] = out_entry("outbound");
	ck_assert_msg(atsm_recorder_batch(conn, v, 2, out, why, &err) == 0, "%s", err.msg);
	ck_assert_int_eq(out[0], ATSM_RECORD_REJECTED);
	ck_assert_int_eq(out[1], ATSM_RECORDED);
	ck_assert_ptr_nonnull(why[0]);
	ck_assert_msg(strstr(why[0], "which no resume holds") != NULL, "%s", why[0]);
	ck_assert_int_eq(num("SELECT count(*) FROM atsmail.messages WHERE idempotency_key = $1",
	    key("nobody")), 0);
	free_why(why, 2);
	free_entries(v, 2);
}
END_TEST

/* A sent copy names its sent item by key only: recorded in a later batch
 * it still finds it; naming a mail never recorded, it is refused. */
START_TEST(test_reference_by_key_across_batches)
{
	enum atsm_record_outcome out[1];
	json_t *v[1];
	struct atsm_err err;

	v[0] = out_entry("outbound");
	ck_assert_int_eq(atsm_recorder_batch(conn, v, 1, out, NULL, &err), 0);
	ck_assert_int_eq(out[0], ATSM_RECORDED);
	json_decref(v[0]);
	v[0] = in_entry("inbound-sent-copy");
	ck_assert_int_eq(atsm_recorder_batch(conn, v, 1, out, NULL, &err), 0);
	ck_assert_int_eq(out[0], ATSM_RECORDED);
	ck_assert_int_eq(numid("SELECT count(*) FROM atsmail.message_copies WHERE message_id = $1"
	    " AND mailbox = 'Sent'", msg_id("out")), 1);
	json_decref(v[0]);
	/* a sent copy of a mail never recorded: refused, with the reason */
	{
		char *why[1];

		v[0] = entry(ATSM_RECORDER_KIND_IN, payload_s("inbound-sent-copy", "never"));
		ck_assert_int_eq(atsm_recorder_batch(conn, v, 1, out, why, &err), 0);
		ck_assert_int_eq(out[0], ATSM_RECORD_REJECTED);
		ck_assert_msg(strstr(why[0], "not recorded") != NULL, "%s", why[0]);
		free(why[0]);
		/* and not set aside as a key either: it can be fed again */
		ck_assert_int_eq(num("SELECT count(*) FROM atsmail.journal_applied WHERE"
		    " idempotency_key = 'rec-never-sentcopy'", NULL), 0);
		json_decref(v[0]);
	}
}
END_TEST

START_TEST(test_same_message_id_twice_is_a_duplicate)
{
	enum atsm_record_outcome out[3];
	json_t *v[3], *again;
	struct atsm_err err;

	v[0] = out_entry("outbound");
	/* the same mail submitted again: another key, the same Message-ID */
	again = payload("outbound");
	json_object_set_new(again, "key", json_string(key("out-again")));
	v[1] = entry(ATSM_RECORDER_KIND_OUT, again);
	v[2] = in_entry("inbound-reply");
	ck_assert_int_eq(atsm_recorder_batch(conn, v, 3, out, NULL, &err), 0);
	ck_assert_int_eq(out[0], ATSM_RECORDED);
	ck_assert_int_eq(out[1], ATSM_RECORD_DUPLICATE);
	ck_assert_int_eq(out[2], ATSM_RECORDED);
	ck_assert_int_eq(num("SELECT count(*) FROM atsmail.messages WHERE rfc_message_id = $1"
	    " AND direction = 'out'", json_string_value(json_object_get(json_object_get(v[0],
	    "data"), "message_id"))), 1);
	free_entries(v, 3);
}
END_TEST

START_TEST(test_entries_that_cannot_be_sent_are_rejected)
{
	enum atsm_record_outcome out[3];
	char *why[3];
	json_t *v[3], *other;
	struct atsm_err err;

	v[0] = entry("test.other", payload("outbound"));
	other = payload("outbound-job");
	json_object_set_new(other, "key", json_string("not-the-entry-key"));
	v[1] = entry(ATSM_RECORDER_KIND_OUT, other);
	json_object_set_new(v[1], "key", json_string(key("job")));
	v[2] = in_entry("inbound-intake");
	ck_assert_int_eq(atsm_recorder_batch(conn, v, 3, out, why, &err), 0);
	ck_assert_int_eq(out[0], ATSM_RECORD_REJECTED);
	ck_assert_msg(strstr(why[0], "unknown kind") != NULL, "%s", why[0]);
	ck_assert_int_eq(out[1], ATSM_RECORD_REJECTED);
	ck_assert_msg(strstr(why[1], "idempotency key") != NULL, "%s", why[1]);
	ck_assert_int_eq(out[2], ATSM_RECORDED);
	ck_assert_int_eq(msg_id("out"), 0);
	free_why(why, 3);
	free_entries(v, 3);
}
END_TEST

START_TEST(test_database_gone_is_unavailable_and_records_nothing)
{
	enum atsm_record_outcome out[FULL_N];
	json_t *v[FULL_N];
	struct atsm_err err;
	PGconn *victim = pgfx_victim();

	full_batch(v);
	ck_assert_int_eq(atsm_recorder_batch(victim, v, FULL_N, out, NULL, &err), -1);
	ck_assert_int_eq(err.cls, ATSM_ERR_UNAVAILABLE);
	ck_assert_int_eq(msg_id("out"), 0);
	ck_assert_int_eq(num("SELECT count(*) FROM atsmail.journal_applied WHERE"
	    " idempotency_key = $1", key("out")), 0);
	/* no connection at all: the same */
	ck_assert_int_eq(atsm_recorder_batch(NULL, v, 1, out, NULL, &err), -1);
	ck_assert_int_eq(err.cls, ATSM_ERR_UNAVAILABLE);
	PQfinish(victim);
	/* read again later, on a good connection, it is recorded */
	ck_assert_int_eq(atsm_recorder_batch(conn, v, FULL_N, out, NULL, &err), 0);
	ck_assert_int_eq(out[0], ATSM_RECORDED);
	free_entries(v, FULL_N);
}
END_TEST

/* A statement timeout is an outage too: the entries are read again. */
START_TEST(test_statement_timeout_is_unavailable)
{
	enum atsm_record_outcome out[2];
	json_t *v[2];
	struct atsm_err err;
	PGconn *locker = PQconnectdb(getenv("ATSM_TEST_PG"));

	ck_assert(PQstatus(locker) == CONNECTION_OK);
	/* the audit chain's lock, held elsewhere: the batch waits on it */
	PQclear(PQexec(locker, "BEGIN; SELECT * FROM atsmail.audit_head FOR UPDATE"));
	sql("SET statement_timeout = '300ms'");
	v[0] = out_entry("outbound");
	v[1] = in_entry("inbound-reply");
	ck_assert_int_eq(atsm_recorder_batch(conn, v, 2, out, NULL, &err), -1);
	ck_assert_int_eq(err.cls, ATSM_ERR_UNAVAILABLE);
	ck_assert_str_eq(err.sqlstate, "57014");
	PQclear(PQexec(locker, "ROLLBACK"));
	PQfinish(locker);
	ck_assert_int_eq(msg_id("out"), 0);
	sql("SET statement_timeout = 0");
	ck_assert_int_eq(atsm_recorder_batch(conn, v, 2, out, NULL, &err), 0);
	ck_assert_int_eq(out[1], ATSM_RECORDED);
	free_entries(v, 2);
}
END_TEST

/* The largest batch: more than socket buffers hold, both ways, so that
 * sending and reading must interleave (non-blocking pipeline). */
START_TEST(test_largest_batch)
{
	static enum atsm_record_outcome out[ATSM_RECORDER_BATCH_MAX];
	static json_t *v[ATSM_RECORDER_BATCH_MAX];
	struct atsm_err err;
	char suffix[80], q[256], *got;
	size_t i;

	for (i = 0; i < ATSM_RECORDER_BATCH_MAX; i++) {
		snprintf(suffix, sizeof(suffix), "%s-%zu", S, i);
		v[i] = entry(ATSM_RECORDER_KIND_OUT, payload_s("outbound", suffix));
	}
	ck_assert_msg(atsm_recorder_batch(conn, v, ATSM_RECORDER_BATCH_MAX, out, NULL, &err) == 0,
	    "%s", err.msg);
	for (i = 0; i < ATSM_RECORDER_BATCH_MAX; i++)
		ck_assert_int_eq(out[i], ATSM_RECORDED);
	snprintf(q, sizeof(q), "SELECT count(*) || ' ' || count(DISTINCT xmin::text) FROM"
	    " atsmail.messages WHERE idempotency_key LIKE 'rec-%s-%%-out'", S);
	got = text(q, NULL);
	ck_assert_str_eq(got, "1000 1");
	free(got);
	ck_assert_int_eq(atsm_recorder_batch(conn, v, ATSM_RECORDER_BATCH_MAX + 1, out, NULL,
	    &err), -1);
	ck_assert_int_eq(err.cls, ATSM_ERR_INPUT);
	free_entries(v, ATSM_RECORDER_BATCH_MAX);
}
END_TEST

static Suite *
suite(void)
{
	Suite *s = suite_create("recorder");
	TCase *tc = tcase_create("recorder");

	pgfx_require("tests/e2e/recorder.sh");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_batch_records_everything_in_one_transaction);
	tcase_add_test(tc, test_same_batch_again_is_all_duplicates);
	tcase_add_test(tc, test_bad_entry_rejected_alone);
	tcase_add_test(tc, test_reference_by_key_across_batches);
	tcase_add_test(tc, test_resume_named_by_address_is_the_one_intake_made);
	tcase_add_test(tc, test_resume_named_by_an_address_nobody_holds_is_refused);
	tcase_add_test(tc, test_same_message_id_twice_is_a_duplicate);
	tcase_add_test(tc, test_entries_that_cannot_be_sent_are_rejected);
	tcase_add_test(tc, test_database_gone_is_unavailable_and_records_nothing);
	tcase_add_test(tc, test_statement_timeout_is_unavailable);
	tcase_add_test(tc, test_largest_batch);
	suite_add_tcase(s, tc);
	return s;
}

/* ---- the modes of tests/e2e/recorder.sh ---------------------------- */

/* `line NAME SUFFIX`: one journal line around record-v2/NAME.json. */
static int
print_line(const char *name, const char *suffix)
{
	json_t *e = entry(strncmp(name, "outbound", 8) == 0 ? ATSM_RECORDER_KIND_OUT :
	    ATSM_RECORDER_KIND_IN, payload_s(name, suffix));
	char *s = json_dumps(e, JSON_COMPACT);

	printf("%s\n", s);
	free(s);
	json_decref(e);
	return 0;
}

struct progress {
	pthread_mutex_t mu;
	struct atsm_jlog_pos pos;
};

static void
recorded(void *ctx, const struct atsm_jlog_pos *pos)
{
	struct progress *pr = ctx;

	pthread_mutex_lock(&pr->mu);
	pr->pos = *pos;
	pthread_mutex_unlock(&pr->mu);
}

struct follower {
	struct atsm_jlog *j;
	struct atsm_recorder_params p;
	volatile bool stop;
	struct atsm_recorder_stats st;
	int rc;
};

static void *
run_follow(void *arg)
{
	struct follower *f = arg;

	f->rc = atsm_recorder_follow(f->j, &f->p, &f->stop, &f->st);
	return NULL;
}

/* `follow DIR N`: journal N outbound mails (and the first one again),
 * record them with the follow loop (started while the server may be
 * down), wait until everything is recorded, stop it and print the counts. */
static int
follow_probe(const char *dir, int n)
{
	struct progress pr = { .mu = PTHREAD_MUTEX_INITIALIZER };
	struct atsm_jlog_stats js;
	struct atsm_jlog_pos last = { 0, 0 }, at;
	struct follower f;
	struct atsm_err err;
	char suffix[32];
	pthread_t t;
	json_t *d;
	int i, waited;

	memset(&f, 0, sizeof(f));
	if (atsm_jlog_open(dir, "atsmaild", 0, &f.j, &err) == -1) {
		fprintf(stderr, "%s\n", err.msg);
		return 2;
	}
	for (i = 0; i <= n; i++) {
		snprintf(suffix, sizeof(suffix), "follow-%d", i < n ? i : 0);
		d = payload_s("outbound", suffix);
		if (atsm_jlog_append(f.j, ATSM_RECORDER_KIND_OUT, json_string_value(
		    json_object_get(d, "key")), d, &last, &err) == -1) {
			fprintf(stderr, "%s\n", err.msg);
			return 2;
		}
		json_decref(d);
	}
	f.p.conninfo = getenv("ATSM_TEST_PG");
	f.p.connect_timeout_ms = 2000;
	f.p.statement_timeout_ms = 2000;
	f.p.batch_max = 3;
	f.p.wait_ms = 100;
	f.p.retry_ms = 200;
	f.p.recorded = recorded;
	f.p.ctx = &pr;
	if (pthread_create(&t, NULL, run_follow, &f) != 0)
		return 2;
	for (waited = 0; waited < 1200; waited++) {
		pthread_mutex_lock(&pr.mu);
		at = pr.pos;
		pthread_mutex_unlock(&pr.mu);
		if (atsm_jlog_pos_cmp(&at, &last) >= 0)
			break;
		usleep(100000);
	}
	f.stop = true;
	pthread_join(t, NULL);
	atsm_jlog_stats(f.j, &js);
	printf("recorded %llu, duplicates %llu, rejected %llu, left %llu bytes, follow %d\n",
	    f.st.recorded, f.st.duplicates, f.st.rejected, js.backlog_bytes, f.rc);
	atsm_jlog_close(f.j);
	return 0;
}

int
main(int argc, char **argv)
{
	SRunner *sr;
	int nfailed;

	probe_mode = true;
	if (argc == 4 && strcmp(argv[1], "line") == 0)
		return print_line(argv[2], argv[3]);
	if (argc == 4 && strcmp(argv[1], "follow") == 0)
		return follow_probe(argv[2], atoi(argv[3]));
	probe_mode = false;
	sr = srunner_create(suite());
	srunner_set_tap(sr, "-");
	srunner_run_all(sr, CK_SILENT);
	nfailed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return nfailed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
