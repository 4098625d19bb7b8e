/* cmd-import-companies.c -- atsmailctl import companies: one row.
 *
 * A company is named by its external id, else by its name; the update
 * says whether anything changed by moving updated_at only then.
 */
#include "cmd-import.h"

#include <string.h>

enum outcome
ctl_imp_row_company(struct imp *im, struct atsm_csv_record *rec)
{
	char *name = ctl_imp_cell(im, rec, F_NAME), *note = ctl_imp_cell(im, rec, F_NOTE);
	char *ext = ctl_imp_cell(im, rec, F_EXTID);
	char id[32];
	const char *p[4];
	PGresult *res;
	enum outcome o;
	int r;

	if (name == NULL || *name == '\0') {
		ctl_imp_error(im, "name is empty");
		return O_BAD;
	}
	p[0] = ctl_imp_nz(ext) != NULL ? ext : name;
	r = ctl_imp_one_id(im, ctl_imp_nz(ext) != NULL ?
	    "SELECT id FROM atsmail.companies WHERE external_id = $1" :
	    "SELECT id FROM atsmail.companies WHERE name = $1 ORDER BY id", 1, p, "company",
	    id, sizeof(id));
	if (r < 0)
		return r == -2 ? ctl_imp_failed(im) : O_BAD;
	p[0] = name;
	p[1] = note;
	p[2] = ctl_imp_nz(ext);
	if (r == 1) {
		res = ctl_imp_q(im, "INSERT INTO atsmail.companies (name, note, external_id)"
		    " VALUES ($1, nullif($2, ''), $3) RETURNING id", 3, p);
		o = O_NEW;
	} else {
		p[3] = id;
		res = ctl_imp_q(im, "WITH old AS (SELECT * FROM atsmail.companies WHERE id = $4::bigint"
		    "  FOR UPDATE)"
		    " UPDATE atsmail.companies t SET name = $1::text,"
		    " note = CASE WHEN $2::text IS NULL THEN old.note ELSE nullif($2::text, '') END,"
		    " external_id = coalesce($3::text, old.external_id),"
		    " updated_at = CASE WHEN (old.name, old.note, old.external_id) IS DISTINCT FROM"
		    "  ($1::text, CASE WHEN $2::text IS NULL THEN old.note ELSE nullif($2::text, '') END,"
		    "   coalesce($3::text, old.external_id)) THEN now() ELSE old.updated_at END"
		    " FROM old WHERE t.id = old.id"
		    " RETURNING t.updated_at <> old.updated_at", 4, p);
		o = O_SAME;
		if (res != NULL && strcmp(PQgetvalue(res, 0, 0), "t") == 0)
			o = O_UPDATED;
	}
	if (res == NULL)
		return ctl_imp_failed(im);
	PQclear(res);
	return o;
}
