/* outbox.c -- the SQL of atsmail-notifyd over atsmail.outbox (notifyd.h).
 *
 * A claim is one autocommit UPDATE over rows picked with FOR UPDATE SKIP
 * LOCKED: instances that claim at the same moment get disjoint rows, and
 * once the UPDATE commits the rows are 'delivering', leased to one
 * instance (locked_by) until locked_until.  A row whose lease expired (its
 * instance died) is due again.  Every later change is guarded by
 * "locked_by = me AND state = 'delivering'", so an instance that lost its
 * lease cannot overwrite the outcome of the one that took the row over,
 * and recording the same outcome twice (a retry after a lost connection)
 * changes nothing the second time.
 */
#include "notifyd.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/buf.h"
#include "base/log.h"

static const char sql_claim[] =
	"WITH due AS ("
	" SELECT id FROM atsmail.outbox"
	" WHERE (state = 'pending' AND next_attempt_at <= now())"
	"    OR (state = 'delivering' AND locked_until < now())"
	" ORDER BY next_attempt_at, id LIMIT $3::integer"
	" FOR UPDATE SKIP LOCKED)"
	" UPDATE atsmail.outbox o SET state = 'delivering', locked_by = $1,"
	"  locked_until = now() + $2::bigint * interval '1 millisecond'"
	" FROM due WHERE o.id = due.id"
	" RETURNING o.id::text, o.event_type,"
	"  to_char(o.created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"'),"
	"  o.payload::text, o.attempts::text";

static const char sql_delivered[] =
	"UPDATE atsmail.outbox SET state = 'delivered', delivered_at = now(),"
	" attempts = attempts + 1, locked_by = NULL, locked_until = NULL"
	" WHERE id = ANY($1::bigint[]) AND locked_by = $2 AND state = 'delivering'";

static const char sql_failed[] =
	"UPDATE atsmail.outbox SET state = $3, attempts = attempts + 1, last_error = $4,"
	" next_attempt_at = now() + $5::bigint * interval '1 millisecond',"
	" locked_by = NULL, locked_until = NULL"
	" WHERE id = $1::bigint AND locked_by = $2 AND state = 'delivering'";

static const char sql_release[] =
	"UPDATE atsmail.outbox SET state = 'pending', locked_by = NULL, locked_until = NULL"
	" WHERE id = ANY($1::bigint[]) AND locked_by = $2 AND state = 'delivering'";

static const char sql_next_due[] =
	"SELECT greatest(0, ceil(extract(epoch FROM (min(t) - now())) * 1000))::bigint"
	" FROM (SELECT min(next_attempt_at) AS t FROM atsmail.outbox WHERE state = 'pending'"
	"       UNION ALL"
	"       SELECT min(locked_until) FROM atsmail.outbox WHERE state = 'delivering') s";

void
notifyd_events_free(struct notifyd_event *evs, size_t n)
{
	size_t i;

	if (evs == NULL)
		return;
	for (i = 0; i < n; i++) {
		free(evs[i].id);
		free(evs[i].type);
		free(evs[i].created_at);
		free(evs[i].payload);
		free(evs[i].body);
	}
	free(evs);
}

int
notifyd_outbox_claim(PGconn *db, const char *me, unsigned lease_ms, unsigned max,
    struct notifyd_event **evs, size_t *n, struct atsm_err *err)
{
	char lease[24], lim[24];
	const char *params[3] = { me, lease, lim };
	PGresult *res;
	int i, rows;

	*evs = NULL;
	*n = 0;
	snprintf(lease, sizeof(lease), "%u", lease_ms);
	snprintf(lim, sizeof(lim), "%u", max);
	res = atsm_db_exec_prepared(db, sql_claim, 3, params, err);
	if (res == NULL)
		return -1;
	rows = PQntuples(res);
	if (rows == 0) {
		PQclear(res);
		return 0;
	}
	*evs = calloc((size_t)rows, sizeof(**evs));
	if (*evs == NULL) {
		PQclear(res);
		/* the rows stay leased and are taken again after the lease */
		return atsm_err_set(err, "claiming %d outbox rows: out of memory", rows);
	}
	for (i = 0; i < rows; i++) {
		struct notifyd_event *e = &(*evs)[i];

		e->id = strdup(PQgetvalue(res, i, 0));
		e->type = strdup(PQgetvalue(res, i, 1));
		e->created_at = strdup(PQgetvalue(res, i, 2));
		e->payload = strdup(PQgetvalue(res, i, 3));
		e->attempts = (unsigned)strtoul(PQgetvalue(res, i, 4), NULL, 10);
		if (e->id == NULL || e->type == NULL || e->created_at == NULL || e->payload == NULL) {
			notifyd_events_free(*evs, (size_t)rows);
			*evs = NULL;
			PQclear(res);
			return atsm_err_set(err, "claiming %d outbox rows: out of memory", rows);
		}
	}
	PQclear(res);
	*n = (size_t)rows;
	return 0;
}

/* "{1,2,3}" of the ids of the events with this outcome; false when none. */
static bool
id_array(const struct notifyd_event *evs, size_t n, enum notifyd_outcome which,
    struct atsm_buf *out)
{
	size_t i;
	bool any = false;

	atsm_buf_reset(out);
	atsm_buf_putc(out, '{');
	for (i = 0; i < n; i++) {
		if (evs[i].outcome != which)
			continue;
		if (any)
			atsm_buf_putc(out, ',');
		atsm_buf_puts(out, evs[i].id);
		any = true;
	}
	atsm_buf_putc(out, '}');
	return any;
}

static int
record_failed(PGconn *db, const char *me, const struct atsm_conf *conf,
    const struct notifyd_event *e, struct atsm_err *err)
{
	unsigned done = e->attempts + 1;
	bool dead = e->outcome == NOTIFYD_BROKEN ||
	    atsm_webhook_exhausted(done, conf->webhook_max_attempts);
	unsigned long delay = dead ? 0 : atsm_webhook_backoff_ms(done,
	    conf->webhook_retry_base, conf->webhook_retry_max, arc4random());
	char delay_s[24];
	const char *params[5] = { e->id, me, dead ? "dead" : "pending", e->error, delay_s };

	snprintf(delay_s, sizeof(delay_s), "%lu", delay);
	if (atsm_db_command(db, sql_failed, 5, params, err) < 0)
		return -1;
	if (dead)
		atsm_log(LOG_WARNING, "event %s (%s) is dead after %u attempt%s: %s", e->id,
		    e->type, done, done == 1 ? "" : "s", e->error);
	else
		atsm_log(LOG_INFO, "event %s (%s): attempt %u failed, next in %lu ms: %s",
		    e->id, e->type, done, delay, e->error);
	return 0;
}

int
notifyd_outbox_record(PGconn *db, const char *me, const struct atsm_conf *conf,
    struct notifyd_event *evs, size_t n, struct atsm_err *err)
{
	struct atsm_buf ids;
	const char *params[2];
	size_t i;
	int rc = -1;

	/* ids are decimal numbers of at most 19 digits */
	atsm_buf_init(&ids, n * 21 + 16);
	if (atsm_db_begin(db, err) < 0)
		goto out;
	params[1] = me;
	if (id_array(evs, n, NOTIFYD_DELIVERED, &ids)) {
		params[0] = atsm_buf_str(&ids);
		if (atsm_db_command(db, sql_delivered, 2, params, err) < 0)
			goto fail;
	}
	if (id_array(evs, n, NOTIFYD_UNSENT, &ids)) {
		params[0] = atsm_buf_str(&ids);
		if (atsm_db_command(db, sql_release, 2, params, err) < 0)
			goto fail;
	}
	if (ids.overflow) {
		atsm_err_set(err, "recording %zu outbox rows: id list too long", n);
		goto fail;
	}
	for (i = 0; i < n; i++)
		if ((evs[i].outcome == NOTIFYD_FAILED || evs[i].outcome == NOTIFYD_BROKEN) &&
		    record_failed(db, me, conf, &evs[i], err) < 0)
			goto fail;
	if (atsm_db_commit(db, err) < 0)
		goto out;
	rc = 0;
	goto out;
fail:
	atsm_db_rollback(db);
out:
	atsm_buf_free(&ids);
	return rc;
}

long
notifyd_outbox_next_due(PGconn *db, struct atsm_err *err)
{
	PGresult *res = atsm_db_exec_prepared(db, sql_next_due, 0, NULL, err);
	long ms;

	if (res == NULL)
		return -2;
	ms = PQntuples(res) == 1 && !PQgetisnull(res, 0, 0) ?
	    strtol(PQgetvalue(res, 0, 0), NULL, 10) : -1;
	PQclear(res);
	return ms;
}
