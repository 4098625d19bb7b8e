/* pg-fixture.h -- the PostgreSQL fixture of the unit tests that run against
 * a test-bed server (test-inbound, test-outbound).
 *
 * ATSM_TEST_PG is the conninfo (superuser); pgfx_require() skips the whole
 * program without it.  Each test runs in its own process (Check's fork
 * mode): pgfx_open() connects `conn` and sets up `conf` for the seeded
 * domains, pgfx_reset_records() puts the resumes, contacts and processes a
 * test may change back into their seeded state, pgfx_close() releases
 * both.  sql(), num(), numid() and text() run one statement on `conn` and
 * fail the test when it fails; pgfx_victim() is a connection whose server
 * process has been terminated (the "database gone" tests).
 *
 * Included by one .c file per program: the state is static, the helpers
 * static inline.
 */
#ifndef ATSM_PG_FIXTURE_H
#define ATSM_PG_FIXTURE_H

#include "atsm-check.h"
#include "base/conf.h"

#include <libpq-fe.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static PGconn *conn;
static struct atsm_conf conf;
static int serial;      /* makes Message-IDs, keys and tokens unique per test */

/* Exit with a TAP skip when no server is given; script starts one. */
static inline void
pgfx_require(const char *script)
{
	const char *pg = getenv("ATSM_TEST_PG");

	if (pg == NULL || *pg == '\0') {
		printf("1..0 # SKIP ATSM_TEST_PG not set (%s sets it)\n", script);
		exit(0);
	}
}

static inline void
pgfx_open(void)
{
	struct atsm_err err;

	conn = PQconnectdb(getenv("ATSM_TEST_PG"));
	ck_assert_msg(PQstatus(conn) == CONNECTION_OK, "connect: %s", PQerrorMessage(conn));
	ck_assert_msg(atsm_conf_init(&conf, &err) == 0, "%s", err.msg);
	ck_assert(atsm_conf_set(&conf, "ats_domain", "ats.atsmail.test", &err) == 0);
	ck_assert(atsm_conf_set(&conf, "company_domains", "atsmail.test", &err) == 0);
}

static inline void
pgfx_close(void)
{
	atsm_conf_free(&conf);
	PQfinish(conn);
}

static inline void
sql(const char *q)
{
	PGresult *r = PQexec(conn, q);

	ck_assert_msg(PQresultStatus(r) == PGRES_COMMAND_OK || PQresultStatus(r) == PGRES_TUPLES_OK,
	    "%s: %s", q, PQerrorMessage(conn));
	PQclear(r);
}

/* The records of tests/data/seed.sql that tests change. */
static inline void
pgfx_reset_records(void)
{
	sql("UPDATE atsmail.resumes SET phase = 'new' WHERE id BETWEEN 1001 AND 1008");
	sql("UPDATE atsmail.contacts SET phase = 'new' WHERE id IN (2001, 2002)");
	sql("DELETE FROM atsmail.processes WHERE id <> 4001");
	sql("UPDATE atsmail.processes SET phase = 'screening' WHERE id = 4001");
}

/* The one value of a query with at most one text parameter, as a number. */
static inline long long
num(const char *q, const char *param)
{
	const char *v[1] = { param };
	PGresult *r = PQexecParams(conn, q, param ? 1 : 0, NULL, v, NULL, NULL, 0);
	long long n;

	ck_assert_msg(PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) == 1,
	    "%s: %s", q, PQerrorMessage(conn));
	n = strtoll(PQgetvalue(r, 0, 0), NULL, 10);
	PQclear(r);
	return n;
}

static inline long long
numid(const char *q, long long id)
{
	char s[24];

	snprintf(s, sizeof(s), "%lld", id);
	return num(q, s);
}

/* The one value of such a query as text, to free. */
static inline char *
text(const char *q, const char *param)
{
	const char *v[1] = { param };
	PGresult *r = PQexecParams(conn, q, param ? 1 : 0, NULL, v, NULL, NULL, 0);
	char *s;

	ck_assert_msg(PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) == 1,
	    "%s: %s", q, PQerrorMessage(conn));
	s = strdup(PQgetvalue(r, 0, 0));
	PQclear(r);
	return s;
}

/* A connection whose server process has been terminated: its next query
 * fails the way it does when the database goes away.  PQfinish it. */
static inline PGconn *
pgfx_victim(void)
{
	PGconn *victim = PQconnectdb(getenv("ATSM_TEST_PG"));
	char pid[16];

	ck_assert(PQstatus(victim) == CONNECTION_OK);
	snprintf(pid, sizeof(pid), "%d", PQbackendPID(victim));
	(void)num("SELECT count(*) FROM (SELECT pg_terminate_backend($1::int)) t", pid);
	usleep(200000);
	return victim;
}

#endif
