/* store/bulk-db.c -- bulk send jobs in PostgreSQL (see store/bulk-db.h,
 * sql/016-templates-bulk.sql, docs/bulk.md).
 *
 * Lists travel as one array parameter each (unnest), so that a job of
 * thousands of recipients is a few statements, not one per recipient.
 * The runner's hold on a job is a session advisory lock (key BULK_LOCK,
 * the job id): it ends with the session, so the job of a runner that
 * crashed is free to be taken again at once.
 */
#include "atsm-build-config.h"
#include "store/bulk-db.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/buf.h"
#include "bulk/query.h"
#include "store/db.h"
#include "store/sql-array.h"

#define BULK_LOCK "1635021666"          /* 'atsb': the advisory lock's first key */
#define ARRAY_MAX (64u * 1024u * 1024u)

/* A record user $1 may see: shared, its own, or $1 is an admin. */
#define VISIBLE(t) "(" t ".shared OR " t ".owner_id = $1::bigint OR EXISTS (SELECT 1 " \
	"FROM atsmail.users au WHERE au.id = $1::bigint AND au.role = 'admin'))"
#define PRIMARY(kind, t) "(SELECT a.addr_norm FROM atsmail.addresses a WHERE a.owner_kind = '" \
	kind "' AND a.owner_id = " t ".id ORDER BY a.is_primary DESC, a.id LIMIT 1)"

static const char *state_names[] = {
	"pending", "sending", "accepted", "refused", "unmatched", "cancelled"
};

const char *
atsm_bulk_state_name(enum atsm_bulk_state s)
{
	return (unsigned)s < 6 ? state_names[s] : "pending";
}

static enum atsm_bulk_state
state_parse(const char *s)
{
	int i;

	for (i = 0; i < 6; i++)
		if (strcmp(s, state_names[i]) == 0)
			return (enum atsm_bulk_state)i;
	return ATSM_BULK_PENDING;
}

static char *
dup_or_null(const PGresult *r, int row, int col)
{
	return PQgetisnull(r, row, col) ? NULL : strdup(PQgetvalue(r, row, col));
}

static char
kind_char(const char *s)
{
	return s[0] == 'r' ? 'r' : s[0] == 'c' ? 'c' : 0;
}

void
atsm_bulk_rcpts_free(struct atsm_bulk_rcpt *v, size_t n)
{
	size_t i;

	if (v == NULL)
		return;
	for (i = 0; i < n; i++)
		free(v[i].addr);
	free(v);
}

/* Rows (kind, id, addr) into *out. */
static int
take_rcpts(PGresult *r, struct atsm_bulk_rcpt **out, size_t *n, struct atsm_err *err)
{
	int i, rows = PQntuples(r);

	*out = NULL;
	*n = 0;
	if (rows == 0)
		return 0;
	if ((*out = calloc((size_t)rows, sizeof(**out))) == NULL)
		return atsm_err_setc(err, ATSM_ERR_NOMEM, "out of memory");
	for (i = 0; i < rows; i++) {
		(*out)[i].kind = kind_char(PQgetvalue(r, i, 0));
		(*out)[i].id = strtoll(PQgetvalue(r, i, 1), NULL, 10);
		(*out)[i].addr = dup_or_null(r, i, 2);
	}
	*n = (size_t)rows;
	return 0;
}

/* ---- queries and lists ---------------------------------------------------- */

static const char SQL_QUERY[] =
    "WITH opt AS (SELECT $3::text AS phase, nullif($4, '')::bigint AS job,"
    " nullif($5, '')::int AS older,"
    " (nullif($4, '') IS NOT NULL OR ($3 <> '' AND NOT EXISTS (SELECT 1 FROM atsmail.phases"
    "  WHERE kind IN ('resume', 'contact') AND code = $3))) AS by_process,"
    " (SELECT id FROM atsmail.users WHERE login = $6) AS owner)"
    " SELECT k, id, addr FROM ("
    "  SELECT 'r' AS k, r.id, " PRIMARY("resume", "r") " AS addr FROM atsmail.resumes r, opt"
    "  WHERE $2 IN ('', 'resume') AND " VISIBLE("r")
    "  AND ($6 = '' OR r.owner_id = opt.owner)"
    "  AND CASE WHEN opt.by_process THEN EXISTS (SELECT 1 FROM atsmail.processes p"
    "   WHERE p.resume_id = r.id AND (opt.job IS NULL OR p.job_id = opt.job)"
    "   AND (opt.phase = '' OR p.phase = opt.phase)"
    "   AND (opt.older IS NULL OR p.phase_date < current_date - opt.older))"
    "  ELSE (opt.phase = '' OR r.phase = opt.phase)"
    "   AND (opt.older IS NULL OR r.phase_date < current_date - opt.older) END"
    "  UNION ALL"
    "  SELECT 'c', c.id, " PRIMARY("contact", "c") " FROM atsmail.contacts c, opt"
    "  WHERE $2 IN ('', 'contact') AND " VISIBLE("c")
    "  AND ($6 = '' OR c.owner_id = opt.owner)"
    "  AND CASE WHEN opt.job IS NOT NULL THEN $2 = 'contact' AND c.company_id ="
    "   (SELECT company_id FROM atsmail.jobs WHERE id = opt.job)"
    "   AND (opt.phase = '' OR c.phase = opt.phase)"
    "   AND (opt.older IS NULL OR c.phase_date < current_date - opt.older)"
    "  WHEN opt.by_process THEN false"
    "  ELSE (opt.phase = '' OR c.phase = opt.phase)"
    "   AND (opt.older IS NULL OR c.phase_date < current_date - opt.older) END"
    " ) q ORDER BY k DESC, id LIMIT $7::bigint";

static const char SQL_QUERY_NAMES[] =
    "SELECT $1 = '' OR EXISTS (SELECT 1 FROM atsmail.phases WHERE code = $1),"
    " $2 = '' OR EXISTS (SELECT 1 FROM atsmail.jobs WHERE id = nullif($2, '')::bigint),"
    " $3 = '' OR EXISTS (SELECT 1 FROM atsmail.users WHERE login = $3)";

int
atsm_bulk_db_query(PGconn *c, const char *query, long long user_id, size_t max,
    struct atsm_bulk_rcpt **out, size_t *n, struct atsm_err *err)
{
	struct atsm_bulk_query q;
	char uid[24], job[24] = "", older[16] = "", lim[24];
	const char *kind, *p[7];
	PGresult *r;
	int rc;

	*out = NULL;
	*n = 0;
	if (atsm_bulk_query_parse(query, &q, err) < 0)
		return -1;
	if (q.job > 0)
		snprintf(job, sizeof(job), "%lld", q.job);
	if (q.older_days >= 0)
		snprintf(older, sizeof(older), "%d", q.older_days);
	p[0] = q.phase;
	p[1] = job;
	p[2] = q.owner;
	if ((r = atsm_db_exec(c, SQL_QUERY_NAMES, 3, p, err)) == NULL)
		return -1;
	rc = 0;
	if (strcmp(PQgetvalue(r, 0, 0), "t") != 0)
		rc = atsm_err_set(err, "query term 'phase=%s': no such phase", q.phase);
	else if (strcmp(PQgetvalue(r, 0, 1), "t") != 0)
		rc = atsm_err_set(err, "query term 'job=%s': no such job", job);
	else if (strcmp(PQgetvalue(r, 0, 2), "t") != 0)
		rc = atsm_err_set(err, "query term 'owner=%s': no such user", q.owner);
	PQclear(r);
	if (rc < 0)
		return -1;
	kind = q.kind == 'r' ? "resume" : q.kind == 'c' ? "contact" : "";
	snprintf(uid, sizeof(uid), "%lld", user_id);
	snprintf(lim, sizeof(lim), "%zu", max + 1);
	p[0] = uid;
	p[1] = kind;
	p[2] = q.phase;
	p[3] = job;
	p[4] = older;
	p[5] = q.owner;
	p[6] = lim;
	if ((r = atsm_db_exec(c, SQL_QUERY, 7, p, err)) == NULL)
		return atsm_err_prefix(err, "query '%s'", query);
	rc = take_rcpts(r, out, n, err);
	PQclear(r);
	return rc;
}

int
atsm_bulk_db_list(PGconn *c, const char *name, long long user_id, size_t max,
    struct atsm_bulk_rcpt **out, size_t *n, struct atsm_err *err)
{
	static const char sql_list[] =
	    "SELECT l.id, l.query FROM atsmail.recipient_lists l WHERE l.name = $2 AND "
	    VISIBLE("l");
	static const char sql_members[] =
	    "SELECT k, id, addr FROM ("
	    " SELECT 'r' AS k, r.id, " PRIMARY("resume", "r") " AS addr"
	    " FROM atsmail.recipient_list_members m JOIN atsmail.resumes r"
	    "  ON m.record_kind = 'resume' AND r.id = m.record_id"
	    " WHERE m.list_id = $2::bigint AND " VISIBLE("r")
	    " UNION ALL"
	    " SELECT 'c', c.id, " PRIMARY("contact", "c")
	    " FROM atsmail.recipient_list_members m JOIN atsmail.contacts c"
	    "  ON m.record_kind = 'contact' AND c.id = m.record_id"
	    " WHERE m.list_id = $2::bigint AND " VISIBLE("c")
	    ") q ORDER BY k DESC, id LIMIT $3::bigint";
	char uid[24], lim[24], *query = NULL, list_id[24];
	const char *p[3];
	PGresult *r;
	int rc;

	*out = NULL;
	*n = 0;
	snprintf(uid, sizeof(uid), "%lld", user_id);
	p[0] = uid;
	p[1] = name;
	if ((r = atsm_db_exec(c, sql_list, 2, p, err)) == NULL)
		return -1;
	if (PQntuples(r) == 0) {
		PQclear(r);
		return 0;
	}
	snprintf(list_id, sizeof(list_id), "%s", PQgetvalue(r, 0, 0));
	if (!PQgetisnull(r, 0, 1) && (query = strdup(PQgetvalue(r, 0, 1))) == NULL) {
		PQclear(r);
		return atsm_err_setc(err, ATSM_ERR_NOMEM, "out of memory");
	}
	PQclear(r);
	if (query != NULL) {
		rc = atsm_bulk_db_query(c, query, user_id, max, out, n, err);
		if (rc < 0)
			atsm_err_prefix(err, "list %s", name);
		free(query);
		return rc < 0 ? -1 : 1;
	}
	snprintf(lim, sizeof(lim), "%zu", max + 1);
	p[1] = list_id;
	p[2] = lim;
	if ((r = atsm_db_exec(c, sql_members, 3, p, err)) == NULL)
		return atsm_err_prefix(err, "list %s", name);
	rc = take_rcpts(r, out, n, err);
	PQclear(r);
	return rc < 0 ? -1 : 1;
}

int
atsm_bulk_db_records(PGconn *c, long long user_id, size_t n, const char *kinds,
    const long long *ids, struct atsm_bulk_rcpt *out, struct atsm_err *err)
{
	static const char sql[] =
	    "SELECT t.o, coalesce(r.id, c.id, 0),"
	    " CASE WHEN r.id IS NOT NULL THEN " PRIMARY("resume", "r")
	    "  WHEN c.id IS NOT NULL THEN " PRIMARY("contact", "c") " END"
	    " FROM unnest($2::text[], $3::bigint[]) WITH ORDINALITY AS t(k, id, o)"
	    " LEFT JOIN atsmail.resumes r ON t.k = 'r' AND r.id = t.id AND " VISIBLE("r")
	    " LEFT JOIN atsmail.contacts c ON t.k = 'c' AND c.id = t.id AND " VISIBLE("c")
	    " ORDER BY t.o";
	struct atsm_buf k, i;
	char uid[24], one[2] = "", *kv;
	const char *p[3];
	PGresult *r = NULL;
	size_t j;
	int rc = -1;

	atsm_buf_init(&k, ARRAY_MAX);
	atsm_buf_init(&i, ARRAY_MAX);
	if (atsm_buf_putc(&k, '{') < 0)
		goto nomem;
	for (j = 0; j < n; j++) {
		one[0] = kinds[j] == 'c' ? 'c' : 'r';
		if (atsm_buf_printf(&k, j ? ",%s" : "%s", one) < 0)
			goto nomem;
	}
	if (atsm_buf_putc(&k, '}') < 0 || atsm_out_sql_int_array(ids, n, &i) < 0)
		goto nomem;
	snprintf(uid, sizeof(uid), "%lld", user_id);
	p[0] = uid;
	p[1] = atsm_buf_str(&k);
	p[2] = atsm_buf_str(&i);
	if ((r = atsm_db_exec(c, sql, 3, p, err)) == NULL)
		goto out;
	for (j = 0; j < n && (int)j < PQntuples(r); j++) {
		out[j].kind = kinds[j] == 'c' ? 'c' : 'r';
		out[j].id = strtoll(PQgetvalue(r, (int)j, 1), NULL, 10);
		kv = dup_or_null(r, (int)j, 2);
		out[j].addr = kv;
	}
	rc = 0;
	goto out;
nomem:
	atsm_err_setc(err, ATSM_ERR_NOMEM, "out of memory");
out:
	if (r != NULL)
		PQclear(r);
	atsm_buf_free(&k);
	atsm_buf_free(&i);
	return rc;
}

int
atsm_bulk_db_by_addr(PGconn *c, long long user_id, size_t n, const char *const *addrs,
    struct atsm_bulk_rcpt *out, struct atsm_err *err)
{
	static const char sql[] =
	    "SELECT t.o, coalesce(left(x.owner_kind, 1), ''), coalesce(x.owner_id, 0)"
	    " FROM unnest($2::text[]) WITH ORDINALITY AS t(addr, o)"
	    " LEFT JOIN LATERAL (SELECT a.owner_kind, a.owner_id FROM atsmail.addresses a"
	    "  LEFT JOIN atsmail.resumes r ON a.owner_kind = 'resume' AND r.id = a.owner_id"
	    "  LEFT JOIN atsmail.contacts c ON a.owner_kind = 'contact' AND c.id = a.owner_id"
	    "  WHERE a.addr_norm = t.addr AND ((r.id IS NOT NULL AND " VISIBLE("r") ")"
	    "   OR (c.id IS NOT NULL AND " VISIBLE("c") "))"
	    "  ORDER BY a.owner_kind DESC, a.owner_id LIMIT 1) x ON true"
	    " ORDER BY t.o";
	struct atsm_buf a;
	char uid[24];
	const char *p[2];
	PGresult *r;
	size_t j;

	atsm_buf_init(&a, ARRAY_MAX);
	if (atsm_out_sql_text_array((char *const *)addrs, n, &a) < 0) {
		atsm_buf_free(&a);
		return atsm_err_setc(err, ATSM_ERR_NOMEM, "out of memory");
	}
	snprintf(uid, sizeof(uid), "%lld", user_id);
	p[0] = uid;
	p[1] = atsm_buf_str(&a);
	r = atsm_db_exec(c, sql, 2, p, err);
	atsm_buf_free(&a);
	if (r == NULL)
		return -1;
	for (j = 0; j < n && (int)j < PQntuples(r); j++) {
		out[j].kind = kind_char(PQgetvalue(r, (int)j, 1));
		out[j].id = strtoll(PQgetvalue(r, (int)j, 2), NULL, 10);
		out[j].addr = addrs[j] != NULL ? strdup(addrs[j]) : NULL;
	}
	PQclear(r);
	return 0;
}

/* ---- making a job ----------------------------------------------------------- */

static int
random_hex(char *out, size_t bytes)
{
	unsigned char b[32];
	size_t i;

	if (bytes > sizeof(b) || getentropy(b, bytes) < 0)
		return -1;
	for (i = 0; i < bytes; i++)
		snprintf(out + 2 * i, 3, "%02x", b[i]);
	return 0;
}

static int
hex_bytea(const char *p, size_t n, struct atsm_buf *out)
{
	static const char hex[] = "0123456789abcdef";
	size_t i;

	if (atsm_buf_puts(out, "\\x") < 0)
		return -1;
	for (i = 0; i < n; i++)
		if (atsm_buf_putc(out, hex[(unsigned char)p[i] >> 4]) < 0 ||
		    atsm_buf_putc(out, hex[(unsigned char)p[i] & 15]) < 0)
			return -1;
	return 0;
}

static const char SQL_DOMAIN[] =
    "SELECT split_part(a.addr_norm, '@', 2) FROM atsmail.addresses a"
    " JOIN atsmail.users u ON u.id = a.owner_id"
    " WHERE a.owner_kind = 'user' AND a.owner_id = $1::bigint AND u.active"
    " ORDER BY a.is_primary DESC, a.id LIMIT 1";
static const char SQL_JOB_NEW[] =
    "INSERT INTO atsmail.bulk_jobs (user_id, origin, template_code, subject, source,"
    " commands, job_id, total) VALUES ($1::bigint, $2, nullif($3, ''), $4, $5::bytea,"
    " coalesce($6, '{}')::jsonb, nullif($7, '0')::bigint, $8::int) RETURNING id";
static const char SQL_ITEMS_NEW[] =
    "INSERT INTO atsmail.bulk_items (job_id, seq, rcpt, extra_rcpts, record_kind, record_id,"
    " status, message_id)"
    " SELECT $1::bigint, t.o, t.r,"
    "  ARRAY(SELECT jsonb_array_elements_text(t.e::jsonb)),"
    "  CASE t.k WHEN 'r' THEN 'resume' WHEN 'c' THEN 'contact' END,"
    "  CASE WHEN t.k IN ('r', 'c') THEN t.i END,"
    "  CASE WHEN t.u THEN 'unmatched' ELSE 'pending' END, nullif(t.m, '')"
    " FROM unnest($2::text[], $3::text[], $4::text[], $5::bigint[], $6::boolean[], $7::text[])"
    "  WITH ORDINALITY AS t(r, e, k, i, u, m, o)";

/* The JSON array of an item's extra recipients. */
static int
extra_json(const struct atsm_bulk_item_new *it, struct atsm_buf *b)
{
	size_t i;
	const char *s;

	if (atsm_buf_putc(b, '[') < 0)
		return -1;
	for (i = 0; i < it->n_extra; i++) {
		if (i > 0 && atsm_buf_putc(b, ',') < 0)
			return -1;
		if (atsm_buf_putc(b, '"') < 0)
			return -1;
		for (s = it->extra_rcpts[i]; *s != '\0'; s++) {
			if ((unsigned char)*s < 0x20)
				continue;
			if ((*s == '"' || *s == '\\') && atsm_buf_putc(b, '\\') < 0)
				return -1;
			if (atsm_buf_putc(b, *s) < 0)
				return -1;
		}
		if (atsm_buf_putc(b, '"') < 0)
			return -1;
	}
	return atsm_buf_putc(b, ']');
}

/* The same mail taken before (a client sending again after a 451): the
 * job that holds one of the given Message-IDs.  1 with *id, 0, -1. */
static int
same_mail(PGconn *c, const struct atsm_bulk_job_new *j, long long *id, struct atsm_err *err)
{
	struct atsm_buf a;
	char **v;
	const char *p[1];
	PGresult *r;
	size_t i, n = 0;
	int rc;

	if ((v = calloc(j->n_items, sizeof(*v))) == NULL)
		return atsm_err_setc(err, ATSM_ERR_NOMEM, "out of memory");
	for (i = 0; i < j->n_items; i++)
		if (j->items[i].message_id != NULL)
			v[n++] = (char *)j->items[i].message_id;
	if (n == 0) {
		free(v);
		return 0;
	}
	atsm_buf_init(&a, ARRAY_MAX);
	rc = atsm_out_sql_text_array(v, n, &a);
	free(v);
	if (rc < 0) {
		atsm_buf_free(&a);
		return atsm_err_setc(err, ATSM_ERR_NOMEM, "out of memory");
	}
	p[0] = atsm_buf_str(&a);
	r = atsm_db_exec(c, "SELECT job_id FROM atsmail.bulk_items WHERE message_id ="
	    " ANY($1::text[]) LIMIT 1", 1, p, err);
	atsm_buf_free(&a);
	if (r == NULL)
		return -1;
	rc = PQntuples(r) > 0;
	if (rc)
		*id = strtoll(PQgetvalue(r, 0, 0), NULL, 10);
	PQclear(r);
	return rc;
}

int
atsm_bulk_db_create(PGconn *c, const struct atsm_bulk_job_new *j, long long *id,
    struct atsm_err *err)
{
	struct atsm_buf src, rc_a, ex_a, k_a, id_a, u_a, m_a, one;
	char uid[24], jid[24], total[24], domain[256], hex[17], jobid[24];
	char **rcpts = NULL, **extras = NULL, **msgids = NULL;
	long long *ids = NULL;
	const char *p[8];
	PGresult *r = NULL;
	size_t i, sendable = 0;
	int rc = -1;

	*id = 0;
	if (j->n_items == 0)
		return atsm_err_set(err, "bulk job: no recipients");
	if (strcmp(j->origin, "ctl") != 0 && (j->source == NULL || j->source_len == 0))
		return atsm_err_set(err, "bulk job (%s): no mail", j->origin);
	atsm_buf_init(&src, 0);
	atsm_buf_init(&rc_a, ARRAY_MAX);
	atsm_buf_init(&ex_a, ARRAY_MAX);
	atsm_buf_init(&k_a, ARRAY_MAX);
	atsm_buf_init(&id_a, ARRAY_MAX);
	atsm_buf_init(&u_a, ARRAY_MAX);
	atsm_buf_init(&m_a, ARRAY_MAX);
	atsm_buf_init(&one, ARRAY_MAX);
	src.limit = j->source_len * 2 + 16;
	rcpts = calloc(j->n_items, sizeof(*rcpts));
	extras = calloc(j->n_items, sizeof(*extras));
	msgids = calloc(j->n_items, sizeof(*msgids));
	ids = calloc(j->n_items, sizeof(*ids));
	if (rcpts == NULL || extras == NULL || msgids == NULL || ids == NULL)
		goto nomem;
	snprintf(uid, sizeof(uid), "%lld", j->user_id);
	p[0] = uid;
	if ((r = atsm_db_exec(c, SQL_DOMAIN, 1, p, err)) == NULL)
		goto out;
	if (PQntuples(r) == 0) {
		atsm_err_set(err, "bulk job: user %lld is not active or has no address",
		    j->user_id);
		goto out;
	}
	snprintf(domain, sizeof(domain), "%s", PQgetvalue(r, 0, 0));
	PQclear(r);
	r = NULL;
	for (i = 0; i < j->n_items; i++) {
		const struct atsm_bulk_item_new *it = &j->items[i];

		if (it->rcpt == NULL || it->rcpt[0] == '\0' || strpbrk(it->rcpt, "\r\n") != NULL) {
			atsm_err_set(err, "bulk job: recipient %zu: no address", i + 1);
			goto out;
		}
		if (!it->unmatched)
			sendable++;
		rcpts[i] = (char *)it->rcpt;
		ids[i] = it->kind == 'r' || it->kind == 'c' ? it->record_id : 0;
		atsm_buf_reset(&one);
		if (extra_json(it, &one) < 0 || (extras[i] = strdup(atsm_buf_str(&one))) == NULL)
			goto nomem;
	}
	if (j->source != NULL && hex_bytea(j->source, j->source_len, &src) < 0)
		goto nomem;
	snprintf(jid, sizeof(jid), "%lld", j->job_id);
	snprintf(total, sizeof(total), "%zu", sendable);
	if (atsm_db_begin(c, err) < 0)
		goto out;
	if ((rc = same_mail(c, j, id, err)) != 0) {
		if (rc < 0)
			goto rollback;
		atsm_db_rollback(c);
		rc = 0;
		goto out;
	}
	rc = -1;
	p[1] = j->origin;
	p[2] = j->template_code != NULL ? j->template_code : "";
	p[3] = j->subject;
	p[4] = j->source != NULL ? atsm_buf_str(&src) : NULL;
	p[5] = j->commands_json;
	p[6] = jid;
	p[7] = total;
	if ((r = atsm_db_exec(c, SQL_JOB_NEW, 8, p, err)) == NULL)
		goto rollback;
	*id = strtoll(PQgetvalue(r, 0, 0), NULL, 10);
	PQclear(r);
	r = NULL;
	for (i = 0; i < j->n_items; i++) {
		if (j->items[i].message_id != NULL && !j->items[i].unmatched) {
			msgids[i] = strdup(j->items[i].message_id);
		} else if (j->items[i].unmatched) {
			msgids[i] = strdup("");
		} else {
			if (random_hex(hex, 8) < 0) {
				atsm_err_setc(err, ATSM_ERR_INTERNAL, "no random bytes: %m");
				goto rollback;
			}
			size_t len = strlen(domain) + 80;

			if ((msgids[i] = malloc(len)) != NULL)
				snprintf(msgids[i], len, "bulk.%lld.%zu.%s@%s", *id, i + 1, hex,
				    domain);
		}
		if (msgids[i] == NULL)
			goto nomem_tx;
	}
	if (atsm_out_sql_text_array(rcpts, j->n_items, &rc_a) < 0 ||
	    atsm_out_sql_text_array(extras, j->n_items, &ex_a) < 0 ||
	    atsm_out_sql_int_array(ids, j->n_items, &id_a) < 0 ||
	    atsm_out_sql_text_array(msgids, j->n_items, &m_a) < 0 ||
	    atsm_buf_putc(&k_a, '{') < 0 || atsm_buf_putc(&u_a, '{') < 0)
		goto nomem_tx;
	for (i = 0; i < j->n_items; i++) {
		char k = j->items[i].kind;

		if (atsm_buf_printf(&k_a, "%s%s", i ? "," : "",
		    k == 'r' ? "r" : k == 'c' ? "c" : "-") < 0 ||
		    atsm_buf_printf(&u_a, "%s%s", i ? "," : "", j->items[i].unmatched ? "t" : "f") < 0)
			goto nomem_tx;
	}
	if (atsm_buf_putc(&k_a, '}') < 0 || atsm_buf_putc(&u_a, '}') < 0)
		goto nomem_tx;
	snprintf(jobid, sizeof(jobid), "%lld", *id);
	p[0] = jobid;
	p[1] = atsm_buf_str(&rc_a);
	p[2] = atsm_buf_str(&ex_a);
	p[3] = atsm_buf_str(&k_a);
	p[4] = atsm_buf_str(&id_a);
	p[5] = atsm_buf_str(&u_a);
	p[6] = atsm_buf_str(&m_a);
	if (atsm_db_command(c, SQL_ITEMS_NEW, 7, p, err) < 0)
		goto rollback;
	if (atsm_db_commit(c, err) < 0) {
		*id = 0;
		goto out;
	}
	rc = 1;
	goto out;
nomem_tx:
	atsm_err_setc(err, ATSM_ERR_NOMEM, "out of memory");
rollback:
	atsm_db_rollback(c);
	*id = 0;
	goto out;
nomem:
	atsm_err_setc(err, ATSM_ERR_NOMEM, "out of memory");
out:
	if (r != NULL)
		PQclear(r);
	for (i = 0; i < j->n_items; i++) {
		if (extras != NULL)
			free(extras[i]);
		if (msgids != NULL)
			free(msgids[i]);
	}
	free(rcpts);
	free(extras);
	free(msgids);
	free(ids);
	atsm_buf_free(&src);
	atsm_buf_free(&rc_a);
	atsm_buf_free(&ex_a);
	atsm_buf_free(&k_a);
	atsm_buf_free(&id_a);
	atsm_buf_free(&u_a);
	atsm_buf_free(&m_a);
	atsm_buf_free(&one);
	return rc;
}

/* ---- a job ---------------------------------------------------------------- */

#define JOB_COLS \
	"SELECT j.id, j.user_id, coalesce(j.job_id, 0), j.origin, j.status, j.template_code," \
	" j.subject, %s, j.commands::text, j.total, j.result_sent_at IS NOT NULL, u.login," \
	" u.display_name, " PRIMARY("user", "u") ", coalesce(u.lang, '')," \
	" to_char(j.created_at, 'YYYY-MM-DD HH24:MI:SS')" \
	" FROM atsmail.bulk_jobs j JOIN atsmail.users u ON u.id = j.user_id"

void
atsm_bulk_job_free(struct atsm_bulk_job *j)
{
	if (j == NULL)
		return;
	free(j->template_code);
	free(j->subject);
	if (j->source != NULL)
		PQfreemem(j->source);
	free(j->commands_json);
	free(j->login);
	free(j->user_name);
	free(j->user_addr);
	free(j->created_at);
	memset(j, 0, sizeof(*j));
}

static int
take_job(const PGresult *r, int row, struct atsm_bulk_job *j, struct atsm_err *err)
{
	memset(j, 0, sizeof(*j));
	j->id = strtoll(PQgetvalue(r, row, 0), NULL, 10);
	j->user_id = strtoll(PQgetvalue(r, row, 1), NULL, 10);
	j->job_id = strtoll(PQgetvalue(r, row, 2), NULL, 10);
	snprintf(j->origin, sizeof(j->origin), "%s", PQgetvalue(r, row, 3));
	snprintf(j->status, sizeof(j->status), "%s", PQgetvalue(r, row, 4));
	j->template_code = dup_or_null(r, row, 5);
	j->subject = dup_or_null(r, row, 6);
	if (!PQgetisnull(r, row, 7)) {
		j->source = (char *)PQunescapeBytea((const unsigned char *)PQgetvalue(r, row, 7),
		    &j->source_len);
		if (j->source == NULL)
			goto nomem;
	}
	j->commands_json = strdup(PQgetvalue(r, row, 8));
	j->total = atoi(PQgetvalue(r, row, 9));
	j->result_sent = strcmp(PQgetvalue(r, row, 10), "t") == 0;
	j->login = strdup(PQgetvalue(r, row, 11));
	j->user_name = strdup(PQgetvalue(r, row, 12));
	j->user_addr = dup_or_null(r, row, 13);
	snprintf(j->lang, sizeof(j->lang), "%s", PQgetvalue(r, row, 14));
	j->created_at = strdup(PQgetvalue(r, row, 15));
	if (j->commands_json == NULL || j->login == NULL || j->user_name == NULL ||
	    j->created_at == NULL)
		goto nomem;
	return 0;
nomem:
	atsm_bulk_job_free(j);
	return atsm_err_setc(err, ATSM_ERR_NOMEM, "out of memory");
}

int
atsm_bulk_db_job(PGconn *c, long long id, struct atsm_bulk_job *j, struct atsm_err *err)
{
	char sql[1024], ids[24];
	const char *p[1] = { ids };
	PGresult *r;
	int rc;

	snprintf(sql, sizeof(sql), JOB_COLS " WHERE j.id = $1::bigint", "j.source");
	snprintf(ids, sizeof(ids), "%lld", id);
	if ((r = atsm_db_exec(c, sql, 1, p, err)) == NULL)
		return -1;
	rc = PQntuples(r) == 0 ? 0 : take_job(r, 0, j, err) < 0 ? -1 : 1;
	PQclear(r);
	return rc;
}

int
atsm_bulk_db_jobs(PGconn *c, size_t max, struct atsm_bulk_job **out, size_t *n,
    struct atsm_err *err)
{
	char sql[1024], lim[24];
	const char *p[1] = { lim };
	PGresult *r;
	int i, rows;

	*out = NULL;
	*n = 0;
	snprintf(sql, sizeof(sql), JOB_COLS " ORDER BY j.id DESC LIMIT $1::bigint", "NULL");
	snprintf(lim, sizeof(lim), "%zu", max);
	if ((r = atsm_db_exec(c, sql, 1, p, err)) == NULL)
		return -1;
	rows = PQntuples(r);
	if (rows > 0 && (*out = calloc((size_t)rows, sizeof(**out))) == NULL) {
		PQclear(r);
		return atsm_err_setc(err, ATSM_ERR_NOMEM, "out of memory");
	}
	for (i = 0; i < rows; i++) {
		if (take_job(r, i, &(*out)[i], err) < 0) {
			PQclear(r);
			while (i-- > 0)
				atsm_bulk_job_free(&(*out)[i]);
			free(*out);
			*out = NULL;
			return -1;
		}
	}
	*n = (size_t)rows;
	PQclear(r);
	return 0;
}

int
atsm_bulk_db_relock(PGconn *c, long long id, struct atsm_err *err)
{
	char ids[24];
	const char *p[1] = { ids };
	PGresult *r;
	int rc;

	snprintf(ids, sizeof(ids), "%lld", id);
	if ((r = atsm_db_exec(c, "SELECT pg_try_advisory_lock(" BULK_LOCK ", $1::int)", 1, p,
	    err)) == NULL)
		return -1;
	rc = strcmp(PQgetvalue(r, 0, 0), "t") == 0;
	PQclear(r);
	return rc;
}

void
atsm_bulk_db_release(PGconn *c, long long id)
{
	char ids[24];
	const char *p[1] = { ids };
	PGresult *r;

	snprintf(ids, sizeof(ids), "%lld", id);
	if ((r = atsm_db_exec(c, "SELECT pg_advisory_unlock(" BULK_LOCK ", $1::int)", 1, p,
	    NULL)) != NULL)
		PQclear(r);
}

int
atsm_bulk_db_claim(PGconn *c, const char *runner, struct atsm_bulk_job *j,
    struct atsm_err *err)
{
	static const char sql_open[] =
	    "SELECT id FROM atsmail.bulk_jobs WHERE status IN ('queued', 'running')"
	    " OR (status IN ('done', 'cancelled', 'failed') AND result_sent_at IS NULL)"
	    " ORDER BY id LIMIT 100";
	static const char sql_start[] =
	    "UPDATE atsmail.bulk_jobs SET status = 'running', runner = $2,"
	    " started_at = coalesce(started_at, now()) WHERE id = $1::bigint"
	    " AND status IN ('queued', 'running')";
	char ids[24];
	const char *p[2];
	PGresult *r;
	int i, got;

	if ((r = atsm_db_exec(c, sql_open, 0, NULL, err)) == NULL)
		return -1;
	for (i = 0; i < PQntuples(r); i++) {
		long long id = strtoll(PQgetvalue(r, i, 0), NULL, 10);

		if ((got = atsm_bulk_db_relock(c, id, err)) < 0)
			goto fail;
		if (got == 0)
			continue;
		snprintf(ids, sizeof(ids), "%lld", id);
		p[0] = ids;
		p[1] = runner;
		if (atsm_db_command(c, sql_start, 2, p, err) < 0 ||
		    (got = atsm_bulk_db_job(c, id, j, err)) < 0) {
			atsm_bulk_db_release(c, id);
			goto fail;
		}
		/* another runner may have ended it between the two reads */
		if (got == 0 || ((strcmp(j->status, "done") == 0 ||
		    strcmp(j->status, "cancelled") == 0 || strcmp(j->status, "failed") == 0) &&
		    j->result_sent)) {
			if (got == 1)
				atsm_bulk_job_free(j);
			atsm_bulk_db_release(c, id);
			continue;
		}
		PQclear(r);
		return 1;
	}
	PQclear(r);
	return 0;
fail:
	PQclear(r);
	return -1;
}

/* ---- items -------------------------------------------------------------- */

void
atsm_bulk_items_free(struct atsm_bulk_item *v, size_t n)
{
	size_t i, k;

	if (v == NULL)
		return;
	for (i = 0; i < n; i++) {
		free(v[i].rcpt);
		for (k = 0; k < v[i].n_extra; k++)
			free(v[i].extra[k]);
		free(v[i].extra);
		free(v[i].message_id);
		free(v[i].queue_id);
		free(v[i].reason);
		free(v[i].delivery);
		free(v[i].status_code);
		free(v[i].diagnostic);
		free(v[i].bounced_at);
	}
	free(v);
}

/* "a b c" (normalised addresses hold no space) into it->extra. */
static int
split_extra(const char *s, struct atsm_bulk_item *it)
{
	char *copy, *p, *t;
	size_t n = 1;

	if (*s == '\0')
		return 0;
	for (p = (char *)s; *p != '\0'; p++)
		n += *p == ' ';
	if ((copy = strdup(s)) == NULL || (it->extra = calloc(n, sizeof(char *))) == NULL) {
		free(copy);
		return -1;
	}
	for (p = copy; (t = strsep(&p, " ")) != NULL;)
		if (*t != '\0' && (it->extra[it->n_extra++] = strdup(t)) == NULL) {
			free(copy);
			return -1;
		}
	free(copy);
	return 0;
}

int
atsm_bulk_db_items(PGconn *c, long long job, bool deliveries,
    struct atsm_bulk_item **out, size_t *n, struct atsm_err *err)
{
	static const char sql[] =
	    "SELECT i.seq, i.rcpt, array_to_string(i.extra_rcpts, ' '),"
	    " coalesce(left(i.record_kind, 1), ''), coalesce(i.record_id, 0), i.status,"
	    " i.message_id, i.queue_id, i.reason, d.status, d.status_code, d.diagnostic,"
	    " d.bounced_at"
	    " FROM atsmail.bulk_items i LEFT JOIN LATERAL ("
	    "  SELECT mr.status, mr.status_code, mr.diagnostic,"
	    "   to_char(mr.bounced_at, 'YYYY-MM-DD HH24:MI:SS') AS bounced_at"
	    "  FROM atsmail.messages m JOIN atsmail.message_recipients mr ON mr.message_id = m.id"
	    "  WHERE $2::boolean AND m.rfc_message_id = i.message_id AND m.direction = 'out'"
	    "  AND mr.address = lower(i.rcpt)"
	    "  ORDER BY mr.status = 'bounced' DESC LIMIT 1) d ON true"
	    " WHERE i.job_id = $1::bigint ORDER BY i.seq";
	char ids[24];
	const char *p[2] = { ids, deliveries ? "t" : "f" };
	PGresult *r;
	int i, rows;

	*out = NULL;
	*n = 0;
	snprintf(ids, sizeof(ids), "%lld", job);
	if ((r = atsm_db_exec(c, sql, 2, p, err)) == NULL)
		return -1;
	rows = PQntuples(r);
	if (rows > 0 && (*out = calloc((size_t)rows, sizeof(**out))) == NULL)
		goto nomem;
	for (i = 0; i < rows; i++) {
		struct atsm_bulk_item *it = &(*out)[i];

		*n = (size_t)i + 1;
		it->seq = atoi(PQgetvalue(r, i, 0));
		it->rcpt = strdup(PQgetvalue(r, i, 1));
		if (it->rcpt == NULL || split_extra(PQgetvalue(r, i, 2), it) < 0)
			goto nomem;
		it->kind = kind_char(PQgetvalue(r, i, 3));
		it->record_id = strtoll(PQgetvalue(r, i, 4), NULL, 10);
		it->state = state_parse(PQgetvalue(r, i, 5));
		it->message_id = dup_or_null(r, i, 6);
		it->queue_id = dup_or_null(r, i, 7);
		it->reason = dup_or_null(r, i, 8);
		it->delivery = dup_or_null(r, i, 9);
		it->status_code = dup_or_null(r, i, 10);
		it->diagnostic = dup_or_null(r, i, 11);
		it->bounced_at = dup_or_null(r, i, 12);
	}
	PQclear(r);
	return 0;
nomem:
	PQclear(r);
	atsm_bulk_items_free(*out, *n);
	*out = NULL;
	*n = 0;
	return atsm_err_setc(err, ATSM_ERR_NOMEM, "out of memory");
}

int
atsm_bulk_db_mark(PGconn *c, long long job, const struct atsm_bulk_mark_item *v, size_t n,
    struct atsm_err *err)
{
	static const char sql[] =
	    "UPDATE atsmail.bulk_items i SET status = t.st,"
	    " queue_id = coalesce(nullif(t.q, ''), i.queue_id),"
	    " reason = coalesce(nullif(t.r, ''), i.reason), updated_at = now()"
	    " FROM unnest($2::int[], $3::text[], $4::text[], $5::text[]) AS t(s, st, q, r)"
	    " WHERE i.job_id = $1::bigint AND i.seq = t.s";
	struct atsm_buf s, st, q, rs;
	char ids[24];
	const char *p[5];
	char **sv = NULL, **qv = NULL, **rv = NULL;
	long long *seqs = NULL;
	size_t i;
	int rc = -1;

	if (n == 0)
		return 0;
	atsm_buf_init(&s, ARRAY_MAX);
	atsm_buf_init(&st, ARRAY_MAX);
	atsm_buf_init(&q, ARRAY_MAX);
	atsm_buf_init(&rs, ARRAY_MAX);
	seqs = calloc(n, sizeof(*seqs));
	sv = calloc(n, sizeof(*sv));
	qv = calloc(n, sizeof(*qv));
	rv = calloc(n, sizeof(*rv));
	if (seqs == NULL || sv == NULL || qv == NULL || rv == NULL)
		goto nomem;
	for (i = 0; i < n; i++) {
		seqs[i] = v[i].seq;
		sv[i] = (char *)atsm_bulk_state_name(v[i].state);
		qv[i] = (char *)(v[i].queue_id != NULL ? v[i].queue_id : "");
		rv[i] = (char *)(v[i].reason != NULL ? v[i].reason : "");
	}
	if (atsm_out_sql_int_array(seqs, n, &s) < 0 || atsm_out_sql_text_array(sv, n, &st) < 0 ||
	    atsm_out_sql_text_array(qv, n, &q) < 0 || atsm_out_sql_text_array(rv, n, &rs) < 0)
		goto nomem;
	snprintf(ids, sizeof(ids), "%lld", job);
	p[0] = ids;
	p[1] = atsm_buf_str(&s);
	p[2] = atsm_buf_str(&st);
	p[3] = atsm_buf_str(&q);
	p[4] = atsm_buf_str(&rs);
	rc = atsm_db_command(c, sql, 5, p, err);
	goto out;
nomem:
	atsm_err_setc(err, ATSM_ERR_NOMEM, "out of memory");
out:
	free(seqs);
	free(sv);
	free(qv);
	free(rv);
	atsm_buf_free(&s);
	atsm_buf_free(&st);
	atsm_buf_free(&q);
	atsm_buf_free(&rs);
	return rc;
}

int
atsm_bulk_db_settle(PGconn *c, long long job, int *found, int *again, struct atsm_err *err)
{
	static const char sql[] =
	    "WITH f AS (UPDATE atsmail.bulk_items i SET status = 'accepted',"
	    "  reason = 'recorded before a restart', updated_at = now()"
	    "  WHERE i.job_id = $1::bigint AND i.status = 'sending' AND EXISTS (SELECT 1"
	    "  FROM atsmail.messages m WHERE m.rfc_message_id = i.message_id"
	    "  AND m.direction = 'out') RETURNING 1),"
	    " a AS (UPDATE atsmail.bulk_items i SET status = 'pending', updated_at = now()"
	    "  WHERE i.job_id = $1::bigint AND i.status = 'sending' AND NOT EXISTS (SELECT 1"
	    "  FROM atsmail.messages m WHERE m.rfc_message_id = i.message_id"
	    "  AND m.direction = 'out') RETURNING 1)"
	    " SELECT (SELECT count(*) FROM f), (SELECT count(*) FROM a)";
	char ids[24];
	const char *p[1] = { ids };
	PGresult *r;

	snprintf(ids, sizeof(ids), "%lld", job);
	if ((r = atsm_db_exec(c, sql, 1, p, err)) == NULL)
		return -1;
	*found = atoi(PQgetvalue(r, 0, 0));
	*again = atoi(PQgetvalue(r, 0, 1));
	PQclear(r);
	return 0;
}

int
atsm_bulk_db_status(PGconn *c, long long job, char *status, struct atsm_err *err)
{
	char ids[24];
	const char *p[1] = { ids };
	PGresult *r;

	snprintf(ids, sizeof(ids), "%lld", job);
	if ((r = atsm_db_exec_prepared(c, "SELECT status FROM atsmail.bulk_jobs WHERE id = "
	    "$1::bigint", 1, p, err)) == NULL)
		return -1;
	snprintf(status, 12, "%s", PQntuples(r) > 0 ? PQgetvalue(r, 0, 0) : "failed");
	PQclear(r);
	return 0;
}

int
atsm_bulk_db_finish(PGconn *c, long long job, const char *status, const char *error,
    struct atsm_err *err)
{
	static const char sql_job[] =
	    "UPDATE atsmail.bulk_jobs SET status = CASE WHEN status = 'cancelled' THEN status"
	    " ELSE $2 END, error = $3, finished_at = coalesce(finished_at, now())"
	    " WHERE id = $1::bigint";
	static const char sql_items[] =
	    "UPDATE atsmail.bulk_items SET status = 'cancelled', updated_at = now()"
	    " WHERE job_id = $1::bigint AND status = 'pending' AND EXISTS (SELECT 1"
	    " FROM atsmail.bulk_jobs WHERE id = $1::bigint AND status = 'cancelled')";
	char ids[24];
	const char *p[3] = { ids, status, error };

	snprintf(ids, sizeof(ids), "%lld", job);
	if (atsm_db_command(c, sql_job, 3, p, err) < 0)
		return -1;
	return atsm_db_command(c, sql_items, 1, p, err);
}

int
atsm_bulk_db_result_sent(PGconn *c, long long job, struct atsm_err *err)
{
	char ids[24];
	const char *p[1] = { ids };

	snprintf(ids, sizeof(ids), "%lld", job);
	return atsm_db_command(c, "UPDATE atsmail.bulk_jobs SET result_sent_at = now()"
	    " WHERE id = $1::bigint", 1, p, err);
}

int
atsm_bulk_db_cancel(PGconn *c, long long job, struct atsm_err *err)
{
	static const char sql[] =
	    "UPDATE atsmail.bulk_jobs SET status = 'cancelled' WHERE id = $1::bigint"
	    " AND status IN ('queued', 'running') RETURNING id";
	static const char sql_items[] =
	    "UPDATE atsmail.bulk_items SET status = 'cancelled', updated_at = now()"
	    " WHERE job_id = $1::bigint AND status = 'pending'";
	char ids[24];
	const char *p[1] = { ids };
	PGresult *r;
	int rc;

	snprintf(ids, sizeof(ids), "%lld", job);
	if (atsm_db_begin(c, err) < 0)
		return -1;
	if ((r = atsm_db_exec(c, sql, 1, p, err)) == NULL) {
		atsm_db_rollback(c);
		return -1;
	}
	rc = PQntuples(r) > 0;
	PQclear(r);
	if (rc && atsm_db_command(c, sql_items, 1, p, err) < 0) {
		atsm_db_rollback(c);
		return -1;
	}
	return atsm_db_commit(c, err) < 0 ? -1 : rc;
}

int
atsm_bulk_db_counts(PGconn *c, long long job, struct atsm_bulk_counts *k,
    struct atsm_err *err)
{
	static const char sql[] =
	    "SELECT i.status, count(*), count(*) FILTER (WHERE EXISTS (SELECT 1"
	    " FROM atsmail.messages m JOIN atsmail.message_recipients mr ON mr.message_id = m.id"
	    " WHERE m.rfc_message_id = i.message_id AND m.direction = 'out'"
	    " AND mr.address = lower(i.rcpt) AND mr.status = 'bounced'))"
	    " FROM atsmail.bulk_items i WHERE i.job_id = $1::bigint GROUP BY i.status";
	char ids[24];
	const char *p[1] = { ids };
	PGresult *r;
	int i;

	memset(k, 0, sizeof(*k));
	snprintf(ids, sizeof(ids), "%lld", job);
	if ((r = atsm_db_exec(c, sql, 1, p, err)) == NULL)
		return -1;
	for (i = 0; i < PQntuples(r); i++) {
		k->n[state_parse(PQgetvalue(r, i, 0))] += atoi(PQgetvalue(r, i, 1));
		k->bounced += atoi(PQgetvalue(r, i, 2));
	}
	PQclear(r);
	return 0;
}
