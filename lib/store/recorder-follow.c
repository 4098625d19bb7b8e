/* store/recorder-follow.c -- atsm_recorder_follow(): the loop of
 * atsmaild's recorder thread (see store/recorder.h): read durable entries
 * from the journal, record them in batches, commit the checkpoint, set
 * rejected entries aside, and ride out database outages.
 *
 * The checkpoint moves only after the batch's transaction committed, so a
 * crash between the two records the batch again, and every entry of it
 * comes back as a duplicate: exactly once is the idempotency key's work,
 * not the checkpoint's.  That is also why the checkpoint need not move
 * after every batch: it is written (a file created, synced, renamed, the
 * directory synced) at most once every FOLLOW_CHECKPOINT_MS while entries
 * keep coming, and at once when the recorder has caught up, when a batch
 * fails and when it stops.  Under load a batch is a few mails, and a
 * checkpoint per batch cost atsmaild about a third of its CPU time
 * (docs/benchmarks.md); a crash now records at most that much again, as
 * duplicates.  What was recorded is reported through the callback after
 * every batch all the same.  An outage is logged when it starts and when
 * it ends, not once per retry: during a long one the mail log would
 * otherwise fill with the same line.
 */
#include "store/recorder.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/log.h"
#include "store/db.h"

#define FOLLOW_SLICE_MS 100          /* how often a pause looks at *stop */
#define FOLLOW_RETRY_DEFAULT_MS 1000
#define FOLLOW_CHECKPOINT_MS 1000    /* the checkpoint trails what is recorded by at most this */

struct follow {
	struct atsm_jlog *j;
	const struct atsm_recorder_params *p;
	volatile bool *stop;
	struct atsm_recorder_stats *st;
	PGconn *conn;
	bool down;                   /* an outage is going on (logged) */
	size_t max;
	struct atsm_jlog_entry *ents;
	json_t **docs;
	enum atsm_record_outcome *out;
	char **why;
	bool uncommitted;            /* entries recorded past the checkpoint */
	struct atsm_jlog_pos recorded_to;
	long long checkpoint_at;     /* when the checkpoint last moved (monotonic ms) */
};

static long long
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Move the checkpoint to the end of what is recorded: 0, or -1 (logged;
 * tried again FOLLOW_CHECKPOINT_MS later, or when the recorder next
 * catches up or stops: meanwhile recording goes on, and what a crash
 * would record again grows). */
static int
checkpoint(struct follow *f)
{
	struct atsm_err err;

	if (!f->uncommitted)
		return 0;
	f->checkpoint_at = now_ms();
	if (atsm_jlog_commit(f->j, &f->recorded_to, &err) == -1) {
		atsm_log(LOG_ERR, "recorder: %s; what was recorded since the last checkpoint "
		    "would be recorded again after a crash, as duplicates", err.msg);
		return -1;
	}
	f->uncommitted = false;
	return 0;
}

/* After a failure: read again from the first entry not recorded (the
 * checkpoint moved there takes the reader with it), or else from the
 * checkpoint. */
static void
read_again(struct follow *f)
{
	if (f->uncommitted && checkpoint(f) == 0)
		return;
	atsm_jlog_rewind(f->j);
}

/* Sleep ms, or less when *stop is set. */
static void
pause_ms(volatile bool *stop, unsigned ms)
{
	struct timespec ts;
	unsigned step;

	while (ms > 0 && !*stop) {
		step = ms < FOLLOW_SLICE_MS ? ms : FOLLOW_SLICE_MS;
		ts.tv_sec = step / 1000;
		ts.tv_nsec = (long)(step % 1000) * 1000000L;
		nanosleep(&ts, NULL);
		ms -= step;
	}
}

static void
outage(struct follow *f, const struct atsm_err *err)
{
	struct atsm_jlog_stats js;
	const char *msg;

	if (f->conn != NULL) {
		PQfinish(f->conn);
		f->conn = NULL;
	}
	if (f->down)
		return;
	f->down = true;
	atsm_jlog_stats(f->j, &js);
	msg = err->msg;
	if (strncmp(msg, "recorder: ", 10) == 0)
		msg += 10;
	atsm_log(LOG_WARNING, "recorder: the database is unavailable (%s); mail stays "
	    "in the journal (%llu bytes waiting) and is recorded once it is back "
	    "(retrying every %u ms)", msg, js.backlog_bytes, f->p->retry_ms > 0 ?
	    f->p->retry_ms : FOLLOW_RETRY_DEFAULT_MS);
}

static bool
connected(struct follow *f)
{
	struct atsm_db_params dp;
	struct atsm_err err;

	if (f->conn != NULL)
		return true;
	memset(&dp, 0, sizeof(dp));
	dp.conninfo = f->p->conninfo;
	dp.pool_size = 1;
	dp.statement_timeout_ms = f->p->statement_timeout_ms;
	dp.connect_timeout_ms = f->p->connect_timeout_ms;
	dp.application_name = "atsmaild recorder";
	if ((f->conn = atsm_db_connect(&dp, &err)) == NULL) {
		err.cls = ATSM_ERR_UNAVAILABLE;
		outage(f, &err);
		return false;
	}
	/* The record functions look rows up by key, for every entry: generic
	 * plans, kept for the session, rather than a new plan per call
	 * (docs/benchmarks-plugin.md). */
	if (atsm_db_command(f->conn, "SELECT set_config('plan_cache_mode', "
	    "'force_generic_plan', false)", 0, NULL, &err) == -1) {
		PQfinish(f->conn);
		f->conn = NULL;
		err.cls = ATSM_ERR_UNAVAILABLE;
		outage(f, &err);
		return false;
	}
	if (f->down) {
		atsm_log(LOG_INFO, "recorder: the database is available again: "
		    "recording resumes");
		f->down = false;
	}
	return true;
}

/* Rejected entries aside, then the checkpoint when it is due: 0, or -1
 * (logged) when a rejected entry cannot be set aside -- then the batch is
 * read again, and what it recorded comes back as duplicates. */
static int
settle(struct follow *f, size_t n)
{
	const char *kind;
	struct atsm_err err;
	size_t i;

	for (i = 0; i < n; i++) {
		if (f->out[i] == ATSM_RECORDED)
			f->st->recorded++;
		else if (f->out[i] == ATSM_RECORD_DUPLICATE)
			f->st->duplicates++;
		if (f->out[i] != ATSM_RECORD_REJECTED)
			continue;
		kind = f->ents[i].kind;
		atsm_log(LOG_ERR, "recorder: entry %.16s... (%s) refused, set aside with "
		    "the rejected entries of the journal: %s", f->ents[i].key,
		    kind != NULL ? kind : "?", f->why[i] != NULL ? f->why[i] : "");
		if (atsm_jlog_reject(f->j, f->ents[i].doc, f->why[i] != NULL ? f->why[i] :
		    "refused by the database", &err) == -1) {
			atsm_log(LOG_ERR, "recorder: %s; the batch will be recorded again",
			    err.msg);
			return -1;
		}
		f->st->rejected++;
	}
	f->recorded_to = f->ents[n - 1].end;
	f->uncommitted = true;
	f->st->batches++;
	if (f->p->recorded != NULL)
		f->p->recorded(f->p->ctx, &f->ents[n - 1].end);
	if (now_ms() - f->checkpoint_at >= FOLLOW_CHECKPOINT_MS)
		(void)checkpoint(f);
	return 0;
}

static void
release(struct follow *f, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		free(f->why[i]);
		f->why[i] = NULL;
	}
	atsm_jlog_entries_free(f->ents, n);
}

/* One round: 1 when entries were handled, 0 when none came, -1 when the
 * database (or the journal) failed and the caller should pause. */
static int
round_once(struct follow *f, unsigned wait_ms)
{
	struct atsm_err err;
	size_t n = 0, i;
	int rc;

	if (atsm_jlog_read(f->j, f->max, wait_ms, f->ents, &n, &err) == -1) {
		atsm_log(LOG_ERR, "recorder: %s", err.msg);
		return -1;
	}
	if (n == 0)
		return checkpoint(f);   /* caught up */
	for (i = 0; i < n; i++)
		f->docs[i] = f->ents[i].doc;
	if (atsm_recorder_batch(f->conn, f->docs, n, f->out, f->why, &err) == -1) {
		read_again(f);
		release(f, n);
		if (err.cls == ATSM_ERR_UNAVAILABLE) {
			outage(f, &err);
		} else {
			atsm_log(LOG_ERR, "recorder: %s", err.msg);
		}
		return -1;
	}
	rc = settle(f, n);
	if (rc == -1)
		read_again(f);
	release(f, n);
	return rc == -1 ? -1 : 1;
}

int
atsm_recorder_follow(struct atsm_jlog *j, const struct atsm_recorder_params *p,
    volatile bool *stop, struct atsm_recorder_stats *st)
{
	struct atsm_recorder_stats local;
	struct follow f;
	unsigned retry;
	int r, rc = 0;

	memset(&f, 0, sizeof(f));
	memset(&local, 0, sizeof(local));
	f.j = j;
	f.p = p;
	f.stop = stop;
	f.st = st != NULL ? st : &local;
	f.max = p->batch_max == 0 ? 1 : p->batch_max > ATSM_RECORDER_BATCH_MAX ?
	    ATSM_RECORDER_BATCH_MAX : p->batch_max;
	f.checkpoint_at = now_ms();
	retry = p->retry_ms > 0 ? p->retry_ms : FOLLOW_RETRY_DEFAULT_MS;
	f.ents = calloc(f.max, sizeof(*f.ents));
	f.docs = calloc(f.max, sizeof(*f.docs));
	f.out = calloc(f.max, sizeof(*f.out));
	f.why = calloc(f.max, sizeof(*f.why));
	if (f.ents == NULL || f.docs == NULL || f.out == NULL || f.why == NULL) {
		atsm_log(LOG_ERR, "recorder: out of memory for batches of %zu entries",
		    f.max);
		rc = -1;
		goto out;
	}
	for (;;) {
		if (!connected(&f)) {
			if (*stop) {
				rc = -1;    /* entries stay for the next start */
				break;
			}
			pause_ms(stop, retry);
			continue;
		}
		/* once told to stop, drain what is durable without waiting */
		r = round_once(&f, *stop ? 0 : p->wait_ms);
		if (r == 0 && *stop)
			break;
		if (r == -1 && *stop) {
			rc = -1;        /* what is left waits for the next start */
			break;
		}
		if (r == -1)
			pause_ms(stop, retry);
	}
out:
	/* what was recorded before a failure stays recorded */
	(void)checkpoint(&f);
	if (f.conn != NULL)
		PQfinish(f.conn);
	free(f.ents);
	free(f.docs);
	free(f.out);
	free(f.why);
	return rc;
}
