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

#endif
