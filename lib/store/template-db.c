/* store/template-db.c -- templates and the values of their tags, read from
 * PostgreSQL (store/template-db.h).
 *
 * The values of every recipient of a bulk job come from one statement:
 * the recipients are three parallel arrays (kind, id, address) unnested
 * WITH ORDINALITY and joined to their records, the job, its process for a
 * resume, and the sender, so that 5,000 recipients cost one round trip.
 * Dates are the server's current_date, so that every mail of a job started
 * before midnight says the same day as the database.
 *
 * A template whose code starts with notify- is a notification's own text
 * (docs/notifications.md), merged by atsmaild/notify.c only: it is no
 * template a user may send (ats+template.notify-... is refused as no
 * template of theirs), so its notify.* tags never reach a candidate.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/buf.h"
#include "store/db.h"
#include "store/sql-array.h"
#include "store/template-db.h"

int
atsm_tpl_db_load(PGconn *c, const char *code, long long user_id,
    struct atsm_template *t, struct atsm_err *err)
{
	static const char sql[] =
	    "SELECT t.id, t.code, t.name, t.subject, t.body, t.body_html, t.lang,"
	    " coalesce(t.phase_resume, ''), coalesce(t.phase_contact, ''),"
	    " coalesce(t.phase_process, ''), coalesce(t.owner_id, 0), t.shared,"
	    " t.on_missing, t.revision"
	    " FROM atsmail.templates t"
	    " WHERE t.code = $1 AND left(t.code, 7) <> 'notify-'"
	    " AND (t.shared OR t.owner_id = $2::bigint"
	    "  OR EXISTS (SELECT 1 FROM atsmail.users u"
	    "             WHERE u.id = $2::bigint AND u.role = 'admin'))";
	char uid[24];
	const char *params[2];
	PGresult *r;
	int rc = 0;

	memset(t, 0, sizeof(*t));
	if (!atsm_template_code_valid(code))
		return atsm_err_set(err, "template code \"%.40s\" is not valid "
		    "(a-z, 0-9, _ and -, at most 32)", code != NULL ? code : "");
	snprintf(uid, sizeof(uid), "%lld", user_id);
	params[0] = code;
	params[1] = uid;
	if ((r = atsm_db_exec(c, sql, 2, params, err)) == NULL)
		return atsm_err_prefix(err, "template %s", code);
	if (PQntuples(r) == 1) {
		t->id = strtoll(PQgetvalue(r, 0, 0), NULL, 10);
		snprintf(t->code, sizeof(t->code), "%s", PQgetvalue(r, 0, 1));
		t->name = strdup(PQgetvalue(r, 0, 2));
		t->subject = strdup(PQgetvalue(r, 0, 3));
		t->body = strdup(PQgetvalue(r, 0, 4));
		t->body_html = PQgetisnull(r, 0, 5) ? NULL : strdup(PQgetvalue(r, 0, 5));
		snprintf(t->lang, sizeof(t->lang), "%s", PQgetvalue(r, 0, 6));
		snprintf(t->phase_resume, sizeof(t->phase_resume), "%s", PQgetvalue(r, 0, 7));
		snprintf(t->phase_contact, sizeof(t->phase_contact), "%s", PQgetvalue(r, 0, 8));
		snprintf(t->phase_process, sizeof(t->phase_process), "%s", PQgetvalue(r, 0, 9));
		t->owner_id = strtoll(PQgetvalue(r, 0, 10), NULL, 10);
		t->shared = PQgetvalue(r, 0, 11)[0] == 't';
		t->on_missing = strcmp(PQgetvalue(r, 0, 12), "empty") == 0 ?
		    ATSM_TPL_MISSING_EMPTY : ATSM_TPL_MISSING_REFUSE;
		t->revision = atoi(PQgetvalue(r, 0, 13));
		rc = 1;
		if (t->name == NULL || t->subject == NULL || t->body == NULL ||
		    (t->body_html == NULL && !PQgetisnull(r, 0, 5))) {
			atsm_template_free(t);
			rc = atsm_err_setc(err, ATSM_ERR_NOMEM, "template %s: out "
			    "of memory", code);
		}
	}
	PQclear(r);
	return rc;
}

/* The columns of the statement below, in order, and the tag each fills
 * (NULL: used otherwise). */
static const char *const columns[] = {
	"resume.id", "resume.name", "resume.kana", "resume.email", "resume.phase",
	"contact.id", "contact.name", "contact.kana", "contact.email", "contact.phase",
	"company.name",
	"job.id", "job.title", "job.company", "job.status",
	"process.phase", "process.phase_label",
	"recipient.name", "recipient.email",
	"user.name", "user.email", "user.login",
	"date", "date.ja",
	NULL
};

static const char fields_sql[] =
    "SELECT r.ord,"
    " res.id, res.name, res.kana, CASE WHEN res.id IS NOT NULL THEN pa.addr_norm END,"
    " res.phase,"
    " con.id, con.name, con.kana, CASE WHEN con.id IS NOT NULL THEN pa.addr_norm END,"
    " con.phase,"
    " CASE WHEN r.kind = 'c' THEN cco.name ELSE jc.name END,"
    " j.id, j.title, jc.name, j.status,"
    " p.phase, ph.label,"
    " coalesce(res.name, con.name), coalesce(nullif(r.rcpt, ''), pa.addr_norm),"
    " coalesce(nullif(u.display_name, ''), u.login),"
    " (SELECT a.addr_norm FROM atsmail.addresses a WHERE a.owner_kind = 'user'"
    "   AND a.owner_id = u.id AND a.is_primary), u.login,"
    " to_char(current_date, 'YYYY-MM-DD'),"
    " to_char(current_date, 'YYYY\"年\"FMMM\"月\"FMDD\"日\"'),"
    " r.kind, r.id, coalesce(nullif(r.rcpt, ''), pa.addr_norm, '')"
    " FROM unnest($1::text[], $2::bigint[], $3::text[])"
    "   WITH ORDINALITY AS r (kind, id, rcpt, ord)"
    " LEFT JOIN atsmail.resumes res ON r.kind = 'r' AND res.id = r.id"
    " LEFT JOIN atsmail.contacts con ON r.kind = 'c' AND con.id = r.id"
    " LEFT JOIN atsmail.companies cco ON cco.id = con.company_id"
    " LEFT JOIN LATERAL (SELECT a.addr_norm FROM atsmail.addresses a"
    "   WHERE a.owner_kind = CASE r.kind WHEN 'r' THEN 'resume' WHEN 'c' THEN 'contact' END"
    "   AND a.owner_id = r.id AND a.is_primary) pa ON true"
    " LEFT JOIN atsmail.jobs j ON j.id = $4::bigint"
    " LEFT JOIN atsmail.companies jc ON jc.id = j.company_id"
    " LEFT JOIN atsmail.processes p ON p.resume_id = res.id AND p.job_id = j.id"
    " LEFT JOIN atsmail.phases ph ON ph.kind = 'process' AND ph.code = p.phase"
    " LEFT JOIN atsmail.users u ON u.id = $5::bigint"
    " ORDER BY r.ord";

int
atsm_tpl_db_fields(PGconn *c, size_t n, const char *kinds, const long long *ids,
    const char *const *rcpts, long long job_id, long long user_id,
    struct atsm_tpl_fields *out, struct atsm_err *err)
{
	struct atsm_buf ka, ia, ra;
	char **kv = NULL, **rv = NULL, jid[24], uid[24];
	const char *params[5];
	PGresult *r = NULL;
	size_t i, ncol;
	int rc = -1;

	if (n == 0)
		return 0;
	for (ncol = 0; columns[ncol] != NULL; ncol++)
		;
	atsm_buf_init(&ka, 0);
	atsm_buf_init(&ia, 0);
	atsm_buf_init(&ra, 64u * 1024u * 1024u);
	ka.limit = ia.limit = 16u * 1024u * 1024u;
	kv = calloc(n, sizeof(*kv));
	rv = calloc(n, sizeof(*rv));
	if (kv == NULL || rv == NULL) {
		atsm_err_setc(err, ATSM_ERR_NOMEM, "template values: out of memory");
		goto done;
	}
	for (i = 0; i < n; i++) {
		static char k_r[] = "r", k_c[] = "c", k_none[] = "-", empty[] = "";

		kv[i] = kinds[i] == 'r' ? k_r : kinds[i] == 'c' ? k_c : k_none;
		rv[i] = rcpts != NULL && rcpts[i] != NULL ?
		    (char *)(uintptr_t)rcpts[i] : empty;
	}
	if (atsm_out_sql_text_array(kv, n, &ka) < 0 ||
	    atsm_out_sql_int_array(ids, n, &ia) < 0 ||
	    atsm_out_sql_text_array(rv, n, &ra) < 0) {
		atsm_err_set(err, "template values: %zu recipients are too many "
		    "for one statement", n);
		goto done;
	}
	snprintf(jid, sizeof(jid), "%lld", job_id);
	snprintf(uid, sizeof(uid), "%lld", user_id);
	params[0] = atsm_buf_str(&ka);
	params[1] = atsm_buf_str(&ia);
	params[2] = atsm_buf_str(&ra);
	params[3] = job_id > 0 ? jid : NULL;
	params[4] = uid;
	if ((r = atsm_db_exec(c, fields_sql, 5, params, err)) == NULL) {
		atsm_err_prefix(err, "template values");
		goto done;
	}
	if ((size_t)PQntuples(r) != n) {
		atsm_err_setc(err, ATSM_ERR_INTERNAL, "template values: %d rows "
		    "for %zu recipients", PQntuples(r), n);
		goto done;
	}
	for (i = 0; i < n; i++) {
		struct atsm_tpl_fields *f = &out[i];
		size_t k;
		char kind = PQgetvalue(r, (int)i, (int)ncol + 1)[0];
		const char *rid = PQgetvalue(r, (int)i, (int)ncol + 2);
		const char *addr = PQgetvalue(r, (int)i, (int)ncol + 3);

		for (k = 0; k < ncol; k++) {
			const char *v = PQgetisnull(r, (int)i, (int)k + 1) ? NULL :
			    PQgetvalue(r, (int)i, (int)k + 1);

			if (atsm_tpl_fields_set(f, columns[k], v) < 0) {
				atsm_err_setc(err, ATSM_ERR_NOMEM,
				    "template values: out of memory");
				goto done;
			}
		}
		if (kind == 'r' || kind == 'c')
			snprintf(f->what, sizeof(f->what), "%s %s%s%s%s",
			    kind == 'r' ? "resume" : "contact", rid,
			    addr[0] != '\0' ? " <" : "", addr, addr[0] != '\0' ? ">" : "");
		else
			snprintf(f->what, sizeof(f->what), "<%s>", addr);
	}
	rc = 0;
done:
	PQclear(r);
	free(kv);
	free(rv);
	atsm_buf_free(&ka);
	atsm_buf_free(&ia);
	atsm_buf_free(&ra);
	return rc;
}
