/* atsm-db.h -- PostgreSQL access layer over libpq.
 *
 * A small pool of connections, safe for libmilter's thread-per-connection
 * model: a thread borrows a connection with atsm_db_acquire() and gives it
 * back with atsm_db_release().  Every connection carries the configured
 * statement_timeout, so no call waits longer than that; a connection found
 * broken (server restarted) is reconnected on its next use.  Only
 * parameterised statements are offered: there is no call that takes SQL
 * with values spliced in.
 */
#ifndef ATSM_DB_H
#define ATSM_DB_H

#include <stdbool.h>
#include <libpq-fe.h>

#include "atsm-err.h"

struct atsm_db_params {
	const char *conninfo;            /* libpq conninfo string */
	unsigned pool_size;              /* connections at most (>= 1) */
	unsigned statement_timeout_ms;   /* SET statement_timeout; 0 = none */
	unsigned connect_timeout_ms;     /* bound on connecting (rounded up to s) */
	const char *application_name;    /* shown in pg_stat_activity; may be NULL */
};

/* How a call failed, so that callers can apply their failure policy. */
enum atsm_db_status {
	ATSM_DB_OK = 0,
	ATSM_DB_UNAVAILABLE,   /* cannot connect, connection lost, timed out */
	ATSM_DB_ERROR          /* the server refused the statement (SQL error) */
};

struct atsm_db_pool;

struct atsm_db_pool *atsm_db_pool_new(const struct atsm_db_params *p, struct atsm_err *err);
void atsm_db_pool_free(struct atsm_db_pool *pool);

/* Borrow a connection, waiting at most wait_ms for one to be free.
 * Connects (or reconnects a broken one) as needed. NULL with err on failure. */
PGconn *atsm_db_acquire(struct atsm_db_pool *pool, unsigned wait_ms, struct atsm_err *err);
/* Give it back. A connection in a failed state is closed and reopened later. */
void atsm_db_release(struct atsm_db_pool *pool, PGconn *conn);

/* One connection outside any pool (tools); same timeouts. */
PGconn *atsm_db_connect(const struct atsm_db_params *p, struct atsm_err *err);

/* Run a parameterised statement (text parameters; NULL = SQL NULL).
 * On success returns the result (PGRES_TUPLES_OK or PGRES_COMMAND_OK),
 * which the caller PQclear()s; on failure NULL, *status and err say why. */
PGresult *atsm_db_exec(PGconn *conn, const char *sql, int nparams,
                       const char *const *params, enum atsm_db_status *status,
                       struct atsm_err *err);
/* The same for statements whose result is not needed: 0 or -1. */
int atsm_db_command(PGconn *conn, const char *sql, int nparams,
                    const char *const *params, enum atsm_db_status *status,
                    struct atsm_err *err);

int atsm_db_begin(PGconn *conn, enum atsm_db_status *status, struct atsm_err *err);
int atsm_db_commit(PGconn *conn, enum atsm_db_status *status, struct atsm_err *err);
void atsm_db_rollback(PGconn *conn);

#endif
