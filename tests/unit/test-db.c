/* test-db.c -- tests of the PostgreSQL access layer (lib/store/db.c) against a
 * real server.
 *
 * ATSM_TEST_PG is the conninfo of a test database (superuser, trust auth);
 * ATSM_TEST_PG_STOP and ATSM_TEST_PG_START are shell commands that stop and
 * start that server (the reconnect test).  tests/e2e/db-pool.sh starts a
 * private server and runs this program; without ATSM_TEST_PG the whole
 * program is skipped.  Each test makes its own pool, with an
 * application_name unique to this process, so that pg_stat_activity can be
 * asked how many connections a pool really opened.
 */
#include "atsm-check.h"
#include "store/db.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define SECRET_PW "Sekr1t-pw-9e7f"

static const char *pg_conninfo;
static char app_name[64];

static double
now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static struct atsm_db_params
params(unsigned size, unsigned stmt_ms)
{
	struct atsm_db_params p;

	memset(&p, 0, sizeof(p));
	p.conninfo = pg_conninfo;
	p.pool_size = size;
	p.statement_timeout_ms = stmt_ms;
	p.connect_timeout_ms = 2000;
	p.application_name = app_name;
	return p;
}

static struct atsm_db_pool *
pool_or_fail(unsigned size, unsigned stmt_ms)
{
	struct atsm_db_params p = params(size, stmt_ms);
	struct atsm_err err = { .msg = "" };
	struct atsm_db_pool *pool;

	pool = atsm_db_pool_new(&p, &err);
	ck_assert_msg(pool != NULL, "pool_new: %s", err.msg);
	return pool;
}

static PGconn *
acquire_or_fail(struct atsm_db_pool *pool)
{
	struct atsm_err err = { .msg = "" };
	PGconn *c;

	c = atsm_db_acquire(pool, 5000, &err);
	ck_assert_msg(c != NULL, "acquire: %s", err.msg);
	return c;
}

/* The single value of a one-row, one-column statement ("" for NULL). */
static char *
scalar(PGconn *c, const char *sql, int n, const char *const *v)
{
	struct atsm_err err = { .msg = "" };
	PGresult *r;
	char *s;

	r = atsm_db_exec(c, sql, n, v, &err);
	ck_assert_msg(r != NULL, "%s: %s", sql, err.msg);
	ck_assert_int_eq(err.cls, ATSM_ERR_NONE);
	ck_assert_int_eq(PQntuples(r), 1);
	s = strdup(PQgetvalue(r, 0, 0));
	PQclear(r);
	return s;
}

static void
command_ok(PGconn *c, const char *sql, int n, const char *const *v)
{
	struct atsm_err err = { .msg = "" };

	ck_assert_msg(atsm_db_command(c, sql, n, v, &err) == 0, "%s: %s",
	    sql, err.msg);
	ck_assert_int_eq(err.cls, ATSM_ERR_NONE);
}

/* Connections the server sees with our application_name. */
static long
server_connections(void)
{
	struct atsm_db_params p = params(1, 0);
	struct atsm_err err = { .msg = "" };
	const char *v[1] = { app_name };
	PGconn *c;
	char *s;
	long n;

	p.application_name = "atsm-test-db-observer";
	c = atsm_db_connect(&p, &err);
	ck_assert_msg(c != NULL, "observer connect: %s", err.msg);
	s = scalar(c, "SELECT count(*) FROM pg_stat_activity WHERE application_name = $1",
	    1, v);
	n = atol(s);
	free(s);
	PQfinish(c);
	return n;
}

START_TEST(test_select_round_trip)
{
	struct atsm_db_pool *pool = pool_or_fail(2, 5000);
	const char *v[2] = { "41", "hello" };
	struct atsm_err err = { .msg = "" };
	PGconn *c = acquire_or_fail(pool);
	PGresult *r;

	r = atsm_db_exec(c, "SELECT $1::int + 1, upper($2), current_setting('application_name')",
	    2, v, &err);
	ck_assert_msg(r != NULL, "%s", err.msg);
	ck_assert_int_eq(err.cls, ATSM_ERR_NONE);
	ck_assert_int_eq(PQntuples(r), 1);
	ck_assert_str_eq(PQgetvalue(r, 0, 0), "42");
	ck_assert_str_eq(PQgetvalue(r, 0, 1), "HELLO");
	ck_assert_str_eq(PQgetvalue(r, 0, 2), app_name);
	PQclear(r);
	atsm_db_release(pool, c);
	atsm_db_pool_free(pool);
}
END_TEST

START_TEST(test_params_are_data_verbatim)
{
	static const char *const values[] = {
		"x'); drop table t; --",
		"back\\slash \\' \\\\ end\\",
		"semi;colon; SELECT 1;",
		"日本語の件名：面接日程のご連絡",
		"\"double\" 'single' `back` $1 $$dollar$$ %s",
		"",
		"tab\there\nnewline",
	};
	struct atsm_db_pool *pool = pool_or_fail(1, 5000);
	PGconn *c = acquire_or_fail(pool);
	struct atsm_err err = { .msg = "" };
	const char *v[2];
	char idx[16];
	PGresult *r;
	unsigned i, n = sizeof(values) / sizeof(values[0]);

	command_ok(c, "CREATE TEMP TABLE t (k int PRIMARY KEY, v text NOT NULL)", 0, NULL);
	for (i = 0; i < n; i++) {
		snprintf(idx, sizeof(idx), "%u", i);
		v[0] = idx;
		v[1] = values[i];
		command_ok(c, "INSERT INTO t (k, v) VALUES ($1, $2)", 2, v);
	}
	r = atsm_db_exec(c, "SELECT v, octet_length(v) FROM t ORDER BY k", 0, NULL, &err);
	ck_assert_msg(r != NULL, "%s", err.msg);
	ck_assert_int_eq(PQntuples(r), (int)n);
	for (i = 0; i < n; i++) {
		ck_assert_str_eq(PQgetvalue(r, (int)i, 0), values[i]);
		ck_assert_int_eq(atoi(PQgetvalue(r, (int)i, 1)), (int)strlen(values[i]));
	}
	PQclear(r);
	/* The would-be injection did not drop anything. */
	r = atsm_db_exec(c, "SELECT count(*) FROM t WHERE v = $1", 1, values, &err);
	ck_assert_msg(r != NULL, "%s", err.msg);
	ck_assert_str_eq(PQgetvalue(r, 0, 0), "1");
	PQclear(r);
	atsm_db_release(pool, c);
	atsm_db_pool_free(pool);
}
END_TEST

START_TEST(test_null_parameters)
{
	struct atsm_db_pool *pool = pool_or_fail(1, 5000);
	PGconn *c = acquire_or_fail(pool);
	const char *v[2] = { NULL, "" };
	struct atsm_err err = { .msg = "" };
	PGresult *r;

	r = atsm_db_exec(c, "SELECT $1::text, $1::text IS NULL, $2::text IS NULL, "
	    "coalesce($1::text, 'was null')", 2, v, &err);
	ck_assert_msg(r != NULL, "%s", err.msg);
	ck_assert(PQgetisnull(r, 0, 0));
	ck_assert_str_eq(PQgetvalue(r, 0, 1), "t");
	ck_assert_str_eq(PQgetvalue(r, 0, 2), "f");
	ck_assert_str_eq(PQgetvalue(r, 0, 3), "was null");
	PQclear(r);
	atsm_db_release(pool, c);
	atsm_db_pool_free(pool);
}
END_TEST

START_TEST(test_sql_error_is_refused_with_sqlstate)
{
	struct atsm_db_pool *pool = pool_or_fail(1, 5000);
	PGconn *c = acquire_or_fail(pool);
	struct atsm_err err = { .msg = "" };
	char *s;

	ck_assert_ptr_null(atsm_db_exec(c, "SELECT * FROM no_such_table_here", 0, NULL,
	    &err));
	ck_assert_int_eq(err.cls, ATSM_ERR_REFUSED);
	ck_assert_str_eq(err.sqlstate, "42P01");
	ck_assert_msg(strstr(err.msg, "no_such_table_here") != NULL, "%s", err.msg);
	ck_assert_msg(strstr(err.msg, "does not exist") != NULL, "%s", err.msg);

	atsm_err_clear(&err);
	ck_assert_int_eq(atsm_db_command(c, "SELECT 1/0", 0, NULL, &err), -1);
	ck_assert_int_eq(err.cls, ATSM_ERR_REFUSED);
	ck_assert_str_eq(err.sqlstate, "22012");

	/* The connection stays usable. */
	s = scalar(c, "SELECT 'still here'", 0, NULL);
	ck_assert_str_eq(s, "still here");
	free(s);
	atsm_db_release(pool, c);
	atsm_db_pool_free(pool);
}
END_TEST

/* The class and SQLSTATE are carried in the err itself, not in its text:
 * a message that says nothing of either still gives both. */
START_TEST(test_unique_violation_is_refused_23505)
{
	struct atsm_db_pool *pool = pool_or_fail(1, 5000);
	PGconn *c = acquire_or_fail(pool);
	struct atsm_err err;
	const char *v[1] = { "7" };

	command_ok(c, "CREATE TEMP TABLE u (k int PRIMARY KEY)", 0, NULL);
	command_ok(c, "INSERT INTO u VALUES ($1::int)", 1, v);
	atsm_err_clear(&err);
	ck_assert_int_eq(atsm_db_command(c, "INSERT INTO u VALUES ($1::int)", 1, v, &err), -1);
	ck_assert_int_eq(err.cls, ATSM_ERR_REFUSED);
	ck_assert_str_eq(err.sqlstate, "23505");
	ck_assert_msg(strstr(err.msg, "INSERT INTO u") != NULL, "%s", err.msg);
	/* the same through a prepared statement (the path of every mail) */
	atsm_err_clear(&err);
	ck_assert_ptr_null(atsm_db_exec_prepared(c, "INSERT INTO u VALUES ($1::int)", 1, v, &err));
	ck_assert_int_eq(err.cls, ATSM_ERR_REFUSED);
	ck_assert_str_eq(err.sqlstate, "23505");
	/* prefixing keeps both */
	atsm_err_prefix(&err, "recording key %s", "k1");
	ck_assert_int_eq(err.cls, ATSM_ERR_REFUSED);
	ck_assert_str_eq(err.sqlstate, "23505");
	ck_assert_msg(strncmp(err.msg, "recording key k1: ", 18) == 0, "%s", err.msg);
	atsm_db_release(pool, c);
	atsm_db_pool_free(pool);
}
END_TEST

START_TEST(test_syntax_error_is_refused_42601)
{
	struct atsm_db_pool *pool = pool_or_fail(1, 5000);
	PGconn *c = acquire_or_fail(pool);
	struct atsm_err err;
	char *s;

	atsm_err_clear(&err);
	ck_assert_ptr_null(atsm_db_exec(c, "SELEC 1", 0, NULL, &err));
	ck_assert_int_eq(err.cls, ATSM_ERR_REFUSED);
	ck_assert_str_eq(err.sqlstate, "42601");
	atsm_err_clear(&err);
	ck_assert_ptr_null(atsm_db_exec_prepared(c, "SELECT FROM WHERE", 0, NULL, &err));
	ck_assert_int_eq(err.cls, ATSM_ERR_REFUSED);
	ck_assert_str_eq(err.sqlstate, "42601");
	/* the connection stays usable */
	s = scalar(c, "SELECT 'fine'", 0, NULL);
	ck_assert_str_eq(s, "fine");
	free(s);
	atsm_db_release(pool, c);
	atsm_db_pool_free(pool);
}
END_TEST

START_TEST(test_statement_timeout_is_unavailable)
{
	struct atsm_db_pool *pool = pool_or_fail(1, 200);
	PGconn *c = acquire_or_fail(pool);
	struct atsm_err err = { .msg = "" };
	double t0, dt;
	char *s;

	s = scalar(c, "SHOW statement_timeout", 0, NULL);
	ck_assert_str_eq(s, "200ms");
	free(s);
	s = scalar(c, "SHOW idle_in_transaction_session_timeout", 0, NULL);
	ck_assert_msg(strcmp(s, "0") != 0, "idle_in_transaction_session_timeout not set");
	free(s);

	t0 = now_s();
	ck_assert_ptr_null(atsm_db_exec(c, "SELECT pg_sleep(5)", 0, NULL, &err));
	dt = now_s() - t0;
	ck_assert_int_eq(err.cls, ATSM_ERR_UNAVAILABLE);
	ck_assert_str_eq(err.sqlstate, "57014");
	ck_assert_msg(dt < 3.0, "timed out only after %.2f s", dt);
	/* prepared, the same */
	atsm_err_clear(&err);
	ck_assert_ptr_null(atsm_db_exec_prepared(c, "SELECT pg_sleep(5)", 0, NULL, &err));
	ck_assert_int_eq(err.cls, ATSM_ERR_UNAVAILABLE);
	ck_assert_str_eq(err.sqlstate, "57014");
	s = scalar(c, "SELECT 'usable'", 0, NULL);
	ck_assert_str_eq(s, "usable");
	free(s);
	atsm_db_release(pool, c);
	atsm_db_pool_free(pool);
}
END_TEST

struct worker {
	struct atsm_db_pool *pool;
	int id;
	int ok;
	long max_seen;
	char err[ATSM_ERR_MAX + 32];
};

#define POOL_THREADS 16
#define POOL_QUERIES 50
#define POOL_SIZE 4

static void *
worker_run(void *arg)
{
	struct worker *w = arg;
	struct atsm_err err = { .msg = "" };
	char num[32], want[32];
	const char *v[2];
	PGresult *r;
	PGconn *c;
	long seen;
	int i;

	for (i = 0; i < POOL_QUERIES; i++) {
		c = atsm_db_acquire(w->pool, 30000, &err);
		if (c == NULL) {
			snprintf(w->err, sizeof(w->err), "acquire: %s", err.msg);
			return NULL;
		}
		snprintf(num, sizeof(num), "%d", w->id * 1000 + i);
		snprintf(want, sizeof(want), "%d", 2 * (w->id * 1000 + i));
		v[0] = num;
		v[1] = app_name;
		r = atsm_db_exec(c, "SELECT $1::int * 2, (SELECT count(*) FROM "
		    "pg_stat_activity WHERE application_name = $2)", 2, v, &err);
		if (r == NULL || strcmp(PQgetvalue(r, 0, 0), want) != 0) {
			snprintf(w->err, sizeof(w->err), "query %d: %s", i,
			    r == NULL ? err.msg : "wrong value");
			PQclear(r);
			atsm_db_release(w->pool, c);
			return NULL;
		}
		seen = atol(PQgetvalue(r, 0, 1));
		if (seen > w->max_seen)
			w->max_seen = seen;
		PQclear(r);
		atsm_db_release(w->pool, c);
		w->ok++;
	}
	return NULL;
}

START_TEST(test_pool_threads_share_few_connections)
{
	struct atsm_db_pool *pool = pool_or_fail(POOL_SIZE, 5000);
	struct worker w[POOL_THREADS];
	pthread_t th[POOL_THREADS];
	struct atsm_db_pool_stats stats;
	long max_seen = 0, open_now;
	int i, total = 0;

	memset(w, 0, sizeof(w));
	for (i = 0; i < POOL_THREADS; i++) {
		w[i].pool = pool;
		w[i].id = i;
		ck_assert_int_eq(pthread_create(&th[i], NULL, worker_run, &w[i]), 0);
	}
	for (i = 0; i < POOL_THREADS; i++) {
		pthread_join(th[i], NULL);
		ck_assert_msg(w[i].err[0] == '\0', "thread %d: %s", i, w[i].err);
		total += w[i].ok;
		if (w[i].max_seen > max_seen)
			max_seen = w[i].max_seen;
	}
	ck_assert_int_eq(total, POOL_THREADS * POOL_QUERIES);
	ck_assert_msg(max_seen >= 1 && max_seen <= POOL_SIZE,
	    "server saw %ld connections of the pool", max_seen);
	open_now = server_connections();
	ck_assert_msg(open_now >= 1 && open_now <= POOL_SIZE, "%ld open", open_now);

	atsm_db_pool_stats(pool, &stats);
	ck_assert_uint_eq(stats.size, POOL_SIZE);
	ck_assert_uint_eq(stats.busy, 0);
	ck_assert_uint_le(stats.open, POOL_SIZE);
	ck_assert_uint_le(stats.connects, POOL_SIZE);
	ck_assert_uint_eq(stats.acquired, POOL_THREADS * POOL_QUERIES);
	ck_assert_uint_eq(stats.connect_failures, 0);
	atsm_db_pool_free(pool);
	/* Backends leave pg_stat_activity shortly after the Terminate message. */
	for (i = 0; i < 40 && (open_now = server_connections()) != 0; i++)
		usleep(50 * 1000);
	ck_assert_int_eq(open_now, 0);
}
END_TEST

START_TEST(test_acquire_times_out_when_all_taken)
{
	struct atsm_db_pool *pool = pool_or_fail(2, 5000);
	PGconn *a = acquire_or_fail(pool), *b = acquire_or_fail(pool), *c;
	struct atsm_db_pool_stats stats;
	struct atsm_err err = { .msg = "" };
	double t0, dt;

	ck_assert_ptr_ne(a, b);
	t0 = now_s();
	c = atsm_db_acquire(pool, 300, &err);
	dt = now_s() - t0;
	ck_assert_ptr_null(c);
	ck_assert_msg(dt >= 0.25 && dt < 3.0, "waited %.3f s for 300 ms", dt);
	ck_assert_str_eq(err.msg, "no database connection free within 300 ms (pool of 2)");
	ck_assert_int_eq(err.cls, ATSM_ERR_UNAVAILABLE);
	ck_assert_str_eq(err.sqlstate, "");

	/* wait_ms 0 means "only if one is free now". */
	t0 = now_s();
	ck_assert_ptr_null(atsm_db_acquire(pool, 0, &err));
	ck_assert_msg(now_s() - t0 < 0.2, "wait 0 blocked");
	atsm_db_pool_stats(pool, &stats);
	ck_assert_uint_eq(stats.timeouts, 2);
	ck_assert_uint_eq(stats.busy, 2);

	atsm_db_release(pool, b);
	c = atsm_db_acquire(pool, 0, &err);
	ck_assert_msg(c == b, "released connection not handed out again: %s", err.msg);
	atsm_db_release(pool, a);
	atsm_db_release(pool, c);
	atsm_db_pool_free(pool);
}
END_TEST

struct holder {
	struct atsm_db_pool *pool;
	PGconn *conn;
};

static void *
release_later(void *arg)
{
	struct holder *h = arg;

	usleep(300 * 1000);
	atsm_db_release(h->pool, h->conn);
	return NULL;
}

START_TEST(test_waiting_thread_gets_released_connection)
{
	struct atsm_db_pool *pool = pool_or_fail(1, 5000);
	struct holder h = { pool, NULL };
	struct atsm_err err = { .msg = "" };
	pthread_t th;
	PGconn *c;
	double t0, dt;

	h.conn = acquire_or_fail(pool);
	t0 = now_s();
	ck_assert_int_eq(pthread_create(&th, NULL, release_later, &h), 0);
	c = atsm_db_acquire(pool, 10000, &err);
	dt = now_s() - t0;
	pthread_join(th, NULL);
	ck_assert_msg(c != NULL, "%s", err.msg);
	ck_assert_ptr_eq(c, h.conn);
	ck_assert_msg(dt >= 0.2 && dt < 5.0, "got it after %.3f s", dt);
	atsm_db_release(pool, c);
	atsm_db_pool_free(pool);
}
END_TEST

START_TEST(test_transactions)
{
	struct atsm_db_pool *pool = pool_or_fail(1, 5000);
	PGconn *c = acquire_or_fail(pool);
	struct atsm_err err = { .msg = "" };
	const char *v[1];
	char *s;

	command_ok(c, "CREATE TEMP TABLE tx (v text)", 0, NULL);

	ck_assert_int_eq(atsm_db_begin(c, &err), 0);
	ck_assert_int_eq(PQtransactionStatus(c), PQTRANS_INTRANS);
	v[0] = "rolled back";
	command_ok(c, "INSERT INTO tx VALUES ($1)", 1, v);
	atsm_db_rollback(c);
	ck_assert_int_eq(PQtransactionStatus(c), PQTRANS_IDLE);
	s = scalar(c, "SELECT count(*) FROM tx", 0, NULL);
	ck_assert_str_eq(s, "0");
	free(s);

	ck_assert_int_eq(atsm_db_begin(c, &err), 0);
	v[0] = "committed";
	command_ok(c, "INSERT INTO tx VALUES ($1)", 1, v);
	ck_assert_msg(atsm_db_commit(c, &err) == 0, "%s", err.msg);
	s = scalar(c, "SELECT string_agg(v, ',') FROM tx", 0, NULL);
	ck_assert_str_eq(s, "committed");
	free(s);

	/* A failed statement dooms the transaction: COMMIT must say so. */
	ck_assert_int_eq(atsm_db_begin(c, &err), 0);
	v[0] = "lost";
	command_ok(c, "INSERT INTO tx VALUES ($1)", 1, v);
	ck_assert_int_eq(atsm_db_command(c, "SELECT 1/0", 0, NULL, &err), -1);
	ck_assert_int_eq(PQtransactionStatus(c), PQTRANS_INERROR);
	ck_assert_int_eq(atsm_db_commit(c, &err), -1);
	ck_assert_int_eq(err.cls, ATSM_ERR_REFUSED);
	ck_assert_str_eq(err.sqlstate, "");
	ck_assert_msg(strstr(err.msg, "rolled back") != NULL, "%s", err.msg);
	s = scalar(c, "SELECT count(*) FROM tx", 0, NULL);
	ck_assert_str_eq(s, "1");
	free(s);
	atsm_db_release(pool, c);
	atsm_db_pool_free(pool);
}
END_TEST

START_TEST(test_release_rolls_back_open_transaction)
{
	struct atsm_db_pool *pool = pool_or_fail(1, 5000);
	PGconn *c = acquire_or_fail(pool), *again;
	struct atsm_err err = { .msg = "" };
	char *s;

	command_ok(c, "CREATE TEMP TABLE half (v int)", 0, NULL);
	ck_assert_int_eq(atsm_db_begin(c, &err), 0);
	command_ok(c, "INSERT INTO half VALUES (1)", 0, NULL);
	atsm_db_release(pool, c);           /* forgot to commit */

	again = acquire_or_fail(pool);
	ck_assert_ptr_eq(again, c);         /* same session: the temp table is there */
	ck_assert_int_eq(PQtransactionStatus(again), PQTRANS_IDLE);
	s = scalar(again, "SELECT count(*) FROM half", 0, NULL);
	ck_assert_str_eq(s, "0");
	free(s);
	atsm_db_release(pool, again);
	atsm_db_pool_free(pool);
}
END_TEST

START_TEST(test_lost_connection_reconnects_on_acquire)
{
	struct atsm_db_pool *pool = pool_or_fail(1, 5000);
	PGconn *c = acquire_or_fail(pool), *observer;
	struct atsm_db_params p = params(1, 0);
	struct atsm_err err = { .msg = "" };
	const char *v[1];
	char *pid, *pid2, *s;

	pid = scalar(c, "SELECT pg_backend_pid()", 0, NULL);
	p.application_name = "atsm-test-db-killer";
	observer = atsm_db_connect(&p, &err);
	ck_assert_msg(observer != NULL, "%s", err.msg);
	v[0] = pid;
	s = scalar(observer, "SELECT pg_terminate_backend($1::int)", 1, v);
	ck_assert_str_eq(s, "t");
	free(s);
	PQfinish(observer);
	usleep(200 * 1000);

	/* The statement on the dead session fails, and is not retried. */
	ck_assert_ptr_null(atsm_db_exec(c, "SELECT 1", 0, NULL, &err));
	ck_assert_int_eq(err.cls, ATSM_ERR_UNAVAILABLE);
	atsm_db_release(pool, c);

	c = acquire_or_fail(pool);
	pid2 = scalar(c, "SELECT pg_backend_pid()", 0, NULL);
	ck_assert_str_ne(pid, pid2);
	free(pid);
	free(pid2);
	atsm_db_release(pool, c);
	atsm_db_pool_free(pool);
}
END_TEST

START_TEST(test_closed_port_is_unavailable_and_named)
{
	struct atsm_db_params p = params(2, 5000);
	struct atsm_db_pool_stats stats;
	struct atsm_err err = { .msg = "" };
	struct atsm_db_pool *pool;
	double t0;

	p.conninfo = "host=127.0.0.1 port=1 dbname=atsmail user=atsm password=" SECRET_PW;
	t0 = now_s();
	ck_assert_ptr_null(atsm_db_connect(&p, &err));
	ck_assert_int_eq(err.cls, ATSM_ERR_UNAVAILABLE);
	ck_assert_str_eq(err.sqlstate, "");
	ck_assert_msg(strstr(err.msg, "127.0.0.1") != NULL, "%s", err.msg);
	ck_assert_msg(strstr(err.msg, "port=1 ") != NULL, "%s", err.msg);
	ck_assert_msg(strstr(err.msg, SECRET_PW) == NULL, "%s", err.msg);

	pool = atsm_db_pool_new(&p, &err);
	ck_assert_msg(pool != NULL, "%s", err.msg);
	atsm_err_clear(&err);
	ck_assert_ptr_null(atsm_db_acquire(pool, 1000, &err));
	ck_assert_int_eq(err.cls, ATSM_ERR_UNAVAILABLE);
	ck_assert_str_eq(err.sqlstate, "");
	ck_assert_msg(strstr(err.msg, "cannot connect") != NULL, "%s", err.msg);
	ck_assert_msg(strstr(err.msg, "127.0.0.1") != NULL, "%s", err.msg);
	ck_assert_msg(strstr(err.msg, SECRET_PW) == NULL, "%s", err.msg);
	ck_assert_msg(now_s() - t0 < 5.0, "refused connections took %.1f s", now_s() - t0);
	atsm_db_pool_stats(pool, &stats);
	ck_assert_uint_eq(stats.connect_failures, 1);
	ck_assert_uint_eq(stats.busy, 0);   /* the failed slot was given back */
	ck_assert_uint_eq(stats.open, 0);
	atsm_db_pool_free(pool);
}
END_TEST

START_TEST(test_password_never_in_err)
{
	struct atsm_db_params p = params(1, 5000);
	struct atsm_err err = { .msg = "" };
	struct atsm_db_pool *pool;
	char conninfo[1024];
	PGconn *c;

	/* A malformed conninfo: libpq's complaint would quote the password. */
	p.conninfo = "host=127.0.0.1 password " SECRET_PW " port";
	ck_assert_ptr_null(atsm_db_pool_new(&p, &err));
	ck_assert_msg(strstr(err.msg, "conninfo") != NULL, "%s", err.msg);
	ck_assert_msg(strstr(err.msg, SECRET_PW) == NULL, "%s", err.msg);

	/* A URI with user:password@. */
	p.conninfo = "postgresql://atsm:" SECRET_PW "@127.0.0.1:1/atsmail";
	ck_assert_ptr_null(atsm_db_connect(&p, &err));
	ck_assert_msg(err.msg[0] != '\0', "no message");
	ck_assert_msg(strstr(err.msg, SECRET_PW) == NULL, "%s", err.msg);

	/* A server message that happens to echo it (trust auth ignores it). */
	snprintf(conninfo, sizeof(conninfo), "%s password=%s", pg_conninfo, SECRET_PW);
	p.conninfo = conninfo;
	pool = atsm_db_pool_new(&p, &err);
	ck_assert_msg(pool != NULL, "%s", err.msg);
	c = acquire_or_fail(pool);
	ck_assert_ptr_null(atsm_db_exec(c, "SELECT * FROM \"" SECRET_PW "\"", 0, NULL,
	    &err));
	ck_assert_int_eq(err.cls, ATSM_ERR_REFUSED);
	ck_assert_str_eq(err.sqlstate, "42P01");
	ck_assert_msg(strstr(err.msg, "42P01") != NULL, "%s", err.msg);
	ck_assert_msg(strstr(err.msg, SECRET_PW) == NULL, "%s", err.msg);
	ck_assert_msg(strstr(err.msg, "***") != NULL, "%s", err.msg);
	atsm_db_release(pool, c);
	atsm_db_pool_free(pool);
}
END_TEST

START_TEST(test_settings_keep_user_options)
{
	struct atsm_db_params p = params(1, 1500);
	struct atsm_err err = { .msg = "" };
	char conninfo[1024];
	PGconn *c;
	char *s;

	snprintf(conninfo, sizeof(conninfo), "%s options='-c search_path=atsm_x,public'",
	    pg_conninfo);
	p.conninfo = conninfo;
	c = atsm_db_connect(&p, &err);
	ck_assert_msg(c != NULL, "%s", err.msg);
	s = scalar(c, "SHOW search_path", 0, NULL);
	ck_assert_str_eq(s, "atsm_x,public");
	free(s);
	s = scalar(c, "SHOW statement_timeout", 0, NULL);
	ck_assert_str_eq(s, "1500ms");
	free(s);
	s = scalar(c, "SHOW idle_in_transaction_session_timeout", 0, NULL);
	ck_assert_str_eq(s, "3s");
	free(s);
	s = scalar(c, "SHOW application_name", 0, NULL);
	ck_assert_str_eq(s, app_name);
	free(s);
	PQfinish(c);
}
END_TEST

START_TEST(test_bad_arguments_refused)
{
	struct atsm_db_params p = params(0, 5000);
	struct atsm_err err = { .msg = "" };

	ck_assert_ptr_null(atsm_db_pool_new(&p, &err));
	ck_assert_msg(strstr(err.msg, "pool size 0") != NULL, "%s", err.msg);
	ck_assert_int_eq(err.cls, ATSM_ERR_INPUT);
	p.pool_size = 1;
	p.conninfo = NULL;
	ck_assert_ptr_null(atsm_db_pool_new(&p, &err));
	ck_assert_msg(strstr(err.msg, "conninfo") != NULL, "%s", err.msg);
	ck_assert_ptr_null(atsm_db_exec(NULL, "SELECT 1", 0, NULL, &err));
	ck_assert_int_eq(err.cls, ATSM_ERR_UNAVAILABLE);
	ck_assert_ptr_null(atsm_db_exec(NULL, "SELECT 1", -1, NULL, &err));
	ck_assert_int_eq(err.cls, ATSM_ERR_INTERNAL);
	ck_assert_str_eq(err.sqlstate, "");
	ck_assert_ptr_null(atsm_db_acquire(NULL, 0, &err));
	ck_assert_int_eq(err.cls, ATSM_ERR_INTERNAL);
}
END_TEST

START_TEST(test_sqlstate_classes)
{
	static const char *const unavailable[] = {
		"57014", "57P01", "57P02", "57P03", "08006", "08001", "25P03", "53300"
	};
	static const char *const errors[] = {
		"42P01", "23505", "22012", "40001", "40P01", "42501", "57000", "0A000"
	};
	unsigned i;

	for (i = 0; i < sizeof(unavailable) / sizeof(unavailable[0]); i++)
		ck_assert_msg(atsm_db_sqlstate_unavailable(unavailable[i]), "%s", unavailable[i]);
	for (i = 0; i < sizeof(errors) / sizeof(errors[0]); i++)
		ck_assert_msg(!atsm_db_sqlstate_unavailable(errors[i]), "%s", errors[i]);
	ck_assert(!atsm_db_sqlstate_unavailable(NULL));
}
END_TEST

static int
run(const char *what, const char *env)
{
	const char *cmd = getenv(env);
	int rc;

	ck_assert_msg(cmd != NULL && *cmd != '\0', "%s is not set", env);
	rc = system(cmd);
	ck_assert_msg(rc == 0, "%s (%s) failed: %d", what, cmd, rc);
	return rc;
}

/* Last: it stops the server. */
START_TEST(test_server_restart_reconnects_same_pool)
{
	struct atsm_db_pool *pool = pool_or_fail(2, 5000);
	PGconn *held = acquire_or_fail(pool), *idle = acquire_or_fail(pool), *c;
	struct atsm_err err = { .msg = "" };
	double t0, dt;
	char *s;

	s = scalar(idle, "SELECT 1", 0, NULL);
	free(s);
	atsm_db_release(pool, idle);        /* one idle in the pool, one held */

	run("stopping the server", "ATSM_TEST_PG_STOP");
	t0 = now_s();
	ck_assert_ptr_null(atsm_db_exec(held, "SELECT 1", 0, NULL, &err));
	ck_assert_int_eq(err.cls, ATSM_ERR_UNAVAILABLE);
	/* none, or the shutdown's own (57P01 admin_shutdown) */
	ck_assert_msg(err.sqlstate[0] == '\0' || atsm_db_sqlstate_unavailable(err.sqlstate),
	    "sqlstate %s: %s", err.sqlstate, err.msg);
	atsm_db_release(pool, held);
	atsm_err_clear(&err);
	c = atsm_db_acquire(pool, 1000, &err);
	dt = now_s() - t0;
	ck_assert_msg(c == NULL, "acquire handed out a connection to a stopped server");
	ck_assert_int_eq(err.cls, ATSM_ERR_UNAVAILABLE);
	ck_assert_str_eq(err.sqlstate, "");
	ck_assert_msg(strstr(err.msg, "cannot connect") != NULL, "%s", err.msg);
	ck_assert_msg(dt < 2.0 + 3.0, "failing took %.1f s", dt);   /* connect_timeout + slack */

	run("starting the server", "ATSM_TEST_PG_START");
	c = atsm_db_acquire(pool, 1000, &err);
	ck_assert_msg(c != NULL, "no reconnect after restart: %s", err.msg);
	s = scalar(c, "SELECT 'back'", 0, NULL);
	ck_assert_str_eq(s, "back");
	free(s);
	atsm_db_release(pool, c);
	atsm_db_pool_free(pool);
}
END_TEST

static Suite *
suite(void)
{
	Suite *s = suite_create("db");
	TCase *tc = tcase_create("server");

	pg_conninfo = getenv("ATSM_TEST_PG");
	if (pg_conninfo == NULL || *pg_conninfo == '\0') {
		puts("1..0 # SKIP ATSM_TEST_PG not set");
		exit(0);
	}
	snprintf(app_name, sizeof(app_name), "atsm-test-db-%ld", (long)getpid());
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_select_round_trip);
	tcase_add_test(tc, test_params_are_data_verbatim);
	tcase_add_test(tc, test_null_parameters);
	tcase_add_test(tc, test_sql_error_is_refused_with_sqlstate);
	tcase_add_test(tc, test_unique_violation_is_refused_23505);
	tcase_add_test(tc, test_syntax_error_is_refused_42601);
	tcase_add_test(tc, test_statement_timeout_is_unavailable);
	tcase_add_test(tc, test_pool_threads_share_few_connections);
	tcase_add_test(tc, test_acquire_times_out_when_all_taken);
	tcase_add_test(tc, test_waiting_thread_gets_released_connection);
	tcase_add_test(tc, test_transactions);
	tcase_add_test(tc, test_release_rolls_back_open_transaction);
	tcase_add_test(tc, test_lost_connection_reconnects_on_acquire);
	tcase_add_test(tc, test_closed_port_is_unavailable_and_named);
	tcase_add_test(tc, test_password_never_in_err);
	tcase_add_test(tc, test_settings_keep_user_options);
	tcase_add_test(tc, test_bad_arguments_refused);
	tcase_add_test(tc, test_sqlstate_classes);
	tcase_add_test(tc, test_server_restart_reconnects_same_pool);
	suite_add_tcase(s, tc);
	return s;
}

ATSM_CHECK_MAIN()
