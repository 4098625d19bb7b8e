/* cmd-policy-approval.c -- atsmailctl policy approval | group: who needs
 * approval and who approves (sql/020-approval.sql, docs/approval.md).
 *
 *   policy approval USER|@GROUP            show
 *   policy approval USER|@GROUP [--approver LOGIN]... [--remove-approver LOGIN]...
 *                               [--needs yes|no] [--off]
 *   policy group GROUP [add LOGIN... | remove LOGIN...]
 *
 * --approver adds an approver and turns approval on (the mail of someone
 * with an approver is meant to wait for them); --off (= --needs no) turns
 * it off and keeps the approvers.  A group that needs approval makes each
 * member need it (020: users.needs_approval stays the one flag the milter
 * reads).  Every change is one transaction with its audit entry
 * (policy.approval, policy.group), as the rest of `policy`.
 */
#include "ctl-ops.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define LOGINS_MAX 32

struct pa {
	struct ctl *ctl;
	const char *actor;
	const char *subject;             /* login, or the group without '@' */
	bool group;
	const char *add[LOGINS_MAX], *rm[LOGINS_MAX];
	int nadd, nrm;
	int needs;                       /* -1 keep, 0 no, 1 yes */
	struct atsm_err err;
};

static int
fail(struct pa *a, const char *what)
{
	atsm_db_rollback(a->ctl->conn);
	return ctl_ops_db_fail(what, &a->err);
}

static PGresult *
q(struct pa *a, const char *sql, int n, const char *const *p)
{
	return atsm_db_exec(a->ctl->conn, sql, n, p, &a->err);
}

/* One value of a one-row query ("" when no row), into buf. */
static int
one(struct pa *a, const char *sql, int n, const char *const *p, char *buf, size_t size,
    bool *found)
{
	PGresult *res;

	if ((res = q(a, sql, n, p)) == NULL)
		return -1;
	*found = PQntuples(res) > 0;
	snprintf(buf, size, "%s", *found ? PQgetvalue(res, 0, 0) : "");
	PQclear(res);
	return 0;
}

static void
show_rows(PGresult *res, const char *label)
{
	int i;

	printf("%-15s", label);
	for (i = 0; i < PQntuples(res); i++)
		printf("%s%s", i ? ", " : "", PQgetvalue(res, i, 0));
	printf("%s\n", PQntuples(res) == 0 ? "-" : "");
}

static int
show(struct pa *a, const char *id)
{
	const char *p[1] = { a->group ? a->subject : id };
	PGresult *res;

	printf("%-15s%s%s\n", a->group ? "group" : "user", a->group ? "@" : "", a->subject);
	res = q(a, a->group ?
	    "SELECT CASE WHEN needs_approval THEN 'yes' ELSE 'no' END FROM atsmail.approval_groups"
	    " WHERE group_name = $1" :
	    "SELECT CASE WHEN needs_approval THEN 'yes' ELSE 'no' END FROM atsmail.users"
	    " WHERE id = $1::bigint", 1, p);
	if (res == NULL)
		return fail(a, "policy approval");
	printf("%-15s%s\n", "needs_approval", PQntuples(res) ? PQgetvalue(res, 0, 0) : "no");
	PQclear(res);
	if ((res = q(a, a->group ?
	    "SELECT u.login FROM atsmail.approvers a JOIN atsmail.users u ON u.id = a.approver_id"
	    " WHERE a.group_name = $1 ORDER BY u.login" :
	    "SELECT u.login FROM atsmail.approvers a JOIN atsmail.users u ON u.id = a.approver_id"
	    " WHERE a.user_id = $1::bigint ORDER BY u.login", 1, p)) == NULL)
		return fail(a, "policy approval");
	show_rows(res, "approvers");
	PQclear(res);
	if (a->group) {
		if ((res = q(a, "SELECT u.login FROM atsmail.user_groups g JOIN atsmail.users u"
		    " ON u.id = g.user_id WHERE g.group_name = $1 ORDER BY u.login", 1, p)) == NULL)
			return fail(a, "policy approval");
		show_rows(res, "members");
		PQclear(res);
	} else {
		if ((res = q(a, "SELECT '@' || group_name FROM atsmail.user_groups"
		    " WHERE user_id = $1::bigint ORDER BY 1", 1, p)) == NULL)
			return fail(a, "policy approval");
		show_rows(res, "groups");
		PQclear(res);
		/* who is told and may decide: their own, their groups', else the admins */
		if ((res = q(a, "SELECT u.login FROM atsmail.approvers_of($1::bigint) o"
		    " JOIN atsmail.users u ON u.id = o.approver_id ORDER BY u.login", 1, p)) == NULL)
			return fail(a, "policy approval");
		show_rows(res, "approved_by");
		PQclear(res);
	}
	atsm_db_rollback(a->ctl->conn);
	return CTL_EXIT_OK;
}

static int
change(struct pa *a, const char *id)
{
	const char *p[3];
	char uid[32], buf[16];
	json_t *added = json_array(), *removed = json_array();
	bool found;
	int i, n = 0;

	p[0] = a->group ? a->subject : id;
	for (i = 0; i < a->nadd + a->nrm; i++) {
		bool add = i < a->nadd;
		const char *login = add ? a->add[i] : a->rm[i - a->nadd];

		p[1] = login;
		if (one(a, "SELECT id FROM atsmail.users WHERE login = $1 AND active", 1, p + 1, uid,
		    sizeof(uid), &found) < 0)
			goto dbfail;
		if (!found) {
			atsm_db_rollback(a->ctl->conn);
			ctl_error("policy approval: no active user '%s' to %s", login,
			    add ? "approve" : "remove");
			json_decref(added);
			json_decref(removed);
			return CTL_EXIT_FAIL;
		}
		p[1] = uid;
		if (one(a, add ? (a->group ?
		    "INSERT INTO atsmail.approvers (group_name, approver_id) VALUES ($1, $2::bigint)"
		    " ON CONFLICT DO NOTHING RETURNING 1" :
		    "INSERT INTO atsmail.approvers (user_id, approver_id) VALUES ($1::bigint,"
		    " $2::bigint) ON CONFLICT DO NOTHING RETURNING 1") : (a->group ?
		    "DELETE FROM atsmail.approvers WHERE group_name = $1 AND approver_id = $2::bigint"
		    " RETURNING 1" :
		    "DELETE FROM atsmail.approvers WHERE user_id = $1::bigint AND approver_id ="
		    " $2::bigint RETURNING 1"), 2, p, buf, sizeof(buf), &found) < 0)
			goto dbfail;
		if (found) {
			json_array_append_new(add ? added : removed, json_string(login));
			printf("%s%s: approver %s %s\n", a->group ? "@" : "", a->subject, login,
			    add ? "added" : "removed");
			n++;
		}
	}
	if (a->needs >= 0) {
		p[1] = a->needs ? "t" : "f";
		if (one(a, a->group ?
		    "UPDATE atsmail.approval_groups SET needs_approval = $2::boolean"
		    " WHERE group_name = $1 AND needs_approval <> $2::boolean RETURNING 1" :
		    "UPDATE atsmail.users SET needs_approval = $2::boolean, updated_at = now()"
		    " WHERE id = $1::bigint AND needs_approval <> $2::boolean RETURNING 1",
		    2, p, buf, sizeof(buf), &found) < 0)
			goto dbfail;
		if (found) {
			printf("%s%s: needs_approval -> %s\n", a->group ? "@" : "", a->subject,
			    a->needs ? "yes" : "no");
			n++;
			if (a->group && one(a, "SELECT atsmail.approval_group_sync($1)", 1, p, buf,
			    sizeof(buf), &found) < 0)
				goto dbfail;
			if (a->group)
				printf("@%s: %s member(s) changed\n", a->subject, buf);
		}
	}
	if (n == 0) {
		atsm_db_rollback(a->ctl->conn);
		json_decref(added);
		json_decref(removed);
		printf("%s%s: unchanged\n", a->group ? "@" : "", a->subject);
		return CTL_EXIT_OK;
	}
	if (ctl_ops_audit(a->ctl->conn, a->actor, "policy.approval", a->group ? "group" : "user",
	    a->subject, json_pack("{s:o, s:o, s:s?}", "approvers_added", added,
	    "approvers_removed", removed, "needs_approval", a->needs < 0 ? NULL :
	    a->needs ? "yes" : "no"), &a->err) < 0 || atsm_db_commit(a->ctl->conn, &a->err) < 0)
		return fail(a, "policy approval");
	return CTL_EXIT_OK;
dbfail:
	json_decref(added);
	json_decref(removed);
	return fail(a, "policy approval");
}

static int
approval(struct pa *a)
{
	const char *p[1] = { a->subject };
	char id[32];
	bool found;
	int rc;

	if ((rc = ctl_connect(a->ctl)) != 0)
		return rc;
	if (ctl_ops_begin(a->ctl->conn, a->actor, &a->err) < 0)
		return ctl_ops_db_fail("policy approval", &a->err);
	if (a->group) {
		/* a group is made by naming it; its members: policy group */
		if (one(a, "INSERT INTO atsmail.approval_groups (group_name) VALUES ($1)"
		    " ON CONFLICT DO NOTHING RETURNING 1", 1, p, id, sizeof(id), &found) < 0)
			return fail(a, "policy approval");
		id[0] = '\0';
	} else {
		if (one(a, "SELECT id FROM atsmail.users WHERE login = $1", 1, p, id, sizeof(id),
		    &found) < 0)
			return fail(a, "policy approval");
		if (!found) {
			atsm_db_rollback(a->ctl->conn);
			ctl_error("policy approval: no user '%s' (a group is written @GROUP)",
			    a->subject);
			return CTL_EXIT_FAIL;
		}
	}
	if (a->nadd == 0 && a->nrm == 0 && a->needs < 0)
		return show(a, id);
	return change(a, id);
}

static int
group(struct pa *a, const char *verb)
{
	const char *p[2] = { a->subject, NULL };
	char buf[32];
	PGresult *res;
	bool add, found;
	int i, rc, n = 0;
	json_t *who = json_array();

	if ((rc = ctl_connect(a->ctl)) != 0) {
		json_decref(who);
		return rc;
	}
	if (ctl_ops_begin(a->ctl->conn, a->actor, &a->err) < 0) {
		json_decref(who);
		return ctl_ops_db_fail("policy group", &a->err);
	}
	if (verb == NULL) {
		json_decref(who);
		if ((res = q(a, "SELECT u.login FROM atsmail.user_groups g JOIN atsmail.users u"
		    " ON u.id = g.user_id WHERE g.group_name = $1 ORDER BY u.login", 1, p)) == NULL)
			return fail(a, "policy group");
		show_rows(res, "members");
		PQclear(res);
		atsm_db_rollback(a->ctl->conn);
		return CTL_EXIT_OK;
	}
	add = strcmp(verb, "add") == 0;
	if (add && one(a, "INSERT INTO atsmail.approval_groups (group_name) VALUES ($1)"
	    " ON CONFLICT DO NOTHING RETURNING 1", 1, p, buf, sizeof(buf), &found) < 0)
		goto dbfail;
	for (i = 0; i < a->nadd; i++) {
		p[1] = a->add[i];
		if (one(a, add ?
		    "INSERT INTO atsmail.user_groups (group_name, user_id) SELECT $1, id"
		    " FROM atsmail.users WHERE login = $2 ON CONFLICT DO NOTHING RETURNING 1" :
		    "DELETE FROM atsmail.user_groups g USING atsmail.users u WHERE g.group_name = $1"
		    " AND g.user_id = u.id AND u.login = $2 RETURNING 1", 2, p, buf, sizeof(buf),
		    &found) < 0)
			goto dbfail;
		if (found) {
			json_array_append_new(who, json_string(a->add[i]));
			printf("@%s: %s %s\n", a->subject, a->add[i], add ? "added" : "removed");
			n++;
		}
	}
	/* leaving a group that needs approval may leave a member without it */
	if (!add && n > 0 && one(a, "SELECT atsmail.approval_group_sync($1)", 1, p, buf,
	    sizeof(buf), &found) < 0)
		goto dbfail;
	if (n == 0) {
		json_decref(who);
		atsm_db_rollback(a->ctl->conn);
		printf("@%s: unchanged (unknown users, or members already%s)\n", a->subject,
		    add ? "" : " not");
		return CTL_EXIT_OK;
	}
	if (ctl_ops_audit(a->ctl->conn, a->actor, add ? "policy.group.add" : "policy.group.remove",
	    "group", a->subject, json_pack("{s:o}", "users", who), &a->err) < 0 ||
	    atsm_db_commit(a->ctl->conn, &a->err) < 0)
		return fail(a, "policy group");
	return CTL_EXIT_OK;
dbfail:
	json_decref(who);
	return fail(a, "policy group");
}

static bool
group_name_ok(const char *s)
{
	size_t i;

	if (s[0] == '\0' || strlen(s) > 64)
		return false;
	for (i = 0; s[i] != '\0'; i++) {
		char c = s[i];
		bool alnum = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');

		if (!alnum && (i == 0 || (c != '_' && c != '.' && c != '-')))
			return false;
	}
	return true;
}

/* policy approval ... and policy group ...: argv[1] is "approval" or "group". */
int
ctl_policy_approval(struct ctl *ctx, int argc, char **argv)
{
	struct pa a;
	const char *v, *actor = NULL, *verb = NULL;
	bool grp = strcmp(argv[1], "group") == 0;
	int i;

	memset(&a, 0, sizeof(a));
	a.ctl = ctx;
	a.needs = -1;
	for (i = 2; i < argc; i++) {
		if (ctl_ops_option(argc, argv, &i, "--actor", &v)) {
			if ((actor = v) == NULL)
				return CTL_EXIT_USAGE;
		} else if (!grp && ctl_ops_option(argc, argv, &i, "--approver", &v)) {
			if (v == NULL)
				return CTL_EXIT_USAGE;
			if (a.nadd >= LOGINS_MAX)
				return ctl_usage_error("policy", "approval: at most %d --approver",
				    LOGINS_MAX);
			a.add[a.nadd++] = v;
			if (a.needs < 0)
				a.needs = 1;
		} else if (!grp && ctl_ops_option(argc, argv, &i, "--remove-approver", &v)) {
			if (v == NULL)
				return CTL_EXIT_USAGE;
			if (a.nrm >= LOGINS_MAX)
				return ctl_usage_error("policy", "approval: at most %d --remove-approver",
				    LOGINS_MAX);
			a.rm[a.nrm++] = v;
		} else if (!grp && ctl_ops_option(argc, argv, &i, "--needs", &v)) {
			bool b;

			if (v == NULL)
				return CTL_EXIT_USAGE;
			if (ctl_ops_bool(v, &b) < 0)
				return ctl_usage_error("policy", "approval: --needs '%s' is not yes or no", v);
			a.needs = b ? 1 : 0;
		} else if (!grp && strcmp(argv[i], "--off") == 0) {
			a.needs = 0;
		} else if (argv[i][0] == '-') {
			return ctl_usage_error("policy", "%s: unknown option '%s'", argv[1], argv[i]);
		} else if (a.subject == NULL) {
			a.subject = argv[i];
		} else if (grp && verb == NULL) {
			verb = argv[i];
			if (strcmp(verb, "add") != 0 && strcmp(verb, "remove") != 0)
				return ctl_usage_error("policy", "group %s: '%s' is not add or remove",
				    a.subject, verb);
		} else if (grp) {
			if (a.nadd >= LOGINS_MAX)
				return ctl_usage_error("policy", "group: at most %d users at once",
				    LOGINS_MAX);
			a.add[a.nadd++] = argv[i];
		} else {
			return ctl_usage_error("policy", "approval: unexpected argument '%s'", argv[i]);
		}
	}
	if (a.subject == NULL)
		return ctl_usage_error("policy", "%s: name %s", argv[1],
		    grp ? "the GROUP" : "the user (LOGIN) or @GROUP");
	a.group = grp || a.subject[0] == '@';
	if (a.subject[0] == '@')
		a.subject++;
	if (a.group && !group_name_ok(a.subject))
		return ctl_usage_error("policy", "%s: group name '%s' is not 1 to 64 letters, digits, "
		    "'_', '.' or '-' starting with a letter or digit", argv[1], a.subject);
	if (grp && verb != NULL && a.nadd == 0)
		return ctl_usage_error("policy", "group %s %s: name the users (logins)", a.subject,
		    verb);
	a.actor = ctl_ops_actor(actor);
	return grp ? group(&a, verb) : approval(&a);
}
