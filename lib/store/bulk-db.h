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

/* Make the job and its items in one transaction (status 'queued': the
 * runners are woken by NOTIFY atsmail_bulk).  1 with *id, or -1 with err. */
int atsm_bulk_db_create(PGconn *c, const struct atsm_bulk_job_new *j, long long *id,
    struct atsm_err *err);

#endif
