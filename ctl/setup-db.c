/* setup-db.c -- the steps of `atsmailctl setup` that need the PostgreSQL
 * superuser (setup.h): the database, the migrations, the login roles.
 *
 * cmd-setup.c runs them as the OS user postgres (peer authentication), in
 * a child process.  Each step looks first and changes only what is
 * missing, so a second run changes nothing and says "already there" for
 * each; each prints one line.  Everything read is asked with parameters;
 * the names that CREATE DATABASE, CREATE ROLE and GRANT cannot take as
 * parameters were checked by setup-input.c and are quoted here with
 * PQescapeIdentifier.
 */
#include "ctl.h"
#include "setup.h"

#include <stdlib.h>
#include <string.h>

#include "store/db.h"
#include "store/migrate.h"

static PGconn *
su_connect(const struct ctl_setup_plan *plan, const char *conninfo, struct atsm_err *err)
{
	struct atsm_db_params p;

	memset(&p, 0, sizeof(p));
	p.conninfo = conninfo;
	p.pool_size = 1;
	p.connect_timeout_ms = plan->connect_timeout_ms;
	p.statement_timeout_ms = plan->statement_timeout_ms;
	p.application_name = CTL_PROGNAME " setup";
	return atsm_db_connect(&p, err);
}

static int
fail(const char *step, const struct atsm_err *err)
{
	ctl_error("setup: %s: %s", step, err->msg);
	return err->cls == ATSM_ERR_UNAVAILABLE ? CTL_EXIT_DBDOWN : CTL_EXIT_FAIL;
}

/* Run "<head> <quoted name><tail>"; 0 or -1 with err. */
static int
exec_named(PGconn *conn, const char *head, const char *name, const char *tail,
    struct atsm_err *err)
{
	char *q, *sql;
	size_t n;
	int rc;

	if ((q = PQescapeIdentifier(conn, name, strlen(name))) == NULL)
		return atsm_err_setc(err, ATSM_ERR_NOMEM, "cannot quote '%s': %s", name,
		    PQerrorMessage(conn));
	n = strlen(head) + strlen(q) + strlen(tail) + 2;
	if ((sql = malloc(n)) == NULL) {
		PQfreemem(q);
		return atsm_err_setc(err, ATSM_ERR_NOMEM, "out of memory");
	}
	snprintf(sql, n, "%s %s%s", head, q, tail);
	PQfreemem(q);
	rc = atsm_db_command(conn, sql, 0, NULL, err);
	free(sql);
	return rc;
}

/* The superuser's own session must be one: everything below needs it. */
static int
check_superuser(PGconn *conn, struct atsm_err *err)
{
	PGresult *res;
	bool su;

	if ((res = atsm_db_exec(conn, "SELECT current_user, rolsuper FROM pg_roles"
	    " WHERE rolname = current_user", 0, NULL, err)) == NULL)
		return -1;
	su = PQntuples(res) == 1 && strcmp(PQgetvalue(res, 0, 1), "t") == 0;
	if (!su)
		atsm_err_set(err, "logged in as '%s', which is not a superuser: run setup as root "
		    "(it connects as the OS user postgres) or name a superuser with "
		    "--superuser-conninfo", PQntuples(res) == 1 ? PQgetvalue(res, 0, 0) : "?");
	PQclear(res);
	return su ? 0 : -1;
}

/* Step 1: the database, UTF8 (records hold Japanese text). */
static int
step_database(const struct ctl_setup_plan *plan)
{
	const char *p[1] = { plan->database };
	struct atsm_err err;
	PGresult *res;
	PGconn *conn;
	char what[128];
	int rc = CTL_EXIT_OK;

	snprintf(what, sizeof(what), "database %s", plan->database);
	if ((conn = su_connect(plan, plan->su_conninfo_maint, &err)) == NULL)
		return fail(what, &err);
	if (check_superuser(conn, &err) < 0) {
		rc = fail(what, &err);
		goto out;
	}
	if ((res = atsm_db_exec(conn, "SELECT pg_encoding_to_char(encoding) FROM pg_database"
	    " WHERE datname = $1", 1, p, &err)) == NULL) {
		rc = fail(what, &err);
		goto out;
	}
	if (PQntuples(res) == 1) {
		if (strcmp(PQgetvalue(res, 0, 0), "UTF8") != 0) {
			atsm_err_set(&err, "it exists with encoding %s; atsmail needs UTF8: name "
			    "another database with --database, or drop this one",
			    PQgetvalue(res, 0, 0));
			rc = fail(what, &err);
		} else {
			printf("%s: already there\n", what);
		}
		PQclear(res);
		goto out;
	}
	PQclear(res);
	/* template0: template1 may hold another encoding or local additions */
	if (exec_named(conn, "CREATE DATABASE", plan->database,
	    " TEMPLATE template0 ENCODING 'UTF8'", &err) < 0) {
		rc = fail(what, &err);
		goto out;
	}
	printf("%s: created (encoding UTF8)\n", what);
out:
	PQfinish(conn);
	return rc;
}

/* Step 2: the migrations, as `atsmailctl db migrate` applies them. */
static int
step_migrations(PGconn *conn, const struct ctl_setup_plan *plan)
{
	struct atsm_migrate_report rep;
	struct atsm_err err;
	size_t i, first = 0, last = 0;
	int rc = CTL_EXIT_OK;

	if (atsm_migrate_apply(conn, plan->sql_dir, &rep, &err) < 0) {
		atsm_err_prefix(&err, "%s", plan->sql_dir);
		rc = fail("migrations", &err);
		if (rep.applied_now > 0)
			ctl_error("setup: migrations: %zu applied before the failure", rep.applied_now);
		atsm_migrate_report_free(&rep);
		return rc;
	}
	for (i = 0; i < rep.n; i++)
		if (rep.items[i].applied_now) {
			if (first == 0)
				first = i + 1;
			last = i + 1;
		}
	if (rep.applied_now == 0)
		printf("migrations: already there (%zu applied, none pending)\n", rep.n);
	else if (rep.applied_now == 1)
		printf("migrations: applied %s\n", rep.items[first - 1].version);
	else
		printf("migrations: applied %zu (%s .. %s)\n", rep.applied_now,
		    rep.items[first - 1].version, rep.items[last - 1].version);
	atsm_migrate_report_free(&rep);
	return rc;
}

/* Step 3 and 4: a login role in atsmail_writer, named after an OS user. */
static int
step_login(PGconn *conn, const char *name, const char *why)
{
	const char *p[1] = { name };
	struct atsm_err err;
	PGresult *res;
	char what[160];
	bool login, member;

	snprintf(what, sizeof(what), "login role %s (%s) in " CTL_SETUP_WRITER, name, why);
	if ((res = atsm_db_exec(conn, "SELECT rolcanlogin, rolsuper,"
	    " pg_has_role(oid, '" CTL_SETUP_WRITER "', 'MEMBER')"
	    " FROM pg_roles WHERE rolname = $1", 1, p, &err)) == NULL)
		return fail(what, &err);
	if (PQntuples(res) == 0) {
		PQclear(res);
		if (exec_named(conn, "CREATE ROLE", name, " LOGIN IN ROLE " CTL_SETUP_WRITER,
		    &err) < 0)
			return fail(what, &err);
		printf("%s: created\n", what);
		return CTL_EXIT_OK;
	}
	if (strcmp(PQgetvalue(res, 0, 1), "t") == 0) {
		PQclear(res);
		atsm_err_set(&err, "the role exists and is a superuser; atsmail must not log in "
		    "as one: name another OS user");
		return fail(what, &err);
	}
	login = strcmp(PQgetvalue(res, 0, 0), "t") == 0;
	member = strcmp(PQgetvalue(res, 0, 2), "t") == 0;
	PQclear(res);
	if (login && member) {
		printf("%s: already there\n", what);
		return CTL_EXIT_OK;
	}
	if (!login && exec_named(conn, "ALTER ROLE", name, " LOGIN", &err) < 0)
		return fail(what, &err);
	if (!member && exec_named(conn, "GRANT " CTL_SETUP_WRITER " TO", name, "", &err) < 0)
		return fail(what, &err);
	printf("%s: was there; %s%s%s\n", what, login ? "" : "LOGIN added",
	    !login && !member ? ", " : "", member ? "" : "made a member of " CTL_SETUP_WRITER);
	return CTL_EXIT_OK;
}

int
ctl_setup_superuser_steps(const struct ctl_setup_plan *plan)
{
	struct atsm_err err;
	PGconn *conn;
	int rc;

	if ((rc = step_database(plan)) != CTL_EXIT_OK)
		return rc;
	if ((conn = su_connect(plan, plan->su_conninfo_db, &err)) == NULL)
		return fail("migrations", &err);
	rc = step_migrations(conn, plan);
	if (rc == CTL_EXIT_OK)
		rc = step_login(conn, plan->service_user, "atsmaild, atsmail-notifyd");
	if (rc == CTL_EXIT_OK && plan->admin_login != NULL)
		rc = step_login(conn, plan->admin_login, "atsmailctl");
	PQfinish(conn);
	return rc;
}
