/* store/bulk-db.h -- bulk send jobs in PostgreSQL (sql/016-templates-bulk.sql,
 * docs/bulk.md): made by the milter (ats+bulk, ats+template) and by
 * atsmailctl bulk send, sent by atsmaild's bulk runner, read by atsmailctl
 * bulk status.  Parameterised SQL only. */
#ifndef ATSM_STORE_BULK_DB_H
#define ATSM_STORE_BULK_DB_H

#include <stdbool.h>
#include <stddef.h>

#include <libpq-fe.h>

#include "base/err.h"

/* One recipient of a new job. */
struct atsm_bulk_item_new {
	const char *rcpt;                 /* the address, normalised */
	char kind;                        /* 'r' resume, 'c' contact, 0 = no record */
	long long record_id;
	bool unmatched;                   /* no record: kept in the job as 'unmatched', not sent */
	const char *const *extra_rcpts;   /* origin "template": the other recipients */
	size_t n_extra;
	/* origin "template": the Message-ID of the mail as the client sent it
	 * (without brackets), kept on the merged mail so that the client's Sent
	 * copy, the candidate's reply and the record are one thread; NULL =
	 * atsm_bulk_db_create gives one.  A second job with the same
	 * Message-ID (the client sending again after a 451) is not made:
	 * atsm_bulk_db_create returns 0 and the id of the job that has it. */
	const char *message_id;
};

struct atsm_bulk_job_new {
	long long user_id;
	const char *origin;               /* "mail", "ctl" or "template" */
	const char *template_code;        /* NULL = none (a mail merged as written) */
	const char *subject;              /* for listings; NULL = the template's */
	const char *source;               /* the mail as the client sent it; NULL for "ctl" */
	size_t source_len;
	const char *commands_json;        /* {"phase": "x", "jobs": [1,2], "share": 1}; NULL = {} */
	long long job_id;                 /* {{job.*}}; 0 = none */
	const struct atsm_bulk_item_new *items;
	size_t n_items;
};

/* A recipient found by a query, a list or ids. */
struct atsm_bulk_rcpt {
	char kind;                        /* 'r' resume, 'c' contact */
	long long id;
	char *addr;                       /* its primary address, normalised; NULL = none */
};
void atsm_bulk_rcpts_free(struct atsm_bulk_rcpt *v, size_t n);

/* The records a query names (docs/bulk.md, "Queries": "phase=interview1,
 * job=12, phase-older-than=30d, kind=resume"), visible to user_id, in id
 * order, at most max + 1 (so that the caller sees the limit passed).
 * 0 with *out (malloc'd) and *n, -1 with err (a malformed query names the
 * term). */
int atsm_bulk_db_query(PGconn *c, const char *query, long long user_id, size_t max,
    struct atsm_bulk_rcpt **out, size_t *n, struct atsm_err *err);

/* The records of the recipient list name that user_id may use (its own, or
 * shared): its members, or its saved query.  1 with *out and *n, 0 when
 * there is no such list, -1 with err. */
int atsm_bulk_db_list(PGconn *c, const char *name, long long user_id, size_t max,
    struct atsm_bulk_rcpt **out, size_t *n, struct atsm_err *err);

/* Make the job and its items in one transaction (status 'queued': the
 * runners are woken by NOTIFY atsmail_bulk).  1 with *id; 0 with *id when
 * an item's given message_id belongs to a job already (that job's id:
 * the same mail taken twice); -1 with err. */
int atsm_bulk_db_create(PGconn *c, const struct atsm_bulk_job_new *j, long long *id,
    struct atsm_err *err);

/* ---- what atsmailctl finds recipients with ------------------------------- */

/* The records of kinds[i] ('r', 'c') and ids[i] that user_id may see, each
 * with its primary address, in the order given: out[i].addr NULL when the
 * record has none, out[i].id 0 when there is no such record or user_id may
 * not see it.  0, or -1 with err. */
int atsm_bulk_db_records(PGconn *c, long long user_id, size_t n, const char *kinds,
    const long long *ids, struct atsm_bulk_rcpt *out, struct atsm_err *err);
/* The record each address (normalised) belongs to, among those user_id may
 * see: out[i].id 0 when none (the lowest id when several).  0, or -1. */
int atsm_bulk_db_by_addr(PGconn *c, long long user_id, size_t n, const char *const *addrs,
    struct atsm_bulk_rcpt *out, struct atsm_err *err);

/* ---- a job, as the runner and atsmailctl read it -------------------------- */

struct atsm_bulk_job {
	long long id, user_id, job_id;
	char origin[12];                  /* "mail", "ctl", "template" */
	char status[12];                  /* "queued", "running", "done", ... */
	char *template_code;              /* NULL = none */
	char *subject;                    /* NULL = none */
	char *source;                     /* NULL for "ctl" */
	size_t source_len;
	char *commands_json;              /* never NULL after a load */
	int total;
	bool result_sent;
	char *login, *user_name;          /* the user */
	char *user_addr;                  /* their primary address; NULL = none */
	char lang[4];                     /* users.lang; "" = the site's default */
	char *created_at;                 /* text, for listings */
};
void atsm_bulk_job_free(struct atsm_bulk_job *j);

/* Job id: 1 with *j, 0 when there is none, -1 with err. */
int atsm_bulk_db_job(PGconn *c, long long id, struct atsm_bulk_job *j, struct atsm_err *err);

/* Take a job to run: one that is queued, or running, done or cancelled
 * without its result mail, whose advisory lock this session gets (the
 * lock is held by the connection until atsm_bulk_db_release or its end,
 * so a crashed runner's job is free for the next).  A queued job becomes
 * running (runner, started_at).  1 with *j, 0 when there is none, -1. */
int atsm_bulk_db_claim(PGconn *c, const char *runner, struct atsm_bulk_job *j,
    struct atsm_err *err);
/* Take the lock of job id again (after a reconnect): 1, 0 when another
 * session holds it, -1. */
int atsm_bulk_db_relock(PGconn *c, long long id, struct atsm_err *err);
void atsm_bulk_db_release(PGconn *c, long long id);

enum atsm_bulk_state {
	ATSM_BULK_PENDING = 0, ATSM_BULK_SENDING, ATSM_BULK_ACCEPTED, ATSM_BULK_REFUSED,
	ATSM_BULK_UNMATCHED, ATSM_BULK_CANCELLED
};
const char *atsm_bulk_state_name(enum atsm_bulk_state s);

struct atsm_bulk_item {
	int seq;
	char *rcpt;
	char **extra;                     /* origin "template": the other recipients */
	size_t n_extra;
	char kind;                        /* 'r', 'c', 0 = no record */
	long long record_id;
	enum atsm_bulk_state state;
	char *message_id;                 /* without brackets */
	char *queue_id, *reason;          /* NULL = none */
	/* the delivery as recorded (atsm_bulk_db_items with deliveries) */
	char *delivery;                   /* message_recipients.status; NULL = not recorded */
	char *status_code, *diagnostic, *bounced_at;
};
void atsm_bulk_items_free(struct atsm_bulk_item *v, size_t n);

/* The items of job in seq order; with deliveries, what became of each
 * recorded mail (messages.rfc_message_id = message_id, direction 'out';
 * its message_recipients row for rcpt: status, code, diagnostic,
 * bounced_at).  0 with *out and *n, -1 with err. */
int atsm_bulk_db_items(PGconn *c, long long job, bool deliveries,
    struct atsm_bulk_item **out, size_t *n, struct atsm_err *err);

/* What became of some items, in one statement: state, queue_id and reason
 * (NULL = unchanged) of v[i].seq.  0, or -1 with err. */
struct atsm_bulk_mark_item {
	int seq;
	enum atsm_bulk_state state;
	const char *queue_id, *reason;
};
int atsm_bulk_db_mark(PGconn *c, long long job, const struct atsm_bulk_mark_item *v, size_t n,
    struct atsm_err *err);

/* Resuming: the items of job left 'sending' whose Message-ID is among the
 * recorded outbound messages become 'accepted' (*found), the others
 * 'pending' again (*again).  0, or -1. */
int atsm_bulk_db_settle(PGconn *c, long long job, int *found, int *again,
    struct atsm_err *err);

/* The job's status now ("cancelled" when someone cancelled it), into
 * status (12 bytes).  0, or -1. */
int atsm_bulk_db_status(PGconn *c, long long job, char *status, struct atsm_err *err);
/* The job is over: status "done" (or "cancelled": its pending items become
 * 'cancelled'), finished_at.  0, or -1. */
int atsm_bulk_db_finish(PGconn *c, long long job, const char *status, const char *error,
    struct atsm_err *err);
/* The result mail went: result_sent_at.  0, or -1. */
int atsm_bulk_db_result_sent(PGconn *c, long long job, struct atsm_err *err);
/* Cancel job (queued or running): 1, 0 when there is no such open job,
 * -1.  The runner stops before its next mail. */
int atsm_bulk_db_cancel(PGconn *c, long long job, struct atsm_err *err);

/* Counts of one job's items by state and of bounced recipients. */
struct atsm_bulk_counts {
	int n[6];                         /* by enum atsm_bulk_state */
	int bounced;
};
int atsm_bulk_db_counts(PGconn *c, long long job, struct atsm_bulk_counts *k,
    struct atsm_err *err);

/* The jobs, newest first (at most max): *out of n jobs (no source), -1. */
int atsm_bulk_db_jobs(PGconn *c, size_t max, struct atsm_bulk_job **out, size_t *n,
    struct atsm_err *err);

#endif
