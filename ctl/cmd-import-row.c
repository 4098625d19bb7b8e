/* cmd-import-row.c -- atsmailctl import: what the rows of every kind use.
 *
 * Cells are trimmed (ASCII white space and the ideographic space U+3000,
 * which Japanese spreadsheets leave behind); a cell may list several
 * addresses; closed sets (roles, modes, statuses) accept their Japanese
 * spellings.  A row names other records by value -- a phase by code or
 * label, an owner by login or name, a company by id or name -- and each
 * lookup must find exactly one, or the row is reported and skipped.
 */
#include "cmd-import.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "mail/addr.h"

/* ---- statements ---- */

/* A statement of the current row; NULL after storing the failure. */
PGresult *
ctl_imp_q(struct imp *im, const char *sql, int n, const char *const *p)
{
	return atsm_db_exec(im->conn, sql, n, p, &im->err);
}

/* The outcome of a failed statement: the database is gone, or the row is
 * bad (the server said why). */
enum outcome
ctl_imp_failed(struct imp *im)
{
	if (im->err.cls == ATSM_ERR_UNAVAILABLE)
		return O_DOWN;
	ctl_imp_error(im, "%s", im->err.msg);
	return O_BAD;
}

/* ---- cells ---- */

/* Trim ASCII white space and U+3000 at both ends, in place. */
char *
ctl_imp_trim(char *s)
{
	size_t n;

	for (;;) {
		if (*s == ' ' || *s == '\t' || *s == '\n' || *s == '\r')
			s++;
		else if (strncmp(s, "\xE3\x80\x80", 3) == 0)
			s += 3;
		else
			break;
	}
	n = strlen(s);
	for (;;) {
		if (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\n' ||
		    s[n - 1] == '\r'))
			n--;
		else if (n >= 3 && strncmp(s + n - 3, "\xE3\x80\x80", 3) == 0)
			n -= 3;
		else
			break;
	}
	s[n] = '\0';
	return s;
}

/* The value of field f in this row: NULL when the file has no such column,
 * "" when the cell is empty. */
char *
ctl_imp_cell(struct imp *im, struct atsm_csv_record *rec, enum field f)
{
	return im->col[f] < 0 ? NULL : ctl_imp_trim(rec->fields[im->col[f]]);
}

const char *
ctl_imp_nz(const char *s)
{
	return s != NULL && *s != '\0' ? s : NULL;
}

const char *
ctl_imp_word(const struct word *w, const char *in)
{
	for (; w->in != NULL; w++)
		if (strcasecmp(w->in, in) == 0)
			return w->out;
	return NULL;
}

void
ctl_imp_addrs_free(struct imp *im)
{
	size_t i;

	for (i = 0; i < im->naddrs; i++)
		free(im->addrs[i]);
	im->naddrs = 0;
}

/* Split a cell of addresses (';', ',', '、', '；' or line breaks) into
 * im->addrs, normalised.  -1 after reporting the first bad one. */
int
ctl_imp_parse_addrs(struct imp *im, const char *what, char *cell)
{
	char *p = cell, *tok, *norm;
	struct atsm_err err;
	size_t i;

	ctl_imp_addrs_free(im);
	while (*p != '\0') {
		size_t n = strcspn(p, ";,\n\r");
		char *sep;

		/* the full-width separators are UTF-8 sequences: cut at them too */
		if ((sep = strstr(p, "、")) != NULL && (size_t)(sep - p) < n)
			n = (size_t)(sep - p);
		if ((sep = strstr(p, "；")) != NULL && (size_t)(sep - p) < n)
			n = (size_t)(sep - p);
		tok = p;
		if (p[n] == '\0') {
			p += n;
		} else {
			bool wide = (unsigned char)p[n] == 0xE3 || (unsigned char)p[n] == 0xEF;

			p[n] = '\0';
			p += n + (wide ? 3 : 1);
		}
		tok = ctl_imp_trim(tok);
		if (*tok == '\0')
			continue;
		if (atsm_addr_normalize(tok, &norm, &err) < 0) {
			ctl_imp_error(im, "%s '%s' is not an address", what, tok);
			return -1;
		}
		for (i = 0; i < im->naddrs; i++)
			if (strcmp(im->addrs[i], norm) == 0)
				break;
		if (i < im->naddrs) {
			free(norm);
			continue;
		}
		if (im->naddrs >= IMPORT_ADDRS_MAX) {
			free(norm);
			ctl_imp_error(im, "more than %d addresses in the %s column", IMPORT_ADDRS_MAX,
			    what);
			return -1;
		}
		im->addrs[im->naddrs++] = norm;
	}
	return 0;
}

/* ---- lookups and writes ---- */

/* A single id from a lookup: 0 = found (*id), 1 = none, -1 = several
 * (reported), -2 = statement failed. */
int
ctl_imp_one_id(struct imp *im, const char *sql, int n, const char *const *p, const char *what,
    char *id, size_t idsz)
{
	PGresult *res;
	int r;

	if ((res = ctl_imp_q(im, sql, n, p)) == NULL)
		return -2;
	if (PQntuples(res) == 0) {
		r = 1;
	} else if (PQntuples(res) > 1) {
		ctl_imp_error(im, "%s matches %d records (ids %s, %s%s); give an id column to tell "
		    "them apart", what, PQntuples(res), PQgetvalue(res, 0, 0), PQgetvalue(res, 1, 0),
		    PQntuples(res) > 2 ? ", ..." : "");
		r = -1;
	} else {
		snprintf(id, idsz, "%s", PQgetvalue(res, 0, 0));
		r = 0;
	}
	PQclear(res);
	return r;
}

/* The phase code for a code or label of kind ("resume", "contact"). */
int
ctl_imp_resolve_phase(struct imp *im, const char *kind, const char *v, char *code, size_t sz)
{
	const char *p[2] = { kind, v };
	int r;

	r = ctl_imp_one_id(im, "SELECT code FROM atsmail.phases WHERE kind = $1 AND active"
	    " AND (code = $2 OR label = $2) ORDER BY code = $2 DESC LIMIT 1", 2, p,
	    "phase", code, sz);
	if (r == 1)
		ctl_imp_error(im, "phase '%s' is not an active %s phase (see "
		    CTL_PROGNAME " policy phase list %s)", v, kind, kind);
	return r;
}

int
ctl_imp_resolve_owner(struct imp *im, const char *v, char *id, size_t sz)
{
	char *norm = NULL;
	const char *p[2];
	int r;

	if (strchr(v, '@') != NULL && atsm_addr_normalize(v, &norm, NULL) < 0)
		norm = NULL;
	p[0] = norm != NULL ? norm : v;
	p[1] = v;
	r = ctl_imp_one_id(im, "SELECT id FROM atsmail.users WHERE login = $1 OR display_name = $2"
	    " ORDER BY id", 2, p, "owner", id, sz);
	if (r == 1)
		ctl_imp_error(im, "owner '%s' is not a user (login or name)", v);
	free(norm);
	return r;
}

/* The company a row names by id (company_ext) or name: as
 * ctl_imp_one_id(), and reported when there is none. */
int
ctl_imp_resolve_company(struct imp *im, const char *company,
    const char *company_ext, char *id, size_t sz)
{
	const char *p[1];
	int r;

	p[0] = ctl_imp_nz(company_ext) != NULL ? company_ext : company;
	r = ctl_imp_one_id(im, ctl_imp_nz(company_ext) != NULL ?
	    "SELECT id FROM atsmail.companies WHERE external_id = $1" :
	    "SELECT id FROM atsmail.companies WHERE name = $1 ORDER BY id", 1, p,
	    "company", id, sz);
	if (r == 1)
		ctl_imp_error(im, "company '%s' is not known (import the companies first)",
		    p[0]);
	return r;
}

/* Add im->addrs to a record; the first becomes primary when the record has
 * none.  Returns the number of addresses added, or -1 (statement failed). */
int
ctl_imp_add_addresses(struct imp *im, const char *owner_kind, const char *id,
    size_t first_primary)
{
	const char *p[4];
	PGresult *res;
	size_t i;
	int added = 0;

	for (i = 0; i < im->naddrs; i++) {
		p[0] = owner_kind;
		p[1] = id;
		p[2] = im->addrs[i];
		p[3] = i == first_primary ? "t" : "f";
		res = ctl_imp_q(im, "INSERT INTO atsmail.addresses"
		    " (owner_kind, owner_id, addr_norm, is_primary)"
		    " SELECT $1, $2, $3, $4::boolean AND NOT EXISTS (SELECT 1 FROM atsmail.addresses"
		    "  WHERE owner_kind = $1 AND owner_id = $2 AND is_primary)"
		    " ON CONFLICT (owner_kind, owner_id, addr_norm) DO NOTHING RETURNING id", 4, p);
		if (res == NULL)
			return -1;
		added += PQntuples(res);
		PQclear(res);
	}
	return added;
}

/* Record a phase set by the import in phase_history (the trigger audits it). */
int
ctl_imp_phase_history(struct imp *im, const char *kind, const char *id, const char *from,
    const char *to)
{
	const char *p[4] = { kind, id, from, to };

	return atsm_db_command(im->conn, "INSERT INTO atsmail.phase_history"
	    " (kind, record_id, from_phase, to_phase, cause) VALUES ($1, $2, $3, $4, 'import')",
	    4, p, &im->err);
}
