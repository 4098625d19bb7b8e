/* store/db-exec.c -- PostgreSQL statements and transactions, and the
 * classification of every failure (see store/db.h and
 * docs/database-access.md).
 *
 * Only parameterised statements are sent.  Every failure is classified
 * here, once (exec_result()), into the class and SQLSTATE of the caller's
 * struct atsm_err: the server's availability (a lost connection, a
 * SQLSTATE of atsm_db_sqlstate_unavailable()) against a statement the
 * server refused against a caller's bug.  Callers decide by class and
 * never read the text, which names the statement by its first bytes and
 * never the password.  The statements of every mail are prepared once per
 * connection under a name derived from their text.
 */
#include "store/db.h"
#include "store/db-int.h"

#include <stdio.h>
#include <string.h>

#define DB_SQL_QUOTE_MAX 48     /* first bytes of a statement quoted in err */

/* The statement's first bytes, to name it without its parameters. */
static void
quote_sql(char *dst, size_t size, const char *sql)
{
	char line[DB_SQL_QUOTE_MAX + 4];

	atsm_db_one_line(line, DB_SQL_QUOTE_MAX + 1, sql);
	if (strlen(sql) > DB_SQL_QUOTE_MAX)
		strcat(line, "...");
	snprintf(dst, size, "%s", line);
}

/* Failures that say nothing about the statement but about the server's
 * availability: the caller's failure policy (temporary failure, journal)
 * applies, not its handling of bad data. */
bool
atsm_db_sqlstate_unavailable(const char *state)
{
	static const char *const states[] = {
		"57014",        /* query_canceled: statement_timeout */
		"57P01",        /* admin_shutdown */
		"57P02",        /* crash_shutdown */
		"57P03",        /* cannot_connect_now: starting up, shutting down */
		"57P05",        /* idle_session_timeout */
		"25P03",        /* idle_in_transaction_session_timeout */
		"53300",        /* too_many_connections */
		NULL
	};
	int i;

	if (state == NULL)
		return false;
	if (strncmp(state, "08", 2) == 0)       /* connection exception class */
		return true;
	for (i = 0; states[i] != NULL; i++)
		if (strcmp(state, states[i]) == 0)
			return true;
	return false;
}

/* The checks before a statement is sent: 0, or -1 with err. */
static int
exec_check(PGconn *conn, const char *sql, int nparams, const char *const *params,
    char *quoted, size_t qsize, struct atsm_err *err)
{
	if (sql == NULL || nparams < 0 || nparams > ATSM_DB_PARAMS_MAX ||
	    (nparams > 0 && params == NULL))
		return atsm_err_setc(err, ATSM_ERR_INTERNAL, "database: invalid "
		    "statement or parameter count %d", nparams);
	quote_sql(quoted, qsize, sql);
	if (conn == NULL || PQstatus(conn) != CONNECTION_OK)
		return atsm_err_setc(err, ATSM_ERR_UNAVAILABLE, "statement \"%s\": "
		    "no open database connection", quoted);
	return 0;
}

/* The result of a statement sent: res when it succeeded, else NULL with
 * err classified (unavailable, refused, or a caller's bug). */
static PGresult *
exec_result(PGconn *conn, PGresult *res, const char *quoted, struct atsm_err *err)
{
	char line[ATSM_ERR_MAX];
	const char *state, *primary;
	ExecStatusType rs;

	rs = res != NULL ? PQresultStatus(res) : PGRES_FATAL_ERROR;
	if (rs == PGRES_TUPLES_OK || rs == PGRES_COMMAND_OK)
		return res;

	state = res != NULL ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
	primary = res != NULL ? PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY) : NULL;
	if (rs == PGRES_EMPTY_QUERY)
		primary = "empty statement";
	else if (rs != PGRES_FATAL_ERROR && rs != PGRES_NONFATAL_ERROR)
		primary = "unsupported result (COPY or pipeline) from a parameterised statement";
	else if (primary == NULL)
		primary = PQerrorMessage(conn);
	atsm_db_one_line(line, sizeof(line), primary);

	if (PQstatus(conn) != CONNECTION_OK || atsm_db_sqlstate_unavailable(state) ||
	    (res == NULL && rs == PGRES_FATAL_ERROR)) {
		if (state != NULL)
			atsm_err_setc(err, ATSM_ERR_UNAVAILABLE, "statement \"%s\": "
			    "database unavailable: %s (SQLSTATE %s)", quoted, line, state);
		else
			atsm_err_setc(err, ATSM_ERR_UNAVAILABLE, "statement \"%s\": "
			    "database connection lost: %s", quoted, line);
	} else if (rs != PGRES_FATAL_ERROR && rs != PGRES_NONFATAL_ERROR) {
		/* an empty statement or COPY: the caller's mistake */
		atsm_err_setc(err, ATSM_ERR_INTERNAL, "statement \"%s\" failed: %s",
		    quoted, line);
	} else if (state != NULL) {
		atsm_err_setc(err, ATSM_ERR_REFUSED, "statement \"%s\" failed: %s "
		    "(SQLSTATE %s)", quoted, line, state);
	} else {
		atsm_err_setc(err, ATSM_ERR_REFUSED, "statement \"%s\" failed: %s",
		    quoted, line);
	}
	if (err != NULL) {
		atsm_err_set_sqlstate(err, state);
		atsm_db_redact(err->msg, sizeof(err->msg), PQpass(conn));
	}
	PQclear(res);
	return NULL;
}

PGresult *
atsm_db_exec(PGconn *conn, const char *sql, int nparams,
    const char *const *params, struct atsm_err *err)
{
	char quoted[DB_SQL_QUOTE_MAX + 4];

	if (exec_check(conn, sql, nparams, params, quoted, sizeof(quoted), err) < 0)
		return NULL;
	return exec_result(conn, PQexecParams(conn, sql, nparams, NULL, params, NULL, NULL, 0),
	    quoted, err);
}

/* The name a statement is prepared under: a hash of its text and its
 * length, so that callers need no registry of names and two texts share a
 * name only by a 64-bit accident of the same length. */
static void
prepared_name(const char *sql, char *name, size_t size)
{
	unsigned long long h = 1469598103934665603ull;   /* FNV-1a */
	size_t n;

	for (n = 0; sql[n] != '\0'; n++) {
		h ^= (unsigned char)sql[n];
		h *= 1099511628211ull;
	}
	snprintf(name, size, "atsm_%016llx_%zu", h, n);
}

static bool
result_says_unprepared(const PGresult *res)
{
	const char *state;

	if (res == NULL || PQresultStatus(res) != PGRES_FATAL_ERROR)
		return false;
	state = PQresultErrorField(res, PG_DIAG_SQLSTATE);
	return state != NULL && strcmp(state, "26000") == 0;   /* invalid_sql_statement_name */
}

PGresult *
atsm_db_run_prepared(PGconn *conn, const char *sql, int nparams,
    const char *const *params)
{
	char name[48];
	PGresult *res;

	/* inside a transaction a miss would abort it: no preparing there */
	if (PQtransactionStatus(conn) != PQTRANS_IDLE)
		return PQexecParams(conn, sql, nparams, NULL, params, NULL, NULL, 0);
	prepared_name(sql, name, sizeof(name));
	res = PQexecPrepared(conn, name, nparams, params, NULL, NULL, 0);
	if (result_says_unprepared(res)) {
		/* first use on this connection (or since it was reopened) */
		PQclear(res);
		res = PQprepare(conn, name, sql, 0, NULL);
		if (res == NULL || PQresultStatus(res) != PGRES_COMMAND_OK)
			return res;
		PQclear(res);
		res = PQexecPrepared(conn, name, nparams, params, NULL, NULL, 0);
	}
	return res;
}

PGresult *
atsm_db_exec_prepared(PGconn *conn, const char *sql, int nparams,
    const char *const *params, struct atsm_err *err)
{
	char quoted[DB_SQL_QUOTE_MAX + 4];

	if (exec_check(conn, sql, nparams, params, quoted, sizeof(quoted), err) < 0)
		return NULL;
	return exec_result(conn, atsm_db_run_prepared(conn, sql, nparams, params), quoted,
	    err);
}

int
atsm_db_command(PGconn *conn, const char *sql, int nparams,
    const char *const *params, struct atsm_err *err)
{
	PGresult *res;

	res = atsm_db_exec(conn, sql, nparams, params, err);
	if (res == NULL)
		return -1;
	PQclear(res);
	return 0;
}

int
atsm_db_begin(PGconn *conn, struct atsm_err *err)
{
	return atsm_db_command(conn, "BEGIN", 0, NULL, err);
}

int
atsm_db_commit(PGconn *conn, struct atsm_err *err)
{
	PGresult *res;
	int rc = 0;

	res = atsm_db_exec(conn, "COMMIT", 0, NULL, err);
	if (res == NULL)
		return -1;
	/* COMMIT of a transaction in which a statement failed succeeds and
	 * says ROLLBACK: the work is lost, which the caller must hear. */
	if (strcmp(PQcmdStatus(res), "COMMIT") != 0)
		rc = atsm_err_setc(err, ATSM_ERR_REFUSED, "COMMIT: the transaction "
		    "was rolled back because a statement in it had failed");
	PQclear(res);
	return rc;
}

void
atsm_db_rollback(PGconn *conn)
{
	PGTransactionStatusType ts;

	if (conn == NULL || PQstatus(conn) != CONNECTION_OK)
		return;
	ts = PQtransactionStatus(conn);
	if (ts == PQTRANS_INTRANS || ts == PQTRANS_INERROR)
		PQclear(PQexec(conn, "ROLLBACK"));
}
