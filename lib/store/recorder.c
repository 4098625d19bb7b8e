/* store/recorder.c -- journal entries into PostgreSQL in batches, exactly
 * once (see store/recorder.h and docs/journal.md, "The recorder").
 *
 * A batch is sent in libpq's pipeline mode: one Bind/Execute of
 * `SELECT atsmail.record_<kind>($1::jsonb)` per entry and one Sync, so the
 * whole batch costs one round trip and, as the statements between two
 * Syncs form one implicit transaction, one commit: every entry of it is
 * recorded, or none.  When the server refuses one entry, the same entries
 * are sent again with a Sync after each -- one transaction each, still one
 * round trip -- and only the refused ones are REJECTED.  An outage (the
 * connection lost, a timeout, the server shutting down) is never an
 * entry's fault: the batch returns -1 and the entries are read again
 * later; those a lost commit did record come back as duplicates.
 *
 * The libpq calls of a batch are the pipe_* functions below.  The follow
 * loop (recorder-follow.c) connects through store/db.h.
 */
#include "store/recorder.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "base/log.h"
#include "store/db.h"

#define REC_SQL_OUT "SELECT atsmail.record_outbound($1::jsonb)"
#define REC_SQL_IN "SELECT atsmail.record_inbound($1::jsonb)"
/* Silence from the server, while a batch waits for it, that counts as an
 * outage: well above statement_timeout, which ends a slow statement. */
#define REC_IO_TIMEOUT_MS 30000
#define REC_SLEEP_SLICE_MS 100

enum rec_status { REC_OK, REC_ERROR, REC_ABORTED, REC_MISSING };

struct rec_result {
	enum rec_status st;
	bool zero;                  /* the function returned 0: a duplicate */
	char sqlstate[6];
	char msg[ATSM_ERR_MAX];
};

/* ---- pipeline: every libpq call of a batch ------------------------- */

static void
one_line(char *dst, size_t size, const char *src)
{
	size_t i;

	for (i = 0; src != NULL && src[i] != '\0' && i + 1 < size; i++)
		dst[i] = (src[i] == '\n' || src[i] == '\r' || src[i] == '\t') ? ' ' : src[i];
	while (i > 0 && dst[i - 1] == ' ')
		i--;
	dst[i] = '\0';
}

static int
pipe_lost(PGconn *conn, const char *doing, struct atsm_err *err)
{
	char line[ATSM_ERR_MAX];

	one_line(line, sizeof(line), PQerrorMessage(conn));
	return atsm_err_setc(err, ATSM_ERR_UNAVAILABLE, "recorder: database unavailable "
	    "(%s): %s", doing, line[0] != '\0' ? line : "no answer in time");
}

/* Wait until the socket is ready for events; false after a timeout or an
 * error (the connection is then treated as lost). */
static bool
pipe_wait(PGconn *conn, short events, short *revents)
{
	struct pollfd pfd = { .fd = PQsocket(conn), .events = events };
	int r;

	if (pfd.fd < 0)
		return false;
	while ((r = poll(&pfd, 1, REC_IO_TIMEOUT_MS)) == -1 && errno == EINTR)
		;
	*revents = pfd.revents;
	return r > 0;
}

/* Send what libpq holds, reading meanwhile so that a server blocked on
 * writing its results never waits on us while we wait on it. */
static int
pipe_flush(PGconn *conn, struct atsm_err *err)
{
	short rev;
	int r;

	while ((r = PQflush(conn)) == 1) {
		if (!pipe_wait(conn, POLLIN | POLLOUT, &rev))
			return pipe_lost(conn, "sending a batch", err);
		if ((rev & POLLIN) && !PQconsumeInput(conn))
			return pipe_lost(conn, "sending a batch", err);
	}
	return r == 0 ? 0 : pipe_lost(conn, "sending a batch", err);
}

/* The next result; NULL at the end of one statement's results, or when
 * the connection is lost (*lost). */
static PGresult *
pipe_next(PGconn *conn, bool *lost)
{
	short rev;

	while (PQisBusy(conn)) {
		if (!pipe_wait(conn, POLLIN, &rev) || !PQconsumeInput(conn)) {
			*lost = true;
			return NULL;
		}
	}
	if (PQstatus(conn) != CONNECTION_OK)
		*lost = true;
	return PQgetResult(conn);
}

static void
pipe_note(struct rec_result *res, const PGresult *r)
{
	const char *state, *primary;

	switch (PQresultStatus(r)) {
	case PGRES_TUPLES_OK:
		res->st = REC_OK;
		res->zero = PQntuples(r) == 1 && strcmp(PQgetvalue(r, 0, 0), "0") == 0;
		break;
	case PGRES_PIPELINE_ABORTED:
		res->st = REC_ABORTED;
		break;
	default:
		res->st = REC_ERROR;
		state = PQresultErrorField(r, PG_DIAG_SQLSTATE);
		primary = PQresultErrorField(r, PG_DIAG_MESSAGE_PRIMARY);
		snprintf(res->sqlstate, sizeof(res->sqlstate), "%s", state != NULL ? state : "");
		one_line(res->msg, sizeof(res->msg), primary != NULL ? primary :
		    PQresultErrorMessage(r));
		break;
	}
}

/* Read up to the next Sync.  A failed commit shows up here as an error
 * before the Sync: it is every statement's since the last Sync. */
static int
pipe_sync(PGconn *conn, struct rec_result *res, size_t from, size_t to, bool *lost)
{
	PGresult *r;
	size_t i;

	for (;;) {
		if ((r = pipe_next(conn, lost)) == NULL)
			return *lost ? -1 : 0;
		if (PQresultStatus(r) == PGRES_PIPELINE_SYNC) {
			PQclear(r);
			return 0;
		}
		if (PQresultStatus(r) == PGRES_FATAL_ERROR)
			for (i = from; i < to; i++)
				if (res[i].st == REC_OK)
					pipe_note(&res[i], r);
		PQclear(r);
		if (*lost)
			return -1;
	}
}

/* Run the m statements sql[i](param[i]) in one pipeline: one transaction
 * (a Sync at the end) or, with each, one transaction per statement.
 * res[i] says how each went.  0, or -1 with err when the connection was
 * lost (then res means nothing). */
static int
pipe_run(PGconn *conn, const char *const *sql, char *const *param, size_t m, bool each,
    struct rec_result *res, struct atsm_err *err)
{
	bool lost = false, sent = true;
	size_t i;
	PGresult *r;
	int rc = -1;

	if (PQsetnonblocking(conn, 1) != 0 || PQenterPipelineMode(conn) != 1)
		return pipe_lost(conn, "entering pipeline mode", err);
	for (i = 0; sent && i < m; i++) {
		sent = PQsendQueryParams(conn, sql[i], 1, NULL, (const char *const *)&param[i],
		    NULL, NULL, 0) == 1;
		if (sent && each)
			sent = PQpipelineSync(conn) == 1;
	}
	if (!sent || (!each && PQpipelineSync(conn) != 1) || pipe_flush(conn, err) == -1) {
		if (!sent)
			pipe_lost(conn, "queueing a batch", err);
		goto out;
	}
	for (i = 0; i < m; i++) {
		res[i].st = REC_MISSING;
		res[i].zero = false;
		res[i].sqlstate[0] = res[i].msg[0] = '\0';
		if ((r = pipe_next(conn, &lost)) == NULL && lost)
			break;
		if (r != NULL) {
			pipe_note(&res[i], r);
			PQclear(r);
			/* the end of this statement's results */
			while ((r = pipe_next(conn, &lost)) != NULL)
				PQclear(r);
		}
		if (lost)
			break;
		if (each && pipe_sync(conn, res, i, i + 1, &lost) == -1)
			break;
	}
	if (!lost && !each)
		pipe_sync(conn, res, 0, m, &lost);
	if (lost) {
		pipe_lost(conn, "reading the results of a batch", err);
		goto out;
	}
	rc = 0;
out:
	if (PQpipelineStatus(conn) != PQ_PIPELINE_OFF && PQexitPipelineMode(conn) != 1 && rc == 0)
		rc = pipe_lost(conn, "leaving pipeline mode", err);
	PQsetnonblocking(conn, 0);
	return rc;
}

/* An error that says the server is unavailable, not that the entry is bad. */
static bool
res_unavailable(const struct rec_result *res)
{
	return res->st == REC_ERROR && atsm_db_sqlstate_unavailable(res->sqlstate);
}

/* ---- batches ------------------------------------------------------- */

/* The statement that records doc, with its parameter, or NULL with why
 * (malloc'd) when the entry cannot be sent at all. */
static const char *
entry_statement(json_t *doc, char **param, char **why)
{
	const char *kind = json_string_value(json_object_get(doc, "kind"));
	const char *key = json_string_value(json_object_get(doc, "key"));
	json_t *data = json_object_get(doc, "data");
	const char *sql, *pkey;
	char buf[160];

	*param = *why = NULL;
	if (kind != NULL && strcmp(kind, ATSM_RECORDER_KIND_OUT) == 0)
		sql = REC_SQL_OUT;
	else if (kind != NULL && strcmp(kind, ATSM_RECORDER_KIND_IN) == 0)
		sql = REC_SQL_IN;
	else {
		snprintf(buf, sizeof(buf), "unknown kind \"%.64s\": the recorder records "
		    "%s and %s", kind != NULL ? kind : "", ATSM_RECORDER_KIND_OUT,
		    ATSM_RECORDER_KIND_IN);
		*why = strdup(buf);
		return NULL;
	}
	pkey = json_string_value(json_object_get(data, "key"));
	if (!json_is_object(data))
		*why = strdup("its data is not a JSON object");
	else if (key == NULL || pkey == NULL || strcmp(key, pkey) != 0)
		*why = strdup("its payload carries another idempotency key than the entry");
	else if ((*param = json_dumps(data, JSON_COMPACT)) == NULL)
		*why = strdup("its data cannot be encoded (out of memory)");
	if (*why != NULL || *param == NULL) {
		if (*why == NULL)
			*why = strdup("out of memory");
		return NULL;
	}
	return sql;
}

static void
set_why(char **why, size_t i, const char *msg)
{
	if (why != NULL && why[i] == NULL)
		why[i] = strdup(msg);
}

int
atsm_recorder_batch(PGconn *conn, json_t *const *v, size_t n,
    enum atsm_record_outcome *out, char **why, struct atsm_err *err)
{
	const char **sql = NULL;
	char **param = NULL, *bad;
	struct rec_result *res = NULL;
	size_t *idx = NULL, m = 0, i, k;
	bool refused = false;
	int rc = -1;

	for (i = 0; why != NULL && i < n; i++)
		why[i] = NULL;
	if (n == 0)
		return 0;
	if (n > ATSM_RECORDER_BATCH_MAX)
		return atsm_err_setc(err, ATSM_ERR_INPUT, "recorder: a batch of %zu entries "
		    "is more than the limit of %d", n, ATSM_RECORDER_BATCH_MAX);
	if (conn == NULL || PQstatus(conn) != CONNECTION_OK)
		return atsm_err_setc(err, ATSM_ERR_UNAVAILABLE, "recorder: database "
		    "unavailable: no open connection");
	sql = calloc(n, sizeof(*sql));
	param = calloc(n, sizeof(*param));
	res = calloc(n, sizeof(*res));
	idx = calloc(n, sizeof(*idx));
	if (sql == NULL || param == NULL || res == NULL || idx == NULL) {
		atsm_err_setc(err, ATSM_ERR_NOMEM, "recorder: out of memory for a batch "
		    "of %zu entries", n);
		goto out;
	}
	for (i = 0; i < n; i++) {
		out[i] = ATSM_RECORDED;
		if ((sql[m] = entry_statement(v[i], &param[m], &bad)) == NULL) {
			out[i] = ATSM_RECORD_REJECTED;
			set_why(why, i, bad != NULL ? bad : "out of memory");
			free(bad);
			continue;
		}
		idx[m++] = i;
	}
	if (m > 0 && pipe_run(conn, sql, param, m, false, res, err) == -1)
		goto out;
	for (k = 0; k < m; k++) {
		if (res_unavailable(&res[k])) {
			atsm_err_setc(err, ATSM_ERR_UNAVAILABLE, "recorder: database "
			    "unavailable: %s (SQLSTATE %s)", res[k].msg, res[k].sqlstate);
			if (err != NULL)
				memcpy(err->sqlstate, res[k].sqlstate, sizeof(err->sqlstate));
			goto out;
		}
		if (res[k].st != REC_OK)
			refused = true;
	}
	/* one refused entry rolled the batch back: one transaction each */
	if (refused && pipe_run(conn, sql, param, m, true, res, err) == -1)
		goto out;
	for (k = 0; k < m; k++) {
		i = idx[k];
		if (res_unavailable(&res[k]) || res[k].st == REC_MISSING ||
		    res[k].st == REC_ABORTED) {
			atsm_err_setc(err, ATSM_ERR_UNAVAILABLE, "recorder: database "
			    "unavailable while recording entry %zu of the batch: %s", i,
			    res[k].msg[0] != '\0' ? res[k].msg : "no result");
			goto out;
		}
		if (res[k].st == REC_ERROR) {
			out[i] = ATSM_RECORD_REJECTED;
			if (why != NULL) {
				char msg[ATSM_ERR_MAX + 32];

				snprintf(msg, sizeof(msg), "%s (SQLSTATE %s)", res[k].msg,
				    res[k].sqlstate);
				set_why(why, i, msg);
			}
		} else {
			out[i] = res[k].zero ? ATSM_RECORD_DUPLICATE : ATSM_RECORDED;
		}
	}
	rc = 0;
out:
	if (rc == -1)
		for (i = 0; why != NULL && i < n; i++) {
			free(why[i]);
			why[i] = NULL;
		}
	for (k = 0; param != NULL && k < m; k++)
		free(param[k]);
	free(param);
	free(sql);
	free(res);
	free(idx);
	return rc;
}
