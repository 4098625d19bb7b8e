/* store/template-db.h -- templates and the values of their tags, read from
 * PostgreSQL (sql/016-templates-bulk.sql).  Parameterised SQL only. */
#ifndef ATSM_STORE_TEMPLATE_DB_H
#define ATSM_STORE_TEMPLATE_DB_H

#include <libpq-fe.h>

#include "base/err.h"
#include "template/template.h"

/* The template code that user_id may use (shared, or owned by user_id; an
 * admin may use any): 1 with *t filled, 0 when there is none, -1 with err. */
int atsm_tpl_db_load(PGconn *c, const char *code, long long user_id,
    struct atsm_template *t, struct atsm_err *err);

/* The tag values for n recipients at once (one statement): the record of
 * kinds[i] ('r' resume, 'c' contact, '-' none: only the user, job and date
 * tags) and ids[i], with rcpts[i] its address; job_id (0 = none) names
 * {{job.*}} and {{process.*}}; user_id is the sender ({{user.*}}).  out[i]
 * must have been initialised.  0, or -1 with err. */
int atsm_tpl_db_fields(PGconn *c, size_t n, const char *kinds, const long long *ids,
    const char *const *rcpts, long long job_id, long long user_id,
    struct atsm_tpl_fields *out, struct atsm_err *err);

#endif
