/* test-db-pool.c -- tests of the PostgreSQL access layer's connections and
 * pool (lib/store/db.c) against a real server: threads sharing few
 * connections, waiting and timing out, ROLLBACK on release, reconnecting
 * after a lost connection or a server restart, refused connections that
 * name the server and never the password, the user's options kept.  Part
 * of the test-db program (helpers in test-db.h).
 */
#include "test-db.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define SECRET_PW "Sekr1t-pw-9e7f"

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

TCase *
db_pool_tcase(void)
{
	TCase *tc = tcase_create("pool");

	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_pool_threads_share_few_connections);
	tcase_add_test(tc, test_acquire_times_out_when_all_taken);
	tcase_add_test(tc, test_waiting_thread_gets_released_connection);
	tcase_add_test(tc, test_release_rolls_back_open_transaction);
	tcase_add_test(tc, test_lost_connection_reconnects_on_acquire);
	tcase_add_test(tc, test_closed_port_is_unavailable_and_named);
	tcase_add_test(tc, test_password_never_in_err);
	tcase_add_test(tc, test_settings_keep_user_options);
	tcase_add_test(tc, test_server_restart_reconnects_same_pool);
	return tc;
}
