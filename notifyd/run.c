/* run.c -- the loop of atsmail-notifyd (notifyd.h).
 *
 * One database connection serves both LISTEN atsmail_outbox and the
 * statements.  Each turn: claim up to NOTIFYD_BATCH due rows, send them
 * (deliver.c), record the outcomes, and go round again at once while
 * batches come back full.  Otherwise sleep until a NOTIFY arrives, the
 * next row is due (a retry, or another instance's expired lease), a signal
 * comes, or NOTIFYD_POLL_MS pass -- the safety net for a lost notification.
 *
 * libpq reads notifications while it reads results, so the queue is
 * emptied after every statement before the socket is polled: a NOTIFY
 * that arrived during a claim is never left waiting for the next poll.
 *
 * Stopping: the first SIGTERM lets the requests in flight finish (each is
 * bounded by webhook_timeout), records them and leaves; a second one
 * abandons them and puts their events back to pending.  Either way no
 * claimed event is left leased.
 */
#include "notifyd.h"

#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <time.h>
#include <unistd.h>

#include "base/log.h"

static PGconn *
db_open(struct notifyd *nd, struct atsm_err *err)
{
	struct atsm_db_params p;
	PGconn *db;

	memset(&p, 0, sizeof(p));
	p.conninfo = nd->conf->db_conninfo;
	p.pool_size = 1;
	p.statement_timeout_ms = nd->conf->db_statement_timeout;
	p.connect_timeout_ms = nd->conf->db_connect_timeout;
	p.application_name = NOTIFYD_NAME;
	db = atsm_db_connect(&p, err);
	if (db == NULL)
		return NULL;
	if (atsm_db_command(db, "LISTEN atsmail_outbox", 0, NULL, err) < 0) {
		PQfinish(db);
		return NULL;
	}
	return db;
}

/* Empty libpq's queue of notifications: true when there was one. */
static bool
drain_notifies(PGconn *db)
{
	PGnotify *n;
	bool any = false;

	if (PQconsumeInput(db) == 0)
		return true;   /* broken: the next statement will say so */
	while ((n = PQnotifies(db)) != NULL) {
		PQfreemem(n);
		any = true;
	}
	return any;
}

static void
drain_fd(int fd)
{
	char buf[64];

	while (read(fd, buf, sizeof(buf)) > 0)
		;
}

/* Sleep up to ms, or until db's socket (if any) or the wake pipe is readable. */
static void
wait_for(struct notifyd *nd, PGconn *db, long ms)
{
	struct pollfd fds[2];
	nfds_t nfds = 0;

	fds[nfds].fd = nd->wake_fd;
	fds[nfds++].events = POLLIN;
	if (db != NULL && PQsocket(db) >= 0) {
		fds[nfds].fd = PQsocket(db);
		fds[nfds++].events = POLLIN;
	}
	if (poll(fds, nfds, (int)ms) > 0 && (fds[0].revents & POLLIN))
		drain_fd(nd->wake_fd);
}

static unsigned
lease_ms(const struct atsm_conf *c)
{
	return c->webhook_timeout + NOTIFYD_LEASE_MARGIN_MS;
}

static void
prepare(struct notifyd *nd, struct notifyd_event *evs, size_t n)
{
	struct atsm_err err;
	size_t i;

	for (i = 0; i < n; i++) {
		err.msg[0] = '\0';
		evs[i].body = atsm_webhook_body(&(struct atsm_webhook_event){ evs[i].id,
		    evs[i].type, evs[i].created_at, evs[i].payload }, &err);
		if (evs[i].body == NULL) {
			/* a row no attempt can ever send: dead at once, with why */
			evs[i].outcome = NOTIFYD_BROKEN;
			snprintf(evs[i].error, sizeof(evs[i].error), "%s", err.msg);
		} else if (atsm_webhook_sign(&nd->keys, evs[i].body, strlen(evs[i].body),
		    evs[i].sig) < 0) {
			free(evs[i].body);
			evs[i].body = NULL;   /* stays UNSENT: released, tried again */
			atsm_log(LOG_ERR, "event %s: cannot compute the signature", evs[i].id);
		}
	}
}

/* Record the outcomes, reconnecting if needed: the rows are leased to us,
 * so trying again is safe.  When the database stays away the lease runs
 * out and the events are sent again (at least once). */
static void
record(struct notifyd *nd, PGconn **db, struct notifyd_event *evs, size_t n)
{
	struct atsm_err err;
	int tries;

	for (tries = 0; tries < NOTIFYD_RECORD_TRIES; tries++) {
		err.msg[0] = '\0';
		if (*db == NULL)
			*db = db_open(nd, &err);
		if (*db != NULL && notifyd_outbox_record(*db, nd->me, nd->conf, evs, n, &err) == 0)
			return;
		atsm_log(LOG_WARNING, "cannot record the outcome of %zu events (try %d of %d): %s",
		    n, tries + 1, NOTIFYD_RECORD_TRIES, err.msg);
		if (*db != NULL && PQstatus(*db) != CONNECTION_OK) {
			PQfinish(*db);
			*db = NULL;
		}
		if (*nd->abort_now)
			break;
		sleep(1);
	}
	atsm_log(LOG_ERR, "gave up recording the outcome of %zu events: they are sent "
	    "again when their lease expires", n);
}

/* One batch: the number of rows claimed, or -1 when the database failed. */
static int
batch(struct notifyd *nd, struct notifyd_deliver *dl, PGconn **db)
{
	struct notifyd_event *evs;
	struct atsm_err err = { .msg = "" };
	size_t n, i, ok = 0;

	if (notifyd_outbox_claim(*db, nd->me, lease_ms(nd->conf), NOTIFYD_BATCH, &evs, &n,
	    &err) < 0) {
		atsm_log(LOG_ERR, "%s", err.msg);
		return -1;
	}
	if (n == 0)
		return 0;
	prepare(nd, evs, n);
	notifyd_deliver_batch(dl, evs, n, nd->wake_fd, nd->abort_now);
	record(nd, db, evs, n);
	for (i = 0; i < n; i++)
		ok += evs[i].outcome == NOTIFYD_DELIVERED;
	atsm_log(LOG_DEBUG, "batch of %zu events: %zu delivered", n, ok);
	notifyd_events_free(evs, n);
	return (int)n;
}

int
notifyd_run(struct notifyd *nd)
{
	struct notifyd_deliver *dl;
	struct atsm_err err = { .msg = "" };
	PGconn *db = NULL;
	unsigned backoff = NOTIFYD_DB_RETRY_MIN_MS;
	int rc = 0, n;
	long due;

	dl = notifyd_deliver_new(nd->conf, &err);
	if (dl == NULL) {
		atsm_log(LOG_ERR, "%s", err.msg);
		return EX_SOFTWARE;
	}
	while (!*nd->stop) {
		if (db == NULL) {
			err.msg[0] = '\0';
			db = db_open(nd, &err);
			if (db == NULL) {
				if (nd->once) {
					atsm_log(LOG_ERR, "%s", err.msg);
					rc = EX_TEMPFAIL;
					break;
				}
				atsm_log(LOG_ERR, "%s; trying again in %u ms", err.msg, backoff);
				wait_for(nd, NULL, backoff);
				backoff = backoff * 2 > NOTIFYD_DB_RETRY_MAX_MS ?
				    NOTIFYD_DB_RETRY_MAX_MS : backoff * 2;
				continue;
			}
			backoff = NOTIFYD_DB_RETRY_MIN_MS;
			atsm_log(LOG_INFO, "connected to the database, listening on atsmail_outbox");
		}
		drain_notifies(db);
		n = batch(nd, dl, &db);
		if (n < 0 || db == NULL) {
			if (db != NULL)
				PQfinish(db);
			db = NULL;
			if (nd->once) {
				rc = EX_TEMPFAIL;
				break;
			}
			continue;
		}
		if (n == NOTIFYD_BATCH)
			continue;
		if (nd->once)
			break;
		err.msg[0] = '\0';
		due = notifyd_outbox_next_due(db, &err);
		if (due == -2) {
			atsm_log(LOG_ERR, "%s", err.msg);
			PQfinish(db);
			db = NULL;
			continue;
		}
		/* a NOTIFY read with a result above: go round at once */
		if (drain_notifies(db) || *nd->stop)
			continue;
		if (due == 0 && n > 0)
			continue;
		if (due == 0)
			due = 50;   /* due rows, but another instance holds them this instant */
		wait_for(nd, db, due < 0 || due > (long)NOTIFYD_POLL_MS ? (long)NOTIFYD_POLL_MS : due);
	}
	if (db != NULL)
		PQfinish(db);
	notifyd_deliver_free(dl);
	return rc;
}
