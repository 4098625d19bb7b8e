/* cmd-db.c -- atsmailctl db: the database schema.
 *
 *   atsmailctl db migrate   apply the pending files of the SQL directory
 *   atsmailctl db status    one line per migration, then a summary
 *
 * The work is done by lib/store/migrate.c (store/migrate.h); this file parses the
 * arguments, prints, and maps failures to exit codes (ctl.h).
 */
#include "ctl.h"

#include <string.h>

#include "store/migrate.h"

void
ctl_cmd_db_usage(FILE *fp)
{
	fputs(
	    "usage: " CTL_PROGNAME " [OPTIONS] db migrate\n"
	    "       " CTL_PROGNAME " [OPTIONS] db status\n"
	    "\n"
	    "  migrate  apply, in name order, every file of the SQL directory that the\n"
	    "           database has not recorded yet, each in one transaction; stops at\n"
	    "           the first file that fails (nothing of it is applied) or that was\n"
	    "           changed after it was applied\n"
	    "  status   list the migrations: version, when applied or \"pending\"; then\n"
	    "           \"database is up to date\" or \"N pending\"; changes nothing\n"
	    "\n"
	    "The SQL directory is --sql-dir DIR, else $ATSMAIL_SQL_DIR, else the installed one.\n"
	    "Exit codes: 0 done (status: also when migrations are pending), 1 failure\n"
	    "(status: a file was changed after it was applied), 2 usage, 3 configuration,\n"
	    "4 database unavailable.\n", fp);
}

static void
migrate_usage(FILE *fp)
{
	fputs("usage: " CTL_PROGNAME " [OPTIONS] db migrate\n"
	    "Apply the pending migrations (see " CTL_PROGNAME " help db).\n", fp);
}

static void
status_usage(FILE *fp)
{
	fputs("usage: " CTL_PROGNAME " [OPTIONS] db status\n"
	    "List the migrations and whether each is applied (see " CTL_PROGNAME " help db).\n", fp);
}

static int
failure_code(const struct atsm_err *err)
{
	return err->cls == ATSM_ERR_UNAVAILABLE ? CTL_EXIT_DBDOWN : CTL_EXIT_FAIL;
}

static int
db_migrate(struct ctl *ctx)
{
	struct atsm_migrate_report rep;
	struct atsm_err err;
	const char *dir;
	size_t i;
	int rc;

	if ((rc = ctl_connect(ctx)) != 0)
		return rc;
	dir = atsm_migrate_sqldir(ctx->sql_dir);
	rc = atsm_migrate_apply(ctx->conn, dir, &rep, &err);
	for (i = 0; i < rep.n; i++)
		if (rep.items[i].applied_now)
			printf("applied %s\n", rep.items[i].version);
	if (rc < 0) {
		ctl_error("%s", err.msg);
		if (rep.applied_now > 0)
			ctl_error("%zu migration(s) were applied before the failure",
			    rep.applied_now);
		rc = failure_code(&err);
	} else {
		if (rep.applied_now == 0)
			printf("nothing to apply: database is up to date\n");
		else
			printf("%zu migration(s) applied: database is up to date\n",
			    rep.applied_now);
		rc = CTL_EXIT_OK;
	}
	atsm_migrate_report_free(&rep);
	return rc;
}

static int
db_status(struct ctl *ctx)
{
	struct atsm_migrate_report rep;
	struct atsm_err err;
	const char *dir;
	size_t i, changed = 0;
	int rc;

	if ((rc = ctl_connect(ctx)) != 0)
		return rc;
	dir = atsm_migrate_sqldir(ctx->sql_dir);
	if (atsm_migrate_status(ctx->conn, dir, &rep, &err) < 0) {
		ctl_error("%s", err.msg);
		rc = failure_code(&err);
		atsm_migrate_report_free(&rep);
		return rc;
	}
	for (i = 0; i < rep.n; i++) {
		const struct atsm_migration *m = &rep.items[i];

		switch (m->state) {
		case ATSM_MIGRATE_PENDING:
			printf("%-24s pending\n", m->version);
			break;
		case ATSM_MIGRATE_APPLIED:
			printf("%-24s applied %s\n", m->version, m->applied_at);
			break;
		case ATSM_MIGRATE_CHANGED:
			printf("%-24s applied %s, CHANGED since: %s differs from what was applied\n",
			    m->version, m->applied_at, m->path);
			changed++;
			break;
		case ATSM_MIGRATE_MISSING:
			printf("%-24s applied %s, no such file in %s\n",
			    m->version, m->applied_at, dir);
			break;
		}
	}
	if (rep.pending == 0)
		printf("database is up to date\n");
	else
		printf("%zu pending\n", rep.pending);
	if (changed > 0) {
		ctl_error("%zu migration file(s) in %s were changed after they were applied",
		    changed, dir);
		rc = CTL_EXIT_FAIL;
	}
	atsm_migrate_report_free(&rep);
	return rc;
}

int
ctl_cmd_db(struct ctl *ctx, int argc, char **argv)
{
	const char *sub;

	if (argc < 2) {
		ctl_error("db: which one? migrate or status");
		ctl_cmd_db_usage(stderr);
		return CTL_EXIT_USAGE;
	}
	sub = argv[1];
	if (ctl_is_help(sub)) {
		ctl_cmd_db_usage(stdout);
		return CTL_EXIT_OK;
	}
	if (strcmp(sub, "migrate") != 0 && strcmp(sub, "status") != 0) {
		ctl_error("db: unknown subcommand '%s' (known: migrate, status)", sub);
		return CTL_EXIT_USAGE;
	}
	if (argc > 2) {
		if (argc == 3 && ctl_is_help(argv[2])) {
			(sub[0] == 'm' ? migrate_usage : status_usage)(stdout);
			return CTL_EXIT_OK;
		}
		ctl_error("db %s: unexpected argument '%s'", sub, argv[2]);
		return CTL_EXIT_USAGE;
	}
	return sub[0] == 'm' ? db_migrate(ctx) : db_status(ctx);
}
