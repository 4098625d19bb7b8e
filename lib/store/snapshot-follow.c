/* store/snapshot-follow.c -- the follower: a connection to PostgreSQL
 * that LISTENs on ATSM_SNAPSHOT_CHANNEL and keeps the snapshot fresh.
 *
 * After every (re)connection it LISTENs first and resyncs in full second,
 * so that a change committed during the resync is either in what the
 * resync read or notified after it (both, at worst: reading a row twice
 * is harmless).  Then it waits on the connection's socket and reads the
 * rows the notifications name, gathering every notification already
 * arrived into one batch; and every resync_interval_ms it resyncs in full
 * again, which repairs whatever a lost notification or a bug left behind.
 * A full resync reads through a second connection, so that between its
 * chunks the notifications go on being read on the first: a resync of a
 * million resumes takes seconds, and the staleness bound holds meanwhile.
 * While PostgreSQL is unreachable, decisions go on from the snapshot as
 * it is; the failure is logged once per outage, and the recovery too.
 */
#include "store/snapshot-int.h"

#include "base/log.h"

#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#define NOTIFIES_PER_BATCH 4096     /* then read them, and gather more */
#define BACKOFF_MAX_MS 60000        /* between retries of a failure that is not the network's */

static long long
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Sleep ms, looking at *stop every poll_ms. */
static void
pause_ms(unsigned ms, unsigned poll_ms, volatile bool *stop)
{
	long long end = now_ms() + ms;

	while (!*stop && now_ms() < end) {
		long long left = end - now_ms();
		unsigned step = left < (long long)poll_ms ? (unsigned)left : poll_ms;
		struct timespec ts = { step / 1000, (long)(step % 1000) * 1000000L };

		nanosleep(&ts, NULL);
	}
}

/* A connection; listen: the one that LISTENs. */
/* libpq writes notices, and the server's message when it ends a
 * connection, on stderr by default: not a daemon's log.  What matters is
 * logged by the follower when the connection is found broken. */
static void
quiet_notice(void *arg, const char *message)
{
	(void)arg;
	(void)message;
}

static PGconn *
follow_connect(const struct atsm_snapshot_follow_params *p, bool listen, struct atsm_err *err)
{
	static const char *const keys[] = { "dbname", "connect_timeout", "application_name",
	    NULL };
	char timeout[16], stmt[24];
	const char *vals[4], *sv[1] = { stmt };
	PGconn *conn;
	PGresult *r;
	unsigned secs = (p->connect_timeout_ms + 999) / 1000;

	snprintf(timeout, sizeof(timeout), "%u", secs > 0 ? secs : 2);
	vals[0] = p->conninfo;
	vals[1] = timeout;
	vals[2] = listen ? "atsmaild-snapshot" : "atsmaild-snapshot-resync";
	vals[3] = NULL;
	conn = PQconnectdbParams(keys, vals, 1);
	if (conn == NULL || PQstatus(conn) != CONNECTION_OK) {
		const char *m = conn != NULL ? PQerrorMessage(conn) : "out of memory";

		atsm_err_setc(err, ATSM_ERR_UNAVAILABLE, "snapshot: cannot connect to the database: "
		    "%.*s", (int)strcspn(m, "\n"), m);
		PQfinish(conn);
		return NULL;
	}
	PQsetNoticeProcessor(conn, quiet_notice, NULL);
	/* 0 is PostgreSQL's "no limit" too.  Generic plans: the follower runs
	 * the same few lookups by id for every notification, and PostgreSQL
	 * would otherwise plan each anew for its array of ids, which cost it
	 * several times what running them did (docs/benchmarks-plugin.md). */
	snprintf(stmt, sizeof(stmt), "%ums", p->statement_timeout_ms);
	if ((r = atsm_snap_pg(conn, "SELECT set_config('statement_timeout', $1, false), "
	    "set_config('plan_cache_mode', 'force_generic_plan', false)", 1, sv,
	    err)) == NULL) {
		PQfinish(conn);
		return NULL;
	}
	PQclear(r);
	if (listen && (r = atsm_snap_pg(conn, "LISTEN " ATSM_SNAPSHOT_CHANNEL, 0, NULL, err)) ==
	    NULL) {
		PQfinish(conn);
		return NULL;
	}
	if (listen)
		PQclear(r);
	return conn;
}

struct follower {
	struct atsm_snapshot *s;
	const struct atsm_snapshot_follow_params *p;
	volatile bool *stop;
	PGconn *conn;
	bool failing;                  /* a failure has been logged, not yet the recovery */
	unsigned backoff_ms;           /* the next wait after a failure that is not the network's */
	unsigned poll_ms;
	bool need_full;
	long long last_full;           /* now_ms() of the last full resync */
	struct atsm_snap_batch *batch;
	struct atsm_snap_fresh *fresh; /* during a full resync: what batches read */
};

/* A sync failed: lose the connection when it is the cause, log once, and
 * resync in full once things work again.  The network is tried again
 * every retry_ms; anything else (a full snapshot, a refused statement)
 * would fail the same way at once, so its retries back off to a minute. */
static void
failed(struct follower *f, const struct atsm_err *err)
{
	bool gone = err->cls == ATSM_ERR_UNAVAILABLE || PQstatus(f->conn) != CONNECTION_OK;
	unsigned wait = f->p->retry_ms;

	if (!f->failing)
		atsm_log(gone ? LOG_WARNING : LOG_ERR, "%s; decisions use the snapshot as it is, "
		    "retrying", err->msg);
	f->failing = true;
	f->need_full = true;
	if (gone) {
		PQfinish(f->conn);
		f->conn = NULL;
	} else {
		if (f->backoff_ms < f->p->retry_ms)
			f->backoff_ms = f->p->retry_ms;
		wait = f->backoff_ms;
		f->backoff_ms = f->backoff_ms > BACKOFF_MAX_MS / 2 ? BACKOFF_MAX_MS :
		    2 * f->backoff_ms;
	}
	pause_ms(wait, f->poll_ms, f->stop);
}

static void
recovered(struct follower *f, const char *what)
{
	if (f->failing)
		atsm_log(LOG_INFO, "snapshot: %s again", what);
	f->failing = false;
	f->backoff_ms = 0;
}

/* Gather the notifications that have arrived (up to a batch). */
static int
gather(struct follower *f, struct atsm_err *err)
{
	PGnotify *n;
	size_t count = 0;

	if (PQconsumeInput(f->conn) == 0) {
		const char *m = PQerrorMessage(f->conn);

		return atsm_err_setc(err, ATSM_ERR_UNAVAILABLE, "snapshot: lost the database "
		    "connection: %.*s", (int)strcspn(m, "\n"), m);
	}
	while (count < NOTIFIES_PER_BATCH && (n = PQnotifies(f->conn)) != NULL) {
		struct atsm_err e;

		if (strcmp(n->relname, ATSM_SNAPSHOT_CHANNEL) == 0 &&
		    atsm_snap_batch_add(f->batch, n->extra, &e) < 0) {
			/* a payload of another version of the triggers: be safe */
			atsm_log(LOG_WARNING, "%s: resyncing in full", e.msg);
			f->need_full = true;
		}
		PQfreemem(n);
		count++;
	}
	return 0;
}

/* Between the chunks of a full resync: the notifications so far. */
static int
between_chunks(void *arg, struct atsm_err *err)
{
	struct follower *f = arg;

	if (gather(f, err) < 0)
		return -1;
	return atsm_snap_batch_run(f->s, f->conn, f->batch, f->fresh, err);
}

static int
full_resync(struct follower *f, struct atsm_err *err)
{
	long long t0 = now_ms();
	struct atsm_snap_sync y;
	PGconn *bulk;
	int rc;

	if ((f->fresh = atsm_snap_fresh_new()) == NULL)
		return atsm_err_setc(err, ATSM_ERR_NOMEM, "snapshot: out of memory for a resync");
	if ((bulk = follow_connect(f->p, false, err)) == NULL) {
		atsm_snap_fresh_free(f->fresh);
		f->fresh = NULL;
		return -1;
	}
	atsm_snap_sync_init(&y, f->s, bulk);
	y.skip = f->fresh;
	y.between = between_chunks;
	y.between_arg = f;
	rc = atsm_snap_sync_full_run(&y, err);
	PQfinish(bulk);
	atsm_snap_fresh_free(f->fresh);
	f->fresh = NULL;
	if (rc < 0)
		return -1;
	f->last_full = now_ms();
	f->need_full = false;
	atsm_log(LOG_DEBUG, "snapshot: full resync in %lld ms", f->last_full - t0);
	recovered(f, "in step with the database");
	return 0;
}

/* Wait for notifications (at most poll_ms) and read the rows they name. */
static int
listen_once(struct follower *f, struct atsm_err *err)
{
	struct pollfd pfd = { PQsocket(f->conn), POLLIN, 0 };

	if (pfd.fd < 0)
		return atsm_err_setc(err, ATSM_ERR_UNAVAILABLE, "snapshot: the database connection "
		    "is closed");
	if (poll(&pfd, 1, (int)f->poll_ms) < 0)
		return 0;          /* a signal: look at *stop */
	if (gather(f, err) < 0)
		return -1;
	if (atsm_snap_batch_empty(f->batch))
		return 0;
	if (atsm_snap_batch_run(f->s, f->conn, f->batch, NULL, err) < 0)
		return -1;
	recovered(f, "in step with the database");
	return 0;
}

int
atsm_snapshot_follow(struct atsm_snapshot *s, const struct atsm_snapshot_follow_params *p,
    volatile bool *stop)
{
	struct follower f;
	struct atsm_err err;

	memset(&f, 0, sizeof(f));
	f.s = s;
	f.p = p;
	f.stop = stop;
	f.need_full = true;
	f.poll_ms = p->poll_ms > 0 ? p->poll_ms : 100;
	if ((f.batch = atsm_snap_batch_new()) == NULL) {
		atsm_log(LOG_ERR, "snapshot: out of memory for the follower");
		return -1;
	}
	while (!*stop) {
		if (f.conn == NULL) {
			if ((f.conn = follow_connect(p, true, &err)) == NULL) {
				failed(&f, &err);
				continue;
			}
			f.need_full = true;   /* notifications were missed meanwhile */
		}
		if (f.need_full || (p->resync_interval_ms > 0 &&
		    now_ms() - f.last_full >= (long long)p->resync_interval_ms)) {
			if (full_resync(&f, &err) < 0)
				failed(&f, &err);
			continue;
		}
		if (listen_once(&f, &err) < 0)
			failed(&f, &err);
	}
	PQfinish(f.conn);
	atsm_snap_batch_free(f.batch);
	return 0;
}
