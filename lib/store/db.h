/* store/db.h -- PostgreSQL access layer over libpq.
 *
 * A small pool of connections, safe for a thread-per-connection
 * model: a thread borrows a connection with atsm_db_acquire() and gives it
 * back with atsm_db_release().  Every connection carries the configured
 * statement_timeout, so no call waits longer than that; a connection found
 * broken (server restarted) is reconnected on its next use.  Only
 * parameterised statements are offered: there is no call that takes SQL
 * with values spliced in.
 *
 * Additions to the lead's interface (docs/database-access.md says more):
 * atsm_db_pool_stats() for monitoring, atsm_db_sqlstate_unavailable() (the
 * classification), the limits below, and atsm_db_exec_prepared() for the
 * statements of every mail.
 *
 * Failures travel in the one struct atsm_err (base/err.h): its class is
 * what a failure policy looks at, never the text.
 *	UNAVAILABLE  cannot connect, no connection free in time, connection
 *	             lost, or a SQLSTATE that atsm_db_sqlstate_unavailable()
 *	             names (statement timeout 57014, shutdown 57P01...); sqlstate
 *	             is set when the server sent one, "" otherwise
 *	REFUSED      the server refused the statement; sqlstate says why
 *	             (23505 unique violation, 42601 syntax error...)
 *	NOMEM        libpq or this module ran out of memory
 *	INPUT        a configuration value is wrong (pool size, conninfo)
 *	INTERNAL     a caller's bug (no statement, a bad parameter count, an
 *	             empty statement)
 * Messages put into err name the server (host, port, database, user) and
 * the statement's first words, never the password of the conninfo; a
 * server's message ends with "(SQLSTATE XXXXX)" for the human who reads
 * it, but code reads err->sqlstate.
 */
#ifndef ATSM_DB_H
#define ATSM_DB_H

#include <stdbool.h>
#include <libpq-fe.h>

#include "base/err.h"

struct atsm_db_params {
	const char *conninfo;            /* libpq conninfo string */
	unsigned pool_size;              /* connections at most (>= 1) */
	unsigned statement_timeout_ms;   /* SET statement_timeout; 0 = none */
	unsigned connect_timeout_ms;     /* bound on connecting (rounded up to s) */
	const char *application_name;    /* shown in pg_stat_activity; may be NULL */
};

/* libpq counts connect_timeout in whole seconds and treats 1 as 2, so the
 * effective bound is max(2, ceil(connect_timeout_ms / 1000)) seconds per
 * host tried; 0 means this default rather than libpq's "wait forever". */
#define ATSM_DB_CONNECT_TIMEOUT_DEFAULT_MS 5000u
#define ATSM_DB_POOL_SIZE_MAX 1000u      /* more is a configuration mistake */
#define ATSM_DB_PARAMS_MAX 65535         /* the protocol's limit per statement */

struct atsm_db_pool;

struct atsm_db_pool *atsm_db_pool_new(const struct atsm_db_params *p, struct atsm_err *err);
void atsm_db_pool_free(struct atsm_db_pool *pool);

/* Borrow a connection, waiting at most wait_ms for one to be free.
 * Connects (or reconnects a broken one) as needed. NULL with err on failure:
 * class UNAVAILABLE (none free in time, or cannot connect), NOMEM when libpq
 * could not even allocate a connection; time spent connecting is bounded by
 * connect_timeout. */
PGconn *atsm_db_acquire(struct atsm_db_pool *pool, unsigned wait_ms, struct atsm_err *err);
/* Give it back. A connection in a failed state is closed and reopened later;
 * one left inside a transaction is rolled back first. */
void atsm_db_release(struct atsm_db_pool *pool, PGconn *conn);

/* One connection outside any pool (tools); same timeouts and classes. */
PGconn *atsm_db_connect(const struct atsm_db_params *p, struct atsm_err *err);

/* Run a parameterised statement (text parameters; NULL = SQL NULL).
 * On success returns the result (PGRES_TUPLES_OK or PGRES_COMMAND_OK),
 * which the caller PQclear()s; on failure NULL, and err says why (its
 * class: UNAVAILABLE or REFUSED, see above). */
PGresult *atsm_db_exec(PGconn *conn, const char *sql, int nparams,
                       const char *const *params, struct atsm_err *err);
/* The same for statements whose result is not needed: 0 or -1. */
int atsm_db_command(PGconn *conn, const char *sql, int nparams,
                    const char *const *params, struct atsm_err *err);

/* atsm_db_exec() through a statement prepared once per connection (named
 * after a hash of sql; prepared on first use and again after a reconnect),
 * so that a statement run for every mail is parsed and planned once.
 * Inside a transaction it is plain atsm_db_exec(): a miss there would
 * abort the transaction. */
/* The statement through a statement prepared once per connection, as
 * atsm_db_exec_prepared() does, without its checks and classification:
 * libpq's result as it is (NULL when out of memory). */
PGresult *atsm_db_run_prepared(PGconn *conn, const char *sql, int nparams,
    const char *const *params);
PGresult *atsm_db_exec_prepared(PGconn *conn, const char *sql, int nparams,
                                const char *const *params, struct atsm_err *err);

int atsm_db_begin(PGconn *conn, struct atsm_err *err);
/* -1 also when the server answered COMMIT with ROLLBACK (a statement of the
 * transaction had failed): class REFUSED, sqlstate "" -- the work is lost. */
int atsm_db_commit(PGconn *conn, struct atsm_err *err);
void atsm_db_rollback(PGconn *conn);

/* A snapshot of a pool, for logs and monitoring. */
struct atsm_db_pool_stats {
	unsigned size;                  /* pool_size */
	unsigned open;                  /* connections currently open */
	unsigned busy;                  /* connections lent out */
	unsigned waiting;               /* threads waiting in atsm_db_acquire */
	unsigned long acquired;         /* successful atsm_db_acquire calls */
	unsigned long timeouts;         /* acquires that found none free in time */
	unsigned long connects;         /* connections opened (first or again) */
	unsigned long connect_failures; /* connection attempts that failed */
};
void atsm_db_pool_stats(struct atsm_db_pool *pool, struct atsm_db_pool_stats *st);

/* The classification atsm_db_exec() applies, for code that must run SQL
 * another way (a migration file through PQexec): true when this SQLSTATE
 * says the database is unavailable (class 08, 57014, 57P01...) rather than
 * that the statement is wrong.  NULL (no SQLSTATE) gives false: then ask
 * PQstatus() whether the connection was lost. */
bool atsm_db_sqlstate_unavailable(const char *state);

#endif
