/* notifyd.h -- the parts of atsmail-notifyd(8) and how they meet.
 *
 *	main.c     options, privileges, PID file, signals, exit status
 *	run.c      the loop: connect and LISTEN, claim a batch, deliver it,
 *	           record the outcomes, sleep until woken or something is due
 *	outbox.c   the SQL of the outbox: claim, delivered, failed, release,
 *	           next due time (parameterised statements only)
 *	deliver.c  one batch of HTTP POST requests in parallel (libcurl multi)
 *
 * Decisions (body, signature, verdict, backoff, endpoint rules) are in
 * lib/notify/webhook.c; this folder does the I/O.  See docs/notifyd.md.
 */
#ifndef NOTIFYD_H
#define NOTIFYD_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <libpq-fe.h>

#include "base/conf.h"
#include "store/db.h"
#include "base/err.h"
#include "rules/token.h"
#include "notify/webhook.h"

#define NOTIFYD_NAME "atsmail-notifyd"
/* Events claimed and sent in parallel at a time (times the number of URLs
 * is the number of simultaneous requests). */
#define NOTIFYD_BATCH 32
/* The safety net: the outbox is looked at at least this often even when
 * no NOTIFY arrives and nothing is known to be due. */
#define NOTIFYD_POLL_MS 30000u
/* A claim is a lease of webhook_timeout plus this margin (the statements
 * around a batch), after which another instance may take the row over. */
#define NOTIFYD_LEASE_MARGIN_MS 60000u
/* Bounds of the wait between attempts to reach the database. */
#define NOTIFYD_DB_RETRY_MIN_MS 1000u
#define NOTIFYD_DB_RETRY_MAX_MS 30000u
/* Attempts to record the outcome of a batch before leaving it to the lease. */
#define NOTIFYD_RECORD_TRIES 10
/* Characters of last_error kept in the outbox. */
#define NOTIFYD_ERROR_MAX 400

enum notifyd_outcome {
	NOTIFYD_UNSENT = 0,   /* claimed, not (completely) attempted */
	NOTIFYD_DELIVERED,    /* every URL answered 2xx */
	NOTIFYD_FAILED,       /* some URL did not: retry or dead */
	NOTIFYD_BROKEN        /* no body can be built: dead at once */
};

/* One claimed outbox row. */
struct notifyd_event {
	char *id, *type, *created_at, *payload;
	unsigned attempts;                 /* finished attempts before this one */
	char *body;                        /* from atsm_webhook_body() */
	char sig[ATSM_WEBHOOK_SIG_MAX];
	enum notifyd_outcome outcome;
	unsigned pending_urls;             /* deliver.c's count of open requests */
	char error[NOTIFYD_ERROR_MAX + 1]; /* first failure, for last_error */
};

/* ---- outbox.c ---- */
/* Claim up to max due rows (pending and due, or delivering with an expired
 * lease) for me, for lease_ms.  *evs is malloc'd (free with
 * notifyd_events_free); *n may be 0. */
int notifyd_outbox_claim(PGconn *db, const char *me, unsigned lease_ms, unsigned max,
    struct notifyd_event **evs, size_t *n, struct atsm_err *err);
/* Record every event of evs whose outcome is final; UNSENT ones go back to
 * pending untouched.  Only rows still leased to me are changed. */
int notifyd_outbox_record(PGconn *db, const char *me, const struct atsm_conf *conf,
    struct notifyd_event *evs, size_t n, struct atsm_err *err);
/* Milliseconds until the next row is due (0: now), or -1 when nothing is
 * waiting; -2 and err on failure. */
long notifyd_outbox_next_due(PGconn *db, struct atsm_err *err);
void notifyd_events_free(struct notifyd_event *evs, size_t n);

/* ---- deliver.c ---- */
struct notifyd_deliver;
struct notifyd_deliver *notifyd_deliver_new(const struct atsm_conf *conf, struct atsm_err *err);
void notifyd_deliver_free(struct notifyd_deliver *d);
/* POST every event with a body to every URL, all in parallel; sets each
 * event's outcome.  Returns when all requests ended (each is bounded by
 * webhook_timeout), or at once when *abort_now becomes true (checked when
 * wake_fd becomes readable): unfinished events stay UNSENT. */
void notifyd_deliver_batch(struct notifyd_deliver *d, struct notifyd_event *evs, size_t n,
    int wake_fd, volatile sig_atomic_t *abort_now);

/* ---- run.c ---- */
struct notifyd {
	const struct atsm_conf *conf;
	const char *conf_path;
	struct atsm_token_keys keys;
	char me[128];                      /* locked_by: host/pid/start */
	bool once;
	int wake_fd;                       /* readable after a signal */
	volatile sig_atomic_t *stop;       /* first SIGTERM: finish and leave */
	volatile sig_atomic_t *abort_now;  /* second: release and leave */
};
/* The daemon's life; returns the exit status (sysexits.h). */
int notifyd_run(struct notifyd *nd);

#endif
