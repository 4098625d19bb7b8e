/* bulk/query.h -- the query language of bulk send (docs/bulk.md,
 * "Queries"): which records a bulk job goes to.
 *
 *	phase=interview1, job=12, phase-older-than=30d, kind=resume, owner=sato
 *
 * Terms are separated by commas (or spaces around them), each NAME=VALUE,
 * each at most once.  phase names a phase of the record (resume, contact)
 * or of a selection process (then the resumes with such a process);
 * job=N the resumes in a process for job N (and the contacts of its
 * company); phase-older-than=N[d] a phase date more than N days ago;
 * kind=resume|contact; owner=LOGIN the records LOGIN owns.  Pure: the
 * records themselves are found by atsm_bulk_db_query (store/bulk-db.h).
 */
#ifndef ATSM_BULK_QUERY_H
#define ATSM_BULK_QUERY_H

#include "base/err.h"

#define ATSM_BULK_QUERY_MAX 1024        /* bytes of a query */

struct atsm_bulk_query {
	char phase[33];                 /* "" = any */
	long long job;                  /* 0 = any */
	int older_days;                 /* -1 = any */
	char kind;                      /* 'r', 'c', 0 = both */
	char owner[256];                /* "" = anyone's */
};

/* Parse text into q.  0, or -1 with err naming the term at fault
 * ("query term 'phase-older-than=soon': not a number of days"). */
int atsm_bulk_query_parse(const char *text, struct atsm_bulk_query *q, struct atsm_err *err);

#endif
