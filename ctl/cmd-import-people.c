/* cmd-import-people.c -- atsmailctl import resumes|contacts: one row.
 *
 * Resumes and contacts are the same shape (a person with addresses, a
 * phase, an owner and a sharing flag; a contact also works for a
 * company), so one reader serves both.  A row names its record by its
 * external id, else by its first address; a new record's phase and a
 * changed one are written to phase_history, whose trigger audits them.
 * Columns the file does not have keep the record's values.
 */
#include "cmd-import.h"

#include <stdio.h>
#include <string.h>

enum outcome
ctl_imp_row_person(struct imp *im, struct atsm_csv_record *rec)
{
	const char *kind = im->kind == K_RESUMES ? "resume" : "contact";
	const char *table = im->kind == K_RESUMES ? "atsmail.resumes" : "atsmail.contacts";
	char *name = ctl_imp_cell(im, rec, F_NAME), *kana = ctl_imp_cell(im, rec, F_KANA);
	char *email = ctl_imp_cell(im, rec, F_EMAIL), *ext = ctl_imp_cell(im, rec, F_EXTID);
	char *phase = ctl_imp_cell(im, rec, F_PHASE), *owner = ctl_imp_cell(im, rec, F_OWNER);
	char *shared = ctl_imp_cell(im, rec, F_SHARED);
	char *company = ctl_imp_cell(im, rec, F_COMPANY);
	char *company_ext = ctl_imp_cell(im, rec, F_COMPANY_EXTID);
	char id[32] = "", phase_code[40] = "", owner_id[32] = "", company_id[32] = "";
	char sql[1200];
	const char *p[10];
	bool shared_v = true;
	PGresult *res;
	enum outcome o;
	int r, added;

	if (name == NULL || *name == '\0') {
		ctl_imp_error(im, "name is empty");
		return O_BAD;
	}
	if (email != NULL && ctl_imp_parse_addrs(im, "email", email) < 0)
		return O_BAD;
	if (ctl_imp_nz(shared) != NULL && ctl_ops_bool(shared, &shared_v) < 0) {
		ctl_imp_error(im, "shared '%s' is not yes or no", shared);
		return O_BAD;
	}
	if (ctl_imp_nz(phase) != NULL && (r = ctl_imp_resolve_phase(im, kind, phase, phase_code,
	    sizeof(phase_code))) != 0)
		return r == -2 ? ctl_imp_failed(im) : O_BAD;
	if (ctl_imp_nz(owner) != NULL && (r = ctl_imp_resolve_owner(im, owner,
	    owner_id, sizeof(owner_id))) != 0)
		return r == -2 ? ctl_imp_failed(im) : O_BAD;
	if (im->kind == K_CONTACTS &&
	    (ctl_imp_nz(company_ext) != NULL || ctl_imp_nz(company) != NULL)) {
		r = ctl_imp_resolve_company(im, company, company_ext, company_id,
		    sizeof(company_id));
		if (r != 0)
			return r == -2 ? ctl_imp_failed(im) : O_BAD;
	}

	/* which record: the external id, else the first address */
	if (ctl_imp_nz(ext) != NULL) {
		p[0] = ext;
		snprintf(sql, sizeof(sql), "SELECT id FROM %s WHERE external_id = $1", table);
		r = ctl_imp_one_id(im, sql, 1, p, "id", id, sizeof(id));
	} else if (im->naddrs > 0) {
		p[0] = kind;
		p[1] = im->addrs[0];
		r = ctl_imp_one_id(im, "SELECT DISTINCT owner_id FROM atsmail.addresses"
		    " WHERE owner_kind = $1 AND addr_norm = $2 ORDER BY 1", 2, p,
		    "the address", id, sizeof(id));
	} else {
		r = 1;
	}
	if (r < 0)
		return r == -2 ? ctl_imp_failed(im) : O_BAD;

	p[0] = name;
	p[1] = kana;                       /* NULL: no column, keep */
	p[2] = ctl_imp_nz(phase_code);
	p[3] = ctl_imp_nz(shared) != NULL ? (shared_v ? "t" : "f") : NULL;
	p[4] = ctl_imp_nz(owner_id);
	p[5] = ctl_imp_nz(ext);
	p[6] = ctl_imp_nz(company_id);
	if (r == 1) {
		snprintf(sql, sizeof(sql), "INSERT INTO %s (name, kana, phase, shared, owner_id,"
		    " created_from, external_id%s) VALUES ($1, nullif($2, ''), coalesce($3, 'new'),"
		    " coalesce($4::boolean, false), $5, 'import', $6%s) RETURNING id, phase",
		    table, im->kind == K_CONTACTS ? ", company_id" : "",
		    im->kind == K_CONTACTS ? ", $7" : "");
		if ((res = ctl_imp_q(im, sql, im->kind == K_CONTACTS ? 7 : 6, p)) == NULL)
			return ctl_imp_failed(im);
		snprintf(id, sizeof(id), "%s", PQgetvalue(res, 0, 0));
		PQclear(res);
		if (ctl_imp_nz(phase_code) != NULL && strcmp(phase_code, "new") != 0 &&
		    ctl_imp_phase_history(im, kind, id, NULL, phase_code) < 0)
			return ctl_imp_failed(im);
		o = O_NEW;
	} else {
		/* old is the row before the update: say whether anything changed
		 * and what the phase was */
		p[7] = id;
		p[8] = kana != NULL ? "t" : "f";
		snprintf(sql, sizeof(sql),
		    "WITH old AS (SELECT * FROM %s WHERE id = $8 FOR UPDATE)"
		    " UPDATE %s t SET name = $1,"
		    " kana = CASE WHEN $9::boolean THEN nullif($2, '') ELSE old.kana END,"
		    " phase = coalesce($3, old.phase), shared = coalesce($4::boolean, old.shared),"
		    " owner_id = coalesce($5::bigint, old.owner_id),"
		    " external_id = coalesce($6, old.external_id)%s"
		    " FROM old WHERE t.id = old.id%s"
		    " RETURNING (old.name, old.kana, old.phase, old.shared, old.owner_id,"
		    "  old.external_id%s) IS DISTINCT FROM (t.name, t.kana, t.phase, t.shared,"
		    "  t.owner_id, t.external_id%s), old.phase, t.phase",
		    table, table,
		    im->kind == K_CONTACTS ? ", company_id = coalesce($7::bigint, old.company_id)" :
		    "",
		    /* resumes have no company: $7 is always NULL for them */
		    im->kind == K_CONTACTS ? "" : " AND $7::bigint IS NULL",
		    im->kind == K_CONTACTS ? ", old.company_id" : "",
		    im->kind == K_CONTACTS ? ", t.company_id" : "");
		if ((res = ctl_imp_q(im, sql, 9, p)) == NULL)
			return ctl_imp_failed(im);
		o = strcmp(PQgetvalue(res, 0, 0), "t") == 0 ? O_UPDATED : O_SAME;
		if (strcmp(PQgetvalue(res, 0, 1), PQgetvalue(res, 0, 2)) != 0 &&
		    ctl_imp_phase_history(im, kind, id, PQgetvalue(res, 0, 1),
		    PQgetvalue(res, 0, 2)) < 0) {
			PQclear(res);
			return ctl_imp_failed(im);
		}
		PQclear(res);
	}
	if ((added = ctl_imp_add_addresses(im, kind, id, 0)) < 0)
		return ctl_imp_failed(im);
	if (o == O_SAME && added > 0)
		o = O_UPDATED;
	if (o == O_UPDATED) {
		p[0] = id;
		snprintf(sql, sizeof(sql), "UPDATE %s SET updated_at = now() WHERE id = $1", table);
		if (atsm_db_command(im->conn, sql, 1, p, &im->err) < 0)
			return ctl_imp_failed(im);
	}
	return o;
}
