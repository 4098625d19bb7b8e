/* cmd-setup.c -- atsmailctl setup: the database of a mail host, ready for
 * atsmaild, in one idempotent command.
 *
 *   atsmailctl setup [--database NAME] [--service-user NAME]
 *                    [--admin-login NAME|none] [--superuser-conninfo CONNINFO]
 *                    [--superuser-os-user NAME]
 *
 * Run as root on the mail host, beside Debian's PostgreSQL, whose local
 * connections use peer authentication (the database login must be the
 * name of the OS user that connects).  So setup needs no password: for
 * the steps that need the superuser it forks a child that becomes the OS
 * user postgres and connects as such (setup-db.c: database, migrations,
 * the login roles of the service user and of the admin); then it checks
 * the logins as they will be used, each from a child that becomes the OS
 * user concerned: atsmaild's db_conninfo as the service user, and the same
 * conninfo as root for the admin's atsmailctl.  One line per step;
 * running it again changes nothing and says "already there".
 */
#include "ctl.h"
#include "setup.h"

#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include "store/db.h"
#include "store/migrate.h"

#define SETUP_CONNINFO_MAX 4096

void
ctl_cmd_setup_usage(FILE *fp)
{
	fputs(
	    "usage: " CTL_PROGNAME " [OPTIONS] setup [--database NAME] [--service-user NAME]\n"
	    "           [--admin-login NAME|none] [--superuser-conninfo CONNINFO]\n"
	    "           [--superuser-os-user NAME]\n"
	    "\n"
	    "Make the database ready for atsmaild, idempotently, one line per step:\n"
	    "  1. the database (UTF8)               --database NAME (default: the dbname of\n"
	    "                                       db_conninfo, else atsmail)\n"
	    "  2. the migrations (as db migrate)\n"
	    "  3. the login of atsmaild and atsmail-notifyd, named after their OS user,\n"
	    "     in " CTL_SETUP_WRITER "                --service-user NAME (default atsmail)\n"
	    "  4. the login of the admin's atsmailctl, in " CTL_SETUP_WRITER "\n"
	    "                                       --admin-login NAME (default root; none: no\n"
	    "                                       such login)\n"
	    "  5. check: db_conninfo logs in, as the service user's OS user\n"
	    "  6. check: db_conninfo logs in, as the admin's OS user\n"
	    "A second run changes nothing and says \"already there\".\n"
	    "\n"
	    "Steps 1-4 need the PostgreSQL superuser: run as root, setup does them as the OS\n"
	    "user postgres (--superuser-os-user), which Debian's peer authentication logs in\n"
	    "as the superuser, on the server that db_conninfo names (host, port);\n"
	    "--superuser-conninfo names another way in (its dbname is replaced).\n"
	    "Exit codes: 0 done and both logins work, 1 a step or a check failed,\n"
	    "2 usage (also a bad name), 3 configuration, 4 database unavailable.\n", fp);
}

struct setup_opts {
	const char *database;
	const char *service_user;
	const char *admin_login;
	const char *su_conninfo;
	const char *su_os_user;
};

static int
parse_opts(int argc, char **argv, struct setup_opts *o)
{
	static const struct {
		const char *name;
		size_t off;
	} known[] = {
		{ "--database", offsetof(struct setup_opts, database) },
		{ "--service-user", offsetof(struct setup_opts, service_user) },
		{ "--admin-login", offsetof(struct setup_opts, admin_login) },
		{ "--superuser-conninfo", offsetof(struct setup_opts, su_conninfo) },
		{ "--superuser-os-user", offsetof(struct setup_opts, su_os_user) },
	};
	int i;
	size_t k;

	for (i = 1; i < argc; i++) {
		const char *a = argv[i];

		if (ctl_is_help(a)) {
			ctl_cmd_setup_usage(stdout);
			return -1;
		}
		for (k = 0; k < sizeof(known) / sizeof(known[0]); k++) {
			size_t n = strlen(known[k].name);

			if (strncmp(a, known[k].name, n) != 0 || (a[n] != '\0' && a[n] != '='))
				continue;
			if (a[n] == '=') {
				*(const char **)((char *)o + known[k].off) = a + n + 1;
			} else if (i + 1 < argc) {
				*(const char **)((char *)o + known[k].off) = argv[++i];
			} else {
				ctl_error("setup: option %s needs a value", known[k].name);
				return CTL_EXIT_USAGE;
			}
			break;
		}
		if (k == sizeof(known) / sizeof(known[0])) {
			ctl_error("setup: unknown argument '%s'; see " CTL_PROGNAME " help setup", a);
			return CTL_EXIT_USAGE;
		}
	}
	return 0;
}

/* ------------------------------------------------------- as another user */

typedef int (*as_user_fn)(void *arg);

/* Run fn in a child that has become pw (groups, gid, uid), or in this
 * process when pw is NULL.  fn's value (an exit code) is returned. */
static int
run_as(const struct passwd *pw, as_user_fn fn, void *arg)
{
	pid_t pid;
	int st;

	if (pw == NULL)
		return fn(arg);
	fflush(stdout);
	fflush(stderr);
	if ((pid = fork()) < 0) {
		ctl_error("setup: cannot fork: %s", strerror(errno));
		return CTL_EXIT_FAIL;
	}
	if (pid == 0) {
		int rc;

		if (initgroups(pw->pw_name, pw->pw_gid) < 0 || setgid(pw->pw_gid) < 0 ||
		    setuid(pw->pw_uid) < 0 || getuid() != pw->pw_uid || geteuid() != pw->pw_uid) {
			ctl_error("setup: cannot become the OS user %s: %s", pw->pw_name,
			    strerror(errno));
			_exit(CTL_EXIT_FAIL);
		}
		/* libpq looks for ~/.pgpass and the like in the user's home */
		setenv("HOME", pw->pw_dir, 1);
		setenv("USER", pw->pw_name, 1);
		setenv("LOGNAME", pw->pw_name, 1);
		rc = fn(arg);
		fflush(stdout);
		fflush(stderr);
		_exit(rc);
	}
	while (waitpid(pid, &st, 0) < 0)
		if (errno != EINTR) {
			ctl_error("setup: waitpid: %s", strerror(errno));
			return CTL_EXIT_FAIL;
		}
	if (WIFEXITED(st))
		return WEXITSTATUS(st);
	ctl_error("setup: the child acting as %s ended by signal %d", pw->pw_name,
	    WIFSIGNALED(st) ? WTERMSIG(st) : 0);
	return CTL_EXIT_FAIL;
}

static int
superuser_fn(void *arg)
{
	return ctl_setup_superuser_steps(arg);
}

/* ------------------------------------------------------------ the checks */

struct login_check {
	struct ctl *ctx;
	const char *conninfo;   /* atsmaild's db_conninfo (or --db) */
	const char *label;      /* "atsmaild" */
	const char *os_user;    /* whose login it is */
};

/* A db_conninfo that names user= logs every program in as that user, which
 * peer authentication refuses to every other OS user: say so. */
static void
hint_user(const struct login_check *c)
{
	PQconninfoOption *opts, *o;

	if ((opts = PQconninfoParse(c->conninfo, NULL)) == NULL)
		return;
	for (o = opts; o->keyword != NULL; o++)
		if (strcmp(o->keyword, "user") == 0 && o->val != NULL && o->val[0] != '\0' &&
		    strcmp(o->val, c->os_user) != 0)
			ctl_error("setup: db_conninfo names user=%s, which peer authentication refuses "
			    "to the OS user %s: without user= every program logs in as its own OS "
			    "user", o->val, c->os_user);
	PQconninfoFree(opts);
}

static int
login_fn(void *arg)
{
	struct login_check *c = arg;
	struct atsm_db_params p;
	struct atsm_err err;
	PGresult *res;
	PGconn *conn;
	int rc = CTL_EXIT_OK;

	memset(&p, 0, sizeof(p));
	p.conninfo = c->conninfo;
	p.pool_size = 1;
	p.connect_timeout_ms = c->ctx->conf.db_connect_timeout;
	p.statement_timeout_ms = c->ctx->conf.db_statement_timeout;
	p.application_name = CTL_PROGNAME " setup";
	if ((conn = atsm_db_connect(&p, &err)) == NULL) {
		ctl_error("setup: login of %s (db_conninfo as OS user %s): it does not log in: %s",
		    c->label, c->os_user, err.msg);
		hint_user(c);
		return CTL_EXIT_FAIL;
	}
	/* what every program of atsmail needs: the writer's rights, the schema */
	if ((res = atsm_db_exec(conn, "SELECT current_user, current_database(),"
	    " pg_has_role(current_user, '" CTL_SETUP_WRITER "', 'MEMBER'),"
	    " (SELECT max(version) FROM atsmail.schema_migrations)", 0, NULL, &err)) == NULL) {
		ctl_error("setup: login of %s (db_conninfo as OS user %s): it logs in but cannot "
		    "read atsmail's schema: %s", c->label, c->os_user, err.msg);
		PQfinish(conn);
		return CTL_EXIT_FAIL;
	}
	if (strcmp(PQgetvalue(res, 0, 2), "t") != 0) {
		ctl_error("setup: login of %s (db_conninfo as OS user %s): it logs in as %s, "
		    "which is not a member of " CTL_SETUP_WRITER, c->label, c->os_user,
		    PQgetvalue(res, 0, 0));
		rc = CTL_EXIT_FAIL;
	} else {
		printf("login of %s (db_conninfo as OS user %s): logs in as %s to %s, "
		    "member of " CTL_SETUP_WRITER ", schema at %s\n", c->label, c->os_user,
		    PQgetvalue(res, 0, 0), PQgetvalue(res, 0, 1), PQgetvalue(res, 0, 3));
	}
	PQclear(res);
	PQfinish(conn);
	return rc;
}

/* Check db_conninfo as the OS user name (from a child that becomes it,
 * when running as root). */
static int
check_login(struct ctl *ctx, const char *conninfo, const char *label, const char *name)
{
	struct login_check c = { ctx, conninfo, label, name };
	const struct passwd *pw;
	struct passwd copy;

	if ((pw = getpwnam(name)) == NULL) {
		ctl_error("setup: login of %s: there is no OS user '%s' to check it as (the "
		    "package creates the user atsmail; name yours with --service-user)", label, name);
		return CTL_EXIT_FAIL;
	}
	copy = *pw;
	if (geteuid() == copy.pw_uid)
		return run_as(NULL, login_fn, &c);
	if (geteuid() != 0) {
		printf("login of %s (db_conninfo as OS user %s): not checked: only root can act "
		    "as another OS user\n", label, name);
		return CTL_EXIT_OK;
	}
	return run_as(&copy, login_fn, &c);
}

/* ---------------------------------------------------------------- setup */

static int
check_names(const struct setup_opts *o)
{
	struct atsm_err err;

	if (ctl_setup_check_database(o->database, &err) < 0 ||
	    ctl_setup_check_role("--service-user", o->service_user, &err) < 0 ||
	    (o->admin_login != NULL &&
	     ctl_setup_check_role("--admin-login", o->admin_login, &err) < 0)) {
		ctl_error("setup: %s", err.msg);
		return CTL_EXIT_USAGE;
	}
	return 0;
}

static int
setup(struct ctl *ctx, struct setup_opts *o)
{
	static char maint[SETUP_CONNINFO_MAX], db[SETUP_CONNINFO_MAX];
	char dbname[CTL_SETUP_NAME_MAX * 4 + 1];
	struct ctl_setup_plan plan;
	const struct passwd *pw = NULL;
	struct passwd su_pw;
	struct atsm_err err;
	const char *conninfo;
	int rc;

	if ((rc = ctl_load_config(ctx)) != 0)
		return rc;
	if (access(ctx->conf_path, F_OK) == 0)
		printf("configuration: %s\n", ctx->conf_path);
	else
		printf("configuration: %s does not exist: the built-in db_conninfo\n",
		    ctx->conf_path);
	conninfo = ctx->db_conninfo != NULL ? ctx->db_conninfo : ctx->conf.db_conninfo;
	if (o->database == NULL) {
		if (ctl_setup_conninfo_dbname(conninfo, dbname, sizeof(dbname),
		    &err) < 0) {
			ctl_error("setup: %s", err.msg);
			return CTL_EXIT_CONFIG;
		}
		o->database = dbname[0] != '\0' ? dbname : "atsmail";
	}
	if ((rc = check_names(o)) != 0)
		return rc;
	if (ctl_setup_superuser_conninfo(o->su_conninfo, conninfo, "postgres",
	    maint, sizeof(maint), &err) < 0 ||
	    ctl_setup_superuser_conninfo(o->su_conninfo, conninfo, o->database,
	    db, sizeof(db), &err) < 0) {
		ctl_error("setup: %s", err.msg);
		return o->su_conninfo != NULL ? CTL_EXIT_USAGE : CTL_EXIT_CONFIG;
	}
	memset(&plan, 0, sizeof(plan));
	plan.database = o->database;
	plan.service_user = o->service_user;
	plan.admin_login = o->admin_login;
	if (plan.admin_login != NULL && strcmp(plan.admin_login, plan.service_user) == 0)
		plan.admin_login = NULL;     /* one login serves both */
	plan.su_conninfo_maint = maint;
	plan.su_conninfo_db = db;
	plan.sql_dir = atsm_migrate_sqldir(ctx->sql_dir);
	plan.connect_timeout_ms = ctx->conf.db_connect_timeout;
	plan.statement_timeout_ms = ctx->conf.db_statement_timeout;

	/* root becomes postgres for the superuser's steps (peer authentication) */
	if (geteuid() == 0) {
		if ((pw = getpwnam(o->su_os_user)) == NULL) {
			ctl_error("setup: there is no OS user '%s' to connect as the PostgreSQL "
			    "superuser (install the package postgresql, or name the user with "
			    "--superuser-os-user)", o->su_os_user);
			return CTL_EXIT_FAIL;
		}
		su_pw = *pw;
		pw = &su_pw;
	}
	if ((rc = run_as(pw, superuser_fn, &plan)) != CTL_EXIT_OK)
		return rc;

	rc = check_login(ctx, conninfo, "atsmaild", o->service_user);
	if (o->admin_login != NULL && strcmp(o->admin_login, o->service_user) != 0) {
		int r2 = check_login(ctx, conninfo, "atsmailctl", o->admin_login);

		if (rc == CTL_EXIT_OK)
			rc = r2;
	}
	return rc;
}

int
ctl_cmd_setup(struct ctl *ctx, int argc, char **argv)
{
	struct setup_opts o = { NULL, "atsmail", "root", NULL, "postgres" };
	int rc;

	if ((rc = parse_opts(argc, argv, &o)) != 0)
		return rc < 0 ? CTL_EXIT_OK : rc;
	/* each step's line out as it is done, in order with the errors */
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (strcmp(o.admin_login, "none") == 0)
		o.admin_login = NULL;
	return setup(ctx, &o);
}
