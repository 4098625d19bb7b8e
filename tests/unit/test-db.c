/* test-db.c -- tests of the PostgreSQL access layer against a real server:
 * statements, parameters, transactions and the classes of failures
 * (lib/store/db-exec.c).  The tests of connections and the pool
 * (lib/store/db.c) are test-db-pool.c, in the same program; test-db.h
 * holds what both use.
 *
 * ATSM_TEST_PG is the conninfo of a test database (superuser, trust auth);
 * ATSM_TEST_PG_STOP and ATSM_TEST_PG_START are shell commands that stop and
 * start that server (the reconnect test).  tests/e2e/db-pool.sh starts a
 * private server and runs this program; without ATSM_TEST_PG the whole
 * program is skipped.  Each test makes its own pool, with an
 * application_name unique to this process, so that pg_stat_activity can be
 * asked how many connections a pool really opened.
 */
#include "test-db.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

const char *pg_conninfo;
char app_name[64];

double
now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

struct atsm_db_params
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

struct atsm_db_pool *
pool_or_fail(unsigned size, unsigned stmt_ms)
{
	struct atsm_db_params p = params(size, stmt_ms);
	struct atsm_err err = { .msg = "" };
	struct atsm_db_pool *pool;

	pool = atsm_db_pool_new(&p, &err);
	ck_assert_msg(pool != NULL, "pool_new: %s", err.msg);
	return pool;
}

PGconn *
acquire_or_fail(struct atsm_db_pool *pool)
{
	struct atsm_err err = { .msg = "" };
	PGconn *c;

	c = atsm_db_acquire(pool, 5000, &err);
	ck_assert_msg(c != NULL, "acquire: %s", err.msg);
	return c;
}

char *
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

void
command_ok(PGconn *c, const char *sql, int n, const char *const *v)
{
	struct atsm_err err = { .msg = "" };

	ck_assert_msg(atsm_db_command(c, sql, n, v, &err) == 0, "%s: %s",
	    sql, err.msg);
	ck_assert_int_eq(err.cls, ATSM_ERR_NONE);
}

long
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

/* ---- statements ---- */

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

static Suite *
suite(void)
{
	Suite *s = suite_create("db");
	TCase *tc = tcase_create("statements");

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
	tcase_add_test(tc, test_transactions);
	tcase_add_test(tc, test_bad_arguments_refused);
	tcase_add_test(tc, test_sqlstate_classes);
	suite_add_tcase(s, tc);
	/* last: its last test stops and restarts the server */
	suite_add_tcase(s, db_pool_tcase());
	return s;
}

ATSM_CHECK_MAIN()
