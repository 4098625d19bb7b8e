/* test-db.h -- what the tests of the PostgreSQL access layer share:
 * pools and connections made with an application_name unique to this
 * process (so that pg_stat_activity can be asked how many connections a
 * pool really opened), and statements that fail the test when they fail.
 * test-db.c tests statements, transactions and failure classes
 * (lib/store/db-exec.c), test-db-pool.c connections and the pool
 * (lib/store/db.c); they are one program, run by tests/e2e/db-pool.sh.
 */
#ifndef ATSM_TEST_DB_H
#define ATSM_TEST_DB_H

#include "atsm-check.h"
#include "store/db.h"

extern const char *pg_conninfo;   /* ATSM_TEST_PG */
extern char app_name[64];

/* Seconds on the monotonic clock. */
double now_s(void);
/* Parameters of a pool of size connections on the test server. */
struct atsm_db_params params(unsigned size, unsigned stmt_ms);
struct atsm_db_pool *pool_or_fail(unsigned size, unsigned stmt_ms);
PGconn *acquire_or_fail(struct atsm_db_pool *pool);
/* The single value of a one-row, one-column statement ("" for NULL). */
char *scalar(PGconn *c, const char *sql, int n, const char *const *v);
void command_ok(PGconn *c, const char *sql, int n, const char *const *v);
/* Connections the server sees with our application_name. */
long server_connections(void);

/* test-db-pool.c; its last test stops and restarts the server. */
TCase *db_pool_tcase(void);

#endif
