/* cmd-import-jobs.c -- atsmailctl import jobs: one row.
 *
 * A job is named by its external id, else by its title within its company
 * (a title alone repeats across companies); the company must have been
 * imported first.  The status accepts its Japanese spellings.
 */
#include "cmd-import.h"

#include <string.h>

static const struct word statuses[] = {
	{ "open", "open" }, { "on_hold", "on_hold" }, { "closed", "closed" },
	{ "filled", "filled" }, { "募集中", "open" }, { "公開", "open" }, { "保留", "on_hold" },
	{ "一時停止", "on_hold" }, { "終了", "closed" }, { "募集終了", "closed" },
	{ "クローズ", "closed" }, { "充足", "filled" }, { "採用決定", "filled" }, { NULL, NULL }
};

enum outcome
ctl_imp_row_job(struct imp *im, struct atsm_csv_record *rec)
{
	char *title = ctl_imp_cell(im, rec, F_TITLE), *status = ctl_imp_cell(im, rec, F_STATUS);
	char *ext = ctl_imp_cell(im, rec, F_EXTID), *company = ctl_imp_cell(im, rec, F_COMPANY);
	char *company_ext = ctl_imp_cell(im, rec, F_COMPANY_EXTID);
	char id[32] = "", company_id[32] = "";
	const char *p[5], *st = NULL;
	PGresult *res;
	enum outcome o;
	int r;

	if (title == NULL || *title == '\0') {
		ctl_imp_error(im, "title is empty");
		return O_BAD;
	}
	if (ctl_imp_nz(status) != NULL && (st = ctl_imp_word(statuses, status)) == NULL) {
		ctl_imp_error(im, "status '%s' is not one of open, on_hold, closed, filled", status);
		return O_BAD;
	}
	if (ctl_imp_nz(company_ext) != NULL || ctl_imp_nz(company) != NULL) {
		r = ctl_imp_resolve_company(im, company, company_ext, company_id,
		    sizeof(company_id));
		if (r != 0)
			return r == -2 ? ctl_imp_failed(im) : O_BAD;
	}
	if (ctl_imp_nz(ext) != NULL) {
		p[0] = ext;
		r = ctl_imp_one_id(im, "SELECT id FROM atsmail.jobs WHERE external_id = $1", 1, p, "id",
		    id, sizeof(id));
	} else {
		p[0] = title;
		p[1] = ctl_imp_nz(company_id);
		r = ctl_imp_one_id(im, "SELECT id FROM atsmail.jobs WHERE title = $1"
		    " AND company_id IS NOT DISTINCT FROM $2::bigint ORDER BY id", 2, p, "title",
		    id, sizeof(id));
	}
	if (r < 0)
		return r == -2 ? ctl_imp_failed(im) : O_BAD;
	p[0] = title;
	p[1] = st;
	p[2] = ctl_imp_nz(company_id);
	p[3] = ctl_imp_nz(ext);
	if (r == 1) {
		res = ctl_imp_q(im, "INSERT INTO atsmail.jobs (title, status, company_id, external_id)"
		    " VALUES ($1, coalesce($2, 'open'), $3, $4) RETURNING id", 4, p);
		o = O_NEW;
	} else {
		p[4] = id;
		res = ctl_imp_q(im, "WITH old AS (SELECT * FROM atsmail.jobs WHERE id = $5 FOR UPDATE)"
		    " UPDATE atsmail.jobs t SET title = $1, status = coalesce($2, old.status),"
		    " company_id = coalesce($3::bigint, old.company_id),"
		    " external_id = coalesce($4, old.external_id),"
		    " updated_at = CASE WHEN (old.title, old.status, old.company_id, old.external_id)"
		    "  IS DISTINCT FROM ($1, coalesce($2, old.status), coalesce($3::bigint,"
		    "  old.company_id), coalesce($4, old.external_id)) THEN now()"
		    "  ELSE old.updated_at END"
		    " FROM old WHERE t.id = old.id RETURNING t.updated_at <> old.updated_at", 5, p);
		o = O_SAME;
		if (res != NULL && strcmp(PQgetvalue(res, 0, 0), "t") == 0)
			o = O_UPDATED;
	}
	if (res == NULL)
		return ctl_imp_failed(im);
	PQclear(res);
	return o;
}
