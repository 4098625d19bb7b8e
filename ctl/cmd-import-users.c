/* cmd-import-users.c -- atsmailctl import users: one row.
 *
 * A user is named by its login; a login that is an address is also the
 * user's primary sender address, and the addresses column adds more.  A
 * sender address identifies one user only, so an address that already
 * belongs to another user makes the row bad rather than moving it.
 */
#include "cmd-import.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mail/addr.h"

static const struct word roles[] = {
	{ "recruiter", "recruiter" }, { "admin", "admin" }, { "auditor", "auditor" },
	{ "採用担当", "recruiter" }, { "リクルーター", "recruiter" }, { "一般", "recruiter" },
	{ "管理者", "admin" }, { "監査", "auditor" }, { "監査役", "auditor" }, { NULL, NULL }
};
static const struct word modes[] = {
	{ "admin", "admin" }, { "public", "public" }, { "custom", "custom" },
	{ "private", "private" }, { "管理者", "admin" }, { "管理者のみ", "admin" },
	{ "公開", "public" }, { "カスタム", "custom" }, { "個別", "custom" },
	{ "非公開", "private" }, { NULL, NULL }
};

enum outcome
ctl_imp_row_user(struct imp *im, struct atsm_csv_record *rec)
{
	char *login = ctl_imp_cell(im, rec, F_LOGIN), *name = ctl_imp_cell(im, rec, F_NAME);
	char *role = ctl_imp_cell(im, rec, F_ROLE), *mode = ctl_imp_cell(im, rec, F_MODE);
	char *defshare = ctl_imp_cell(im, rec, F_DEFSHARE);
	char *addrs = ctl_imp_cell(im, rec, F_ADDRS);
	char *active = ctl_imp_cell(im, rec, F_ACTIVE);
	char *norm = NULL, id[32];
	const char *p[7], *rv = NULL, *mv = NULL;
	bool ds = true, av = true;
	struct atsm_err aerr;
	PGresult *res;
	enum outcome o;
	size_t i;
	int r, added;

	if (login == NULL || *login == '\0') {
		ctl_imp_error(im, "login is empty");
		return O_BAD;
	}
	if (strpbrk(login, " \t") != NULL) {
		ctl_imp_error(im, "login '%s' contains white space", login);
		return O_BAD;
	}
	if (strchr(login, '@') != NULL && atsm_addr_normalize(login, &norm, &aerr) < 0) {
		ctl_imp_error(im, "login '%s' is not an address", login);
		return O_BAD;
	}
	if (ctl_imp_nz(role) != NULL && (rv = ctl_imp_word(roles, role)) == NULL) {
		ctl_imp_error(im, "role '%s' is not one of recruiter, admin, auditor", role);
		goto bad;
	}
	if (ctl_imp_nz(mode) != NULL && (mv = ctl_imp_word(modes, mode)) == NULL) {
		ctl_imp_error(im, "sharing_mode '%s' is not one of admin, public, custom, private", mode);
		goto bad;
	}
	if (ctl_imp_nz(defshare) != NULL && ctl_ops_bool(defshare, &ds) < 0) {
		ctl_imp_error(im, "default_share '%s' is not yes or no", defshare);
		goto bad;
	}
	if (ctl_imp_nz(active) != NULL && ctl_ops_bool(active, &av) < 0) {
		ctl_imp_error(im, "active '%s' is not yes or no", active);
		goto bad;
	}
	if (ctl_imp_parse_addrs(im, "addresses", addrs != NULL ? addrs : (char *)"") < 0)
		goto bad;
	/* the login, when it is an address, is the primary sender address */
	if (norm != NULL) {
		if (im->naddrs >= IMPORT_ADDRS_MAX) {
			ctl_imp_error(im, "more than %d addresses", IMPORT_ADDRS_MAX);
			goto bad;
		}
		memmove(im->addrs + 1, im->addrs, im->naddrs * sizeof(im->addrs[0]));
		im->addrs[0] = strdup(norm);
		im->naddrs++;
		if (im->addrs[0] == NULL) {
			ctl_imp_error(im, "out of memory");
			goto bad;
		}
		for (i = 1; i < im->naddrs; i++)
			if (strcmp(im->addrs[i], norm) == 0) {
				free(im->addrs[i]);
				im->addrs[i] = im->addrs[--im->naddrs];
				break;
			}
	}
	p[0] = norm != NULL ? norm : login;
	r = ctl_imp_one_id(im, "SELECT id FROM atsmail.users WHERE login = $1", 1, p, "login", id,
	    sizeof(id));
	if (r == -2) {
		free(norm);
		return ctl_imp_failed(im);
	}
	/* a sender address identifies one user only */
	for (i = 0; i < im->naddrs; i++) {
		const char *pp[2] = { im->addrs[i], r == 0 ? id : NULL };

		if ((res = ctl_imp_q(im, "SELECT u.login FROM atsmail.addresses a JOIN atsmail.users u"
		    " ON u.id = a.owner_id WHERE a.owner_kind = 'user' AND a.addr_norm = $1"
		    " AND a.owner_id IS DISTINCT FROM $2::bigint", 2, pp)) == NULL) {
			free(norm);
			return ctl_imp_failed(im);
		}
		if (PQntuples(res) > 0) {
			ctl_imp_error(im, "address '%s' already belongs to user %s", im->addrs[i],
			    PQgetvalue(res, 0, 0));
			PQclear(res);
			goto bad;
		}
		PQclear(res);
	}
	p[1] = name;
	p[2] = rv;
	p[3] = mv;
	p[4] = ctl_imp_nz(defshare) != NULL ? (ds ? "t" : "f") : NULL;
	p[5] = ctl_imp_nz(active) != NULL ? (av ? "t" : "f") : NULL;
	if (r == 1) {
		res = ctl_imp_q(im, "INSERT INTO atsmail.users (login, display_name, role, sharing_mode,"
		    " default_share, active) VALUES ($1, coalesce($2, ''), coalesce($3, 'recruiter'),"
		    " coalesce($4, 'custom'), coalesce($5::boolean, false), coalesce($6::boolean, true))"
		    " RETURNING id", 6, p);
		o = O_NEW;
	} else {
		p[6] = id;
		res = ctl_imp_q(im, "WITH old AS (SELECT * FROM atsmail.users WHERE id = $7 FOR UPDATE)"
		    " UPDATE atsmail.users t SET display_name = coalesce($2, old.display_name),"
		    " role = coalesce($3, old.role), sharing_mode = coalesce($4, old.sharing_mode),"
		    " default_share = coalesce($5::boolean, old.default_share),"
		    " active = coalesce($6::boolean, old.active),"
		    " updated_at = CASE WHEN (old.display_name, old.role, old.sharing_mode,"
		    "  old.default_share, old.active) IS DISTINCT FROM (coalesce($2, old.display_name),"
		    "  coalesce($3, old.role), coalesce($4, old.sharing_mode),"
		    "  coalesce($5::boolean, old.default_share), coalesce($6::boolean, old.active))"
		    "  THEN now() ELSE old.updated_at END"
		    /* $1 (the login) found the row; named so that the statement
		     * takes the same parameters as the INSERT */
		    " FROM old WHERE t.id = old.id AND $1::text IS NOT NULL"
		    " RETURNING t.id, t.updated_at <> old.updated_at", 7, p);
		o = O_SAME;
		if (res != NULL && strcmp(PQgetvalue(res, 0, 1), "t") == 0)
			o = O_UPDATED;
	}
	free(norm);
	norm = NULL;
	if (res == NULL)
		return ctl_imp_failed(im);
	snprintf(id, sizeof(id), "%s", PQgetvalue(res, 0, 0));
	PQclear(res);
	if ((added = ctl_imp_add_addresses(im, "user", id, 0)) < 0)
		return ctl_imp_failed(im);
	if (o == O_SAME && added > 0)
		o = O_UPDATED;
	return o;
bad:
	free(norm);
	return O_BAD;
}
